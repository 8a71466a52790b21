//! What earlier runs did, so that a run can be resumed without sending any
//! obligation twice and without losing one.
//!
//! Beside the results file sits a write-ahead log (`<results>.wal`). Before
//! the first request for a row leaves, a `S` line with a fingerprint of the
//! body is written and synced to disk; when the row ends, a `D` line with its
//! outcome. A process killed at any instant therefore leaves, for each row,
//! one of: no line (never sent), `S` last (in doubt: look it up before any
//! resend), or `D` last (done, or to be sent again if it failed). A torn last
//! line is ignored. The log is plain text with tab-separated fields:
//!
//! ```text
//! R <mapping fingerprint> <mode>
//! S <row> <P|U> <body fingerprint>
//! D <row> <status> <attempts> <obligation wolkvox_id>
//! ```

use crate::crm::client::Method;
use crate::results::{for_each_result, OutputError, Status};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// FNV-1a, 64 bits: stable across builds and platforms (a resume may run on
/// a newer binary than the run it continues), unlike std's hasher.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The log's path for a results file.
pub fn wal_path(results: &Path) -> PathBuf {
    let mut name = results
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".wal");
    results.with_file_name(name)
}

/// The write-ahead log, shared by the workers (intents) and the collector
/// (outcomes).
pub struct Wal {
    path: PathBuf,
    file: Mutex<File>,
    /// Sync each intent to disk before the request leaves (survives power
    /// loss, not only a killed process).
    sync: bool,
}

impl Wal {
    /// Starts a fresh log, or continues one (`append`), after its last
    /// complete line.
    pub fn open(
        path: &Path,
        append: bool,
        mapping_fp: u64,
        mode: &str,
        sync: bool,
    ) -> Result<Wal, OutputError> {
        let mut file = if append && path.exists() {
            let keep = complete_prefix_len(path)?;
            let mut f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| OutputError::new(path, e))?;
            f.set_len(keep).map_err(|e| OutputError::new(path, e))?;
            f.seek(std::io::SeekFrom::End(0))
                .map_err(|e| OutputError::new(path, e))?;
            f
        } else {
            File::create(path).map_err(|e| OutputError::new(path, e))?
        };
        writeln!(file, "R\t{mapping_fp:016x}\t{mode}").map_err(|e| OutputError::new(path, e))?;
        file.sync_data().map_err(|e| OutputError::new(path, e))?;
        Ok(Wal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            sync,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records, durably, that requests for these rows may leave: one write
    /// and one sync for the batch. Each entry is (row, method, body
    /// fingerprint).
    pub fn intend_many(&self, intents: &[(u64, Method, u64)]) -> Result<(), OutputError> {
        let mut text = String::with_capacity(intents.len() * 32);
        for (row, method, fp) in intents {
            let m = match method {
                Method::Post => 'P',
                Method::Put => 'U',
            };
            text.push_str(&format!("S\t{row}\t{m}\t{fp:016x}\n"));
        }
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(text.as_bytes())
            .map_err(|e| OutputError::new(&self.path, e))?;
        if self.sync {
            f.sync_data().map_err(|e| OutputError::new(&self.path, e))?;
        }
        Ok(())
    }

    /// Appends lines built with [`push_done_line`], in one write.
    pub fn append(&self, text: &str) -> Result<(), OutputError> {
        if text.is_empty() {
            return Ok(());
        }
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(text.as_bytes())
            .map_err(|e| OutputError::new(&self.path, e))
    }

    pub fn sync(&self) -> Result<(), OutputError> {
        let f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.sync_data().map_err(|e| OutputError::new(&self.path, e))
    }
}

/// Adds the log line saying how a sent row ended to `text`.
pub fn push_done_line(
    text: &mut String,
    row: u64,
    status: Status,
    attempts: u32,
    obligation_wolkvox_id: &str,
) {
    use std::fmt::Write as _;
    let id: String = obligation_wolkvox_id
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let _ = writeln!(text, "D\t{row}\t{}\t{attempts}\t{id}", status.as_str());
}

fn complete_prefix_len(path: &Path) -> Result<u64, OutputError> {
    let data = std::fs::read(path).map_err(|e| OutputError::new(path, e))?;
    Ok(data
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i as u64 + 1))
}

