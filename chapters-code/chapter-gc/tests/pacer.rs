//! The pacer and the CPU limiter against numbers real go1.27.3 produced (rows read from
//! runtime/metrics by go/pacer, gctrace lines it printed) and against the invariants
//! runtime/mgcpacer.go states.

use chapter_gc::mgclimit::{GcCpuLimiterState, CAPACITY_PER_PROC};
use chapter_gc::mgcpacer::*;
use proptest::prelude::*;

const MIB: u64 = 1 << 20;

/// A controller as mark termination leaves it: `live` marked, the sweep just started.
fn after_cycle(gogc: i32, limit: i64, live: u64, stacks: u64, globals: u64) -> GcControllerState {
    let mut c = GcControllerState::new(gogc, limit);
    c.reset_live(live);
    c.last_stack_scan = stacks;
    c.globals_scan = globals;
    c.commit(false);
    c
}

/// Rows of `go run ./pacer rows` (go1.27.3, linux/amd64): gogc limit heapMarked stacks globals
/// mappedReady heapFree heapAlloc, and the goal /gc/heap/goal:bytes reported.
const GO_ROWS: &[(&str, [u64; 9])] = &[
    (
        "gcPercent, gogc=50",
        [
            50,
            i64::MAX as u64,
            10543816,
            3952,
            159242,
            19953928,
            16384,
            14434728,
            15897321,
        ],
    ),
    (
        "gcPercent, gogc=200",
        [
            200,
            i64::MAX as u64,
            37422168,
            3952,
            159242,
            57288984,
            32768,
            49623864,
            112592892,
        ],
    ),
    (
        "heapMinimum",
        [
            100,
            i64::MAX as u64,
            1190376,
            3896,
            159242,
            15509832,
            450560,
            1190088,
            4194304,
        ],
    ),
    (
        "sweep distance, gogc=5",
        [
            5,
            i64::MAX as u64,
            16927272,
            3896,
            159242,
            31000904,
            212992,
            16926984,
            17975848,
        ],
    ),
    (
        "memory limit, 1 MiB headroom",
        [
            u64::MAX,
            37226824,
            16928056,
            3832,
            159242,
            30935368,
            147456,
            16927768,
            22318104,
        ],
    ),
    (
        "memory limit, over it",
        [
            u64::MAX,
            743234984,
            220844976,
            3800,
            158954,
            767888824,
            16384,
            742556304,
            672467058,
        ],
    ),
    (
        "memory limit, 3% headroom",
        [
            u64::MAX,
            743234984,
            31986720,
            3800,
            158954,
            743230904,
            147652608,
            570270464,
            696389339,
        ],
    ),
    (
        "memory limit, clamped to heapMarked",
        [
            100, 40921416, 26461512, 3952, 159242, 40921416, 524288, 26489896, 26461512,
        ],
    ),
    (
        "memory limit below gogc=100",
        [
            100, 40921416, 19383624, 3824, 159242, 39659848, 6389760, 19395624, 25998376,
        ],
    ),
];

#[test]
fn heap_goal_matches_go() {
    for (what, r) in GO_ROWS {
        let mut c = after_cycle(r[0] as i64 as i32, r[1] as i64, r[2], r[3], r[4]);
        c.mapped_ready = r[5];
        c.heap_free = r[6];
        c.total_alloc = r[7];
        assert_eq!(c.heap_goal(), r[8], "{what}");
    }
}

#[test]
fn gogc_goal_counts_the_roots() {
    // 10 MiB marked, 1 MiB of stacks, 1 MiB of globals: GOGC=100 lets the heap grow by 12 MiB.
    let c = after_cycle(100, NO_MEMORY_LIMIT, 10 * MIB, MIB, MIB);
    assert_eq!(c.gc_percent_heap_goal, 22 * MIB);
    assert_eq!(c.heap_goal(), 22 * MIB);
    assert_eq!(
        gc_percent_heap_goal(10 * MIB, MIB, MIB, 50, 2 * MIB),
        16 * MIB
    );
    assert_eq!(
        gc_percent_heap_goal(0, 0, 0, 0, 0),
        0,
        "GOGC=0: collect all the time"
    );
    assert_eq!(
        gc_percent_heap_goal(10 * MIB, 0, 0, -1, 0),
        u64::MAX,
        "GOGC=off: no goal"
    );
    assert_eq!(
        gc_percent_heap_goal(MIB, 0, 0, 100, 4 * MIB),
        4 * MIB,
        "heapMinimum"
    );
}

