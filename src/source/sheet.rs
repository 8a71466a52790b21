//! Workbooks through calamine. xlsx and xlsb sheets are streamed cell by
//! cell, so memory does not grow with the row count; xls and ods have no
//! streaming reader in calamine and are loaded one sheet at a time.
//!
//! The workbook is owned by a reading thread that sends rows in batches over
//! a bounded channel: the cell reader borrows the workbook, and a thread is
//! the simplest owner for that pair. It also lets unzipping and XML parsing
//! run beside the mapping. The batches come back once read, to be filled
//! again: rows, cells and their text keep their buffers, and are freed by
//! the thread that made them.

use super::{open_error, quoted_list, Row, SourceError, SourceOptions};
use crate::batches::{self, Consumer, Producer};
use crate::tr;
use crate::value::Cell;
use calamine::{Data, DataRef, Reader, Sheets};
use chrono::NaiveDate;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

const BATCH_ROWS: usize = 512;
const BATCHES_IN_FLIGHT: usize = 4;

/// What `inspect` shows about a workbook.
#[derive(Debug, Clone)]
pub struct SheetInfo {
    /// Every sheet of the workbook, in order.
    pub sheets: Vec<String>,
    /// The sheet being read.
    pub sheet: String,
    /// Rows are streamed as read (xlsx, xlsb) rather than loaded whole first.
    pub streamed: bool,
}

pub(super) struct SheetReader {
    path: PathBuf,
    /// Batches of rows from the reading thread; its error is calamine's
    /// words, which this side places in the file and sheet.
    rows: Consumer<Row, String>,
    info: SheetInfo,
}

impl SheetReader {
    pub(super) fn open(path: &Path, opts: &SourceOptions) -> Result<SheetReader, SourceError> {
        // calamine decides by extension; refuse early with our own words for
        // the cases people hit (missing file, password, not a workbook).
        File::open(path).map_err(|e| SourceError::new(path, open_error(&e)))?;
        let mut workbook = open_workbook(path)?;
        let sheets = workbook.sheet_names();
        if sheets.is_empty() {
            return Err(SourceError::new(path, tr!("sheet-none")));
        }
        let sheet = match &opts.sheet {
            None => sheets[0].clone(),
            Some(wanted) => sheets
                .iter()
                .find(|s| *s == wanted)
                .or_else(|| {
                    sheets
                        .iter()
                        .find(|s| s.trim().eq_ignore_ascii_case(wanted.trim()))
                })
                .cloned()
                .ok_or_else(|| {
                    SourceError::new(
                        path,
                        tr!(
                            "sheet-not-found",
                            wanted = wanted.as_str(),
                            sheets = quoted_list(&sheets)
                        ),
                    )
                })?,
        };
        let streamed = matches!(workbook, Sheets::Xlsx(_) | Sheets::Xlsb(_));
        let info = SheetInfo {
            sheets,
            sheet: sheet.clone(),
            streamed,
        };
        let (mut tx, rows) = batches::channel(BATCHES_IN_FLIGHT, BATCH_ROWS);
        let thread_path = path.to_path_buf();
        std::thread::Builder::new()
            .name("sheet-reader".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    read_sheet(&mut workbook, &sheet, &mut tx)
                }));
                let failure = match result {
                    Ok(Ok(())) => None,
                    Ok(Err(msg)) => Some(msg),
                    // A malformed workbook must not take the importer down with it.
                    Err(_) => Some(tr!("sheet-malformed")),
                };
                if let Some(msg) = failure {
                    tx.fail(msg);
                }
                drop(thread_path);
            })
            .map_err(|e| SourceError::new(path, e))?;
        Ok(SheetReader {
            path: path.to_path_buf(),
            rows,
            info,
        })
    }

    pub(super) fn info(&self) -> &SheetInfo {
        &self.info
    }

    pub(super) fn current_mut(&mut self) -> &mut Row {
        self.rows.current_mut()
    }

    pub(super) fn next_row(&mut self) -> Result<Option<&Row>, SourceError> {
        match self.rows.advance() {
            Ok(more) => Ok(more.then(|| self.rows.current())),
            Err(msg) => {
                let sheet = tr!("source-where-sheet", sheet = self.info.sheet.as_str());
                Err(SourceError::new(&self.path, format!("{sheet}: {msg}")))
            }
        }
    }
}

