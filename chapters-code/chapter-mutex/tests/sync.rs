//! The rest of package sync under load: RWMutex, WaitGroup (and WaitGroup.Go), Once and Cond,
//! on goroutines and on OS threads.

use chapter_mutex::{Once, RWMutex, WaitGroup};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

/// Under miri everything is slower by orders of magnitude: fewer rounds.
const ROUNDS: u64 = if cfg!(miri) { 20 } else { 2_000 };

/// Readers and writers around one RWMutex, with the invariant checked from inside: a writer
/// is alone, readers only share with readers.
#[derive(Default)]
struct Board {
    rw: RWMutex,
    /// Readers inside (positive) or -1 while a writer is.
    inside: AtomicI32,
    value: UnsafeCell<u64>,
}

// SAFETY: `value` is written under the write lock and read under a read lock.
unsafe impl Sync for Board {}

impl Board {
    fn read(&self) -> u64 {
        self.rw.r_lock();
        assert!(
            self.inside.fetch_add(1, SeqCst) >= 0,
            "a reader beside a writer"
        );
        // SAFETY: read-locked.
        let v = unsafe { *self.value.get() };
        self.inside.fetch_sub(1, SeqCst);
        self.rw.r_unlock();
        v
    }

    fn write(&self) {
        self.rw.lock();
        assert_eq!(self.inside.swap(-1, SeqCst), 0, "a writer beside someone");
        // SAFETY: write-locked.
        unsafe { *self.value.get() += 1 };
        self.inside.store(0, SeqCst);
        self.rw.unlock();
    }
}

/// Four workers, each writing in one operation of ten and reading in the other nine.
fn board_run(spawn: impl Fn(Box<dyn FnOnce() + Send>), join: impl FnOnce(), b: &Arc<Board>) {
    for w in 0..4u64 {
        let b = b.clone();
        spawn(Box::new(move || {
            let mut last = 0;
            for i in 0..ROUNDS {
                if (i + w) % 10 == 0 {
                    b.write();
                } else {
                    let v = b.read();
                    assert!(v >= last, "a reader saw the value go back");
                    last = v;
                }
            }
        }));
    }
    join();
}

#[test]
fn rwmutex_on_threads() {
    let b = Arc::new(Board::default());
    let handles = std::sync::Mutex::new(Vec::new());
    board_run(
        |f| handles.lock().unwrap().push(std::thread::spawn(f)),
        || {
            for h in handles.lock().unwrap().drain(..) {
                h.join().unwrap();
            }
        },
        &b,
    );
    assert_eq!(unsafe { *b.value.get() }, 4 * ROUNDS / 10);
    assert_eq!(b.rw.reader_count(), 0);
}

#[cfg(not(miri))] // goroutines switch stacks in assembly, which miri cannot run
mod goroutines {
    use super::*;
    use chapter_mutex::{Cond, Mutex};
    use chapter_scheduler::{gosched, Runtime};

    #[test]
    fn rwmutex_on_goroutines() {
        Runtime::new(2).run(|| {
            let b = Arc::new(Board::default());
            let wg = Arc::new(WaitGroup::new());
            board_run(|f| wg.go(f), || wg.wait(), &b);
            assert_eq!(unsafe { *b.value.get() }, 4 * ROUNDS / 10);
        });
    }

    // ANCHOR: waitgroup_go
    #[test]
    fn waitgroup_go_waits_for_every_goroutine() {
        let total = Runtime::new(4).run(|| {
            let wg = Arc::new(WaitGroup::new());
            let sum = Arc::new(AtomicU64::new(0));
            for i in 1..=1000 {
                let sum = sum.clone();
                wg.go(move || {
                    if i % 7 == 0 {
                        gosched();
                    }
                    sum.fetch_add(i, SeqCst);
                });
            }
            wg.wait();
            sum.load(SeqCst)
        });
        assert_eq!(total, 1000 * 1001 / 2);
    }
    // ANCHOR_END: waitgroup_go

    #[test]
    fn many_waiters_are_all_released() {
        Runtime::new(2).run(|| {
            let wg = Arc::new(WaitGroup::new());
            let gate = Arc::new(WaitGroup::new());
            let released = Arc::new(AtomicU64::new(0));
            wg.add(1);
            for _ in 0..50 {
                let (wg, released) = (wg.clone(), released.clone());
                gate.go(move || {
                    wg.wait();
                    released.fetch_add(1, SeqCst);
                });
            }
            // Let the waiters count themselves in, then release them all with one Done.
            while wg.state() & 0x7fff_ffff < 50 {
                gosched();
            }
            assert_eq!(wg.state(), (1 << 32) | 50);
            wg.done();
            gate.wait();
            assert_eq!(released.load(SeqCst), 50);
            assert_eq!(wg.state(), 0, "the last Done resets the word");
        });
    }

