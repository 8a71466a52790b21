//! `wolkvox-import inspect`: how a file reads, before any mapping exists.

use crate::mapping::Mapping;
use crate::source::{Source, SourceInfo, SourceOptions};
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};
use std::fmt::Write as _;
use std::path::Path;

/// Rows looked at to guess each column's type.
const TYPE_SAMPLE_ROWS: usize = 2000;
/// Sample values shown per column.
const SAMPLES: usize = 3;

/// What a column seems to hold, from a sample of its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Empty,
    Integer,
    Number,
    Date,
    Text,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Empty => "empty",
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Date => "date",
            ColumnType::Text => "text",
        }
    }
}

/// One column as `inspect` and `mapping init` see it.
#[derive(Debug, Clone)]
pub struct ColumnProfile {
    pub name: String,
    pub samples: Vec<String>,
    pub kind: ColumnType,
    /// The date formats that read every date text in the sample.
    pub date_formats: Vec<String>,
}

/// A file profiled: how it reads, its columns, its data rows.
#[derive(Debug, Clone)]
pub struct Profile {
    pub info: SourceInfo,
    pub header_row: u64,
    pub columns: Vec<ColumnProfile>,
    pub rows: u64,
    /// The decimal separator the sample's number texts use.
    pub decimal: DecimalSeparator,
    /// CSV only: the file is not UTF-8 and reads as Windows-1252.
    pub needs_windows_1252: bool,
}

/// Date formats tried on text cells, most common in bank files first.
const CANDIDATE_DATE_FORMATS: &[&str] = &[
    "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y/%m/%d", "%d.%m.%Y", "%m/%d/%Y",
];

pub fn profile(path: &Path, opts: &SourceOptions) -> Result<Profile, String> {
    let mut opts = opts.clone();
    let mut needs_windows_1252 = false;
    let mut source = match Source::open(path, &opts) {
        Ok(s) => s,
        Err(e) if opts.encoding.is_none() && e.0.contains("not UTF-8") => {
            opts.encoding = Some(encoding_rs::WINDOWS_1252);
            needs_windows_1252 = true;
            Source::open(path, &opts).map_err(|e| e.0)?
        }
        Err(e) => return Err(e.0),
    };
    let header = source.header().clone();
    let width = header.names.len();
    let mut samples: Vec<Vec<String>> = vec![Vec::new(); width];
    let mut kinds: Vec<Option<Kinds>> = vec![None; width];
    let mut texts: Vec<Vec<String>> = vec![Vec::new(); width];
    let mut rows = 0u64;
    let mut comma_votes = 0i64;
    while let Some(row) = source.next_row().map_err(|e| e.0)? {
        rows += 1;
        if rows as usize > TYPE_SAMPLE_ROWS {
            continue;
        }
        if row
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("not UTF-8"))
        {
            needs_windows_1252 = true;
        }
        for i in 0..width {
            let cell = row.get(i);
            if cell.is_blank() {
                continue;
            }
            let shown = shown(cell);
            if samples[i].len() < SAMPLES && !samples[i].contains(&shown) {
                samples[i].push(shown);
            }
            if let CellRef::Text(t) = cell {
                comma_votes += decimal_vote(t);
                if texts[i].len() < 200 {
                    texts[i].push(t.trim().to_string());
                }
            }
            let k = kinds[i].get_or_insert_with(Kinds::all);
            k.observe(cell);
        }
    }
    let decimal = if comma_votes > 0 {
        DecimalSeparator::Comma
    } else {
        DecimalSeparator::Dot
    };
    let columns = header
        .names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (kind, date_formats) = match &kinds[i] {
                None => (ColumnType::Empty, Vec::new()),
                Some(k) => k.decide(&texts[i], decimal),
            };
            ColumnProfile {
                name: name.clone(),
                samples: samples[i].clone(),
                kind,
                date_formats,
            }
        })
        .collect();
    Ok(Profile {
        info: source.info().clone(),
        header_row: header.row,
        columns,
        rows,
        decimal,
        needs_windows_1252,
    })
}

fn shown(cell: CellRef<'_>) -> String {
    match cell {
        CellRef::Date(d) => d.format("%Y-%m-%d").to_string(),
        other => value::cell_text(other, &DateFormat::new("%Y-%m-%d").expect("valid"))
            .unwrap_or_else(|e| e.0),
    }
}

/// +1 when a text looks like `1.234,56` or `12,5` (decimal comma), -1 for
/// `1,234.56` or `12.5`, 0 when it says nothing.
fn decimal_vote(t: &str) -> i64 {
    let t = t.trim().trim_start_matches(['$', ' ', '-']);
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
    {
        return 0;
    }
    let last_comma = t.rfind(',');
    let last_dot = t.rfind('.');
    match (last_comma, last_dot) {
        (Some(c), Some(d)) => {
            if c > d {
                1
            } else {
                -1
            }
        }
        (Some(c), None) => {
            if t.len() - c - 1 != 3 {
                1
            } else {
                0
            }
        }
        (None, Some(d)) => {
            if t.len() - d - 1 != 3 {
                -1
            } else {
                0
            }
        }
        (None, None) => 0,
    }
}

/// Which types every cell seen so far fits.
#[derive(Debug, Clone, Copy)]
struct Kinds {
    integer: bool,
    number: bool,
    date: bool,
}

impl Kinds {
    fn all() -> Kinds {
        Kinds {
            integer: true,
            number: true,
            date: true,
        }
    }

