//! A local stand-in for the wolkvox CRM collections API.
//!
//! The real API is rate limited per day, refuses more than a couple of
//! simultaneous requests per token, and misbehaves in ways a loader must
//! survive (maintenance pages, bodies that are not JSON, `code` written as a
//! string, connections that die after the record was already saved). Tests,
//! benchmarks and user rehearsals cannot use the real service for any of
//! that, so this module imitates it on a local port, with every kind of
//! misbehaviour available on demand and reproducible from a seed.
//!
//! Every accepted insert and update is kept in memory and, when a ledger path
//! is given, appended to a JSON Lines file. The ledger is the ground truth a
//! test compares with what the client believes it sent: duplicates are stored
//! exactly like the real API stores them, so they show up there. Restarting a
//! fake on the same ledger replays it, so a resumed import meets the records
//! an interrupted one left behind.
//!
//! The parts, by role: `options` (how the fake behaves), `api` (routing, the
//! checks every request passes, the endpoints and their answers), `faults`
//! (which misbehaviour a request gets, and what it looks like), `store` (what
//! the fake holds, and its ledger), `server` (the connections) and `stats`
//! (the counters a test reads).

mod api;
mod faults;
mod options;
mod server;
mod stats;
mod store;
#[cfg(test)]
mod test_client;

pub use options::{CodeStyle, FakeCrmOptions, DEFAULT_TOKEN};
pub use stats::FakeCrmStats;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::debug;

use faults::Dice;
use stats::Counters;
use store::Store;

/// A running fake CRM. Dropping it also stops it, but only `shutdown` waits
/// until the port and the ledger are released.
pub struct FakeCrm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl FakeCrm {
    /// Binds (use "127.0.0.1:0" for a free port) and starts serving in a spawned task.
    ///
    /// Fails if the options are inconsistent, the port cannot be bound, or
    /// the ledger exists but cannot be read back.
    pub async fn start(listen: SocketAddr, opts: FakeCrmOptions) -> io::Result<FakeCrm> {
        opts.validate()?;
        let store = Store::open(opts.ledger.as_deref())?;
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            dice: Dice::new(&opts),
            opts,
            started: Instant::now(),
            counters: Counters::default(),
            in_flight: AtomicUsize::new(0),
            quota_used: AtomicU64::new(0),
            store: Mutex::new(store),
        });
        let router = api::router(shared.clone());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(server::accept_loop(listener, router, stop_rx));
        debug!(%addr, opts = ?shared.opts, "fake CRM listening");
        Ok(FakeCrm {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// e.g. "http://127.0.0.1:4321/server/API/v2/"
    pub fn base_url(&self) -> String {
        format!("http://{}/server/API/v2/", self.addr)
    }

    /// The counters so far.
    pub fn stats(&self) -> FakeCrmStats {
        self.shared.counters.snapshot()
    }

    /// Every stored obligation insert/update so far, as ledger entries (serde_json::Value), in order.
    ///
    /// Includes the entries replayed from an existing ledger, so it always
    /// describes everything the fake holds.
    pub fn ledger_entries(&self) -> Vec<serde_json::Value> {
        lock(&self.shared.store)
            .entries
            .iter()
            .map(|e| serde_json::from_str(e).expect("entries are stored as valid JSON"))
            .collect()
    }

    /// Stops accepting and closes the listener and all connections.
    ///
    /// Requests still being handled are abandoned without an answer, like a
    /// server that goes away.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            if let Err(err) = task.await {
                debug!(%err, "fake CRM accept loop ended abnormally");
            }
        }
    }
}

impl Drop for FakeCrm {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// Locks ignoring poison: a panicking test thread must not turn every later
/// request into a second, misleading panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What every request handler shares.
struct Shared {
    opts: FakeCrmOptions,
    /// When the "day" began: token information counts hours from here.
    started: Instant,
    counters: Counters,
    /// Requests holding an in-flight slot now.
    in_flight: AtomicUsize,
    /// Requests counted against `daily_limit` so far.
    quota_used: AtomicU64,
    dice: Dice,
    store: Mutex<Store>,
}
