//! Go: internal/sync/mutex.go — `sync.Mutex` (sync/mutex.go only forwards to it).
//!
//! A Mutex is two words: `state`, a few flag bits with a waiter count above them, and `sema`,
//! the semaphore ([`crate::sema`]) its waiters sleep on. Uncontended, Lock and Unlock are a
//! single atomic instruction each; all the rest lives in `lockSlow` and `unlockSlow`.
//!
//! The mutex runs in one of two modes. *Normal* mode favours throughput: a waiter that Unlock
//! wakes must still win the mutex against goroutines that are arriving right now, and those
//! are already on a CPU, so they tend to win; a waiter that loses goes back to the *head* of
//! the queue. Once a waiter has gone 1ms without the mutex it turns on *starvation* mode,
//! which favours latency: Unlock passes ownership to the first waiter directly, and arrivals
//! neither grab the mutex nor spin but join the tail of the queue. The waiter that receives
//! ownership turns starvation mode off again if nobody is queued behind it or it waited less
//! than 1ms, because normal mode, where one goroutine may re-take the mutex many times in a
//! row, is far cheaper.
//!
//! Go's atomics are sequentially consistent, so every atomic here is `SeqCst`: the argument
//! for Go's code is then the argument for this one.

use crate::park::{runtime_can_spin, runtime_do_spin, runtime_nanotime};
use crate::sema::{runtime_semacquire_mutex, runtime_semrelease};
use crate::sync::{AtomicI32, AtomicU32};
use std::sync::atomic::Ordering::SeqCst;

// ANCHOR: state
/// Go: mutexLocked. Someone holds the mutex.
pub const MUTEX_LOCKED: i32 = 1 << 0;
/// Go: mutexWoken. A waiter is awake (woken, or spinning), so Unlock has no one to wake.
pub const MUTEX_WOKEN: i32 = 1 << 1;
/// Go: mutexStarving. Starvation mode: the mutex is passed from hand to hand, never grabbed.
pub const MUTEX_STARVING: i32 = 1 << 2;
/// Go: mutexWaiterShift. `state >> MUTEX_WAITER_SHIFT` counts the waiters asleep on `sema`.
pub const MUTEX_WAITER_SHIFT: i32 = 3;
/// Go: starvationThresholdNs. After waiting this long (1ms) a waiter turns on starvation mode.
pub const STARVATION_THRESHOLD_NS: i64 = 1_000_000;
// ANCHOR_END: state

/// Go: sync.Mutex. [`Mutex::new`], the all-zero value, is an unlocked mutex.
///
/// No owner is recorded, so, as in Go, one caller may lock it and a different one unlock it.
/// It holds no data itself: put what it guards in an `UnsafeCell` beside it, the way Go code
/// keeps the guarded fields next to the mutex. Goroutines of [`chapter_scheduler`] and plain
/// OS threads may contend for the same mutex (see [`crate::park`]).
#[derive(Default, Debug)]
pub struct Mutex {
    state: AtomicI32,
    sema: AtomicU32,
}

impl Mutex {
    #[cfg(not(loom))]
    pub const fn new() -> Mutex {
        Mutex {
            state: AtomicI32::new(0),
            sema: AtomicU32::new(0),
        }
    }
    /// loom's atomics cannot be made in a `const fn`.
    #[cfg(loom)]
    pub fn new() -> Mutex {
        Mutex {
            state: AtomicI32::new(0),
            sema: AtomicU32::new(0),
        }
    }

    /// The state word, for tests and the book's diagrams.
    pub fn state(&self) -> i32 {
        self.state.load(SeqCst)
    }

