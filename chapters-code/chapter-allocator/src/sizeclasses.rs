//! Size classes: how Go rounds a small allocation up to one of 67 object sizes, and how many
//! pages a span of each size takes (Go: runtime/_mkmalloc/mksizeclasses.go, which generates
//! internal/runtime/gc/sizeclasses.go).
//!
//! The table is not copied here: [`make_classes`] runs Go's algorithm, and a test and
//! `cargo xtask golden` check its output against the table go1.27.3's own generator prints.

/// Every heap object is at least this aligned (Go: minHeapAlign).
pub const MIN_HEAP_ALIGN: usize = 8;
/// Larger objects are "large": a span of their own (Go: maxSmallSize).
pub const MAX_SMALL_SIZE: usize = 32 << 10;
/// Below SMALL_SIZE_MAX, sizes map to classes in steps of 8 bytes; above, of 128.
pub const SMALL_SIZE_DIV: usize = 8;
pub const SMALL_SIZE_MAX: usize = 1024;
pub const LARGE_SIZE_DIV: usize = 128;
/// Go's page: 8 KiB, whatever the OS page is (Go: pageShift).
pub const PAGE_SHIFT: usize = 13;
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// The tiny allocator's block (Go: tinySize).
pub const TINY_SIZE: usize = 16;
/// Class 0 is "large"; classes 1..=67 are small.
pub const NUM_SIZE_CLASSES: usize = 68;
/// The type pointer that heads a pointerful object too big for in-span heap bits (Go 1.22
/// "malloc headers"; Go: gc.MallocHeaderSize).
pub const MALLOC_HEADER_SIZE: usize = 8;
/// Pointerful objects above this size carry a malloc header (Go: gc.MinSizeForMallocHeader =
/// PtrSize * PtrBits = 8 * 64 on 64-bit platforms).
pub const MIN_SIZE_FOR_MALLOC_HEADER: usize = 8 * 64;

/// One size class: the largest object size it holds and the pages of one span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Class {
    pub size: usize,
    pub npages: usize,
}

// ANCHOR: make_classes
/// Go: makeClasses. Walk the sizes in steps of the current alignment; give each the fewest
/// pages that waste at most 1/8 of the span; merge a size into the previous class when both
/// fit the same number of objects in the same pages; finally grow each class to the largest
/// size that still fits that many objects. A `const fn`: the compiler runs it, the way Go
/// runs mksizeclasses.go to write sizeclasses.go.
pub const fn make_classes() -> [Class; NUM_SIZE_CLASSES] {
    let mut classes = [Class { size: 0, npages: 0 }; NUM_SIZE_CLASSES]; // class 0: large
    let mut n = 1; // classes so far
    let mut align = MIN_HEAP_ALIGN;
    let mut size = align;
    while size <= MAX_SMALL_SIZE {
        if size.is_power_of_two() {
            // Coarser steps as sizes grow: relative waste stays bounded, the table small.
            if size >= 2048 {
                align = 256;
            } else if size >= 128 {
                align = size / 8;
            } else if size >= 32 {
                align = 16; // heap bitmaps assume 16-byte alignment from 32 bytes on
            }
        }
        // Enough pages that the leftover tail is at most 1/8 of the span.
        let mut allocsize = PAGE_SIZE;
        while allocsize % size > allocsize / 8 {
            allocsize += PAGE_SIZE;
        }
        let npages = allocsize / PAGE_SIZE;
        let prev = classes[n - 1];
        if n > 1 && npages == prev.npages && allocsize / size == allocsize / prev.size {
            // Same span, same object count: one bigger class does the job of two.
            classes[n - 1].size = size;
        } else {
            assert!(n < NUM_SIZE_CLASSES, "number of size classes has changed");
            classes[n] = Class { size, npages };
            n += 1;
        }
        size += align;
    }
    assert!(n == NUM_SIZE_CLASSES, "number of size classes has changed");
    // Use all of the span: the largest size that fits as many objects, kept a multiple of
    // LARGE_SIZE_DIV so that the size-to-class lookup still works.
    let mut i = 1;
    while i < n {
        let c = &mut classes[i];
        let psize = c.npages * PAGE_SIZE;
        let new_size = (psize / (psize / c.size)) & !(LARGE_SIZE_DIV - 1);
        if new_size > c.size {
            c.size = new_size;
        }
        i += 1;
    }
    classes
}
// ANCHOR_END: make_classes

/// The generated table (Go: gc.SizeClassToSize and gc.SizeClassToNPages).
pub const CLASS_TABLE: [Class; NUM_SIZE_CLASSES] = make_classes();

// ANCHOR: div_magic
/// Go: SizeClassToDivMagic. `offset / size` as a 32-bit multiply and shift: the object index
/// of a byte offset in a span, without a division on the allocation path.
pub fn div_magic(size: usize) -> u32 {
    (u32::MAX / size as u32).wrapping_add(1)
}

/// The object index of `offset` in a span of objects of `size` bytes, using the magic.
pub fn object_index(offset: usize, magic: u32) -> usize {
    ((offset as u64 * magic as u64) >> 32) as usize
}
// ANCHOR_END: div_magic

