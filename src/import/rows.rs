//! The stream of rows, mapped and validated, that both the dry run and the
//! real run consume.

use crate::mapping::{MappedRow, Mapping, Plan};
use crate::results::{Outcome, Status};
use crate::source::{Format, Header, Row, Source, SourceError};
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

/// A row that passed validation and may be sent.
#[derive(Debug, Clone)]
pub struct ValidRow {
    pub row: u64,
    pub mapped: MappedRow,
    /// The row as the input spelled it, kept only when `--rejects` is asked
    /// for, so a row the API refuses can be written there.
    pub cells: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Valid(ValidRow),
    Invalid {
        outcome: Outcome,
        cells: Option<Vec<String>>,
    },
}

impl Item {
    pub fn row(&self) -> u64 {
        match self {
            Item::Valid(v) => v.row,
            Item::Invalid { outcome, .. } => outcome.row,
        }
    }
}

/// How cells are spelled back into text for the rejects file, so the same
/// mapping reads them again.
struct Renderer {
    decimal: DecimalSeparator,
    date_format: DateFormat,
}

/// The most rows the duplicate table is sized for up front; past that it
/// grows as needed.
const MAX_RESERVED_ROWS: u64 = 8_000_000;

pub struct RowFeed {
    source: Source,
    plan: Plan,
    /// Fingerprint of (wolkvox_id, id) → first row that had it. A 64-bit
    /// SipHash fingerprint keeps this at ~16 bytes a row; a false match needs
    /// a 64-bit collision (odds about 1 in 10^7 for a million rows).
    seen: HashMap<u64, u64, BuildHasherDefault<Prehashed>>,
    keep_cells: bool,
    renderer: Renderer,
    /// Columns with no name in the header already warned about: what they
    /// hold is never sent, which a person should hear once, not per row.
    warned_unnamed: Vec<usize>,
    /// The header and the file, for those warnings (a row borrows the source).
    header: Header,
    path: std::path::PathBuf,
}

/// Columns with no name warned about, at most.
const MAX_UNNAMED_WARNINGS: usize = 5;

impl RowFeed {
    pub fn new(source: Source, plan: Plan, mapping: &Mapping, keep_cells: bool) -> RowFeed {
        // Sized up front from the file's estimated rows: growing the table
        // doubles it, and while it doubles the old and the new table are both
        // in memory, which was most of a large dry run's peak.
        let expected = source.estimated_rows().unwrap_or(0).min(MAX_RESERVED_ROWS) as usize;
        let header = source.header().clone();
        let path = source.path().to_path_buf();
        let mut seen = HashMap::default();
        seen.reserve(expected + expected / 16);
        RowFeed {
            source,
            plan,
            seen,
            keep_cells,
            renderer: Renderer {
                decimal: mapping.decimal,
                date_format: mapping
                    .input_date_formats
                    .first()
                    .cloned()
                    .unwrap_or_else(|| DateFormat::new("%d/%m/%Y").expect("valid")),
            },
            warned_unnamed: Vec::new(),
            header,
            path,
        }
    }

    pub fn header(&self) -> &[String] {
        &self.source.header().names
    }

    pub fn next_item(&mut self) -> Result<Option<Item>, SourceError> {
        let width = self.source.header().names.len();
        let Some(row) = self.source.next_row()? else {
            return Ok(None);
        };
        if self.warned_unnamed.len() < MAX_UNNAMED_WARNINGS {
            let header = &self.header;
            // A CSV row wider than its header is already a row problem.
            let beyond = if header.format == Format::Workbook {
                width..row.len()
            } else {
                0..0
            };
            let unnamed = self.plan.unnamed_columns().iter().copied().chain(beyond);
            for i in unnamed {
                if self.warned_unnamed.len() >= MAX_UNNAMED_WARNINGS {
                    break;
                }
                if !row.get(i).is_blank() && !self.warned_unnamed.contains(&i) {
                    self.warned_unnamed.push(i);
                    tracing::warn!(
                        "{}, row {}, {}: a value under a column with no name in the header (row {}); \
                         such a column is never sent: give it a name to send it in form",
                        self.path.display(),
                        row.number,
                        header.position(i),
                        header.row
                    );
                }
            }
        }
        let cells = self.keep_cells.then(|| self.renderer.render(row, width));
        let number = row.number;
        let item = match self.plan.map_row(row) {
            Ok(mapped) => {
                let key = fingerprint(&mapped.wolkvox_id, &mapped.id);
                match self.seen.get(&key) {
                    Some(&first) => {
                        let error = format!(
                            "duplicate of row {first} (same wolkvox_id \"{}\" and id \"{}\")",
                            mapped.wolkvox_id, mapped.id
                        );
                        Item::Invalid {
                            outcome: Outcome::with_ids(
                                number,
                                Status::Invalid,
                                mapped.wolkvox_id,
                                mapped.id,
                            )
                            .with_error(error),
                            cells,
                        }
                    }
                    None => {
                        self.seen.insert(key, number);
                        Item::Valid(ValidRow {
                            row: number,
                            mapped,
                            cells,
                        })
                    }
                }
            }
            Err(e) => Item::Invalid {
                outcome: Outcome::with_ids(number, Status::Invalid, e.wolkvox_id, e.id)
                    .with_error(e.message),
                cells,
            },
        };
        Ok(Some(item))
    }
}

/// The duplicate map's keys are already SipHash fingerprints: hashing them
/// again would only cost time.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn fingerprint(wolkvox_id: &str, id: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one((wolkvox_id, id))
}

impl Renderer {
    /// A sound row is written at the header's width, so its error sits under
    /// the `error` header (a workbook row lacks its trailing empty cells). A
    /// row of the wrong width is written as it came: padding a short row
    /// would line its cells up under the wrong columns and let it read back
    /// as valid; as it came, it reads back with the same fault.
    fn render(&self, row: &Row, width: usize) -> Vec<String> {
        let n = if row.problem.is_none() {
            width
        } else {
            row.len()
        };
        (0..n)
            .map(|i| match row.get(i) {
                CellRef::Empty => String::new(),
                CellRef::Text(s) => s.to_string(),
                CellRef::Number(n) => {
                    let s = value::format_float(n);
                    match self.decimal {
                        DecimalSeparator::Dot => s,
                        DecimalSeparator::Comma => s.replace('.', ","),
                    }
                }
                CellRef::Int(n) => n.to_string(),
                CellRef::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
                CellRef::Date(d) => self.date_format.format(d),
                CellRef::Error(e) => e.to_string(),
            })
            .collect()
    }
}
