//! CSV in whatever shape banks export it: any of four delimiters, UTF-8 or
//! a legacy encoding, CRLF or LF, quoted fields with line breaks inside.
//!
//! The file is parsed on a thread of its own, beside the mapping. It fills
//! batches of rows and the reader hands each batch back once read, to be
//! filled again: the records' buffers are reused, and always freed by the
//! thread that made them, never across threads (which costs glibc's
//! allocator dearly).

use super::{open_error, Row, SourceError, SourceOptions};
use crate::batches::{self, Consumer, Producer};
use crate::problem::{Kind, Problem};
use crate::tr;
use encoding_rs::Encoding;
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use std::fs::File;
use std::io::{Chain, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Rows parsed into one batch.
const BATCH_ROWS: usize = 512;
/// Batches parsed ahead of the reader, at most.
const BATCHES_AHEAD: usize = 3;

/// Bytes looked at to detect the delimiter and check the encoding.
const SNIFF_BYTES: usize = 64 * 1024;

/// How the CSV was read, for `inspect` and messages.
#[derive(Debug, Clone)]
pub struct CsvInfo {
    /// The field delimiter.
    pub delimiter: u8,
    /// The delimiter was detected rather than set in the mapping.
    pub delimiter_detected: bool,
    /// WHATWG name of the encoding used.
    pub encoding: &'static str,
    /// The byte-order mark the file starts with, by encoding name.
    pub bom: Option<&'static str>,
    /// Rows the file probably has: its size over the average line length of
    /// its first 64 KiB. Only a hint for sizing tables up front.
    pub estimated_rows: u64,
}

/// The file, decoded to UTF-8 as it is read.
type Decoded = DecodeReaderBytes<Fingerprinting, Vec<u8>>;

type Input = Chain<Cursor<Vec<u8>>, Decoded>;

/// The longest row accepted, in bytes.
pub const MAX_ROW_BYTES: u64 = 8 * 1024 * 1024;

/// Bytes read from the file at a time.
const READ_BYTES: usize = 256 * 1024;

pub(super) struct CsvReader {
    info: CsvInfo,
    fingerprint: Arc<OnceLock<u64>>,
    /// Batches of parsed rows from the parsing thread.
    parsed: Consumer<Row, SourceError>,
}

/// The parsing side, owned by its thread.
///
/// A line with no quote and no carriage return but at its end, which is
/// nearly every line a bank exports, is split at its delimiters directly;
/// any other record goes through `csv_core`, the csv crate's own parser,
/// with the same settings, so the rows are those the csv crate reads. The
/// short way was a fifth of a dry run's time less.
struct Parser {
    path: PathBuf,
    /// The mapping's section the reading options come from, for messages.
    section: String,
    input: Input,
    delimiter: u8,
    /// Bytes read and not yet parsed: `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// Bytes parsed before `buf[start]`.
    parsed: u64,
    /// Line breaks parsed so far.
    breaks: u64,
    /// The last byte parsed was a line feed.
    after_newline: bool,
    /// `"` bytes read: an odd count at the end means a quote never closed.
    quotes: u64,
    /// Line breaks seen inside quoted fields so far: a CSV row is a record,
    /// not a line, so these are taken off the line count.
    embedded_newlines: u64,
    core: ::csv_core::Reader,
    /// A record read by `csv_core`: its fields' bytes and where each ends.
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The record after the last one put in a batch: one record of
    /// look-ahead tells whether a row is the last, which the check for a
    /// quote never closed needs.
    ahead: Row,
    state: Ahead,
    /// The single-byte encoding the mapping forces on a file with no BOM:
    /// a record that is UTF-8 all the same is refused rather than garbled.
    forced: Option<&'static Encoding>,
    /// A record's bytes as the file had them, rebuilt to check them.
    raw: Vec<u8>,
}

enum Ahead {
    /// `ahead` holds the next row.
    Row,
    End,
    Error(SourceError),
}

/// The input file as the decoder reads it, hashed on the way: the input's
/// fingerprint (xxh3 of its bytes, as `file_fingerprint` computes it) costs
/// no second read of the file.
pub(super) struct Fingerprinting {
    file: File,
    hasher: xxhash_rust::xxh3::Xxh3,
    /// Set at the end of the file.
    done: Arc<OnceLock<u64>>,
}

impl Read for Fingerprinting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        if n == 0 {
            let _ = self.done.set(self.hasher.digest());
        } else {
            self.hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

impl CsvReader {
    pub(super) fn open(path: &Path, opts: &SourceOptions) -> Result<CsvReader, SourceError> {
        let file = File::open(path).map_err(|e| SourceError::new(path, open_error(&e)))?;
        let bom = read_bom(path)?;
        if let (None, Some(forced)) = (bom, opts.encoding) {
            if let Some(msg) = utf8_under_single_byte(path, forced, opts.section())? {
                return Err(SourceError::new(path, msg));
            }
        }
        let encoding = match (bom, opts.encoding) {
            (Some("UTF-16LE"), _) => encoding_rs::UTF_16LE,
            (Some("UTF-16BE"), _) => encoding_rs::UTF_16BE,
            (Some(_), _) => encoding_rs::UTF_8,
            (None, Some(e)) => e,
            (None, None) => encoding_rs::UTF_8,
        };
        let fingerprint = Arc::new(OnceLock::new());
        let file = Fingerprinting {
            file,
            hasher: xxhash_rust::xxh3::Xxh3::new(),
            done: fingerprint.clone(),
        };
        let (head, decoded) = sniff(path, file, encoding, opts.section())?;
        let (delimiter, detected) = match opts.delimiter {
            Some(d) => (d, false),
            None => (detect_delimiter(&head, opts.header_row), true),
        };
        let info = CsvInfo {
            delimiter,
            delimiter_detected: detected,
            encoding: encoding.name(),
            bom,
            estimated_rows: estimate_rows(path, &head),
        };
        let input = Cursor::new(head).chain(decoded);
        let mut parser = Parser::new(path, input, delimiter, opts.section());
        parser.forced = Some(encoding).filter(|e| bom.is_none() && e.is_single_byte());
        let parsed = parser.spawn().map_err(|e| SourceError::new(path, e))?;
        Ok(CsvReader {
            info,
            fingerprint,
            parsed,
        })
    }

    pub(super) fn info(&self) -> &CsvInfo {
        &self.info
    }

    /// The file's fingerprint, set once every byte of it has been read.
    pub(super) fn fingerprint(&self) -> Arc<OnceLock<u64>> {
        self.fingerprint.clone()
    }

    pub(super) fn current_mut(&mut self) -> &mut Row {
        self.parsed.current_mut()
    }

    pub(super) fn next_row(&mut self) -> Result<Option<&Row>, SourceError> {
        Ok(self.parsed.advance()?.then(|| self.parsed.current()))
    }
}

/// The byte-order mark the file starts with, if any, by its encoding.
fn read_bom(path: &Path) -> Result<Option<&'static str>, SourceError> {
    let mut prefix = [0u8; 4];
    let mut f = File::open(path).map_err(|e| SourceError::new(path, e))?;
    let n = f.read(&mut prefix).unwrap_or(0);
    Ok(match &prefix[..n] {
        [0xEF, 0xBB, 0xBF, ..] => Some("UTF-8"),
        [0xFF, 0xFE, ..] => Some("UTF-16LE"),
        [0xFE, 0xFF, ..] => Some("UTF-16BE"),
        _ => None,
    })
}

/// The file decoded from `encoding`, and its first [`SNIFF_BYTES`] read
/// already (to detect the delimiter and check the encoding): UTF-8 that is
/// not is refused here, naming the row.
fn sniff(
    path: &Path,
    file: Fingerprinting,
    encoding: &'static Encoding,
    section: &str,
) -> Result<(Vec<u8>, Decoded), SourceError> {
    // UTF-8 passes through untouched (invalid bytes included) so that we
    // can point at the row that holds them; anything else is transcoded.
    // UTF-8 is given as no encoding: only then does the decoder pass the
    // bytes through untouched instead of replacing invalid ones.
    let mut decoded = DecodeReaderBytesBuilder::new()
        .encoding((encoding != encoding_rs::UTF_8).then_some(encoding))
        .bom_override(true)
        .strip_bom(true)
        .utf8_passthru(true)
        .build(file);
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut decoded)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| SourceError::new(path, e))?;
    if encoding == encoding_rs::UTF_8 {
        if let Err(e) = std::str::from_utf8(&head) {
            // A character cut at the end of the sniffed prefix is fine.
            if e.error_len().is_some() {
                let row = row_of_offset(&head, e.valid_up_to());
                return Err(invalid_utf8(path, row, section));
            }
        }
    }
    Ok((head, decoded))
}

