//! `wolkvox-import import`: read, map, validate and (unless a dry run) send.
//!
//! [`rows::RowFeed`] turns the input into a stream of validated rows; the dry
//! run drains it into the results file; [`send`] feeds it to the workers.

pub(crate) mod first_rows;
pub mod rows;
pub mod send;
pub mod settings;
pub mod summary;
pub(crate) mod triage;

use crate::mapping::Plan;
use crate::results::{Journal, Line, OutputError, PayloadWriter, RejectsWriter, Status};
use crate::source::{Source, SourceError, SourceInfo};
use crate::tr;
pub use crate::workbook_out::rejects_path;
use crate::workbook_out::{self, Rejects, XlsxRejectsWriter};
use rows::{RowFeed, Verdict};
pub use settings::{ImportBuilder, ImportSettings, SendSettings};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
pub use summary::Summary;
use tokio_util::sync::CancellationToken;
pub use triage::PlanCounts;

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

/// A failure of the run as a whole, found before anything was sent (a row's
/// failure goes in the results file and the run goes on; a failure after
/// sending began ends the run with its summary and exit 3). Each kind says
/// what to fix, and carries its exit code.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The settings cannot be used: a missing server or token, a bad option.
    #[error("{0}")]
    Settings(String),
    /// The input cannot be read, or has fewer rows than expected.
    #[error(transparent)]
    Input(#[from] SourceError),
    /// The mapping file is wrong, or does not fit the input's header.
    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
    /// An output cannot be opened or written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The ledger cannot be used: damaged, another application's, the disk
    /// full before the first request.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// Another import holds the ledger.
    #[error(transparent)]
    LedgerBusy(#[from] crate::ledger::lock::LockError),
    /// The run could not start its own machinery (a thread, the runtime).
    #[error("{0}")]
    Internal(String),
}

impl RunError {
    /// The exit code the contract gives this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            // Nothing was sent: the setup is what needs fixing.
            RunError::Settings(_)
            | RunError::Input(_)
            | RunError::Mapping(_)
            | RunError::Output(_)
            | RunError::Ledger(_)
            | RunError::LedgerBusy(_)
            | RunError::Internal(_) => exit::UNUSABLE,
        }
    }
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
    let source = Source::open_or_empty(&settings.input, &settings.mapping.source)?;
    let lookups = crate::mapping::lookup::Lookups::load(&settings.mapping)?;
    let plan = if source.is_empty_file() {
        // Nothing to map, and no header to check the mapping against: the
        // run ends with no rows and says so.
        Plan::without_header(&settings.mapping, &lookups, &settings.operation)
    } else {
        Plan::new_with_lookups(
            &settings.mapping,
            &lookups,
            source.header(),
            &settings.operation,
        )
    }
    .map_err(|e| {
        let mapping = match &settings.mapping.origin {
            Some(p) => tr!("the-mapping-named", path = p.display().to_string()),
            None => tr!("the-mapping"),
        };
        RunError::Mapping(e.with_context(tr!(
            "mapping-does-not-fit",
            input = settings.input.display().to_string(),
            mapping = mapping,
            row = source.header().row
        )))
    })?;
    for w in plan.warnings() {
        tracing::warn!("{}: {w}", mapping_name(settings));
    }
    Ok(Prepared { source, plan })
}

