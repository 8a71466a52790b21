//! Reading a portfolio file, row by row, in bounded memory.
//!
//! Two readers sit behind [`Source`]: a CSV reader (any delimiter and
//! encoding) and a workbook reader (xlsx, xlsm, xlsb, xls, ods). Both produce
//! [`Row`]s numbered as a person sees them in a spreadsheet program; this
//! module finds the header row, skips blank rows and checks each row's width.

mod csv;
mod sheet;

pub use self::csv::{detect_delimiter, encoding_for_label as csv_encoding, CsvInfo};
pub use self::sheet::SheetInfo;

use crate::problem::{Kind, Problem};
use crate::tr;
use crate::value::{Cell, CellRef};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// How to read the input, from the mapping's `[source]` and the command line.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Workbook sheet name; `None` means the first sheet.
    pub sheet: Option<String>,
    /// 1-based row holding the column names; `None` means the first row that
    /// is not blank.
    pub header_row: Option<u64>,
    /// CSV delimiter; `None` means detect among `,` `;` TAB `|`.
    pub delimiter: Option<u8>,
    /// CSV encoding; `None` means UTF-8 (a UTF-8 or UTF-16 BOM is honoured).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// The mapping's section these options come from, which messages tell
    /// the user to change (`[lookups.NAME]` for a lookup file); `None`
    /// means `[source]`.
    pub section: Option<String>,
}

impl SourceOptions {
    /// The mapping's section these options come from, as messages name it.
    pub fn section(&self) -> &str {
        self.section.as_deref().unwrap_or("[source]")
    }
}

/// A problem that makes the whole file unreadable: which file, as data,
/// and what is wrong with it and what to do, in the run's language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct SourceError {
    path: PathBuf,
    message: String,
    kind: SourceErrorKind,
}

/// What code may act on in a [`SourceError`]: the message is for people,
/// in their language, and is never searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceErrorKind {
    Other,
    /// The file's bytes are not UTF-8 and no encoding was given.
    NotUtf8,
}

impl SourceError {
    /// `msg` about the file at `path`.
    pub fn new(path: &Path, msg: impl std::fmt::Display) -> SourceError {
        SourceError {
            path: path.to_path_buf(),
            message: msg.to_string(),
            kind: SourceErrorKind::Other,
        }
    }

    fn not_utf8(path: &Path, msg: impl std::fmt::Display) -> SourceError {
        SourceError {
            kind: SourceErrorKind::NotUtf8,
            ..SourceError::new(path, msg)
        }
    }

    /// The file at fault.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is wrong and what to do, without the file's name.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file is not UTF-8 and was read without an encoding: opened again
    /// as Windows-1252, it may read (`inspect`, `mapping init`, lookups).
    pub fn is_not_utf8(&self) -> bool {
        self.kind == SourceErrorKind::NotUtf8
    }
}

/// What kind of file the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text.
    Csv,
    /// A spreadsheet workbook (xlsx, xlsm, xls, xlsb, ods).
    Workbook,
}

/// One row of the input, reused between reads to keep allocation off the
/// hot path.
#[derive(Debug, Default, Clone)]
pub struct Row {
    /// The row number a person sees in a spreadsheet program.
    pub number: u64,
    /// A CSV row's text: the line as read, delimiters and all, or its
    /// fields one after another when they had to be unquoted. It is UTF-8
    /// as a whole and `fields` start and end on character boundaries:
    /// whoever fills it checks that, and [`Row::get`] and [`Row::span`]
    /// rely on it.
    text: Vec<u8>,
    /// Where each CSV field lies in `text`.
    fields: Vec<(u32, u32)>,
    cells: Vec<Cell>,
    is_text: bool,
    /// Why the row cannot be used as read (wrong width, bad bytes).
    pub problem: Option<Problem>,
    /// The workbook counts dates from 1904 (old Mac Excel): date serials in
    /// plain number cells are read in that system.
    pub date_1904: bool,
    /// No cell holds a byte JSON must escape ([`needs_json_escape`]), as
    /// checked when the row was read; false when not checked.
    plain: bool,
}