    fn observe(&mut self, cell: CellRef<'_>) {
        match cell {
            CellRef::Date(_) => {
                self.integer = false;
                self.number = false;
            }
            CellRef::Number(n) => {
                self.integer &= n.fract() == 0.0;
                self.date = false;
            }
            CellRef::Int(_) => self.date = false,
            CellRef::Text(_) => {}
            _ => {
                *self = Kinds {
                    integer: false,
                    number: false,
                    date: false,
                }
            }
        }
    }

    fn decide(&self, texts: &[String], decimal: DecimalSeparator) -> (ColumnType, Vec<String>) {
        let all = |f: &dyn Fn(&str) -> bool| texts.iter().all(|t| f(t));
        // Text cells that look like ids ("00123") are kept as text: leading
        // zeros would be lost as numbers.
        let leading_zero = texts.iter().any(|t| {
            t.len() > 1 && t.starts_with('0') && !t.starts_with("0,") && !t.starts_with("0.")
        });
        if self.integer
            && !leading_zero
            && all(&|t| value::parse_integer(CellRef::Text(t), decimal).is_ok())
        {
            return (ColumnType::Integer, Vec::new());
        }
        if self.number
            && !leading_zero
            && all(&|t| value::parse_number(CellRef::Text(t), decimal).is_ok())
        {
            return (ColumnType::Number, Vec::new());
        }
        if self.date {
            let formats: Vec<String> = CANDIDATE_DATE_FORMATS
                .iter()
                .filter(|f| {
                    let df = DateFormat::new(f).expect("valid");
                    texts.iter().all(|t| {
                        value::parse_date(CellRef::Text(t), std::slice::from_ref(&df)).is_ok()
                    })
                })
                .map(|f| f.to_string())
                .collect();
            let digits_only = texts.iter().all(|t| t.bytes().all(|b| b.is_ascii_digit()));
            if texts.is_empty() || (!formats.is_empty() && !digits_only) {
                return (ColumnType::Date, formats.into_iter().take(1).collect());
            }
        }
        (ColumnType::Text, Vec::new())
    }
}

/// The text `inspect` prints.
pub fn inspect(path: &Path, sheet: Option<&str>, mapping: Option<&Path>) -> Result<String, String> {
    let mut opts = match mapping {
        Some(m) => Mapping::load(m).map_err(|e| e.0)?.source,
        None => SourceOptions::default(),
    };
    if let Some(s) = sheet {
        opts.sheet = Some(s.to_string());
    }
    let p = profile(path, &opts)?;
    let mut out = String::new();
    let _ = writeln!(out, "file: {}", path.display());
    match &p.info {
        SourceInfo::Csv(c) => {
            let d = match c.delimiter {
                b'\t' => "TAB".to_string(),
                d => format!("\"{}\"", d as char),
            };
            let how = if c.delimiter_detected {
                "detected"
            } else {
                "from the mapping"
            };
            let _ = writeln!(out, "format: CSV, delimiter {d} ({how})");
            let enc = if p.needs_windows_1252 {
                "not UTF-8; reads as windows-1252 (add encoding = \"windows-1252\" to [source])"
                    .to_string()
            } else {
                match c.bom {
                    Some(b) => format!("{} (with a {b} byte-order mark)", c.encoding),
                    None => c.encoding.to_string(),
                }
            };
            let _ = writeln!(out, "encoding: {enc}");
        }
        SourceInfo::Sheet(s) => {
            let _ = writeln!(
                out,
                "format: workbook, sheets: {}",
                crate::source::quoted_list(&s.sheets)
            );
            let _ = writeln!(out, "sheet: \"{}\"", s.sheet);
        }
    }
    let sep = match p.decimal {
        DecimalSeparator::Dot => ".",
        DecimalSeparator::Comma => ",",
    };
    let _ = writeln!(out, "header row: {}", p.header_row);
    let _ = writeln!(out, "data rows: {}", p.rows);
    let _ = writeln!(out, "decimal separator in number texts: \"{sep}\"");
    let _ = writeln!(out, "columns:");
    for (i, c) in p.columns.iter().enumerate() {
        let kind = match (c.kind, c.date_formats.first()) {
            (ColumnType::Date, Some(f)) => format!("date ({f})"),
            (k, _) => k.as_str().to_string(),
        };
        let samples = c
            .samples
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "  {:>3}. \"{}\"  {}  e.g. {}",
            i + 1,
            c.name,
            kind,
            if samples.is_empty() {
                "-".into()
            } else {
                samples
            }
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_votes() {
        assert_eq!(decimal_vote("1.234,56"), 1);
        assert_eq!(decimal_vote("1,234.56"), -1);
        assert_eq!(decimal_vote("12,5"), 1);
        assert_eq!(decimal_vote("1.234"), 0);
        assert_eq!(decimal_vote("abc"), 0);
    }

    #[test]
    fn column_kinds_from_texts() {
        let k = Kinds::all();
        let t = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            k.decide(&t(&["12", "90"]), DecimalSeparator::Dot).0,
            ColumnType::Integer
        );
        assert_eq!(
            k.decide(&t(&["1.234,5", "9"]), DecimalSeparator::Comma).0,
            ColumnType::Number
        );
        let (kind, f) = k.decide(&t(&["31/01/2024", "01/02/2024"]), DecimalSeparator::Dot);
        assert_eq!(kind, ColumnType::Date);
        assert_eq!(f, vec!["%d/%m/%Y".to_string()]);
        assert_eq!(
            k.decide(&t(&["00123", "00456"]), DecimalSeparator::Dot).0,
            ColumnType::Text
        );
        assert_eq!(
            k.decide(&t(&["Juan", "Ana"]), DecimalSeparator::Dot).0,
            ColumnType::Text
        );
    }
}
