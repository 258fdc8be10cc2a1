//! Go: runtime/proc.go (and the mark-worker half of mgc.go and mgcpacer.go) — goroutines,
//! Ps, and the collector running *with* the mutator, on a simulated machine.
//!
//! # A simulated machine
//!
//! Go's collector is concurrent: while it marks, GOMAXPROCS Ps keep running goroutines, some
//! of them mark workers (dedicated, fractional or idle, as findRunnableGCWorker and
//! findRunnable choose), allocating goroutines pay for their allocation with mark assists,
//! and a ragged barrier over the per-P write-barrier buffers ends the mark. The algorithms
//! here are Go's; the concurrency is **simulated, at operation granularity**: a seeded,
//! deterministic machine of Ps. Each [`tick`](Heap::tick), every P runs one step — either a
//! step of a mutator goroutine (one heap operation: alloc, write_ptr, push/pop frame,
//! set_local) or a step of a GC worker (a slice of gcDrain) or of the background sweeper — and
//! the Ps take their turns in an order drawn from a seeded [`Rng`].
//!
//! Why not threads: every interleaving must be reproducible, so that a proptest can explore
//! random schedules and shrink a failing one to a few steps; Rust has no stack maps, so the
//! roots are explicit frames that only the heap can see; and the heap (heap.rs) is
//! single-threaded, not `Sync`. What simulation cannot show — the race inside one operation,
//! a marker reading a slot while a mutator writes it — is covered by the loom models of
//! src/models.rs. What it does show is every ordering of whole operations: a mutator moving a
//! pointer between a stack not yet scanned and a heap object already black, a write barrier
//! buffer filling on one P while another P is in the ragged barrier, an assist parked while a
//! worker earns the credit that wakes it.
//!
//! # What lives where
//!
//! Each goroutine is a [`G`] with its own root [`Stack`] and `gcAssistBytes`; each P a [`P`]
//! with its own wbBuf and mark-worker mode. heap.rs's frame API and write barrier work on the
//! *current* G and P: their stack and buffer are the heap's `stack` and `wbbuf` fields, and
//! switching G or P swaps them with the G's or P's record (Go: getg() and getg().m.p). A heap
//! that never starts the machine has one G and one P, and behaves as before.
//!
//! Go's gcWork is per P; here the grey objects stay in the heap's one queue (mgcmark.rs), so
//! "flush this P's gcWork" has nothing to move, and the ragged barrier's real work is
//! flushing each P's write-barrier buffer.

use crate::heap::{GcPhase, Heap, Stack};
use crate::mwbbuf::WB_BUF_ENTRIES;
use std::collections::VecDeque;

/// Simulated nanoseconds a P spends on one step (the machine's quantum).
pub const TICK_NS: i64 = 10_000;
/// Grey objects (or root jobs) a mark worker scans in one step, unless a test sets
/// [`Sched::worker_budget`].
pub const WORKER_BUDGET: usize = 8;

/// Go: _Grunnable, _Gwaiting (here only in an assist's park), _Gdead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GStatus {
    Runnable,
    Waiting,
    Dead,
}

/// Go: g. A goroutine's roots and its assist balance.
#[derive(Clone, Debug)]
pub struct G {
    /// Its stack (empty while it is the current G: the heap's `stack` holds it then).
    pub stack: Stack,
    pub status: GStatus,
    /// Go: gcAssistBytes. Positive: credit (bytes it may allocate without assisting);
    /// negative: debt, to pay in scan work.
    pub gc_assist_bytes: i64,
    /// Go: gcscandone. Its stack was scanned this cycle (it is black).
    pub gcscandone: bool,
}

impl Default for G {
    fn default() -> Self {
        G {
            stack: Stack::default(),
            status: GStatus::Runnable,
            gc_assist_bytes: 0,
            gcscandone: false,
        }
    }
}

/// Go: gcMarkWorkerMode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcMarkWorkerMode {
    NotWorker,
    Dedicated,
    Fractional,
    Idle,
}

