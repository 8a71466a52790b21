//! The real run: a reader thread judges each row against the ledger and
//! feeds the rows that need requests to a bounded queue, after recording
//! their intents; `concurrency` workers send them (rate limit, retries,
//! look-ups all in the `worker` module); one collector (this task) records
//! each outcome in the ledger and the results file, draws progress and
//! decides when to stop.

mod collector;
mod decide;
mod preflight;
mod reader;
mod settled;
mod stop;
mod tuning;
mod worker;

pub use stop::Stop;
pub(crate) use tuning::check_timeout;
pub use tuning::{parse_duration, parse_timeout, Mode, Rate, Tuning, MAX_TIMEOUT, MIN_TIMEOUT};

use super::rows::{RowFeed, ValidRow};
use super::triage::Action;
use super::{open_rejects, prepare, ImportSettings, Prepared, RunError, SendSettings, Summary};
use crate::crm::client::Client;
use crate::ledger::lock::{this_process, LedgerLock};
use crate::ledger::{format_time, now_ms, Carried, Doubt, Ledger, NewRun};
use crate::report::{Problems, Timeline};
use crate::results::PayloadWriter;
use crate::tr;
use collector::Collector;
use reader::Reader;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stop::{spawn_cancel_watch, StopSignal};
use tokio::sync::{mpsc, OnceCell};
use worker::{Budget, Processed, Worker};

/// A row for the workers.
struct Job {
    row: ValidRow,
    /// Fingerprint of the row's full body: what the CRM holds once it is in.
    fp: u64,
    action: Action,
    /// The CRM's id for the obligation, when the ledger knows it: an update
    /// answered without one keeps it.
    known_id: Option<String>,
    /// The row's write intent is in the ledger (synced): only then may a
    /// request leave for it. Rows reached after the run stopped are not.
    logged: bool,
}

/// What the collector hears about.
enum Event {
    /// A row the workers took to its end.
    Finished {
        p: Processed,
        fp: u64,
        logged: bool,
        cells: Option<Vec<String>>,
    },
    /// Rows settled without a request: invalid, unchanged, already in the
    /// CRM, or done by the run being resumed.
    Settled(settled::Settled),
    /// Reading stopped on an error.
    ReadFailed(String),
    /// The ledger could not record an intent: nothing more may be sent.
    WriteFailed(crate::ledger::LedgerError),
    /// The whole file was read: which known obligations it listed, and
    /// which it no longer lists.
    ReadDone {
        seen: crate::ledger::seen::IdRanges,
        unseen: Vec<u32>,
    },
}

/// Runs the import against the API until it ends or `cancel` is cancelled;
/// with `--report`, also returns what the page needs.
pub(super) async fn run(
    settings: &ImportSettings,
    send: &SendSettings,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<(Summary, Option<crate::report::Report>), RunError> {
    let started = Instant::now();
    let tuning = &send.tuning;
    let client = Client::new(&send.connection, tuning.timeout, tuning.concurrency)
        .map_err(RunError::Settings)?;
    // The input and the mapping first: a run they refuse touches nothing.
    // Opening them reads the header (and any lookup file): blocking work.
    let Prepared { source, mut plan } = {
        let s = settings.clone();
        tokio::task::spawn_blocking(move || prepare(&s))
            .await
            .map_err(|e| RunError::Internal(tr!("task-failed", why = e.to_string())))??
    };
    if settings.report.is_some() {
        plan = plan.with_report_fields();
    }
    // Locked before any output is opened: a second import must not clobber
    // the files of the one that holds the ledger.
    let session = {
        let (s, send) = (settings.clone(), send.clone());
        tokio::task::spawn_blocking(move || open_session(&s, &send))
            .await
            .map_err(|e| RunError::Internal(tr!("task-failed", why = e.to_string())))??
    };
    run_session(
        settings, send, cancel, started, client, source, plan, session,
    )
    .await
}

/// The ledger's name for a server: its host, so the same CRM is one server
/// however `--server` spells it (a bare host, a URL, another port: a local
/// rehearsal CRM restarted on a new port is still the same CRM).
pub fn server_key(base: &reqwest::Url) -> String {
    base.host_str().unwrap_or("").to_ascii_lowercase()
}

/// A path as the ledger records it: absolute, so a run started from another
/// folder still finds the run it resumes.
pub(crate) fn absolute(path: &Path) -> String {
    let abs = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => dir
            .canonicalize()
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
        _ => std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    };
    abs.display().to_string()
}

