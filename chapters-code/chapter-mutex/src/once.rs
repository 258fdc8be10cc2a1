//! Go: sync/once.go — `sync.Once`: a flag checked without a lock, and a [`Mutex`] for the
//! slow path.
//!
//! The tempting one-CAS version ("whoever flips the flag runs f") is wrong: the losers would
//! return while the winner is still inside `f`, before what `f` sets up exists. Do promises
//! that when any call returns, `f` has returned. So the slow path takes the mutex, everyone
//! behind the first caller sleeps on it, and `done` is set only after `f` finishes. `done`
//! comes first in the struct so the hot path, inlined into every caller, is one load at
//! offset 0.

use crate::mutex::Mutex;
use crate::sync::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;

/// Go: sync.Once.
#[derive(Default, Debug)]
pub struct Once {
    done: AtomicBool,
    m: Mutex,
}

impl Once {
    #[cfg(not(loom))]
    pub const fn new() -> Once {
        Once {
            done: AtomicBool::new(false),
            m: Mutex::new(),
        }
    }
    /// loom's atomics cannot be made in a `const fn`.
    #[cfg(loom)]
    pub fn new() -> Once {
        Once {
            done: AtomicBool::new(false),
            m: Mutex::new(),
        }
    }

    // ANCHOR: do
    /// Go: Do (`do` is a Rust keyword). Runs `f` if no call of `do_` on this Once has run it
    /// yet; every call returns only once `f` has returned. If `f` panics, the Once counts as
    /// done all the same, as in Go: later calls do not run their `f`. Calling `do_` from
    /// inside `f` deadlocks.
    #[inline]
    pub fn do_(&self, f: impl FnOnce()) {
        if !self.done.load(SeqCst) {
            // Outlined, so that the fast path inlines.
            self.do_slow(f);
        }
    }

    /// Go: doSlow. Go's two `defer`s — `m.Unlock()`, and `done.Store(true)` before it — are
    /// one guard here, whose drop runs them in that order when `f` returns or panics.
    #[inline(never)]
    fn do_slow(&self, f: impl FnOnce()) {
        self.m.lock();
        if self.done.load(SeqCst) {
            self.m.unlock();
            return;
        }
        struct Finish<'a>(&'a Once);
        impl Drop for Finish<'_> {
            fn drop(&mut self) {
                self.0.done.store(true, SeqCst);
                self.0.m.unlock();
            }
        }
        let _finish = Finish(self);
        f();
    }
    // ANCHOR_END: do
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn f_runs_once_even_if_it_panics() {
        let once = Once::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            once.do_(|| panic!("boom"));
        }));
        assert!(r.is_err());
        let mut ran = false;
        once.do_(|| ran = true);
        assert!(!ran, "a panicking f still counts as done");
        assert_eq!(once.m.state(), 0, "and the mutex was unlocked");
    }
}
