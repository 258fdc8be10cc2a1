//! The span: a run of pages cut into objects of one size class, and the bitmaps that say which
//! objects are free (Go: mspan in mheap.go; nextFreeFast in malloc.go; nextFreeIndex,
//! refillAllocCache, newMarkBits in mbitmap.go and mheap.go).
//!
//! A span never stores a free list. It keeps `allocBits`, one bit per object, and a 64-bit
//! window of it, inverted, in `allocCache`: finding a free object is a count-trailing-zeros.
//! The garbage collector writes `gcmarkBits`; sweeping simply makes the mark bits the new
//! alloc bits, so every unmarked object becomes free at once.
//!
//! Addresses here are plain numbers: the algorithms need the span's base, not its memory, so
//! they run (and are tested) without mapping anything.

use crate::sizeclasses::{
    div_magic, object_index, CLASS_TABLE, MIN_SIZE_FOR_MALLOC_HEADER, NUM_SIZE_CLASSES, PAGE_SIZE,
};
use crate::sync::{AtomicUsize, Ordering};

/// Go: maxObjsPerSpan. A span of 8-byte objects on one page.
pub const MAX_OBJS_PER_SPAN: usize = PAGE_SIZE / 8;

/// Go: unsafe.Sizeof(spanInlineMarkBits{}) (mgcmark_greenteagc.go): 63 scan bytes, an
/// ownership byte, 63 mark bytes and the span class.
pub const SPAN_INLINE_MARK_BITS_SIZE: usize = 63 + 1 + 63 + 1;

/// Go: spanClass. The size class and one bit: noscan (the objects hold no pointers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanClass(pub u8);

impl SpanClass {
    /// Go: makeSpanClass.
    pub fn new(sizeclass: usize, noscan: bool) -> SpanClass {
        SpanClass((sizeclass as u8) << 1 | noscan as u8)
    }
    pub fn sizeclass(self) -> usize {
        (self.0 >> 1) as usize
    }
    pub fn noscan(self) -> bool {
        self.0 & 1 != 0
    }
}

// ANCHOR: nelems
/// Go: heapBitsInSpan (mbitmap.go).
pub const fn heap_bits_in_span(size: usize) -> bool {
    size <= MIN_SIZE_FOR_MALLOC_HEADER
}

/// Go: gcUsesSpanInlineMarkBits (mgcmark_greenteagc.go).
pub const fn gc_uses_span_inline_mark_bits(size: usize) -> bool {
    heap_bits_in_span(size) && size >= 16
}

/// Objects in a span of `npages` pages for `elemsize`, as go1.27.3's initSpan computes it
/// with Green Tea (the default): small-object spans give up their last bytes to the GC's
/// inline mark bits (128 bytes), and scan spans also to the pointer bitmap (1 bit per word).
/// The generator's table, which counts whole spans, says 512 objects of 16 bytes; a real
/// noscan span holds 504, and a scan span 496.
pub const fn nelems(elemsize: usize, npages: usize, noscan: bool, greentea: bool) -> usize {
    let nbytes = npages * PAGE_SIZE;
    let mut reserve = 0;
    if greentea && gc_uses_span_inline_mark_bits(elemsize) {
        reserve += SPAN_INLINE_MARK_BITS_SIZE;
    }
    if heap_bits_in_span(elemsize) && !noscan {
        reserve += nbytes / 8 / 8; // one bit per 8-byte word
    }
    (nbytes - reserve) / elemsize
}
// ANCHOR_END: nelems

/// Objects in a noscan span of each class, as the heap builds them.
pub const NELEMS_NOSCAN: [u16; NUM_SIZE_CLASSES] = {
    let mut t = [0; NUM_SIZE_CLASSES];
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        t[c] = nelems(CLASS_TABLE[c].size, CLASS_TABLE[c].npages, true, true) as u16;
        c += 1;
    }
    t
};

/// Objects per one-page span of each one-page size class, without and with pointers, in the
/// columns of `go/spanobjects` (which measures them in real Go). 8-byte pointer-free objects
/// go to the tiny allocator, so Go has no such span: 0.
pub fn span_objects_csv() -> String {
    let mut s = String::from("size,noscan_objects,scan_objects\n");
    for c in crate::sizeclasses::make_classes()
        .iter()
        .skip(1)
        .filter(|c| c.npages == 1)
    {
        let noscan = if c.size >= crate::sizeclasses::TINY_SIZE {
            nelems(c.size, 1, true, true)
        } else {
            0
        };
        s += &format!("{},{},{}\n", c.size, noscan, nelems(c.size, 1, false, true));
    }
    s
}

