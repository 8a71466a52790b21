//! Ctrl-C, SIGTERM and SIGHUP for the command line: the first cancels the
//! run (which then drains what is in flight and writes everything), the
//! second leaves at once; the ledger already holds every intent, so the next
//! run still finishes correctly.

use super::progress::print_err;
use tokio_util::sync::CancellationToken;

/// Watches for the signals that end a run; returns at once.
pub fn cancel_on_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::warn!("{}", wolkvox_import::tr!("signal-again"));
        cancel.cancel();
        wait_for_signal().await;
        // stderr may be gone with the terminal: never panic here.
        print_err(&format!("{}\n", wolkvox_import::tr!("signal-leaving")));
        std::process::exit(wolkvox_import::import::exit::INTERRUPTED);
    });
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP (the terminal or SSH session closed).
#[cfg(unix)]
pub async fn wait_for_signal() {
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

/// Waits for Ctrl-C.
#[cfg(not(unix))]
pub async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
