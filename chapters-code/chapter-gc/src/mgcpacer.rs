//! Go: runtime/mgcpacer.go — the GC pacer, `gcControllerState`: when the next cycle must end
//! (the heap goal), when it must start so that it ends there (the trigger), how many Ps mark
//! in the background, and how much marking each allocating goroutine owes meanwhile.
//!
//! Go keeps one `gcController` full of atomics that the allocator, the mark workers and the
//! scheduler update concurrently. Here the state is a plain struct and every rule is a method
//! (or a pure function) with Go's name, so that a test can set the inputs and read the answer.
//! The arithmetic is Go's to the bit: `u64` where Go uses `uint64` (wrapping where Go's
//! wraps), `f64` where Go converts.
//!
//! The gctrace line that runtime/mgc.go prints at the end of every cycle
//! ([`GcTrace::line`]) lives here too: its numbers are the pacer's.

/// Go: gcBackgroundUtilization — the share of GOMAXPROCS the background mark workers get.
pub const GC_BACKGROUND_UTILIZATION: f64 = 0.25;
/// Go: gcGoalUtilization — the pacer aims the whole GC at the background share: it wants
/// no assists at all.
pub const GC_GOAL_UTILIZATION: f64 = GC_BACKGROUND_UTILIZATION;
/// Go: defaultHeapMinimum — heapMinimum at GOGC=100 (4 MiB; 512 KiB under
/// GOEXPERIMENT=heapminimum512kib, which go1.27.3 leaves off).
pub const DEFAULT_HEAP_MINIMUM: u64 = 4 << 20;
/// Go: memoryLimitMinHeapGoalHeadroom — the memory-limit goal leaves at least this much.
pub const MEMORY_LIMIT_MIN_HEAP_GOAL_HEADROOM: u64 = 1 << 20;
/// Go: memoryLimitHeapGoalHeadroomPercent — …or 3% of itself, if that is more.
pub const MEMORY_LIMIT_HEAP_GOAL_HEADROOM_PERCENT: u64 = 3;
/// Go: triggerRatioDen, minTriggerRatioNum, maxTriggerRatioNum (runtime/mgcpacer.go): the
/// trigger lies between 45/64 (~0.7) and 61/64 (~0.95) of the way from heapMarked to the goal.
pub const TRIGGER_RATIO_DEN: u64 = 64;
pub const MIN_TRIGGER_RATIO_NUM: u64 = 45;
pub const MAX_TRIGGER_RATIO_NUM: u64 = 61;
/// Go: sweepMinHeapDistance (runtime/mgc.go) — room the sweeper gets before the next trigger.
pub const SWEEP_MIN_HEAP_DISTANCE: u64 = 1 << 20;
/// Go: the `minRunway` constant of heapGoalInternal — a cycle that started late still gets
/// this much heap to finish in, so that the assist ratio stays finite.
pub const MIN_RUNWAY: u64 = 64 << 10;
/// Go: the `maxUtilError` constant of startCycle.
pub const MAX_UTIL_ERROR: f64 = 0.3;
/// Go: the `maxOvershoot` constant of revise — past the goal, aim 10% beyond it.
pub const MAX_OVERSHOOT: f64 = 1.1;
/// Go: math.MaxInt64, the memory limit when GOMEMLIMIT is unset or "off".
pub const NO_MEMORY_LIMIT: i64 = i64::MAX;

