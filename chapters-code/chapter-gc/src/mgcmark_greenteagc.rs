//! Go: runtime/mgcmark_greenteagc.go — Green Tea: marking small objects span by span.
//!
//! The classic collector greys one object at a time and scans them in LIFO order, so it
//! jumps all over memory. Green Tea (the default since Go 1.26) notices that most pointers
//! lead to small objects, and that objects of one span sit on one page: discovering a pointer
//! to a small scan object (16..=512 B, [`gc_uses_span_inline_mark_bits`]) only sets the
//! object's bit in its span's *inline mark bits* ([`Heap::try_defer_to_span_scan`]) and
//! queues the *span* once, in a FIFO [`SpanQueue`]. By the time the span comes out of the
//! queue more of its objects have usually been marked, and [`Heap::scan_span`] scans them all
//! at once, touching one page. Objects past 512 B, large objects, and 8-byte objects keep the
//! classic path (greyobject and the object buffer); noscan spans of 16..=512 B only get their
//! mark bit, as in Go, and are never queued.
//!
//! # Where the inline mark bits live
//!
//! In the span's last 128 bytes, exactly as Go lays out `spanInlineMarkBits`: `scans[63]`,
//! `owned`, `marks[63]`, `class`. chapter-allocator already keeps those bytes back from the
//! objects of every 16..=512 B span (its `nelems`, `SPAN_INLINE_MARK_BITS_SIZE`), and every
//! such span is one page, so the bits are at `base + 8192 - 128`, found from any pointer
//! into the span without the mspan (Go: spanInlineMarkBitsFromBase). The classic mode
//! leaves them zero.
//!
//! # Reconciliation
//!
//! During the cycle the truth for these spans is the inline `marks`, not `gcmarkBits`. Go
//! merges them when it sweeps the span (mgcsweep.go: mspan.sweep calls moveInlineMarks
//! before counting the survivors), and so does [`move_inline_marks`], from `sweep_all`.
//!
//! One marker, one P: the atomics of Go's protocol (Or8, Xchg8) are plain loads and stores
//! here, and the spmc chain other Ps steal from is a FIFO this P "steals" from itself
//! (tryGetSpan). Go scans dense spans with AVX-512 (scan.ScanSpanPacked) where the CPU has
//! it; this model always takes the portable path, scanObjectsSmall.

use crate::heap::Heap;
use crate::types::PTR_SIZE;
use chapter_allocator::mspan::{
    gc_uses_span_inline_mark_bits, MSpan, SpanClass, SPAN_INLINE_MARK_BITS_SIZE,
};
use chapter_allocator::sizeclasses::{object_index, PAGE_SHIFT, PAGE_SIZE};
use std::collections::VecDeque;

/// Go: spanScanOwnership values.
pub const SPAN_SCAN_UNOWNED: u8 = 0;
pub const SPAN_SCAN_ONE_MARK: u8 = 1 << 1;
pub const SPAN_SCAN_MANY_MARK: u8 = 1 << 2;

/// Byte offsets inside spanInlineMarkBits.
const SCANS: usize = 0;
const OWNED: usize = 63;
const MARKS: usize = 64;
const CLASS: usize = 127;

/// Go: *spanInlineMarkBits — a view of the 128 bytes at the end of a span's page.
#[derive(Clone, Copy, Debug)]
pub struct SpanInlineMarkBits {
    p: *mut u8,
}

impl SpanInlineMarkBits {
    /// Go: mspan.inlineMarkBits / spanInlineMarkBitsFromBase.
    #[inline]
    pub fn of(span: &MSpan) -> SpanInlineMarkBits {
        debug_assert!(gc_uses_span_inline_mark_bits(span.elemsize) && span.npages == 1);
        SpanInlineMarkBits {
            p: span.ptr(span.base + PAGE_SIZE - SPAN_INLINE_MARK_BITS_SIZE),
        }
    }

    #[inline]
    fn byte(&self, off: usize) -> u8 {
        // SAFETY: the 128 bytes lie in the span's mapped page, past its objects.
        unsafe { *self.p.add(off) }
    }

    #[inline]
    fn set_byte(&self, off: usize, v: u8) {
        // SAFETY: as in `byte`; one marker, nothing else writes them during marking.
        unsafe { *self.p.add(off) = v }
    }

