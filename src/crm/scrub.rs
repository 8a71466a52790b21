//! The token, hidden from whatever the server says. A server may repeat the
//! token in an error, a page or a `Location`: as sent, in another case,
//! JSON-escaped (`\/`, `\u0074`), percent-encoded, with characters that do
//! not show between its letters, or only a piece of it (a message that cuts
//! it, `token 7f3a9c1e5b2d…`). Every run of [`MIN_PIECE`] or more
//! consecutive characters of the token, in any of those forms, is replaced
//! by [`REDACTED`] where the text enters, before anything can log it or
//! write it to a file. Shorter runs are left: eleven characters of a
//! forty-character token give nothing useful away, and hiding shorter runs
//! would eat into ordinary ids (eight digits of a hexadecimal token turn up
//! in a document or obligation number often enough to matter).
//!
//! The search is one pass over the text (two when the token itself holds a
//! `\` or a `%`): each character read is looked up among the token's pieces
//! of [`MIN_PIECE`] characters, so a megabyte costs a megabyte of work, not
//! a megabyte per piece.

use super::text;
use std::collections::VecDeque;

/// What replaces the token, or a piece of it, wherever the server repeats it.
pub const REDACTED: &str = "[token hidden]";

/// Shorter tokens are not scrubbed: replacing every occurrence of a couple
/// of characters would corrupt the ids and messages it appears in. Also the
/// shortest start of the token removed where a text is cut.
const MIN_SCRUBBED_LEN: usize = 4;

/// The shortest run of the token's characters that is hidden, for a token
/// at least this long; a shorter token is hidden only whole.
pub const MIN_PIECE: usize = 12;

/// Finds the token, and every piece of it of [`MIN_PIECE`] characters or
/// more, in a server's text, whatever its case and its escapes.
#[derive(Clone)]
pub struct Scrubber {
    /// Every piece of `width` characters of the token, ASCII-lowercased
    /// and packed into a `u128` (one byte a character: the token is
    /// ASCII), sorted. Empty when the token is too short to scrub.
    pieces: Vec<u128>,
    /// Characters in a piece: [`MIN_PIECE`], or the token's length when it
    /// is shorter.
    width: usize,
    /// Which ASCII characters (lowercased) the token holds.
    in_token: [bool; 128],
    /// The token, ASCII-lowercased.
    token: Vec<u8>,
    /// The token holds a `\` or a `%`: it is also looked for as written,
    /// since reading its escapes would change it.
    raw_pass: bool,
}

impl Scrubber {
    /// A scrubber for `token`, which is printable ASCII (as
    /// [`super::Token`] makes sure); any other token is not scrubbed.
    pub fn new(token: &str) -> Scrubber {
        let lower = token.to_ascii_lowercase().into_bytes();
        let mut in_token = [false; 128];
        let mut pieces = Vec::new();
        let width = lower.len().min(MIN_PIECE);
        if lower.len() >= MIN_SCRUBBED_LEN && token.is_ascii() {
            for &b in &lower {
                in_token[b as usize] = true;
            }
            pieces = lower
                .windows(width)
                .map(|w| w.iter().fold(0u128, |acc, &b| (acc << 8) | b as u128))
                .collect();
            pieces.sort_unstable();
            pieces.dedup();
        }
        Scrubber {
            pieces,
            width,
            in_token,
            raw_pass: lower.contains(&b'\\') || lower.contains(&b'%'),
            token: lower,
        }
    }

    /// A body with every piece of the token replaced, the rest left byte
    /// for byte (a JSON body stays JSON: a piece is replaced whole, escapes
    /// and all), and whether anything was.
    pub fn body_marked(&self, body: Vec<u8>) -> (Vec<u8>, bool) {
        let spans = self.spans(&body);
        if spans.is_empty() {
            return (body, false);
        }
        (replaced(&body, &spans), true)
    }

    /// `s` with every piece of the token replaced.
    pub fn text(&self, s: &str) -> String {
        let spans = self.spans(s.as_bytes());
        if spans.is_empty() {
            return s.to_string();
        }
        // Spans start and end on whole characters, so this is UTF-8.
        String::from_utf8_lossy(&replaced(s.as_bytes(), &spans)).into_owned()
    }

    /// Server text ready to show: scrubbed, then cut short and made
    /// printable ([`text::from_server`]). Scrubbed first, so that the cut
    /// cannot split the token.
    pub fn clean(&self, s: &str) -> String {
        text::from_server(&self.text(s))
    }

