//! Chapter "mutex": sync.Mutex and sync.RWMutex as rebuilt in `chapter_mutex` (impl `ours`),
//! on the goroutines of `chapter_scheduler`, against Go's own (`go/mutex_test.go`), and
//! against std's and parking_lot's locks on OS threads (`std`, `parking_lot`).
//!
//! A criterion group is one bench and each impl a `BenchmarkId::from_parameter`, so a bench id
//! is `<bench>/<impl>`; the Go twin is `Benchmark_<bench>`. An iteration is one lock operation
//! by each worker (`Throughput::Elements(workers)`), so `cargo xtask bench` reports ns per
//! lock operation, as Go's `perOp` does.
//!
//! Every `ours` row runs on goroutines: the runtime lives for the whole bench ([`Persistent`],
//! as in `scheduler.rs`), its main goroutine takes each sample, spawns the workers with `go`,
//! waits for them on the chapter's WaitGroup, and times all of that itself, as the Go twins
//! do with `sync.WaitGroup`. The contended benches run at GOMAXPROCS [`PROCS`] in both
//! languages. The thread rows start their OS threads off the clock: the clock runs from the
//! moment they are all released until the last one is done.
//!
//! The distribution of the wait in Lock under contention (p50 … max) is not a criterion
//! bench: the `wait_*` examples and `go/lockwait` print it, and `cargo xtask bench mutex`
//! puts it in a table of its own (see `benches::lock_wait_goroutines`).

mod common;
use chapter_mutex::{Mutex, RWMutex, WaitGroup};
use chapter_scheduler::{go, syscall, Runtime};
use common::config;
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use std::cell::UnsafeCell;
use std::sync::{mpsc, Barrier};
use std::time::{Duration, Instant};

/// GOMAXPROCS of the contended benches, ours and Go's (Go: `MutexProcs`).
const PROCS: u32 = 2;

/// Workers of `mutex_many`, goroutines or OS threads (Go: `ManyWorkers`).
const MANY: usize = 32;

/// In `rwmutex_read_mostly` one operation in this many is a write lock (Go: `WriteEvery`).
const WRITE_EVERY: u64 = 100;

fn id(imp: &str) -> BenchmarkId {
    BenchmarkId::from_parameter(imp)
}

// ---- a runtime that lives for the whole bench (as in scheduler.rs) -------------------------

type Job = Box<dyn FnOnce() -> Duration + Send>;

/// One runtime per bench, as a Go test binary has one: its main goroutine takes each sample
/// from the bench thread and runs it, waiting for the next one inside `syscall` so that the
/// wait does not hold a P.
struct Persistent {
    jobs: mpsc::Sender<Option<Job>>,
    times: mpsc::Receiver<Duration>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Persistent {
    fn new(procs: u32) -> Persistent {
        let (jobs, job_rx) = mpsc::channel::<Option<Job>>();
        let (time_tx, times) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            Runtime::new(procs).run(move || {
                while let Some(job) = syscall(|| job_rx.recv().ok().flatten()) {
                    time_tx.send(job()).unwrap();
                }
            })
        });
        Persistent {
            jobs,
            times,
            thread: Some(thread),
        }
    }

    /// Runs `f` on the main goroutine and returns the time it reports.
    fn run(&self, f: impl FnOnce() -> Duration + Send + 'static) -> Duration {
        self.jobs.send(Some(Box::new(f))).unwrap();
        self.times.recv().unwrap()
    }
}