#[test]
fn heap_minimum_scales_with_gogc() {
    for (gogc, min) in [(100, 4 * MIB), (50, 2 * MIB), (200, 8 * MIB), (0, 0)] {
        assert_eq!(
            GcControllerState::new(gogc, NO_MEMORY_LIMIT).heap_minimum,
            min
        );
    }
    // GOGC=off: 4 MiB × uint64(-1) wraps to 2^64 − 4 MiB before the division.
    let off = GcControllerState::new(-1, NO_MEMORY_LIMIT);
    assert_eq!(off.gc_percent, -1);
    assert_eq!(off.heap_minimum, (u64::MAX - 4 * MIB + 1) / 100);
    assert_eq!(GcControllerState::new(-7, NO_MEMORY_LIMIT).gc_percent, -1);
    assert_eq!(
        (
            read_gogc("off"),
            read_gogc("50"),
            read_gogc("x"),
            read_gogc("")
        ),
        (-1, 50, 100, 100)
    );
}

#[test]
fn memory_limit_goal_rules() {
    // 100 MiB limit, 10 MiB non-heap, not over: 90 MiB less 3%.
    let g = memory_limit_heap_goal(100 * MIB as i64, 50 * MIB, 5 * MIB, 35 * MIB, 0);
    assert_eq!(g, 90 * MIB - 90 * MIB / 100 * 3);
    // 20 MiB limit, 10 MiB free: 1 MiB headroom, since 3% would be less.
    assert_eq!(
        memory_limit_heap_goal(20 * MIB as i64, 10 * MIB, 10 * MIB, 0, 0),
        19 * MIB
    );
    // Non-heap memory alone over the limit: heapMarked.
    assert_eq!(
        memory_limit_heap_goal(10 * MIB as i64, 20 * MIB, 0, 0, 3 * MIB),
        3 * MIB
    );
    // Tiny room: the goal is the headroom itself, then no less than heapMarked.
    assert_eq!(
        memory_limit_heap_goal(12 * MIB as i64, 11 * MIB, 0, MIB / 2, 0),
        MIB
    );
    assert_eq!(
        memory_limit_heap_goal(12 * MIB as i64, 11 * MIB, 0, MIB / 2, 5 * MIB),
        5 * MIB
    );
    // No limit: never the smaller goal.
    let c = after_cycle(100, NO_MEMORY_LIMIT, 100 * MIB, 0, 0);
    assert!(c.memory_limit_heap_goal() > c.gc_percent_heap_goal);
}

#[test]
fn sweep_distance_and_min_runway_only_without_the_limit() {
    let mut c = after_cycle(5, NO_MEMORY_LIMIT, 16 * MIB, 0, 0);
    assert_eq!(c.heap_goal(), 17 * MIB, "heapMarked + sweepMinHeapDistance");
    c.commit(true);
    assert_eq!(
        c.heap_goal(),
        16 * MIB + 16 * MIB / 20,
        "sweep done: GOGC's goal"
    );
    c.triggered = c.heap_goal() - 1000;
    assert_eq!(
        c.heap_goal(),
        c.triggered + MIN_RUNWAY,
        "a late cycle gets 64 KiB"
    );
    // Under a memory limit neither pushes the goal out.
    let mut l = after_cycle(100, 30 * MIB as i64, 16 * MIB, 0, 0);
    l.mapped_ready = 20 * MIB;
    l.total_alloc = 20 * MIB;
    l.triggered = 28 * MIB;
    assert_eq!(l.heap_goal(), 29 * MIB);
}