    /// `s` scrubbed, made printable and cut to `max` characters (not
    /// [`Scrubber::clean`]: its own cut, longer, would only be cut again).
    /// Scrubbed before it is cut, so that the cut cannot split the token
    /// and leave a piece of it. A [`REDACTED`] that the cut splits goes
    /// whole; and should the text end, where it is cut, with the start of
    /// the token (at least [`MIN_SCRUBBED_LEN`] characters of it, too short
    /// to have been hidden), that goes too.
    pub fn clean_cut(&self, s: &str, max: usize) -> String {
        let whole = text::printable(&self.text(s.trim()));
        let whole = whole.trim();
        let cut = text::cut(whole, max);
        let Some(kept) = cut.strip_suffix('…') else {
            return cut;
        };
        let mut end = kept.len();
        if let Some(k) = (1..REDACTED.len())
            .rev()
            .find(|&k| kept.ends_with(&REDACTED[..k]) && whole[end - k..].starts_with(REDACTED))
        {
            end -= k;
        }
        let end = self.without_token_start(&kept[..end]);
        format!("{}…", &kept[..end])
    }

    /// Where `s` ends, less the start of the token it may end with (at
    /// least [`MIN_SCRUBBED_LEN`] characters of it, in any form).
    fn without_token_start(&self, s: &str) -> usize {
        if self.pieces.is_empty() {
            return s.len();
        }
        // The run of the token's characters `s` ends with: each one's
        // lowercase byte and where it starts.
        let mut run: VecDeque<(u8, usize)> = VecDeque::new();
        for u in reading(s.as_bytes()) {
            match self.token_byte(u.c) {
                Some(b) => {
                    if run.len() == self.token.len() {
                        run.pop_front();
                    }
                    run.push_back((b, u.start));
                }
                None if is_invisible(u.c) => {}
                None => run.clear(),
            }
        }
        let longest = run.len().min(self.token.len().saturating_sub(1));
        for m in (MIN_SCRUBBED_LEN..=longest).rev() {
            let tail = run.iter().skip(run.len() - m);
            if tail
                .clone()
                .map(|(b, _)| *b)
                .eq(self.token[..m].iter().copied())
            {
                return tail.map(|(_, at)| *at).next().unwrap_or(s.len());
            }
        }
        s.len()
    }

    /// The lowercase byte of `c` when it is one of the token's characters.
    fn token_byte(&self, c: char) -> Option<u8> {
        let b = u8::try_from(c.to_ascii_lowercase()).ok()?;
        (b < 128 && self.in_token[b as usize]).then_some(b)
    }

    /// The byte ranges of `s` that write a piece of the token, sorted,
    /// overlapping and touching ones merged.
    fn spans(&self, s: &[u8]) -> Vec<(usize, usize)> {
        if self.pieces.is_empty() || s.len() < self.width {
            return Vec::new();
        }
        let mut spans = self.find(reading(s));
        if self.raw_pass {
            spans.extend(self.find(Plain { s, at: 0 }));
            spans.sort_unstable();
        }
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        merged
    }

    /// The bytes of each run of `width` or more of the token's characters
    /// among `units` (consecutive, but for the characters that do not
    /// show, which may sit between them), in order.
    fn find(&self, units: impl Iterator<Item = Unit>) -> Vec<(usize, usize)> {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        let k = self.width;
        let mask = if k >= 16 {
            u128::MAX
        } else {
            (1u128 << (8 * k)) - 1
        };
        let mut piece = 0u128;
        let mut run = 0usize;
        // Where each of the last `MIN_PIECE` characters of the run starts.
        let mut starts = [0usize; MIN_PIECE];
        for u in units {
            match self.token_byte(u.c) {
                Some(b) => {
                    piece = ((piece << 8) | b as u128) & mask;
                    starts[run % MIN_PIECE] = u.start;
                    run += 1;
                    if run >= k && self.pieces.binary_search(&piece).is_ok() {
                        let start = starts[(run - k) % MIN_PIECE];
                        match spans.last_mut() {
                            Some(last) if start <= last.1 => last.1 = u.end,
                            _ => spans.push((start, u.end)),
                        }
                    }
                }
                None if is_invisible(u.c) => {}
                None => {
                    run = 0;
                    piece = 0;
                }
            }
        }
        spans
    }
}

