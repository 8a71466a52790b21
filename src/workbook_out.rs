//! Results and rejects as Excel workbooks, for the people who open them in
//! Excel: a CSV opened there loses the leading zeros of `000123456` and
//! rounds `4540410858241234`, while a text cell keeps both.
//!
//! An output whose name ends in `.xlsx` is a workbook; any other name gets
//! CSV, except the other workbook extensions, which are refused rather than
//! given CSV bytes that Excel would refuse to open. Sheets are written in
//! rust_xlsxwriter's constant-memory mode, one row at a time, so a million
//! rows take no more memory than ten.

use crate::results::{
    rejects_error_column, rejects_row_column, OutputError, RejectsWriter, RESULTS_HEADER,
};
use crate::tr;
use rust_xlsxwriter::{Format, IgnoreError, Workbook, Worksheet, XlsxError};
use std::path::{Path, PathBuf};

/// Rows a worksheet holds, its header included.
const SHEET_ROWS: u32 = 1_048_576;
/// Columns a worksheet holds.
const SHEET_COLUMNS: u16 = 16_384;

/// What an output's file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Comma-separated text, UTF-8.
    Csv,
    /// An Excel workbook (`.xlsx`) whose ids are text cells.
    Workbook,
}

/// The kind of file `path` names; an error for a workbook extension this
/// tool cannot write (`.xls`, `.ods`, …), which would otherwise get CSV
/// text under a name that promises a workbook. `option` names the flag in
/// the message, which the caller prefixes with the path.
pub fn output_kind(option: &str, path: &Path) -> Result<OutputKind, String> {
    match extension(path).as_deref() {
        Some("xlsx") => Ok(OutputKind::Workbook),
        Some(ext @ ("xls" | "xlsm" | "xlsb" | "xla" | "ods")) => {
            Err(tr!("output-workbook-extension", option = option, ext = ext))
        }
        _ => Ok(OutputKind::Csv),
    }
}

/// Refuses a workbook name for an output that is not a table (`--payloads`
/// writes JSON Lines).
pub fn refuse_workbook_name(option: &str, path: &Path, what: &str) -> Result<(), String> {
    match extension(path).as_deref() {
        Some(ext @ ("xlsx" | "xls" | "xlsm" | "xlsb" | "xla" | "ods")) => Err(tr!(
            "output-not-a-table",
            option = option,
            what = what,
            ext = ext
        )),
        _ => Ok(()),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Where the rejects go for `--rejects given`: a name without an extension
/// gets the input's kind, `.xlsx` for a workbook input and `.csv` for a
/// CSV, so the rejects open in the program the input came from.
pub fn rejects_path(given: &Path, input_is_workbook: bool) -> PathBuf {
    if given.extension().is_some() {
        return given.to_path_buf();
    }
    let mut name = given.as_os_str().to_os_string();
    name.push(if input_is_workbook { ".xlsx" } else { ".csv" });
    PathBuf::from(name)
}

/// Where the results are kept as CSV while a run writes them, when the
/// results go to the workbook `xlsx`: the run journals to this file and it
/// becomes the workbook when the run ends.
pub fn journal_path(xlsx: &Path) -> PathBuf {
    let mut name = xlsx
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".journal.csv");
    xlsx.with_file_name(name)
}

/// How many cells of column `col` (0-based), below the header row of each
/// sheet of the workbook at `path`, hold a text for which `wanted` is true;
/// read cell by cell, so a large workbook costs no memory.
pub(crate) fn count_in_column(path: &Path, col: u32, wanted: impl Fn(&str) -> bool) -> u64 {
    use calamine::{DataRef, Reader};
    let Ok(mut workbook) = calamine::open_workbook::<calamine::Xlsx<_>, _>(path) else {
        return 0;
    };
    let mut n = 0;
    for sheet in workbook.sheet_names() {
        let Ok(mut cells) = workbook.worksheet_cells_reader(&sheet) else {
            continue;
        };
        let mut header_row = None;
        while let Ok(Some(cell)) = cells.next_cell() {
            let (row, c) = cell.get_position();
            let header = *header_row.get_or_insert(row);
            if row == header || c != col {
                continue;
            }
            let hit = match cell.get_value() {
                DataRef::String(s) => wanted(s),
                DataRef::SharedString(s) => wanted(s),
                _ => false,
            };
            n += u64::from(hit);
        }
    }
    n
}

fn xlsx_error(path: &Path, e: XlsxError) -> OutputError {
    OutputError::new(path, tr!("workbook-unwritable", why = e.to_string()))
}

/// The name a workbook is saved under before it is renamed into place, so
/// that a run stopped while saving never leaves half a workbook under the
/// real name.
fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

fn save(workbook: &mut Workbook, path: &Path) -> Result<(), OutputError> {
    let tmp = tmp_path(path);
    workbook.save(&tmp).map_err(|e| xlsx_error(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| OutputError::new(path, e))
}

/// A name Excel accepts for a sheet.
fn valid_sheet_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=31).contains(&n)
        && !name.contains(['[', ']', ':', '*', '?', '/', '\\'])
        && !name.starts_with('\'')
        && !name.ends_with('\'')
        && !name.eq_ignore_ascii_case("history")
}

