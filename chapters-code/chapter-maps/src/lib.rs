//! # Maps and slices, as go1.27.3 builds them
//!
//! - [`SwissMap`]: the Swiss-table map of `internal/runtime/maps` (Go 1.24+): 8-slot groups
//!   with a control word, tables of at most 1024 slots, an extendible-hashing directory.
//! - [`BucketMap`]: the map Go used from 1.0 to 1.23 (`runtime/map.go`): buckets with tophash,
//!   overflow chains, load factor 6.5 and incremental evacuation — kept for comparison.
//! - [`growslice`]: the capacity rule behind `append`, with Go's size classes.
//!
//! Every module names the Go file it mirrors; read them side by side.

pub mod bucket;
pub mod growslice;
pub mod swiss;
mod sync;
pub mod testing;
pub mod writing;

pub use bucket::BucketMap;
pub use swiss::SwissMap;
