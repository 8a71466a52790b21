//! Open-addressing hash tables keyed by 64-bit fingerprints, for the two
//! tables that hold an entry per obligation of a large file: what the ledger
//! knows ([`crate::ledger::known`], a [`FingerprintTable`]) and the duplicate
//! check of a run ([`crate::import::rows`], a [`TagTable`]).
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

/// One slot of a [`TagTable`]: a 48-bit tag and a 32-bit value, as 16-bit
/// words so that the slot takes 10 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
struct TagSlot {
    tag: [u16; 3],
    value: [u16; 2],
}

impl TagSlot {
    fn tag(&self) -> u64 {
        u64::from(self.tag[0]) | u64::from(self.tag[1]) << 16 | u64::from(self.tag[2]) << 32
    }

    fn value(&self) -> u32 {
        u32::from(self.value[0]) | u32::from(self.value[1]) << 16
    }
}

/// The slots of one size, filled up to a limit.
#[derive(Debug, Clone)]
struct Generation {
    slots: Vec<TagSlot>,
    len: usize,
    limit: usize,
}

impl Generation {
    fn new(capacity: usize, max_load: usize) -> Generation {
        let n = (capacity.saturating_mul(100) / max_load + 1).max(16);
        Generation {
            slots: vec![TagSlot::default(); n],
            len: 0,
            limit: n * max_load / 100,
        }
    }

    fn home(&self, place: u64) -> usize {
        ((u128::from(place) * self.slots.len() as u128) >> 64) as usize
    }