    #[test]
    fn once_runs_f_once_for_a_crowd() {
        Runtime::new(2).run(|| {
            let once = Arc::new(Once::new());
            let runs = Arc::new(AtomicU64::new(0));
            let wg = Arc::new(WaitGroup::new());
            for _ in 0..100 {
                let (once, runs) = (once.clone(), runs.clone());
                wg.go(move || {
                    once.do_(|| {
                        gosched(); // let the others pile up on the mutex
                        runs.fetch_add(1, SeqCst);
                    });
                    assert_eq!(runs.load(SeqCst), 1, "Do returned before f did");
                });
            }
            wg.wait();
            assert_eq!(runs.load(SeqCst), 1);
        });
    }

    // ANCHOR: cond
    /// A bounded queue in the classic Cond style: wait in a loop while the condition is false.
    #[test]
    fn cond_carries_a_producer_consumer_queue() {
        struct Queue {
            c: Cond<Mutex>,
            items: UnsafeCell<Vec<u64>>,
        }
        // SAFETY: `items` is touched only with `c.l` held.
        unsafe impl Sync for Queue {}
        let got = Runtime::new(2).run(|| {
            let q = Arc::new(Queue {
                c: Cond::new(Mutex::new()),
                items: UnsafeCell::new(Vec::new()),
            });
            let consumers = Arc::new(WaitGroup::new());
            let total = Arc::new(AtomicU64::new(0));
            for _ in 0..3 {
                let (q, total) = (q.clone(), total.clone());
                consumers.go(move || loop {
                    q.c.l.lock();
                    // SAFETY: locked, here and below.
                    while unsafe { (*q.items.get()).is_empty() } {
                        q.c.wait();
                    }
                    let v = unsafe { (*q.items.get()).pop().unwrap() };
                    q.c.l.unlock();
                    if v == 0 {
                        return; // the stop sign
                    }
                    total.fetch_add(v, SeqCst);
                });
            }
            for v in (1..=300).chain([0, 0, 0]) {
                q.c.l.lock();
                unsafe { (*q.items.get()).insert(0, v) };
                q.c.signal();
                q.c.l.unlock();
                if v % 16 == 0 {
                    gosched();
                }
            }
            consumers.wait();
            total.load(SeqCst)
        });
        assert_eq!(got, 300 * 301 / 2);
    }
    // ANCHOR_END: cond

    #[test]
    fn broadcast_wakes_every_waiter() {
        Runtime::new(2).run(|| {
            let c = Arc::new((Cond::new(Mutex::new()), AtomicU64::new(0)));
            let wg = Arc::new(WaitGroup::new());
            let woke = Arc::new(AtomicU64::new(0));
            for _ in 0..20 {
                let (c, woke) = (c.clone(), woke.clone());
                wg.go(move || {
                    c.0.l.lock();
                    c.1.fetch_add(1, SeqCst); // arrived, under the lock
                    c.0.wait();
                    c.0.l.unlock();
                    woke.fetch_add(1, SeqCst);
                });
            }
            // Every waiter took its ticket under the lock before we can broadcast.
            loop {
                c.0.l.lock();
                let n = c.1.load(SeqCst);
                if n == 20 {
                    c.0.broadcast();
                    c.0.l.unlock();
                    break;
                }
                c.0.l.unlock();
                gosched();
            }
            wg.wait();
            assert_eq!(woke.load(SeqCst), 20);
        });
    }

    /// A reader holding the lock, a writer waiting: a second RLock by the same reader now
    /// blocks behind the writer, which waits for the reader — Go's documented deadlock.
    #[test]
    fn a_waiting_writer_blocks_new_readers() {
        Runtime::new(2).run(|| {
            let rw = Arc::new(RWMutex::new());
            rw.r_lock();
            let wg = Arc::new(WaitGroup::new());
            {
                let rw = rw.clone();
                wg.go(move || {
                    rw.lock();
                    rw.unlock();
                });
            }
            while rw.reader_count() >= 0 {
                gosched(); // until the writer has announced itself
            }
            assert!(!rw.try_r_lock(), "a pending writer keeps new readers out");
            rw.r_unlock(); // the last reader out wakes the writer
            wg.wait();
            assert_eq!(rw.reader_count(), 0);
        });
    }
}

#[test]
fn waitgroup_and_once_on_threads() {
    let wg = Arc::new(WaitGroup::new());
    let once = Arc::new(Once::new());
    let runs = Arc::new(AtomicU64::new(0));
    wg.add(4);
    for _ in 0..4 {
        let (wg, once, runs) = (wg.clone(), once.clone(), runs.clone());
        std::thread::spawn(move || {
            once.do_(|| {
                runs.fetch_add(1, SeqCst);
            });
            wg.done();
        });
    }
    wg.wait();
    assert_eq!(runs.load(SeqCst), 1);
}