    /// Word `i` of the marks (`MARKS`) or scans (`SCANS`), bit `j` = object `64*i + j`; the
    /// last word's top byte (class or owned) masked out.
    #[inline]
    fn word(&self, off: usize, i: usize) -> u64 {
        // SAFETY: as in `byte`; 8-aligned, the page being 128-aligned at its end.
        let w = u64::from_le(unsafe { self.p.add(off + i * 8).cast::<u64>().read() });
        if i == 7 {
            w & !(0xff << 56)
        } else {
            w
        }
    }

    #[inline]
    fn or_word(&self, off: usize, i: usize, v: u64) {
        // SAFETY: as in `word`.
        unsafe {
            let q = self.p.add(off + i * 8).cast::<u64>();
            q.write(q.read() | v.to_le());
        }
    }

    /// Go: spanInlineMarkBits.init. Zero everything, record the span class.
    pub fn init(&self, class: SpanClass) {
        // SAFETY: as in `byte`.
        unsafe { std::ptr::write_bytes(self.p, 0, SPAN_INLINE_MARK_BITS_SIZE) };
        self.set_byte(CLASS, class.0);
    }

    pub fn class(&self) -> SpanClass {
        SpanClass(self.byte(CLASS))
    }

    pub fn is_marked(&self, i: usize) -> bool {
        self.byte(MARKS + i / 8) & (1 << (i % 8)) != 0
    }

    pub fn is_scanned(&self, i: usize) -> bool {
        self.byte(SCANS + i / 8) & (1 << (i % 8)) != 0
    }

    pub fn set_marked(&self, i: usize) {
        let b = MARKS + i / 8;
        self.set_byte(b, self.byte(b) | 1 << (i % 8));
    }

    pub fn set_scanned(&self, i: usize) {
        let b = SCANS + i / 8;
        self.set_byte(b, self.byte(b) | 1 << (i % 8));
    }

    pub fn owned(&self) -> u8 {
        self.byte(OWNED)
    }

    // ANCHOR: try_acquire
    /// Go: spanInlineMarkBits.tryAcquire. The first mark since the span was last released
    /// takes it (unowned → one-mark) and must queue it; later marks only note that there is
    /// more than one (→ many-mark), and the span is not queued again.
    pub fn try_acquire(&self) -> bool {
        match self.owned() {
            SPAN_SCAN_UNOWNED => {
                self.set_byte(OWNED, SPAN_SCAN_ONE_MARK);
                true
            }
            SPAN_SCAN_ONE_MARK => {
                self.set_byte(OWNED, SPAN_SCAN_ONE_MARK | SPAN_SCAN_MANY_MARK);
                false
            }
            _ => false,
        }
    }
    // ANCHOR_END: try_acquire

    /// Go: spanInlineMarkBits.release. Unowned again; returns what it was.
    pub fn release(&self) -> u8 {
        let o = self.owned();
        self.set_byte(OWNED, SPAN_SCAN_UNOWNED);
        o
    }
}

/// Go: mspan.initInlineMarkBits, when the heap hands out a fresh span of 16..=512 B objects
/// (mheap.initSpan). Its page may hold an old span's data.
pub fn init_inline_mark_bits(span: &MSpan) {
    if gc_uses_span_inline_mark_bits(span.elemsize) {
        SpanInlineMarkBits::of(span).init(span.spanclass);
    }
}

/// Go: mspan.moveInlineMarks, called by the sweep. OR the inline marks into gcmarkBits, so
/// that the sweep frees exactly the unmarked objects, and reset the inline bits for the
/// next cycle.
pub fn move_inline_marks(span: &mut MSpan) {
    if !gc_uses_span_inline_mark_bits(span.elemsize) {
        return;
    }
    let imb = SpanInlineMarkBits::of(span);
    for i in 0..(span.nelems as usize).div_ceil(64) {
        span.gcmark_bits.or_word(i * 8, imb.word(MARKS, i));
    }
    imb.init(span.spanclass);
}

/// Go: objptr. A span base (page aligned) and an object index in its low bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjPtr(pub usize);

impl ObjPtr {
    /// Go: makeObjPtr.
    pub fn new(span_base: usize, obj_index: usize) -> ObjPtr {
        debug_assert_eq!(span_base & (PAGE_SIZE - 1), 0);
        ObjPtr(span_base | obj_index)
    }
    pub fn span_base(self) -> usize {
        self.0 & !((1 << PAGE_SHIFT) - 1)
    }
    pub fn obj_index(self) -> usize {
        self.0 & ((1 << PAGE_SHIFT) - 1)
    }
}

/// Go: spanSPMC — one ring of the chain of spilled spans other Ps can steal from.
#[derive(Debug)]
struct SpanSpmc {
    ring: VecDeque<ObjPtr>,
    cap: usize,
}

