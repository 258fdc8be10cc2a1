//! Go: runtime/mgclimit.go — the GC CPU limiter, `gcCPULimiterState`.
//!
//! A memory limit can make the pacer's goal so tight that the collector runs all the time
//! and the program stops making progress (a death spiral). The limiter is a leaky bucket of
//! CPU time: GC time fills it, mutator time drains it, and while it is full the limiter is
//! "on" and mark assists are skipped (runtime/mgcmark.go:gcAssistAlloc), leaving the GC its
//! 25% of background workers. Filling and draining one for one, it lets the GC have about
//! as much CPU as the mutator: 50% over a window set by the capacity, 1 CPU-second per P.
//! The bucket never goes below empty, so a long idle stretch buys no credit.
//!
//! Go's limiter reads per-P events (idle, assists) from `allp`; here, as in Go's tests
//! (`test == true`), time arrives only through [`add_assist_time`] and [`add_idle_time`].
//!
//! [`add_assist_time`]: GcCpuLimiterState::add_assist_time
//! [`add_idle_time`]: GcCpuLimiterState::add_idle_time

use crate::mgcpacer::GC_BACKGROUND_UTILIZATION;

/// Go: capacityPerProc — 1 CPU-second (in ns) of bucket per P.
pub const CAPACITY_PER_PROC: u64 = 1_000_000_000;
/// Go: gcCPULimiterUpdatePeriod — at most this long (ns) between updates.
pub const GC_CPU_LIMITER_UPDATE_PERIOD: i64 = 10_000_000;

/// Go: gcCPULimiterState.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GcCpuLimiterState {
    /// Go: enabled — the bucket is full: assists are off.
    pub enabled: bool,
    /// Go: gcEnabled — a mark phase is on, so 25% of all CPU counts as GC time.
    pub gc_enabled: bool,
    /// Go: transitioning — between startGCTransition and finishGCTransition (a STW).
    pub transitioning: bool,
    /// Go: bucket.fill, bucket.capacity (CPU-ns).
    pub fill: u64,
    pub capacity: u64,
    /// Go: overflow — GC time that arrived with the bucket already full.
    pub overflow: u64,
    /// Go: assistTimePool, idleTimePool — time reported since the last update.
    pub assist_time_pool: i64,
    pub idle_time_pool: i64,
    /// Go: lastUpdate.
    pub last_update: i64,
    /// Go: nprocs — GOMAXPROCS when the capacity was last set.
    pub nprocs: i32,
}

impl GcCpuLimiterState {
    /// An empty bucket for `nprocs` Ps, as Go's procresize leaves it (resetCapacity).
    pub fn new(now: i64, nprocs: i32) -> GcCpuLimiterState {
        let mut l = GcCpuLimiterState {
            last_update: now,
            ..Default::default()
        };
        l.reset_capacity(now, nprocs);
        l
    }

    /// Go: gcCPULimiterState.limiting.
    pub fn limiting(&self) -> bool {
        self.enabled
    }

    /// Go: startGCTransition — the world stops to start or end a mark phase: account for
    /// the time so far under the old state, then switch.
    pub fn start_gc_transition(&mut self, enable_gc: bool, now: i64) {
        assert!(
            self.gc_enabled != enable_gc,
            "transitioning GC to the same state as before?"
        );
        self.update_locked(now);
        self.gc_enabled = enable_gc;
        self.transitioning = true;
    }

    /// Go: finishGCTransition — the stop-the-world pause was all GC time, on every P.
    pub fn finish_gc_transition(&mut self, now: i64) {
        assert!(
            self.transitioning,
            "finishGCTransition called without starting one?"
        );
        if now >= self.last_update {
            self.accumulate(0, (now - self.last_update) * self.nprocs as i64);
        }
        self.last_update = now;
        self.transitioning = false;
    }

    /// Go: needUpdate.
    pub fn need_update(&self, now: i64) -> bool {
        now - self.last_update > GC_CPU_LIMITER_UPDATE_PERIOD
    }

    /// Go: addAssistTime, addIdleTime.
    pub fn add_assist_time(&mut self, t: i64) {
        self.assist_time_pool += t;
    }
    pub fn add_idle_time(&mut self, t: i64) {
        self.idle_time_pool += t;
    }

    /// Go: update.
    pub fn update(&mut self, now: i64) {
        assert!(!self.transitioning, "update during transition");
        self.update_locked(now);
    }

    // ANCHOR: limiter
    /// Go: updateLocked — of the CPU time since the last update (wall time × nprocs), idle
    /// time is nobody's, assists are GC time, and during a mark phase so is a flat 25% (the
    /// background workers, assumed to hit their goal); the rest is the mutator's.
    pub fn update_locked(&mut self, now: i64) {
        if now < self.last_update {
            return; // time went backwards (another M updated first)
        }
        let mut window_total_time = (now - self.last_update) * self.nprocs as i64;
        self.last_update = now;
        let assist_time = std::mem::take(&mut self.assist_time_pool);
        let idle_time = std::mem::take(&mut self.idle_time_pool);
        let mut window_gc_time = assist_time;
        if self.gc_enabled {
            window_gc_time += (window_total_time as f64 * GC_BACKGROUND_UTILIZATION) as i64;
        }
        window_total_time -= idle_time;
        self.accumulate(window_total_time - window_gc_time, window_gc_time);
    }

    /// Go: accumulate — pour in `gc_time`, drain `mutator_time`. Full: the limiter turns
    /// on and the excess goes to `overflow`; any net change from full turns it off again.
    pub fn accumulate(&mut self, mutator_time: i64, gc_time: i64) {
        let headroom = self.capacity - self.fill;
        let enabled = headroom == 0;
        let change = gc_time - mutator_time;
        if change > 0 && headroom <= change as u64 {
            self.overflow += change as u64 - headroom;
            self.fill = self.capacity;
            self.enabled = true;
            return;
        }
        if change < 0 && self.fill <= change.unsigned_abs() {
            self.fill = 0;
        } else {
            // Go writes `fill -= uint64(-change)` for both signs: for a positive change the
            // subtraction wraps around to an addition.
            self.fill = self.fill.wrapping_sub((change.wrapping_neg()) as u64);
        }
        if change != 0 && enabled {
            self.enabled = false;
        }
    }
    // ANCHOR_END: limiter

    /// Go: resetCapacity — GOMAXPROCS changed: the capacity follows it, and a bucket now
    /// over capacity is cut down to full (and limits).
    pub fn reset_capacity(&mut self, now: i64, nprocs: i32) {
        self.update_locked(now);
        self.nprocs = nprocs;
        self.capacity = nprocs as u64 * CAPACITY_PER_PROC;
        if self.fill > self.capacity {
            self.fill = self.capacity;
            self.enabled = true;
        } else if self.fill < self.capacity {
            self.enabled = false;
        }
    }
}
