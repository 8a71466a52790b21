//! The results file (one line per data row: its outcome), the payloads file
//! and the rejects file.
//!
//! The results file is a report of one run, not its record (that is the
//! [`crate::ledger`]): rows are appended as they finish, in whatever order,
//! and when the run ends [`finalize`] rewrites the file through a temporary
//! file and an atomic rename to exactly one line per row, sorted by row.

pub use crate::outputs::has_header;
pub use crate::workbook_out::{output_kind as table_kind, OutputKind as TableKind, TableWriter};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// The results file's header, as the contract fixes it.
pub const RESULTS_HEADER: [&str; 9] = [
    "row",
    "status",
    "wolkvox_id",
    "obligation_id",
    "obligation_wolkvox_id",
    "attempts",
    "http_status",
    "api_code",
    "error",
];

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Passed validation in a dry run.
    Valid,
    /// Sent and stored by the CRM, which gave it an id.
    Created,
    /// Sent as an update (sync mode) and accepted.
    Updated,
    /// No request needed: the CRM already holds this exact body, sent by an
    /// earlier run (the ledger says so).
    Unchanged,
    /// Refused by local validation, never sent.
    Invalid,
    /// The API refused it.
    Failed,
    /// Sent, outcome unknown, reconciliation impossible.
    Uncertain,
    /// The run stopped before it was sent.
    NotSent,
}

impl Status {
    /// Every status, in the order the summary lists them.
    pub const ALL: [Status; 8] = [
        Status::Valid,
        Status::Created,
        Status::Updated,
        Status::Unchanged,
        Status::Invalid,
        Status::Failed,
        Status::Uncertain,
        Status::NotSent,
    ];

    /// The status as the results file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
            Status::Uncertain => "uncertain",
            Status::NotSent => "not_sent",
        }
    }

    /// The row ended as the user wanted.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Status::Valid | Status::Created | Status::Updated | Status::Unchanged
        )
    }

    /// The status named as the results file spells it.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// One line of the results file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The row number a person sees in a spreadsheet program.
    pub row: u64,
    /// How the row ended.
    pub status: Status,
    /// The collections record the row names, as mapped.
    pub wolkvox_id: String,
    /// The obligation's own number (`id`), as mapped.
    pub obligation_id: String,
    /// The id the API returned for the obligation; empty otherwise.
    pub obligation_wolkvox_id: String,
    /// Requests made for this row.
    pub attempts: u32,
    /// The HTTP status of the last answer, when a request was made.
    pub http_status: Option<u16>,
    /// The `code` of the last answer's JSON, when it had one.
    pub api_code: Option<String>,
    /// Why the row did not end well, in words a person can act on; empty otherwise.
    pub error: String,
    /// What kind of problem a failed or uncertain row met, as data (the
    /// report groups by it); not a column of the file.
    #[serde(skip)]
    pub kind: Option<crate::problem::Kind>,
}

impl Outcome {
    /// An outcome with no request made and no error.
    pub fn new(row: u64, status: Status, wolkvox_id: &str, obligation_id: &str) -> Outcome {
        Outcome {
            row,
            status,
            wolkvox_id: wolkvox_id.to_string(),
            obligation_id: obligation_id.to_string(),
            obligation_wolkvox_id: String::new(),
            attempts: 0,
            http_status: None,
            api_code: None,
            error: String::new(),
            kind: None,
        }
    }

    /// [`Outcome::new`] taking the ids by value.
    pub fn with_ids(
        row: u64,
        status: Status,
        wolkvox_id: String,
        obligation_id: String,
    ) -> Outcome {
        Outcome {
            row,
            status,
            wolkvox_id,
            obligation_id,
            obligation_wolkvox_id: String::new(),
            attempts: 0,
            http_status: None,
            api_code: None,
            error: String::new(),
            kind: None,
        }
    }

    /// The same outcome with `error` as its reason.
    pub fn with_error(mut self, error: impl Into<String>) -> Outcome {
        self.error = error.into();
        self
    }

