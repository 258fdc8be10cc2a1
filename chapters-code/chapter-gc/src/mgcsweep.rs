//! Go: runtime/mgcsweep.go — sweeping: after marking, every unmarked object is free.
//!
//! Go sweeps lazily: mark termination only advances `mheap_.sweepgen` by 2, which makes every
//! span's `sweepgen` read "needs sweeping", and spans are swept one at a time afterwards: by
//! allocation (mcentral.cacheSpan sweeps a span before it hands it out), in proportion to
//! allocation (deductSweepCredit), by the background sweeper (bgsweep, on idle time) and, for
//! whatever is left when the next cycle starts, by sweep termination (finishsweep_m). The
//! pause stays short however big the heap.
//!
//! A heap sweeps that way when [`SweepState::lazy`] is on (the simulated machine of proc.rs
//! turns it on). Otherwise `Heap::sweep_all` sweeps every span at mark termination, which
//! is what Go does when the world stays stopped for it (gcSweep with gcForceBlockMode, under
//! debug.gcstoptheworld=2): there is never an unswept span then.
//!
//! The span states are Go's, on chapter-allocator's `MSpan::sweepgen` and the heap's own
//! [`SweepState::sweepgen`] (the allocator's `mheap_.sweepgen` has no setter: the GC keeps its
//! generation beside it): `sweepgen == sg - 2` needs sweeping, `sg` is swept. Go's `sg - 1`
//! (being swept) and `sg + 1`/`sg + 3` (cached by an mcache) never show here: one sweep is one
//! operation of the simulation, and the mcache's spans are released before sweepgen moves.

use crate::heap::Heap;
use chapter_allocator::mheap::NUM_SPAN_CLASSES;
use chapter_allocator::mspan::{MSpan, SpanClass};
use chapter_allocator::sizeclasses::{CLASS_TABLE, PAGE_SIZE};

/// Go: sweepBatchSize (bgsweep) — spans the background sweeper sweeps before it yields.
pub const SWEEP_BATCH_SIZE: usize = 10;
/// Go: the `spanBudget` of mcentral.cacheSpan — unswept spans it tries before growing.
pub const SPAN_BUDGET: usize = 100;

/// Go: mcentral, one per span class: the spans of that class no mcache holds, in two pairs
/// of sets, partial (with a free object) and full, each with a swept and an unswept half.
/// Which half is which depends on sweepgen (Go: `partialSwept(sg)` is `partial[sg/2%2]`), so
/// advancing sweepgen by 2 makes every swept span unswept without touching a span: mark
/// termination, with the world stopped, does not walk the spans.
#[derive(Debug, Default)]
pub(crate) struct MCentral {
    partial: [Vec<*mut MSpan>; 2],
    full: [Vec<*mut MSpan>; 2],
}

impl MCentral {
    pub(crate) fn partial_swept(&mut self, sg: u32) -> &mut Vec<*mut MSpan> {
        &mut self.partial[(sg / 2 % 2) as usize]
    }
    pub(crate) fn partial_unswept(&mut self, sg: u32) -> &mut Vec<*mut MSpan> {
        &mut self.partial[1 - (sg / 2 % 2) as usize]
    }
    pub(crate) fn full_swept(&mut self, sg: u32) -> &mut Vec<*mut MSpan> {
        &mut self.full[(sg / 2 % 2) as usize]
    }
    pub(crate) fn full_unswept(&mut self, sg: u32) -> &mut Vec<*mut MSpan> {
        &mut self.full[1 - (sg / 2 % 2) as usize]
    }
    /// The unswept full set, or the unswept partial set.
    pub(crate) fn unswept(&mut self, sg: u32, full: bool) -> &mut Vec<*mut MSpan> {
        if full {
            self.full_unswept(sg)
        } else {
            self.partial_unswept(sg)
        }
    }
    /// Spans in all four sets.
    fn len(&self) -> usize {
        self.partial.iter().chain(&self.full).map(Vec::len).sum()
    }
}

