//! The collector: the one place that writes what a run learnt (outcomes to
//! the ledger, lines to the results, payloads and rejects files), draws the
//! progress and decides when repeated failures stop the run.
//!
//! It takes the events that are ready as one batch and writes each batch in
//! one ledger transaction: one commit per batch rather than per row keeps a
//! fast API busy.

use super::stop::{Stop, StopSignal};
use super::{Event, Mode};
use crate::import::Observers;
use crate::import::{RunError, Summary};
use crate::ledger::{Ledger, Note, RunEnd};
use crate::results::{Journal, Line, Outcome, PayloadWriter, Status};
use crate::tr;
use crate::workbook_out::Rejects;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// A local write that failed: what stops the run.
pub(super) enum WriteFailure {
    Ledger(crate::ledger::LedgerError),
    Output(crate::results::OutputError),
}

/// Events written in one transaction, at most.
const COLLECT_BATCH: usize = 256;

pub(super) struct Collector {
    ledger: Arc<Mutex<Ledger>>,
    run: i64,
    scope: i64,
    mode: Mode,
    stop: StopSignal,
    breaker: u32,
    consecutive_transient: u32,
    journal: Option<Journal>,
    payloads: Option<PayloadWriter>,
    rejects: Option<Rejects>,
    observer: Option<Observers>,
    summary: Summary,
    /// The first local write failure (ledger, results, payloads, rejects).
    /// The first local write failure, and the message the run stopped with.
    write_failure: Option<(WriteFailure, String)>,
    ledger_failed: bool,
    /// Known obligations the file listed, and those it did not, once it was
    /// read whole.
    read_whole: Option<(crate::ledger::seen::IdRanges, Vec<u32>)>,
    /// `--report`: the problems and the pace, row by row.
    report: Option<(crate::report::Problems, crate::report::Timeline)>,
}