    /// The outcome with the kind of problem it met.
    pub fn with_kind(mut self, kind: crate::problem::Kind) -> Outcome {
        self.kind = Some(kind);
        self
    }
}

impl Outcome {
    /// The outcome as the line it makes in the results file.
    pub fn line(&self) -> Line<'_> {
        Line {
            row: self.row,
            status: self.status,
            wolkvox_id: &self.wolkvox_id,
            obligation_id: &self.obligation_id,
            obligation_wolkvox_id: &self.obligation_wolkvox_id,
            attempts: self.attempts,
            http_status: self.http_status,
            api_code: self.api_code.as_deref(),
            error: &self.error,
            kind: self.kind,
        }
    }
}

/// One line of the results file, borrowing its text: what a row that ends
/// without a request (most rows of a dry run or of a nightly sync) needs,
/// with nothing to allocate. The fields are [`Outcome`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// See [`Outcome::row`].
    pub row: u64,
    /// See [`Outcome::status`].
    pub status: Status,
    /// See [`Outcome::wolkvox_id`].
    pub wolkvox_id: &'a str,
    /// See [`Outcome::obligation_id`].
    pub obligation_id: &'a str,
    /// See [`Outcome::obligation_wolkvox_id`].
    pub obligation_wolkvox_id: &'a str,
    /// See [`Outcome::attempts`].
    pub attempts: u32,
    /// See [`Outcome::http_status`].
    pub http_status: Option<u16>,
    /// See [`Outcome::api_code`].
    pub api_code: Option<&'a str>,
    /// See [`Outcome::error`].
    pub error: &'a str,
    /// [`Outcome::kind`].
    pub kind: Option<crate::problem::Kind>,
}

impl<'a> Line<'a> {
    /// A line with no request made and no error.
    pub fn new(row: u64, status: Status, wolkvox_id: &'a str, obligation_id: &'a str) -> Line<'a> {
        Line {
            row,
            status,
            wolkvox_id,
            obligation_id,
            obligation_wolkvox_id: "",
            attempts: 0,
            http_status: None,
            api_code: None,
            error: "",
            kind: None,
        }
    }
}

/// A file-level failure while writing one of our outputs.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OutputError {
    /// The file that could not be written.
    pub path: PathBuf,
    /// What went wrong, as the system said it.
    pub message: String,
}

impl OutputError {
    /// The failure `e` while writing `path`.
    pub fn new(path: &Path, e: impl std::fmt::Display) -> OutputError {
        let mut message = e.to_string();
        // The system says only "File too large": say which limit. Only for
        // that error (the errors passed here are io's, csv's or ours, so it
        // is known by the system's words for it), not for any error on a
        // file that happens to be near the limit.
        if says_file_too_large(&message) {
            if let Some(limit) = crate::ledger::file::size_limit_reached(&[path.to_path_buf()]) {
                message.push_str(": ");
                message.push_str(&crate::tr!("file-size-limit", limit = limit.to_string()));
            }
        }
        OutputError {
            path: path.to_path_buf(),
            message,
        }
    }
}

/// True when an error's text holds the system's "File too large" (EFBIG).
fn says_file_too_large(message: &str) -> bool {
    #[cfg(unix)]
    {
        message.contains(&std::io::Error::from_raw_os_error(libc::EFBIG).to_string())
    }
    #[cfg(not(unix))]
    {
        let _ = message;
        false
    }
}

/// Appends outcomes to the results file as rows finish.
pub struct Journal {
    /// The CSV being written: the results file, or the journal of a
    /// results workbook.
    path: PathBuf,
    /// The results workbook the CSV becomes when the run ends.
    workbook: Option<PathBuf>,
    /// The lines are written by hand ([`push_csv_field`]): the csv crate's
    /// writer was a tenth of a dry run.
    out: BufWriter<File>,
    line: Vec<u8>,
    last_row: u64,
    in_order: bool,
    written: u64,
}