/// A file's fingerprint (xxh3 of its bytes), for the run's record.
pub(crate) fn file_fingerprint(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:016x}", h.digest()))
}

/// The ledger opened and locked for this run, with what it knows.
struct Session {
    ledger: Ledger,
    run: NewRun,
    holder: crate::ledger::lock::Holder,
    _lock: LedgerLock,
    known: crate::ledger::known::Known,
    doubts: HashMap<crate::ledger::known::KeyHash, Doubt>,
    carried: HashMap<crate::ledger::known::KeyHash, Carried>,
}

/// A session whose run the ledger has recorded as begun.
struct Begun {
    ledger: Arc<Mutex<Ledger>>,
    run: i64,
    scope: i64,
    known: crate::ledger::known::Known,
    doubts: HashMap<crate::ledger::known::KeyHash, Doubt>,
    carried: HashMap<crate::ledger::known::KeyHash, Carried>,
    /// Held until the run ends.
    _lock: LedgerLock,
}

impl Session {
    /// Records the run's start in the ledger.
    fn begin(self) -> Result<Begun, RunError> {
        let Session {
            mut ledger,
            run: new_run,
            holder,
            _lock,
            known,
            doubts,
            carried,
        } = self;
        let run = ledger
            .begin_run(&new_run, holder.pid, &holder.host)
            .map_err(RunError::Ledger)?;
        Ok(Begun {
            ledger: Arc::new(Mutex::new(ledger)),
            run,
            scope: new_run.scope,
            known,
            doubts,
            carried,
            _lock,
        })
    }
}

/// Locks and opens the ledger and loads what it knows of this server and
/// operation. Any failure here is before the first request: exit 2.
fn open_session(settings: &ImportSettings, send: &SendSettings) -> Result<Session, RunError> {
    let path = &settings.ledger;
    let started = format_time(now_ms());
    let me = this_process(&started);
    // The lock file goes beside the file the path really names, so that two
    // names of one ledger (a symbolic link) share one lock.
    let real = crate::ledger::file::real_path(path).map_err(RunError::Ledger)?;
    let lock = LedgerLock::acquire(&real, &me)?;
    let new = !real.exists();
    if new && send.resume {
        refuse_resume_without_its_ledger(settings, send.mode)?;
    }
    let mut ledger = Ledger::open(path)?;
    if new {
        tracing::warn!("{}", tr!("ledger-new", path = path.display().to_string()));
    }
    let unusable = RunError::Ledger;
    let server = server_key(&send.connection.base);
    let scope = ledger
        .scope(&server, &settings.operation)
        .map_err(unusable)?;
    let output = absolute(&settings.output);
    let (resumes, carried) = if send.resume {
        resume_from(&ledger, scope, &output, settings, send)?
    } else {
        (None, HashMap::new())
    };
    let known = ledger.load_known(scope).map_err(unusable)?;
    let doubts = ledger.load_doubts(scope).map_err(unusable)?;
    // An insert in doubt is looked up before anything is sent for it; an
    // update in doubt is not (sending it again is harmless): say which.
    let inserts = doubts.values().filter(|d| d.insert).count() as u64;
    let updates = doubts.len() as u64 - inserts;
    if inserts > 0 {
        tracing::info!(
            in_doubt = inserts,
            "{}",
            tr!("doubts-at-start", count = inserts)
        );
    }
    if updates > 0 {
        tracing::info!(
            in_doubt = updates,
            "{}",
            tr!("doubts-at-start-updates", count = updates)
        );
    }
    Ok(Session {
        ledger,
        run: NewRun {
            scope,
            started_at: now_ms(),
            input: absolute(&settings.input),
            input_fingerprint: file_fingerprint(&settings.input).unwrap_or_default(),
            mapping: settings
                .mapping
                .origin
                .as_deref()
                .map(absolute)
                .unwrap_or_default(),
            mapping_fingerprint: format!("{:016x}", settings.mapping_fingerprint),
            mode: send.mode.as_str().into(),
            output,
            resumes,
        },
        holder: me,
        _lock: lock,
        known,
        doubts,
        carried,
    })
}