/// Go: gcBits, one bit per object. Go allocates them from gcBits arenas so that sweeping
/// swaps two pointers; here each span keeps two fixed arrays, big enough for the largest
/// object count, and sweeping swaps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcBits([u8; MAX_OBJS_PER_SPAN / 8]);

impl Default for GcBits {
    fn default() -> Self {
        Self::new()
    }
}

impl GcBits {
    pub const fn new() -> GcBits {
        GcBits([0; MAX_OBJS_PER_SPAN / 8])
    }
    pub fn clear(&mut self, i: usize) {
        self.0[i / 8] &= !(1 << (i % 8));
    }
    pub fn is_set(&self, i: usize) -> bool {
        self.0[i / 8] & (1 << (i % 8)) != 0
    }
    pub fn set(&mut self, i: usize) {
        self.0[i / 8] |= 1 << (i % 8);
    }
    /// The 8 bytes starting at byte `which`, as a little-endian word.
    fn word(&self, which: usize) -> u64 {
        u64::from_le_bytes(self.0[which..which + 8].try_into().unwrap())
    }
    /// OR `w` into the 8 bytes from byte `which` (Go: `*(*uintptr)(bits.bytep(i)) |= w`, as
    /// the GC's moveInlineMarks does).
    pub fn or_word(&mut self, which: usize, w: u64) {
        let old = self.word(which);
        self.0[which..which + 8].copy_from_slice(&(old | w).to_le_bytes());
    }
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }
}

// SAFETY: a span is used by one owner at a time (its mcache, or whoever popped it); the one
// field other threads touch, `freed`, is atomic. `mem` only carries provenance.
unsafe impl Send for MSpan {}
unsafe impl Sync for MSpan {}

/// The low bit of [`MSpan::freed`]: the span is full and in no set, so whoever frees into it
/// first must hand it back to its mcentral.
pub const FREED_FULL: usize = 1;

/// A span. Go: mspan (the fields allocation and sweeping use).
#[derive(Debug)]
pub struct MSpan {
    /// The first object's address, for arithmetic (Go: startAddr)...
    pub base: usize,
    /// ...and as a pointer, which carries the right to touch the span's memory.
    pub mem: *mut u8,
    pub npages: usize,
    pub spanclass: SpanClass,
    pub elemsize: usize,
    pub nelems: u16,
    /// Objects below freeindex are allocated; at and above it, allocBits says.
    pub freeindex: u16,
    /// allocBits from freeindex on, inverted: a 1 is a free object.
    pub alloc_cache: u64,
    pub alloc_bits: GcBits,
    pub gcmark_bits: GcBits,
    pub alloc_count: u16,
    /// Go: allocCountBeforeCache. allocCount when an mcache took the span, so the mcache can
    /// count its allocations when it gives the span back.
    pub alloc_count_before_cache: u16,
    pub div_mul: u32,
    /// Go: sweepgen, relative to the heap's: sg = swept, sg+3 = cached by an mcache, swept.
    pub sweepgen: u32,
    /// Go: needzero. The memory may hold old data (it was freed, not returned to the OS).
    pub needzero: bool,
    /// Objects freed since the last sweep, a list linked through the objects, plus the
    /// [`FREED_FULL`] flag in the low bit. Any thread pushes; the span's owner sweeps them in.
    /// (Go finds dead objects by marking; here the program says so. See [`MSpan::sweep_freed`].)
    pub freed: AtomicUsize,
}

impl MSpan {
    /// Go: mheap.initSpan for a small-object span starting at `mem`.
    pub fn new(mem: *mut u8, spanclass: SpanClass) -> MSpan {
        let class = CLASS_TABLE[spanclass.sizeclass()];
        let n = nelems(class.size, class.npages, spanclass.noscan(), true);
        MSpan::init(mem, class.npages, spanclass, class.size, n)
    }

    /// Go: mheap.initSpan for a large object: one object, the whole span (span class 0).
    pub fn new_large(mem: *mut u8, npages: usize, noscan: bool) -> MSpan {
        let spc = SpanClass::new(0, noscan);
        MSpan::init(mem, npages, spc, npages * PAGE_SIZE, 1)
    }

