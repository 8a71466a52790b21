//! An open-addressing hash table keyed by 64-bit fingerprints, for the two
//! tables that hold an entry per obligation of a large file: the duplicate
//! check of a run ([`crate::import::rows`]) and what the ledger knows
//! ([`crate::ledger::known`]).
//!
//! A million entries must fit in a few megabytes, so a slot is only the key
//! and a small fixed-size value: no per-entry allocation, no control bytes,
//! no rounding of the slot count to a power of two. Keys are already
//! well-mixed hashes, placed by range reduction and found by linear probing;
//! zero marks an empty slot.

/// One slot: the key as two halves, so that a 4-byte value makes a 12-byte
/// slot rather than a 16-byte one.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct Slot<V> {
    key: [u32; 2],
    value: V,
}

fn split(key: u64) -> [u32; 2] {
    [key as u32, (key >> 32) as u32]
}

/// A hash table from nonzero 64-bit fingerprints to `V`.
#[derive(Debug, Clone)]
pub struct FingerprintTable<V> {
    slots: Vec<Slot<V>>,
    len: usize,
    /// Entries held before the table doubles.
    limit: usize,
    /// The load factor at which it doubles, in percent.
    max_load: usize,
}

impl<V: Copy + Default> FingerprintTable<V> {
    /// An empty table that holds `capacity` entries before it grows, filled
    /// at most to `max_load` percent (linear probes stay short up to 90).
    pub fn with_capacity(capacity: usize, max_load: u8) -> FingerprintTable<V> {
        let max_load = usize::from(max_load.clamp(10, 95));
        let n = (capacity.saturating_mul(100) / max_load + 1).max(16);
        FingerprintTable {
            slots: vec![
                Slot {
                    key: [0, 0],
                    value: V::default()
                };
                n
            ],
            len: 0,
            limit: n * max_load / 100,
            max_load,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held by the slots.
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot<V>>()
    }

    /// Where `key` would start probing. Range reduction: no division, and
    /// any slot count.
    fn home(&self, key: u64) -> usize {
        ((u128::from(key) * self.slots.len() as u128) >> 64) as usize
    }

    /// Starts loading the slot where `key` is looked for, so that a look-up
    /// made a little later does not wait on memory: the table is larger than
    /// the caches, and every key lands somewhere else in it.
    pub fn prefetch(&self, key: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let slot: *const Slot<V> = &self.slots[self.home(key)];
            // SAFETY: a prefetch is only a hint; the address is a slot.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    /// The slot holding `key` with a value that `same` accepts, or the empty
    /// slot where it would go.
    fn probe(&self, key: u64, same: impl Fn(&V) -> bool) -> (usize, bool) {
        debug_assert_ne!(key, 0, "zero marks an empty slot");
        let want = split(key);
        let n = self.slots.len();
        let mut i = self.home(key);
        loop {
            let s = &self.slots[i];
            if s.key == [0, 0] {
                return (i, false);
            }
            if s.key == want && same(&s.value) {
                return (i, true);
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// The value of `key` that `same` accepts, if held.
    pub fn get(&self, key: u64, same: impl Fn(&V) -> bool) -> Option<&V> {
        match self.probe(key, same) {
            (i, true) => Some(&self.slots[i].value),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, key: u64, same: impl Fn(&V) -> bool) -> Option<&mut V> {
        match self.probe(key, same) {
            (i, true) => Some(&mut self.slots[i].value),
            _ => None,
        }
    }

    /// Adds `value` under `key` unless a value `same` accepts is there
    /// already, which is returned instead.
    pub fn insert_new(&mut self, key: u64, same: impl Fn(&V) -> bool, value: V) -> Result<(), V> {
        if self.len >= self.limit {
            self.grow();
        }
        match self.probe(key, same) {
            (i, true) => Err(self.slots[i].value),
            (i, false) => {
                self.slots[i] = Slot {
                    key: split(key),
                    value,
                };
                self.len += 1;
                Ok(())
            }
        }
    }

    /// Adds `value` under `key`, replacing a value `same` accepts.
    pub fn insert(&mut self, key: u64, same: impl Fn(&V) -> bool, value: V) {
        if self.len >= self.limit {
            self.grow();
        }
        let (i, found) = self.probe(key, same);
        self.slots[i] = Slot {
            key: split(key),
            value,
        };
        if !found {
            self.len += 1;
        }
    }

    /// Every value held, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.slots
            .iter()
            .filter(|s| s.key != [0, 0])
            .map(|s| &s.value)
    }

    /// Doubles the slots. Only a table sized too small grows: the old and
    /// the new slots are both in memory meanwhile.
    fn grow(&mut self) {
        let doubled = self.slots.len() * 2;
        let old = std::mem::replace(
            &mut self.slots,
            vec![
                Slot {
                    key: [0, 0],
                    value: V::default()
                };
                doubled
            ],
        );
        self.limit = doubled * self.max_load / 100;
        for s in old.into_iter().filter(|s| s.key != [0, 0]) {
            let key = u64::from(s.key[0]) | (u64::from(s.key[1]) << 32);
            let mut i = self.home(key);
            while self.slots[i].key != [0, 0] {
                i = if i + 1 == doubled { 0 } else { i + 1 };
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u64) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()) | 1
    }

    #[test]
    fn holds_what_was_put_in_across_growth() {
        let mut t: FingerprintTable<u32> = FingerprintTable::with_capacity(10, 90);
        for i in 0..10_000u64 {
            assert_eq!(t.insert_new(key(i), |_| true, i as u32), Ok(()));
        }
        assert_eq!(t.len(), 10_000);
        for i in 0..10_000u64 {
            assert_eq!(t.get(key(i), |_| true), Some(&(i as u32)));
            assert_eq!(t.insert_new(key(i), |_| true, 0), Err(i as u32));
        }
        assert_eq!(t.get(key(10_000), |_| true), None);
        assert_eq!(t.values().count(), 10_000);
    }

    #[test]
    fn one_key_can_hold_values_told_apart_by_same() {
        let mut t: FingerprintTable<(u32, u32)> = FingerprintTable::with_capacity(4, 80);
        t.insert(7, |v| v.0 == 1, (1, 10));
        t.insert(7, |v| v.0 == 2, (2, 20));
        t.insert(7, |v| v.0 == 1, (1, 11));
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(7, |v| v.0 == 1), Some(&(1, 11)));
        t.get_mut(7, |v| v.0 == 2).unwrap().1 = 21;
        assert_eq!(t.get(7, |v| v.0 == 2), Some(&(2, 21)));
        assert_eq!(t.get(7, |v| v.0 == 3), None);
    }

    #[test]
    fn a_slot_with_a_four_byte_value_takes_twelve_bytes() {
        assert_eq!(std::mem::size_of::<Slot<u32>>(), 12);
        let t: FingerprintTable<u32> = FingerprintTable::with_capacity(1_000_000, 90);
        let per_entry = t.heap_bytes() as f64 / 1e6;
        assert!(per_entry < 13.5, "{per_entry} bytes an entry");
    }
}
