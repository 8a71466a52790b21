//! The ledger: one SQLite file that remembers, across runs, every obligation
//! this tool sent and what became of it. It is the single source of truth
//! for "was this sent?": the results file is only a report of one run.
//!
//! What it holds:
//! - `runs`: every import (not dry runs): when, what file and mapping (with
//!   fingerprints), which server, operation and mode, the counts per status,
//!   the requests made and the exit code.
//! - `sends`: each row's write intent, committed *before* its request leaves,
//!   then its outcome. An intent with no outcome (a crash, a lost answer) is
//!   "in doubt": the next run that meets the obligation looks it up before
//!   sending anything for it.
//! - `obligations`: per (server, operation, `wolkvox_id`, obligation `id`),
//!   the CRM's id for it, a fingerprint of the last full body the CRM
//!   accepted, and when it was created and last updated. When it was last
//!   seen in a file comes from the runs' sightings (the `seen` module).
//!
//! Durability: intents are committed with `synchronous = FULL` (on disk
//! before the request leaves); outcomes with `NORMAL`, since an outcome lost
//! to a power cut only leaves an intent in doubt, which a look-up settles.
//! One import at a time holds a ledger (the `lock` module); within it the reader
//! commits intents and the collector outcomes, through one connection.

pub(crate) mod file;
pub use file::{
    files_beside, hold_for_replacing, import_lock_beside, is_ledgers_own, real_path, replace_whole,
    Replacing,
};
pub(crate) mod known;
pub(crate) mod lock;
pub(crate) mod seen;

use crate::crm::client::Method;
use crate::results::{Outcome, Status};
use crate::tr;
use known::{KeyHash, Known};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// SQLite's page cache for a run that writes, in KiB (negative: KiB, as
/// `PRAGMA cache_size` reads it).
const LEDGER_CACHE_KIB: i64 = -16 * 1024;

/// Pages of write-ahead log between automatic checkpoints (4 KiB each).
const LEDGER_CHECKPOINT_PAGES: i64 = 4096;

/// `PRAGMA application_id` of a ledger ("WKVI"), so another application's
/// SQLite file is never taken for one.
const APPLICATION_ID: i32 = 0x574B_5649;
const SCHEMA_VERSION: i32 = 1;
/// Row outcomes of older runs than these are pruned (their counts stay in
/// `runs`; intents still in doubt are always kept).
const KEEP_RUN_DETAILS: i64 = 50;

const SCHEMA: &str = "
CREATE TABLE scopes (
    id INTEGER PRIMARY KEY,
    server TEXT NOT NULL,
    operation TEXT NOT NULL,
    UNIQUE (server, operation)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    scope INTEGER NOT NULL REFERENCES scopes(id),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    input TEXT NOT NULL,
    input_fingerprint TEXT NOT NULL,
    mapping TEXT NOT NULL,
    mapping_fingerprint TEXT NOT NULL,
    mode TEXT NOT NULL,
    output TEXT NOT NULL,
    resumes INTEGER REFERENCES runs(id),
    rows INTEGER, created INTEGER, updated INTEGER, unchanged INTEGER,
    invalid INTEGER, failed INTEGER, uncertain INTEGER, not_sent INTEGER,
    requests INTEGER,
    vanished INTEGER,
    exit_code INTEGER,
    stop_reason TEXT,
    seen BLOB
);
CREATE INDEX runs_by_output ON runs(scope, output);
CREATE TABLE obligations (
    id INTEGER PRIMARY KEY,
    scope INTEGER NOT NULL REFERENCES scopes(id),
    wolkvox_id TEXT NOT NULL,
    obligation_id TEXT NOT NULL,
    crm_id TEXT NOT NULL,
    body_fp INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_seen_at INTEGER,
    last_seen_run INTEGER,
    UNIQUE (scope, wolkvox_id, obligation_id)
);
CREATE TABLE sends (
    run INTEGER NOT NULL REFERENCES runs(id),
    row INTEGER NOT NULL,
    scope INTEGER NOT NULL REFERENCES scopes(id),
    wolkvox_id TEXT NOT NULL,
    obligation_id TEXT NOT NULL,
    method TEXT NOT NULL,
    body_fp INTEGER NOT NULL,
    intent_at INTEGER NOT NULL,
    status TEXT,
    attempts INTEGER,
    http_status INTEGER,
    api_code TEXT,
    error TEXT,
    crm_id TEXT,
    outcome_at INTEGER,
    resolved_by INTEGER,
    PRIMARY KEY (run, row)
);
CREATE INDEX sends_open ON sends(scope, wolkvox_id, obligation_id)
    WHERE resolved_by IS NULL AND (status IS NULL OR status = 'uncertain');
";

/// Why the ledger cannot be used, or a write to it failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}: {message}")]
pub struct LedgerError {
    /// The ledger (or its lock file).
    pub path: PathBuf,
    /// What went wrong, in words.
    pub message: String,
    /// The disk is full: the message says so in the system's words.
    pub disk_full: bool,
}

impl LedgerError {
    /// A failure about `path`, in words.
    pub fn new(path: &Path, message: impl Into<String>) -> LedgerError {
        LedgerError {
            path: path.to_path_buf(),
            message: message.into(),
            disk_full: false,
        }
    }

