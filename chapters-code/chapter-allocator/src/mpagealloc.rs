//! The page allocator: which pages of the heap are free, and where the first run of n free
//! pages is (Go: mpagealloc.go, since 1.14).
//!
//! The heap's address space is cut into 4 MiB *chunks* of 512 pages. Each chunk has a bitmap
//! ([`PallocBits`]: 1 = in use) and a bitmap of pages returned to the OS (`scavenged`). Above
//! the chunks sits a radix tree of [`PallocSum`]s: every summary says, for its part of the
//! address space, how many free pages it starts with, ends with, and the longest free run
//! anywhere inside. Each level has 8 times as many summaries as the one above, so `find`
//! reads at most 8 summaries per level and goes down into the first child that can hold the
//! run, or finds it straddling neighbours. First fit by address, in a handful of cache lines.
//!
//! Go's tree covers the whole 48-bit address space (a root of 2^14 summaries). This heap
//! reserves one region of `2^HEAP_ADDR_BITS` bytes and the tree covers that: the same 5
//! levels of 8-way fan-out, with a root of 4 summaries. Addresses here are page indices from
//! the region's base (Go: offAddr, an address shifted so the heap starts at 0).

use crate::mem::sys_alloc;
use crate::mpallocbits::{
    merge_summaries, PallocBits, PallocSum, NOT_FOUND, PALLOC_CHUNK_PAGES, SUMMARY_LEVELS,
    SUMMARY_LEVEL_BITS,
};
use crate::sizeclasses::PAGE_SHIFT;

/// The heap region: 64 GiB (Go's address space: heapAddrBits = 48).
pub const HEAP_ADDR_BITS: usize = 36;
/// Go: logPallocChunkBytes. 4 MiB chunks.
pub const LOG_PALLOC_CHUNK_BYTES: usize = 9 + PAGE_SHIFT;
/// Chunks in the region.
pub const NUM_CHUNKS: usize = 1 << (HEAP_ADDR_BITS - LOG_PALLOC_CHUNK_BYTES);
/// Go: summaryL0Bits. The root level's bits: what the four levels below leave over.
pub const SUMMARY_L0_BITS: usize =
    HEAP_ADDR_BITS - LOG_PALLOC_CHUNK_BYTES - (SUMMARY_LEVELS - 1) * SUMMARY_LEVEL_BITS;

/// Go: levelBits. How many bits of the page index each level consumes.
const fn level_bits(l: usize) -> usize {
    if l == 0 {
        SUMMARY_L0_BITS
    } else {
        SUMMARY_LEVEL_BITS
    }
}

/// Go: levelLogPages. log2 of the pages one summary at level `l` covers: 2^21 at the root,
/// 2^9 (one chunk) at the leaves.
pub const fn level_log_pages(l: usize) -> usize {
    9 + (SUMMARY_LEVELS - 1 - l) * SUMMARY_LEVEL_BITS
}

/// Summaries at level `l`.
pub const fn level_entries(l: usize) -> usize {
    1 << (SUMMARY_L0_BITS + l * SUMMARY_LEVEL_BITS)
}

/// Go: pallocData. One chunk's page bitmap and scavenged bitmap.
#[derive(Clone)]
pub struct PallocData {
    pub bits: PallocBits,
    pub scavenged: PallocBits,
}

/// Go: pageAlloc.
pub struct PageAlloc {
    /// The summaries, root first (Go: summary [summaryLevels][]pallocSum).
    summary: [*mut PallocSum; SUMMARY_LEVELS],
    /// Go: chunks (one level here; Go splits it in two to keep the array small).
    chunks: *mut PallocData,
    /// No free page lies below this page index (Go: searchAddr).
    pub search_addr: usize,
    /// The chunks the heap has grown into: [start, end) (Go: start, end).
    pub start: usize,
    pub end: usize,
    /// Free pages, and free pages whose memory is back with the OS.
    pub free_pages: usize,
    pub scav_pages: usize,
}

// SAFETY: the arrays are plain memory; the heap's lock serialises every use.
unsafe impl Send for PageAlloc {}

