//! Rows the reader settles without a request (invalid, unchanged, already
//! in the CRM, done by the run being resumed), sent to the collector a batch
//! at a time.
//!
//! A nightly sync settles nearly every row this way, and each needs only its
//! line in the results. So a batch keeps the
//! rows' text in one buffer instead of three `String`s a row, travels as one
//! event instead of one per row, and goes back to the reader once written,
//! to be filled again: its buffers are reused and freed by the thread that
//! made them.

use crate::problem::{Kind, Problem};
use crate::results::{Line, Status};
use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

/// Rows in one batch.
pub(super) const SETTLED_BATCH: usize = 256;

/// A batch of settled rows.
#[derive(Debug)]
pub(super) struct Settled {
    text: String,
    rows: Vec<SettledRow>,
    /// The invalid rows' problems, for the report.
    problems: Vec<Problem>,
    /// Where the batch goes back to once written.
    home: SyncSender<Settled>,
}

#[derive(Debug)]
struct SettledRow {
    row: u64,
    status: Status,
    wolkvox_id: Range<u32>,
    obligation_id: Range<u32>,
    obligation_wolkvox_id: Range<u32>,
    attempts: u32,
    http_status: Option<u16>,
    api_code: Option<Range<u32>>,
    error: Range<u32>,
    kind: Option<Kind>,
    /// An invalid row's problems, in `problems`.
    problems: Range<u32>,
    /// Done by the run being resumed.
    carried: bool,
    /// The row as the input spelled it, only with `--rejects` and for a row
    /// that did not end well.
    cells: Option<Vec<String>>,
}

/// One settled row, as the collector reads it.
pub(super) struct SettledView<'a> {
    pub line: Line<'a>,
    pub carried: bool,
    pub cells: Option<&'a [String]>,
    /// An invalid row's problems; none for another.
    pub problems: &'a [Problem],
}

