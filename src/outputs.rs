//! Where a run's files go, checked before anything is read or sent: a
//! missing folder, an output that would replace the input or the mapping,
//! or a file this tool did not write is found while it costs nothing, not
//! after the first request has used the quota.
//!
//! A file is recognised as one of our own outputs by cheap, robust marks of
//! the shape we write: the results file by its exact header, the payloads
//! file by the opening of its first line, the rejects file by the error
//! column its header ends with, the report by the generator mark in its
//! head; a results or rejects workbook by the same header on its first
//! sheet.

use crate::results::RESULTS_HEADER;
use crate::tr;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The kinds of file a run writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Results,
    Payloads,
    Rejects,
    /// `--vanished`: the obligations the file no longer lists.
    Vanished,
    /// `--report`: the run's HTML page.
    Report,
}

impl OutputKind {
    fn noun(self) -> String {
        match self {
            OutputKind::Results => tr!("output-kind-results"),
            OutputKind::Payloads => tr!("output-kind-payloads"),
            OutputKind::Rejects => tr!("output-kind-rejects"),
            OutputKind::Vanished => tr!("output-kind-vanished"),
            OutputKind::Report => tr!("output-kind-report"),
        }
    }
}

/// One output of the run: the option that named it, the path, its kind.
#[derive(Debug, Clone)]
pub struct Output {
    pub option: &'static str,
    pub path: PathBuf,
    pub kind: OutputKind,
}

/// Checks every output before the run starts. `reads` are the files the
/// run reads (the input, the mapping, its lookup files, the token file, the
/// ledger...), each with what to call it; no output may be one of them,
/// `--force` or not, however the path is spelt (`./x`, a link, a hard
/// link). An existing file that is not an output of this kind written by
/// this tool is replaced only with `force`.
pub fn check_outputs(
    outputs: &[Output],
    reads: &[(&str, &Path)],
    force: bool,
) -> Result<(), String> {
    for (i, out) in outputs.iter().enumerate() {
        let shown = out.path.display().to_string();
        let meta = std::fs::metadata(&out.path).ok();
        // A device (/dev/null, /dev/stdout) or a pipe is written to, never
        // replaced: it is not a file anyone could lose, even when the run
        // also reads one (a token from /dev/stdin, results to /dev/stdout
        // on the same terminal).
        let device = meta.as_ref().is_some_and(|m| !m.is_dir() && !m.is_file());
        if !device {
            if let Some((what, _)) = reads.iter().find(|(_, r)| same_file(&out.path, r)) {
                return Err(tr!(
                    "output-overwrites-input",
                    option = out.option,
                    path = shown.as_str(),
                    what = *what
                ));
            }
        }
        match &meta {
            Some(m) if m.is_dir() => {
                return Err(tr!(
                    "output-is-folder",
                    option = out.option,
                    path = shown.as_str()
                ))
            }
            _ if device => continue,
            _ => {}
        }
        if let Some(other) = outputs[..i].iter().find(|o| same_file(&o.path, &out.path)) {
            return Err(tr!(
                "output-twice",
                first = other.option,
                second = out.option,
                path = shown.as_str()
            ));
        }
        // A new file needs the folder; so do the results file and the
        // report, which are replaced through a temporary file beside them.
        check_folder(
            out,
            meta.is_none() || matches!(out.kind, OutputKind::Results | OutputKind::Report),
        )?;
        let Some(meta) = meta else { continue };
        if meta.len() == 0 || force {
            continue;
        }
        if !written_by_us(&out.path, out.kind) {
            return Err(tr!(
                "output-foreign",
                option = out.option,
                path = shown.as_str(),
                kind = out.kind.noun()
            ));
        }
    }
    Ok(())
}