/// One row of the comment table Go's generator prints above sizeclasses.go.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassInfo {
    pub class: usize,
    pub bytes_obj: usize,
    pub bytes_span: usize,
    pub objects: usize,
    /// Bytes left over at the end of a span.
    pub tail_waste: usize,
    /// Worst-case waste, in percent: every object one byte bigger than the previous class,
    /// plus the tail.
    pub max_waste_pct: f64,
    /// The alignment every object of the class is guaranteed (capped at a page).
    pub min_align: usize,
}

/// Go: printComment's columns.
pub fn class_info(classes: &[Class]) -> Vec<ClassInfo> {
    let mut prev = 0;
    let mut out = Vec::new();
    for (i, c) in classes.iter().enumerate().skip(1) {
        let span = c.npages * PAGE_SIZE;
        let objects = span / c.size;
        let tail_waste = span - c.size * objects;
        let max_waste = ((c.size - prev - 1) * objects + tail_waste) as f64 / span as f64;
        let align_bits = (c.size.trailing_zeros() as usize).min(PAGE_SHIFT);
        prev = c.size;
        out.push(ClassInfo {
            class: i,
            bytes_obj: c.size,
            bytes_span: span,
            objects,
            tail_waste,
            max_waste_pct: 100.0 * max_waste,
            min_align: 1 << align_bits,
        });
    }
    out
}

/// The table as CSV, in the columns `go/sizeclasses` prints.
pub fn csv(classes: &[Class]) -> String {
    let mut s =
        String::from("class,bytes_obj,bytes_span,objects,tail_waste,max_waste_pct,min_align\n");
    for r in class_info(classes) {
        s += &format!(
            "{},{},{},{},{},{:.2},{}\n",
            r.class,
            r.bytes_obj,
            r.bytes_span,
            r.objects,
            r.tail_waste,
            r.max_waste_pct,
            r.min_align
        );
    }
    s
}

/// The lookup tables Go generates next to the classes.
#[derive(Clone, Debug)]
pub struct SizeClasses {
    pub classes: [Class; NUM_SIZE_CLASSES],
    /// Go: SizeToSizeClass8, indexed by (size + 7) / 8 for sizes up to 1024.
    pub size_to_class8: [u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1],
    /// Go: SizeToSizeClass128, indexed by (size - 1024 + 127) / 128 up to 32 KiB.
    pub size_to_class128: [u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1],
}

/// The smallest class holding `size` bytes.
const fn smallest(classes: &[Class; NUM_SIZE_CLASSES], size: usize) -> u8 {
    let mut c = 0;
    while classes[c].size < size {
        c += 1;
    }
    c as u8
}

// ANCHOR: size_to_class
impl SizeClasses {
    /// Go: printClasses' lookup tables: for every step, the smallest class that fits.
    pub const fn new() -> SizeClasses {
        let classes = make_classes();
        let mut size_to_class8 = [0; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
        let mut i = 0;
        while i < size_to_class8.len() {
            size_to_class8[i] = smallest(&classes, i * SMALL_SIZE_DIV);
            i += 1;
        }
        let mut size_to_class128 = [0; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];
        let mut i = 0;
        while i < size_to_class128.len() {
            size_to_class128[i] = smallest(&classes, SMALL_SIZE_MAX + i * LARGE_SIZE_DIV);
            i += 1;
        }
        SizeClasses {
            classes,
            size_to_class8,
            size_to_class128,
        }
    }

    /// The size class of a small allocation of `size` bytes (1..=32768). Go: the lookup at
    /// the top of mallocgc's small path.
    pub const fn size_to_class(&self, size: usize) -> usize {
        debug_assert!(size <= MAX_SMALL_SIZE);
        if size <= SMALL_SIZE_MAX - 8 {
            self.size_to_class8[size.div_ceil(SMALL_SIZE_DIV)] as usize
        } else {
            // Go computes divRoundUp(size-smallSizeMax, largeSizeDiv) in uintptr. For sizes
            // 1017..=1024 the subtraction wraps and the rounding wraps back to index 0.
            let i = size
                .wrapping_sub(SMALL_SIZE_MAX)
                .wrapping_add(LARGE_SIZE_DIV - 1)
                / LARGE_SIZE_DIV;
            self.size_to_class128[i] as usize
        }
    }

    /// Go: roundupsize (msize.go, without the malloc header): the bytes an allocation of
    /// `size` really gets — its class's size, or whole pages for a large object.
    pub const fn roundupsize(&self, size: usize) -> usize {
        if size <= MAX_SMALL_SIZE {
            self.classes[self.size_to_class(size)].size
        } else {
            size.div_ceil(PAGE_SIZE) * PAGE_SIZE
        }
    }
}
// ANCHOR_END: size_to_class

/// The tables, computed at compile time.
pub static SIZE_CLASSES: SizeClasses = SizeClasses::new();

/// The size class of a small allocation (see [`SizeClasses::size_to_class`]).
#[inline(always)]
pub const fn size_to_class(size: usize) -> usize {
    SIZE_CLASSES.size_to_class(size)
}

impl Default for SizeClasses {
    fn default() -> Self {
        SizeClasses::new()
    }
}

/// The tables, shared: what the rest of the runtime (and other chapters' crates) look
/// sizes up in.
pub fn size_classes() -> &'static SizeClasses {
    &SIZE_CLASSES
}

