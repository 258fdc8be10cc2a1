//! mallocgc and friends, and [`GoAlloc`]: this crate's allocator as Rust's global allocator
//! (Go: malloc.go, malloc_generated.go, malloc_tables_generated.go).
//!
//! What Go's mallocgc does, and what this one does not:
//! - Size classes, spans, mcache → mcentral → mheap, large objects, the scavenger: as Go.
//! - The size-specialised fast path (on by default in 1.27): sizes up to 80 bytes dispatch
//!   through a table to a copy of the small path compiled for that one class.
//! - No GC, so no scan/noscan split in practice (Rust tells an allocator nothing about
//!   pointers: every object is allocated as noscan), no assist credit, no GC trigger, no
//!   profiling sample.
//! - No tiny allocator: a tiny block is freed only when all of its pieces are dead, which
//!   only a GC can know. The tiny allocator is modelled in [`crate::tiny`].
//! - Explicit free, as Go 1.27's experimental `freegc` (see [`crate::mcache`]).

use crate::mcache::MCache;
use crate::mheap::{MHeap, NUM_SPAN_CLASSES};
use crate::mspan::SpanClass;
use crate::sizeclasses::{
    size_to_class, CLASS_TABLE, MALLOC_HEADER_SIZE, MAX_SMALL_SIZE, NUM_SIZE_CLASSES, PAGE_SIZE,
};
use crate::throw;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::atomic::Ordering;

/// The process's heap: what [`GoAlloc`] allocates from (Go: mheap_).
pub static MHEAP: MHeap = MHeap::new();

/// The span class of a small allocation of `size` bytes aligned to `align`, or 0 (large).
/// Every class size is a multiple of 8 and each span starts on a page, so an object is
/// aligned to the largest power of two dividing its class's size: for `align > 8`, walk up
/// the classes to one it divides.
#[inline(always)]
pub fn span_class_for(size: usize, align: usize) -> usize {
    // Go: small means size <= maxSmallSize - mallocHeaderSize, with or without pointers.
    // Spans are page-aligned, so no class can promise more than a page.
    if size > MAX_SMALL_SIZE - MALLOC_HEADER_SIZE || align > PAGE_SIZE {
        return 0;
    }
    let mut c = size_to_class(size);
    if align > 8 {
        while c < NUM_SIZE_CLASSES && !CLASS_TABLE[c].size.is_multiple_of(align) {
            c += 1;
        }
        if c == NUM_SIZE_CLASSES {
            return 0;
        }
    }
    c << 1 | 1 // noscan
}

// ANCHOR: specialised
/// Go: mallocgcSmallNoScanSC<N> (malloc_generated.go). The small path for one class, its
/// object size a constant. Go generates the source of each; Rust monomorphises one generic.
fn malloc_small_noscan_sc<const SC: usize>(c: &mut MCache, heap: &MHeap) -> *mut u8 {
    c.malloc_small(heap, SC << 1 | 1, CLASS_TABLE[SC].size)
}

type MallocFn = fn(&mut MCache, &MHeap) -> *mut u8;

/// Go: mallocNoScanTable (malloc_tables_generated.go). Index: the size in bytes, 1..=80.
static MALLOC_NO_SCAN_TABLE: [MallocFn; 81] = {
    let mut t: [MallocFn; 81] = [malloc_small_noscan_sc::<1>; 81];
    let mut size = 1;
    while size <= 80 {
        t[size] = match size_to_class(size) {
            1 => malloc_small_noscan_sc::<1>,
            2 => malloc_small_noscan_sc::<2>,
            3 => malloc_small_noscan_sc::<3>,
            4 => malloc_small_noscan_sc::<4>,
            5 => malloc_small_noscan_sc::<5>,
            6 => malloc_small_noscan_sc::<6>,
            _ => malloc_small_noscan_sc::<7>,
        };
        size += 1;
    }
    t
};
// ANCHOR_END: specialised