impl Drop for Persistent {
    fn drop(&mut self) {
        let _ = self.jobs.send(None);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// From the main goroutine: start `workers` goroutines that each run `work`, wait for all of
/// them on the chapter's WaitGroup, and return the time from the first `go` to the end of the
/// wait (Go: the same, with sync.WaitGroup).
fn goroutines(workers: usize, work: impl Fn(usize) + Clone + Send + 'static) -> Duration {
    static WG: WaitGroup = WaitGroup::new();
    let t = Instant::now();
    WG.add(workers as isize);
    for w in 0..workers {
        let work = work.clone();
        go(move || {
            work(w);
            WG.done();
        });
    }
    WG.wait();
    t.elapsed()
}

/// Start `workers` OS threads that each run `work(w)`, release them together, and return the
/// time from their release until the last one is done; their start and exit are off the clock.
fn threads(workers: usize, work: impl Fn(usize) + Sync) -> Duration {
    let start = Barrier::new(workers + 1);
    let finish = Barrier::new(workers + 1);
    std::thread::scope(|s| {
        for w in 0..workers {
            let (start, finish, work) = (&start, &finish, &work);
            s.spawn(move || {
                start.wait();
                work(w);
                finish.wait();
            });
        }
        start.wait();
        let t = Instant::now();
        finish.wait();
        t.elapsed()
    })
}

// ---- the locks under test --------------------------------------------------------------------

/// The chapter's Mutex and the counter it guards, side by side (Go: `guardedInt`).
struct Guarded {
    mu: Mutex,
    n: UnsafeCell<u64>,
}

// SAFETY: `n` is only touched while `mu` is held.
unsafe impl Sync for Guarded {}

impl Guarded {
    const fn new() -> Guarded {
        Guarded {
            mu: Mutex::new(),
            n: UnsafeCell::new(0),
        }
    }

    #[inline]
    fn lock_inc(&self) {
        self.mu.lock();
        // SAFETY: we hold `mu`.
        unsafe { *self.n.get() += 1 };
        self.mu.unlock();
    }

    /// The count, reset to 0, once the workers are done.
    fn take(&self) -> u64 {
        self.mu.lock();
        // SAFETY: we hold `mu`.
        let n = unsafe { std::mem::take(&mut *self.n.get()) };
        self.mu.unlock();
        n
    }
}

/// The chapter's RWMutex and the counter it guards (Go: `rwGuardedInt`).
struct RwGuarded {
    mu: RWMutex,
    n: UnsafeCell<u64>,
}

// SAFETY: `n` is written only under the write lock and read only under a read lock.
unsafe impl Sync for RwGuarded {}

/// A lock and its counter on OS threads: std's and parking_lot's.
trait ThreadLock: Sync + Default {
    const IMPL: &'static str;
    fn lock_inc(&self);
    fn take(&self) -> u64;
}

impl ThreadLock for std::sync::Mutex<u64> {
    const IMPL: &'static str = "std";
    #[inline]
    fn lock_inc(&self) {
        *self.lock().unwrap() += 1;
    }
    fn take(&self) -> u64 {
        std::mem::take(&mut *self.lock().unwrap())
    }
}

impl ThreadLock for parking_lot::Mutex<u64> {
    const IMPL: &'static str = "parking_lot";
    #[inline]
    fn lock_inc(&self) {
        *self.lock() += 1;
    }
    fn take(&self) -> u64 {
        std::mem::take(&mut *self.lock())
    }
}

/// A reader/writer lock and its counter on OS threads.
trait ThreadRwLock: Sync + Default {
    const IMPL: &'static str;
    fn write_inc(&self);
    fn read(&self) -> u64;
}

impl ThreadRwLock for std::sync::RwLock<u64> {
    const IMPL: &'static str = "std";
    #[inline]
    fn write_inc(&self) {
        *self.write().unwrap() += 1;
    }
    #[inline]
    fn read(&self) -> u64 {
        *self.read().unwrap()
    }
}

impl ThreadRwLock for parking_lot::RwLock<u64> {
    const IMPL: &'static str = "parking_lot";
    #[inline]
    fn write_inc(&self) {
        *self.write() += 1;
    }
    #[inline]
    fn read(&self) -> u64 {
        *self.read()
    }
}

// ---- mutex_uncontended -----------------------------------------------------------------------

/// `mutex_uncontended`: one worker locks and unlocks a mutex nobody else wants; ns per
/// Lock+Unlock. Ours runs on the main goroutine (the fast paths are one CAS and one atomic
/// add either way); std's and parking_lot's on the bench thread.
fn mutex_uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_uncontended");
    g.throughput(Throughput::Elements(1));
    {
        static MU: Mutex = Mutex::new();
        let rt = Persistent::new(PROCS);
        g.bench_function(id("ours"), |b| {
            b.iter_custom(|iters| {
                rt.run(move || {
                    let t = Instant::now();
                    for _ in 0..iters {
                        MU.lock();
                        MU.unlock();
                    }
                    t.elapsed()
                })
            })
        });
    }
    {
        let mu = std::sync::Mutex::new(());
        g.bench_function(id("std"), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    drop(black_box(&mu).lock().unwrap());
                }
                t.elapsed()
            })
        });
    }
    {
        let mu = parking_lot::Mutex::new(());
        g.bench_function(id("parking_lot"), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    drop(black_box(&mu).lock());
                }
                t.elapsed()
            })
        });
    }
    g.finish();
}

// ---- mutex_contended and mutex_many ----------------------------------------------------------