    fn sql(path: &Path, e: rusqlite::Error) -> LedgerError {
        use rusqlite::ErrorCode;
        let code = e.sqlite_error_code();
        if matches!(
            code,
            Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen)
        ) {
            if let Some(limit) = file::ledger_size_limit_reached(path) {
                return LedgerError::new(path, tr!("file-size-limit", limit = limit.to_string()));
            }
        }
        let message = match code {
            Some(ErrorCode::DiskFull) => {
                tr!("ledger-disk-full")
            }
            Some(ErrorCode::NotADatabase) => {
                tr!("ledger-not-a-database")
            }
            Some(ErrorCode::DatabaseCorrupt) => {
                tr!("ledger-damaged")
            }
            Some(ErrorCode::ReadOnly) => tr!("ledger-read-only", why = e.to_string()),
            Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) if file::no_space_at(path) => {
                return LedgerError {
                    path: path.to_path_buf(),
                    message: tr!("ledger-disk-full"),
                    disk_full: true,
                };
            }
            Some(ErrorCode::CannotOpen) if path.is_dir() => tr!("ledger-is-folder"),
            _ => e.to_string(),
        };
        LedgerError {
            path: path.to_path_buf(),
            message,
            disk_full: code == Some(ErrorCode::DiskFull),
        }
    }

    /// A failure of a file operation on the ledger, in the system's words.
    fn io(path: &Path, e: &std::io::Error) -> LedgerError {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::EFBIG) {
            if let Some(limit) = file::ledger_size_limit_reached(path) {
                return LedgerError::new(path, tr!("file-size-limit", limit = limit.to_string()));
            }
        }
        let disk_full = e.raw_os_error() == Some(libc::ENOSPC);
        LedgerError {
            path: path.to_path_buf(),
            message: if disk_full {
                tr!("ledger-disk-full")
            } else {
                e.to_string()
            },
            disk_full,
        }
    }
}

/// The default place of the ledger: the per-user state folder, e.g.
/// `~/.local/state/wolkvox-import/ledger.sqlite` on Linux.
pub fn default_path() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "wolkvox-import")?;
    let dir = dirs
        .state_dir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dirs.data_local_dir().to_path_buf());
    Some(dir.join("ledger.sqlite"))
}

/// The ledger's path: `--ledger`/`WOLKVOX_LEDGER`, else the default place.
pub fn resolve_path(given: Option<&Path>) -> Result<PathBuf, String> {
    match given {
        Some(p) if p.as_os_str().is_empty() => Err(tr!("ledger-empty-option")),
        Some(p) => Ok(p.to_path_buf()),
        None => default_path().ok_or_else(|| tr!("ledger-no-home")),
    }
}

/// Milliseconds since the Unix epoch, the ledger's unit of time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A ledger time as RFC 3339 UTC, to the second.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A body fingerprint: xxh3, a published hash, so a newer binary reads the
/// fingerprints an older one wrote.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// The request an intent announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentKind {
    /// An insert of an obligation the ledger does not know.
    Post,
    /// An update of an obligation that exists.
    Put,
    /// A look-up, then an update or an insert depending on its answer.
    LookupThenWrite,
}

impl IntentKind {
    fn as_str(self) -> &'static str {
        match self {
            IntentKind::Post => "POST",
            IntentKind::Put => "PUT",
            IntentKind::LookupThenWrite => "LOOKUP+WRITE",
        }
    }

    /// The intent for a row's requests. A look-up that settles an earlier
    /// insert of this very body can only be followed by that insert, so it is
    /// recorded as one: a crash then leaves a plain insert in doubt, which
    /// the next look-up settles without a needless update.
    pub fn of(write: Method, lookup_first: bool, doubt_fp: Option<u64>, fp: u64) -> IntentKind {
        match (lookup_first, write) {
            (true, Method::Post) if doubt_fp == Some(fp) => IntentKind::Post,
            (true, _) => IntentKind::LookupThenWrite,
            (false, Method::Post) => IntentKind::Post,
            (false, Method::Put) => IntentKind::Put,
        }
    }
}

/// The open ledger.
pub struct Ledger {
    conn: Connection,
    /// The path as given, for messages.
    path: PathBuf,
    /// Opened for writing: the write-ahead log is folded back on close.
    writing: bool,
    /// An import's lock on the file, and the file it names (links
    /// resolved); dropped after `conn`, which must close first.
    guard: Option<(file::Guard, PathBuf)>,
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if self.writing {
            self.fold_log_back();
        }
    }
}

impl Ledger {
    /// Between imports the ledger rests as one plain file (no `-wal` or
    /// `-shm` beside it): a copy of that one file is a whole backup, and a
    /// dry run or `ledger` command, which only read, never have to create
    /// those files. A reader that has the ledger open at this moment (a
    /// monitoring script running `ledger runs`) blocks the switch, so it is
    /// retried for a few seconds; if it still fails the log stays beside the
    /// ledger, which the next open handles, and the operator is told that
    /// the ledger is in two files for now.
    fn fold_log_back(&mut self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let _ = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            let mode: rusqlite::Result<String> =
                self.conn
                    .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get(0));
            if matches!(mode.as_deref(), Ok("delete")) {
                return;
            }
            if std::time::Instant::now() >= deadline {
                tracing::warn!(
                    "{}",
                    tr!("ledger-log-stays", path = self.path.display().to_string())
                );
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

/// A write intent, recorded before the request for the row leaves.
#[derive(Debug, Clone)]
pub struct Intent {
    /// The row's number in the input file.
    pub row: u64,
    /// The record the obligation belongs to.
    pub wolkvox_id: String,
    /// The obligation's own id (`id` in the request).
    pub obligation_id: String,
    /// Insert, update, or a look-up first.
    pub kind: IntentKind,
    /// Fingerprint of the row's full body (what the CRM will hold).
    pub body_fp: u64,
}

/// What earlier runs left in doubt for one obligation: requests whose
/// outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Doubt {
    /// One of them may have inserted it: look it up before any write.
    pub insert: bool,
    /// The body they all carried, when they agree.
    pub body_fp: Option<u64>,
    /// They were all plain inserts: a look-up that finds the obligation
    /// proves one went in, with `body_fp`.
    pub plain_insert: bool,
}

/// What a run learnt about one row that went to the workers, for the
/// collector to record.
#[derive(Debug, Clone)]
pub struct Note {
    /// The row's outcome, as the results file records it.
    pub outcome: Outcome,
    /// The row's intent is in the ledger (else the run stopped before it).
    pub logged: bool,
    /// Fingerprint of the body that was sent.
    pub body_fp: u64,
    /// A look-up found the obligation in the CRM, with this id.
    pub found: Option<String>,
    /// This row settled whatever earlier runs left in doubt for it.
    pub settles_doubt: bool,
}

/// The start of a run, as recorded.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// The (server, operation) the run sends to.
    pub scope: i64,
    /// When it started, in milliseconds since the epoch.
    pub started_at: i64,
    /// The input file, as an absolute path.
    pub input: String,
    /// A hash of the input's bytes, to tell a changed file.
    pub input_fingerprint: String,
    /// The mapping file, as an absolute path.
    pub mapping: String,
    /// A hash of the mapping file's bytes.
    pub mapping_fingerprint: String,
    /// The mode's name, as `--mode` takes it.
    pub mode: String,
    /// The results file.
    pub output: String,
    /// The run this one resumes, if any.
    pub resumes: Option<i64>,
}