/// A new constant-memory sheet named `name`, with text cells that look like
/// numbers left without Excel's "number stored as text" mark: here that is
/// the point.
fn add_sheet<'a>(
    workbook: &'a mut Workbook,
    path: &Path,
    name: &str,
) -> Result<&'a mut Worksheet, OutputError> {
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name(name).map_err(|e| xlsx_error(path, e))?;
    sheet
        .ignore_error_range(
            0,
            0,
            SHEET_ROWS - 1,
            SHEET_COLUMNS - 1,
            IgnoreError::NumberStoredAsText,
        )
        .map_err(|e| xlsx_error(path, e))?;
    Ok(sheet)
}

/// Writes the results CSV at `csv` (sorted, with the contract's header) as
/// the workbook `xlsx`: `row`, `attempts` and `http_status` as numbers,
/// every other column as text. Past a sheet's million rows the results go
/// on in a second sheet.
pub fn results_csv_to_xlsx(csv: &Path, xlsx: &Path) -> Result<(), OutputError> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(csv)
        .map_err(|e| OutputError::new(csv, e))?;
    let header = rdr.headers().map_err(|e| OutputError::new(csv, e))?.clone();
    if header.iter().ne(RESULTS_HEADER) {
        return Err(OutputError::new(csv, tr!("workbook-not-results")));
    }
    const NUMERIC: [&str; 3] = ["row", "attempts", "http_status"];
    let numeric: Vec<bool> = RESULTS_HEADER.iter().map(|h| NUMERIC.contains(h)).collect();
    let bold = Format::new().set_bold();
    let mut workbook = Workbook::new();
    let mut sheets = 0usize;
    let mut row_in_sheet = SHEET_ROWS;
    let mut rec = ::csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| OutputError::new(csv, e))?
    {
        if row_in_sheet == SHEET_ROWS {
            sheets += 1;
            let name = if sheets == 1 {
                "results".to_string()
            } else {
                format!("results {sheets}")
            };
            let s = add_sheet(&mut workbook, xlsx, &name)?;
            write_header(s, xlsx, &RESULTS_HEADER, &bold)?;
            s.set_column_width(8, 60).map_err(|e| xlsx_error(xlsx, e))?;
            row_in_sheet = 1;
        }
        let s = workbook
            .worksheet_from_index(sheets - 1)
            .map_err(|e| xlsx_error(xlsx, e))?;
        for (col, value) in rec.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let written = match value.parse::<f64>() {
                Ok(n) if numeric[col] => s.write_number(row_in_sheet, col as u16, n),
                _ => s.write_string(row_in_sheet, col as u16, value),
            };
            written.map_err(|e| xlsx_error(xlsx, e))?;
        }
        row_in_sheet += 1;
    }
    if sheets == 0 {
        let s = add_sheet(&mut workbook, xlsx, "results")?;
        write_header(s, xlsx, &RESULTS_HEADER, &bold)?;
    }
    save(&mut workbook, xlsx)
}

fn write_header<S: AsRef<str>>(
    sheet: &mut Worksheet,
    path: &Path,
    names: &[S],
    bold: &Format,
) -> Result<(), OutputError> {
    for (col, name) in names.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, name.as_ref(), bold)
            .map_err(|e| xlsx_error(path, e))?;
    }
    sheet
        .set_freeze_panes(1, 0)
        .map_err(|e| xlsx_error(path, e))?;
    Ok(())
}

/// `--rejects FILE.xlsx`: the rows that did not end well, every cell as the
/// text the input showed, under the input's header on the input's header
/// row, then the row's number in the input and the error. Read back with the
/// same mapping, the row-number and error columns are left out of `form`.
pub struct XlsxRejectsWriter {
    path: PathBuf,
    workbook: Workbook,
    /// The sheet row the next reject goes to (0-based).
    next_row: u32,
    /// Columns of the input; the row number and error follow them.
    width: u16,
    saved: bool,
}

