//! `wolkvox-import ledger`: look into the ledger without changing it.

use super::LedgerCommand;
use std::io::Write;
use std::path::Path;
use wolkvox_import::import::exit;
use wolkvox_import::ledger::{
    format_time, hold_for_replacing, import_lock_beside, is_ledgers_own, replace_whole,
    resolve_path as ledger_path, Ledger, LedgerError, Replacing,
};
use wolkvox_import::results::{has_header, table_kind, TableKind, TableWriter};
use wolkvox_import::tr;

/// Runs a `ledger` subcommand and returns the exit code.
pub fn run(cmd: LedgerCommand) -> i32 {
    let (given, what) = match &cmd {
        LedgerCommand::Runs(a) => (a.path.ledger.as_deref(), "runs"),
        LedgerCommand::Export(a) => (a.path.ledger.as_deref(), "export"),
        LedgerCommand::Check(a) => (a.ledger.as_deref(), "check"),
        LedgerCommand::Backup(a) => (a.path.ledger.as_deref(), "backup"),
    };
    let path = match ledger_path(given) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    // A name that promises a workbook this tool cannot write is refused
    // before the ledger is even opened.
    let export_kind = match &cmd {
        LedgerCommand::Export(a) => match table_kind("ledger export", &a.file) {
            Ok(kind) => kind,
            Err(e) => return fail(&format!("{}: {e}", a.file.display())),
        },
        _ => TableKind::Csv,
    };
    let ledger = match Ledger::open_read_only(&path) {
        Ok(Some(l)) => l,
        Ok(None) => return fail(&tr!("ledger-none-yet", path = path.display().to_string())),
        Err(e) => return fail(&e.to_string()),
    };
    // What a damaged ledger says is not to be believed: only `check`, whose
    // job is to report the damage, reads one.
    if !matches!(cmd, LedgerCommand::Check(_)) {
        if let Err(e) = ledger.check_sound() {
            return fail(&e.to_string());
        }
    }
    let result = match cmd {
        LedgerCommand::Runs(a) => runs(&ledger, a.limit),
        LedgerCommand::Export(a) => {
            let filter = match export_filter(&ledger, a.server.as_deref(), a.operation.as_deref()) {
                Ok(f) => f,
                Err(e) => return fail(&e),
            };
            match guard_target(&path, &a.file, a.force, Target::Export) {
                Ok(_held) => export(&ledger, &a.file, export_kind, &filter),
                Err(e) => return fail(&e),
            }
        }
        LedgerCommand::Check(_) => check(&ledger),
        LedgerCommand::Backup(a) => match guard_target(&path, &a.file, a.force, Target::Backup) {
            Ok(_held) => backup(&ledger, &a.file),
            Err(e) => return fail(&e),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => fail(&format!("ledger {what}: {e}")),
    }
}

fn fail(msg: &str) -> i32 {
    let _ = writeln!(std::io::stderr(), "{}", tr!("error-line", message = msg));
    exit::UNUSABLE
}

/// The export's header line.
const EXPORT_HEADER: [&str; 9] = [
    "server",
    "operation",
    "wolkvox_id",
    "obligation_id",
    "obligation_wolkvox_id",
    "body_fingerprint",
    "created_at",
    "updated_at",
    "last_seen_at",
];

/// True when `file` starts with the export's header: an earlier export,
/// as CSV or as a workbook.
fn is_export(file: &Path) -> bool {
    has_header(file, &EXPORT_HEADER)
}

/// What a `ledger` subcommand writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `ledger backup`: a copy of the ledger; replaces an earlier copy.
    Backup,
    /// `ledger export`: a table; replaces an earlier export.
    Export,
}

