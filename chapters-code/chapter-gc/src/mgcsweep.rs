//! Go: runtime/mgcsweep.go — sweeping: after marking, every unmarked object is free.
//!
//! Go sweeps lazily: mark termination only advances mheap_.sweepgen, and spans are swept
//! one at a time by the background sweeper, by allocation (mcentral.cacheSpan sweeps before
//! it hands out a span) and by sweepone, so that the pause stays short. This stage sweeps
//! every span at mark termination, which is what Go does when the world stays stopped for it
//! (gcSweep with gcForceBlockMode, used by runtime.GC's debug.gcstoptheworld=2): there is
//! never an unswept span, so sweep termination has nothing left to finish.

use crate::heap::Heap;

impl Heap {
    // ANCHOR: sweep
    /// Go: gcSweep + sweepone + mspan.sweep for every span. A span's mark bits become its
    /// alloc bits (MSpan::sweep); objects freed mean its memory must be zeroed before reuse
    /// (needzero); a span left empty goes back to the MHeap (mheap.freeSpan), a large object
    /// too; a span with room goes on its class's partial list. Returns the objects freed.
    pub(crate) fn sweep_all(&mut self) -> usize {
        // Go: the mcaches were flushed at mark termination (releaseAll).
        self.alloc.fill(std::ptr::null_mut());
        self.partial.iter_mut().for_each(Vec::clear);
        let mut freed = 0;
        let mut freed_bytes = 0;
        let mut kept = Vec::with_capacity(self.allspans.len());
        for s in std::mem::take(&mut self.allspans) {
            // SAFETY: our span; marking is over, nothing else looks at it.
            let span = unsafe { &mut *s };
            // Go: mspan.sweep. Green Tea marked small objects in the span's inline bits:
            // merge them into gcmarkBits first. Go merges after the specials pass, whose
            // markBitsForIndex reads the inline bits for such spans; merging first gives the
            // specials pass the same answer from one place.
            crate::mgcmark_greenteagc::move_inline_marks(span);
            // Finalizers, cleanups, weak handles of unmarked objects, while the mark bits
            // still say which objects those are (specials.rs).
            self.sweep_specials(s);
            let n = span.sweep();
            freed += n;
            freed_bytes += n * span.elemsize;
            if n > 0 {
                span.needzero = true; // Go: s.needzero = 1 when nfreed > 0
            }
            if span.alloc_count == 0 {
                if span.spanclass.sizeclass() == 0 {
                    self.large_types.remove(&span.base);
                }
                // specials.rs: an empty span's objects took their records with them.
                debug_assert!(!self.specials.spans.contains_key(&span.base));
                // SAFETY: no live object is left in it, and we drop our only reference.
                unsafe { self.mheap.free_span(s) };
                self.stats.spans_freed += 1;
                continue;
            }
            if span.alloc_count < span.nelems {
                self.partial[span.spanclass.0 as usize].push(s);
            }
            kept.push(s);
        }
        self.allspans = kept;
        self.controller.total_free += freed_bytes as u64;
        freed
    }
    // ANCHOR_END: sweep
}
