//! The page allocator's leaves: one bit per 8 KiB page of a 4 MiB chunk, and the summary that
//! lets the radix tree above skip whole chunks (Go: pallocBits in mpallocbits.go; pallocSum,
//! packPallocSum and mergeSummaries in mpagealloc.go).
//!
//! A summary is three numbers: free pages at the start, the longest free run anywhere, free
//! pages at the end. Merging the summaries of neighbours gives the summary of both, so a tree
//! of summaries answers "where is the first run of n free pages?" by walking down from the
//! root, looking only where a long enough run can be.

/// Pages in a chunk (Go: pallocChunkPages, 512 on 64-bit systems: 4 MiB).
pub const PALLOC_CHUNK_PAGES: usize = 512;
/// Go: summaryLevels (64-bit) and summaryLevelBits: five levels, each 8 times wider.
pub const SUMMARY_LEVELS: usize = 5;
pub const SUMMARY_LEVEL_BITS: usize = 3;
/// Go: logMaxPackedValue. The largest count a summary field holds: a whole level-0 entry's
/// pages (2^21 pages = 16 GiB).
pub const LOG_MAX_PACKED_VALUE: usize = 9 + (SUMMARY_LEVELS - 1) * SUMMARY_LEVEL_BITS;
pub const MAX_PACKED_VALUE: usize = 1 << LOG_MAX_PACKED_VALUE;

/// Go: pallocSum. Three 21-bit fields; a set top bit means "all three are the maximum".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PallocSum(pub u64);

impl PallocSum {
    /// Go: packPallocSum.
    pub fn pack(start: usize, max: usize, end: usize) -> PallocSum {
        if max == MAX_PACKED_VALUE {
            return PallocSum(1 << 63);
        }
        let m = (MAX_PACKED_VALUE - 1) as u64;
        PallocSum(
            (start as u64 & m)
                | ((max as u64 & m) << LOG_MAX_PACKED_VALUE)
                | ((end as u64 & m) << (2 * LOG_MAX_PACKED_VALUE)),
        )
    }

    /// Go: pallocSum.unpack: (start, max, end).
    pub fn unpack(self) -> (usize, usize, usize) {
        if self.0 & (1 << 63) != 0 {
            return (MAX_PACKED_VALUE, MAX_PACKED_VALUE, MAX_PACKED_VALUE);
        }
        let m = (MAX_PACKED_VALUE - 1) as u64;
        let f = |shift: usize| ((self.0 >> shift) & m) as usize;
        (f(0), f(LOG_MAX_PACKED_VALUE), f(2 * LOG_MAX_PACKED_VALUE))
    }
}

// ANCHOR: merge_summaries
/// Go: mergeSummaries. The summary of neighbouring regions of `2^log_pages` pages each: a run
/// can continue from one region's end into the next one's start.
pub fn merge_summaries(sums: &[PallocSum], log_pages: usize) -> PallocSum {
    let (mut start, mut most, mut end) = sums[0].unpack();
    for (i, s) in sums.iter().enumerate().skip(1) {
        let (si, mi, ei) = s.unpack();
        if start == i << log_pages {
            start += si; // everything so far was free: the start run continues
        }
        most = most.max(end + si).max(mi);
        if ei == 1 << log_pages {
            end += 1 << log_pages; // this region is entirely free: the end run grows
        } else {
            end = ei;
        }
    }
    PallocSum::pack(start, most, end)
}
// ANCHOR_END: merge_summaries

/// Go: pallocBits. Bit i set = page i of the chunk is in use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PallocBits(pub [u64; PALLOC_CHUNK_PAGES / 64]);

/// "Not found", Go's ^uint(0).
pub const NOT_FOUND: usize = usize::MAX;

