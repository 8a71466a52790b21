//! calamine alone reading the first sheet of an xlsx workbook: the baseline
//! that `bench/run.sh` compares the importer's xlsx dry run with.
//!
//! ```text
//! cargo run --release --example calamine_read -- FILE.xlsx [stream|range|both]
//! ```
//!
//! `stream` (the default) opens the workbook and walks every cell of the
//! first sheet with `worksheet_cells_reader`, the streaming reader the
//! importer itself uses for xlsx; `range` loads the whole sheet with
//! `worksheet_range` and walks its used cells; `both` does one after the
//! other. Each prints the number of cells read (and a checksum over their
//! contents, so nothing can be optimised away) and the time it took, on one
//! line: `stream: 1500000 cells (...) in 1.234 s`. Only the cell values are
//! read: no mapping, no validation, no output, which is the least work any
//! reader of the sheet must do.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use calamine::{open_workbook, Data, DataRef, Reader, Xlsx};

/// Cells read and a cheap fold over their contents.
#[derive(Default)]
struct Tally {
    cells: u64,
    text_bytes: u64,
    numbers: f64,
}

impl Tally {
    fn add_ref(&mut self, v: &DataRef<'_>) {
        self.cells += 1;
        match v {
            DataRef::String(s) => self.text_bytes += s.len() as u64,
            DataRef::SharedString(s) => self.text_bytes += s.len() as u64,
            DataRef::Float(f) => self.numbers += f,
            DataRef::Int(i) => self.numbers += *i as f64,
            DataRef::DateTime(d) => self.numbers += d.as_f64(),
            _ => {}
        }
    }

    fn add(&mut self, v: &Data) {
        self.cells += 1;
        match v {
            Data::String(s) => self.text_bytes += s.len() as u64,
            Data::Float(f) => self.numbers += f,
            Data::Int(i) => self.numbers += *i as f64,
            Data::DateTime(d) => self.numbers += d.as_f64(),
            _ => {}
        }
    }

    fn report(&self, what: &str, started: Instant) {
        println!(
            "{what}: {} cells ({} text bytes, numbers sum {:.0}) in {:.3} s",
            self.cells,
            self.text_bytes,
            self.numbers,
            started.elapsed().as_secs_f64()
        );
    }
}

type Workbook = Xlsx<std::io::BufReader<std::fs::File>>;

fn first_sheet(path: &Path) -> Result<(Workbook, String), String> {
    let wb: Workbook = open_workbook(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| format!("{}: the workbook has no sheets", path.display()))?;
    Ok((wb, name))
}

/// Open + stream every cell of the first sheet.
fn stream(path: &Path) -> Result<(), String> {
    let started = Instant::now();
    let (mut wb, sheet) = first_sheet(path)?;
    let mut tally = Tally::default();
    let mut cells = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|e| e.to_string())?;
    while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
        tally.add_ref(cell.get_value());
    }
    tally.report("stream", started);
    Ok(())
}

/// Open + load the first sheet as a range + walk its used cells.
fn range(path: &Path) -> Result<(), String> {
    let started = Instant::now();
    let (mut wb, sheet) = first_sheet(path)?;
    let mut tally = Tally::default();
    let range = wb.worksheet_range(&sheet).map_err(|e| e.to_string())?;
    for (_, _, v) in range.used_cells() {
        tally.add(v);
    }
    tally.report("range", started);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, mode) = match args.as_slice() {
        [file] => (file, "stream"),
        [file, mode] => (file, mode.as_str()),
        _ => {
            eprintln!("usage: calamine_read FILE.xlsx [stream|range|both]");
            return ExitCode::from(2);
        }
    };
    let path = Path::new(file);
    let result = match mode {
        "stream" => stream(path),
        "range" => range(path),
        "both" => stream(path).and_then(|()| range(path)),
        other => Err(format!("unknown mode {other}: use stream, range or both")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("calamine_read: {e}");
            ExitCode::FAILURE
        }
    }
}
