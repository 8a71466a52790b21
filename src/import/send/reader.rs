//! The reader: reads and maps every row, judges it against the ledger, and
//! either settles it on the spot (invalid, unchanged, already in the CRM,
//! done by the run being resumed) or queues it for the workers.
//!
//! Settled rows go to the collector a batch at a time ([`Settled`]), with
//! their text in one reused buffer.
//!
//! Rows to send are recorded as intents in the ledger, a batch at a time in
//! one synced transaction (a group commit), before they are queued: the
//! intent is on disk before any request for the row leaves, and no worker
//! waits on the disk. After a crash, the rows recorded but not yet sent (at
//! most a batch and a queue) are looked up once by the next run.

use super::settled::{Settled, SettledPool, SETTLED_BATCH};
use super::stop::{Stop, StopSignal};
use super::{Event, Job, Mode};
use crate::import::rows::{FeedRow, RowFeed, Verdict};
use crate::import::triage::{triage, Knowledge, Triage};
use crate::ledger::known::{KeyHash, Known};
use crate::ledger::{fingerprint, format_time, Carried, Doubt, Intent, IntentKind, Ledger};
use crate::problem::Kind;
use crate::results::{Line, Status};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

pub(super) struct Reader {
    pub(super) feed: RowFeed,
    pub(super) mode: Mode,
    pub(super) ledger: Arc<Mutex<Ledger>>,
    pub(super) run: i64,
    pub(super) scope: i64,
    pub(super) known: Known,
    pub(super) doubts: HashMap<KeyHash, Doubt>,
    pub(super) carried: HashMap<KeyHash, Carried>,
    pub(super) stop: StopSignal,
    /// Rows per group commit.
    pub(super) batch: usize,
    /// `--report`: the valid rows' portfolio, counted here where every
    /// valid row passes, off the collector's path.
    pub(super) portfolio: Option<crate::report::Portfolio>,
}

/// What the reader has for the others and has not sent yet.
struct Outbox {
    /// Rows to send, for the next group commit.
    jobs: Vec<Job>,
    /// Rows settled on the spot, for the collector.
    settled: Settled,
    pool: SettledPool,
}

impl Outbox {
    /// A valid row judged against the ledger: queued to be sent, or settled
    /// on the spot with the line it gets.
    /// `known_id` is the CRM's id for the obligation, when the ledger knows
    /// it.
    fn place(
        &mut self,
        t: Triage<'_>,
        r: &FeedRow<'_>,
        fp: u64,
        ledger: &Mutex<Ledger>,
        known_id: Option<&str>,
    ) {
        let line = Line::new(r.row, Status::Invalid, r.wolkvox_id, r.id);
        match t {
            Triage::Send(action) => self.jobs.push(Job {
                row: r.to_valid().expect("a valid row"),
                fp,
                action,
                known_id: known_id
                    .filter(|id| action.known && !id.is_empty())
                    .map(str::to_string),
                logged: false,
            }),
            Triage::Unchanged { crm_id, .. } => {
                let line = Line {
                    status: Status::Unchanged,
                    obligation_wolkvox_id: crm_id,
                    ..line
                };
                self.settled.push(&line, false, r.cells);
            }
            Triage::Exists { crm_id, db_id } => {
                let error = exists_message(ledger, r.id, r.wolkvox_id, db_id);
                let line = Line {
                    status: Status::Failed,
                    obligation_wolkvox_id: crm_id,
                    error: &error,
                    kind: Some(Kind::Exists),
                    ..line
                };
                self.settled.push(&line, false, r.cells);
            }
            Triage::Carried(c) => {
                let line = Line {
                    status: c.status,
                    obligation_wolkvox_id: &c.crm_id,
                    attempts: c.attempts,
                    http_status: c.http_status,
                    api_code: c.api_code.as_deref(),
                    ..line
                };
                self.settled.push(&line, true, r.cells);
            }
        }
    }
}

impl Reader {
    /// Reads to the end of the file, even after a stop, so that every row
    /// gets its line in the results; returns the portfolio it counted.
    pub(super) fn run(
        mut self,
        work: mpsc::Sender<Job>,
        events: mpsc::Sender<Event>,
    ) -> Option<crate::report::Portfolio> {
        self.read(work, events);
        self.portfolio
    }