/// The lazy sweeper's state (Go: mheap_.sweepgen, pagesSwept, pagesSweptBasis,
/// sweepPagesPerByte, sweepHeapLiveBasis).
#[derive(Debug, Default)]
pub struct SweepState {
    /// Sweep lazily (see the module); off: sweep everything at mark termination.
    pub lazy: bool,
    /// Go: mheap_.sweepgen. Advanced by 2 at every mark termination.
    pub sweepgen: u32,
    /// Spans still unswept (Go: isSweepDone is this reaching 0).
    pub nunswept: usize,
    /// Go: the sweep class sweepone looks at next (nextSpanForSweep's centralIndex): span
    /// class × {full, partial}.
    sweep_index: usize,
    /// Go: mheap_.pagesSwept, pagesSweptBasis, sweepPagesPerByte, sweepHeapLiveBasis.
    pub pages_swept: u64,
    pub pages_swept_basis: u64,
    pub sweep_pages_per_byte: f64,
    pub sweep_heap_live_basis: u64,
    /// Who swept, since the heap was made: allocation (cacheSpan), proportional sweep
    /// (deductSweepCredit), the background sweeper, sweep termination.
    pub by_cache_span: usize,
    pub by_credit: usize,
    pub by_bgsweep: usize,
    pub by_finish: usize,
    /// ...and readers that must see a span swept first (Go: mspan.ensureSwept).
    pub by_ensure: usize,
}

/// Why a span is swept (for [`SweepState`]'s counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sweeper {
    CacheSpan,
    Credit,
    Bg,
    Finish,
    Ensure,
}

impl Heap {
    // ANCHOR: sweep
    /// Go: gcSweep + sweepone + mspan.sweep for every span. A span's mark bits become its
    /// alloc bits (MSpan::sweep); objects freed mean its memory must be zeroed before reuse
    /// (needzero); a span left empty goes back to the MHeap (mheap.freeSpan), a large object
    /// too; a span with room goes on its class's partial list. Returns the objects freed.
    pub(crate) fn sweep_all(&mut self) -> usize {
        // Go: the mcaches were flushed at mark termination (releaseAll). Every span is swept
        // below and put back in the swept set it now belongs to.
        self.alloc.fill(std::ptr::null_mut());
        self.central
            .iter_mut()
            .for_each(|c| *c = MCentral::default());
        let mut freed = 0;
        let mut kept = Vec::with_capacity(self.allspans.len());
        for s in std::mem::take(&mut self.allspans) {
            let (n, released) = self.mspan_sweep(s);
            freed += n;
            if !released {
                kept.push(s);
            }
        }
        self.allspans = kept;
        freed
    }
    // ANCHOR_END: sweep

    /// Put a swept span that no mcache holds in its class's swept partial set if it has a
    /// free object, else in the swept full set: what mcentral.uncacheSpan does with a span
    /// the mcache gives back, and mspan.sweep with a span it keeps. (Not inlined: it is off
    /// the allocation fast path.)
    #[inline(never)]
    pub(crate) fn put_swept(&mut self, s: *mut MSpan) {
        // SAFETY: our span, in use.
        let (spc, room) = unsafe { ((*s).spanclass, (*s).alloc_count < (*s).nelems) };
        let (sg, c) = (self.sweep.sweepgen, &mut self.central[spc.0 as usize]);
        if room {
            c.partial_swept(sg).push(s);
        } else {
            c.full_swept(sg).push(s);
        }
    }