/// The file's size over the average line length of `head`, its start.
fn estimate_rows(path: &Path, head: &[u8]) -> u64 {
    let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let lines_in_head = memchr::memchr_iter(b'\n', head).count().max(1) as u64;
    if head.is_empty() {
        0
    } else {
        file_len / (head.len() as u64 / lines_in_head).max(1)
    }
}

impl Parser {
    fn new(path: &Path, input: Input, delimiter: u8, section: &str) -> Parser {
        Parser {
            path: path.to_path_buf(),
            section: section.to_string(),
            input,
            delimiter,
            buf: vec![0; READ_BYTES],
            start: 0,
            end: 0,
            eof: false,
            parsed: 0,
            breaks: 0,
            after_newline: false,
            quotes: 0,
            embedded_newlines: 0,
            // The settings of the csv crate's reader, but for the delimiter.
            core: ::csv_core::ReaderBuilder::new()
                .delimiter(delimiter)
                .build(),
            out: vec![0; 1024],
            ends: vec![0; 64],
            ahead: Row::text_row(),
            state: Ahead::End,
            forced: None,
            raw: Vec::new(),
        }
    }

    /// Parses on a thread of its own; returns where its batches come, and
    /// where they go back to be filled again.
    fn spawn(mut self) -> std::io::Result<Consumer<Row, SourceError>> {
        let (mut tx, parsed) = batches::channel(BATCHES_AHEAD, BATCH_ROWS);
        std::thread::Builder::new()
            .name("csv-reader".into())
            .spawn(move || {
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(&mut tx)));
                if result.is_err() {
                    let msg = tr!("csv-reader-failed");
                    tx.fail(SourceError::new(&self.path, msg));
                }
            })?;
        Ok(parsed)
    }
}

