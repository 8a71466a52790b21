//! Ctrl-C, SIGTERM and SIGHUP for the command line: the first cancels the
//! run (which then drains what is in flight and writes everything), the
//! second leaves at once; the ledger already holds every intent, so the next
//! run still finishes correctly.

use super::progress::print_err;
use tokio_util::sync::CancellationToken;

/// Watches for the signals that end a run; returns at once.
pub fn cancel_on_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        // What leaves at once depends on what came: a person at the
        // terminal presses Ctrl-C; a SIGTERM or a SIGHUP came from a
        // program (a scheduler, an SSH session that closed), whose next
        // signal does it.
        let again = match wait_for_signal().await {
            Signal::Interrupt => wolkvox_import::tr!("signal-again"),
            Signal::Named(name) => wolkvox_import::tr!("signal-again-named", signal = name),
        };
        tracing::warn!("{again}");
        cancel.cancel();
        wait_for_signal().await;
        // stderr may be gone with the terminal: never panic here.
        print_err(&format!("{}\n", wolkvox_import::tr!("signal-leaving")));
        std::process::exit(wolkvox_import::import::exit::INTERRUPTED);
    });
}

/// The signal that ends a run.
pub enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// Another signal, by its name.
    Named(&'static str),
}

/// Waits for Ctrl-C, SIGTERM or SIGHUP (the terminal or SSH session closed).
#[cfg(unix)]
pub async fn wait_for_signal() -> Signal {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(t), Ok(h)) => (t, h),
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            return Signal::Interrupt;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Signal::Interrupt,
        _ = term.recv() => Signal::Named("SIGTERM"),
        _ = hup.recv() => Signal::Named("SIGHUP"),
    }
}

/// Waits for Ctrl-C.
#[cfg(not(unix))]
pub async fn wait_for_signal() -> Signal {
    let _ = tokio::signal::ctrl_c().await;
    Signal::Interrupt
}

/// A limit on the size of the files this process may write (`ulimit -f`, a
/// service's `LimitFSIZE=`) kills it with SIGXFSZ at the write that crosses
/// it, before it can record or say anything. Ignored, that write fails
/// instead ("File too large"), and the run stops as on a full disk: exit 3
/// with the file and the cause named, and `--resume` carries on.
#[cfg(unix)]
pub fn ignore_file_size_signal() {
    // SAFETY: sets one signal's disposition, at start-up, before any thread
    // or signal handler of ours exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// No such signal here.
#[cfg(not(unix))]
pub fn ignore_file_size_signal() {}
