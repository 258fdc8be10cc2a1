//! Happens-before: the Go memory model's synchronizing edges, as Go's race detector draws them.
//!
//! Every synchronizing operation is an *acquire* (the goroutine joins a sync object's clock
//! into its own), a *release* (it leaves its clock in the object), or both. Which object and
//! which of the two is exactly what package sync and the channel code tell the race runtime
//! (race.Acquire, race.Release, race.ReleaseMerge in sync; racenotify and racesync in
//! runtime/chan.go; racegostart in runtime/proc.go newproc1). [`Hb`] keeps the clocks and, for
//! every shared word, the [`VarState`] that FastTrack checks each access against.

use crate::fasttrack::{Access, Kind, Race, VarState};
use crate::program::Site;
use crate::vclock::{Tid, VClock};
use std::collections::HashMap;

/// The addresses Go's race runtime synchronizes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncAddr {
    /// `c.raceaddr()`: close releases here, a receive that sees the close acquires.
    ChanClose(usize),
    /// `chanbuf(c, i)`: one buffer slot (slot 0 also serves unbuffered hand-offs).
    ChanSlot(usize, usize),
    /// A `sync.Mutex` (internal/sync/mutex.go: race.Acquire in Lock, race.Release in Unlock).
    Mutex(usize),
    /// `&rw.readerSem` and `&rw.writerSem` of a `sync.RWMutex` (sync/rwmutex.go).
    ReaderSem(usize),
    WriterSem(usize),
    /// The `sync.WaitGroup` itself (sync/waitgroup.go).
    WaitGroup(usize),
    /// A word used by sync/atomic: the race runtime treats each atomic as an acquire (load),
    /// a release (store) or both (read-modify-write).
    Atomic(usize),
}

/// Clocks of goroutines and sync objects, and the detector's view of every word.
pub struct Hb {
    clocks: Vec<VClock>,
    sync: HashMap<SyncAddr, VClock>,
    vars: Vec<VarState>,
    names: Vec<String>,
    /// Every race found, once per pair of sites (Go reports each pair of PCs once).
    pub races: Vec<Race>,
}

impl Hb {
    /// A detector for words named `names`, with the main goroutine (tid 0) running.
    pub fn new(names: Vec<String>) -> Hb {
        let mut main = VClock::default();
        main.tick(0);
        Hb {
            clocks: vec![main],
            sync: HashMap::new(),
            vars: vec![VarState::default(); names.len()],
            names,
            races: Vec::new(),
        }
    }

    pub fn clock(&self, t: Tid) -> &VClock {
        &self.clocks[t]
    }

    // The four primitives, named for the race runtime's entry points.

    /// `raceacquire`: `C_t := C_t ⊔ S`.
    pub fn acquire(&mut self, t: Tid, a: SyncAddr) {
        if let Some(s) = self.sync.get(&a) {
            self.clocks[t].join(s);
        }
    }

    /// `racerelease` (tsan's ReleaseStore): `S := C_t`, then `t` moves on.
    pub fn release(&mut self, t: Tid, a: SyncAddr) {
        self.sync.insert(a, self.clocks[t].clone());
        self.clocks[t].tick(t);
    }

    /// `race.ReleaseMerge`: `S := S ⊔ C_t`, so that several releasers all reach the acquirer.
    pub fn release_merge(&mut self, t: Tid, a: SyncAddr) {
        self.sync.entry(a).or_default().join(&self.clocks[t]);
        self.clocks[t].tick(t);
    }

    // ANCHOR: release_store_acquire
    /// `racereleaseacquire` (tsan's ReleaseStoreAcquire): a swap. The slot keeps the
    /// goroutine's clock from *before* this operation, and the goroutine acquires what the
    /// slot had. So a buffer slot passes knowledge from each operation to the next one on
    /// that slot: from a send to its receive, and from the k-th receive to the (k+C)-th send.
    /// What a receive learnt from its send is not passed on: the relay does not chain.
    pub fn release_store_acquire(&mut self, t: Tid, a: SyncAddr) {
        // ANCHOR: solution-release_store_acquire
        let before = self.clocks[t].clone();
        if let Some(s) = self.sync.insert(a, before) {
            self.clocks[t].join(&s);
        }
        self.clocks[t].tick(t);
        // ANCHOR_END: solution-release_store_acquire
    }
    // ANCHOR_END: release_store_acquire

    /// `go f()` (racegostart): the child starts knowing everything its parent knew.
    pub fn go_start(&mut self, parent: Tid) -> Tid {
        let child = self.clocks.len();
        let mut c = self.clocks[parent].clone();
        c.tick(child);
        self.clocks.push(c);
        self.clocks[parent].tick(parent);
        child
    }

    // ANCHOR: racenotify
    /// A buffered send or receive through slot `idx` of channel `c` (runtime/chan.go
    /// racenotify). With a zero-size element Go allocates no buffer, so every slot is the
    /// same address and the channel keeps one clock for all of them: it orders more than
    /// the memory model promises.
    pub fn chan_slot(&mut self, t: Tid, c: usize, idx: usize, zero_size: bool) {
        if zero_size {
            self.acquire(t, SyncAddr::ChanSlot(c, 0));
            self.release(t, SyncAddr::ChanSlot(c, 0));
        } else {
            self.release_store_acquire(t, SyncAddr::ChanSlot(c, idx));
        }
    }
    // ANCHOR_END: racenotify

