//! Iteration over the classic map: a random start bucket and slot offset, every key exactly
//! once, even while a grow is half done. Go 1.23: runtime.mapiterinit / mapiternext.
//!
//! (The tests sit in a module named `bucket_map` so that `cargo test -p chapter-maps bucket`
//! selects them.)

mod bucket_map {
    use chapter_maps::testing::{spread_keys as keys, Ident};
    use std::collections::HashSet;

    use chapter_maps::BucketMap;

    fn assert_each_key_once<S: std::hash::BuildHasher>(m: &BucketMap<u64, u64, S>, expect: &[u64]) {
        let mut got: Vec<u64> = m
            .iter()
            .map(|(k, v)| {
                assert_eq!(k, v);
                *k
            })
            .collect();
        assert_eq!(m.iter().len(), expect.len());
        got.sort_unstable();
        let mut want = expect.to_vec();
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn iteration_returns_every_key_exactly_once_while_a_grow_is_in_progress() {
        // B = 6 → 7 at the 417th insert; 64 old buckets, evacuated two per write.
        let n = if cfg!(miri) { 105 } else { 417 };
        let ks: Vec<u64> = keys(n + 100).collect();
        let mut m = BucketMap::new();
        for &k in &ks[..n] {
            m.insert(k, k);
        }
        let s = m.shape();
        assert!(s.growing && !s.same_size_grow && s.evacuated < s.old_buckets);
        // Walk it at every stage of the grow: some new buckets are filled, others still read
        // from an old bucket that splits between two of them.
        let mut live = ks[..n].to_vec();
        let mut next = n;
        while m.shape().growing {
            for _ in 0..if cfg!(miri) { 1 } else { 3 } {
                assert_each_key_once(&m, &live);
            }
            m.insert(ks[next], ks[next]);
            live.push(ks[next]);
            next += 1;
        }
        assert_each_key_once(&m, &live);
    }

    #[test]
    fn iteration_returns_every_key_once_during_a_same_size_grow() {
        // As in the growth tests: four overflow buckets in a 4-bucket map start a same-size grow.
        let mut m: BucketMap<u64, u64, Ident> =
            BucketMap::with_capacity_and_hasher(26, Ident::default());
        for r in 0..4 {
            for j in 0..9 {
                m.insert(4 * j + r, 4 * j + r);
            }
            for j in 1..9 {
                m.remove(&(4 * j + r));
            }
        }
        m.insert(403, 403);
        assert!(m.shape().same_size_grow && m.shape().growing);
        for _ in 0..10 {
            assert_each_key_once(&m, &[0, 1, 2, 3, 403]);
        }
    }

    #[test]
    fn iteration_order_differs_between_iterations() {
        let m: BucketMap<u64, u64> = keys(100).map(|k| (k, k)).collect();
        let orders: HashSet<Vec<u64>> = (0..20)
            .map(|_| m.iter().map(|(k, _)| *k).collect())
            .collect();
        // 16 start buckets × 8 slot offsets: 20 walks almost never repeat one order.
        assert!(orders.len() >= 10, "only {} distinct orders", orders.len());
        let firsts: HashSet<u64> = orders.iter().map(|o| o[0]).collect();
        assert!(firsts.len() >= 5, "the first key varies too");
    }

    #[test]
    fn even_a_one_bucket_map_starts_at_a_random_slot() {
        let m: BucketMap<u64, u64> = keys(8).map(|k| (k, k)).collect();
        assert_eq!(m.shape().buckets, 1);
        let firsts: HashSet<u64> = (0..200).map(|_| *m.iter().next().unwrap().0).collect();
        // The offset rotates the 8 slots; with 200 draws every rotation shows up.
        assert_eq!(firsts.len(), 8);
    }

    #[test]
    fn an_empty_map_iterates_nothing() {
        let mut m: BucketMap<u64, u64> = BucketMap::new();
        assert_eq!(m.iter().next(), None);
        m.insert(1, 1);
        m.remove(&1);
        assert_eq!(m.iter().count(), 0);
        assert_eq!(format!("{m:?}"), "{}");
        m.insert(2, 3);
        assert_eq!(format!("{m:?}"), "{2: 3}");
        assert_eq!((&m).into_iter().count(), 1);
    }
}
