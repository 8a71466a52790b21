//! A real run's pace: rows finished per interval since the start, with the
//! retries and the throttling answers (429, too many simultaneous requests)
//! of the rows finished in each, so a slow night can be explained.
//!
//! The intervals start at one second and widen (5 s, 15 s, 1 min, 5 min...)
//! whenever the run outlasts [`MAX_SLOTS`] of them, adjacent ones merging:
//! a run of minutes and one of days both end with at most that many.

use std::time::{Duration, Instant};

/// The most intervals kept.
pub const MAX_SLOTS: usize = 120;

/// Interval widths in seconds; each divides the next.
const WIDTHS: [u64; 10] = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600];

/// What finished in one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slot {
    /// Rows that needed requests.
    pub sent: u64,
    /// Rows settled without a request (invalid, unchanged, done by an
    /// earlier run, refused because the ledger knows the obligation).
    /// Rows the run stopped before (`not_sent`) are in no series: they did
    /// not finish.
    pub settled: u64,
    /// Writes sent again.
    pub retries: u64,
    /// Answers that asked to slow down.
    pub throttled: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    started: Instant,
    width: usize,
    slots: Vec<Slot>,
}

impl Timeline {
    pub fn new(started: Instant) -> Timeline {
        Timeline {
            started,
            width: 0,
            slots: Vec::new(),
        }
    }

    /// The width of an interval.
    pub fn width(&self) -> Duration {
        Duration::from_secs(WIDTHS[self.width])
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// Counts a row that finished at `at`.
    pub fn row_done(&mut self, at: Instant, sent: bool, retries: u32, throttled: u32) {
        let slot = self.slot_at(at.saturating_duration_since(self.started));
        if sent {
            slot.sent += 1;
        } else {
            slot.settled += 1;
        }
        slot.retries += u64::from(retries);
        slot.throttled += u64::from(throttled);
    }

    /// Counts the retries and throttling answers of a row that did not
    /// finish (`not_sent`: the run stopped before it): the requests it
    /// cost show, the row does not.
    pub fn row_not_sent(&mut self, at: Instant, retries: u32, throttled: u32) {
        if retries == 0 && throttled == 0 {
            return;
        }
        let slot = self.slot_at(at.saturating_duration_since(self.started));
        slot.retries += u64::from(retries);
        slot.throttled += u64::from(throttled);
    }

    fn slot_at(&mut self, since: Duration) -> &mut Slot {
        let mut i = (since.as_secs() / WIDTHS[self.width]) as usize;
        while i >= MAX_SLOTS && self.width + 1 < WIDTHS.len() {
            let factor = (WIDTHS[self.width + 1] / WIDTHS[self.width]) as usize;
            let merged: Vec<Slot> = self
                .slots
                .chunks(factor)
                .map(|c| {
                    c.iter().fold(Slot::default(), |a, s| Slot {
                        sent: a.sent + s.sent,
                        settled: a.settled + s.settled,
                        retries: a.retries + s.retries,
                        throttled: a.throttled + s.throttled,
                    })
                })
                .collect();
            self.slots = merged;
            self.width += 1;
            i = (since.as_secs() / WIDTHS[self.width]) as usize;
        }
        // Past the widest intervals (weeks), the last one takes the rest.
        let i = i.min(MAX_SLOTS - 1);
        if self.slots.len() <= i {
            self.slots.resize(i + 1, Slot::default());
        }
        &mut self.slots[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_widen_and_keep_every_row() {
        let t0 = Instant::now();
        let mut t = Timeline::new(t0);
        t.row_done(t0, true, 0, 0);
        t.row_done(t0 + Duration::from_millis(1500), true, 2, 1);
        t.row_done(t0 + Duration::from_secs(3), false, 0, 0);
        assert_eq!(t.width(), Duration::from_secs(1));
        assert_eq!(t.slots().len(), 4);
        assert_eq!(
            t.slots()[1],
            Slot {
                sent: 1,
                settled: 0,
                retries: 2,
                throttled: 1
            }
        );

        // Two hours of one row a second: 7,200 rows in at most MAX_SLOTS.
        for s in 4..7200 {
            t.row_done(
                t0 + Duration::from_secs(s),
                true,
                0,
                u32::from(s % 100 == 0),
            );
        }
        assert!(t.slots().len() <= MAX_SLOTS);
        assert_eq!(t.width(), Duration::from_secs(60));
        let total: u64 = t.slots().iter().map(|s| s.sent + s.settled).sum();
        assert_eq!(total, 7199);
        assert_eq!(t.slots().iter().map(|s| s.retries).sum::<u64>(), 2);
        assert_eq!(t.slots().iter().map(|s| s.throttled).sum::<u64>(), 1 + 71);
        // The first minute holds the first 60 seconds' rows.
        assert_eq!(t.slots()[0].sent + t.slots()[0].settled, 59);

        // Rows the run stopped before: only what they cost.
        let before = t.slots().to_vec();
        t.row_not_sent(t0 + Duration::from_secs(7199), 0, 0);
        assert_eq!(t.slots(), &before[..]);
        t.row_not_sent(t0 + Duration::from_secs(7199), 3, 1);
        let rows: u64 = t.slots().iter().map(|s| s.sent + s.settled).sum();
        assert_eq!(rows, 7199);
        assert_eq!(t.slots().iter().map(|s| s.retries).sum::<u64>(), 5);

        // Months later, still bounded.
        t.row_done(t0 + Duration::from_secs(90 * 24 * 3600), true, 0, 0);
        assert!(t.slots().len() <= MAX_SLOTS);
        assert_eq!(
            t.slots().iter().map(|s| s.sent + s.settled).sum::<u64>(),
            7200
        );
    }
}