#[test]
fn trigger_clamps() {
    // Small heap, no runway (cons/mark 0): trigger at 61/64 of the way.
    let c = after_cycle(100, NO_MEMORY_LIMIT, 2 * MIB, 0, 0);
    let (trigger, goal) = c.trigger();
    assert_eq!(goal, 4 * MIB);
    assert_eq!(trigger, 2 * MIB + (2 * MIB / 64) * 61);
    // Huge runway: no earlier than 45/64 of the way.
    let mut c2 = c.clone();
    c2.runway = 100 * MIB;
    assert_eq!(c2.trigger().0, 2 * MIB + (2 * MIB / 64) * 45);
    // Big heap: the latest trigger is 4 MiB before the goal, not 61/64 of the way.
    let big = after_cycle(100, NO_MEMORY_LIMIT, 1024 * MIB, 0, 0);
    assert_eq!(big.trigger(), (2044 * MIB, 2048 * MIB));
    let mut b2 = big.clone();
    b2.runway = 100 * MIB;
    assert_eq!(b2.trigger().0, 1948 * MIB, "runway in between the clamps");
    // The sweeper's minimum distance raises the lower bound.
    let mut s = after_cycle(100, NO_MEMORY_LIMIT, 2 * MIB, 0, 0);
    s.heap_live = 3 * MIB + MIB / 2;
    s.commit(false);
    s.runway = 100 * MIB;
    assert_eq!(s.trigger(), (4 * MIB + MIB / 2, 4 * MIB + MIB / 2));
    // Goal at heapMarked (memory limit): trigger at once.
    let mut m = after_cycle(-1, 10 * MIB as i64, 8 * MIB, 0, 0);
    m.mapped_ready = 20 * MIB;
    assert_eq!(m.trigger(), (8 * MIB, 8 * MIB));
}

proptest! {
    #[test]
    fn trigger_between_the_bounds(live in 0u64..1 << 40, stacks in 0u64..1 << 30,
                                  gogc in -1i32..1000, runway in 0u64..1 << 42, sweep_done: bool) {
        let mut c = after_cycle(gogc, NO_MEMORY_LIMIT, live, stacks, 0);
        c.commit(sweep_done);
        c.runway = runway;
        let (trigger, goal) = c.trigger();
        prop_assert!(trigger <= goal);
        prop_assert!(trigger >= live.min(goal));
        if goal > live && (sweep_done || c.sweep_dist_min_trigger <= live) {
            prop_assert!(trigger >= (goal - live) / 64 * 45 + live);
        }
    }
}

#[test]
fn worker_split() {
    let want = [
        (1, 0, 0.25),
        (2, 0, 0.25),
        (3, 0, 0.25),
        (4, 1, 0.0),
        (5, 1, 0.0),
        (6, 1, 0.5 / 6.0),
        (7, 2, 0.0),
        (8, 2, 0.0),
        (16, 4, 0.0),
    ];
    for (procs, dedicated, fractional) in want {
        let (d, f) = mark_worker_split(procs);
        assert_eq!(d, dedicated, "GOMAXPROCS={procs}");
        assert!((f - fractional).abs() < 1e-12, "GOMAXPROCS={procs}: {f}");
        // With fractional workers the total is exactly 25% of the Ps; without, rounding
        // is within 30% of it (GOMAXPROCS=5 gets 20%, 7 gets 28.6%).
        let quarter = procs as f64 / 4.0;
        if f > 0.0 {
            assert!((d as f64 + f * procs as f64 - quarter).abs() < 1e-12);
        } else {
            assert!((d as f64 / quarter - 1.0).abs() <= MAX_UTIL_ERROR);
        }
    }
}

#[test]
fn assist_ratio() {
    let mut c = after_cycle(100, NO_MEMORY_LIMIT, 10 * MIB, 0, 0);
    c.commit(true);
    c.last_heap_scan = 4 * MIB;
    c.heap_scan = 8 * MIB;
    c.heap_live = 15 * MIB;
    c.start_cycle(0, 4);
    assert_eq!(
        (c.dedicated_mark_workers_needed, c.triggered),
        (1, 15 * MIB)
    );
    // 4 MiB of scan work over the 5 MiB left before the 20 MiB goal.
    assert_eq!(c.assist_work_per_byte, 0.8);
    assert_eq!(c.assist_bytes_per_work, 1.25);
    // More work done than expected: the goal stretches to cover all 8 MiB scannable.
    c.heap_scan_work = 5 * MIB as i64;
    c.heap_live = 16 * MIB;
    c.revise();
    let ext = 25 * MIB; // 15 + (20-15) × 8/4
    assert_eq!(
        c.assist_work_per_byte,
        (3 * MIB) as f64 / (ext - 16 * MIB) as f64
    );
    // ...but never past (1 + GOGC/100) × goal; and past it, aim 10% beyond.
    c.heap_scan = 40 * MIB;
    c.heap_live = 42 * MIB;
    c.revise();
    let hard = 40 * MIB;
    let over = (hard as f64 * 1.1) as u64;
    assert_eq!(
        c.assist_work_per_byte,
        (35 * MIB) as f64 / (over - 42 * MIB) as f64
    );
    // Far past everything: heapRemaining is 1 byte, work at least 1000.
    c.heap_live = 100 * MIB;
    c.heap_scan_work = 100 * MIB as i64;
    c.revise();
    assert_eq!(c.assist_work_per_byte, 1000.0);
}

