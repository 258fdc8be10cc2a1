//! Go: the assist half of runtime/mgcmark.go (gcAssistAlloc, gcAssistAlloc1, gcDrainN,
//! gcFlushBgCredit, gcParkAssist, gcWakeAllAssists) and malloc.go's deductAssistCredit.
//! (A file of its own because mgcmark.rs, the marking itself, is being rebuilt beside it.)
//!
//! While the collector marks, every allocating goroutine pays for what it allocates: its
//! `gcAssistBytes` goes down by the bytes, and once it is in debt the goroutine does scan
//! work itself, `assistWorkPerByte` per byte of debt (the pacer's ratio, mgcpacer.rs:revise),
//! at least gcOverAssistWork at a time so that it does not come back at once. Background
//! workers bank the scan work they do as credit (bgScanCredit) that an assist may steal
//! instead of scanning; an assist that finds neither work nor credit parks on the assist
//! queue until a worker's credit pays its debt, or the mark ends. This is what keeps the heap
//! under the goal when the mutator allocates faster than the workers mark.
//!
//! Assists run on the simulated machine of proc.rs only: the single-goroutine API marks
//! when its caller says so (gc_mark_some, gc_finish), as the stop-the-world stage did.

use crate::heap::Heap;
use crate::proc::{GStatus, TICK_NS, WORKER_BUDGET};

/// Go: gcCreditSlack — scan work a worker accumulates before it flushes it as credit.
pub const GC_CREDIT_SLACK: i64 = 2000;
/// Go: gcOverAssistWork — the least scan work an assist does, to amortise its cost.
pub const GC_OVER_ASSIST_WORK: i64 = 64 << 10;

impl Heap {
    /// Go: deductAssistCredit (malloc.go). Charge the current goroutine for `size` bytes
    /// while the collector marks; in debt, it assists.
    pub(crate) fn deduct_assist_credit(&mut self, size: usize) {
        if !self.sched.on || !self.sched.gc_blacken_enabled {
            return;
        }
        let g = self.sched.cur_g;
        self.sched.allgs[g].gc_assist_bytes -= size as i64;
        if self.sched.allgs[g].gc_assist_bytes < 0 {
            self.gc_assist_alloc(g);
        }
    }

    // ANCHOR: gc_assist_alloc
    /// Go: gcAssistAlloc. Pay goroutine `g`'s debt: convert it to scan work (at least
    /// gcOverAssistWork), steal what background credit there is, do the rest with gcDrainN;
    /// if that ends the mark, gcMarkDone. Still in debt (no work was left): park until
    /// credit arrives — unless credit arrived meanwhile, then try again.
    pub(crate) fn gc_assist_alloc(&mut self, g: usize) {
        loop {
            if !self.sched.gc_blacken_enabled {
                self.sched.allgs[g].gc_assist_bytes = 0; // Go: gcAssistAlloc1's early out
                return;
            }
            // Go revises the assist ratio whenever heapLive moves (gcController.update);
            // here, when an assist reads it.
            self.update_mem_stats();
            self.controller.revise();
            let work_per_byte = self.controller.assist_work_per_byte;
            let bytes_per_work = self.controller.assist_bytes_per_work;
            let mut debt_bytes = -self.sched.allgs[g].gc_assist_bytes;
            let mut scan_work = (work_per_byte * debt_bytes as f64) as i64;
            if scan_work < GC_OVER_ASSIST_WORK {
                scan_work = GC_OVER_ASSIST_WORK;
                debt_bytes = (bytes_per_work * scan_work as f64) as i64;
            }
            // Steal background credit first.
            let credit = self.sched.bg_scan_credit;
            if credit > 0 {
                let stolen = if credit < scan_work {
                    self.sched.allgs[g].gc_assist_bytes +=
                        1 + (bytes_per_work * credit as f64) as i64;
                    credit
                } else {
                    self.sched.allgs[g].gc_assist_bytes += debt_bytes;
                    scan_work
                };
                self.sched.bg_scan_credit -= stolen;
                self.sched.stats.steals += 1;
                self.sched.stats.stolen += stolen;
                scan_work -= stolen;
                if scan_work == 0 {
                    return;
                }
            }
            // Go: gcAssistAlloc1.
            let (work_done, units) = self.gc_drain_n(scan_work);
            self.sched.allgs[g].gc_assist_bytes += 1 + (bytes_per_work * work_done as f64) as i64;
            self.sched.stats.assists += 1;
            self.sched.stats.assist_work += work_done;
            // A worker scans WORKER_BUDGET objects a tick: charge the assist as much time.
            self.controller.assist_time += units as i64 * TICK_NS / WORKER_BUDGET as i64;
            if !self.gc_mark_work_available() {
                self.gc_mark_done(); // this assist may have finished the mark
            }
            if self.sched.allgs[g].gc_assist_bytes < 0 && !self.gc_park_assist(g) {
                continue; // credit came while we queued: steal it
            }
            return;
        }
    }
    // ANCHOR_END: gc_assist_alloc

