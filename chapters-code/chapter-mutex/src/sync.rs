//! The loom shim (the tokio pattern): under `--cfg loom` the atomics, the semaRoot lock and
//! thread parking come from loom, which then explores every interleaving of them; otherwise
//! from std.

#[cfg(loom)]
pub(crate) use loom::{
    sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64},
    sync::{Mutex, MutexGuard},
    thread::{current, park, yield_now, Thread},
};
#[cfg(not(loom))]
pub(crate) use std::{
    sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64},
    sync::{Mutex, MutexGuard},
    thread::{current, park, yield_now, Thread},
};

/// The fence that makes loom see what `SeqCst` promises in a store→load pair.
///
/// semacquire1 adds to `nwait` and then reads the count; semrelease1 adds to the count and
/// then reads `nwait`. Sequential consistency forbids both reads from missing the other
/// side's add (the store-buffering outcome): in Go, whose atomics are sequentially
/// consistent, and in Rust, where all four accesses are `SeqCst`. loom treats `SeqCst`
/// accesses as acquire/release only, and so reports lost wake-ups that cannot happen; it
/// does model `fence(SeqCst)` exactly. So under loom the pair gets a fence, and elsewhere
/// this is nothing.
#[inline(always)]
pub(crate) fn loom_store_load_fence() {
    #[cfg(loom)]
    loom::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}
