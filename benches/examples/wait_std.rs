//! The mutex chapter's lock-wait workload (`benches::lock_wait_threads`) on
//! `std::sync::Mutex`, its contenders OS threads; prints the wait percentiles as one JSON
//! line. `cargo xtask bench mutex` runs it; `small` as the argument runs the short workload.

fn main() {
    benches::lock_wait_threads::<std::sync::Mutex<u64>>();
}