impl Parser {
    /// Parses the whole file into batches, until the end, an error, or the
    /// reader going away.
    fn run(&mut self, tx: &mut Producer<Row, SourceError>) {
        self.state = self.read_ahead();
        while let Some(mut batch) = tx.take() {
            let n = self.fill(&mut batch);
            if !tx.send(batch, n) {
                return;
            }
            match std::mem::replace(&mut self.state, Ahead::End) {
                Ahead::Row => self.state = Ahead::Row,
                Ahead::End => return,
                Ahead::Error(e) => return tx.fail(e),
            }
        }
    }

    /// Fills `batch` with up to `BATCH_ROWS` rows, reusing the rows it holds;
    /// returns how many.
    fn fill(&mut self, batch: &mut Vec<Row>) -> usize {
        let mut n = 0;
        while n < BATCH_ROWS && matches!(self.state, Ahead::Row) {
            if batch.len() == n {
                batch.push(Row::text_row());
            }
            let row = &mut batch[n];
            // The row read ahead takes the slot; the slot's buffers take the
            // next record.
            std::mem::swap(row, &mut self.ahead);
            let ascii = check_utf8(row, self.delimiter, &self.section);
            if let (Some(forced), false) = (self.forced, ascii) {
                check_not_utf8(row, forced, &mut self.raw, &self.section);
            }
            self.state = self.read_ahead();
            if matches!(self.state, Ahead::End) {
                self.check_last(row);
            }
            n += 1;
        }
        n
    }

    fn read_ahead(&mut self) -> Ahead {
        let mut row = std::mem::take(&mut self.ahead);
        let state = match self.read_record(&mut row) {
            Ok(true) => {
                row.problem = None;
                Ahead::Row
            }
            Ok(false) => Ahead::End,
            Err(e) => Ahead::Error(e),
        };
        self.ahead = row;
        state
    }

    /// Reads the next record into `row` (its text and number); false at the
    /// end of the file.
    ///
    /// Between records `csv_core` is always as at the start of one (its
    /// states after a record, `EndRecord` and `CRLF`, read every byte as
    /// `StartRecord` does), so either way may read the next.
    fn read_record(&mut self, row: &mut Row) -> Result<bool, SourceError> {
        if let Some(read) = self.read_plain_line(row)? {
            return Ok(read);
        }
        self.read_quoted(row)
    }