/// Simulated time a P spent, by what it ran (ns).
#[derive(Clone, Debug, Default)]
pub struct PTime {
    pub mutator: i64,
    pub dedicated: i64,
    pub fractional: i64,
    pub idle_mark: i64,
    pub sweep: i64,
    pub idle: i64,
}

/// Go: p. Its write-barrier buffer, the mark worker it runs, and the accounting
/// findRunnableGCWorker reads.
#[derive(Clone, Debug)]
pub struct P {
    /// Go: p.wbBuf (empty while it is the current P: the heap's `wbbuf` holds it then).
    pub wbbuf: Vec<usize>,
    /// Go: p.gcMarkWorkerMode, while a worker runs on it.
    pub gc_mark_worker_mode: GcMarkWorkerMode,
    /// Go: p.gcMarkWorkerStartTime.
    pub gc_mark_worker_start_time: i64,
    /// Go: p.gcFractionalMarkTime — this cycle's fractional worker time on this P.
    pub gc_fractional_mark_time: i64,
    /// Go: gcw.heapScanWork not yet flushed as background credit.
    pub gcw_scan_work: i64,
    /// A forEachP function (gcMarkDone's flush) waits for this P's next safe point.
    pub run_safe_point_fn: bool,
    /// Time this P spent, since the machine started (the tests' measure).
    pub time: PTime,
}

impl P {
    fn new() -> P {
        P {
            wbbuf: Vec::with_capacity(WB_BUF_ENTRIES),
            gc_mark_worker_mode: GcMarkWorkerMode::NotWorker,
            gc_mark_worker_start_time: 0,
            gc_fractional_mark_time: 0,
            gcw_scan_work: 0,
            run_safe_point_fn: false,
            time: PTime::default(),
        }
    }
}

/// What the machine did, for tests.
#[derive(Clone, Debug, Default)]
pub struct SchedStats {
    /// Calls of gcAssistAlloc1 and the scan work they did.
    pub assists: usize,
    pub assist_work: i64,
    /// Assists that stole background credit, and the credit stolen.
    pub steals: usize,
    pub stolen: i64,
    /// Assists parked on the assist queue, and goroutines readied by gcFlushBgCredit.
    pub parks: usize,
    pub wakes: usize,
    /// Ragged barriers begun, rounds that found flushed work, and mark terminations that
    /// found work after stopping the world (and restarted the mark).
    pub barriers: usize,
    pub barrier_flushed: usize,
    pub stw_restarts: usize,
    /// Ticks the machine ran with the collector marking, and in all.
    pub mark_ticks: u64,
    pub ticks: u64,
}

/// Go: sched, allgs, allp, and the mark state of `work` (markroot jobs, the assist queue)
/// and of gcController (background credit, worker counts) that the scheduler reads.
#[derive(Clone, Debug)]
pub struct Sched {
    /// The simulated machine is running: cycles are concurrent and the sweep lazy.
    pub on: bool,
    pub allgs: Vec<G>,
    pub allp: Vec<P>,
    /// The current G and P (Go: getg().m.curg, getg().m.p).
    pub cur_g: usize,
    pub cur_p: usize,
    /// Go: the run queues (one global queue here).
    pub runq: VecDeque<usize>,
    /// The machine's clock (Go: nanotime), simulated ns.
    pub now: i64,
    /// Go: gcBlackenEnabled — workers and assists may mark.
    pub gc_blacken_enabled: bool,
    /// Go: work.markrootNext, work.markrootJobs.
    pub markroot_next: usize,
    pub markroot_jobs: usize,
    /// Go: gcController.bgScanCredit — scan work the workers did that no assist took yet.
    pub bg_scan_credit: i64,
    /// Go: work.assistQueue — goroutines parked until background credit pays their debt.
    pub assist_queue: VecDeque<usize>,
    /// Go: gcController.idleMarkWorkers (count, max).
    pub idle_mark_workers: i32,
    pub max_idle_mark_workers: i32,
    /// A ragged barrier in flight: gcMarkDoneFlushed so far.
    pub mark_done: Option<i32>,
    /// Test knobs: no dedicated/fractional workers (the pool is empty); no idle workers.
    pub bg_workers: bool,
    pub idle_workers: bool,
    /// Objects a worker scans per step ([`WORKER_BUDGET`]; less: longer marks).
    pub worker_budget: usize,
    pub stats: SchedStats,
}