fn open_workbook(path: &Path) -> Result<Sheets<BufReader<File>>, SourceError> {
    let opened = std::panic::catch_unwind(|| calamine::open_workbook_auto(path));
    match opened {
        Ok(Ok(wb)) => Ok(wb),
        Ok(Err(e)) => Err(SourceError::new(path, describe_calamine_error(&e))),
        Err(_) => Err(SourceError::new(path, tr!("sheet-malformed"))),
    }
}

fn describe_calamine_error(e: &calamine::Error) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("password") || lower.contains("encrypt") {
        tr!("sheet-password")
    } else {
        tr!("sheet-unreadable", why = text)
    }
}

fn read_sheet(
    workbook: &mut Sheets<BufReader<File>>,
    sheet: &str,
    tx: &mut Producer<Row, String>,
) -> Result<(), String> {
    let Some(mut batcher) = Batcher::new(tx) else {
        return Ok(());
    };
    match workbook {
        Sheets::Xlsx(x) => {
            let mut cells = x.worksheet_cells_reader(sheet).map_err(|e| e.to_string())?;
            while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                batcher.learn_date_system(cell.get_value());
                if !batcher.put_ref(r, c, cell.get_value()) {
                    return Ok(());
                }
            }
        }
        Sheets::Xlsb(x) => {
            let mut cells = x.worksheet_cells_reader(sheet).map_err(|e| e.to_string())?;
            while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                if !batcher.put_ref(r, c, cell.get_value()) {
                    return Ok(());
                }
            }
        }
        other => {
            let range = other.worksheet_range(sheet).map_err(|e| e.to_string())?;
            for (r, c, value) in range.used_cells() {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                if !batcher.put(r0 + r as u32, c0 + c as u32, convert(value)) {
                    return Ok(());
                }
            }
        }
    }
    batcher.finish();
    Ok(())
}

/// Groups cells (which arrive in row order) into rows and rows into batches,
/// reusing the rows of batches given back.
struct Batcher<'a> {
    tx: &'a mut Producer<Row, String>,
    batch: Vec<Row>,
    /// Rows of `batch` finished.
    filled: usize,
    /// The sheet's row being filled (as `batch[filled]`), if any.
    current: Option<u32>,
    /// Text buffers of cells overwritten, for the next text cells.
    spare: Vec<String>,
    /// The workbook's date system, learnt from its first date cell.
    date_1904: bool,
}

impl<'a> Batcher<'a> {
    /// `None` when the reader is gone already.
    fn new(tx: &'a mut Producer<Row, String>) -> Option<Self> {
        Some(Batcher {
            batch: tx.take()?,
            tx,
            filled: 0,
            current: None,
            spare: Vec::new(),
            date_1904: false,
        })
    }

    /// calamine keeps the workbook's date system private, but its date cells
    /// carry it: compare one with the same serial in the 1904 system.
    fn learn_date_system(&mut self, v: &DataRef<'_>) {
        if let DataRef::DateTime(dt) = v {
            let as_1904 = calamine::ExcelDateTime::new(
                dt.as_f64(),
                calamine::ExcelDateTimeType::DateTime,
                true,
            );
            self.date_1904 = dt.is_datetime() && *dt == as_1904;
        }
    }

