//! # The memory allocator, as go1.27.3 builds it
//!
//! One module per Go concept, each named after its Go file:
//! - [`sizeclasses`]: the 67 small-object size classes, computed by Go's own algorithm
//!   (runtime/_mkmalloc/mksizeclasses.go) at compile time;
//! - [`mspan`]: a span's alloc bits, the 64-bit allocCache with count-trailing-zeros
//!   (nextFreeFast, nextFreeIndex), Green Tea's reserved span tail, and sweeping as the
//!   gcmarkBits → allocBits swap;
//! - [`mcache`], [`mcentral`], [`mspanset`], [`mheap`]: the three tiers a small allocation
//!   falls through, per thread, per span class, and global;
//! - [`mpallocbits`], [`mpagealloc`]: the page allocator's bitmaps and radix tree of summaries;
//! - [`mgcscavenge`]: returning free pages to the OS;
//! - [`malloc`]: mallocgc with the size-specialised fast path, and [`GoAlloc`], a real
//!   `#[global_allocator]`;
//! - [`tiny`]: the tiny allocator's 16-byte blocks;
//! - [`mem`], [`mfixalloc`]: memory from the OS, and the allocator's own records.

pub mod mem;
pub mod mfixalloc;
pub mod mgcscavenge;
pub mod mpagealloc;
pub mod mpallocbits;
pub mod mspan;
pub mod mspanset;
pub mod sizeclasses;
mod sync;
pub mod tiny;

#[cfg(not(loom))]
pub mod malloc;
#[cfg(not(loom))]
pub mod mcache;
#[cfg(not(loom))]
pub mod mcentral;
#[cfg(not(loom))]
pub mod mheap;

#[cfg(not(loom))]
pub use malloc::{read_mem_stats, GoAlloc, MemStats, MHEAP};

/// Go: throw. A broken invariant of the allocator: print Go's way and abort. (A panic could
/// unwind into a caller that is itself allocating.)
#[cold]
pub fn throw(msg: &str) -> ! {
    // No format!: that would allocate, perhaps from the allocator that is failing.
    for part in ["fatal error: ", msg, "\n"] {
        // SAFETY: writing a byte buffer to stderr.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
    std::process::abort()
}
