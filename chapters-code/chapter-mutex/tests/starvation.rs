//! Why starvation mode exists (Go 1.9, golang.org/issue/13086), as Go's own
//! TestMutexFairness shows it: one caller holds the mutex almost all the time, releasing it
//! only to take it straight back; another wants it now and then.
//!
//! In normal mode the hog always wins: Unlock wakes the waiter, but by the time the waiter
//! runs the hog — which never stopped running — has the mutex again, and the waiter goes
//! back to sleep. It gets the mutex only when the hog stops. With starvation mode, a waiter
//! that has waited over 1ms makes the next Unlock hand the mutex to it directly.
//!
//! Waits are measured in the hog's critical sections, not in time, and the two modes are
//! compared with each other, so that a slow or busy machine changes the numbers but not the
//! outcome.
#![cfg(not(miri))] // goroutines (assembly) and timing, or child processes

use chapter_mutex::Mutex;
use chapter_scheduler::{go, parking::Wait, syscall, Runtime};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// The hog gives up after this many critical sections if the waiter has not finished.
const MAX_SECTIONS: u64 = 1_000;
/// How many times the waiter takes the mutex.
const TAKES: u64 = 8;

#[derive(Default)]
struct Shared {
    mu: Mutex,
    sections: AtomicU64,
    waiter_done: AtomicBool,
}

#[derive(Debug)]
struct Outcome {
    /// The most hog sections that passed while the waiter waited for one Lock.
    max_wait: u64,
    /// The hog hit MAX_SECTIONS: the waiter could not finish while it ran.
    hog_gave_up: bool,
}

/// The hog: lock, sleep a little inside, unlock, at once again.
fn hog(sh: &Shared, lock: fn(&Mutex), sleep: fn(Duration)) -> bool {
    loop {
        lock(&sh.mu);
        let n = sh.sections.fetch_add(1, SeqCst) + 1;
        sleep(Duration::from_micros(50));
        sh.mu.unlock();
        if sh.waiter_done.load(SeqCst) {
            return false;
        }
        if n >= MAX_SECTIONS {
            return true;
        }
    }
}

/// The waiter: now and then, take the mutex once and note how long (in sections) it took.
fn waiter(sh: &Shared, lock: fn(&Mutex), sleep: fn(Duration)) -> u64 {
    let mut max_wait = 0;
    for _ in 0..TAKES {
        sleep(Duration::from_micros(100));
        let before = sh.sections.load(SeqCst);
        lock(&sh.mu);
        max_wait = max_wait.max(sh.sections.load(SeqCst) - before);
        sh.mu.unlock();
    }
    sh.waiter_done.store(true, SeqCst);
    max_wait
}

fn on_threads(lock: fn(&Mutex)) -> Outcome {
    let sh = Arc::new(Shared::default());
    let h = {
        let sh = sh.clone();
        std::thread::spawn(move || hog(&sh, lock, std::thread::sleep))
    };
    // Let the hog get going first.
    while sh.sections.load(SeqCst) < 2 {
        std::thread::yield_now();
    }
    let max_wait = waiter(&sh, lock, std::thread::sleep);
    let hog_gave_up = h.join().expect("hog");
    Outcome {
        max_wait,
        hog_gave_up,
    }
}

/// A sleep that blocks the thread, announced as a system call so the P can move on.
fn syscall_sleep(d: Duration) {
    syscall(|| std::thread::sleep(d));
}

fn on_goroutines(lock: fn(&Mutex)) -> Outcome {
    Runtime::new(2).run(move || {
        let sh = Arc::new(Shared::default());
        let gave_up = Arc::new(AtomicBool::new(false));
        let wg = Wait::new(1);
        {
            let (sh, gave_up, wg) = (sh.clone(), gave_up.clone(), wg.clone());
            go(move || {
                gave_up.store(hog(&sh, lock, syscall_sleep), SeqCst);
                wg.done();
            });
        }
        while sh.sections.load(SeqCst) < 2 {
            chapter_scheduler::gosched();
        }
        let max_wait = waiter(&sh, lock, syscall_sleep);
        wg.wait();
        Outcome {
            max_wait,
            hog_gave_up: gave_up.load(SeqCst),
        }
    })
}

// ANCHOR: starvation_tests
/// Goroutines: `goready` puts the woken waiter in the *hog's* P's runnext and the hog keeps
/// running, exactly as in Go, so normal mode starves the waiter until the hog stops, and
/// starvation mode bounds its wait. Both runs are compared, not timed.
#[test]
fn starvation_mode_bounds_a_goroutines_wait() {
    let fair = on_goroutines(Mutex::lock);
    let unfair = on_goroutines(Mutex::lock_never_starving);
    eprintln!("goroutines, starvation mode: {fair:?}\ngoroutines, normal mode only: {unfair:?}");
    assert!(
        !fair.hog_gave_up,
        "with starvation mode the waiter finishes while the hog still runs: {fair:?}"
    );
    assert!(
        unfair.max_wait > fair.max_wait,
        "without it the waiter waits longer: {unfair:?} vs {fair:?}"
    );
}

/// OS threads: starvation mode bounds the waiter's wait here too. Normal mode is *not*
/// reliably unfair on threads — unparking a thread often makes the kernel run it at once
/// (wake-up preemption, or an idle CPU), before the hog re-locks — so its numbers are only
/// printed.
#[test]
fn starvation_mode_bounds_a_threads_wait() {
    let fair = on_threads(Mutex::lock);
    let unfair = on_threads(Mutex::lock_never_starving);
    eprintln!("threads, starvation mode: {fair:?}\nthreads, normal mode only: {unfair:?}");
    assert!(
        !fair.hog_gave_up,
        "with starvation mode the waiter finishes while the hog still runs: {fair:?}"
    );
}
// ANCHOR_END: starvation_tests