    /// Puts a cell of the streamed sheet, its text copied into a reused
    /// buffer. Returns false when the receiver has gone away.
    fn put_ref(&mut self, row: u32, col: u32, v: &DataRef<'_>) -> bool {
        let text = match v {
            DataRef::Empty => return true,
            DataRef::String(s) => s.as_str(),
            DataRef::SharedString(s) => s,
            DataRef::DurationIso(s) => s.as_str(),
            other => return self.put(row, col, convert_ref(other)),
        };
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.push_str(text);
        self.put(row, col, Cell::Text(buf))
    }

    /// Returns false when the receiver has gone away (nobody wants more rows).
    fn put(&mut self, row: u32, col: u32, cell: Cell) -> bool {
        if matches!(cell, Cell::Empty) {
            return true;
        }
        if self.current.is_some_and(|r| r != row) && !self.flush_row() {
            return false;
        }
        if self.current.is_none() {
            self.start_row(row);
        }
        let cells = &mut self.batch[self.filled].cells;
        let col = col as usize;
        // A cell far to the right of the data (a stray mark in column XFD)
        // must not cost a 16k-cell row for every row: columns past this bound
        // cannot be named by any header a person uses.
        if col >= 16_384 {
            return true;
        }
        if cells.len() == col {
            // The next column, as cells nearly always come.
            cells.push(cell);
            return true;
        }
        if cells.len() < col {
            cells.resize(col + 1, Cell::Empty);
        }
        if let Cell::Text(old) = std::mem::replace(&mut cells[col], cell) {
            self.spare.push(old);
        }
        true
    }

    /// Makes `batch[filled]` an empty row numbered `row`, keeping the text
    /// buffers of the row it was.
    fn start_row(&mut self, row: u32) {
        if self.batch.len() == self.filled {
            self.batch.push(Row::from_cells(0, Vec::new()));
        }
        let r = &mut self.batch[self.filled];
        for c in r.cells.drain(..) {
            if let Cell::Text(s) = c {
                self.spare.push(s);
            }
        }
        r.number = u64::from(row) + 1;
        r.problem = None;
        self.current = Some(row);
    }

    fn flush_row(&mut self) -> bool {
        if self.current.take().is_none() {
            return true;
        }
        // Known by now if the row holds the sheet's first date cell.
        self.batch[self.filled].date_1904 = self.date_1904;
        self.filled += 1;
        if self.filled < BATCH_ROWS {
            return true;
        }
        let full = std::mem::take(&mut self.batch);
        let n = std::mem::replace(&mut self.filled, 0);
        if !self.tx.send(full, n) {
            return false;
        }
        match self.tx.take() {
            Some(next) => {
                self.batch = next;
                true
            }
            None => false,
        }
    }

    fn finish(mut self) {
        if self.flush_row() {
            let _ = self.tx.send(std::mem::take(&mut self.batch), self.filled);
        }
    }
}

fn convert_ref(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::String(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_string()),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => convert_datetime(dt),
        DataRef::DateTimeIso(s) => convert_iso(s),
        DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::Error(e) => Cell::Error(e.to_string()),
    }
}

fn convert(v: &Data) -> Cell {
    match v {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Int(*i),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => convert_datetime(dt),
        Data::DateTimeIso(s) => convert_iso(s),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

/// calamine knows the workbook's date system; a time of day alone (a serial
/// below 1) or a duration is kept as the time text a person sees.
fn convert_datetime(dt: &calamine::ExcelDateTime) -> Cell {
    let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
    if dt.is_duration() || dt.as_f64().abs() < 1.0 {
        return Cell::Text(format!("{hh:02}:{mm:02}:{ss:02}"));
    }
    match NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
        Some(date) => Cell::Date(date),
        None => Cell::Error(tr!(
            "sheet-invalid-date",
            date = format!("{d:02}/{m:02}/{y:04}")
        )),
    }
}

fn convert_iso(s: &str) -> Cell {
    let date_part = s.split('T').next().unwrap_or(s);
    match NaiveDate::parse_from_str(date_part, "%Y-%m-%d") {
        Ok(d) => Cell::Date(d),
        Err(_) => Cell::Text(s.to_string()),
    }
}
