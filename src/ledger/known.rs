//! What the ledger knows of a scope's obligations, held in memory for one run
//! so that each row is judged with one hash probe instead of a query.
//!
//! A million obligations must fit in a few tens of megabytes, so this is an
//! open-addressing table of fixed-size slots (no per-entry allocation, no
//! power-of-two rounding), with the CRM's ids in one shared string arena.
//! Keys are 96 bits of an xxh3-128 hash of the obligation's identity: 64 bits
//! place the slot, 32 more are compared on a hit, so two different
//! obligations are taken for one only with odds near 2^-96 per pair.

use xxhash_rust::xxh3::xxh3_128;

/// The identity of an obligation within a scope, hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash {
    slot: u64,
    check: u32,
}

impl KeyHash {
    /// Hashes (record `wolkvox_id`, obligation `id`). The lengths go in first
    /// so that ("ab", "c") and ("a", "bc") differ.
    pub fn of(wolkvox_id: &str, id: &str) -> KeyHash {
        let mut buf = Vec::with_capacity(16 + wolkvox_id.len() + id.len());
        buf.extend_from_slice(&(wolkvox_id.len() as u64).to_le_bytes());
        buf.extend_from_slice(wolkvox_id.as_bytes());
        buf.extend_from_slice(&(id.len() as u64).to_le_bytes());
        buf.extend_from_slice(id.as_bytes());
        let h = xxh3_128(&buf);
        KeyHash {
            // Zero marks an empty slot.
            slot: (h as u64).max(1),
            check: (h >> 64) as u32,
        }
    }
}

/// One known obligation.
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: u64,
    check: u32,
    /// The obligation's row id in the ledger.
    db_id: u32,
    /// Fingerprint of the full body the CRM last accepted; see `has_fp`.
    fp: u64,
    crm_start: u32,
    crm_len: u8,
    /// Bit 0: the fingerprint is known. Bit 1: seen in this run's file.
    flags: u8,
}

const HAS_FP: u8 = 1;
const SEEN: u8 = 2;

const EMPTY: Slot = Slot {
    key: 0,
    check: 0,
    db_id: 0,
    fp: 0,
    crm_start: 0,
    crm_len: 0,
    flags: 0,
};

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

/// The known obligations of one scope.
pub struct Known {
    slots: Vec<Slot>,
    len: usize,
    crm_ids: String,
}

impl Known {
    /// An empty table sized for `capacity` obligations whose CRM ids take
    /// `id_bytes` in all.
    pub fn with_capacity(capacity: usize, id_bytes: usize) -> Known {
        // A load factor of 0.8 keeps linear probes short.
        let n = (capacity + capacity / 4).max(16);
        Known {
            slots: vec![EMPTY; n],
            len: 0,
            crm_ids: String::with_capacity(id_bytes),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held, for the documentation of memory use.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>() + self.crm_ids.capacity()
    }

    fn home(&self, key: u64) -> usize {
        // Range reduction without a division or power-of-two size.
        ((u128::from(key) * self.slots.len() as u128) >> 64) as usize
    }

    fn find(&self, k: KeyHash) -> Option<usize> {
        let n = self.slots.len();
        let mut i = self.home(k.slot);
        loop {
            let s = &self.slots[i];
            if s.key == 0 {
                return None;
            }
            if s.key == k.slot && s.check == k.check {
                return Some(i);
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// Adds an obligation (a later insert of the same key replaces it).
    pub fn insert(&mut self, k: KeyHash, db_id: u32, fp: Option<u64>, crm_id: &str) {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        // Ids are validated at most 64 bytes long; a longer one from an older
        // ledger is cut at a character boundary rather than refused.
        let mut end = crm_id.len().min(u8::MAX as usize);
        while !crm_id.is_char_boundary(end) {
            end -= 1;
        }
        let crm_start = self.crm_ids.len() as u32;
        self.crm_ids.push_str(&crm_id[..end]);
        let slot = Slot {
            key: k.slot,
            check: k.check,
            db_id,
            fp: fp.unwrap_or(0),
            crm_start,
            crm_len: end as u8,
            flags: if fp.is_some() { HAS_FP } else { 0 },
        };
        let n = self.slots.len();
        let mut i = self.home(k.slot);
        loop {
            let s = &mut self.slots[i];
            if s.key == 0 {
                *s = slot;
                self.len += 1;
                return;
            }
            if s.key == k.slot && s.check == k.check {
                *s = slot;
                return;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let mut bigger = Known {
            slots: vec![EMPTY; old.len() * 2],
            len: 0,
            crm_ids: String::new(),
        };
        for s in old.into_iter().filter(|s| s.key != 0) {
            let n = bigger.slots.len();
            let mut i = bigger.home(s.key);
            while bigger.slots[i].key != 0 {
                i = if i + 1 == n { 0 } else { i + 1 };
            }
            bigger.slots[i] = s;
            bigger.len += 1;
        }
        self.slots = bigger.slots;
    }

    /// The obligation with this key, if known.
    pub fn get(&self, k: KeyHash) -> Option<KnownObligation<'_>> {
        self.find(k).map(|i| self.view(i))
    }

    fn view(&self, i: usize) -> KnownObligation<'_> {
        let s = &self.slots[i];
        let start = s.crm_start as usize;
        KnownObligation {
            db_id: s.db_id,
            fp: (s.flags & HAS_FP != 0).then_some(s.fp),
            crm_id: &self.crm_ids[start..start + s.crm_len as usize],
        }
    }

    /// Marks the obligation as listed in this run's file; returns its ledger
    /// id when it is known.
    pub fn mark_seen(&mut self, k: KeyHash) -> Option<u32> {
        let i = self.find(k)?;
        self.slots[i].flags |= SEEN;
        Some(self.slots[i].db_id)
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
        self.slots
            .iter()
            .filter(|s| s.key != 0 && s.flags & SEEN == seen)
            .map(|s| s.db_id)
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
    fn memory_per_obligation_is_small() {
        let mut k = Known::with_capacity(100_000, 600_000);
        for i in 0..100_000u32 {
            k.insert(KeyHash::of("61fa3", &i.to_string()), i, Some(1), "1a2bcb");
        }
        let per = k.heap_bytes() as f64 / 100_000.0;
        assert!(per < 48.0, "{per} bytes per obligation");
    }
}