/// Go: spanQueue. A P-local FIFO ring of 256 spans; every 64 puts up to 16 spill to the
/// chain (if the chain is empty), and a full ring spills half.
#[derive(Debug)]
pub struct SpanQueue {
    head: u32,
    tail: u32,
    ring: [ObjPtr; SPAN_QUEUE_RING],
    puts_since_drain: usize,
    /// Go: chain. Oldest ring first (Go's chain.tail, where consumers steal).
    chain: VecDeque<SpanSpmc>,
}

/// Go: len(spanQueue.ring).
pub const SPAN_QUEUE_RING: usize = 256;

impl Default for SpanQueue {
    fn default() -> Self {
        SpanQueue {
            head: 0,
            tail: 0,
            ring: [ObjPtr(0); SPAN_QUEUE_RING],
            puts_since_drain: 0,
            chain: VecDeque::new(),
        }
    }
}

impl SpanQueue {
    /// Go: spanQueue.putFast.
    #[inline]
    fn put_fast(&mut self, s: ObjPtr) -> bool {
        if (self.tail - self.head) as usize == SPAN_QUEUE_RING {
            return false;
        }
        self.ring[self.tail as usize % SPAN_QUEUE_RING] = s;
        self.tail += 1;
        true
    }

    // ANCHOR: span_queue_put
    /// Go: spanQueue.put. Into the local ring; now and then spill some spans for other Ps
    /// (spillPeriod 64, spillMax 16), and spill half the ring when it is full.
    pub fn put(&mut self, s: ObjPtr) {
        const SPILL_PERIOD: usize = 64;
        const SPILL_MAX: u32 = 16;
        if self.put_fast(s) {
            self.puts_since_drain += 1;
            if self.puts_since_drain >= SPILL_PERIOD {
                self.puts_since_drain = 0;
                let n = ((self.tail - self.head) / 2).min(SPILL_MAX);
                if n > 4 && self.chain_empty() {
                    self.drain(n);
                }
            }
            return;
        }
        self.drain(SPAN_QUEUE_RING as u32 / 2);
        assert!(self.put_fast(s), "failed putFast after drain");
    }
    // ANCHOR_END: span_queue_put

    /// Go: spanQueue.drain. Move the `n` oldest local spans to the chain's newest ring,
    /// growing the chain (capacity doubling from 1024) when that ring is full.
    fn drain(&mut self, n: u32) {
        self.puts_since_drain = 0;
        let fits = self
            .chain
            .back()
            .is_some_and(|r| r.ring.len() + n as usize <= r.cap);
        if !fits {
            let cap = self.chain.back().map_or(1024, |r| (r.cap * 2).min(1 << 17));
            self.chain.push_back(SpanSpmc {
                ring: VecDeque::with_capacity(cap),
                cap,
            });
        }
        let r = self.chain.back_mut().unwrap();
        for _ in 0..n {
            r.ring
                .push_back(self.ring[self.head as usize % SPAN_QUEUE_RING]);
            self.head += 1;
        }
    }

    /// Go: spanQueue.tryGetFast. The oldest span of the local ring.
    #[inline]
    pub fn try_get_fast(&mut self) -> Option<ObjPtr> {
        if self.tail == self.head {
            return None;
        }
        let s = self.ring[self.head as usize % SPAN_QUEUE_RING];
        self.head += 1;
        Some(s)
    }

    /// Go: spanQueue.steal + refill, from our own chain: take half of the oldest ring (at
    /// most half our ring) into the empty local ring, dropping rings found empty.
    pub fn steal(&mut self) -> Option<ObjPtr> {
        debug_assert_eq!(self.tail, self.head, "steal with local work available");
        while let Some(r) = self.chain.front_mut() {
            let n = r.ring.len();
            let n = (n - n / 2).min(SPAN_QUEUE_RING / 2);
            if n > 0 {
                for i in 0..n {
                    self.ring[i] = r.ring.pop_front().unwrap();
                }
                self.head = 0;
                self.tail = n as u32;
                return self.try_get_fast();
            }
            if self.chain.len() == 1 {
                return None; // Go keeps the head ring for the producer
            }
            self.chain.pop_front();
        }
        None
    }

    /// Go: spanQueue.chainEmpty.
    pub fn chain_empty(&self) -> bool {
        self.chain.iter().all(|r| r.ring.is_empty())
    }

    /// Go: spanQueue.empty.
    pub fn empty(&self) -> bool {
        self.tail == self.head && self.chain_empty()
    }

