//! The command line: parsing, turning flags into validated settings, and
//! mapping every outcome to the contract's exit codes.

use crate::crm::{parse_server, Connection, Token};
use crate::import::send::{Mode, Rate, Tuning};
use crate::import::{exit, ImportSettings, SendSettings};
use crate::mapping::Mapping;
use crate::progress::{init_logging, LogFormat};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "wolkvox-import",
    version,
    about = "Load bank debt portfolios (CSV, Excel) into the wolkvox CRM collections module",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read, map, validate and send a portfolio file (or only validate it with --dry-run).
    Import(ImportArgs),
    /// Show how a file is read: sheets, delimiter, encoding, columns with samples and types, row count.
    Inspect(InspectArgs),
    /// Work with mapping files.
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Run a local stand-in for the CRM API, for rehearsals and tests.
    FakeCrm(FakeCrmArgs),
}

#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Print a starter mapping for a file, matching its headers to the API's fields.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The portfolio file: .csv (or .txt/.tsv), .xlsx, .xlsm, .xlsb, .xls or .ods.
    pub input: PathBuf,
    /// The mapping file (TOML) from columns to the API's fields.
    #[arg(long, short = 'm')]
    pub mapping: PathBuf,
    /// Read, map and validate every row; send nothing (needs no token or server).
    #[arg(long)]
    pub dry_run: bool,
    /// The results CSV [default: INPUT with its extension replaced by .results.csv].
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Write the exact request body of each row sent (or that would be sent) as JSON Lines.
    #[arg(long)]
    pub payloads: Option<PathBuf>,
    /// Write the rows that did not end well, with the input's header and an error column.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// The CRM host as seen in the browser (e.g. crm0001.wolkvox.com) or the API's base URL.
    #[arg(long, env = "WOLKVOX_SERVER")]
    pub server: Option<String>,
    /// A file holding the API token (otherwise the WOLKVOX_TOKEN environment variable is used).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Override the mapping's [request] operation.
    #[arg(long)]
    pub operation: Option<String>,
    /// Override the mapping's [source] sheet.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Requests in flight at once (the API allows 2 per token).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Maximum request rate, e.g. 2/s or 100/min [default: none].
    #[arg(long)]
    pub rate: Option<String>,
    /// Retries of a transient failure per row.
    #[arg(long, default_value_t = 5)]
    pub max_retries: u32,
    /// Time limit of each request, e.g. 30s, 500ms, 2m.
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    /// Stop the run after this many consecutive rows failed only with transient errors.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub breaker: u32,
    /// insert: POST every row; update: PUT the mapped fields; upsert: look up, then update or insert.
    #[arg(long, value_enum, default_value_t = Mode::Insert)]
    pub mode: Mode,
    /// Continue the run whose results file is --output: rows already created or updated are skipped,
    /// rows in doubt are looked up first. Without a results file it simply starts the run.
    #[arg(long)]
    pub resume: bool,
    /// Start over even if the results file records rows already sent (may create duplicates).
    #[arg(long)]
    pub force: bool,
    /// With --resume, carry on even if rows already done would now be sent with other values.
    #[arg(long, requires = "resume")]
    pub allow_changed_input: bool,
    /// Do not read the token's daily quota before sending (that check costs one request).
    #[arg(long)]
    pub no_preflight: bool,
    /// Make at most this many requests in this run; the rest stays not_sent for --resume.
    #[arg(long)]
    pub max_requests: Option<u64>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More detail in the logs (-v debug, -vv trace).
    #[arg(long, short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    pub input: PathBuf,
    /// The sheet to look at [default: the first].
    #[arg(long)]
    pub sheet: Option<String>,
    /// Read the file as this mapping's [source] says (delimiter, encoding, header row).
    #[arg(long, short = 'm')]
    pub mapping: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    pub input: PathBuf,
    /// The sheet to map [default: the first].
    #[arg(long)]
    pub sheet: Option<String>,
    /// The CRM operation to write into [request].
    #[arg(long)]
    pub operation: Option<String>,
    /// A records export (CSV or workbook) to find each row's wolkvox_id in: the starter
    /// mapping joins it by the column the two files share.
    #[arg(long, value_name = "FILE")]
    pub lookup: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FakeCrmArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The token the fake accepts.
    #[arg(long, default_value = "fake-token", hide_default_value = true)]
    pub token: String,
    /// JSON Lines record of every obligation accepted (replayed at start).
    #[arg(long)]
    pub ledger: Option<PathBuf>,
    /// Requests allowed before TOKEN LIMIT EXCEEDED [default: no limit].
    #[arg(long)]
    pub daily_limit: Option<u64>,
    /// Requests allowed in flight per token before the simultaneous-requests 403.
    #[arg(long, default_value_t = 2)]
    pub max_in_flight: usize,
    /// Fixed delay before each answer, e.g. 20ms.
    #[arg(long, default_value = "0s")]
    pub latency: String,
    /// Share of requests answered 503.
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Share of requests answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Share of requests answered with the simultaneous-requests 403.
    #[arg(long, default_value_t = 0.0)]
    pub busy_rate: f64,
    /// Share of requests answered with an HTML maintenance page (503).
    #[arg(long, default_value_t = 0.0)]
    pub html_rate: f64,
    /// Share of requests answered 200 with a body that is not JSON.
    #[arg(long, default_value_t = 0.0)]
    pub malformed_rate: f64,
    /// Share of requests answered HTTP 200 carrying a failing code.
    #[arg(long, default_value_t = 0.0)]
    pub failing_code_rate: f64,
    /// Share of requests stored and then dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    pub drop_after_commit_rate: f64,
    /// Share of requests stored and then answered only after --slow-delay.
    #[arg(long, default_value_t = 0.0)]
    pub slow_rate: f64,
    /// Delay of the slow answers.
    #[arg(long, default_value = "60s")]
    pub slow_delay: String,
    /// How the JSON "code" is written: number, string or mixed.
    #[arg(long, default_value = "number")]
    pub code_style: String,
    /// Seed of the fault injection.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Parses `30s`, `500ms`, `2m`, `1h` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("\"{s}\" is not a duration; write e.g. 30s, 500ms or 2m");
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "" | "s" | "sec" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(secs))
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("error: {msg}");
    exit::UNUSABLE
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Import(args) => run_import(args),
        Command::Inspect(args) => match crate::inspect::inspect(
            &args.input,
            args.sheet.as_deref(),
            args.mapping.as_deref(),
        ) {
            Ok(text) => {
                print!("{text}");
                exit::OK
            }
            Err(e) => fail(e),
        },
        Command::Mapping(MappingCommand::Init(args)) => {
            match crate::mapping::init::starter_mapping(
                &args.input,
                args.sheet.as_deref(),
                args.operation.as_deref(),
                args.lookup.as_deref(),
            ) {
                Ok(starter) => {
                    print!("{}", starter.text);
                    for note in &starter.notes {
                        eprintln!("note: {note}");
                    }
                    exit::OK
                }
                Err(e) => fail(e),
            }
        }
        Command::FakeCrm(args) => run_fake_crm(args),
    }
}

