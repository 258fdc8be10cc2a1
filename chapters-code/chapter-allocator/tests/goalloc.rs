//! This test binary runs on Go's allocator: every Box, Vec, String and BTreeMap node below,
//! and the test harness's own allocations, come from chapter_allocator's heap.
#![cfg(not(miri))] // the heap maps memory; miri checks the span and bitmap code instead

use chapter_allocator::{read_mem_stats, GoAlloc, MHEAP};
use std::collections::BTreeMap;

// ANCHOR: global_allocator
#[global_allocator]
static A: GoAlloc = GoAlloc;
// ANCHOR_END: global_allocator

#[test]
fn std_collections_run_on_go_s_allocator() {
    let before = read_mem_stats(&MHEAP);
    let n = 200_000u64;
    let mut m = BTreeMap::new();
    for i in 0..n {
        m.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), i.to_string());
    }
    let mut v: Vec<u64> = m.values().map(|s| s.parse().unwrap()).collect();
    v.sort();
    assert!(v.iter().copied().eq(0..n));
    for i in (0..n).step_by(2) {
        m.remove(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    assert_eq!(m.len(), n as usize / 2);
    drop(m);
    chapter_allocator::malloc::release_mcache(&MHEAP);
    let after = read_mem_stats(&MHEAP);
    assert!(
        after.mallocs - before.mallocs >= n,
        "{} allocations counted",
        after.mallocs - before.mallocs
    );
}

#[test]
fn threads_free_each_others_objects() {
    // Producers allocate, consumers check and free: every free is remote, so spans fill up
    // on one thread and are handed back to their mcentral by frees on another.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|s| {
        for t in 0..2u8 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..50_000usize {
                    let len = 1 + (i * 7919) % 3000;
                    tx.send(vec![t ^ (i as u8); len]).unwrap();
                }
            });
        }
        drop(tx);
        for _ in 0..2 {
            s.spawn(|| loop {
                let Ok(v) = rx.lock().unwrap().recv() else {
                    break;
                };
                assert!(v.iter().all(|&b| b == v[0]), "an object was overwritten");
            });
        }
    });
}

// ANCHOR: released
#[test]
fn memory_goes_back_to_the_os() {
    let before = read_mem_stats(&MHEAP).released_total;
    let blocks: Vec<Vec<u8>> = (0..128).map(|i| vec![i as u8; 1 << 20]).collect();
    assert!(blocks
        .iter()
        .enumerate()
        .all(|(i, b)| b[(1 << 20) - 1] == i as u8));
    drop(blocks);
    let released = read_mem_stats(&MHEAP).released_total - before;
    // Other tests run at the same time, but these 128 MiB are well above the heap's goal.
    assert!(released >= 64 << 20, "released {} MiB", released >> 20);
}
// ANCHOR_END: released
