//! A P's local run queue: a 256-slot ring plus the one-slot `runnext` (Go: p.runq, p.runnext,
//! and runqput / runqget / runqgrab / runqsteal in proc.go).
//!
//! Only the owning P puts; anyone may take. So `tail` is written by one thread and `head`
//! advances by compare-and-swap. The orderings are Go's: `LoadAcq` of head and tail,
//! `StoreRel` of tail, `CasRel` of head.

use crate::g::G;
use crate::sync::{AtomicPtr, AtomicU32, Ordering};
use core::ptr::null_mut;

/// Slots in the ring. Go uses 256; loom explores a 4-slot ring so that overflow is reachable.
pub const RUNQ_LEN: u32 = if cfg!(loom) { 4 } else { 256 };

/// Go: p.runqhead, p.runqtail, p.runq, p.runnext.
pub struct RunQ {
    head: AtomicU32,
    tail: AtomicU32,
    buf: Box<[AtomicPtr<G>]>,
    /// A G readied by the running G, run next and inheriting the time slice.
    runnext: AtomicPtr<G>,
}

impl Default for RunQ {
    fn default() -> Self {
        RunQ {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            buf: (0..RUNQ_LEN).map(|_| AtomicPtr::new(null_mut())).collect(),
            runnext: AtomicPtr::new(null_mut()),
        }
    }
}

impl RunQ {
    fn slot(&self, i: u32) -> &AtomicPtr<G> {
        &self.buf[(i % RUNQ_LEN) as usize]
    }

    // ANCHOR: runqput
    /// Go: runqput. Owner only. With `next`, `gp` takes runnext and the G it displaces goes
    /// to the tail. When the ring is full, half of it and `gp` go to `overflow` (the global
    /// queue) in one batch: Go's runqputslow.
    pub fn put(&self, mut gp: *mut G, next: bool, overflow: &mut dyn FnMut(&[*mut G])) {
        if next {
            let old = self.runnext.swap(gp, Ordering::AcqRel);
            if old.is_null() {
                return;
            }
            gp = old; // kick the old runnext out to the regular queue
        }
        loop {
            let h = self.head.load(Ordering::Acquire); // synchronize with consumers
            let t = self.tail.load(Ordering::Relaxed); // we are the only writer
            if t.wrapping_sub(h) < RUNQ_LEN {
                self.slot(t).store(gp, Ordering::Relaxed);
                self.tail.store(t.wrapping_add(1), Ordering::Release); // publish the slot
                return;
            }
            if self.put_slow(gp, h, t, overflow) {
                return;
            }
            // A thief moved head meanwhile: the ring has room again.
        }
    }
    // ANCHOR_END: runqput

