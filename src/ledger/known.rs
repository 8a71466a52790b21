//! What the ledger knows of a scope's obligations, held in memory for one run
//! so that each row is judged with one hash probe instead of a query.
//!
//! A million obligations must fit in a few tens of megabytes, so this is a
//! [`FingerprintTable`] of fixed-size entries, with the CRM's ids in one
//! shared string arena. Keys are 96 bits of an xxh3-128 hash of the
//! obligation's identity: 64 bits place the slot, 32 more are compared on a
//! hit, so two different obligations are taken for one only with odds near
//! 2^-96 per pair.

use crate::fingerprint_table::FingerprintTable;
use xxhash_rust::xxh3::xxh3_128;

/// The identity of an obligation within a scope, hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash {
    slot: u64,
    check: u32,
    /// 16 more bits, for [`KeyHash::tag`].
    more: u16,
}

impl KeyHash {
    /// Hashes (record `wolkvox_id`, obligation `id`). The lengths go in first
    /// so that ("ab", "c") and ("a", "bc") differ.
    pub fn of(wolkvox_id: &str, id: &str) -> KeyHash {
        // Hashed once per row: on the stack when the ids are of a usual size.
        let len = 16 + wolkvox_id.len() + id.len();
        let mut stack = [0u8; 256];
        let mut heap = Vec::new();
        let buf: &mut [u8] = if len <= stack.len() {
            &mut stack[..len]
        } else {
            heap.resize(len, 0);
            &mut heap
        };
        let (w_len, rest) = buf.split_at_mut(8);
        w_len.copy_from_slice(&(wolkvox_id.len() as u64).to_le_bytes());
        let (w, rest) = rest.split_at_mut(wolkvox_id.len());
        w.copy_from_slice(wolkvox_id.as_bytes());
        let (i_len, i) = rest.split_at_mut(8);
        i_len.copy_from_slice(&(id.len() as u64).to_le_bytes());
        i.copy_from_slice(id.as_bytes());
        let h = xxh3_128(buf);
        KeyHash {
            // Zero marks an empty slot.
            slot: (h as u64).max(1),
            check: (h >> 64) as u32,
            more: (h >> 96) as u16,
        }
    }

    /// 64 bits of the hash, never zero: a key for a [`FingerprintTable`].
    pub fn fingerprint(self) -> u64 {
        self.slot
    }

    /// 48 other bits of the hash, never zero: a tag for a
    /// [`crate::fingerprint_table::TagTable`] placed by
    /// [`KeyHash::fingerprint`].
    pub fn tag(self) -> u64 {
        ((u64::from(self.check) << 16) | u64::from(self.more)).max(1)
    }
}

/// One known obligation.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    check: u32,
    /// The obligation's row id in the ledger.
    db_id: u32,
    /// Fingerprint of the full body the CRM last accepted; see `HAS_FP`.
    fp: u64,
    crm_start: u32,
    crm_len: u8,
    /// Bit 0: the fingerprint is known. Bit 1: seen in this run's file.
    flags: u8,
}

const HAS_FP: u8 = 1;
const SEEN: u8 = 2;

/// A known obligation, as a row needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownObligation<'a> {
    pub db_id: u32,
    /// `None` when the ledger learnt of the obligation by a look-up and does
    /// not know what the CRM holds.
    pub fp: Option<u64>,
    /// The CRM's id of the obligation (`obligation_wolkvox_id`).
    pub crm_id: &'a str,
}

/// Obligations held back by a [`KnownLoader`] while their slots load.
const LOAD_AHEAD: usize = 16;

/// Adds obligations to a [`Known`] in bulk; see [`Known::loader`].
pub struct KnownLoader {
    known: Known,
    pending: Vec<(KeyHash, Entry)>,
}

