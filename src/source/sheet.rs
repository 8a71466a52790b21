//! Workbooks through calamine. xlsx and xlsb sheets are streamed cell by
//! cell, so memory does not grow with the row count; xls and ods have no
//! streaming reader in calamine and are loaded one sheet at a time.
//!
//! The workbook is owned by a reading thread that sends rows in batches over
//! a bounded channel: the cell reader borrows the workbook, and a thread is
//! the simplest owner for that pair. It also lets unzipping and XML parsing
//! run beside the mapping.

use super::{open_error, quoted_list, Row, SourceError, SourceOptions};
use crate::value::Cell;
use calamine::{Data, DataRef, Reader, Sheets};
use chrono::NaiveDate;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

const BATCH_ROWS: usize = 512;
const BATCHES_IN_FLIGHT: usize = 4;

/// What `inspect` shows about a workbook.
#[derive(Debug, Clone)]
pub struct SheetInfo {
    /// Every sheet of the workbook, in order.
    pub sheets: Vec<String>,
    /// The sheet being read.
    pub sheet: String,
    pub streamed: bool,
}

enum Message {
    Rows(Vec<Row>),
    Error(String),
}

pub(super) struct SheetReader {
    path: PathBuf,
    rx: Receiver<Message>,
    batch: std::vec::IntoIter<Row>,
    row: Row,
    done: bool,
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
            return Err(SourceError::new(path, "the workbook has no sheets"));
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
                        format!(
                            "there is no sheet \"{wanted}\"; the sheets are {}",
                            quoted_list(&sheets)
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
        let (tx, rx) = sync_channel(BATCHES_IN_FLIGHT);
        let thread_path = path.to_path_buf();
        std::thread::Builder::new()
            .name("sheet-reader".into())
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    read_sheet(&mut workbook, &sheet, &tx)
                }));
                let failure = match result {
                    Ok(Ok(())) => None,
                    Ok(Err(msg)) => Some(msg),
                    // A malformed workbook must not take the importer down with it.
                    Err(_) => {
                        Some("the workbook is malformed (the reader gave up on it)".to_string())
                    }
                };
                if let Some(msg) = failure {
                    let _ = tx.send(Message::Error(msg));
                }
                drop(thread_path);
            })
            .map_err(|e| SourceError::new(path, e))?;
        Ok(SheetReader {
            path: path.to_path_buf(),
            rx,
            batch: Vec::new().into_iter(),
            row: Row::default(),
            done: false,
            info,
        })
    }

    pub(super) fn info(&self) -> &SheetInfo {
        &self.info
    }

    pub(super) fn current_mut(&mut self) -> &mut Row {
        &mut self.row
    }

    pub(super) fn next_row(&mut self) -> Result<Option<&Row>, SourceError> {
        loop {
            if let Some(row) = self.batch.next() {
                self.row = row;
                return Ok(Some(&self.row));
            }
            if self.done {
                return Ok(None);
            }
            match self.rx.recv() {
                Ok(Message::Rows(rows)) => self.batch = rows.into_iter(),
                Ok(Message::Error(msg)) => {
                    self.done = true;
                    return Err(SourceError::new(
                        &self.path,
                        format!("sheet \"{}\": {msg}", self.info.sheet),
                    ));
                }
                Err(_) => self.done = true,
            }
        }
    }
}

fn open_workbook(path: &Path) -> Result<Sheets<BufReader<File>>, SourceError> {
    let opened = std::panic::catch_unwind(|| calamine::open_workbook_auto(path));
    match opened {
        Ok(Ok(wb)) => Ok(wb),
        Ok(Err(e)) => Err(SourceError::new(path, describe_calamine_error(&e))),
        Err(_) => Err(SourceError::new(
            path,
            "the workbook is malformed (the reader gave up on it)",
        )),
    }
}

fn describe_calamine_error(e: &calamine::Error) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("password") || lower.contains("encrypt") {
        "the workbook is password-protected; save an unprotected copy and import that".into()
    } else {
        format!("cannot read the workbook: {text}; check that it opens in a spreadsheet program")
    }
}

fn read_sheet(
    workbook: &mut Sheets<BufReader<File>>,
    sheet: &str,
    tx: &SyncSender<Message>,
) -> Result<(), String> {
    let mut batcher = Batcher::new(tx);
    match workbook {
        Sheets::Xlsx(x) => {
            let mut cells = x.worksheet_cells_reader(sheet).map_err(|e| e.to_string())?;
            while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                batcher.learn_date_system(cell.get_value());
                if !batcher.put(r, c, convert_ref(cell.get_value())) {
                    return Ok(());
                }
            }
        }
        Sheets::Xlsb(x) => {
            let mut cells = x.worksheet_cells_reader(sheet).map_err(|e| e.to_string())?;
            while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                let (r, c) = cell.get_position();
                if !batcher.put(r, c, convert_ref(cell.get_value())) {
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

/// Groups cells (which arrive in row order) into rows and rows into batches.
struct Batcher<'a> {
    tx: &'a SyncSender<Message>,
    batch: Vec<Row>,
    current: Option<(u32, Vec<Cell>)>,
    /// The workbook's date system, learnt from its first date cell.
    date_1904: bool,
}

impl<'a> Batcher<'a> {
    fn new(tx: &'a SyncSender<Message>) -> Self {
        Batcher {
            tx,
            batch: Vec::with_capacity(BATCH_ROWS),
            current: None,
            date_1904: false,
        }
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

    /// Returns false when the receiver has gone away (nobody wants more rows).
    fn put(&mut self, row: u32, col: u32, cell: Cell) -> bool {
        if matches!(cell, Cell::Empty) {
            return true;
        }
        if self.current.as_ref().is_some_and(|(r, _)| *r != row) && !self.flush_row() {
            return false;
        }
        let (_, cells) = self.current.get_or_insert_with(|| (row, Vec::new()));
        let col = col as usize;
        // A cell far to the right of the data (a stray mark in column XFD)
        // must not cost a 16k-cell row for every row: columns past this bound
        // cannot be named by any header a person uses.
        if col >= 16_384 {
            return true;
        }
        if cells.len() <= col {
            cells.resize(col + 1, Cell::Empty);
        }
        cells[col] = cell;
        true
    }

    fn flush_row(&mut self) -> bool {
        if let Some((r, cells)) = self.current.take() {
            let mut row = Row::from_cells(u64::from(r) + 1, cells);
            row.date_1904 = self.date_1904;
            self.batch.push(row);
            if self.batch.len() >= BATCH_ROWS {
                let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
                return self.tx.send(Message::Rows(full)).is_ok();
            }
        }
        true
    }

    fn finish(mut self) {
        if self.flush_row() && !self.batch.is_empty() {
            let _ = self.tx.send(Message::Rows(std::mem::take(&mut self.batch)));
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
        None => Cell::Error(format!("invalid date {d:02}/{m:02}/{y:04}")),
    }
}

fn convert_iso(s: &str) -> Cell {
    let date_part = s.split('T').next().unwrap_or(s);
    match NaiveDate::parse_from_str(date_part, "%Y-%m-%d") {
        Ok(d) => Cell::Date(d),
        Err(_) => Cell::Text(s.to_string()),
    }
}
