//! The classic map's growth rules: load factor 6.5, makemap's choice of B, incremental
//! evacuation and same-size grows. Go 1.23: runtime/map.go.
//!
//! (The tests sit in a module named `bucket_map` so that `cargo test -p chapter-maps bucket`
//! selects them.)

mod bucket_map {
    use chapter_maps::bucket::{
        over_load_factor, too_many_overflow_buckets, tophash, BucketMap, EMPTY_ONE, MIN_TOP_HASH,
    };
    use chapter_maps::testing::{spread_keys as keys, Ident};

    const N: usize = if cfg!(miri) { 120 } else { 2000 };

    #[test]
    fn the_map_doubles_exactly_when_count_exceeds_6_5_entries_per_bucket() {
        let mut m = BucketMap::new();
        let mut grew_at = Vec::new();
        let mut b = m.shape().b;
        for (n, k) in keys(N).enumerate() {
            m.insert(k, n);
            let s = m.shape();
            if s.b != b {
                assert_eq!(s.b, b + 1, "always exactly one doubling");
                assert!(!s.same_size_grow);
                grew_at.push(n + 1);
                b = s.b;
            }
            assert!(!over_load_factor(s.count, s.b));
        }
        // 8 entries fit in one bucket; after that 6.5 × 2^B: 13, 26, 52, 104, …
        let expect: Vec<usize> = [9, 14, 27, 53, 105, 209, 417, 833, 1665]
            .into_iter()
            .filter(|&n| n <= N)
            .collect();
        assert_eq!(grew_at, expect);
    }

    #[test]
    fn over_load_factor_is_6_5_per_bucket_but_never_below_one_full_bucket() {
        assert!(!over_load_factor(8, 0) && over_load_factor(9, 0));
        assert!(!over_load_factor(13, 1) && over_load_factor(14, 1));
        assert!(!over_load_factor(8, 1) && !over_load_factor(9, 1));
        assert!(!over_load_factor(6656, 10) && over_load_factor(6657, 10));
        assert!(!too_many_overflow_buckets(7, 3) && too_many_overflow_buckets(8, 3));
        // Above B = 15 the threshold stops at 2^15: noverflow is only an estimate there.
        assert!(too_many_overflow_buckets(1 << 15, 20));
    }

    #[test]
    fn with_capacity_picks_b_like_makemap() {
        let cases: &[(usize, u8)] = &[
            (0, 0),
            (1, 0),
            (8, 0),
            (9, 1),
            (13, 1),
            (14, 2),
            (26, 2),
            (27, 3),
            (52, 3),
            (53, 4),
            (104, 4),
            (105, 5),
            (1000, 8),
            (6656, 10),
            (6657, 11),
        ];
        for &(hint, b) in cases {
            if cfg!(miri) && hint > 1000 {
                continue;
            }
            let m: BucketMap<u8, u8> = BucketMap::with_capacity(hint);
            assert_eq!(m.shape().b, b, "hint {hint}");
            // makemap's rule: the smallest B with the hint not over the load factor.
            let smallest = (0..64u8).find(|&b| !over_load_factor(hint, b)).unwrap();
            assert_eq!(b, smallest);
        }
        // B = 0 allocates nothing until the first insert (makemap_small / makemap with B 0).
        let mut m: BucketMap<u64, u64> = BucketMap::with_capacity(8);
        assert_eq!((m.heap_bytes(), m.shape().buckets), (0, 0));
        m.insert(1, 1);
        assert_eq!(m.heap_bytes(), BucketMap::<u64, u64>::bucket_size());
    }

    #[test]
    fn make_bucket_array_preallocates_overflow_buckets_from_b_4() {
        let m: BucketMap<u64, u64> = BucketMap::with_capacity(104);
        let s = m.shape();
        // B = 4: 16 buckets + 2^0 overflow = 17 × 144 = 2448 B, rounded up to the 2688-byte
        // size class: 18 buckets, so 2 spare overflow buckets.
        assert_eq!((s.b, s.buckets, s.spare_overflow_buckets), (4, 16, 2));
        assert_eq!(m.heap_bytes(), 18 * 144);
        let m: BucketMap<u64, u64> = BucketMap::with_capacity(105);
        let s = m.shape();
        // B = 5: 34 × 144 = 4896 B → the 5376-byte class holds 37 buckets.
        assert_eq!((s.b, s.buckets, s.spare_overflow_buckets), (5, 32, 5));
    }