/// The folder an output goes into must exist and, when `write`, take new
/// files.
fn check_folder(out: &Output, write: bool) -> Result<(), String> {
    let parent = match out.path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match std::fs::metadata(&parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(tr!(
                "output-parent-not-folder",
                option = out.option,
                path = out.path.display().to_string(),
                folder = parent.display().to_string()
            ))
        }
        Err(_) => {
            return Err(tr!(
                "output-no-folder",
                option = out.option,
                path = out.path.display().to_string(),
                folder = parent.display().to_string()
            ))
        }
    }
    if write && !writable(&parent) {
        return Err(tr!(
            "output-folder-read-only",
            option = out.option,
            path = out.path.display().to_string(),
            folder = parent.display().to_string()
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// True when `a` and `b` name one file: the same file on disk when both
/// exist (so a hard link is caught too), else the same canonical path.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        return (x.dev(), x.ino()) == (y.dev(), y.ino());
    }
    canonical(a) == canonical(b)
}

/// `path` with links and `.`/`..` resolved, also for a file that does not
/// exist yet (an output, a ledger's `-wal`): then its folder is resolved
/// and its name kept, and a link that points nowhere yet is followed to
/// where it points. A loop of links leaves the path as it was given, made
/// absolute (see [`resolve_links`] to tell).
pub(crate) fn canonical(path: &Path) -> PathBuf {
    resolve_links(path)
        .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// Links followed before the path is called a loop, as Linux does.
const MAX_LINKS: u32 = 40;

/// The file `path` names once every symbolic link on the way is followed,
/// as the system would on opening it, whether or not the file exists: a
/// link that points to a file not made yet (or through a chain of links,
/// each relative target read from the link's own folder) is followed to
/// that file, so creating "the file" creates it there and the link stays a
/// link. An error when the links go round in a loop.
pub(crate) fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    use std::path::Component;
    match path.canonicalize() {
        Ok(c) => return Ok(c),
        Err(e) if is_loop(&e) => return Err(e),
        Err(_) => {}
    }
    // Not all there: walk it a component at a time, as the system does.
    let mut pending: std::collections::VecDeque<PathBuf> = std::path::absolute(path)?
        .components()
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect();
    let mut done = PathBuf::new();
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        match part.components().next() {
            None | Some(Component::CurDir) => {}
            Some(Component::ParentDir) => {
                done.pop();
            }
            Some(Component::Prefix(_) | Component::RootDir) => done.push(&part),
            Some(Component::Normal(name)) => {
                let next = done.join(name);
                match std::fs::read_link(&next) {
                    Ok(target) => {
                        hops += 1;
                        if hops > MAX_LINKS {
                            return Err(loop_error());
                        }
                        // An absolute target starts again from its root; a
                        // relative one from the link's folder (`done`).
                        let mut front: Vec<PathBuf> = target
                            .components()
                            .map(|c| PathBuf::from(c.as_os_str()))
                            .collect();
                        if target.is_absolute() {
                            done = PathBuf::new();
                        }
                        while let Some(p) = front.pop() {
                            pending.push_front(p);
                        }
                    }
                    Err(_) => done = next,
                }
            }
        }
    }
    Ok(done)
}

fn loop_error() -> std::io::Error {
    #[cfg(unix)]
    return std::io::Error::from_raw_os_error(libc::ELOOP);
    #[cfg(not(unix))]
    return std::io::Error::other("too many levels of symbolic links");
}

/// True for the system's "too many levels of symbolic links".
pub(crate) fn is_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::ELOOP);
    #[cfg(not(unix))]
    return e.to_string() == loop_error().to_string();
}

/// The first bytes of a file, enough for every check below.
fn head(path: &Path) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(64 * 1024).read_to_end(&mut buf);
    }
    buf
}

/// True when `path` looks like an output of `kind` that this tool wrote.
pub fn written_by_us(path: &Path, kind: OutputKind) -> bool {
    match kind {
        OutputKind::Results => has_header(path, &RESULTS_HEADER),
        OutputKind::Vanished => has_header(path, &crate::results::VANISHED_HEADER),
        // Of the others, only rejects are ever written as a workbook.
        OutputKind::Rejects if is_xlsx_name(path) => rejects_workbook(path),
        _ if is_xlsx_name(path) => false,
        _ => {
            let bytes = head(path);
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            match kind {
                OutputKind::Payloads => is_payload_line(text),
                OutputKind::Rejects => is_rejects_header(text),
                OutputKind::Report => is_our_report(text),
                OutputKind::Results | OutputKind::Vanished => false,
            }
        }
    }
}

/// True when the table at `path` starts with exactly `header`: the first
/// line of a CSV, or the first row of an `.xlsx`'s first sheet. How a
/// table this tool wrote (a ledger export) is told from anyone else's.
pub fn has_header(path: &Path, header: &[&str]) -> bool {
    if is_xlsx_name(path) {
        // calamine may panic on a malformed file; that is simply not ours.
        return std::panic::catch_unwind(|| xlsx_header(path))
            .ok()
            .flatten()
            .is_some_and(|h| h.iter().map(String::as_str).eq(header.iter().copied()));
    }
    let bytes = head(path);
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    first_line(text) == Some(header.join(",").as_bytes())
}

