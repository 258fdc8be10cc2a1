//! Go: runtime/mgcmark.go — marking: the roots, then a flood through the object graph.
//!
//! Tri-colour, on the span's mark bits: an object is white while its gcmark bit is clear,
//! grey once set and its address is in the work buffer, black once scanned. [`greyobject`]
//! sets the bit and queues the object; [`scanobject`] greys everything the object points
//! to; [`gc_drain`] pops until nothing is grey. Go's gcWork is a pair of per-P buffers that
//! spill to a global list; one mutator and one marker need only a `Vec`, used LIFO as Go's
//! buffers are (depth-first: the object just greyed is likely still in cache).
//!
//! [`greyobject`]: crate::heap::Heap::greyobject
//! [`scanobject`]: crate::heap::Heap::scanobject
//! [`gc_drain`]: crate::heap::Heap::gc_drain

use crate::heap::Heap;
use crate::mbitmap::{HeapBits, TypeInfo};
use crate::mgcmark_greenteagc::SpanInlineMarkBits;
use crate::mgcwork::{MarkMode, ScanStats};
use crate::types::PTR_SIZE;
use chapter_allocator::mspan::{gc_uses_span_inline_mark_bits, MSpan};

impl Heap {
    // ANCHOR: markroot
    /// Go: markroot. Root job `i`: job 0 greys everything the data and bss segments point to
    /// through their pointer bitmap (markrootBlock → scanblock); job 1 + k scans goroutine
    /// k's stack, frame by frame through its stack map (markrootStack → scanstack →
    /// scanframeworker), once per cycle (gcscandone: the stack is black after). Scalars are
    /// never looked at: this is what "precise" means. Returns (globals, stack) bytes scanned,
    /// which it also adds to the pacer's scan work.
    pub(crate) fn markroot(&mut self, i: usize) -> (u64, u64) {
        let mut globals = 0;
        let mut stacks = 0;
        if i == 0 {
            for i in 0..self.globals.words.len() {
                if self.globals.ptrmask[i] {
                    globals += PTR_SIZE as u64;
                    self.shade(self.globals.words[i]);
                }
            }
        } else {
            let g = i - 1;
            if self.sched.allgs[g].gcscandone {
                return (0, 0);
            }
            self.sched.allgs[g].gcscandone = true;
            // The current G's stack is the heap's `stack`; the others wait in their G.
            let stack = if g == self.sched.cur_g {
                std::mem::take(&mut self.stack)
            } else {
                std::mem::take(&mut self.sched.allgs[g].stack)
            };
            for f in &stack.frames {
                for (j, &w) in f.slots.iter().enumerate() {
                    stacks += PTR_SIZE as u64;
                    if f.ptrmask[j] {
                        self.shade(w);
                    }
                }
            }
            if g == self.sched.cur_g {
                self.stack = stack;
            } else {
                self.sched.allgs[g].stack = stack;
            }
        }
        self.controller.globals_scan_work += globals as i64;
        self.controller.stack_scan_work += stacks as i64;
        self.trace.globals += globals;
        self.trace.stacks += stacks;
        (globals, stacks)
    }
    // ANCHOR_END: markroot

    /// Go: shade. Grey the object `b` points into, if it is a heap object at all (findObject
    /// answers no for nil, for the bss, for anything else).
    pub(crate) fn shade(&mut self, b: usize) {
        if b == 0 {
            return;
        }
        if self.mark_mode == MarkMode::GreenTea && self.try_defer_to_span_scan(b) {
            return;
        }
        if let Some((s, i, base)) = self.find_object(b) {
            self.greyobject(base, s, i);
        }
    }

    /// Go: gcmarknewobject. An object allocated while marking is black: its mark bit set
    /// (with Green Tea, in the span's inline marks, and its scan bit too: there is nothing in
    /// it to scan).
    pub(crate) fn gcmarknewobject(&mut self, span: &mut MSpan, obj: usize) {
        let i = span.obj_index(obj);
        if self.mark_mode == MarkMode::GreenTea && gc_uses_span_inline_mark_bits(span.elemsize) {
            let imb = SpanInlineMarkBits::of(span);
            imb.set_marked(i);
            imb.set_scanned(i);
        } else {
            span.gcmark_bits.set(i);
        }
        self.bytes_marked += span.elemsize as u64;
    }

    // ANCHOR: greyobject
    /// Go: greyobject. If the object is white, mark it; queue it for scanning unless its span
    /// is noscan, in which case it is black at once (it has nothing to scan).
    pub(crate) fn greyobject(&mut self, obj: usize, s: *mut MSpan, obj_index: usize) {
        // ANCHOR: solution-greyobject
        // SAFETY: `s` is one of our spans, found by findObject.
        let span = unsafe { &mut *s };
        if span.gcmark_bits.is_set(obj_index) {
            return; // already grey or black
        }
        span.gcmark_bits.set(obj_index);
        self.bytes_marked += span.elemsize as u64;
        if span.spanclass.noscan() {
            return; // Go: fast-track to black
        }
        self.work.put_obj(obj);
        // ANCHOR_END: solution-greyobject
    }
    // ANCHOR_END: greyobject

