//! The heap against a model, on a private heap: random allocations and frees of every kind
//! of size never overlap, are aligned, land in the right class, and leave nothing behind.
#![cfg(not(miri))] // the heap maps memory; miri checks the span and bitmap code instead

use chapter_allocator::malloc::{free_os_memory, freegc, mallocgc, read_mem_stats};
use chapter_allocator::mheap::MHeap;
use chapter_allocator::sizeclasses::{size_to_class, CLASS_TABLE, MAX_SMALL_SIZE, PAGE_SIZE};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn heap() -> &'static MHeap {
    // Each test gets its own heap; leaking it is what a process-long heap does anyway.
    Box::leak(Box::new(MHeap::new()))
}

/// A size mix like a program's: mostly small, some medium, a few large.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 1usize..=80,
        4 => 81usize..=1024,
        2 => 1025usize..=MAX_SMALL_SIZE,
        1 => MAX_SMALL_SIZE + 1..300_000usize,
    ]
}

fn align() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => Just(8usize),
        1 => Just(16usize),
        1 => Just(64usize),
        1 => Just(4096usize),
        1 => Just(8192usize),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize, usize),
    Free(prop::sample::Index),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (size(), align()).prop_map(|(s, a)| Op::Alloc(s, a)),
        2 => any::<prop::sample::Index>().prop_map(Op::Free),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    // ANCHOR: prop_heap
    #[test]
    fn random_allocs_and_frees_never_overlap_and_leak_nothing(ops in prop::collection::vec(op(), 1..400)) {
        let h = heap();
        // Live objects: start → (size, align, fill byte).
        let mut live: BTreeMap<usize, (usize, usize, u8)> = BTreeMap::new();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Alloc(size, align) => {
                    let p = mallocgc(h, size, align);
                    // (Alignments up to a page only: a span promises no more.)
                    prop_assert!(!p.is_null());
                    let a = p as usize;
                    prop_assert_eq!(a % align, 0, "{} bytes aligned to {}", size, align);
                    // No overlap with the neighbours on either side.
                    if let Some((&b, &(bs, _, _))) = live.range(..a).next_back() {
                        prop_assert!(b + bs <= a, "{:#x}+{} overlaps {:#x}", b, bs, a);
                    }
                    if let Some((&b, _)) = live.range(a..).next() {
                        prop_assert!(a + size <= b, "{:#x}+{} overlaps {:#x}", a, size, b);
                    }
                    // The span it came from has the right class, or is its own (large).
                    let s = unsafe { &*h.span_of(a) };
                    if size <= MAX_SMALL_SIZE - 8 && align <= 8 {
                        prop_assert_eq!(s.elemsize, CLASS_TABLE[size_to_class(size)].size);
                    } else if size > MAX_SMALL_SIZE - 8 {
                        prop_assert_eq!(s.npages, size.div_ceil(PAGE_SIZE));
                    }
                    prop_assert!(s.elemsize >= size);
                    // Fill it: a later check finds any overlap the bookkeeping missed.
                    let fill = n as u8;
                    unsafe { p.write_bytes(fill, size) };
                    live.insert(a, (size, align, fill));
                }
                Op::Free(i) if !live.is_empty() => {
                    let a = *live.keys().nth(i.index(live.len())).unwrap();
                    let (size, align, fill) = live.remove(&a).unwrap();
                    let bytes = unsafe { std::slice::from_raw_parts(a as *const u8, size) };
                    prop_assert!(bytes.iter().all(|&b| b == fill), "object {:#x} was overwritten", a);
                    unsafe { freegc(h, a as *mut u8, size, align) };
                }
                Op::Free(_) => {}
            }
        }
        for (&a, &(size, align, _)) in &live {
            unsafe { freegc(h, a as *mut u8, size, align) };
        }
        free_os_memory(h);
        let st = read_mem_stats(h);
        prop_assert_eq!(st.heap_inuse, 0, "every span went back to the heap");
        prop_assert_eq!(st.heap_released, st.heap_sys, "and every page to the OS");
        prop_assert_eq!(st.mallocs, st.frees);
        prop_assert_eq!(h.check(), Ok(()));
    }
    // ANCHOR_END: prop_heap
}

#[test]
fn a_span_is_reused_after_its_objects_are_freed() {
    let h = heap();
    let ps: Vec<*mut u8> = (0..1000).map(|_| mallocgc(h, 48, 8)).collect();
    let before = read_mem_stats(h).heap_inuse;
    for &p in &ps {
        unsafe { freegc(h, p, 48, 8) };
    }
    // The freed objects come back before any new span is taken.
    let again: Vec<*mut u8> = (0..1000).map(|_| mallocgc(h, 48, 8)).collect();
    assert_eq!(read_mem_stats(h).heap_inuse, before, "no new span");
    let spans = |v: &[*mut u8]| {
        let mut s: Vec<usize> = v.iter().map(|&p| h.span_of(p as usize) as usize).collect();
        s.sort();
        s.dedup();
        s
    };
    assert_eq!(spans(&again), spans(&ps), "the same spans");
}

