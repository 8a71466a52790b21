//! A worker takes one row to its end: the quota check before the run's first
//! request, the rate limit, the budget, retries with backoff, and look-ups
//! before any resend all live here, around the request.

use super::decide::{decide, decide_lookup, Action, LookupAction};
use super::preflight::preflight;
use super::stop::{Stop, StopSignal};
use super::tuning::{Mode, Tuning};
use super::Job;
use crate::crm::classify::{classify, classify_lookup, Lookup, Verdict};
use crate::crm::client::{Client, Exchange, Method, TransportFailure};
use crate::problem::Kind;
use crate::results::{Outcome, Status};
use crate::tr;
use governor::DefaultDirectRateLimiter;
use rand::Rng;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Requests this run may still make (`--max-requests`, the token's quota).
pub(super) struct Budget {
    /// `u64::MAX` when unbounded.
    left: AtomicU64,
    why: Mutex<String>,
}

impl Budget {
    pub(super) fn new(max_requests: Option<u64>) -> Budget {
        Budget {
            left: AtomicU64::new(max_requests.unwrap_or(u64::MAX)),
            why: Mutex::new(tr!("max-requests-reached", max = max_requests.unwrap_or(0))),
        }
    }

    /// Lowers the budget to `left` when that is tighter, for `why`.
    fn cap(&self, left: u64, why: String) {
        let mut cur = self.left.load(Ordering::SeqCst);
        while left < cur {
            match self
                .left
                .compare_exchange(cur, left, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    *self.why.lock().unwrap_or_else(|p| p.into_inner()) = why;
                    return;
                }
                Err(now) => cur = now,
            }
        }
    }

    fn take(&self) -> bool {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                if n == u64::MAX {
                    Some(n)
                } else {
                    n.checked_sub(1)
                }
            })
            .is_ok()
    }

    /// Returns a request taken for one that never reached the server.
    fn give_back(&self) {
        let _ = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n != u64::MAX).then(|| n.saturating_add(1))
            });
    }

    fn why(&self) -> String {
        self.why.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

pub(super) struct Worker {
    pub(super) client: Client,
    pub(super) limiter: Option<DefaultDirectRateLimiter>,
    pub(super) tuning: Tuning,
    pub(super) mode: Mode,
    pub(super) operation: String,
    pub(super) stop: StopSignal,
    /// `--payloads` was asked for: only then is each sent body copied out.
    pub(super) keep_sent_bodies: bool,
    pub(super) counters: Counters,
    pub(super) budget: Budget,
    /// How an update body is made from a row's full body.
    pub(super) update_shape: crate::mapping::UpdateShape,
    /// Read the token's quota before the run's first request.
    pub(super) preflight: bool,
    pub(super) preflight_done: OnceCell<()>,
    /// Connections refused (or names not resolved) before it ever answered.
    pub(super) unreachable: AtomicU32,
    /// Answers the server gave this run (any HTTP answer): a row whose
    /// connection was refused sees from it whether others get through, and
    /// once there is one, refused connections are no longer strikes.
    pub(super) answers: AtomicU64,
}

/// The shortest time with every connection refused and nothing answered
/// after which a server that was working is taken to have gone.
const MIN_OUTAGE: Duration = Duration::from_secs(30);

/// The connections refused to one row's requests, before they were sent,
/// by a server that has answered in this run.
#[derive(Default)]
struct Refusals {
    /// Refused in a row with no answer to anyone in between.
    count: u32,
    /// Every one refused, for the row's message.
    total: u32,
    /// [`Worker::answers`] at the last refusal.
    answers_seen: u64,
    /// When the first was refused.
    since: Option<Instant>,
    /// When the current run of refusals with no answer to anyone began.
    silent_since: Option<Instant>,
    /// Others got answers while this row was being refused: the server is
    /// up and turning only some connections away.
    others_answered: bool,
}

/// What follows a connection refused.
enum AfterRefusal {
    /// Try again after this wait: the server still answers others, or has
    /// not yet been silent for long enough.
    Retry(Duration),
    /// Nothing reached the server through a row's whole retry window: it
    /// has gone.
    Gone,
    /// The server answers others, but this row's connections have been
    /// refused for longer than it may keep trying.
    TooLong,
}

/// True when the request reached the server: it answered, or the request
/// left and its answer was lost. A connection refused or a certificate not
/// trusted sent nothing.
fn reached(x: &Exchange) -> bool {
    !matches!(
        x,
        Err(TransportFailure::BeforeSend(_)
            | TransportFailure::Certificate(_)
            | TransportFailure::ProxyAuth)
    )
}

/// Failed connections, before the server ever answered, after which the run
/// stops: a server that cannot be reached at all will not be reached by
/// retrying every row for minutes.
const UNREACHABLE_STRIKES: u32 = 2;

/// What the workers did, for the summary.
#[derive(Default)]
pub(super) struct Counters {
    /// Every request that reached the server, the quota check and look-ups
    /// included; a connection refused is none.
    pub(super) requests: AtomicU64,
    /// Writes sent again after a transient answer or an answer in doubt.
    pub(super) retries: AtomicU64,
    /// Look-ups (`queryObligation`) made.
    pub(super) lookups: AtomicU64,
    /// The token's quota as read before the first request.
    pub(super) quota: Mutex<Option<crate::crm::classify::TokenQuota>>,
}

/// What a worker made of a row.
pub(super) struct Processed {
    pub(super) outcome: Outcome,
    pub(super) transient_only: bool,
    /// The body of the last write sent, if any.
    pub(super) sent_body: Option<String>,
    /// A look-up found the obligation in the CRM, with this id.
    pub(super) found: Option<String>,
    /// A look-up answered, or a write went in: whatever an earlier run left
    /// in doubt for this obligation is settled.
    pub(super) settles_doubt: bool,
    /// What the row's requests met, for the report's timeline.
    pub(super) tally: RowTally,
}

/// Per row: writes sent again, and answers that asked to slow down (429,
/// or too many simultaneous requests).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RowTally {
    pub(super) retries: u32,
    pub(super) throttled: u32,
}