/// Go: gcControllerState. Only the fields the pacing rules read or write; Go's atomics are
/// plain fields here.
#[derive(Clone, Debug, PartialEq)]
pub struct GcControllerState {
    /// Go: gcPercent — GOGC; -1 is "off".
    pub gc_percent: i32,
    /// Go: memoryLimit — GOMEMLIMIT in bytes; [`NO_MEMORY_LIMIT`] when there is none.
    pub memory_limit: i64,
    /// Go: heapMinimum — 4 MiB × GOGC/100: no goal below it, so that tiny heaps do not
    /// collect all the time.
    pub heap_minimum: u64,
    /// Go: runway — heap bytes the mutator will allocate while a cycle marks (from consMark).
    pub runway: u64,
    /// Go: consMark — allocation rate over scan rate, per CPU-ns, max of the last 5 cycles.
    pub cons_mark: f64,
    /// Go: lastConsMark.
    pub last_cons_mark: [f64; 4],
    /// Go: gcPercentHeapGoal — the goal from GOGC alone (u64::MAX when GOGC is off).
    pub gc_percent_heap_goal: u64,
    /// Go: sweepDistMinTrigger.
    pub sweep_dist_min_trigger: u64,
    /// Go: triggered — heapLive when this cycle started; u64::MAX outside the mark phase.
    pub triggered: u64,
    /// Go: lastHeapGoal — the goal when the last cycle ended (what gctrace prints).
    pub last_heap_goal: u64,
    /// Go: heapLive — heapMarked plus what was allocated since (counted in whole spans).
    pub heap_live: u64,
    /// Go: heapScan — the scannable part of heapLive, fixed when a cycle starts.
    pub heap_scan: u64,
    /// Go: lastHeapScan, lastStackScan — what the last cycle scanned of heap and stacks.
    pub last_heap_scan: u64,
    pub last_stack_scan: u64,
    /// Go: maxStackScan — stack space allocated (a bound on what could be scanned).
    pub max_stack_scan: u64,
    /// Go: globalsScan — scannable bytes of data and bss.
    pub globals_scan: u64,
    /// Go: heapMarked — bytes the last cycle marked: the live heap.
    pub heap_marked: u64,
    /// Go: heapScanWork, stackScanWork, globalsScanWork — scan work done in this cycle.
    pub heap_scan_work: i64,
    pub stack_scan_work: i64,
    pub globals_scan_work: i64,
    /// Go: assistTime, idleMarkTime — ns of assists and of idle marking in this cycle.
    pub assist_time: i64,
    pub idle_mark_time: i64,
    /// Go: markStartTime.
    pub mark_start_time: i64,
    /// Go: dedicatedMarkWorkersNeeded, fractionalUtilizationGoal (set by startCycle).
    pub dedicated_mark_workers_needed: i64,
    pub fractional_utilization_goal: f64,
    /// Go: assistWorkPerByte, assistBytesPerWork (set by revise).
    pub assist_work_per_byte: f64,
    pub assist_bytes_per_work: f64,
    /// Go: heapFree, totalAlloc, totalFree, mappedReady — what the memory-limit goal reads.
    pub heap_free: u64,
    pub total_alloc: u64,
    pub total_free: u64,
    pub mapped_ready: u64,
}

impl GcControllerState {
    /// Go: gcControllerState.init — GOGC and GOMEMLIMIT as the program starts, and a first
    /// commit (there is nothing to sweep before the first cycle).
    pub fn new(gc_percent: i32, memory_limit: i64) -> GcControllerState {
        let mut c = GcControllerState {
            gc_percent: 0,
            memory_limit: NO_MEMORY_LIMIT,
            heap_minimum: DEFAULT_HEAP_MINIMUM,
            runway: 0,
            cons_mark: 0.0,
            last_cons_mark: [0.0; 4],
            gc_percent_heap_goal: 0,
            sweep_dist_min_trigger: 0,
            triggered: u64::MAX,
            last_heap_goal: 0,
            heap_live: 0,
            heap_scan: 0,
            last_heap_scan: 0,
            last_stack_scan: 0,
            max_stack_scan: 0,
            globals_scan: 0,
            heap_marked: 0,
            heap_scan_work: 0,
            stack_scan_work: 0,
            globals_scan_work: 0,
            assist_time: 0,
            idle_mark_time: 0,
            mark_start_time: 0,
            dedicated_mark_workers_needed: 0,
            fractional_utilization_goal: 0.0,
            assist_work_per_byte: 0.0,
            assist_bytes_per_work: 0.0,
            heap_free: 0,
            total_alloc: 0,
            total_free: 0,
            mapped_ready: 0,
        };
        c.set_gc_percent(gc_percent);
        c.set_memory_limit(memory_limit);
        c.commit(true);
        c
    }