// ANCHOR: roundupsize
/// How many bytes `mallocgc(size)` really hands out, minus the malloc header when it adds one.
///
/// Go: `runtime.roundupsize` (runtime/msize.go). `noscan` says the object holds no pointers.
/// A pointerful object over 512 bytes carries an 8-byte type header inside its block, so the
/// caller gets 8 bytes less than the class size. Large objects round up to whole 8 KiB pages.
pub fn roundupsize(size: usize, noscan: bool) -> usize {
    let mut req = size;
    if req <= MAX_SMALL_SIZE - MALLOC_HEADER_SIZE {
        if !noscan && req > MIN_SIZE_FOR_MALLOC_HEADER {
            req += MALLOC_HEADER_SIZE;
        }
        let header = req - size; // 0 or MALLOC_HEADER_SIZE
        let sc = size_classes();
        return sc.classes[sc.size_to_class(req)].size - header;
    }
    // Large object: whole pages; on overflow Go returns the size unchanged.
    match req.checked_add(PAGE_SIZE - 1) {
        Some(r) => r & !(PAGE_SIZE - 1),
        None => size,
    }
}
// ANCHOR_END: roundupsize

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: golden_test
    /// The generator reproduces go1.27.3's table, byte for byte (golden/sizeclasses.csv is
    /// what Go's own generator prints; `cargo xtask golden` regenerates it).
    #[test]
    fn the_generator_reproduces_go_s_table() {
        let want = include_str!("../golden/sizeclasses.csv");
        assert_eq!(csv(&make_classes()), want);
    }
    // ANCHOR_END: golden_test

    #[test]
    fn every_small_size_gets_the_smallest_class_that_fits() {
        let sc = SizeClasses::new();
        for size in (1..=MAX_SMALL_SIZE).step_by(if cfg!(miri) { 61 } else { 1 }) {
            let c = sc.size_to_class(size);
            assert!(sc.classes[c].size >= size, "{size} does not fit class {c}");
            assert!(
                sc.classes[c - 1].size < size || c == 1,
                "{size}: class {} would do",
                c - 1
            );
        }
    }

    #[test]
    fn the_div_magic_is_exact_for_every_offset_of_every_span() {
        for c in make_classes().iter().skip(1) {
            let m = div_magic(c.size);
            for off in (0..=c.npages * PAGE_SIZE).step_by(if cfg!(miri) { 509 } else { 1 }) {
                assert_eq!(
                    object_index(off, m),
                    off / c.size,
                    "size {} offset {off}",
                    c.size
                );
            }
        }
    }

    #[test]
    fn roundupsize_matches_go_s_known_sizes() {
        let sc = SizeClasses::new();
        // From go1.27.3: a 9-byte object gets 16 bytes, 33 gets 48, 1025 gets 1152.
        assert_eq!(sc.roundupsize(9), 16);
        assert_eq!(sc.roundupsize(33), 48);
        assert_eq!(sc.roundupsize(1025), 1152);
        assert_eq!(sc.roundupsize(32768), 32768);
        assert_eq!(sc.roundupsize(32769), 40960, "large: whole 8 KiB pages");
        assert_eq!(sc.size_to_class(TINY_SIZE), 2, "Go: TinySizeClass");
    }

    #[test]
    fn the_shared_table_is_the_generated_one() {
        let sc = size_classes();
        assert_eq!(sc.classes, make_classes());
        assert_eq!(sc.classes, CLASS_TABLE);
    }

    #[test]
    fn roundupsize_adds_and_hides_the_malloc_header() {
        assert_eq!(roundupsize(1, true), 8);
        assert_eq!(roundupsize(24, true), 24);
        assert_eq!(roundupsize(25, true), 32);
        // 520 pointer-free bytes fit the 576 class; with pointers the header makes it 528 → 576 - 8.
        assert_eq!(roundupsize(520, true), 576);
        assert_eq!(roundupsize(520, false), 568);
        // At exactly 512 no header is needed.
        assert_eq!(roundupsize(512, false), 512);
        assert_eq!(roundupsize(32768, true), 32768);
        assert_eq!(roundupsize(32769, true), 40960);
        assert_eq!(roundupsize(usize::MAX, true), usize::MAX);
    }

    #[test]
    fn roundupsize_without_pointers_is_the_class_size() {
        let sc = size_classes();
        let step = if cfg!(miri) { 61 } else { 1 };
        for size in (1..=MAX_SMALL_SIZE + 2 * PAGE_SIZE).step_by(step) {
            assert_eq!(roundupsize(size, true), sc.roundupsize(size), "size {size}");
        }
    }
}
