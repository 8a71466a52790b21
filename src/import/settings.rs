//! What an import needs, checked before anything is read or sent: built by
//! [`ImportSettings::builder`], which the command line uses too, so a
//! program embedding the library gets the same checks (the mapping read and
//! fingerprinted, the operation resolved, every output path checked).

use super::send::{check_timeout, Mode, Tuning};
use super::{default_output, Observers, RunError};
use crate::crm::{parse_server, Connection, Token};
use crate::mapping::Mapping;
use crate::outputs::{check_outputs, Output, OutputKind};
use crate::tr;
use std::path::{Path, PathBuf};

/// What to send and how, for the network part of a run.
#[derive(Debug, Clone)]
pub struct SendSettings {
    /// Where the API is and the token.
    pub connection: Connection,
    /// Concurrency, rate, retries, timeouts.
    pub tuning: Tuning,
    /// What each row asks of the CRM, judged against the ledger.
    pub mode: Mode,
    /// Continue the latest run that wrote `--output`, from the ledger.
    pub resume: bool,
    /// Read the token's quota before the first request.
    pub preflight: bool,
    /// At most this many requests in this run.
    pub max_requests: Option<u64>,
}

/// Everything an import needs, validated. Build it with
/// [`ImportSettings::builder`].
#[derive(Debug, Clone)]
pub struct ImportSettings {
    /// The portfolio file.
    pub input: PathBuf,
    /// The mapping, checked.
    pub mapping: Mapping,
    /// The CRM operation the obligations go to.
    pub operation: String,
    /// The results file.
    pub output: PathBuf,
    /// `--payloads`: the exact body of each row sent (or that would be).
    pub payloads: Option<PathBuf>,
    /// `--rejects`: the rows that did not end well, in the input's shape.
    pub rejects: Option<PathBuf>,
    /// `--vanished`: where to list the known obligations the file no longer has.
    pub vanished: Option<PathBuf>,
    /// `--report`: where to write the run's HTML page.
    pub report: Option<PathBuf>,
    /// The ledger: written by a real run, read (when it exists) by a dry run.
    pub ledger: PathBuf,
    /// The server a dry run plans for (a real run's is in `send`).
    pub plan_server: Option<String>,
    /// The mode a dry run plans for (a real run's is in `send`).
    pub plan_mode: Mode,
    /// `--expect-rows`: fewer data rows than this is an error before
    /// anything is sent (an empty nightly export is noticed).
    pub expect_rows: Option<u64>,
    /// `None` for a dry run.
    pub send: Option<SendSettings>,
    /// Told of every row as it ends (the command line draws its progress
    /// bar with it).
    pub observer: Option<Observers>,
    /// Fingerprint of the mapping file's text, recorded with the run.
    pub mapping_fingerprint: u64,
}

impl ImportSettings {
    /// Starts settings for importing `input` with the mapping file
    /// `mapping`: a dry run until [`ImportBuilder::send_to`] is called.
    pub fn builder(input: impl Into<PathBuf>, mapping: impl Into<PathBuf>) -> ImportBuilder {
        ImportBuilder {
            input: input.into(),
            mapping: mapping.into(),
            output: None,
            payloads: None,
            rejects: None,
            vanished: None,
            report: None,
            ledger: None,
            sheet: None,
            operation: None,
            server: None,
            send: None,
            ca_certs: Vec::new(),
            mode: Mode::Insert,
            tuning: Tuning::default(),
            resume: false,
            preflight: true,
            max_requests: None,
            expect_rows: None,
            force: false,
            observer: None,
            also_reads: Vec::new(),
        }
    }
}

