//! # The memory allocator, as go1.27.3 builds it (in progress)
//!
//! So far: [`sizeclasses`], the 67 small-object size classes computed by Go's own algorithm
//! (runtime/_mkmalloc/mksizeclasses.go) and checked against the table go1.27.3's generator
//! prints. Spans, mcache, mcentral and mheap follow.

pub mod sizeclasses;
