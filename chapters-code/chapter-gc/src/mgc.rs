//! Go: runtime/mgc.go — one collection cycle, with the world stopped.
//!
//! The phases keep Go's names: sweep termination (finish the last cycle's sweep; here there
//! is none left, see mgcsweep.rs), mark (gcStart: the pacer's startCycle, the roots, then
//! gcDrain), mark termination (gcMarkDone: flush the write barrier buffers until no grey
//! object is left; gcMarkTermination: the pacer's endCycle, resetLive, commit) and the sweep.
//! A cycle starts when an allocation finds heapLive past the pacer's trigger
//! (gcTrigger{kind: gcTriggerHeap}.test) or when the program asks ([`Heap::gc`], Go's
//! runtime.GC). [`Heap::gc_start`], [`Heap::gc_mark_some`] and [`Heap::gc_finish`] split a
//! cycle so that the mutator can run while the collector marks: the write barrier is what
//! makes that safe, and stage 3 runs the marker concurrently for real.

use crate::heap::{GcPhase, Heap};

impl Heap {
    /// Nanoseconds since the heap was made (Go: nanotime, relative to runtimeInitTime).
    fn now(&self) -> i64 {
        self.start.elapsed().as_nanos() as i64
    }

    /// Go: runtime.GC. Finish a cycle in progress, then run a whole one: when it returns,
    /// everything unreachable at the call has been freed.
    pub fn gc(&mut self) {
        if self.phase == GcPhase::Mark {
            self.gc_finish();
        }
        self.stats
            .starts
            .push((self.controller.heap_live, u64::MAX));
        self.gc_cycle(true);
    }

    pub(crate) fn gc_cycle(&mut self, forced: bool) {
        self.gc_start_inner(forced);
        self.gc_drain(usize::MAX);
        self.gc_finish();
    }

    /// Go: gcStart. Begin a cycle: the roots are greyed and the write barrier is on, but
    /// nothing is scanned yet. The mutator may run (one operation at a time) until
    /// [`gc_finish`](Self::gc_finish).
    pub fn gc_start(&mut self) {
        assert_eq!(self.phase, GcPhase::Off, "a cycle is already marking");
        self.stats
            .starts
            .push((self.controller.heap_live, u64::MAX));
        self.gc_start_inner(true);
    }

    // ANCHOR: gc_start
    fn gc_start_inner(&mut self, forced: bool) {
        let t_sweep_term = self.now();
        // Sweep termination: every span was swept at the end of the last cycle.
        self.trace = crate::mgcpacer::GcTrace {
            numgc: self.stats.numgc + 1,
            since_start_ns: t_sweep_term as u64,
            t_sweep_term,
            stwprocs: 1,
            maxprocs: 1,
            forced,
            heap0: self.controller.heap_live,
            ..Default::default()
        };
        self.bytes_marked = 0;
        // Go keeps mappedReady and heapFree current; here they are read at cycle edges, or the
        // limit goal would see heapAlloc grown past a stale mappedReady (gc-trace helper).
        self.update_mem_stats();
        self.controller.start_cycle(t_sweep_term, 1);
        // Go: setGCPhase(_GCmark) turns the barrier on before any root is scanned.
        self.phase = GcPhase::Mark;
        self.trace.t_mark = self.now();
        let (globals, stacks) = self.markroot();
        self.markroot_specials(); // Go: markrootSpans and the finq root (specials.rs)
        self.controller.globals_scan_work += globals as i64;
        self.controller.stack_scan_work += stacks as i64;
        self.trace.stacks = stacks;
        self.trace.globals = globals;
    }
    // ANCHOR_END: gc_start

    /// Scan up to `budget` grey objects. True when no grey object is left (the barrier may
    /// still hold pointers to shade: only [`gc_finish`](Self::gc_finish) is final).
    pub fn gc_mark_some(&mut self, budget: usize) -> bool {
        assert_eq!(self.phase, GcPhase::Mark, "not marking");
        self.gc_drain(budget)
    }

    // ANCHOR: gc_mark_done
    /// Go: gcMarkDone + gcMarkTermination, then the sweep. Flush the write barrier buffer and
    /// drain until both are empty (Go repeats its ragged barrier for the same reason: a flush
    /// can grey new objects), turn the barrier off, hand the pacer the marked bytes, sweep.
    pub fn gc_finish(&mut self) {
        assert_eq!(self.phase, GcPhase::Mark, "not marking");
        loop {
            self.wb_buf_flush();
            self.gc_drain(usize::MAX);
            if self.wbbuf.is_empty() && self.work.is_empty() {
                break;
            }
        }
        self.trace.t_mark_term = self.now();
        let now = self.now();
        self.update_mem_stats(); // the goal end_cycle records reads them (gc-trace helper)
        self.controller.end_cycle(now, 1);
        self.phase = GcPhase::Off;
        self.trace.heap1 = self.controller.heap_live;
        self.controller.reset_live(self.bytes_marked);
        let freed = self.sweep_all();
        self.stats.last_freed = freed;
        self.stats.total_freed += freed;
        self.stats.numgc += 1;
        self.update_mem_stats();
        // Go: gcControllerCommit. The sweep is already done (see mgcsweep.rs).
        self.controller.commit(true);
        self.trigger = self.controller.trigger().0;
        self.trace.t_end = self.now();
        self.trace.heap2 = self.bytes_marked;
        self.trace.heap_goal = self.controller.last_heap_goal;
        self.stats.last_trace = self.trace.line();
        if self.gctrace {
            eprintln!("{}", self.stats.last_trace);
        }
    }
    // ANCHOR_END: gc_mark_done

    /// What the memory-limit goal reads (Go: mappedReady, heapFree), from the allocator's
    /// counters: mapped and not released, and of that the free pages. Go's mappedReady
    /// also counts the runtime's other mappings; here only the heap's.
    fn update_mem_stats(&mut self) {
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