    // ANCHOR: scanobject
    /// Go: scanobject. Blacken the object at `b`: grey every object its pointer words point
    /// to. Where the pointer words are comes from the heap bits, the malloc header or the
    /// span's largeType (mbitmap.rs). Go splits objects over 128 KiB into oblets so that
    /// several workers can share them; one marker has no need.
    pub(crate) fn scanobject(&mut self, b: usize) {
        let (s, _, base) = self.find_object(b).expect("scanobject: not a heap object");
        // SAFETY: our span.
        let span = unsafe { &*s };
        let (info, data) = self.type_info(s, base);
        let end = base + span.elemsize;
        let mut scanned = 0;
        let mut addr = data;
        while addr < end {
            let w = (addr - data) / PTR_SIZE;
            let is_ptr = match info {
                TypeInfo::Noscan => break,
                TypeInfo::HeapBits => HeapBits::of(span).is_ptr(span, addr),
                TypeInfo::Header(t) | TypeInfo::Large(t) => {
                    if w * PTR_SIZE >= t.ptr_bytes {
                        break; // past PtrBytes: nothing more to find
                    }
                    t.is_ptr_word(w)
                }
            };
            if is_ptr {
                // SAFETY: a word of a live object.
                let p = unsafe { *span.ptr(addr).cast::<usize>() };
                scanned = addr + PTR_SIZE - base;
                // Go skips pointers into the object itself: it is already black.
                if p != 0
                    && !(base..end).contains(&p)
                    && !(self.mark_mode == MarkMode::GreenTea && self.try_defer_to_span_scan(p))
                {
                    if let Some((ps, pi, pbase)) = self.find_object(p) {
                        self.greyobject(pbase, ps, pi);
                    }
                }
            }
            addr += PTR_SIZE;
        }
        self.controller.heap_scan_work += scanned as i64;
    }
    // ANCHOR_END: scanobject

    // ANCHOR: gc_drain
    /// Go: gcDrain. Scan grey objects and queued spans until none is left, or for `budget`
    /// steps (one object or one span each: the incremental steps a test interleaves with
    /// the mutator). The order is mgcwork.go's: the local object buffer, the local span
    /// ring, the global object buffers, the spilled spans; then flush the write barrier
    /// buffer and look again. True if the work ran out.
    pub(crate) fn gc_drain(&mut self, mut budget: usize) -> bool {
        while budget > 0 {
            if let Some(b) = self.work.try_get_obj_fast() {
                self.scanobject(b);
            } else if let Some(s) = self.work.try_get_span_fast() {
                self.scan_span(s);
            } else if let Some(b) = self.work.try_get_obj() {
                self.scanobject(b);
            } else if let Some(s) = self.work.try_get_span() {
                self.scan_span(s);
            } else if !self.wbbuf.is_empty() {
                self.wb_buf_flush();
                continue;
            } else {
                return true;
            }
            budget -= 1;
        }
        self.work.is_empty()
    }
    // ANCHOR_END: gc_drain

    /// Whether no grey object or queued span is left (the write barrier buffer aside).
    pub fn gc_work_empty(&self) -> bool {
        self.work.is_empty()
    }

    /// Go: gcWork's scan statistics (gctrace=2), summed over the heap's life.
    pub fn scan_stats(&self) -> &ScanStats {
        &self.work.stats
    }

    /// The spans queued for scanning, in the order they will be scanned (tests).
    pub fn queued_spans(&self) -> Vec<usize> {
        self.work
            .spanq
            .queued()
            .iter()
            .map(|p| p.span_base())
            .collect()
    }

    /// Whether the object at `p` is marked this cycle: its span's inline mark bit with
    /// Green Tea (until the sweep merges them), else its gcmarkBits bit.
    pub fn is_marked(&self, p: usize) -> bool {
        let Some((s, i, _)) = self.find_object(p) else {
            return false;
        };
        // SAFETY: our span.
        let span = unsafe { &*s };
        span.gcmark_bits.is_set(i)
            || (gc_uses_span_inline_mark_bits(span.elemsize)
                && SpanInlineMarkBits::of(span).is_marked(i))
    }

    /// The mark mode (see [`MarkMode`]).
    pub fn mark_mode(&self) -> MarkMode {
        self.mark_mode
    }

    /// Go: wbBufFlush1. Shade every pointer the barrier recorded in the current P's buffer
    /// (the other Ps' wait in their P records, proc.rs).
    pub(crate) fn wb_buf_flush(&mut self) {
        let buf = std::mem::take(&mut self.wbbuf);
        for &p in &buf {
            self.shade(p);
        }
        self.wbbuf = buf;
        self.wbbuf.clear();
        self.stats.wb_flushes += 1;
    }
}
