//! The cycle as Go runs it, with the mutator: goroutines on several Ps of the seeded,
//! simulated machine (proc.rs), mark workers chosen as findRunnableGCWorker chooses them,
//! assists, the ragged barrier, the lazy sweep — and, under random goroutines and random
//! schedules, no reachable object lost and no garbage kept (against a shadow model).
#![cfg(not(miri))] // the allocator's heap maps memory; miri cannot (see heap.rs)

use chapter_gc::heap::{GcPhase, Globals, Heap, Ptr};
use chapter_gc::mgcpacer::mark_worker_split;
use chapter_gc::proc::{GStatus, Rng, TICK_NS};
use chapter_gc::types::{bytes_type, node_type, padded_node_type, Type};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const LEFT: usize = 0;
const RIGHT: usize = 1;
const VAL: usize = 2;

/// A linked list of `n` nodes hanging off slot 0 of the current frame.
fn build_list(h: &mut Heap, n: usize) {
    for v in 0..n {
        let p = h.alloc(node_type());
        h.write_scalar(p, VAL, v as u64);
        let head = h.local(0);
        h.write_ptr(p, LEFT, head);
        h.set_local(0, p);
    }
}

fn list_len(h: &Heap, mut p: Ptr) -> usize {
    let mut n = 0;
    while !p.is_nil() {
        n += 1;
        p = h.read_ptr(p, LEFT);
    }
    n
}

/// A goroutine that never allocates: it keeps a frame and rewrites one of its slots (G 0,
/// which holds the test's list, only reads it).
fn busy(h: &mut Heap, g: usize) -> bool {
    if g == 0 {
        h.local(0);
        return true;
    }
    if h.stack.frames.is_empty() {
        h.push_frame(1, &[0]);
    }
    h.set_local(0, Ptr::NIL);
    true
}

/// A heap with GOGC off (no cycle but the ones a test starts), `live` list nodes on G 0's
/// stack, the machine started with `procs` Ps and `gs` goroutines in all.
fn machine(procs: usize, gs: usize, live: usize) -> Heap {
    let mut h = Heap::with_globals(-1, Globals::default());
    h.push_frame(1, &[0]);
    build_list(&mut h, live);
    h.start_machine(procs);
    for _ in 1..gs {
        h.new_g();
    }
    h
}

/// Run ticks until the cycle in progress ends; the ticks it took.
fn run_cycle(
    h: &mut Heap,
    rng: &mut Rng,
    mutator: &mut dyn FnMut(&mut Heap, usize) -> bool,
) -> u64 {
    let start = h.sched.stats.ticks;
    let cycles = h.stats.numgc;
    while h.stats.numgc == cycles {
        h.tick(rng, mutator);
        assert!(
            h.sched.stats.ticks - start < 1_000_000,
            "the cycle never ended"
        );
    }
    h.sched.stats.ticks - start
}

