//! `wolkvox-import inspect`: how a file reads, before any mapping exists.

use crate::mapping::Mapping;
use crate::source::{Row, Source, SourceInfo, SourceOptions};
use crate::tr;
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};
use std::path::Path;

/// Rows looked at to guess each column's type.
const TYPE_SAMPLE_ROWS: usize = 2000;
/// Sample values shown per column.
const SAMPLES: usize = 3;

/// What a column seems to hold, from a sample of its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// No value in the sample.
    Empty,
    /// Whole numbers only.
    Integer,
    /// Numbers, some with decimals.
    Number,
    /// Dates (cells, or texts that one date format reads).
    Date,
    /// Anything else.
    Text,
}

impl ColumnType {
    /// The word the mapping's `type` takes for it (`empty` for no values).
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
    /// The header, exactly as the file spells it.
    pub name: String,
    /// A few distinct values, as they would be sent.
    pub samples: Vec<String>,
    /// What the column seems to hold.
    pub kind: ColumnType,
    /// The date formats that read every date text in the sample.
    pub date_formats: Vec<String>,
}

/// A file profiled: how it reads, its columns, its data rows.
#[derive(Debug, Clone)]
pub struct Profile {
    /// How the file was read: delimiter and encoding, or sheet.
    pub info: SourceInfo,
    /// The header's row number (1-based).
    pub header_row: u64,
    /// The header as read: its names, where it is, and the kind of file.
    pub header: crate::source::Header,
    /// The header was found below a title block.
    pub header_below_title: bool,
    /// The options force an encoding that would garble this UTF-8 file; the
    /// profile was read without it.
    pub encoding_warning: Option<String>,
    /// The columns, in file order.
    pub columns: Vec<ColumnProfile>,
    /// Data rows below the header.
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

/// Reads `path` (the first rows for types, all of it for the count) and
/// describes its columns.
pub fn profile(path: &Path, opts: &SourceOptions) -> Result<Profile, String> {
    let mut opts = opts.clone();
    // Where an import would stop, inspect reads the file as it is and says why.
    let encoding_warning = crate::source::forced_encoding_conflict(path, &opts);
    if encoding_warning.is_some() {
        opts.encoding = None;
    }
    let (mut source, mut needs_windows_1252) = match Source::open(path, &opts) {
        Ok(s) => (s, false),
        Err(e) if opts.encoding.is_none() && e.is_not_utf8() => {
            opts.encoding = Some(encoding_rs::WINDOWS_1252);
            (Source::open(path, &opts).map_err(|e| e.to_string())?, true)
        }
        Err(e) => return Err(e.to_string()),
    };
    let header = source.header().clone();
    let mut stats = ColumnStats::new(header.names.len());
    let mut rows = 0u64;
    let mut encoding_warning = encoding_warning;
    while let Some(row) = source.next_row().map_err(|e| e.to_string())? {
        rows += 1;
        // UTF-8 rows past the part of the file checked when it was opened:
        // an import marks each of them; inspect names the first.
        if encoding_warning.is_none() {
            if let Some(p) = row
                .problem
                .as_ref()
                .filter(|p| p.kind == crate::problem::Kind::ForcedEncoding)
            {
                encoding_warning = Some(tr!(
                    "inspect-row-problem",
                    row = row.number,
                    problem = p.text()
                ));
            }
        }
        if rows as usize > TYPE_SAMPLE_ROWS {
            continue;
        }
        needs_windows_1252 |= row
            .problem
            .as_ref()
            .is_some_and(|p| p.kind == crate::problem::Kind::Encoding);
        stats.observe(row);
    }
    let decimal = stats.decimal();
    Ok(Profile {
        info: source.info().clone(),
        header_row: header.row,
        header: header.clone(),
        header_below_title: source.header_below_title(),
        encoding_warning,
        columns: stats.columns(&header.names, decimal),
        rows,
        decimal,
        needs_windows_1252,
    })
}

/// What the sampled rows showed of each column.
struct ColumnStats {
    samples: Vec<Vec<String>>,
    kinds: Vec<Option<Kinds>>,
    texts: Vec<Vec<String>>,
    /// Positive when number texts use a decimal comma.
    comma_votes: i64,
}

impl ColumnStats {
    fn new(width: usize) -> ColumnStats {
        ColumnStats {
            samples: vec![Vec::new(); width],
            kinds: vec![None; width],
            texts: vec![Vec::new(); width],
            comma_votes: 0,
        }
    }