    fn read(&mut self, work: mpsc::Sender<Job>, events: mpsc::Sender<Event>) {
        let mut pool = SettledPool::new();
        let mut out = Outbox {
            jobs: Vec::with_capacity(self.batch),
            settled: pool.take(),
            pool,
        };
        loop {
            let r = match self.feed.next_row() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    let sent = self.flush(&mut out, &work, &events);
                    if sent {
                        let why = crate::tr!("source-reading-stopped", why = e.to_string());
                        let _ = events.blocking_send(Event::ReadFailed(why));
                    }
                    return;
                }
            };
            let line = Line::new(r.row, Status::Invalid, r.wolkvox_id, r.id);
            match r.verdict {
                Verdict::Invalid { error, problems } => {
                    if !r.wolkvox_id.is_empty() && !r.id.is_empty() {
                        self.known.mark_seen(KeyHash::of(r.wolkvox_id, r.id));
                    }
                    let line = Line { error, ..line };
                    out.settled.push_invalid(&line, problems, r.cells);
                }
                Verdict::Valid { body, key } => {
                    if let Some(p) = self.portfolio.as_mut() {
                        p.add(r.row, r.id, r.report);
                    }
                    let fp = fingerprint(body.as_bytes());
                    self.known.mark_seen(key);
                    let k = Knowledge {
                        known: self.known.get(key),
                        doubt: self.doubts.get(&key).copied(),
                        carried: self.carried.get(&key),
                    };
                    let known_id = k.known.map(|o| o.crm_id);
                    out.place(triage(self.mode, fp, k), &r, fp, &self.ledger, known_id);
                }
            }
            let full = out.jobs.len() >= self.batch || out.settled.len() >= SETTLED_BATCH;
            if full && !self.flush(&mut out, &work, &events) {
                return;
            }
        }
        if self.flush(&mut out, &work, &events) {
            let _ = events.blocking_send(Event::ReadDone {
                seen: crate::ledger::seen::IdRanges::from_ids(self.known.seen()),
                unseen: self.known.unseen(),
            });
        }
    }

    /// Sends the rows settled so far to the collector; then records the
    /// batch's intents (unless the run is stopping: then its rows are not
    /// sent) and queues it. False when nobody listens any more.
    fn flush(
        &mut self,
        out: &mut Outbox,
        work: &mpsc::Sender<Job>,
        events: &mpsc::Sender<Event>,
    ) -> bool {
        if !out.settled.is_empty() {
            let settled = std::mem::replace(&mut out.settled, out.pool.take());
            if events.blocking_send(Event::Settled(settled)).is_err() {
                return false;
            }
        }
        let batch = &mut out.jobs;
        if batch.is_empty() {
            return true;
        }
        if self.stop.get().is_none() {
            let intents: Vec<Intent> = batch
                .iter()
                .map(|j| Intent {
                    row: j.row.row,
                    wolkvox_id: j.row.mapped.wolkvox_id.clone(),
                    obligation_id: j.row.mapped.id.clone(),
                    kind: IntentKind::of(
                        j.action.write,
                        j.action.lookup_first,
                        j.action.doubt_fp,
                        j.fp,
                    ),
                    body_fp: j.fp,
                })
                .collect();
            let recorded = self
                .ledger
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .record_intents(self.run, self.scope, &intents);
            match recorded {
                Ok(()) => batch.iter_mut().for_each(|j| j.logged = true),
                Err(e) => {
                    let msg = crate::tr!("write-failed-ledger", why = e.to_string());
                    self.stop.trigger(Stop::Halt(msg));
                    if events.blocking_send(Event::WriteFailed(e)).is_err() {
                        return false;
                    }
                }
            }
        }
        batch.drain(..).all(|job| work.blocking_send(job).is_ok())
    }
}

/// Insert mode met an obligation the CRM already holds with another body:
/// say since when, and how to update it.
fn exists_message(ledger: &Mutex<Ledger>, id: &str, wolkvox_id: &str, db_id: u32) -> String {
    let since = ledger
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .created_at(db_id)
        .ok()
        .flatten()
        .and_then(|ms| format_time(ms).get(..10).map(str::to_string))
        .unwrap_or_else(|| crate::tr!("row-exists-since-earlier-run"));
    crate::tr!(
        "row-exists-since",
        id = id,
        record = wolkvox_id,
        since = since
    )
}