// ANCHOR: utilization_test
#[test]
fn mark_workers_take_the_25_percent_goal_with_gos_rounding() {
    // Go's split (startCycle): dedicated workers, and a fractional goal per P that a P meets
    // to within pollFractionalWorkerExit's 20% slack.
    let live = if cfg!(debug_assertions) {
        6_000
    } else {
        20_000
    };
    for procs in [1, 2, 3, 4, 6, 8] {
        let (dedicated, fractional) = mark_worker_split(procs as i32);
        let mut h = machine(procs, procs, live); // every P always has a goroutine to run
        let mut rng = Rng::new(procs as u64);
        h.gc_start();
        let ticks = run_cycle(&mut h, &mut rng, &mut busy);
        assert_eq!(list_len(&h, Ptr(h.g_stack(0).frames[0].slots[0])), live);
        let mark = (h.sched.stats.mark_ticks * TICK_NS as u64) as f64;
        let ps = &h.sched.allp;
        let ded: i64 = ps.iter().map(|p| p.time.dedicated).sum();
        let frac: i64 = ps.iter().map(|p| p.time.fractional).sum();
        let idle: i64 = ps.iter().map(|p| p.time.idle_mark).sum();
        assert_eq!(idle, 0, "GOMAXPROCS={procs}: no P was idle");
        // Dedicated workers hold their Ps for the whole mark (less the barrier's last tick).
        let ded_share = ded as f64 / (mark * procs as f64);
        let want = dedicated as f64 / procs as f64;
        assert!(
            (ded_share - want).abs() <= 2.0 / h.sched.stats.mark_ticks as f64 + 1e-9,
            "GOMAXPROCS={procs}: dedicated share {ded_share}, want {want}"
        );
        // Each P's fractional time is between the goal and 1.2 × the goal of the mark time.
        for (i, p) in ps.iter().enumerate() {
            let share = p.time.fractional as f64 / mark;
            if fractional == 0.0 {
                assert_eq!(p.time.fractional, 0);
            } else {
                let slack = 2.0 / h.sched.stats.mark_ticks as f64;
                assert!(
                    p.time.dedicated > 0
                        || (share >= fractional - slack && share <= 1.2 * fractional + slack),
                    "GOMAXPROCS={procs} P{i}: fractional share {share}, goal {fractional}"
                );
            }
        }
        // A dedicated worker holds its P until the work runs out (mgc.go:gcBgMarkWorker
        // drains again "without preemption"), so that P never runs a fractional worker: the
        // others give
        // fractionalUtilizationGoal to 1.2 × that. With GOMAXPROCS=6 that is 23.6% to 25%.
        let total = (ded + frac) as f64 / (mark * procs as f64);
        let others = (procs as i64 - dedicated) as f64;
        let low = (dedicated as f64 + others * fractional) / procs as f64;
        let high = (dedicated as f64 + others * 1.2 * fractional) / procs as f64;
        println!("GOMAXPROCS={procs}: {ticks} ticks, mark workers {total:.4} of the Ps");
        assert!(
            total >= low - 0.01 && total <= high + 0.01,
            "GOMAXPROCS={procs}: mark workers took {total} of the P time, not {low}..{high}"
        );
    }
}
// ANCHOR_END: utilization_test

#[test]
fn idle_ps_run_idle_mark_workers() {
    let live = if cfg!(debug_assertions) {
        4_000
    } else {
        10_000
    };
    // Four Ps, one goroutine: one P runs the dedicated worker, one the goroutine, and the
    // two left idle mark (up to GOMAXPROCS − dedicated idle workers at once).
    let mut h = machine(4, 1, live);
    let mut rng = Rng::new(7);
    h.gc_start();
    let ticks = run_cycle(&mut h, &mut rng, &mut busy);
    let ps = &h.sched.allp;
    let idle: i64 = ps.iter().map(|p| p.time.idle_mark).sum();
    let mark = (h.sched.stats.mark_ticks * TICK_NS as u64) as i64;
    assert!(idle > 0, "idle Ps ran idle workers");
    assert!(
        (idle - 2 * mark).abs() <= 4 * TICK_NS,
        "two Ps idle-marked all the mark: {idle} of {mark}"
    );
    assert_eq!(
        h.controller.idle_mark_time, idle,
        "markWorkerStop charged the pacer"
    );
    // Without idle workers the same mark takes about three times as long.
    let mut h2 = machine(4, 1, live);
    h2.sched.idle_workers = false;
    let mut rng = Rng::new(7);
    h2.gc_start();
    let ticks2 = run_cycle(&mut h2, &mut rng, &mut busy);
    assert!(
        ticks2 > 2 * ticks,
        "{ticks2} ticks alone vs {ticks} with idle workers"
    );
}

// ---- assists ----

/// GOGC=100, `live` list nodes on G 0's stack, the machine with `procs` Ps.
fn paced_machine(procs: usize, live: usize) -> Heap {
    let mut h = Heap::new();
    h.push_frame(1, &[0]);
    build_list(&mut h, live);
    h.gc();
    h.start_machine(procs);
    h
}

