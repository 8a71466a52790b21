//! The real run: a reader thread feeds validated rows to a bounded queue,
//! `concurrency` workers send them (rate limit, retries, reconciliation all
//! in the `worker` module), and one collector (this task) writes each
//! outcome to the journal, draws progress and decides when to stop.

mod preflight;
mod stop;
mod tuning;
mod worker;

pub use stop::Stop;
pub use tuning::{Mode, Rate, Tuning};

use super::history::{fingerprint, push_done_line, wal_path, History, Prior, Wal};
use super::rows::{Item, RowFeed, ValidRow};
use super::{open_rejects, prepare, ImportSettings, Prepared, RunError, SendSettings, Summary};
use crate::crm::client::Client;
use crate::crm::client::Method;
use crate::mapping::BodyShape;
use crate::progress::Progress;
use crate::results::{Journal, Outcome, PayloadWriter, Status};
use preflight::{preflight, scan};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use stop::{spawn_signal_handler, StopSignal};
use tokio::sync::{mpsc, Mutex};
use worker::{Budget, Worker};

/// Events the collector writes before one flush, at most.
const COLLECT_BATCH: usize = 256;

/// A finished row, sent from a worker or the reader to the collector.
enum Event {
    Finished {
        outcome: Outcome,
        /// The row failed only because of transient answers (for the breaker).
        transient_only: bool,
        /// The body of the last write sent, for `--payloads`.
        sent_body: Option<String>,
        /// A write intent was logged for this row: its outcome goes to the log.
        logged: bool,
        cells: Option<Vec<String>>,
    },
    ReadFailed(String),
    /// A row done in an earlier run, carried into this run's results.
    CarriedOver(Outcome),
}

/// A row for the workers, with what earlier runs know of it.
pub(super) struct Job {
    /// The row's write intent is in the log (synced): only then may it be
    /// written. Rows reached after the run stopped are not logged.
    pub(super) logged: bool,
    pub(super) row: ValidRow,
    pub(super) in_doubt: bool,
}

/// Runs the import against the API.
pub fn run(settings: &ImportSettings, send: &SendSettings) -> Result<Summary, RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Unusable(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(run_async(settings, send))
}

/// The plan for a mode: the primary body is what insert/update sends; upsert
/// also needs the update body.
fn plan_for(settings: &ImportSettings, mode: Mode) -> Result<Prepared, RunError> {
    let shape = match mode {
        Mode::Update => BodyShape::MappedOnly,
        Mode::Insert | Mode::Upsert => BodyShape::Full,
    };
    let mut p = prepare(settings, shape)?;
    if mode == Mode::Upsert {
        p.plan = p.plan.with_update_body();
    }
    Ok(p)
}

