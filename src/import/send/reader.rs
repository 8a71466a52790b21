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
use crate::import::rows::{RowFeed, Verdict};
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
}

impl Reader {
    /// Reads to the end of the file, even after a stop, so that every row
    /// gets its line in the results.
    pub(super) fn run(mut self, work: mpsc::Sender<Job>, events: mpsc::Sender<Event>) {
        let mut batch: Vec<Job> = Vec::with_capacity(self.batch);
        loop {
            let r = match self.feed.next_row() {
                Ok(Some(r)) => r,
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
            let cells = || r.cells.map(<[String]>::to_vec);
            let ok = match r.verdict {
                Verdict::Invalid { error } => {
                    let seen = (!r.wolkvox_id.is_empty() && !r.id.is_empty())
                        .then(|| self.known.mark_seen(KeyHash::of(r.wolkvox_id, r.id)))
                        .flatten();
                    let outcome =
                        Outcome::new(r.row, Status::Invalid, r.wolkvox_id, r.id).with_error(error);
                    events
                        .blocking_send(Event::Settled {
                            outcome,
                            seen,
                            cells: cells(),
                            carried: false,
                        })
                        .is_ok()
                }
                Verdict::Valid { body, key } => {
                    let fp = fingerprint(body.as_bytes());
                    let seen = self.known.mark_seen(key);
                    let k = Knowledge {
                        known: self.known.get(key),
                        doubt: self.doubts.get(&key).copied(),
                        carried: self.carried.get(&key),
                    };
                    let settled = match triage(self.mode, fp, k) {
                        Triage::Send(action) => {
                            batch.push(Job {
                                row: r.to_valid().expect("a valid row"),
                                fp,
                                action,
                                logged: false,
                            });
                            None
                        }
                        Triage::Unchanged { crm_id, .. } => {
                            let mut o = Outcome::new(r.row, Status::Unchanged, r.wolkvox_id, r.id);
                            o.obligation_wolkvox_id = crm_id.to_string();
                            Some((o, cells(), false))
                        }
                        Triage::Exists { crm_id, db_id } => {
                            let mut o = Outcome::new(r.row, Status::Failed, r.wolkvox_id, r.id);
                            o.obligation_wolkvox_id = crm_id.to_string();
                            o.error = exists_message(&self.ledger, r.id, r.wolkvox_id, db_id);
                            Some((o, cells(), false))
                        }
                        Triage::Carried(c) => {
                            let mut o = Outcome::new(r.row, c.status, r.wolkvox_id, r.id);
                            o.obligation_wolkvox_id = c.crm_id.clone();
                            o.attempts = c.attempts;
                            o.http_status = c.http_status;
                            o.api_code = c.api_code.clone();
                            Some((o, cells(), true))
                        }
                    };
                    match settled {
                        Some((outcome, cells, carried)) => events
                            .blocking_send(Event::Settled {
                                outcome,
                                seen,
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
                    let msg = format!(
                        "cannot write the ledger: {e}; nothing more is sent. Free the space or fix the file, then run again with --resume to carry on"
                    );
                    self.stop.trigger(Stop::Halt(msg.clone()));
                    if events.blocking_send(Event::WriteFailed(msg)).is_err() {
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
        .unwrap_or_else(|| "an earlier run".into());
    format!(
        "obligation \"{id}\" of record \"{wolkvox_id}\" exists in the CRM since {since} with other values; nothing was sent. Use --mode sync to update it"
    )
}