impl Default for Sched {
    fn default() -> Self {
        Sched {
            on: false,
            allgs: vec![G::default()],
            allp: vec![P::new()],
            cur_g: 0,
            cur_p: 0,
            runq: VecDeque::new(),
            now: 0,
            gc_blacken_enabled: false,
            markroot_next: 0,
            markroot_jobs: 0,
            bg_scan_credit: 0,
            assist_queue: VecDeque::new(),
            idle_mark_workers: 0,
            max_idle_mark_workers: 0,
            mark_done: None,
            bg_workers: true,
            idle_workers: true,
            worker_budget: WORKER_BUDGET,
            stats: SchedStats::default(),
        }
    }
}

/// A small seeded generator (xorshift64*): the machine's schedule and the tests' mutators.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

impl Heap {
    /// Start the simulated machine with `gomaxprocs` Ps: from now on cycles run
    /// concurrently with the goroutines and the sweep is lazy. The existing goroutine (G 0)
    /// joins the run queue.
    pub fn start_machine(&mut self, gomaxprocs: usize) {
        assert!(gomaxprocs >= 1);
        assert_eq!(self.phase, GcPhase::Off, "start the machine between cycles");
        assert!(!self.sched.on, "the machine is already running");
        self.switch_p(0);
        self.sched.allp.truncate(1);
        while self.sched.allp.len() < gomaxprocs {
            self.sched.allp.push(P::new());
        }
        self.sched.on = true;
        self.sweep.lazy = true;
        self.sched.runq = (0..self.sched.allgs.len())
            .filter(|&g| self.sched.allgs[g].status == GStatus::Runnable)
            .collect();
    }

    /// Go: GOMAXPROCS.
    pub fn gomaxprocs(&self) -> usize {
        self.sched.allp.len()
    }

    /// Go: newproc. A goroutine with an empty stack, runnable. One made while the collector
    /// marks has nothing on its stack yet, so its stack starts black (no root job).
    pub fn new_g(&mut self) -> usize {
        let g = G {
            gcscandone: self.phase == GcPhase::Mark,
            ..G::default()
        };
        self.sched.allgs.push(g);
        let id = self.sched.allgs.len() - 1;
        self.sched.runq.push_back(id);
        id
    }

    /// Goroutine `g`'s stack (the current G's is the heap's `stack`).
    pub fn g_stack(&self, g: usize) -> &Stack {
        if g == self.sched.cur_g {
            &self.stack
        } else {
            &self.sched.allgs[g].stack
        }
    }

    /// Make `g` the current goroutine: the frame API works on its stack now.
    pub fn switch_g(&mut self, g: usize) {
        let cur = self.sched.cur_g;
        if g != cur {
            self.sched.allgs[cur].stack = std::mem::take(&mut self.stack);
            self.stack = std::mem::take(&mut self.sched.allgs[g].stack);
            self.sched.cur_g = g;
        }
    }

    /// Make `p` the current P: the write barrier records into its buffer now.
    pub(crate) fn switch_p(&mut self, p: usize) {
        let cur = self.sched.cur_p;
        if p != cur {
            std::mem::swap(&mut self.wbbuf, &mut self.sched.allp[cur].wbbuf);
            std::mem::swap(&mut self.wbbuf, &mut self.sched.allp[p].wbbuf);
            self.sched.cur_p = p;
        }
    }

    /// Flush every P's write-barrier buffer (the current one's always, as gc_finish did).
    pub(crate) fn flush_all_wbbufs(&mut self) {
        let cur = self.sched.cur_p;
        for p in 0..self.sched.allp.len() {
            if p == cur || !self.sched.allp[p].wbbuf.is_empty() {
                self.switch_p(p);
                self.wb_buf_flush();
            }
        }
        self.switch_p(cur);
    }