#[test]
fn cons_mark_keeps_the_max_of_five() {
    let mut c = after_cycle(100, NO_MEMORY_LIMIT, 10 * MIB, 0, 0);
    c.heap_live = 15 * MIB;
    c.start_cycle(0, 4);
    c.heap_live = 16 * MIB;
    c.heap_scan_work = 3 * MIB as i64;
    c.end_cycle(1_000_000, 4);
    // No assists: utilization 25%: (1 MiB × 0.25) / (3 MiB × 0.75).
    assert!((c.cons_mark - 1.0 / 9.0).abs() < 1e-12);
    c.reset_live(10 * MIB);
    c.commit(false);
    assert_eq!(c.runway, ((1.0 / 9.0) * 3.0 * (3 * MIB) as f64) as u64);
    // A cheaper cycle afterwards does not lower it.
    c.heap_live = 11 * MIB;
    c.start_cycle(2_000_000, 4);
    c.heap_live = 11 * MIB + 1024;
    c.heap_scan_work = 3 * MIB as i64;
    c.end_cycle(3_000_000, 4);
    assert!((c.cons_mark - 1.0 / 9.0).abs() < 1e-12);
}

#[test]
fn gctrace_lines_from_go() {
    // GODEBUG=gctrace=1 go run ./pacer, go1.27.3.
    let t = GcTrace {
        numgc: 17,
        since_start_ns: 121_456_789,
        gc_cpu_fraction: 0.0123,
        t_sweep_term: 0,
        t_mark: 3_550_000,
        t_mark_term: 16_550_000,
        t_end: 16_593_000,
        stwprocs: 2,
        assist_time: 0,
        background_mark_time: 220_000,
        idle_mark_time: 29_000,
        heap0: 57 * MIB + 12345,
        heap1: 307 * MIB,
        heap2: 258 * MIB + 1,
        heap_goal: 67 * MIB + 999,
        stacks: 3800,
        globals: 158954,
        maxprocs: 4,
        ..Default::default()
    };
    assert_eq!(
        t.line(),
        "gc 17 @0.121s 1%: 3.5+13+0.043 ms clock, 7.1+0/0.22/0.029+0.086 ms cpu, \
         57->307->258 MB, 67 MB goal, 0 MB stacks, 0 MB globals, 4 P"
    );
    let forced = GcTrace {
        numgc: 1,
        since_start_ns: 900_000,
        gc_cpu_fraction: 0.035,
        t_sweep_term: 1_000,
        t_mark: 30_500,
        t_mark_term: 250_500,
        t_end: 255_000,
        stwprocs: 2,
        idle_mark_time: 140_000,
        heap_goal: 4 * MIB,
        maxprocs: 4,
        forced: true,
        ..Default::default()
    };
    assert_eq!(
        forced.line(),
        "gc 1 @0.000s 3%: 0.029+0.22+0.004 ms clock, 0.059+0/0/0.14+0.009 ms cpu, \
         0->0->0 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 4 P (forced)"
    );
    let leak = GcTrace {
        checking_for_goroutine_leaks: true,
        maxprocs: 1,
        ..Default::default()
    };
    assert!(leak
        .line()
        .starts_with("gc 0 @0.000s 0% (checking for goroutine leaks): 0+0+0 ms clock"));
}

#[test]
fn ms_formatting() {
    for (ns, s) in [
        (0, "0"),
        (999, "0"),
        (7_000, "0.007"),
        (43_000, "0.043"),
        (250_000, "0.25"),
        (3_559_000, "3.5"),
        (9_999_999, "9.9"),
        (10_000_000, "10"),
        (1_234_567_890, "1234"),
    ] {
        assert_eq!(fmt_ns_as_ms(ns), s, "{ns} ns");
    }
    assert_eq!(itoa_div(5, 3), "0.005");
    assert_eq!(itoa_div(12345, 3), "12.345");
    assert_eq!(itoa_div(7, 0), "07"); // go1.27.3's itoaDiv(buf, 7, 0) (gc-trace helper)
    assert_eq!(itoa_div(15, 0), "15");
}

