//! The rows that did not end well, grouped by kind of problem and column,
//! with a count, the first few rows as a person sees them, and what to do.
//!
//! A row's `error` is read back into its parts: the mapping joins the
//! problems of one row with `; ` (a row-level problem first, then one per
//! cell, each `column "X": ...`). Each part is classified by the words the
//! mapping, the reader and the workers use for it; a part nobody knows
//! still gets its own group, by its text with the quoted values left out.

use crate::results::{Line, Status};
use std::collections::HashMap;

/// Examples kept per group.
pub const EXAMPLES: usize = 5;
/// Groups told apart; later kinds are counted in one "other problems" group.
pub const MAX_GROUPS: usize = 100;
/// The longest cell shown (characters); longer ones are cut, with a mark.
pub const MAX_CELL_CHARS: usize = 200;

/// What went wrong, in the terms the fix is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A required cell is empty.
    Empty,
    NotANumber,
    /// A number written with the other decimal separator.
    DecimalSeparator,
    NotWhole,
    /// A date that does not exist (31/02/2024).
    ImpossibleDate,
    /// Text that is not a date in the mapping's formats.
    NotADate,
    /// A spreadsheet error value (#N/A, #REF!).
    ErrorValue,
    /// A cell of another type (a date where a number goes, TRUE/FALSE).
    WrongType,
    /// Another problem with a cell.
    Cell,
    /// The row has more or fewer cells than the header.
    RowWidth,
    /// Bytes that are not UTF-8: the mapping's encoding is wrong.
    Encoding,
    /// A quote opened and never closed.
    UnclosedQuote,
    /// The same wolkvox_id and id as an earlier row.
    Duplicate,
    /// Another problem with the row.
    Row,
    /// Insert mode met an obligation the CRM holds with other values.
    Exists,
    /// Transient failures until the retries ran out.
    GaveUp,
    /// Sent, outcome unknown.
    Uncertain,
    /// The API refused the row.
    Refused,
    /// Past [`MAX_GROUPS`] kinds.
    Other,
}

impl Kind {
    /// The name used in the page's `data-kind` and the catalogs' keys.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Empty => "empty",
            Kind::NotANumber => "not-number",
            Kind::DecimalSeparator => "decimal-separator",
            Kind::NotWhole => "not-whole",
            Kind::ImpossibleDate => "impossible-date",
            Kind::NotADate => "not-date",
            Kind::ErrorValue => "error-value",
            Kind::WrongType => "wrong-type",
            Kind::Cell => "cell",
            Kind::RowWidth => "row-width",
            Kind::Encoding => "encoding",
            Kind::UnclosedQuote => "unclosed-quote",
            Kind::Duplicate => "duplicate",
            Kind::Row => "row",
            Kind::Exists => "exists",
            Kind::GaveUp => "gave-up",
            Kind::Uncertain => "uncertain",
            Kind::Refused => "refused",
            Kind::Other => "other",
        }
    }

    /// The kinds whose example is a cell of the file (rather than the
    /// obligation the row names).
    pub fn shows_cell(self) -> bool {
        matches!(
            self,
            Kind::Empty
                | Kind::NotANumber
                | Kind::DecimalSeparator
                | Kind::NotWhole
                | Kind::ImpossibleDate
                | Kind::NotADate
                | Kind::ErrorValue
                | Kind::WrongType
                | Kind::Cell
        )
    }
}

/// One problem of one row, read from its `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub kind: Kind,
    /// The column at fault, as the file spells it.
    pub column: Option<String>,
    /// The offending value as the row had it, when the message quotes it.
    pub value: Option<String>,
    /// For kinds told apart by their text: the text with quoted values left
    /// out, so that one message about many rows is one group.
    pub pattern: Option<String>,
}

/// A cell or id as shown: cut to [`MAX_CELL_CHARS`], with the length it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    /// The characters the value had, when it was cut.
    pub cut_from: Option<usize>,
}

impl Shown {
    pub fn of(s: &str) -> Shown {
        match s.char_indices().nth(MAX_CELL_CHARS) {
            Some((i, _)) => Shown {
                text: s[..i].to_string(),
                cut_from: Some(s.chars().count()),
            },
            None => Shown {
                text: s.to_string(),
                cut_from: None,
            },
        }
    }
}

