//! Which known obligations a run's file listed, kept per run as compact
//! ranges of obligation ids rather than as a time stamp written into every
//! obligation's row.
//!
//! A nightly file lists nearly every obligation again; stamping each one
//! would rewrite the whole obligations table (and its write-ahead log) every
//! night, which cost more than reading the file. Ids are given out in order,
//! so a night's sightings are a few long ranges: a million sightings take a
//! handful of bytes. An obligation's "last seen" is the newest run whose
//! ranges hold its id, or the run that last wrote it, whichever is newer.

/// A set of obligation ids as sorted, disjoint, inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdRanges {
    ranges: Vec<(u32, u32)>,
}

impl IdRanges {
    /// The set of `ids`, in any order, duplicates allowed.
    pub fn from_ids(mut ids: Vec<u32>) -> IdRanges {
        ids.sort_unstable();
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for id in ids {
            match ranges.last_mut() {
                Some((_, end)) if id <= end.saturating_add(1) => *end = (*end).max(id),
                _ => ranges.push((id, id)),
            }
        }
        IdRanges { ranges }
    }

    pub fn contains(&self, id: u32) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end < id);
        self.ranges.get(i).is_some_and(|&(start, _)| start <= id)
    }

    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|&(s, e)| u64::from(e - s) + 1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges as LEB128 varints: the gap from the previous range's end,
    /// then the range's length less one.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ranges.len() * 4);
        let mut prev: u64 = 0;
        for &(start, end) in &self.ranges {
            varint(&mut out, u64::from(start) - prev);
            varint(&mut out, u64::from(end - start));
            prev = u64::from(end);
        }
        out
    }

    /// The set [`IdRanges::encode`] wrote; `None` for bytes it never writes.
    pub fn decode(mut bytes: &[u8]) -> Option<IdRanges> {
        let mut ranges = Vec::new();
        let mut prev: u64 = 0;
        while !bytes.is_empty() {
            let gap = read_varint(&mut bytes)?;
            let len = read_varint(&mut bytes)?;
            let start = prev.checked_add(gap)?;
            let end = start.checked_add(len)?;
            ranges.push((u32::try_from(start).ok()?, u32::try_from(end).ok()?));
            prev = end;
        }
        Some(IdRanges { ranges })
    }
}

fn varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        n |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// The sightings of one scope's runs, newest first, to answer "when was this
/// obligation last seen in a file".
#[derive(Debug, Default)]
pub struct SeenHistory {
    /// (run id, the run's start in ms, the ids its file listed).
    runs: Vec<(i64, i64, IdRanges)>,
}

impl SeenHistory {
    pub fn new(mut runs: Vec<(i64, i64, IdRanges)>) -> SeenHistory {
        runs.sort_by_key(|r| std::cmp::Reverse(r.0));
        SeenHistory { runs }
    }

    /// When obligation `id` was last listed, given the run that last wrote
    /// it (a run that writes an obligation has it in its file) and when.
    pub fn last_seen(&self, id: u32, written: Option<(i64, i64)>) -> Option<i64> {
        for (run, at, ids) in &self.runs {
            if written.is_some_and(|(w, _)| w >= *run) {
                break;
            }
            if ids.contains(id) {
                return Some(*at);
            }
        }
        written.map(|(_, at)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_round_trip() {
        let r = IdRanges::from_ids(vec![7, 3, 4, 5, 9, 10, 4, 1_000_000]);
        assert_eq!(
            r.ranges,
            vec![(3, 5), (7, 7), (9, 10), (1_000_000, 1_000_000)]
        );
        assert_eq!(r.len(), 7);
        for id in [3, 4, 5, 7, 9, 10, 1_000_000] {
            assert!(r.contains(id), "{id}");
        }
        for id in [0, 1, 2, 6, 8, 11, 999_999, u32::MAX] {
            assert!(!r.contains(id), "{id}");
        }
        assert_eq!(IdRanges::decode(&r.encode()), Some(r));
        assert_eq!(IdRanges::decode(&[0x80]), None, "a torn varint");
    }

    #[test]
    fn a_whole_night_of_sightings_takes_a_few_bytes() {
        let r = IdRanges::from_ids((1..=1_000_000).collect());
        assert!(r.encode().len() <= 4, "{} bytes", r.encode().len());
    }

    #[test]
    fn last_seen_is_the_newest_run_listing_it_or_the_one_that_wrote_it() {
        let h = SeenHistory::new(vec![
            (1, 100, IdRanges::from_ids(vec![1, 2, 3])),
            (2, 200, IdRanges::from_ids(vec![1, 2])),
            (3, 300, IdRanges::from_ids(vec![1])),
        ]);
        assert_eq!(h.last_seen(1, None), Some(300));
        assert_eq!(h.last_seen(2, None), Some(200));
        assert_eq!(h.last_seen(3, None), Some(100));
        assert_eq!(h.last_seen(4, None), None);
        // Written by run 2 (so listed then), not listed by run 3.
        assert_eq!(h.last_seen(3, Some((2, 250))), Some(250));
        // Written by run 3: newer than any sighting.
        assert_eq!(h.last_seen(2, Some((3, 310))), Some(310));
    }
}