    /// Go: mspan.sweep. Sweep one span: its mark bits become its alloc bits; an empty span
    /// goes back to the MHeap, one with room to its class's swept partial set, a full one to
    /// the swept full set. Does not touch `allspans`. Returns (objects freed, span released).
    fn mspan_sweep(&mut self, s: *mut MSpan) -> (usize, bool) {
        // SAFETY: our span; nobody is marking (sweeping starts after mark termination and
        // ends before the next mark).
        let span = unsafe { &mut *s };
        // Go: mspan.sweep. Green Tea marked small objects in the span's inline bits: merge
        // them into gcmarkBits first. Go merges after the specials pass, whose
        // markBitsForIndex reads the inline bits for such spans; merging first gives the
        // specials pass the same answer from one place.
        crate::mgcmark_greenteagc::move_inline_marks(span);
        // Finalizers, cleanups, weak handles of unmarked objects, while the mark bits still
        // say which objects those are (specials.rs).
        self.sweep_specials(s);
        let n = span.sweep();
        span.sweepgen = self.sweep.sweepgen;
        self.sweep.pages_swept += span.npages as u64;
        self.controller.total_free += (n * span.elemsize) as u64;
        self.stats.total_freed += n;
        self.stats.last_freed += n;
        if n > 0 {
            span.needzero = true; // Go: s.needzero = 1 when nfreed > 0
        }
        if span.alloc_count == 0 {
            if span.spanclass.sizeclass() == 0 {
                self.large_types.remove(&span.base);
            }
            // specials.rs: an empty span's objects took their records with them.
            debug_assert!(!self.specials.spans.contains_key(&span.base));
            // SAFETY: no live object is left in it, and the caller drops its reference.
            unsafe { self.mheap.free_span(s) };
            self.stats.spans_freed += 1;
            return (n, true);
        }
        self.put_swept(s);
        (n, false)
    }

    /// Sweep an unswept span lazily, and forget it if it went back to the MHeap.
    fn sweep_lazily(&mut self, s: *mut MSpan, by: Sweeper) -> bool {
        // SAFETY: our span.
        let sg = unsafe { (*s).sweepgen };
        assert_eq!(
            sg,
            self.sweep.sweepgen.wrapping_sub(2),
            "sweeping a span that does not need it"
        );
        self.sweep.nunswept -= 1;
        match by {
            Sweeper::CacheSpan => self.sweep.by_cache_span += 1,
            Sweeper::Credit => self.sweep.by_credit += 1,
            Sweeper::Bg => self.sweep.by_bgsweep += 1,
            Sweeper::Finish => self.sweep.by_finish += 1,
            Sweeper::Ensure => self.sweep.by_ensure += 1,
        }
        let (_, released) = self.mspan_sweep(s);
        if released {
            let i = self.allspans.iter().position(|&x| x == s).unwrap();
            self.allspans.swap_remove(i);
        }
        released
    }

    /// Go: mspan.ensureSwept. Sweep `s` now if this cycle's sweep has not reached it:
    /// whoever asks an unswept span about its objects would get the last cycle's answer.
    /// A weak pointer's Value is such a reader (weak.rs).
    pub(crate) fn ensure_swept(&mut self, s: *mut MSpan) {
        // SAFETY: our span.
        let (sg, spc) = unsafe { ((*s).sweepgen, (*s).spanclass) };
        if !self.sweep.lazy || sg != self.sweep.sweepgen.wrapping_sub(2) {
            return;
        }
        // Go sweeps it where it is, and sweepone later skips it; here it leaves its set
        // first, so that no set ever holds a span the sweep gave back to the MHeap.
        let sg = self.sweep.sweepgen;
        for full in [false, true] {
            let set = self.central[spc.0 as usize].unswept(sg, full);
            if let Some(i) = set.iter().position(|&x| x == s) {
                set.swap_remove(i);
                self.sweep_lazily(s, Sweeper::Ensure);
                return;
            }
        }
    }

