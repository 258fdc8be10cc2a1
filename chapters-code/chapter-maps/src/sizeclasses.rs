//! The allocator's size classes, as far as maps and slices need them.
//!
//! Go: `internal/runtime/gc/sizeclasses.go` (the table) and `runtime/msize.go` (`roundupsize`).
//! growslice never asks for an exact number of bytes: it asks the allocator how big the block
//! that holds them will really be, and hands the slack to the slice as extra capacity. So a
//! faithful growslice needs Go's 67 classes. This module is self-contained on purpose: the
//! allocator chapter takes it over (and generates the table instead of listing it), and this
//! crate will then depend on `chapter-allocator` (maps → allocator, as in DESIGN.md).
//!
//! `golden/sizeclasses.csv` is the table as go1.27.3 prints it; a test checks every row.

/// Go: `gc.MaxSmallSize`. Objects above this are "large": whole pages, no class.
pub const MAX_SMALL_SIZE: usize = 32768;
/// Go: `gc.SmallSizeDiv`: granularity of `SizeToSizeClass8`.
pub const SMALL_SIZE_DIV: usize = 8;
/// Go: `gc.SmallSizeMax`: sizes up to this use `SizeToSizeClass8`, above it `SizeToSizeClass128`.
pub const SMALL_SIZE_MAX: usize = 1024;
/// Go: `gc.LargeSizeDiv`: granularity of `SizeToSizeClass128`.
pub const LARGE_SIZE_DIV: usize = 128;
/// Go: `gc.NumSizeClasses` (class 0 stands for large objects).
pub const NUM_SIZE_CLASSES: usize = 68;
/// Go: `gc.PageShift`: Go's heap pages are 8 KiB, not the OS's 4 KiB.
pub const PAGE_SHIFT: usize = 13;
/// Go: `pageSize` (runtime/malloc.go).
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// Go: `gc.MallocHeaderSize`: the type pointer that heads a pointerful object too big for
/// in-span heap bits (Go 1.22 "malloc headers").
pub const MALLOC_HEADER_SIZE: usize = 8;
/// Go: `gc.MinSizeForMallocHeader` = PtrSize * PtrBits = 8 * 64 on 64-bit platforms.
pub const MIN_SIZE_FOR_MALLOC_HEADER: usize = 8 * 64;

// ANCHOR: class_to_size
/// Go: `gc.SizeClassToSize`: bytes per object of each class.
pub const CLASS_TO_SIZE: [u16; NUM_SIZE_CLASSES] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
    352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
    2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
    32768,
];
// ANCHOR_END: class_to_size

/// Go: `gc.SizeClassToNPages`: 8 KiB pages per span of each class.
pub const CLASS_TO_NPAGES: [u8; NUM_SIZE_CLASSES] = [
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3, 2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8,
    3, 10, 7, 4,
];

/// The smallest class whose objects hold `size` bytes (a linear scan, only used to build the
/// lookup tables at compile time).
const fn class_for(size: usize) -> u8 {
    let mut c = 1;
    while c < NUM_SIZE_CLASSES {
        if CLASS_TO_SIZE[c] as usize >= size {
            return c as u8;
        }
        c += 1;
    }
    0
}

/// Go: `gc.SizeToSizeClass8`, indexed by `divRoundUp(size, 8)` for sizes up to 1024.
pub const SIZE_TO_CLASS8: [u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1] = {
    let mut t = [0u8; SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = class_for(i * SMALL_SIZE_DIV);
        i += 1;
    }
    t
};

/// Go: `gc.SizeToSizeClass128`, indexed by `divRoundUp(size - 1024, 128)` above 1024.
pub const SIZE_TO_CLASS128: [u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1] = {
    let mut t = [0u8; (MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = class_for(SMALL_SIZE_MAX + i * LARGE_SIZE_DIV);
        i += 1;
    }
    t
};

const fn div_round_up(n: usize, a: usize) -> usize {
    n.div_ceil(a)
}

/// The size class of a small object of `size` bytes (1 ..= 32768); 0 for large objects.
pub fn size_to_class(size: usize) -> u8 {
    if size <= SMALL_SIZE_MAX - 8 {
        SIZE_TO_CLASS8[div_round_up(size, SMALL_SIZE_DIV)]
    } else if size <= MAX_SMALL_SIZE {
        // Go computes `divRoundUp(size - 1024, 128)` in unsigned arithmetic. For 1017..=1023
        // the subtraction wraps, the rounding wraps back, and the index comes out 0: the
        // 1024-byte class, which is right. Wrapping operations keep that arithmetic.
        SIZE_TO_CLASS128[size
            .wrapping_sub(SMALL_SIZE_MAX)
            .wrapping_add(LARGE_SIZE_DIV - 1)
            / LARGE_SIZE_DIV]
    } else {
        0
    }
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
        return CLASS_TO_SIZE[size_to_class(req) as usize] as usize - header;
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

    /// Every row of go1.27.3's own table: bytes/obj, bytes/span, objects and tail waste.
    #[test]
    fn table_matches_go_1_27_3() {
        let csv = include_str!("../golden/sizeclasses.csv");
        let mut rows = 0;
        for line in csv
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("class"))
        {
            let f: Vec<usize> = line
                .split(',')
                .take(5)
                .map(|x| x.parse().unwrap())
                .collect();
            let (class, size, span, objs, tail) = (f[0], f[1], f[2], f[3], f[4]);
            assert_eq!(CLASS_TO_SIZE[class] as usize, size, "class {class}");
            assert_eq!(
                CLASS_TO_NPAGES[class] as usize * PAGE_SIZE,
                span,
                "class {class}"
            );
            assert_eq!(span / size, objs, "class {class}");
            assert_eq!(span % size, tail, "class {class}");
            rows += 1;
        }
        assert_eq!(rows, NUM_SIZE_CLASSES - 1);
    }

    #[test]
    fn every_small_size_gets_the_tightest_class() {
        for size in 1..=MAX_SMALL_SIZE {
            let c = size_to_class(size) as usize;
            assert!(CLASS_TO_SIZE[c] as usize >= size);
            assert!(
                c == 1 || (CLASS_TO_SIZE[c - 1] as usize) < size,
                "size {size}"
            );
        }
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
}