    /// The short way: the next record when it is a plain line, split at its
    /// delimiters. `None` when the next line is not plain.
    fn read_plain_line(&mut self, row: &mut Row) -> Result<Option<bool>, SourceError> {
        loop {
            let newline = loop {
                match memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                    Some(i) => break Some(i),
                    None if self.eof => break None,
                    // Too long to be a plain line: the long way says so.
                    None if (self.end - self.start) as u64 > MAX_ROW_BYTES => return Ok(None),
                    None => self.read_more()?,
                }
            };
            let len = newline.unwrap_or(self.end - self.start);
            if len == 0 && newline.is_none() {
                return Ok(Some(false));
            }
            let line = &self.buf[self.start..self.start + len];
            let text = line.strip_suffix(b"\r").unwrap_or(line);
            if memchr::memchr2(b'"', b'\r', text).is_some() {
                return Ok(None);
            }
            let number = (1 + self.breaks).saturating_sub(self.embedded_newlines);
            let blank = text.is_empty();
            if !blank {
                row.set_text(text, self.delimiter);
                row.number = number;
            }
            let used = len + usize::from(newline.is_some());
            self.start += used;
            self.parsed += used as u64;
            self.breaks += u64::from(newline.is_some());
            self.after_newline = newline.is_some();
            // A blank line is no record: csv_core skips it too.
            if !blank {
                return Ok(Some(true));
            }
        }
    }

    /// The long way: the next record through `csv_core`, quotes and all.
    fn read_quoted(&mut self, row: &mut Row) -> Result<bool, SourceError> {
        use ::csv_core::ReadRecordResult;
        let record_start = self.parsed;
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            if self.start == self.end && !self.eof {
                if self.parsed - record_start > MAX_ROW_BYTES {
                    return Err(SourceError::new(
                        &self.path,
                        tr!("csv-row-too-long", mib = MAX_ROW_BYTES / (1024 * 1024)),
                    ));
                }
                self.read_more()?;
            }
            let input = &self.buf[self.start..self.end];
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut self.out[outlen..], &mut self.ends[endlen..]);
            let used = &input[..nin];
            self.breaks += memchr::memchr_iter(b'\n', used).count() as u64;
            if let Some(&last) = used.last() {
                self.after_newline = last == b'\n';
            }
            self.start += nin;
            self.parsed += nin as u64;
            outlen += nout;
            endlen += nend;
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                ReadRecordResult::Record => break,
                ReadRecordResult::End => return Ok(false),
            }
        }
        let fields = &self.out[..outlen];
        row.set_fields(fields, &self.ends[..endlen]);
        // A record's row is one more than the line breaks before it, less
        // those inside quoted fields (which a spreadsheet keeps in one row).
        let own_terminator = u64::from(self.after_newline);
        let inside = memchr::memchr_iter(b'\n', fields).count() as u64;
        row.number =
            (1 + self.breaks).saturating_sub(own_terminator + inside + self.embedded_newlines);
        self.embedded_newlines += inside;
        Ok(true)
    }

    /// Reads more of the file after what is left unparsed.
    fn read_more(&mut self) -> Result<(), SourceError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let n = self.buf.len() * 2;
            self.buf.resize(n, 0);
        }
        let n = loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let why = e.to_string();
                    return Err(SourceError::new(
                        &self.path,
                        tr!("csv-read-error", why = why),
                    ));
                }
            }
        };
        let read = &self.buf[self.end..self.end + n];
        self.quotes += memchr::memchr_iter(b'"', read).count() as u64;
        self.end += n;
        self.eof = n == 0;
        Ok(())
    }

    /// The parser ends a quoted field left open at the end of the file
    /// without complaint; an odd number of quotes in the whole file, with
    /// this last row running to the end, is the sign of it.
    fn check_last(&self, row: &mut Row) {
        if self.quotes % 2 == 1 && row.problem.is_none() && row.text.contains(&b'\n') {
            row.problem = Some(Problem::of_row(
                Kind::UnclosedQuote,
                tr!("row-unclosed-quote"),
            ));
            // The file's last line break sits inside the open field, and the
            // row count took it for this row's own terminator too.
            if row.text.ends_with(b"\n") {
                row.number += 1;
            }
        }
    }
}