impl XlsxRejectsWriter {
    /// `sheet` names the sheet as the mapping's `sheet` expects;
    /// `leading_blank_rows` keeps an explicit `header_row` pointing at the
    /// header.
    pub fn create(
        path: &Path,
        header: &[String],
        sheet: &str,
        leading_blank_rows: u64,
    ) -> Result<XlsxRejectsWriter, OutputError> {
        let width = u16::try_from(header.len())
            .ok()
            .filter(|w| w + 2 <= SHEET_COLUMNS)
            .ok_or_else(|| OutputError::new(path, tr!("workbook-too-wide")))?;
        let first = u32::try_from(leading_blank_rows)
            .ok()
            .filter(|r| *r < SHEET_ROWS - 1)
            .ok_or_else(|| OutputError::new(path, tr!("workbook-header-too-low")))?;
        // Fail now, not after the run, if the workbook cannot be written
        // there; it is saved under this name, then renamed.
        std::fs::File::create(tmp_path(path)).map_err(|e| OutputError::new(path, e))?;
        let mut workbook = Workbook::new();
        // A sheet name Excel refuses (an .ods sheet may be longer than 31
        // characters) gives way to a plain one, which --sheet can name.
        let sheet = if valid_sheet_name(sheet) {
            sheet
        } else {
            "rejects"
        };
        let s = add_sheet(&mut workbook, path, sheet)?;
        let mut names: Vec<&str> = header.iter().map(String::as_str).collect();
        names.push(rejects_row_column(header));
        names.push(rejects_error_column(header));
        let bold = Format::new().set_bold();
        for (col, name) in names.iter().enumerate() {
            if !name.is_empty() {
                s.write_string_with_format(first, col as u16, *name, &bold)
                    .map_err(|e| xlsx_error(path, e))?;
            }
        }
        Ok(XlsxRejectsWriter {
            path: path.to_path_buf(),
            workbook,
            next_row: first + 1,
            width,
            saved: false,
        })
    }

    /// Adds row `row` of the input, as `cells`, with its error.
    pub fn write(&mut self, row: u64, cells: &[String], error: &str) -> Result<(), OutputError> {
        if self.next_row >= SHEET_ROWS {
            return Err(OutputError::new(
                &self.path,
                tr!("workbook-too-many-rejects"),
            ));
        }
        let r = self.next_row;
        let sheet = self
            .workbook
            .worksheet_from_index(0)
            .map_err(|e| xlsx_error(&self.path, e))?;
        // A row of the wrong width is written as it came (see the CSV
        // rejects): its extra cells may run past the header.
        for (col, value) in cells
            .iter()
            .enumerate()
            .take(usize::from(SHEET_COLUMNS - 2))
        {
            if !value.is_empty() {
                sheet
                    .write_string(r, col as u16, value)
                    .map_err(|e| xlsx_error(&self.path, e))?;
            }
        }
        let after = self
            .width
            .max(cells.len().min(usize::from(SHEET_COLUMNS - 2)) as u16);
        sheet
            .write_number(r, after, row as f64)
            .and_then(|s| s.write_string(r, after + 1, error))
            .map_err(|e| xlsx_error(&self.path, e))?;
        self.next_row += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), OutputError> {
        save(&mut self.workbook, &self.path)?;
        self.saved = true;
        Ok(())
    }
}

impl Drop for XlsxRejectsWriter {
    /// A run that stops before `finish` leaves no placeholder behind.
    fn drop(&mut self) {
        if !self.saved {
            let _ = std::fs::remove_file(tmp_path(&self.path));
        }
    }
}

/// A table of text (the vanished obligations, a ledger export) written as
/// CSV, or as a workbook whose every cell is text, so that an id such as
/// `000123` keeps its zeros when Excel opens it. Written row by row (a
/// workbook in constant memory); past a sheet's last row the table goes on
/// in a second sheet.
// One per table written: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum TableWriter {
    /// A CSV file, written as the rows come.
    Csv {
        /// Where it goes.
        path: PathBuf,
        /// The writer.
        out: ::csv::Writer<std::fs::File>,
    },
    /// A workbook, saved by [`TableWriter::finish`].
    Workbook(XlsxTable),
}

/// The workbook of a [`TableWriter`].
pub struct XlsxTable {
    path: PathBuf,
    workbook: Workbook,
    sheet: String,
    header: Vec<String>,
    sheets: usize,
    /// The sheet row the next record goes to (0-based).
    next_row: u32,
}

impl TableWriter {
    /// Starts the table at `path` in the `kind` asked for (by the name
    /// the file will finally have: see [`output_kind`]), with its header;
    /// `sheet` names a workbook's sheet.
    pub fn create(
        path: &Path,
        kind: OutputKind,
        sheet: &str,
        header: &[&str],
    ) -> Result<TableWriter, OutputError> {
        match kind {
            OutputKind::Csv => {
                let mut out =
                    ::csv::Writer::from_path(path).map_err(|e| OutputError::new(path, e))?;
                out.write_record(header)
                    .map_err(|e| OutputError::new(path, e))?;
                Ok(TableWriter::Csv {
                    path: path.to_path_buf(),
                    out,
                })
            }
            OutputKind::Workbook => {
                // Fail now, not at the end, if it cannot be written there.
                std::fs::File::create(tmp_path(path)).map_err(|e| OutputError::new(path, e))?;
                Ok(TableWriter::Workbook(XlsxTable {
                    path: path.to_path_buf(),
                    workbook: Workbook::new(),
                    sheet: sheet.to_string(),
                    header: header.iter().map(|h| h.to_string()).collect(),
                    sheets: 0,
                    next_row: SHEET_ROWS,
                }))
            }
        }
    }

