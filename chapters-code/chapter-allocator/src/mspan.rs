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

use crate::sizeclasses::{div_magic, object_index, SizeClasses, PAGE_SIZE};

/// Go: gc.MinSizeForMallocHeader. Objects up to this size keep their pointer bitmap in the
/// span; bigger ones carry an 8-byte header instead.
pub const MIN_SIZE_FOR_MALLOC_HEADER: usize = 8 * 64;

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
pub fn heap_bits_in_span(size: usize) -> bool {
    size <= MIN_SIZE_FOR_MALLOC_HEADER
}

/// Go: gcUsesSpanInlineMarkBits (mgcmark_greenteagc.go).
pub fn gc_uses_span_inline_mark_bits(size: usize) -> bool {
    heap_bits_in_span(size) && size >= 16
}

/// Objects in a span of `npages` pages for `elemsize`, as go1.27.3's initSpan computes it
/// with Green Tea (the default): small-object spans give up their last bytes to the GC's
/// inline mark bits (128 bytes), and scan spans also to the pointer bitmap (1 bit per word).
/// The generator's table, which counts whole spans, says 512 objects of 16 bytes; a real
/// noscan span holds 504, and a scan span 496.
pub fn nelems(elemsize: usize, npages: usize, noscan: bool, greentea: bool) -> usize {
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

/// Go: gcBits, one bit per object, in bytes, allocated in whole 64-bit blocks (newMarkBits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcBits(Vec<u8>);

impl GcBits {
    pub fn new(nelems: usize) -> GcBits {
        GcBits(vec![0; nelems.div_ceil(64) * 8])
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
    pub fn count(&self) -> usize {
        self.0.iter().map(|b| b.count_ones() as usize).sum()
    }
}

/// A span of small objects. Go: mspan (only the fields allocation and sweeping use).
#[derive(Clone, Debug)]
pub struct MSpan {
    pub base: usize,
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
    pub div_mul: u32,
}

impl MSpan {
    /// Go: mheap.initSpan for a small-object span.
    pub fn new(sc: &SizeClasses, base: usize, spanclass: SpanClass) -> MSpan {
        let class = sc.classes[spanclass.sizeclass()];
        let n = nelems(class.size, class.npages, spanclass.noscan(), true);
        MSpan {
            base,
            npages: class.npages,
            spanclass,
            elemsize: class.size,
            nelems: n as u16,
            freeindex: 0,
            alloc_cache: !0, // all free
            alloc_bits: GcBits::new(n),
            gcmark_bits: GcBits::new(n),
            alloc_count: 0,
            div_mul: div_magic(class.size),
        }
    }

    /// The address of object `i`.
    pub fn object(&self, i: usize) -> usize {
        self.base + i * self.elemsize
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
        // ANCHOR: solution-next_free_fast
        let the_bit = self.alloc_cache.trailing_zeros() as u16; // a free object in the window?
        if the_bit < 64 {
            let result = self.freeindex + the_bit;
            if result < self.nelems {
                let freeidx = result + 1;
                if freeidx.is_multiple_of(64) && freeidx != self.nelems {
                    return None; // the window ends here: let the slow path refill it
                }
                self.alloc_cache >>= the_bit + 1;
                self.freeindex = freeidx;
                self.alloc_count += 1;
                return Some(self.object(result as usize));
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
        self.alloc_cache >>= bit_index + 1;
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
        self.alloc_bits =
            std::mem::replace(&mut self.gcmark_bits, GcBits::new(self.nelems as usize));
        self.freeindex = 0;
        self.refill_alloc_cache(0);
        self.alloc_count = live as u16;
        freed
    }
    // ANCHOR_END: sweep
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
        MSpan::new(&SizeClasses::new(), 1 << 30, SpanClass::new(class, noscan))
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