impl PageAlloc {
    /// Go: pageAlloc.init. The summaries and chunk bitmaps: about 2 MiB of address space,
    /// touched (and so backed by memory) only where the heap grows.
    pub fn new() -> Option<PageAlloc> {
        let mut summary: [*mut PallocSum; SUMMARY_LEVELS] = [std::ptr::null_mut(); SUMMARY_LEVELS];
        for (l, s) in summary.iter_mut().enumerate() {
            *s = sys_alloc(level_entries(l) * 8).cast();
            if s.is_null() {
                return None;
            }
        }
        let chunks: *mut PallocData =
            sys_alloc(NUM_CHUNKS * std::mem::size_of::<PallocData>()).cast();
        if chunks.is_null() {
            return None;
        }
        Some(PageAlloc {
            summary,
            chunks,
            search_addr: usize::MAX,
            start: 0,
            end: 0,
            free_pages: 0,
            scav_pages: 0,
        })
    }

    fn sum(&self, l: usize, i: usize) -> PallocSum {
        debug_assert!(i < level_entries(l));
        // SAFETY: i is inside level l.
        unsafe { *self.summary[l].add(i) }
    }

    fn set_sum(&mut self, l: usize, i: usize, s: PallocSum) {
        debug_assert!(i < level_entries(l));
        // SAFETY: as above; we hold &mut.
        unsafe { *self.summary[l].add(i) = s }
    }

    /// Go: chunkOf.
    pub fn chunk(&self, ci: usize) -> &PallocData {
        assert!(ci < NUM_CHUNKS);
        // SAFETY: ci is inside the array.
        unsafe { &*self.chunks.add(ci) }
    }

    pub(crate) fn chunk_mut(&mut self, ci: usize) -> &mut PallocData {
        assert!(ci < NUM_CHUNKS);
        // SAFETY: as above; we hold &mut.
        unsafe { &mut *self.chunks.add(ci) }
    }

    /// Go: pageAlloc.grow. Chunks `[base/512, (base+npages)/512)` join the heap, all free, all
    /// scavenged (fresh memory from the OS is not resident yet, and reads as zero).
    pub fn grow(&mut self, base: usize, npages: usize) {
        assert!(
            base.is_multiple_of(PALLOC_CHUNK_PAGES) && npages.is_multiple_of(PALLOC_CHUNK_PAGES)
        );
        let (sc, ec) = (
            base / PALLOC_CHUNK_PAGES,
            (base + npages) / PALLOC_CHUNK_PAGES,
        );
        assert!(ec <= NUM_CHUNKS, "heap region exhausted");
        if self.end == 0 {
            self.start = sc;
        }
        self.start = self.start.min(sc);
        self.end = self.end.max(ec);
        for c in sc..ec {
            let chunk = self.chunk_mut(c);
            chunk.bits = PallocBits::default();
            chunk.scavenged = PallocBits([!0; PALLOC_CHUNK_PAGES / 64]);
        }
        self.free_pages += npages;
        self.scav_pages += npages;
        if base < self.search_addr {
            self.search_addr = base;
        }
        self.update(base, npages);
    }

    // ANCHOR: update
    /// Go: pageAlloc.update. Pages `[base, base+npages)` changed: recompute their chunks'
    /// summaries, then every summary above them, level by level up to the root.
    pub fn update(&mut self, base: usize, npages: usize) {
        let (sc, ec) = (
            base / PALLOC_CHUNK_PAGES,
            (base + npages - 1) / PALLOC_CHUNK_PAGES,
        );
        let leaf = SUMMARY_LEVELS - 1;
        for c in sc..=ec {
            let s = self.chunk(c).bits.summarize();
            self.set_sum(leaf, c, s);
        }
        let (mut lo, mut hi) = (sc, ec);
        for l in (0..leaf).rev() {
            let shift = level_bits(l + 1);
            (lo, hi) = (lo >> shift, hi >> shift);
            for i in lo..=hi {
                let children: [PallocSum; 1 << SUMMARY_LEVEL_BITS] =
                    std::array::from_fn(|k| self.sum(l + 1, (i << shift) + k));
                let merged = merge_summaries(&children, level_log_pages(l + 1));
                self.set_sum(l, i, merged);
            }
        }
    }
    // ANCHOR_END: update

