//! Stopping a run: the reasons, the shared signal sleepers wait on, and
//! Ctrl-C / SIGTERM / SIGHUP.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Why the run stops early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Authentication, quota or a dead server: rows not sent are `not_sent`.
    Halt(String),
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupt,
}

/// Shared stop flag that sleepers can wait on.
#[derive(Clone)]
pub(super) struct StopSignal {
    pub(super) tx: Arc<watch::Sender<Option<Stop>>>,
}

impl StopSignal {
    pub(super) fn new() -> StopSignal {
        StopSignal {
            tx: Arc::new(watch::channel(None).0),
        }
    }

    pub(super) fn trigger(&self, why: Stop) {
        self.tx.send_if_modified(|cur| {
            if cur.is_none() {
                *cur = Some(why);
                true
            } else {
                false
            }
        });
    }

    pub(super) fn get(&self) -> Option<Stop> {
        self.tx.borrow().clone()
    }

    /// Sleeps `d` unless the run stops first; true when it slept fully.
    pub(super) async fn sleep(&self, d: Duration) -> bool {
        let mut rx = self.tx.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = rx.wait_for(Option::is_some) => false,
        }
    }
}

/// First Ctrl-C, SIGTERM or SIGHUP (the terminal or SSH session closed):
/// stop taking rows, drain, write everything.
/// Second: leave at once; the journal already holds every finished row.
pub(super) fn spawn_signal_handler(stop: StopSignal) {
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            wait_for_signal().await;
            count += 1;
            if count == 1 {
                tracing::warn!("interrupted: finishing the requests in flight, then writing the results (press Ctrl-C again to leave at once)");
                stop.trigger(Stop::Interrupt);
            } else {
                // stderr may be gone with the terminal: never panic here.
                crate::progress::print_err("leaving at once; run again with --resume to finish\n");
                std::process::exit(crate::import::exit::INTERRUPTED);
            }
        }
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(t), Ok(h)) => (t, h),
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
