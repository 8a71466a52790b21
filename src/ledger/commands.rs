//! `wolkvox-import ledger`: look into the ledger without changing it.

use super::{format_time, Ledger, LedgerError};
use crate::cli::{ledger_path, LedgerCommand};
use crate::import::exit;
use std::io::Write;
use std::path::Path;

/// Runs a `ledger` subcommand and returns the exit code.
pub fn run(cmd: LedgerCommand) -> i32 {
    let (given, what) = match &cmd {
        LedgerCommand::Runs(a) => (a.path.ledger.as_deref(), "runs"),
        LedgerCommand::Export(a) => (a.path.ledger.as_deref(), "export"),
        LedgerCommand::Check(a) => (a.ledger.as_deref(), "check"),
    };
    let path = match ledger_path(given) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    let ledger = match Ledger::open_read_only(&path) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return fail(&format!(
                "{}: there is no ledger here yet (a real import creates it); pass --ledger or set WOLKVOX_LEDGER to look at another",
                path.display()
            ))
        }
        Err(e) => return fail(&e.to_string()),
    };
    let result = match cmd {
        LedgerCommand::Runs(a) => runs(&ledger, a.limit),
        LedgerCommand::Export(a) => export(
            &ledger,
            &a.file,
            a.server.as_deref(),
            a.operation.as_deref(),
        ),
        LedgerCommand::Check(_) => check(&ledger),
    };
    match result {
        Ok(code) => code,
        Err(e) => fail(&format!("ledger {what}: {e}")),
    }
}

fn fail(msg: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "error: {msg}");
    exit::UNUSABLE
}

fn runs(ledger: &Ledger, limit: u32) -> Result<i32, LedgerError> {
    let mut out = String::new();
    let rows = ledger.runs(limit)?;
    if rows.is_empty() {
        out.push_str("no runs recorded yet\n");
    }
    for r in rows {
        let counts: Vec<String> = r
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{} {n}", s.as_str()))
            .collect();
        let end = match (r.ended_at, r.exit_code) {
            (Some(e), Some(code)) => format!(
                "exit {code} after {:.1} s",
                (e - r.started_at) as f64 / 1000.0
            ),
            _ => format!("unfinished (pid {} on {})", r.pid, r.host),
        };
        // One line a run, so the list can be searched with grep.
        out.push_str(&format!(
            "run {}  {}  {}  {} mode  {} / {}  {}, {} requests  input {}  results {}{}\n",
            r.id,
            format_time(r.started_at),
            end,
            r.mode,
            r.server,
            r.operation,
            if counts.is_empty() {
                "no rows".to_string()
            } else {
                counts.join(", ")
            },
            r.requests.unwrap_or(0),
            r.input,
            r.output,
            r.stop_reason
                .map(|s| format!("  stopped: {s}"))
                .unwrap_or_default(),
        ));
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(exit::OK)
}

fn export(
    ledger: &Ledger,
    file: &Path,
    server: Option<&str>,
    operation: Option<&str>,
) -> Result<i32, LedgerError> {
    let io = |e: std::io::Error| LedgerError::new(file, e.to_string());
    let mut w = csv::Writer::from_path(file).map_err(|e| LedgerError::new(file, e.to_string()))?;
    w.write_record([
        "server",
        "operation",
        "wolkvox_id",
        "obligation_id",
        "obligation_wolkvox_id",
        "body_fingerprint",
        "created_at",
        "updated_at",
        "last_seen_at",
    ])
    .map_err(|e| io(e.into()))?;
    let n = ledger.for_each_obligation(server, operation, |o| {
        w.write_record([
            o.server.as_str(),
            &o.operation,
            &o.wolkvox_id,
            &o.obligation_id,
            &o.crm_id,
            &o.body_fp.map(|f| format!("{f:016x}")).unwrap_or_default(),
            &format_time(o.created_at),
            &format_time(o.updated_at),
            &o.last_seen_at.map(format_time).unwrap_or_default(),
        ])
        .map_err(std::io::Error::from)
    })?;
    w.flush().map_err(io)?;
    let _ = writeln!(
        std::io::stderr(),
        "{n} obligations written to {}",
        file.display()
    );
    Ok(exit::OK)
}

/// 0 sound and nothing in doubt; 1 requests in doubt (the next run that
/// meets those obligations looks them up); 2 damaged.
fn check(ledger: &Ledger) -> Result<i32, LedgerError> {
    let mut out = String::new();
    if let Err(found) = ledger.integrity()? {
        out.push_str(&format!(
            "{}: the ledger is damaged:\n",
            ledger.path().display()
        ));
        for f in found.iter().take(20) {
            out.push_str(&format!("  {f}\n"));
        }
        out.push_str("Restore it from a backup, or move it away and run once with --mode upsert to rebuild it.\n");
        let _ = std::io::stdout().write_all(out.as_bytes());
        return Ok(exit::UNUSABLE);
    }
    out.push_str(&format!("{}: integrity ok\n", ledger.path().display()));
    let open = ledger.open_intents()?;
    if open.is_empty() {
        out.push_str("no request in doubt\n");
        let _ = std::io::stdout().write_all(out.as_bytes());
        return Ok(exit::OK);
    }
    out.push_str(&format!(
        "{} requests in doubt (sent, outcome unknown); the next run that meets these obligations looks each up before sending anything for it:\n",
        open.len()
    ));
    for i in &open {
        out.push_str(&format!(
            "  run {} row {}: {} obligation \"{}\" of record \"{}\" on {} / {}, {} ({})\n",
            i.run,
            i.row,
            i.method,
            i.obligation_id,
            i.wolkvox_id,
            i.server,
            i.operation,
            format_time(i.intent_at),
            i.status.as_deref().unwrap_or("no answer recorded"),
        ));
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(exit::SOME_ROWS_FAILED)
}
