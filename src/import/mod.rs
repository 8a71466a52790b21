//! `wolkvox-import import`: read, map, validate and (unless a dry run) send.
//!
//! [`rows::RowFeed`] turns the input into a stream of validated rows; the dry
//! run drains it into the results file; [`send`] feeds it to the workers.

pub mod rows;
pub mod send;
pub mod summary;
pub mod triage;

use crate::mapping::{Mapping, Plan};
use crate::results::{Journal, Line, OutputError, PayloadWriter, RejectsWriter, Status};
use crate::source::{Source, SourceError, SourceInfo};
use crate::workbook_out::{self, Rejects, XlsxRejectsWriter};
use rows::{RowFeed, Verdict};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Instant;
pub use summary::Summary;

/// Exit codes, as the contract fixes them.
pub mod exit {
    /// Every row ended well.
    pub const OK: i32 = 0;
    /// The run finished but some rows did not end well.
    pub const SOME_ROWS_FAILED: i32 = 1;
    /// Nothing was sent: the command, mapping or input is unusable, or
    /// another run holds the ledger.
    pub const UNUSABLE: i32 = 2;
    /// The run was stopped after sending began (authentication, quota, an
    /// unreachable server, a local write failure).
    pub const STOPPED: i32 = 3;
    /// Interrupted by Ctrl-C or SIGTERM after draining.
    pub const INTERRUPTED: i32 = 130;
}

/// A failure of the run as a whole (as opposed to a row's failure, which goes
/// in the results file and lets the run go on).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The command, the mapping or the input cannot be used; nothing was sent.
    #[error("{0}")]
    Unusable(String),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Unusable(_) => exit::UNUSABLE,
        }
    }
}

impl From<SourceError> for RunError {
    fn from(e: SourceError) -> Self {
        RunError::Unusable(e.0)
    }
}

impl From<crate::mapping::MappingError> for RunError {
    fn from(e: crate::mapping::MappingError) -> Self {
        RunError::Unusable(e.0)
    }
}

impl From<OutputError> for RunError {
    fn from(e: OutputError) -> Self {
        RunError::Unusable(e.to_string())
    }
}

/// What to send and how, for the network part of a run.
#[derive(Debug, Clone)]
pub struct SendSettings {
    pub connection: crate::crm::Connection,
    pub tuning: send::Tuning,
    pub mode: send::Mode,
    /// Continue the latest run that wrote `--output`, from the ledger.
    pub resume: bool,
    /// Read the token's quota before the first request.
    pub preflight: bool,
    /// At most this many requests in this run.
    pub max_requests: Option<u64>,
}

/// Everything an import needs, validated from the command line and mapping.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub input: PathBuf,
    pub mapping: Mapping,
    pub operation: String,
    pub output: PathBuf,
    pub payloads: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
    /// `--vanished`: where to list the known obligations the file no longer has.
    pub vanished: Option<PathBuf>,
    /// The ledger: written by a real run, read (when it exists) by a dry run.
    pub ledger: PathBuf,
    /// The server a dry run plans for (a real run's is in `send`).
    pub plan_server: Option<String>,
    /// The mode a dry run plans for (a real run's is in `send`).
    pub plan_mode: send::Mode,
    /// `--expect-rows`: fewer data rows than this is an error before
    /// anything is sent (an empty nightly export is noticed).
    pub expect_rows: Option<u64>,
    /// `None` for a dry run.
    pub send: Option<SendSettings>,
    pub progress: bool,
    /// Fingerprint of the mapping file's text, recorded with the run.
    pub mapping_fingerprint: u64,
}

/// The default results path: the input's name with `.results.csv` added,
/// so that `x.csv` and `x.xlsx` next to each other keep their own results.
pub fn default_output(input: &Path) -> PathBuf {
    let mut name = input
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".results.csv");
    input.with_file_name(name)
}

/// The open input and its plan, checked before any row is read.
pub(crate) struct Prepared {
    pub source: Source,
    pub plan: Plan,
}

pub(crate) fn prepare(settings: &ImportSettings) -> Result<Prepared, RunError> {
    let source = Source::open(&settings.input, &settings.mapping.source)?;
    let lookups = crate::mapping::lookup::Lookups::load(&settings.mapping)?;
    let plan = Plan::new_with_lookups(
        &settings.mapping,
        &lookups,
        source.header(),
        &settings.operation,
    )
    .map_err(|e| {
        let mapping = match &settings.mapping.origin {
            Some(p) => format!("the mapping {}", p.display()),
            None => "the mapping".to_string(),
        };
        RunError::Unusable(format!(
            "{}: {mapping} does not fit the file's header (row {}):\n{}",
            settings.input.display(),
            source.header().row,
            e.0
        ))
    })?;
    for w in plan.warnings() {
        tracing::warn!("{}: {w}", mapping_name(settings));
    }
    Ok(Prepared { source, plan })
}

