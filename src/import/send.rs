//! The real run: a reader thread feeds validated rows to a bounded queue,
//! `concurrency` workers send them (rate limit, retries, reconciliation all
//! in [`Worker::process`]), and one collector (this task) writes each
//! outcome to the journal, draws progress and decides when to stop.

use super::history::{fingerprint, wal_path, History, Prior, Wal};
use super::rows::{Item, RowFeed, ValidRow};
use super::{open_rejects, prepare, ImportSettings, Prepared, RunError, SendSettings, Summary};
use crate::crm::classify::{
    classify, classify_lookup, parse_token_information, Lookup, TokenQuota, Verdict,
};
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

/// What each row asks of the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// POST every row: creates obligations (1 request a row).
    Insert,
    /// PUT only the mapped fields of obligations that exist (1 request a row).
    Update,
    /// Look each obligation up, then update it or insert it (2 requests a row).
    Upsert,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Insert => "insert",
            Mode::Update => "update",
            Mode::Upsert => "upsert",
        }
    }

    /// Requests a row costs when nothing goes wrong.
    pub fn requests_per_row(self) -> u64 {
        match self {
            Mode::Insert | Mode::Update => 1,
            Mode::Upsert => 2,
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
struct Job {
    row: ValidRow,
    in_doubt: bool,
}

/// Requests this run may still make (`--max-requests`, the token's quota).
struct Budget {
    left: Option<AtomicU64>,
    why: String,
}

impl Budget {
    fn take(&self) -> bool {
        match &self.left {
            None => true,
            Some(left) => left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

struct Worker {
    client: Client,
    limiter: Option<DefaultDirectRateLimiter>,
    tuning: Tuning,
    mode: Mode,
    operation: String,
    stop: StopSignal,
    requests: AtomicU64,
    budget: Budget,
    wal: Arc<Wal>,
}

/// What a worker made of a row.
struct Processed {
    outcome: Outcome,
    transient_only: bool,
    /// The body of the last write sent, if any.
    sent_body: Option<String>,
    logged: bool,
}

/// How one write attempt (or its retries) ended.
enum WriteEnd {
    Done(String),
    Refused(String),
    /// The run is stopping; nothing was created by this row's last request.
    Stopped,
    GaveUp(String),
    /// In doubt and no lookup could tell.
    Uncertain(String),
}

impl Worker {
    /// Waits for the rate limiter (awaited, never polled) and takes one
    /// request from the budget; false if the run stopped meanwhile or the
    /// budget is spent (which stops the run).
    async fn ready(&self) -> bool {
        self.ready_for(false).await
    }

    /// [`Worker::ready`]; a `lookup` may go ahead after an interrupt.
    async fn ready_for(&self, lookup: bool) -> bool {
        let blocks = |s: &Option<Stop>| match s {
            None => false,
            Some(Stop::Interrupt) => !lookup,
            Some(Stop::Halt(_)) => true,
        };
        if blocks(&self.stop.get()) {
            return false;
        }
        if let Some(l) = &self.limiter {
            let mut rx = self.stop.tx.subscribe();
            tokio::select! {
                _ = l.until_ready() => {}
                _ = rx.wait_for(blocks) => return false,
            }
        }
        if !self.budget.take() {
            self.stop.trigger(Stop::Halt(self.budget.why.clone()));
            return false;
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        true
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

    fn stop_message(&self) -> String {
        match self.stop.get() {
            Some(Stop::Halt(why)) => format!("not sent: the run was stopped ({why})"),
            Some(Stop::Interrupt) => "not sent: the run was interrupted".into(),
            None => "not sent".into(),
        }
    }

    /// Takes one row to its end in the chosen mode.
    async fn process(&self, job: &Job) -> Processed {
        let m = &job.row.mapped;
        let mut out = Outcome::new(job.row.row, Status::NotSent, &m.wolkvox_id, &m.id);
        let mut logged = false;
        let (method, body, created_status) = match self.mode {
            Mode::Insert => (Method::Post, &m.body, Status::Created),
            Mode::Update => (Method::Put, &m.body, Status::Updated),
            Mode::Upsert => match self.lookup(job, &mut out).await {
                Ok(Some(_)) => (
                    Method::Put,
                    m.update_body.as_ref().unwrap_or(&m.body),
                    Status::Updated,
                ),
                Ok(None) => (Method::Post, &m.body, Status::Created),
                Err((transient_only, why)) => {
                    out.status = if self.stop.get().is_some() && !transient_only {
                        Status::NotSent
                    } else {
                        Status::Failed
                    };
                    out.error = if out.status == Status::NotSent {
                        self.stop_message()
                    } else {
                        why
                    };
                    return Processed {
                        outcome: out,
                        transient_only,
                        sent_body: None,
                        logged,
                    };
                }
            },
        };
        // An insert that may already have gone in is looked up first; an
        // update can simply be repeated.
        let mut in_doubt = job.in_doubt && method == Method::Post && self.mode == Mode::Insert;
        let end = self
            .write(job, method, body, &mut out, &mut in_doubt, &mut logged)
            .await;
        let mut transient_only = false;
        match end {
            WriteEnd::Done(id) => {
                out.status = created_status;
                out.obligation_wolkvox_id = id;
                out.error.clear();
            }
            WriteEnd::Refused(msg) => {
                out.status = Status::Failed;
                out.error = msg;
            }
            WriteEnd::Stopped => {
                out.status = Status::NotSent;
                out.error = self.stop_message();
            }
            WriteEnd::GaveUp(msg) => {
                out.status = Status::Failed;
                out.error = msg;
                transient_only = true;
            }
            WriteEnd::Uncertain(msg) => {
                out.status = Status::Uncertain;
                out.error = msg;
            }
        }
        Processed {
            sent_body: logged.then(|| body.clone()),
            outcome: out,
            transient_only,
            logged,
        }
    }

    /// Sends one write until it ends. Never resends without a lookup after a
    /// request whose fate is unknown.
    async fn write(
        &self,
        job: &Job,
        method: Method,
        body: &str,
        out: &mut Outcome,
        in_doubt: &mut bool,
        logged: &mut bool,
    ) -> WriteEnd {
        let m = &job.row.mapped;
        let mut retries = 0u32;
        let mut last_transient = String::new();
        loop {
            if *in_doubt {
                match self.lookup(job, out).await {
                    Ok(Some(id)) => return WriteEnd::Done(id),
                    // Not there: sending it cannot duplicate it.
                    Ok(None) => *in_doubt = false,
                    Err((_, why)) => {
                        return WriteEnd::Uncertain(format!(
                            "sent, but whether obligation \"{}\" of record \"{}\" went in is unknown ({why}); check it in the CRM, or run again with --resume to look it up again",
                            m.id, m.wolkvox_id
                        ))
                    }
                }
            }
            if retries > self.tuning.max_retries {
                return WriteEnd::GaveUp(format!(
                    "gave up after {} attempts: {last_transient}",
                    out.attempts
                ));
            }
            if !*logged {
                // The intent is on disk before the request leaves.
                if let Err(e) = self
                    .wal
                    .intend(job.row.row, method, fingerprint(body.as_bytes()))
                {
                    self.stop
                        .trigger(Stop::Halt(format!("cannot write the log: {e}")));
                    return WriteEnd::Stopped;
                }
                *logged = true;
            }
            if !self.ready().await {
                return WriteEnd::Stopped;
            }
            out.attempts += 1;
            let x = self.client.obligation(method, body.to_string()).await;
            let c = classify(&x);
            out.http_status = c.http_status;
            out.api_code = c.api_code.clone();
            match c.verdict {
                Verdict::Done { wolkvox_id } => return WriteEnd::Done(wolkvox_id),
                Verdict::Refused { message } => return WriteEnd::Refused(message),
                Verdict::StopRun { message, quota } => {
                    let why = if quota {
                        format!("{message}: the token's daily quota is used up; run again with --resume once it restarts")
                    } else {
                        message
                    };
                    self.stop.trigger(Stop::Halt(why));
                    return WriteEnd::Stopped;
                }
                Verdict::Transient {
                    message,
                    retry_after,
                } => {
                    last_transient = message;
                    retries += 1;
                    let wait = self.backoff(retries, retry_after);
                    tracing::debug!(
                        row = job.row.row,
                        attempt = out.attempts,
                        wait_ms = wait.as_millis() as u64,
                        "transient answer: {last_transient}"
                    );
                    self.stop.sleep(wait).await;
                }
                Verdict::InDoubt { message } if method == Method::Put => {
                    // An update repeated is the same update.
                    last_transient = message;
                    retries += 1;
                }
                Verdict::InDoubt { message } => {
                    tracing::info!(
                        row = job.row.row,
                        "outcome unknown ({message}); looking the obligation up before any resend"
                    );
                    last_transient = message;
                    retries += 1;
                    *in_doubt = true;
                }
            }
        }
    }

    /// Looks the row's obligation up: `Ok(Some(id))` found, `Ok(None)` not
    /// there, `Err((transient_only, why))` when no lookup could answer.
    async fn lookup(&self, job: &Job, out: &mut Outcome) -> Result<Option<String>, (bool, String)> {
        let m = &job.row.mapped;
        let mut tries = 0u32;
        let mut last = String::new();
        loop {
            if tries > self.tuning.max_retries {
                return Err((true, format!("the lookups kept failing: {last}")));
            }
            // A lookup finishes a row whose request already left, so an
            // interrupt (unlike a halt) lets it go ahead.
            if !self.ready_for(true).await {
                return Err((
                    false,
                    "the run stopped before the lookup could answer".into(),
                ));
            }
            tries += 1;
            out.attempts += 1;
            let x = self
                .client
                .query(&self.operation, &m.id, &m.wolkvox_id)
                .await;
            let (lookup, http, code) = classify_lookup(&x);
            out.http_status = http;
            out.api_code = code;
            let retry_after = match lookup {
                Lookup::Found { wolkvox_id } => return Ok(Some(wolkvox_id)),
                Lookup::NotFound => return Ok(None),
                Lookup::Unknown(Verdict::StopRun { message, .. }) => {
                    self.stop.trigger(Stop::Halt(message.clone()));
                    return Err((false, message));
                }
                Lookup::Unknown(Verdict::Transient {
                    message,
                    retry_after,
                }) => {
                    last = message;
                    retry_after
                }
                Lookup::Unknown(other) => {
                    last = other.describe();
                    None
                }
            };
            let wait = self.backoff(tries, retry_after);
            if !self.stop.sleep(wait).await && matches!(self.stop.get(), Some(Stop::Halt(_))) {
                return Err((false, "the run stopped during the lookup".into()));
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

/// What a pass over the file found before sending.
struct Scan {
    to_send: u64,
    changed: Vec<String>,
    changed_count: u64,
}

/// Reads and maps the whole file once: counts the rows to send (for the
/// quota) and, when resuming, checks that rows already done would still be
/// sent with the same body.
fn scan(settings: &ImportSettings, history: Option<&History>) -> Result<Scan, RunError> {
    let Prepared { source, plan } = prepare(settings, BodyShape::Full)?;
    let mut feed = RowFeed::new(source, plan.with_update_body(), &settings.mapping, false);
    let mut scan = Scan {
        to_send: 0,
        changed: Vec::new(),
        changed_count: 0,
    };
    let mut seen_done = 0usize;
    let note = |scan: &mut Scan, msg: String| {
        scan.changed_count += 1;
        if scan.changed.len() < 5 {
            scan.changed.push(msg);
        }
    };
    while let Some(item) = feed.next_item()? {
        let prior = history.map_or(Prior::Fresh, |h| h.prior(item.row()));
        match (item, prior) {
            (Item::Valid(v), Prior::Done { sent, .. }) => {
                seen_done += 1;
                if let Some((method, fp)) = sent {
                    let body = match method {
                        Method::Post => &v.mapped.body,
                        Method::Put => v.mapped.update_body.as_ref().unwrap_or(&v.mapped.body),
                    };
                    if fingerprint(body.as_bytes()) != fp {
                        note(&mut scan, format!("row {} would now be sent with a different body than the one that went in", v.row));
                    }
                }
            }
            (Item::Invalid { outcome, .. }, Prior::Done { .. }) => {
                seen_done += 1;
                note(
                    &mut scan,
                    format!(
                        "row {} went in before but is now invalid ({})",
                        outcome.row, outcome.error
                    ),
                );
            }
            (Item::Valid(_), _) => scan.to_send += 1,
            (Item::Invalid { .. }, _) => {}
        }
    }
    if let Some(h) = history {
        let missing = h.done_rows().saturating_sub(seen_done);
        if missing > 0 {
            note(
                &mut scan,
                format!("{missing} rows that went in before are no longer in the file"),
            );
        }
    }
    Ok(scan)
}

/// Reads the token's quota (one request) and logs it. `Err` is a reason to
/// stop before sending anything (bad token, quota already used up).
async fn preflight(client: &Client, operation: &str) -> Result<Option<TokenQuota>, String> {
    let x = client.token_information(operation).await;
    let c = classify(&x);
    match (&c.verdict, &x) {
        (Verdict::Done { .. }, Ok(resp)) => {
            let q = parse_token_information(resp);
            match q {
                Some(q) => tracing::info!(
                    token_limit = q.limit,
                    token_use_today = q.used_today,
                    hours_to_restart = q.hours_to_restart,
                    "token quota: {} of {} requests left today",
                    q.remaining(),
                    q.limit
                ),
                None => tracing::warn!("the token information answer has no token_limit; going on without a quota check"),
            }
            Ok(q)
        }
        (Verdict::StopRun { message, quota: false }, _) => Err(format!(
            "{message}: the server refused the token; check WOLKVOX_TOKEN or --token-file"
        )),
        (Verdict::StopRun { message, quota: true }, _) => Err(format!(
            "{message}: the token's daily quota is already used up; run again with --resume once it restarts"
        )),
        // The token endpoint missing means the base URL is wrong: every
        // request of the run would fail the same way.
        (_, Ok(resp)) if resp.status == 404 => Err(format!(
            "the server answered 404 for {}; check --server (the base should end in /server/API/v2/)",
            client.token_information_url()
        )),
        (v, _) => {
            tracing::warn!("could not read the token's quota ({}); going on without a quota check", v.describe());
            Ok(None)
        }
    }
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
    if let Some(why) = stop_before_start {
        stop.trigger(Stop::Halt(why));
    }
    spawn_signal_handler(stop.clone());

    let (work_tx, work_rx) = mpsc::channel::<Job>(tuning.concurrency * 4 + 16);
    let (event_tx, mut event_rx) = mpsc::channel::<Event>(256);

    // The reader: blocking I/O on its own thread.
    let keep_cells = rejects.is_some();
    let feed = RowFeed::new(source, plan, &settings.mapping, keep_cells);
    let reader_events = event_tx.clone();
    let reader = std::thread::Builder::new()
        .name("row-reader".into())
        .spawn(move || read_rows(feed, history, work_tx, reader_events))
        .map_err(|e| RunError::Unusable(format!("cannot start the reader: {e}")))?;

    let worker = Arc::new(Worker {
        client,
        limiter: tuning.rate.map(|r| r.limiter()),
        tuning: tuning.clone(),
        mode,
        operation: settings.operation.clone(),
        stop: stop.clone(),
        requests: AtomicU64::new(0),
        budget: Budget {
            left: budget_left.map(AtomicU64::new),
            why: budget_why,
        },
        wal: wal.clone(),
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
    let mut summary = Summary::new(false);
    let mut consecutive_transient = 0u32;
    let mut write_error: Option<RunError> = None;
    while let Some(ev) = event_rx.recv().await {
        match ev {
            Event::ReadFailed(msg) => {
                tracing::error!("{msg}");
                stop.trigger(Stop::Halt(msg));
            }
            Event::CarriedOver(outcome) => {
                if write_error.is_none() {
                    if let Err(e) = journal.record(&outcome) {
                        tracing::error!("{e}");
                        stop.trigger(Stop::Halt(format!("cannot write the results: {e}")));
                        write_error = Some(e.into());
                    }
                }
                summary.carried_over += 1;
                summary.count(&outcome);
                progress.row_done(&outcome);
            }
            Event::Finished {
                outcome,
                transient_only,
                sent_body,
                logged,
                cells,
            } => {
                if write_error.is_none() {
                    let written = (if logged {
                        wal.done(
                            outcome.row,
                            outcome.status,
                            outcome.attempts,
                            &outcome.obligation_wolkvox_id,
                        )
                    } else {
                        Ok(())
                    })
                    .and_then(|_| journal.record(&outcome))
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
fn read_rows(
    mut feed: RowFeed,
    history: Option<History>,
    work: mpsc::Sender<Job>,
    events: mpsc::Sender<Event>,
) {
    loop {
        let item = match feed.next_item() {
            Ok(None) => return,
            Ok(Some(item)) => item,
            Err(e) => {
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
            (Item::Valid(v), prior) => work
                .blocking_send(Job {
                    row: v,
                    in_doubt: prior == Prior::InDoubt,
                })
                .is_ok(),
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