impl Settled {
    fn new(home: SyncSender<Settled>) -> Settled {
        Settled {
            text: String::new(),
            rows: Vec::with_capacity(SETTLED_BATCH),
            problems: Vec::new(),
            home,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn span(&mut self, s: &str) -> Range<u32> {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        start..self.text.len() as u32
    }

    /// Adds an invalid row, with its problems.
    pub(super) fn push_invalid(
        &mut self,
        line: &Line<'_>,
        problems: &[Problem],
        cells: Option<&[String]>,
    ) {
        let start = self.problems.len() as u32;
        self.problems.extend_from_slice(problems);
        self.push(line, false, cells);
        if let Some(r) = self.rows.last_mut() {
            r.problems = start..self.problems.len() as u32;
        }
    }

    /// Adds a row; `cells` is kept only for a row that did not end well.
    pub(super) fn push(&mut self, line: &Line<'_>, carried: bool, cells: Option<&[String]>) {
        let row = SettledRow {
            row: line.row,
            status: line.status,
            wolkvox_id: self.span(line.wolkvox_id),
            obligation_id: self.span(line.obligation_id),
            obligation_wolkvox_id: self.span(line.obligation_wolkvox_id),
            attempts: line.attempts,
            http_status: line.http_status,
            api_code: line.api_code.map(|c| self.span(c)),
            error: self.span(line.error),
            kind: line.kind,
            problems: 0..0,
            carried,
            cells: cells
                .filter(|_| !line.status.is_success())
                .map(<[String]>::to_vec),
        };
        self.rows.push(row);
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = SettledView<'_>> {
        let at = |r: &Range<u32>| &self.text[r.start as usize..r.end as usize];
        self.rows.iter().map(move |r| SettledView {
            line: Line {
                row: r.row,
                status: r.status,
                wolkvox_id: at(&r.wolkvox_id),
                obligation_id: at(&r.obligation_id),
                obligation_wolkvox_id: at(&r.obligation_wolkvox_id),
                attempts: r.attempts,
                http_status: r.http_status,
                api_code: r.api_code.as_ref().map(at),
                error: at(&r.error),
                kind: r.kind,
            },
            carried: r.carried,
            cells: r.cells.as_deref(),
            problems: &self.problems[r.problems.start as usize..r.problems.end as usize],
        })
    }

    /// Sends the batch back to the reader to be filled again; dropped if
    /// the reader has enough.
    pub(super) fn give_back(mut self) {
        self.text.clear();
        self.rows.clear();
        self.problems.clear();
        let home = self.home.clone();
        match home.try_send(self) {
            Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Batches in flight at most: enough to keep the collector busy; more would
/// only hold rows in memory while it writes.
const SETTLED_IN_FLIGHT: usize = 64;

/// The reader's side: empty batches to fill.
pub(super) struct SettledPool {
    /// Where batches come back to; dropped once all are made, so that the
    /// channel closes if the collector goes away with them.
    home: Option<SyncSender<Settled>>,
    made: usize,
    returned: Receiver<Settled>,
}

impl SettledPool {
    pub(super) fn new() -> SettledPool {
        let (home, returned) = std::sync::mpsc::sync_channel(SETTLED_IN_FLIGHT);
        SettledPool {
            home: Some(home),
            made: 0,
            returned,
        }
    }

    /// An empty batch: one given back, a new one while fewer than
    /// `SETTLED_IN_FLIGHT` exist, or else the next given back.
    pub(super) fn take(&mut self) -> Settled {
        if let Ok(b) = self.returned.try_recv() {
            return b;
        }
        if let Some(home) = &self.home {
            let b = Settled::new(home.clone());
            self.made += 1;
            if self.made == SETTLED_IN_FLIGHT {
                self.home = None;
            }
            return b;
        }
        self.returned.recv().unwrap_or_else(|_| {
            // The collector is gone with the batches: this one goes nowhere
            // (sending it will fail the same way).
            Settled::new(std::sync::mpsc::sync_channel(1).0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_as_they_went_in_and_batches_are_reused() {
        let mut pool = SettledPool::new();
        let mut b = pool.take();
        let cells = vec!["a".to_string(), "b".to_string()];
        let unchanged = Line {
            obligation_wolkvox_id: "12cb",
            ..Line::new(2, Status::Unchanged, "R1", "OB1")
        };
        let invalid = Line {
            error: "column \"Saldo\" is empty",
            ..Line::new(3, Status::Invalid, "R2", "")
        };
        let carried = Line {
            attempts: 2,
            http_status: Some(200),
            api_code: Some("200"),
            ..Line::new(4, Status::Created, "R3", "OB3")
        };
        let problems = [Problem::empty("Saldo")];
        b.push(&unchanged, false, Some(&cells));
        b.push_invalid(&invalid, &problems, Some(&cells));
        b.push(&carried, true, None);
        let rows: Vec<_> = b.iter().collect();
        assert_eq!(rows[0].line, unchanged);
        assert_eq!((rows[0].carried, rows[0].cells), (false, None));
        assert!(rows[0].problems.is_empty());
        assert_eq!(rows[1].line, invalid);
        assert_eq!(rows[1].cells, Some(&cells[..]));
        assert_eq!(rows[1].problems, &problems[..]);
        assert!(rows[2].problems.is_empty());
        assert_eq!(rows[2].line, carried);
        assert!(rows[2].carried);
        let capacity = b.text.capacity();
        b.give_back();
        let again = pool.take();
        assert!(again.is_empty());
        assert_eq!(again.text.capacity(), capacity);
    }

    #[test]
    fn no_more_batches_are_made_than_may_be_in_flight() {
        let mut pool = SettledPool::new();
        let batches: Vec<Settled> = (0..SETTLED_IN_FLIGHT).map(|_| pool.take()).collect();
        assert!(pool.home.is_none());
        let returner = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            batches.into_iter().for_each(Settled::give_back);
        });
        // Waits for one to come back rather than making another.
        let b = pool.take();
        assert!(b.is_empty());
        returner.join().unwrap();
    }

    #[test]
    fn a_collector_gone_with_the_batches_does_not_leave_the_reader_waiting() {
        let mut pool = SettledPool::new();
        let batches: Vec<Settled> = (0..SETTLED_IN_FLIGHT).map(|_| pool.take()).collect();
        drop(batches);
        assert!(pool.take().is_empty());
    }
}