/// `s` with each span replaced by [`REDACTED`].
fn replaced(s: &[u8], spans: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut at = 0;
    for &(a, b) in spans {
        out.extend_from_slice(&s[at..a]);
        out.extend_from_slice(REDACTED.as_bytes());
        at = b;
    }
    out.extend_from_slice(&s[at..]);
    out
}

/// A character that does not show and does not part words: one that may
/// sit between the token's letters unseen (a zero-width space, a soft
/// hyphen, an escape character).
fn is_invisible(c: char) -> bool {
    text::is_hidden(c) && !text::is_white(c)
}

/// One character of a text as a person reads it, and the bytes
/// `start..end` that wrote it (one byte, a UTF-8 sequence, an escape).
#[derive(Debug, Clone, Copy)]
struct Unit {
    c: char,
    start: usize,
    end: usize,
}

/// `s` as a person would read it: `\uXXXX` and the other JSON escapes
/// decoded (a surrogate pair as its one character; a lone surrogate left as
/// written), then `%XX` escapes (a UTF-8 sequence written as several as its
/// one character). A JSON body is read as its strings' text, and a cut
/// JSON body or a page with escapes in it the same way.
fn reading(s: &[u8]) -> Percent<Unescaped<'_>> {
    Percent {
        inner: Unescaped { s, at: 0 },
        ahead: VecDeque::new(),
    }
}

/// The character `s` starts with and its length in bytes; a byte that
/// starts no UTF-8 character is one [`text::REPLACEMENT`].
fn utf8_at(s: &[u8]) -> Option<(char, usize)> {
    let &lead = s.first()?;
    if lead < 0x80 {
        return Some((lead as char, 1));
    }
    let len = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    };
    let c = s
        .get(..len)
        .filter(|_| len > 0)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| t.chars().next());
    Some(match c {
        Some(c) => (c, len),
        None => (text::REPLACEMENT, 1),
    })
}

/// The characters of `s` as written.
struct Plain<'a> {
    s: &'a [u8],
    at: usize,
}

impl Iterator for Plain<'_> {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        let (c, len) = utf8_at(&self.s[self.at..])?;
        let start = self.at;
        self.at += len;
        Some(Unit {
            c,
            start,
            end: self.at,
        })
    }
}

/// The characters of `s` with its JSON escapes decoded.
struct Unescaped<'a> {
    s: &'a [u8],
    at: usize,
}

impl Iterator for Unescaped<'_> {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        let s = &self.s[self.at..];
        let (c, len) = match s {
            [b'\\', b'u', ..] => {
                let pair = |high: u32| {
                    let low = escape_at(s.get(6..)?)?;
                    (0xDC00..=0xDFFF).contains(&low).then(|| {
                        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                    })?
                };
                match escape_at(s) {
                    Some(high @ 0xD800..=0xDBFF) => match pair(high) {
                        Some(c) => (c, 12),
                        None => ('\\', 1),
                    },
                    Some(code) => match char::from_u32(code) {
                        Some(c) => (c, 6),
                        None => ('\\', 1),
                    },
                    None => ('\\', 1),
                }
            }
            [b'\\', e @ (b'"' | b'\\' | b'/'), ..] => (*e as char, 2),
            [b'\\', b'b', ..] => ('\u{8}', 2),
            [b'\\', b'f', ..] => ('\u{c}', 2),
            [b'\\', b'n', ..] => ('\n', 2),
            [b'\\', b'r', ..] => ('\r', 2),
            [b'\\', b't', ..] => ('\t', 2),
            _ => utf8_at(s)?,
        };
        let start = self.at;
        self.at += len;
        Some(Unit {
            c,
            start,
            end: self.at,
        })
    }
}