/// G 0 allocates a KiB of garbage every step (and keeps its list).
fn allocator(h: &mut Heap, g: usize) -> bool {
    if g == 0 {
        h.alloc(bytes_type(1024));
    }
    true
}

/// G 0 allocates 64 KiB of garbage every step: one allocation's debt can be more scan
/// work than the heap has left.
fn big_allocator(h: &mut Heap, g: usize) -> bool {
    if g == 0 {
        h.alloc(bytes_type(64 << 10));
    }
    true
}

/// Run `cycles` cycles; for each, the goal when it started and the most heapLive reached
/// while it marked.
fn run_paced(
    h: &mut Heap,
    rng: &mut Rng,
    cycles: u32,
    mutator: fn(&mut Heap, usize) -> bool,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let end = h.stats.numgc + cycles;
    let mut was = h.phase();
    while h.stats.numgc < end {
        h.tick(rng, &mut { mutator });
        assert!(h.sched.stats.ticks < 2_000_000, "no progress");
        let now = h.phase();
        if now == GcPhase::Mark {
            if was == GcPhase::Off {
                out.push((h.controller.heap_goal(), 0));
            }
            let last = out.last_mut().unwrap();
            last.1 = last.1.max(h.controller.heap_live);
        }
        was = now;
    }
    out
}

// ANCHOR: assist_test
#[test]
fn a_fast_allocator_with_no_workers_pays_with_assists() {
    let live = if cfg!(debug_assertions) {
        20_000
    } else {
        50_000
    };
    let mut h = paced_machine(1, live);
    h.sched.bg_workers = false;
    h.sched.idle_workers = false;
    let mut rng = Rng::new(1);
    let cycles = run_paced(&mut h, &mut rng, 3, allocator);
    assert_eq!(cycles.len(), 3);
    for (goal, max_live) in cycles {
        // revise's hard goal: (1 + GOGC/100) × the goal.
        println!("goal {goal}, heapLive at most {max_live}");
        assert!(
            max_live <= 2 * goal,
            "heapLive {max_live} passed the hard goal of {goal}"
        );
    }
    let t: i64 = h
        .sched
        .allp
        .iter()
        .map(|p| p.time.dedicated + p.time.fractional)
        .sum();
    assert_eq!(t, 0, "no background worker ran");
    assert!(h.sched.stats.assists > 0 && h.sched.stats.assist_work > 0);
    assert!(h.controller.assist_time > 0, "the pacer was told");
    assert_eq!(list_len(&h, Ptr(h.g_stack(0).frames[0].slots[0])), live);
}
// ANCHOR_END: assist_test

#[test]
fn background_credit_is_stolen_and_assists_do_less() {
    let live = if cfg!(debug_assertions) {
        20_000
    } else {
        50_000
    };
    let mut work = Vec::new();
    for workers in [false, true] {
        let mut h = paced_machine(1, live);
        h.sched.bg_workers = workers;
        h.sched.idle_workers = false;
        let mut rng = Rng::new(2);
        run_paced(&mut h, &mut rng, 3, allocator);
        let s = &h.sched.stats;
        println!(
            "workers {workers}: {} assists, {} work, {} steals of {}",
            s.assists, s.assist_work, s.steals, s.stolen
        );
        assert_eq!(
            s.steals > 0,
            workers,
            "credit exists only when workers earn it"
        );
        work.push(s.assist_work);
        if workers {
            assert!(s.assist_work < work[0], "stealing replaced scanning");
        }
    }
}

#[test]
fn parked_assists_are_woken() {
    let live = if cfg!(debug_assertions) {
        5_000
    } else {
        20_000
    };
    let (mut parks, mut wakes) = (0, 0);
    for seed in 0..8 {
        let mut h = paced_machine(2, live);
        let mut rng = Rng::new(seed);
        run_paced(&mut h, &mut rng, 2, big_allocator);
        // Every cycle ended with nobody left waiting, and G 0 kept allocating.
        assert!(h.sched.assist_queue.is_empty());
        assert_eq!(h.sched.allgs[0].status, GStatus::Runnable);
        parks += h.sched.stats.parks;
        wakes += h.sched.stats.wakes;
    }
    println!("{parks} parks, {wakes} woken by credit");
    assert!(
        parks > 0,
        "some assist found neither work nor credit and parked"
    );
}