/// One row given as an example of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub row: u64,
    /// The offending cell, or the obligation the row names.
    pub value: Shown,
}

/// Rows with the same kind of problem in the same column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub status: Status,
    pub kind: Kind,
    pub column: Option<String>,
    /// The first message of the group, cut, for kinds shown by their text.
    pub message: Option<Shown>,
    pub rows: u64,
    /// The first rows, in the order they finished.
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    status: Status,
    kind: Kind,
    column: Option<String>,
    pattern: Option<String>,
}

/// Every invalid, failed and uncertain row, grouped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Problems {
    groups: HashMap<Key, Group>,
    /// Rows that had at least one problem.
    pub rows: u64,
    /// Problems counted (a row may have several).
    pub parts: u64,
}

impl Problems {
    /// Counts a finished row; rows that ended well or were not sent (the
    /// run's reason, not the row's) are not problems.
    pub fn add(&mut self, o: &Line<'_>) {
        if !matches!(
            o.status,
            Status::Invalid | Status::Failed | Status::Uncertain
        ) {
            return;
        }
        self.rows += 1;
        for part in parts(o.status, o.error) {
            self.parts += 1;
            self.add_part(o, part);
        }
    }

    fn add_part(&mut self, o: &Line<'_>, part: Part) {
        let mut key = Key {
            status: o.status,
            kind: part.kind,
            column: part.column,
            pattern: part.pattern,
        };
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_GROUPS {
            key = Key {
                status: o.status,
                kind: Kind::Other,
                column: None,
                pattern: None,
            };
        }
        let shows_message = key.pattern.is_some() || key.kind == Kind::Other;
        let group = self.groups.entry(key.clone()).or_insert_with(|| Group {
            status: key.status,
            kind: key.kind,
            column: key.column.clone(),
            message: shows_message.then(|| Shown::of(o.error)),
            rows: 0,
            examples: Vec::new(),
        });
        group.rows += 1;
        if group.examples.len() < EXAMPLES {
            let value = if key.kind.shows_cell() {
                part.value.unwrap_or_default()
            } else {
                obligation(o)
            };
            group.examples.push(Example {
                row: o.row,
                value: Shown::of(&value),
            });
        }
    }

    /// The groups, most rows first, then by their first row.
    pub fn groups(&self) -> Vec<&Group> {
        let mut v: Vec<&Group> = self.groups.values().collect();
        v.sort_by(|a, b| {
            b.rows.cmp(&a.rows).then_with(|| {
                let first = |g: &Group| g.examples.first().map_or(u64::MAX, |e| e.row);
                first(a).cmp(&first(b))
            })
        });
        v
    }
}

/// The obligation a row names, as `record / id`.
fn obligation(o: &Line<'_>) -> String {
    match (o.wolkvox_id.is_empty(), o.obligation_id.is_empty()) {
        (false, false) => format!("{} / {}", o.wolkvox_id, o.obligation_id),
        (true, false) => o.obligation_id.to_string(),
        (false, true) => o.wolkvox_id.to_string(),
        (true, true) => String::new(),
    }
}

/// The parts of a row's `error`. An invalid row's cell problems each start
/// with `column "`, after a `; `; a row-level problem (which may hold `; `
/// itself) comes first. Other rows have one message.
pub fn parts(status: Status, error: &str) -> Vec<Part> {
    match status {
        Status::Invalid => split_cells(error).into_iter().map(invalid_part).collect(),
        Status::Uncertain => vec![Part {
            kind: Kind::Uncertain,
            column: None,
            value: None,
            pattern: None,
        }],
        _ => vec![failed_part(error)],
    }
}

fn split_cells(error: &str) -> Vec<&str> {
    const SEP: &str = "; column \"";
    let mut out: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut from = 0;
    while let Some(i) = error[from..].find(SEP).map(|i| i + from) {
        // A quoted value may itself hold `; column "`: a piece whose value
        // is not closed by one of the mapping's endings runs on.
        if open_value(&error[start..i]) {
            from = i + SEP.len();
            continue;
        }
        out.push(&error[start..i]);
        start = i + 2;
        from = start;
    }
    out.push(&error[start..]);
    out
}