    /// Go: gcControllerState.setGCPercent — any negative GOGC is -1, "off". heapMinimum
    /// scales with GOGC, in uint64: for -1 the product wraps (see the tests). Call
    /// [`commit`](Self::commit) after. Returns the old GOGC.
    pub fn set_gc_percent(&mut self, gc_percent: i32) -> i32 {
        let out = self.gc_percent;
        let gc_percent = gc_percent.max(-1);
        self.heap_minimum = DEFAULT_HEAP_MINIMUM.wrapping_mul(gc_percent as i64 as u64) / 100;
        self.gc_percent = gc_percent;
        out
    }

    /// Go: gcControllerState.setMemoryLimit — a negative limit only asks for the current one.
    pub fn set_memory_limit(&mut self, memory_limit: i64) -> i64 {
        let out = self.memory_limit;
        if memory_limit >= 0 {
            self.memory_limit = memory_limit;
        }
        out
    }

    /// Go: gcControllerState.commit — recompute what the goal and the trigger derive from:
    /// the GOGC goal, the sweeper's minimum distance, and the runway. Mark termination calls
    /// it (through gcControllerCommit) with the sweep just started, so `is_sweep_done` is
    /// false there, as are SetGCPercent and SetMemoryLimit while a sweep is in progress.
    pub fn commit(&mut self, is_sweep_done: bool) {
        self.sweep_dist_min_trigger = if is_sweep_done {
            0
        } else {
            self.heap_live.wrapping_add(SWEEP_MIN_HEAP_DISTANCE)
        };
        self.gc_percent_heap_goal = gc_percent_heap_goal(
            self.heap_marked,
            self.last_stack_scan,
            self.globals_scan,
            self.gc_percent,
            self.heap_minimum,
        );
        let scan = self.last_heap_scan + self.last_stack_scan + self.globals_scan;
        self.runway = ((self.cons_mark * (1.0 - GC_GOAL_UTILIZATION) / GC_GOAL_UTILIZATION)
            * scan as f64) as u64;
    }

    /// Go: gcControllerState.heapGoal — the goal right now (it moves with the memory limit's
    /// inputs even between commits).
    pub fn heap_goal(&self) -> u64 {
        self.heap_goal_internal().0
    }

    // ANCHOR: effective_goal
    /// Go: gcControllerState.heapGoalInternal — the smaller of the GOGC goal and the
    /// memory-limit goal. Only when GOGC's goal wins is it pushed up (to the sweeper's
    /// distance, and to 64 KiB past where a late cycle triggered): under the memory limit the
    /// goal must not move out. Returns (goal, minTrigger).
    pub fn heap_goal_internal(&self) -> (u64, u64) {
        let mut goal = self.gc_percent_heap_goal;
        let mut min_trigger = 0;
        let limit_goal = self.memory_limit_heap_goal();
        if limit_goal < goal {
            goal = limit_goal;
        } else {
            goal = goal.max(self.sweep_dist_min_trigger);
            min_trigger = self.sweep_dist_min_trigger;
            if self.triggered != u64::MAX && goal < self.triggered.wrapping_add(MIN_RUNWAY) {
                goal = self.triggered.wrapping_add(MIN_RUNWAY);
            }
        }
        (goal, min_trigger)
    }
    // ANCHOR_END: effective_goal

    /// Go: gcControllerState.memoryLimitHeapGoal — see [`memory_limit_heap_goal`].
    pub fn memory_limit_heap_goal(&self) -> u64 {
        memory_limit_heap_goal(
            self.memory_limit,
            self.mapped_ready,
            self.heap_free,
            self.total_alloc.wrapping_sub(self.total_free),
            self.heap_marked,
        )
    }

