//! Chapter "memory-model": what Go's sequentially consistent `sync/atomic` costs. Go's
//! `atomic.Int64` methods (`go/atomics_test.go`, impl `go`) against Rust's `AtomicI64` at three
//! orderings: `seqcst` (every access `SeqCst`: what a faithful port of `sync/atomic` uses),
//! `acqrel` (`Release` stores, `Acquire` loads, `AcqRel` read-modify-writes) and `relaxed`.
//! The SB group has a fourth, `relaxed+fence`: `Relaxed` accesses with a `fence(SeqCst)`
//! between the store and the load, the chapter's "SeqCst fences" column.
//!
//! A criterion group is one bench and each impl a `BenchmarkId::from_parameter`, so a bench id
//! is `<bench>/<impl>`; the Go twin is `Benchmark_<bench>`. Every number is ns per atomic
//! operation (per store-and-load in the SB group), as the Go twins report it.
//!
//! On amd64 (TSO) the orderings differ only in stores: a `SeqCst` store is an `XCHG`, as Go's
//! `Store` is, while `Release` and `Relaxed` stores are plain `MOV`s; loads are `MOV`s and the
//! read-modify-writes `LOCK`-prefixed instructions at every ordering. The uncontended loops
//! take the atomic through `black_box` on every iteration, so the compiler can neither hoist
//! nor merge the accesses (Go's compiler never does either with `sync/atomic`).

mod common;
use common::config;
use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use std::sync::atomic::{fence, AtomicI64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

fn id(imp: &str) -> BenchmarkId {
    BenchmarkId::from_parameter(imp)
}

/// One impl: the orderings it gives each kind of access. Constants, so that every bench loop is
/// monomorphized with its orderings folded in, as a port would write them.
trait Model {
    const IMPL: &'static str;
    const LOAD: Ordering;
    const STORE: Ordering;
    const RMW: Ordering;
    /// The ordering of a failed compare-and-swap.
    const FAIL: Ordering;
}

/// `seqcst`: what `sync/atomic` promises, and what a faithful port of it uses.
struct SeqCst;
impl Model for SeqCst {
    const IMPL: &'static str = "seqcst";
    const LOAD: Ordering = Ordering::SeqCst;
    const STORE: Ordering = Ordering::SeqCst;
    const RMW: Ordering = Ordering::SeqCst;
    const FAIL: Ordering = Ordering::SeqCst;
}

/// `acqrel`: enough for message passing, not for store buffering.
struct AcqRel;
impl Model for AcqRel {
    const IMPL: &'static str = "acqrel";
    const LOAD: Ordering = Ordering::Acquire;
    const STORE: Ordering = Ordering::Release;
    const RMW: Ordering = Ordering::AcqRel;
    const FAIL: Ordering = Ordering::Acquire;
}

/// `relaxed`: atomicity only.
struct Relaxed;
impl Model for Relaxed {
    const IMPL: &'static str = "relaxed";
    const LOAD: Ordering = Ordering::Relaxed;
    const STORE: Ordering = Ordering::Relaxed;
    const RMW: Ordering = Ordering::Relaxed;
    const FAIL: Ordering = Ordering::Relaxed;
}

/// The word of the uncontended benches (Go: `word`).
static WORD: AtomicI64 = AtomicI64::new(0);

/// The word both threads add to in `atomic_add_contended` (Go: `contendedWord`).
static CONTENDED: AtomicI64 = AtomicI64::new(0);

/// A word alone on its cache line (the SB litmus test's `x` and `y`).
#[repr(align(64))]
struct Line(AtomicI64);

/// The SB litmus test's two cells (Go: `sbX`, `sbY`).
static SB_X: Line = Line(AtomicI64::new(0));
static SB_Y: Line = Line(AtomicI64::new(0));

// ---- uncontended: one thread, one word ------------------------------------------------------

/// `atomic_load`: `iters` loads of one word, summed; ns per load.
fn load<M: Model>(g: &mut BenchmarkGroup<WallTime>) {
    g.bench_function(id(M::IMPL), |b| {
        b.iter_custom(|iters| {
            WORD.store(1, Ordering::SeqCst);
            let t = Instant::now();
            let mut sum = 0i64;
            for _ in 0..iters {
                sum = sum.wrapping_add(black_box(&WORD).load(M::LOAD));
            }
            let t = t.elapsed();
            assert_eq!(black_box(sum), iters as i64, "a load went missing");
            t
        })
    });
}

/// `atomic_store`: `iters` stores of the loop counter to one word; ns per store.
fn store<M: Model>(g: &mut BenchmarkGroup<WallTime>) {
    g.bench_function(id(M::IMPL), |b| {
        b.iter_custom(|iters| {
            let t = Instant::now();
            for i in 0..iters as i64 {
                black_box(&WORD).store(i, M::STORE);
            }
            let t = t.elapsed();
            assert_eq!(WORD.load(Ordering::SeqCst), iters as i64 - 1);
            t
        })
    });
}

/// `atomic_add`: `iters` adds of 1 to one word; ns per add.
fn add<M: Model>(g: &mut BenchmarkGroup<WallTime>) {
    g.bench_function(id(M::IMPL), |b| {
        b.iter_custom(|iters| {
            WORD.store(0, Ordering::SeqCst);
            let t = Instant::now();
            for _ in 0..iters {
                black_box(&WORD).fetch_add(1, M::RMW);
            }
            let t = t.elapsed();
            assert_eq!(WORD.load(Ordering::SeqCst), iters as i64, "lost an add");
            t
        })
    });
}

/// `atomic_cas`: `iters` compare-and-swaps of one word from `i` to `i + 1`, every one of which
/// succeeds; ns per CAS.
fn cas<M: Model>(g: &mut BenchmarkGroup<WallTime>) {
    g.bench_function(id(M::IMPL), |b| {
        b.iter_custom(|iters| {
            WORD.store(0, Ordering::SeqCst);
            let t = Instant::now();
            let mut ok = 0u64;
            for i in 0..iters as i64 {
                let r = black_box(&WORD).compare_exchange(i, i + 1, M::RMW, M::FAIL);
                ok += u64::from(r.is_ok());
            }
            let t = t.elapsed();
            assert_eq!(black_box(ok), iters, "a CAS failed");
            t
        })
    });
}

/// `atomic_store_load_sb`: one thread's half of the SB (store buffering) litmus test, in a
/// loop: store to `x`, then load `y`; ns per store-and-load. A `SeqCst` store (an `XCHG`)
/// waits for the store buffer to drain before the load can run; a `Release` or `Relaxed` store
/// lets the load run ahead, which is exactly the reordering that gives SB its 0/0.
fn store_load<M: Model>(g: &mut BenchmarkGroup<WallTime>) {
    g.bench_function(id(M::IMPL), |b| {
        b.iter_custom(|iters| sb_loop(iters, M::STORE, M::LOAD, false))
    });
}

/// The SB loop with its orderings folded in (`#[inline(always)]` into a caller whose orderings
/// are constants); `fenced`: a `fence(SeqCst)` between the store and the load.
#[inline(always)]
fn sb_loop(iters: u64, st: Ordering, ld: Ordering, fenced: bool) -> Duration {
    SB_Y.0.store(1, Ordering::SeqCst);
    let t = Instant::now();
    let mut sum = 0i64;
    for i in 0..iters as i64 {
        black_box(&SB_X.0).store(i, st);
        if fenced {
            fence(Ordering::SeqCst);
        }
        sum = sum.wrapping_add(black_box(&SB_Y.0).load(ld));
    }
    let t = t.elapsed();
    assert_eq!(black_box(sum), iters as i64, "a load went missing");
    t
}

// ---- contended: two threads, one word -------------------------------------------------------

/// Threads of `atomic_add_contended` (Go: `ContendedProcs`, its goroutines and GOMAXPROCS).
const THREADS: usize = 2;

/// Start `workers` OS threads that each run `work`, release them together, and return the time
/// from their release until the last one is done; their start and exit are off the clock (as
/// in `mutex.rs`).
fn threads(workers: usize, work: impl Fn() + Sync) -> Duration {
    let start = Barrier::new(workers + 1);
    let finish = Barrier::new(workers + 1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (start, finish, work) = (&start, &finish, &work);
            s.spawn(move || {
                start.wait();
                work();
                finish.wait();
            });
        }
        start.wait();
        let t = Instant::now();
        finish.wait();
        t.elapsed()
    })
}

