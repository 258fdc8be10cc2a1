//! Go: sync/rwmutex.go — `sync.RWMutex`, a reader/writer lock built from a [`Mutex`], two
//! semaphores and two counters.
//!
//! The whole design is one trick on `reader_count`. Readers add 1 to it and, while it stays
//! non-negative, that single atomic add is all a read lock costs. A writer first takes `w`
//! (so writers queue among themselves on an ordinary Mutex), then subtracts
//! [`RWMUTEX_MAX_READERS`]: the count goes negative, which every later reader sees on its own
//! add, and sleeps on `reader_sem`; and the value the writer's add returns tells it how many
//! readers were already inside. It moves that number to `reader_wait` and sleeps on
//! `writer_sem` until the last of those readers leaves and wakes it. Unlock adds the constant
//! back, and the sum tells it how many readers arrived meanwhile and must be woken.
//!
//! So a waiting writer blocks new readers (writer preference, which keeps writers from
//! starving), and a goroutine that read-locks twice deadlocks if a writer comes in between.

use crate::mutex::Mutex;
use crate::sema::{runtime_semacquire_rwmutex, runtime_semacquire_rwmutex_r, runtime_semrelease};
use crate::sync::{AtomicI32, AtomicU32};
use std::sync::atomic::Ordering::SeqCst;

// ANCHOR: rwmutex
/// Go: rwmutexMaxReaders. More readers than this at once is not supported.
pub const RWMUTEX_MAX_READERS: i32 = 1 << 30;

/// Go: sync.RWMutex. [`RWMutex::new`], all zeros, is unlocked.
#[derive(Default, Debug)]
pub struct RWMutex {
    /// Held by the writer, or by a writer that is waiting for readers to leave.
    w: Mutex,
    /// Where a writer sleeps until the readers ahead of it have left.
    writer_sem: AtomicU32,
    /// Where readers sleep until the writer has left.
    reader_sem: AtomicU32,
    /// Readers holding or waiting for the lock; minus RWMUTEX_MAX_READERS while a writer
    /// holds or waits for it.
    reader_count: AtomicI32,
    /// Readers a waiting writer still waits for.
    reader_wait: AtomicI32,
}
// ANCHOR_END: rwmutex

impl RWMutex {
    #[cfg(not(loom))]
    pub const fn new() -> RWMutex {
        RWMutex {
            w: Mutex::new(),
            writer_sem: AtomicU32::new(0),
            reader_sem: AtomicU32::new(0),
            reader_count: AtomicI32::new(0),
            reader_wait: AtomicI32::new(0),
        }
    }
    /// loom's atomics cannot be made in a `const fn`.
    #[cfg(loom)]
    pub fn new() -> RWMutex {
        RWMutex {
            w: Mutex::new(),
            writer_sem: AtomicU32::new(0),
            reader_sem: AtomicU32::new(0),
            reader_count: AtomicI32::new(0),
            reader_wait: AtomicI32::new(0),
        }
    }

    /// `reader_count`, for tests and the book.
    pub fn reader_count(&self) -> i32 {
        self.reader_count.load(SeqCst)
    }

    // ANCHOR: rlock
    /// Go: RLock. One atomic add; a negative result means a writer holds or awaits the lock.
    pub fn r_lock(&self) {
        if self.reader_count.fetch_add(1, SeqCst) + 1 < 0 {
            runtime_semacquire_rwmutex_r(&self.reader_sem);
        }
    }

    /// Go: TryRLock. A CAS loop rather than an add, so that a failed try leaves no trace.
    pub fn try_r_lock(&self) -> bool {
        loop {
            let c = self.reader_count.load(SeqCst);
            if c < 0 {
                return false;
            }
            if self
                .reader_count
                .compare_exchange(c, c + 1, SeqCst, SeqCst)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// Go: RUnlock.
    pub fn r_unlock(&self) {
        let r = self.reader_count.fetch_sub(1, SeqCst) - 1;
        if r < 0 {
            self.r_unlock_slow(r);
        }
    }

    /// Go: rUnlockSlow. A writer is waiting: if we were the last reader it waits for, wake it.
    #[inline(never)]
    fn r_unlock_slow(&self, r: i32) {
        // r+1 is what reader_count was before our decrement: 0 means no reader was in (and no
        // writer), -MAX means a writer alone was.
        if r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS {
            crate::fatal("sync: RUnlock of unlocked RWMutex");
        }
        if self.reader_wait.fetch_sub(1, SeqCst) - 1 == 0 {
            runtime_semrelease(&self.writer_sem, false);
        }
    }
    // ANCHOR_END: rlock

    // ANCHOR: lock
    /// Go: Lock.
    pub fn lock(&self) {
        // First win against other writers.
        self.w.lock();
        // Then announce ourselves: readers arriving from now on block.
        let r = self.reader_count.fetch_sub(RWMUTEX_MAX_READERS, SeqCst);
        // Wait for the r readers already in. Some may have left between our two adds, each
        // taking 1 off reader_wait (making it negative); adding r evens that out, and if the
        // sum is 0 they have all gone and nobody will wake us, so we must not sleep.
        if r != 0 && self.reader_wait.fetch_add(r, SeqCst) + r != 0 {
            runtime_semacquire_rwmutex(&self.writer_sem);
        }
    }

    /// Go: TryLock.
    pub fn try_lock(&self) -> bool {
        if !self.w.try_lock() {
            return false;
        }
        if self
            .reader_count
            .compare_exchange(0, -RWMUTEX_MAX_READERS, SeqCst, SeqCst)
            .is_err()
        {
            self.w.unlock();
            return false;
        }
        true
    }

    /// Go: Unlock.
    pub fn unlock(&self) {
        // Announce to readers that there is no writer; r readers arrived and sleep.
        let r = self.reader_count.fetch_add(RWMUTEX_MAX_READERS, SeqCst) + RWMUTEX_MAX_READERS;
        if r >= RWMUTEX_MAX_READERS {
            crate::fatal("sync: Unlock of unlocked RWMutex");
        }
        // Wake them all, then let the next writer in.
        for _ in 0..r {
            runtime_semrelease(&self.reader_sem, false);
        }
        self.w.unlock();
    }
    // ANCHOR_END: lock
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn readers_share_and_a_writer_excludes() {
        let rw = RWMutex::new();
        rw.r_lock();
        rw.r_lock();
        assert_eq!(rw.reader_count(), 2);
        assert!(!rw.try_lock(), "readers are in");
        assert!(rw.try_r_lock());
        rw.r_unlock();
        rw.r_unlock();
        rw.r_unlock();
        assert!(rw.try_lock());
        assert_eq!(rw.reader_count(), -RWMUTEX_MAX_READERS);
        assert!(!rw.try_r_lock(), "a writer is in");
        assert_eq!(
            rw.reader_count(),
            -RWMUTEX_MAX_READERS,
            "a failed try leaves no trace"
        );
        rw.unlock();
        assert_eq!(rw.reader_count(), 0);
        assert_eq!(rw.w.state(), 0);
    }
}