    #[test]
    fn a_grow_is_incremental_each_write_evacuates_at_most_two_old_buckets() {
        // B = 5 → 6 at the 209th insert: 32 old buckets to move.
        let all: Vec<u64> = keys(400).collect();
        let mut m = BucketMap::new();
        for &k in &all[..208] {
            m.insert(k, k);
        }
        assert_eq!((m.shape().b, m.shape().growing), (5, false));
        let before = m.heap_bytes();

        m.insert(all[208], all[208]);
        let s = m.shape();
        assert!(s.growing && !s.same_size_grow);
        assert_eq!((s.b, s.old_buckets), (6, 32));
        assert!(
            (1..=2).contains(&s.evacuated),
            "the triggering write already helps"
        );
        assert!(
            m.heap_bytes() > before,
            "both arrays are alive during a grow"
        );

        let mut writes = 1;
        let mut next = 209;
        let mut evacuated = s.evacuated;
        while m.shape().growing {
            // Reads do no grow work.
            for k in &all[..next] {
                assert_eq!(m.get(k), Some(k));
            }
            assert_eq!(m.shape().evacuated, evacuated);
            let bytes = m.heap_bytes();
            // Alternate inserts and deletes of absent keys: both are writes.
            if writes % 2 == 0 {
                m.insert(all[next], all[next]);
                next += 1;
            } else {
                assert_eq!(m.remove(&u64::MAX), None);
            }
            writes += 1;
            let s = m.shape();
            if !s.growing {
                assert!(
                    m.heap_bytes() < bytes,
                    "the old array is freed when the grow ends"
                );
            }
            let now = if s.growing { s.evacuated } else { 32 };
            assert!(
                (1..=2).contains(&(now - evacuated)),
                "moved {}",
                now - evacuated
            );
            evacuated = now;
        }
        assert!(
            writes >= 16,
            "32 buckets at ≤ 2 per write need ≥ 16 writes, took {writes}"
        );
        for k in &all[..next] {
            assert_eq!(m.get(k), Some(k));
        }
    }

    #[test]
    fn too_many_overflow_buckets_triggers_a_same_size_grow_that_repacks_the_chains() {
        // B = 2 (4 buckets); with the identity hash, key 4j + r lives in bucket r.
        let mut m: BucketMap<u64, u64, Ident> =
            BucketMap::with_capacity_and_hasher(26, Ident::default());
        // Churn: fill each bucket past 8 (one overflow bucket each), then delete all but one
        // key. Never more than 12 live entries: far below the 26 that would double the map.
        for r in 0..4 {
            for j in 0..9 {
                m.insert(4 * j + r, j);
            }
            for j in 1..9 {
                m.remove(&(4 * j + r));
            }
            assert!(!m.shape().growing);
        }
        let s = m.shape();
        assert_eq!(
            (s.count, s.b, s.noverflow, s.overflow_buckets),
            (4, 2, 4, 4)
        );
        assert!(too_many_overflow_buckets(s.noverflow, s.b));

        m.insert(100 * 4 + 3, 100); // The next write starts a same-size grow.
        let s = m.shape();
        assert!(s.growing && s.same_size_grow);
        assert_eq!((s.b, s.old_buckets, s.evacuated, s.noverflow), (2, 4, 2, 0));
        for r in 0..4 {
            assert_eq!(m.get(&r), Some(&0));
        }
        m.remove(&u64::MAX);
        m.remove(&u64::MAX);
        let s = m.shape();
        assert!(!s.growing && !s.same_size_grow);
        assert_eq!(
            (s.b, s.count, s.overflow_buckets),
            (2, 5, 0),
            "chains packed again"
        );
        assert_eq!(m.probe_lengths(), (1.0, 1));
    }