fn mapping_name(settings: &ImportSettings) -> String {
    match &settings.mapping.origin {
        Some(p) => p.display().to_string(),
        None => "the mapping".to_string(),
    }
}

/// Opens `--rejects` in a shape the same mapping reads back: a workbook
/// when the name ends in `.xlsx` (or has no extension and the input is a
/// workbook), else a CSV in the input's delimiter and encoding.
pub(crate) fn open_rejects(
    settings: &ImportSettings,
    source: &Source,
) -> Result<Option<Rejects>, RunError> {
    let Some(given) = &settings.rejects else {
        return Ok(None);
    };
    let m = &settings.mapping;
    let blank = m.source.header_row.map_or(0, |n| n.saturating_sub(1));
    let is_workbook = matches!(source.info(), SourceInfo::Sheet(_));
    let path = &workbook_out::rejects_path(given, is_workbook);
    if path != given && path.canonicalize().ok() == settings.input.canonicalize().ok() {
        return Err(RunError::Unusable(format!(
            "--rejects {} would overwrite the input file {}",
            given.display(),
            settings.input.display()
        )));
    }
    let kind = workbook_out::output_kind("--rejects", path)
        .map_err(|e| RunError::Unusable(format!("{}: {e}", path.display())))?;
    if kind == workbook_out::OutputKind::Workbook {
        let sheet = match source.info() {
            SourceInfo::Sheet(s) => s.sheet.clone(),
            SourceInfo::Csv(_) => m.source.sheet.clone().unwrap_or_else(|| "rejects".into()),
        };
        return Ok(Some(Rejects::Workbook(XlsxRejectsWriter::create(
            path,
            &source.header().names,
            &sheet,
            blank,
        )?)));
    }
    let (delimiter, bom) = match source.info() {
        SourceInfo::Csv(c) => (c.delimiter, c.bom.is_some()),
        SourceInfo::Sheet(_) => (m.source.delimiter.unwrap_or(b','), true),
    };
    let encoding = match source.info() {
        SourceInfo::Csv(c) if c.bom.is_some() => encoding_rs::UTF_8,
        _ => m.source.encoding.unwrap_or(encoding_rs::UTF_8),
    };
    Ok(Some(Rejects::Csv(RejectsWriter::create(
        path,
        &source.header().names,
        delimiter,
        encoding,
        bom,
        blank,
    )?)))
}

/// Runs an import: a dry run when `settings.send` is `None`.
pub fn run(settings: &ImportSettings) -> Result<Summary, RunError> {
    if let Some(expected) = settings.expect_rows {
        check_row_count(settings, expected)?;
    }
    let summary = match &settings.send {
        None => dry_run(settings),
        Some(send) => send::run(settings, send),
    }?;
    if summary.rows() == 0 {
        tracing::warn!(
            "{} has a header but no data rows: nothing to import (pass --expect-rows N to make this an error)",
            settings.input.display()
        );
    }
    Ok(summary)
}

/// Counts the input's data rows (read, not mapped) and refuses fewer than
/// `expected`, before anything is sent.
fn check_row_count(settings: &ImportSettings, expected: u64) -> Result<(), RunError> {
    let mut source = Source::open(&settings.input, &settings.mapping.source)?;
    let mut n = 0u64;
    while source.next_row()?.is_some() {
        n += 1;
    }
    if n < expected {
        return Err(RunError::Unusable(format!(
            "{} has {n} data rows, fewer than --expect-rows {expected}; nothing was sent (is the export complete?)",
            settings.input.display()
        )));
    }
    Ok(())
}

/// What a dry run knows from the ledger, when there is one.
struct DryLedger {
    mode: send::Mode,
    known: crate::ledger::known::Known,
    doubts: std::collections::HashMap<crate::ledger::known::KeyHash, crate::ledger::Doubt>,
    counts: triage::PlanCounts,
}