fn run_fake_crm(args: FakeCrmArgs) -> i32 {
    use crate::fake_crm::{CodeStyle, FakeCrm, FakeCrmOptions};
    init_logging(LogFormat::Text, 0);
    let code_style = match args.code_style.as_str() {
        "number" => CodeStyle::Number,
        "string" => CodeStyle::String,
        "mixed" => CodeStyle::Mixed,
        other => return fail(format!("--code-style {other}: use number, string or mixed")),
    };
    let (latency, slow_delay) = match (
        parse_duration(&args.latency),
        parse_duration(&args.slow_delay),
    ) {
        (Ok(l), Ok(s)) => (l, s),
        (Err(e), _) => return fail(format!("--latency: {e}")),
        (_, Err(e)) => return fail(format!("--slow-delay: {e}")),
    };
    let opts = FakeCrmOptions {
        token: args.token,
        daily_limit: args.daily_limit,
        max_in_flight: args.max_in_flight,
        latency,
        fail_rate: args.fail_rate,
        throttle_rate: args.throttle_rate,
        busy_rate: args.busy_rate,
        html_rate: args.html_rate,
        malformed_rate: args.malformed_rate,
        failing_code_rate: args.failing_code_rate,
        drop_after_commit_rate: args.drop_after_commit_rate,
        slow_rate: args.slow_rate,
        slow_delay,
        code_style,
        seed: args.seed,
        ledger: args.ledger,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        let fake = match FakeCrm::start(args.listen, opts).await {
            Ok(f) => f,
            Err(e) => return fail(format!("fake-crm: cannot listen on {}: {e}", args.listen)),
        };
        // The first line of stdout is the base URL: scripts and tests read it.
        println!("{}", fake.base_url());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        eprintln!("fake CRM ready at {} (Ctrl-C to stop)", fake.base_url());
        wait_for_shutdown().await;
        let stats = fake.stats();
        fake.shutdown().await;
        eprintln!(
            "fake CRM stopped: {} requests, {} inserts, {} updates, {} queries, max {} in flight",
            stats.requests, stats.inserts, stats.updates, stats.queries, stats.max_in_flight
        );
        exit::OK
    })
}

#[cfg(unix)]
async fn wait_for_shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

