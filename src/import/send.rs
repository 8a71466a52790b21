//! The real run: a reader thread feeds validated rows to a bounded queue,
//! `concurrency` workers send them (rate limit, retries, reconciliation all
//! in [`Worker::process`]), and one collector (this task) writes each
//! outcome to the journal, draws progress and decides when to stop.

use super::rows::{Item, RowFeed, ValidRow};
use super::{open_rejects, prepare, ImportSettings, Prepared, RunError, SendSettings, Summary};
use crate::crm::classify::{classify, classify_lookup, Lookup, Verdict};
use crate::crm::client::{Client, Method};
use crate::mapping::BodyShape;
use crate::progress::Progress;
use crate::results::{Journal, Outcome, PayloadWriter, Status};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Mutex};

/// How hard to push the API.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Requests in flight at most (the API allows 2 per token).
    pub concurrency: usize,
    /// Minimum spacing between requests, from `--rate`.
    pub rate: Option<Rate>,
    /// Retries of a transient failure per row, after the first attempt.
    pub max_retries: u32,
    /// Bound on each request, send to end of answer.
    pub timeout: Duration,
    /// Consecutive rows that fail only transiently before the run stops.
    pub breaker: u32,
    /// First backoff step; doubles each retry up to `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            concurrency: 2,
            rate: None,
            max_retries: 5,
            timeout: Duration::from_secs(30),
            breaker: 20,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
        }
    }
}

/// A request rate: `count` requests per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// Parses `N/s`, `N/min` or `N/h` (also `N/sec`, `N/m`, `N/hour`).
    pub fn parse(s: &str) -> Result<Rate, String> {
        let bad = || format!("--rate \"{s}\": write it as N/s or N/min, e.g. 2/s or 100/min");
        let (n, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!("--rate \"{s}\": the rate must be at least 1"));
        }
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Ok(Rate { count, per })
    }

    /// Evenly spaced, no burst: "30/s" means one request every 33 ms.
    fn limiter(&self) -> DefaultDirectRateLimiter {
        let period = self.per / self.count;
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .expect("period is positive")
            .allow_burst(NonZeroU32::MIN);
        RateLimiter::direct(quota)
    }
}

/// Why the run stops early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Authentication, quota or a dead server: rows not sent are `not_sent`.
    Halt(String),
    /// Ctrl-C or SIGTERM.
    Interrupt,
}

/// Shared stop flag that sleepers can wait on.
#[derive(Clone)]
struct StopSignal {
    tx: Arc<watch::Sender<Option<Stop>>>,
}

impl StopSignal {
    fn new() -> StopSignal {
        StopSignal {
            tx: Arc::new(watch::channel(None).0),
        }
    }

    fn trigger(&self, why: Stop) {
        self.tx.send_if_modified(|cur| {
            if cur.is_none() {
                *cur = Some(why);
                true
            } else {
                false
            }
        });
    }

    fn get(&self) -> Option<Stop> {
        self.tx.borrow().clone()
    }

    /// Sleeps `d` unless the run stops first; true when it slept fully.
    async fn sleep(&self, d: Duration) -> bool {
        let mut rx = self.tx.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = rx.wait_for(Option::is_some) => false,
        }
    }
}

/// A finished row, sent from a worker or the reader to the collector.
enum Event {
    Finished {
        outcome: Outcome,
        /// The row failed only because of transient answers (for the breaker).
        transient_only: bool,
        /// The body of the last request sent, for `--payloads`.
        sent_body: Option<String>,
        cells: Option<Vec<String>>,
    },
    ReadFailed(String),
}

struct Worker {
    client: Client,
    limiter: Option<DefaultDirectRateLimiter>,
    tuning: Tuning,
    operation: String,
    stop: StopSignal,
    requests: AtomicU64,
}

/// What a worker made of a row.
struct Processed {
    outcome: Outcome,
    transient_only: bool,
    sent: bool,
}

impl Worker {
    /// Waits for the rate limiter (awaited, never polled); false if the run
    /// stopped meanwhile.
    async fn ready(&self) -> bool {
        match &self.limiter {
            None => true,
            Some(l) => {
                let mut rx = self.stop.tx.subscribe();
                tokio::select! {
                    _ = l.until_ready() => true,
                    _ = rx.wait_for(Option::is_some) => false,
                }
            }
        }
    }