fn mapping_name(settings: &ImportSettings) -> String {
    match &settings.mapping.origin {
        Some(p) => p.display().to_string(),
        None => tr!("the-mapping"),
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
    // An empty input has nothing to reject, and no header a rejects file
    // could start with to be imported again. An earlier run's rejects at
    // that name (checked as this tool's own output) would be taken for this
    // run's: it goes.
    if source.is_empty_file() {
        let path = workbook_out::rejects_path(given, false);
        if path.is_file() && path.canonicalize().ok() != settings.input.canonicalize().ok() {
            std::fs::remove_file(&path)
                .map_err(|e| RunError::Output(crate::results::OutputError::new(&path, e)))?;
        }
        return Ok(None);
    }
    let m = &settings.mapping;
    let blank = m.source.header_row.map_or(0, |n| n.saturating_sub(1));
    let is_workbook = matches!(source.info(), SourceInfo::Sheet(_));
    let path = &workbook_out::rejects_path(given, is_workbook);
    if path != given && path.canonicalize().ok() == settings.input.canonicalize().ok() {
        return Err(RunError::Settings(tr!(
            "rejects-overwrite-input",
            rejects = given.display().to_string(),
            input = settings.input.display().to_string()
        )));
    }
    let kind = workbook_out::output_kind("--rejects", path)
        .map_err(|e| RunError::Settings(format!("{}: {e}", path.display())))?;
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

/// Watches a run as it goes, row by row, without reading any file.
pub trait Observer: Send + Sync {
    /// A row reached its end: its line of the results.
    fn row_done(&self, line: &Line<'_>);
}

/// The observer of a run, shared with the threads that finish rows.
#[derive(Clone)]
pub struct Observers(pub Arc<dyn Observer>);

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observers")
    }
}

impl Observers {
    pub(crate) fn row_done(this: &Option<Observers>, line: &Line<'_>) {
        if let Some(o) = this {
            o.0.row_done(line);
        }
    }
}

/// Runs an import (a dry run when `settings.send` is `None`) until it ends
/// or `cancel` is cancelled: then the requests in flight finish, every row
/// gets its line, and the summary says it was interrupted.
pub async fn run(
    settings: &ImportSettings,
    cancel: CancellationToken,
) -> Result<Summary, RunError> {
    let started = chrono::Local::now();
    let (mut summary, report) = match &settings.send {
        None => {
            // Reading and mapping are blocking work: off the async threads.
            let s = settings.clone();
            tokio::task::spawn_blocking(move || {
                if let Some(expected) = s.expect_rows {
                    check_row_count(&s, expected)?;
                }
                dry_run(&s, &cancel)
            })
            .await
            .map_err(|e| RunError::Internal(tr!("task-failed", why = e.to_string())))??
        }
        Some(send) => {
            if let Some(expected) = settings.expect_rows {
                let s = settings.clone();
                tokio::task::spawn_blocking(move || check_row_count(&s, expected))
                    .await
                    .map_err(|e| RunError::Internal(tr!("task-failed", why = e.to_string())))??;
            }
            send::run(settings, send, cancel).await?
        }
    };
    if summary.rows() == 0 && !summary.interrupted {
        let input = settings.input.display().to_string();
        // Opened again to tell an empty file from a header with no rows:
        // with no rows this reads a header at most.
        summary.no_header = Source::open_or_empty(&settings.input, &settings.mapping.source)
            .is_ok_and(|s| s.is_empty_file());
        if summary.no_header {
            tracing::warn!("{}", tr!("input-empty", input = input));
        } else {
            tracing::warn!("{}", tr!("no-data-rows", input = input));
        }
    }
    if let (Some(path), Some(report)) = (&settings.report, report) {
        // The page names the input by its fingerprint: a CSV's was taken
        // as it was read; a workbook (or a run stopped before the end of
        // the file) is read once more for it.
        let fingerprint = match report.input_read.as_ref().and_then(|f| f.get()) {
            Some(fp) => Some(format!("{fp:016x}")),
            None => send::file_fingerprint(&settings.input).ok(),
        };
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
        server: summary
            .server
            .clone()
            .or_else(|| settings.plan_server.clone()),
        mode: summary.mode.or(summary.plan.map(|p| p.0)),
        dry_run: summary.dry_run,
        started,
        ended: chrono::Local::now(),
    };
    if let Err(e) = crate::report::write(path, report, summary, &facts) {
        let msg = tr!(
            "report-unwritable",
            path = path.display().to_string(),
            why = crate::source::open_error(&e)
        );
        if summary.dry_run {
            return Err(RunError::Output(OutputError::new(path, msg)));
        }
        tracing::error!("{msg}");
        summary.stopped.get_or_insert(msg);
    }
    Ok(())
}

/// Counts the input's data rows (read, not mapped) and refuses fewer than
/// `expected`, before anything is sent.
fn check_row_count(settings: &ImportSettings, expected: u64) -> Result<(), RunError> {
    let mut source = Source::open_or_empty(&settings.input, &settings.mapping.source)?;
    let mut n = 0u64;
    while source.next_row()?.is_some() {
        n += 1;
    }
    if n < expected {
        return Err(RunError::Input(SourceError::new(
            &settings.input,
            tr!("expect-rows", rows = n, expected = expected),
        )));
    }
    Ok(())
}

/// What a dry run knows from the ledger, when there is one.
struct DryLedger {
    /// The server planned for: given, or the only one the ledger knows
    /// for the operation.
    server: String,
    mode: send::Mode,
    known: crate::ledger::known::Known,
    doubts: std::collections::HashMap<crate::ledger::known::KeyHash, crate::ledger::Doubt>,
    counts: triage::PlanCounts,
    /// The ledger, to list the vanished obligations at the end; `None` when
    /// there is none yet.
    ledger: Option<crate::ledger::Ledger>,
    /// Why the plan counts every row as new, when the ledger knows nothing
    /// of this server and operation (or does not exist yet).
    note: Option<String>,
}

impl DryLedger {
    /// Judges a valid row as the real run would; the body it would send
    /// (an update's when it would update), or `None` when nothing would be.
    fn plan<'b>(
        &mut self,
        body: &'b str,
        key: crate::ledger::known::KeyHash,
        update_shape: &crate::mapping::UpdateShape,
    ) -> Option<Cow<'b, str>> {
        let fp = crate::ledger::fingerprint(body.as_bytes());
        self.known.mark_seen(key);
        let k = triage::Knowledge {
            known: self.known.get(key),
            doubt: self.doubts.get(&key).copied(),
            carried: None,
        };
        let t = triage::triage(self.mode, fp, k);
        self.counts.count(&t);
        match t {
            triage::Triage::Send(a) if a.write == crate::crm::client::Method::Put => {
                Some(Cow::Owned(update_shape.body(body)))
            }
            triage::Triage::Send(_) => Some(Cow::Borrowed(body)),
            _ => None,
        }
    }

    /// An invalid row's obligation is in the file all the same: it has not
    /// vanished.
    fn seen_invalid(&mut self, wolkvox_id: &str, id: &str) {
        self.known
            .mark_seen(crate::ledger::known::KeyHash::of(wolkvox_id, id));
    }

    /// A plan from an empty ledger: every valid row is new.
    fn knowing_nothing(settings: &ImportSettings, server: String, note: String) -> DryLedger {
        DryLedger {
            server,
            mode: settings.plan_mode,
            known: crate::ledger::known::Known::with_capacity(0, 0),
            doubts: std::collections::HashMap::new(),
            counts: triage::PlanCounts::default(),
            ledger: None,
            note: Some(note),
        }
    }

    /// Puts the plan into the run's summary and writes `--vanished`.
    fn tell(self, summary: &mut Summary, settings: &ImportSettings) -> Result<(), RunError> {
        summary.mode = Some(self.mode);
        summary.plan = Some((self.mode, self.counts));
        summary.plan_note = self.note;
        if !self.server.is_empty() {
            summary.server = Some(self.server);
        }
        summary.ledger = Some(settings.ledger.clone());
        if summary.interrupted {
            return Ok(());
        }
        let unseen = self.known.unseen();
        summary.vanished = Some(unseen.len() as u64);
        // A dry run lists them too (the file is a report, like the results);
        // with no ledger there are none, and the file holds its header.
        if let Some(path) = &settings.vanished {
            let rows = match &self.ledger {
                Some(l) => l.obligations_by_id(&unseen).map_err(RunError::Ledger)?,
                None => Vec::new(),
            };
            crate::results::write_vanished(path, &rows).map_err(RunError::Output)?;
        }
        Ok(())
    }
}

