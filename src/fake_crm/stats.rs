//! The counters a test reads to judge the client.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Counters a test reads to judge the client, not the fake.
///
/// `requests` counts every API request (not `/__fake/stats`). `inserts`,
/// `updates` and `queries` count requests actually carried out (an update of
/// a missing obligation is not one). `rejected_busy` counts only refusals
/// caused by real concurrency, so a test can assert it stayed 0 even with
/// `busy_rate` set; injected faults, drops and slow answers included, are
/// counted in `faults`, and drops also in `drops`. `max_in_flight` includes
/// the request that overflowed, so exceeding the limit is always visible.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FakeCrmStats {
    /// Every API request received.
    pub requests: u64,
    /// The most requests in flight at once, the overflowing one included.
    pub max_in_flight: usize,
    /// Inserts carried out.
    pub inserts: u64,
    /// Updates carried out.
    pub updates: u64,
    /// Look-ups answered.
    pub queries: u64,
    /// Requests refused because too many were in flight.
    pub rejected_busy: u64,
    /// Requests refused because the daily quota was spent.
    pub rejected_quota: u64,
    /// Requests refused for a missing or wrong token.
    pub rejected_auth: u64,
    /// Requests whose body or parameters were not what the API takes.
    pub bad_requests: u64,
    /// Injected faults: errors, slow answers and drops.
    pub faults: u64,
    /// Connections dropped on purpose.
    pub drops: u64,
}

#[derive(Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) max_in_flight: AtomicUsize,
    pub(super) inserts: AtomicU64,
    pub(super) updates: AtomicU64,
    pub(super) queries: AtomicU64,
    pub(super) rejected_busy: AtomicU64,
    pub(super) rejected_quota: AtomicU64,
    pub(super) rejected_auth: AtomicU64,
    pub(super) bad_requests: AtomicU64,
    pub(super) faults: AtomicU64,
    pub(super) drops: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub(super) fn snapshot(&self) -> FakeCrmStats {
        let c = self;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FakeCrmStats {
            requests: get(&c.requests),
            max_in_flight: c.max_in_flight.load(Ordering::SeqCst),
            inserts: get(&c.inserts),
            updates: get(&c.updates),
            queries: get(&c.queries),
            rejected_busy: get(&c.rejected_busy),
            rejected_quota: get(&c.rejected_quota),
            rejected_auth: get(&c.rejected_auth),
            bad_requests: get(&c.bad_requests),
            faults: get(&c.faults),
            drops: get(&c.drops),
        }
    }
}
