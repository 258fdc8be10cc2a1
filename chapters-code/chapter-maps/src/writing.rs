//! Go's best-effort detector of concurrent map writes.
//!
//! Go: the `writing` field of `maps.Map` (internal/runtime/maps/map.go). A writer flips the flag
//! on entry and flips it back on exit; anyone who finds it set in between knows two goroutines
//! touch the map at once and kills the program with `fatal` — not a panic, so `recover` cannot
//! hide it. The field is a plain byte with no atomics or fences: the check costs almost nothing
//! and catches the bug *often*, not always. In Rust a plain byte shared across threads would be
//! a data race, so it is an `AtomicU8` with relaxed loads and stores, which keeps Go's
//! non-atomic read-modify-write (and its blind spots) without undefined behaviour.
//!
//! `SwissMap` takes `&mut self` to write, so safe Rust can never trip this detector: the borrow
//! checker proves at compile time what Go checks at run time. The detector is still here, wired
//! into the map, so the chapter can show Go's mechanism — and its loom model shows exactly which
//! interleavings it catches and which it misses.

use crate::sync::{AtomicU8, Ordering};

/// Go's message for two writers (`fatal("concurrent map writes")`).
pub const CONCURRENT_MAP_WRITES: &str = "concurrent map writes";
/// Go's message for a reader that meets a writer.
pub const CONCURRENT_MAP_READ_AND_WRITE: &str = "concurrent map read and map write";
/// Go's message for a `range` loop that meets a writer (`Iter.Next`).
pub const CONCURRENT_MAP_ITERATION_AND_WRITE: &str = "concurrent map iteration and map write";

/// What the detector saw: Go would print `fatal error: <msg>` and exit with status 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fatal(pub &'static str);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fatal error: {}", self.0)
    }
}

// ANCHOR: writing
/// The `writing` flag of one map.
#[derive(Debug, Default)]
pub struct Writing(AtomicU8);

impl Writing {
    pub fn new() -> Self {
        Writing(AtomicU8::new(0))
    }

    /// Go: the top of `putSlot` / `Delete`: `if m.writing != 0 { fatal(...) }; m.writing ^= 1`.
    pub fn begin_write(&self) -> Result<(), Fatal> {
        if self.0.load(Ordering::Relaxed) != 0 {
            return Err(Fatal(CONCURRENT_MAP_WRITES));
        }
        let v = self.0.load(Ordering::Relaxed);
        self.0.store(v ^ 1, Ordering::Relaxed);
        Ok(())
    }

    /// Go: the bottom of a write: `if m.writing == 0 { fatal(...) }; m.writing ^= 1`.
    pub fn end_write(&self) -> Result<(), Fatal> {
        let v = self.0.load(Ordering::Relaxed);
        if v == 0 {
            return Err(Fatal(CONCURRENT_MAP_WRITES));
        }
        self.0.store(v ^ 1, Ordering::Relaxed);
        Ok(())
    }

    /// Go: the check at the top of `Get`: a reader that meets a writer.
    pub fn check_read(&self) -> Result<(), Fatal> {
        if self.0.load(Ordering::Relaxed) != 0 {
            return Err(Fatal(CONCURRENT_MAP_READ_AND_WRITE));
        }
        Ok(())
    }

    /// Go: the check in `Iter.Next`: an iteration step that meets a writer.
    pub fn check_iter(&self) -> Result<(), Fatal> {
        if self.0.load(Ordering::Relaxed) != 0 {
            return Err(Fatal(CONCURRENT_MAP_ITERATION_AND_WRITE));
        }
        Ok(())
    }
}
// ANCHOR_END: writing

/// Go's `fatal`: print the message the way the runtime does and exit with status 2.
/// Not a panic: Go's `recover` cannot catch it either.
pub fn fatal(f: Fatal) -> ! {
    eprintln!("{f}");
    std::process::exit(2)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_write_inside_a_write_is_caught() {
        let w = Writing::new();
        w.begin_write().unwrap();
        assert_eq!(w.begin_write(), Err(Fatal(CONCURRENT_MAP_WRITES)));
        assert_eq!(w.check_read(), Err(Fatal(CONCURRENT_MAP_READ_AND_WRITE)));
        assert_eq!(
            w.check_iter(),
            Err(Fatal(CONCURRENT_MAP_ITERATION_AND_WRITE))
        );
    }

    #[test]
    fn sequential_writes_never_trip_it() {
        let w = Writing::new();
        for _ in 0..1000 {
            w.begin_write().unwrap();
            w.end_write().unwrap();
            w.check_read().unwrap();
        }
    }

    #[test]
    fn the_message_is_gos() {
        assert_eq!(
            Fatal(CONCURRENT_MAP_WRITES).to_string(),
            "fatal error: concurrent map writes"
        );
    }
}

/// loom explores every interleaving of two writers that each run one guarded write, and
/// records what the detector saw. Run with `RUSTFLAGS="--cfg loom" cargo test --release
/// -p chapter-maps --lib loom_` (`cargo xtask test` does).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use std::collections::BTreeSet;
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::Mutex;

    // ANCHOR: loom_writing
    /// One write as Go's map does it: flag on, the work, flag off. `inside` counts the writers
    /// between their first and last step, so the model knows when two writes really overlapped.
    /// Returns (overlapped, detected).
    fn guarded_write(w: &Writing, inside: &AtomicUsize) -> (bool, bool) {
        let entering = inside.fetch_add(1, SeqCst) + 1;
        let result = (|| {
            w.begin_write()?;
            loom::thread::yield_now(); // the write itself: another thread may run here
            w.end_write()
        })();
        let leaving = inside.fetch_sub(1, SeqCst);
        (entering == 2 || leaving == 2, result.is_err())
    }

    #[test]
    fn loom_the_detector_never_cries_wolf_but_can_miss_an_overlap() {
        let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
        let seen = outcomes.clone();
        loom::model(move || {
            let (w, inside) = (Arc::new(Writing::new()), Arc::new(AtomicUsize::new(0)));
            let (w2, inside2) = (w.clone(), inside.clone());
            let other = loom::thread::spawn(move || guarded_write(&w2, &inside2));
            let (o1, d1) = guarded_write(&w, &inside);
            let (o2, d2) = other.join().unwrap();
            seen.lock().unwrap().insert((o1 || o2, d1 || d2));
        });
        let outcomes = outcomes.lock().unwrap();
        assert!(
            !outcomes.contains(&(false, true)),
            "a fatal error without concurrent writes"
        );
        assert!(
            outcomes.contains(&(true, true)),
            "no overlapping schedule was caught"
        );
        assert!(
            outcomes.contains(&(true, false)),
            "every overlap was caught: not Go's detector"
        );
        assert!(
            outcomes.contains(&(false, false)),
            "sequential writes were never explored"
        );
    }
    // ANCHOR_END: loom_writing
}