/// A cell's message cut inside its quoted value: `column "X": "abc`.
fn open_value(piece: &str) -> bool {
    let Some(rest) = piece.strip_prefix("column \"") else {
        return false;
    };
    match rest.find("\": \"") {
        Some(i) => !rest[i + 3..].contains("\" is not a "),
        None => false,
    }
}

fn invalid_part(text: &str) -> Part {
    let part = |kind, column: Option<&str>, value: Option<&str>, pattern| Part {
        kind,
        column: column.map(str::to_string),
        value: value.map(str::to_string),
        pattern,
    };
    if let Some(rest) = text.strip_prefix("column \"") {
        // The column's name runs to the quote before `: ` or ` is empty`.
        let (column, tail) = match (rest.find("\": "), rest.rfind("\" is empty")) {
            (Some(i), Some(j)) if j < i => (&rest[..j], &rest[j + 2..]),
            (Some(i), _) => (&rest[..i], &rest[i + 3..]),
            (None, Some(j)) => (&rest[..j], &rest[j + 2..]),
            (None, None) => return part(Kind::Cell, None, None, Some(pattern_of(text))),
        };
        let column = Some(column);
        if tail == "is empty" {
            return part(Kind::Empty, column, Some(""), None);
        }
        if let Some(quoted) = tail.strip_prefix('"') {
            if let Some(end) = quoted.rfind("\" is not a ") {
                let value = Some(&quoted[..end]);
                let what = &quoted[end + 2..];
                let kind = if what.starts_with("is not a number with decimal separator") {
                    Kind::DecimalSeparator
                } else if what.starts_with("is not a number") {
                    Kind::NotANumber
                } else if what.starts_with("is not a whole number") {
                    Kind::NotWhole
                } else if what.starts_with("is not a real date") {
                    Kind::ImpossibleDate
                } else if what.starts_with("is not a date") {
                    Kind::NotADate
                } else {
                    return part(Kind::Cell, column, value, Some(pattern_of(what)));
                };
                return part(kind, column, value, None);
            }
        }
        if let Some(v) = tail.strip_prefix("holds the error value ") {
            return part(Kind::ErrorValue, column, Some(v), None);
        }
        if let Some(v) = tail.strip_suffix(" is not a date serial number Excel knows") {
            return part(Kind::NotADate, column, Some(v), None);
        }
        if tail.starts_with("60 is Excel's 29/02/1900") {
            return part(Kind::ImpossibleDate, column, Some("60"), None);
        }
        if tail.starts_with("holds a date, not a number") {
            return part(Kind::WrongType, column, None, None);
        }
        if tail.starts_with("holds TRUE/FALSE") {
            return part(Kind::WrongType, column, None, None);
        }
        if let Some(v) = tail.strip_suffix(" is not a number") {
            return part(Kind::WrongType, column, Some(v), None);
        }
        return part(Kind::Cell, column, None, Some(pattern_of(tail)));
    }
    if text.starts_with("the row has ") && text.contains(" cells but the header has ") {
        return part(Kind::RowWidth, None, None, None);
    }
    if text.starts_with("the row holds bytes that are not UTF-8") {
        return part(Kind::Encoding, None, None, None);
    }
    if text.starts_with("a quote opened in this row is never closed") {
        return part(Kind::UnclosedQuote, None, None, None);
    }
    if text.starts_with("duplicate of row ") {
        return part(Kind::Duplicate, None, None, None);
    }
    part(Kind::Row, None, None, Some(pattern_of(text)))
}

fn failed_part(text: &str) -> Part {
    let kind = if text.contains("exists in the CRM since")
        || text.contains("is already in the CRM with other values")
    {
        Kind::Exists
    } else if text.starts_with("gave up after ") {
        Kind::GaveUp
    } else {
        return Part {
            kind: Kind::Refused,
            column: None,
            value: None,
            pattern: Some(pattern_of(text)),
        };
    };
    Part {
        kind,
        column: None,
        value: None,
        pattern: None,
    }
}