// ---- the ragged barrier ----

#[test]
fn an_object_hidden_in_another_ps_write_barrier_buffer_survives_the_barrier() {
    // Global 0 → a chain of 200 nodes → a → b → c. As each cycle starts, G 1 moves b from
    // a.left to its stack; once its stack is scanned (a root job, done first), a only after
    // the chain, b's only trace is the deletion barrier's record in the buffer of the P it
    // ran on. The other P marks (an idle worker) and flushes only its own buffer: the ragged
    // barrier must shade b. Between cycles G 1 puts b back.
    let mut flushed_rounds = 0;
    for seed in 0..if cfg!(debug_assertions) { 16 } else { 64 } {
        let globals = Globals {
            words: vec![0],
            ptrmask: vec![true],
        };
        let mut h = Heap::with_globals(-1, globals);
        let a = h.alloc(node_type());
        let b = h.alloc(node_type());
        h.write_ptr(a, LEFT, b);
        let c = h.alloc(node_type());
        h.write_scalar(c, VAL, 42);
        h.write_ptr(b, RIGHT, c);
        h.set_global(0, a);
        for _ in 0..200 {
            let x = h.alloc(node_type());
            h.write_ptr(x, RIGHT, h.global(0));
            h.set_global(0, x);
        }
        h.start_machine(2);
        h.sched.bg_workers = seed % 2 == 0; // half the runs: only the idle worker marks
        let mover = h.new_g();
        let mut rng = Rng::new(seed);
        // `a` stays reachable through the chain, which nothing changes: a Rust local may
        // name it.
        let mut mutator = |h: &mut Heap, g: usize| {
            if g != mover {
                return false; // G 0 exits
            }
            if h.stack.frames.is_empty() {
                h.push_frame(1, &[0]);
            }
            if h.phase() == GcPhase::Mark && h.local(0).is_nil() && !h.read_ptr(a, LEFT).is_nil() {
                let b = h.read_ptr(a, LEFT);
                h.set_local(0, b); // no barrier on the stack
                h.write_ptr(a, LEFT, Ptr::NIL); // the deletion barrier records b
            } else if h.phase() == GcPhase::Off && !h.local(0).is_nil() {
                let b = h.local(0);
                h.write_ptr(a, LEFT, b);
                h.set_local(0, Ptr::NIL);
            }
            true
        };
        while h.stats.numgc < 8 {
            if h.phase() == GcPhase::Off && h.sched.stats.ticks.is_multiple_of(8) {
                h.gc_start();
            }
            h.tick(&mut rng, &mut mutator);
            let on_stack = h.g_stack(mover).frames.first().map_or(0, |f| f.slots[0]);
            let b = if on_stack == 0 {
                h.read_ptr(a, LEFT)
            } else {
                Ptr(on_stack)
            };
            assert!(h.find_object(b.0).is_some(), "seed {seed}: b was freed");
            let c = h.read_ptr(b, RIGHT);
            assert_eq!(h.read_scalar(c, VAL), 42, "seed {seed}: c was freed");
        }
        flushed_rounds += h.sched.stats.barrier_flushed + h.sched.stats.stw_restarts;
        assert!(
            h.sched.stats.barriers >= 8,
            "every cycle ended through the barrier"
        );
    }
    println!("{flushed_rounds} barrier rounds found flushed work");
    assert!(
        flushed_rounds > 0,
        "some barrier round shaded what a buffer held"
    );
}

// ---- the lazy sweep ----

/// Live list of `live` nodes on the current frame, then garbage of several sizes.
fn live_and_garbage(h: &mut Heap, live: usize) {
    h.push_frame(1, &[0]);
    build_list(h, live);
    for i in 0..20_000 {
        let p = h.alloc(node_type());
        h.write_scalar(p, VAL, i);
    }
    for _ in 0..300 {
        h.alloc(padded_node_type(600));
    }
    for _ in 0..4 {
        h.alloc(padded_node_type(40_000));
    }
}