    pub(crate) fn all_wbbufs_empty(&self) -> bool {
        self.wbbuf.is_empty() && self.sched.allp.iter().all(|p| p.wbbuf.is_empty())
    }

    /// Some grey object waits to be scanned (asked of gc_drain with no budget, so that the
    /// queue's representation stays mgcmark.rs's business).
    pub(crate) fn has_grey(&mut self) -> bool {
        !self.gc_drain(0)
    }

    /// Go: work.markrootNext < work.markrootJobs.
    pub(crate) fn roots_left(&self) -> bool {
        self.sched.markroot_next < self.sched.markroot_jobs
    }

    /// Go: gcNextMarkRoot + markroot. Run the next root job; false if none is left.
    pub(crate) fn markroot_next_job(&mut self) -> bool {
        if !self.roots_left() {
            return false;
        }
        let i = self.sched.markroot_next;
        self.sched.markroot_next += 1;
        self.markroot(i);
        true
    }

    /// Go: gcMarkWorkAvailable(nil) — a root job or a grey object is left.
    pub(crate) fn gc_mark_work_available(&mut self) -> bool {
        self.roots_left() || self.has_grey()
    }

    /// Go: gcResetMarkState and the per-cycle resets of startCycle: every stack unscanned,
    /// every assist balance zero, one root job for the globals and one per goroutine, no
    /// fractional time, no credit, and at most GOMAXPROCS − dedicated idle workers.
    pub(crate) fn gc_reset_mark_state(&mut self) {
        for g in &mut self.sched.allgs {
            g.gcscandone = g.status == GStatus::Dead;
            g.gc_assist_bytes = 0;
        }
        self.sched.markroot_next = 0;
        self.sched.markroot_jobs = 1 + self.sched.allgs.len();
        self.sched.bg_scan_credit = 0;
        self.sched.mark_done = None;
        self.sched.idle_mark_workers = 0;
        self.sched.max_idle_mark_workers =
            self.sched.allp.len() as i32 - self.controller.dedicated_mark_workers_needed as i32;
        for p in &mut self.sched.allp {
            p.gc_fractional_mark_time = 0;
            p.gc_mark_worker_mode = GcMarkWorkerMode::NotWorker;
            p.gcw_scan_work = 0;
            p.run_safe_point_fn = false;
        }
    }

    /// The scan work the cycle has done so far (heap, stacks, globals).
    pub(crate) fn scan_work_done(&self) -> i64 {
        self.controller.heap_scan_work
            + self.controller.stack_scan_work
            + self.controller.globals_scan_work
    }

    // ANCHOR: tick
    /// One tick of the machine: every P, in a seeded random order, reaches a safe point
    /// (running a pending forEachP function) and runs one step of what its scheduler picks.
    /// `mutator(heap, g)` runs one operation of goroutine `g` (the current G, on the current
    /// P) and returns false when the goroutine exits.
    pub fn tick(&mut self, rng: &mut Rng, mutator: &mut dyn FnMut(&mut Heap, usize) -> bool) {
        assert!(self.sched.on, "start_machine first");
        let mut order: Vec<usize> = (0..self.sched.allp.len()).collect();
        rng.shuffle(&mut order);
        // A goroutine runs on one P at a time: the ones that ran rejoin the queue after.
        let mut ran = Vec::new();
        for p in order {
            self.switch_p(p);
            if self.sched.allp[p].run_safe_point_fn {
                self.mark_done_flush(p);
            }
            ran.extend(self.schedule(p, mutator));
        }
        for g in ran {
            if self.sched.allgs[g].status == GStatus::Runnable && !self.sched.runq.contains(&g) {
                self.sched.runq.push_back(g);
            }
        }
        if self.phase == GcPhase::Mark {
            self.sched.stats.mark_ticks += 1;
        }
        self.sched.stats.ticks += 1;
        self.sched.now += TICK_NS;
        if self.sched.mark_done.is_some() && self.sched.allp.iter().all(|p| !p.run_safe_point_fn) {
            self.gc_mark_done_barrier_complete();
        }
    }
    // ANCHOR_END: tick

