//! The mixed workload (`benches::mixed_workload`) on glibc's malloc (`std::alloc::System`);
//! prints peak and final RSS as JSON. See `rss_ours.rs`.

#[global_allocator]
static A: std::alloc::System = std::alloc::System;

fn main() {
    benches::rss_main("glibc", || None);
}