// ANCHOR: mallocgc
/// Go: mallocgc. `size` bytes aligned to `align` (a power of two up to a page), or null when
/// out of memory.
#[inline]
pub fn mallocgc(heap: &MHeap, size: usize, align: usize) -> *mut u8 {
    if size == 0 {
        return zerobase(); // Go: every zero-size allocation is &zerobase
    }
    if size <= 80 && align <= 8 {
        return with_mcache(heap, |c| MALLOC_NO_SCAN_TABLE[size](c, heap));
    }
    let spc = span_class_for(size, align);
    if spc != 0 {
        let elemsize = CLASS_TABLE[spc >> 1].size;
        return with_mcache(heap, |c| c.malloc_small(heap, spc, elemsize));
    }
    malloc_large(heap, size, align)
}
// ANCHOR_END: mallocgc

/// Go: mallocgcLarge. A span of its own, one object.
#[inline(never)]
fn malloc_large(heap: &MHeap, size: usize, align: usize) -> *mut u8 {
    if align > PAGE_SIZE {
        return null_mut(); // spans are page-aligned; more is not supported
    }
    let npages = size.div_ceil(PAGE_SIZE);
    let s = heap.alloc_span(npages, SpanClass::new(0, true));
    if s.is_null() {
        return null_mut();
    }
    heap.stats.count_mallocs(0, 1);
    heap.stats
        .large_live
        .fetch_add(npages * PAGE_SIZE, Ordering::Relaxed);
    // SAFETY: a fresh span of ours.
    unsafe { (*s).alloc_count = 1 };
    // SAFETY: as above.
    unsafe { (*s).mem }
}

/// Go: zerobase, the address of every zero-size allocation. Page-aligned, so it suits any
/// alignment a span could.
#[repr(C, align(8192))]
struct ZeroBase(u8);
static ZEROBASE: ZeroBase = ZeroBase(0);

fn zerobase() -> *mut u8 {
    (&raw const ZEROBASE).cast_mut().cast()
}

/// Zeroed memory: as mallocgc, clearing only what may hold old bytes (Go: needzero).
pub fn mallocgc_zeroed(heap: &MHeap, size: usize, align: usize) -> *mut u8 {
    let p = mallocgc(heap, size, align);
    if p.is_null() || size == 0 {
        return p;
    }
    if span_class_for(size, align) == 0 {
        let s = heap.span_of(p as usize);
        // SAFETY: p is the start of a fresh large span; needzero says if it was used before.
        if unsafe { !(*s).needzero } {
            return p;
        }
    }
    // SAFETY: p holds at least size bytes.
    unsafe { p.write_bytes(0, size) };
    p
}

// ANCHOR: freegc
/// Free what [`mallocgc`] returned for this size and alignment.
///
/// # Safety
/// `p` came from `mallocgc(heap, size, align)` and is not used again.
pub unsafe fn freegc(heap: &MHeap, p: *mut u8, size: usize, align: usize) {
    if size == 0 {
        return; // zerobase
    }
    let spc = span_class_for(size, align);
    if spc != 0 {
        let nelems = crate::mspan::NELEMS_NOSCAN[spc >> 1];
        // SAFETY: forwarded from our caller.
        with_mcache(heap, |c| unsafe { c.free_small(heap, p, spc, nelems) });
        return;
    }
    let s = heap.span_of(p as usize);
    // SAFETY: a large object is the only object of its span.
    if s.is_null() || unsafe { (*s).base } != p as usize {
        throw("free of a pointer the heap did not allocate");
    }
    heap.stats.count_frees(0, 1);
    // SAFETY: as above.
    heap.stats
        .large_live
        .fetch_sub(unsafe { (*s).npages } * PAGE_SIZE, Ordering::Relaxed);
    // SAFETY: the span's one object is dead.
    unsafe { heap.free_span(s) };
}
// ANCHOR_END: freegc

// Each thread's mcache (Go: each P's). The pointer is a const-initialised thread local,
// read on every allocation; a second thread local with a destructor gives the cache back
// when the thread exits. While the cache is being set up or after it is gone, allocations
// use a shared cache under a lock (Go: mcache0, the cache used before there is a P).