    // ANCHOR: lazy_sweep
    /// Go: the sweep half of gcMarkTermination with a background sweep (gcSweep): release
    /// the mcache's spans to their swept sets (mcache.releaseAll), then advance sweepgen by
    /// 2. That one store makes every swept set an unswept one: every span needs sweeping,
    /// and none was touched. Nothing is swept here; the caller paces the sweeper.
    pub(crate) fn sweep_start_lazy(&mut self) {
        assert_eq!(self.sweep.nunswept, 0, "the last sweep was not finished");
        for c in 0..NUM_SPAN_CLASSES {
            let s = std::mem::replace(&mut self.alloc[c], std::ptr::null_mut());
            if !s.is_null() {
                self.put_swept(s); // Go: mcache.releaseAll → mcentral.uncacheSpan
            }
        }
        self.sweep.sweepgen = self.sweep.sweepgen.wrapping_add(2);
        self.sweep.nunswept = self.allspans.len();
        debug_assert_eq!(
            self.central.iter().map(MCentral::len).sum::<usize>(),
            self.allspans.len(),
            "every span in use is in one of its mcentral's sets"
        );
        self.stats.last_freed = 0;
    }
    // ANCHOR_END: lazy_sweep

    /// Go: gcPaceSweeper. Sweep the pages in use, less those swept, by the time heapLive
    /// reaches the trigger (less 1 MiB of slack): the pages per allocated byte.
    pub(crate) fn gc_pace_sweeper(&mut self, trigger: u64) {
        let sw = &mut self.sweep;
        if sw.nunswept == 0 {
            sw.sweep_pages_per_byte = 0.0;
            return;
        }
        let heap_live_basis = self.controller.heap_live;
        let heap_distance =
            (trigger as i64 - heap_live_basis as i64 - (1 << 20)).max(PAGE_SIZE as i64);
        // Go: mheap_.pagesInUse, a counter (a walk of the spans would make the pause grow
        // with the heap).
        let pages_in_use = (self.heap_inuse() / PAGE_SIZE) as u64;
        debug_assert_eq!(
            pages_in_use,
            // SAFETY: our spans.
            (self.allspans.iter())
                .map(|&s| unsafe { (*s).npages } as u64)
                .sum::<u64>()
        );
        let sw = &mut self.sweep;
        // Go counts pagesSwept from zero every cycle (gcSweep resets it).
        sw.pages_swept = 0;
        let sweep_distance_pages = pages_in_use as i64;
        if sweep_distance_pages <= 0 {
            sw.sweep_pages_per_byte = 0.0;
        } else {
            sw.sweep_pages_per_byte = sweep_distance_pages as f64 / heap_distance as f64;
            sw.sweep_heap_live_basis = heap_live_basis;
            sw.pages_swept_basis = sw.pages_swept;
        }
    }

    /// Go: nextSpanForSweep + sweepone. Sweep one unswept span, from the classes in turn.
    /// Returns the pages it gave back to the heap (0 if the span stays), or None when no span
    /// was left to sweep (Go: ^uintptr(0)).
    pub(crate) fn sweepone_by(&mut self, by: Sweeper) -> Option<usize> {
        if self.sweep.nunswept == 0 {
            return None;
        }
        let sg = self.sweep.sweepgen;
        // Go: sweepClass, a span class's full set then its partial set.
        for k in 0..2 * NUM_SPAN_CLASSES {
            let sc = (self.sweep.sweep_index + k) % (2 * NUM_SPAN_CLASSES);
            if let Some(s) = self.central[sc / 2].unswept(sg, sc.is_multiple_of(2)).pop() {
                self.sweep.sweep_index = sc;
                // SAFETY: our span.
                let npages = unsafe { (*s).npages };
                return Some(if self.sweep_lazily(s, by) { npages } else { 0 });
            }
        }
        unreachable!("nunswept counts a span no list holds")
    }

    /// Go: sweepone, called by a program (as runtime.GC does to finish the sweep).
    pub fn sweepone(&mut self) -> Option<usize> {
        self.sweepone_by(Sweeper::Bg)
    }

    /// The span holding `p` is swept for this cycle (its sweepgen is the heap's).
    pub fn is_swept(&self, p: crate::heap::Ptr) -> bool {
        let s = self.mheap.span_of(p.0);
        // SAFETY: span_of returns our spans.
        !s.is_null() && unsafe { (*s).sweepgen } == self.sweep.sweepgen
    }

