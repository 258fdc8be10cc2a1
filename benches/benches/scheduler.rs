//! Chapter "scheduler": the G/M/P runtime rebuilt in `chapter_scheduler` (impl `ours`), against
//! Go's own scheduler (`go/scheduler_test.go`), tokio's two runtimes, rayon and OS threads.
//!
//! A criterion group is one bench and each impl is a `BenchmarkId::from_parameter`, so a bench
//! id is `<bench>/<impl>`; the Go twin is `Benchmark_<bench>`. `cargo xtask bench` divides each
//! iteration's time by its throughput (elements) to report ns per task, per yield, per round
//! trip or per switch, as each bench says. Runtimes and thread pools are built once per bench,
//! off the clock, and every `ours` row times itself inside the runtime, from its main goroutine
//! (starting and stopping the runtime's threads is not what these benches measure). Like Go's
//! runtime and tokio's, ours lives for the whole bench ([`Persistent`]), so the Gs and stacks
//! that one sample frees are reused by the next.
//!
//! Impl ids: `ours`, `go`, `tokio-ct` (tokio's current_thread runtime), `tokio-mt` (its
//! multi_thread runtime), `rayon` (a `scope` on a pool of its own), `std-thread`
//! (`std::thread::spawn` and `join`), `ours-raw` (the chapter's bare context switch).
//!
//! Parallelism: Go's default GOMAXPROCS is the number of CPUs, so `ours` gets that many Ps,
//! tokio-mt that many workers and rayon that many threads (2 on the book's 2-core machine),
//! except in the benches that pin Go to one P, where ours has one P too.

mod common;
use chapter_scheduler::arch::{self, Gobuf};
use chapter_scheduler::stack::Stack;
use chapter_scheduler::{go, gopark, goready, gosched, syscall, GRef, Runtime, WaitReason};
use common::config;
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use std::ptr::{addr_of, addr_of_mut};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Tasks in one `spawn_join` phase. Go: `SpawnN` in `go/scheduler_test.go`.
const SPAWN_N: usize = 100_000;

/// Threads in one `spawn_join` phase of `std-thread`: a thousand OS threads already take tens of
/// milliseconds, and a hundred thousand would hit the system's thread limits. Still reported per
/// thread.
const THREAD_N: usize = 1_000;

/// Go's default GOMAXPROCS: one per CPU.
fn procs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn id(imp: &str) -> BenchmarkId {
    BenchmarkId::from_parameter(imp)
}

// ---- a runtime that lives for the whole bench -------------------------------------------------

type Job = Box<dyn FnOnce() -> Duration + Send>;

/// One runtime per bench, as a Go test binary has one: its main goroutine takes each sample
/// from the bench thread and runs it. It waits for the next one inside `syscall`
/// (entersyscall / exitsyscall), so the wait does not hold a P.
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

// ---- waiting in our runtime -----------------------------------------------------------------

/// A one-shot WaitGroup for goroutines of the chapter's runtime: `add(n)`, `n` calls of
/// `done()`, one `wait()`. Lost-wakeup free without a lock: the waiter parks with an unlockf
/// that runs after it is already `_Gwaiting`, publishes its `GRef` in `waiter`, and only then
/// looks at `remaining`; the last `done()` zeroes `remaining` and only then empties `waiter`.
/// (All SeqCst, so the store–load pairs on both sides cannot both miss each other.) Whoever
/// takes the `GRef` out of the slot owns the wake-up: the last finisher readies the waiter, or
/// the waiter takes itself back and does not sleep at all.
struct WaitGroup {
    remaining: AtomicUsize,
    /// `GRef::as_raw` of the parked waiter, 0 when none.
    waiter: AtomicUsize,
}

impl WaitGroup {
    const fn new() -> Self {
        WaitGroup {
            remaining: AtomicUsize::new(0),
            waiter: AtomicUsize::new(0),
        }
    }

    fn add(&self, n: usize) {
        self.remaining.fetch_add(n, SeqCst);
    }

