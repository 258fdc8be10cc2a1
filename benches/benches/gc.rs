//! Chapter "gc": chapter-gc's stop-the-world collector (impl `ours`: Green Tea, the default
//! mark mode; `ours-classic`: the classic object-at-a-time flood) against Go's, in
//! `go/gc_test.go` (`go`: Green Tea; `go-classic`: GOEXPERIMENT=nogreenteagc).
//!
//! What is timed: one `Heap::gc()` over a heap whose only live objects are the graph below,
//! rooted in one frame slot: the roots, the whole mark (scanobject / scanSpan until no grey
//! object or queued span is left), mark termination and the sweep of every span (mark bits
//! become alloc bits). Go's side times `runtime.GC()` with GOMAXPROCS=1, which runs the same
//! steps and returns once every span is swept. Neither side allocates while timed. The time
//! is reported per node (`Throughput::Elements(NODES)`).
//!
//! The node is Go's `struct { left, right *node; val int }`: 24 bytes, size class 24,
//! pointers in words 0 and 1 (`chapter_gc::types::node_type`).
//!
//! `gc_alloc_window` is allocation with the collector running, per allocation: a window of
//! `WINDOW` live 16-byte objects (`struct { next *node16; val int }`, a scan object of size
//! class 16, marked span-wise by Green Tea) held in a global array, the oldest replaced by a
//! new one each operation, at GOGC=100. Ours collects with the world stopped whenever an
//! allocation finds heapLive past the trigger; Go (GOMAXPROCS=1) marks concurrently, with its
//! worker and assists on the one P. Both pay for every cycle their allocations start.
//!
//! `gc_stw_pause` is the time the world is stopped, per cycle, over the tree of
//! `gc_mark_tree`: Go's two pauses (sweep termination, mark termination) as
//! `MemStats.PauseTotalNs` counts them. Ours runs the cycle in its three steps with the lazy
//! sweep on, and times only the two that stand for the pauses: `Heap::gc_start` and
//! `Heap::gc_finish`. The mark between them (`gc_mark_some`) and the sweep after them are
//! not timed, as Go's run concurrently; both are over before the next cycle starts, as
//! runtime.GC() finishes them before it returns.

mod common;
use chapter_gc::heap::{Globals, Heap, Ptr};
use chapter_gc::mgcwork::MarkMode;
use chapter_gc::types::{node_type, Type};
use common::config;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Nodes of each graph (Go: gcNodes).
const NODES: usize = 1_000_000;

/// Go: splitmix64 in gc_test.go; the same sequence, so the same random graph.
fn splitmix64(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e3779b97f4a7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// A heap that never collects on its own, holding `n` nodes in allocation order, with one
/// frame slot for the root.
fn nodes(mode: MarkMode, n: usize) -> (Heap, Vec<Ptr>) {
    let mut h = Heap::with_globals(-1, Globals::default());
    h.set_mark_mode(mode);
    h.push_frame(1, &[0]);
    let node = node_type();
    let v = (0..n)
        .map(|i| {
            let p = h.alloc(node);
            h.write_scalar(p, 2, i as u64);
            p
        })
        .collect();
    (h, v)
}

/// Go: buildTree. Node i's children are nodes 2i+1 and 2i+2.
fn tree(mode: MarkMode, n: usize) -> Heap {
    let (mut h, v) = nodes(mode, n);
    for i in 0..n {
        for (field, c) in [(0, 2 * i + 1), (1, 2 * i + 2)] {
            if c < n {
                h.write_ptr(v[i], field, v[c]);
            }
        }
    }
    h.set_local(0, v[0]);
    h
}

/// Go: buildGraph. `right` chains every node in a random order, `left` is a random node.
fn graph(mode: MarkMode, n: usize) -> Heap {
    let (mut h, v) = nodes(mode, n);
    let mut seed = 42u64;
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (splitmix64(&mut seed) % (i as u64 + 1)) as usize;
        perm.swap(i, j);
    }
    for k in 0..n - 1 {
        h.write_ptr(v[perm[k]], 1, v[perm[k + 1]]);
    }
    for &p in &v {
        let to = v[(splitmix64(&mut seed) % n as u64) as usize];
        h.write_ptr(p, 0, to);
    }
    h.set_local(0, v[perm[0]]);
    h
}