/// Refuses to write `target` over the ledger or the files beside it, a
/// folder, a ledger an import is using now (even with `force`), or, unless
/// `force`, a ledger imports use (not a copy `ledger backup` made) or an
/// existing file that is not an earlier output of this command. The file
/// is held until the hold returned is dropped, so that no import starts on
/// it while it is replaced.
fn guard_target(
    ledger: &Path,
    target: &Path,
    force: bool,
    kind: Target,
) -> Result<Replacing, String> {
    let name = target.display().to_string();
    if target.is_dir() {
        return Err(tr!("ledger-target-folder", path = name));
    }
    if is_ledgers_own(ledger, target) {
        return Err(tr!("ledger-target-is-ledger", path = name));
    }
    let held = hold_for_replacing(target).map_err(|holder| {
        tr!(
            "ledger-target-in-use",
            path = name.as_str(),
            holder = holder
        )
    })?;
    if !target.exists() || force {
        return Ok(held);
    }
    let is_ledger = Ledger::is_ledger_file(target);
    match (kind, is_ledger) {
        (Target::Backup, true) => match import_lock_beside(target) {
            // Last night's copy under the same name is what a backup replaces.
            None => Ok(held),
            Some(lock) => Err(tr!(
                "ledger-target-used-ledger",
                path = name,
                lock = lock.display().to_string()
            )),
        },
        (Target::Export, true) => Err(tr!("ledger-target-a-ledger", path = name)),
        (Target::Export, false) if is_export(target) => Ok(held),
        _ => Err(tr!("ledger-target-foreign", path = name)),
    }
}

/// Which obligations `ledger export` writes: of one server and/or one
/// operation, each given as `import` takes it (`--server` a host or a URL,
/// named in the ledger by its host; `--operation` trimmed).
#[derive(Debug, Default)]
struct ExportFilter {
    server: Option<String>,
    operation: Option<String>,
}

/// The filter of `ledger export`, refused when it matches nothing the
/// ledger knows (a typing slip would otherwise export an empty file, and a
/// script would never know): the message lists what the ledger knows.
fn export_filter(
    ledger: &Ledger,
    server: Option<&str>,
    operation: Option<&str>,
) -> Result<ExportFilter, String> {
    let server = server
        .map(|s| {
            wolkvox_import::crm::parse_server(s)
                .map(|url| wolkvox_import::import::send::server_key(&url))
        })
        .transpose()?;
    let operation = match operation.map(str::trim) {
        Some("") => return Err(tr!("operation-empty")),
        o => o.map(str::to_string),
    };
    let filter = ExportFilter { server, operation };
    let described = match (&filter.server, &filter.operation) {
        (None, None) => return Ok(filter),
        (Some(s), None) => tr!("ledger-filter-server", server = s.as_str()),
        (None, Some(o)) => tr!("ledger-filter-operation", operation = o.as_str()),
        (Some(s), Some(o)) => tr!(
            "ledger-filter-both",
            server = s.as_str(),
            operation = o.as_str()
        ),
    };
    let scopes = ledger.scopes().map_err(|e| e.to_string())?;
    let matches = |(s, o): &(String, String)| {
        filter.server.as_ref().is_none_or(|x| x == s)
            && filter.operation.as_ref().is_none_or(|x| x == o)
    };
    if scopes.iter().any(matches) {
        return Ok(filter);
    }
    let known = if scopes.is_empty() {
        tr!("ledger-knows-no-scope")
    } else {
        scopes
            .iter()
            .map(|(s, o)| format!("{s} / {o}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(tr!(
        "ledger-export-no-scope",
        path = ledger.path().display().to_string(),
        filter = described,
        known = known
    ))
}

fn backup(ledger: &Ledger, file: &Path) -> Result<i32, LedgerError> {
    ledger.backup_to(file)?;
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        tr!("ledger-backed-up", path = file.display().to_string())
    );
    Ok(exit::OK)
}

