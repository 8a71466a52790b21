//! The reader: reads and maps every row, judges it against the ledger, and
//! either settles it on the spot (invalid, unchanged, already in the CRM,
//! done by the run being resumed) or queues it for the workers.
//!
//! Rows to send are recorded as intents in the ledger, a batch at a time in
//! one synced transaction (a group commit), before they are queued: the
//! intent is on disk before any request for the row leaves, and no worker
//! waits on the disk. After a crash, the rows recorded but not yet sent (at
//! most a batch and a queue) are looked up once by the next run.

use super::stop::{Stop, StopSignal};
use super::{Event, Job, Mode};
use crate::import::rows::{Item, RowFeed};
use crate::import::triage::{triage, Knowledge, Triage};
use crate::ledger::known::{KeyHash, Known};
use crate::ledger::{fingerprint, format_time, Carried, Doubt, Intent, IntentKind, Ledger};
use crate::results::{Outcome, Status};
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
        let mut batch: Vec<Job> = Vec::with_capacity(self.batch);
        loop {
            let item = match self.feed.next_item() {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(e) => {
                    let sent = self.flush(&mut batch, &work, &events);
                    if sent {
                        let _ = events
                            .blocking_send(Event::ReadFailed(format!("reading stopped: {e}")));
                    }
                    return;
                }
            };
            let ok = match item {
                Item::Invalid { outcome, cells } => {
                    if !outcome.wolkvox_id.is_empty() && !outcome.obligation_id.is_empty() {
                        self.known
                            .mark_seen(KeyHash::of(&outcome.wolkvox_id, &outcome.obligation_id));
                    }
                    events
                        .blocking_send(Event::Settled {
                            outcome,
                            cells,
                            carried: false,
                        })
                        .is_ok()
                }
                Item::Valid(v) => {
                    if let Some(p) = self.portfolio.as_mut() {
                        p.add(v.row, &v.mapped);
                    }
                    let m = &v.mapped;
                    let key = KeyHash::of(&m.wolkvox_id, &m.id);
                    let fp = fingerprint(m.body.as_bytes());
                    self.known.mark_seen(key);
                    let k = Knowledge {
                        known: self.known.get(key),
                        doubt: self.doubts.get(&key).copied(),
                        carried: self.carried.get(&key),
                    };
                    let settled = match triage(self.mode, fp, k) {
                        Triage::Send(action) => {
                            batch.push(Job {
                                row: v,
                                fp,
                                action,
                                logged: false,
                            });
                            None
                        }
                        Triage::Unchanged { crm_id, .. } => {
                            let mut o =
                                Outcome::new(v.row, Status::Unchanged, &m.wolkvox_id, &m.id);
                            o.obligation_wolkvox_id = crm_id.to_string();
                            Some((o, v.cells, false))
                        }
                        Triage::Exists { crm_id, db_id } => {
                            let mut o = Outcome::new(v.row, Status::Failed, &m.wolkvox_id, &m.id);
                            o.obligation_wolkvox_id = crm_id.to_string();
                            o.error = self.exists_message(&m.id, &m.wolkvox_id, db_id);
                            Some((o, v.cells, false))
                        }
                        Triage::Carried(c) => {
                            let mut o = Outcome::new(v.row, c.status, &m.wolkvox_id, &m.id);
                            o.obligation_wolkvox_id = c.crm_id.clone();
                            o.attempts = c.attempts;
                            o.http_status = c.http_status;
                            o.api_code = c.api_code.clone();
                            Some((o, v.cells, true))
                        }
                    };
                    match settled {
                        Some((outcome, cells, carried)) => events
                            .blocking_send(Event::Settled {
                                outcome,
                                cells,
                                carried,
                            })
                            .is_ok(),
                        None if batch.len() < self.batch => true,
                        None => self.flush(&mut batch, &work, &events),
                    }
                }
            };
            if !ok {
                return;
            }
        }
        if self.flush(&mut batch, &work, &events) {
            let _ = events.blocking_send(Event::ReadDone {
                seen: crate::ledger::seen::IdRanges::from_ids(self.known.seen()),
                unseen: self.known.unseen(),
            });
        }
    }

    /// Records the batch's intents (unless the run is stopping: then its rows
    /// are not sent) and queues it; false when nobody listens any more.
    fn flush(
        &mut self,
        batch: &mut Vec<Job>,
        work: &mpsc::Sender<Job>,
        events: &mpsc::Sender<Event>,
    ) -> bool {
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

    /// Insert mode met an obligation the CRM already holds with another
    /// body: say since when, and how to update it.
    fn exists_message(&self, id: &str, wolkvox_id: &str, db_id: u32) -> String {
        let since = self
            .ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .created_at(db_id)
            .ok()
            .flatten()
            .and_then(|ms| format_time(ms).get(..10).map(str::to_string))
            .unwrap_or_else(|| "an earlier run".into());
        format!(
            "obligation \"{id}\" of record \"{wolkvox_id}\" exists in the CRM since {since} with other values; nothing was sent. Use --mode sync to update it"
        )
    }
}