// ANCHOR: scavenge_test
#[test]
fn freed_large_objects_go_back_to_the_os() {
    let h = heap();
    let big: Vec<*mut u8> = (0..64).map(|_| mallocgc(h, 1 << 20, 8)).collect();
    for &p in &big {
        unsafe { p.write_bytes(1, 1 << 20) }; // make the pages resident
    }
    let st = read_mem_stats(h);
    assert!(st.heap_inuse >= 64 << 20);
    for &p in &big {
        unsafe { freegc(h, p, 1 << 20, 8) };
    }
    let st = read_mem_stats(h);
    assert_eq!(st.heap_inuse, 0);
    // Nothing in use, so the goal is nothing: every page that held an object is released.
    assert!(
        st.released_total >= 60 << 20,
        "released {} bytes",
        st.released_total
    );
}

#[test]
fn only_memory_that_held_data_is_cleared() {
    use chapter_allocator::malloc::mallocgc_zeroed;
    let h = heap();
    // Something in use, so the scavenger's goal leaves a freed megabyte resident.
    let _ballast = mallocgc(h, 20 << 20, 8);
    // Fresh from the OS: reads as zero, no clearing needed (Go: needzero = 0).
    let p = mallocgc_zeroed(h, 1 << 20, 8);
    assert!(!unsafe { &*h.span_of(p as usize) }.needzero);
    unsafe { p.write_bytes(7, 1 << 20) };
    unsafe { freegc(h, p, 1 << 20, 8) };
    // The same pages again, still resident (within the scavenger's 10%): they are cleared.
    let q = mallocgc_zeroed(h, 1 << 20, 8);
    assert_eq!(q, p, "first fit finds the same pages");
    assert!(unsafe { &*h.span_of(q as usize) }.needzero);
    assert!(unsafe { std::slice::from_raw_parts(q, 1 << 20) }
        .iter()
        .all(|&b| b == 0));
}
// ANCHOR_END: scavenge_test

// ANCHOR: memstats_golden
/// HeapAlloc and Mallocs move as go1.27.3's do (golden/memstats.csv is `go/memstats`'s
/// output): each object costs its size class, a large one whole pages, a tiny one a share
/// of a 16-byte block.
#[test]
fn memstats_agree_with_real_go() {
    let want = include_str!("../golden/memstats.csv");
    assert_eq!(chapter_allocator::malloc::memstats_csv(want), want);
}
// ANCHOR_END: memstats_golden

#[test]
fn the_heap_reclaims_emptied_spans_before_it_grows() {
    let h = heap();
    let small: Vec<*mut u8> = (0..100_000).map(|_| mallocgc(h, 48, 8)).collect();
    for &p in &small {
        unsafe { freegc(h, p, 48, 8) };
    }
    // Every 48-byte span is empty now, but still in its mcentral: nothing has swept it.
    chapter_allocator::malloc::release_mcache(h);
    let before = read_mem_stats(h);
    assert!(
        before.heap_inuse >= 500 * PAGE_SIZE,
        "the spans are still held"
    );
    // As many bytes again in another class: the heap sweeps the empty spans and reuses
    // their pages instead of mapping more.
    let other: Vec<*mut u8> = (0..75_000).map(|_| mallocgc(h, 64, 8)).collect();
    let after = read_mem_stats(h);
    assert_eq!(after.heap_sys, before.heap_sys, "the heap did not grow");
    for &p in &other {
        unsafe { freegc(h, p, 64, 8) };
    }
}

#[test]
fn odd_sizes_and_alignments() {
    let h = heap();
    // Zero bytes: Go's zerobase, the same address every time, and freeing it does nothing.
    let z = mallocgc(h, 0, 8);
    assert_eq!(z, mallocgc(h, 0, 4096));
    unsafe { freegc(h, z, 0, 8) };
    // A page of alignment is the most a span promises; more is refused, not faked.
    for (size, align) in [(100, 8192), (20_000, 8192), (100_000, 8192)] {
        let p = mallocgc(h, size, align);
        assert_eq!(p as usize % align, 0, "{size} bytes aligned to {align}");
        unsafe { freegc(h, p, size, align) };
    }
    assert!(mallocgc(h, 100, 16384).is_null());
    // Go's small/large line is 32760 bytes, not 32768: beyond it, a span of its own.
    let small = mallocgc(h, 32760, 8);
    assert_eq!(
        unsafe { &*h.span_of(small as usize) }.spanclass.sizeclass(),
        67
    );
    let p = mallocgc(h, 32761, 8);
    assert_eq!(
        unsafe { &*h.span_of(p as usize) }.spanclass.sizeclass(),
        0,
        "large"
    );
    unsafe { freegc(h, small, 32760, 8) };
    unsafe { freegc(h, p, 32761, 8) };
}