/// `--resume` with no ledger yet, when the results file says an earlier
/// run sent rows: the ledger that knew that run is gone (deleted, or a
/// `--ledger` or `HOME` that changed), and a new one would send those rows
/// again, inserting their obligations a second time. Refused before the
/// new ledger is made, so the next attempt is refused too. `upsert` looks
/// every obligation up before writing it, and `update` inserts nothing, so
/// neither duplicates; nor does the first run of a job, with no results
/// file yet.
fn refuse_resume_without_its_ledger(settings: &ImportSettings, mode: Mode) -> Result<(), RunError> {
    if matches!(mode, Mode::Upsert | Mode::Update) {
        return Ok(());
    }
    let sent = crate::results::rows_sent_in(&settings.output);
    if sent == 0 {
        return Ok(());
    }
    Err(RunError::Settings(tr!(
        "resume-ledger-gone",
        output = settings.output.display().to_string(),
        ledger = settings.ledger.display().to_string(),
        count = sent
    )))
}

/// `--resume`: the run that last wrote `output` for this scope, and the
/// rows it brought to their end; nothing when no run did.
fn resume_from(
    ledger: &Ledger,
    scope: i64,
    output: &str,
    settings: &ImportSettings,
    send: &SendSettings,
) -> Result<(Option<i64>, HashMap<crate::ledger::known::KeyHash, Carried>), RunError> {
    let unusable = RunError::Ledger;
    let Some(prior) = ledger
        .last_run_for_output(scope, output)
        .map_err(unusable)?
    else {
        tracing::info!(
            "{}",
            tr!(
                "resume-nothing",
                output = settings.output.display().to_string()
            )
        );
        return Ok((None, HashMap::new()));
    };
    let carried = ledger.load_carried(prior.id).map_err(unusable)?;
    tracing::info!(
        run = prior.id,
        done = carried.len(),
        "{}",
        tr!(
            "resuming",
            started = format_time(prior.started_at),
            output = settings.output.display().to_string()
        )
    );
    let input_fp = file_fingerprint(&settings.input).unwrap_or_default();
    if prior.input_fingerprint != input_fp {
        tracing::warn!("{}", tr!("resume-input-changed", mode = send.mode.as_str()));
    }
    Ok((Some(prior.id), carried))
}

#[allow(clippy::too_many_arguments)]
async fn run_session(
    settings: &ImportSettings,
    send: &SendSettings,
    cancel: tokio_util::sync::CancellationToken,
    started: Instant,
    client: Client,
    source: crate::source::Source,
    plan: crate::mapping::Plan,
    session: Session,
) -> Result<(Summary, Option<crate::report::Report>), RunError> {
    let tuning = send.tuning.clone();
    let mode = send.mode;
    let update_shape = plan.update_shape();
    let outputs = Outputs::open(settings, &source)?;
    let input_read = source.fingerprint_when_read();
    let stop = StopSignal::new();
    spawn_cancel_watch(stop.clone(), cancel);

    // Small enough that few rows are logged but unsent at a crash (each is
    // looked up once by the next run), large enough to keep workers fed.
    let queue = tuning.concurrency * 2 + 2;
    let (work_tx, work_rx) = mpsc::channel::<Job>(queue);
    let (event_tx, event_rx) = mpsc::channel::<Event>(256);
    // Its lock is held until the run ends, when `begun` goes.
    let begun = session.begin()?;
    let (ledger, run, scope) = (begun.ledger.clone(), begun.run, begun.scope);
    // With --report, the reader counts every valid row (the portfolio) and
    // the collector every finished one (the problems and the pace).
    let fields = settings
        .report
        .as_ref()
        .map(|_| crate::report::MappedFields::of(&settings.mapping));
    let reader = spawn_reader(
        Reader {
            feed: RowFeed::new(source, plan, settings, outputs.rejects.is_some()),
            mode,
            ledger: ledger.clone(),
            run,
            scope,
            known: begun.known,
            doubts: begun.doubts,
            carried: begun.carried,
            stop: stop.clone(),
            batch: queue,
            portfolio: fields.map(crate::report::Portfolio::new),
        },
        work_tx,
        event_tx.clone(),
    )?;
    let worker = new_worker(settings, send, client, &stop, &outputs, update_shape);
    let workers = spawn_workers(&worker, tuning.concurrency, work_rx, event_tx);
    let mut collector = Collector::new(
        ledger,
        run,
        scope,
        mode,
        stop.clone(),
        tuning.breaker,
        outputs,
        settings.observer.clone(),
        // With --report: the problems and the pace, from the first row.
        fields.map(|_| (Problems::default(), Timeline::new(started))),
    );
    collector.collect(event_rx).await;
    for w in workers {
        let _ = w.await;
    }
    let portfolio = reader.join().ok().flatten();
    let report = report_of(fields, portfolio, collector.take_report(), input_read);
    let summary = summarize(collector, &worker, settings, started)?;
    Ok((summary, report))
}

