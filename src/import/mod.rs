//! `wolkvox-import import`: read, map, validate and (unless a dry run) send.
//!
//! [`rows::RowFeed`] turns the input into a stream of validated rows; the dry
//! run drains it into the results file; [`send`] feeds it to the workers.

pub mod history;
pub mod rows;
pub mod send;
pub mod summary;

use crate::mapping::{BodyShape, Mapping, Plan};
use crate::results::{Journal, OutputError, PayloadWriter, RejectsWriter, Status};
use crate::source::{Source, SourceError, SourceInfo};
use rows::{Item, RowFeed};
use std::path::{Path, PathBuf};
use std::time::Instant;
pub use summary::Summary;

/// Exit codes, as the contract fixes them.
pub mod exit {
    /// Every row ended well.
    pub const OK: i32 = 0;
    /// The run finished but some rows did not end well.
    pub const SOME_ROWS_FAILED: i32 = 1;
    /// Nothing was sent: the command, mapping or input is unusable.
    pub const UNUSABLE: i32 = 2;
    /// The run was stopped (authentication, quota, repeated failures).
    pub const STOPPED: i32 = 3;
    /// Interrupted by Ctrl-C or SIGTERM after draining.
    pub const INTERRUPTED: i32 = 130;
}

/// A failure of the run as a whole (as opposed to a row's failure, which goes
/// in the results file and lets the run go on).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The command, the mapping or the input cannot be used; nothing was sent.
    #[error("{0}")]
    Unusable(String),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Unusable(_) => exit::UNUSABLE,
        }
    }
}

impl From<SourceError> for RunError {
    fn from(e: SourceError) -> Self {
        RunError::Unusable(e.0)
    }
}

impl From<crate::mapping::MappingError> for RunError {
    fn from(e: crate::mapping::MappingError) -> Self {
        RunError::Unusable(e.0)
    }
}

impl From<OutputError> for RunError {
    fn from(e: OutputError) -> Self {
        RunError::Unusable(e.to_string())
    }
}

/// What to send and how, for the network part of a run.
#[derive(Debug, Clone)]
pub struct SendSettings {
    pub connection: crate::crm::Connection,
    pub tuning: send::Tuning,
    pub mode: send::Mode,
    /// Continue the run whose results are at `--output`.
    pub resume: bool,
    /// Start over even though the results file records rows sent.
    pub force: bool,
    /// Resume even though rows already done would now get other bodies.
    pub allow_changed_input: bool,
    /// Read the token's quota before sending.
    pub preflight: bool,
    /// At most this many requests in this run.
    pub max_requests: Option<u64>,
    /// Sync each write intent to disk before the request leaves.
    pub wal_sync: bool,
}

/// Everything an import needs, validated from the command line and mapping.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub input: PathBuf,
    pub mapping: Mapping,
    pub operation: String,
    pub output: PathBuf,
    pub payloads: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
    /// `None` for a dry run.
    pub send: Option<SendSettings>,
    pub progress: bool,
    /// Fingerprint of the mapping file's text, recorded in the log so a
    /// resume can say that the mapping changed.
    pub mapping_fingerprint: u64,
    /// Replace a results file that records rows sent (`--force`).
    pub force: bool,
}

/// The default results path: the input with its extension replaced.
pub fn default_output(input: &Path) -> PathBuf {
    input.with_extension("results.csv")
}

/// The open input and its plan, checked before any row is read.
pub(crate) struct Prepared {
    pub source: Source,
    pub plan: Plan,
}

pub(crate) fn prepare(settings: &ImportSettings, shape: BodyShape) -> Result<Prepared, RunError> {
    let source = Source::open(&settings.input, &settings.mapping.source)?;
    let lookups = crate::mapping::lookup::Lookups::load(&settings.mapping)?;
    let plan = Plan::new_with_lookups(
        &settings.mapping,
        &lookups,
        source.header(),
        &settings.operation,
        shape,
    )
    .map_err(|e| {
        let mapping = match &settings.mapping.origin {
            Some(p) => format!("the mapping {}", p.display()),
            None => "the mapping".to_string(),
        };
        RunError::Unusable(format!(
            "{}: {mapping} does not fit the file's header (row {}):\n{}",
            settings.input.display(),
            source.header().row,
            e.0
        ))
    })?;
    Ok(Prepared { source, plan })
}

