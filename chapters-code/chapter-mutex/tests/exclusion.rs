//! Mutual exclusion under contention, on goroutines and on OS threads, and the semaphore as
//! a counter of wake-ups.

use chapter_mutex::sema::{semacquire, semrelease};
use chapter_mutex::Mutex;
use chapter_scheduler::{go, gosched, parking::Wait, Runtime};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

/// A counter that only the Mutex protects: a lost update or an overlap shows up.
#[derive(Default)]
struct Guarded {
    mu: Mutex,
    counter: UnsafeCell<u64>,
    inside: AtomicU32,
}

// SAFETY: `counter` is touched only with `mu` held.
unsafe impl Sync for Guarded {}

impl Guarded {
    /// One increment as a read, a pause, and a write. Every `yield_every`-th time the holder
    /// gives up its CPU inside the critical section, so that others pile up in lockSlow.
    fn increment(&self, i: u64, yield_every: u64, yield_now: fn()) {
        self.mu.lock();
        assert_eq!(self.inside.fetch_add(1, SeqCst), 0, "two holders at once");
        // SAFETY: we hold the mutex.
        let v = unsafe { *self.counter.get() };
        if i.is_multiple_of(yield_every) {
            yield_now();
        } else {
            for _ in 0..50 {
                std::hint::spin_loop();
            }
        }
        unsafe { *self.counter.get() = v + 1 };
        self.inside.fetch_sub(1, SeqCst);
        self.mu.unlock();
    }

    fn get(&self) -> u64 {
        self.mu.lock();
        let v = unsafe { *self.counter.get() };
        self.mu.unlock();
        v
    }
}

fn goroutines_count(procs: u32, workers: u64, each: u64) {
    let total = Runtime::new(procs).run(move || {
        let g = Arc::new(Guarded::default());
        let wg = Wait::new(workers as usize);
        for _ in 0..workers {
            let (g, wg) = (g.clone(), wg.clone());
            go(move || {
                for i in 0..each {
                    g.increment(i, 7, gosched);
                }
                wg.done();
            });
        }
        wg.wait();
        g.get()
    });
    assert_eq!(total, workers * each);
}

// ANCHOR: goroutines_exclusion
#[test]
#[cfg_attr(
    miri,
    ignore = "goroutines switch stacks in assembly, which miri cannot run"
)]
fn goroutines_on_two_ps_never_lose_an_update() {
    goroutines_count(2, 16, 400);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "goroutines switch stacks in assembly, which miri cannot run"
)]
fn goroutines_on_four_ps_never_lose_an_update() {
    goroutines_count(4, 32, 200);
}
// ANCHOR_END: goroutines_exclusion

#[test]
fn os_threads_never_lose_an_update() {
    const EACH: u64 = if cfg!(miri) { 30 } else { 2_000 };
    let g = Arc::new(Guarded::default());
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let g = g.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    g.increment(i, 5, std::thread::yield_now);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("worker");
    }
    assert_eq!(g.get(), 6 * EACH);
}

/// Every semrelease lets exactly one semacquire through, whichever comes first.
#[test]
#[cfg_attr(
    miri,
    ignore = "goroutines switch stacks in assembly, which miri cannot run"
)]
fn the_semaphore_pairs_every_sleep_with_one_wakeup_on_goroutines() {
    let passed = Runtime::new(3).run(|| {
        let sema = Arc::new(AtomicU32::new(0));
        let passed = Arc::new(AtomicU64::new(0));
        let wg = Wait::new(50);
        for _ in 0..50 {
            let (sema, passed, wg) = (sema.clone(), passed.clone(), wg.clone());
            go(move || {
                semacquire(&sema);
                passed.fetch_add(1, SeqCst);
                wg.done();
            });
        }
        for i in 0..50u32 {
            semrelease(&sema);
            if i.is_multiple_of(3) {
                gosched();
            }
        }
        wg.wait();
        assert_eq!(sema.load(SeqCst), 0, "every unit consumed");
        passed.load(SeqCst)
    });
    assert_eq!(passed, 50);
}

#[test]
fn the_semaphore_pairs_every_sleep_with_one_wakeup_on_threads() {
    let sema = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let sema = sema.clone();
            std::thread::spawn(move || semacquire(&sema))
        })
        .collect();
    for _ in 0..8 {
        semrelease(&sema);
    }
    for t in threads {
        t.join().expect("waiter");
    }
    assert_eq!(sema.load(SeqCst), 0);
}

// ANCHOR: parked_waiter
/// A goroutine that finds the mutex held spins a little, then counts itself in the state
/// word and sleeps on the semaphore; Unlock wakes it.
#[test]
#[cfg_attr(
    miri,
    ignore = "goroutines switch stacks in assembly, which miri cannot run"
)]
fn a_goroutine_waiter_is_counted_parked_and_woken() {
    use chapter_mutex::mutex::{MUTEX_LOCKED, MUTEX_WAITER_SHIFT};
    let seen = Runtime::new(1).run(|| {
        let mu = Arc::new(Mutex::new());
        let got = Arc::new(AtomicU32::new(0));
        mu.lock();
        let wg = Wait::new(1);
        {
            let (mu, got, wg) = (mu.clone(), got.clone(), wg.clone());
            go(move || {
                mu.lock();
                got.store(1, SeqCst);
                mu.unlock();
                wg.done();
            });
        }
        // One P: the waiter runs only when we let it, and it can only park.
        while mu.state() >> MUTEX_WAITER_SHIFT == 0 {
            gosched();
        }
        let seen = mu.state();
        assert_eq!(got.load(SeqCst), 0);
        mu.unlock();
        wg.wait();
        assert_eq!(got.load(SeqCst), 1);
        assert_eq!(mu.state(), 0);
        seen
    });
    assert_eq!(seen, MUTEX_LOCKED | (1 << MUTEX_WAITER_SHIFT));
}

#[test]
fn a_thread_waiter_is_counted_parked_and_woken() {
    use chapter_mutex::mutex::MUTEX_WAITER_SHIFT;
    let mu = Arc::new(Mutex::new());
    mu.lock();
    let t = {
        let mu = mu.clone();
        std::thread::spawn(move || {
            mu.lock();
            mu.unlock();
        })
    };
    while mu.state() >> MUTEX_WAITER_SHIFT == 0 {
        // A waiter that ended (say, panicked) before it counted itself will never count.
        assert!(!t.is_finished(), "the waiter ended without waiting");
        std::thread::yield_now();
    }
    mu.unlock();
    t.join().expect("waiter");
    assert_eq!(mu.state(), 0);
}
// ANCHOR_END: parked_waiter