const NONE: u8 = 0;
const BUSY: u8 = 1;
const READY: u8 = 2;
const GONE: u8 = 3;

thread_local! {
    static MCACHE: Cell<*mut MCache> = const { Cell::new(null_mut()) };
    static STATE: Cell<u8> = const { Cell::new(NONE) };
    static RELEASE: Release = const { Release };
}

/// Gives the thread's mcache back when the thread exits (Go: freemcache when a P dies).
struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        let c = MCACHE.with(|m| m.replace(null_mut()));
        STATE.with(|s| s.set(GONE));
        if !c.is_null() {
            // SAFETY: the cache is ours and nothing else uses it.
            unsafe {
                (*c).release_all(&MHEAP);
                MHEAP.free_mcache(c);
            }
        }
    }
}

#[inline(always)]
fn with_mcache<R>(heap: &MHeap, f: impl FnOnce(&mut MCache) -> R) -> R {
    if std::ptr::eq(heap, &MHEAP) {
        let c = MCACHE.with(|m| m.get());
        if !c.is_null() {
            // SAFETY: this thread's cache; nothing re-enters the allocator while f runs.
            return f(unsafe { &mut *c });
        }
    }
    with_mcache_slow(heap, f)
}

#[inline(never)]
fn with_mcache_slow<R>(heap: &MHeap, f: impl FnOnce(&mut MCache) -> R) -> R {
    if std::ptr::eq(heap, &MHEAP) && STATE.with(|s| s.get()) == NONE {
        STATE.with(|s| s.set(BUSY));
        let c = heap.alloc_mcache();
        if !c.is_null() {
            // SAFETY: a fresh record that never moves.
            unsafe { MCache::init(c) };
            // Registering the destructor may allocate: that allocation sees BUSY.
            RELEASE.with(|_| {});
            MCACHE.with(|m| m.set(c));
            STATE.with(|s| s.set(READY));
            // SAFETY: as in with_mcache.
            return f(unsafe { &mut *c });
        }
        STATE.with(|s| s.set(NONE));
    }
    let mut g = heap.cache0.lock().unwrap_or_else(|e| e.into_inner());
    if *g == 0 {
        let c = heap.alloc_mcache();
        if c.is_null() {
            throw("out of memory allocating an mcache");
        }
        // SAFETY: a fresh record that never moves.
        unsafe { MCache::init(c) };
        *g = c as usize;
    }
    // SAFETY: the lock makes the shared cache ours while f runs.
    f(unsafe { &mut *(*g as *mut MCache) })
}

/// Give the calling thread's cached spans and freed objects back to the heap (Go: what a GC
/// cycle's flush does to every mcache). Tests and stats readers use it.
pub fn release_mcache(heap: &MHeap) {
    with_mcache(heap, |c| c.release_all(heap));
}

/// Go: runtime/debug.FreeOSMemory. Give this thread's cache back, sweep every partial span
/// (empty ones go back to the heap), and return every free page to the OS.
pub fn free_os_memory(heap: &MHeap) {
    release_mcache(heap);
    for c in &heap.central {
        c.sweep_partial(heap);
    }
    heap.scavenge_all();
}

// ANCHOR: goalloc
/// Go's allocator as Rust's global allocator:
///
/// ```ignore
/// #[global_allocator]
/// static A: chapter_allocator::GoAlloc = chapter_allocator::GoAlloc;
/// ```
pub struct GoAlloc;

// SAFETY: mallocgc returns fresh, aligned, exclusively owned memory of the asked size (or
// null), and freegc takes back exactly what mallocgc gave for the same layout.
unsafe impl GlobalAlloc for GoAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        mallocgc(&MHEAP, layout.size(), layout.align())
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc's contract: p came from alloc with this layout.
        unsafe { freegc(&MHEAP, p, layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        mallocgc_zeroed(&MHEAP, layout.size(), layout.align())
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Same size class: the object already has the room (Go's append relies on the same
        // rounding, see roundupsize).
        let old = span_class_for(layout.size(), layout.align());
        if old != 0 && old == span_class_for(new_size, layout.align()) {
            return p;
        }
        let q = mallocgc(&MHEAP, new_size, layout.align());
        if !q.is_null() {
            // SAFETY: both blocks hold at least the smaller size and do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                freegc(&MHEAP, p, layout.size(), layout.align());
            }
        }
        q
    }
}
// ANCHOR_END: goalloc