    /// Full-jitter exponential backoff, or the server's `Retry-After`.
    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.tuning.retry_after_cap);
        }
        let exp = self
            .tuning
            .backoff_base
            .saturating_mul(1u32 << retry.min(16));
        let ceiling = exp.min(self.tuning.backoff_cap);
        let ms = rand::rng().random_range(0..=ceiling.as_millis() as u64);
        Duration::from_millis(ms)
    }

    /// Sends one row until it ends: created, refused, given up, or in doubt
    /// and not resolvable by a lookup. Never resends without a lookup after
    /// a request whose fate is unknown.
    async fn process(&self, row: &ValidRow) -> Processed {
        let m = &row.mapped;
        let mut out = Outcome::new(row.row, Status::NotSent, &m.wolkvox_id, &m.id);
        let mut retries = 0u32;
        let mut last_transient = String::new();
        loop {
            if let Some(stop) = self.stop.get() {
                out.status = Status::NotSent;
                out.error = match stop {
                    Stop::Halt(why) => format!("not sent: the run was stopped ({why})"),
                    Stop::Interrupt => "not sent: the run was interrupted".into(),
                };
                return Processed {
                    sent: out.attempts > 0,
                    outcome: out,
                    transient_only: false,
                };
            }
            if retries > self.tuning.max_retries {
                out.status = Status::Failed;
                out.error = format!("gave up after {} attempts: {last_transient}", out.attempts);
                return Processed {
                    outcome: out,
                    transient_only: true,
                    sent: true,
                };
            }
            if !self.ready().await {
                continue;
            }
            out.attempts += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let x = self.client.obligation(Method::Post, m.body.clone()).await;
            let c = classify(&x);
            out.http_status = c.http_status;
            out.api_code = c.api_code.clone();
            match c.verdict {
                Verdict::Done { wolkvox_id } => {
                    out.status = Status::Created;
                    out.obligation_wolkvox_id = wolkvox_id;
                    out.error.clear();
                    return Processed {
                        outcome: out,
                        transient_only: false,
                        sent: true,
                    };
                }
                Verdict::Refused { message } => {
                    out.status = Status::Failed;
                    out.error = message;
                    return Processed {
                        outcome: out,
                        transient_only: false,
                        sent: true,
                    };
                }
                Verdict::StopRun { message, .. } => {
                    self.stop.trigger(Stop::Halt(message));
                    // Nothing was created by a refused request: the loop's
                    // top marks the row not_sent with the reason.
                }
                Verdict::Transient {
                    message,
                    retry_after,
                } => {
                    last_transient = message;
                    retries += 1;
                    let wait = self.backoff(retries, retry_after);
                    tracing::debug!(
                        row = row.row,
                        attempt = out.attempts,
                        wait_ms = wait.as_millis() as u64,
                        "transient answer: {last_transient}"
                    );
                    self.stop.sleep(wait).await;
                }
                Verdict::InDoubt { message } => {
                    tracing::info!(
                        row = row.row,
                        "outcome unknown ({message}); looking the obligation up before any resend"
                    );
                    match self.reconcile(row, &mut out).await {
                        Ok(true) => {
                            out.status = Status::Created;
                            out.error.clear();
                            return Processed {
                                outcome: out,
                                transient_only: false,
                                sent: true,
                            };
                        }
                        // Not there: sending again cannot duplicate it.
                        Ok(false) => {
                            last_transient = message;
                            retries += 1;
                        }
                        Err(lookup_problem) => {
                            out.status = Status::Uncertain;
                            out.error = format!(
                                "sent, but {message}; the lookup that would tell whether obligation \"{}\" of record \"{}\" was created failed ({lookup_problem}). Check it in the CRM before importing this row again",
                                m.id, m.wolkvox_id
                            );
                            return Processed {
                                outcome: out,
                                transient_only: false,
                                sent: true,
                            };
                        }
                    }
                }
            }
        }
    }

    /// Looks the row's obligation up. `Ok(true)` found (its id recorded),
    /// `Ok(false)` not there, `Err` when no lookup could answer.
    async fn reconcile(&self, row: &ValidRow, out: &mut Outcome) -> Result<bool, String> {
        let m = &row.mapped;
        let mut tries = 0u32;
        loop {
            if tries > self.tuning.max_retries {
                return Err("the lookups kept failing".into());
            }
            if !self.ready().await {
                return Err("the run stopped before the lookup".into());
            }
            tries += 1;
            out.attempts += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let x = self
                .client
                .query(&self.operation, &m.id, &m.wolkvox_id)
                .await;
            let (lookup, http, code) = classify_lookup(&x);
            out.http_status = http;
            out.api_code = code;
            match lookup {
                Lookup::Found { wolkvox_id } => {
                    out.obligation_wolkvox_id = wolkvox_id;
                    return Ok(true);
                }
                Lookup::NotFound => return Ok(false),
                Lookup::Unknown(Verdict::StopRun { message, .. }) => {
                    self.stop.trigger(Stop::Halt(message.clone()));
                    return Err(message);
                }
                Lookup::Unknown(Verdict::Transient { retry_after, .. }) => {
                    let wait = self.backoff(tries, retry_after);
                    if !self.stop.sleep(wait).await && self.stop.get() == Some(Stop::Interrupt) {
                        return Err("the run was interrupted during the lookup".into());
                    }
                }
                Lookup::Unknown(other) => {
                    let wait = self.backoff(tries, None);
                    tracing::debug!(row = row.row, "lookup gave no answer: {other:?}");
                    if !self.stop.sleep(wait).await && self.stop.get() == Some(Stop::Interrupt) {
                        return Err("the run was interrupted during the lookup".into());
                    }
                }
            }
        }
    }
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