impl RowTally {
    fn answer(&mut self, verdict: &Verdict, http_status: Option<u16>) {
        if let Verdict::Transient { message, .. } = verdict {
            if http_status == Some(429) || message.to_uppercase().contains("SIMULTANEOUS") {
                self.throttled += 1;
            }
        }
    }
}

/// What follows a write's answer.
enum Next {
    End(WriteEnd),
    /// Send again, for the reason `why`.
    Resend {
        why: String,
        wait: Wait,
    },
}

/// When to send again.
enum Wait {
    /// At once: a look-up showed the write did not happen.
    Now,
    /// After a backoff that honours the server's `Retry-After`, if any.
    Backoff(Option<Duration>),
}

/// How one write (or its retries) ended.
enum WriteEnd {
    Done(String),
    Refused(String),
    /// The run is stopping; nothing was created by this row's last request.
    Stopped,
    GaveUp(String),
    /// In doubt and no look-up could tell.
    Uncertain(String),
    /// Every attempt was refused before it was sent, until the retries ran
    /// out: nothing reached the server, which has gone.
    Unreached(String),
}

/// What a look-up settled.
enum Looked {
    Found(String),
    Absent,
    /// No answer said either way: `transient_only` when only transient
    /// answers came back (for the breaker).
    Unknown {
        transient_only: bool,
        why: String,
    },
    /// The look-up's connections were refused before it was sent,
    /// `attempts` times: with no answer to anyone in between until the
    /// retries ran out (`gone`: the server has gone), or for longer than
    /// a row may keep trying.
    Unreached {
        attempts: u32,
        why: String,
        gone: bool,
    },
}