fn bench(c: &mut Criterion, group: &str, build: fn(MarkMode, usize) -> Heap) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(NODES as u64));
    for (mode, imp) in [
        (MarkMode::GreenTea, "ours"),
        (MarkMode::Classic, "ours-classic"),
    ] {
        let mut h = build(mode, NODES);
        h.gc();
        assert_eq!(h.live_objects(), NODES, "every node is reachable");
        g.bench_function(BenchmarkId::from_parameter(imp), |b| b.iter(|| h.gc()));
    }
    g.finish();
}

/// Live objects in `gc_alloc_window` (Go: gcWindow).
const WINDOW: usize = 1000;

/// `gc_alloc_window`: `iters` replacements of the oldest object of the window.
fn gc_alloc_window(c: &mut Criterion) {
    let mut g = c.benchmark_group("gc_alloc_window");
    g.throughput(Throughput::Elements(1));
    let node16: &'static Type = Type::new("node16", 16, &[0]).leak();
    for (mode, imp) in [
        (MarkMode::GreenTea, "ours"),
        (MarkMode::Classic, "ours-classic"),
    ] {
        let globals = Globals {
            words: vec![0; WINDOW],
            ptrmask: vec![true; WINDOW],
        };
        let mut h = Heap::with_globals(100, globals);
        h.set_mark_mode(mode);
        for i in 0..WINDOW {
            let p = h.alloc(node16);
            h.set_global(i, p);
        }
        h.gc();
        // Warm up until allocation itself has started two cycles: the window is in its steady
        // state, and a quick run (`--test`: one iteration) still shows the collector runs.
        let mut oldest = 0;
        while h.stats.numgc < 3 {
            let p = h.alloc(node16);
            h.set_global(oldest, p);
            oldest = (oldest + 1) % WINDOW;
        }
        g.bench_function(BenchmarkId::from_parameter(imp), |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    let p = h.alloc(node16);
                    h.set_global(oldest, p);
                    oldest = (oldest + 1) % WINDOW;
                }
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// `gc_stw_pause`: per cycle, the time in `gc_start` (Go: the sweep-termination pause) plus
/// the time in `gc_finish` (Go: the mark-termination pause).
fn gc_stw_pause(c: &mut Criterion) {
    let mut g = c.benchmark_group("gc_stw_pause");
    g.throughput(Throughput::Elements(1));
    for (mode, imp) in [
        (MarkMode::GreenTea, "ours"),
        (MarkMode::Classic, "ours-classic"),
    ] {
        let mut h = tree(mode, NODES);
        h.sweep.lazy = true;
        h.gc();
        assert_eq!(h.live_objects(), NODES, "every node is reachable");
        g.bench_function(BenchmarkId::from_parameter(imp), |b| {
            b.iter_custom(|iters| {
                let mut paused = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let start = std::time::Instant::now();
                    h.gc_start();
                    paused += start.elapsed();
                    while !h.gc_mark_some(1 << 16) {}
                    let start = std::time::Instant::now();
                    h.gc_finish();
                    paused += start.elapsed();
                    assert!(!h.is_sweep_done(), "the sweep is left to run concurrently");
                    while h.sweepone().is_some() {}
                }
                paused
            })
        });
        assert_eq!(h.live_objects(), NODES, "the cycles kept every node");
    }
    g.finish();
}

fn gc_mark_tree(c: &mut Criterion) {
    bench(c, "gc_mark_tree", tree);
}

fn gc_mark_graph(c: &mut Criterion) {
    bench(c, "gc_mark_graph", graph);
}

criterion_group! {
    name = gc;
    config = config();
    targets = gc_mark_tree, gc_mark_graph, gc_alloc_window, gc_stw_pause
}
criterion_main!(gc);