/// Opens `--rejects` in a shape the same mapping reads back.
pub(crate) fn open_rejects(
    settings: &ImportSettings,
    source: &Source,
) -> Result<Option<RejectsWriter>, RunError> {
    let Some(path) = &settings.rejects else {
        return Ok(None);
    };
    let m = &settings.mapping;
    let (delimiter, bom) = match source.info() {
        SourceInfo::Csv(c) => (c.delimiter, c.bom.is_some()),
        SourceInfo::Sheet(_) => (m.source.delimiter.unwrap_or(b','), true),
    };
    let encoding = match source.info() {
        SourceInfo::Csv(c) if c.bom.is_some() => encoding_rs::UTF_8,
        _ => m.source.encoding.unwrap_or(encoding_rs::UTF_8),
    };
    let blank = m.source.header_row.map_or(0, |n| n.saturating_sub(1));
    Ok(Some(RejectsWriter::create(
        path,
        &source.header().names,
        delimiter,
        encoding,
        bom,
        blank,
    )?))
}

/// Runs an import: a dry run when `settings.send` is `None`.
pub fn run(settings: &ImportSettings) -> Result<Summary, RunError> {
    match &settings.send {
        None => dry_run(settings),
        Some(send) => send::run(settings, send),
    }
}

/// What earlier runs left at `--output`. Without `--resume`, a results file
/// that records rows sent to the CRM is never overwritten (unless `--force`):
/// it is the only record of which obligations exist.
pub(crate) fn load_history(
    settings: &ImportSettings,
    resume: bool,
    force: bool,
) -> Result<Option<history::History>, RunError> {
    let h = match history::History::load(&settings.output) {
        Ok(h) => h,
        Err(e) if resume => return Err(e.into()),
        // Not our results file (or unreadable): nothing sent is recorded in it.
        Err(_) => None,
    };
    match h {
        Some(h) if h.any_sent() && resume => Ok(Some(h)),
        Some(h) if h.any_sent() && !force => Err(RunError::Unusable(format!(
            "{} records {} rows already sent to the CRM; pass --resume to continue that run,              choose another --output, or pass --force to start over (which may create duplicates)",
            settings.output.display(),
            h.sent_rows()
        ))),
        Some(_) if force => {
            let wal = history::wal_path(&settings.output);
            if wal.exists() {
                std::fs::remove_file(&wal).map_err(|e| RunError::Unusable(format!("{}: {e}", wal.display())))?;
            }
            Ok(None)
        }
        _ => Ok(None),
    }
}

fn dry_run(settings: &ImportSettings) -> Result<Summary, RunError> {
    let started = Instant::now();
    load_history(settings, false, settings.force)?;
    let Prepared { source, plan } = prepare(settings, BodyShape::Full)?;
    let mut rejects = open_rejects(settings, &source)?;
    let mut journal = Journal::create(&settings.output, false)?;
    let mut payloads = settings
        .payloads
        .as_deref()
        .map(PayloadWriter::create)
        .transpose()?;
    let mut summary = Summary::new(true);
    let mut feed = RowFeed::new(source, plan, &settings.mapping, rejects.is_some());
    while let Some(item) = feed.next_item()? {
        match item {
            Item::Valid(v) => {
                if let Some(p) = payloads.as_mut() {
                    p.write(v.row, &v.mapped.body)?;
                }
                let outcome = crate::results::Outcome::with_ids(
                    v.row,
                    Status::Valid,
                    v.mapped.wolkvox_id,
                    v.mapped.id,
                );
                summary.count(&outcome);
                journal.record(&outcome)?;
            }
            Item::Invalid { outcome, cells } => {
                summary.count(&outcome);
                journal.record(&outcome)?;
                if let (Some(r), Some(cells)) = (rejects.as_mut(), cells) {
                    r.write(&cells, &outcome.error)?;
                }
            }
        }
    }
    journal.finish()?;
    if let Some(p) = payloads {
        p.finish()?;
    }
    if let Some(r) = rejects {
        r.finish()?;
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}
