//! Go: runtime/mgc.go — one collection cycle.
//!
//! The phases keep Go's names: sweep termination (finish the last cycle's sweep, see
//! mgcsweep.rs), mark (gcStart: the pacer's startCycle, the roots, then
//! gcDrain), mark termination (gcMarkDone: flush the write barrier buffers until no grey
//! object is left; gcMarkTermination: the pacer's endCycle, resetLive, commit) and the sweep.
//! A cycle starts when an allocation finds heapLive past the pacer's trigger
//! (gcTrigger{kind: gcTriggerHeap}.test) or when the program asks ([`Heap::gc`], Go's
//! runtime.GC). [`Heap::gc_start`], [`Heap::gc_mark_some`] and [`Heap::gc_finish`] split a
//! cycle so that the mutator can run while the collector marks: the write barrier is what
//! makes that safe. On the simulated machine of proc.rs the same cycle runs with the mutators:
//! mark workers and assists drain, the ragged barrier ends the mark, the sweep is lazy.

use crate::heap::{GcPhase, Heap};

impl Heap {
    /// Nanoseconds since the heap was made (Go: nanotime, relative to runtimeInitTime). On
    /// the simulated machine, its clock (proc.rs).
    pub(crate) fn now(&self) -> i64 {
        if self.sched.on {
            return self.sched.now;
        }
        self.start.elapsed().as_nanos() as i64
    }

    /// Go: runtime.GC. Finish a cycle in progress, then run a whole one: when it returns,
    /// everything unreachable at the call has been freed (Go's GC also finishes the sweep
    /// before it returns, sweepone by sweepone).
    pub fn gc(&mut self) {
        if self.phase == GcPhase::Mark {
            self.gc_finish();
        }
        self.stats
            .starts
            .push((self.controller.heap_live, u64::MAX));
        self.gc_cycle(true);
        while self.sweepone().is_some() {}
    }

    /// An allocation found heapLive past the trigger (gcTrigger{kind: gcTriggerHeap}): on the
    /// simulated machine the cycle runs concurrently with the mutators; otherwise it runs to
    /// the end now, with the world stopped.
    pub(crate) fn gc_triggered(&mut self) {
        if self.sched.on {
            self.gc_start_inner(false);
        } else {
            self.gc_cycle(false);
        }
    }

    pub(crate) fn gc_cycle(&mut self, forced: bool) {
        self.gc_start_inner(forced);
        self.gc_mark_all();
        self.gc_finish();
    }

    /// Go: gcStart. Begin a cycle: the roots are greyed and the write barrier is on, but
    /// nothing is scanned yet. The mutator may run (one operation at a time) until
    /// [`gc_finish`](Self::gc_finish). On the simulated machine the roots are left as jobs
    /// for the mark workers and assists.
    pub fn gc_start(&mut self) {
        assert_eq!(self.phase, GcPhase::Off, "a cycle is already marking");
        self.stats
            .starts
            .push((self.controller.heap_live, u64::MAX));
        self.gc_start_inner(true);
    }

    // ANCHOR: gc_start
    pub(crate) fn gc_start_inner(&mut self, forced: bool) {
        let t_sweep_term = self.now();
        // Sweep termination: finish the last cycle's sweep (finishsweep_m), so that every
        // span's mark bits are free for this one.
        self.finish_sweep();
        let procs = self.sched.allp.len() as i32;
        self.trace = crate::mgcpacer::GcTrace {
            numgc: self.stats.numgc + 1,
            since_start_ns: t_sweep_term as u64,
            t_sweep_term,
            stwprocs: procs as i64,
            maxprocs: procs,
            forced,
            heap0: self.controller.heap_live,
            ..Default::default()
        };
        self.bytes_marked = 0;
        // Go keeps mappedReady and heapFree current; here they are read when a goal is.
        self.update_mem_stats();
        self.controller.start_cycle(t_sweep_term, procs);
        // Go: gcResetMarkState, then the root jobs (gcPrepareMarkRoots): the data and bss
        // segments, and one per goroutine stack.
        self.gc_reset_mark_state();
        // Go: setGCPhase(_GCmark) turns the barrier on before any root is scanned.
        self.phase = GcPhase::Mark;
        self.trace.t_mark = self.now();
        // Go: atomic.Store(&gcBlackenEnabled, 1): workers and assists may mark.
        self.sched.gc_blacken_enabled = true;
        if !self.sched.on {
            // One goroutine, one marker: scan every root now (the stop-the-world collector).
            while self.markroot_next_job() {}
        }
        // Go: markrootSpans and the finq root (specials.rs). Go queues them as root jobs for
        // the workers; here they are scanned at once, with the world still stopped.
        self.markroot_specials();
    }
    // ANCHOR_END: gc_start