/// Makes sure a row's text is UTF-8 and its fields start on character
/// boundaries, as [`Row::get`] relies on: one check of the whole text
/// instead of one per field. A row that is not is kept readable, its bad
/// bytes replaced, and marked with the problem. Notes too whether the row
/// holds anything JSON must escape, which a body writer would otherwise look
/// for cell by cell; `delimiter` is what may lie between its fields.
/// Returns whether the row's text is all ASCII.
fn check_utf8(row: &mut Row, delimiter: u8, section: &str) -> bool {
    let all = &row.text[..];
    row.plain = if super::needs_json_escape(&[delimiter]) {
        !row.field_bytes().any(super::needs_json_escape)
    } else {
        !super::needs_json_escape(all)
    };
    let ascii = all.is_ascii();
    let whole = ascii
        || (simdutf8::basic::from_utf8(all).is_ok()
            && row.fields.iter().all(|&(start, _)| {
                // Not a continuation byte (0b10xx_xxxx).
                all.get(start as usize).is_none_or(|&b| b & 0xC0 != 0x80)
            }));
    if whole {
        return ascii;
    }
    let lossy: Vec<String> = row
        .field_bytes()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let texts: Vec<&str> = lossy.iter().map(String::as_str).collect();
    let number = row.number;
    *row = Row::from_texts(number, &texts);
    row.problem = Some(Problem::of_row(
        Kind::Encoding,
        tr!("row-not-utf8", section = section),
    ));
    false
}

/// A record read under a forced single-byte encoding whose bytes, as the
/// file had them, are UTF-8 with accents: decoded, every accent is garbled
/// (`María` read as `MarÃ­a`), so the row is marked rather than sent. The
/// file's first 64 KiB are checked when it is opened; this catches the rows
/// past them. Called for rows that are not all ASCII only; the bytes are
/// rebuilt into `raw`, which is reused from row to row.
fn check_not_utf8(row: &mut Row, forced: &'static Encoding, raw: &mut Vec<u8>, section: &str) {
    if row.problem.is_some() {
        return;
    }
    // A single-byte encoding writes one byte per character: never more
    // bytes than the UTF-8 text it came from.
    raw.clear();
    raw.resize(row.text.len(), 0);
    let (result, _, written) =
        forced
            .new_encoder()
            .encode_from_utf8_without_replacement(row.text_str(), raw, true);
    if result != encoding_rs::EncoderResult::InputEmpty {
        return;
    }
    if simdutf8::basic::from_utf8(&raw[..written]).is_err() {
        return;
    }
    // The example is taken from one field: a quoted record's text holds its
    // fields one after another, with no delimiter between them.
    let Some((word, garbled)) = row.field_bytes().find_map(|f| {
        let field = std::str::from_utf8(f).ok()?;
        let (bytes, _, _) = forced.encode(field);
        garbled_example(std::str::from_utf8(&bytes).ok()?, forced)
    }) else {
        return;
    };
    row.problem = Some(Problem::of_row(
        Kind::ForcedEncoding,
        tr!(
            "row-utf8-forced",
            encoding = forced.name(),
            word = word,
            garbled = garbled,
            section = section
        ),
    ));
}

/// The first word of `text` with a character past ASCII, and how `forced`
/// reads its UTF-8 bytes; `None` when the text is all ASCII.
fn garbled_example(text: &str, forced: &'static Encoding) -> Option<(String, String)> {
    let word = text
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_ascii())?;
    let (garbled, _) = forced.decode_without_bom_handling(word.as_bytes());
    Some((word.to_string(), garbled.into_owned()))
}

fn invalid_utf8(path: &Path, row: u64, section: &str) -> SourceError {
    SourceError::not_utf8(path, tr!("csv-not-utf8", row = row, section = section))
}

/// A file that is valid UTF-8 and has accents, read under a forced
/// single-byte encoding, would have every accent garbled (`Cédula` read as
/// `CÃ©dula`) and sent that way. Returns what to tell the user, or `None`
/// when the forced encoding may well be right. Bytes of another encoding
/// almost never form valid UTF-8 sequences by chance, so this does not
/// refuse real windows-1252 files.
pub fn utf8_under_single_byte(
    path: &Path,
    forced: &'static Encoding,
    section: &str,
) -> Result<Option<String>, SourceError> {
    if !forced.is_single_byte() {
        return Ok(None);
    }
    let file = File::open(path).map_err(|e| SourceError::new(path, open_error(&e)))?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| SourceError::new(path, e))?;
    let text = match std::str::from_utf8(&head) {
        Ok(t) => t,
        // A character cut at the end of the prefix is still UTF-8.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).expect("checked")
        }
        Err(_) => return Ok(None),
    };
    let Some((word, garbled)) = garbled_example(text, forced) else {
        return Ok(None);
    };
    Ok(Some(tr!(
        "csv-utf8-forced",
        encoding = forced.name(),
        word = word,
        garbled = garbled,
        section = section
    )))
}

