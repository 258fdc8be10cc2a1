//! Two tiny waiting primitives built only on gopark / goready, for tests, examples and
//! benches. The mutex chapter builds the real ones (semaphores, WaitGroup) on the same seam.
//! Both use the pattern that makes parking safe: publish yourself inside gopark's unlock
//! function, which runs after you are `_Gwaiting`, then re-check the condition and take
//! yourself back if it already holds.

use crate::{gopark, goready, GRef, WaitReason};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// Waits for `n` calls of `done` (a WaitGroup in miniature).
pub struct Wait {
    left: AtomicUsize,
    waiter: AtomicUsize,
}

impl Wait {
    pub fn new(n: usize) -> Arc<Wait> {
        Arc::new(Wait {
            left: AtomicUsize::new(n),
            waiter: AtomicUsize::new(0),
        })
    }

    pub fn done(&self) {
        if self.left.fetch_sub(1, SeqCst) == 1 {
            let w = self.waiter.swap(0, SeqCst);
            if w != 0 {
                goready(unsafe { GRef::from_raw(w) });
            }
        }
    }

    // ANCHOR: wait
    pub fn wait(&self) {
        while self.left.load(SeqCst) != 0 {
            gopark(
                |me| {
                    self.waiter.store(me.as_raw(), SeqCst);
                    // Finished meanwhile? Then take ourselves back out and don't sleep.
                    !(self.left.load(SeqCst) == 0 && self.waiter.swap(0, SeqCst) != 0)
                },
                WaitReason::SyncWaitGroupWait,
            );
        }
    }
    // ANCHOR_END: wait
}

/// A binary semaphore: `wake` lets one `wait` through, now or later.
#[derive(Default)]
pub struct Baton {
    posted: AtomicBool,
    waiter: AtomicUsize,
}

impl Baton {
    pub fn wake(&self) {
        self.posted.store(true, SeqCst);
        let w = self.waiter.swap(0, SeqCst);
        if w != 0 {
            goready(unsafe { GRef::from_raw(w) });
        }
    }

    pub fn wait(&self) {
        while !self.posted.swap(false, SeqCst) {
            gopark(
                |me| {
                    self.waiter.store(me.as_raw(), SeqCst);
                    !(self.posted.load(SeqCst) && self.waiter.swap(0, SeqCst) != 0)
                },
                WaitReason::ChanReceive,
            );
        }
    }
}