    /// The slot holding `tag` with a value that `same` accepts on `place`'s
    /// probe run, or the empty slot that ends it.
    fn probe(&self, place: u64, tag: u64, same: &mut impl FnMut(u32) -> bool) -> (usize, bool) {
        let n = self.slots.len();
        let mut i = self.home(place);
        loop {
            let s = &self.slots[i];
            let t = s.tag();
            if t == 0 {
                return (i, false);
            }
            if t == tag && same(s.value()) {
                return (i, true);
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }
}

/// A set of keys with a `u32` each, in 10 bytes a key: for the one table
/// whose size is the input's, the duplicate check of a run.
///
/// A key is two independent hashes: `place`, 64 bits that choose where it
/// is probed for, and a 48-bit `tag`, the only part kept. Two keys may have
/// equal tags on one probe run (odds about as small as for 64-bit keys kept
/// whole, in two thirds of the memory), so a tag that matches is only a
/// candidate: the caller's `same` tells, from its value, whether it is the
/// key or another one, and probing goes on past another. With no `place` kept,
/// the table cannot be rehashed; a table sized too small instead starts a
/// generation twice as large, and keys are looked for in every generation.
#[derive(Debug, Clone)]
pub struct TagTable {
    generations: Vec<Generation>,
    max_load: usize,
}

impl TagTable {
    /// An empty table that holds `capacity` keys before it adds a
    /// generation, filled at most to `max_load` percent.
    pub fn with_capacity(capacity: usize, max_load: u8) -> TagTable {
        let max_load = usize::from(max_load.clamp(10, 95));
        TagTable {
            generations: vec![Generation::new(capacity, max_load)],
            max_load,
        }
    }

    /// Keys held.
    fn len(&self) -> usize {
        self.generations.iter().map(|g| g.len).sum()
    }

    /// Starts loading the slot where `place` is looked for in the newest
    /// generation (see [`FingerprintTable::prefetch`]).
    pub fn prefetch(&self, place: u64) {
        #[cfg(target_arch = "x86_64")]
        if let Some(g) = self.generations.last() {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let slot: *const TagSlot = &g.slots[g.home(place)];
            // SAFETY: a prefetch is only a hint; the address is a slot.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = place;
    }

    /// Adds `value` under (`place`, `tag`) unless the key is there already,
    /// whose value is returned instead. `tag` is 48 bits and not zero; `same`
    /// tells whether the value of a slot with the same tag is this key's.
    pub fn insert_new(
        &mut self,
        place: u64,
        tag: u64,
        value: u32,
        mut same: impl FnMut(u32) -> bool,
    ) -> Result<(), u32> {
        debug_assert!(tag != 0 && tag < 1 << 48, "a tag is 48 bits, not zero");
        let (newest, older) = self
            .generations
            .split_last_mut()
            .expect("a table has a generation");
        for g in older.iter() {
            if let (i, true) = g.probe(place, tag, &mut same) {
                return Err(g.slots[i].value());
            }
        }
        if newest.len >= newest.limit {
            let size = self.len().max(16) * 2;
            self.generations.push(Generation::new(size, self.max_load));
            return self.insert_new(place, tag, value, same);
        }
        match newest.probe(place, tag, &mut same) {
            (i, true) => Err(newest.slots[i].value()),
            (i, false) => {
                newest.slots[i] = TagSlot {
                    tag: [tag as u16, (tag >> 16) as u16, (tag >> 32) as u16],
                    value: [value as u16, (value >> 16) as u16],
                };
                newest.len += 1;
                Ok(())
            }
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
            t.insert(key(i), |_| true, i as u32);
        }
        assert_eq!(t.len(), 10_000);
        for i in 0..10_000u64 {
            assert_eq!(t.get(key(i), |_| true), Some(&(i as u32)));
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

    fn tag(i: u64) -> u64 {
        (xxhash_rust::xxh3::xxh3_64(&(i ^ 0x5bd1_e995).to_le_bytes()) >> 16).max(1)
    }

    #[test]
    fn a_tag_table_holds_what_was_put_in_across_generations() {
        let mut t = TagTable::with_capacity(100, 90);
        for i in 0..10_000u64 {
            assert_eq!(
                t.insert_new(key(i), tag(i), i as u32, |_| true),
                Ok(()),
                "{i}"
            );
        }
        assert_eq!(t.len(), 10_000);
        assert!(t.generations.len() > 1, "sized for 100, it had to grow");
        for i in 0..10_000u64 {
            assert_eq!(
                t.insert_new(key(i), tag(i), 0, |_| true),
                Err(i as u32),
                "{i}"
            );
        }
        assert_eq!(t.len(), 10_000);
        // The same place with another tag is another key.
        assert_eq!(t.insert_new(key(7), tag(7) ^ 1, 70_000, |_| true), Ok(()));
        assert_eq!(t.insert_new(key(7), tag(7) ^ 1, 0, |_| true), Err(70_000));
        // Values use all 32 bits.
        assert_eq!(
            t.insert_new(key(99_999), tag(99_999), u32::MAX - 1, |_| true),
            Ok(())
        );
        assert_eq!(
            t.insert_new(key(99_999), tag(99_999), 0, |_| true),
            Err(u32::MAX - 1)
        );
    }

    #[test]
    fn a_tag_that_matches_another_key_is_passed_over() {
        let mut t = TagTable::with_capacity(16, 90);
        // Two keys with one place and one tag, told apart by their values.
        assert_eq!(t.insert_new(5, 9, 1, |_| unreachable!()), Ok(()));
        assert_eq!(t.insert_new(5, 9, 2, |v| v == 2), Ok(()));
        assert_eq!(t.len(), 2);
        assert_eq!(t.insert_new(5, 9, 0, |v| v == 2), Err(2));
        assert_eq!(t.insert_new(5, 9, 0, |v| v == 1), Err(1));
        // Across generations too.
        for i in 0..100u64 {
            t.insert_new(key(i), tag(i), 10 + i as u32, |_| true)
                .unwrap();
        }
        assert!(t.generations.len() > 1);
        assert_eq!(t.insert_new(5, 9, 3, |v| v == 3), Ok(()));
        assert_eq!(t.insert_new(5, 9, 0, |v| v == 1), Err(1));
        assert_eq!(t.insert_new(5, 9, 0, |v| v == 3), Err(3));
    }

    #[test]
    fn a_tag_table_slot_takes_ten_bytes() {
        assert_eq!(std::mem::size_of::<TagSlot>(), 10);
        let t = TagTable::with_capacity(1_000_000, 90);
        let slots: usize = t.generations.iter().map(|g| g.slots.capacity()).sum();
        let per_entry = (slots * std::mem::size_of::<TagSlot>()) as f64 / 1e6;
        assert!(per_entry < 11.2, "{per_entry} bytes an entry");
    }
}
