#![cfg(not(miri))] // goroutines need mmap and inline assembly, which miri cannot run

//! What loom cannot reach: many Ms, a million goroutines, steals under load.

use chapter_scheduler::parking::Wait;
use chapter_scheduler::{go, gopark, goready, gosched, Runtime, WaitReason};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

#[test]
fn a_million_goroutines_in_waves_reuse_their_gs() {
    let ran = Runtime::new(4).run(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        for _wave in 0..10 {
            let wg = Wait::new(100_000);
            for _ in 0..100_000 {
                let (ran, wg) = (ran.clone(), wg.clone());
                go(move || {
                    ran.fetch_add(1, SeqCst);
                    wg.done();
                });
            }
            wg.wait();
        }
        ran.load(SeqCst)
    });
    assert_eq!(ran, 1_000_000);
}

/// A tree of goroutines: each spawns two children down to depth 14 (16,383 goroutines). With
/// all the work starting on one P, the other Ps get it only by stealing.
#[test]
fn a_spawning_tree_spreads_over_every_p_by_stealing() {
    // Each thread counts itself once. (A std Mutex here would make every goroutine that
    // finds it held block its whole M until sysmon preempts it.)
    thread_local! {
        static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    fn node(depth: u32, wg: Arc<Wait>, threads: Arc<AtomicUsize>) {
        if !COUNTED.replace(true) {
            threads.fetch_add(1, SeqCst);
        }
        // A little work, so that queues build up and thieves find something.
        let mut x = depth as u64;
        for i in 0..2_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        if depth < 14 {
            for _ in 0..2 {
                let (wg, threads) = (wg.clone(), threads.clone());
                go(move || node(depth + 1, wg, threads));
            }
        }
        wg.done();
    }
    let (threads, live) = Runtime::new(4).run(|| {
        let wg = Wait::new((1 << 14) - 1);
        let threads = Arc::new(AtomicUsize::new(0));
        let (w, t) = (wg.clone(), threads.clone());
        go(move || node(1, w, t));
        wg.wait();
        (threads.load(SeqCst), chapter_scheduler::num_goroutine())
    });
    assert!(
        threads >= 2,
        "work was stolen onto other threads: {threads} thread(s) ran goroutines"
    );
    assert!(live <= 5, "{live} goroutines still alive");
}

/// Many Ps on two cores, goroutines yielding, parking and making blocking calls at once:
/// every goroutine finishes and the counts add up.
#[test]
fn eight_ps_with_yields_parks_and_syscalls() {
    let total = Runtime::new(8).run(|| {
        let sum = Arc::new(AtomicUsize::new(0));
        let wg = Wait::new(2_000);
        for i in 0..2_000usize {
            let (sum, wg) = (sum.clone(), wg.clone());
            go(move || {
                match i % 4 {
                    0 => gosched(),
                    1 => chapter_scheduler::syscall(|| {
                        std::thread::sleep(std::time::Duration::from_micros(50))
                    }),
                    2 => {
                        // Park and have a fresh goroutine ready us.
                        let me = chapter_scheduler::getg();
                        gopark(
                            move |_| {
                                go(move || goready(me));
                                true
                            },
                            WaitReason::Sleep,
                        );
                    }
                    _ => chapter_scheduler::goyield(),
                }
                sum.fetch_add(i, SeqCst);
                wg.done();
            });
        }
        wg.wait();
        sum.load(SeqCst)
    });
    assert_eq!(total, (0..2_000).sum::<usize>());
}

/// Goroutine IDs come from per-P batches of 16: main is goroutine 1, and IDs are unique.
#[test]
fn goroutine_ids_are_unique_and_main_is_1() {
    let (main_id, ids) = Runtime::new(4).run(|| {
        let ids = Arc::new(Mutex::new(Vec::new()));
        let wg = Wait::new(1000);
        for _ in 0..1000 {
            let (ids, wg) = (ids.clone(), wg.clone());
            go(move || {
                ids.lock().unwrap().push(chapter_scheduler::getg().goid());
                wg.done();
            });
        }
        wg.wait();
        let v = ids.lock().unwrap().clone();
        (chapter_scheduler::getg().goid(), v)
    });
    assert_eq!(main_id, 1);
    let set: HashSet<_> = ids.iter().collect();
    assert_eq!(set.len(), 1000);
}
