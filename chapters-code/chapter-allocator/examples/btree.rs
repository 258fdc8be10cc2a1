//! A program on Go's allocator: a BTreeMap workload with every Box, Vec, String and tree node
//! coming from chapter_allocator's heap, then the heap's own account of what it did.
//!
//! ```console
//! $ cargo run --release -q -p chapter-allocator --example btree
//! ```

use chapter_allocator::malloc::{free_os_memory, release_mcache};
use chapter_allocator::{read_mem_stats, GoAlloc, MemStats, MHEAP};
use std::collections::BTreeMap;

#[global_allocator]
static A: GoAlloc = GoAlloc;

fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn report(when: &str, st: &MemStats) {
    println!(
        "{when:<28} HeapInuse {:>7} KiB  HeapReleased {:>7} KiB  Mallocs {:>9}  Frees {:>9}  RSS {:>7} KiB",
        st.heap_inuse >> 10,
        st.heap_released >> 10,
        st.mallocs,
        st.frees,
        rss_kib()
    );
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut m: BTreeMap<u64, String> = BTreeMap::new();
    for i in 0..n {
        m.insert(i.wrapping_mul(0x9e37_79b9_7f4a_7c15), format!("value {i}"));
    }
    release_mcache(&MHEAP);
    report(&format!("{n} entries"), &read_mem_stats(&MHEAP));

    m.retain(|k, _| k % 4 == 0);
    release_mcache(&MHEAP);
    report(
        &format!("{} entries kept", m.len()),
        &read_mem_stats(&MHEAP),
    );

    drop(m);
    release_mcache(&MHEAP);
    report("map dropped", &read_mem_stats(&MHEAP));

    free_os_memory(&MHEAP);
    let st = read_mem_stats(&MHEAP);
    report("after free_os_memory", &st);
    println!(
        "returned to the OS: {} MiB over the run",
        st.released_total >> 20
    );
    let classes: Vec<String> = st
        .by_size
        .iter()
        .filter(|b| b.1 > 0)
        .map(|b| {
            format!(
                "{}B:{}",
                if b.0 == 0 {
                    "large".into()
                } else {
                    b.0.to_string()
                },
                b.1
            )
        })
        .collect();
    println!("mallocs by size class: {}", classes.join(" "));
}
