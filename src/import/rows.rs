//! The stream of rows, mapped and validated, that both the dry run and the
//! real run consume.
//!
//! A row is handed out borrowed ([`FeedRow`]): its ids, body and cells live
//! in buffers the feed reuses for the next row, so a row that is only
//! counted and written costs no allocation. A row that must outlive the next
//! call (one queued for sending) is copied out with [`FeedRow::to_valid`].

use crate::batches::{self, Consumer, Producer};
use crate::import::first_rows::FirstRows;
use crate::import::settings::ImportSettings;
use crate::ledger::known::KeyHash;
use crate::mapping::{MapScratch, MappedRow, Plan, ReportFields};
use crate::problem::{Kind, Problem};
use crate::source::{Format, Header, Row, Source, SourceError};
use crate::tr;
use crate::value::{self, CellRef, DateFormat, DecimalSeparator};

/// A row that passed validation and may be sent.
#[derive(Debug, Clone)]
pub struct ValidRow {
    /// The row number a person sees.
    pub row: u64,
    /// Its identity and insert body.
    pub mapped: MappedRow,
    /// The row as the input spelled it, kept only when `--rejects` is asked
    /// for, so a row the API refuses can be written there.
    pub cells: Option<Vec<String>>,
}

/// One row of the input, mapped and judged; borrowed from the feed until
/// its next call.
#[derive(Debug, Clone, Copy)]
pub struct FeedRow<'a> {
    /// The row number a person sees.
    pub row: u64,
    /// The row's identity, as far as it could be read.
    pub wolkvox_id: &'a str,
    /// The obligation's number, as far as it could be read.
    pub id: &'a str,
    /// Whether it may be sent, and its body when it may.
    pub verdict: Verdict<'a>,
    /// The row as the input spelled it, only with `--rejects`.
    pub cells: Option<&'a [String]>,
    /// A valid row's values for the report's charts, when the plan asks.
    pub report: Option<&'a ReportFields>,
}

/// Whether a row may be sent.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// Passed validation.
    Valid {
        /// The exact JSON body of an insert.
        body: &'a str,
        /// The identity hashed, as the ledger keys obligations.
        key: KeyHash,
    },
    /// Refused by local validation.
    Invalid {
        /// Why, in words a person can act on.
        error: &'a str,
        /// The same, as data: what `error` says, problem by problem.
        problems: &'a [Problem],
    },
}