// ANCHOR: lazy_sweep_test
#[test]
fn the_lazy_sweep_frees_what_the_stop_the_world_sweep_frees_on_demand() {
    let mut lazy = Heap::new();
    lazy.sweep.lazy = true;
    let mut stw = Heap::new();
    for h in [&mut lazy, &mut stw] {
        live_and_garbage(h, 3000);
        h.gc_start();
        h.gc_mark_some(usize::MAX);
        h.gc_finish();
    }
    let freed = stw.stats.last_freed;
    assert_eq!(freed, 20_304);
    // Mark termination swept nothing: every span waits, the dead objects still count.
    assert!(!lazy.is_sweep_done());
    assert_eq!(lazy.stats.last_freed, 0);
    assert_eq!(lazy.live_objects(), 3000 + 20_304);
    // Allocation sweeps what it takes (cacheSpan), and never hands out an unswept span.
    for _ in 0..200 {
        let p = lazy.alloc(node_type());
        assert!(lazy.is_swept(p), "{p:?} came from an unswept span");
        assert_eq!(lazy.read_scalar(p, VAL), 0, "a swept slot is zeroed");
        stw.alloc(node_type());
    }
    assert!(lazy.sweep.by_cache_span > 0);
    assert!(!lazy.is_sweep_done(), "only what allocation needed");
    while lazy.sweepone().is_some() {}
    assert_eq!(
        lazy.stats.last_freed, freed,
        "the same objects, freed lazily"
    );
    assert_eq!(lazy.live_objects(), stw.live_objects());
    assert_eq!(
        lazy.heap_inuse(),
        stw.heap_inuse(),
        "the same spans went back"
    );
}
// ANCHOR_END: lazy_sweep_test

#[test]
fn on_the_machine_sweeping_is_paced_done_on_idle_ps_and_finished_before_marking() {
    let live = if cfg!(debug_assertions) {
        5_000
    } else {
        20_000
    };
    let mut h = paced_machine(2, live);
    let mut rng = Rng::new(3);
    let mut mutator = |h: &mut Heap, g: usize| {
        if g == 0 {
            let p = h.alloc(bytes_type(1024));
            assert!(h.is_swept(p), "an unswept span was handed out");
            let q = h.alloc(node_type());
            assert!(h.is_swept(q), "an unswept span was handed out");
        }
        true
    };
    let mut was = h.phase();
    while h.stats.numgc < 6 {
        h.tick(&mut rng, &mut mutator);
        let now = h.phase();
        if was == GcPhase::Off && now == GcPhase::Mark {
            assert!(h.is_sweep_done(), "sweep termination finished the sweep");
        }
        if was == GcPhase::Mark && now == GcPhase::Off {
            assert!(!h.is_sweep_done(), "mark termination only moved sweepgen");
        }
        was = now;
    }
    let sw = &h.sweep;
    println!(
        "swept by cacheSpan {}, by credit {}, by bgsweep {}, at sweep termination {}",
        sw.by_cache_span, sw.by_credit, sw.by_bgsweep, sw.by_finish
    );
    assert!(
        sw.by_credit > 0,
        "deductSweepCredit swept ahead of allocation"
    );
    assert!(sw.by_bgsweep > 0, "the idle P ran the background sweeper");
    assert_eq!(list_len(&h, Ptr(h.g_stack(0).frames[0].slots[0])), live);
}

// ---- random goroutines, random schedules, against a shadow model ----

/// Shadow object: left, right (shadow ids), val; noscan objects have only val.
#[derive(Clone, Debug, Default)]
struct Shadow {
    left: Option<usize>,
    right: Option<usize>,
    val: u64,
    scan: bool,
}

#[derive(Default)]
struct Model {
    objs: BTreeMap<usize, Shadow>,
    real: BTreeMap<usize, Ptr>,
    by_ptr: BTreeMap<Ptr, usize>,
    next: usize,
}

