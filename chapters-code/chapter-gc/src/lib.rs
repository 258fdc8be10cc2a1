//! # The garbage collector, as go1.27.3 builds it
//!
//! One module per Go file: [`mgcpacer`] decides when a cycle starts and how much the
//! mutator must help (runtime/mgcpacer.go), and [`mgclimit`] caps the collector's CPU when
//! a memory limit would make it run all the time (runtime/mgclimit.go); [`mbarrier`] and
//! [`mwbbuf`] are the hybrid write barrier and its per-P buffer (runtime/mbarrier.go,
//! mwbbuf.go).

pub mod mbarrier;
pub mod mgclimit;
pub mod mgcpacer;
pub mod mwbbuf;

#[cfg(all(test, loom))]
mod models;
