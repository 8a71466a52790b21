//! The ledger's file itself: where it really is, how a new one comes into
//! being, and the guard an import holds on it.
//!
//! Every guarantee of the ledger rests on one file, so the file is checked
//! as hard as the data in it:
//! - A path is resolved through symbolic links before the lock is taken, so
//!   two names of one file share one lock.
//! - A new ledger is built beside its final name and moved there complete:
//!   an existing file that holds no ledger was emptied or damaged, never
//!   "new", and is refused rather than silently started again (which would
//!   send every obligation a second time).
//! - An import holds an OS lock on the ledger file itself, besides the lock
//!   file: removing the lock file does not let a second import in.
//! - The import checks, at each commit, that the path still names the file
//!   it has open: a ledger deleted or replaced mid-run stops the run instead
//!   of carrying on into a file nobody will ever read.

use super::LedgerError;
use crate::tr;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The file a ledger path names, with links resolved: through a link (or
/// a chain of them) that points to a ledger not made yet too, so that the
/// ledger is made where the link points and both names share one lock. A
/// folder, or a loop of links, is refused.
pub fn real_path(path: &Path) -> Result<PathBuf, LedgerError> {
    if path.is_dir() {
        return Err(LedgerError::new(path, tr!("ledger-is-folder")));
    }
    crate::outputs::resolve_links(path).map_err(|e| {
        if crate::outputs::is_loop(&e) {
            LedgerError::new(path, tr!("ledger-link-loop"))
        } else {
            LedgerError::io(path, &e)
        }
    })
}

/// True when `target` is the ledger at `ledger` or one of the files beside
/// it, however either is named (relative, through a link, a hard link).
pub fn is_ledgers_own(ledger: &Path, target: &Path) -> bool {
    let real = crate::outputs::canonical(ledger);
    std::iter::once(real.clone())
        .chain(files_beside(&real))
        .any(|f| crate::outputs::same_file(&f, target))
}

/// The files SQLite and the lock keep beside a ledger: its write-ahead log,
/// shared memory, rollback journal and lock file. Never an output.
pub fn files_beside(ledger: &Path) -> [PathBuf; 4] {
    [
        sibling(ledger, "-wal"),
        sibling(ledger, "-shm"),
        sibling(ledger, "-journal"),
        super::lock::LedgerLock::path_for(ledger),
    ]
}

/// A file beside `path` whose name adds `suffix`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Builds a new ledger at `path`, which does not exist: the schema is
/// written into a file beside it, which is then moved to `path` whole. The
/// caller holds the lock file, so no other import creates it meanwhile.
pub(crate) fn create_new(
    path: &Path,
    build: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<()>,
) -> Result<(), LedgerError> {
    // A log beside a ledger that is not there belongs to one that was
    // deleted: SQLite would replay it into the new file. It may hold that
    // ledger's last commits, so it is the operator's to restore or delete.
    for suffix in ["-wal", "-journal"] {
        let left = sibling(path, suffix);
        if left.exists() {
            return Err(LedgerError::new(
                path,
                tr!(
                    "ledger-log-without-ledger",
                    log = left.display().to_string()
                ),
            ));
        }
    }
    remove_unfinished(path);
    replace_whole(path, |tmp| {
        (|| {
            let mut conn = rusqlite::Connection::open(tmp)?;
            build(&mut conn)?;
            conn.close().map_err(|(_, e)| e)
        })()
        .map_err(|e| LedgerError::sql(path, e))
    })
}

/// Puts at `path` the file `fill` writes at the temporary path it is given
/// (beside `path`, named after it and this process), moved there only once
/// complete: a failure or a kill leaves `path` as it was, and no half file
/// under its name. Used for new ledgers, backups and exports.
pub fn replace_whole<T>(
    path: &Path,
    fill: impl FnOnce(&Path) -> Result<T, LedgerError>,
) -> Result<T, LedgerError> {
    // Through a symbolic link, the file it points to is replaced and the
    // link stays a link (a rename would put a plain file in its place).
    let real = crate::outputs::canonical(path);
    let path = real.as_path();
    let tmp = sibling(path, &format!(".new-{}", std::process::id()));
    let remove_tmp = || {
        let _ = std::fs::remove_file(&tmp);
        let _ = std::fs::remove_file(sibling(&tmp, "-journal"));
    };
    remove_tmp();
    let done = fill(&tmp).and_then(|value| {
        std::fs::rename(&tmp, path)
            .map(|()| value)
            .map_err(|e| LedgerError::io(path, &e))
    });
    if done.is_err() {
        remove_tmp();
        return done;
    }
    // The new name must survive a power cut as the file's contents do.
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    done
}

/// Removes what an import killed while it built a new ledger left (the
/// half-built file and its journal). The caller holds the lock file, so no
/// other import is building one now.
fn remove_unfinished(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut prefix = name.to_os_string();
    prefix.push(".new-");
    let prefix = prefix.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A file that `ledger backup` or `ledger export` is about to replace,
/// held as an import holds its ledger, so that no import starts on it
/// while it is replaced.
#[derive(Debug)]
pub struct Replacing {
    _guard: Option<Guard>,
}

/// Holds `target` (through its links) for replacing. `Err`, saying who,
/// when an import is using it as its ledger now: replacing it then would
/// lose what that import records.
pub fn hold_for_replacing(target: &Path) -> Result<Replacing, String> {
    let real = crate::outputs::canonical(target);
    if let Some(holder) = super::lock::holder_now(&real) {
        return Err(holder);
    }
    if !real.is_file() {
        return Ok(Replacing { _guard: None });
    }
    match Guard::take(&real) {
        Ok(Some(guard)) => Ok(Replacing {
            _guard: Some(guard),
        }),
        // Its lock file was removed, or it is held under another name.
        Ok(None) => Err(tr!("lock-details-missing")),
        // Unreadable: writing it will say why.
        Err(_) => Ok(Replacing { _guard: None }),
    }
}

/// The lock file beside `path` (through its links), when there is one: an
/// import has used `path` as its ledger, so it is no mere copy.
pub fn import_lock_beside(path: &Path) -> Option<PathBuf> {
    let lock = super::lock::LedgerLock::path_for(&crate::outputs::canonical(path));
    lock.is_file().then_some(lock)
}

/// Refuses a ledger file that has another name (a hard link): SQLite keeps
/// a database's log under the name it was opened by, so a reader through
/// the other name misses the last commits, and a writer through it keeps a
/// log the first name cannot see.
pub(crate) fn check_single_name(path: &Path) -> Result<(), LedgerError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.is_file() && m.nlink() > 1 {
                return Err(LedgerError::new(path, tr!("ledger-hard-linked")));
            }
        }
    }
    let _ = path;
    Ok(())
}