/// A message with its quoted values and numbers left out, so that messages
/// about different rows and values fall in one group.
fn pattern_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(256));
    let mut in_quote = false;
    for c in text.chars() {
        if c == '"' {
            in_quote = !in_quote;
            out.push(c);
            if in_quote {
                out.push('…');
            }
        } else if !in_quote && !c.is_ascii_digit() {
            out.push(c);
        }
        if out.len() > 256 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Outcome;

    fn add(p: &mut Problems, o: &Outcome) {
        p.add(&o.line());
    }
    use crate::mapping::{Mapping, Plan};
    use crate::source::{Format, Header, Row};

    /// The real messages, from the real mapping, for cells a bank's file has.
    fn errors_for(cells: &[&[&str]]) -> Vec<String> {
        let mapping = Mapping::parse(
            r#"
[source]
decimal_separator = ","
date_formats = ["%d/%m/%Y"]
[request]
operation = "cobranza"
[fields]
wolkvox_id = "ID Registro"
id = "Nro Obligación"
total_balance = { column = "Saldo Total", type = "number" }
expiring_date = { column = "Fecha Vencimiento", type = "date" }
days_delay = { column = "Días Mora", type = "integer" }
"#,
        )
        .unwrap();
        let names = [
            "ID Registro",
            "Nro Obligación",
            "Saldo Total",
            "Fecha Vencimiento",
            "Días Mora",
        ];
        let header = Header {
            names: names.iter().map(|s| s.to_string()).collect(),
            row: 1,
            format: Format::Csv,
        };
        let plan = Plan::new(&mapping, &header, "cobranza").unwrap();
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let row = Row::from_texts(i as u64 + 2, c);
                plan.map_row(&row).unwrap_err().message
            })
            .collect()
    }

    fn invalid(row: u64, error: &str) -> Outcome {
        Outcome::new(row, Status::Invalid, "REG-1", "OB-1").with_error(error)
    }

    #[test]
    fn the_mappings_own_messages_are_classified() {
        let errors = errors_for(&[
            &["R", "1", "N/A", "01/02/2024", "3"],
            &["R", "2", "1.5", "01/02/2024", "3"],
            &["R", "3", "10", "31/02/2024", "3"],
            &["R", "4", "10", "2024/13/45", "3"],
            &["R", "5", "10", "01/02/2024", "12,5"],
            &["R", "", "10", "01/02/2024", "3"],
            &["R", "7", "x\"; column \"y", "30/02/2024", "1,5"],
        ]);
        type Seen = (Kind, Option<String>, Option<String>);
        let kinds: Vec<Vec<Seen>> = errors
            .iter()
            .map(|e| {
                parts(Status::Invalid, e)
                    .into_iter()
                    .map(|p| (p.kind, p.column, p.value))
                    .collect()
            })
            .collect();
        let one = |k, c: &str, v: &str| vec![(k, Some(c.to_string()), Some(v.to_string()))];
        assert_eq!(
            kinds[0],
            one(Kind::NotANumber, "Saldo Total", "N/A"),
            "{}",
            errors[0]
        );
        assert_eq!(
            kinds[1],
            one(Kind::DecimalSeparator, "Saldo Total", "1.5"),
            "{}",
            errors[1]
        );
        assert_eq!(
            kinds[2],
            one(Kind::ImpossibleDate, "Fecha Vencimiento", "31/02/2024"),
            "{}",
            errors[2]
        );
        assert_eq!(
            kinds[3],
            one(Kind::NotADate, "Fecha Vencimiento", "2024/13/45"),
            "{}",
            errors[3]
        );
        assert_eq!(
            kinds[4],
            one(Kind::NotWhole, "Días Mora", "12,5"),
            "{}",
            errors[4]
        );
        assert_eq!(
            kinds[5],
            one(Kind::Empty, "Nro Obligación", ""),
            "{}",
            errors[5]
        );
        // Three cells at fault, one with a hostile value that looks like
        // the start of another part: still three parts.
        assert_eq!(
            kinds[6].iter().map(|k| k.0).collect::<Vec<_>>(),
            [Kind::NotANumber, Kind::ImpossibleDate, Kind::NotWhole],
            "{}",
            errors[6]
        );
        assert_eq!(kinds[6][0].2.as_deref(), Some("x\"; column \"y"));
    }

    #[test]
    fn row_level_problems_keep_their_own_semicolons() {
        let e = "the row has 22 cells but the header has 23; check for a stray delimiter or an unclosed quote; column \"Días Mora\": \"1,5\" is not a whole number";
        let p = parts(Status::Invalid, e);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].kind, Kind::RowWidth);
        assert_eq!(p[1].kind, Kind::NotWhole);
        assert_eq!(
            parts(
                Status::Invalid,
                "duplicate of row 12 (same wolkvox_id \"a\" and id \"b\")"
            )[0]
            .kind,
            Kind::Duplicate
        );
    }

    #[test]
    fn groups_are_by_kind_and_column_sorted_by_count() {
        let mut p = Problems::default();
        add(
            &mut p,
            &invalid(
                5,
                "column \"Fecha Vencimiento\": \"31/02/2024\" is not a real date",
            ),
        );
        add(
            &mut p,
            &invalid(
                9,
                "column \"Fecha Vencimiento\": \"30/02/2023\" is not a real date",
            ),
        );
        add(
            &mut p,
            &invalid(
                3,
                "column \"Fecha Último Pago\": \"31/04/2024\" is not a real date",
            ),
        );
        add(
            &mut p,
            &invalid(
                4,
                "column \"Saldo\": \"abc\" is not a number (decimal separator \",\")",
            ),
        );
        add(
            &mut p,
            &invalid(
                11,
                "column \"Saldo\": \"x\" is not a number (decimal separator \",\")",
            ),
        );
        add(
            &mut p,
            &invalid(
                12,
                "column \"Saldo\": \"y\" is not a number (decimal separator \",\")",
            ),
        );
        add(&mut p, &Outcome::new(13, Status::Valid, "a", "b"));
        add(
            &mut p,
            &Outcome::new(14, Status::NotSent, "a", "b")
                .with_error("not sent: the run was stopped"),
        );
        let api = |row, id: &str| {
            Outcome::new(row, Status::Failed, "REG-2", id).with_error(format!(
                "SOME PARAMETERS ARE REQUIRED: fields.name \"{id}\""
            ))
        };
        add(&mut p, &api(20, "OB-20"));
        add(&mut p, &api(21, "OB-21"));
        let g = p.groups();
        let summary: Vec<(Kind, Option<&str>, u64)> = g
            .iter()
            .map(|g| (g.kind, g.column.as_deref(), g.rows))
            .collect();
        assert_eq!(
            summary,
            [
                (Kind::NotANumber, Some("Saldo"), 3),
                (Kind::ImpossibleDate, Some("Fecha Vencimiento"), 2),
                (Kind::Refused, None, 2),
                (Kind::ImpossibleDate, Some("Fecha Último Pago"), 1),
            ]
        );
        assert_eq!((p.rows, p.parts), (8, 8));
        let ex: Vec<(u64, &str)> = g[1]
            .examples
            .iter()
            .map(|e| (e.row, e.value.text.as_str()))
            .collect();
        assert_eq!(ex, [(5, "31/02/2024"), (9, "30/02/2023")]);
        // An API refusal shows the obligation, and its first message.
        assert_eq!(g[2].examples[0].value.text, "REG-2 / OB-20");
        assert!(g[2]
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("SOME PARAMETERS"));
    }

    #[test]
    fn groups_and_examples_are_bounded() {
        let mut p = Problems::default();
        for i in 0..(MAX_GROUPS as u64 + 50) {
            for r in 0..10 {
                add(
                    &mut p,
                    &invalid(
                        i * 100 + r,
                        &format!("column \"C{i}\": \"v\" is not a real date"),
                    ),
                );
            }
        }
        let g = p.groups();
        assert_eq!(g.len(), MAX_GROUPS + 1);
        let other = g.iter().find(|g| g.kind == Kind::Other).unwrap();
        assert_eq!(other.rows, 50 * 10);
        assert!(g.iter().all(|g| g.examples.len() <= EXAMPLES));
        assert_eq!(g.iter().map(|g| g.rows).sum::<u64>(), p.parts);
    }

    #[test]
    fn huge_cells_are_cut_with_their_length() {
        let big = "9".repeat(5 * 1024 * 1024);
        let mut p = Problems::default();
        add(
            &mut p,
            &invalid(
                2,
                &format!("column \"Saldo\": \"{big}x\" is not a number (decimal separator \",\")"),
            ),
        );
        let g = p.groups();
        let v = &g[0].examples[0].value;
        assert_eq!(v.text.chars().count(), MAX_CELL_CHARS);
        assert_eq!(v.cut_from, Some(5 * 1024 * 1024 + 1));
    }
}
