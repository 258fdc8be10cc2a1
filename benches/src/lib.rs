//! What the criterion benches in `benches/*.rs` share, and what keeps them like-for-like with
//! their Go twins in `go/`: the same keys, drawn from the same generator in the same order, and
//! one small trait so that every map implementation runs the very same loop.
//!
//! `cargo xtask bench` runs both sides and writes `results/*.json`; see `xtask/src/bench.rs`.

use std::hash::Hash;

/// Operations per timed phase: every map phase touches this many keys, the append loop pushes
/// this many elements. Go: `const N` in `go/maps_test.go`.
pub const N: usize = 1_000_000;

/// The seed of every key set, in both languages.
pub const SEED: u64 = 42;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, and trivially the same in Go (`go/keys_test.go`).
/// Its output is a bijection of a counter, so the first 2·N draws are all distinct: the "miss"
/// keys are guaranteed absent.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The keys of one benchmark family.
#[derive(Debug, Clone)]
pub struct Keys<K> {
    /// Insertion order: draws 0..N.
    pub insert: Vec<K>,
    /// The same keys shuffled (Fisher–Yates driven by draws 2N..): lookup and delete order.
    pub hit: Vec<K>,
    /// Draws N..2N, none of which is in the map.
    pub miss: Vec<K>,
}

fn draw_keys<K: Clone>(n: usize, mut make: impl FnMut(u64) -> K) -> Keys<K> {
    let mut rng = SplitMix64::new(SEED);
    let insert: Vec<K> = (0..n).map(|_| make(rng.next_u64())).collect();
    let miss: Vec<K> = (0..n).map(|_| make(rng.next_u64())).collect();
    let mut hit = insert.clone();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        hit.swap(i, j);
    }
    Keys { insert, hit, miss }
}

/// `map_u64`: the raw draws.
pub fn u64_keys(n: usize) -> Keys<u64> {
    draw_keys(n, |x| x)
}

/// `map_str16`: each draw as 16 lowercase hex digits (Go: `fmt.Sprintf("%016x", x)`).
pub fn str16_keys(n: usize) -> Keys<String> {
    draw_keys(n, |x| format!("{x:016x}"))
}

/// What the "iterate" phase folds from a key, so that the loop cannot be skipped.
pub trait KeyBits {
    fn bits(&self) -> u64;
}

impl KeyBits for u64 {
    #[inline]
    fn bits(&self) -> u64 {
        *self
    }
}

impl KeyBits for String {
    #[inline]
    fn bits(&self) -> u64 {
        self.len() as u64
    }
}

/// One map implementation under test, values always `u64`. Every method is a plain forward to
/// the map's own std-like API, so each bench loop is the same code for every implementation.
pub trait BenchMap<K>: Sized {
    /// The column name in the results (`impl` in the JSON).
    const IMPL: &'static str;
    /// An empty map with no size hint.
    fn empty() -> Self;
    fn put(&mut self, k: K, v: u64);
    fn lookup(&self, k: &K) -> Option<u64>;
    fn del(&mut self, k: &K) -> Option<u64>;
    /// Visits every entry and folds key bits and value.
    fn fold_entries(&self) -> u64;
    fn size(&self) -> usize;

    /// Inserts clones of `keys` (value = position), as the "insert" phase does.
    fn build(keys: &[K]) -> Self
    where
        K: Clone,
    {
        let mut m = Self::empty();
        for (i, k) in keys.iter().enumerate() {
            m.put(k.clone(), i as u64);
        }
        m
    }
}

/// `ours`: the chapter's Swiss table, hashed with ahash.
pub type Ours<K> = chapter_maps::SwissMap<K, u64, ahash::RandomState>;
/// `ours-bucket`: the chapter's pre-1.24 bucket map, hashed with ahash.
pub type OursBucket<K> = chapter_maps::BucketMap<K, u64, ahash::RandomState>;
/// `hashbrown+ahash`: the Swiss table std is built on, with the same hasher as ours.
pub type Hashbrown<K> = hashbrown::HashMap<K, u64, ahash::RandomState>;
/// `std`: std's HashMap with its default hasher, SipHash-1-3 (DoS-resistant, slower).
pub type Std<K> = std::collections::HashMap<K, u64>;