    fn observe(&mut self, row: &Row) {
        for i in 0..self.samples.len() {
            let cell = row.get(i);
            if cell.is_blank() {
                continue;
            }
            let shown = shown(cell);
            if self.samples[i].len() < SAMPLES && !self.samples[i].contains(&shown) {
                self.samples[i].push(shown);
            }
            if let CellRef::Text(t) = cell {
                self.comma_votes += decimal_vote(t);
                if self.texts[i].len() < 200 {
                    self.texts[i].push(t.trim().to_string());
                }
            }
            self.kinds[i].get_or_insert_with(Kinds::all).observe(cell);
        }
    }

    fn decimal(&self) -> DecimalSeparator {
        if self.comma_votes > 0 {
            DecimalSeparator::Comma
        } else {
            DecimalSeparator::Dot
        }
    }

    fn columns(self, names: &[String], decimal: DecimalSeparator) -> Vec<ColumnProfile> {
        let ColumnStats {
            samples,
            kinds,
            texts,
            ..
        } = self;
        names
            .iter()
            .zip(samples)
            .zip(kinds.iter().zip(&texts))
            .map(|((name, samples), (kinds, texts))| {
                let (kind, date_formats) = match kinds {
                    None => (ColumnType::Empty, Vec::new()),
                    Some(k) => k.decide(texts, decimal),
                };
                ColumnProfile {
                    name: name.clone(),
                    samples,
                    kind,
                    date_formats,
                }
            })
            .collect()
    }
}

fn shown(cell: CellRef<'_>) -> String {
    match cell {
        CellRef::Date(d) => d.format("%Y-%m-%d").to_string(),
        CellRef::Error(e) => e.to_string(),
        other => value::cell_text(other, &DateFormat::new("%Y-%m-%d").expect("valid"))
            .unwrap_or_else(|e| e.to_string()),
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

/// How the cells of one column look, counted. Types are decided by what
/// nine cells in ten hold, so one bad value (the row a dry run will refuse)
/// does not hide what the column is.
#[derive(Debug, Clone, Default)]
struct Kinds {
    date_cells: u64,
    whole: u64,
    fractional: u64,
    texts: u64,
    other: u64,
}

/// Share of a column that must fit a type for the column to get it.
const TYPE_QUORUM: f64 = 0.9;

impl Kinds {
    fn all() -> Kinds {
        Kinds::default()
    }

    fn observe(&mut self, cell: CellRef<'_>) {
        match cell {
            CellRef::Date(_) => self.date_cells += 1,
            CellRef::Number(n) if n.fract() == 0.0 => self.whole += 1,
            CellRef::Number(_) => self.fractional += 1,
            CellRef::Int(_) => self.whole += 1,
            CellRef::Text(_) => self.texts += 1,
            // An error cell says nothing about what the column should hold.
            CellRef::Error(_) | CellRef::Empty => {}
            CellRef::Bool(_) => self.other += 1,
        }
    }

    fn decide(&self, texts: &[String], decimal: DecimalSeparator) -> (ColumnType, Vec<String>) {
        let total =
            (self.date_cells + self.whole + self.fractional + self.texts + self.other) as f64;
        if total == 0.0 {
            return (ColumnType::Empty, Vec::new());
        }
        // The share of the sampled texts that `f` reads, applied to all texts.
        let texts_fitting = |f: &dyn Fn(&str) -> bool| -> f64 {
            if texts.is_empty() {
                return 0.0;
            }
            let ok = texts.iter().filter(|t| f(t)).count() as f64;
            ok / texts.len() as f64 * self.texts as f64
        };
        let enough = |fits: f64| fits >= TYPE_QUORUM * total;
        // Text cells that look like ids ("00123") are kept as text: leading
        // zeros would be lost as numbers.
        let leading_zero = texts
            .iter()
            .any(|t| t.len() > 1 && t.starts_with('0') && t.as_bytes()[1].is_ascii_digit());
        let mut best_format: Option<(&str, f64)> = None;
        for f in CANDIDATE_DATE_FORMATS {
            let df = DateFormat::new(f).expect("valid");
            let fits = texts_fitting(&|t| {
                !t.bytes().all(|b| b.is_ascii_digit())
                    && value::parse_date(CellRef::Text(t), std::slice::from_ref(&df)).is_ok()
            });
            if best_format.is_none_or(|(_, b)| fits > b) {
                best_format = Some((f, fits));
            }
        }
        let (format, date_text_fits) = best_format.unwrap_or(("", 0.0));
        if enough(self.date_cells as f64 + date_text_fits) {
            let formats = if date_text_fits > 0.0 {
                vec![format.to_string()]
            } else {
                Vec::new()
            };
            return (ColumnType::Date, formats);
        }
        if leading_zero {
            return (ColumnType::Text, Vec::new());
        }
        // Whole numbers are numbers too, so integer is decided inside number;
        // a few fractions among whole numbers still make an integer column
        // whose odd rows the dry run will point at.
        let int_fits = self.whole as f64
            + texts_fitting(&|t| value::parse_integer(CellRef::Text(t), decimal).is_ok());
        let num_fits = (self.whole + self.fractional) as f64
            + texts_fitting(&|t| value::parse_number(CellRef::Text(t), decimal).is_ok());
        if enough(num_fits) {
            let kind = if enough(int_fits) {
                ColumnType::Integer
            } else {
                ColumnType::Number
            };
            return (kind, Vec::new());
        }
        (ColumnType::Text, Vec::new())
    }
}

/// The text `inspect` prints. `sheet` and `header_row` override the
/// mapping's `[source]`, of which nothing else is needed.
pub fn inspect(
    path: &Path,
    sheet: Option<&str>,
    header_row: Option<u64>,
    mapping: Option<&Path>,
) -> Result<String, String> {
    let mut opts = match mapping {
        Some(m) => Mapping::load_source(m).map_err(|e| e.to_string())?,
        None => SourceOptions::default(),
    };
    if let Some(s) = sheet {
        opts.sheet = Some(s.to_string());
    }
    if header_row.is_some() {
        opts.header_row = header_row;
    }
    let p = profile(path, &opts)?;
    let mut lines = vec![tr!("inspect-file", path = path.display().to_string())];
    format_lines(&p, &mut lines);
    let separator = match p.decimal {
        DecimalSeparator::Dot => ".",
        DecimalSeparator::Comma => ",",
    };
    lines.push(if p.header_below_title {
        tr!("inspect-header-row-below-title", row = p.header_row)
    } else {
        tr!("inspect-header-row", row = p.header_row)
    });
    lines.push(tr!("inspect-data-rows", count = p.rows));
    lines.push(tr!("inspect-decimal", separator = separator));
    // A file with two columns of one name is shown as it is; the warning
    // says what a mapping can do with it.
    for group in p.header.same_names() {
        lines.push(tr!(
            "inspect-warning",
            message = tr!(
                "inspect-same-name",
                count = group.len(),
                name = p.header.names[group[0]].trim(),
                positions = positions(&p.header, &group),
                exclude =
                    toml::Value::String(p.header.names[group[0]].trim().to_string()).to_string()
            )
        ));
    }
    lines.push(tr!("inspect-columns"));
    for (i, c) in p.columns.iter().enumerate() {
        let mut line = format!("  {}", column_line(i, c));
        let others = p.header.same_name_as(i);
        if !others.is_empty() {
            line.push_str("  ");
            line.push_str(&tr!(
                "inspect-same-name-mark",
                others = positions(&p.header, &others)
            ));
        }
        lines.push(line);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// `column F, column G`: where some columns are, for messages.
pub(crate) fn positions(header: &crate::source::Header, columns: &[usize]) -> String {
    columns
        .iter()
        .map(|&i| header.position(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines on the file's format: delimiter and encoding, or sheets.
fn format_lines(p: &Profile, lines: &mut Vec<String>) {
    match &p.info {
        SourceInfo::Csv(c) => {
            let delimiter = match c.delimiter {
                b'\t' => tr!("inspect-tab"),
                d => format!("\"{}\"", d as char),
            };
            lines.push(if c.delimiter_detected {
                tr!("inspect-format-csv-detected", delimiter = delimiter)
            } else {
                tr!("inspect-format-csv-given", delimiter = delimiter)
            });
            let encoding = c.encoding.to_string();
            lines.push(match c.bom {
                _ if p.needs_windows_1252 => tr!("inspect-encoding-not-utf8"),
                Some(b) => tr!("inspect-encoding-bom", encoding = encoding, bom = b),
                None => tr!("inspect-encoding", encoding = encoding),
            });
            if let Some(w) = &p.encoding_warning {
                lines.push(tr!("inspect-warning", message = w.as_str()));
            }
        }
        SourceInfo::Sheet(s) => {
            lines.push(tr!(
                "inspect-format-workbook",
                sheets = crate::source::quoted_list(&s.sheets)
            ));
            lines.push(tr!("inspect-sheet", sheet = s.sheet.as_str()));
        }
    }
}

/// One column: its number, name, type and a few sample values.
fn column_line(i: usize, c: &ColumnProfile) -> String {
    // The types are the words the mapping's `type` takes, in every
    // language; only "empty" is not one of them.
    let kind = match (c.kind, c.date_formats.first()) {
        (ColumnType::Date, Some(f)) => tr!("inspect-kind-date-format", format = f.as_str()),
        (ColumnType::Empty, _) => tr!("inspect-kind-empty"),
        (k, _) => k.as_str().to_string(),
    };
    let samples = c
        .samples
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let samples = if samples.is_empty() {
        "-".to_string()
    } else {
        samples
    };
    tr!(
        "inspect-column",
        number = format!("{:>3}", i + 1),
        name = c.name.as_str(),
        kind = kind,
        samples = samples
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows-1252 bytes are noticed by what the reader says, not by how its
    /// message is worded: at the start of the file (the open fails) and far
    /// past it (a row has a problem).
    #[test]
    fn a_windows_1252_file_is_noticed_wherever_its_first_accent_is() {
        let dir = tempfile::tempdir().unwrap();
        let early = dir.path().join("early.csv");
        std::fs::write(&early, b"Nombre;Saldo\nJos\xe9;10\n").unwrap();
        let p = profile(&early, &SourceOptions::default()).unwrap();
        assert!(p.needs_windows_1252);
        assert_eq!(p.columns[0].samples, ["José"]);

        let late = dir.path().join("late.csv");
        let mut text = b"Nombre;Saldo\n".to_vec();
        // Past the bytes the reader looks at when it opens the file, within
        // the rows inspect samples.
        for i in 0..1_500 {
            text.extend_from_slice(
                format!("Ana María Gómez Restrepo de la Cuesta {i:05};10\n").as_bytes(),
            );
        }
        assert!(text.len() > 64 * 1024);
        text.extend_from_slice(b"Jos\xe9;10\n");
        std::fs::write(&late, &text).unwrap();
        let p = profile(&late, &SourceOptions::default()).unwrap();
        assert!(p.needs_windows_1252);
        assert_eq!(p.rows, 1_501);

        let clean = dir.path().join("clean.csv");
        std::fs::write(&clean, "Nombre;Saldo\nJosé;10\n").unwrap();
        assert!(
            !profile(&clean, &SourceOptions::default())
                .unwrap()
                .needs_windows_1252
        );
    }

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
        let decide = |v: &[&str], sep| {
            let texts: Vec<String> = v.iter().map(|s| s.to_string()).collect();
            Kinds {
                texts: v.len() as u64,
                ..Kinds::all()
            }
            .decide(&texts, sep)
        };
        assert_eq!(
            decide(&["12", "90"], DecimalSeparator::Dot).0,
            ColumnType::Integer
        );
        assert_eq!(
            decide(&["1.234,5", "9"], DecimalSeparator::Comma).0,
            ColumnType::Number
        );
        let (kind, f) = decide(&["31/01/2024", "01/02/2024"], DecimalSeparator::Dot);
        assert_eq!(kind, ColumnType::Date);
        assert_eq!(f, vec!["%d/%m/%Y".to_string()]);
        assert_eq!(
            decide(&["00123", "00456"], DecimalSeparator::Dot).0,
            ColumnType::Text
        );
        assert_eq!(
            decide(&["Juan", "Ana"], DecimalSeparator::Dot).0,
            ColumnType::Text
        );
        assert_eq!(decide(&[], DecimalSeparator::Dot).0, ColumnType::Empty);
    }

    #[test]
    fn one_bad_value_does_not_hide_the_columns_type() {
        let mut dates: Vec<String> = (1..=28).map(|d| format!("{d:02}/01/2024")).collect();
        dates.push("31/02/2024".into());
        let k = Kinds {
            texts: dates.len() as u64,
            ..Kinds::all()
        };
        assert_eq!(k.decide(&dates, DecimalSeparator::Dot).0, ColumnType::Date);
        // Whole numbers from a workbook with one fraction: still integers.
        let k = Kinds {
            whole: 40,
            fractional: 1,
            ..Kinds::all()
        };
        assert_eq!(k.decide(&[], DecimalSeparator::Dot).0, ColumnType::Integer);
        // Half and half is text.
        let k = Kinds {
            whole: 10,
            texts: 10,
            ..Kinds::all()
        };
        let words: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
        assert_eq!(k.decide(&words, DecimalSeparator::Dot).0, ColumnType::Text);
    }
}
