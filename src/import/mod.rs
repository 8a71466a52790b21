//! `wolkvox-import import`: read, map, validate and (unless a dry run) send.
//!
//! [`rows::RowFeed`] turns the input into a stream of validated rows; the dry
//! run drains it into the results file; [`send`] feeds it to the workers.

pub mod rows;
pub mod send;
pub mod summary;
pub mod triage;

use crate::mapping::{BodyShape, Mapping, Plan};
use crate::results::{Journal, OutputError, PayloadWriter, RejectsWriter, Status};
use crate::source::{Source, SourceError, SourceInfo};
use rows::{Item, RowFeed};
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
    /// `--report`: where to write the run's HTML page.
    pub report: Option<PathBuf>,
    /// The ledger: written by a real run, read (when it exists) by a dry run.
    pub ledger: PathBuf,
    /// The server a dry run plans for (a real run's is in `send`).
    pub plan_server: Option<String>,
    /// The mode a dry run plans for (a real run's is in `send`).
    pub plan_mode: send::Mode,
    /// `None` for a dry run.
    pub send: Option<SendSettings>,
    pub progress: bool,
    /// Fingerprint of the mapping file's text, recorded with the run.
    pub mapping_fingerprint: u64,
}

/// The default results path: the input with its extension replaced.
pub fn default_output(input: &Path) -> PathBuf {
    input.with_extension("results.csv")
}

/// The open input and its plan, checked before any row is read.
pub(crate) struct Prepared {
    pub source: Source,
    pub plan: Plan,
}