    /// Adds a record, one value per column of the header.
    pub fn write(&mut self, record: &[&str]) -> Result<(), OutputError> {
        match self {
            TableWriter::Csv { path, out } => out
                .write_record(record)
                .map_err(|e| OutputError::new(path, e)),
            TableWriter::Workbook(t) => t.write(record),
        }
    }

    /// Writes the rest and syncs the file to disk: the table is complete.
    pub fn finish(self) -> Result<(), OutputError> {
        let path = match self {
            TableWriter::Csv { path, mut out } => {
                out.flush().map_err(|e| OutputError::new(&path, e))?;
                path
            }
            TableWriter::Workbook(mut t) => {
                if t.sheets == 0 {
                    t.new_sheet()?;
                }
                save(&mut t.workbook, &t.path)?;
                t.path.clone()
            }
        };
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(|e| OutputError::new(&path, e))
    }
}

impl XlsxTable {
    fn new_sheet(&mut self) -> Result<(), OutputError> {
        self.sheets += 1;
        let name = match self.sheets {
            1 => self.sheet.clone(),
            n => format!("{} {n}", self.sheet),
        };
        let bold = Format::new().set_bold();
        let s = add_sheet(&mut self.workbook, &self.path, &name)?;
        write_header(s, &self.path, &self.header, &bold)?;
        self.next_row = 1;
        Ok(())
    }

    fn write(&mut self, record: &[&str]) -> Result<(), OutputError> {
        if self.next_row == SHEET_ROWS {
            self.new_sheet()?;
        }
        let s = self
            .workbook
            .worksheet_from_index(self.sheets - 1)
            .map_err(|e| xlsx_error(&self.path, e))?;
        for (col, value) in record.iter().enumerate() {
            if !value.is_empty() {
                s.write_string(self.next_row, col as u16, *value)
                    .map_err(|e| xlsx_error(&self.path, e))?;
            }
        }
        self.next_row += 1;
        Ok(())
    }
}

impl Drop for XlsxTable {
    /// A table never finished leaves no placeholder behind.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(tmp_path(&self.path));
    }
}

/// The rejects file, in the kind its name asks for.
// A run holds one of these: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Rejects {
    Csv(RejectsWriter),
    Workbook(XlsxRejectsWriter),
}

impl Rejects {
    /// Adds row `row` of the input, as `cells`, with its error.
    pub fn write(&mut self, row: u64, cells: &[String], error: &str) -> Result<(), OutputError> {
        match self {
            Rejects::Csv(w) => w.write(cells, error),
            Rejects::Workbook(w) => w.write(row, cells, error),
        }
    }

    pub fn finish(self) -> Result<(), OutputError> {
        match self {
            Rejects::Csv(w) => w.finish(),
            Rejects::Workbook(w) => w.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_names_choose_the_kind() {
        let kind = |p: &str| output_kind("--output", Path::new(p));
        assert_eq!(kind("r.xlsx"), Ok(OutputKind::Workbook));
        assert_eq!(kind("r.XLSX"), Ok(OutputKind::Workbook));
        assert_eq!(kind("r.csv"), Ok(OutputKind::Csv));
        assert_eq!(kind("r"), Ok(OutputKind::Csv));
        let e = kind("r.xls").unwrap_err();
        assert!(
            e.contains("--output") && e.contains(".xls file") && e.contains(".xlsx"),
            "{e}"
        );
        assert!(kind("r.ods").is_err());
        assert!(refuse_workbook_name("--payloads", Path::new("p.xlsx"), "JSON Lines").is_err());
        assert!(refuse_workbook_name("--payloads", Path::new("p.jsonl"), "JSON Lines").is_ok());
    }

    #[test]
    fn rejects_without_an_extension_follow_the_input() {
        assert_eq!(
            rejects_path(Path::new("rech"), true),
            Path::new("rech.xlsx")
        );
        assert_eq!(
            rejects_path(Path::new("rech"), false),
            Path::new("rech.csv")
        );
        assert_eq!(rejects_path(Path::new("r.csv"), true), Path::new("r.csv"));
        assert_eq!(
            journal_path(Path::new("out/x.results.xlsx")),
            Path::new("out/x.results.xlsx.journal.csv")
        );
    }
}