    /// The queued spans in the order they will come out (tests): the local ring, then the
    /// chain, oldest first.
    pub fn queued(&self) -> Vec<ObjPtr> {
        let local = (self.head..self.tail).map(|i| self.ring[i as usize % SPAN_QUEUE_RING]);
        local
            .chain(self.chain.iter().flat_map(|r| r.ring.iter().copied()))
            .collect()
    }
}

impl Heap {
    // ANCHOR: try_defer_to_span_scan
    /// Go: tryDeferToSpanScan. If `p` points into a span with inline mark bits, mark its
    /// object there and queue the span unless it is queued already; true if so (the caller
    /// then does nothing more). Noscan objects are black at once and never queued.
    #[inline(always)]
    pub(crate) fn try_defer_to_span_scan(&mut self, p: usize) -> bool {
        let s = self.mheap.span_of(p);
        self.try_defer_to_span_scan_in(p, s)
    }

    /// [`try_defer_to_span_scan`](Self::try_defer_to_span_scan) with `p`'s span already
    /// looked up (null: not in the heap).
    #[inline(always)]
    fn try_defer_to_span_scan_in(&mut self, p: usize, s: *mut MSpan) -> bool {
        if s.is_null() {
            return false;
        }
        // SAFETY: span_of returns only spans in use, all ours. Go asks the arena's
        // pageUseSpanInlineMarkBits; chapter-allocator's arena has no such bitmap, so the
        // span's elemsize answers.
        let span = unsafe { &*s };
        if !gc_uses_span_inline_mark_bits(span.elemsize) {
            return false;
        }
        let imb = SpanInlineMarkBits::of(span);
        let i = object_index(p - span.base, span.div_mul);
        if imb.is_marked(i) {
            return true;
        }
        imb.set_marked(i);
        if imb.class().noscan() {
            self.bytes_marked += span.elemsize as u64;
            return true;
        }
        if imb.try_acquire() {
            self.work.spanq.put(ObjPtr::new(span.base, i));
            self.work.stats.spans_queued += 1;
        }
        true
    }
    // ANCHOR_END: try_defer_to_span_scan

    // ANCHOR: scan_span
    /// Go: scanSpan. Release the span; if no mark came after the one that queued it, scan
    /// just that object (the one-mark shortcut). Otherwise scan every object marked since
    /// the span's last scan: toScan = marks &^ scans, then scans |= marks (spanSetScans).
    pub(crate) fn scan_span(&mut self, p: ObjPtr) {
        let s = self.mheap.span_of(p.span_base());
        // SAFETY: a queued span is in use until the sweep, which comes after marking.
        let span = unsafe { &*s };
        let imb = SpanInlineMarkBits::of(span);
        debug_assert!(!span.spanclass.noscan(), "noscan object in scanSpan");
        let elemsize = span.elemsize;
        if imb.release() == SPAN_SCAN_ONE_MARK {
            let i = p.obj_index();
            if imb.is_scanned(i) {
                return;
            }
            imb.set_scanned(i);
            self.bytes_marked += elemsize as u64;
            self.work.stats.sparse_objs_scanned += 1;
            self.scan_object_small(span, span.object(i));
            return;
        }
        let words = (span.nelems as usize).div_ceil(64);
        let mut to_scan = [0u64; 8];
        let mut marked = 0;
        for (i, t) in to_scan.iter_mut().enumerate().take(words) {
            let grey = imb.word(MARKS, i) & !imb.word(SCANS, i);
            *t = grey;
            imb.or_word(SCANS, i, grey);
            marked += grey.count_ones() as u64;
        }
        if marked == 0 {
            self.work.stats.spans_empty += 1;
            return;
        }
        self.bytes_marked += marked * elemsize as u64;
        self.work.stats.spans_sparse_scanned += 1;
        self.work.stats.span_objs_sparse_scanned += marked;
        self.scan_objects_small(span, &to_scan[..words]);
    }
    // ANCHOR_END: scan_span

    /// Go: scanObjectSmall. The pointer words of the object at `b`, from the span's heap
    /// bits: no header, no type, the bits of a 16..=512 B object fit one 64-bit mask
    /// (extractHeapBitsSmall).
    fn scan_object_small(&mut self, span: &MSpan, b: usize) {
        let mut buf = std::mem::take(&mut self.work.ptr_buf);
        buf.resize(PTR_BUF_LEN, 0);
        let mut n = 0;
        let work = collect_ptrs(span, b, &mut buf, &mut n);
        self.controller.heap_scan_work += work;
        self.process_ptrs(span, &buf[..n]);
        self.work.ptr_buf = buf;
    }