impl<'a> FeedRow<'a> {
    /// An invalid row's problems; none for a valid row.
    pub fn problems(&self) -> &'a [Problem] {
        match self.verdict {
            Verdict::Invalid { problems, .. } => problems,
            Verdict::Valid { .. } => &[],
        }
    }

    /// A valid row as an owned value, to be sent after the feed moves on.
    pub fn to_valid(&self) -> Option<ValidRow> {
        let Verdict::Valid { body, .. } = self.verdict else {
            return None;
        };
        Some(ValidRow {
            row: self.row,
            mapped: MappedRow {
                wolkvox_id: self.wolkvox_id.to_string(),
                id: self.id.to_string(),
                body: body.to_string(),
                report: self.report.cloned(),
            },
            cells: self.cells.map(<[String]>::to_vec),
        })
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

/// The duplicate table's load factor, in percent: it holds an entry per
/// valid row, the one part of a run whose memory grows with the file.
const DUPLICATE_TABLE_LOAD: u8 = 90;

/// Rows mapped into one batch.
const BATCH_ROWS: usize = 256;
/// Batches mapped ahead of the consumer, at most.
const BATCHES_AHEAD: usize = 3;
/// How many rows ahead the duplicate table's slots are fetched.
const PREFETCH_AHEAD: usize = 8;

/// Rows read and mapped, then judged against the rows before them.
///
/// Reading and mapping, a pure function of each row, run on a thread of
/// their own (`row-mapper`, beside the CSV reader's), in batches that come
/// back to it once consumed: the rows' buffers are reused and never freed
/// on another thread. The duplicate check depends on every row before, so
/// it is made here, on the consumer's side, in row order.
pub struct RowFeed {
    header: Vec<String>,
    /// Writes the bodies of the rows handed out.
    writer: Plan,
    /// The body of the row handed out.
    body: String,
    /// Batches of mapped rows from the mapping thread.
    mapped: Consumer<MappedEntry, SourceError>,
    keep_cells: bool,
    /// (wolkvox_id, id) → first row that had it, exactly, in 10 bytes a
    /// row of memory.
    seen: FirstRows,
    /// The input, for the check's errors.
    path: std::path::PathBuf,
    /// The problem of the duplicate handed out last.
    duplicate: Problem,
}

/// One row as the mapping thread leaves it; its buffers are reused.
#[derive(Default)]
struct MappedEntry {
    row: u64,
    /// The identity (the body is written by the consumer, into its own).
    mapped: MappedRow,
    /// The converted values, independent of the row they came from.
    values: MapScratch,
    /// The identity hashed, for a valid row.
    key: Option<KeyHash>,
    /// Why the row cannot be sent, when it cannot.
    error: Option<String>,
    /// The same, as data.
    problems: Vec<Problem>,
    cells: Vec<String>,
}

/// The mapping side, owned by its thread.
struct Mapper {
    source: Source,
    plan: Plan,
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
    /// Starts reading `source` on a thread of its own, mapping each row with
    /// `plan` (made from `settings`' mapping); `keep_cells` keeps each row's
    /// cells as spelled, for `--rejects`. The duplicate check keeps its keys
    /// in an unnamed file beside `settings`' results.
    pub fn new(source: Source, plan: Plan, settings: &ImportSettings, keep_cells: bool) -> RowFeed {
        let mapping = &settings.mapping;
        // Sized up front from the file's estimated rows: growing the table
        // doubles it, and while it doubles the old and the new table are both
        // in memory.
        let expected = source.estimated_rows().unwrap_or(0).min(MAX_RESERVED_ROWS) as usize;
        let header = source.header().clone();
        let path = source.path().to_path_buf();
        let names = header.names.clone();
        let mut mapper = Mapper {
            source,
            plan,
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
            path: path.clone(),
        };
        // The consumer writes the bodies, from the same plan: the mapping
        // thread has the most to do.
        let writer = mapper.plan.clone();
        let source_path = path.clone();
        let (mut tx, mapped) = batches::channel(BATCHES_AHEAD, BATCH_ROWS);
        let spawned = std::thread::Builder::new()
            .name("row-mapper".into())
            .spawn(move || {
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mapper.run(&mut tx)));
                if result.is_err() {
                    let msg = tr!("source-mapper-failed");
                    tx.fail(SourceError::new(&path, msg));
                }
            });
        let mapped = match spawned {
            Ok(_) => mapped,
            // No thread, no rows: said as a read error on the first call.
            Err(e) => Consumer::failed(SourceError::new(
                &source_path,
                tr!("source-cannot-start", why = e.to_string()),
            )),
        };
        RowFeed {
            header: names,
            writer,
            body: String::new(),
            mapped,
            keep_cells,
            seen: FirstRows::new(
                expected + expected / 32,
                DUPLICATE_TABLE_LOAD,
                &settings.output,
            ),
            path: source_path,
            duplicate: Problem::of_row(Kind::Duplicate, String::new()),
        }
    }

    /// The input's column names, as its header spells them.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next row of the input that is not blank, mapped and judged.
    pub fn next_row(&mut self) -> Result<Option<FeedRow<'_>>, SourceError> {
        if !self.mapped.advance()? {
            return Ok(None);
        }
        // The table is far larger than the caches: its slot for a row a few
        // rows on loads while this one is judged (for the first rows of a
        // batch, from when it arrives).
        let first = if self.mapped.batch_started() {
            0
        } else {
            PREFETCH_AHEAD
        };
        for k in first..=PREFETCH_AHEAD {
            if let Some(key) = self.mapped.ahead(k).and_then(|e| e.key) {
                self.seen.prefetch(key);
            }
        }
        let RowFeed {
            mapped,
            writer,
            body,
            seen,
            duplicate,
            path,
            keep_cells,
            ..
        } = self;
        let e = mapped.current();
        let m = &e.mapped;
        let verdict = match (&e.error, e.key) {
            (Some(error), _) => Verdict::Invalid {
                error,
                problems: &e.problems,
            },
            (None, None) => unreachable!("a valid row is hashed"),
            (None, Some(key)) => match first_row(seen, path, key, m, e.row)? {
                None => {
                    writer.write_detached_body(&e.values, body);
                    Verdict::Valid { body, key }
                }
                Some(first) => {
                    let detail = tr!(
                        "row-duplicate",
                        first = first,
                        wolkvox_id = m.wolkvox_id.as_str(),
                        id = m.id.as_str()
                    );
                    *duplicate = Problem::of_row(Kind::Duplicate, detail);
                    Verdict::Invalid {
                        error: &duplicate.detail,
                        problems: std::slice::from_ref(duplicate),
                    }
                }
            },
        };
        Ok(Some(FeedRow {
            row: e.row,
            wolkvox_id: &m.wolkvox_id,
            id: &m.id,
            verdict,
            cells: (*keep_cells).then_some(e.cells.as_slice()),
            report: e.mapped.report.as_ref().filter(|_| e.error.is_none()),
        }))
    }
}

/// The first row before `row` with `m`'s identity (hashed as `key`), or
/// `None` when it is the first; an error when the check cannot read back
/// its own keys.
fn first_row(
    seen: &mut FirstRows,
    input: &std::path::Path,
    key: KeyHash,
    m: &MappedRow,
    row: u64,
) -> Result<Option<u64>, SourceError> {
    seen.first_row(key, &m.wolkvox_id, &m.id, row)
        .map_err(|why| {
            SourceError::new(
                input,
                tr!("duplicate-keys-unreadable", why = why.to_string()),
            )
        })
}