impl Row {
    /// A CSV-like row of text cells.
    pub fn from_texts(number: u64, texts: &[&str]) -> Row {
        let mut row = Row {
            number,
            ..Row::text_row()
        };
        for t in texts {
            let start = row.text.len() as u32;
            row.text.extend_from_slice(t.as_bytes());
            row.fields.push((start, row.text.len() as u32));
        }
        row
    }

    /// A workbook row of typed cells.
    pub fn from_cells(number: u64, cells: Vec<Cell>) -> Row {
        Row {
            number,
            cells,
            ..Row::default()
        }
    }

    /// An empty text row, to be filled by a CSV reader.
    fn text_row() -> Row {
        Row {
            is_text: true,
            ..Row::default()
        }
    }

    /// Makes the row `line` split at every `delimiter` (a line with no
    /// quote in it), not yet checked for UTF-8.
    fn set_text(&mut self, line: &[u8], delimiter: u8) {
        self.text.clear();
        self.text.extend_from_slice(line);
        self.fields.clear();
        let mut start = 0u32;
        let fields = &mut self.fields;
        for_each_byte(line, delimiter, |d| {
            fields.push((start, d as u32));
            start = d as u32 + 1;
        });
        self.fields.push((start, line.len() as u32));
    }

    /// Makes the row the fields `bytes` holds one after another, each ending
    /// where `ends` says, not yet checked for UTF-8.
    fn set_fields(&mut self, bytes: &[u8], ends: &[usize]) {
        self.text.clear();
        self.text.extend_from_slice(bytes);
        self.fields.clear();
        let mut start = 0u32;
        for &end in ends {
            self.fields.push((start, end as u32));
            start = end as u32;
        }
    }

    /// The CSV fields' bytes, not yet known to be UTF-8.
    fn field_bytes(&self) -> impl Iterator<Item = &[u8]> {
        self.fields
            .iter()
            .map(|&(s, e)| &self.text[s as usize..e as usize])
    }

    /// Cells in the row, empty ones included.
    #[inline]
    pub fn len(&self) -> usize {
        if self.is_text {
            self.fields.len()
        } else {
            self.cells.len()
        }
    }

    /// True when the row has no cell at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `index`, `Empty` past the end of the row.
    #[inline]
    pub fn get(&self, index: usize) -> CellRef<'_> {
        if self.is_text {
            match self.fields.get(index) {
                Some(&(s, e)) if s < e => {
                    let b = &self.text[s as usize..e as usize];
                    // SAFETY: `text` is UTF-8 and fields lie on character
                    // boundaries (see the field), checked once per record
                    // when it was read.
                    CellRef::Text(unsafe { std::str::from_utf8_unchecked(b) })
                }
                _ => CellRef::Empty,
            }
        } else {
            self.cells.get(index).map_or(CellRef::Empty, Cell::as_ref)
        }
    }

    /// Where `s`, a part of one of this CSV row's cells, lies in the row's
    /// text; `None` for a workbook row or text from elsewhere. [`Row::span`]
    /// gives the text back.
    #[inline]
    pub fn span_of(&self, s: &str) -> Option<(u32, u32)> {
        if !self.is_text {
            return None;
        }
        let all = &self.text;
        let start = (s.as_ptr() as usize).checked_sub(all.as_ptr() as usize)?;
        (start + s.len() <= all.len()).then_some((start as u32, (start + s.len()) as u32))
    }

    /// The text at a span [`Row::span_of`] gave. Panics on a span that is
    /// not one.
    #[inline]
    pub fn span(&self, (start, end): (u32, u32)) -> &str {
        &self.text_str()[start as usize..end as usize]
    }

    /// All of a CSV row's text, where [`Row::span_of`] counts from; empty
    /// for a workbook row.
    #[inline]
    pub fn text_str(&self) -> &str {
        // SAFETY: `text` is UTF-8 (see the field).
        unsafe { std::str::from_utf8_unchecked(&self.text) }
    }

    /// True when no cell holds a byte JSON must escape: the row's text goes
    /// into a body as it is. False when that was not checked.
    #[inline]
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// True when every cell is empty or blank: the row is skipped.
    pub fn is_blank(&self) -> bool {
        // A printable ASCII byte in a field settles it for a CSV row.
        if self.is_text
            && self
                .field_bytes()
                .any(|f| f.first().is_some_and(u8::is_ascii_graphic))
        {
            return false;
        }
        (0..self.len()).all(|i| self.get(i).is_blank())
    }
}

