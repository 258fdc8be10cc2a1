//! FastTrack: a race detector that is exact for one execution and cheap on the common case.
//!
//! For every shared word the detector keeps who wrote it last, as an [`Epoch`], and who read
//! it since: usually one epoch too, because most words are read by one goroutine at a time,
//! and a full vector clock only while reads by several goroutines are unordered. Each access
//! compares the stored epochs with the accessing goroutine's clock; an access that is not
//! ordered after a conflicting one (two accesses, one a write, not both atomic) is a race.
//! ThreadSanitizer's shadow cells, which Go's `-race` uses, are a bounded cache of the same
//! information (runtime/race.go; compiler-rt tsan_rtl_access.cpp).

use crate::program::Site;
use crate::vclock::{Epoch, Tid, VClock};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
}

/// One memory access, as a race report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub kind: Kind,
    /// A sync/atomic operation: two atomic accesses never race with each other.
    pub atomic: bool,
    pub tid: Tid,
    pub site: Site,
}

/// Two conflicting accesses to one word, neither ordered before the other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Race {
    pub var: String,
    /// The access that found the race (Go's "Write at" / "Read at").
    pub current: Access,
    /// The earlier one (Go's "Previous write at" / "Previous read at").
    pub previous: Access,
}

/// What the detector remembers of one earlier access.
#[derive(Clone, Debug)]
struct Shadow {
    epoch: Epoch,
    atomic: bool,
    site: Site,
}

impl Shadow {
    fn access(&self, kind: Kind) -> Access {
        Access {
            kind,
            atomic: self.atomic,
            tid: self.epoch.tid,
            site: self.site.clone(),
        }
    }
}

// ANCHOR: varstate
/// FastTrack's state for one word: the last write, and the reads since it.
#[derive(Clone, Debug, Default)]
pub struct VarState {
    write: Option<Shadow>,
    reads: Reads,
}

#[derive(Clone, Debug, Default)]
enum Reads {
    /// No read since the last write.
    #[default]
    None,
    /// All reads since the last write are ordered: the last one stands for them.
    Exclusive(Shadow),
    /// Unordered reads by several goroutines: one per goroutine (a vector clock, with sites).
    Shared(Vec<Option<Shadow>>),
}
// ANCHOR_END: varstate

/// Do two accesses conflict if unordered? Not when both are atomic.
fn conflicts(prev: &Shadow, atomic: bool) -> bool {
    !(prev.atomic && atomic)
}

impl VarState {
    // ANCHOR: read
    /// Goroutine `t`, whose clock is `c`, reads the word. Returns the race it finds, if any.
    pub fn read(&mut self, t: Tid, c: &VClock, atomic: bool, site: &Site) -> Option<Access> {
        let now = c.epoch(t);
        let me = Shadow {
            epoch: now,
            atomic,
            site: site.clone(),
        };
        // Same epoch: this goroutine already read the word since its last sync.
        match &self.reads {
            Reads::Exclusive(r) if r.epoch == now && r.atomic == atomic => return None,
            Reads::Shared(v)
                if v.get(t)
                    .and_then(|r| r.as_ref())
                    .is_some_and(|r| r.epoch == now) =>
            {
                return None
            }
            _ => {}
        }
        // Write-read race: the last write must happen before this read.
        let race = match &self.write {
            Some(w) if !w.epoch.happens_before(c) && conflicts(w, atomic) => {
                Some(w.access(Kind::Write))
            }
            _ => None,
        };
        self.reads = match std::mem::take(&mut self.reads) {
            Reads::None => Reads::Exclusive(me),
            // The previous read is ordered before this one: this one now stands for both.
            Reads::Exclusive(r) if r.epoch.happens_before(c) => Reads::Exclusive(me),
            // Two unordered reads: not a race, but from now on remember one read per goroutine.
            Reads::Exclusive(r) => {
                let other = r.epoch.tid;
                let mut v = vec![None; other.max(t) + 1];
                v[other] = Some(r);
                v[t] = Some(me);
                Reads::Shared(v)
            }
            Reads::Shared(mut v) => {
                if v.len() <= t {
                    v.resize(t + 1, None);
                }
                v[t] = Some(me);
                Reads::Shared(v)
            }
        };
        race
    }
    // ANCHOR_END: read