    /// Go: schedule → findRunnable, one step: a GC worker if the controller wants one on
    /// this P; else the next runnable goroutine; else, idle, an idle mark worker or the
    /// background sweeper. Returns the goroutine that ran, if one did.
    fn schedule(
        &mut self,
        p: usize,
        mutator: &mut dyn FnMut(&mut Heap, usize) -> bool,
    ) -> Option<usize> {
        if self.sched.gc_blacken_enabled {
            if let Some(mode) = self.find_runnable_gc_worker(p) {
                self.gc_bg_mark_worker(p, mode);
                return None;
            }
        }
        if let Some(g) = self.sched.runq.pop_front() {
            self.switch_g(g);
            let alive = mutator(self, g);
            self.sched.allp[p].time.mutator += TICK_NS;
            if !alive {
                // Go: goexit. Its frames stop being roots.
                while !self.stack.frames.is_empty() {
                    self.pop_frame();
                }
                self.sched.allgs[g].status = GStatus::Dead;
            }
            return Some(g);
        }
        // Go: findRunnable's "We have nothing to do": an idle-priority mark worker.
        if self.sched.gc_blacken_enabled
            && self.sched.idle_workers
            && self.gc_mark_work_available()
            && self.add_idle_mark_worker()
        {
            let now = self.sched.now;
            let pp = &mut self.sched.allp[p];
            pp.gc_mark_worker_mode = GcMarkWorkerMode::Idle;
            pp.gc_mark_worker_start_time = now;
            self.gc_bg_mark_worker(p, GcMarkWorkerMode::Idle);
            return None;
        }
        // Go: bgsweep, a goroutine that yields whenever anything else could run.
        if self.bgsweep_step() {
            self.sched.allp[p].time.sweep += TICK_NS;
            return None;
        }
        self.sched.allp[p].time.idle += TICK_NS;
        None
    }

    /// Go: gcController.addIdleMarkWorker.
    fn add_idle_mark_worker(&mut self) -> bool {
        if self.sched.idle_mark_workers >= self.sched.max_idle_mark_workers {
            return false;
        }
        self.sched.idle_mark_workers += 1;
        true
    }

    /// Go: pollFractionalWorkerExit — the fractional worker is 20% over its quota.
    fn poll_fractional_worker_exit(&self, p: usize) -> bool {
        let now = self.sched.now;
        let delta = now - self.controller.mark_start_time;
        if delta <= 0 {
            return true;
        }
        let pp = &self.sched.allp[p];
        let self_time = pp.gc_fractional_mark_time + (now - pp.gc_mark_worker_start_time);
        self_time as f64 / delta as f64 > 1.2 * self.controller.fractional_utilization_goal
    }

