//! # The memory allocator, as go1.27.3 builds it (in progress)
//!
//! So far:
//! - [`sizeclasses`]: the 67 small-object size classes computed by Go's own algorithm
//!   (runtime/_mkmalloc/mksizeclasses.go), checked against the table go1.27.3's generator
//!   prints;
//! - [`mspan`]: a span's alloc bits, the 64-bit allocCache with count-trailing-zeros
//!   (nextFreeFast, nextFreeIndex), Green Tea's reserved span tail, and sweeping as the
//!   gcmarkBits → allocBits swap;
//! - [`tiny`]: the tiny allocator's 16-byte blocks;
//! - [`mpallocbits`]: the page allocator's per-chunk bitmaps and summaries (start, max, end),
//!   with Go's O(log n) bit tricks for the longest free run and the first fit.
//!
//! mcache, mcentral, mheap and the page allocator follow.

pub mod mpallocbits;
pub mod mspan;
pub mod sizeclasses;
pub mod tiny;