async fn run_async(settings: &ImportSettings, send: &SendSettings) -> Result<Summary, RunError> {
    let started = Instant::now();
    let tuning = send.tuning.clone();
    let mode = send.mode;
    let client = Client::new(&send.connection, tuning.timeout, tuning.concurrency)
        .map_err(RunError::Unusable)?;

    let history = super::load_history(settings, send.resume, send.force)?;
    let resuming = history.is_some();
    if let Some(h) = &history {
        tracing::info!(
            done = h.done_rows(),
            "resuming: rows already created or updated are skipped"
        );
        if !h.from_log {
            tracing::warn!(
                "no log beside the results file ({}); rows already done are skipped, but changes to them cannot be detected",
                wal_path(&settings.output).display()
            );
        }
    }

    // One pass before sending: the quota needs the count, a resume the check.
    let needs_scan = send.preflight
        || send.max_requests.is_some()
        || history.as_ref().is_some_and(|h| h.from_log);
    let scan = if needs_scan {
        Some(scan(settings, history.as_ref())?)
    } else {
        None
    };
    if let Some(s) = &scan {
        if s.changed_count > 0 && !send.allow_changed_input {
            let more = s.changed_count.saturating_sub(s.changed.len() as u64);
            let mut msg =
                String::from("the input or the mapping changed since the run being resumed:\n");
            for c in &s.changed {
                msg.push_str(&format!("  {c}\n"));
            }
            if more > 0 {
                msg.push_str(&format!("  … and {more} more\n"));
            }
            if history.as_ref().and_then(|h| h.mapping_fp) != Some(settings.mapping_fingerprint) {
                msg.push_str("  (the mapping file differs from the one used before)\n");
            }
            msg.push_str("Resume with the same file and mapping, or pass --allow-changed-input to carry on (rows already done are not sent again), or --force to start over (which may create duplicates)");
            return Err(RunError::Unusable(msg));
        }
    }

    let mut budget_left: Option<u64> = send.max_requests;
    let mut budget_why = format!("--max-requests {} reached", send.max_requests.unwrap_or(0));
    let mut stop_before_start: Option<String> = None;
    if send.preflight {
        let quota = match preflight(&client, &settings.operation).await {
            Ok(q) => q,
            Err(why) => {
                stop_before_start = Some(why);
                None
            }
        };
        if let Some(q) = quota {
            let to_send = scan.as_ref().map_or(0, |s| s.to_send);
            let needed = to_send * mode.requests_per_row();
            let left = q.remaining();
            let restart = q
                .hours_to_restart
                .map(|h| format!("in about {h} hours"))
                .unwrap_or_else(|| "tomorrow".into());
            if needed > left {
                tracing::warn!(
                    "{to_send} rows need about {needed} requests ({} mode) but the token has {left} left today; sending what fits, the rest stays not_sent until --resume after the quota restarts {restart}",
                    mode.as_str()
                );
            }
            if budget_left.is_none_or(|b| left < b) {
                budget_left = Some(left);
                budget_why = format!(
                    "the token's daily quota ({} requests) is used up; run again with --resume after it restarts {restart}",
                    q.limit
                );
            }
        }
    }

    let Prepared { source, plan } = plan_for(settings, mode)?;
    let mut rejects = open_rejects(settings, &source)?;
    let wal = Arc::new(Wal::open(
        &wal_path(&settings.output),
        resuming,
        settings.mapping_fingerprint,
        mode.as_str(),
        send.wal_sync,
    )?);
    // Flushed by the collector after each batch of finished rows.
    let mut journal = Journal::create(&settings.output, false)?;
    let mut payloads = settings
        .payloads
        .as_deref()
        .map(PayloadWriter::create)
        .transpose()?;
    let progress = Progress::new(settings.progress);
    if settings.progress {
        progress.count_rows_in_background(settings.input.clone(), settings.mapping.source.clone());
    }

    let stop = StopSignal::new();
    if let Some(why) = stop_before_start {
        stop.trigger(Stop::Halt(why));
    }
    spawn_signal_handler(stop.clone());

    // Small enough that few rows are logged but unsent at a crash (each is
    // looked up once on resume), large enough to keep every worker fed.
    let queue = tuning.concurrency * 2 + 2;
    let (work_tx, work_rx) = mpsc::channel::<Job>(queue);
    let (event_tx, mut event_rx) = mpsc::channel::<Event>(256);

    // The reader: blocking I/O on its own thread.
    let keep_cells = rejects.is_some();
    let feed = RowFeed::new(source, plan, &settings.mapping, keep_cells);
    let reader_events = event_tx.clone();
    let reader = std::thread::Builder::new()
        .name("row-reader".into())
        .spawn({
            let log = Logging {
                wal: wal.clone(),
                mode,
                stop: stop.clone(),
                batch: queue,
            };
            move || read_rows(feed, history, log, work_tx, reader_events)
        })
        .map_err(|e| RunError::Unusable(format!("cannot start the reader: {e}")))?;

    let worker = Arc::new(Worker {
        client,
        limiter: tuning.rate.map(|r| r.limiter()),
        tuning: tuning.clone(),
        mode,
        operation: settings.operation.clone(),
        stop: stop.clone(),
        keep_sent_bodies: payloads.is_some(),
        requests: AtomicU64::new(0),
        budget: Budget {
            left: budget_left.map(AtomicU64::new),
            why: budget_why,
        },
    });
    let work_rx = Arc::new(Mutex::new(work_rx));
    let mut workers = Vec::new();
    for _ in 0..tuning.concurrency.max(1) {
        let worker = worker.clone();
        let work_rx = work_rx.clone();
        let events = event_tx.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let next = work_rx.lock().await.recv().await;
                let Some(job) = next else { break };
                let p = worker.process(&job).await;
                let ev = Event::Finished {
                    outcome: p.outcome,
                    transient_only: p.transient_only,
                    sent_body: p.sent_body,
                    logged: p.logged,
                    cells: job.row.cells,
                };
                if events.send(ev).await.is_err() {
                    break;
                }
            }
        }));
    }
    drop(event_tx);

    // The collector: the only writer of the journal and the progress bar.
    // It takes the events that are ready as one batch, writes them all, then
    // flushes the journal and the log once, and only then counts those rows
    // done: one flush per batch rather than per row keeps a fast API busy.
    let mut summary = Summary::new(false);
    let mut consecutive_transient = 0u32;
    let mut write_error: Option<RunError> = None;
    let mut batch: Vec<Event> = Vec::with_capacity(COLLECT_BATCH);
    let mut log_lines = String::new();
    while let Some(first) = event_rx.recv().await {
        batch.push(first);
        while batch.len() < COLLECT_BATCH {
            match event_rx.try_recv() {
                Ok(ev) => batch.push(ev),
                Err(_) => break,
            }
        }
        if write_error.is_none() {
            let mut written = Ok(());
            for ev in &batch {
                written = written.and_then(|_| match ev {
                    Event::ReadFailed(_) => Ok(()),
                    Event::CarriedOver(outcome) => journal.record(outcome),
                    Event::Finished {
                        outcome,
                        sent_body,
                        logged,
                        cells,
                        ..
                    } => {
                        if *logged {
                            push_done_line(
                                &mut log_lines,
                                outcome.row,
                                outcome.status,
                                outcome.attempts,
                                &outcome.obligation_wolkvox_id,
                            );
                        }
                        journal
                            .record(outcome)
                            .and_then(|_| match (payloads.as_mut(), sent_body) {
                                (Some(p), Some(body)) => p.write(outcome.row, body),
                                _ => Ok(()),
                            })
                            .and_then(|_| match (rejects.as_mut(), cells) {
                                (Some(r), Some(cells)) if !outcome.status.is_success() => {
                                    r.write(outcome.row, cells, &outcome.error)
                                }
                                _ => Ok(()),
                            })
                    }
                });
            }
            let written = written
                .and_then(|_| wal.append(&log_lines))
                .and_then(|_| journal.flush());
            log_lines.clear();
            if let Err(e) = written {
                // Without a journal nothing can be vouched for: stop sending.
                tracing::error!("{e}");
                stop.trigger(Stop::Halt(format!("cannot write the results: {e}")));
                write_error = Some(e.into());
            }
        }
        for ev in batch.drain(..) {
            match ev {
                Event::ReadFailed(msg) => {
                    tracing::error!("{msg}");
                    stop.trigger(Stop::Halt(msg));
                }
                Event::CarriedOver(outcome) => {
                    summary.carried_over += 1;
                    summary.count(&outcome);
                    progress.row_done(&outcome);
                }
                Event::Finished {
                    outcome,
                    transient_only,
                    ..
                } => {
                    log_outcome(&outcome);
                    if transient_only {
                        consecutive_transient += 1;
                        if consecutive_transient >= tuning.breaker {
                            stop.trigger(Stop::Halt(format!(
                                "{consecutive_transient} rows in a row failed with transient errors (last: {}); the server seems down",
                                outcome.error
                            )));
                        }
                    } else if outcome.attempts > 0 && outcome.status != Status::NotSent {
                        consecutive_transient = 0;
                    }
                    summary.count(&outcome);
                    progress.row_done(&outcome);
                }
            }
        }
    }
    for w in workers {
        let _ = w.await;
    }
    let _ = reader.join();
    progress.finish();

    wal.sync()?;
    journal.finish()?;
    if let Some(p) = payloads {
        p.finish()?;
    }
    if let Some(r) = rejects {
        r.finish()?;
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    summary.requests = worker.requests.load(Ordering::Relaxed) + u64::from(send.preflight);
    summary.mode = Some(mode);
    summary.elapsed = started.elapsed();
    match stop.get() {
        Some(Stop::Halt(why)) => summary.stopped = Some(why),
        Some(Stop::Interrupt) => summary.interrupted = true,
        None => {}
    }
    Ok(summary)
}

