//! The loom shim (the tokio pattern): atomics come from loom under `--cfg loom`, from std
//! otherwise, so the rest of the crate never mentions loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