    /// Scan up to `budget` grey objects (root jobs first, a job counting as one). True when
    /// no grey object nor root job is left (the barrier may still hold pointers to shade:
    /// only [`gc_finish`](Self::gc_finish) is final).
    pub fn gc_mark_some(&mut self, mut budget: usize) -> bool {
        assert_eq!(self.phase, GcPhase::Mark, "not marking");
        while budget > 0 && self.markroot_next_job() {
            budget -= 1;
        }
        self.gc_drain(budget) && !self.roots_left()
    }

    /// Every root job and every grey object, to the end.
    pub(crate) fn gc_mark_all(&mut self) {
        while self.markroot_next_job() {}
        self.gc_drain(usize::MAX);
    }

    // ANCHOR: gc_mark_done
    /// Go: gcMarkDone + gcMarkTermination, then the sweep, all at once with the world
    /// stopped. Flush every P's write barrier buffer and drain until both are empty (Go
    /// repeats its ragged barrier for the same reason: a flush can grey new objects), turn
    /// the barrier off, hand the pacer the marked bytes, sweep (or, lazily, let sweeping
    /// begin). The simulated machine reaches the same point through its ragged barrier
    /// (proc.rs: gc_mark_done).
    pub fn gc_finish(&mut self) {
        assert_eq!(self.phase, GcPhase::Mark, "not marking");
        loop {
            self.flush_all_wbbufs();
            self.gc_mark_all();
            if self.all_wbbufs_empty() && !self.has_grey() {
                break;
            }
        }
        self.gc_mark_termination();
    }

    /// Go: gcMarkTermination. Marking is complete: the pacer learns what it cost, the
    /// marked bytes become the live heap, the sweep starts, and the next trigger is set.
    pub(crate) fn gc_mark_termination(&mut self) {
        self.trace.t_mark_term = self.now();
        let now = self.now();
        let procs = self.sched.allp.len() as i32;
        // Go: atomic.Store(&gcBlackenEnabled, 0), gcWakeAllAssists, the workers stop.
        self.gc_stop_workers();
        self.update_mem_stats(); // the goal end_cycle records reads them (gc-trace helper)
        self.controller.end_cycle(now, procs);
        self.phase = GcPhase::Off;
        self.trace.heap1 = self.controller.heap_live;
        self.controller.reset_live(self.bytes_marked);
        if self.sweep.lazy {
            self.sweep_start_lazy();
        } else {
            self.stats.last_freed = 0;
            self.sweep_all();
        }
        self.stats.numgc += 1;
        self.update_mem_stats();
        // Go: gcControllerCommit, which also paces the sweeper (gcPaceSweeper).
        self.controller.commit(self.is_sweep_done());
        self.trigger = self.controller.trigger().0;
        self.gc_pace_sweeper(self.trigger);
        self.trace.t_end = self.now();
        self.trace.heap2 = self.bytes_marked;
        self.trace.heap_goal = self.controller.last_heap_goal;
        self.stats.last_trace = self.trace.clone();
        if self.gctrace {
            eprintln!("{}", self.trace.line());
        }
    }
    // ANCHOR_END: gc_mark_done

    /// What the memory-limit goal reads (Go: mappedReady, heapFree), from the allocator's
    /// counters: mapped and not released, and of that the free pages. Go's mappedReady
    /// also counts the runtime's other mappings; here only the heap's.
    pub(crate) fn update_mem_stats(&mut self) {
        use std::sync::atomic::Ordering::Relaxed;
        let st = &self.mheap.stats;
        let (sys, inuse, released) = (
            st.heap_sys.load(Relaxed) as u64,
            st.heap_inuse.load(Relaxed) as u64,
            st.heap_released.load(Relaxed) as u64,
        );
        self.controller.mapped_ready = sys - released;
        self.controller.heap_free = sys - inuse - released;
    }

    /// Go: gcController.trigger(): the heapLive at which an allocation starts the next cycle.
    pub fn trigger(&self) -> u64 {
        self.trigger
    }
}