/// What the heap reports (Go: the matching runtime.MemStats fields). Counts are flushed when
/// an mcache gives a span back, as in Go between GC cycles; call [`release_mcache`] first for
/// exact numbers from the calling thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemStats {
    /// Bytes of live objects, each counted at its size class (Go: HeapAlloc).
    pub heap_alloc: usize,
    pub heap_sys: usize,
    pub heap_inuse: usize,
    pub heap_idle: usize,
    pub heap_released: usize,
    /// All bytes ever released to the OS by the scavenger (Go: the scavenger's total).
    pub released_total: usize,
    pub mallocs: u64,
    pub frees: u64,
    /// Go: BySize: (class size, mallocs, frees); class 0 is large objects.
    pub by_size: Vec<(usize, u64, u64)>,
}

/// Go: runtime.ReadMemStats.
pub fn read_mem_stats(heap: &MHeap) -> MemStats {
    let st = &heap.stats;
    let by_size: Vec<(usize, u64, u64)> = (0..NUM_SIZE_CLASSES)
        .map(|c| {
            (
                CLASS_TABLE[c].size,
                st.mallocs[c].load(Ordering::Relaxed),
                st.frees[c].load(Ordering::Relaxed),
            )
        })
        .collect();
    let heap_sys = st.heap_sys.load(Ordering::Relaxed);
    let heap_inuse = st.heap_inuse.load(Ordering::Relaxed);
    // Counters move independently: a free may be counted before its malloc is flushed.
    let small: u64 = by_size
        .iter()
        .skip(1)
        .map(|&(size, m, f)| m.saturating_sub(f) * size as u64)
        .sum();
    MemStats {
        heap_alloc: small as usize + st.large_live.load(Ordering::Relaxed),
        heap_sys,
        heap_inuse,
        heap_idle: heap_sys - heap_inuse,
        heap_released: st.heap_released.load(Ordering::Relaxed),
        released_total: st.released_total.load(Ordering::Relaxed),
        mallocs: by_size.iter().map(|b| b.1).sum(),
        frees: by_size.iter().map(|b| b.2).sum(),
        by_size,
    }
}

// ANCHOR: memstats_csv
/// For each row `size,n,...` of `input` (the columns of `go/memstats`): the Mallocs and
/// HeapAlloc that `n` allocations of `size` bytes add, measured on a fresh heap. Objects under
/// 16 bytes are Go's tiny allocations, which this heap does not make: [`crate::tiny`] counts
/// their blocks.
pub fn memstats_csv(input: &str) -> String {
    let mut out = String::from("size,n,mallocs,heap_alloc\n");
    for line in input.lines().skip(1) {
        let mut f = line
            .split(',')
            .map(|x| x.parse::<usize>().expect("a number"));
        let (size, n) = (f.next().unwrap(), f.next().unwrap());
        let (mallocs, heap_alloc) = if size < crate::sizeclasses::TINY_SIZE {
            (
                n,
                crate::tiny::blocks_for(&vec![size; n]) * crate::sizeclasses::TINY_SIZE,
            )
        } else {
            let heap: &MHeap = Box::leak(Box::new(MHeap::new()));
            let before = read_mem_stats(heap);
            for _ in 0..n {
                assert!(!mallocgc(heap, size, 1).is_null());
            }
            release_mcache(heap); // Go's ReadMemStats flushes every mcache first
            let after = read_mem_stats(heap);
            (
                (after.mallocs - before.mallocs) as usize,
                after.heap_alloc - before.heap_alloc,
            )
        };
        out += &format!("{size},{n},{mallocs},{heap_alloc}\n");
    }
    out
}
// ANCHOR_END: memstats_csv

const _: () = assert!(NUM_SPAN_CLASSES == 136);