impl Journal {
    /// Starts a new results file (truncating any old one).
    pub fn create(path: &Path) -> Result<Journal, OutputError> {
        let (workbook, path) = workbook_journal(path)?;
        let path = path.as_path();
        let file = File::create(path).map_err(|e| OutputError::new(path, e))?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        out.write_all(RESULTS_HEADER.join(",").as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .map_err(|e| OutputError::new(path, e))?;
        let mut j = Journal {
            path: path.to_path_buf(),
            workbook,
            out,
            line: Vec::with_capacity(256),
            last_row: 0,
            in_order: true,
            written: 0,
        };
        j.flush()?;
        Ok(j)
    }

    /// The CSV being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an outcome's line.
    pub fn record(&mut self, o: &Outcome) -> Result<(), OutputError> {
        self.write_line(&o.line())
    }

    /// Appends one line; lines may come in any order (see [`finalize`]).
    pub fn write_line(&mut self, o: &Line<'_>) -> Result<(), OutputError> {
        if o.row <= self.last_row {
            self.in_order = false;
        }
        self.last_row = o.row;
        self.written += 1;
        let mut row_buf = [0u8; 20];
        let mut attempts_buf = [0u8; 20];
        let mut http_buf = [0u8; 20];
        let http = match o.http_status {
            Some(h) => decimal(u64::from(h), &mut http_buf),
            None => b"",
        };
        let fields: [&[u8]; 9] = [
            decimal(o.row, &mut row_buf),
            o.status.as_str().as_bytes(),
            o.wolkvox_id.as_bytes(),
            o.obligation_id.as_bytes(),
            o.obligation_wolkvox_id.as_bytes(),
            decimal(u64::from(o.attempts), &mut attempts_buf),
            http,
            o.api_code.unwrap_or("").as_bytes(),
            o.error.as_bytes(),
        ];
        let line = &mut self.line;
        line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_csv_field(line, f);
        }
        line.push(b'\n');
        self.out
            .write_all(line)
            .map_err(|e| OutputError::new(&self.path, e))
    }

    /// Hands what is buffered to the operating system.
    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.out
            .flush()
            .map_err(|e| OutputError::new(&self.path, e))
    }

    /// Flushes, syncs and, unless the journal was written in row order with
    /// one line per row, rewrites it sorted.
    pub fn finish(mut self) -> Result<(), OutputError> {
        self.flush()?;
        let path = self.path.clone();
        let in_order = self.in_order;
        let file = self
            .out
            .into_inner()
            .map_err(|e| OutputError::new(&path, e.error()))?;
        file.sync_all().map_err(|e| OutputError::new(&path, e))?;
        drop(file);
        if !in_order {
            finalize(&path)?;
        }
        if let Some(xlsx) = &self.workbook {
            crate::workbook_out::results_csv_to_xlsx(&path, xlsx)?;
            std::fs::remove_file(&path).map_err(|e| OutputError::new(&path, e))?;
        }
        Ok(())
    }
}

/// For results named `.xlsx`, the workbook and the CSV journal written until
/// the run ends; otherwise no workbook and the results path itself.
fn workbook_journal(path: &Path) -> Result<(Option<PathBuf>, PathBuf), OutputError> {
    use crate::workbook_out::{journal_path, output_kind, OutputKind};
    match output_kind("--output", path).map_err(|e| OutputError::new(path, e))? {
        OutputKind::Workbook => Ok((Some(path.to_path_buf()), journal_path(path))),
        OutputKind::Csv => Ok((None, path.to_path_buf())),
    }
}

