//! The command line: parsing, turning flags into validated settings, and
//! mapping every outcome to the contract's exit codes.

use clap::{Args, Parser, Subcommand};
use progress::{init_logging, print_err, print_out, LogFormat};
use wolkvox_import::crm::read_ca_certs;
use wolkvox_import::import::send::{parse_timeout, Mode, Rate, Tuning};
use wolkvox_import::import::{exit, ImportSettings};
use wolkvox_import::tr;

mod ledger;
mod parse;
mod progress;
mod signals;
mod token;
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
    /// The language of messages (es, en) [default: from LC_ALL, LC_MESSAGES or LANG; else en].
    // Read from the raw arguments before parsing (see `parse`); declared
    // here for --help and for clap to check it. The values are in the
    // text: a list of them would come between the text and its default.
    #[arg(long, global = true, value_enum, hide_possible_values = true)]
    pub lang: Option<wolkvox_import::i18n::Lang>,
}

// Built once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
    #[cfg(feature = "fake-crm")]
    FakeCrm(FakeCrmArgs),
    /// Look into the ledger: the record of every obligation sent, across runs.
    #[command(subcommand)]
    Ledger(LedgerCommand),
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// List the most recent runs, newest first, with their counts and exit codes.
    Runs(LedgerRunsArgs),
    /// Write the known obligations as CSV (or a workbook, for a name ending in .xlsx).
    Export(LedgerExportArgs),
    /// Check the ledger's integrity and list the requests still in doubt.
    Check(LedgerPathArgs),
    /// Copy the ledger, whole and consistent, to a file (safe while an import runs).
    Backup(LedgerBackupArgs),
}

