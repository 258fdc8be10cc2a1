//! The central free lists: one per span class, shared by every mcache (Go: mcentral.go).
//!
//! An mcentral holds the spans of its class that have free objects, in two span sets: one
//! of swept spans and one of unswept spans. Which is which flips every GC cycle: the sets are
//! indexed by `sweepgen/2 % 2`, and the GC adds 2 to sweepgen, so last cycle's swept spans
//! become this cycle's unswept ones without moving.
//!
//! Go also keeps two sets of *full* spans, for the next cycle's sweeper to find. This heap
//! has no GC yet: a full span is in no set and waits for its first free, whose thread sweeps
//! it (see [`MSpan::free_remote`]); and nothing is ever unswept, as only a GC cycle makes
//! spans so. The GC chapter adds the full sets and the sweeper.

use crate::mheap::MHeap;
use crate::mspan::{MSpan, SpanClass};
use crate::mspanset::SpanSet;
use crate::sizeclasses::CLASS_TABLE;

/// Go: mcentral.
pub struct MCentral {
    /// Go: partial. Swept and unswept spans with free objects, by sweepgen/2 % 2.
    partial: [SpanSet; 2],
}

impl MCentral {
    pub const fn new() -> MCentral {
        MCentral {
            partial: [SpanSet::new(), SpanSet::new()],
        }
    }

    /// Go: partialSwept.
    pub fn partial_swept(&self, sweepgen: u32) -> &SpanSet {
        &self.partial[(sweepgen / 2 % 2) as usize]
    }

    /// Go: partialUnswept.
    pub fn partial_unswept(&self, sweepgen: u32) -> &SpanSet {
        &self.partial[(1 - sweepgen / 2 % 2) as usize]
    }

    // ANCHOR: cache_span
    /// Go: mcentral.cacheSpan. A span with at least one free object for an mcache: a swept
    /// partial span, else an unswept one (swept now), else a new span from the heap. Null
    /// only when the heap is out of memory.
    pub fn cache_span(&self, heap: &MHeap, spc: SpanClass) -> *mut MSpan {
        let sg = heap.sweepgen();
        let mut s = self.partial_swept(sg).pop();
        if s.is_null() {
            // Go's next step. Only a GC cycle makes spans unswept, so here this set is empty
            // until the GC chapter.
            s = self.partial_unswept(sg).pop();
        }
        if s.is_null() {
            // Go: mcentral.grow.
            s = heap.alloc_span(CLASS_TABLE[spc.sizeclass()].npages, spc);
            if s.is_null() {
                return s;
            }
        }
        // SAFETY: popped or fresh: this span is ours alone now.
        let span = unsafe { &mut *s };
        let freed = span.sweep_freed();
        heap.stats.count_frees(spc.sizeclass(), freed);
        span.sweepgen = sg + 3; // cached and swept
        span.alloc_count_before_cache = span.alloc_count;
        s
    }
    // ANCHOR_END: cache_span

    // ANCHOR: uncache_span
    /// Go: mcentral.uncacheSpan. An mcache gives a span back: sweep in what was freed; an
    /// empty span goes back to the heap, a partial one to the swept set, a full one to no
    /// set unless a free is already pending (then sweep again). True if it went to the heap.
    ///
    /// # Safety
    /// `s` is a span of this class that the caller owns and gives up.
    pub unsafe fn uncache_span(&self, heap: &MHeap, s: *mut MSpan) -> bool {
        // SAFETY: the caller owns the span.
        let span = unsafe { &mut *s };
        let sg = heap.sweepgen();
        loop {
            let freed = span.sweep_freed();
            heap.stats.count_frees(span.spanclass.sizeclass(), freed);
            span.sweepgen = sg;
            if span.alloc_count == 0 {
                // SAFETY: empty and ours: nobody can reach its objects.
                unsafe { heap.free_span(s) };
                return true;
            }
            if span.alloc_count < span.nelems {
                self.partial_swept(sg).push(s);
                return false;
            }
            if span.try_mark_full() {
                return false; // the next free into it hands it back
            }
        }
    }
    // ANCHOR_END: uncache_span

    /// Sweep every partial span now and give the empty ones back to the heap (Go's sweeper
    /// does this for every span after each GC; here [`crate::malloc::free_os_memory`] asks).
    pub fn sweep_partial(&self, heap: &MHeap) {
        let sg = heap.sweepgen();
        for set in [self.partial_swept(sg), self.partial_unswept(sg)] {
            for _ in 0..set.len() {
                let s = set.pop();
                if s.is_null() {
                    break;
                }
                // SAFETY: popped, so ours.
                unsafe { self.uncache_span(heap, s) };
            }
        }
    }
}

impl Default for MCentral {
    fn default() -> Self {
        Self::new()
    }
}
