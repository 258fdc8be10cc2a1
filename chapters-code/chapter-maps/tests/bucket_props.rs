//! The classic map against `std::collections::HashMap` over random operation sequences.
//!
//! Keys come from a small range so sequences revisit them, grow the map through several
//! doublings, and (with the colliding hasher) build long overflow chains and same-size grows.
//! (The properties sit in a module named `bucket_map` so that `cargo test -p chapter-maps
//! bucket` selects them.)

mod bucket_map {
    use std::collections::{HashMap, HashSet};
    use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

    use chapter_maps::BucketMap;
    use proptest::prelude::*;

    /// A terrible hash: 4 buckets' worth of low bits and a handful of tophash values, so
    /// chains grow long and same-size grows happen.
    #[derive(Default)]
    struct Colliding(u64);

    impl Hasher for Colliding {
        fn finish(&self) -> u64 {
            (self.0 & 3) | (self.0 % 7) << 58
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = self.0.wrapping_mul(31).wrapping_add(u64::from(b));
            }
        }
        fn write_u64(&mut self, x: u64) {
            self.0 = x; // Drops the seed: the key alone decides.
        }
        fn write_u16(&mut self, x: u16) {
            self.0 = u64::from(x);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Get(u16),
        GetMut(u16, u32),
        Clear,
        Iter,
    }

    fn op(keys: u16) -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => (0..keys).prop_map(Op::Remove),
            2 => (0..keys).prop_map(Op::Get),
            1 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::GetMut(k, v)),
            1 => Just(Op::Iter),
            // Rare, so the map usually gets big between clears.
            1 => prop::bool::weighted(0.1).prop_map(|c| if c { Op::Clear } else { Op::Iter }),
        ]
    }

    fn run<S: BuildHasher>(mut m: BucketMap<u16, u32, S>, ops: &[Op]) -> Result<(), TestCaseError> {
        let mut model: HashMap<u16, u32> = HashMap::new();
        for op in ops {
            match *op {
                Op::Insert(k, v) => prop_assert_eq!(m.insert(k, v), model.insert(k, v)),
                Op::Remove(k) => prop_assert_eq!(m.remove(&k), model.remove(&k)),
                Op::Get(k) => {
                    prop_assert_eq!(m.get(&k), model.get(&k));
                    prop_assert_eq!(m.contains_key(&k), model.contains_key(&k));
                }
                Op::GetMut(k, v) => {
                    let (a, b) = (m.get_mut(&k), model.get_mut(&k));
                    prop_assert_eq!(a.is_some(), b.is_some());
                    if let (Some(a), Some(b)) = (a, b) {
                        *a = v;
                        *b = v;
                    }
                }
                Op::Clear => {
                    m.clear();
                    model.clear();
                }
                Op::Iter => {
                    let got: Vec<(u16, u32)> = m.iter().map(|(k, v)| (*k, *v)).collect();
                    let distinct: HashSet<u16> = got.iter().map(|(k, _)| *k).collect();
                    prop_assert_eq!(distinct.len(), got.len(), "a key came out twice");
                    let got: HashMap<u16, u32> = got.into_iter().collect();
                    prop_assert_eq!(&got, &model);
                }
            }
            prop_assert_eq!(m.len(), model.len());
            prop_assert_eq!(m.is_empty(), model.is_empty());
        }
        for (k, v) in &model {
            prop_assert_eq!(m.get(k), Some(v));
        }
        let (_, max) = m.probe_lengths();
        prop_assert!(model.is_empty() || max >= 1);
        Ok(())
    }

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: if cfg!(miri) { 2 } else { 128 },
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    const OPS: usize = if cfg!(miri) { 60 } else { 600 };

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn behaves_like_std_hashmap(ops in prop::collection::vec(op(400), 1..OPS)) {
            run(BucketMap::new(), &ops)?;
        }

        #[test]
        fn behaves_like_std_hashmap_with_a_colliding_hash(
            ops in prop::collection::vec(op(120), 1..OPS),
        ) {
            run(BucketMap::with_hasher(BuildHasherDefault::<Colliding>::default()), &ops)?;
        }

        #[test]
        fn behaves_like_std_hashmap_when_presized(
            hint in 0usize..300,
            ops in prop::collection::vec(op(400), 1..OPS),
        ) {
            let m = BucketMap::with_capacity_and_hasher(hint, ahash::RandomState::new());
            run(m, &ops)?;
        }
    }
}