/// The page `--report` asked for, from what the reader and the collector
/// gathered.
fn report_of(
    fields: Option<crate::report::MappedFields>,
    portfolio: Option<crate::report::Portfolio>,
    collected: Option<(crate::report::Problems, crate::report::Timeline)>,
    input_read: Option<std::sync::Arc<std::sync::OnceLock<u64>>>,
) -> Option<crate::report::Report> {
    let (fields, (problems, timeline)) = fields.zip(collected)?;
    Some(crate::report::Report {
        // A reader that died has no portfolio to give: the charts say there
        // are no rows rather than the page going missing.
        portfolio: portfolio.unwrap_or_else(|| crate::report::Portfolio::new(fields)),
        problems,
        timeline: Some(timeline),
        input_read,
    })
}

/// The files a run writes as rows end, opened before anything is sent.
pub(super) struct Outputs {
    pub(super) journal: crate::results::Journal,
    pub(super) payloads: Option<PayloadWriter>,
    pub(super) rejects: Option<crate::workbook_out::Rejects>,
}

impl Outputs {
    fn open(settings: &ImportSettings, source: &crate::source::Source) -> Result<Self, RunError> {
        Ok(Outputs {
            rejects: open_rejects(settings, source)?,
            journal: crate::results::Journal::create(&settings.output)?,
            payloads: settings
                .payloads
                .as_deref()
                .map(PayloadWriter::create)
                .transpose()?,
        })
    }
}

/// The workers' shared state, ready to take jobs.
fn new_worker(
    settings: &ImportSettings,
    send: &SendSettings,
    client: Client,
    stop: &StopSignal,
    outputs: &Outputs,
    update_shape: crate::mapping::UpdateShape,
) -> Arc<Worker> {
    let tuning = send.tuning.clone();
    Arc::new(Worker {
        client,
        limiter: tuning.rate.map(|r| r.limiter()),
        tuning,
        mode: send.mode,
        operation: settings.operation.clone(),
        stop: stop.clone(),
        keep_sent_bodies: outputs.payloads.is_some(),
        counters: Default::default(),
        budget: Budget::new(send.max_requests),
        update_shape,
        preflight: send.preflight,
        preflight_done: OnceCell::new(),
        unreachable: Default::default(),
        answers: Default::default(),
    })
}

/// The collector's summary of a run whose events are all in, with the
/// workers' counts of requests, retries and look-ups.
fn summarize(
    collector: Collector,
    worker: &Worker,
    settings: &ImportSettings,
    started: Instant,
) -> Result<Summary, RunError> {
    let c = &worker.counters;
    let requests = c.requests.load(std::sync::atomic::Ordering::Relaxed);
    let mut summary = collector.finish(settings, requests, started.elapsed())?;
    summary.ledger = Some(settings.ledger.clone());
    summary.retries = c.retries.load(std::sync::atomic::Ordering::Relaxed);
    summary.lookups = c.lookups.load(std::sync::atomic::Ordering::Relaxed);
    summary.quota = *c.quota.lock().unwrap_or_else(|p| p.into_inner());
    Ok(summary)
}

fn spawn_reader(
    reader: Reader,
    work: mpsc::Sender<Job>,
    events: mpsc::Sender<Event>,
) -> Result<std::thread::JoinHandle<Option<crate::report::Portfolio>>, RunError> {
    std::thread::Builder::new()
        .name("row-reader".into())
        .spawn(move || reader.run(work, events))
        .map_err(|e| RunError::Internal(tr!("task-failed", why = e.to_string())))
}

fn spawn_workers(
    worker: &Arc<Worker>,
    n: usize,
    work_rx: mpsc::Receiver<Job>,
    events: mpsc::Sender<Event>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let work_rx = Arc::new(tokio::sync::Mutex::new(work_rx));
    (0..n.max(1))
        .map(|_| {
            let worker = worker.clone();
            let work_rx = work_rx.clone();
            let events = events.clone();
            tokio::spawn(async move {
                loop {
                    let next = work_rx.lock().await.recv().await;
                    let Some(job) = next else { break };
                    let p = worker.process(&job).await;
                    let ev = Event::Finished {
                        p,
                        fp: job.fp,
                        logged: job.logged,
                        cells: job.row.cells,
                    };
                    if events.send(ev).await.is_err() {
                        break;
                    }
                }
            })
        })
        .collect()
}