/// Approximate spreadsheet row of a byte offset, counting records (quotes
/// respected) up to it.
fn row_of_offset(data: &[u8], offset: usize) -> u64 {
    let mut in_quotes = false;
    let mut row = 1;
    for &b in &data[..offset] {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => row += 1,
            _ => {}
        }
    }
    row
}

/// Picks the delimiter among `,` `;` TAB `|` that splits the first lines
/// into the same number of cells most consistently; `,` when none appears.
/// Lines above `header_row` (a title block) and lines with no candidate at
/// all (a title, a date) are not taken as the reference.
pub fn detect_delimiter(head: &[u8], header_row: Option<u64>) -> u8 {
    let skip = header_row.map_or(0, |n| n.saturating_sub(1));
    let mut line_no = 0u64;
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    // Count per candidate per line, outside quotes, for the first 30 lines.
    let mut counts: Vec<[usize; 4]> = Vec::new();
    let mut current = [0usize; 4];
    let mut in_quotes = false;
    let mut line_has_content = false;
    for &b in head {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' | b'\r' if !in_quotes => {
                if line_has_content && line_no + 1 > skip && current.iter().any(|&n| n > 0) {
                    counts.push(current);
                    if counts.len() >= 30 {
                        break;
                    }
                }
                if b == b'\n' {
                    line_no += 1;
                }
                current = [0; 4];
                line_has_content = false;
                continue;
            }
            _ => {}
        }
        if !in_quotes {
            if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                current[i] += 1;
            }
        }
        if !b.is_ascii_whitespace() {
            line_has_content = true;
        }
    }
    if line_has_content && counts.len() < 30 && line_no >= skip && current.iter().any(|&n| n > 0) {
        counts.push(current);
    }
    let Some(first) = counts.first() else {
        return b',';
    };
    let mut best = (b',', 0usize, 0usize);
    for (i, &c) in CANDIDATES.iter().enumerate() {
        if first[i] == 0 {
            continue;
        }
        let consistent = counts.iter().filter(|l| l[i] == first[i]).count();
        if (consistent, first[i]) > (best.1, best.2) {
            best = (c, consistent, first[i]);
        }
    }
    best.0
}