/// How many rows of an earlier results file ended `created`, `updated` or
/// `uncertain`: requests the CRM may hold. 0 when `path` is not a results
/// file this tool wrote (or there is none). A results workbook counts with
/// the journal a stopped run may have left beside it.
pub fn rows_sent_in(path: &Path) -> u64 {
    use crate::outputs::{written_by_us, OutputKind};
    let sent = |status: &str| {
        matches!(
            Status::parse(status),
            Some(Status::Created | Status::Updated | Status::Uncertain)
        )
    };
    let in_csv = |p: &Path| -> u64 {
        if !written_by_us(p, OutputKind::Results) {
            return 0;
        }
        let Ok(mut rdr) = csv::ReaderBuilder::new().flexible(true).from_path(p) else {
            return 0;
        };
        let mut rec = csv::StringRecord::new();
        let mut n = 0;
        while let Ok(true) = rdr.read_record(&mut rec) {
            n += u64::from(rec.get(1).is_some_and(sent));
        }
        n
    };
    match table_kind("--output", path) {
        Ok(TableKind::Workbook) => {
            let in_workbook = if written_by_us(path, OutputKind::Results) {
                // calamine may panic on a malformed file; that counts nothing.
                std::panic::catch_unwind(|| crate::workbook_out::count_in_column(path, 1, sent))
                    .unwrap_or(0)
            } else {
                0
            };
            in_workbook.max(in_csv(&crate::workbook_out::journal_path(path)))
        }
        _ => in_csv(path),
    }
}

/// Appends a field as the csv crate's writer spells it (quotes only when
/// needed, `"` doubled), so that the results read the same either way.
pub(crate) fn push_csv_field(line: &mut Vec<u8>, field: &[u8]) {
    if !field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        line.extend_from_slice(field);
        return;
    }
    line.push(b'"');
    for part in field.split_inclusive(|&b| b == b'"') {
        line.extend_from_slice(part);
        if part.ends_with(b"\"") {
            line.push(b'"');
        }
    }
    line.push(b'"');
}

/// Writes `n` in decimal into `buf`, without allocating (a results line is
/// written per row).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Length of the file up to the end of its last complete line, so that a line
/// torn by a crash is dropped rather than read as garbage.
fn valid_prefix_len(path: &Path) -> Result<u64, OutputError> {
    use std::io::{Read, SeekFrom};
    // Streamed: a results file of a million rows is a hundred megabytes.
    // A record may hold quoted line breaks, so the end of the last complete
    // record is found by parsing; every line the journal writes ends in a
    // line break, so a last record without one was torn by a crash.
    let mut file = File::open(path).map_err(|e| OutputError::new(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| OutputError::new(path, e))?
        .len();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::new(&mut file));
    let mut rec = csv::ByteRecord::new();
    let (mut prev, mut end) = (0u64, 0u64);
    while let Ok(true) = rdr.read_byte_record(&mut rec) {
        if rec.len() == RESULTS_HEADER.len() {
            prev = end;
            end = rdr.position().byte();
        }
    }
    drop(rdr);
    if end == len && len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))
            .map_err(|e| OutputError::new(path, e))?;
        file.read_exact(&mut last)
            .map_err(|e| OutputError::new(path, e))?;
        if last[0] != b'\n' {
            end = prev;
        }
    }
    Ok(end)
}

/// Reads a results file, tolerating a torn last line.
#[cfg(test)]
fn read_results(path: &Path) -> Result<Vec<Outcome>, OutputError> {
    let mut out: Vec<Outcome> = Vec::new();
    for_each_result(path, |o| out.push(o))?;
    Ok(out)
}

