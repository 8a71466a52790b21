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

/// Turns the caller's cancellation into an interrupt: stop taking rows,
/// drain what is in flight, write everything.
pub(super) fn spawn_cancel_watch(stop: StopSignal, cancel: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let mut rx = stop.tx.subscribe();
        tokio::select! {
            _ = cancel.cancelled() => {
                tracing::warn!("{}", crate::tr!("interrupted-draining"));
                stop.trigger(Stop::Interrupt);
            }
            // The run ended or stopped on its own: nothing to watch.
            _ = rx.wait_for(Option::is_some) => {}
        }
    });
}