    // ANCHOR: find
    /// Go: pageAlloc.find. The first run of `npages` free pages, by address: at each level
    /// read the (up to) 8 summaries under the chosen parent; a run may start in one entry's
    /// free end and continue into the next ones; else descend into the first entry whose
    /// longest run is long enough. NOT_FOUND if the heap has no such run.
    pub fn find(&self, npages: usize) -> usize {
        let mut i = 0;
        'next_level: for l in 0..SUMMARY_LEVELS {
            let entries_per_block = 1 << level_bits(l);
            let log_max_pages = level_log_pages(l);
            i <<= level_bits(l);
            // Start at the search address if it falls in this block.
            let search_idx = self.search_addr >> log_max_pages;
            let j0 = if search_idx & !(entries_per_block - 1) == i {
                search_idx & (entries_per_block - 1)
            } else {
                0
            };
            // A run being built across entries: `size` pages from entry-relative page `base`.
            let (mut base, mut size) = (0, 0);
            for j in j0..entries_per_block {
                let sum = self.sum(l, i + j);
                if sum.0 == 0 {
                    size = 0; // nothing free here: any run so far is broken
                    continue;
                }
                let (s, max, end) = sum.unpack();
                if size + s >= npages {
                    // The run so far plus this entry's free start is enough.
                    if size == 0 {
                        base = j << log_max_pages;
                    }
                    size += s;
                    break;
                }
                if max >= npages {
                    // Fits inside this entry: go down a level.
                    i += j;
                    continue 'next_level;
                }
                if size == 0 || s < 1 << log_max_pages {
                    // Start a new run at this entry's free end.
                    size = end;
                    base = ((j + 1) << log_max_pages) - size;
                    continue;
                }
                size += 1 << log_max_pages; // the whole entry is free: the run goes on
            }
            if size >= npages {
                return (i << log_max_pages) + base;
            }
            if l == 0 {
                return NOT_FOUND; // not even the root has room
            }
            crate::throw("bad summary data");
        }
        // Down at a chunk: its bitmap has the run.
        let (j, _) = self.chunk(i).bits.find(npages, 0);
        if j == NOT_FOUND {
            crate::throw("bad summary data");
        }
        i * PALLOC_CHUNK_PAGES + j
    }
    // ANCHOR_END: find

    /// Go: pageAlloc.alloc. `npages` contiguous pages: their first page index and how many of
    /// them were scavenged (their memory reads as zero). None if the heap must grow first.
    pub fn alloc(&mut self, npages: usize) -> Option<(usize, usize)> {
        if self.search_addr / PALLOC_CHUNK_PAGES >= self.end {
            return None;
        }
        // Fast path: the chunk under the search address has a long enough run.
        let (ci, pi) = (
            self.search_addr / PALLOC_CHUNK_PAGES,
            self.search_addr % PALLOC_CHUNK_PAGES,
        );
        let leaf = SUMMARY_LEVELS - 1;
        let (addr, search) =
            if PALLOC_CHUNK_PAGES - pi >= npages && self.sum(leaf, ci).unpack().1 >= npages {
                let (j, search_idx) = self.chunk(ci).bits.find(npages, pi);
                if j == NOT_FOUND {
                    crate::throw("bad summary data");
                }
                (
                    ci * PALLOC_CHUNK_PAGES + j,
                    ci * PALLOC_CHUNK_PAGES + search_idx,
                )
            } else {
                let addr = self.find(npages);
                if addr == NOT_FOUND {
                    if npages == 1 {
                        self.search_addr = usize::MAX; // no free page at all
                    }
                    return None;
                }
                // Go narrows searchAddr for any size to the first free page find saw. We narrow
                // it for single pages, where the found page is that first free page.
                (addr, if npages == 1 { addr } else { self.search_addr })
            };
        let scav = self.alloc_range(addr, npages);
        if self.search_addr < search {
            self.search_addr = search;
        }
        Some((addr, scav))
    }

    /// Go: pageAlloc.allocRange. Mark pages in use; count (and clear) the scavenged ones.
    pub fn alloc_range(&mut self, base: usize, npages: usize) -> usize {
        let mut scav = 0;
        self.for_each_chunk_range(base, npages, |chunk, i, n| {
            for p in i..i + n {
                if chunk.scavenged.get(p) {
                    scav += 1;
                }
            }
            chunk.scavenged.free(i, n);
            chunk.bits.alloc_range(i, n);
        });
        self.free_pages -= npages;
        self.scav_pages -= scav;
        self.update(base, npages);
        scav
    }

    /// Go: pageAlloc.free.
    pub fn free(&mut self, base: usize, npages: usize) {
        if base < self.search_addr {
            self.search_addr = base;
        }
        self.for_each_chunk_range(base, npages, |chunk, i, n| chunk.bits.free(i, n));
        self.free_pages += npages;
        self.update(base, npages);
    }

    /// Call `f(chunk, first page in chunk, pages)` for each chunk `[base, base+npages)` touches.
    fn for_each_chunk_range(
        &mut self,
        base: usize,
        npages: usize,
        mut f: impl FnMut(&mut PallocData, usize, usize),
    ) {
        let mut p = base;
        let limit = base + npages;
        while p < limit {
            let (ci, i) = (p / PALLOC_CHUNK_PAGES, p % PALLOC_CHUNK_PAGES);
            let n = (PALLOC_CHUNK_PAGES - i).min(limit - p);
            f(self.chunk_mut(ci), i, n);
            p += n;
        }
    }

    /// Go's checkPageAlloc in tests: every summary equals the one recomputed from the bitmaps.
    pub fn check(&self) -> Result<(), String> {
        let leaf = SUMMARY_LEVELS - 1;
        for c in self.start..self.end {
            let want = self.chunk(c).bits.summarize();
            if self.sum(leaf, c) != want {
                return Err(format!(
                    "chunk {c}: summary {:?}, bitmap says {:?}",
                    self.sum(leaf, c).unpack(),
                    want.unpack()
                ));
            }
        }
        for l in (0..leaf).rev() {
            let shift = level_bits(l + 1);
            for i in 0..level_entries(l) {
                let children: [PallocSum; 1 << SUMMARY_LEVEL_BITS] =
                    std::array::from_fn(|k| self.sum(l + 1, (i << shift) + k));
                let want = merge_summaries(&children, level_log_pages(l + 1));
                if self.sum(l, i) != want {
                    return Err(format!(
                        "level {l} entry {i}: {:?}, children say {:?}",
                        self.sum(l, i).unpack(),
                        want.unpack()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_tree_has_go_s_shape_over_a_smaller_region() {
        assert_eq!(SUMMARY_L0_BITS, 2);
        assert_eq!(level_log_pages(0), 21, "a root summary covers 16 GiB");
        assert_eq!(
            level_log_pages(SUMMARY_LEVELS - 1),
            9,
            "a leaf covers one chunk"
        );
        assert_eq!(level_entries(SUMMARY_LEVELS - 1), NUM_CHUNKS);
    }

    #[test]
    fn a_run_straddling_chunks_is_found_by_the_upper_levels() {
        let mut p = PageAlloc::new().unwrap();
        p.grow(0, 4 * PALLOC_CHUNK_PAGES);
        // Leave 300 free pages at the end of chunk 0 and 300 at the start of chunk 1.
        p.alloc_range(0, 212);
        p.alloc_range(812, 4 * PALLOC_CHUNK_PAGES - 812);
        assert_eq!(p.find(600), 212, "a run no single chunk holds");
        assert_eq!(p.find(601), NOT_FOUND);
        p.check().unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Random allocs and frees against a plain bitmap: the tree's first fit is the
        /// bitmap's first fit, and every summary stays equal to its recomputed value. 64
        /// chunks span two level-2 summaries, and runs up to 5000 pages cross chunks, so
        /// every level's straddling logic is used.
        #[test]
        fn first_fit_agrees_with_a_linear_scan(ops in prop::collection::vec((any::<bool>(), 1usize..5000, any::<prop::sample::Index>()), 1..120)) {
            const PAGES: usize = 64 * PALLOC_CHUNK_PAGES;
            let mut p = PageAlloc::new().unwrap();
            p.grow(0, PAGES);
            let mut model = vec![false; PAGES];
            // The model's first fit: one pass, counting the free run that ends at each page.
            let first_fit = |model: &[bool], n: usize| {
                let mut run = 0;
                for (i, used) in model.iter().enumerate() {
                    run = if *used { 0 } else { run + 1 };
                    if run == n {
                        return Some(i + 1 - n);
                    }
                }
                None
            };
            let mut live: Vec<(usize, usize)> = Vec::new();
            for (alloc, n, pick) in ops {
                if alloc || live.is_empty() {
                    let want = first_fit(&model, n);
                    match p.alloc(n) {
                        Some((got, _)) => {
                            prop_assert_eq!(Some(got), want, "first fit for {}", n);
                            model[got..got + n].iter_mut().for_each(|u| *u = true);
                            live.push((got, n));
                        }
                        None => prop_assert_eq!(want, None, "no run of {} claimed", n),
                    }
                } else {
                    let (b, n) = live.swap_remove(pick.index(live.len()));
                    p.free(b, n);
                    model[b..b + n].iter_mut().for_each(|u| *u = false);
                }
                prop_assert_eq!(p.free_pages, model.iter().filter(|u| !**u).count());
            }
            prop_assert_eq!(p.check(), Ok(()));
        }
    }
}