    // ANCHOR: trigger_clamp
    /// Go: gcControllerState.trigger — where the next cycle starts: `runway` before the
    /// goal, but no earlier than 45/64 of the way from heapMarked to the goal (nor before the
    /// sweeper's minimum) and no later than 61/64 of the way — or, for a big heap, than
    /// 4 MiB (defaultHeapMinimum) before the goal, whichever is later. Returns (trigger, goal).
    pub fn trigger(&self) -> (u64, u64) {
        let (goal, mut min_trigger) = self.heap_goal_internal();
        if self.heap_marked >= goal {
            return (goal, goal); // a cycle that runs all the time, at heapMarked
        }
        let span = goal - self.heap_marked;
        min_trigger = min_trigger.max(self.heap_marked);
        let lower = (span / TRIGGER_RATIO_DEN) * MIN_TRIGGER_RATIO_NUM + self.heap_marked;
        min_trigger = min_trigger.max(lower);
        let mut max_trigger = (span / TRIGGER_RATIO_DEN) * MAX_TRIGGER_RATIO_NUM + self.heap_marked;
        if goal > DEFAULT_HEAP_MINIMUM && goal - DEFAULT_HEAP_MINIMUM > max_trigger {
            max_trigger = goal - DEFAULT_HEAP_MINIMUM;
        }
        max_trigger = max_trigger.max(min_trigger);
        let trigger = if self.runway > goal {
            min_trigger
        } else {
            goal - self.runway
        };
        let trigger = trigger.max(min_trigger).min(max_trigger);
        assert!(
            trigger <= goal,
            "produced a trigger greater than the heap goal"
        );
        (trigger, goal)
    }
    // ANCHOR_END: trigger_clamp

    /// Go: gcControllerState.startCycle — a cycle begins (the world is stopped): reset the
    /// per-cycle counters, remember where it triggered, split the 25% between dedicated and
    /// fractional workers, and compute the first assist ratio.
    pub fn start_cycle(&mut self, mark_start_time: i64, procs: i32) {
        self.heap_scan_work = 0;
        self.stack_scan_work = 0;
        self.globals_scan_work = 0;
        self.assist_time = 0;
        self.idle_mark_time = 0;
        self.mark_start_time = mark_start_time;
        self.triggered = self.heap_live;
        let (dedicated, fractional) = mark_worker_split(procs);
        self.dedicated_mark_workers_needed = dedicated;
        self.fractional_utilization_goal = fractional;
        self.revise();
    }

    /// Go: gcControllerState.revise — the assist ratio: scan work still expected over heap
    /// bytes left before the goal. If the cycle has already done more work than the last
    /// cycle's total, the heap is growing: assume everything scannable is live and stretch
    /// the goal in proportion, but no further than (1 + GOGC/100) × goal. Once heapLive is
    /// past even that, aim 10% beyond it.
    pub fn revise(&mut self) {
        let gc_percent = if self.gc_percent < 0 {
            100_000 // a forced cycle with GOGC off: act as if GOGC were huge
        } else {
            self.gc_percent
        };
        let live = self.heap_live;
        let work = self.heap_scan_work + self.stack_scan_work + self.globals_scan_work;
        let mut heap_goal = self.heap_goal() as i64;
        let mut scan_work_expected =
            (self.last_heap_scan + self.last_stack_scan + self.globals_scan) as i64;
        let max_scan_work = (self.heap_scan + self.max_stack_scan + self.globals_scan) as i64;
        if work > scan_work_expected {
            let triggered = self.triggered as i64;
            let mut ext_heap_goal = ((heap_goal - triggered) as f64 / scan_work_expected as f64
                * max_scan_work as f64) as i64
                + triggered;
            scan_work_expected = max_scan_work;
            let hard_goal = ((1.0 + gc_percent as f64 / 100.0) * heap_goal as f64) as i64;
            if ext_heap_goal > hard_goal {
                ext_heap_goal = hard_goal;
            }
            heap_goal = ext_heap_goal;
        }
        if live as i64 > heap_goal {
            heap_goal = (heap_goal as f64 * MAX_OVERSHOOT) as i64;
            scan_work_expected = max_scan_work;
        }
        let scan_work_remaining = (scan_work_expected - work).max(1000);
        let mut heap_remaining = heap_goal - live as i64;
        if heap_remaining <= 0 {
            heap_remaining = 1;
        }
        self.assist_work_per_byte = scan_work_remaining as f64 / heap_remaining as f64;
        self.assist_bytes_per_work = heap_remaining as f64 / scan_work_remaining as f64;
    }