/// A dry run with the placeholder operation of `mapping init` says so: the
/// real run will refuse it.
fn warn_placeholder_operation(settings: &ImportSettings) {
    if crate::mapping::init::is_placeholder_operation(&settings.operation) {
        let placeholder = crate::mapping::init::OPERATION_PLACEHOLDER;
        // From --operation when the mapping's own is another.
        let from_flag = settings
            .mapping
            .operation
            .as_deref()
            .is_some_and(|op| !crate::mapping::init::is_placeholder_operation(op));
        let message = if from_flag {
            tr!("operation-placeholder-flag-dry", placeholder = placeholder)
        } else {
            tr!(
                "operation-placeholder-dry",
                mapping = mapping_name(settings),
                placeholder = placeholder
            )
        };
        tracing::warn!("{message}");
    }
}

/// Reads what the ledger knows for the dry run's server and operation. The
/// ledger is opened read-only: a dry run never creates or writes it.
fn dry_ledger(settings: &ImportSettings) -> Result<Option<DryLedger>, RunError> {
    let unusable = RunError::Ledger;
    let given_server = settings.plan_server.clone().unwrap_or_default();
    let Some(ledger) = crate::ledger::Ledger::open_read_only(&settings.ledger).map_err(unusable)?
    else {
        let note = tr!(
            "plan-no-ledger",
            path = settings.ledger.display().to_string()
        );
        return Ok(Some(DryLedger::knowing_nothing(
            settings,
            given_server,
            note,
        )));
    };
    // The real run would refuse a damaged ledger: so does its plan.
    ledger.check_sound().map_err(unusable)?;
    let server = match &settings.plan_server {
        Some(s) => s.clone(),
        None => {
            let servers = ledger.servers_for(&settings.operation).map_err(unusable)?;
            match servers.as_slice() {
                [one] => one.clone(),
                [] => {
                    let note = tr!(
                        "plan-unknown-operation",
                        operation = settings.operation.as_str()
                    );
                    return Ok(Some(DryLedger::knowing_nothing(
                        settings,
                        given_server,
                        note,
                    )));
                }
                many => {
                    tracing::info!(
                        "{}",
                        tr!(
                            "plan-many-servers",
                            operation = settings.operation.as_str(),
                            count = many.len() as u64,
                            servers = many.join(", ")
                        )
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
        let note = tr!(
            "plan-unknown-scope",
            server = server.as_str(),
            operation = settings.operation.as_str()
        );
        return Ok(Some(DryLedger::knowing_nothing(settings, server, note)));
    };
    Ok(Some(DryLedger {
        server,
        mode: settings.plan_mode,
        known: ledger.load_known(scope).map_err(unusable)?,
        doubts: ledger.load_doubts(scope).map_err(unusable)?,
        counts: triage::PlanCounts::default(),
        ledger: Some(ledger),
        note: None,
    }))
}

/// [`run`] for callers outside async code: builds a runtime of its own.
/// Called from inside a Tokio runtime it refuses (use [`run`] there) rather
/// than panic.
pub fn run_blocking(
    settings: &ImportSettings,
    cancel: CancellationToken,
) -> Result<Summary, RunError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(RunError::Settings(tr!("run-blocking-in-async")));
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Internal(tr!("runtime-failed", why = e.to_string())))?
        .block_on(run(settings, cancel))
}

/// A dry run's summary, and its report when `--report` asked for one.
type DryRun = (Summary, Option<crate::report::Report>);

fn dry_run(settings: &ImportSettings, cancel: &CancellationToken) -> Result<DryRun, RunError> {
    let started = Instant::now();
    warn_placeholder_operation(settings);
    let Prepared { source, mut plan } = prepare(settings)?;
    let mut report = settings.report.as_ref().map(|_| crate::report::Report {
        input_read: source.fingerprint_when_read(),
        ..crate::report::Report::new(crate::report::MappedFields::of(&settings.mapping), None)
    });
    if report.is_some() {
        plan = plan.with_report_fields();
    }
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
    let mut feed = RowFeed::new(source, plan, settings, rejects.is_some());
    let mut read = 0u64;
    while let Some(r) = feed.next_row()? {
        read += 1;
        if read.is_multiple_of(1024) && cancel.is_cancelled() {
            summary.interrupted = true;
            break;
        }
        let line = match r.verdict {
            Verdict::Valid { body, key } => {
                // Without a ledger every valid row would be sent as inserted;
                // with one, only what the plan sends, as it would send it.
                let body = match ledger.as_mut() {
                    None => Some(Cow::Borrowed(body)),
                    Some(l) => l.plan(body, key, &update_shape),
                };
                if let (Some(p), Some(body)) = (payloads.as_mut(), body) {
                    p.write(r.row, &body)?;
                }
                if let Some(rp) = report.as_mut() {
                    rp.portfolio.add(r.row, r.id, r.report);
                }
                Line::new(r.row, Status::Valid, r.wolkvox_id, r.id)
            }
            Verdict::Invalid { error, .. } => {
                if let Some(l) = ledger.as_mut() {
                    l.seen_invalid(r.wolkvox_id, r.id);
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
        summary.count_row(&line, r.problems());
        if let Some(rp) = report.as_mut() {
            rp.problems.add(&line, r.problems());
        }
        Observers::row_done(&settings.observer, &line);
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
        l.tell(&mut summary, settings)?;
    }
    summary.elapsed = started.elapsed();
    Ok((summary, report))
}