/// Builds [`ImportSettings`]; every setter is optional.
#[derive(Debug, Clone)]
pub struct ImportBuilder {
    input: PathBuf,
    mapping: PathBuf,
    output: Option<PathBuf>,
    payloads: Option<PathBuf>,
    rejects: Option<PathBuf>,
    vanished: Option<PathBuf>,
    report: Option<PathBuf>,
    ledger: Option<PathBuf>,
    sheet: Option<String>,
    operation: Option<String>,
    server: Option<String>,
    send: Option<Token>,
    ca_certs: Vec<reqwest::Certificate>,
    mode: Mode,
    tuning: Tuning,
    resume: bool,
    preflight: bool,
    max_requests: Option<u64>,
    expect_rows: Option<u64>,
    force: bool,
    observer: Option<Observers>,
    /// Files the caller read for the run, each with what to call it.
    also_reads: Vec<(String, PathBuf)>,
}

impl ImportBuilder {
    /// The results file [default: the input's name with `.results.csv` added].
    pub fn output(mut self, path: impl Into<PathBuf>) -> Self {
        self.output = Some(path.into());
        self
    }

    /// Write the exact body of each row sent as JSON Lines.
    pub fn payloads(mut self, path: Option<PathBuf>) -> Self {
        self.payloads = path;
        self
    }

    /// Write the rows that did not end well, in the input's own shape.
    pub fn rejects(mut self, path: Option<PathBuf>) -> Self {
        self.rejects = path;
        self
    }

    /// Write the known obligations the file no longer lists.
    pub fn vanished(mut self, path: Option<PathBuf>) -> Self {
        self.vanished = path;
        self
    }

    /// Write the run's HTML report.
    pub fn report(mut self, path: Option<PathBuf>) -> Self {
        self.report = path;
        self
    }

    /// The ledger file [default: the per-user state folder].
    pub fn ledger(mut self, path: impl Into<PathBuf>) -> Self {
        self.ledger = Some(path.into());
        self
    }

    /// The sheet to read, instead of the mapping's.
    pub fn sheet(mut self, sheet: Option<String>) -> Self {
        self.sheet = sheet;
        self
    }

    /// The CRM operation, instead of the mapping's.
    pub fn operation(mut self, operation: Option<String>) -> Self {
        self.operation = operation;
        self
    }

    /// The server: where a real run sends, and which server's obligations
    /// a dry run plans against.
    pub fn server(mut self, server: Option<String>) -> Self {
        self.server = server;
        self
    }

    /// Makes this a real run that sends with `token` to the server.
    pub fn send_to(mut self, token: Token) -> Self {
        self.send = Some(token);
        self
    }

    /// Certificate authorities to trust besides the system's (`--ca-cert`).
    pub fn ca_certs(mut self, certs: Vec<reqwest::Certificate>) -> Self {
        self.ca_certs = certs;
        self
    }

    /// What each row asks of the CRM (a dry run plans for it).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Concurrency, rate, retries and timeouts.
    pub fn tuning(mut self, tuning: Tuning) -> Self {
        self.tuning = tuning;
        self
    }

    /// Continue the latest run that wrote the same results file.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Read the token's quota before the first request [default: yes].
    pub fn preflight(mut self, preflight: bool) -> Self {
        self.preflight = preflight;
        self
    }

    /// At most this many requests.
    pub fn max_requests(mut self, n: Option<u64>) -> Self {
        self.max_requests = n;
        self
    }

    /// Fewer data rows than this is an error before anything is sent.
    pub fn expect_rows(mut self, n: Option<u64>) -> Self {
        self.expect_rows = n;
        self
    }

    /// Let outputs replace existing files this tool did not write.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// A file the caller read for this run (the token file, a `--ca-cert`
    /// file), which no output may replace, `force` or not; `what` names it
    /// in the message, e.g. "the token file (--token-file)". The input, the
    /// mapping, its lookup files and the ledger are known without it.
    pub fn also_reads(mut self, what: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.also_reads.push((what.into(), path.into()));
        self
    }

    /// Told of every row as it ends.
    pub fn observer(mut self, observer: Option<Observers>) -> Self {
        self.observer = observer;
        self
    }