    /// Go: gcDrainN. Scan until `scan_work` units are done or nothing is left: grey
    /// objects, then this P's write-barrier buffer, then root jobs. Returns the scan work
    /// done and the objects and jobs it took.
    pub(crate) fn gc_drain_n(&mut self, scan_work: i64) -> (i64, usize) {
        let start = self.scan_work_done();
        let mut units = 0;
        while self.scan_work_done() - start < scan_work {
            if self.has_grey() {
                self.gc_drain(1);
                units += 1;
            } else if !self.wbbuf.is_empty() {
                self.wb_buf_flush();
            } else if self.markroot_next_job() {
                units += 1;
            } else {
                break;
            }
        }
        (self.scan_work_done() - start, units)
    }

    // ANCHOR: gc_flush_bg_credit
    /// Go: gcFlushBgCredit. A worker's scan work pays the parked assists' debts first, in
    /// queue order (each one fully paid is readied); what is left becomes bgScanCredit.
    pub(crate) fn gc_flush_bg_credit(&mut self, scan_work: i64) {
        // ANCHOR: solution-gc_flush_bg_credit
        if self.sched.assist_queue.is_empty() {
            self.sched.bg_scan_credit += scan_work;
            return;
        }
        let mut scan_bytes = (scan_work as f64 * self.controller.assist_bytes_per_work) as i64;
        while scan_bytes > 0 {
            let Some(&g) = self.sched.assist_queue.front() else {
                break;
            };
            let gp = &mut self.sched.allgs[g];
            if scan_bytes + gp.gc_assist_bytes >= 0 {
                scan_bytes += gp.gc_assist_bytes;
                gp.gc_assist_bytes = 0;
                self.sched.assist_queue.pop_front();
                self.ready(g);
                self.sched.stats.wakes += 1;
            } else {
                gp.gc_assist_bytes += scan_bytes;
                scan_bytes = 0;
            }
        }
        if scan_bytes > 0 {
            self.sched.bg_scan_credit +=
                (scan_bytes as f64 * self.controller.assist_work_per_byte) as i64;
        }
        // ANCHOR_END: solution-gc_flush_bg_credit
    }
    // ANCHOR_END: gc_flush_bg_credit

    /// Go: gcParkAssist. Queue `g` to wait for credit; false (not parked) if credit is
    /// there after all. True also when the mark is over (nothing to wait for).
    fn gc_park_assist(&mut self, g: usize) -> bool {
        if !self.sched.gc_blacken_enabled {
            return true;
        }
        if self.sched.bg_scan_credit > 0 {
            return false;
        }
        self.sched.assist_queue.push_back(g);
        self.sched.allgs[g].status = GStatus::Waiting;
        self.sched.stats.parks += 1;
        true
    }