    /// Go: gcControllerState.endCycle — measure this cycle's cons/mark (bytes allocated
    /// since the trigger per unit of scan work, each over the CPU share it had) and keep the
    /// maximum of it and the four before, erring towards starting early over assisting.
    pub fn end_cycle(&mut self, now: i64, procs: i32) {
        self.last_heap_goal = self.heap_goal();
        let assist_duration = now - self.mark_start_time;
        let mut utilization = GC_BACKGROUND_UTILIZATION;
        let mut idle_utilization = 0.0;
        if assist_duration > 0 {
            let cpu = (assist_duration * procs as i64) as f64;
            utilization += self.assist_time as f64 / cpu;
            idle_utilization = self.idle_mark_time as f64 / cpu;
        }
        if self.heap_live <= self.triggered {
            return; // a cycle too short to say anything
        }
        let scan_work = self.heap_scan_work + self.stack_scan_work + self.globals_scan_work;
        let current = ((self.heap_live - self.triggered) as f64 * (utilization + idle_utilization))
            / (scan_work as f64 * (1.0 - utilization));
        self.cons_mark = self.last_cons_mark.iter().fold(current, |m, &x| m.max(x));
        self.last_cons_mark.rotate_left(1);
        self.last_cons_mark[3] = current;
    }

    /// Go: gcControllerState.resetLive — mark termination: what was marked is the new live
    /// heap, and what was scanned is next cycle's expected work.
    pub fn reset_live(&mut self, bytes_marked: u64) {
        self.heap_marked = bytes_marked;
        self.heap_live = bytes_marked;
        self.heap_scan = self.heap_scan_work as u64;
        self.last_heap_scan = self.heap_scan_work as u64;
        self.last_stack_scan = self.stack_scan_work as u64;
        self.triggered = u64::MAX;
    }
}

// ANCHOR: heap_goal
/// Go: the gcPercentHeapGoal of gcControllerState.commit — the heap may grow by GOGC% of
/// everything the cycle had to scan: the marked heap, the stacks and the globals (since
/// Go 1.18 the roots count too), but never to less than heapMinimum. GOGC off: no goal
/// (u64::MAX).
pub fn gc_percent_heap_goal(
    heap_marked: u64,
    last_stack_scan: u64,
    globals_scan: u64,
    gc_percent: i32,
    heap_minimum: u64,
) -> u64 {
    // ANCHOR: solution-heap_goal
    let mut goal = u64::MAX;
    if gc_percent >= 0 {
        let scan = heap_marked
            .wrapping_add(last_stack_scan)
            .wrapping_add(globals_scan);
        goal = heap_marked.wrapping_add(scan.wrapping_mul(gc_percent as u64) / 100);
    }
    goal.max(heap_minimum)
    // ANCHOR_END: solution-heap_goal
}
// ANCHOR_END: heap_goal