/// The end of a run, as recorded.
#[derive(Debug, Clone, Default)]
pub struct RunEnd {
    /// Rows by status.
    pub counts: HashMap<Status, u64>,
    /// Requests sent, look-ups included.
    pub requests: u64,
    /// Known obligations the file no longer listed (sync mode).
    pub vanished: Option<u64>,
    /// The exit code the run ended with.
    pub exit_code: i32,
    /// Why the run stopped early, if it did.
    pub stop_reason: Option<String>,
    /// The known obligations the file listed, when it was read whole.
    pub seen: Option<seen::IdRanges>,
}

/// A run as `ledger runs` lists it.
#[derive(Debug, Clone)]
pub struct RunRow {
    /// The run's number in the ledger.
    pub id: i64,
    /// When it started, in milliseconds since the epoch.
    pub started_at: i64,
    /// When it ended; `None` for a run still going or one that crashed.
    pub ended_at: Option<i64>,
    /// The process that ran it.
    pub pid: i64,
    /// The machine it ran on.
    pub host: String,
    /// The server it sent to (its host).
    pub server: String,
    /// The API operation.
    pub operation: String,
    /// The mode's name, as `--mode` takes it.
    pub mode: String,
    /// The input file.
    pub input: String,
    /// The results file.
    pub output: String,
    /// Rows by status, for a run that ended.
    pub counts: Vec<(Status, i64)>,
    /// Requests sent, for a run that ended.
    pub requests: Option<i64>,
    /// The exit code, for a run that ended.
    pub exit_code: Option<i64>,
    /// Why it stopped early, if it did.
    pub stop_reason: Option<String>,
}

/// The run a `--resume` continues.
#[derive(Debug, Clone)]
pub struct PriorRun {
    /// The run's number in the ledger.
    pub id: i64,
    /// When it started, in milliseconds since the epoch.
    pub started_at: i64,
    /// Its input's hash then.
    pub input_fingerprint: String,
    /// Its mapping's hash then.
    pub mapping_fingerprint: String,
    /// How it ended; `None` when it never did (a crash).
    pub exit_code: Option<i64>,
}

/// A row an earlier run (being resumed) brought to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// How the row ended.
    pub status: Status,
    /// Requests it took.
    pub attempts: u32,
    /// The obligation's id in the CRM, when it was written.
    pub crm_id: String,
    /// The last answer's HTTP status.
    pub http_status: Option<u16>,
    /// The last answer's `code`.
    pub api_code: Option<String>,
}

/// A known obligation, in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationRow {
    /// The obligation's id in the ledger.
    pub id: u32,
    /// The server it was sent to (its host).
    pub server: String,
    /// The API operation.
    pub operation: String,
    /// The record it belongs to.
    pub wolkvox_id: String,
    /// Its own id.
    pub obligation_id: String,
    /// Its id in the CRM, when an answer gave one.
    pub crm_id: String,
    /// Fingerprint of the body the CRM holds; `None` when a look-up found
    /// it and its body is not known.
    pub body_fp: Option<u64>,
    /// When the ledger first learnt of it, in milliseconds since the epoch.
    pub created_at: i64,
    /// When it was last written.
    pub updated_at: i64,
    /// When an input file last listed it.
    pub last_seen_at: Option<i64>,
}

/// An intent still in doubt, as `ledger check` lists it.
#[derive(Debug, Clone)]
pub struct OpenIntent {
    /// The run that recorded it.
    pub run: i64,
    /// The row's number in that run's input.
    pub row: i64,
    /// The server (its host).
    pub server: String,
    /// The API operation.
    pub operation: String,
    /// The record the obligation belongs to.
    pub wolkvox_id: String,
    /// The obligation's own id.
    pub obligation_id: String,
    /// `POST` or `PUT`.
    pub method: String,
    /// When it was recorded, in milliseconds since the epoch.
    pub intent_at: i64,
    /// `uncertain` when an answer left it in doubt; `None` when no answer
    /// was recorded at all.
    pub status: Option<String>,
}