    /// An unbuffered hand-off between `cur` and the blocked `other` (runtime/chan.go
    /// racesync): each side ends up knowing what the other knew, so the send happens before
    /// the receive completes and the receive before the send completes.
    pub fn chan_sync(&mut self, cur: Tid, other: Tid, c: usize) {
        let a = SyncAddr::ChanSlot(c, 0);
        self.release(cur, a);
        self.acquire(other, a);
        self.release(other, a);
        self.acquire(cur, a);
    }

    /// A plain (`atomic == false`) or sync/atomic read of word `v`.
    pub fn read(&mut self, t: Tid, v: usize, atomic: bool, site: &Site) {
        let found = self.vars[v].read(t, &self.clocks[t], atomic, site);
        self.report(v, Kind::Read, atomic, t, site, found);
        if atomic {
            self.acquire(t, SyncAddr::Atomic(v));
        }
    }

    /// A plain or sync/atomic write of word `v`; `rmw` for Add and CompareAndSwap.
    pub fn write(&mut self, t: Tid, v: usize, atomic: bool, rmw: bool, site: &Site) {
        let found = self.vars[v].write(t, &self.clocks[t], atomic, site);
        self.report(v, Kind::Write, atomic, t, site, found);
        match (atomic, rmw) {
            (true, false) => self.release(t, SyncAddr::Atomic(v)),
            // tsan's ReleaseAcquire: both sides end with the join.
            (true, true) => {
                self.acquire(t, SyncAddr::Atomic(v));
                self.release_merge(t, SyncAddr::Atomic(v));
            }
            _ => {}
        }
    }

    fn report(
        &mut self,
        v: usize,
        kind: Kind,
        atomic: bool,
        t: Tid,
        site: &Site,
        previous: Option<Access>,
    ) {
        let Some(previous) = previous else { return };
        let current = Access {
            kind,
            atomic,
            tid: t,
            site: site.clone(),
        };
        let same_pair = |r: &Race| {
            (r.current.site == current.site && r.previous.site == previous.site)
                || (r.current.site == previous.site && r.previous.site == current.site)
        };
        if !self.races.iter().any(same_pair) {
            self.races.push(Race {
                var: self.names[v].clone(),
                current,
                previous,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(l: &str) -> Site {
        Site {
            line: 1,
            label: Some(l.into()),
        }
    }

    #[test]
    fn a_go_statement_orders_the_parents_past_before_the_child() {
        let mut hb = Hb::new(vec!["x".into()]);
        hb.write(0, 0, false, false, &site("A"));
        let child = hb.go_start(0);
        hb.read(child, 0, false, &site("B"));
        assert!(hb.races.is_empty());
        // But what the parent does after the go statement is unordered with the child.
        hb.write(0, 0, false, false, &site("C"));
        assert_eq!(hb.races.len(), 1);
        assert_eq!(hb.races[0].previous.site, site("B"));
    }

    #[test]
    fn a_buffer_slot_carries_the_kth_receive_to_the_k_plus_cth_send() {
        // Capacity 1: send 1 and receive 1 use slot 0; so does send 2.
        let mut hb = Hb::new(vec!["x".into()]);
        let (a, b) = (hb.go_start(0), hb.go_start(0));
        hb.chan_slot(a, 0, 0, false); // a: send 1
        hb.write(b, 0, false, false, &site("W")); // b writes x, then receives 1
        hb.chan_slot(b, 0, 0, false);
        hb.chan_slot(a, 0, 0, false); // a: send 2 completes after receive 1
        hb.read(a, 0, false, &site("R"));
        assert!(hb.races.is_empty(), "{:?}", hb.races);
    }

    #[test]
    fn a_slot_does_not_relay_what_a_receive_learnt_from_its_send() {
        // Capacity 1: a sends (slot 0), b receives it, main sends again into slot 0.
        let mut hb = Hb::new(vec!["x".into()]);
        let (a, b) = (hb.go_start(0), hb.go_start(0));
        hb.write(a, 0, false, false, &site("A"));
        hb.chan_slot(a, 0, 0, false);
        hb.chan_slot(b, 0, 0, false);
        hb.chan_slot(0, 0, 0, false);
        hb.read(0, 0, false, &site("B"));
        assert_eq!(
            hb.races.len(),
            1,
            "send 1 -> receive 1 -> send 2 is not a chain"
        );
    }

    #[test]
    fn release_keeps_only_the_last_releaser_but_release_merge_keeps_all() {
        let mut hb = Hb::new(vec!["x".into(), "y".into()]);
        let (a, b, w) = (hb.go_start(0), hb.go_start(0), hb.go_start(0));
        hb.write(a, 0, false, false, &site("xa"));
        hb.write(b, 1, false, false, &site("yb"));
        hb.release_merge(a, SyncAddr::WaitGroup(0));
        hb.release_merge(b, SyncAddr::WaitGroup(0));
        hb.acquire(w, SyncAddr::WaitGroup(0));
        hb.read(w, 0, false, &site("rx"));
        hb.read(w, 1, false, &site("ry"));
        assert!(
            hb.races.is_empty(),
            "Done from both goroutines reaches Wait"
        );
        let w2 = hb.go_start(0);
        hb.release(a, SyncAddr::Mutex(0));
        hb.release(b, SyncAddr::Mutex(0));
        hb.acquire(w2, SyncAddr::Mutex(0));
        hb.read(w2, 0, false, &site("rx2"));
        assert_eq!(
            hb.races.len(),
            1,
            "a plain release overwrites: a's write is not ordered"
        );
    }
}