/// Calls `f` with each line of a results file in order, without holding
/// the file in memory; a torn last line is left out.
#[cfg(test)]
fn for_each_result(path: &Path, mut f: impl FnMut(Outcome)) -> Result<(), OutputError> {
    let valid = valid_prefix_len(path)?;
    let file = File::open(path).map_err(|e| OutputError::new(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::new(std::io::Read::take(file, valid)));
    let headers = rdr
        .headers()
        .map_err(|e| OutputError::new(path, e))?
        .clone();
    if headers.iter().collect::<Vec<_>>() != RESULTS_HEADER {
        return Err(OutputError::new(
            path,
            "this is not a results file of wolkvox-import (its header differs)",
        ));
    }
    for rec in rdr.deserialize::<Outcome>() {
        f(rec.map_err(|e| OutputError::new(path, e))?);
    }
    Ok(())
}

/// Rewrites a journal as the contract's results file: one line per row (its
/// last outcome), sorted by row, replaced atomically. Memory holds only an
/// index of (row, offset) pairs, not the lines.
pub fn finalize(path: &Path) -> Result<(), OutputError> {
    let index = last_line_per_row(path)?;
    let tmp = tmp_path(path);
    write_sorted(path, &tmp, &index)?;
    std::fs::rename(&tmp, path).map_err(|e| OutputError::new(path, e))?;
    Ok(())
}

/// `(row, byte offset)` of each row's last line in the journal at `path`,
/// by row.
fn last_line_per_row(path: &Path) -> Result<Vec<(u64, u64)>, OutputError> {
    let valid = valid_prefix_len(path)?;
    let file = File::open(path).map_err(|e| OutputError::new(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(std::io::Read::take(file, valid));
    let mut rec = csv::ByteRecord::new();
    let mut index: Vec<(u64, u64)> = Vec::new();
    let mut first = true;
    loop {
        let pos = rdr.position().clone();
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(OutputError::new(path, e)),
        }
        if first {
            first = false;
            continue;
        }
        let row: u64 = std::str::from_utf8(rec.get(0).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                OutputError::new(
                    path,
                    format!("a line near byte {} has no row number", pos.byte()),
                )
            })?;
        index.push((row, pos.byte()));
    }
    // Stable sort keeps each row's lines in journal order; the last one wins.
    index.sort_by_key(|&(row, _)| row);
    index.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            *earlier = *later;
            true
        } else {
            false
        }
    });
    Ok(index)
}