    fn init(mem: *mut u8, npages: usize, spanclass: SpanClass, elemsize: usize, n: usize) -> MSpan {
        MSpan {
            base: mem.addr(),
            mem,
            npages,
            spanclass,
            elemsize,
            nelems: n as u16,
            freeindex: 0,
            alloc_cache: !0, // all free
            alloc_bits: GcBits::new(),
            gcmark_bits: GcBits::new(),
            alloc_count: 0,
            alloc_count_before_cache: 0,
            // Go: a large span has divMul 0 (its one object is at base).
            div_mul: if spanclass.sizeclass() == 0 {
                0
            } else {
                div_magic(elemsize)
            },
            sweepgen: 0,
            needzero: false,
            freed: AtomicUsize::new(0),
        }
    }

    /// One past the last object (Go: limit).
    pub fn limit(&self) -> usize {
        self.base + self.nelems as usize * self.elemsize
    }

    /// The address of object `i`.
    pub fn object(&self, i: usize) -> usize {
        self.base + i * self.elemsize
    }

    /// A pointer to the object at `addr` in this span.
    pub fn ptr(&self, addr: usize) -> *mut u8 {
        self.mem.with_addr(addr)
    }

    /// Go: mspan.objIndex. The object containing `addr`, by the div magic.
    pub fn obj_index(&self, addr: usize) -> usize {
        object_index(addr - self.base, self.div_mul)
    }

    /// Go: refillAllocCache. The 64 alloc bits from byte `which_byte` on, inverted.
    pub fn refill_alloc_cache(&mut self, which_byte: usize) {
        self.alloc_cache = !self.alloc_bits.word(which_byte);
    }

    // ANCHOR: next_free_fast
    /// Go: nextFreeFast (malloc.go). The allocation fast path: the next free object in the
    /// current 64-bit window, or None if the window is used up (the slow path refills it).
    pub fn next_free_fast(&mut self) -> Option<usize> {
        self.next_free_fast_sized(self.elemsize)
    }

    /// nextFreeFast with the object size as a parameter: a caller that knows it at compile
    /// time (a size-specialised malloc) gets the multiply folded into a shift or constant.
    #[inline(always)]
    pub fn next_free_fast_sized(&mut self, elemsize: usize) -> Option<usize> {
        // ANCHOR: solution-next_free_fast
        let the_bit = self.alloc_cache.trailing_zeros() as u16; // a free object in the window?
        if the_bit < 64 {
            let result = self.freeindex + the_bit;
            if result < self.nelems {
                let freeidx = result + 1;
                if freeidx.is_multiple_of(64) && freeidx != self.nelems {
                    return None; // the window ends here: let the slow path refill it
                }
                // Go's shift by 64 gives 0; Rust's would overflow.
                self.alloc_cache = self
                    .alloc_cache
                    .checked_shr(the_bit as u32 + 1)
                    .unwrap_or(0);
                self.freeindex = freeidx;
                self.alloc_count += 1;
                return Some(self.base + result as usize * elemsize);
            }
        }
        None
        // ANCHOR_END: solution-next_free_fast
    }
    // ANCHOR_END: next_free_fast

    // ANCHOR: next_free_index
    /// Go: nextFreeIndex (mbitmap.go). The slow path: walk the window forward 64 bits at a
    /// time until a free object turns up; nelems means the span is full.
    pub fn next_free_index(&mut self) -> u16 {
        let mut sfreeindex = self.freeindex;
        let snelems = self.nelems;
        if sfreeindex == snelems {
            return sfreeindex;
        }
        assert!(sfreeindex < snelems, "s.freeindex > s.nelems");
        let mut bit_index = self.alloc_cache.trailing_zeros() as u16;
        while bit_index == 64 {
            // The window is used up: move to the start of the next 64 objects.
            sfreeindex = (sfreeindex + 64) & !(64 - 1);
            if sfreeindex >= snelems {
                self.freeindex = snelems;
                return snelems;
            }
            self.refill_alloc_cache(sfreeindex as usize / 8);
            bit_index = self.alloc_cache.trailing_zeros() as u16;
        }
        let result = sfreeindex + bit_index;
        if result >= snelems {
            self.freeindex = snelems;
            return snelems;
        }
        self.alloc_cache = self
            .alloc_cache
            .checked_shr(bit_index as u32 + 1)
            .unwrap_or(0);
        sfreeindex = result + 1;
        if sfreeindex.is_multiple_of(64) && sfreeindex != snelems {
            // Every bit of the window has been shifted out: load the next one.
            self.refill_alloc_cache(sfreeindex as usize / 8);
        }
        self.freeindex = sfreeindex;
        result
    }
    // ANCHOR_END: next_free_index