    /// Checks everything and returns the settings; nothing is read but the
    /// mapping (and, for the default ledger, the environment).
    pub fn build(self) -> Result<ImportSettings, RunError> {
        let bad = RunError::Settings;
        let connection = match (&self.send, self.server.as_deref()) {
            (Some(_), None) => return Err(bad(tr!("no-server"))),
            (Some(token), Some(server)) => Some(Connection {
                base: parse_server(server).map_err(bad)?,
                token: token.clone(),
                ca_certs: self.ca_certs.clone(),
            }),
            (None, _) => None,
        };
        if connection.is_none() && self.resume {
            return Err(bad(tr!("resume-dry-run")));
        }
        let timeout = self.tuning.timeout;
        check_timeout(timeout, &humantime::format_duration(timeout).to_string()).map_err(bad)?;
        let ledger = crate::ledger::resolve_path(self.ledger.as_deref()).map_err(bad)?;
        let mut mapping = Mapping::load(&self.mapping)?;
        let mapping_fingerprint = std::fs::read(&self.mapping)
            .map(|b| crate::ledger::fingerprint(&b))
            .unwrap_or(0);
        if let Some(sheet) = &self.sheet {
            mapping.source.sheet = Some(sheet.clone());
        }
        let operation = self.resolve_operation(&mapping, connection.is_some())?;
        let output = self
            .output
            .clone()
            .unwrap_or_else(|| default_output(&self.input));
        // Every output is checked here, before the first request: a missing
        // folder or a file that is not ours costs no quota.
        self.check_outputs(&output, &ledger, &mapping)
            .map_err(bad)?;
        // A dry run plans for the server it is given, when it is given one.
        let plan_server = match (&connection, self.server.as_deref()) {
            (None, Some(s)) => Some(super::send::server_key(&parse_server(s).map_err(bad)?)),
            _ => None,
        };
        let send = connection.map(|connection| SendSettings {
            connection,
            tuning: self.tuning.clone(),
            mode: self.mode,
            resume: self.resume,
            preflight: self.preflight,
            max_requests: self.max_requests,
        });
        Ok(ImportSettings {
            input: self.input,
            mapping,
            operation,
            output,
            payloads: self.payloads,
            rejects: self.rejects,
            vanished: self.vanished,
            report: self.report,
            ledger,
            plan_server,
            plan_mode: self.mode,
            expect_rows: self.expect_rows,
            send,
            observer: self.observer,
            mapping_fingerprint,
        })
    }