/// Go: gcControllerState.memoryLimitHeapGoal — the heap may have what the limit leaves
/// once everything else is paid for: `limit − (nonHeap + overage)`, where nonHeap is the
/// mapped, not released memory that holds neither heap objects nor free heap pages
/// (`mappedReady − heapFree − heapAlloc`), and overage is how far mappedReady already is
/// over the limit. Minus 3% of that, at least 1 MiB, for pacing error; never below
/// heapMarked. `heap_alloc` is Go's totalAlloc − totalFree.
pub fn memory_limit_heap_goal(
    memory_limit: i64,
    mapped_ready: u64,
    heap_free: u64,
    heap_alloc: u64,
    heap_marked: u64,
) -> u64 {
    let memory_limit = memory_limit as u64;
    let non_heap_memory = mapped_ready
        .wrapping_sub(heap_free)
        .wrapping_sub(heap_alloc);
    let overage = mapped_ready.saturating_sub(memory_limit);
    if non_heap_memory.wrapping_add(overage) >= memory_limit {
        return heap_marked; // the rest alone is over the limit: collect all the time
    }
    let goal = memory_limit - (non_heap_memory + overage);
    let headroom = (goal / 100 * MEMORY_LIMIT_HEAP_GOAL_HEADROOM_PERCENT)
        .max(MEMORY_LIMIT_MIN_HEAP_GOAL_HEADROOM);
    let goal = if goal < headroom || goal - headroom < headroom {
        headroom
    } else {
        goal - headroom
    };
    goal.max(heap_marked)
}

// ANCHOR: worker_split
/// Go: the worker split of gcControllerState.startCycle — 25% of GOMAXPROCS, rounded to
/// whole dedicated workers. When rounding misses 25% by more than 30% of itself (GOMAXPROCS
/// 1, 2, 3 and 6), round down instead and let every P run a fractional worker for the rest.
/// Returns (dedicatedMarkWorkersNeeded, fractionalUtilizationGoal).
pub fn mark_worker_split(procs: i32) -> (i64, f64) {
    let total_utilization_goal = procs as f64 * GC_BACKGROUND_UTILIZATION;
    let mut dedicated = (total_utilization_goal + 0.5) as i64;
    let util_error = dedicated as f64 / total_utilization_goal - 1.0;
    if !(-MAX_UTIL_ERROR..=MAX_UTIL_ERROR).contains(&util_error) {
        if dedicated as f64 > total_utilization_goal {
            dedicated -= 1;
        }
        let fractional = (total_utilization_goal - dedicated as f64) / procs as f64;
        (dedicated, fractional)
    } else {
        (dedicated, 0.0)
    }
}
// ANCHOR_END: worker_split

/// Go: readGOGC — "off" is -1; anything that does not parse as an int32 is 100.
pub fn read_gogc(p: &str) -> i32 {
    if p == "off" {
        return -1;
    }
    p.parse().unwrap_or(100)
}

/// The numbers of one `GODEBUG=gctrace=1` line (runtime/mgc.go:gcMarkTermination): times in
/// ns, sizes in bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GcTrace {
    /// Go: memstats.numgc.
    pub numgc: u32,
    /// Go: work.tSweepTerm − runtimeInitTime.
    pub since_start_ns: u64,
    /// Go: memstats.gc_cpu_fraction (printed as a whole percent, truncated).
    pub gc_cpu_fraction: f64,
    /// Go: work.goroutineLeak.done — this cycle also looked for leaked goroutines.
    pub checking_for_goroutine_leaks: bool,
    /// Go: work.tSweepTerm, tMark, tMarkTerm, tEnd.
    pub t_sweep_term: i64,
    pub t_mark: i64,
    pub t_mark_term: i64,
    pub t_end: i64,
    /// Go: work.stwprocs — Ps charged for each stop-the-world phase.
    pub stwprocs: i64,
    /// Go: assistTime, dedicatedMarkTime + fractionalMarkTime, idleMarkTime.
    pub assist_time: i64,
    pub background_mark_time: i64,
    pub idle_mark_time: i64,
    /// Go: work.heap0, heap1, heap2 — heapLive at the start and end of marking, and marked.
    pub heap0: u64,
    pub heap1: u64,
    pub heap2: u64,
    /// Go: lastHeapGoal, lastStackScan, globalsScan.
    pub heap_goal: u64,
    pub stacks: u64,
    pub globals: u64,
    /// Go: work.maxprocs.
    pub maxprocs: i32,
    /// Go: work.userForced — runtime.GC or debug.FreeOSMemory started it.
    pub forced: bool,
}