impl Ledger {
    /// Opens the ledger for an import, creating it (and its folder) when it
    /// does not exist. Refuses a file that is not a ledger.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        // Through a link, the ledger (and its folder) is made where the
        // link points, and the link stays.
        let real = file::real_path(path)?;
        if let Some(dir) = real.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| LedgerError::new(path, tr!("ledger-folder", why = e.to_string())))?;
        }
        if !real.exists() {
            file::create_new(&real, build_schema)?;
        }
        file::check_single_name(&real)?;
        let conn = Connection::open(&real).map_err(|e| LedgerError::sql(path, e))?;
        let guard = file::Guard::take(&real)?
            .ok_or_else(|| LedgerError::new(path, tr!("ledger-held-file")))?;
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            writing: false,
            guard: Some((guard, real)),
        };
        ledger.prepare_for_writing()?;
        Ok(ledger)
    }

    /// Fails when the ledger's path no longer names the file this import
    /// holds (deleted or replaced during the run): what is written from
    /// then on would be lost, so the run must stop.
    fn check_in_place(&self) -> Result<(), LedgerError> {
        match &self.guard {
            Some((guard, real)) => guard.still_at(real).map_err(|e| LedgerError {
                path: self.path.clone(),
                ..e
            }),
            None => Ok(()),
        }
    }

    /// Opens an existing ledger to read only (a dry run, `ledger` commands);
    /// `None` when there is no file. Nothing is created or written.
    pub fn open_read_only(path: &Path) -> Result<Option<Ledger>, LedgerError> {
        let real = file::real_path(path)?;
        if !real.exists() {
            return Ok(None);
        }
        file::check_single_name(&real)?;
        let conn = Connection::open_with_flags(
            &real,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| LedgerError::sql(path, e))?;
        let ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            writing: false,
            guard: None,
        };
        ledger
            .conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| ledger.err(e))?;
        match ledger.identify()? {
            Identity::Ledger => Ok(Some(ledger)),
            Identity::Empty => Err(LedgerError::new(path, tr!("ledger-emptied"))),
        }
    }

    /// The ledger's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> LedgerError {
        LedgerError::sql(&self.path, e)
    }

    /// Tells a ledger from an empty file and from anything else.
    fn identify(&self) -> Result<Identity, LedgerError> {
        let app: i32 = self
            .conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let tables: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if app == APPLICATION_ID {
            let version: i32 = self
                .conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(|e| self.err(e))?;
            if version > SCHEMA_VERSION {
                return Err(LedgerError::new(
                    &self.path,
                    tr!("ledger-newer", version = version),
                ));
            }
            return Ok(Identity::Ledger);
        }
        if tables == 0 {
            return Ok(Identity::Empty);
        }
        Err(LedgerError::new(
            &self.path,
            tr!("ledger-other-application"),
        ))
    }

    fn prepare_for_writing(&mut self) -> Result<(), LedgerError> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| self.err(e))?;
        // A new ledger is moved into place whole (`file::create_new`), so
        // an existing file without one was emptied or damaged: starting
        // again in it would send every known obligation a second time.
        if self.identify()? == Identity::Empty {
            return Err(LedgerError::new(&self.path, tr!("ledger-emptied")));
        }
        // Before anything is written, even the journal mode: a damaged
        // ledger is left exactly as it was found.
        self.check_sound()?;
        self.conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
            .map_err(|e| self.err(e))?;
        self.writing = true;
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.err(e))?;
        // A large import rewrites the same index pages over and over: a
        // page cache that holds them, and a checkpoint every 16 MiB of log
        // rather than every 4, write each far fewer times.
        self.conn
            .pragma_update(None, "cache_size", LEDGER_CACHE_KIB)
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", LEDGER_CHECKPOINT_PAGES)
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Refuses a damaged ledger before anything is sent: SQLite finds most
    /// damage only when it reads the damaged page, which might be halfway
    /// through the run. About a second per 250 MB (a million obligations).
    pub fn check_sound(&self) -> Result<(), LedgerError> {
        let mut st = self
            .conn
            .prepare("PRAGMA quick_check(5)")
            .map_err(|e| self.err(e))?;
        let found: Vec<String> = st
            .query_map([], |r| r.get(0))
            .and_then(Iterator::collect)
            .map_err(|e| self.err(e))?;
        if found.len() == 1 && found[0] == "ok" {
            Ok(())
        } else {
            Err(LedgerError::new(
                &self.path,
                format!("{}: {}", tr!("ledger-damaged"), found.join("; ")),
            ))
        }
    }

    /// The scope's id, created when new.
    pub fn scope(&mut self, server: &str, operation: &str) -> Result<i64, LedgerError> {
        self.conn
            .execute(
                "INSERT INTO scopes (server, operation) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![server, operation],
            )
            .map_err(|e| self.err(e))?;
        self.find_scope(server, operation)?
            .ok_or_else(|| LedgerError::new(&self.path, tr!("ledger-scope-missing")))
    }

    /// The scope's id, if the ledger has ever seen it.
    pub fn find_scope(&self, server: &str, operation: &str) -> Result<Option<i64>, LedgerError> {
        self.conn
            .query_row(
                "SELECT id FROM scopes WHERE server = ?1 AND operation = ?2",
                params![server, operation],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every (server, operation) the ledger knows, sorted.
    pub fn scopes(&self) -> Result<Vec<(String, String)>, LedgerError> {
        let mut st = self
            .conn
            .prepare("SELECT server, operation FROM scopes ORDER BY server, operation")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The servers the ledger knows for an operation.
    pub fn servers_for(&self, operation: &str) -> Result<Vec<String>, LedgerError> {
        let mut st = self
            .conn
            .prepare("SELECT server FROM scopes WHERE operation = ?1 ORDER BY server")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([operation], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every known obligation of a scope, in memory.
    pub fn load_known(&self, scope: i64) -> Result<Known, LedgerError> {
        let (count, id_bytes): (i64, Option<i64>) = self
            .conn
            .query_row(
                "SELECT count(*), sum(length(crm_id)) FROM obligations WHERE +scope = ?1",
                [scope],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        let mut known =
            Known::with_capacity(count as usize, id_bytes.unwrap_or(0) as usize).loader();
        let mut st = self
            .conn
            .prepare(
                // `+scope`: read the table in its own order, not through the
                // unique index, which would cost a random look-up per row.
                "SELECT id, wolkvox_id, obligation_id, crm_id, body_fp FROM obligations WHERE +scope = ?1",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([scope]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let id: i64 = r.get(0).map_err(|e| self.err(e))?;
            let w = r
                .get_ref(1)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            let o = r
                .get_ref(2)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            let crm = r
                .get_ref(3)
                .and_then(|v| Ok(v.as_str()?))
                .map_err(|e| self.err(e))?;
            let fp: Option<i64> = r.get(4).map_err(|e| self.err(e))?;
            let id = u32::try_from(id)
                .map_err(|_| LedgerError::new(&self.path, tr!("ledger-too-many")))?;
            known.insert(KeyHash::of(w, o), id, fp.map(|f| f as u64), crm);
        }
        Ok(known.finish())
    }

    /// Intents of earlier runs still in doubt, by obligation.
    pub fn load_doubts(&self, scope: i64) -> Result<HashMap<KeyHash, Doubt>, LedgerError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT wolkvox_id, obligation_id, method, body_fp FROM sends
                 WHERE scope = ?1 AND resolved_by IS NULL AND (status IS NULL OR status = 'uncertain')
                 ORDER BY run, row",
            )
            .map_err(|e| self.err(e))?;
        let mut out: HashMap<KeyHash, Doubt> = HashMap::new();
        let mut rows = st.query([scope]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let w: String = r.get(0).map_err(|e| self.err(e))?;
            let o: String = r.get(1).map_err(|e| self.err(e))?;
            let m: String = r.get(2).map_err(|e| self.err(e))?;
            let fp = r.get::<_, i64>(3).map_err(|e| self.err(e))? as u64;
            // After a look-up the write may have been an update or an insert:
            // what the CRM holds is unknown.
            let blind = m == IntentKind::LookupThenWrite.as_str();
            let body = (!blind).then_some(fp);
            let d = out.entry(KeyHash::of(&w, &o)).or_insert(Doubt {
                insert: false,
                body_fp: body,
                plain_insert: true,
            });
            d.insert |= m != IntentKind::Put.as_str();
            d.plain_insert &= m == IntentKind::Post.as_str();
            if d.body_fp != body {
                d.body_fp = None;
            }
        }
        Ok(out)
    }

    /// The latest run of this scope that wrote `output`, for `--resume`.
    pub fn last_run_for_output(
        &self,
        scope: i64,
        output: &str,
    ) -> Result<Option<PriorRun>, LedgerError> {
        self.conn
            .query_row(
                "SELECT id, started_at, input_fingerprint, mapping_fingerprint, exit_code FROM runs
                 WHERE scope = ?1 AND output = ?2 ORDER BY id DESC LIMIT 1",
                params![scope, output],
                |r| {
                    Ok(PriorRun {
                        id: r.get(0)?,
                        started_at: r.get(1)?,
                        input_fingerprint: r.get(2)?,
                        mapping_fingerprint: r.get(3)?,
                        exit_code: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Rows brought to their end by `run` and the runs it resumed, by
    /// obligation; a later run's outcome wins.
    pub fn load_carried(&self, run: i64) -> Result<HashMap<KeyHash, Carried>, LedgerError> {
        let mut chain = vec![run];
        while let Some(prev) = self
            .conn
            .query_row(
                "SELECT resumes FROM runs WHERE id = ?1",
                [*chain.last().unwrap_or(&run)],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()
            .map_err(|e| self.err(e))?
            .flatten()
        {
            if chain.contains(&prev) || chain.len() > 1000 {
                break;
            }
            chain.push(prev);
        }
        let mut out = HashMap::new();
        let mut st = self
            .conn
            .prepare(
                "SELECT wolkvox_id, obligation_id, status, attempts, crm_id, http_status, api_code
                 FROM sends WHERE run = ?1 AND status IN ('created', 'updated') ORDER BY row",
            )
            .map_err(|e| self.err(e))?;
        for r in chain.iter().rev() {
            let mut rows = st.query([r]).map_err(|e| self.err(e))?;
            while let Some(r) = rows.next().map_err(|e| self.err(e))? {
                let w: String = r.get(0).map_err(|e| self.err(e))?;
                let o: String = r.get(1).map_err(|e| self.err(e))?;
                let status: String = r.get(2).map_err(|e| self.err(e))?;
                let Some(status) = Status::parse(&status) else {
                    continue;
                };
                out.insert(
                    KeyHash::of(&w, &o),
                    Carried {
                        status,
                        attempts: r
                            .get::<_, Option<u32>>(3)
                            .map_err(|e| self.err(e))?
                            .unwrap_or(0),
                        crm_id: r
                            .get::<_, Option<String>>(4)
                            .map_err(|e| self.err(e))?
                            .unwrap_or_default(),
                        http_status: r.get(5).map_err(|e| self.err(e))?,
                        api_code: r.get(6).map_err(|e| self.err(e))?,
                    },
                );
            }
        }
        Ok(out)
    }

    /// When the ledger first recorded an obligation.
    pub fn created_at(&self, db_id: u32) -> Result<Option<i64>, LedgerError> {
        self.conn
            .query_row(
                "SELECT created_at FROM obligations WHERE id = ?1",
                [db_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records the start of a run and prunes the row details of old runs.
    pub fn begin_run(&mut self, run: &NewRun, pid: u32, host: &str) -> Result<i64, LedgerError> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| LedgerError::sql(&self.path, e))?;
        tx.execute(
            "INSERT INTO runs (scope, started_at, pid, host, input, input_fingerprint, mapping,
                               mapping_fingerprint, mode, output, resumes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                run.scope,
                run.started_at,
                pid,
                host,
                run.input,
                run.input_fingerprint,
                run.mapping,
                run.mapping_fingerprint,
                run.mode,
                run.output,
                run.resumes
            ],
        )
        .map_err(|e| LedgerError::sql(&self.path, e))?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "DELETE FROM sends WHERE run <= ?1 - ?2
               AND NOT (resolved_by IS NULL AND (status IS NULL OR status = 'uncertain'))",
            params![id, KEEP_RUN_DETAILS],
        )
        .map_err(|e| LedgerError::sql(&self.path, e))?;
        tx.commit().map_err(|e| LedgerError::sql(&self.path, e))?;
        Ok(id)
    }

    /// Records how a run ended.
    pub fn end_run(&mut self, run: i64, end: &RunEnd) -> Result<(), LedgerError> {
        self.check_in_place()?;
        let c = |s: Status| end.counts.get(&s).copied().unwrap_or(0) as i64;
        let rows: u64 = end.counts.values().sum();
        self.conn
            .execute(
                "UPDATE runs SET ended_at = ?2, rows = ?3, created = ?4, updated = ?5, unchanged = ?6,
                   invalid = ?7, failed = ?8, uncertain = ?9, not_sent = ?10, requests = ?11,
                   vanished = ?12, exit_code = ?13, stop_reason = ?14, seen = ?15
                 WHERE id = ?1",
                params![
                    run,
                    now_ms(),
                    rows as i64,
                    c(Status::Created),
                    c(Status::Updated),
                    c(Status::Unchanged),
                    c(Status::Invalid),
                    c(Status::Failed),
                    c(Status::Uncertain),
                    c(Status::NotSent),
                    end.requests as i64,
                    end.vanished.map(|v| v as i64),
                    end.exit_code,
                    end.stop_reason,
                    end.seen.as_ref().map(seen::IdRanges::encode)
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records write intents durably (synced to disk) in one transaction:
    /// after this returns, a crash leaves these rows in doubt, never lost.
    pub fn record_intents(
        &mut self,
        run: i64,
        scope: i64,
        intents: &[Intent],
    ) -> Result<(), LedgerError> {
        if intents.is_empty() {
            return Ok(());
        }
        self.check_in_place()?;
        let path = self.path.clone();
        let e = |e| LedgerError::sql(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO sends (run, row, scope, wolkvox_id, obligation_id, method, body_fp, intent_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(e)?;
            let now = now_ms();
            for i in intents {
                st.execute(params![
                    run,
                    i.row as i64,
                    scope,
                    i.wolkvox_id,
                    i.obligation_id,
                    i.kind.as_str(),
                    i.body_fp as i64,
                    now
                ])
                .map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    /// Records a batch of outcomes in one transaction. Not synced on its
    /// own: losing it to a power cut leaves intents in doubt, which the next
    /// run settles by looking the obligations up.
    pub fn record_notes(
        &mut self,
        run: i64,
        scope: i64,
        notes: &[Note],
    ) -> Result<(), LedgerError> {
        if notes.is_empty() {
            return Ok(());
        }
        self.check_in_place()?;
        let path = self.path.clone();
        let e = |e| LedgerError::sql(&path, e);
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(e)?;
        let result = record_notes_tx(&mut self.conn, run, scope, notes).map_err(e);
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(e)?;
        result
    }

    /// The obligations with these ledger ids (the ones that left the file).
    pub fn obligations_by_id(&self, ids: &[u32]) -> Result<Vec<ObligationRow>, LedgerError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT o.id, s.server, s.operation, o.wolkvox_id, o.obligation_id, o.crm_id,
                        o.body_fp, o.created_at, o.updated_at, o.last_seen_run, o.last_seen_at, o.scope
                 FROM obligations o JOIN scopes s ON s.id = o.scope WHERE o.id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(ids.len());
        let mut history: HashMap<i64, seen::SeenHistory> = HashMap::new();
        for id in ids {
            if let Some((mut row, scope, written)) = st
                .query_row([id], obligation_row)
                .optional()
                .map_err(|e| self.err(e))?
            {
                let h = match history.entry(scope) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(self.seen_history(scope)?)
                    }
                };
                row.last_seen_at = h.last_seen(row.id, written);
                out.push(row);
            }
        }
        out.sort_by(|a, b| {
            (&a.wolkvox_id, &a.obligation_id).cmp(&(&b.wolkvox_id, &b.obligation_id))
        });
        Ok(out)
    }

    /// Every known obligation, optionally of one server and/or operation.
    pub fn for_each_obligation(
        &self,
        server: Option<&str>,
        operation: Option<&str>,
        mut f: impl FnMut(ObligationRow) -> std::io::Result<()>,
    ) -> Result<u64, LedgerError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT o.id, s.server, s.operation, o.wolkvox_id, o.obligation_id, o.crm_id,
                        o.body_fp, o.created_at, o.updated_at, o.last_seen_run, o.last_seen_at, o.scope
                 FROM obligations o JOIN scopes s ON s.id = o.scope
                 WHERE (?1 IS NULL OR s.server = ?1) AND (?2 IS NULL OR s.operation = ?2)
                 ORDER BY s.server, s.operation, o.wolkvox_id, o.obligation_id",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st
            .query(params![server, operation])
            .map_err(|e| self.err(e))?;
        let mut n = 0;
        let mut history: Option<(i64, seen::SeenHistory)> = None;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let (mut row, scope, written) = obligation_row(r).map_err(|e| self.err(e))?;
            // Rows come scope by scope: one scope's sightings at a time.
            if history.as_ref().is_none_or(|(s, _)| *s != scope) {
                history = Some((scope, self.seen_history(scope)?));
            }
            if let Some((_, h)) = &history {
                row.last_seen_at = h.last_seen(row.id, written);
            }
            f(row).map_err(|e| LedgerError::new(&self.path, e.to_string()))?;
            n += 1;
        }
        Ok(n)
    }

    /// The sightings recorded by a scope's runs.
    fn seen_history(&self, scope: i64) -> Result<seen::SeenHistory, LedgerError> {
        let mut st = self
            .conn
            .prepare("SELECT id, started_at, seen FROM runs WHERE scope = ?1 AND seen IS NOT NULL")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([scope], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut runs = Vec::new();
        for row in rows {
            let (id, at, bytes) = row.map_err(|e| self.err(e))?;
            // Unreadable sightings only make "last seen" older, never wrong
            // about what was sent.
            if let Some(ids) = seen::IdRanges::decode(&bytes) {
                runs.push((id, at, ids));
            }
        }
        Ok(seen::SeenHistory::new(runs))
    }

    /// The most recent runs, newest first.
    pub fn runs(&self, limit: u32) -> Result<Vec<RunRow>, LedgerError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT r.id, r.started_at, r.ended_at, r.pid, r.host, s.server, s.operation, r.mode,
                        r.input, r.output, r.created, r.updated, r.unchanged, r.invalid, r.failed,
                        r.uncertain, r.not_sent, r.requests, r.exit_code, r.stop_reason
                 FROM runs r JOIN scopes s ON s.id = r.scope ORDER BY r.id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([limit], |r| {
                let statuses = [
                    Status::Created,
                    Status::Updated,
                    Status::Unchanged,
                    Status::Invalid,
                    Status::Failed,
                    Status::Uncertain,
                    Status::NotSent,
                ];
                let mut counts = Vec::new();
                for (i, s) in statuses.into_iter().enumerate() {
                    if let Some(n) = r.get::<_, Option<i64>>(10 + i)? {
                        counts.push((s, n));
                    }
                }
                Ok(RunRow {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    ended_at: r.get(2)?,
                    pid: r.get(3)?,
                    host: r.get(4)?,
                    server: r.get(5)?,
                    operation: r.get(6)?,
                    mode: r.get(7)?,
                    input: r.get(8)?,
                    output: r.get(9)?,
                    counts,
                    requests: r.get(17)?,
                    exit_code: r.get(18)?,
                    stop_reason: r.get(19)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut rows: Vec<RunRow> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        // A run that never ended (killed, or still going) recorded no
        // counts: its rows' outcomes say what it did so far.
        for r in rows.iter_mut().filter(|r| r.ended_at.is_none()) {
            let (counts, requests) = self.outcomes_of(r.id)?;
            r.counts = counts;
            r.requests = Some(requests);
        }
        Ok(rows)
    }

    /// A run's rows by recorded outcome, and the requests they took.
    fn outcomes_of(&self, run: i64) -> Result<(Vec<(Status, i64)>, i64), LedgerError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT status, count(*), coalesce(sum(attempts), 0) FROM sends
                 WHERE run = ?1 AND status IS NOT NULL GROUP BY status",
            )
            .map_err(|e| self.err(e))?;
        let found = st
            .query_map([run], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut counts = Vec::new();
        let mut requests = 0;
        for f in found {
            let (status, n, attempts) = f.map_err(|e| self.err(e))?;
            requests += attempts;
            if let Some(s) = Status::parse(&status) {
                counts.push((s, n));
            }
        }
        counts.sort_by_key(|(s, _)| *s as u8);
        Ok((counts, requests))
    }

    /// The newest run that has not ended, if its process is alive on this
    /// machine: an import going on right now. Its requests in flight are
    /// not in doubt (yet).
    pub fn live_run(&self) -> Result<Option<RunRow>, LedgerError> {
        let newest = self.runs(1)?.into_iter().next();
        Ok(newest.filter(|r| {
            r.ended_at.is_none() && r.host == lock::this_process("").host && process_alive(r.pid)
        }))
    }

    /// Copies the ledger, whole and consistent, to `dest` (SQLite's online
    /// backup: safe while an import writes it). The copy is made beside
    /// `dest` and moved there once complete, as one plain file.
    pub fn backup_to(&self, dest: &Path) -> Result<(), LedgerError> {
        // A copy of a damaged ledger would replace last night's good one.
        self.check_sound()?;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(LedgerError::new(
                    dest,
                    tr!(
                        "ledger-target-no-folder",
                        folder = dir.display().to_string()
                    ),
                ));
            }
        }
        file::replace_whole(dest, |tmp| {
            (|| {
                let mut out = Connection::open(tmp)?;
                {
                    let backup = rusqlite::backup::Backup::new(&self.conn, &mut out)?;
                    backup.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
                }
                out.pragma_update_and_check(None, "journal_mode", "DELETE", |_| Ok(()))?;
                out.close().map_err(|(_, e)| e)
            })()
            .map_err(|e| LedgerError::sql(dest, e))
        })
    }

    /// True when `path` holds a ledger (so a backup may replace it).
    pub fn is_ledger_file(path: &Path) -> bool {
        matches!(Ledger::open_read_only(path), Ok(Some(_)))
    }

    /// SQLite's own integrity check: `Ok(())`, or what it found.
    pub fn integrity(&self) -> Result<Result<(), Vec<String>>, LedgerError> {
        let mut st = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err(e))?;
        let found: Vec<String> = st
            .query_map([], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        if found.len() == 1 && found[0] == "ok" {
            Ok(Ok(()))
        } else {
            Ok(Err(found))
        }
    }

    /// Intents whose outcome is unknown, oldest first.
    pub fn open_intents(&self) -> Result<Vec<OpenIntent>, LedgerError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT d.run, d.row, s.server, s.operation, d.wolkvox_id, d.obligation_id, d.method,
                        d.intent_at, d.status
                 FROM sends d JOIN scopes s ON s.id = d.scope
                 WHERE d.resolved_by IS NULL AND (d.status IS NULL OR d.status = 'uncertain')
                 ORDER BY d.run, d.row",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(OpenIntent {
                    run: r.get(0)?,
                    row: r.get(1)?,
                    server: r.get(2)?,
                    operation: r.get(3)?,
                    wolkvox_id: r.get(4)?,
                    obligation_id: r.get(5)?,
                    method: r.get(6)?,
                    intent_at: r.get(7)?,
                    status: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// True when a process with this id exists on this machine.
fn process_alive(pid: i64) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists and may be
        // signalled; nothing is sent.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Ledger,
    /// An empty file, or an SQLite database with no tables: never a ledger
    /// (new ones are moved into place whole), so it is refused.
    Empty,
}

/// Writes the schema of a new ledger into an empty database.
fn build_schema(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

/// An obligation, its scope, and the run that last wrote or confirmed it
/// (with when), from the columns the obligation queries select.
type ObligationRowParts = (ObligationRow, i64, Option<(i64, i64)>);

fn obligation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObligationRowParts> {
    let written = match (r.get::<_, Option<i64>>(9)?, r.get::<_, Option<i64>>(10)?) {
        (Some(run), Some(at)) => Some((run, at)),
        _ => None,
    };
    let row = ObligationRow {
        id: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
        server: r.get(1)?,
        operation: r.get(2)?,
        wolkvox_id: r.get(3)?,
        obligation_id: r.get(4)?,
        crm_id: r.get(5)?,
        body_fp: r.get::<_, Option<i64>>(6)?.map(|f| f as u64),
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        last_seen_at: None,
    };
    Ok((row, r.get(11)?, written))
}

fn record_notes_tx(
    conn: &mut Connection,
    run: i64,
    scope: i64,
    notes: &[Note],
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let now = now_ms();
    {
        let mut st = NoteStatements::prepare(&tx)?;
        for n in notes {
            st.apply(n, run, scope, now)?;
        }
    }
    tx.commit()
}

/// The statements that record outcomes, prepared once per transaction.
struct NoteStatements<'t> {
    /// The send's outcome, on its intent.
    outcome: rusqlite::CachedStatement<'t>,
    /// An obligation written by this run, with its body's fingerprint.
    written: rusqlite::CachedStatement<'t>,
    /// An obligation a look-up found (its body as the CRM holds it is not
    /// known).
    found: rusqlite::CachedStatement<'t>,
    /// Earlier runs' doubts about the obligation, settled by this answer.
    settle: rusqlite::CachedStatement<'t>,
}

impl<'t> NoteStatements<'t> {
    fn prepare(tx: &'t rusqlite::Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(NoteStatements {
            outcome: tx.prepare_cached(
                "UPDATE sends SET status = ?3, attempts = ?4, http_status = ?5, api_code = ?6,
                   error = ?7, crm_id = ?8, outcome_at = ?9
                 WHERE run = ?1 AND row = ?2",
            )?,
            written: tx.prepare_cached(
                "INSERT INTO obligations (scope, wolkvox_id, obligation_id, crm_id, body_fp,
                                          created_at, updated_at, last_seen_at, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7)
                 ON CONFLICT (scope, wolkvox_id, obligation_id) DO UPDATE SET
                   crm_id = CASE WHEN excluded.crm_id <> '' THEN excluded.crm_id
                                 ELSE obligations.crm_id END,
                   body_fp = excluded.body_fp,
                   updated_at = excluded.updated_at,
                   last_seen_at = excluded.last_seen_at,
                   last_seen_run = excluded.last_seen_run",
            )?,
            found: tx.prepare_cached(
                "INSERT INTO obligations (scope, wolkvox_id, obligation_id, crm_id, body_fp,
                                          created_at, updated_at, last_seen_at, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?5, ?5, ?6)
                 ON CONFLICT (scope, wolkvox_id, obligation_id) DO UPDATE SET
                   crm_id = CASE WHEN excluded.crm_id <> '' THEN excluded.crm_id
                                 ELSE obligations.crm_id END,
                   last_seen_at = excluded.last_seen_at,
                   last_seen_run = excluded.last_seen_run",
            )?,
            settle: tx.prepare_cached(
                "UPDATE sends SET resolved_by = ?1
                 WHERE scope = ?2 AND wolkvox_id = ?3 AND obligation_id = ?4 AND run <> ?1
                   AND resolved_by IS NULL AND (status IS NULL OR status = 'uncertain')",
            )?,
        })
    }

    fn apply(&mut self, n: &Note, run: i64, scope: i64, now: i64) -> rusqlite::Result<()> {
        let o = &n.outcome;
        if n.logged {
            self.outcome.execute(params![
                run,
                o.row as i64,
                o.status.as_str(),
                o.attempts,
                o.http_status,
                o.api_code,
                o.error,
                o.obligation_wolkvox_id,
                now
            ])?;
        }
        if matches!(o.status, Status::Created | Status::Updated) {
            self.written.execute(params![
                scope,
                o.wolkvox_id,
                o.obligation_id,
                o.obligation_wolkvox_id,
                n.body_fp as i64,
                now,
                run
            ])?;
        } else if let Some(id) = &n.found {
            self.found
                .execute(params![scope, o.wolkvox_id, o.obligation_id, id, now, run])?;
        }
        if n.settles_doubt {
            self.settle
                .execute(params![run, scope, o.wolkvox_id, o.obligation_id])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