/// Looks up a WHATWG encoding label (`windows-1252`, `latin1`, `utf-8`, …).
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows as the csv crate reads them, numbered as this reader numbered
    /// them when it read through the csv crate: the line breaks before each
    /// record's end, less its own terminator and those inside quoted fields.
    fn by_the_csv_crate(bytes: &[u8], delimiter: u8) -> Vec<(u64, Vec<Vec<u8>>, bool)> {
        let mut rdr = ::csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut rows = Vec::new();
        let mut rec = ::csv::ByteRecord::new();
        let (mut embedded, mut breaks, mut counted) = (0u64, 0u64, 0usize);
        while rdr.read_byte_record(&mut rec).unwrap() {
            let end = rdr.position().byte() as usize;
            breaks += memchr::memchr_iter(b'\n', &bytes[counted..end]).count() as u64;
            counted = end;
            let own = u64::from(end > 0 && bytes[end - 1] == b'\n');
            let inside = memchr::memchr_iter(b'\n', rec.as_slice()).count() as u64;
            let number = (1 + breaks).saturating_sub(own + inside + embedded);
            embedded += inside;
            let fields: Vec<Vec<u8>> = rec.iter().map(<[u8]>::to_vec).collect();
            rows.push((number, fields, false));
        }
        let quotes = memchr::memchr_iter(b'"', bytes).count();
        if let Some(last) = rows.last_mut() {
            if quotes % 2 == 1 && last.1.iter().any(|f| f.contains(&b'\n')) {
                last.2 = true;
                if last.1.concat().ends_with(b"\n") {
                    last.0 += 1;
                }
            }
        }
        rows
    }

    fn by_this_reader(bytes: &[u8], delimiter: u8) -> Vec<(u64, Vec<Vec<u8>>, bool)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, bytes).unwrap();
        let opts = SourceOptions {
            delimiter: Some(delimiter),
            ..SourceOptions::default()
        };
        let mut r = CsvReader::open(&path, &opts).unwrap();
        let mut rows = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            let fields = row.field_bytes().map(<[u8]>::to_vec).collect();
            rows.push((row.number, fields, row.problem.is_some()));
        }
        rows
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        #[test]
        fn rows_are_those_the_csv_crate_reads(
            text in "[ab;\"\r\n é]{0,60}|([ab;]{0,6}\r?\n){0,6}|(\"[a;\r\n\"]{0,5}\"[;\r\n]{0,2}){0,6}",
            tab in proptest::bool::ANY,
        ) {
            let (bytes, delimiter) = if tab {
                (text.replace(';', "\t").into_bytes(), b'\t')
            } else {
                (text.into_bytes(), b';')
            };
            proptest::prop_assert_eq!(
                by_this_reader(&bytes, delimiter),
                by_the_csv_crate(&bytes, delimiter),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn long_files_cross_the_read_buffer_the_same_way() {
        // Lines of every kind, many times the read buffer.
        let mut bytes = Vec::new();
        for i in 0..60_000 {
            match i % 7 {
                0 => bytes.extend_from_slice(b"a;\"b\nc\";d\r\n"),
                1 => bytes.extend_from_slice(b"\r\n"),
                2 => bytes.extend_from_slice(b"plain;line;here\n"),
                3 => bytes.extend_from_slice(b"lone\rreturn;x\n"),
                4 => bytes.extend_from_slice(b"\"quoted\";\"\"\"\"\n"),
                5 => bytes.extend_from_slice(
                    format!("{i};caf\u{e9};{}\n", "z".repeat(i % 300)).as_bytes(),
                ),
                _ => bytes.extend_from_slice(b";;;\n"),
            }
        }
        bytes.extend_from_slice(b"last;\"open");
        assert_eq!(by_this_reader(&bytes, b';'), by_the_csv_crate(&bytes, b';'));
    }

    #[test]
    fn detects_each_delimiter() {
        assert_eq!(detect_delimiter(b"a;b;c\n1;2;3\n", None), b';');
        assert_eq!(detect_delimiter(b"a,b,c\n1,2,3\n", None), b',');
        assert_eq!(detect_delimiter(b"a\tb\tc\n1\t2\t3\n", None), b'\t');
        assert_eq!(detect_delimiter(b"a|b|c\r\n1|2|3\r\n", None), b'|');
        assert_eq!(detect_delimiter(b"single\nvalue\n", None), b',');
        assert_eq!(detect_delimiter(b"", None), b',');
    }

    #[test]
    fn decimal_commas_do_not_fool_detection() {
        let head = b"Nro;Saldo;Fecha\n1;1.234,50;01/02/2024\n2;99,00;03/04/2024\n";
        assert_eq!(detect_delimiter(head, None), b';');
    }

    #[test]
    fn title_lines_are_not_the_reference() {
        assert_eq!(
            detect_delimiter(b"Reporte de cartera\n\n\na;b;Saldo\nR1;OB1;10\n", None),
            b';'
        );
        assert_eq!(
            detect_delimiter(b"Reporte, noviembre\n\na;b;Saldo\nR1;OB1;10\n", Some(3)),
            b';'
        );
    }

    #[test]
    fn quoted_delimiters_are_ignored() {
        let head = b"name,desc\n\"a;b;c\",x\n\"d;e;f\",y\n";
        assert_eq!(detect_delimiter(head, None), b',');
    }

    #[test]
    fn encoding_labels() {
        assert_eq!(
            encoding_for_label("windows-1252").unwrap().name(),
            "windows-1252"
        );
        assert_eq!(encoding_for_label("latin1").unwrap().name(), "windows-1252");
        assert_eq!(encoding_for_label(" UTF-8 ").unwrap().name(), "UTF-8");
        assert!(encoding_for_label("klingon").is_none());
    }

    #[test]
    fn row_of_offset_counts_records() {
        let data = b"h1,h2\n\"a\nb\",c\nx,\xff";
        let off = data.iter().position(|&b| b == 0xff).unwrap();
        assert_eq!(row_of_offset(data, off), 3);
    }
}
