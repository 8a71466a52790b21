//! What the people watching see: logs on stderr (text or JSON lines) and, on
//! a terminal, a progress bar that log lines print above without tearing it.
//! The bar is the run's [`Observer`]: the library tells it of each row.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;
use wolkvox_import::import::Observer;
use wolkvox_import::results::{Line, Status};
use wolkvox_import::source::{Source, SourceOptions};

/// The bar currently drawn, if any, so log lines can suspend it.
static ACTIVE_BAR: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();

fn active_bar() -> &'static Mutex<Option<ProgressBar>> {
    ACTIVE_BAR.get_or_init(|| Mutex::new(None))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global logger. `verbosity` 0 is info, 1 debug, 2+ trace;
/// `RUST_LOG` overrides it.
pub fn init_logging(format: LogFormat, verbosity: u8) {
    let level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    // Our own crate at the chosen level; dependencies stay quieter unless
    // RUST_LOG asks for them.
    let default = format!("warn,wolkvox_import={level}");
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BarAwareStderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    let result = match format {
        LogFormat::Text => builder.without_time().try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    // A second init (tests running in one process) keeps the first logger.
    let _ = result;
}

/// Writes log lines to stderr, lifting the progress bar out of the way.
#[derive(Clone, Copy)]
struct BarAwareStderr;

struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.0);
        let bar = active_bar().lock().ok().and_then(|b| b.clone());
        let write = || {
            let _ = std::io::stderr().lock().write_all(&bytes);
        };
        match bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl<'a> MakeWriter<'a> for BarAwareStderr {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::with_capacity(256))
    }
}

/// The progress of a run, drawn as a bar on the terminal.
pub struct Progress {
    bar: ProgressBar,
    created: AtomicU64,
    failed: AtomicU64,
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Observer for Progress {
    fn row_done(&self, line: &Line<'_>) {
        self.row_ended(line.status);
    }
}

impl Progress {
    /// A bar on stderr, which log lines lift out of the way.
    pub fn new() -> Progress {
        let bar = {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{spinner}} {{pos}}/{{len}} {} [{{bar:30}}] {{rate}} {} {{eta}} {{msg}}",
                    wolkvox_import::tr!("progress-rows"),
                    wolkvox_import::tr!("progress-eta")
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(
                            w,
                            "{}",
                            wolkvox_import::tr!(
                                "progress-rate",
                                rate = format!("{:.0}", state.per_sec())
                            )
                        );
                    },
                )
                .progress_chars("=> "),
            );
            if let Ok(mut slot) = active_bar().lock() {
                *slot = Some(bar.clone());
            }
            bar
        };
        Progress {
            bar,
            created: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    /// Counts the input's rows on a side thread so the bar gets its length
    /// without delaying the first request.
    pub fn count_rows_in_background(&self, input: PathBuf, opts: SourceOptions) {
        let bar = self.bar.clone();
        let _ = std::thread::Builder::new()
            .name("row-counter".into())
            .spawn(move || {
                if let Ok(mut source) = Source::open(&input, &opts) {
                    let mut n = 0u64;
                    while let Ok(Some(_)) = source.next_row() {
                        n += 1;
                    }
                    bar.set_length(n);
                }
            });
    }

    /// A row ended with `status`.
    pub fn row_ended(&self, status: Status) {
        let bar = &self.bar;
        match status {
            Status::Created | Status::Updated => {
                self.created.fetch_add(1, Ordering::Relaxed);
            }
            Status::Failed | Status::Uncertain | Status::Invalid => {
                self.failed.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        bar.inc(1);
        bar.set_message(wolkvox_import::tr!(
            "progress-message",
            created = self.created.load(Ordering::Relaxed),
            failed = self.failed.load(Ordering::Relaxed)
        ));
    }

    /// Takes the bar off the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        if let Ok(mut slot) = active_bar().lock() {
            *slot = None;
        }
    }
}

/// Writes `text` to stdout. A closed pipe (`| head`) or a vanished terminal
/// is not a reason to panic or to change the exit code: the rows' outcome
/// is in the results file whatever happens to the console.
pub fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Writes `text` to stderr, ignoring a closed pipe as [`print_out`] does.
pub fn print_err(text: &str) {
    let bar = active_bar().lock().ok().and_then(|b| b.clone());
    let write = || {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    };
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}