/// Writes to `tmp`, synced, the header and the journal's lines at the
/// offsets of `index`, in its order.
fn write_sorted(path: &Path, tmp: &Path, index: &[(u64, u64)]) -> Result<(), OutputError> {
    let out = File::create(tmp).map_err(|e| OutputError::new(tmp, e))?;
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(BufWriter::with_capacity(64 * 1024, out));
    w.write_record(RESULTS_HEADER)
        .map_err(|e| OutputError::new(tmp, e))?;
    let src = File::open(path).map_err(|e| OutputError::new(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(src);
    let mut rec = csv::ByteRecord::new();
    for (_, offset) in index {
        let mut pos = csv::Position::new();
        pos.set_byte(*offset);
        rdr.seek(pos).map_err(|e| OutputError::new(path, e))?;
        if !rdr
            .read_byte_record(&mut rec)
            .map_err(|e| OutputError::new(path, e))?
        {
            return Err(OutputError::new(
                path,
                "the journal changed while it was being sorted",
            ));
        }
        w.write_byte_record(&rec)
            .map_err(|e| OutputError::new(tmp, e))?;
    }
    let out = w
        .into_inner()
        .map_err(|e| OutputError::new(tmp, e.error()))?;
    let out = out
        .into_inner()
        .map_err(|e| OutputError::new(tmp, e.error()))?;
    out.sync_all().map_err(|e| OutputError::new(tmp, e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// The header of `--vanished`: obligations the ledger knows that the file no
/// longer lists.
pub const VANISHED_HEADER: [&str; 6] = [
    "wolkvox_id",
    "obligation_id",
    "obligation_wolkvox_id",
    "created_at",
    "updated_at",
    "last_seen_at",
];

/// Writes `--vanished`: CSV, or a workbook for a name ending in `.xlsx`.
pub fn write_vanished(
    path: &Path,
    rows: &[crate::ledger::ObligationRow],
) -> Result<(), OutputError> {
    use crate::ledger::format_time;
    let kind = table_kind("--vanished", path).map_err(|e| OutputError::new(path, e))?;
    let mut w = TableWriter::create(path, kind, "vanished", &VANISHED_HEADER)?;
    for r in rows {
        w.write(&[
            r.wolkvox_id.as_str(),
            &r.obligation_id,
            &r.crm_id,
            &format_time(r.created_at),
            &format_time(r.updated_at),
            &r.last_seen_at.map(format_time).unwrap_or_default(),
        ])?;
    }
    w.finish()
}

/// `--payloads`: one JSON line per row that is (or would be) sent.
pub struct PayloadWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl PayloadWriter {
    /// Starts a new payloads file (truncating any old one); a workbook name is refused.
    pub fn create(path: &Path) -> Result<PayloadWriter, OutputError> {
        crate::workbook_out::refuse_workbook_name("--payloads", path, "JSON Lines")
            .map_err(|e| OutputError::new(path, e))?;
        let f = File::create(path).map_err(|e| OutputError::new(path, e))?;
        Ok(PayloadWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(64 * 1024, f),
        })
    }

    /// `body` is already JSON; it is written as it will be sent.
    pub fn write(&mut self, row: u64, body: &str) -> Result<(), OutputError> {
        let mut buf = [0u8; 20];
        let row = decimal(row, &mut buf);
        [b"{\"row\":", row, b",\"body\":", body.as_bytes(), b"}\n"]
            .iter()
            .try_for_each(|part| self.out.write_all(part))
            .map_err(|e| OutputError::new(&self.path, e))
    }

    /// Writes what is buffered; the file is complete.
    pub fn finish(mut self) -> Result<(), OutputError> {
        self.out
            .flush()
            .map_err(|e| OutputError::new(&self.path, e))
    }
}

/// `--rejects`: the rows that did not end well, as the input spelled them,
/// in a CSV the same mapping can read back once the rows are fixed.
pub struct RejectsWriter {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
    encoding: &'static encoding_rs::Encoding,
    scratch: Vec<Vec<u8>>,
}

/// The rejects file's last column: `error`, or `import_error` when the input
/// already has a column called error.
pub fn rejects_error_column(header: &[String]) -> &'static str {
    if header
        .iter()
        .any(|h| h.trim().eq_ignore_ascii_case("error"))
    {
        "import_error"
    } else {
        "error"
    }
}

/// True for the error column a rejects file ends with, which a fixed rejects
/// file carries back in: it is never sent to the CRM.
pub fn is_rejects_error_column(header: &[String], index: usize) -> bool {
    index + 1 == header.len() && matches!(header[index].as_str(), "error" | "import_error")
}

/// The column a workbook of rejects gives each row's number in the input,
/// before the error: `row`, or `import_row` when the input has a `row`.
pub fn rejects_row_column(header: &[String]) -> &'static str {
    if header.iter().any(|h| h.trim().eq_ignore_ascii_case("row")) {
        "import_row"
    } else {
        "row"
    }
}

/// True for the row-number column of a rejects workbook read back: it
/// stands just before the error column and is never sent to the CRM.
pub fn is_rejects_row_column(header: &[String], index: usize) -> bool {
    index + 2 == header.len()
        && is_rejects_error_column(header, index + 1)
        && matches!(header[index].as_str(), "row" | "import_row")
}

impl RejectsWriter {
    /// `leading_blank_rows` keeps an explicit `header_row` pointing at the header.
    pub fn create(
        path: &Path,
        header: &[String],
        delimiter: u8,
        encoding: &'static encoding_rs::Encoding,
        bom: bool,
        leading_blank_rows: u64,
    ) -> Result<RejectsWriter, OutputError> {
        let f = File::create(path).map_err(|e| OutputError::new(path, e))?;
        let mut buf = BufWriter::new(f);
        if bom && encoding == encoding_rs::UTF_8 {
            buf.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| OutputError::new(path, e))?;
        }
        for _ in 0..leading_blank_rows {
            buf.write_all(b"\r\n")
                .map_err(|e| OutputError::new(path, e))?;
        }
        let writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .has_headers(false)
            .from_writer(buf);
        let mut w = RejectsWriter {
            path: path.to_path_buf(),
            writer,
            encoding,
            scratch: Vec::new(),
        };
        let mut cells: Vec<String> = header.to_vec();
        cells.push(rejects_error_column(header).into());
        w.write_cells(&cells)?;
        Ok(w)
    }

    /// Appends a row's cells as the input spelled them, and why it did not end well.
    pub fn write(&mut self, cells: &[String], error: &str) -> Result<(), OutputError> {
        let mut all: Vec<String> = cells.to_vec();
        all.push(error.to_string());
        self.write_cells(&all)
    }

    fn write_cells(&mut self, cells: &[String]) -> Result<(), OutputError> {
        self.scratch.clear();
        for c in cells {
            let (bytes, _, _) = self.encoding.encode(c);
            self.scratch.push(bytes.into_owned());
        }
        self.writer
            .write_record(&self.scratch)
            .map_err(|e| OutputError::new(&self.path, e))
    }

    /// Writes what is buffered; the file is complete.
    pub fn finish(mut self) -> Result<(), OutputError> {
        self.writer
            .flush()
            .map_err(|e| OutputError::new(&self.path, e))
    }
}

#[cfg(test)]
mod csv_field_tests {
    proptest::proptest! {
        #[test]
        fn fields_are_spelled_as_the_csv_crate_spells_them(
            fields in proptest::collection::vec("[a-z ,\"\r\n;'é]{0,6}", 2..5)
        ) {
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            w.write_record(&fields).unwrap();
            let theirs = w.into_inner().unwrap();
            let mut ours = Vec::new();
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    ours.push(b',');
                }
                super::push_csv_field(&mut ours, f.as_bytes());
            }
            ours.push(b'\n');
            proptest::prop_assert_eq!(ours, theirs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(row: u64, status: Status) -> Outcome {
        Outcome::new(row, status, "R1", &format!("OB{row}"))
    }

    #[test]
    fn journal_in_order_needs_no_rewrite_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let mut j = Journal::create(&p).unwrap();
        j.record(&outcome(2, Status::Valid)).unwrap();
        j.record(&outcome(3, Status::Invalid).with_error("column \"X\" is empty"))
            .unwrap();
        j.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("row,status,wolkvox_id,obligation_id,obligation_wolkvox_id,attempts,http_status,api_code,error\n"));
        let back = read_results(&p).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].error, "column \"X\" is empty");
        assert_eq!(back[1].status, Status::Invalid);
    }

    #[test]
    fn decimals_without_allocation() {
        let mut b = [0u8; 20];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(1_234_567, &mut b), b"1234567");
        assert_eq!(decimal(u64::MAX, &mut b), b"18446744073709551615");
    }

    #[test]
    fn finalize_sorts_and_keeps_the_last_line_per_row() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        let mut j = Journal::create(&p).unwrap();
        j.record(&outcome(5, Status::Created)).unwrap();
        j.record(&outcome(2, Status::Uncertain)).unwrap();
        j.record(&outcome(3, Status::Failed).with_error("line\nbreak"))
            .unwrap();
        j.record(&outcome(2, Status::Created)).unwrap();
        j.finish().unwrap();
        let back = read_results(&p).unwrap();
        let rows: Vec<(u64, Status)> = back.iter().map(|o| (o.row, o.status)).collect();
        assert_eq!(
            rows,
            vec![
                (2, Status::Created),
                (3, Status::Failed),
                (5, Status::Created)
            ]
        );
        assert_eq!(back[1].error, "line\nbreak");
    }

    #[test]
    fn rejects_use_the_inputs_encoding_and_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rej.csv");
        let header = vec!["Nro Obligación".to_string(), "Saldo".to_string()];
        let mut w =
            RejectsWriter::create(&p, &header, b';', encoding_rs::WINDOWS_1252, false, 0).unwrap();
        w.write(&["A1".into(), "1.234,5x".into()], "column \"Saldo\": bad")
            .unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
        assert_eq!(
            text,
            "Nro Obligación;Saldo;error\r\nA1;1.234,5x;\"column \"\"Saldo\"\": bad\"\r\n"
        );
        assert!(bytes.contains(&0xF3), "ó is one byte in windows-1252");
    }
}