    // ANCHOR: find_runnable_gc_worker
    /// Go: gcControllerState.findRunnableGCWorker (and assignWaitingGCWorker). A worker
    /// already running on `p` goes on: a dedicated one until the mark work runs out, a
    /// fractional one until pollFractionalWorkerExit. Otherwise, if there is mark work:
    /// a dedicated worker while the controller still needs one; else a fractional worker
    /// if this P's fractional time is under fractionalUtilizationGoal of the time since
    /// the mark began; else none (the P runs goroutines).
    fn find_runnable_gc_worker(&mut self, p: usize) -> Option<GcMarkWorkerMode> {
        // ANCHOR: solution-find_runnable_gc_worker
        match self.sched.allp[p].gc_mark_worker_mode {
            GcMarkWorkerMode::Dedicated => return Some(GcMarkWorkerMode::Dedicated),
            GcMarkWorkerMode::Fractional => {
                if !self.poll_fractional_worker_exit(p) {
                    return Some(GcMarkWorkerMode::Fractional);
                }
                self.mark_worker_stop(p);
            }
            _ => {}
        }
        if !self.sched.bg_workers || !self.gc_mark_work_available() {
            return None; // Go: gcShouldScheduleWorker, and an empty worker pool
        }
        let c = &mut self.controller;
        if c.dedicated_mark_workers_needed <= 0 && c.fractional_utilization_goal == 0.0 {
            return None;
        }
        let now = self.sched.now;
        let mode = if c.dedicated_mark_workers_needed > 0 {
            c.dedicated_mark_workers_needed -= 1; // Go: decIfPositive
            GcMarkWorkerMode::Dedicated
        } else if c.fractional_utilization_goal == 0.0 {
            return None;
        } else {
            let delta = now - c.mark_start_time;
            let frac = self.sched.allp[p].gc_fractional_mark_time;
            if delta > 0 && frac as f64 / delta as f64 > c.fractional_utilization_goal {
                return None; // this P is not behind on its fractional goal
            }
            GcMarkWorkerMode::Fractional
        };
        let pp = &mut self.sched.allp[p];
        pp.gc_mark_worker_mode = mode;
        pp.gc_mark_worker_start_time = now;
        Some(mode)
        // ANCHOR_END: solution-find_runnable_gc_worker
    }
    // ANCHOR_END: find_runnable_gc_worker

    /// Go: gcControllerState.markWorkerStop — give the dedicated slot back, charge the
    /// fractional time to the P, count the idle worker out; flush the worker's credit.
    fn mark_worker_stop(&mut self, p: usize) {
        let now = self.sched.now;
        let pp = &mut self.sched.allp[p];
        let duration = now - pp.gc_mark_worker_start_time;
        let mode = std::mem::replace(&mut pp.gc_mark_worker_mode, GcMarkWorkerMode::NotWorker);
        let credit = std::mem::take(&mut pp.gcw_scan_work);
        match mode {
            GcMarkWorkerMode::Dedicated => self.controller.dedicated_mark_workers_needed += 1,
            GcMarkWorkerMode::Fractional => pp.gc_fractional_mark_time += duration,
            GcMarkWorkerMode::Idle => {
                self.controller.idle_mark_time += duration;
                self.sched.idle_mark_workers -= 1;
            }
            GcMarkWorkerMode::NotWorker => {}
        }
        if credit > 0 {
            self.gc_flush_bg_credit(credit);
        }
    }

    // ANCHOR: gc_bg_mark_worker
    /// Go: gcBgMarkWorker, one step: gcDrain for `worker_budget` units, root jobs first,
    /// then grey objects, flushing this P's write-barrier buffer when the queue runs dry;
    /// the scan work becomes background credit every gcCreditSlack units. A worker that
    /// finds no work left stops, and, the mark looking complete, calls gcMarkDone. An idle
    /// worker gives the P back after every step (it would stop at the first runnable G).
    fn gc_bg_mark_worker(&mut self, p: usize, mode: GcMarkWorkerMode) {
        let before = self.scan_work_done();
        let mut budget = self.sched.worker_budget;
        while budget > 0 && self.markroot_next_job() {
            budget -= 1;
        }
        if self.gc_drain(budget) && !self.wbbuf.is_empty() {
            self.wb_buf_flush(); // Go: gcDrain's wbBufFlush when the local work runs out
        }
        let done = self.scan_work_done() - before;
        let pp = &mut self.sched.allp[p];
        match mode {
            GcMarkWorkerMode::Dedicated => pp.time.dedicated += TICK_NS,
            GcMarkWorkerMode::Fractional => pp.time.fractional += TICK_NS,
            GcMarkWorkerMode::Idle => pp.time.idle_mark += TICK_NS,
            GcMarkWorkerMode::NotWorker => unreachable!(),
        }
        pp.gcw_scan_work += done;
        if pp.gcw_scan_work >= crate::mgcassist::GC_CREDIT_SLACK {
            let credit = std::mem::take(&mut pp.gcw_scan_work);
            self.gc_flush_bg_credit(credit);
        }
        let out_of_work = !self.gc_mark_work_available();
        if out_of_work || mode == GcMarkWorkerMode::Idle {
            // The step's time counts: the clock moves at the end of the tick.
            self.sched.allp[p].gc_mark_worker_start_time -= TICK_NS;
            self.mark_worker_stop(p);
        }
        if out_of_work {
            self.gc_mark_done();
        }
    }
    // ANCHOR_END: gc_bg_mark_worker