/// What is known of one row from earlier runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    /// Never sent, or sent and known not to have gone in (failed, not sent).
    Fresh,
    /// A request may have gone in: look it up before any resend.
    InDoubt,
    /// Created or updated.
    Done {
        status: Status,
        attempts: u32,
        obligation_wolkvox_id: String,
        /// The body that was sent, when the log knows it.
        sent: Option<(Method, u64)>,
    },
}

/// Per-row state, kept compact: a million-row resume holds one of these per
/// row that was ever sent.
#[derive(Debug, Clone, Copy)]
struct RowState {
    fp: u64,
    method: Option<Method>,
    /// Last line: 0 intent, else the status of the outcome.
    last: Option<Status>,
    attempts: u32,
    /// Range of the returned id in `History::ids`.
    id_start: u32,
    id_len: u16,
}

/// Everything earlier runs left behind for one results file.
pub struct History {
    rows: HashMap<u64, RowState>,
    ids: String,
    /// Fingerprint of the mapping of the last run, if the log recorded it.
    pub mapping_fp: Option<u64>,
    /// Whether the log (with body fingerprints) was there, or only results.
    pub from_log: bool,
}

impl History {
    /// Loads the log if there is one, else the results file; `None` when
    /// neither exists.
    pub fn load(results: &Path) -> Result<Option<History>, OutputError> {
        let wal = wal_path(results);
        if wal.exists() {
            return History::from_wal(&wal).map(Some);
        }
        if results.exists() {
            return History::from_results(results).map(Some);
        }
        Ok(None)
    }

    fn empty(from_log: bool) -> History {
        History {
            rows: HashMap::new(),
            ids: String::new(),
            mapping_fp: None,
            from_log,
        }
    }