fn run_import(args: ImportArgs) -> i32 {
    init_logging(args.log_format, args.verbose);
    // In JSON mode every stderr line is a JSON object, errors included.
    let json = args.log_format == LogFormat::Json;
    let fail_run = |msg: String, code: i32| {
        if json {
            tracing::error!(event = "error", exit_code = code, "{msg}");
        } else {
            eprintln!("error: {msg}");
        }
        code
    };
    let settings = match import_settings(&args) {
        Ok(s) => s,
        Err(e) => return fail_run(e, exit::UNUSABLE),
    };
    let output = settings.output.clone();
    match crate::import::run(&settings) {
        Ok(summary) => {
            match args.log_format {
                LogFormat::Text => {
                    eprint!("{}", summary.render());
                    eprintln!("  results: {}", output.display());
                }
                LogFormat::Json => summary.log_json(&output),
            }
            summary.exit_code()
        }
        Err(e) => fail_run(e.to_string(), e.exit_code()),
    }
}

/// Builds validated settings from the flags, the environment and the
/// mapping file; every problem here means exit 2 with nothing read or sent.
fn import_settings(args: &ImportArgs) -> Result<ImportSettings, String> {
    // Server and token first: a scheduled job without them must fail before
    // touching the input.
    let send = if args.dry_run {
        None
    } else {
        let server = args.server.as_deref().ok_or(
            "no server: pass --server crm0001.wolkvox.com (the host you see in the browser) or set WOLKVOX_SERVER",
        )?;
        let base = parse_server(server)?;
        let token = match &args.token_file {
            Some(p) => Token::from_file(p)?,
            None => match std::env::var("WOLKVOX_TOKEN") {
                Ok(v) => Token::new(&v).map_err(|e| format!("WOLKVOX_TOKEN: {e}"))?,
                Err(_) => {
                    return Err("no token: set the WOLKVOX_TOKEN environment variable or pass --token-file FILE".into())
                }
            },
        };
        let timeout = parse_duration(&args.timeout).map_err(|e| format!("--timeout: {e}"))?;
        if timeout.is_zero() {
            return Err("--timeout must be more than 0".into());
        }
        let rate = args.rate.as_deref().map(Rate::parse).transpose()?;
        if args.concurrency > 2 {
            tracing::warn!(
                "--concurrency {} is above the API's limit of 2 simultaneous requests per token; expect 403 answers and retries",
                args.concurrency
            );
        }
        Some(SendSettings {
            connection: Connection { base, token },
            tuning: Tuning {
                concurrency: usize::from(args.concurrency),
                rate,
                max_retries: args.max_retries,
                timeout,
                breaker: args.breaker,
                ..Tuning::default()
            },
            mode: args.mode,
            resume: args.resume,
            force: args.force,
            allow_changed_input: args.allow_changed_input,
            preflight: !args.no_preflight,
            max_requests: args.max_requests,
            wal_sync: true,
        })
    };

    if args.dry_run && args.resume {
        return Err(
            "--resume continues a run that sends; a dry run sends nothing (drop --resume)".into(),
        );
    }
    let mut mapping = Mapping::load(&args.mapping).map_err(|e| e.0)?;
    let mapping_fingerprint = std::fs::read(&args.mapping)
        .map(|b| crate::import::history::fingerprint(&b))
        .unwrap_or(0);
    if let Some(sheet) = &args.sheet {
        mapping.source.sheet = Some(sheet.clone());
    }
    let operation = match args.operation.as_deref().map(str::trim) {
        Some("") => return Err("--operation is empty".into()),
        Some(op) => op.to_string(),
        None => mapping.operation.clone().ok_or_else(|| {
            format!(
                "{}: no operation: set [request] operation = \"...\" in the mapping or pass --operation",
                args.mapping.display()
            )
        })?,
    };
    if send.is_some() && operation == crate::mapping::init::OPERATION_PLACEHOLDER {
        return Err(format!(
            "{}: [request] operation is still \"{}\"; set it to your CRM operation before sending",
            args.mapping.display(),
            crate::mapping::init::OPERATION_PLACEHOLDER
        ));
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| crate::import::default_output(&args.input));
    for (what, p) in [
        ("--output", Some(&output)),
        ("--payloads", args.payloads.as_ref()),
        ("--rejects", args.rejects.as_ref()),
    ] {
        if p.is_some_and(|p| same_file(p, &args.input)) {
            return Err(format!(
                "{what} would overwrite the input file {}",
                args.input.display()
            ));
        }
    }
    let progress = args.log_format == LogFormat::Text && std::io::stderr().is_terminal();
    Ok(ImportSettings {
        input: args.input.clone(),
        mapping,
        operation,
        output,
        payloads: args.payloads.clone(),
        rejects: args.rejects.clone(),
        send,
        progress,
        mapping_fingerprint,
        force: args.force,
    })
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