/// An import's hold on its ledger file: an OS lock on the file itself, and
/// its identity, to tell when the path no longer names it.
#[derive(Debug)]
pub(crate) struct Guard {
    file: File,
    #[cfg(unix)]
    identity: (u64, u64),
}

impl Guard {
    /// Locks the ledger file at `path`; `Ok(None)` when another process
    /// holds it.
    pub(crate) fn take(path: &Path) -> Result<Option<Guard>, LedgerError> {
        let file = File::open(path).map_err(|e| LedgerError::io(path, &e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(e)) => return Err(LedgerError::io(path, &e)),
        }
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt;
            let m = file.metadata().map_err(|e| LedgerError::io(path, &e))?;
            (m.dev(), m.ino())
        };
        Ok(Some(Guard {
            file,
            #[cfg(unix)]
            identity,
        }))
    }

    /// Fails when `path` no longer names the locked file: deleted, or
    /// replaced by another. One `stat` a commit.
    pub(crate) fn still_at(&self, path: &Path) -> Result<(), LedgerError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let same = std::fs::metadata(path)
                .map(|m| (m.dev(), m.ino()) == self.identity)
                .unwrap_or(false);
            if !same {
                return Err(LedgerError::new(path, tr!("ledger-gone")));
            }
        }
        let _ = &self.file;
        Ok(())
    }
}

/// The limit on the size of the files this process may write (`ulimit -f`,
/// a service's `LimitFSIZE=`), in bytes, when one of `files` has reached
/// it: a write cut short by it fails with "File too large", which SQLite
/// reports as a full disk or a plain I/O error.
pub(crate) fn size_limit_reached(files: &[PathBuf]) -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = std::mem::MaybeUninit::<libc::rlimit>::zeroed();
        // SAFETY: `lim` is writable memory of the type getrlimit fills.
        if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, lim.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: getrlimit returned 0, so it filled `lim`.
        let lim = unsafe { lim.assume_init() };
        if lim.rlim_cur == libc::RLIM_INFINITY {
            return None;
        }
        // rlim_t is not u64 everywhere.
        #[allow(clippy::unnecessary_cast)]
        let limit = lim.rlim_cur as u64;
        // A write is cut at the limit; SQLite's next page would not fit.
        files
            .iter()
            .any(|f| std::fs::metadata(f).is_ok_and(|m| m.len() + 64 * 1024 >= limit))
            .then_some(limit)
    }
    #[cfg(not(unix))]
    {
        let _ = files;
        None
    }
}

