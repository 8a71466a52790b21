//! The duplicate check of a run: for each valid row's (wolkvox_id, id), the
//! first row that had it, exactly.
//!
//! A million rows must cost a few megabytes, so the table in memory keeps
//! only a 48-bit tag of each key ([`TagTable`], 10 bytes a row). Two keys
//! can share a tag, so a tag that matches is checked against the key itself:
//! every first key is written once, with its row, to a file of its own (an
//! unnamed file beside the results, gone when the run ends however it
//! ends), and the table holds where. The file is written in order and read back only when a
//! tag matches, which happens for true duplicates and, about once in ten
//! million rows, for two different keys: the answer is exact, and the memory
//! stays 10 bytes a row.
//!
//! When no temporary file can be made or written (a full or read-only
//! temporary folder), the keys are kept in memory instead, with a warning:
//! the run goes on, exact, at the cost of about the keys' length a row.

use crate::fingerprint_table::TagTable;
use crate::ledger::known::KeyHash;
use crate::tr;
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Keys are written in chunks of this size.
const CHUNK: usize = 1 << 20;

/// Records start on multiples of this, so that a `u32` of them reaches
/// 32 GiB of keys.
const ALIGN: u64 = 8;

/// The first row of every key seen, exactly.
pub(crate) struct FirstRows {
    table: TagTable,
    keys: KeyFile,
}

impl FirstRows {
    /// A check sized for `expected` rows, filled at most to `max_load`
    /// percent, its keys in an unnamed file beside `results` (a real disk,
    /// where the system's temporary folder may be memory itself), else in
    /// the system's temporary folder.
    pub(crate) fn new(expected: usize, max_load: u8, results: &Path) -> FirstRows {
        let near = match results.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let file = tempfile::tempfile_in(near).or_else(|_| tempfile::tempfile());
        FirstRows {
            table: TagTable::with_capacity(expected, max_load),
            keys: KeyFile::new(file),
        }
    }

    /// Starts loading where `key` is looked for (see [`TagTable::prefetch`]).
    pub(crate) fn prefetch(&self, key: KeyHash) {
        self.table.prefetch(key.fingerprint());
    }

    /// The first row that had (`wolkvox_id`, `id`), or `None` (and `row`
    /// noted as its first) when no row before had it. `key` is its hash.
    /// Fails only when a key written earlier cannot be read back.
    pub(crate) fn first_row(
        &mut self,
        key: KeyHash,
        wolkvox_id: &str,
        id: &str,
        row: u64,
    ) -> std::io::Result<Option<u64>> {
        let at = self.keys.next_index();
        let FirstRows { table, keys } = self;
        let mut first = Ok(None);
        let same = |index: u32| match keys.first_row_of(index, wolkvox_id, id) {
            Ok(None) => false,
            found => {
                first = found;
                true
            }
        };
        match table.insert_new(key.fingerprint(), key.tag(), at, same) {
            Ok(()) => {
                keys.push(row, wolkvox_id, id);
                Ok(None)
            }
            Err(_) => first,
        }
    }
}

/// Where the keys are kept: written to a file in chunks, the last chunk
/// still in memory; or all in memory when there is no file.
struct KeyFile {
    file: Option<File>,
    /// Bytes in the file.
    written: u64,
    /// The bytes after them.
    chunk: Vec<u8>,
    /// A record read back from the file.
    scratch: Vec<u8>,
    /// Keys past the last record a `u32` can point to (32 GiB of keys),
    /// which all have [`FAR`] in the table.
    far: HashMap<(Box<str>, Box<str>), u64>,
    /// The index that means "in `far`" ([`FAR`]; lower in tests).
    far_index: u32,
}

/// The index of a key kept in `far`.
const FAR: u32 = u32::MAX;

/// A record's fixed part: its row, and the lengths of the two ids.
const HEAD: usize = 16;

impl KeyFile {
    fn new(file: std::io::Result<File>) -> KeyFile {
        let mut keys = KeyFile {
            file: None,
            written: 0,
            chunk: Vec::with_capacity(CHUNK),
            scratch: Vec::new(),
            far: HashMap::new(),
            far_index: FAR,
        };
        match file {
            Ok(f) => keys.file = Some(f),
            Err(e) => keys.in_memory(&e),
        }
        keys
    }