/// Calls `f` with the offset of every `needle` in `hay`, in order. Cells
/// are short: sixteen bytes are compared at once and the matches read from a
/// bit mask, where `memchr` would start a new search after each.
fn for_each_byte(hay: &[u8], needle: u8, mut f: impl FnMut(usize)) {
    let mut chunks = hay.chunks_exact(16);
    let mut at = 0;
    for c in &mut chunks {
        let mut mask = simd::eq_mask(c.try_into().expect("16 bytes"), needle);
        while mask != 0 {
            f(at + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        at += 16;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b == needle {
            f(at + i);
        }
    }
}

/// Whether any byte is `"`, `\` or below 0x20 (a control character, a
/// line break, a tab): the bytes JSON text cannot hold as they are. Sixteen
/// bytes at a time.
pub fn needs_json_escape(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(16);
    if chunks.any(|c| simd::json_special(c.try_into().expect("16 bytes"))) {
        return true;
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Sixteen bytes at once: SSE2 on x86_64 (which every x86_64 processor
/// has), plain loops elsewhere.
mod simd {
    /// A bit for each of the 16 bytes equal to `needle`.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub fn eq_mask(c: &[u8; 16], needle: u8) -> u32 {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of every x86_64 processor; the load reads
        // the 16 bytes `c` holds, unaligned.
        unsafe {
            let v = _mm_loadu_si128(c.as_ptr().cast());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(needle as i8))) as u32
        }
    }

    /// Whether any of the 16 bytes is `"`, `\` or below 0x20.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub fn json_special(c: &[u8; 16]) -> bool {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of every x86_64 processor; the load reads
        // the 16 bytes `c` holds, unaligned.
        unsafe {
            let v = _mm_loadu_si128(c.as_ptr().cast());
            // Unsigned `b < 0x20` is `min(b, 0x1f) == b`.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            _mm_movemask_epi8(_mm_or_si128(control, _mm_or_si128(quote, backslash))) != 0
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    pub fn eq_mask(c: &[u8; 16], needle: u8) -> u32 {
        c.iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | (u32::from(b == needle) << i))
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    pub fn json_special(c: &[u8; 16]) -> bool {
        c.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
    }
}

/// What `inspect` shows about how the file was read.
#[derive(Debug, Clone)]
pub enum SourceInfo {
    /// A CSV: how it was read.
    Csv(CsvInfo),
    /// A workbook: its sheets and the one read.
    Sheet(SheetInfo),
}

/// The column names of the input, as its header row spells them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The names, one per column, untrimmed.
    pub names: Vec<String>,
    /// The header's own row number.
    pub row: u64,
    /// The kind of file the header was read from.
    pub format: Format,
}

impl Header {
    /// The columns that share a name (the same once trimmed, ignoring
    /// case), a group for each name, in column order. A file may have them
    /// (`inspect` shows it as it is), but a mapping cannot tell them apart:
    /// it may not name them, nor send them both in `form` under one name.
    pub fn same_names(&self) -> Vec<Vec<usize>> {
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (i, name) in self.names.iter().enumerate() {
            let key = name.trim().to_lowercase();
            if key.is_empty() {
                continue;
            }
            match seen.get(&key) {
                Some(&g) => groups[g].1.push(i),
                None => {
                    seen.insert(key.clone(), groups.len());
                    groups.push((key, vec![i]));
                }
            }
        }
        groups
            .into_iter()
            .map(|(_, g)| g)
            .filter(|g| g.len() > 1)
            .collect()
    }

    /// The other columns with the name of the column at `index`.
    pub fn same_name_as(&self, index: usize) -> Vec<usize> {
        let Some(name) = self.names.get(index) else {
            return Vec::new();
        };
        let key = name.trim();
        if key.is_empty() {
            return Vec::new();
        }
        (0..self.names.len())
            .filter(|&i| i != index && self.names[i].trim().to_lowercase() == key.to_lowercase())
            .collect()
    }

    /// Names a column for messages: its header and where it is, as a person
    /// looks for it (`column C` in a workbook, `column 3` in a CSV).
    pub fn position(&self, index: usize) -> String {
        match self.format {
            Format::Workbook => tr!("source-column-letter", letter = column_letter(index)),
            Format::Csv => tr!("source-column-number", number = index + 1),
        }
    }
}

/// `0` → `A`, `26` → `AA`.
pub fn column_letter(mut index: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

enum Reader {
    Csv(Box<csv::CsvReader>),
    Sheet(sheet::SheetReader),
}

impl Reader {
    fn next_raw(&mut self) -> Result<Option<&Row>, SourceError> {
        match self {
            Reader::Csv(r) => r.next_row(),
            Reader::Sheet(r) => r.next_row(),
        }
    }
}

/// An open input positioned after its header: `next_row` yields data rows.
pub struct Source {
    path: PathBuf,
    reader: Reader,
    header: Header,
    info: SourceInfo,
    /// Rows read past the header while looking for it, served first.
    pending: VecDeque<Row>,
    /// Where a row taken from `pending` is lent out from.
    replayed: Row,
    /// The header was found below a title block rather than on the first
    /// row that is not blank.
    header_below_title: bool,
    /// A CSV with no row that is not blank, opened by
    /// [`Source::open_or_empty`]: no header, no rows.
    empty: bool,
}

impl Source {
    /// Opens the input, detects its format from its bytes, and finds its header row.
    pub fn open(path: &Path, opts: &SourceOptions) -> Result<Source, SourceError> {
        Source::open_with(path, opts, false)
    }

    /// [`Source::open`] that takes a CSV with nothing in it (no bytes, or
    /// only blank lines and a byte-order mark) as an input of no rows, with
    /// an empty header, rather than refusing it: an import of an empty
    /// nightly export is a warning, as a header with no rows below it is.
    /// A workbook still needs its header.
    pub fn open_or_empty(path: &Path, opts: &SourceOptions) -> Result<Source, SourceError> {
        Source::open_with(path, opts, true)
    }

    fn open_with(
        path: &Path,
        opts: &SourceOptions,
        allow_empty: bool,
    ) -> Result<Source, SourceError> {
        let format = detect_format(path)?;
        let (mut reader, info) = match format {
            Format::Csv => {
                let r = csv::CsvReader::open(path, opts)?;
                let info = SourceInfo::Csv(r.info().clone());
                (Reader::Csv(Box::new(r)), info)
            }
            Format::Workbook => {
                let r = sheet::SheetReader::open(path, opts)?;
                let info = SourceInfo::Sheet(r.info().clone());
                (Reader::Sheet(r), info)
            }
        };
        let found = match find_header(path, &mut reader, opts, format, &info) {
            Err(Unfound::NothingInFile(_)) if allow_empty && format == Format::Csv => FoundHeader {
                header: Header {
                    names: Vec::new(),
                    row: 0,
                    format,
                },
                pending: VecDeque::new(),
                below_title: false,
            },
            Err(Unfound::NothingInFile(e) | Unfound::Error(e)) => return Err(e),
            Ok(found) => found,
        };
        let empty = found.header.row == 0;
        Ok(Source {
            path: path.to_path_buf(),
            reader,
            header: found.header,
            info,
            pending: found.pending,
            replayed: Row::default(),
            header_below_title: found.below_title,
            empty,
        })
    }

    /// True for a CSV with nothing in it, opened by
    /// [`Source::open_or_empty`]: it has no header and no rows.
    pub fn is_empty_file(&self) -> bool {
        self.empty
    }

    /// True when no `header_row` was given and the header was found below a
    /// title block.
    pub fn header_below_title(&self) -> bool {
        self.header_below_title
    }

    /// Where the input's fingerprint (xxh3 of its bytes) appears once the
    /// reader has read the whole file: a CSV is hashed as it is read. `None`
    /// for a workbook, which calamine reads from the path.
    pub fn fingerprint_when_read(&self) -> Option<std::sync::Arc<std::sync::OnceLock<u64>>> {
        match &self.reader {
            Reader::Csv(r) => Some(r.fingerprint()),
            Reader::Sheet(_) => None,
        }
    }

    /// The input's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// How the file is being read.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The input file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// About how many rows the input has, when it can be told cheaply.
    pub fn estimated_rows(&self) -> Option<u64> {
        match &self.info {
            SourceInfo::Csv(c) => Some(c.estimated_rows),
            SourceInfo::Sheet(_) => None,
        }
    }

    /// The next data row that is not blank. A row whose width differs from the
    /// header's comes back with its `problem` set, not as an error.
    pub fn next_row(&mut self) -> Result<Option<&Row>, SourceError> {
        let width = self.header.names.len();
        let format = self.header.format;
        let row = if let Some(row) = self.pending.pop_front() {
            self.replayed = row;
            &mut self.replayed
        } else {
            loop {
                // Two-step borrow: decide on a shared borrow, then hand it out.
                let skip = match self.reader.next_raw()? {
                    None => return Ok(None),
                    Some(row) => row.is_blank() && row.problem.is_none(),
                };
                if skip {
                    continue;
                }
                break;
            }
            match &mut self.reader {
                Reader::Csv(r) => r.current_mut(),
                Reader::Sheet(r) => r.current_mut(),
            }
        };
        if format == Format::Csv && row.problem.is_none() && row.len() != width {
            // Trailing empty cells (a delimiter at the end of every line) are harmless.
            let extra_is_empty = (width..row.len()).all(|i| row.get(i).is_blank());
            if row.len() < width || !extra_is_empty {
                row.problem = Some(Problem::of_row(
                    Kind::RowWidth,
                    tr!("row-width", cells = row.len(), width = width),
                ));
            }
        }
        Ok(Some(row))
    }
}

/// Decides by extension, and by the first bytes when the extension says
/// nothing or lies (a text file named `.xls` is a common bank export).
fn detect_format(path: &Path) -> Result<Format, SourceError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xlsb" | "xls" | "xla" | "ods" => {
            let mut head = [0u8; 2048];
            let n = read_prefix(path, &mut head)?;
            // An export that wrote nothing: calamine's words for it are about
            // OLE signatures and zip directories.
            let body = head[..n]
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(&head[..n]);
            if n < head.len() && body.iter().all(u8::is_ascii_whitespace) {
                return Err(SourceError::new(path, tr!("source-empty-workbook")));
            }
            match not_a_workbook(&head[..n]) {
                None => Ok(Format::Workbook),
                Some(what) => Err(SourceError::new(path, what.advice(&ext))),
            }
        }
        "csv" | "txt" | "tsv" | "dat" | "prn" => Ok(Format::Csv),
        _ => {
            let mut magic = [0u8; 8];
            let n = read_prefix(path, &mut magic)?;
            if is_workbook_container(&magic[..n]) {
                Err(SourceError::new(path, tr!("source-looks-like-workbook")))
            } else {
                Ok(Format::Csv)
            }
        }
    }
}