fn is_xlsx_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// A rejects workbook, by the header of its first sheet: it ends with the
/// row-number and error columns.
fn rejects_workbook(path: &Path) -> bool {
    // calamine may panic on a malformed file; that is simply not ours.
    std::panic::catch_unwind(|| xlsx_header(path))
        .ok()
        .flatten()
        .is_some_and(|h| h.len() >= 2 && crate::results::is_rejects_row_column(&h, h.len() - 2))
}

/// The first row of an .xlsx's first sheet that has a cell, up to its last
/// cell; read cell by cell, so a large workbook costs only that row.
fn xlsx_header(path: &Path) -> Option<Vec<String>> {
    use calamine::{DataRef, Reader};
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(path).ok()?;
    let sheet = workbook.sheet_names().first()?.clone();
    let mut cells = workbook.worksheet_cells_reader(&sheet).ok()?;
    let mut header: Vec<String> = Vec::new();
    let mut header_row = None;
    while let Some(cell) = cells.next_cell().ok()? {
        let text = match cell.get_value() {
            DataRef::String(s) => s.clone(),
            DataRef::SharedString(s) => s.to_string(),
            DataRef::Empty => continue,
            _ => String::new(),
        };
        let (row, col) = cell.get_position();
        match header_row {
            None => header_row = Some(row),
            Some(r) if r != row => break,
            Some(_) => {}
        }
        let col = col as usize;
        if header.len() <= col {
            header.resize(col + 1, String::new());
        }
        header[col] = text;
    }
    Some(header)
}

fn first_line(text: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b'\n', text)?;
    let line = &text[..end];
    Some(line.strip_suffix(b"\r").unwrap_or(line))
}

/// `{"row":N,"body":` as [`crate::results::PayloadWriter`] writes it.
fn is_payload_line(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"{\"row\":") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && rest[digits..].starts_with(b",\"body\":{")
}

/// An HTML page whose head carries our generator mark.
fn is_our_report(text: &[u8]) -> bool {
    let head_end = memchr::memmem::find(text, b"</head>").unwrap_or(text.len());
    text.starts_with(b"<!DOCTYPE html>")
        && memchr::memmem::find(&text[..head_end], crate::report::GENERATOR_META.as_bytes())
            .is_some()
}