    /// Go: scanObjectsSmall. Every object whose bit is set in `scans`: first gather the
    /// addresses of all their pointer words into gcw.ptrBuf (one page: at most 1024), then
    /// follow them, so that the loads of one span's objects come together.
    fn scan_objects_small(&mut self, span: &MSpan, scans: &[u64]) {
        let mut buf = std::mem::take(&mut self.work.ptr_buf);
        buf.resize(PTR_BUF_LEN, 0);
        let (mut n, mut work) = (0, 0);
        for (i, &bits) in scans.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                work += collect_ptrs(span, span.object(i * 64 + j), &mut buf, &mut n);
            }
        }
        self.controller.heap_scan_work += work;
        self.process_ptrs(span, &buf[..n]);
        self.work.ptr_buf = buf;
    }

    /// Follow every pointer word in `buf`: tryDeferToSpanScan, else findObject and
    /// greyobject.
    #[inline(always)]
    fn process_ptrs(&mut self, span: &MSpan, buf: &[usize]) {
        // The span of the last pointer: Go finds a span's inline mark bits from the page
        // alone (the arena's pageUseSpanInlineMarkBits, the class byte in the page), where
        // this heap must ask span_of; pointers of neighbouring objects mostly lead to one
        // span, so the last answer is kept.
        let (mut page, mut s) = (usize::MAX, std::ptr::null_mut());
        for &addr in buf {
            // SAFETY: a pointer word of a live object of ours.
            let p = unsafe { *span.ptr(addr).cast::<usize>() };
            if p == 0 {
                continue;
            }
            if p / PAGE_SIZE != page {
                page = p / PAGE_SIZE;
                s = self.mheap.span_of(p);
            }
            if !self.try_defer_to_span_scan_in(p, s) {
                if let Some((ps, pi, pbase)) = self.find_object(p) {
                    self.greyobject(pbase, ps, pi);
                }
            }
        }
    }
}

/// The addresses of the pointer words of the object at `b`, onto `buf`; returns its scan
/// work.
#[inline(always)]
fn collect_ptrs(span: &MSpan, b: usize, buf: &mut [usize], n: &mut usize) -> i64 {
    let mut ptr_bits = extract_heap_bits_small(span, b);
    // Go: heapScanWork += Len64(ptrBits) * PtrSize.
    let work = ((64 - ptr_bits.leading_zeros()) as usize * PTR_SIZE) as i64;
    while ptr_bits != 0 {
        let k = ptr_bits.trailing_zeros() as usize;
        ptr_bits &= ptr_bits - 1;
        let addr = b + k * PTR_SIZE;
        // Go: sys.Prefetch(addr), "chosen empirically": the word is read in process_ptrs.
        prefetch(span.ptr(addr));
        buf[*n] = addr;
        *n += 1;
    }
    work
}

/// Go: len(gcw.ptrBuf): a page's worth of words, enough for every pointer of a one-page span.
const PTR_BUF_LEN: usize = PAGE_SIZE / PTR_SIZE;

/// Go: sys.Prefetch. A hint to the CPU to bring `p`'s cache line in; nothing elsewhere.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p.cast::<i8>(), std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Go: extractHeapBitsSmall. The heap bits of the `elemsize`-byte object at `addr`, bit `k`
/// for its word `k`, read from the bitmap in the span's tail (spanHeapBitsRange: one page's
/// 128 bytes of bits, just before the inline mark bits).
#[inline]
pub fn extract_heap_bits_small(span: &MSpan, addr: usize) -> u64 {
    let bitmap = span.base + PAGE_SIZE - SPAN_INLINE_MARK_BITS_SIZE - PAGE_SIZE / PTR_SIZE / 8;
    let w = (addr - span.base) / PTR_SIZE;
    let n = span.elemsize / PTR_SIZE;
    let (i, k) = (w / 64, w % 64);
    let read = |i: usize| {
        // SAFETY: words of the span's own bitmap (the one past the end, read only when the
        // object's bits straddle two words, is still inside the bitmap).
        u64::from_le(unsafe { span.ptr(bitmap + i * 8).cast::<u64>().read() })
    };
    let mut bits = read(i) >> k;
    if k + n > 64 {
        bits |= read(i + 1) << (64 - k);
    }
    if n < 64 {
        bits &= (1 << n) - 1;
    }
    bits
}