async fn run_async(settings: &ImportSettings, send: &SendSettings) -> Result<Summary, RunError> {
    let started = Instant::now();
    let tuning = send.tuning.clone();
    let client = Client::new(&send.connection, tuning.timeout, tuning.concurrency)
        .map_err(RunError::Unusable)?;
    let Prepared { source, plan } = prepare(settings, BodyShape::Full)?;
    let mut rejects = open_rejects(settings, &source)?;
    let mut journal = Journal::create(&settings.output, true)?;
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
    spawn_signal_handler(stop.clone());

    let (work_tx, work_rx) = mpsc::channel::<ValidRow>(tuning.concurrency * 4 + 16);
    let (event_tx, mut event_rx) = mpsc::channel::<Event>(256);

    // The reader: blocking I/O on its own thread.
    let keep_cells = rejects.is_some();
    let feed = RowFeed::new(source, plan, &settings.mapping, keep_cells);
    let reader_events = event_tx.clone();
    let reader = std::thread::Builder::new()
        .name("row-reader".into())
        .spawn(move || read_rows(feed, work_tx, reader_events))
        .map_err(|e| RunError::Unusable(format!("cannot start the reader: {e}")))?;

    let worker = Arc::new(Worker {
        client,
        limiter: tuning.rate.map(|r| r.limiter()),
        tuning: tuning.clone(),
        operation: settings.operation.clone(),
        stop: stop.clone(),
        requests: AtomicU64::new(0),
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
                let Some(row) = next else { break };
                let p = worker.process(&row).await;
                let sent_body = p.sent.then(|| row.mapped.body.clone());
                let ev = Event::Finished {
                    outcome: p.outcome,
                    transient_only: p.transient_only,
                    sent_body,
                    cells: row.cells,
                };
                if events.send(ev).await.is_err() {
                    break;
                }
            }
        }));
    }
    drop(event_tx);

    // The collector: the only writer of the journal and the progress bar.
    let mut summary = Summary::new(false);
    let mut consecutive_transient = 0u32;
    let mut write_error: Option<RunError> = None;
    while let Some(ev) = event_rx.recv().await {
        match ev {
            Event::ReadFailed(msg) => {
                tracing::error!("{msg}");
                stop.trigger(Stop::Halt(msg));
            }
            Event::Finished {
                outcome,
                transient_only,
                sent_body,
                cells,
            } => {
                if write_error.is_none() {
                    let written = journal
                        .record(&outcome)
                        .and_then(|_| match (payloads.as_mut(), &sent_body) {
                            (Some(p), Some(body)) => p.write(outcome.row, body),
                            _ => Ok(()),
                        })
                        .and_then(|_| match (rejects.as_mut(), &cells) {
                            (Some(r), Some(cells)) if !outcome.status.is_success() => {
                                r.write(cells, &outcome.error)
                            }
                            _ => Ok(()),
                        });
                    if let Err(e) = written {
                        // Without a journal nothing can be vouched for: stop sending.
                        tracing::error!("{e}");
                        stop.trigger(Stop::Halt(format!("cannot write the results: {e}")));
                        write_error = Some(e.into());
                    }
                }
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
    for w in workers {
        let _ = w.await;
    }
    let _ = reader.join();
    progress.finish();

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
    summary.requests = worker.requests.load(Ordering::Relaxed);
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
/// that every row gets its line in the results.
fn read_rows(mut feed: RowFeed, work: mpsc::Sender<ValidRow>, events: mpsc::Sender<Event>) {
    loop {
        match feed.next_item() {
            Ok(None) => return,
            Ok(Some(Item::Valid(v))) => {
                if work.blocking_send(v).is_err() {
                    return;
                }
            }
            Ok(Some(Item::Invalid { outcome, cells })) => {
                let ev = Event::Finished {
                    outcome,
                    transient_only: false,
                    sent_body: None,
                    cells,
                };
                if events.blocking_send(ev).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = events.blocking_send(Event::ReadFailed(format!("reading stopped: {e}")));
                return;
            }
        }
    }
}

/// First Ctrl-C or SIGTERM: stop taking rows, drain, write everything.
/// Second: leave at once; the journal already holds every finished row.
fn spawn_signal_handler(stop: StopSignal) {
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            wait_for_signal().await;
            count += 1;
            if count == 1 {
                tracing::warn!("interrupted: finishing the requests in flight, then writing the results (press Ctrl-C again to leave at once)");
                stop.trigger(Stop::Interrupt);
            } else {
                eprintln!("leaving at once; run again with --resume to finish");
                std::process::exit(super::exit::INTERRUPTED);
            }
        }
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("30/s").unwrap(),
            Rate {
                count: 30,
                per: Duration::from_secs(1)
            }
        );
        assert_eq!(
            Rate::parse("100/min").unwrap(),
            Rate {
                count: 100,
                per: Duration::from_secs(60)
            }
        );
        assert_eq!(
            Rate::parse(" 5 / h ").unwrap().per,
            Duration::from_secs(3600)
        );
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("fast").unwrap_err().contains("N/s"));
        assert!(Rate::parse("3/day").is_err());
    }
}
