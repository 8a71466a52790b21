//! The API token, checked wherever it comes from: a value, a file or the
//! `WOLKVOX_TOKEN` variable. Besides what no token can hold, it refuses what
//! people actually get wrong: a `NAME=value` line copied from a `.env` file
//! or a script, a space inside the token, and a file that is no token file
//! at all (a large one, or a device such as `/dev/zero` that never ends).
//! The command line and a program embedding the library get the same
//! checks. No message quotes the token, or any part of what was read.

use crate::tr;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The environment variable the token is read from.
const TOKEN_VAR: &str = "WOLKVOX_TOKEN";

/// Far more than any token: what is larger is another file given by
/// mistake, or a device that never ends.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// The API's token. It never leaves this type except as the request header:
/// `Debug` is redacted and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Checks a token as given (by the variable or the file): a UTF-8 byte
    /// order mark and surrounding whitespace are dropped; what is left must
    /// be one line of printable ASCII with no space, and not a `NAME=value`
    /// assignment. The messages never quote the value.
    pub fn new(value: &str) -> Result<Token, String> {
        let v = value.trim_start_matches('\u{FEFF}').trim();
        if v.is_empty() {
            return Err(tr!("token-empty"));
        }
        if is_assignment(v.lines().next().unwrap_or_default()) {
            return Err(tr!("token-assignment"));
        }
        if v.contains(['\n', '\r']) {
            return Err(tr!("token-lines"));
        }
        if let Some((at, c)) = v
            .chars()
            .enumerate()
            .find(|(_, c)| *c == ' ' || c.is_control() || !c.is_ascii())
        {
            let what = if c == ' ' {
                tr!("token-char-space")
            } else if c.is_control() {
                tr!("token-char-control")
            } else {
                tr!("token-char-not-ascii")
            };
            return Err(tr!("token-bad-char", position = at + 1, what = what));
        }
        Ok(Token(v.to_string()))
    }

    /// Reads the token from a file (what an editor leaves around it is
    /// dropped, see [`Token::new`]). At most 64 KiB are read: a bigger
    /// file, or one that never ends, is refused without reading the rest.
    /// A file that other users can read draws a warning: the token is a
    /// credential.
    pub fn from_file(path: &Path) -> Result<Token, String> {
        let shown = || path.display().to_string();
        let unreadable = |e: std::io::Error| {
            tr!(
                "token-file-unreadable",
                path = shown(),
                why = crate::source::open_error(&e)
            )
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let meta = file.metadata().map_err(unreadable)?;
        if meta.is_file() {
            warn_if_others_can_read(path, &meta);
        }
        let mut bytes = Vec::new();
        file.take(MAX_TOKEN_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        if bytes.len() as u64 > MAX_TOKEN_FILE {
            return Err(tr!(
                "token-file-too-big",
                path = shown(),
                max = format!("{} KiB", MAX_TOKEN_FILE / 1024)
            ));
        }
        let text =
            String::from_utf8(bytes).map_err(|_| tr!("token-file-not-utf8", path = shown()))?;
        Token::new(&text).map_err(|e| format!("{}: {e}", shown()))
    }

    /// The token in the `WOLKVOX_TOKEN` environment variable, checked as [`Token::new`] checks it;
    /// `None` when the variable is unset or holds only blanks (a
    /// scheduler's template, an export left blank).
    pub fn from_env() -> Result<Option<Token>, String> {
        from_env_value(std::env::var_os(TOKEN_VAR))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// [`Token::from_env`] for the variable's value.
fn from_env_value(value: Option<std::ffi::OsString>) -> Result<Option<Token>, String> {
    let Some(value) = value.filter(|v| !v.to_string_lossy().trim().is_empty()) else {
        return Ok(None);
    };
    let value = value.into_string().map_err(|_| tr!("token-env-not-text"))?;
    Token::new(&value)
        .map(Some)
        .map_err(|e| format!("{TOKEN_VAR}: {e}"))
}

/// `NAME=value` or `export NAME=value`, as a `.env` file or a shell script
/// writes a variable. A token's own `=` (base64 padding) ends it, so a
/// value made only of `=` is no assignment.
fn is_assignment(line: &str) -> bool {
    let line = line.trim();
    let line = line
        .strip_prefix("export ")
        .map(str::trim_start)
        .unwrap_or(line);
    let Some((name, value)) = line.split_once('=') else {
        return false;
    };
    let name = name.trim_end();
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !value.trim().trim_matches('=').is_empty()
}

#[cfg(unix)]
fn warn_if_others_can_read(path: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o044 == 0 {
        return;
    }
    let who = if mode & 0o004 != 0 {
        tr!("token-file-readable-by-all")
    } else {
        tr!("token-file-readable-by-group")
    };
    tracing::warn!(
        "{}",
        tr!(
            "token-file-readable",
            path = path.display().to_string(),
            mode = format!("{mode:04o}"),
            who = who
        )
    );
}

#[cfg(not(unix))]
fn warn_if_others_can_read(_: &Path, _: &std::fs::Metadata) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_and_trimmed() {
        let t = Token::new("  s3cr3t-value\n").unwrap();
        assert_eq!(t.expose(), "s3cr3t-value");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert!(Token::new(" \n").is_err());
        assert!(Token::new("a\u{1}b").is_err());
    }

    #[test]
    fn token_texts_and_their_messages() {
        let ok = |s: &str| Token::new(s).map(|t| t.expose().to_string());
        assert_eq!(ok("\u{FEFF}s3cr3t\r\n").unwrap(), "s3cr3t");
        assert_eq!(ok("\t s3cr3t \n\n").unwrap(), "s3cr3t");
        let two = ok("s3cr3t\nother").unwrap_err();
        assert!(two.contains("two or more lines"), "{two}");
        let bad = ok("s3cr\u{e9}t").unwrap_err();
        assert!(bad.contains("a character a token cannot have"), "{bad}");
        assert!(bad.contains("character 5"), "{bad}");
        assert!(!bad.contains("s3cr"), "the message quotes the token: {bad}");
        let ctl = ok("s3\u{7}cret").unwrap_err();
        assert!(ctl.contains("control character"), "{ctl}");
        assert!(ok("\u{FEFF}").unwrap_err().contains("empty"));
    }

    #[test]
    fn assignments_are_told_from_tokens() {
        for line in [
            "WOLKVOX_TOKEN=abc123",
            "export WOLKVOX_TOKEN=\"abc123\"",
            "WOLKVOX_TOKEN = abc123",
            "token=abc",
        ] {
            assert!(is_assignment(line), "{line}");
        }
        for line in [
            "abc123", "YWJjMTIz", "YWJjMTI=", "YWJjMQ==", "=abc", "a-b=c", "",
        ] {
            assert!(!is_assignment(line), "{line}");
        }
    }

    #[test]
    fn spaces_and_assignments_are_refused_without_quoting_the_token() {
        let e = Token::new("s3cr3t v4lue").unwrap_err();
        assert!(
            e.contains("a character a token cannot have") && e.contains("character 7 is a space"),
            "{e}"
        );
        assert!(!e.contains("s3cr3t") && !e.contains("v4lue"), "{e}");
        let e = Token::new("\u{FEFF}WOLKVOX_TOKEN=s3cr3t\r\n").unwrap_err();
        assert!(e.contains("write only the token"), "{e}");
        assert!(!e.contains("s3cr3t") && !e.contains("WOLKVOX_TOKEN"), "{e}");
        // A second line keeps its own message.
        assert!(Token::new("s3cr3t\nother line")
            .unwrap_err()
            .contains("two or more lines"));
        // What an editor leaves around a token is still fine.
        assert!(Token::new("\u{FEFF}  s3cr3t-v4lue== \r\n").is_ok());
    }

    #[test]
    fn token_files_with_a_bom_and_a_windows_line_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, b"\xEF\xBB\xBFs3cr3t-value\r\n").unwrap();
        assert_eq!(Token::from_file(&p).unwrap().expose(), "s3cr3t-value");
        std::fs::write(&p, b"\xFF\xFEs\x003\x00").unwrap();
        let e = Token::from_file(&p).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn token_files_that_hold_no_token_are_refused_without_quoting_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "export WOLKVOX_TOKEN=s3cr3t\n").unwrap();
        let e = Token::from_file(&p).unwrap_err();
        assert!(e.starts_with(&format!("{}: ", p.display())), "{e}");
        assert!(
            e.contains("write only the token") && !e.contains("s3cr3t"),
            "{e}"
        );
        // One byte past the bound is enough to refuse it, unread.
        std::fs::write(&p, "s3cr3t".repeat(11_000)).unwrap();
        let e = Token::from_file(&p).unwrap_err();
        assert!(
            e.contains("larger than 64 KiB") && !e.contains("s3cr3t"),
            "{e}"
        );
        let e = Token::from_file(&dir.path().join("missing")).unwrap_err();
        assert!(
            e.contains("cannot read the token file: no such file"),
            "{e}"
        );
    }

    #[test]
    fn the_variable_is_unset_when_blank_and_checked_otherwise() {
        let from = |v: &str| from_env_value(Some(v.into()));
        assert_eq!(from_env_value(None), Ok(None));
        assert_eq!(from(""), Ok(None));
        assert_eq!(from(" \t\n"), Ok(None));
        assert_eq!(from(" s3cr3t\n").unwrap().unwrap().expose(), "s3cr3t");
        let e = from("WOLKVOX_TOKEN=s3cr3t").unwrap_err();
        assert!(e.starts_with("WOLKVOX_TOKEN: "), "{e}");
        assert!(
            e.contains("write only the token") && !e.contains("s3cr3t"),
            "{e}"
        );
        let e = from("s3cr3t v4lue").unwrap_err();
        assert!(
            e.contains("character 7 is a space") && !e.contains("v4lue"),
            "{e}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let e = from_env_value(Some(std::ffi::OsString::from_vec(b"s3\xffcr3t".to_vec())))
                .unwrap_err();
            assert!(e.contains("not valid text") && !e.contains("s3"), "{e}");
        }
    }
}
