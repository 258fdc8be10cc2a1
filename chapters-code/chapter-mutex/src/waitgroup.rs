//! Go: sync/waitgroup.go — `sync.WaitGroup`: a counter and a count of waiters packed into one
//! 64-bit word, and a semaphore the waiters sleep on.
//!
//! Packing both into one word is what lets Add and Wait agree without a lock: Wait's CAS
//! that adds a waiter fails if the counter changed, and Add's update of the counter reads
//! the waiter count in the same atomic step. When the counter reaches zero the last Add (a
//! Done) resets the word to zero and releases the semaphore once per waiter.
//!
//! Go 1.25 added [`WaitGroup::go`]; Go 1.27's version re-panics a panicking `f` without
//! calling Done, so a Wait can never report success over a goroutine that crashed. Bit 31
//! of the word is Go's synctest-bubble flag (`waitGroupBubbleFlag`); there are no synctest
//! bubbles here, so it stays 0, but the waiter count still stops at bit 30 as Go's does.

use crate::sema::{runtime_semacquire_waitgroup, runtime_semrelease};
use crate::sync::{AtomicU32, AtomicU64};
use std::sync::atomic::Ordering::SeqCst;

/// Go: waitGroupBubbleFlag. Reserved for synctest; never set here.
pub const WAIT_GROUP_BUBBLE_FLAG: u64 = 0x8000_0000;
/// The waiter count's bits (Go: `state & 0x7fffffff`).
const WAITERS: u64 = 0x7fff_ffff;

/// Go: sync.WaitGroup. [`WaitGroup::new`], all zeros, has a counter of 0.
#[derive(Default, Debug)]
pub struct WaitGroup {
    /// High 32 bits: the counter. Low 31 bits: the waiters.
    state: AtomicU64,
    sema: AtomicU32,
}

impl WaitGroup {
    #[cfg(not(loom))]
    pub const fn new() -> WaitGroup {
        WaitGroup {
            state: AtomicU64::new(0),
            sema: AtomicU32::new(0),
        }
    }
    /// loom's atomics cannot be made in a `const fn`.
    #[cfg(loom)]
    pub fn new() -> WaitGroup {
        WaitGroup {
            state: AtomicU64::new(0),
            sema: AtomicU32::new(0),
        }
    }

    /// The state word, for tests and the book.
    pub fn state(&self) -> u64 {
        self.state.load(SeqCst)
    }

    // ANCHOR: add
    /// Go: Add. Panics, as Go does, if the counter goes negative or if Add races a Wait.
    pub fn add(&self, delta: isize) {
        // Go adds uint64(delta)<<32: a negative delta wraps, and subtracts from the counter.
        let state = self
            .state
            .fetch_add((delta as u64) << 32, SeqCst)
            .wrapping_add((delta as u64) << 32);
        let v = (state >> 32) as i32;
        let w = (state & WAITERS) as u32;
        if v < 0 {
            panic!("sync: negative WaitGroup counter");
        }
        // A waiter is counted, yet this Add started the counter from 0: it ran concurrently
        // with the Wait, which is misuse (Adds that start a round must happen before Wait).
        if w != 0 && delta > 0 && v as isize == delta {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        if v > 0 || w == 0 {
            return;
        }
        // The counter is 0 and there are waiters: we are the last Done. Nobody may touch the
        // word now (an Add would be misuse, a Wait sees 0 and returns without counting
        // itself), so one load checks that, and a plain store resets it.
        if self.state.load(SeqCst) != state {
            panic!("sync: WaitGroup misuse: Add called concurrently with Wait");
        }
        self.state.store(0, SeqCst);
        for _ in 0..w {
            runtime_semrelease(&self.sema, false);
        }
    }
    // ANCHOR_END: add

    /// Go: Done.
    pub fn done(&self) {
        self.add(-1);
    }

    // ANCHOR: wait
    /// Go: Wait. Blocks until the counter is 0.
    pub fn wait(&self) {
        loop {
            let state = self.state.load(SeqCst);
            if state >> 32 == 0 {
                return;
            }
            // Count ourselves as a waiter, but only if the counter has not moved.
            if self
                .state
                .compare_exchange(state, state + 1, SeqCst, SeqCst)
                .is_ok()
            {
                runtime_semacquire_waitgroup(&self.sema);
                // The last Done reset the word to 0 before releasing us; anything else
                // means someone started a new round before we woke.
                if self.state.load(SeqCst) != 0 {
                    panic!("sync: WaitGroup is reused before previous Wait has returned");
                }
                return;
            }
        }
    }
    // ANCHOR_END: wait

    // ANCHOR: go
    /// Go: Go (1.25). Add(1), then run `f` in a new goroutine of [`chapter_scheduler`] and
    /// call Done when it returns. A panic in `f` is not followed by Done: it ends the program
    /// (as every goroutine panic does here), and a Wait never sees the count reach 0 over it.
    /// The WaitGroup is shared through an `Arc`, Rust's way to let the goroutine outlive
    /// this call.
    ///
    /// Must be called from a goroutine.
    pub fn go<F: FnOnce() + Send + 'static>(self: &std::sync::Arc<Self>, f: F) {
        self.add(1);
        let wg = self.clone();
        chapter_scheduler::go(move || {
            f();
            wg.done();
        });
    }
    // ANCHOR_END: go
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn add_and_done_move_the_high_half() {
        let wg = WaitGroup::new();
        wg.add(3);
        assert_eq!(wg.state(), 3 << 32);
        wg.done();
        assert_eq!(wg.state(), 2 << 32);
        wg.add(-2);
        assert_eq!(wg.state(), 0);
        wg.wait(); // counter 0: returns at once
    }

    #[test]
    #[should_panic(expected = "sync: negative WaitGroup counter")]
    fn done_below_zero_panics() {
        WaitGroup::new().done();
    }

    #[test]
    #[should_panic(expected = "sync: WaitGroup misuse: Add called concurrently with Wait")]
    fn an_add_that_restarts_the_counter_under_a_waiter_panics() {
        // A waiter counted with the counter at 0 cannot happen in a correct program: it is
        // what an Add racing a Wait leaves behind.
        let wg = WaitGroup::new();
        wg.state.store(1, SeqCst);
        wg.add(1);
    }
}
