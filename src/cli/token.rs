//! The API token as the command line takes it: `--token-file`, else
//! `WOLKVOX_TOKEN`; never a plain value on the command line.
//!
//! On top of [`Token::new`]'s checks, what people actually get wrong: a
//! `NAME=value` line copied from a `.env` file or a script, a space inside
//! the token, and a file that is no token file at all (a large one, or a
//! device such as `/dev/zero` that never ends). No message quotes the
//! token, or any part of what was read.

use std::io::Read;
use std::path::Path;
use wolkvox_import::crm::Token;
use wolkvox_import::tr;

/// Far more than any token: what is larger is another file given by
/// mistake, or a device that never ends.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// The variable's value, when it holds anything but blanks: an empty
/// `WOLKVOX_TOKEN=` (a scheduler's template, an export left blank) is
/// unset.
fn env_value() -> Option<std::ffi::OsString> {
    std::env::var_os("WOLKVOX_TOKEN").filter(|v| !v.to_string_lossy().trim().is_empty())
}

/// The token: `--token-file`, else `WOLKVOX_TOKEN`.
pub fn token(token_file: Option<&Path>) -> Result<Token, String> {
    match token_file {
        Some(path) => {
            if env_value().is_some() {
                tracing::warn!("{}", tr!("token-both", path = path.display().to_string()));
            }
            let text = read_token_file(path)?;
            checked(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
        None => match std::env::var("WOLKVOX_TOKEN") {
            Ok(v) => checked(&v).map_err(|e| format!("WOLKVOX_TOKEN: {e}")),
            Err(std::env::VarError::NotUnicode(_)) => Err(tr!("token-env-not-text")),
            Err(std::env::VarError::NotPresent) => Err(tr!("no-token")),
        },
    }
}

/// Reads at most [`MAX_TOKEN_FILE`] bytes: a bigger file, or one that
/// never ends, is refused without reading the rest. A file that other
/// users can read draws a warning: the token is a credential.
fn read_token_file(path: &Path) -> Result<String, String> {
    let shown = || path.display().to_string();
    let unreadable = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => tr!("source-no-such-file"),
            std::io::ErrorKind::PermissionDenied => tr!("source-permission-denied"),
            _ => e.to_string(),
        };
        tr!("token-file-unreadable", path = shown(), why = why)
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
    String::from_utf8(bytes).map_err(|_| tr!("token-file-not-utf8", path = shown()))
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

/// [`Token::new`], after the checks it leaves to us.
fn checked(text: &str) -> Result<Token, String> {
    let t = text.trim_start_matches('\u{FEFF}').trim();
    let first_line = t.lines().next().unwrap_or_default();
    if is_assignment(first_line) {
        return Err(tr!("token-assignment"));
    }
    // Two or more lines are Token::new's to refuse, with its own message.
    if !t.contains(['\n', '\r']) {
        if let Some(at) = t.chars().position(|c| c == ' ') {
            return Err(tr!(
                "token-bad-char",
                position = at + 1,
                what = tr!("token-char-space")
            ));
        }
    }
    Token::new(text)
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn what_token_new_lets_through_is_refused_without_quoting_it() {
        let e = checked("s3cr3t v4lue").unwrap_err();
        assert!(
            e.contains("a character a token cannot have") && e.contains("character 7 is a space"),
            "{e}"
        );
        assert!(!e.contains("s3cr3t") && !e.contains("v4lue"), "{e}");
        let e = checked("\u{FEFF}WOLKVOX_TOKEN=s3cr3t\r\n").unwrap_err();
        assert!(e.contains("write only the token"), "{e}");
        assert!(!e.contains("s3cr3t") && !e.contains("WOLKVOX_TOKEN"), "{e}");
        // Token::new's own refusals keep their messages.
        assert!(checked("s3cr3t\nother line")
            .unwrap_err()
            .contains("two or more lines"));
        // What an editor leaves around a token is still fine.
        assert!(checked("\u{FEFF}  s3cr3t-v4lue== \r\n").is_ok());
    }
}