/// `atomic_add_contended`: [`THREADS`] threads each add 1 to the same word `iters` times; ns per
/// add (the wall time over all the adds of all the threads). Each core keeps the cache line for
/// a burst of adds (about 7 on the book's machine) before the other takes it, so this number
/// swings by a factor of two or more between samples and runs; every ordering compiles to the
/// same `LOCK`ed add, so differences between its columns are that noise.
fn add_contended<M: Model>(g: &mut BenchmarkGroup<WallTime>) {
    g.bench_function(id(M::IMPL), |b| {
        b.iter_custom(|iters| {
            CONTENDED.store(0, Ordering::SeqCst);
            let t = threads(THREADS, || {
                for _ in 0..iters {
                    black_box(&CONTENDED).fetch_add(1, M::RMW);
                }
            });
            assert_eq!(
                CONTENDED.load(Ordering::SeqCst),
                THREADS as i64 * iters as i64,
                "lost an add"
            );
            t
        })
    });
}

// ---- the groups -----------------------------------------------------------------------------

/// One group, `name`, with a row for each ordering.
macro_rules! group {
    ($c:expr, $name:literal, $elements:expr, $bench:ident) => {{
        let mut g = $c.benchmark_group($name);
        g.throughput(Throughput::Elements($elements));
        $bench::<SeqCst>(&mut g);
        $bench::<AcqRel>(&mut g);
        $bench::<Relaxed>(&mut g);
        g
    }};
}

fn atomic_load(c: &mut Criterion) {
    group!(c, "atomic_load", 1, load).finish();
}

fn atomic_store(c: &mut Criterion) {
    group!(c, "atomic_store", 1, store).finish();
}

fn atomic_add(c: &mut Criterion) {
    group!(c, "atomic_add", 1, add).finish();
}

fn atomic_cas(c: &mut Criterion) {
    group!(c, "atomic_cas", 1, cas).finish();
}

fn atomic_add_contended(c: &mut Criterion) {
    group!(c, "atomic_add_contended", THREADS as u64, add_contended).finish();
}

fn atomic_store_load_sb(c: &mut Criterion) {
    let mut g = group!(c, "atomic_store_load_sb", 1, store_load);
    g.bench_function(id("relaxed+fence"), |b| {
        b.iter_custom(|iters| sb_loop(iters, Ordering::Relaxed, Ordering::Relaxed, true))
    });
    g.finish();
}

criterion_group! {
    name = memory_model;
    config = config();
    targets = atomic_load, atomic_store, atomic_add, atomic_cas, atomic_add_contended,
        atomic_store_load_sb
}
criterion_main!(memory_model);
