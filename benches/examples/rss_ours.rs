//! The mixed workload (`benches::mixed_workload`) on the chapter's allocator as the global
//! allocator; prints peak and final RSS, and what the scavenger released to the OS, as JSON.
//! Nothing asks it to give memory back (no `free_os_memory`): this is what it does on its own.
//! `cargo xtask bench allocator` runs it; `small` as the argument runs the short workload.

use chapter_allocator::{read_mem_stats, GoAlloc, MHEAP};

#[global_allocator]
static A: GoAlloc = GoAlloc;

fn main() {
    benches::rss_main("ours", || Some(read_mem_stats(&MHEAP).released_total));
}