    /// Go: runqputslow. Moves the older half of a full ring plus `gp` to the global queue.
    fn put_slow(&self, gp: *mut G, h: u32, t: u32, overflow: &mut dyn FnMut(&[*mut G])) -> bool {
        let n = t.wrapping_sub(h) / 2;
        debug_assert_eq!(n, RUNQ_LEN / 2, "runqputslow: queue is not full");
        let mut batch: Vec<*mut G> = (0..n)
            .map(|i| self.slot(h.wrapping_add(i)).load(Ordering::Relaxed))
            .collect();
        if self
            .head
            .compare_exchange(h, h.wrapping_add(n), Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        batch.push(gp);
        overflow(&batch);
        true
    }

    // ANCHOR: runqget
    /// Go: runqget. Owner only. Returns the G and whether it inherits the current time slice
    /// (true for runnext: a G readied by the running one shares its slice).
    pub fn get(&self) -> Option<(*mut G, bool)> {
        let next = self.runnext.load(Ordering::Acquire);
        // runnext may be stolen concurrently, so take it with a CAS; nobody else sets it.
        if !next.is_null()
            && self
                .runnext
                .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            return Some((next, true));
        }
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Relaxed);
            if t == h {
                return None;
            }
            let gp = self.slot(h).load(Ordering::Relaxed);
            if self
                .head
                .compare_exchange(h, h.wrapping_add(1), Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return Some((gp, false));
            }
        }
    }
    // ANCHOR_END: runqget

    // ANCHOR: runqgrab
    /// Go: runqgrab. Copies half (rounded up) of this ring into `batch` starting at
    /// `batch_head`, and commits by moving head. With `steal_runnext` and an empty ring, takes
    /// runnext instead — after `back_off()` if the owner may be about to run it.
    pub fn grab(
        &self,
        batch: &RunQ,
        batch_head: u32,
        steal_runnext: bool,
        back_off: &dyn Fn(),
    ) -> u32 {
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Acquire);
            let n = t.wrapping_sub(h);
            let n = n - n / 2;
            if n == 0 {
                if steal_runnext {
                    let next = self.runnext.load(Ordering::Acquire);
                    if !next.is_null() {
                        back_off();
                        if self
                            .runnext
                            .compare_exchange(next, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                            .is_err()
                        {
                            continue;
                        }
                        batch.slot(batch_head).store(next, Ordering::Relaxed);
                        return 1;
                    }
                }
                return 0;
            }
            if n > RUNQ_LEN / 2 {
                continue; // h and t were read at different moments: retry
            }
            for i in 0..n {
                let gp = self.slot(h.wrapping_add(i)).load(Ordering::Relaxed);
                batch
                    .slot(batch_head.wrapping_add(i))
                    .store(gp, Ordering::Relaxed);
            }
            if self
                .head
                .compare_exchange(h, h.wrapping_add(n), Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return n;
            }
        }
    }
    // ANCHOR_END: runqgrab

    // ANCHOR: runqsteal
    /// Go: runqsteal. Called by the owner of `self`: steals half of `victim`'s ring into our
    /// own and returns one G to run now.
    pub fn steal(&self, victim: &RunQ, steal_runnext: bool, back_off: &dyn Fn()) -> Option<*mut G> {
        // ANCHOR: solution-runqsteal
        let t = self.tail.load(Ordering::Relaxed);
        let mut n = victim.grab(self, t, steal_runnext, back_off);
        if n == 0 {
            return None;
        }
        n -= 1;
        let gp = self.slot(t.wrapping_add(n)).load(Ordering::Relaxed);
        if n == 0 {
            return Some(gp);
        }
        let h = self.head.load(Ordering::Acquire);
        if t.wrapping_sub(h).wrapping_add(n) >= RUNQ_LEN {
            crate::throw("runqsteal: runq overflow");
        }
        self.tail.store(t.wrapping_add(n), Ordering::Release);
        Some(gp)
        // ANCHOR_END: solution-runqsteal
    }
    // ANCHOR_END: runqsteal

    /// Go: runqempty. True only if both the ring and runnext were empty at one moment.
    pub fn is_empty(&self) -> bool {
        // Go reads head, tail, runnext, then re-reads tail to be sure the three belong together:
        // a runqput that moves runnext to the tail must not be seen as "empty" in passing.
        loop {
            let h = self.head.load(Ordering::Acquire);
            let t = self.tail.load(Ordering::Acquire);
            let next = self.runnext.load(Ordering::Acquire);
            if t == self.tail.load(Ordering::Acquire) {
                return h == t && next.is_null();
            }
        }
    }

    /// Number of Gs in the ring (not counting runnext), as schedtrace prints it.
    pub fn len(&self) -> u32 {
        let h = self.head.load(Ordering::Acquire);
        let t = self.tail.load(Ordering::Acquire);
        t.wrapping_sub(h).min(RUNQ_LEN)
    }

    /// Whether runnext holds a G.
    pub fn has_runnext(&self) -> bool {
        !self.runnext.load(Ordering::Acquire).is_null()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn g(i: usize) -> *mut G {
        std::ptr::without_provenance_mut(i * 8) // never dereferenced: the queue only moves pointers
    }
    fn id(p: *mut G) -> usize {
        p as usize / 8
    }

    // ANCHOR: runnext_test
    #[test]
    fn runnext_is_lifo_of_one_and_the_ring_is_fifo() {
        let q = RunQ::default();
        let mut spill = |_: &[*mut G]| panic!("no overflow expected");
        for i in 1..=4 {
            q.put(g(i), true, &mut spill); // like newproc: each new G takes runnext
        }
        let order: Vec<_> = std::iter::from_fn(|| q.get())
            .map(|(gp, inherit)| (id(gp), inherit))
            .collect();
        // The last G spawned runs first, inheriting the slice; the others follow in order.
        assert_eq!(order, [(4, true), (1, false), (2, false), (3, false)]);
    }
    // ANCHOR_END: runnext_test

    #[test]
    fn a_full_ring_spills_half_and_the_new_g_to_the_global_queue() {
        let q = RunQ::default();
        let mut global = Vec::new();
        for i in 1..=RUNQ_LEN as usize + 1 {
            q.put(g(i), false, &mut |b| {
                global.extend(b.iter().map(|&p| id(p)))
            });
        }
        let half = RUNQ_LEN as usize / 2;
        assert_eq!(
            global,
            (1..=half)
                .chain([RUNQ_LEN as usize + 1])
                .collect::<Vec<_>>()
        );
        assert_eq!(q.len() as usize, half);
    }

    #[test]
    fn steal_takes_half_rounded_up_and_runnext_only_when_asked() {
        let victim = RunQ::default();
        let thief = RunQ::default();
        let mut spill = |_: &[*mut G]| unreachable!();
        for i in 1..=5 {
            victim.put(g(i), false, &mut spill);
        }
        victim.put(g(9), true, &mut spill);
        let gp = thief.steal(&victim, false, &|| {}).unwrap();
        // 5 in the ring: 3 taken (5 - 5/2); the last one is returned to run, 2 stay queued.
        assert_eq!(id(gp), 3);
        assert_eq!((thief.len(), victim.len()), (2, 2));
        let rest: Vec<_> = std::iter::from_fn(|| thief.get())
            .map(|(p, _)| id(p))
            .collect();
        assert_eq!(rest, [1, 2]);
        while thief.steal(&victim, false, &|| {}).is_some() {}
        assert!(
            victim.has_runnext(),
            "runnext is left alone until the last pass"
        );
        assert_eq!(
            thief.steal(&victim, true, &|| {}).map(id),
            Some(9),
            "last pass takes runnext"
        );
    }
}