fn runs(ledger: &Ledger, limit: u32) -> Result<i32, LedgerError> {
    let mut out = String::new();
    let rows = ledger.runs(limit)?;
    if rows.is_empty() {
        out.push_str(&tr!("ledger-no-runs"));
        out.push('\n');
    }
    for r in rows {
        let counts: Vec<String> = r
            .counts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{} {n}", s.as_str()))
            .collect();
        let end = match (r.ended_at, r.exit_code) {
            (Some(e), Some(code)) => tr!(
                "ledger-run-ended",
                code = code,
                seconds = format!("{:.1}", (e - r.started_at) as f64 / 1000.0)
            ),
            _ => tr!("ledger-run-unfinished", pid = r.pid, host = r.host.as_str()),
        };
        let counts = if counts.is_empty() {
            tr!("ledger-run-no-rows")
        } else {
            counts.join(", ")
        };
        // One line a run, so the list can be searched with grep.
        out.push_str(&tr!(
            "ledger-run",
            id = r.id,
            started = format_time(r.started_at),
            end = end,
            mode = r.mode.as_str(),
            server = r.server.as_str(),
            operation = r.operation.as_str(),
            counts = counts,
            requests = r.requests.unwrap_or(0),
            input = r.input.as_str(),
            output = r.output.as_str()
        ));
        if let Some(s) = r.stop_reason {
            out.push_str("  ");
            out.push_str(&tr!("ledger-run-stopped", why = s));
        }
        out.push('\n');
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(exit::OK)
}

fn export(
    ledger: &Ledger,
    file: &Path,
    kind: TableKind,
    filter: &ExportFilter,
) -> Result<i32, LedgerError> {
    // A failed export leaves no half file, and an earlier one as it was.
    let n = replace_whole(file, |part| {
        write_export(ledger, part, kind, filter).map_err(|e| LedgerError {
            path: file.to_path_buf(),
            ..e
        })
    })?;
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        tr!(
            "ledger-exported",
            count = n,
            path = file.display().to_string()
        )
    );
    Ok(exit::OK)
}

fn write_export(
    ledger: &Ledger,
    file: &Path,
    kind: TableKind,
    filter: &ExportFilter,
) -> Result<u64, LedgerError> {
    let io = |e: wolkvox_import::results::OutputError| LedgerError::new(file, e.message);
    let mut w = TableWriter::create(file, kind, "obligations", &EXPORT_HEADER).map_err(io)?;
    let n =
        ledger.for_each_obligation(filter.server.as_deref(), filter.operation.as_deref(), |o| {
            w.write(&[
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
            .map_err(|e| std::io::Error::other(e.message))
        })?;
    w.finish().map_err(io)?;
    Ok(n)
}

/// 0 sound and nothing in doubt; 1 requests in doubt (the next run that
/// meets those obligations looks them up); 2 damaged.
fn check(ledger: &Ledger) -> Result<i32, LedgerError> {
    let mut out = String::new();
    if let Err(found) = ledger.integrity()? {
        out.push_str(&tr!(
            "ledger-check-damaged",
            path = ledger.path().display().to_string()
        ));
        out.push('\n');
        for f in found.iter().take(20) {
            out.push_str(&format!("  {f}\n"));
        }
        out.push_str(&tr!("ledger-check-restore"));
        out.push('\n');
        let _ = std::io::stdout().write_all(out.as_bytes());
        return Ok(exit::UNUSABLE);
    }
    out.push_str(&tr!(
        "ledger-check-ok",
        path = ledger.path().display().to_string()
    ));
    out.push('\n');
    let mut open = ledger.open_intents()?;
    // An import going on now has requests in flight: they are not in
    // doubt, and a monitoring job must not be told they are.
    if let Some(live) = ledger.live_run()? {
        open.retain(|i| i.run != live.id);
        out.push_str(&tr!(
            "ledger-check-live",
            run = live.id,
            pid = live.pid,
            started = format_time(live.started_at)
        ));
        out.push('\n');
    }
    if open.is_empty() {
        out.push_str(&tr!("ledger-check-no-doubt"));
        out.push('\n');
        let _ = std::io::stdout().write_all(out.as_bytes());
        return Ok(exit::OK);
    }
    out.push_str(&tr!("ledger-check-doubts", count = open.len() as u64));
    out.push('\n');
    for i in &open {
        let status = i
            .status
            .clone()
            .unwrap_or_else(|| tr!("ledger-check-no-answer"));
        out.push_str("  ");
        out.push_str(&tr!(
            "ledger-check-doubt",
            run = i.run,
            row = i.row,
            method = i.method.as_str(),
            obligation = i.obligation_id.as_str(),
            record = i.wolkvox_id.as_str(),
            server = i.server.as_str(),
            operation = i.operation.as_str(),
            at = format_time(i.intent_at),
            status = status
        ));
        out.push('\n');
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(exit::SOME_ROWS_FAILED)
}