/// A zip (xlsx, xlsb, ods) or an OLE compound file (xls).
fn is_workbook_container(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// What a file named as a workbook holds instead, as banking systems
/// export it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impostor {
    /// A web page: many systems write an HTML table and call it `.xls`.
    Html,
    /// Excel 2003's XML spreadsheet, which calamine cannot read.
    XmlSpreadsheet,
    Pdf,
    /// CSV or other text, in any encoding.
    Text,
}

impl Impostor {
    fn advice(self, ext: &str) -> String {
        match self {
            Impostor::Html => tr!("source-html", ext = ext),
            Impostor::XmlSpreadsheet => tr!("source-xml-spreadsheet", ext = ext),
            Impostor::Pdf => tr!("source-pdf", ext = ext),
            Impostor::Text => tr!("source-text", ext = ext),
        }
    }
}

/// `None` when `head` may be a workbook (or is something calamine will
/// judge better); otherwise what the file is instead. Text is recognised
/// whatever its first bytes: an accented first header, a BOM, UTF-16.
fn not_a_workbook(head: &[u8]) -> Option<Impostor> {
    if head.is_empty() || is_workbook_container(head) {
        return None;
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Some(Impostor::Text);
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let lower = body[start..].to_ascii_lowercase();
    let contains = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if lower.starts_with(b"%pdf-") {
        return Some(Impostor::Pdf);
    }
    if lower.starts_with(b"<") {
        if contains(b"urn:schemas-microsoft-com:office:spreadsheet") {
            return Some(Impostor::XmlSpreadsheet);
        }
        let html_tags: [&[u8]; 6] = [
            b"<html",
            b"<!doctype html",
            b"<table",
            b"<meta",
            b"<body",
            b"<tr",
        ];
        if html_tags.iter().any(|t| contains(t)) {
            return Some(Impostor::Html);
        }
    }
    // Text in any single-byte encoding or UTF-8: no control bytes other
    // than the ones text uses (tab, line ends, form feed, Ctrl-Z).
    let text_like = body
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A));
    text_like.then_some(Impostor::Text)
}

