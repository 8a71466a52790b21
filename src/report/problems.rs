//! The rows that did not end well, grouped by kind of problem and column,
//! with a count, the first few rows as a person sees them, and what to do.
//!
//! Each problem comes as data from where it was found: an invalid row's
//! [`Problem`]s, the kind a failed or uncertain row's outcome carries. No
//! message is read back to learn what went wrong. Only the API's refusals,
//! whose words are the server's own, are told apart by their text, with the
//! quoted values and numbers left out so that one message about many rows
//! is one group.

pub use crate::problem::Kind;
use crate::problem::Problem;
use crate::results::{Line, Status};
use std::collections::HashMap;

/// Examples kept per group.
pub const EXAMPLES: usize = 5;
/// Groups told apart; later kinds are counted in one "other problems" group.
pub const MAX_GROUPS: usize = 100;
/// The longest cell shown (characters); longer ones are cut, with a mark.
pub const MAX_CELL_CHARS: usize = 200;

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
    /// The lookup file a key is not in ([`Kind::NotInLookup`]).
    pub lookup: Option<String>,
    /// The first message of the group, cut, for kinds whose name does not
    /// say what is wrong (another problem, the API's refusal).
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
    /// The lookup file a key is not in: one group per file.
    lookup: Option<String>,
    /// An API refusal's message, values left out.
    pattern: Option<String>,
}

