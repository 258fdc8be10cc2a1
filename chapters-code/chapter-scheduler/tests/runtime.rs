#![cfg(not(miri))] // goroutines need mmap and inline assembly, which miri cannot run

//! The runtime, end to end: what a Go programmer can observe.

use chapter_scheduler::parking::{Baton, Wait};
use chapter_scheduler::{go, gopark, gosched, num_goroutine, Runtime, WaitReason};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

// ANCHOR: runorder
/// At GOMAXPROCS=1 the last goroutine spawned runs first (it sits in runnext), then the
/// rest in order — the same line go1.27.3 prints (golden/runorder.txt).
#[test]
fn spawn_order_at_gomaxprocs_1_is_runnext_then_fifo() {
    let order = Runtime::new(1).run(|| {
        let out = Arc::new(Mutex::new(Vec::new()));
        let wg = Wait::new(10);
        for i in 0..10 {
            let (out, wg) = (out.clone(), wg.clone());
            go(move || {
                out.lock().unwrap().push(i);
                wg.done();
            });
        }
        wg.wait();
        let v = out.lock().unwrap().clone();
        v
    });
    assert_eq!(order, [9, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
}
// ANCHOR_END: runorder

#[test]
fn a_hundred_thousand_goroutines_on_four_ps() {
    let (sum, live) = Runtime::new(4).run(|| {
        let total = Arc::new(AtomicUsize::new(0));
        let wg = Wait::new(100_000);
        for i in 0..100_000 {
            let (total, wg) = (total.clone(), wg.clone());
            go(move || {
                total.fetch_add(i, SeqCst);
                wg.done();
            });
        }
        wg.wait();
        (total.load(SeqCst), num_goroutine())
    });
    assert_eq!(sum, (0..100_000).sum::<usize>());
    assert!(
        live <= 4,
        "only main and a few exiting goroutines are left, got {live}"
    );
}

// ANCHOR: pingpong
/// Two goroutines hand a token back and forth, each parking until the other readies it:
/// the path every channel operation takes.
#[test]
fn park_and_ready_ping_pong() {
    let rounds = Runtime::new(2).run(|| {
        let (ping, pong) = (Arc::new(Baton::default()), Arc::new(Baton::default()));
        let count = Arc::new(AtomicUsize::new(0));
        let (pi, po, c) = (ping.clone(), pong.clone(), count.clone());
        go(move || {
            for _ in 0..1000 {
                pi.wait();
                c.fetch_add(1, SeqCst);
                po.wake();
            }
        });
        for _ in 0..1000 {
            ping.wake();
            pong.wait();
        }
        count.load(SeqCst)
    });
    assert_eq!(rounds, 1000);
}
// ANCHOR_END: pingpong

// ANCHOR: deadlock
#[test]
#[should_panic(expected = "fatal error: all goroutines are asleep - deadlock!")]
fn parking_with_nobody_to_wake_you_is_a_deadlock() {
    Runtime::new(2).run(|| gopark(|_| true, WaitReason::Forever));
}
// ANCHOR_END: deadlock

#[test]
#[should_panic(expected = "boom in goroutine")]
fn a_panic_in_any_goroutine_ends_the_program() {
    Runtime::new(2).run(|| {
        go(|| panic!("boom in goroutine"));
        loop {
            gosched();
        }
    });
}

// ANCHOR: syscall
/// A goroutine blocked in a system call keeps its P — until sysmon takes it, so the other
/// goroutines on a GOMAXPROCS=1 runtime keep running.
#[test]
fn a_blocking_syscall_does_not_stall_the_others() {
    let (ran, during) = Runtime::new(1).run(|| {
        let ran = Arc::new(AtomicUsize::new(0));
        let blocked = Arc::new(AtomicUsize::new(1));
        let b = blocked.clone();
        go(move || {
            chapter_scheduler::syscall(|| {
                std::thread::sleep(std::time::Duration::from_millis(300))
            });
            b.store(0, SeqCst);
        });
        gosched(); // let it enter the syscall
        let r = ran.clone();
        go(move || {
            r.fetch_add(1, SeqCst);
        });
        // Spin politely until the other goroutine has run.
        while ran.load(SeqCst) == 0 {
            gosched();
        }
        (ran.load(SeqCst), blocked.load(SeqCst))
    });
    assert_eq!(ran, 1);
    assert_eq!(during, 1, "it ran while the syscall was still blocked");
}
// ANCHOR_END: syscall

// ANCHOR: coop_preempt
/// sysmon sets stackguard0 = stackPreempt after 10ms; the spinning goroutine notices at its
/// next safe point (here an explicit preempt_check, in Go every function prologue).
#[test]
fn sysmon_preempts_a_long_runner_at_its_next_safe_point() {
    let order = Runtime::new(1).run(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicUsize::new(0));
        let (l, s) = (log.clone(), stop.clone());
        go(move || {
            l.lock().unwrap().push("spinner starts");
            while s.load(SeqCst) == 0 {
                chapter_scheduler::preempt_check();
            }
        });
        // Once the spinner has the only P, main can come back only if it is preempted.
        while log.lock().unwrap().is_empty() {
            gosched();
        }
        log.lock().unwrap().push("main runs again");
        stop.store(1, SeqCst);
        let v = log.lock().unwrap().clone();
        v
    });
    assert_eq!(order, ["spinner starts", "main runs again"]);
}
// ANCHOR_END: coop_preempt

#[test]
fn the_runtime_can_run_twice_and_main_returns_a_value() {
    let rt = Runtime::new(2);
    assert_eq!(rt.run(|| 1 + 1), 2);
    assert_eq!(rt.run(|| "again"), "again");
}