fn log_outcome(o: &Outcome) {
    match o.status {
        Status::Created | Status::Updated => {
            tracing::debug!(row = o.row, status = o.status.as_str(), obligation_wolkvox_id = %o.obligation_wolkvox_id, attempts = o.attempts, "row done")
        }
        Status::Failed | Status::Uncertain => {
            tracing::warn!(
                row = o.row,
                status = o.status.as_str(),
                attempts = o.attempts,
                "row {}: {}",
                o.status.as_str(),
                o.error
            )
        }
        _ => tracing::trace!(row = o.row, status = o.status.as_str(), "row done"),
    }
}

/// Reads and maps every row, to the end of the file even after a stop, so
/// that every row gets its line in the results. Rows done in an earlier run
/// go straight to the collector with their recorded outcome.
///
/// Rows to send are logged here, a batch at a time with one sync for the
/// batch (a group commit), before they are queued for the workers: the
/// intent is on disk before any request for them leaves, and no worker waits
/// on the disk. After a crash, the rows logged but not yet sent (at most a
/// batch and a queue) are looked up once on resume.
fn read_rows(
    mut feed: RowFeed,
    history: Option<History>,
    log: Logging,
    work: mpsc::Sender<Job>,
    events: mpsc::Sender<Event>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(log.batch);
    let flush = |batch: &mut Vec<Job>| -> bool {
        if batch.is_empty() {
            return true;
        }
        if log.stop.get().is_none() {
            let intents: Vec<(u64, Method, u64)> = batch
                .iter()
                .map(|j| {
                    let (method, body) = log.mode.first_write(&j.row.mapped);
                    (j.row.row, method, fingerprint(body.as_bytes()))
                })
                .collect();
            if let Err(e) = log.wal.intend_many(&intents) {
                log.stop
                    .trigger(Stop::Halt(format!("cannot write the log: {e}")));
            } else {
                batch.iter_mut().for_each(|j| j.logged = true);
            }
        }
        batch.drain(..).all(|job| work.blocking_send(job).is_ok())
    };
    loop {
        let item = match feed.next_item() {
            Ok(None) => {
                flush(&mut batch);
                return;
            }
            Ok(Some(item)) => item,
            Err(e) => {
                flush(&mut batch);
                let _ = events.blocking_send(Event::ReadFailed(format!("reading stopped: {e}")));
                return;
            }
        };
        let prior = history
            .as_ref()
            .map_or(Prior::Fresh, |h| h.prior(item.row()));
        let sent = match (item, prior) {
            (
                Item::Valid(v),
                Prior::Done {
                    status,
                    attempts,
                    obligation_wolkvox_id,
                    ..
                },
            ) => {
                let mut outcome = Outcome::new(v.row, status, &v.mapped.wolkvox_id, &v.mapped.id);
                outcome.obligation_wolkvox_id = obligation_wolkvox_id;
                outcome.attempts = attempts;
                events.blocking_send(Event::CarriedOver(outcome)).is_ok()
            }
            (Item::Valid(v), prior) => {
                batch.push(Job {
                    row: v,
                    in_doubt: prior == Prior::InDoubt,
                    logged: false,
                });
                batch.len() < log.batch || flush(&mut batch)
            }
            (Item::Invalid { outcome, cells }, _) => events
                .blocking_send(Event::Finished {
                    outcome,
                    transient_only: false,
                    sent_body: None,
                    logged: false,
                    cells,
                })
                .is_ok(),
        };
        if !sent {
            return;
        }
    }
}

/// What the reader needs to log intents.
struct Logging {
    wal: Arc<Wal>,
    mode: Mode,
    stop: StopSignal,
    /// Rows per group commit.
    batch: usize,
}