/// A collector that wants `demand` of all CPU (assists make up the part above the 25% of
/// the background workers whenever the limiter allows them), updated every 10 ms as sysmon
/// and the scheduler do, for 100 s on 4 Ps. Returns the GC's share of the CPU after the
/// first 2 s, the share the bucket admitted (without what overflowed it), and the window in
/// which the limiter first turned on.
fn limited(demand: f64) -> (f64, f64, Option<i32>) {
    let procs = 4;
    let window = 10_000_000i64; // gcCPULimiterUpdatePeriod
    let mut l = GcCpuLimiterState::new(0, procs);
    l.start_gc_transition(true, 0);
    l.finish_gc_transition(0);
    let (mut gc, mut total, mut now) = (0i64, 0i64, 0i64);
    let (mut first_on, mut overflow_before) = (None, 0);
    for i in 0..10_000 {
        if i == 200 {
            overflow_before = l.overflow as i64;
        }
        let cpu = window * procs as i64;
        let assists = if l.limiting() {
            0
        } else {
            (cpu as f64 * (demand - 0.25)) as i64
        };
        l.add_assist_time(assists);
        now += window;
        l.update(now);
        assert!(l.fill <= l.capacity);
        if l.limiting() && first_on.is_none() {
            first_on = Some(i);
        }
        if i >= 200 {
            gc += assists + cpu / 4;
            total += cpu;
        }
    }
    let admitted = gc - (l.overflow as i64 - overflow_before);
    (
        gc as f64 / total as f64,
        admitted as f64 / total as f64,
        first_on,
    )
}

#[test]
fn limiter_caps_gc_cpu_near_half() {
    // A collector that wants 60%: capped at 50%.
    let (share, admitted, first_on) = limited(0.6);
    assert!((share - 0.5).abs() < 0.02, "GC share {share}"); // 51.25%: one limited window, three refilling
    assert!((admitted - 0.5).abs() < 0.01, "admitted {admitted}");
    // The 4 CPU-seconds bucket fills at 0.2 × 4 CPUs: in 5 s, 500 windows.
    assert_eq!(first_on, Some(499));
    // One that wants everything. The bucket (4 CPU-seconds) fills in 1 s, 100 windows.
    // Then it admits GC time only as the mutator drains it, so the admitted GC time equals
    // the mutator's; but with a 10 ms update period the limiter switches only between
    // windows, 100% GC and 25% alternate, and the GC gets 62.5% — the 12.5% beyond the
    // mutator's share is what `overflow` records.
    let (share, admitted, first_on) = limited(1.0);
    assert_eq!(first_on, Some(99));
    assert!(
        (admitted - (1.0 - share)).abs() < 0.01,
        "admitted {admitted}, GC {share}"
    );
    assert!((share - 0.625).abs() < 0.01, "GC share {share}");
}

#[test]
fn limiter_bucket_never_negative_and_turns_off() {
    let mut l = GcCpuLimiterState::new(0, 1);
    l.accumulate(5 * CAPACITY_PER_PROC as i64, 0); // a long idle mutator stretch: no credit
    assert_eq!(l.fill, 0);
    l.accumulate(0, 400);
    assert_eq!(
        l.fill, 400,
        "fill -= uint64(-change) adds for a positive change"
    );
    l.accumulate(0, CAPACITY_PER_PROC as i64);
    assert!(l.limiting());
    assert_eq!((l.fill, l.overflow), (CAPACITY_PER_PROC, 400));
    l.accumulate(1, 0);
    assert!(!l.limiting(), "any drain turns it off");
    // Fewer Ps: the capacity shrinks and a too-full bucket limits at once.
    let mut big = GcCpuLimiterState::new(0, 4);
    big.accumulate(0, 2 * CAPACITY_PER_PROC as i64);
    big.reset_capacity(0, 1);
    assert!(big.limiting());
    assert_eq!(big.fill, CAPACITY_PER_PROC);
    // Idle time counts for nobody; a STW transition is all GC time on every P.
    let mut t = GcCpuLimiterState::new(0, 2);
    t.add_idle_time(2 * 1000);
    t.update(1000);
    assert_eq!(t.fill, 0);
    t.start_gc_transition(true, 1000);
    t.finish_gc_transition(1500);
    assert_eq!(t.fill, 1000);
    assert!(!t.need_update(1500 + 10_000_000) && t.need_update(1501 + 10_000_000));
}
