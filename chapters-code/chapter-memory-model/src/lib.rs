//! # What Go promises: the memory model and the spec's constants
//!
//! Go's memory model says which writes a read may see; the race detector checks it on one
//! execution at a time. This crate runs small programs ([`program`]) under a deterministic
//! scheduler ([`exec`]), turns every synchronizing operation into a happens-before edge
//! ([`hb`]), and finds data races with vector clocks and FastTrack epochs ([`vclock`],
//! [`fasttrack`]). [`litmus`] shows what each Rust ordering allows on the classic litmus
//! tests, and [`constant`] is the spec's exact untyped constant arithmetic.

pub mod constant;
pub mod exec;
pub mod fasttrack;
pub mod hb;
pub mod litmus;
pub mod program;
pub mod vclock;