/// Reads what the ledger knows for the dry run's server and operation. The
/// ledger is opened read-only: a dry run never creates or writes it.
fn dry_ledger(settings: &ImportSettings) -> Result<Option<DryLedger>, RunError> {
    let unusable = |e: crate::ledger::LedgerError| RunError::Unusable(e.to_string());
    let Some(ledger) = crate::ledger::Ledger::open_read_only(&settings.ledger).map_err(unusable)?
    else {
        return Ok(None);
    };
    let server = match &settings.plan_server {
        Some(s) => s.clone(),
        None => {
            let servers = ledger.servers_for(&settings.operation).map_err(unusable)?;
            match servers.as_slice() {
                [one] => one.clone(),
                [] => return Ok(None),
                many => {
                    tracing::info!(
                        "the ledger knows operation \"{}\" on {} servers ({}); pass --server to see the plan for one",
                        settings.operation,
                        many.len(),
                        many.join(", ")
                    );
                    return Ok(None);
                }
            }
        }
    };
    let Some(scope) = ledger
        .find_scope(&server, &settings.operation)
        .map_err(unusable)?
    else {
        return Ok(None);
    };
    Ok(Some(DryLedger {
        mode: settings.plan_mode,
        known: ledger.load_known(scope).map_err(unusable)?,
        doubts: ledger.load_doubts(scope).map_err(unusable)?,
        counts: triage::PlanCounts::default(),
    }))
}

fn dry_run(settings: &ImportSettings) -> Result<Summary, RunError> {
    let started = Instant::now();
    if settings.operation == crate::mapping::init::OPERATION_PLACEHOLDER {
        tracing::warn!(
            "{}: [request] operation is still \"{}\"; set it to your CRM operation, or sending will refuse to start",
            mapping_name(settings),
            crate::mapping::init::OPERATION_PLACEHOLDER
        );
    }
    let Prepared { source, plan } = prepare(settings)?;
    let mut ledger = dry_ledger(settings)?;
    let update_shape = plan.update_shape();
    let mut rejects = open_rejects(settings, &source)?;
    let mut journal = Journal::create(&settings.output)?;
    let mut payloads = settings
        .payloads
        .as_deref()
        .map(PayloadWriter::create)
        .transpose()?;
    let mut summary = Summary::new(true);
    let mut feed = RowFeed::new(source, plan, &settings.mapping, rejects.is_some());
    while let Some(r) = feed.next_row()? {
        let line = match r.verdict {
            Verdict::Valid { body, key } => {
                // Without a ledger every valid row would be sent as inserted;
                // with one, only what the plan sends, as it would send it.
                let body = match ledger.as_mut() {
                    None => Some(Cow::Borrowed(body)),
                    Some(l) => {
                        let fp = crate::ledger::fingerprint(body.as_bytes());
                        l.known.mark_seen(key);
                        let k = triage::Knowledge {
                            known: l.known.get(key),
                            doubt: l.doubts.get(&key).copied(),
                            carried: None,
                        };
                        let t = triage::triage(l.mode, fp, k);
                        l.counts.count(&t);
                        match t {
                            triage::Triage::Send(a)
                                if a.write == crate::crm::client::Method::Put =>
                            {
                                Some(Cow::Owned(update_shape.body(body)))
                            }
                            triage::Triage::Send(_) => Some(Cow::Borrowed(body)),
                            _ => None,
                        }
                    }
                };
                if let (Some(p), Some(body)) = (payloads.as_mut(), body) {
                    p.write(r.row, &body)?;
                }
                Line::new(r.row, Status::Valid, r.wolkvox_id, r.id)
            }
            Verdict::Invalid { error } => {
                if let Some(l) = ledger.as_mut() {
                    l.known
                        .mark_seen(crate::ledger::known::KeyHash::of(r.wolkvox_id, r.id));
                }
                if let (Some(rj), Some(cells)) = (rejects.as_mut(), r.cells) {
                    rj.write(r.row, cells, error)?;
                }
                Line {
                    error,
                    ..Line::new(r.row, Status::Invalid, r.wolkvox_id, r.id)
                }
            }
        };
        summary.count_line(&line);
        journal.write_line(&line)?;
    }
    journal.finish()?;
    if let Some(p) = payloads {
        p.finish()?;
    }
    if let Some(r) = rejects {
        r.finish()?;
    }
    if let Some(l) = ledger {
        summary.mode = Some(l.mode);
        summary.plan = Some((l.mode, l.counts));
        summary.ledger = Some(settings.ledger.clone());
        summary.vanished = Some(l.known.unseen().len() as u64);
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}