#[cfg(loom)]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    fn g(i: usize) -> *mut G {
        std::ptr::without_provenance_mut(i * 8)
    }

    // ANCHOR: loom_runq
    /// The owner puts and gets while a thief steals (runnext included): every G comes out
    /// exactly once, whichever way the threads interleave, including through overflow.
    #[test]
    fn loom_every_g_is_taken_exactly_once() {
        loom::model(|| {
            let q = Arc::new(RunQ::default());
            let thief = {
                let q = q.clone();
                thread::spawn(move || {
                    let mine = RunQ::default();
                    let mut got = Vec::new();
                    if let Some(gp) = mine.steal(&q, true, &|| {}) {
                        got.push(gp as usize);
                        while let Some((gp, _)) = mine.get() {
                            got.push(gp as usize);
                        }
                    }
                    got
                })
            };
            let mut global = Vec::new();
            let mut got = Vec::new();
            for i in 1..=RUNQ_LEN as usize + 1 {
                q.put(g(i), i == 2, &mut |b| {
                    global.extend(b.iter().map(|&p| p as usize))
                });
            }
            if let Some((gp, _)) = q.get() {
                got.push(gp as usize);
            }
            let stolen = thief.join().unwrap();
            while let Some((gp, _)) = q.get() {
                got.push(gp as usize);
            }
            let mut all: Vec<usize> = got.into_iter().chain(stolen).chain(global).collect();
            all.sort();
            let want: Vec<usize> = (1..=RUNQ_LEN as usize + 1).map(|i| i * 8).collect();
            assert_eq!(all, want);
        });
    }
    // ANCHOR_END: loom_runq
}
