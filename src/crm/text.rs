//! Text the server wrote, made safe to show. Whatever the server says
//! (`msg`, `error`, `code`, a page, a `Location`) ends up on a terminal, in
//! a log line, in the results and rejects files: a carriage return there
//! would start a fake log line, an escape sequence would drive the
//! terminal, and a bidi override would make a line read other than it is.
//! Nor is its length the server's to choose: a `msg` of a megabyte would
//! go into every failed row's `error`, the rejects, the summary and the
//! log. Each piece of server text goes through [`from_server`] once, where
//! it enters, after the token is scrubbed from it; ids are checked with
//! [`is_hidden`] and refused, not repaired.

use std::borrow::Cow;

/// What stands in for a character that cannot be shown as it is.
pub const REPLACEMENT: char = '\u{FFFD}';

/// The most characters of one piece of server text that are kept. The
/// API's messages are a line; what is longer is not meant to be read.
pub const MAX_SERVER_CHARS: usize = 500;

/// Server text as it is kept: [`printable`], and cut to
/// [`MAX_SERVER_CHARS`] characters with `…` and the length it had, e.g.
/// `… (1048576 characters)`. The token must be scrubbed from it first, so
/// that a cut cannot leave part of it.
pub fn from_server(s: &str) -> String {
    printable(&capped(s, MAX_SERVER_CHARS))
}

/// `s`, or its first `max` characters followed by `…` and how many
/// characters it had.
fn capped(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => {
            let count = (max + s[at..].chars().count()) as u64;
            Cow::Owned(format!(
                "{}{}",
                &s[..at],
                crate::tr!("server-text-cut", count = count)
            ))
        }
    }
}

/// True for a character that acts instead of showing: a control character
/// (C0, DEL, C1, so CR, LF, ESC and BEL among them), a line or paragraph
/// separator, or a Unicode format character (zero-width ones, bidi
/// embeddings, overrides and isolates, the byte order mark, and the other
/// characters of the `Cf` category).
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_format(c)
}

/// The Unicode format characters (general category `Cf`) and the line and
/// paragraph separators. Listed here rather than taken from a Unicode table
/// crate: the set is small and changes rarely.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// True for the hidden characters that separate words: [`printable`] shows
/// them as a space.
pub fn is_white(c: char) -> bool {
    matches!(c, '\t' | '\r' | '\n' | '\u{2028}' | '\u{2029}' | '\u{85}')
}

/// `s` on one line with nothing hidden: tabs, carriage returns and line
/// ends become spaces (the words stay apart), any other control or format
/// character becomes [`REPLACEMENT`], so that it is seen to be there.
pub fn printable(s: &str) -> String {
    if !s.chars().any(is_hidden) {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c {
            c if is_white(c) => ' ',
            c if is_hidden(c) => REPLACEMENT,
            c => c,
        })
        .collect()
}

/// `s` cut to at most `max` characters, with `…` when something was cut.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => {
            let mut out = s[..at].to_string();
            out.push('…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_line_ends_and_bidi_overrides_are_made_visible() {
        let hostile = "x\u{1b}]0;PWNED\u{7}\u{1b}[2J\r\nFAKE LOG LINE\u{202E}evil\u{200B}";
        let out = printable(hostile);
        assert_eq!(
            out,
            "x\u{FFFD}]0;PWNED\u{FFFD}\u{FFFD}[2J  FAKE LOG LINE\u{FFFD}evil\u{FFFD}"
        );
        assert!(!out.chars().any(is_hidden), "{out:?}");
        for c in [
            '\u{FEFF}', '\u{2066}', '\u{2069}', '\u{200F}', '\u{9b}', '\u{7f}',
        ] {
            assert!(is_hidden(c), "{c:?}");
        }
        // Letters, accents and symbols of every script are left alone.
        let plain = "Obligación Nº 7 · ñandú — 東京 ✓";
        assert_eq!(printable(plain), plain);
        assert!(!plain.chars().any(is_hidden));
    }

    #[test]
    fn server_text_is_cut_on_a_character_with_its_length() {
        let long = format!("{}\r\n{}", "ñ".repeat(600), "x".repeat(1 << 20));
        let out = from_server(&long);
        assert_eq!(out, format!("{}… (1049178 characters)", "ñ".repeat(500)));
        let exact = "é".repeat(MAX_SERVER_CHARS);
        assert_eq!(from_server(&exact), exact);
        let one_more = format!("{exact}\u{1b}");
        assert_eq!(from_server(&one_more), format!("{exact}… (501 characters)"));
        // Cut first, then made printable: what is kept is safe too.
        assert_eq!(from_server("a\r\nb\u{202E}"), "a  b\u{FFFD}");
    }

    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(cut("ñññ", 2), "ññ…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("", 0), "");
    }
}