/// The shadow ids reachable from the given goroutines' stacks and global 0.
fn reachable(m: &Model, h: &Heap, gs: &[usize]) -> BTreeSet<usize> {
    let mut roots = vec![];
    for &g in gs {
        for f in &h.g_stack(g).frames {
            for (i, &s) in f.slots.iter().enumerate() {
                if f.ptrmask[i] && s != 0 {
                    roots.push(m.by_ptr[&Ptr(s)]);
                }
            }
        }
    }
    if !h.global(0).is_nil() {
        roots.push(m.by_ptr[&h.global(0)]);
    }
    let mut seen = BTreeSet::new();
    while let Some(id) = roots.pop() {
        if seen.insert(id) {
            let o = &m.objs[&id];
            roots.extend(o.left.iter().chain(o.right.iter()));
        }
    }
    seen
}

const KINDS: usize = 4;
fn kind(k: usize) -> &'static Type {
    [
        node_type(),
        padded_node_type(600),
        padded_node_type(33_000),
        bytes_type(24),
    ][k]
}

/// One random operation of goroutine `g` on objects it can reach (its own stack and the
/// global): what a Go program could do with the pointers it holds.
fn random_op(h: &mut Heap, m: &mut Model, rng: &mut Rng, g: usize, all: &[usize]) {
    let mine = reachable(m, h, &[g]);
    let mine: Vec<usize> = mine.into_iter().collect();
    let pick = |rng: &mut Rng| (!mine.is_empty()).then(|| mine[rng.below(mine.len())]);
    if h.stack.frames.is_empty() {
        h.push_frame(3, &[0, 1]);
    }
    match rng.below(23) {
        0..=5 => {
            let k = rng.below(KINDS);
            let live = reachable(m, h, all);
            let p = h.alloc(kind(k));
            let id = m.next;
            m.next += 1;
            m.objs.insert(
                id,
                Shadow {
                    scan: k != 3,
                    ..Default::default()
                },
            );
            if let Some(old) = m.by_ptr.insert(p, id) {
                assert!(!live.contains(&old), "reused a reachable object's memory");
                m.objs.remove(&old);
            }
            m.real.insert(id, p);
            h.set_local(0, p);
        }
        6..=10 => {
            if let (Some(a), Some(b)) = (pick(rng), pick(rng)) {
                if m.objs[&a].scan {
                    let left = rng.below(2) == 0;
                    h.write_ptr(m.real[&a], if left { LEFT } else { RIGHT }, m.real[&b]);
                    let o = m.objs.get_mut(&a).unwrap();
                    *if left { &mut o.left } else { &mut o.right } = Some(b);
                }
            }
        }
        11..=12 => {
            if let Some(a) = pick(rng) {
                if m.objs[&a].scan {
                    let left = rng.below(2) == 0;
                    h.write_ptr(m.real[&a], if left { LEFT } else { RIGHT }, Ptr::NIL);
                    let o = m.objs.get_mut(&a).unwrap();
                    *if left { &mut o.left } else { &mut o.right } = None;
                }
            }
        }
        13 => {
            if let Some(a) = pick(rng) {
                let v = rng.next_u64();
                let field = if m.objs[&a].scan { VAL } else { 0 };
                h.write_scalar(m.real[&a], field, v);
                m.objs.get_mut(&a).unwrap().val = v;
            }
        }
        14 => {
            if h.stack.frames.len() < 6 {
                let keep = h.local(0);
                h.push_frame(3, &[0, 1]);
                h.set_local(0, keep);
            }
        }
        15 => {
            if h.stack.frames.len() > 1 {
                h.pop_frame();
            }
        }
        16..=17 => {
            let v = pick(rng).map_or(Ptr::NIL, |a| m.real[&a]);
            h.set_local(1, v); // a stack write: no barrier
        }
        18 => {
            // Publish to, or take from, the global: how goroutines share objects.
            let v = pick(rng).map_or(Ptr::NIL, |a| m.real[&a]);
            h.set_global(0, v);
        }
        19..=21 => {
            // The lost-object race's mutator half: load a.left onto the stack (no barrier)
            // and delete it from the heap (the deletion barrier's record is all that is left
            // if the stack was scanned and a was not).
            if let Some(a) = pick(rng) {
                if let Some(x) = m.objs[&a].left {
                    h.set_local(1, m.real[&x]);
                    h.write_ptr(m.real[&a], LEFT, Ptr::NIL);
                    m.objs.get_mut(&a).unwrap().left = None;
                }
            }
        }
        _ => {
            if h.phase() == GcPhase::Off {
                h.gc_start(); // a cycle that runs concurrently with everyone
            }
        }
    }
}