    /// Go: gcWakeAllAssists (mark termination): the mark is over, nobody owes anything.
    pub(crate) fn gc_wake_all_assists(&mut self) {
        while let Some(g) = self.sched.assist_queue.pop_front() {
            self.ready(g);
        }
    }

    /// Go: ready. Make a waiting goroutine runnable again.
    fn ready(&mut self, g: usize) {
        self.sched.allgs[g].status = GStatus::Runnable;
        if !self.sched.runq.contains(&g) {
            self.sched.runq.push_back(g);
        }
    }
}

#[cfg(all(test, not(miri)))] // the heap maps memory; miri cannot
mod tests {
    use crate::heap::Heap;
    use crate::proc::GStatus;

    #[test]
    fn background_credit_pays_parked_assists_in_queue_order_then_banks_the_rest() {
        let mut h = Heap::new();
        h.start_machine(2);
        let (a, b) = (h.new_g(), h.new_g());
        h.gc_start();
        // One unit of scan work per byte, both ways, to read the arithmetic plainly.
        h.controller.assist_bytes_per_work = 1.0;
        h.controller.assist_work_per_byte = 1.0;
        h.sched.allgs[a].gc_assist_bytes = -1000;
        h.sched.allgs[b].gc_assist_bytes = -5000;
        assert!(h.gc_park_assist(a) && h.gc_park_assist(b));
        assert_eq!(h.sched.allgs[b].status, GStatus::Waiting);
        h.sched.runq.clear();
        // 3000 pays a's 1000 (a is readied) and 2000 of b's 5000 (b waits on).
        h.gc_flush_bg_credit(3000);
        assert_eq!(h.sched.allgs[a].status, GStatus::Runnable);
        assert_eq!(h.sched.allgs[a].gc_assist_bytes, 0);
        assert_eq!(h.sched.allgs[b].status, GStatus::Waiting);
        assert_eq!(h.sched.allgs[b].gc_assist_bytes, -3000);
        assert_eq!(h.sched.bg_scan_credit, 0);
        assert_eq!(Vec::from(h.sched.runq.clone()), vec![a]);
        // 4000 pays b's 3000; 1000 is left as credit, and a new assist takes it instead of
        // parking.
        h.gc_flush_bg_credit(4000);
        assert_eq!(h.sched.allgs[b].status, GStatus::Runnable);
        assert_eq!(h.sched.bg_scan_credit, 1000);
        assert!(h.sched.assist_queue.is_empty());
        h.sched.allgs[a].gc_assist_bytes = -10;
        assert!(
            !h.gc_park_assist(a),
            "credit is there: steal it, do not park"
        );
        // With nobody queued, all the work is banked.
        h.gc_flush_bg_credit(500);
        assert_eq!(h.sched.bg_scan_credit, 1500);
        h.gc_finish();
    }

    #[test]
    fn an_assist_steals_credit_before_it_scans() {
        let mut h = Heap::new();
        h.start_machine(1);
        h.gc_start();
        h.controller.assist_bytes_per_work = 1.0;
        h.controller.assist_work_per_byte = 1.0;
        h.sched.bg_scan_credit = 1 << 20; // more than an assist's gcOverAssistWork
        let g = h.sched.cur_g;
        h.sched.allgs[g].gc_assist_bytes = -100;
        // The ratios are revised from the heap first; read what the assist will use.
        h.update_mem_stats();
        h.controller.revise();
        let bytes_per_work = h.controller.assist_bytes_per_work;
        h.gc_assist_alloc(g);
        let over = super::GC_OVER_ASSIST_WORK;
        assert_eq!(
            h.sched.bg_scan_credit,
            (1 << 20) - over,
            "took gcOverAssistWork"
        );
        assert_eq!(h.sched.stats.assists, 0, "and scanned nothing");
        assert_eq!(
            h.sched.allgs[g].gc_assist_bytes,
            -100 + (bytes_per_work * over as f64) as i64
        );
        h.gc_finish();
    }
}
