//! What a writer knows of ranges of the key space: every row of a range as it read them
//! under a lock it holds to its end, so the range cannot change under it and a later
//! point or range read inside it needs no round trip.

use crate::store::Pair;

/// Every row of `[start, end)`, in key order.
struct KnownRange {
    start: Vec<u8>,
    end: Vec<u8>,
    rows: Vec<Pair>,
}

impl KnownRange {
    fn contains(&self, key: &[u8]) -> bool {
        self.start.as_slice() <= key && key < self.end.as_slice()
    }
}

/// The ranges a writer read, each complete.
#[derive(Default)]
pub(super) struct KnownRanges {
    ranges: Vec<KnownRange>,
}

impl KnownRanges {
    /// Note what a range read of `[start, end)` (at most `limit` rows, in reverse key
    /// order when `reverse`) returned. A read that returned fewer rows than its limit saw
    /// the whole range; one that filled it saw everything between `start` and its last
    /// row (forward), or between its last row and `end` (reverse).
    pub(super) fn learn(
        &mut self,
        (start, end): (&[u8], &[u8]),
        limit: usize,
        reverse: bool,
        rows: &[Pair],
    ) {
        let mut ascending = rows.to_vec();
        if reverse {
            ascending.reverse();
        }
        debug_assert!(ascending.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let (start, end) = match (rows.len() < limit, ascending.first(), ascending.last()) {
            (true, _, _) => (start.to_vec(), end.to_vec()),
            (false, Some((first, _)), _) if reverse => (first.clone(), end.to_vec()),
            (false, _, Some((last, _))) => {
                let mut after_last = last.clone();
                after_last.push(0);
                (start.to_vec(), after_last)
            }
            // A limit of zero returned nothing and says nothing.
            (false, _, _) => return,
        };
        self.ranges.push(KnownRange {
            start,
            end,
            rows: ascending,
        });
    }

    /// The value of `key` if a known range holds it (`Some(None)`: known absent).
    pub(super) fn value(&self, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let range = self.ranges.iter().find(|range| range.contains(key))?;
        let found = range
            .rows
            .binary_search_by(|(k, _)| k.as_slice().cmp(key))
            .ok()
            .map(|at| range.rows[at].1.clone());
        Some(found)
    }

    /// The answer to a range read, if a known range covers `[start, end)`.
    pub(super) fn answer(
        &self,
        (start, end): (&[u8], &[u8]),
        limit: usize,
        reverse: bool,
    ) -> Option<Vec<Pair>> {
        let range = self
            .ranges
            .iter()
            .find(|range| range.start.as_slice() <= start && end <= range.end.as_slice())?;
        let inside = range
            .rows
            .iter()
            .filter(|(k, _)| start <= k.as_slice() && k.as_slice() < end);
        Some(match reverse {
            true => inside.rev().take(limit).cloned().collect(),
            false => inside.take(limit).cloned().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(keys: &[u8]) -> Vec<Pair> {
        keys.iter().map(|&k| (vec![k], vec![k * 10])).collect()
    }

    #[test]
    fn a_read_short_of_its_limit_knows_the_whole_range() {
        let mut known = KnownRanges::default();
        known.learn((&[10], &[20]), 5, false, &rows(&[11, 13]));
        assert_eq!(known.value(&[13]), Some(Some(vec![130])));
        assert_eq!(known.value(&[12]), Some(None), "absent inside");
        assert_eq!(known.value(&[20]), None, "end is outside");
        assert_eq!(known.answer((&[12], &[19]), 9, false), Some(rows(&[13])));
        assert_eq!(known.answer((&[10], &[20]), 1, true), Some(rows(&[13])));
        assert_eq!(known.answer((&[9], &[20]), 9, false), None, "not covered");
    }

    #[test]
    fn a_full_read_knows_only_up_to_its_last_row() {
        let mut known = KnownRanges::default();
        known.learn((&[10], &[20]), 2, false, &rows(&[11, 13]));
        assert_eq!(known.value(&[13]), Some(Some(vec![130])));
        assert_eq!(known.value(&[14]), None, "beyond the last row: unknown");
        let mut known = KnownRanges::default();
        known.learn((&[10], &[20]), 2, true, &rows(&[17, 15]));
        assert_eq!(known.value(&[16]), Some(None));
        assert_eq!(
            known.value(&[14]),
            None,
            "before the last row of a reverse read"
        );
        assert_eq!(known.answer((&[15], &[20]), 5, true), Some(rows(&[17, 15])));
        let mut known = KnownRanges::default();
        known.learn((&[10], &[20]), 0, false, &[]);
        assert_eq!(known.value(&[12]), None, "a zero limit says nothing");
    }
}
