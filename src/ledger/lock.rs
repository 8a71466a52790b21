//! One import at a time per ledger.
//!
//! The lock is an OS file lock on `LEDGER.lock`, so the kernel releases it
//! when its holder dies, however it dies: a lock left by a killed process
//! never blocks the next run. The holder writes who it is into the file so a
//! refused run can say which run holds the ledger.

use crate::tr;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Who holds a ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    /// RFC 3339, UTC.
    pub started: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&tr!(
            "lock-holder",
            pid = self.pid,
            host = self.host.as_str(),
            started = self.started.as_str()
        ))
    }
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another import holds it.
    Held { path: PathBuf, holder: String },
    /// The lock file cannot be made or locked.
    Io { path: PathBuf, message: String },
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&match self {
            LockError::Held { path, holder } => tr!(
                "lock-held",
                path = path.display().to_string(),
                holder = holder.as_str()
            ),
            LockError::Io { path, message } => tr!(
                "lock-io",
                path = path.display().to_string(),
                why = message.as_str()
            ),
        })
    }
}

impl std::error::Error for LockError {}

/// The held lock; dropping it releases the ledger.
#[derive(Debug)]
pub struct LedgerLock {
    _file: File,
}

impl LedgerLock {
    /// The lock file of a ledger.
    pub fn path_for(ledger: &Path) -> PathBuf {
        let mut name = ledger
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        ledger.with_file_name(name)
    }

    /// Takes the lock at once or says who holds it; never waits.
    pub fn acquire(ledger: &Path, me: &Holder) -> Result<LedgerLock, LockError> {
        let path = LedgerLock::path_for(ledger);
        let io = |e: std::io::Error| LockError::Io {
            path: path.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    holder: read_holder(&mut file),
                    path: ledger.to_path_buf(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let mut line = serde_json::to_string(me).map_err(|e| io(std::io::Error::other(e)))?;
        line.push('\n');
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(LedgerLock { _file: file })
    }
}

/// Who holds `ledger`'s lock now, when an import does; nothing is created,
/// and a lock nobody holds is left as it was.
pub(crate) fn holder_now(ledger: &Path) -> Option<String> {
    let mut file = File::open(LedgerLock::path_for(ledger)).ok()?;
    match file.try_lock() {
        Err(std::fs::TryLockError::WouldBlock) => Some(read_holder(&mut file)),
        _ => None,
    }
}

/// The holder's line; it may not be written yet when both runs start at the
/// same instant, so wait a moment for it.
fn read_holder(file: &mut File) -> String {
    for _ in 0..20 {
        let mut text = String::new();
        if file.seek(SeekFrom::Start(0)).is_ok() && file.read_to_string(&mut text).is_ok() {
            if let Some(line) = text.lines().next() {
                if let Ok(h) = serde_json::from_str::<Holder>(line) {
                    return h.to_string();
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    tr!("lock-details-missing")
}

/// This process, as a lock holder.
pub fn this_process(started: &str) -> Holder {
    Holder {
        pid: std::process::id(),
        host: hostname(),
        started: started.to_string(),
    }
}

fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its whole length, and gethostname
        // writes at most that many bytes.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            if let Ok(s) = std::str::from_utf8(&buf[..end]) {
                if !s.is_empty() {
                    return s.to_string();
                }
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| tr!("this-machine"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_details_then_let_in() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("l.sqlite");
        let me = Holder {
            pid: 42,
            host: "nightly-box".into(),
            started: "2026-11-29T02:00:00Z".into(),
        };
        let first = LedgerLock::acquire(&ledger, &me).unwrap();
        let err = LedgerLock::acquire(&ledger, &this_process("now")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("pid 42 on nightly-box"), "{text}");
        assert!(text.contains("2026-11-29T02:00:00Z"), "{text}");
        drop(first);
        LedgerLock::acquire(&ledger, &this_process("later")).unwrap();
    }
}