impl GcTrace {
    /// The line as runtime/mgc.go:gcMarkTermination prints it (without the newline): wall
    /// clock of sweep termination, mark and mark termination, then CPU of sweep termination,
    /// assists, background and idle marking, and mark termination; sizes in MB (>> 20,
    /// truncated).
    pub fn line(&self) -> String {
        let util = (self.gc_cpu_fraction * 100.0) as i64;
        let mut s = format!(
            "gc {} @{}s {}%",
            self.numgc,
            itoa_div(self.since_start_ns / 1_000_000, 3),
            util
        );
        if self.checking_for_goroutine_leaks {
            s += " (checking for goroutine leaks)";
        }
        s += ": ";
        let clock = [
            self.t_mark - self.t_sweep_term,
            self.t_mark_term - self.t_mark,
            self.t_end - self.t_mark_term,
        ];
        let clock: Vec<String> = clock.iter().map(|&ns| fmt_ns_as_ms(ns as u64)).collect();
        s += &clock.join("+");
        s += " ms clock, ";
        let cpu = [
            self.stwprocs * (self.t_mark - self.t_sweep_term),
            self.assist_time,
            self.background_mark_time,
            self.idle_mark_time,
            self.stwprocs * (self.t_end - self.t_mark_term),
        ];
        for (i, &ns) in cpu.iter().enumerate() {
            match i {
                0 => {}
                2 | 3 => s.push('/'),
                _ => s.push('+'),
            }
            s += &fmt_ns_as_ms(ns as u64);
        }
        s += &format!(
            " ms cpu, {}->{}->{} MB, {} MB goal, {} MB stacks, {} MB globals, {} P",
            self.heap0 >> 20,
            self.heap1 >> 20,
            self.heap2 >> 20,
            self.heap_goal >> 20,
            self.stacks >> 20,
            self.globals >> 20,
            self.maxprocs
        );
        if self.forced {
            s += " (forced)";
        }
        s
    }
}

/// Go: itoaDiv (runtime/mgc.go) — `val` / 10^dec with exactly `dec` decimals. Go's loop
/// writes the digit at the decimal point's place before it tests `val`, so with `dec` 0 a
/// single digit comes out as two: itoaDiv(7, 0) is "07" (run under go1.27.3). gctrace never
/// shows it: fmtNSAsMS uses `dec` 0 only from 10 ms up.
pub fn itoa_div(val: u64, dec: usize) -> String {
    let mut digits = val.to_string();
    if dec == 0 {
        return format!("{val:02}");
    }
    if digits.len() <= dec {
        digits = format!("{}{digits}", "0".repeat(dec + 1 - digits.len()));
    }
    let (int, frac) = digits.split_at(digits.len() - dec);
    format!("{int}.{frac}")
}

/// Go: fmtNSAsMS (runtime/mgc.go) — whole ms from 10 ms up; below, two significant digits
/// and at most three decimals (0.007, 0.25, 3.5); 0 for under 1 µs.
pub fn fmt_ns_as_ms(ns: u64) -> String {
    if ns >= 10_000_000 {
        return itoa_div(ns / 1_000_000, 0);
    }
    let mut x = ns / 1000;
    if x == 0 {
        return "0".into();
    }
    let mut dec = 3;
    while x >= 100 {
        x /= 10;
        dec -= 1;
    }
    itoa_div(x, dec)
}