impl Worker {
    /// Waits for the rate limiter (awaited, never polled) and takes one
    /// request from the budget; false if the run stopped meanwhile or the
    /// budget is spent (which stops the run). A `lookup` may go ahead after
    /// an interrupt: it finishes a row whose request already left.
    async fn ready_for(&self, lookup: bool) -> bool {
        let blocks = |s: &Option<Stop>| match s {
            None => false,
            Some(Stop::Interrupt) => !lookup,
            Some(Stop::Halt(_)) => true,
        };
        if blocks(&self.stop.get()) {
            return false;
        }
        if self.preflight {
            self.preflight_done.get_or_init(|| self.check_quota()).await;
            if blocks(&self.stop.get()) {
                return false;
            }
        }
        if let Some(l) = &self.limiter {
            let mut rx = self.stop.tx.subscribe();
            tokio::select! {
                _ = l.until_ready() => {}
                _ = rx.wait_for(blocks) => return false,
            }
        }
        if !self.budget.take() {
            self.stop.trigger(Stop::Halt(self.budget.why()));
            return false;
        }
        true
    }

    /// The token's quota, read once, just before the first request a run
    /// needs (a run with nothing to send makes no request at all).
    async fn check_quota(&self) {
        let mut answer = None;
        for attempt in 0..UNREACHABLE_STRIKES {
            if attempt > 0 && !self.stop.sleep(self.tuning.backoff_base * 4).await {
                return;
            }
            let x = self.client.token_information(&self.operation).await;
            if self.observe(&x, false) {
                return;
            }
            let retry = matches!(x, Err(TransportFailure::BeforeSend(_)));
            answer = Some(x);
            if !retry {
                break;
            }
        }
        let Some(x) = answer else { return };
        match preflight(&self.client, x) {
            Ok(Some(q)) => {
                *self
                    .counters
                    .quota
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(q);
                let restart = q
                    .hours_to_restart
                    .map(|h| tr!("quota-restart-hours", hours = h))
                    .unwrap_or_else(|| tr!("quota-restart-tomorrow"));
                self.budget.cap(
                    q.remaining(),
                    tr!("quota-used-up", limit = q.limit, restart = restart),
                );
            }
            Ok(None) => {}
            Err(why) => self.stop.trigger(Stop::Halt(why)),
        }
    }