    /// Go: mcache.nextFree's use of a span: the fast path, else the slow one.
    pub fn alloc(&mut self) -> Option<usize> {
        if let Some(p) = self.next_free_fast() {
            return Some(p);
        }
        let i = self.next_free_index();
        if i == self.nelems {
            return None; // full: the mcache must get another span
        }
        self.alloc_count += 1;
        Some(self.object(i as usize))
    }

    /// Go: mspan.isFree.
    pub fn is_free(&self, i: usize) -> bool {
        i >= self.freeindex as usize && !self.alloc_bits.is_set(i)
    }

    /// The GC marks an object reachable (Go: gcmarkBits, set by greyobject).
    pub fn mark(&mut self, addr: usize) {
        let i = self.obj_index(addr);
        self.gcmark_bits.set(i);
    }

    // ANCHOR: sweep
    /// Go: mspan.sweep's core. The mark bits become the alloc bits: every object the GC did
    /// not mark is free again, all at once. Fresh mark bits for the next cycle; allocation
    /// restarts from index 0. Returns the number of objects freed.
    pub fn sweep(&mut self) -> usize {
        let live = self.gcmark_bits.count();
        let freed = self.alloc_count as usize - live;
        std::mem::swap(&mut self.alloc_bits, &mut self.gcmark_bits);
        self.gcmark_bits = GcBits::new();
        self.freeindex = 0;
        self.refill_alloc_cache(0);
        self.alloc_count = live as u16;
        freed
    }
    // ANCHOR_END: sweep

    // ANCHOR: sweep_freed
    /// Sweep in the objects freed since the last sweep. Go has no free: the GC marks what is
    /// live and sweep frees the rest. An explicit free is the same verdict given early, so
    /// the mark bits are "allocated, minus freed", and [`sweep`](Self::sweep) swaps them in.
    /// Only the span's owner may call this. Returns the objects freed.
    ///
    /// Objects below `freeindex` are allocated whatever their alloc bit says (allocation only
    /// moves freeindex); from freeindex on, the alloc bits say.
    pub fn sweep_freed(&mut self) -> usize {
        let mut p = self.freed.swap(0, Ordering::Acquire) & !FREED_FULL;
        if p == 0 {
            return 0;
        }
        for i in 0..self.nelems as usize {
            if i < self.freeindex as usize || self.alloc_bits.is_set(i) {
                self.gcmark_bits.set(i);
            }
        }
        while p != 0 {
            let i = self.obj_index(p);
            if p < self.base
                || i >= self.nelems as usize
                || self.object(i) != p
                || !self.gcmark_bits.is_set(i)
            {
                crate::throw("free of an object that is not allocated (double free?)");
            }
            self.gcmark_bits.clear(i);
            // SAFETY: a freed object's first word links the list (see free_remote).
            p = unsafe { *(self.ptr(p) as *const usize) };
        }
        self.sweep()
    }
    // ANCHOR_END: sweep_freed

    // ANCHOR: free_remote
    /// Free object `p` of this span from any thread: push it on the span's freed list. True
    /// if the span was full and in no set: the caller must hand it back to its mcentral
    /// (exactly one freer sees this, because the flag is cleared by the same CAS).
    ///
    /// # Safety
    /// `p` is an allocated object of this span that nobody uses any more.
    pub unsafe fn free_remote(&self, p: usize) -> bool {
        let mut old = self.freed.load(Ordering::Relaxed);
        loop {
            // SAFETY: the object is dead and at least a word long: its first word links.
            unsafe { *(self.ptr(p) as *mut usize) = old & !FREED_FULL };
            match self
                .freed
                .compare_exchange_weak(old, p, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return old & FREED_FULL != 0,
                Err(now) => old = now,
            }
        }
    }