    fn from_wal(path: &Path) -> Result<History, OutputError> {
        let f = File::open(path).map_err(|e| OutputError::new(path, e))?;
        let mut h = History::empty(true);
        let mut reader = BufReader::new(f);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| OutputError::new(path, e))?;
            if n == 0 || !line.ends_with('\n') {
                // End, or a line torn by a crash: nothing after it is trusted.
                break;
            }
            let parts: Vec<&str> = line.trim_end_matches('\n').split('\t').collect();
            match parts.as_slice() {
                ["R", fp, ..] => h.mapping_fp = u64::from_str_radix(fp, 16).ok(),
                ["S", row, m, fp] => {
                    let (Ok(row), Ok(fp)) = (row.parse::<u64>(), u64::from_str_radix(fp, 16))
                    else {
                        continue;
                    };
                    let method = if *m == "U" { Method::Put } else { Method::Post };
                    let e = h.rows.entry(row).or_insert(RowState {
                        fp,
                        method: Some(method),
                        last: None,
                        attempts: 0,
                        id_start: 0,
                        id_len: 0,
                    });
                    e.fp = fp;
                    e.method = Some(method);
                    e.last = None;
                }
                ["D", row, status, attempts, id] => {
                    let Ok(row) = row.parse::<u64>() else {
                        continue;
                    };
                    let Some(status) = Status::parse(status) else {
                        continue;
                    };
                    let attempts = attempts.parse().unwrap_or(0);
                    let (start, len) = h.push_id(id);
                    if let Some(e) = h.rows.get_mut(&row) {
                        e.last = Some(status);
                        e.attempts = e.attempts.saturating_add(attempts);
                        e.id_start = start;
                        e.id_len = len;
                    }
                }
                _ => {}
            }
        }
        Ok(h)
    }

    /// Without a log, the results file still says which rows went in; body
    /// fingerprints are unknown, so changes to those rows cannot be checked.
    fn from_results(path: &Path) -> Result<History, OutputError> {
        let mut h = History::empty(false);
        for_each_result(path, |o| {
            if o.attempts == 0 && !matches!(o.status, Status::Created | Status::Updated) {
                return;
            }
            let (start, len) = h.push_id(&o.obligation_wolkvox_id);
            h.rows.insert(
                o.row,
                RowState {
                    fp: 0,
                    method: None,
                    last: Some(o.status),
                    attempts: o.attempts,
                    id_start: start,
                    id_len: len,
                },
            );
        })?;
        Ok(h)
    }

    fn push_id(&mut self, id: &str) -> (u32, u16) {
        let id: String = id.chars().take(200).collect();
        let start = self.ids.len() as u32;
        self.ids.push_str(&id);
        (start, id.len() as u16)
    }

    /// True when any row was ever sent to the CRM.
    pub fn any_sent(&self) -> bool {
        !self.rows.is_empty()
    }

    /// Rows with any request recorded.
    pub fn sent_rows(&self) -> usize {
        self.rows.len()
    }

    /// Rows whose obligation went in.
    pub fn done_rows(&self) -> usize {
        self.rows
            .values()
            .filter(|s| matches!(s.last, Some(Status::Created | Status::Updated)))
            .count()
    }

    pub fn prior(&self, row: u64) -> Prior {
        let Some(s) = self.rows.get(&row) else {
            return Prior::Fresh;
        };
        match s.last {
            None | Some(Status::Uncertain) => Prior::InDoubt,
            Some(status @ (Status::Created | Status::Updated)) => Prior::Done {
                status,
                attempts: s.attempts,
                obligation_wolkvox_id: self.ids
                    [s.id_start as usize..s.id_start as usize + s.id_len as usize]
                    .to_string(),
                sent: s.method.map(|m| (m, s.fp)),
            },
            Some(_) => Prior::Fresh,
        }
    }
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable() {
        // Fixed values: a change here would break resuming older runs.
        assert_eq!(fingerprint(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fingerprint(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(
            fingerprint(b"{\"id\":\"1\"}"),
            fingerprint(b"{\"id\":\"2\"}")
        );
    }

    #[test]
    fn replay_tells_done_in_doubt_and_fresh_apart() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        let wal = wal_path(&results);
        {
            let w = Wal::open(&wal, false, 7, "insert", false).unwrap();
            let done = |row, status, attempts, id: &str| {
                let mut line = String::new();
                push_done_line(&mut line, row, status, attempts, id);
                w.append(&line).unwrap();
            };
            w.intend_many(&[(2, Method::Post, 0xaa)]).unwrap();
            done(2, Status::Created, 1, "9cb");
            w.intend_many(&[(3, Method::Post, 0xbb), (4, Method::Post, 0xcc)])
                .unwrap();
            done(4, Status::Failed, 1, "");
            w.intend_many(&[(5, Method::Post, 0xdd)]).unwrap();
            done(5, Status::Uncertain, 2, "");
        }
        // A torn line at the end is ignored.
        let mut f = OpenOptions::new().append(true).open(&wal).unwrap();
        f.write_all(b"D\t3\tcrea").unwrap();
        drop(f);
        let h = History::load(&results).unwrap().unwrap();
        assert!(h.from_log);
        assert_eq!(h.mapping_fp, Some(7));
        assert_eq!(
            h.prior(2),
            Prior::Done {
                status: Status::Created,
                attempts: 1,
                obligation_wolkvox_id: "9cb".into(),
                sent: Some((Method::Post, 0xaa))
            }
        );
        assert_eq!(h.prior(3), Prior::InDoubt);
        assert_eq!(h.prior(4), Prior::Fresh);
        assert_eq!(h.prior(5), Prior::InDoubt);
        assert_eq!(h.prior(6), Prior::Fresh);
        assert_eq!(h.done_rows(), 1);

        // Appending after the torn line keeps the log readable.
        let w = Wal::open(&wal, true, 7, "insert", false).unwrap();
        let mut line = String::new();
        push_done_line(&mut line, 3, Status::Created, 2, "10cb");
        w.append(&line).unwrap();
        drop(w);
        let h = History::load(&results).unwrap().unwrap();
        assert!(matches!(h.prior(3), Prior::Done { .. }));
    }
}