impl PallocBits {
    pub fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 != 0
    }

    /// Go: pageBits.setRange (allocRange): mark pages [i, i+n) in use.
    pub fn alloc_range(&mut self, i: usize, n: usize) {
        for p in i..i + n {
            self.0[p / 64] |= 1 << (p % 64);
        }
    }

    /// Go: pageBits.clearRange (free): mark pages [i, i+n) free.
    pub fn free(&mut self, i: usize, n: usize) {
        for p in i..i + n {
            self.0[p / 64] &= !(1 << (p % 64));
        }
    }

    // ANCHOR: summarize
    /// Go: pallocBits.summarize. Start and end runs come from counting zeros at the ends of
    /// each word; the longest run inside a word is found by repeatedly shrinking every run of
    /// zeros (x |= x >> k) until none is left, which takes O(log n) steps, not O(n).
    pub fn summarize(&self) -> PallocSum {
        let (mut start, mut most, mut cur) = (NOT_FOUND, 0usize, 0usize);
        for &x in &self.0 {
            if x == 0 {
                cur += 64;
                continue;
            }
            let t = x.trailing_zeros() as usize;
            let l = x.leading_zeros() as usize;
            cur += t; // the run that ends at this word's first used page
            if start == NOT_FOUND {
                start = cur;
            }
            most = most.max(cur);
            cur = l; // the run that continues into the next word
        }
        if start == NOT_FOUND {
            let n = 64 * self.0.len();
            return PallocSum::pack(n, n, n); // all free
        }
        most = most.max(cur);
        if most >= 64 - 2 {
            return PallocSum::pack(start, most, cur); // no run inside a word can be longer
        }
        // Look for runs longer than `most` strictly inside each word.
        'outer: for &word in &self.0 {
            let mut x = word >> (word.trailing_zeros() & 63);
            if x & x.wrapping_add(1) == 0 {
                continue; // no zeros left but at the top
            }
            let mut p = most; // how many zeros we still need to shrink each run by
            let mut k = 1; // the shortest run of ones in x
            loop {
                while p > 0 {
                    if p <= k {
                        x |= x >> (p & 63);
                        if x & x.wrapping_add(1) == 0 {
                            continue 'outer;
                        }
                        break;
                    }
                    x |= x >> (k & 63);
                    if x & x.wrapping_add(1) == 0 {
                        continue 'outer;
                    }
                    p -= k;
                    k *= 2;
                }
                let j = (!x).trailing_zeros(); // skip the ones
                x >>= j & 63;
                let j = x.trailing_zeros() as usize; // a run of zeros that survived: longer
                x >>= j & 63;
                most += j;
                if x & x.wrapping_add(1) == 0 {
                    continue 'outer;
                }
                p = j;
            }
        }
        PallocSum::pack(start, most, cur)
    }
    // ANCHOR_END: summarize

    /// Go: pallocBits.find. The first run of `npages` free pages at or after `search_idx`, and
    /// the first free page (the next search can start there). NOT_FOUND if none.
    pub fn find(&self, npages: usize, search_idx: usize) -> (usize, usize) {
        if npages == 1 {
            let a = self.find1(search_idx);
            (a, a)
        } else if npages <= 64 {
            self.find_small_n(npages, search_idx)
        } else {
            self.find_large_n(npages, search_idx)
        }
    }

    /// Go: pallocBits.find1.
    fn find1(&self, search_idx: usize) -> usize {
        for i in search_idx / 64..self.0.len() {
            let x = self.0[i];
            if !x != 0 {
                return i * 64 + (!x).trailing_zeros() as usize;
            }
        }
        NOT_FOUND
    }

    /// Go: pallocBits.findSmallN. A run may straddle two words (the end of one, the start of
    /// the next) or sit inside one, found by findBitRange64.
    fn find_small_n(&self, npages: usize, search_idx: usize) -> (usize, usize) {
        let (mut end, mut new_search_idx) = (0usize, NOT_FOUND);
        for i in search_idx / 64..self.0.len() {
            let bi = self.0[i];
            if !bi == 0 {
                end = 0;
                continue;
            }
            if new_search_idx == NOT_FOUND {
                new_search_idx = i * 64 + (!bi).trailing_zeros() as usize;
            }
            let start = bi.trailing_zeros() as usize;
            if end + start >= npages {
                return (i * 64 - end, new_search_idx);
            }
            let j = find_bit_range64(!bi, npages);
            if j < 64 {
                return (i * 64 + j, new_search_idx);
            }
            end = bi.leading_zeros() as usize;
        }
        (NOT_FOUND, new_search_idx)
    }

    /// Go: pallocBits.findLargeN. Runs longer than a word: whole free words in between.
    fn find_large_n(&self, npages: usize, search_idx: usize) -> (usize, usize) {
        let (mut start, mut size, mut new_search_idx) = (NOT_FOUND, 0usize, NOT_FOUND);
        for i in search_idx / 64..self.0.len() {
            let x = self.0[i];
            if x == !0 {
                size = 0;
                continue;
            }
            if new_search_idx == NOT_FOUND {
                new_search_idx = i * 64 + (!x).trailing_zeros() as usize;
            }
            if size == 0 {
                size = x.leading_zeros() as usize;
                start = i * 64 + 64 - size;
                continue;
            }
            let s = x.trailing_zeros() as usize;
            if s + size >= npages {
                return (start, new_search_idx);
            }
            if s < 64 {
                size = x.leading_zeros() as usize;
                start = i * 64 + 64 - size;
                continue;
            }
            size += 64;
        }
        if size < npages {
            return (NOT_FOUND, new_search_idx);
        }
        (start, new_search_idx)
    }
}