/// `inspect` reads on where an import refuses: when the options force a
/// single-byte encoding on a CSV that is UTF-8, this says so (the message an
/// import would stop with), and the file can be read without the encoding.
pub fn forced_encoding_conflict(path: &Path, opts: &SourceOptions) -> Option<String> {
    let forced = opts.encoding?;
    if detect_format(path).ok()? != Format::Csv {
        return None;
    }
    let mut bom = [0u8; 3];
    let n = read_prefix(path, &mut bom).ok()?;
    if bom[..n].starts_with(b"\xEF\xBB\xBF")
        || bom[..n.min(2)] == [0xFF, 0xFE]
        || bom[..n.min(2)] == [0xFE, 0xFF]
    {
        return None;
    }
    csv::utf8_under_single_byte(path, forced, opts.section())
        .ok()
        .flatten()
}

fn read_prefix(path: &Path, buf: &mut [u8]) -> Result<usize, SourceError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| SourceError::new(path, open_error(&e)))?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(SourceError::new(path, e)),
        }
    }
    Ok(n)
}

pub(crate) fn open_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => tr!("source-no-such-file"),
        std::io::ErrorKind::PermissionDenied => tr!("source-permission-denied"),
        _ => e.to_string(),
    }
}

/// How many rows that are not blank are read ahead, below a first row that
/// cannot be a header, to find the header under a title block.
const TITLE_LOOKAHEAD_ROWS: usize = 20;