    /// The owner gives up a full span: set [`FREED_FULL`] unless frees are already pending,
    /// in which case the owner must sweep them in (returns false) instead of letting go.
    pub fn try_mark_full(&self) -> bool {
        self.freed
            .compare_exchange(0, FREED_FULL, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
    // ANCHOR_END: free_remote
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Allocations per cycle: past a whole span of 16-byte objects; fewer under miri, which
    /// is a thousand times slower.
    const MAX_ALLOCS: usize = if cfg!(miri) { 300 } else { 1100 };

    fn span(class: usize, noscan: bool) -> MSpan {
        MSpan::new(
            std::ptr::without_provenance_mut(1 << 30),
            SpanClass::new(class, noscan),
        )
    }

    // ANCHOR: nelems_test
    #[test]
    fn green_tea_takes_the_tail_of_small_object_spans() {
        // 16-byte objects: 8192 bytes hold 512, minus 128 for the inline mark bits, minus
        // another 128 for the pointer bitmap when the objects hold pointers.
        assert_eq!(nelems(16, 1, true, true), 504);
        assert_eq!(nelems(16, 1, false, true), 496);
        assert_eq!(
            nelems(16, 1, true, false),
            512,
            "without Green Tea, noscan spans are whole"
        );
        // 8-byte objects are too small for span-wise marking: no inline mark bits.
        assert_eq!(nelems(8, 1, true, true), 1024);
        // Past 512 bytes objects carry a malloc header: spans keep nothing back.
        assert_eq!(nelems(576, 1, false, true), 14);
    }
    // ANCHOR_END: nelems_test

    /// The counts go1.27.3 really puts in its spans, measured by `go/spanobjects`.
    #[test]
    fn spans_hold_as_many_objects_as_in_real_go() {
        assert_eq!(
            span_objects_csv(),
            include_str!("../golden/spanobjects.csv")
        );
    }

    #[test]
    fn a_fresh_span_hands_out_every_object_once_in_order() {
        let mut s = span(2, true);
        let got: Vec<usize> = std::iter::from_fn(|| s.alloc()).collect();
        assert_eq!(got.len(), s.nelems as usize);
        assert!(got.windows(2).all(|w| w[1] == w[0] + 16));
        assert_eq!(s.alloc(), None, "full");
    }

    #[test]
    fn the_div_magic_finds_the_object_of_any_interior_address() {
        let s = span(5, false); // 48-byte objects
        for i in 0..s.nelems as usize {
            for off in [0, 1, 47] {
                assert_eq!(s.obj_index(s.object(i) + off), i);
            }
        }
    }

    #[test]
    fn the_last_object_of_a_window_can_be_the_only_free_one() {
        // Objects 0..63 allocated, 63 free: taking it shifts the cache by 64 (Go: to 0).
        let mut s = span(1, true); // 8-byte objects
        for _ in 0..1024 {
            s.alloc().unwrap();
        }
        for i in 0..1024 {
            if i != 63 {
                s.mark(s.object(i));
            }
        }
        s.sweep();
        assert_eq!(s.alloc(), Some(s.object(63)));
        assert_eq!(s.alloc(), None, "full again");
    }

    // ANCHOR: sweep_freed_test
    #[test]
    fn frees_from_any_thread_are_swept_in_by_the_owner() {
        // A real span: the freed list is threaded through the objects' memory.
        let mut mem = vec![0u64; PAGE_SIZE / 8];
        let mut s = MSpan::new(mem.as_mut_ptr().cast(), SpanClass::new(5, true)); // 48 B
        let objs: Vec<usize> = std::iter::from_fn(|| s.alloc()).collect();
        assert_eq!(objs.len(), s.nelems as usize);
        assert!(s.try_mark_full(), "no frees pending: the owner lets go");
        let handed_over: usize = std::thread::scope(|sc| {
            let freers: Vec<_> = objs
                .chunks(objs.len() / 2 + 1)
                .map(|chunk| {
                    let s = &s;
                    // Every third object of its half; count the frees that found it full.
                    sc.spawn(move || {
                        chunk
                            .iter()
                            .step_by(3)
                            .filter(|&&p| unsafe { s.free_remote(p) })
                            .count()
                    })
                })
                .collect();
            freers.into_iter().map(|f| f.join().unwrap()).sum()
        });
        assert_eq!(handed_over, 1, "exactly one free takes the full span over");
        // Whoever took the span over sweeps: the freed objects are free, the rest are not.
        let freed = s.sweep_freed();
        let want: Vec<usize> = objs
            .chunks(objs.len() / 2 + 1)
            .flat_map(|c| c.iter().step_by(3).copied())
            .collect();
        assert_eq!(freed, want.len());
        for (i, &p) in objs.iter().enumerate() {
            assert_eq!(s.is_free(i), want.contains(&p), "object {i}");
        }
        // Allocation finds exactly the freed objects again, lowest first.
        let again: Vec<usize> = std::iter::from_fn(|| s.alloc()).collect();
        let mut sorted = want.clone();
        sorted.sort();
        assert_eq!(again, sorted);
        drop(mem);
    }
    // ANCHOR_END: sweep_freed_test

    proptest! {
        #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 3 } else { 64 }, ..ProptestConfig::default() })]

        // ANCHOR: prop_cycles
        /// Allocate, let a "GC" keep a random subset, sweep, allocate again, for several cycles:
        /// no object is ever handed out while live, and everything not kept is reused.
        #[test]
        fn alloc_mark_sweep_cycles_agree_with_a_set(
            class in 1usize..30,
            noscan in any::<bool>(),
            cycles in prop::collection::vec((0usize..MAX_ALLOCS, prop::collection::vec(any::<bool>(), 64)), 1..5),
        ) {
            let mut s = span(class, noscan);
            let mut live: BTreeSet<usize> = BTreeSet::new();
            for (n, keep) in cycles {
                for _ in 0..n {
                    match s.alloc() {
                        Some(p) => prop_assert!(live.insert(p), "{p:#x} handed out twice"),
                        None => prop_assert_eq!(live.len(), s.nelems as usize, "full only when full"),
                    }
                }
                // The GC: keep some objects, mark them; sweep frees the rest.
                let kept: BTreeSet<usize> = live.iter().copied().filter(|p| keep[s.obj_index(*p) % keep.len()]).collect();
                for &p in &kept {
                    s.mark(p);
                }
                let freed = s.sweep();
                prop_assert_eq!(freed, live.len() - kept.len());
                live = kept;
                for i in 0..s.nelems as usize {
                    prop_assert_eq!(s.is_free(i), !live.contains(&s.object(i)));
                }
            }
        }
        // ANCHOR_END: prop_cycles
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicU8;
    use loom::sync::Arc;

    /// Where the span ended up: given back partial by its owner, or by the freer.
    const OWNER_PARTIAL: u8 = 1;
    const FREER_PARTIAL: u8 = 2;

    // ANCHOR: loom_handoff
    /// The owner of a full span gives it up while another thread frees one of its objects.
    /// Either the owner sees the free and gives the span back partial, or the freer finds the
    /// FREED_FULL flag and takes the span over: never both, and the free is never lost (a
    /// lost free would leave a full span in no set, with a free object nobody can reach).
    #[test]
    fn loom_full_span_hand_off() {
        loom::model(|| {
            // Class 66: two 28672-byte objects in 7 pages.
            let mem: &'static mut [u64] =
                Box::leak(vec![0u64; 7 * PAGE_SIZE / 8].into_boxed_slice());
            let mut s = MSpan::new(mem.as_mut_ptr().cast(), SpanClass::new(66, true));
            let (a, _b) = (s.alloc().unwrap(), s.alloc().unwrap());
            assert_eq!(s.alloc(), None, "full");
            let span = Box::into_raw(Box::new(s)) as usize;
            let home = Arc::new(AtomicU8::new(0));

            let freer = {
                let home = home.clone();
                loom::thread::spawn(move || {
                    let s = span as *mut MSpan;
                    // SAFETY: object a is allocated and dead; the span outlives both threads.
                    if unsafe { (*s).free_remote(a) } {
                        // We took the span over: it is ours to sweep.
                        let s = unsafe { &mut *s };
                        assert_eq!(s.sweep_freed(), 1);
                        assert!(home.swap(FREER_PARTIAL, Ordering::Relaxed) == 0);
                    }
                })
            };
            // The owner: mcentral.uncacheSpan.
            {
                let s = unsafe { &mut *(span as *mut MSpan) };
                loop {
                    s.sweep_freed();
                    if s.alloc_count < s.nelems {
                        assert!(home.swap(OWNER_PARTIAL, Ordering::Relaxed) == 0);
                        break;
                    }
                    if s.try_mark_full() {
                        break;
                    }
                }
            }
            freer.join().unwrap();
            let s = unsafe { &mut *(span as *mut MSpan) };
            assert_ne!(home.load(Ordering::Relaxed), 0, "the free was lost");
            assert_eq!(s.alloc_count, 1);
            assert_eq!(s.freed.load(Ordering::Relaxed), 0);
            // SAFETY: both threads are done with the span and its memory.
            unsafe {
                drop(Box::from_raw(span as *mut MSpan));
                drop(Box::from_raw(mem as *mut [u64]));
            }
        });
    }
    // ANCHOR_END: loom_handoff
}
