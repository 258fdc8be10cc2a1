//! Go: sync/cond.go — `sync.Cond`, a condition variable: a [`Locker`] and a
//! [`NotifyList`](crate::sema::NotifyList), the ticket queue in runtime/sema.go.
//!
//! Wait takes a ticket *before* it unlocks `l`, then sleeps until that ticket is notified.
//! A Signal that comes after the unlock but before the waiter is queued is therefore not
//! lost: it notifies the ticket, and the waiter, finding its ticket already notified, does
//! not sleep at all.
//!
//! Go panics with "sync.Cond is copied" if a Cond is copied after first use (its
//! `copyChecker`). A Rust Cond cannot be moved while anyone borrows it, so there is nothing
//! to check.

use crate::mutex::Mutex;
use crate::rwmutex::RWMutex;
use crate::sema::NotifyList;

/// Go: sync.Locker.
pub trait Locker {
    fn lock(&self);
    fn unlock(&self);
}

impl Locker for Mutex {
    fn lock(&self) {
        Mutex::lock(self)
    }
    fn unlock(&self) {
        Mutex::unlock(self)
    }
}

impl Locker for RWMutex {
    fn lock(&self) {
        RWMutex::lock(self)
    }
    fn unlock(&self) {
        RWMutex::unlock(self)
    }
}

/// Go: RWMutex.RLocker: the read half of an RWMutex, as a Locker.
pub struct RLocker<'a>(pub &'a RWMutex);

impl Locker for RLocker<'_> {
    fn lock(&self) {
        self.0.r_lock()
    }
    fn unlock(&self) {
        self.0.r_unlock()
    }
}

impl<T: Locker + ?Sized> Locker for &T {
    fn lock(&self) {
        (**self).lock()
    }
    fn unlock(&self) {
        (**self).unlock()
    }
}

/// Go: sync.Cond. Go's `NewCond(&mu)` is `Cond::new(&mu)`, or `Cond::new(Mutex::new())` to
/// keep the lock inside.
pub struct Cond<L: Locker> {
    /// Go: L. Held while observing or changing the condition.
    pub l: L,
    notify: NotifyList,
}

impl<L: Locker> Cond<L> {
    pub fn new(l: L) -> Cond<L> {
        Cond {
            l,
            notify: NotifyList::new(),
        }
    }

    // ANCHOR: wait
    /// Go: Wait. Must be called with `l` held; returns with `l` held again. Like Go's, it
    /// can return before the condition holds (another waiter may get there first), so call
    /// it in a loop that re-checks the condition.
    pub fn wait(&self) {
        let t = self.notify.add();
        self.l.unlock();
        self.notify.wait(t);
        self.l.lock();
    }
    // ANCHOR_END: wait

    /// Go: Signal. Wakes the longest-waiting goroutine, if any.
    pub fn signal(&self) {
        self.notify.notify_one();
    }

    /// Go: Broadcast. Wakes everyone waiting.
    pub fn broadcast(&self) {
        self.notify.notify_all();
    }
}
