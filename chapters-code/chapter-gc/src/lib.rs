//! # The garbage collector, as go1.27.3 builds it
//!
//! One module per Go file. The pacer and the limiter are arithmetic on Go's structs:
//! [`mgcpacer`] decides when a cycle starts and how much the mutator must help
//! (runtime/mgcpacer.go), [`mgclimit`] caps the collector's CPU when a memory limit would make
//! it run all the time (runtime/mgclimit.go). [`mbarrier`] and [`mwbbuf`] are the hybrid write
//! barrier and its per-P buffer on a small model heap of atomics, the one the loom models
//! (models.rs) explore.
//!
//! [`heap::Heap`] is a heap a program can use: typed objects ([`types`]) on
//! chapter-allocator's spans, their pointer maps where Go keeps them ([`mbitmap`]), roots in
//! explicit frames and globals. [`mgc`] runs the cycle, [`mgcmark`] marks from the roots,
//! either span by span with Green Tea ([`mgcmark_greenteagc`], the default) or object by object
//! (the classic flood), out of Go's gcWork ([`mgcwork`]); [`mgcsweep`] sweeps, all at once or
//! lazily. [`specials`] are the per-object records the collector consults: finalizers
//! ([`mfinal`]), cleanups ([`mcleanup`]) and weak pointers ([`weak`]).
//!
//! [`proc`] runs the cycle the way Go runs it, with the mutator: a seeded, simulated machine
//! of goroutines and Ps on which mark workers are scheduled as findRunnableGCWorker schedules
//! them, allocation pays with assists ([`mgcassist`]), a ragged barrier over the per-P
//! write-barrier buffers ends the mark, and the sweep is lazy.

#[cfg(not(loom))]
pub mod heap;
pub mod mbarrier;
#[cfg(not(loom))]
pub mod mbitmap;
#[cfg(not(loom))]
pub mod mcleanup;
#[cfg(not(loom))]
pub mod mfinal;
#[cfg(not(loom))]
pub mod mgc;
#[cfg(not(loom))]
pub mod mgcassist;
pub mod mgclimit;
#[cfg(not(loom))]
pub mod mgcmark;
#[cfg(not(loom))]
pub mod mgcmark_greenteagc;
pub mod mgcpacer;
#[cfg(not(loom))]
pub mod mgcsweep;
#[cfg(not(loom))]
pub mod mgcwork;
pub mod mwbbuf;
#[cfg(not(loom))]
pub mod proc;
#[cfg(not(loom))]
pub mod specials;
pub mod types;
#[cfg(not(loom))]
pub mod weak;

#[cfg(all(test, loom))]
mod models;