#[derive(Debug, Args)]
pub struct LedgerBackupArgs {
    /// The copy to write (replaced only if it is an earlier copy, e.g. last night's).
    pub file: PathBuf,
    #[command(flatten)]
    pub path: LedgerPathArgs,
    /// Also replace an existing FILE that is not an earlier copy, a ledger imports use among them
    /// (never the ledger itself, nor a ledger an import is using now).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct LedgerPathArgs {
    /// The ledger [default: the per-user state folder, e.g. ~/.local/state/wolkvox-import/ledger.sqlite].
    #[arg(long, env = "WOLKVOX_LEDGER")]
    pub ledger: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LedgerRunsArgs {
    #[command(flatten)]
    pub path: LedgerPathArgs,
    /// How many runs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct LedgerExportArgs {
    /// The file to write: CSV, or a workbook if the name ends in .xlsx.
    pub file: PathBuf,
    #[command(flatten)]
    pub path: LedgerPathArgs,
    /// Only this server, given as import --server takes it (a host such as crm0001.wolkvox.com,
    /// or a URL).
    #[arg(long)]
    pub server: Option<String>,
    /// Only this operation.
    #[arg(long)]
    pub operation: Option<String>,
    /// Also replace an existing FILE that is not an earlier export (never the ledger, nor a
    /// ledger an import is using now).
    #[arg(long)]
    pub force: bool,
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
    /// The results file: CSV, or a workbook if the name ends in .xlsx
    /// [default: INPUT's name followed by .results.csv, e.g. cartera.xlsx.results.csv].
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Write the exact request body of each row sent (or that would be sent) as JSON Lines.
    #[arg(long)]
    pub payloads: Option<PathBuf>,
    /// Write the rows that did not end well, with the input's header and an error column:
    /// a workbook if the name ends in .xlsx (or has no extension and INPUT is a workbook), else CSV.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Write a self-contained HTML page of the run: the outcome, the problems grouped with how to
    /// fix them, and charts of the portfolio (opens offline in any browser).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// The CRM host as seen in the browser (e.g. crm0001.wolkvox.com) or the API's base URL.
    #[arg(long, env = "WOLKVOX_SERVER")]
    pub server: Option<String>,
    /// A file holding the API token (otherwise the WOLKVOX_TOKEN environment variable is used).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Also trust the certificate authorities in this PEM file (e.g. a TLS-inspecting proxy's CA);
    /// the system's store (SSL_CERT_FILE, SSL_CERT_DIR) and the built-in roots are trusted anyway.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Override the mapping's [request] operation.
    #[arg(long)]
    pub operation: Option<String>,
    /// Override the mapping's [source] sheet.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Requests in flight at once (the API allows 2 per token).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Maximum request rate, e.g. 2/s or 100/min [default: no limit].
    #[arg(long, value_parser = Rate::parse)]
    pub rate: Option<Rate>,
    /// Retries of a transient failure per row.
    #[arg(long, default_value_t = 5)]
    pub max_retries: u32,
    /// Time limit of each request, e.g. 30s, 500ms, 2m (at least 100ms, at most 1h).
    #[arg(long, default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Stop the run after this many consecutive rows failed only with transient errors.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub breaker: u32,
    /// What to send, judged against the ledger. insert: POST obligations not yet sent (never one
    /// twice); sync: POST new ones, PUT changed ones, nothing for unchanged ones (the nightly job);
    /// update: PUT changed ones; upsert: like sync, looking up first what the ledger does not know.
    #[arg(long, value_enum, default_value_t = Mode::Insert)]
    pub mode: Mode,
    /// The ledger, the SQLite file that remembers every obligation sent, across runs (one import
    /// at a time per ledger) [default: the per-user state folder, e.g.
    /// ~/.local/state/wolkvox-import/ledger.sqlite].
    #[arg(long, env = "WOLKVOX_LEDGER")]
    pub ledger: Option<PathBuf>,
    /// Fewer data rows than this is an error before anything is sent (exit 2), so that an empty
    /// or cut export is noticed.
    #[arg(long)]
    pub expect_rows: Option<u64>,
    /// Write the obligations the ledger knows for this server and operation that the file no
    /// longer lists, as CSV (a report: nothing is sent for them).
    #[arg(long)]
    pub vanished: Option<PathBuf>,
    /// Continue the latest run that wrote --output, from the ledger: rows it brought to their end
    /// are not sent again. Every run, resumed or not, looks up what earlier runs left in doubt.
    #[arg(long)]
    pub resume: bool,
    /// Replace existing files at --output, --payloads, --rejects, --vanished and --report that
    /// this tool did not write (never a file the run reads: the input, the mapping, its lookup
    /// files, the token file, --ca-cert or the ledger).
    #[arg(long)]
    pub force: bool,
    /// Accepted for compatibility; no longer needed, the ledger judges every row.
    #[arg(long, hide = true)]
    pub allow_changed_input: bool,
    /// Do not read the token's daily quota before sending (that check costs one request).
    #[arg(long)]
    pub no_preflight: bool,
    /// Make at most this many requests in this run; the rest stays not_sent for --resume
    /// [default: no limit].
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
    /// The portfolio file to look at: .csv (or .txt/.tsv), .xlsx, .xlsm, .xlsb, .xls or .ods.
    pub input: PathBuf,
    /// The sheet to look at [default: the first].
    #[arg(long)]
    pub sheet: Option<String>,
    /// The row that holds the column names, numbered as a spreadsheet numbers it
    /// [default: the first row that is not blank, or the header below a title block].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_row: Option<u64>,
    /// Read the file as this mapping's [source] says (sheet, delimiter, encoding, header row);
    /// the rest of the mapping may still be unwritten.
    #[arg(long, short = 'm')]
    pub mapping: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The portfolio file to write a mapping for: .csv (or .txt/.tsv), .xlsx, .xlsm, .xlsb, .xls or .ods.
    pub input: PathBuf,
    /// The sheet to map [default: the first].
    #[arg(long)]
    pub sheet: Option<String>,
    /// The row that holds the column names, numbered as a spreadsheet numbers it
    /// [default: the first row that is not blank, or the header below a title block].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_row: Option<u64>,
    /// The CRM operation to write into [request] [default: CHANGE_ME, which sending refuses].
    #[arg(long)]
    pub operation: Option<String>,
    /// A records export (CSV or workbook) to find each row's wolkvox_id in: the starter
    /// mapping joins it by the column the two files share.
    #[arg(long, value_name = "FILE")]
    pub lookup: Option<PathBuf>,
}

#[cfg(feature = "fake-crm")]
#[derive(Debug, Args)]
pub struct FakeCrmArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    #[command(flatten)]
    pub options: wolkvox_import::fake_crm::FakeCrmOptions,
}

fn fail(msg: impl std::fmt::Display) -> i32 {
    print_err(&format!(
        "{}\n",
        tr!("error-line", message = msg.to_string())
    ));
    exit::UNUSABLE
}