// ANCHOR: find_bit_range64
/// Go: findBitRange64. The lowest index of a run of `n` ones in `c` (64 if none): shrink
/// every run of ones by n-1 with `c &= c >> k`, doubling k, so that only runs of at least n
/// leave a one behind — in O(log n) steps.
pub fn find_bit_range64(mut c: u64, n: usize) -> usize {
    // ANCHOR: solution-find_bit_range64
    let mut p = n - 1; // ones still to remove from each run
    let mut k = 1; // the shortest run of zeros in c
    while p > 0 {
        if p <= k {
            c &= c >> (p & 63);
            break;
        }
        c &= c >> (k & 63);
        if c == 0 {
            return 64;
        }
        p -= k;
        k *= 2;
    }
    c.trailing_zeros() as usize
    // ANCHOR_END: solution-find_bit_range64
}
// ANCHOR_END: find_bit_range64

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The simple model: a vector of "in use" flags.
    fn model_summary(used: &[bool]) -> (usize, usize, usize) {
        let start = used.iter().position(|&u| u).unwrap_or(used.len());
        let end = used.iter().rev().position(|&u| u).unwrap_or(used.len());
        let (mut most, mut run) = (0, 0);
        for &u in used {
            run = if u { 0 } else { run + 1 };
            most = most.max(run);
        }
        (start, most, end)
    }

    fn model_find(used: &[bool], n: usize) -> usize {
        let mut run = 0;
        for (i, &u) in used.iter().enumerate() {
            run = if u { 0 } else { run + 1 };
            if run == n {
                return i + 1 - n;
            }
        }
        NOT_FOUND
    }

    /// Chunks with long free and used runs, which random bits would almost never produce.
    fn chunk() -> impl Strategy<Value = Vec<bool>> {
        prop::collection::vec((any::<bool>(), 1usize..150), 1..40).prop_map(|runs| {
            let mut v: Vec<bool> = runs
                .into_iter()
                .flat_map(|(u, n)| std::iter::repeat_n(u, n))
                .collect();
            v.resize(PALLOC_CHUNK_PAGES, true);
            v
        })
    }

    fn bits(used: &[bool]) -> PallocBits {
        let mut b = PallocBits::default();
        for (i, _) in used.iter().enumerate().filter(|(_, &u)| u) {
            b.alloc_range(i, 1);
        }
        b
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 512 }, ..ProptestConfig::default() })]

        // ANCHOR: prop_summarize
        #[test]
        fn summarize_and_find_agree_with_a_simple_scan(used in chunk(), n in 1usize..300) {
            let b = bits(&used);
            prop_assert_eq!(b.summarize().unpack(), model_summary(&used));
            prop_assert_eq!(b.find(n, 0).0, model_find(&used, n), "first fit of {} pages", n);
        }
        // ANCHOR_END: prop_summarize

        #[test]
        fn merged_summaries_are_the_summary_of_the_whole(chunks in prop::collection::vec(chunk(), 1..5)) {
            let sums: Vec<PallocSum> = chunks.iter().map(|c| bits(c).summarize()).collect();
            let all: Vec<bool> = chunks.concat();
            prop_assert_eq!(merge_summaries(&sums, 9).unpack(), model_summary(&all));
        }
    }

    #[test]
    fn a_full_level_summary_packs_into_the_top_bit() {
        let s = PallocSum::pack(MAX_PACKED_VALUE, MAX_PACKED_VALUE, MAX_PACKED_VALUE);
        assert_eq!(s.0, 1 << 63);
        assert_eq!(s.unpack(), (1 << 21, 1 << 21, 1 << 21));
        assert_eq!(PallocSum::pack(3, 500, 7).unpack(), (3, 500, 7));
    }

    #[test]
    fn find_bit_range64_finds_the_lowest_long_enough_run() {
        assert_eq!(find_bit_range64(0b1111_0111, 3), 0);
        assert_eq!(find_bit_range64(0b1111_0111, 4), 4);
        assert_eq!(find_bit_range64(0b1111_0111, 5), 64);
        assert_eq!(find_bit_range64(!0, 64), 0);
    }
}