/// The first non-blank line ends with the error column, after a delimiter,
/// and is not the results header (which also ends in `error`).
fn is_rejects_header(text: &[u8]) -> bool {
    // Leading blank rows keep an explicit `header_row` pointing at it.
    let Some(line) = text
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .find(|l| !l.is_empty())
    else {
        return false;
    };
    let line = String::from_utf8_lossy(line);
    if line == RESULTS_HEADER.join(",") {
        return false;
    }
    // The last cell, quoted or not, right after a delimiter.
    let t = line.trim_end();
    let (t, quoted) = match t.strip_suffix('"') {
        Some(t) => (t, true),
        None => (t, false),
    };
    ["import_error", "error"].iter().any(|name| {
        let Some(before) = t.strip_suffix(name) else {
            return false;
        };
        let before = if quoted {
            match before.strip_suffix('"') {
                Some(b) => b,
                None => return false,
            }
        } else {
            before
        };
        before.ends_with([',', ';', '\t', '|'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(option: &'static str, path: PathBuf, kind: OutputKind) -> Output {
        Output { option, path, kind }
    }

    #[test]
    fn our_own_files_are_recognised_by_their_shape() {
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let cases = [
            (
                "results",
                "row,status,wolkvox_id,obligation_id,obligation_wolkvox_id,attempts,http_status,api_code,error\n2,valid,a,b,,0,,,\n",
                [true, false, false],
            ),
            (
                "payloads",
                "{\"row\":2,\"body\":{\"operation\":\"x\"}}\n",
                [false, true, false],
            ),
            ("rejects", "\r\n\r\nregistro;obligacion;error\r\nR1;;bad\r\n", [false, false, true]),
            ("rejects-renamed", "\u{FEFF}\"a\",\"error\",import_error\r\n", [false, false, true]),
            ("the input", "registro;obligacion;saldo\nR1;1;2\n", [false, false, false]),
            ("a mapping", "[fields]\nid = \"x\"\n", [false, false, false]),
            (
                "someone's page",
                "<!DOCTYPE html>\n<html><head><title>x</title></head><body><meta name=\"generator\" content=\"wolkvox-import\"></body></html>",
                [false, false, false],
            ),
            ("some JSON", "{\"row\": 2, \"body\": {}}\n", [false, false, false]),
        ];
        for (name, text, want) in cases {
            let p = w(name, text);
            let got = [
                written_by_us(&p, OutputKind::Results),
                written_by_us(&p, OutputKind::Payloads),
                written_by_us(&p, OutputKind::Rejects),
            ];
            assert_eq!(got, want, "{name}");
            assert!(!written_by_us(&p, OutputKind::Report), "{name}");
        }
    }

    #[test]
    fn outputs_are_checked_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        let mapping = dir.path().join("m.toml");
        std::fs::write(&input, "a,b\n1,2\n").unwrap();
        std::fs::write(&mapping, "[fields]\n").unwrap();
        let inputs = [
            ("the input file", input.as_path()),
            ("the mapping file", mapping.as_path()),
        ];

        let e = check_outputs(
            &[out("--output", mapping.clone(), OutputKind::Results)],
            &inputs,
            true,
        )
        .unwrap_err();
        assert!(
            e.contains("--output") && e.contains("the mapping file"),
            "{e}"
        );

        let missing = dir.path().join("no/such/folder/r.csv");
        let e = check_outputs(
            &[out("--rejects", missing, OutputKind::Rejects)],
            &inputs,
            false,
        )
        .unwrap_err();
        assert!(
            e.contains("--rejects") && e.contains("does not exist"),
            "{e}"
        );
        assert!(e.contains("folder"), "{e}");

        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, "my notes\n").unwrap();
        let e = check_outputs(
            &[out("--payloads", notes.clone(), OutputKind::Payloads)],
            &inputs,
            false,
        )
        .unwrap_err();
        assert!(e.contains("notes.txt") && e.contains("--force"), "{e}");
        assert!(check_outputs(
            &[out("--payloads", notes.clone(), OutputKind::Payloads)],
            &inputs,
            true
        )
        .is_ok());

        let same = [
            out("--output", dir.path().join("x.csv"), OutputKind::Results),
            out("--rejects", dir.path().join("x.csv"), OutputKind::Rejects),
        ];
        let e = check_outputs(&same, &inputs, false).unwrap_err();
        assert!(e.contains("--output and --rejects"), "{e}");

        let e = check_outputs(
            &[out(
                "--output",
                dir.path().to_path_buf(),
                OutputKind::Results,
            )],
            &inputs,
            false,
        )
        .unwrap_err();
        assert!(e.contains("is a folder"), "{e}");

        // New files, empty files and devices are fine.
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "").unwrap();
        // Two outputs into /dev/null are fine too.
        let fine = [
            out("--output", dir.path().join("new.csv"), OutputKind::Results),
            out("--rejects", empty, OutputKind::Rejects),
            out(
                "--payloads",
                PathBuf::from("/dev/null"),
                OutputKind::Payloads,
            ),
            out("--rejects", PathBuf::from("/dev/null"), OutputKind::Rejects),
        ];
        check_outputs(&fine, &inputs, false).unwrap();
    }

    #[test]
    fn one_file_spelt_two_ways_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        // Neither exists yet: their folders decide.
        let a = dir.path().join("r.csv");
        let b = sub.join("../r.csv");
        assert!(same_file(&a, &b));
        assert!(!same_file(&a, &sub.join("r.csv")));
        std::fs::write(&a, "x").unwrap();
        assert!(same_file(&a, &b));
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert!(same_file(&a, &link));
            let hard = dir.path().join("hard");
            std::fs::hard_link(&a, &hard).unwrap();
            assert!(same_file(&hard, &b));
        }
        // Writing to a device replaces nothing, whatever the run reads.
        let dev = Path::new("/dev/null");
        if dev.exists() {
            let outs = [out("--output", dev.to_path_buf(), OutputKind::Results)];
            check_outputs(&outs, &[("the token file", dev)], false).unwrap();
        }
    }
}