    /// Go: isSweepDone.
    pub fn is_sweep_done(&self) -> bool {
        self.sweep.nunswept == 0
    }

    // ANCHOR: deduct_sweep_credit
    /// Go: deductSweepCredit. Before an allocation takes a span of `span_bytes`, sweep
    /// enough pages that sweeping stays ahead of allocation: `sweepPagesPerByte` of every
    /// byte allocated since the pacing basis, less `caller_sweep_pages` the caller sweeps
    /// itself. Once nothing is left to sweep, pacing turns off.
    pub(crate) fn deduct_sweep_credit(&mut self, span_bytes: usize, caller_sweep_pages: usize) {
        if self.sweep.sweep_pages_per_byte == 0.0 {
            return;
        }
        let swept_basis = self.sweep.pages_swept_basis;
        let live = self.controller.heap_live;
        let mut new_heap_live = span_bytes as u64;
        if self.sweep.sweep_heap_live_basis < live {
            new_heap_live += live - self.sweep.sweep_heap_live_basis;
        }
        let pages_target = (self.sweep.sweep_pages_per_byte * new_heap_live as f64) as i64
            - caller_sweep_pages as i64;
        while pages_target > (self.sweep.pages_swept - swept_basis) as i64 {
            if self.sweepone_by(Sweeper::Credit).is_none() {
                self.sweep.sweep_pages_per_byte = 0.0;
                break;
            }
        }
    }
    // ANCHOR_END: deduct_sweep_credit

    // ANCHOR: cache_span
    /// Go: mcentral.cacheSpan. A span of class `spc` with a free object for the mcache:
    /// after paying sweep credit, a swept partial span; else an unswept one, swept here
    /// first (so an unswept span is never handed out); a full one is swept and passed over.
    /// None: the caller grows the heap (mcentral.grow).
    pub(crate) fn cache_span(&mut self, spc: SpanClass) -> Option<*mut MSpan> {
        if self.sweep.lazy {
            let span_bytes = CLASS_TABLE[spc.sizeclass()].npages * PAGE_SIZE;
            self.deduct_sweep_credit(span_bytes, 0);
        }
        let (sg, c) = (self.sweep.sweepgen, spc.0 as usize);
        if let Some(s) = self.central[c].partial_swept(sg).pop() {
            // SAFETY: our span.
            debug_assert_eq!(unsafe { (*s).sweepgen }, sg);
            return Some(s);
        }
        if self.sweep.nunswept == 0 {
            return None;
        }
        // Partial unswept spans first, then full ones (sweeping may free objects in them),
        // SPAN_BUDGET spans in all.
        let mut budget = SPAN_BUDGET;
        for full in [false, true] {
            while budget > 0 {
                let Some(s) = self.central[c].unswept(sg, full).pop() else {
                    break;
                };
                budget -= 1;
                if self.sweep_lazily(s, Sweeper::CacheSpan) {
                    continue; // empty: back to the MHeap (Go: freeSpan, then grow takes it)
                }
                // The sweep put it in the swept partial set if it has room, else in the
                // swept full set.
                if let Some(s) = self.central[c].partial_swept(sg).pop() {
                    return Some(s);
                }
            }
        }
        None
    }
    // ANCHOR_END: cache_span

    /// Go: bgsweep, one turn: sweep up to [`SWEEP_BATCH_SIZE`] spans, then yield. False
    /// when there was nothing to sweep.
    pub(crate) fn bgsweep_step(&mut self) -> bool {
        let mut any = false;
        for _ in 0..SWEEP_BATCH_SIZE {
            if self.sweepone_by(Sweeper::Bg).is_none() {
                break;
            }
            any = true;
        }
        any
    }

    /// Go: finishsweep_m (sweep termination, at gcStart): sweep every span still unswept,
    /// so that the mark bits are free for the next cycle.
    pub(crate) fn finish_sweep(&mut self) {
        while self.sweepone_by(Sweeper::Finish).is_some() {}
        self.sweep.sweep_pages_per_byte = 0.0;
    }
}