    fn done(&self) {
        if self.remaining.fetch_sub(1, SeqCst) == 1 {
            let w = self.waiter.swap(0, SeqCst);
            if w != 0 {
                // SAFETY: only `wait` stores into `waiter`, always a live parked G's as_raw.
                goready(unsafe { GRef::from_raw(w) });
            }
        }
    }

    /// Parks the calling goroutine until `remaining` is 0.
    fn wait(&'static self) {
        if self.remaining.load(SeqCst) == 0 {
            return;
        }
        gopark(
            move |gp: GRef| {
                let me = gp.as_raw();
                self.waiter.store(me, SeqCst);
                let all_done = self.remaining.load(SeqCst) == 0;
                // Already done, and no finisher has taken the GRef to ready it: don't sleep.
                !(all_done && self.waiter.compare_exchange(me, 0, SeqCst, SeqCst).is_ok())
            },
            WaitReason::SyncWaitGroupWait,
        );
    }
}

/// A binary semaphore between two goroutines of the chapter's runtime: `post` hands over one
/// token, `take` consumes it and parks until there is one. `state` is 0 (no token, nobody
/// waiting), `TOKEN`, or the `GRef::as_raw` of the parked taker.
struct Baton {
    state: AtomicUsize,
}

const TOKEN: usize = 1;

impl Baton {
    const fn new() -> Self {
        Baton {
            state: AtomicUsize::new(0),
        }
    }

    fn take(&'static self) {
        if self
            .state
            .compare_exchange(TOKEN, 0, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        gopark(
            move |gp: GRef| {
                match self.state.compare_exchange(0, gp.as_raw(), SeqCst, SeqCst) {
                    Ok(_) => true, // parked; post will ready us
                    Err(_) => {
                        // The token came after the fast path: take it and keep running.
                        self.state.store(0, SeqCst);
                        false
                    }
                }
            },
            WaitReason::ChanReceive,
        );
    }

    fn post(&self) {
        loop {
            match self.state.load(SeqCst) {
                0 => {
                    if self
                        .state
                        .compare_exchange(0, TOKEN, SeqCst, SeqCst)
                        .is_ok()
                    {
                        return;
                    }
                }
                TOKEN => panic!("Baton::post: a token is already waiting"),
                gp => {
                    if self.state.compare_exchange(gp, 0, SeqCst, SeqCst).is_ok() {
                        // SAFETY: only `take` stores a G there, while it is parked.
                        goready(unsafe { GRef::from_raw(gp) });
                        return;
                    }
                }
            }
        }
    }
}

// ---- spawn_join ------------------------------------------------------------------------------

/// `spawn_join`: start `SPAWN_N` tasks that do nothing but count themselves done, wait for all;
/// ns per task (one criterion iteration is one whole phase).
fn spawn_join(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_join");
    // One iteration takes tens of milliseconds: same iteration count in every sample.
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(SPAWN_N as u64));