/// [`size_limit_reached`] for a ledger's own files (through its links):
/// the ledger, its log and journal, and a new one being built.
pub(crate) fn ledger_size_limit_reached(path: &Path) -> Option<u64> {
    let real = crate::outputs::canonical(path);
    let building = sibling(&real, &format!(".new-{}", std::process::id()));
    size_limit_reached(&[
        sibling(&real, "-wal"),
        sibling(&real, "-journal"),
        sibling(&building, "-journal"),
        building,
        real,
    ])
}

/// True when the file system holding `path` has no room left: SQLite
/// reports some full-disk failures (creating its log, its shared memory) as
/// a plain I/O error.
pub(crate) fn no_space_at(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(d) => d,
            None => Path::new("."),
        };
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
        // SAFETY: `c` is a valid NUL-terminated path and `st` is writable
        // memory of the right type for statvfs to fill.
        let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
        if rc != 0 {
            return false;
        }
        // SAFETY: statvfs returned 0, so it filled `st`.
        let st = unsafe { st.assume_init() };
        // Less than a few pages free is full for SQLite's purposes.
        (st.f_bavail as u128) * (st.f_frsize as u128) < 64 * 1024
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_names_of_one_file_resolve_to_one_path() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("l.sqlite");
        std::fs::write(&real, b"").unwrap();
        #[cfg(unix)]
        {
            let alias = dir.path().join("alias.sqlite");
            std::os::unix::fs::symlink(&real, &alias).unwrap();
            assert_eq!(real_path(&alias).unwrap(), real_path(&real).unwrap());
            // A file not made yet, in a folder reached through a link.
            let linked_dir = dir.path().join("linked");
            std::os::unix::fs::symlink(dir.path(), &linked_dir).unwrap();
            assert_eq!(
                real_path(&linked_dir.join("new.sqlite")).unwrap(),
                std::fs::canonicalize(dir.path())
                    .unwrap()
                    .join("new.sqlite")
            );
        }
        let err = real_path(dir.path()).unwrap_err();
        assert!(err.to_string().contains("folder"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn links_to_a_ledger_not_made_yet_are_followed_and_a_loop_is_refused() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        // Relative targets, read from each link's own folder, to a folder
        // not made yet.
        std::fs::create_dir(root.join("links")).unwrap();
        symlink("second.sqlite", root.join("links/first.sqlite")).unwrap();
        symlink("../store/l.sqlite", root.join("links/second.sqlite")).unwrap();
        assert_eq!(
            real_path(&root.join("links/first.sqlite")).unwrap(),
            root.join("store/l.sqlite")
        );
        // An absolute target, reached through a linked folder.
        symlink(root.join("links"), root.join("via")).unwrap();
        symlink(root.join("store/l.sqlite"), root.join("abs.sqlite")).unwrap();
        assert_eq!(
            real_path(&root.join("via/../abs.sqlite")).unwrap(),
            root.join("store/l.sqlite")
        );
        assert_eq!(
            real_path(&root.join("via/first.sqlite")).unwrap(),
            root.join("store/l.sqlite")
        );
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        let err = real_path(&root.join("a")).unwrap_err();
        assert!(err.to_string().contains("loop of symbolic links"), "{err}");
        assert!(crate::outputs::resolve_links(&root.join("a/x")).is_err());
        // What `replace_whole` puts through a link lands where it points.
        std::fs::create_dir(root.join("store")).unwrap();
        replace_whole(&root.join("links/first.sqlite"), |tmp| {
            std::fs::write(tmp, b"x").map_err(|e| LedgerError::io(tmp, &e))
        })
        .unwrap();
        assert!(std::fs::symlink_metadata(root.join("links/first.sqlite"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(root.join("store/l.sqlite")).unwrap(), b"x");
    }

    #[test]
    fn a_guard_excludes_a_second_and_notices_its_file_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        std::fs::write(&path, b"x").unwrap();
        let guard = Guard::take(&path).unwrap().expect("first takes it");
        assert!(Guard::take(&path).unwrap().is_none(), "second is refused");
        guard.still_at(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(guard.still_at(&path).is_err(), "deleted");
        std::fs::write(&path, b"x").unwrap();
        assert!(guard.still_at(&path).is_err(), "replaced by another file");
        drop(guard);
        assert!(Guard::take(&path).unwrap().is_some());
    }
}