fn run_machine(seed: u64, procs: usize, ngs: usize, ticks: usize) -> Result<(), TestCaseError> {
    let globals = Globals {
        words: vec![0],
        ptrmask: vec![true],
    };
    // GOGC=1: a 40 KiB heap minimum, so that allocation triggers cycles too.
    let mut h = Heap::with_globals(1, globals);
    h.start_machine(procs);
    h.sched.worker_budget = 1 + seed as usize % 3; // long marks: many interleavings
    let mut all = vec![0];
    for _ in 1..ngs {
        all.push(h.new_g());
    }
    let mut m = Model::default();
    let mut sched_rng = Rng::new(seed);
    let mut op_rng = Rng::new(seed ^ 0x5eed);
    let mut was = h.phase();
    for _ in 0..ticks {
        h.tick(&mut sched_rng, &mut |h, g| {
            random_op(h, &mut m, &mut op_rng, g, &all);
            true
        });
        if was == GcPhase::Off && h.phase() == GcPhase::Mark {
            prop_assert!(h.is_sweep_done(), "marking began before the sweep ended");
        }
        was = h.phase();
        check(&h, &m, &all)?;
    }
    if std::env::var("DBG").is_ok() {
        eprintln!(
            "procs {procs} gs {ngs} ticks {ticks}: numgc {} objs {} live {} {:?}",
            h.stats.numgc,
            m.next,
            h.live_objects(),
            h.sched.stats
        );
    }
    // COMPLETENESS: two whole cycles (each finishing its sweep) free everything
    // unreachable, floating garbage of a cycle in progress included.
    h.gc();
    h.gc();
    check(&h, &m, &all)?;
    prop_assert_eq!(h.live_objects(), reachable(&m, &h, &all).len());
    Ok(())
}

/// SAFETY: every object reachable from any goroutine or the global is intact.
fn check(h: &Heap, m: &Model, all: &[usize]) -> Result<(), TestCaseError> {
    {
        for id in reachable(m, h, all) {
            let (o, p) = (&m.objs[&id], m.real[&id]);
            prop_assert!(
                h.find_object(p.0).is_some(),
                "reachable object {} was freed",
                id
            );
            if o.scan {
                let l = h.read_ptr(p, LEFT);
                let r = h.read_ptr(p, RIGHT);
                prop_assert_eq!(l, o.left.map_or(Ptr::NIL, |x| m.real[&x]));
                prop_assert_eq!(r, o.right.map_or(Ptr::NIL, |x| m.real[&x]));
                prop_assert_eq!(h.read_scalar(p, VAL), o.val);
            } else {
                prop_assert_eq!(h.read_scalar(p, 0), o.val);
            }
        }
    }
    Ok(())
}

// ANCHOR: concurrent_proptest
proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(debug_assertions) { 64 } else { 256 },
        ..ProptestConfig::default()
    })]
    #[test]
    fn random_goroutines_on_random_schedules_lose_nothing_and_keep_no_garbage(
        seed in any::<u64>(),
        procs in 1..=4usize,
        ngs in 1..=4usize,
        ticks in 20..150usize,
    ) {
        run_machine(seed, procs, ngs, ticks)?;
    }
}
// ANCHOR_END: concurrent_proptest