/// The header, and the rows read past it while looking for it.
struct FoundHeader {
    header: Header,
    pending: VecDeque<Row>,
    below_title: bool,
}

/// Finds the header: row `header_row` when given; otherwise the first row
/// that is not blank, unless that row is a title (a bank's name, a report's,
/// a cut-off date: fewer than two names, or a narrow block of two or three
/// over a much wider row of names). Then the header is the row with the
/// most text cells among the next rows, the first of them on a tie: column
/// names are all text, a title has one to three cells, and data rows have
/// numbers, dates or empty cells among them.
fn find_header(
    path: &Path,
    reader: &mut Reader,
    opts: &SourceOptions,
    format: Format,
    info: &SourceInfo,
) -> Result<FoundHeader, Unfound> {
    let header_row = opts.header_row;
    // A row that is not blank was read: the file is not empty.
    let mut content = false;
    loop {
        let Some(row) = reader.next_raw()? else {
            return Err(match (content, sheet_of(info)) {
                (false, None) => empty_file(path),
                _ => no_header(path, opts, info).into(),
            });
        };
        let blank = row.is_blank() && row.problem.is_none();
        content |= !blank;
        let wanted = match header_row {
            Some(n) => row.number >= n,
            None => !row.is_blank(),
        };
        if !wanted {
            continue;
        }
        if let Err(e) = check_header_row(path, row, header_row, info) {
            // A blank row where header_row puts the header, with nothing
            // above it nor below it, is an empty file.
            if blank && !content && sheet_of(info).is_none() && only_blank_rows_left(reader)? {
                return Err(empty_file(path));
            }
            return Err(e.into());
        }
        if header_row.is_some() {
            return Ok(FoundHeader {
                header: header_of(row, format),
                pending: VecDeque::new(),
                below_title: false,
            });
        }
        let first = row.clone();
        return Ok(header_below_title(first, reader, format)?);
    }
}

