//! Vector clocks and epochs, the arithmetic of happens-before.
//!
//! Every goroutine `t` keeps a vector clock `C_t`: entry `u` is the last moment of goroutine
//! `u` that `t` has heard of through synchronization. Event `a` (goroutine `u`, time `c`)
//! happens before the present of `t` exactly when `c <= C_t[u]`. An [`Epoch`] is that pair
//! `c@u`: one number instead of a whole vector, which is FastTrack's whole trick
//! (Flanagan and Freund, PLDI 2009), and what ThreadSanitizer v2 and Go's `-race` build on.

/// A goroutine's index in the detector (0 is the main goroutine, Go's goroutine 1).
pub type Tid = usize;

/// One moment of one goroutine: `clock@tid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch {
    pub tid: Tid,
    pub clock: u32,
}

impl Epoch {
    /// The epoch of "no access yet": it happens before everything.
    pub const ZERO: Epoch = Epoch { tid: 0, clock: 0 };

    /// `self ⪯ vc`: the moment is already known to the owner of `vc`.
    pub fn happens_before(self, vc: &VClock) -> bool {
        self.clock <= vc.get(self.tid)
    }
}

/// A vector clock. Missing entries are 0, so clocks grow as goroutines are born.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VClock(Vec<u32>);

impl VClock {
    pub fn get(&self, t: Tid) -> u32 {
        self.0.get(t).copied().unwrap_or(0)
    }

    pub fn set(&mut self, t: Tid, c: u32) {
        if self.0.len() <= t {
            self.0.resize(t + 1, 0);
        }
        self.0[t] = c;
    }

    /// Moves goroutine `t`'s own entry on: what it does next is a new moment.
    pub fn tick(&mut self, t: Tid) {
        self.set(t, self.get(t) + 1);
    }

    /// The current epoch of goroutine `t`, whose clock this is.
    pub fn epoch(&self, t: Tid) -> Epoch {
        Epoch {
            tid: t,
            clock: self.get(t),
        }
    }

    // ANCHOR: join
    /// `self := self ⊔ other`, the pointwise maximum: afterwards `self` has heard of
    /// everything `other` had heard of. Every acquire is a join.
    pub fn join(&mut self, other: &VClock) {
        // ANCHOR: solution-join
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, &theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(theirs);
        }
        // ANCHOR_END: solution-join
    }
    // ANCHOR_END: join

    /// `self ⊑ other`: every moment `self` knows, `other` knows too.
    pub fn leq(&self, other: &VClock) -> bool {
        self.0.iter().enumerate().all(|(t, &c)| c <= other.get(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vc(v: &[u32]) -> VClock {
        VClock(v.to_vec())
    }

    #[test]
    fn join_takes_the_pointwise_maximum() {
        let mut a = vc(&[3, 0, 7]);
        a.join(&vc(&[1, 5, 7, 2]));
        assert_eq!(a, vc(&[3, 5, 7, 2]));
    }

    #[test]
    fn an_epoch_happens_before_a_clock_that_has_heard_of_it() {
        let c = vc(&[4, 2]);
        assert!(Epoch { tid: 1, clock: 2 }.happens_before(&c));
        assert!(!Epoch { tid: 1, clock: 3 }.happens_before(&c));
        assert!(Epoch::ZERO.happens_before(&VClock::default()));
    }

    proptest! {
        /// A join is the least upper bound: above both inputs, and below any other bound.
        #[test]
        fn join_is_the_least_upper_bound(a in proptest::collection::vec(0u32..9, 0..5),
                                         b in proptest::collection::vec(0u32..9, 0..5),
                                         extra in proptest::collection::vec(0u32..3, 5)) {
            let (a, b) = (vc(&a), vc(&b));
            let mut j = a.clone();
            j.join(&b);
            prop_assert!(a.leq(&j) && b.leq(&j));
            // Any upper bound u of a and b is above the join.
            let u = VClock((0..5).map(|t| a.get(t).max(b.get(t)) + extra[t]).collect());
            prop_assert!(j.leq(&u));
        }
    }
}
