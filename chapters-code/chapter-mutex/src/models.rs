//! loom models: every interleaving of two or three callers, with the semaphore's treap lock,
//! the atomics and thread parking all under loom's control. `loom::cell::UnsafeCell` stands
//! for the data a lock guards: loom fails a model if two accesses to it are ever concurrent,
//! or if one is not ordered before the other by the lock's own synchronisation. A waiter that
//! is never woken fails the model too (loom reports the deadlock).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p chapter-mutex --release --lib -- loom_`.

use crate::{Cond, Mutex, Once, RWMutex, WaitGroup};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// How many executions ended in a starvation-mode hand-off (counted in mutex.rs's lockSlow).
static EXECS: AtomicUsize = AtomicUsize::new(0);
pub(crate) static HANDOFFS: AtomicUsize = AtomicUsize::new(0);

/// Preemption bound: loom explores every schedule with at most four involuntary switches.
/// The starvation hand-off needs three; all seven models together take seconds.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(4);
    b.check(f);
}

/// A counter behind a lock: the guarded read-modify-write loom checks.
struct Guarded<L> {
    lock: L,
    n: UnsafeCell<u32>,
}

// SAFETY: `n` is only touched with `lock` held, which is what the models check.
unsafe impl<L: Sync> Sync for Guarded<L> {}

impl<L> Guarded<L> {
    fn bump(&self) {
        self.n.with_mut(|p| unsafe { *p += 1 });
    }
    fn get(&self) -> u32 {
        self.n.with(|p| unsafe { *p })
    }
}

// ANCHOR: loom_mutex
#[test]
fn loom_mutex_excludes_and_ends_unlocked() {
    model(|| {
        let g = Arc::new(Guarded {
            lock: Mutex::new(),
            n: UnsafeCell::new(0),
        });
        let t = {
            let g = g.clone();
            thread::spawn(move || {
                g.lock.lock();
                g.bump();
                g.lock.unlock();
            })
        };
        g.lock.lock();
        g.bump();
        g.lock.unlock();
        t.join().unwrap();
        assert_eq!(g.get(), 2);
        assert_eq!(g.lock.state(), 0, "no waiter, flag or lock bit left behind");
    });
}

/// Starvation mode's hand-off: the clock stands still under loom, so here every wait counts
/// as starving. A locks twice, B once: when B wakes to find that A re-took the mutex, B sets
/// starvation mode, and A's next Unlock hands the mutex to B through the semaphore.
#[test]
fn loom_mutex_starvation_hand_off() {
    HANDOFFS.store(0, Relaxed);
    model(|| {
        EXECS.fetch_add(1, Relaxed);
        let g = Arc::new(Guarded {
            lock: Mutex::new(),
            n: UnsafeCell::new(0),
        });
        let t = {
            let g = g.clone();
            thread::spawn(move || {
                g.lock.lock_starving_at_once();
                g.bump();
                g.lock.unlock();
            })
        };
        for _ in 0..3 {
            g.lock.lock_starving_at_once();
            g.bump();
            g.lock.unlock();
        }
        t.join().unwrap();
        assert_eq!(g.get(), 4);
        assert_eq!(
            g.lock.state(),
            0,
            "starvation mode ends with its last waiter"
        );
    });
    eprintln!(
        "execs {} handoffs {}",
        EXECS.load(Relaxed),
        HANDOFFS.load(Relaxed)
    );
    assert!(
        HANDOFFS.load(Relaxed) > 0,
        "some execution went through the hand-off"
    );
}
// ANCHOR_END: loom_mutex

#[test]
fn loom_rwmutex_writer_excludes_readers() {
    model(|| {
        let g = Arc::new(Guarded {
            lock: RWMutex::new(),
            n: UnsafeCell::new(0),
        });
        let reader = {
            let g = g.clone();
            thread::spawn(move || {
                g.lock.r_lock();
                let n = g.get();
                g.lock.r_unlock();
                n
            })
        };
        let writer = {
            let g = g.clone();
            thread::spawn(move || {
                g.lock.lock();
                g.bump();
                g.lock.unlock();
            })
        };
        g.lock.r_lock();
        let mine = g.get();
        g.lock.r_unlock();
        writer.join().unwrap();
        let theirs = reader.join().unwrap();
        assert!(mine <= 1 && theirs <= 1);
        assert_eq!(g.get(), 1);
        assert_eq!(g.lock.reader_count(), 0);
    });
}

#[test]
fn loom_waitgroup_wait_sees_every_done() {
    model(|| {
        let wg = Arc::new(WaitGroup::new());
        let cells = Arc::new([UnsafeCell::new(0u32), UnsafeCell::new(0u32)]);
        wg.add(2);
        for i in 0..2 {
            let (wg, cells) = (wg.clone(), cells.clone());
            thread::spawn(move || {
                cells[i].with_mut(|p| unsafe { *p = i as u32 + 1 });
                wg.done();
            });
        }
        wg.wait();
        // Both writes happen before Wait returns: reading them is not a race.
        let got: Vec<u32> = cells.iter().map(|c| c.with(|p| unsafe { *p })).collect();
        assert_eq!(got, [1, 2]);
        assert_eq!(wg.state(), 0);
    });
}

#[test]
fn loom_once_runs_f_once_and_everyone_sees_it() {
    model(|| {
        let once = Arc::new((Once::new(), UnsafeCell::new(0u32)));
        let t = {
            let once = once.clone();
            thread::spawn(move || {
                once.0.do_(|| once.1.with_mut(|p| unsafe { *p += 1 }));
                once.1.with(|p| unsafe { *p })
            })
        };
        once.0.do_(|| once.1.with_mut(|p| unsafe { *p += 1 }));
        let mine = once.1.with(|p| unsafe { *p });
        assert_eq!((mine, t.join().unwrap()), (1, 1));
    });
}

#[test]
fn loom_sema_no_release_is_lost() {
    model(|| {
        let sema = Arc::new(crate::sync::AtomicU32::new(0));
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let sema = sema.clone();
                thread::spawn(move || crate::sema::semacquire(&sema))
            })
            .collect();
        crate::sema::semrelease(&sema);
        crate::sema::semrelease(&sema);
        for a in acquirers {
            a.join().unwrap(); // a lost release leaves one asleep: loom reports a deadlock
        }
        assert_eq!(sema.load(std::sync::atomic::Ordering::SeqCst), 0);
    });
}

#[test]
fn loom_cond_signal_is_not_lost() {
    model(|| {
        let c = Arc::new((Cond::new(Mutex::new()), UnsafeCell::new(false)));
        let waiter = {
            let c = c.clone();
            thread::spawn(move || {
                c.0.l.lock();
                while !c.1.with(|p| unsafe { *p }) {
                    c.0.wait();
                }
                c.0.l.unlock();
            })
        };
        c.0.l.lock();
        c.1.with_mut(|p| unsafe { *p = true });
        c.0.signal();
        c.0.l.unlock();
        waiter.join().unwrap();
    });
}
