//! A worker takes one row to its end: the rate limit, the budget, retries
//! with backoff, and lookups before any resend all live here, around the
//! request.

use super::stop::{Stop, StopSignal};
use super::tuning::{Mode, Tuning};
use super::Job;
use crate::crm::classify::{classify, classify_lookup, redirect_message, Lookup, Verdict};
use crate::crm::client::{Client, Method};
use crate::results::{Outcome, Status};
use governor::DefaultDirectRateLimiter;
use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Requests this run may still make (`--max-requests`, the token's quota).
pub(super) struct Budget {
    pub(super) left: Option<AtomicU64>,
    pub(super) why: String,
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

pub(super) struct Worker {
    pub(super) client: Client,
    pub(super) limiter: Option<DefaultDirectRateLimiter>,
    pub(super) tuning: Tuning,
    pub(super) mode: Mode,
    pub(super) operation: String,
    pub(super) stop: StopSignal,
    /// `--payloads` was asked for: only then is each sent body copied out.
    pub(super) keep_sent_bodies: bool,
    pub(super) requests: AtomicU64,
    pub(super) budget: Budget,
}

/// What a worker made of a row.
pub(super) struct Processed {
    pub(super) outcome: Outcome,
    pub(super) transient_only: bool,
    /// The body of the last write sent, if any.
    pub(super) sent_body: Option<String>,
    pub(super) logged: bool,
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
    pub(super) async fn process(&self, job: &Job) -> Processed {
        let m = &job.row.mapped;
        let mut out = Outcome::new(job.row.row, Status::NotSent, &m.wolkvox_id, &m.id);
        // Set once a write request has left, for `--payloads`.
        let mut wrote = false;
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
                        logged: job.logged,
                    };
                }
            },
        };
        // An insert that may already have gone in is looked up first; an
        // update can simply be repeated.
        let mut in_doubt = job.in_doubt && method == Method::Post && self.mode == Mode::Insert;
        let end = self
            .write(job, method, body, &mut out, &mut in_doubt, &mut wrote)
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
            sent_body: (wrote && self.keep_sent_bodies).then(|| body.clone()),
            outcome: out,
            transient_only,
            logged: job.logged,
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
        wrote: &mut bool,
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
            if !self.ready().await {
                return WriteEnd::Stopped;
            }
            // The reader logged this row's intent, synced, before queueing it.
            debug_assert!(
                job.logged,
                "a row is written only after its intent is logged"
            );
            *wrote = true;
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
                // The server may have stored it before redirecting, and
                // will redirect every request: the row is in doubt (looked
                // up by --resume, never resent blindly) and the run stops.
                Verdict::Redirected { location } => {
                    let why = redirect_message(&location);
                    self.stop.trigger(Stop::Halt(why.clone()));
                    return WriteEnd::Uncertain(format!(
                        "sent, but the server answered with a redirect instead of the API's answer, so whether obligation \"{}\" of record \"{}\" went in is unknown ({why}); once --server is right, run again with --resume to look it up",
                        m.id, m.wolkvox_id
                    ));
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
            // Only an answer about this obligation's id counts.
            let (lookup, http, code) = classify_lookup(&x, &m.id);
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
