//! The mixed workload (`benches::mixed_workload`) on mimalloc (the `mimalloc` crate, default
//! features); prints peak and final RSS as JSON. See `rss_ours.rs`.

#[global_allocator]
static A: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    benches::rss_main("mimalloc", || None);
}