    // ours: `go` from the main goroutine (each new G lands in runnext, the one before it in
    // the local run queue), the last one readies main.
    {
        static WG: WaitGroup = WaitGroup::new();
        let rt = Persistent::new(procs() as u32);
        g.bench_function(id("ours"), |b| {
            b.iter_custom(|iters| {
                rt.run(move || {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let t = Instant::now();
                        WG.add(SPAWN_N);
                        for _ in 0..SPAWN_N {
                            go(|| WG.done());
                        }
                        WG.wait();
                        total += t.elapsed();
                    }
                    total
                })
            })
        });
    }

    // tokio: the same count-down, with a Notify (which keeps a permit if notified before
    // anyone waits) instead of parking. The JoinHandles are dropped: the tasks are detached.
    static TOKIO_LEFT: AtomicUsize = AtomicUsize::new(0);
    static TOKIO_DONE: Notify = Notify::const_new();
    async fn tokio_phase() {
        TOKIO_LEFT.store(SPAWN_N, SeqCst);
        for _ in 0..SPAWN_N {
            tokio::spawn(async {
                if TOKIO_LEFT.fetch_sub(1, SeqCst) == 1 {
                    TOKIO_DONE.notify_one();
                }
            });
        }
        TOKIO_DONE.notified().await;
    }
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        g.bench_function(id("tokio-ct"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let t = Instant::now();
                    for _ in 0..iters {
                        tokio_phase().await;
                    }
                    t.elapsed()
                })
            })
        });
    }
    {
        let rt = multi_thread();
        g.bench_function(id("tokio-mt"), |b| {
            b.iter_custom(|iters| {
                // Spawn from a worker, as Go spawns from a P: new tasks go to that worker's
                // local queue, not to the shared injection queue that block_on would use.
                rt.block_on(rt.spawn(async move {
                    let t = Instant::now();
                    for _ in 0..iters {
                        tokio_phase().await;
                    }
                    t.elapsed()
                }))
                .unwrap()
            })
        });
    }

    // rayon: a scope waits for everything spawned in it.
    {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(procs())
            .build()
            .unwrap();
        g.bench_function(id("rayon"), |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    pool.scope(|s| {
                        for _ in 0..SPAWN_N {
                            s.spawn(|_| {});
                        }
                    });
                }
                t.elapsed()
            })
        });
    }

    // std-thread: an OS thread per task, THREAD_N of them per phase (see THREAD_N).
    g.throughput(Throughput::Elements(THREAD_N as u64));
    g.bench_function(id("std-thread"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let handles: Vec<_> = (0..THREAD_N).map(|_| std::thread::spawn(|| {})).collect();
                for h in handles {
                    h.join().unwrap();
                }
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(procs())
        .build()
        .unwrap()
}

// ---- gosched_pingpong ------------------------------------------------------------------------

/// `gosched_pingpong`: on one P (one thread), two tasks yield `iters` times each and so take
/// turns; ns per yield. Go: runtime.Gosched at GOMAXPROCS=1.
fn gosched_pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("gosched_pingpong");
    g.throughput(Throughput::Elements(2)); // an iteration is one yield by each task

    {
        static WG: WaitGroup = WaitGroup::new();
        let rt = Persistent::new(1);
        g.bench_function(id("ours"), |b| {
            b.iter_custom(|iters| {
                rt.run(move || {
                    let t = Instant::now();
                    WG.add(2);
                    for _ in 0..2 {
                        go(move || {
                            for _ in 0..iters {
                                gosched();
                            }
                            WG.done();
                        });
                    }
                    WG.wait();
                    t.elapsed()
                })
            })
        });
    }

    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        g.bench_function(id("tokio-ct"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async move {
                    let t = Instant::now();
                    let yielder = move || async move {
                        for _ in 0..iters {
                            tokio::task::yield_now().await;
                        }
                    };
                    let (a, b) = (tokio::spawn(yielder()), tokio::spawn(yielder()));
                    a.await.unwrap();
                    b.await.unwrap();
                    t.elapsed()
                })
            })
        });
    }
    g.finish();
}

// ---- park_ready_pingpong ---------------------------------------------------------------------

