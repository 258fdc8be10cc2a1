//! The mutex chapter's lock-wait workload (`benches::lock_wait_goroutines`) on the chapter's
//! Mutex, its contenders goroutines of the chapter's runtime on two Ps; prints the wait
//! percentiles as one JSON line. `cargo xtask bench mutex` runs it; `small` as the argument
//! runs the short workload.

fn main() {
    benches::lock_wait_goroutines();
}