    // ANCHOR: gc_mark_done
    /// Go: gcMarkDone, up to its ragged barrier. When no root job nor grey object is left,
    /// every P must flush its write-barrier buffer (and gcWork) before the mark can end:
    /// forEachP asks each P to do it at its next safe point, while the others go on running
    /// (the barrier is *ragged*). The caller's own P flushes at once. The single-goroutine
    /// API ends its cycles with [`gc_finish`](Heap::gc_finish) instead.
    pub(crate) fn gc_mark_done(&mut self) {
        if !self.sched.on
            || self.phase != GcPhase::Mark
            || self.sched.mark_done.is_some()
            || self.gc_mark_work_available()
        {
            return;
        }
        self.sched.stats.barriers += 1;
        self.sched.mark_done = Some(0); // Go: gcMarkDoneFlushed = 0
        for pp in &mut self.sched.allp {
            pp.run_safe_point_fn = true;
        }
        let me = self.sched.cur_p;
        self.mark_done_flush(me);
    }

    /// The forEachP function of gcMarkDone, on P `p` (the current P): flush its
    /// write-barrier buffer (wbBufFlush1) and gcWork (dispose); if that made grey work,
    /// count it in gcMarkDoneFlushed.
    fn mark_done_flush(&mut self, p: usize) {
        debug_assert_eq!(p, self.sched.cur_p);
        self.sched.allp[p].run_safe_point_fn = false;
        let marked = self.bytes_marked;
        if !self.wbbuf.is_empty() {
            self.wb_buf_flush();
        }
        if self.bytes_marked != marked || self.has_grey() {
            *self.sched.mark_done.as_mut().unwrap() += 1;
        }
    }

    /// The rest of gcMarkDone, once every P has passed the barrier. If some P flushed work,
    /// the mark is not done: go back to the top (another barrier, if the work is already
    /// gone). Otherwise stop the world, flush every buffer once more (writes since a P's
    /// flush may have filled them), and restart the mark if that greyed anything (Go issue
    /// 27993); else mark termination.
    fn gc_mark_done_barrier_complete(&mut self) {
        let flushed = self.sched.mark_done.take().unwrap();
        if flushed != 0 {
            self.sched.stats.barrier_flushed += 1;
            self.gc_mark_done(); // Go: goto top
            return;
        }
        // stopTheWorldWithSema(stwGCMarkTerm): nothing runs between here and the end.
        let me = self.sched.cur_p;
        let mut restart = false;
        for p in 0..self.sched.allp.len() {
            self.switch_p(p);
            if !self.wbbuf.is_empty() {
                self.wb_buf_flush();
            }
            if self.has_grey() {
                restart = true;
                break;
            }
        }
        self.switch_p(me);
        if restart {
            self.sched.stats.stw_restarts += 1; // startTheWorld; goto top
            return;
        }
        self.gc_mark_termination();
    }
    // ANCHOR_END: gc_mark_done

    /// Mark termination's part on the machine: every worker stops, no barrier is left in
    /// flight, and the parked assists are readied (Go: gcWakeAllAssists).
    pub(crate) fn gc_stop_workers(&mut self) {
        self.sched.gc_blacken_enabled = false;
        self.sched.mark_done = None;
        for p in 0..self.sched.allp.len() {
            self.sched.allp[p].run_safe_point_fn = false;
            if self.sched.allp[p].gc_mark_worker_mode != GcMarkWorkerMode::NotWorker {
                self.mark_worker_stop(p);
            }
        }
        self.gc_wake_all_assists();
    }
}