impl Collector {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        ledger: Arc<Mutex<Ledger>>,
        run: i64,
        scope: i64,
        mode: Mode,
        stop: StopSignal,
        breaker: u32,
        outputs: super::Outputs,
        observer: Option<Observers>,
        report: Option<(crate::report::Problems, crate::report::Timeline)>,
    ) -> Collector {
        Collector {
            ledger,
            run,
            scope,
            mode,
            stop,
            breaker,
            consecutive_transient: 0,
            journal: Some(outputs.journal),
            payloads: outputs.payloads,
            rejects: outputs.rejects,
            observer,
            summary: Summary::new(false),
            write_failure: None,
            ledger_failed: false,
            read_whole: None,
            report,
        }
    }

    /// What `--report` gathered, once the events are all in.
    pub(super) fn take_report(
        &mut self,
    ) -> Option<(crate::report::Problems, crate::report::Timeline)> {
        self.report.take()
    }

    /// Collects until every sender is gone.
    pub(super) async fn collect(&mut self, mut events: mpsc::Receiver<Event>) {
        let mut batch: Vec<Event> = Vec::with_capacity(COLLECT_BATCH);
        while let Some(first) = events.recv().await {
            batch.push(first);
            while batch.len() < COLLECT_BATCH {
                match events.try_recv() {
                    Ok(ev) => batch.push(ev),
                    Err(_) => break,
                }
            }
            // The ledger's commit may wait on the disk: let the runtime move
            // the workers elsewhere meanwhile.
            tokio::task::block_in_place(|| self.write_batch(&batch));
            for ev in batch.drain(..) {
                self.count(ev);
            }
        }
    }

    fn fail_write(&mut self, failure: WriteFailure) {
        let msg = match &failure {
            WriteFailure::Ledger(e) => tr!("write-failed-ledger", why = e.to_string()),
            WriteFailure::Output(e) => tr!("write-failed", why = e.to_string()),
        };
        tracing::error!("{msg}");
        self.stop.trigger(Stop::Halt(msg.clone()));
        if self.write_failure.is_none() {
            self.write_failure = Some((failure, msg));
        }
    }

    fn write_batch(&mut self, batch: &[Event]) {
        if !self.ledger_failed {
            let notes: Vec<Note> = batch.iter().filter_map(note).collect();
            let recorded = self
                .ledger
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .record_notes(self.run, self.scope, &notes);
            if let Err(e) = recorded {
                self.ledger_failed = true;
                self.fail_write(WriteFailure::Ledger(e));
            }
        }
        for ev in batch {
            match ev {
                Event::Finished { p, cells, .. } => {
                    self.write_row(&p.outcome.line(), cells.as_deref(), p.sent_body.as_deref())
                }
                Event::Settled(rows) => {
                    for r in rows.iter() {
                        self.write_row(&r.line, r.cells, None);
                    }
                }
                Event::ReadFailed(_) | Event::WriteFailed(_) | Event::ReadDone { .. } => {}
            }
        }
        if let Some(j) = self.journal.as_mut() {
            if let Err(e) = j.flush() {
                self.journal = None;
                self.fail_write(WriteFailure::Output(e));
            }
        }
    }

    /// A row's line in the results, its body in the payloads, and the row
    /// in the rejects when it did not end well.
    fn write_row(&mut self, line: &Line<'_>, cells: Option<&[String]>, sent_body: Option<&str>) {
        if let Some(j) = self.journal.as_mut() {
            if let Err(e) = j.write_line(line) {
                self.journal = None;
                self.fail_write(WriteFailure::Output(e));
            }
        }
        if let (Some(p), Some(body)) = (self.payloads.as_mut(), sent_body) {
            if let Err(e) = p.write(line.row, body) {
                self.payloads = None;
                self.fail_write(WriteFailure::Output(e));
            }
        }
        if let (Some(r), Some(cells)) = (self.rejects.as_mut(), cells) {
            if !line.status.is_success() {
                if let Err(e) = r.write(line.row, cells, line.error) {
                    self.rejects = None;
                    self.fail_write(WriteFailure::Output(e));
                }
            }
        }
    }

    fn count(&mut self, ev: Event) {
        match ev {
            Event::ReadFailed(msg) => {
                tracing::error!("{msg}");
                self.stop.trigger(Stop::Halt(msg));
            }
            Event::WriteFailed(e) => {
                // The reader has stopped the run already, with this message.
                let msg = tr!("write-failed-ledger", why = e.to_string());
                tracing::error!("{msg}");
                if self.write_failure.is_none() {
                    self.write_failure = Some((WriteFailure::Ledger(e), msg));
                }
            }
            Event::ReadDone { seen, unseen } => self.read_whole = Some((seen, unseen)),
            Event::Settled(rows) => {
                let now = std::time::Instant::now();
                for r in rows.iter() {
                    if r.carried {
                        self.summary.carried_over += 1;
                    }
                    self.summary.count_row(&r.line, r.problems);
                    if let Some((problems, timeline)) = self.report.as_mut() {
                        problems.add(&r.line, r.problems);
                        timeline.row_done(now, false, 0, 0);
                    }
                    Observers::row_done(&self.observer, &r.line);
                }
                rows.give_back();
            }
            Event::Finished { p, .. } => {
                log_outcome(&p.outcome);
                if p.transient_only {
                    self.consecutive_transient += 1;
                    if self.consecutive_transient >= self.breaker {
                        self.stop.trigger(Stop::Halt(tr!(
                            "breaker-tripped",
                            count = self.consecutive_transient,
                            last = p.outcome.error.as_str()
                        )));
                    }
                } else if p.outcome.attempts > 0 && p.outcome.status != Status::NotSent {
                    self.consecutive_transient = 0;
                }
                self.summary.count(&p.outcome);
                if let Some((problems, timeline)) = self.report.as_mut() {
                    problems.add(&p.outcome.line(), &[]);
                    let now = std::time::Instant::now();
                    if p.outcome.status == Status::NotSent {
                        // Stopped before it ended (quota, a signal): no
                        // row finished here, only its requests show.
                        timeline.row_not_sent(now, p.tally.retries, p.tally.throttled);
                    } else {
                        timeline.row_done(
                            now,
                            p.outcome.attempts > 0,
                            p.tally.retries,
                            p.tally.throttled,
                        );
                    }
                }
                Observers::row_done(&self.observer, &p.outcome.line());
            }
        }
    }

    /// Finishes the results, payloads and rejects files.
    fn close_outputs(&mut self) {
        if let Some(j) = self.journal.take() {
            if let Err(e) = j.finish() {
                self.fail_write(WriteFailure::Output(e));
            }
        }
        if let Some(p) = self.payloads.take() {
            if let Err(e) = p.finish() {
                self.fail_write(WriteFailure::Output(e));
            }
        }
        if let Some(r) = self.rejects.take() {
            if let Err(e) = r.finish() {
                self.fail_write(WriteFailure::Output(e));
            }
        }
    }

    /// `--vanished`: the known obligations the file did not list.
    fn write_vanished(&mut self, path: &std::path::Path, unseen: &[u32]) {
        let written = self
            .ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .obligations_by_id(unseen)
            .map_err(WriteFailure::Ledger)
            .and_then(|rows| {
                crate::results::write_vanished(path, &rows).map_err(WriteFailure::Output)
            });
        if let Err(failure) = written {
            self.fail_write(failure);
        }
    }

    /// Closes the outputs, writes the vanished obligations, records the
    /// run's end and returns its summary.
    pub(super) fn finish(
        mut self,
        settings: &crate::import::ImportSettings,
        requests: u64,
        elapsed: Duration,
    ) -> Result<Summary, RunError> {
        let mut summary = std::mem::take(&mut self.summary);
        summary.requests = requests;
        summary.mode = Some(self.mode);
        summary.server = settings
            .send
            .as_ref()
            .map(|s| super::server_key(&s.connection.base));
        summary.elapsed = elapsed;
        match self.stop.get() {
            Some(Stop::Halt(why)) => summary.stopped = Some(why),
            Some(Stop::Interrupt) => summary.interrupted = true,
            None => {}
        }
        self.close_outputs();
        let mut seen = None;
        if let Some((listed, unseen)) = self.read_whole.take() {
            seen = Some(listed);
            summary.vanished = Some(unseen.len() as u64);
            if let Some(path) = &settings.vanished {
                self.write_vanished(path, &unseen);
            }
        }
        if let Some((failure, why)) = self.write_failure.take() {
            if requests == 0 {
                // Nothing reached the CRM: the run is unusable, not stopped.
                return Err(match failure {
                    WriteFailure::Ledger(e) => RunError::Ledger(e),
                    WriteFailure::Output(e) => RunError::Output(e),
                });
            }
            if summary.stopped.is_none() {
                summary.stopped = Some(why);
            }
        }
        let end = RunEnd {
            counts: summary.counts.iter().map(|(s, n)| (*s, *n)).collect(),
            requests,
            vanished: summary.vanished,
            exit_code: summary.exit_code(),
            stop_reason: summary.stopped.clone(),
            seen,
        };
        if !self.ledger_failed {
            if let Err(e) = self
                .ledger
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .end_run(self.run, &end)
            {
                tracing::warn!("{}", tr!("run-end-unrecorded", why = e.to_string()));
            }
        }
        Ok(summary)
    }
}

/// What the ledger must learn from an event.
fn note(ev: &Event) -> Option<Note> {
    match ev {
        Event::Finished { p, fp, logged, .. } => Some(Note {
            outcome: p.outcome.clone(),
            logged: *logged,
            body_fp: *fp,
            found: p.found.clone(),
            settles_doubt: p.settles_doubt,
        }),
        _ => None,
    }
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