/// The code of the `\uXXXX` escape `s` starts with.
fn escape_at(s: &[u8]) -> Option<u32> {
    let hex = s.strip_prefix(b"\\u")?.get(..4)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// The characters of `inner` with their `%XX` escapes decoded, as UTF-8
/// where the bytes are (a stray `%` stays as written; decoded bytes that
/// are not UTF-8 become [`text::REPLACEMENT`]).
struct Percent<I> {
    inner: I,
    /// Characters read ahead: an escape is three, a character up to twelve.
    ahead: VecDeque<Unit>,
}

impl<I: Iterator<Item = Unit>> Percent<I> {
    /// True when `n` characters are read ahead.
    fn fill(&mut self, n: usize) -> bool {
        while self.ahead.len() < n {
            match self.inner.next() {
                Some(u) => self.ahead.push_back(u),
                None => return false,
            }
        }
        true
    }

    /// The byte of the `%XX` escape at `i` characters ahead.
    fn byte_at(&mut self, i: usize) -> Option<u8> {
        if !self.fill(i + 3) {
            return None;
        }
        let hex = |u: &Unit| u.c.to_digit(16);
        if self.ahead[i].c != '%' {
            return None;
        }
        Some((hex(&self.ahead[i + 1])? * 16 + hex(&self.ahead[i + 2])?) as u8)
    }

    /// Takes `n` characters read ahead as one that is `c`.
    fn take(&mut self, n: usize, c: char) -> Option<Unit> {
        let start = self.ahead.front()?.start;
        let end = self.ahead.drain(..n).next_back()?.end;
        Some(Unit { c, start, end })
    }
}

impl<I: Iterator<Item = Unit>> Iterator for Percent<I> {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        if !self.fill(1) {
            return None;
        }
        let Some(lead) = self.byte_at(0) else {
            return self.ahead.pop_front();
        };
        if lead < 0x80 {
            return self.take(3, lead as char);
        }
        let len = match lead {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => 1,
        };
        let mut bytes = vec![lead];
        for i in 1..len {
            match self.byte_at(3 * i) {
                Some(b) => bytes.push(b),
                None => break,
            }
        }
        match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| t.chars().next())
        {
            Some(c) if bytes.len() == len => self.take(3 * len, c),
            _ => self.take(3, text::REPLACEMENT),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `s` as [`reading`] reads it, without the characters that do not
    /// show.
    fn revealed(s: &str) -> String {
        reading(s.as_bytes())
            .map(|u| u.c)
            .filter(|&c| !is_invisible(c))
            .collect()
    }

    #[test]
    fn the_token_is_scrubbed_in_every_form() {
        let s = Scrubber::new("ab/cd+ef\"gh");
        let body = br#"{"msg":"header Wolkvox-Token: ab\/cd+ef\"gh and ab/cd+ef\"gh and ab%2Fcd%2Bef%22gh"}"#.to_vec();
        let out = String::from_utf8(s.body_marked(body).0).unwrap();
        assert!(!out.contains("cd+ef"), "{out}");
        assert!(!out.contains("cd%2Bef"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 3, "{out}");
        // Still JSON after scrubbing.
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
        assert_eq!(s.text("nothing here"), "nothing here");
        // A token too short to scrub safely leaves ids alone.
        let short = Scrubber::new("12");
        assert_eq!(short.text("id 123"), "id 123");
    }

    #[test]
    fn redirect_locations_are_one_short_line() {
        let s = Scrubber::new("s3cr3t-token-value");
        assert_eq!(s.clean_cut("a\r\nb", 10), "a  b");
        assert_eq!(s.clean_cut(&"x".repeat(300), 5), "xxxxx…");
    }

    #[test]
    fn every_form_is_scrubbed_in_one_body() {
        let s = Scrubber::new("tok/SECRET+9");
        let body = br#"a TOK/secret+9 b "tok\/secret+9" c tok%2Fsecret%2B9 d tok/SECRET+9"#;
        assert_eq!(
            String::from_utf8(s.body_marked(body.to_vec()).0).unwrap(),
            r#"a [token hidden] b "[token hidden]" c [token hidden] d [token hidden]"#
        );
    }

    #[test]
    fn the_token_is_scrubbed_whatever_its_case_and_its_escapes() {
        let token = "tok-SECRET-123==";
        let s = Scrubber::new(token);
        let upper = s.text("headers: Wolkvox-Token: TOK-SECRET-123==; lower tok-secret-123==");
        assert_eq!(
            upper,
            "headers: Wolkvox-Token: [token hidden]; lower [token hidden]"
        );
        assert_eq!(s.text("?t=tok-secret-123%3d%3D"), "?t=[token hidden]");
        // Gson writes '=' as \u003d; a server may escape every character.
        let gson = br#"{"code":400,"msg":"Wolkvox-Token: tok-SECRET-123\u003d\u003d"}"#;
        let every: String = token
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        let every =
            format!(r#"{{"code":400,"msg":"Wolkvox-Token: {every}","data":{{"k":[1,"x"]}}}}"#);
        for body in [gson.to_vec(), every.into_bytes()] {
            let out = s.body_marked(body).0;
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let msg = v["msg"].as_str().unwrap();
            assert_eq!(msg, "Wolkvox-Token: [token hidden]", "{v}");
            assert_eq!(v["code"], 400);
        }
        // A body without the token is left byte for byte.
        let clean = br#"{"code":200,"data":{"wolkvox_id":"\u00f1a","n":1.50}}"#.to_vec();
        assert_eq!(s.body_marked(clean.clone()).0, clean);
    }

    #[test]
    fn a_token_behind_hidden_characters_or_escapes_in_any_text_is_scrubbed() {
        let token = "tok-SECRET-123";
        let s = Scrubber::new(token);
        let spaced = |sep: &str| {
            token
                .chars()
                .map(String::from)
                .collect::<Vec<_>>()
                .join(sep)
        };
        // Zero-width spaces or soft hyphens between its letters, raw or
        // JSON-escaped.
        for sep in ["\u{200B}", "\u{00AD}", "\u{2060}", "\u{1b}"] {
            let raw = format!("Wolkvox-Token: {}", spaced(sep));
            assert_eq!(s.text(&raw), "Wolkvox-Token: [token hidden]", "{sep:?}");
            let body = serde_json::json!({"code": 400, "msg": raw}).to_string();
            let out = s.body_marked(body.into_bytes()).0;
            let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
            assert_eq!(v["msg"], "Wolkvox-Token: [token hidden]", "{sep:?}");
        }
        let escaped = format!(
            r#"{{"code":400,"msg":"Wolkvox-Token: {}"}}"#,
            spaced("\\u200b")
        );
        let v: serde_json::Value =
            serde_json::from_slice(&s.body_marked(escaped.into_bytes()).0).unwrap();
        assert_eq!(v["msg"], "Wolkvox-Token: [token hidden]");
        // Escapes in a body that is not JSON: cut short, or plain text.
        let cut = br#"{"code":400,"msg":"Wolkvox-Token: \u0074ok-SECRET-123""#.to_vec();
        assert_eq!(
            String::from_utf8(s.body_marked(cut).0).unwrap(),
            r#"{"code":400,"msg":"Wolkvox-Token: [token hidden]""#
        );
        let plain = br"ERR Wolkvox-Token=\u0074\u006F\u006b-SECRET-123 end".to_vec();
        assert_eq!(
            String::from_utf8(s.body_marked(plain).0).unwrap(),
            "ERR Wolkvox-Token=[token hidden] end"
        );
        // URL-encoded in any way a server might: every character, some of
        // them, lower-case hex, `/` left as it is.
        let odd = Scrubber::new("tokSECRET+abc/987=xyz");
        for echoed in [
            "BAD token=tokSECRET%2Babc/987%3Dxyz",
            "BAD token=%74%6F%6B%53%45%43%52%45%54%2B%61%62%63%2F%39%38%37%3D%78%79%7A",
            "BAD token=%74ok%53ECRET%2babc%2f987%3dxyz",
        ] {
            assert_eq!(odd.text(echoed), "BAD token=[token hidden]", "{echoed}");
            let body = serde_json::json!({"code": 400, "msg": echoed}).to_string();
            let v: serde_json::Value =
                serde_json::from_slice(&odd.body_marked(body.into_bytes()).0).unwrap();
            assert_eq!(v["msg"], "BAD token=[token hidden]", "{echoed}");
        }
        assert_eq!(odd.text("50%25 off, 100%"), "50%25 off, 100%");
        // Text without the token keeps its escapes and characters as sent.
        let other = "caf\\u00e9 \u{200B} \\ud83d and \\uZZZZ".to_string();
        assert_eq!(s.text(&other), other);
        assert_eq!(
            s.body_marked(other.clone().into_bytes()).0,
            other.into_bytes()
        );
        assert_eq!(
            revealed(r"\ud83d\ude00 \ud83d x\u00"),
            "\u{1F600} \\ud83d x\\u00"
        );
        assert_eq!(revealed("a\u{200B}b\r\nc"), "ab\r\nc");
    }

    #[test]
    fn a_cut_never_leaves_a_piece_of_the_token() {
        let token = "tok-SECRET-123";
        let s = Scrubber::new(token);
        let long = format!("https://x.example/{}{token}", "p".repeat(175));
        let out = s.clean_cut(&long, 200);
        assert!(!out.contains("tok-SEC"), "{out}");
        assert!(out.ends_with('…'), "{out}");
        // The token whole is scrubbed before the cut, wherever the cut is.
        for keep in 0..=token.len() {
            let text = format!("{}{token} and more", "p".repeat(200 - keep));
            let out = s.clean_cut(&text, 200);
            assert!(!out.contains("tok-"), "{keep}: {out}");
        }
        // Text that is cut just after the start of the token (here, the
        // token but its last character): that start goes, from 4
        // characters on.
        let almost = &token[..token.len() - 1];
        for keep in MIN_SCRUBBED_LEN..almost.len() {
            let text = format!("{}{almost} and more", "p".repeat(200 - keep));
            let out = s.clean_cut(&text, 200);
            assert_eq!(out, format!("{}…", "p".repeat(200 - keep)), "{keep}");
        }
        // Text that merely ends like a short piece of it is left alone.
        assert_eq!(
            s.clean_cut(&format!("{}tok", "a".repeat(10)), 12),
            "aaaaaaaaaato…"
        );
    }

    const LONG: &str = "7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4e6b8d0f1";

    #[test]
    fn any_run_of_twelve_characters_of_the_token_is_hidden() {
        let s = Scrubber::new(LONG);
        // The start a server kept when it cut the token, the end, the
        // middle: each hidden, with what follows kept.
        let cut = &LONG[..26];
        assert_eq!(
            s.text(&format!("invalid request from token {cut}...")),
            "invalid request from token [token hidden]..."
        );
        for (from, to) in [(0, 12), (28, 40), (10, 22), (5, 33)] {
            let piece = &LONG[from..to];
            assert_eq!(s.text(&format!("<{piece}>")), "<[token hidden]>", "{piece}");
            assert_eq!(
                s.text(&format!("<{}>", piece.to_uppercase())),
                "<[token hidden]>",
                "{piece}"
            );
        }
        // Eleven characters are not a piece (nor eight digits of it in an
        // id); twelve with a hidden character between them are.
        assert_eq!(s.text("id 7f3a9c1e5b2 ok"), "id 7f3a9c1e5b2 ok");
        assert_eq!(s.text("OB 45404108"), "OB 45404108");
        assert_eq!(s.text("7f3a\u{200B}9c1e5b2d"), "[token hidden]");
        // Escaped or encoded, in a JSON body or not.
        let body = br#"{"code":400,"msg":"token \u0037f3a9c1e5b2d and %37%66%33%61%39%63%31%65%35%62%32%64 and a2c4e6b8d0f1"}"#;
        let out = String::from_utf8(s.body_marked(body.to_vec()).0).unwrap();
        assert_eq!(
            out,
            r#"{"code":400,"msg":"token [token hidden] and [token hidden] and [token hidden]"}"#
        );
        // Two pieces from either end of the token, side by side: hidden
        // as one.
        assert_eq!(
            s.text(&format!("x {}{} y", &LONG[26..], &LONG[..13])),
            "x [token hidden] y"
        );
        // Characters of the token in another order are not the token.
        assert_eq!(s.text("f7a3c9e1b5"), "f7a3c9e1b5");
    }

    #[test]
    fn a_short_token_is_hidden_only_whole() {
        let s = Scrubber::new("Ab3-xY9");
        assert_eq!(s.text("id ab3-xy9 here"), "id [token hidden] here");
        assert_eq!(s.text("id Ab3-xY here"), "id Ab3-xY here");
        assert_eq!(s.text("b3-xY9"), "b3-xY9");
        let four = Scrubber::new("k3y9");
        assert_eq!(four.text("a k3Y9 b k3y"), "a [token hidden] b k3y");
    }

    #[test]
    fn a_token_with_a_backslash_or_a_percent_is_found_as_written() {
        let s = Scrubber::new("ab\\ncd%41efgh");
        assert_eq!(s.text("x ab\\ncd%41efgh y"), "x [token hidden] y");
        assert_eq!(s.text("x ab\\\\ncd%2541efgh y"), "x [token hidden] y");
    }

    #[test]
    fn a_megabyte_is_scrubbed_in_one_pass() {
        let s = Scrubber::new(LONG);
        // The worst case for the search: every character one of the
        // token's, and a piece of it every few hundred characters.
        let mut body = String::with_capacity(1 << 20);
        while body.len() < (1 << 20) {
            body.push_str(&"a".repeat(300));
            body.push_str(&LONG[7..19]);
        }
        let started = std::time::Instant::now();
        let out = s.text(&body);
        let took = started.elapsed();
        assert_eq!(
            out.matches(REDACTED).count(),
            body.matches(&LONG[7..19]).count()
        );
        assert!(!out.contains(&LONG[7..15]));
        // Linear: well under a second even in a debug build.
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    }
}