    /// Notes what an exchange says. One that reached the server counts as a
    /// request; one that did not (a connection refused, a certificate not
    /// trusted) is no request, and gives back what `budgeted` took of the
    /// budget. A failure to connect before the server ever answered counts
    /// a strike; at the last one the run stops, naming the host and the
    /// cause, and `true` is returned (nothing reached the server: the row
    /// is not sent).
    fn observe(&self, x: &Exchange, budgeted: bool) -> bool {
        if reached(x) {
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
        } else if budgeted {
            self.budget.give_back();
        }
        match x {
            Ok(_) => {
                self.answers.fetch_add(1, Ordering::Relaxed);
                false
            }
            Err(TransportFailure::BeforeSend(why)) if self.answers.load(Ordering::Relaxed) == 0 => {
                let strikes = self.unreachable.fetch_add(1, Ordering::Relaxed) + 1;
                if strikes < UNREACHABLE_STRIKES {
                    return false;
                }
                self.stop.trigger(Stop::Halt(tr!(
                    "unreachable",
                    host = self.client.host(),
                    why = why.as_str()
                )));
                true
            }
            Err(_) => false,
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

    /// Notes a connection refused before the request was sent (which is
    /// no request: neither the row's attempts nor its retries count it) and
    /// says what follows. While the server answers other requests between
    /// this row's refusals, it is up and only turning some connections
    /// away: the row keeps trying, with a backoff, for at most three times
    /// the longest its retries could wait. Refused `--max-retries` + 1
    /// times with no answer to anyone in between, the server has gone.
    fn refused(&self, r: &mut Refusals) -> AfterRefusal {
        let answers = self.answers.load(Ordering::Relaxed);
        let now = Instant::now();
        let since = *r.since.get_or_insert(now);
        if r.total > 0 && answers != r.answers_seen {
            r.count = 0;
            r.silent_since = None;
            r.others_answered = true;
        }
        let silent_since = *r.silent_since.get_or_insert(now);
        r.answers_seen = answers;
        r.count += 1;
        r.total += 1;
        // Gone: refused again and again, and for long enough that it is
        // not a restart or a flapping balancer whose short outages a few
        // quick retries can all fall into.
        if r.count > self.tuning.max_retries && now.duration_since(silent_since) >= MIN_OUTAGE {
            return AfterRefusal::Gone;
        }
        if r.others_answered && now.duration_since(since) > self.refusal_window() {
            return AfterRefusal::TooLong;
        }
        AfterRefusal::Retry(self.backoff(r.count.min(self.tuning.max_retries), None))
    }

    /// How long a row may keep trying while its connections are refused:
    /// three times the longest its retries' backoff could add up to.
    fn refusal_window(&self) -> Duration {
        let t = &self.tuning;
        let all: Duration = (1..=t.max_retries)
            .map(|r| {
                t.backoff_base
                    .saturating_mul(1u32 << r.min(16))
                    .min(t.backoff_cap)
            })
            .sum();
        all.saturating_mul(3)
    }

    fn stop_message(&self) -> String {
        match self.stop.get() {
            Some(Stop::Halt(why)) => tr!("not-sent-stopped", why = why),
            Some(Stop::Interrupt) => tr!("not-sent-interrupted"),
            None => tr!("not-sent"),
        }
    }

    /// Takes one row to its end.
    pub(super) async fn process(&self, job: &Job) -> Processed {
        let m = &job.row.mapped;
        let mut p = Processed {
            outcome: Outcome::new(job.row.row, Status::NotSent, &m.wolkvox_id, &m.id),
            transient_only: false,
            sent_body: None,
            found: None,
            settles_doubt: false,
            tally: RowTally::default(),
        };
        if !job.logged {
            // The run stopped before this row's intent could be recorded.
            p.outcome.error = self.stop_message();
            return p;
        }
        let method = if job.action.lookup_first {
            match self.look_first(job, &mut p).await {
                Some(method) => method,
                None => return p,
            }
        } else {
            job.action.write
        };
        let update;
        let body = match method {
            Method::Post => &m.body,
            Method::Put => {
                update = self.update_shape.body(&m.body);
                &update
            }
        };
        let (end, wrote) = self
            .write(job, method, body, &mut p.outcome, &mut p.tally)
            .await;
        if wrote && self.keep_sent_bodies {
            p.sent_body = Some(body.clone());
        }
        self.finish(&mut p, method, end);
        p
    }

    /// The look-up before a row's write (an upsert the ledger cannot answer,
    /// or an earlier insert in doubt). Returns the write still needed, or
    /// `None` when the row is settled already.
    async fn look_first(&self, job: &Job, p: &mut Processed) -> Option<Method> {
        let m = &job.row.mapped;
        let a = job.action;
        match self.lookup(job, &mut p.outcome, &mut p.tally).await {
            Looked::Found(id) => {
                p.settles_doubt = true;
                p.found = Some(id.clone());
                if a.doubt_fp == Some(job.fp) {
                    // The earlier insert went in, with this very body.
                    p.outcome.status = Status::Created;
                    p.outcome.obligation_wolkvox_id = id;
                    return None;
                }
                if self.mode == Mode::Insert {
                    p.outcome.status = Status::Failed;
                    p.outcome.kind = Some(Kind::Exists);
                    p.outcome.error = tr!(
                        "exists-found",
                        id = m.id.as_str(),
                        record = m.wolkvox_id.as_str()
                    );
                    p.outcome.obligation_wolkvox_id = id;
                    return None;
                }
                Some(Method::Put)
            }
            Looked::Absent => {
                p.settles_doubt = true;
                Some(a.write)
            }
            Looked::Unreached {
                attempts,
                why,
                gone,
            } => {
                let why = self.unreached(attempts, &why, gone);
                if a.doubt_fp.is_some() {
                    p.outcome.status = Status::Uncertain;
                    p.outcome.kind = Some(Kind::Uncertain);
                    p.outcome.error = self.uncertain_message(job, &why);
                } else {
                    p.outcome.error = why;
                }
                None
            }
            Looked::Unknown {
                transient_only,
                why,
            } => {
                if a.doubt_fp.is_some() {
                    p.outcome.status = Status::Uncertain;
                    p.outcome.kind = Some(Kind::Uncertain);
                    p.outcome.error = self.uncertain_message(job, &why);
                } else if self.stop.get().is_some() && !transient_only {
                    p.outcome.error = self.stop_message();
                } else {
                    // The look-ups kept failing until their retries ran out.
                    p.outcome.status = Status::Failed;
                    p.outcome.kind = Some(Kind::GaveUp);
                    p.outcome.error = why;
                    p.transient_only = transient_only;
                }
                None
            }
        }
    }

    /// Records how the row's write ended.
    fn finish(&self, p: &mut Processed, method: Method, end: WriteEnd) {
        let o = &mut p.outcome;
        match end {
            WriteEnd::Done(id) => {
                o.status = match method {
                    Method::Post => Status::Created,
                    Method::Put => Status::Updated,
                };
                o.obligation_wolkvox_id = id;
                o.error.clear();
                o.kind = None;
                p.settles_doubt = true;
            }
            WriteEnd::Refused(msg) => {
                o.status = Status::Failed;
                o.error = msg;
                o.kind = Some(Kind::Refused);
            }
            WriteEnd::Stopped => {
                o.status = Status::NotSent;
                o.error = self.stop_message();
                o.kind = None;
            }
            WriteEnd::GaveUp(msg) => {
                o.status = Status::Failed;
                o.error = msg;
                o.kind = Some(Kind::GaveUp);
                p.transient_only = true;
            }
            WriteEnd::Uncertain(msg) => {
                o.status = Status::Uncertain;
                o.error = msg;
                o.kind = Some(Kind::Uncertain);
            }
            WriteEnd::Unreached(msg) => {
                o.status = Status::NotSent;
                o.error = msg;
                o.kind = None;
            }
        }
        if o.obligation_wolkvox_id.is_empty() {
            if let Some(id) = &p.found {
                o.obligation_wolkvox_id = id.clone();
            }
        }
    }

    /// A row's requests were all refused before they were sent by a server
    /// that had answered before: it has gone, and the run stops (rows not
    /// reached are `not_sent`; `--resume` sends them).
    fn server_gone(&self, why: &str) {
        self.stop.trigger(Stop::Halt(tr!(
            "server-gone",
            host = self.client.host(),
            why = why
        )));
    }

    /// The message of a row whose connections were refused `attempts`
    /// times; when the server has `gone`, the run stops too.
    fn unreached(&self, attempts: u32, why: &str, gone: bool) -> String {
        if gone {
            self.server_gone(why);
        }
        tr!("not-sent-cannot-connect", attempts = attempts, why = why)
    }

    fn uncertain_message(&self, job: &Job, why: &str) -> String {
        let m = &job.row.mapped;
        tr!(
            "uncertain",
            id = m.id.as_str(),
            record = m.wolkvox_id.as_str(),
            why = why
        )
    }

    /// Sends one write until it ends; the bool says whether a request
    /// reached the server. Never resends an insert without a look-up after a
    /// request whose fate is unknown: [`decide`] says what follows each
    /// answer.
    async fn write(
        &self,
        job: &Job,
        method: Method,
        body: &str,
        out: &mut Outcome,
        tally: &mut RowTally,
    ) -> (WriteEnd, bool) {
        let mut retries = 0u32;
        let mut last_transient = String::new();
        let mut tried = false;
        let mut reached_server = false;
        let mut refusals = Refusals::default();
        loop {
            if retries > self.tuning.max_retries {
                let end = WriteEnd::GaveUp(tr!(
                    "gave-up",
                    attempts = out.attempts,
                    why = last_transient.as_str()
                ));
                return (end, reached_server);
            }
            if !self.ready_for(false).await {
                return (WriteEnd::Stopped, reached_server);
            }
            let x = self.client.obligation(method, body.to_string()).await;
            if reached(&x) {
                self.count_write(&mut tried, out, tally);
                reached_server = true;
            }
            if self.observe(&x, true) {
                return (WriteEnd::Stopped, reached_server);
            }
            if let Err(TransportFailure::BeforeSend(why)) = &x {
                let Some(gone) = self
                    .wait_refused(job, why, &mut refusals, "connection")
                    .await
                else {
                    continue;
                };
                let why = self.unreached(refusals.total, why, gone);
                // An earlier attempt reached the server and was answered
                // with a transient failure (or went in, for an update sent
                // again): not "never sent".
                return if reached_server {
                    (WriteEnd::GaveUp(why), true)
                } else {
                    (WriteEnd::Unreached(why), false)
                };
            }
            let c = classify(&x);
            tally.answer(&c.verdict, c.http_status);
            out.http_status = c.http_status;
            out.api_code = c.api_code;
            match self
                .follow(job, decide(c.verdict, method), out, tally)
                .await
            {
                Next::End(end) => return (end, reached_server),
                Next::Resend { why, wait } => {
                    last_transient = why;
                    retries += 1;
                    if let Wait::Backoff(retry_after) = wait {
                        let wait = self.backoff(retries, retry_after);
                        tracing::debug!(
                            row = job.row.row,
                            attempt = out.attempts,
                            wait_ms = wait.as_millis() as u64,
                            "transient answer: {last_transient}"
                        );
                        self.stop.sleep(wait).await;
                    }
                }
            }
        }
    }

    /// Counts a write that reached the server; each after the first is a
    /// retry.
    fn count_write(&self, tried: &mut bool, out: &mut Outcome, tally: &mut RowTally) {
        if *tried {
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tally.retries += 1;
        }
        *tried = true;
        out.attempts += 1;
    }

    /// After a connection refused before the request was sent (`what`
    /// says whose, for the log): waits and returns `None` to try again, or
    /// whether the server has gone when the request is not to be tried
    /// again. Writes and look-ups count and wait alike; only how they end
    /// differs.
    async fn wait_refused(
        &self,
        job: &Job,
        why: &str,
        refusals: &mut Refusals,
        what: &str,
    ) -> Option<bool> {
        match self.refused(refusals) {
            AfterRefusal::Retry(wait) => {
                tracing::debug!(
                    row = job.row.row,
                    wait_ms = wait.as_millis() as u64,
                    "{what} refused: {why}"
                );
                self.stop.sleep(wait).await;
                None
            }
            AfterRefusal::Gone => Some(true),
            AfterRefusal::TooLong => Some(false),
        }
    }

    /// Carries out what [`decide`] said of a write's answer.
    async fn follow(
        &self,
        job: &Job,
        action: Action,
        out: &mut Outcome,
        tally: &mut RowTally,
    ) -> Next {
        match action {
            Action::Done(id) => Next::End(WriteEnd::Done(id)),
            Action::Updated { warning } => {
                if let Some(why) = warning {
                    tracing::warn!(row = job.row.row, "{}", tr!("update-id-ignored", why = why));
                }
                // Empty when the ledger does not know it: a look-up's id, if
                // one led to this update, then fills it in.
                Next::End(WriteEnd::Done(job.known_id.clone().unwrap_or_default()))
            }
            Action::Refuse(msg) => Next::End(WriteEnd::Refused(msg)),
            Action::StopRun { why, row_in_doubt } => {
                self.stop.trigger(Stop::Halt(why.clone()));
                Next::End(if row_in_doubt {
                    WriteEnd::Uncertain(self.uncertain_message(job, &why))
                } else {
                    WriteEnd::Stopped
                })
            }
            Action::Retry { why, retry_after } => Next::Resend {
                why,
                wait: Wait::Backoff(retry_after),
            },
            Action::LookUp(why) => {
                tracing::info!(
                    row = job.row.row,
                    "{}",
                    tr!("outcome-unknown-lookup", why = why.as_str())
                );
                match self.lookup(job, out, tally).await {
                    Looked::Found(id) => Next::End(WriteEnd::Done(id)),
                    // Not there: sending it again cannot duplicate it, and
                    // there is nothing to wait for.
                    Looked::Absent => Next::Resend {
                        why,
                        wait: Wait::Now,
                    },
                    Looked::Unknown { why, .. } => {
                        Next::End(WriteEnd::Uncertain(self.uncertain_message(job, &why)))
                    }
                    // The write reached the server, so it stays in doubt;
                    // the server has gone since.
                    Looked::Unreached { why, gone, .. } => {
                        if gone {
                            self.server_gone(&why);
                        }
                        Next::End(WriteEnd::Uncertain(self.uncertain_message(job, &why)))
                    }
                }
            }
        }
    }

    /// What a look-up's answer means for the row: `Ok`, its end; `Err`, ask
    /// again (after the wait the server asked for, if any), having noted why
    /// in `last` and whether every failure so far was transient.
    fn judge_lookup(
        &self,
        lookup: Lookup,
        transient_only: &mut bool,
        last: &mut String,
    ) -> Result<Looked, Option<Duration>> {
        match decide_lookup(lookup) {
            LookupAction::Found(id) => Ok(Looked::Found(id)),
            LookupAction::Absent => Ok(Looked::Absent),
            LookupAction::StopRun(why) => {
                self.stop.trigger(Stop::Halt(why.clone()));
                Ok(Looked::Unknown {
                    transient_only: false,
                    why,
                })
            }
            LookupAction::Retry {
                why,
                retry_after,
                transient,
            } => {
                *transient_only &= transient;
                *last = why;
                Err(retry_after)
            }
        }
    }

    /// Looks the row's obligation up, retrying answers that say nothing.
    async fn lookup(&self, job: &Job, out: &mut Outcome, tally: &mut RowTally) -> Looked {
        let m = &job.row.mapped;
        let mut tries = 0u32;
        let mut last = String::new();
        let mut transient_only = true;
        let mut refusals = Refusals::default();
        loop {
            if tries > self.tuning.max_retries {
                return Looked::Unknown {
                    transient_only,
                    why: tr!("lookups-failing", why = last.as_str()),
                };
            }
            if !self.ready_for(true).await {
                return Looked::Unknown {
                    transient_only: false,
                    why: tr!("lookup-stopped-before"),
                };
            }
            let x = self
                .client
                .query(&self.operation, &m.id, &m.wolkvox_id)
                .await;
            if reached(&x) {
                tries += 1;
                out.attempts += 1;
                self.counters.lookups.fetch_add(1, Ordering::Relaxed);
            }
            if self.observe(&x, true) {
                return Looked::Unknown {
                    transient_only: false,
                    why: tr!("server-unreachable-short"),
                };
            }
            if let Err(TransportFailure::BeforeSend(why)) = &x {
                let Some(gone) = self
                    .wait_refused(job, why, &mut refusals, "look-up's connection")
                    .await
                else {
                    continue;
                };
                return Looked::Unreached {
                    attempts: refusals.total,
                    why: why.to_string(),
                    gone,
                };
            }
            // Only an answer about this obligation's id counts.
            let (lookup, http, code) = classify_lookup(&x, &m.id);
            if let Lookup::Unknown(v) = &lookup {
                tally.answer(v, http);
            }
            out.http_status = http;
            out.api_code = code;
            let retry_after = match self.judge_lookup(lookup, &mut transient_only, &mut last) {
                Ok(looked) => return looked,
                Err(retry_after) => retry_after,
            };
            let wait = self.backoff(tries, retry_after);
            if !self.stop.sleep(wait).await && matches!(self.stop.get(), Some(Stop::Halt(_))) {
                return Looked::Unknown {
                    transient_only: false,
                    why: tr!("lookup-stopped-during"),
                };
            }
        }
    }
}