pub(crate) fn prepare(settings: &ImportSettings, shape: BodyShape) -> Result<Prepared, RunError> {
    let source = Source::open(&settings.input, &settings.mapping.source)?;
    let plan = Plan::new(
        &settings.mapping,
        source.header(),
        &settings.operation,
        shape,
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
    Ok(Prepared { source, plan })
}

/// Opens `--rejects` in a shape the same mapping reads back.
pub(crate) fn open_rejects(
    settings: &ImportSettings,
    source: &Source,
) -> Result<Option<RejectsWriter>, RunError> {
    let Some(path) = &settings.rejects else {
        return Ok(None);
    };
    let m = &settings.mapping;
    let (delimiter, bom) = match source.info() {
        SourceInfo::Csv(c) => (c.delimiter, c.bom.is_some()),
        SourceInfo::Sheet(_) => (m.source.delimiter.unwrap_or(b','), true),
    };
    let encoding = match source.info() {
        SourceInfo::Csv(c) if c.bom.is_some() => encoding_rs::UTF_8,
        _ => m.source.encoding.unwrap_or(encoding_rs::UTF_8),
    };
    let blank = m.source.header_row.map_or(0, |n| n.saturating_sub(1));
    Ok(Some(RejectsWriter::create(
        path,
        &source.header().names,
        delimiter,
        encoding,
        bom,
        blank,
    )?))
}

/// Runs an import: a dry run when `settings.send` is `None`.
pub fn run(settings: &ImportSettings) -> Result<Summary, RunError> {
    let started = chrono::Local::now();
    // The page names the input by its fingerprint: read on the side while
    // the rows are, rather than once more after them.
    let fingerprint = settings.report.as_ref().map(|_| {
        let input = settings.input.clone();
        std::thread::spawn(move || send::file_fingerprint(&input).ok())
    });
    let (mut summary, report) = match &settings.send {
        None => dry_run(settings)?,
        Some(send) => send::run(settings, send)?,
    };
    if let (Some(path), Some(report)) = (&settings.report, report) {
        let fingerprint = fingerprint.and_then(|t| t.join().ok()).flatten();
        write_report(settings, path, &report, &mut summary, started, fingerprint)?;
    }
    Ok(summary)
}

/// Writes the page last, once the exit code is known. A report that cannot
/// be written is a local write failure like any other: a dry run is then
/// unusable (2), a real run stopped (3), after its rows were all recorded.
fn write_report(
    settings: &ImportSettings,
    path: &Path,
    report: &crate::report::Report,
    summary: &mut Summary,
    started: chrono::DateTime<chrono::Local>,
    input_fingerprint: Option<String>,
) -> Result<(), RunError> {
    let facts = crate::report::RunFacts {
        input: settings.input.clone(),
        input_fingerprint,
        mapping: settings.mapping.origin.clone(),
        mapping_fingerprint: settings.mapping_fingerprint,
        operation: settings.operation.clone(),
        server: match &settings.send {
            Some(s) => Some(send::server_key(&s.connection.base)),
            None => settings.plan_server.clone(),
        },
        mode: summary.mode.or(summary.plan.map(|p| p.0)),
        dry_run: summary.dry_run,
        started,
        ended: chrono::Local::now(),
    };
    if let Err(e) = crate::report::write(path, report, summary, &facts) {
        let msg = format!(
            "cannot write the report {}: {}",
            path.display(),
            crate::source::open_error(&e)
        );
        if summary.dry_run {
            return Err(RunError::Unusable(msg));
        }
        tracing::error!("{msg}");
        summary.stopped.get_or_insert(msg);
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

fn dry_run(
    settings: &ImportSettings,
) -> Result<(Summary, Option<crate::report::Report>), RunError> {
    let started = Instant::now();
    let Prepared { source, mut plan } = prepare(settings, BodyShape::Full)?;
    let mut report = settings.report.as_ref().map(|_| {
        crate::report::Report::new(crate::report::MappedFields::of(&settings.mapping), None)
    });
    if report.is_some() {
        plan = plan.with_report_fields();
    }
    let mut ledger = dry_ledger(settings)?;
    if ledger
        .as_ref()
        .is_some_and(|l| l.mode != send::Mode::Insert)
    {
        plan = plan.with_update_body();
    }
    let mut rejects = open_rejects(settings, &source)?;
    let mut journal = Journal::create(&settings.output)?;
    let mut payloads = settings
        .payloads
        .as_deref()
        .map(PayloadWriter::create)
        .transpose()?;
    let mut summary = Summary::new(true);
    let mut feed = RowFeed::new(source, plan, &settings.mapping, rejects.is_some());
    while let Some(item) = feed.next_item()? {
        match item {
            Item::Valid(v) => {
                // Without a ledger every valid row would be sent as inserted;
                // with one, only what the plan sends, as it would send it.
                let body = match ledger.as_mut() {
                    None => Some(&v.mapped.body),
                    Some(l) => {
                        let m = &v.mapped;
                        let key = crate::ledger::known::KeyHash::of(&m.wolkvox_id, &m.id);
                        let fp = crate::ledger::fingerprint(m.body.as_bytes());
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
                                Some(m.update_body.as_ref().unwrap_or(&m.body))
                            }
                            triage::Triage::Send(_) => Some(&m.body),
                            _ => None,
                        }
                    }
                };
                if let (Some(p), Some(body)) = (payloads.as_mut(), body) {
                    p.write(v.row, body)?;
                }
                if let Some(r) = report.as_mut() {
                    r.portfolio.add(v.row, &v.mapped);
                }
                let outcome = crate::results::Outcome::with_ids(
                    v.row,
                    Status::Valid,
                    v.mapped.wolkvox_id,
                    v.mapped.id,
                );
                summary.count(&outcome);
                journal.record(&outcome)?;
            }
            Item::Invalid { outcome, cells } => {
                if let Some(l) = ledger.as_mut() {
                    l.known.mark_seen(crate::ledger::known::KeyHash::of(
                        &outcome.wolkvox_id,
                        &outcome.obligation_id,
                    ));
                }
                summary.count(&outcome);
                if let Some(r) = report.as_mut() {
                    r.problems.add(&outcome);
                }
                journal.record(&outcome)?;
                if let (Some(r), Some(cells)) = (rejects.as_mut(), cells) {
                    r.write(&cells, &outcome.error)?;
                }
            }
        }
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
    Ok((summary, report))
}