    // ANCHOR: write
    /// Goroutine `t`, whose clock is `c`, writes the word. Returns the race it finds, if any.
    pub fn write(&mut self, t: Tid, c: &VClock, atomic: bool, site: &Site) -> Option<Access> {
        let now = c.epoch(t);
        if matches!(&self.write, Some(w) if w.epoch == now && w.atomic == atomic) {
            return None; // same epoch: nothing new to check
        }
        // Write-write race.
        let mut race = match &self.write {
            Some(w) if !w.epoch.happens_before(c) && conflicts(w, atomic) => {
                Some(w.access(Kind::Write))
            }
            _ => None,
        };
        // Read-write race: every read since the last write must happen before this write.
        if race.is_none() {
            race = match &self.reads {
                Reads::None => None,
                Reads::Exclusive(r) => (!r.epoch.happens_before(c) && conflicts(r, atomic))
                    .then(|| r.access(Kind::Read)),
                Reads::Shared(v) => v
                    .iter()
                    .flatten()
                    .find(|r| !r.epoch.happens_before(c) && conflicts(r, atomic))
                    .map(|r| r.access(Kind::Read)),
            };
        }
        // The reads are all ordered before this write now (or reported): forget them.
        self.reads = Reads::None;
        self.write = Some(Shadow {
            epoch: now,
            atomic,
            site: site.clone(),
        });
        race
    }
    // ANCHOR_END: write
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

    fn clock(entries: &[(Tid, u32)]) -> VClock {
        let mut c = VClock::default();
        for &(t, v) in entries {
            c.set(t, v);
        }
        c
    }

    #[test]
    fn an_unordered_write_after_a_write_is_a_race() {
        let mut x = VarState::default();
        assert_eq!(x.write(0, &clock(&[(0, 1)]), false, &site("A")), None);
        // Goroutine 1 has not heard of goroutine 0's moment 1.
        let prev = x
            .write(1, &clock(&[(1, 1)]), false, &site("B"))
            .expect("a race");
        assert_eq!(
            (prev.kind, prev.tid, prev.site),
            (Kind::Write, 0, site("A"))
        );
    }

    #[test]
    fn an_ordered_write_is_not_a_race() {
        let mut x = VarState::default();
        x.write(0, &clock(&[(0, 1)]), false, &site("A"));
        assert_eq!(
            x.write(1, &clock(&[(0, 1), (1, 1)]), false, &site("B")),
            None
        );
    }

    #[test]
    fn concurrent_reads_are_fine_but_a_write_must_follow_them_all() {
        let mut x = VarState::default();
        assert_eq!(x.read(0, &clock(&[(0, 1)]), false, &site("R0")), None);
        assert_eq!(x.read(1, &clock(&[(1, 1)]), false, &site("R1")), None);
        assert!(
            matches!(x.reads, Reads::Shared(_)),
            "two unordered reads inflate to a vector"
        );
        // Goroutine 2 has heard of goroutine 0's read, not of goroutine 1's.
        let prev = x
            .write(2, &clock(&[(0, 1), (2, 1)]), false, &site("W"))
            .expect("a race");
        assert_eq!(
            (prev.kind, prev.tid, prev.site),
            (Kind::Read, 1, site("R1"))
        );
    }

    #[test]
    fn atomic_accesses_race_only_with_plain_ones() {
        let mut x = VarState::default();
        x.write(0, &clock(&[(0, 1)]), true, &site("S0"));
        assert_eq!(x.write(1, &clock(&[(1, 1)]), true, &site("S1")), None);
        assert!(x
            .read(2, &clock(&[(2, 1)]), false, &site("plain"))
            .is_some());
    }
}