impl Mapper {
    /// Reads and maps the whole input into batches, until the end, an
    /// error, or the feed going away.
    fn run(&mut self, tx: &mut Producer<MappedEntry, SourceError>) {
        while let Some(mut batch) = tx.take() {
            let (n, end) = self.fill(&mut batch);
            if !tx.send(batch, n) {
                return;
            }
            match end {
                None => {}
                Some(Ok(())) => return,
                Some(Err(e)) => return tx.fail(e),
            }
        }
    }

    /// Fills `batch` with up to `BATCH_ROWS` rows, reusing its entries;
    /// returns how many, and how reading ended if it did.
    fn fill(&mut self, batch: &mut Vec<MappedEntry>) -> (usize, Option<Result<(), SourceError>>) {
        let width = self.header.names.len();
        let mut n = 0;
        while n < BATCH_ROWS {
            let row = match self.source.next_row() {
                Ok(Some(row)) => row,
                Ok(None) => return (n, Some(Ok(()))),
                Err(e) => return (n, Some(Err(e))),
            };
            if batch.len() == n {
                batch.push(MappedEntry::default());
            }
            let e = &mut batch[n];
            n += 1;
            if self.warned_unnamed.len() < MAX_UNNAMED_WARNINGS {
                warn_unnamed(
                    &self.plan,
                    &self.header,
                    &self.path,
                    &mut self.warned_unnamed,
                    row,
                    width,
                );
            }
            if self.keep_cells {
                self.renderer.render(row, width, &mut e.cells);
            }
            e.row = row.number;
            match self.plan.map_values(row, &mut e.mapped, &mut e.values) {
                Ok(()) => {
                    let m = &e.mapped;
                    e.key = Some(KeyHash::of(&m.wolkvox_id, &m.id));
                    e.error = None;
                    e.problems.clear();
                    e.values.detach(row);
                }
                Err(err) => {
                    e.mapped.wolkvox_id = err.wolkvox_id;
                    e.mapped.id = err.id;
                    e.key = None;
                    e.error = Some(err.message);
                    e.problems = err.problems;
                }
            }
        }
        (n, None)
    }
}

/// Warns once per column about a value under a column with no name.
fn warn_unnamed(
    plan: &Plan,
    header: &Header,
    path: &std::path::Path,
    warned: &mut Vec<usize>,
    row: &Row,
    width: usize,
) {
    // A CSV row wider than its header is already a row problem.
    let beyond = if header.format == Format::Workbook {
        width..row.len()
    } else {
        0..0
    };
    let unnamed = plan.unnamed_columns().iter().copied().chain(beyond);
    for i in unnamed {
        if warned.len() >= MAX_UNNAMED_WARNINGS {
            break;
        }
        if !row.get(i).is_blank() && !warned.contains(&i) {
            warned.push(i);
            tracing::warn!(
                "{}",
                tr!(
                    "source-unnamed-value",
                    path = path.display().to_string(),
                    row = row.number,
                    column = header.position(i),
                    header_row = header.row
                )
            );
        }
    }
}

impl Renderer {
    /// A sound row is written at the header's width, so its error sits under
    /// the `error` header (a workbook row lacks its trailing empty cells). A
    /// row of the wrong width is written as it came: padding a short row
    /// would line its cells up under the wrong columns and let it read back
    /// as valid; as it came, it reads back with the same fault.
    fn render(&self, row: &Row, width: usize, cells: &mut Vec<String>) {
        let n = if row.problem.is_none() {
            width
        } else {
            row.len()
        };
        cells.truncate(n);
        cells.resize(n, String::new());
        for (i, cell) in cells.iter_mut().enumerate() {
            cell.clear();
            match row.get(i) {
                CellRef::Empty => {}
                CellRef::Text(s) => cell.push_str(s),
                other => cell.push_str(&self.spell(other)),
            }
        }
    }

    fn spell(&self, cell: CellRef<'_>) -> String {
        match cell {
            CellRef::Empty => String::new(),
            CellRef::Text(s) => s.to_string(),
            CellRef::Number(n) => {
                // A number the spreadsheet rounded must not read back as the
                // sound id its rounded digits would spell.
                let s = if value::is_rounded_number(n) {
                    value::spell_rounded(n)
                } else {
                    value::format_float(n)
                };
                match self.decimal {
                    DecimalSeparator::Dot => s,
                    DecimalSeparator::Comma => s.replace('.', ","),
                }
            }
            CellRef::Int(n) => n.to_string(),
            CellRef::Bool(b) => if b { "TRUE" } else { "FALSE" }.to_string(),
            CellRef::Date(d) => self.date_format.format(d),
            CellRef::Error(e) => e.to_string(),
        }
    }
}