/// `park_ready_pingpong`: main hands a token to a partner and waits for it to come back, by
/// parking and readying each other; ns per round trip (two parks, two readies). Go's twin is
/// the round trip over two unbuffered channels.
fn park_ready_pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("park_ready_pingpong");
    g.throughput(Throughput::Elements(1));

    {
        static PING: Baton = Baton::new();
        static PONG: Baton = Baton::new();
        static WG: WaitGroup = WaitGroup::new();
        let rt = Persistent::new(procs() as u32);
        g.bench_function(id("ours"), |b| {
            b.iter_custom(|iters| {
                rt.run(move || {
                    WG.add(1);
                    go(move || {
                        for _ in 0..iters {
                            PING.take();
                            PONG.post();
                        }
                        WG.done();
                    });
                    let t = Instant::now();
                    for _ in 0..iters {
                        PING.post();
                        PONG.take();
                    }
                    let elapsed = t.elapsed();
                    WG.wait();
                    elapsed
                })
            })
        });
    }

    static PING: Notify = Notify::const_new();
    static PONG: Notify = Notify::const_new();
    async fn tokio_pingpong(iters: u64) -> Duration {
        let partner = tokio::spawn(async move {
            for _ in 0..iters {
                PING.notified().await;
                PONG.notify_one();
            }
        });
        let t = Instant::now();
        for _ in 0..iters {
            PING.notify_one();
            PONG.notified().await;
        }
        let elapsed = t.elapsed();
        partner.await.unwrap();
        elapsed
    }
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        g.bench_function(id("tokio-ct"), |b| {
            b.iter_custom(|iters| rt.block_on(tokio_pingpong(iters)))
        });
    }
    {
        let rt = multi_thread();
        g.bench_function(id("tokio-mt"), |b| {
            b.iter_custom(|iters| rt.block_on(rt.spawn(tokio_pingpong(iters))).unwrap())
        });
    }
    g.finish();
}

// ---- switch ----------------------------------------------------------------------------------

/// `switch`: what one trip through the scheduler costs, per round trip (away and back).
///
/// - `ours`: one goroutine alone on one P calls gosched: switch to the M's scheduling stack
///   (mcall), put the G on the global run queue, schedule finds it there, switch back to it
///   (execute). Go's twin is runtime.Gosched alone at GOMAXPROCS=1; Go exports no bare
///   context switch.
/// - `ours-raw`: only the two context switches of that trip (the chapter's `arch::switch`,
///   callee-saved registers pushed and popped), between this thread's stack and a coroutine
///   that switches straight back: no scheduler, no run queue, no status changes. `ours` minus
///   `ours-raw` is what the scheduler adds.
fn switch(c: &mut Criterion) {
    let mut g = c.benchmark_group("switch");
    g.throughput(Throughput::Elements(1));
    let rt = Persistent::new(1);
    g.bench_function(id("ours"), |b| {
        b.iter_custom(|iters| {
            rt.run(move || {
                let t = Instant::now();
                for _ in 0..iters {
                    gosched();
                }
                t.elapsed()
            })
        })
    });
    g.bench_function(id("ours-raw"), |b| {
        let stack = Stack::new(64 * 1024).unwrap();
        let pair = Box::into_raw(Box::new(Pair::default()));
        // SAFETY: a fresh, 16-byte-aligned stack top (stacks are whole pages); `pair` outlives
        // every switch to or from the coroutine.
        unsafe { (*pair).co = Gobuf::prepare(stack.hi(), bounce, pair as usize) };
        b.iter_custom(|iters| {
            let t = Instant::now();
            for _ in 0..iters {
                // SAFETY: `co` was prepared above or saved by bounce's last switch back.
                unsafe { arch::switch(addr_of_mut!((*pair).main), addr_of!((*pair).co)) };
            }
            t.elapsed()
        });
        // The coroutine stays suspended in `bounce` for good; nothing on its stack needs
        // dropping, so the stack can simply be unmapped.
        drop(unsafe { Box::from_raw(pair) });
        drop(stack);
    });
    g.finish();
}

/// The two sides of the `ours-raw` ping-pong.
#[derive(Default)]
struct Pair {
    main: Gobuf,
    co: Gobuf,
}

/// The coroutine of `ours-raw`: switch back to whoever switched here, forever.
extern "C" fn bounce(pair: usize) -> ! {
    let pair = pair as *mut Pair;
    loop {
        // SAFETY: `main` was saved by the switch that brought us here.
        unsafe { arch::switch(addr_of_mut!((*pair).co), addr_of!((*pair).main)) };
    }
}

criterion_group! {
    name = scheduler;
    config = config();
    targets = spawn_join, gosched_pingpong, park_ready_pingpong, switch
}
criterion_main!(scheduler);