    // ANCHOR: lock
    /// Go: Lock. A free mutex costs one CAS; anything else goes to the slow path.
    #[inline]
    pub fn lock(&self) {
        if self
            .state
            .compare_exchange(0, MUTEX_LOCKED, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        // Kept in its own function so that this one stays small enough to inline.
        self.lock_slow(STARVATION_THRESHOLD_NS);
    }
    // ANCHOR_END: lock

    /// Lock, with starvation mode switched off: a waiter never decides it is starving, so
    /// the mutex stays in normal mode — sync.Mutex as it was before Go 1.9. For the
    /// experiment that shows why starvation mode exists; not for real use.
    pub fn lock_never_starving(&self) {
        if self
            .state
            .compare_exchange(0, MUTEX_LOCKED, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        self.lock_slow(i64::MAX);
    }

    /// Lock, with every wait counting as starving (threshold below 0): for the loom model of
    /// the hand-off, where the clock stands still.
    #[cfg(loom)]
    pub(crate) fn lock_starving_at_once(&self) {
        if self
            .state
            .compare_exchange(0, MUTEX_LOCKED, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        self.lock_slow(-1);
    }

    // ANCHOR: trylock
    /// Go: TryLock. Fails if the mutex is locked or starving; otherwise races (once) with
    /// any waiter that is waking up.
    pub fn try_lock(&self) -> bool {
        let old = self.state.load(SeqCst);
        if old & (MUTEX_LOCKED | MUTEX_STARVING) != 0 {
            return false;
        }
        // Waiters may be counted, but none holds the mutex and we are on a CPU already:
        // barging in ahead of a waking waiter is what normal mode allows.
        self.state
            .compare_exchange(old, old | MUTEX_LOCKED, SeqCst, SeqCst)
            .is_ok()
    }
    // ANCHOR_END: trylock

    // ANCHOR: lock_slow
    /// Go: lockSlow. `threshold` is [`STARVATION_THRESHOLD_NS`] (see
    /// [`Mutex::lock_never_starving`]).
    #[inline(never)]
    fn lock_slow(&self, threshold: i64) {
        // ANCHOR: solution-lock_slow
        let mut wait_start_time: i64 = 0;
        let mut starving = false;
        let mut awoke = false;
        let mut iter = 0;
        let mut old = self.state.load(SeqCst);
        loop {
            // Spin only while the mutex is held in normal mode: when starving, Unlock gives
            // it to a queued waiter, so a spinner could never get it.
            if old & (MUTEX_LOCKED | MUTEX_STARVING) == MUTEX_LOCKED && runtime_can_spin(iter) {
                // While we spin, claim the woken bit if there are sleepers: Unlock then
                // leaves them asleep, since we are about to take the mutex ourselves.
                if !awoke
                    && old & MUTEX_WOKEN == 0
                    && old >> MUTEX_WAITER_SHIFT != 0
                    && self
                        .state
                        .compare_exchange(old, old | MUTEX_WOKEN, SeqCst, SeqCst)
                        .is_ok()
                {
                    awoke = true;
                }
                runtime_do_spin();
                iter += 1;
                old = self.state.load(SeqCst);
                continue;
            }
            let mut new = old;
            // A starving mutex belongs to the queue: only take it in normal mode.
            if old & MUTEX_STARVING == 0 {
                new |= MUTEX_LOCKED;
            }
            if old & (MUTEX_LOCKED | MUTEX_STARVING) != 0 {
                new = new.wrapping_add(1 << MUTEX_WAITER_SHIFT);
            }
            // Turn on starvation mode only while the mutex is held: an unlocked starving
            // mutex might have no waiters, and unlockSlow would then hand it to nobody.
            if starving && old & MUTEX_LOCKED != 0 {
                new |= MUTEX_STARVING;
            }
            if awoke {
                // We own the woken bit (set by our waker or by our spinning); give it up,
                // whether we get the mutex or go back to sleep.
                if new & MUTEX_WOKEN == 0 {
                    crate::throw("sync: inconsistent mutex state");
                }
                new &= !MUTEX_WOKEN;
            }
            if self
                .state
                .compare_exchange(old, new, SeqCst, SeqCst)
                .is_err()
            {
                old = self.state.load(SeqCst);
                continue;
            }
            if old & (MUTEX_LOCKED | MUTEX_STARVING) == 0 {
                break; // the CAS took the lock
            }
            // A waiter that has slept before lost a race after waking: it goes back to the
            // front, not the back.
            let queue_lifo = wait_start_time != 0;
            if wait_start_time == 0 {
                wait_start_time = runtime_nanotime();
            }
            runtime_semacquire_mutex(&self.sema, queue_lifo);
            starving = starving || runtime_nanotime() - wait_start_time > threshold;
            old = self.state.load(SeqCst);
            if old & MUTEX_STARVING != 0 {
                // A hand-off: the mutex is ours, but unlockSlow left the lock bit clear and
                // us still in the waiter count. Set the one and drop the other.
                if old & (MUTEX_LOCKED | MUTEX_WOKEN) != 0 || old >> MUTEX_WAITER_SHIFT == 0 {
                    crate::throw("sync: inconsistent mutex state");
                }
                let mut delta = MUTEX_LOCKED - (1 << MUTEX_WAITER_SHIFT);
                if !starving || old >> MUTEX_WAITER_SHIFT == 1 {
                    // Leave starvation mode now, if we waited briefly or are the last
                    // waiter. Otherwise two goroutines could pass the mutex to each other
                    // through the semaphore forever, never returning to normal mode.
                    delta -= MUTEX_STARVING;
                }
                self.state.fetch_add(delta, SeqCst);
                #[cfg(loom)]
                crate::models::HANDOFFS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                break;
            }
            awoke = true;
            iter = 0;
        }
        // ANCHOR_END: solution-lock_slow
    }
    // ANCHOR_END: lock_slow

    // ANCHOR: unlock
    /// Go: Unlock. Clear the lock bit; if the word is not then zero, there are waiters or
    /// flags to deal with.
    ///
    /// Unlocking an unlocked mutex is Go's unrecoverable `fatal error: sync: unlock of
    /// unlocked mutex`: the process prints it and exits with status 2.
    #[inline]
    pub fn unlock(&self) {
        let new = self
            .state
            .fetch_sub(MUTEX_LOCKED, SeqCst)
            .wrapping_sub(MUTEX_LOCKED);
        if new != 0 {
            // Out of line, as in lock.
            self.unlock_slow(new);
        }
    }

    /// Go: unlockSlow.
    #[inline(never)]
    fn unlock_slow(&self, new: i32) {
        if new.wrapping_add(MUTEX_LOCKED) & MUTEX_LOCKED == 0 {
            crate::fatal("sync: unlock of unlocked mutex");
        }
        if new & MUTEX_STARVING == 0 {
            let mut old = new;
            loop {
                // Nothing to do if nobody sleeps, or if someone is already awake or has
                // already re-locked. If the starving bit has appeared since our fetch_sub,
                // the hand-off is the job of whoever unlocks next, not ours.
                if old >> MUTEX_WAITER_SHIFT == 0
                    || old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING) != 0
                {
                    return;
                }
                // One sleeper fewer, and the woken bit: only the CAS winner wakes one.
                let new = (old - (1 << MUTEX_WAITER_SHIFT)) | MUTEX_WOKEN;
                if self
                    .state
                    .compare_exchange(old, new, SeqCst, SeqCst)
                    .is_ok()
                {
                    runtime_semrelease(&self.sema, false);
                    return;
                }
                old = self.state.load(SeqCst);
            }
        } else {
            // Starvation mode: give the mutex to the first waiter and yield to it. The lock
            // bit stays clear until that waiter sets it, but the starving bit alone keeps
            // arrivals out meanwhile.
            runtime_semrelease(&self.sema, true);
        }
    }
    // ANCHOR_END: unlock
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    // ANCHOR: trylock_tests
    #[test]
    fn try_lock_takes_a_free_mutex_and_only_a_free_one() {
        let m = Mutex::new();
        assert!(m.try_lock());
        assert_eq!(m.state(), MUTEX_LOCKED);
        assert!(!m.try_lock(), "locked");
        m.unlock();
        assert_eq!(m.state(), 0);
        assert!(m.try_lock(), "free again");
        m.unlock();
    }

    #[test]
    fn try_lock_races_a_waking_waiter_but_not_a_starving_mutex() {
        // Unlocked, one waiter counted, a waiter woken: normal mode lets TryLock barge in.
        let m = Mutex::new();
        m.state
            .store((1 << MUTEX_WAITER_SHIFT) | MUTEX_WOKEN, SeqCst);
        assert!(m.try_lock());
        assert_eq!(
            m.state(),
            (1 << MUTEX_WAITER_SHIFT) | MUTEX_WOKEN | MUTEX_LOCKED
        );

        // Starvation mode with the lock bit clear: ownership is in flight to a waiter.
        let m = Mutex::new();
        m.state
            .store((1 << MUTEX_WAITER_SHIFT) | MUTEX_STARVING, SeqCst);
        assert!(!m.try_lock());
        assert_eq!(m.state(), (1 << MUTEX_WAITER_SHIFT) | MUTEX_STARVING);
    }
    // ANCHOR_END: trylock_tests

    #[test]
    fn an_uncontended_lock_and_unlock_touch_only_the_lock_bit() {
        let m = Mutex::new();
        m.lock();
        assert_eq!(m.state(), MUTEX_LOCKED);
        m.unlock();
        assert_eq!(m.state(), 0);
        assert_eq!(m.sema.load(SeqCst), 0, "no semaphore traffic");
    }

    #[test]
    fn unlock_with_a_woken_waiter_wakes_nobody_else() {
        // Locked, two waiters, one already woken: Unlock just drops the lock bit.
        let m = Mutex::new();
        let st = (2 << MUTEX_WAITER_SHIFT) | MUTEX_WOKEN | MUTEX_LOCKED;
        m.state.store(st, SeqCst);
        m.unlock();
        assert_eq!(m.state(), st - MUTEX_LOCKED);
        assert_eq!(m.sema.load(SeqCst), 0);
    }
}