/// `workers` workers each Lock, increment a shared counter and Unlock `iters` times: ours on
/// that many goroutines of a runtime with [`PROCS`] Ps, std and parking_lot on that many OS
/// threads. Checks the count off the clock.
fn lock_inc_phase(g: &mut BenchmarkGroup<WallTime>, workers: usize) {
    g.throughput(Throughput::Elements(workers as u64));
    {
        static G: Guarded = Guarded::new();
        let rt = Persistent::new(PROCS);
        g.bench_function(id("ours"), |b| {
            b.iter_custom(|iters| {
                let t = rt.run(move || {
                    goroutines(workers, move |_| {
                        for _ in 0..iters {
                            G.lock_inc();
                        }
                    })
                });
                assert_eq!(G.take(), workers as u64 * iters, "ours lost an increment");
                t
            })
        });
    }
    thread_lock_inc::<parking_lot::Mutex<u64>>(g, workers);
    thread_lock_inc::<std::sync::Mutex<u64>>(g, workers);
}

fn thread_lock_inc<L: ThreadLock>(g: &mut BenchmarkGroup<WallTime>, workers: usize) {
    let lock = L::default();
    g.bench_function(id(L::IMPL), |b| {
        b.iter_custom(|iters| {
            let t = threads(workers, |_| {
                for _ in 0..iters {
                    lock.lock_inc();
                }
            });
            assert_eq!(lock.take(), workers as u64 * iters, "lost an increment");
            t
        })
    });
}

/// `mutex_contended`: two workers on one mutex, at GOMAXPROCS 2 for ours and Go; ns per
/// Lock/increment/Unlock.
fn mutex_contended(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_contended");
    lock_inc_phase(&mut g, 2);
    g.finish();
}

/// `mutex_many`: [`MANY`] workers on one mutex: goroutines on [`PROCS`] Ps for ours and Go
/// (a goroutine that does not get the mutex parks and leaves its P to another), OS threads
/// on the machine's cores for std and parking_lot (a thread that does not get it sleeps in
/// the kernel); ns per Lock/increment/Unlock.
fn mutex_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("mutex_many");
    lock_inc_phase(&mut g, MANY);
    g.finish();
}

// ---- rwmutex_read_mostly ---------------------------------------------------------------------

/// `rwmutex_read_mostly`: two workers each do `iters` operations on one reader/writer lock,
/// every [`WRITE_EVERY`]-th (the first included) a write lock and increment, the others a
/// read lock and a read; ns per operation. Ours at GOMAXPROCS 2.
fn rwmutex_read_mostly(c: &mut Criterion) {
    let mut g = c.benchmark_group("rwmutex_read_mostly");
    g.throughput(Throughput::Elements(2));
    {
        static RW: RwGuarded = RwGuarded {
            mu: RWMutex::new(),
            n: UnsafeCell::new(0),
        };
        let rt = Persistent::new(PROCS);
        g.bench_function(id("ours"), |b| {
            b.iter_custom(|iters| {
                rt.run(move || {
                    let t = goroutines(2, move |_| {
                        let mut sum = 0u64;
                        for i in 0..iters {
                            if i % WRITE_EVERY == 0 {
                                RW.mu.lock();
                                // SAFETY: we hold the write lock.
                                unsafe { *RW.n.get() += 1 };
                                RW.mu.unlock();
                            } else {
                                RW.mu.r_lock();
                                // SAFETY: we hold a read lock; writers are out.
                                sum += unsafe { *RW.n.get() };
                                RW.mu.r_unlock();
                            }
                        }
                        black_box(sum);
                    });
                    // SAFETY: the workers are done.
                    unsafe { *RW.n.get() = 0 };
                    t
                })
            })
        });
    }
    thread_read_mostly::<parking_lot::RwLock<u64>>(&mut g);
    thread_read_mostly::<std::sync::RwLock<u64>>(&mut g);
    g.finish();
}

fn thread_read_mostly<L: ThreadRwLock>(g: &mut BenchmarkGroup<WallTime>) {
    let lock = L::default();
    g.bench_function(id(L::IMPL), |b| {
        b.iter_custom(|iters| {
            threads(2, |_| {
                let mut sum = 0u64;
                for i in 0..iters {
                    if i % WRITE_EVERY == 0 {
                        lock.write_inc();
                    } else {
                        sum += lock.read();
                    }
                }
                black_box(sum);
            })
        })
    });
}

criterion_group! {
    name = mutex;
    config = config();
    targets = mutex_uncontended, mutex_contended, mutex_many, rwmutex_read_mostly
}
criterion_main!(mutex);