    #[test]
    fn churn_at_a_constant_size_ends_in_same_size_grows_never_doubling() {
        // 96 live keys in 16 buckets (6 each); keep replacing the oldest with a new key.
        let steps = if cfg!(miri) { 0 } else { 50_000 };
        let all: Vec<u64> = keys(96 + steps).collect();
        let mut m = BucketMap::with_capacity(104);
        for &k in &all[..96] {
            m.insert(k, ());
        }
        let (mut same_size_grows, mut was_growing) = (0, false);
        let mut observe = |m: &BucketMap<u64, ()>| {
            let s = m.shape();
            assert_eq!(
                s.b, 4,
                "the load never exceeds 6.5, so the map never doubles"
            );
            if s.growing && !was_growing {
                assert!(s.same_size_grow);
                same_size_grows += 1;
            }
            was_growing = s.growing;
        };
        for i in 0..steps {
            m.insert(all[96 + i], ());
            observe(&m);
            m.remove(&all[i]);
            observe(&m);
        }
        if !cfg!(miri) {
            assert!(same_size_grows > 0);
        }
        assert_eq!(m.len(), 96);
    }

    #[test]
    fn tophash_is_never_below_min_top_hash_for_full_slots() {
        for top in 0..=255u64 {
            let t = tophash(top << 56 | 0xabcdef);
            assert!(t >= MIN_TOP_HASH);
            assert_eq!(u64::from(t), if top < 5 { top + 5 } else { top });
        }
        // Keys whose top byte is 0..5 share tophash 5..10 with keys whose top byte is 5..10:
        // the tophash only filters, the key comparison decides.
        let mut m: BucketMap<u64, u64, Ident> = BucketMap::default();
        let ks: Vec<u64> = (0..10u64).map(|top| top << 56 | top).collect();
        for &k in &ks {
            m.insert(k, k);
        }
        for &k in &ks {
            assert_eq!(m.get(&k), Some(&k));
        }
        m.remove(&ks[0]);
        let full = m
            .bucket_tophashes()
            .iter()
            .flatten()
            .flatten()
            .filter(|&&t| {
                assert!(
                    t <= EMPTY_ONE || t >= MIN_TOP_HASH,
                    "only empties or full slots"
                );
                t >= MIN_TOP_HASH
            })
            .count();
        assert_eq!(full, m.len());
    }

    #[test]
    fn clear_keeps_the_buckets_but_drops_overflow_and_ends_a_grow() {
        let mut m: BucketMap<u64, u64, Ident> =
            BucketMap::with_capacity_and_hasher(26, Ident::default());
        for k in 0..27 {
            m.insert(4 * k, k); // All in bucket 0: overflow chains, and the 27th starts a grow.
        }
        assert!(m.shape().growing);
        m.clear();
        let s = m.shape();
        assert_eq!(
            (s.count, s.b, s.growing, s.overflow_buckets, s.noverflow),
            (0, 3, false, 0, 0)
        );
        assert_eq!(
            m.heap_bytes(),
            8 * BucketMap::<u64, u64, Ident>::bucket_size()
        );
        assert_eq!(m.get(&0), None);
        m.insert(7, 7);
        assert_eq!(m.get(&7), Some(&7));
    }

    #[test]
    fn probe_lengths_count_overflow_hops() {
        let mut m: BucketMap<u64, u64, Ident> = BucketMap::default();
        assert_eq!(m.probe_lengths(), (0.0, 0));
        for k in 0..8 {
            m.insert(k << 1, k); // 8 keys in bucket 0 of 1: one probe each.
        }
        assert_eq!(m.probe_lengths(), (1.0, 1));
        let mut m: BucketMap<u64, u64, Ident> =
            BucketMap::with_capacity_and_hasher(26, Ident::default());
        for k in 0..20 {
            m.insert(4 * k, k); // Bucket 0: 8 + 8 + 4 over a chain of three buckets.
        }
        let (avg, max) = m.probe_lengths();
        assert_eq!(max, 3);
        assert!((avg - (8.0 + 16.0 + 12.0) / 20.0).abs() < 1e-9);
    }
}