    /// Where the next record goes, as the table holds it.
    fn next_index(&self) -> u32 {
        let offset = self.written + self.chunk.len() as u64;
        u32::try_from(offset / ALIGN)
            .unwrap_or(FAR)
            .min(self.far_index)
    }

    fn push(&mut self, row: u64, wolkvox_id: &str, id: &str) {
        if self.next_index() == self.far_index {
            self.far.insert((wolkvox_id.into(), id.into()), row);
            return;
        }
        self.chunk.extend_from_slice(&row.to_le_bytes());
        self.chunk
            .extend_from_slice(&(wolkvox_id.len() as u32).to_le_bytes());
        self.chunk
            .extend_from_slice(&(id.len() as u32).to_le_bytes());
        self.chunk.extend_from_slice(wolkvox_id.as_bytes());
        self.chunk.extend_from_slice(id.as_bytes());
        let padded = self.chunk.len().next_multiple_of(ALIGN as usize);
        self.chunk.resize(padded, 0);
        if self.chunk.len() >= CHUNK {
            self.flush();
        }
    }

    /// Moves the chunk to the file, or keeps everything in memory from now
    /// on when the file cannot take it.
    fn flush(&mut self) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        match file.write_all(&self.chunk) {
            Ok(()) => {
                self.written += self.chunk.len() as u64;
                self.chunk.clear();
            }
            Err(e) => {
                // What the file holds comes back in front of the chunk, so
                // the records keep their offsets. Should that fail too, the
                // file stays and the chunk grows until a write succeeds.
                let mut all = vec![0u8; self.written as usize];
                if read_at(file, &mut all, 0).is_ok() {
                    all.extend_from_slice(&self.chunk);
                    self.chunk = all;
                    self.written = 0;
                    self.in_memory(&e);
                }
            }
        }
    }

    /// From now on every key stays in memory. Said once: with no file
    /// left, nothing calls this again.
    fn in_memory(&mut self, why: &std::io::Error) {
        self.file = None;
        tracing::warn!("{}", tr!("duplicate-keys-in-memory", why = why.to_string()));
    }

    /// The row of the record at `index` when its ids are `wolkvox_id` and
    /// `id`, or `None` when it is another key's.
    fn first_row_of(
        &mut self,
        index: u32,
        wolkvox_id: &str,
        id: &str,
    ) -> std::io::Result<Option<u64>> {
        if index == self.far_index {
            let key = (Box::from(wolkvox_id), Box::from(id));
            return Ok(self.far.get(&key).copied());
        }
        let offset = u64::from(index) * ALIGN;
        let record: &[u8] = if offset >= self.written {
            &self.chunk[(offset - self.written) as usize..]
        } else {
            let file = self.file.as_ref().expect("records written are in the file");
            self.scratch.resize(HEAD, 0);
            read_at(file, &mut self.scratch, offset)?;
            let (w, i) = lengths(&self.scratch);
            self.scratch.resize(HEAD + w + i, 0);
            read_at(file, &mut self.scratch[HEAD..], offset + HEAD as u64)?;
            &self.scratch
        };
        let (w, i) = lengths(record);
        let ids = &record[HEAD..HEAD + w + i];
        let row = u64::from_le_bytes(record[..8].try_into().expect("8 bytes"));
        Ok((&ids[..w] == wolkvox_id.as_bytes() && &ids[w..] == id.as_bytes()).then_some(row))
    }
}