    /// Checks that every output of the run can be written, and that none
    /// of them is a file the run reads: the input, the mapping, its lookup
    /// files, what the caller read ([`ImportBuilder::also_reads`]) and the
    /// ledger with the files SQLite and its lock keep beside it.
    fn check_outputs(&self, output: &Path, ledger: &Path, mapping: &Mapping) -> Result<(), String> {
        // A rejects name without an extension gets the input's kind: the
        // file checked is the one that will be written.
        let rejects = self
            .rejects
            .as_deref()
            .map(|r| super::rejects_path(r, named_as_workbook(&self.input)));
        // A name that promises a workbook this tool cannot write (any
        // workbook, for JSON Lines) would get bytes no spreadsheet program
        // opens: refused before anything is read.
        for (option, path) in [
            ("--output", Some(output)),
            ("--rejects", rejects.as_deref()),
            ("--vanished", self.vanished.as_deref()),
        ] {
            if let Some(p) = path {
                crate::workbook_out::output_kind(option, p)
                    .map_err(|e| format!("{}: {e}", p.display()))?;
            }
        }
        if let Some(p) = &self.payloads {
            crate::workbook_out::refuse_workbook_name("--payloads", p, "JSON Lines")
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        let outputs: Vec<Output> = [
            ("--output", Some(output), OutputKind::Results),
            ("--payloads", self.payloads.as_deref(), OutputKind::Payloads),
            ("--rejects", rejects.as_deref(), OutputKind::Rejects),
            ("--vanished", self.vanished.as_deref(), OutputKind::Vanished),
            ("--report", self.report.as_deref(), OutputKind::Report),
        ]
        .into_iter()
        .filter_map(|(option, path, kind)| {
            path.map(|p| Output {
                option,
                path: p.to_path_buf(),
                kind,
            })
        })
        .collect();
        let mut reads: Vec<(String, PathBuf)> = vec![
            (tr!("noun-input-file"), self.input.clone()),
            (tr!("noun-mapping-file"), self.mapping.clone()),
        ];
        for lookup in &mapping.lookups {
            reads.push((
                tr!("noun-lookup-file", name = lookup.name.as_str()),
                lookup.path.clone(),
            ));
        }
        reads.extend(self.also_reads.iter().cloned());
        reads.push((tr!("noun-ledger"), ledger.to_path_buf()));
        // Through a link, SQLite keeps its files beside the file it names.
        let real = crate::outputs::canonical(ledger);
        for path in crate::ledger::files_beside(ledger)
            .into_iter()
            .chain(crate::ledger::files_beside(&real))
        {
            let what = tr!("noun-ledger-file", ledger = ledger.display().to_string());
            reads.push((what, path));
        }
        let reads: Vec<(&str, &Path)> = reads
            .iter()
            .map(|(what, path)| (what.as_str(), path.as_path()))
            .collect();
        check_outputs(&outputs, &reads, self.force)
    }

    /// The operation: given, else the mapping's; a real run refuses the
    /// placeholder `mapping init` writes.
    fn resolve_operation(&self, mapping: &Mapping, sends: bool) -> Result<String, RunError> {
        let mapping_name = || self.mapping.display().to_string();
        let operation = match self.operation.as_deref().map(str::trim) {
            Some("") => return Err(RunError::Settings(tr!("operation-empty"))),
            Some(op) => op.to_string(),
            None => mapping
                .operation
                .clone()
                .ok_or_else(|| RunError::Settings(tr!("no-operation", mapping = mapping_name())))?,
        };
        if sends && crate::mapping::init::is_placeholder_operation(&operation) {
            let placeholder = crate::mapping::init::OPERATION_PLACEHOLDER;
            return Err(RunError::Settings(match self.operation {
                Some(_) => tr!("operation-placeholder-flag", placeholder = placeholder),
                None => tr!(
                    "operation-placeholder",
                    mapping = mapping_name(),
                    placeholder = placeholder
                ),
            }));
        }
        Ok(operation)
    }
}

/// True when the input's name says workbook, as the reader decides (a
/// workbook named otherwise is refused before any output is written).
fn named_as_workbook(input: &Path) -> bool {
    input
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .is_some_and(|e| matches!(e.as_str(), "xlsx" | "xlsm" | "xlsb" | "xls" | "xla" | "ods"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A program embedding the library gets the command line's bounds on
    /// the time limit of a request.
    #[test]
    fn a_request_time_limit_out_of_bounds_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mapping = dir.path().join("m.toml");
        std::fs::write(
            &mapping,
            "[request]\noperation = \"cobranza\"\n[fields]\nwolkvox_id = \"a\"\nid = \"b\"\n",
        )
        .unwrap();
        let build = |timeout: Duration| {
            ImportSettings::builder(dir.path().join("in.csv"), &mapping)
                .server(Some("http://127.0.0.1:9".into()))
                .send_to(Token::new("t0ken").unwrap())
                .ledger(dir.path().join("ledger.sqlite"))
                .output(dir.path().join("r.csv"))
                .tuning(Tuning {
                    timeout,
                    ..Tuning::default()
                })
                .build()
        };
        let e = build(Duration::from_nanos(1)).unwrap_err().to_string();
        assert!(
            e.contains("--timeout 1ns is too short") && e.contains("100ms"),
            "{e}"
        );
        let e = build(Duration::from_secs(7200)).unwrap_err().to_string();
        assert!(e.contains("--timeout 2h"), "{e}");
        build(super::super::send::MIN_TIMEOUT).unwrap();
        build(super::super::send::MAX_TIMEOUT).unwrap();
    }
}
