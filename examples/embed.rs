//! Embeds wolkvox-import in a Tokio program: starts an import, cancels it
//! once some rows are done (as a service would on shutdown), then runs it
//! again to the end. Every obligation ends in the CRM exactly once: the
//! ledger remembers what the first run sent, and what it left in doubt is
//! looked up before anything is sent again.
//!
//! ```sh
//! cargo run -- fake-crm --listen 127.0.0.1:8080 &
//! WOLKVOX_TOKEN=fake-token cargo run --example embed -- \
//!     samples/cartera.csv mappings/cartera.toml http://127.0.0.1:8080/ /tmp/embed.ledger.sqlite
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use wolkvox_import::crm::Token;
use wolkvox_import::import::{self, ImportSettings, Observer, Observers, RunError, Summary};
use wolkvox_import::results::Line;

/// What to import, and where to.
pub struct Job {
    pub input: PathBuf,
    pub mapping: PathBuf,
    pub server: String,
    pub ledger: PathBuf,
    pub output: PathBuf,
    pub token: Token,
    /// Cancel the first run once this many rows have ended.
    pub cancel_after: u64,
}

/// Cancels a run once `after` rows have ended.
struct CancelAfter {
    done: AtomicU64,
    after: u64,
    cancel: CancellationToken,
}

impl Observer for CancelAfter {
    fn row_done(&self, _line: &Line<'_>) {
        if self.done.fetch_add(1, Ordering::Relaxed) + 1 >= self.after {
            self.cancel.cancel();
        }
    }
}

fn settings(job: &Job, observer: Option<Observers>) -> Result<ImportSettings, RunError> {
    ImportSettings::builder(&job.input, &job.mapping)
        .server(Some(job.server.clone()))
        .send_to(job.token.clone())
        .ledger(&job.ledger)
        .output(&job.output)
        .observer(observer)
        .build()
}

/// Runs `job` twice: cancelled after `cancel_after` rows, then to the end.
/// Returns both summaries.
pub async fn run_twice(job: &Job) -> Result<(Summary, Summary), RunError> {
    let cancel = CancellationToken::new();
    let watcher = Arc::new(CancelAfter {
        done: AtomicU64::new(0),
        after: job.cancel_after,
        cancel: cancel.clone(),
    });
    let first = settings(job, Some(Observers(watcher)))?;
    let interrupted = import::run(&first, cancel).await?;
    let second = settings(job, None)?;
    let finished = import::run(&second, CancellationToken::new()).await?;
    Ok((interrupted, finished))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, mapping, server, ledger] = args.as_slice() else {
        eprintln!("usage: embed INPUT MAPPING SERVER LEDGER   (the token in WOLKVOX_TOKEN)");
        return std::process::ExitCode::from(2);
    };
    let token = match Token::from_env() {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!("set WOLKVOX_TOKEN");
            return std::process::ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let job = Job {
        input: input.into(),
        mapping: mapping.into(),
        server: server.clone(),
        ledger: ledger.into(),
        output: PathBuf::from(format!("{input}.embed.results.csv")),
        token,
        cancel_after: 5,
    };
    match run_twice(&job).await {
        Ok((first, second)) => {
            print!("first run (cancelled):\n{}", first.render());
            print!("second run:\n{}", second.render());
            std::process::ExitCode::from(second.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(e.exit_code() as u8)
        }
    }
}