/// One problem of one row, borrowed from where it is kept.
struct Part<'a> {
    kind: Kind,
    column: Option<&'a str>,
    /// The offending value.
    value: Option<&'a str>,
    /// The lookup file a key is not in.
    lookup: Option<&'a str>,
    /// The problem as the row's `error` says it.
    problem: Option<&'a Problem>,
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
    /// Counts a finished row: an invalid one by `problems`, its problems as
    /// they were found; a failed or uncertain one by the kind its line
    /// carries. Rows that ended well or were not sent (the run's reason,
    /// not the row's) are not problems.
    pub fn add(&mut self, line: &Line<'_>, problems: &[Problem]) {
        match line.status {
            Status::Invalid => {
                self.rows += 1;
                for p in problems {
                    let part = Part {
                        kind: p.kind,
                        column: p.column.as_deref(),
                        value: p.value.as_deref(),
                        lookup: p.lookup.as_deref(),
                        problem: Some(p),
                    };
                    self.add_part(line, part);
                }
                if problems.is_empty() {
                    // Nobody said what: shown by its message.
                    self.add_part(line, Part::ended(Kind::Row));
                }
            }
            Status::Failed | Status::Uncertain => {
                self.rows += 1;
                let kind = match (line.status, line.kind) {
                    (Status::Uncertain, _) => Kind::Uncertain,
                    (_, Some(kind)) => kind,
                    (_, None) => Kind::Refused,
                };
                self.add_part(line, Part::ended(kind));
            }
            _ => {}
        }
    }

    fn add_part(&mut self, line: &Line<'_>, part: Part<'_>) {
        self.parts += 1;
        let mut key = Key {
            status: line.status,
            kind: part.kind,
            column: part.column.map(str::to_string),
            lookup: part.lookup.map(str::to_string),
            pattern: (part.kind == Kind::Refused).then(|| pattern_of(line.error)),
        };
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_GROUPS {
            key = Key {
                status: line.status,
                kind: Kind::Other,
                column: None,
                lookup: None,
                pattern: None,
            };
        }
        let group = self.groups.entry(key.clone()).or_insert_with(|| Group {
            status: key.status,
            kind: key.kind,
            column: key.column.clone(),
            lookup: key.lookup.clone(),
            message: shows_message(key.kind).then(|| match part.problem {
                Some(p) => Shown::of(&p.text()),
                None => Shown::of(line.error),
            }),
            rows: 0,
            examples: Vec::new(),
        });
        group.rows += 1;
        if group.examples.len() < EXAMPLES {
            let value = if key.kind.shows_cell() {
                Shown::of(part.value.unwrap_or_default())
            } else {
                Shown::of(&obligation(line))
            };
            group.examples.push(Example {
                row: line.row,
                value,
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

impl Part<'_> {
    /// The one problem of a row that ended with `kind`, said by its line.
    fn ended(kind: Kind) -> Part<'static> {
        Part {
            kind,
            column: None,
            value: None,
            lookup: None,
            problem: None,
        }
    }
}

/// The kinds whose name does not say what is wrong: their group shows its
/// first message.
fn shows_message(kind: Kind) -> bool {
    // A lookup's problem is about a row of another file: its message names
    // the file, the row and the column there.
    matches!(
        kind,
        Kind::Cell
            | Kind::Row
            | Kind::Refused
            | Kind::Other
            | Kind::LookupKeyRounded
            | Kind::LookupValue
            | Kind::LookupValueEmpty
    )
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

/// The API's message with its quoted values and numbers left out, so that
/// refusals of different rows and values fall in one group.
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
    use crate::mapping::{Mapping, Plan};
    use crate::results::Outcome;
    use crate::source::{Format, Header, Row};

    /// The real problems, from the real mapping, of cells a bank's file has.
    fn problems_for(cells: &[&[&str]]) -> Vec<Vec<Problem>> {
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
                plan.map_row(&row).unwrap_err().problems
            })
            .collect()
    }

    fn invalid(row: u64) -> Outcome {
        Outcome::new(row, Status::Invalid, "REG-1", "OB-1")
    }

    fn cell(kind: Kind, column: &str, value: &str) -> Problem {
        Problem::in_cell(
            kind,
            column,
            Some(value.into()),
            format!("\"{value}\" is bad"),
        )
    }

    /// (kind, column, rows) of every group, in the page's order.
    fn summary(p: &Problems) -> Vec<(Kind, Option<String>, u64)> {
        p.groups()
            .iter()
            .map(|g| (g.kind, g.column.clone(), g.rows))
            .collect()
    }

    #[test]
    fn the_mappings_problems_are_grouped_by_their_data() {
        let rows = [
            &["R", "1", "N/A", "01/02/2024", "3"][..],
            &["R", "2", "1.5", "01/02/2024", "3"],
            &["R", "3", "10", "31/02/2024", "3"],
            &["R", "4", "10", "2024/13/45", "3"],
            &["R", "5", "10", "01/02/2024", "12,5"],
            &["R", "", "10", "01/02/2024", "3"],
            &["R", "7", "x\"; column \"y", "30/02/2024", "1,5"],
        ];
        let found = problems_for(&rows);
        let mut p = Problems::default();
        for (i, problems) in found.iter().enumerate() {
            p.add(&invalid(i as u64 + 2).line(), problems);
        }
        let col = |c: &str| Some(c.to_string());
        assert_eq!(
            summary(&p),
            [
                (Kind::NotANumber, col("Saldo Total"), 2),
                (Kind::ImpossibleDate, col("Fecha Vencimiento"), 2),
                (Kind::NotWhole, col("Días Mora"), 2),
                (Kind::DecimalSeparator, col("Saldo Total"), 1),
                (Kind::NotADate, col("Fecha Vencimiento"), 1),
                (Kind::Empty, col("Nro Obligación"), 1),
            ]
        );
        assert_eq!((p.rows, p.parts), (7, 9));
        // The value is the cell's, however it looks: one that reads like the
        // start of another problem is still one value of one problem.
        let hostile = &found[6];
        assert_eq!(hostile.len(), 3);
        assert_eq!(hostile[0].value.as_deref(), Some("x\"; column \"y"));
        let not_number = p
            .groups()
            .into_iter()
            .find(|g| g.kind == Kind::NotANumber)
            .unwrap();
        let ex: Vec<(u64, &str)> = not_number
            .examples
            .iter()
            .map(|e| (e.row, e.value.text.as_str()))
            .collect();
        assert_eq!(ex, [(2, "N/A"), (8, "x\"; column \"y")]);
    }

    #[test]
    fn failed_rows_are_grouped_by_the_kind_they_carry_whatever_their_words() {
        let mut p = Problems::default();
        let gave_up = |row, words: &str| {
            Outcome::new(row, Status::Failed, "REG-2", &format!("OB-{row}"))
                .with_error(words)
                .with_kind(Kind::GaveUp)
        };
        p.add(&gave_up(2, "gave up after 6 attempts: 503").line(), &[]);
        p.add(&gave_up(3, "se abandonó tras 6 intentos: 503").line(), &[]);
        let api = |row, id: &str| {
            Outcome::new(row, Status::Failed, "REG-2", id)
                .with_error(format!(
                    "SOME PARAMETERS ARE REQUIRED: fields.name \"{id}\""
                ))
                .with_kind(Kind::Refused)
        };
        p.add(&api(20, "OB-20").line(), &[]);
        p.add(&api(21, "OB-21").line(), &[]);
        let other = Outcome::new(22, Status::Failed, "REG-2", "OB-22")
            .with_error("PLEASE CHECK THE FIELDS")
            .with_kind(Kind::Refused);
        p.add(&other.line(), &[]);
        let exists = Outcome::new(23, Status::Failed, "REG-2", "OB-23")
            .with_error("ya está en el CRM")
            .with_kind(Kind::Exists);
        p.add(&exists.line(), &[]);
        let doubt = Outcome::new(24, Status::Uncertain, "REG-2", "OB-24").with_error("?");
        p.add(&doubt.line(), &[]);
        p.add(&Outcome::new(25, Status::Created, "a", "b").line(), &[]);
        let stopped = Outcome::new(26, Status::NotSent, "a", "b").with_error("not sent");
        p.add(&stopped.line(), &[]);
        let g = p.groups();
        let kinds: Vec<(Kind, u64)> = g.iter().map(|g| (g.kind, g.rows)).collect();
        assert_eq!(
            kinds,
            [
                (Kind::GaveUp, 2),
                (Kind::Refused, 2),
                (Kind::Refused, 1),
                (Kind::Exists, 1),
                (Kind::Uncertain, 1),
            ]
        );
        assert_eq!((p.rows, p.parts), (7, 7));
        // An API refusal shows the obligation, and its first message.
        assert_eq!(g[1].examples[0].value.text, "REG-2 / OB-20");
        assert!(g[1]
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("SOME PARAMETERS"));
        assert!(g[0].message.is_none(), "the kind says what it is");
    }

    #[test]
    fn groups_are_by_kind_and_column_sorted_by_count() {
        let mut p = Problems::default();
        let mut add = |row, problems: &[Problem]| p.add(&invalid(row).line(), problems);
        let date = |c: &str, v: &str| cell(Kind::ImpossibleDate, c, v);
        add(5, &[date("Fecha Vencimiento", "31/02/2024")]);
        add(9, &[date("Fecha Vencimiento", "30/02/2023")]);
        add(3, &[date("Fecha Último Pago", "31/04/2024")]);
        for (row, v) in [(4, "abc"), (11, "x"), (12, "y")] {
            add(row, &[cell(Kind::NotANumber, "Saldo", v)]);
        }
        add(
            14,
            &[Problem::of_row(
                Kind::RowWidth,
                "la fila tiene 3 celdas".into(),
            )],
        );
        let col = |c: &str| Some(c.to_string());
        assert_eq!(
            summary(&p),
            [
                (Kind::NotANumber, col("Saldo"), 3),
                (Kind::ImpossibleDate, col("Fecha Vencimiento"), 2),
                (Kind::ImpossibleDate, col("Fecha Último Pago"), 1),
                (Kind::RowWidth, None, 1),
            ]
        );
        let g = p.groups();
        let ex: Vec<(u64, &str)> = g[1]
            .examples
            .iter()
            .map(|e| (e.row, e.value.text.as_str()))
            .collect();
        assert_eq!(ex, [(5, "31/02/2024"), (9, "30/02/2023")]);
        // A row's problem shows the obligation the row names.
        assert_eq!(g[3].examples[0].value.text, "REG-1 / OB-1");
    }

    #[test]
    fn another_problem_shows_its_first_message() {
        let mut p = Problems::default();
        let rounded = Problem::in_cell(
            Kind::Cell,
            "Cédula",
            Some("4540410858241230".into()),
            "the number 4540410858241230 has more than 15 digits".into(),
        );
        p.add(&invalid(2).line(), &[rounded]);
        let g = p.groups();
        assert_eq!(
            g[0].message.as_ref().unwrap().text,
            "column \"Cédula\": the number 4540410858241230 has more than 15 digits"
        );
        assert_eq!(g[0].examples[0].value.text, "4540410858241230");
    }

    #[test]
    fn groups_and_examples_are_bounded() {
        let mut p = Problems::default();
        for i in 0..(MAX_GROUPS as u64 + 50) {
            for r in 0..10 {
                let problem = cell(Kind::ImpossibleDate, &format!("C{i}"), "v");
                p.add(&invalid(i * 100 + r).line(), &[problem]);
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
        let big = format!("{}x", "9".repeat(5 * 1024 * 1024));
        let mut p = Problems::default();
        p.add(&invalid(2).line(), &[cell(Kind::NotANumber, "Saldo", &big)]);
        let g = p.groups();
        let v = &g[0].examples[0].value;
        assert_eq!(v.text.chars().count(), MAX_CELL_CHARS);
        assert_eq!(v.cut_from, Some(5 * 1024 * 1024 + 1));
    }
}
