//! The scavenger: giving free pages back to the OS (Go: mgcscavenge.go, since 1.13;
//! rewritten around the page allocator in 1.14 and paced by the memory limit in 1.19).
//!
//! A free page whose memory is still resident costs RSS for nothing; returning it costs a
//! `madvise` now and a page fault when it is used again. Go keeps the heap's retained memory
//! (in use + free and resident) near a target: 10% above what the last GC cycle left in use
//! (`retainExtraPercent`), or 95% of the memory limit. A background goroutine, paced to 1% of
//! one CPU, releases the excess; it works from the top of the address space down, because
//! the page allocator allocates from the bottom up, and it skips chunks that are nearly full
//! (at least 96.875% in use), which are better left to huge pages.
//!
//! This heap has no GC cycle and no goroutine to pace. Its target is 10% above the pages in
//! use now, and it releases on the free path, and after the heap grows, as Go's allocSpan
//! does.

use crate::mpagealloc::PageAlloc;
use crate::mpallocbits::PALLOC_CHUNK_PAGES;

/// Go: retainExtraPercent.
pub const RETAIN_EXTRA_PERCENT: usize = 10;
/// Go: scavChunkHiOccFrac. Chunks at least this full are not scavenged.
pub const SCAV_CHUNK_HI_OCC_FRAC: f64 = 0.96875;
/// Go: scavChunkHiOccPages.
pub const SCAV_CHUNK_HI_OCC_PAGES: usize =
    (SCAV_CHUNK_HI_OCC_FRAC * PALLOC_CHUNK_PAGES as f64) as usize;

/// Pages the heap may keep resident with `inuse` pages in use: Go's gcPercentGoal,
/// `(1 + retainExtraPercent/100) * heapGoal/lastHeapGoal * lastHeapInUse`, with no GC cycle
/// to move the heap goal, so with the pages in use now.
pub fn retained_goal(inuse: usize) -> usize {
    inuse + inuse * RETAIN_EXTRA_PERCENT / 100
}

impl PageAlloc {
    // ANCHOR: scavenge
    /// Go: pageAlloc.scavenge. Release up to `npages` free, resident pages, highest address
    /// first, calling `release(first page, pages)` for each run. Dense chunks are skipped
    /// unless `force` (Go: debug.FreeOSMemory forces). Returns the pages released.
    pub fn scavenge(
        &mut self,
        npages: usize,
        force: bool,
        mut release: impl FnMut(usize, usize),
    ) -> usize {
        let mut released = 0;
        for ci in (self.start..self.end).rev() {
            if released >= npages {
                break;
            }
            let chunk = self.chunk(ci);
            let inuse: usize = chunk.bits.0.iter().map(|w| w.count_ones() as usize).sum();
            if inuse >= SCAV_CHUNK_HI_OCC_PAGES && !force {
                continue; // dense: leave it to huge pages
            }
            // Runs of free, unscavenged pages, top down (Go: findScavengeCandidate).
            let mut p = PALLOC_CHUNK_PAGES;
            while p > 0 && released < npages {
                let chunk = self.chunk(ci);
                let candidate = |i: usize| !chunk.bits.get(i) && !chunk.scavenged.get(i);
                if !candidate(p - 1) {
                    p -= 1;
                    continue;
                }
                let end = p;
                while p > 0 && candidate(p - 1) && end - (p - 1) <= npages - released {
                    p -= 1;
                }
                let n = end - p;
                // Go: sysUnused, then mark the pages scavenged.
                release(ci * PALLOC_CHUNK_PAGES + p, n);
                let chunk = self.chunk_mut(ci);
                chunk.scavenged.alloc_range(p, n);
                released += n;
            }
        }
        self.scav_pages += released;
        released
    }
    // ANCHOR_END: scavenge
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn releases_from_the_top_and_skips_dense_chunks() {
        let mut p = PageAlloc::new().unwrap();
        p.grow(0, 3 * PALLOC_CHUNK_PAGES);
        // Use everything: nothing is free or scavenged now.
        p.alloc_range(0, 3 * PALLOC_CHUNK_PAGES);
        assert_eq!(p.scav_pages, 0);
        // Free 10 pages in chunk 0 (dense: 502 in use), 100 in chunk 1, 100 in chunk 2.
        p.free(100, 10);
        p.free(PALLOC_CHUNK_PAGES + 50, 100);
        p.free(2 * PALLOC_CHUNK_PAGES + 200, 100);
        let mut runs = Vec::new();
        let got = p.scavenge(150, false, |b, n| runs.push((b, n)));
        assert_eq!(got, 150);
        assert_eq!(
            runs,
            vec![
                (2 * PALLOC_CHUNK_PAGES + 200, 100),
                (PALLOC_CHUNK_PAGES + 100, 50)
            ],
            "top down, and only as much as asked"
        );
        // The rest of chunk 1's run, then nothing: chunk 0 is too dense to touch.
        assert_eq!(p.scavenge(1000, false, |_, _| {}), 50);
        // Forced (Go: FreeOSMemory), the dense chunk gives up its 10 pages too.
        assert_eq!(p.scavenge(1000, true, |_, _| {}), 10);
        // Reallocating scavenged pages reports them, so the heap knows they read as zero.
        let (base, scav) = p.alloc(100).unwrap();
        assert_eq!(
            (base, scav),
            (PALLOC_CHUNK_PAGES + 50, 100),
            "first fit: the dense chunk's 10 pages are too few; chunk 1's run is all scavenged"
        );
    }
}