impl KnownLoader {
    /// [`Known::insert`], in effect by [`KnownLoader::finish`].
    pub fn insert(&mut self, k: KeyHash, db_id: u32, fp: Option<u64>, crm_id: &str) {
        if self.pending.len() == LOAD_AHEAD {
            self.settle();
        }
        let entry = self.known.entry(k, db_id, fp, crm_id);
        self.known.table.prefetch(k.slot);
        self.pending.push((k, entry));
    }

    fn settle(&mut self) {
        for (k, entry) in self.pending.drain(..) {
            self.known
                .table
                .insert(k.slot, |e| e.check == k.check, entry);
        }
    }

    pub fn finish(mut self) -> Known {
        self.settle();
        self.known
    }
}

/// The known obligations of one scope.
pub struct Known {
    table: FingerprintTable<Entry>,
    crm_ids: String,
}

impl Known {
    /// An empty table sized for `capacity` obligations whose CRM ids take
    /// `id_bytes` in all.
    pub fn with_capacity(capacity: usize, id_bytes: usize) -> Known {
        Known {
            // A load factor of 0.8 keeps linear probes short.
            table: FingerprintTable::with_capacity(capacity, 80),
            crm_ids: String::with_capacity(id_bytes),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Bytes held, for the documentation of memory use.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes() + self.crm_ids.capacity()
    }

    /// Adds an obligation (a later insert of the same key replaces it).
    pub fn insert(&mut self, k: KeyHash, db_id: u32, fp: Option<u64>, crm_id: &str) {
        let entry = self.entry(k, db_id, fp, crm_id);
        self.table.insert(k.slot, |e| e.check == k.check, entry);
    }

    /// The entry for an obligation, its CRM id added to the arena.
    fn entry(&mut self, k: KeyHash, db_id: u32, fp: Option<u64>, crm_id: &str) -> Entry {
        // Ids are validated at most 64 bytes long; a longer one from an older
        // ledger is cut at a character boundary rather than refused.
        let mut end = crm_id.len().min(u8::MAX as usize);
        while !crm_id.is_char_boundary(end) {
            end -= 1;
        }
        let crm_start = self.crm_ids.len() as u32;
        self.crm_ids.push_str(&crm_id[..end]);
        Entry {
            check: k.check,
            db_id,
            fp: fp.unwrap_or(0),
            crm_start,
            crm_len: end as u8,
            flags: if fp.is_some() { HAS_FP } else { 0 },
        }
    }

    /// Fills the table from many obligations, as the ledger loads them: a
    /// few are held back while their slots load, since each lands somewhere
    /// else in a table larger than the caches.
    pub fn loader(self) -> KnownLoader {
        KnownLoader {
            known: self,
            pending: Vec::with_capacity(LOAD_AHEAD),
        }
    }

    /// The obligation with this key, if known.
    pub fn get(&self, k: KeyHash) -> Option<KnownObligation<'_>> {
        let e = self.table.get(k.slot, |e| e.check == k.check)?;
        let start = e.crm_start as usize;
        Some(KnownObligation {
            db_id: e.db_id,
            fp: (e.flags & HAS_FP != 0).then_some(e.fp),
            crm_id: &self.crm_ids[start..start + e.crm_len as usize],
        })
    }

    /// Marks the obligation as listed in this run's file; returns its ledger
    /// id when it is known.
    pub fn mark_seen(&mut self, k: KeyHash) -> Option<u32> {
        let e = self.table.get_mut(k.slot, |e| e.check == k.check)?;
        e.flags |= SEEN;
        Some(e.db_id)
    }

    /// Ledger ids of the obligations not marked seen.
    pub fn unseen(&self) -> Vec<u32> {
        self.ids_where(0)
    }

    /// Ledger ids of the obligations marked seen.
    pub fn seen(&self) -> Vec<u32> {
        self.ids_where(SEEN)
    }

