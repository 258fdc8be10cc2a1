//! The order in which a thief visits the other Ps (Go: randomOrder, proc.go).
//!
//! Stealing always from P0 first would pile every thief onto the same victim. Go instead
//! starts at a random P and walks with a random step that is coprime to the number of Ps, so
//! each walk is a permutation of all of them, cheap to produce and different each time.

/// Go: randomOrder. Holds the steps coprime to `count`.
#[derive(Clone, Debug, Default)]
pub struct RandomOrder {
    count: u32,
    coprimes: Vec<u32>,
}

/// Go: randomEnum. One walk over all Ps.
#[derive(Clone, Debug)]
pub struct RandomEnum {
    i: u32,
    count: u32,
    pos: u32,
    inc: u32,
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl RandomOrder {
    /// Go: randomOrder.reset.
    pub fn new(count: u32) -> RandomOrder {
        let coprimes = (1..=count).filter(|&i| gcd(i, count) == 1).collect();
        RandomOrder { count, coprimes }
    }

    // ANCHOR: start
    /// Go: randomOrder.start. `i` is a random number: it picks both the first P and the step.
    pub fn start(&self, i: u32) -> RandomEnum {
        RandomEnum {
            i: 0,
            count: self.count,
            pos: i % self.count,
            inc: self.coprimes[(i / self.count) as usize % self.coprimes.len()],
        }
    }
    // ANCHOR_END: start
}

impl Iterator for RandomEnum {
    type Item = u32;
    /// The P to visit next (Go: done, next, position).
    fn next(&mut self) -> Option<u32> {
        if self.i == self.count {
            return None;
        }
        let p = self.pos;
        self.i += 1;
        self.pos = (self.pos + self.inc) % self.count;
        Some(p)
    }
}

/// Go: cheaprand, a per-M wyrand. Good enough to spread thieves; not for anything else.
#[derive(Clone, Debug)]
pub struct CheapRand(u64);

impl CheapRand {
    pub fn new(seed: u64) -> CheapRand {
        CheapRand(seed)
    }
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = (self.0 as u128) * ((self.0 ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) as u64 ^ t as u64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: permutation_test
    #[test]
    fn every_walk_visits_every_p_exactly_once() {
        for count in 1..=17 {
            let ord = RandomOrder::new(count);
            for i in 0..200 {
                let mut seen: Vec<u32> = ord.start(i).collect();
                seen.sort();
                assert_eq!(
                    seen,
                    (0..count).collect::<Vec<_>>(),
                    "count {count}, start {i}"
                );
            }
        }
    }
    // ANCHOR_END: permutation_test

    #[test]
    fn walks_differ_in_start_and_step() {
        let ord = RandomOrder::new(8);
        let walks: std::collections::HashSet<Vec<u32>> =
            (0..64).map(|i| ord.start(i).collect()).collect();
        // 8 starting points x 4 steps coprime to 8 (1, 3, 5, 7).
        assert_eq!(walks.len(), 32);
    }
}