/// Reads on to the first row that is not blank: false when there is one.
fn only_blank_rows_left(reader: &mut Reader) -> Result<bool, SourceError> {
    while let Some(r) = reader.next_raw()? {
        if !(r.is_blank() && r.problem.is_none()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A CSV with no row that is not blank.
fn empty_file(path: &Path) -> Unfound {
    Unfound::NothingInFile(SourceError::new(path, tr!("source-empty-file")))
}

/// Why no header was found.
enum Unfound {
    /// The file or sheet has no row that is not blank.
    NothingInFile(SourceError),
    Error(SourceError),
}

impl From<SourceError> for Unfound {
    fn from(e: SourceError) -> Unfound {
        Unfound::Error(e)
    }
}

/// The sheet read, for messages; `None` for a CSV (the file itself).
fn sheet_of(info: &SourceInfo) -> Option<&str> {
    match info {
        SourceInfo::Sheet(s) => Some(&s.sheet),
        SourceInfo::Csv(_) => None,
    }
}

/// Why no header was found before the end of the file or sheet.
fn no_header(path: &Path, opts: &SourceOptions, info: &SourceInfo) -> SourceError {
    let msg = match (opts.header_row, sheet_of(info)) {
        (Some(n), None) => tr!("source-no-row-file", n = n),
        (Some(n), Some(sheet)) => tr!("source-no-row-sheet", n = n, sheet = sheet),
        (None, None) => tr!("source-empty-file"),
        (None, Some(sheet)) => match info {
            SourceInfo::Sheet(s) if s.sheets.len() > 1 => tr!(
                "source-empty-sheet-choose",
                sheet = sheet,
                sheets = quoted_list(&s.sheets),
                section = opts.section()
            ),
            _ => tr!("source-empty-sheet", sheet = sheet),
        },
    };
    SourceError::new(path, msg)
}

/// Refuses a header row that is blank where `header_row` puts it, or that
/// the reader found a problem with.
fn check_header_row(
    path: &Path,
    row: &Row,
    header_row: Option<u64>,
    info: &SourceInfo,
) -> Result<(), SourceError> {
    if let Some(n) = header_row {
        if row.number != n || row.is_blank() {
            let msg = match sheet_of(info) {
                None => tr!("source-blank-row-file", n = n),
                Some(sheet) => tr!("source-blank-row-sheet", n = n, sheet = sheet),
            };
            return Err(SourceError::new(path, msg));
        }
    }
    if let Some(p) = &row.problem {
        let msg = tr!(
            "source-header-row-problem",
            row = row.number,
            problem = p.text()
        );
        return Err(if p.kind == Kind::Encoding {
            SourceError::not_utf8(path, msg)
        } else {
            SourceError::new(path, msg)
        });
    }
    Ok(())
}

/// Below `first`, a row that cannot be a header (a title), the header is
/// the row with the most text cells among the next rows, the first of them
/// on a tie; with none, `first` after all.
fn header_below_title(
    first: Row,
    reader: &mut Reader,
    format: Format,
) -> Result<FoundHeader, SourceError> {
    let mut ahead: Vec<Row> = Vec::new();
    while ahead.len() < TITLE_LOOKAHEAD_ROWS {
        match reader.next_raw()? {
            None => break,
            Some(r) if r.is_blank() && r.problem.is_none() => {}
            Some(r) => ahead.push(r.clone()),
        }
    }
    // The header must have data below it: the last row read cannot be it.
    let mut best: Option<(usize, usize)> = None;
    for (k, r) in ahead.iter().enumerate().take(ahead.len().saturating_sub(1)) {
        let n = if r.problem.is_none() {
            text_cells(r)
        } else {
            0
        };
        if n >= 2 && best.is_none_or(|(_, b)| n > b) {
            best = Some((k, n));
        }
    }
    // The first row is a title when it has fewer than two names; or when
    // it is a title block of two or three cells (a bank's name, a report's,
    // a date) over a header of many: under half as many names, under half
    // as wide, and the row below all names, none of them a number or a
    // date, over rows that do hold one (data, unlike it). A header with
    // unnamed columns is as wide as its rows, and a first row over rows
    // that are all text cannot be told from a title: either keeps the
    // first row.
    let names = text_cells(&first);
    let over_header = |k: usize, n: usize| {
        let below = &ahead[k];
        names * 2 < n
            && first.len() * 2 < below.len()
            && only_names(below)
            && ahead[k + 1..].iter().any(|r| !only_names(r))
    };
    Ok(match best {
        Some((k, n)) if names < 2 || over_header(k, n) => {
            let mut rest: VecDeque<Row> = ahead.into();
            let header_row = rest.drain(..=k).next_back().expect("k is in range");
            FoundHeader {
                header: header_of(&header_row, format),
                pending: rest,
                below_title: true,
            }
        }
        _ => FoundHeader {
            header: header_of(&first, format),
            pending: ahead.into(),
            below_title: false,
        },
    })
}

/// True when every cell that is not blank is text that reads as a name:
/// not a number, an amount or a date (digits with separators only).
fn only_names(row: &Row) -> bool {
    (0..row.len()).all(|i| match row.get(i) {
        CellRef::Empty => true,
        CellRef::Text(t) => {
            let t = t.trim();
            t.is_empty()
                || !t.bytes().any(|b| b.is_ascii_digit())
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b".,-+/: $%".contains(&b))
        }
        _ => false,
    })
}

/// Cells holding text that is not blank.
fn text_cells(row: &Row) -> usize {
    (0..row.len())
        .filter(|&i| matches!(row.get(i), CellRef::Text(t) if !t.trim().is_empty()))
        .count()
}

fn header_of(row: &Row, format: Format) -> Header {
    let mut names = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let name = match row.get(i) {
            CellRef::Empty => String::new(),
            CellRef::Text(s) => s.to_string(),
            CellRef::Number(n) => crate::value::format_float(n),
            CellRef::Int(n) => n.to_string(),
            CellRef::Bool(b) => b.to_string().to_uppercase(),
            CellRef::Date(d) => d.format("%Y-%m-%d").to_string(),
            CellRef::Error(e) => e.to_string(),
        };
        names.push(name);
    }
    // Trailing unnamed columns (stray formatting in a workbook, a delimiter
    // at the end of the header line) are not columns.
    while names.last().is_some_and(|n| n.trim().is_empty()) {
        names.pop();
    }
    Header {
        names,
        row: row.number,
        format,
    }
}

pub(crate) fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_error_names_its_file_as_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-file.csv");
        let Err(e) = Source::open(&path, &SourceOptions::default()) else {
            panic!("a missing file opened");
        };
        assert_eq!(e.path(), path.as_path());
        assert!(!e.message().contains("no-such-file"), "{e}");
        assert_eq!(
            e.to_string(),
            format!("{}: {}", path.display(), e.message())
        );
        assert!(!e.is_not_utf8());
    }

    proptest::proptest! {
        #[test]
        fn bytes_are_found_as_a_plain_loop_finds_them(
            hay in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
            needle in proptest::prelude::any::<u8>(),
        ) {
            let mut found = Vec::new();
            for_each_byte(&hay, needle, |i| found.push(i));
            let expected: Vec<usize> =
                hay.iter().enumerate().filter(|(_, &b)| b == needle).map(|(i, _)| i).collect();
            proptest::prop_assert_eq!(found, expected);
            let special = hay.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
            proptest::prop_assert_eq!(needs_json_escape(&hay), special);
        }
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn text_rows_treat_empty_strings_as_empty_cells() {
        let r = Row::from_texts(3, &["a", "", "  "]);
        assert_eq!(r.get(0), CellRef::Text("a"));
        assert_eq!(r.get(1), CellRef::Empty);
        assert_eq!(r.get(9), CellRef::Empty);
        assert!(!r.is_blank());
        assert!(Row::from_texts(4, &["", " "]).is_blank());
    }
}