    fn ids_where(&self, seen: u8) -> Vec<u32> {
        self.table
            .values()
            .filter(|e| e.flags & SEEN == seen)
            .map(|e| e.db_id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let mut k = Known::with_capacity(4, 0);
        for i in 0..1000u32 {
            k.insert(
                KeyHash::of("R1", &format!("{i:06}")),
                i,
                (i % 3 != 0).then_some(u64::from(i) * 7),
                &format!("{i:x}cb"),
            );
        }
        assert_eq!(k.len(), 1000);
        for i in 0..1000u32 {
            let o = k.get(KeyHash::of("R1", &format!("{i:06}"))).unwrap();
            assert_eq!(o.db_id, i);
            assert_eq!(o.crm_id, format!("{i:x}cb"));
            assert_eq!(o.fp, (i % 3 != 0).then_some(u64::from(i) * 7));
        }
        assert!(k.get(KeyHash::of("R2", "000001")).is_none());
        assert!(k.get(KeyHash::of("R1", "1000000")).is_none());
    }

    #[test]
    fn identities_do_not_run_together() {
        assert_ne!(KeyHash::of("ab", "c"), KeyHash::of("a", "bc"));
        assert_ne!(KeyHash::of("", "x"), KeyHash::of("x", ""));
    }

    #[test]
    fn long_identities_hash_as_short_ones_do() {
        // Past the stack buffer the same bytes are hashed from the heap.
        let long = "9".repeat(300);
        let mut buf = Vec::new();
        buf.extend_from_slice(&(long.len() as u64).to_le_bytes());
        buf.extend_from_slice(long.as_bytes());
        buf.extend_from_slice(&2u64.to_le_bytes());
        buf.extend_from_slice(b"id");
        let h = xxh3_128(&buf);
        assert_eq!(KeyHash::of(&long, "id").slot, (h as u64).max(1));
        assert_eq!(KeyHash::of(&long, "id").check, (h >> 64) as u32);
        assert_ne!(KeyHash::of(&long, "id"), KeyHash::of(&long[1..], "id"));
    }

    #[test]
    fn a_second_insert_replaces_and_seen_marks_are_counted() {
        let mut k = Known::with_capacity(10, 0);
        let a = KeyHash::of("R", "1");
        let b = KeyHash::of("R", "2");
        k.insert(a, 1, None, "x");
        k.insert(a, 1, Some(9), "y");
        k.insert(b, 2, Some(3), "z");
        assert_eq!(k.len(), 2);
        assert_eq!(k.get(a).unwrap().fp, Some(9));
        assert_eq!(k.get(a).unwrap().crm_id, "y");
        assert_eq!(k.mark_seen(a), Some(1));
        assert_eq!(k.mark_seen(KeyHash::of("R", "3")), None);
        assert_eq!(k.unseen(), vec![2]);
        assert_eq!(k.seen(), vec![1]);
    }

    #[test]
    fn a_loader_holds_what_inserts_hold() {
        let mut one_by_one = Known::with_capacity(10, 0);
        let mut loader = Known::with_capacity(10, 0).loader();
        for i in 0..1000u32 {
            // Every key twice: the later one wins in both.
            for fp in [i, i + 1] {
                let k = KeyHash::of("R", &(i % 700).to_string());
                one_by_one.insert(k, i, Some(u64::from(fp)), &format!("{fp}cb"));
                loader.insert(k, i, Some(u64::from(fp)), &format!("{fp}cb"));
            }
        }
        let loaded = loader.finish();
        assert_eq!(loaded.len(), one_by_one.len());
        for i in 0..700u32 {
            let k = KeyHash::of("R", &i.to_string());
            assert_eq!(loaded.get(k), one_by_one.get(k));
        }
    }

    #[test]
    fn memory_per_obligation_is_small() {
        let mut k = Known::with_capacity(100_000, 600_000);
        for i in 0..100_000u32 {
            k.insert(KeyHash::of("61fa3", &i.to_string()), i, Some(1), "1a2bcb");
        }
        let per = k.heap_bytes() as f64 / 100_000.0;
        assert!(per < 48.0, "{per} bytes per obligation");
    }
}