/// The process holds the token in memory: no core dump of it may be written,
/// and (on Linux) no other process of the same user may read its memory.
#[cfg(unix)]
fn protect_process_memory() {
    let off = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on this process, with valid arguments;
    // failure leaves things as they were, which is all we could do anyway.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &off);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(not(unix))]
fn protect_process_memory() {}

pub use parse::parse;

/// Runs a parsed command line and returns the process exit code; [`parse`]
/// chose the language of its messages.
pub fn run(cli: Cli) -> i32 {
    signals::ignore_file_size_signal();
    match cli.command {
        Command::Import(args) => run_import(args),
        Command::Inspect(args) => match wolkvox_import::inspect::inspect(
            &args.input,
            args.sheet.as_deref(),
            args.header_row,
            args.mapping.as_deref(),
        ) {
            Ok(text) => {
                print_out(&text);
                exit::OK
            }
            Err(e) => fail(e),
        },
        Command::Mapping(MappingCommand::Init(args)) => {
            match wolkvox_import::mapping::init::starter_mapping(
                &args.input,
                args.sheet.as_deref(),
                args.header_row,
                args.operation.as_deref(),
                args.lookup.as_deref(),
            ) {
                Ok(starter) => {
                    print_out(&starter.text);
                    for note in &starter.notes {
                        print_err(&format!("{}\n", tr!("note-line", message = note.as_str())));
                    }
                    exit::OK
                }
                Err(e) => fail(e),
            }
        }
        #[cfg(feature = "fake-crm")]
        Command::FakeCrm(args) => run_fake_crm(args),
        Command::Ledger(cmd) => ledger::run(cmd),
    }
}

#[cfg(feature = "fake-crm")]
fn run_fake_crm(args: FakeCrmArgs) -> i32 {
    use wolkvox_import::fake_crm::{FakeCrm, DEFAULT_TOKEN};
    init_logging(LogFormat::Text, 0);
    let FakeCrmArgs { listen, options } = args;
    // The default token is the one every rehearsal in the README uses, so on
    // an address other machines reach, anyone can write to the fake.
    if options.token == DEFAULT_TOKEN && !listen.ip().is_loopback() {
        tracing::warn!(
            "{}",
            tr!(
                "fake-reachable",
                listen = listen.to_string(),
                token = DEFAULT_TOKEN
            )
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(tr!("runtime-failed", why = e.to_string())),
    };
    runtime.block_on(async move {
        let fake = match FakeCrm::start(listen, options).await {
            Ok(f) => f,
            Err(e) => {
                return fail(tr!(
                    "fake-cannot-listen",
                    listen = listen.to_string(),
                    why = e.to_string()
                ))
            }
        };
        // The first line of stdout is the base URL: scripts and tests read it.
        print_out(&format!("{}\n", fake.base_url()));
        print_err(&format!("{}\n", tr!("fake-ready", url = fake.base_url())));
        signals::wait_for_signal().await;
        let stats = fake.stats();
        fake.shutdown().await;
        print_err(&format!(
            "{}\n",
            tr!(
                "fake-stopped",
                requests = stats.requests,
                inserts = stats.inserts,
                updates = stats.updates,
                queries = stats.queries,
                in_flight = stats.max_in_flight as u64
            )
        ));
        exit::OK
    })
}

fn run_import(args: ImportArgs) -> i32 {
    protect_process_memory();
    init_logging(args.log_format, args.verbose);
    // In JSON mode every stderr line is a JSON object, errors included.
    let json = args.log_format == LogFormat::Json;
    let fail_run = |msg: String, code: i32| {
        if json {
            tracing::error!(event = "error", exit_code = code, "{msg}");
        } else {
            print_err(&format!("{}\n", tr!("error-line", message = msg.as_str())));
        }
        code
    };
    let settings = match import_settings(&args) {
        Ok(s) => s,
        Err(e) => return fail_run(e, exit::UNUSABLE),
    };
    let output = settings.output.clone();
    // A bar on a terminal, told of each row by the run.
    let bar = (args.log_format == LogFormat::Text && std::io::stderr().is_terminal()).then(|| {
        let bar = std::sync::Arc::new(progress::Progress::new());
        bar.count_rows_in_background(settings.input.clone(), settings.mapping.source.clone());
        bar
    });
    let mut settings = settings;
    settings.observer = bar.clone().map(|b| {
        wolkvox_import::import::Observers(b as std::sync::Arc<dyn wolkvox_import::import::Observer>)
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail_run(tr!("runtime-failed", why = e.to_string()), exit::UNUSABLE),
    };
    let result = runtime.block_on(async {
        let cancel = tokio_util::sync::CancellationToken::new();
        signals::cancel_on_signals(cancel.clone());
        wolkvox_import::import::run(&settings, cancel).await
    });
    if let Some(bar) = &bar {
        bar.finish();
    }
    match result {
        Ok(summary) => {
            match args.log_format {
                // A closed stderr must not turn the rows' exit code into a panic.
                LogFormat::Text => {
                    print_err(&format!("{}{}", summary.render(), files_written(&settings)))
                }
                LogFormat::Json => summary.log_json(&output),
            }
            summary.exit_code()
        }
        Err(e) => fail_run(e.to_string(), e.exit_code()),
    }
}

/// Every file the run wrote, one line each, for the summary.
fn files_written(settings: &ImportSettings) -> String {
    use wolkvox_import::tr;
    let mut out = String::new();
    let mut file = |key: &str, path: &std::path::Path| {
        if path.exists() {
            let path = path.display().to_string();
            let text = match key {
                "results" => tr!("summary-results", path = path),
                "payloads" => tr!("summary-payloads", path = path),
                "rejects" => tr!("summary-rejects", path = path),
                "vanished" => tr!("summary-vanished-file", path = path),
                _ => tr!("summary-report", path = path),
            };
            out.push_str(&format!("  {text}\n"));
        }
    };
    file("results", &settings.output);
    for (key, path) in [
        ("payloads", &settings.payloads),
        ("rejects", &settings.rejects),
        ("vanished", &settings.vanished),
        ("report", &settings.report),
    ] {
        let Some(p) = path else { continue };
        // A rejects name without an extension got the input's kind.
        let written = [false, true]
            .into_iter()
            .map(|workbook| wolkvox_import::import::rejects_path(p, workbook))
            .find(|c| key == "rejects" && c.exists())
            .unwrap_or_else(|| p.clone());
        file(key, &written);
    }
    out
}

/// Builds validated settings from the flags, the environment and the
/// mapping file; every problem here means exit 2 with nothing read or sent.
fn import_settings(args: &ImportArgs) -> Result<ImportSettings, String> {
    // Server and token first: a scheduled job without them must fail before
    // touching the input.
    let mut builder = ImportSettings::builder(&args.input, &args.mapping);
    // Named files the run reads are never outputs, even when a dry run
    // leaves them unread: the token file is a credential.
    if let Some(p) = &args.token_file {
        builder = builder.also_reads(tr!("noun-token-file"), p);
    }
    if let Some(p) = &args.ca_cert {
        builder = builder.also_reads(tr!("noun-ca-cert-file"), p);
    }
    if !args.dry_run {
        if args.server.is_none() {
            return Err(tr!("no-server"));
        }
        let ca_certs = match &args.ca_cert {
            Some(p) => read_ca_certs(p)?,
            None => Vec::new(),
        };
        builder = builder
            .send_to(token::token(args.token_file.as_deref())?)
            .ca_certs(ca_certs);
        if args.concurrency > 2 {
            tracing::warn!(
                "{}",
                tr!("concurrency-above-limit", concurrency = args.concurrency)
            );
        }
    }
    if args.allow_changed_input {
        tracing::warn!("{}", tr!("allow-changed-input"));
    }
    let tuning = Tuning {
        concurrency: usize::from(args.concurrency),
        rate: args.rate,
        max_retries: args.max_retries,
        timeout: args.timeout,
        breaker: args.breaker,
        ..Tuning::default()
    };
    let mut builder = builder
        .server(args.server.clone())
        .mode(args.mode)
        .tuning(tuning)
        .resume(args.resume)
        .preflight(!args.no_preflight)
        .max_requests(args.max_requests)
        .expect_rows(args.expect_rows)
        .force(args.force)
        .sheet(args.sheet.clone())
        .operation(args.operation.clone())
        .payloads(args.payloads.clone())
        .rejects(args.rejects.clone())
        .vanished(args.vanished.clone())
        .report(args.report.clone());
    if let Some(o) = &args.output {
        builder = builder.output(o);
    }
    if let Some(l) = &args.ledger {
        builder = builder.ledger(l);
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        parse::command().debug_assert();
    }
}