/// The lengths of a record's two ids, from its fixed part.
fn lengths(head: &[u8]) -> (usize, usize) {
    let w = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    let i = u32::from_le_bytes(head[12..16].try_into().expect("4 bytes"));
    (w as usize, i as usize)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One hash for every key: every tag matches, so only the keys
    /// themselves tell them apart.
    fn same_hash() -> KeyHash {
        KeyHash::of("same", "hash")
    }

    fn first(rows: &mut FirstRows, key: KeyHash, w: &str, id: &str, row: u64) -> Option<u64> {
        rows.first_row(key, w, id, row).expect("the keys read back")
    }

    #[test]
    fn different_keys_with_equal_hashes_are_told_apart() {
        let mut rows = FirstRows::new(16, 90, &std::env::temp_dir().join("results.csv"));
        assert_eq!(first(&mut rows, same_hash(), "61fa3", "A-1", 2), None);
        assert_eq!(first(&mut rows, same_hash(), "61fa3", "A-2", 3), None);
        assert_eq!(first(&mut rows, same_hash(), "61fa4", "A-1", 4), None);
        assert_eq!(first(&mut rows, same_hash(), "61fa3", "A-2", 5), Some(3));
        assert_eq!(first(&mut rows, same_hash(), "61fa4", "A-1", 6), Some(4));
        assert_eq!(first(&mut rows, same_hash(), "61fa3", "A-1", 7), Some(2));
        // The length of each id is part of the key.
        assert_eq!(first(&mut rows, same_hash(), "61fa", "3A-1", 8), None);
    }

    #[test]
    fn keys_read_back_from_the_file_are_exact() {
        let mut rows = FirstRows::new(1_000, 90, &std::env::temp_dir().join("results.csv"));
        assert!(rows.keys.file.is_some());
        // Enough keys for several chunks to reach the file.
        let n = 3 * CHUNK as u64 / 32;
        for r in 0..n {
            let id = format!("obligación-{r}");
            let key = KeyHash::of("61fa3", &id);
            assert_eq!(first(&mut rows, key, "61fa3", &id, r + 2), None, "{r}");
        }
        assert!(rows.keys.written > 0);
        for r in (0..n).step_by(997) {
            let id = format!("obligación-{r}");
            let key = KeyHash::of("61fa3", &id);
            assert_eq!(first(&mut rows, key, "61fa3", &id, 0), Some(r + 2), "{r}");
            // A key that shares the hash but not the ids is another key.
            assert_eq!(first(&mut rows, key, "61fa3", "otra", n + r), None, "{r}");
        }
    }

    #[test]
    fn without_a_temporary_file_the_keys_stay_in_memory() {
        let mut rows = FirstRows {
            table: TagTable::with_capacity(16, 90),
            keys: KeyFile::new(Err(std::io::Error::other("no space left"))),
        };
        assert!(rows.keys.file.is_none());
        for r in 0..2_000u64 {
            let id = r.to_string();
            assert_eq!(first(&mut rows, same_hash(), "w", &id, r), None);
        }
        assert_eq!(first(&mut rows, same_hash(), "w", "1999", 1), Some(1_999));
        assert_eq!(first(&mut rows, same_hash(), "w", "0", 1), Some(0));
    }

    #[test]
    fn keys_past_what_the_table_can_point_to_are_kept_exactly() {
        let mut rows = FirstRows::new(16, 90, &std::env::temp_dir().join("results.csv"));
        // As if the file already held 32 GiB of keys after three records.
        rows.keys.far_index = 6;
        for r in 0..20u64 {
            let id = format!("A-{r}");
            assert_eq!(first(&mut rows, same_hash(), "61fa3", &id, r), None, "{r}");
        }
        assert_eq!(rows.keys.far.len(), 18);
        for r in 0..20u64 {
            let id = format!("A-{r}");
            assert_eq!(first(&mut rows, same_hash(), "61fa3", &id, 99), Some(r));
        }
        assert_eq!(first(&mut rows, same_hash(), "61fa3", "A-20", 20), None);
    }

    #[test]
    fn a_file_that_refuses_writes_leaves_the_keys_in_memory() {
        // A file opened read-only refuses the first chunk.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, b"").unwrap();
        let mut rows = FirstRows {
            table: TagTable::with_capacity(16, 90),
            keys: KeyFile::new(File::open(&path)),
        };
        let n = 2 * CHUNK as u64 / 24;
        for r in 0..n {
            let id = format!("{r:08}");
            assert_eq!(first(&mut rows, KeyHash::of("w", &id), "w", &id, r), None);
        }
        assert!(rows.keys.file.is_none(), "fell back to memory");
        for r in (0..n).step_by(101) {
            let id = format!("{r:08}");
            assert_eq!(
                first(&mut rows, KeyHash::of("w", &id), "w", &id, 0),
                Some(r)
            );
        }
    }
}