macro_rules! bench_map {
    ($ty:ident, $name:literal, $empty:expr) => {
        impl<K: Hash + Eq + KeyBits> BenchMap<K> for $ty<K> {
            const IMPL: &'static str = $name;
            #[inline]
            fn empty() -> Self {
                $empty
            }
            #[inline]
            fn put(&mut self, k: K, v: u64) {
                self.insert(k, v);
            }
            #[inline]
            fn lookup(&self, k: &K) -> Option<u64> {
                self.get(k).copied()
            }
            #[inline]
            fn del(&mut self, k: &K) -> Option<u64> {
                self.remove(k)
            }
            #[inline]
            fn fold_entries(&self) -> u64 {
                let mut s = 0u64;
                for (k, v) in self.iter() {
                    s = s.wrapping_add(k.bits()).wrapping_add(*v);
                }
                s
            }
            #[inline]
            fn size(&self) -> usize {
                self.len()
            }
        }
    };
}

bench_map!(Ours, "ours", Ours::with_hasher(ahash::RandomState::new()));
bench_map!(
    OursBucket,
    "ours-bucket",
    OursBucket::with_hasher(ahash::RandomState::new())
);
bench_map!(
    Hashbrown,
    "hashbrown+ahash",
    Hashbrown::with_hasher(ahash::RandomState::new())
);
bench_map!(Std, "std", Std::new());

/// `growslice/append_u64`, impl `std`: `Vec::push` and its own doubling.
pub fn append_std(n: usize) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..n as u64 {
        v.push(i);
    }
    v
}

/// `growslice/append_u64`, impl `ours`: a `Vec` grown by hand to exactly the capacity Go's
/// `append` picks (`chapter_maps::growslice::growslice`, 8-byte elements without pointers).
pub fn append_ours(n: usize) -> Vec<u64> {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..n as u64 {
        if v.len() == v.capacity() {
            let cap = chapter_maps::growslice::growslice(v.len() + 1, v.capacity(), 8, false)
                .expect("a million u64 fit");
            v.reserve_exact(cap - v.len());
        }
        v.push(i);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    // The same constants are asserted by `go/keys_test.go` (TestKeysMatchRust): if either
    // side's generator drifts, both test suites say so.
    const FIRST_DRAW: u64 = 0xbdd7_3226_2feb_6e95;

    #[test]
    fn splitmix64_reference_value() {
        assert_eq!(SplitMix64::new(SEED).next_u64(), FIRST_DRAW);
    }

    #[test]
    fn key_sets_match_go() {
        let k = u64_keys(N);
        let fold = |v: &[u64]| v.iter().fold(0u64, |a, &x| a.rotate_left(5) ^ x);
        assert_eq!(k.insert[0], FIRST_DRAW);
        assert_eq!(fold(&k.insert), KEYS_FOLD_INSERT, "{:#x}", fold(&k.insert));
        assert_eq!(fold(&k.hit), KEYS_FOLD_HIT, "{:#x}", fold(&k.hit));
        assert_eq!(fold(&k.miss), KEYS_FOLD_MISS, "{:#x}", fold(&k.miss));
        let s = str16_keys(3);
        assert_eq!(s.insert[0], format!("{FIRST_DRAW:016x}"));
        assert!(s.insert.iter().all(|k| k.len() == 16));
    }

    const KEYS_FOLD_INSERT: u64 = 0x661f_6b17_2caf_50fb;
    const KEYS_FOLD_HIT: u64 = 0xa3ac_32f9_4957_f39b;
    const KEYS_FOLD_MISS: u64 = 0x4838_00e4_0995_48e3;

    #[test]
    fn ours_append_matches_go_capacity() {
        // Go: cap(s) after a million appends to a nil []uint64 (go/keys_test.go).
        let v = append_ours(N);
        assert_eq!(v.len(), N);
        assert_eq!(v.capacity(), GO_APPEND_CAP, "{}", v.capacity());
    }

    const GO_APPEND_CAP: usize = 1_055_744;
}
