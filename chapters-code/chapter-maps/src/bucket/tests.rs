//! White-box tests: they look at tophash bytes and evacuation markers directly.

use super::bmap::Bmap;
use super::*;
use crate::testing::Ident;

#[test]
fn a_bucket_for_int64_keys_and_values_is_144_bytes_as_in_go() {
    assert_eq!(BucketMap::<u64, u64>::bucket_size(), 144);
    assert_eq!(std::mem::size_of::<Bmap<u64, u64>>(), 8 + 8 * 8 + 8 * 8 + 8);
}

#[test]
fn delete_turns_a_trailing_run_of_empty_one_into_empty_rest() {
    // One bucket (B = 0); keys 0..6 all land in it with tophash 5.
    let mut m: BucketMap<u64, u64, Ident> = BucketMap::default();
    for k in 0..6 {
        m.insert(k, k);
    }
    let chain = |m: &BucketMap<u64, u64, Ident>| m.bucket_tophashes()[0][0];
    assert_eq!(chain(&m), [5, 5, 5, 5, 5, 5, EMPTY_REST, EMPTY_REST]);

    // A hole in the middle stays EMPTY_ONE: lookups must look past it.
    m.remove(&2);
    assert_eq!(
        chain(&m),
        [5, 5, EMPTY_ONE, 5, 5, 5, EMPTY_REST, EMPTY_REST]
    );
    m.remove(&3);
    assert_eq!(
        chain(&m),
        [5, 5, EMPTY_ONE, EMPTY_ONE, 5, 5, EMPTY_REST, EMPTY_REST]
    );

    // Deleting the last full slot makes it, and the holes before it, EMPTY_REST.
    m.remove(&5);
    assert_eq!(
        chain(&m),
        [5, 5, EMPTY_ONE, EMPTY_ONE, 5, EMPTY_REST, EMPTY_REST, EMPTY_REST]
    );
    m.remove(&4);
    assert_eq!(
        chain(&m),
        [5, 5, EMPTY_REST, EMPTY_REST, EMPTY_REST, EMPTY_REST, EMPTY_REST, 0]
    );
    assert_eq!(m.get(&1), Some(&1));
    assert_eq!(m.get(&4), None);
}

#[test]
fn empty_rest_propagates_back_through_an_overflow_chain() {
    // B = 1, keys 0, 2, 4, ... all hash to bucket 0: 10 of them need one overflow bucket.
    let mut m: BucketMap<u64, u64, Ident> =
        BucketMap::with_capacity_and_hasher(13, Ident::default());
    for j in 0..10 {
        m.insert(2 * j, j);
    }
    assert_eq!(m.bucket_tophashes()[0].len(), 2);
    // Empty the tail of the main bucket first (EMPTY_ONE: the overflow bucket still has keys)…
    for j in 5..8 {
        m.remove(&(2 * j));
    }
    assert_eq!(m.bucket_tophashes()[0][0][5..], [EMPTY_ONE; 3]);
    // …then the overflow bucket: the run of empties now reaches back into the main bucket.
    m.remove(&18);
    m.remove(&16);
    let chain = &m.bucket_tophashes()[0];
    assert_eq!(chain[1], [EMPTY_REST; 8]);
    assert_eq!(
        chain[0],
        [5, 5, 5, 5, 5, EMPTY_REST, EMPTY_REST, EMPTY_REST]
    );
    for j in 0..5 {
        assert_eq!(m.get(&(2 * j)), Some(&j));
    }
}

/// B = 2 with 26 keys: old bucket 0 holds 0, 4, …, 28, old bucket 1 holds 1, 5, 9, 13, old
/// buckets 2 and 3 hold seven keys each. The 27th insert doubles the map.
fn map_about_to_double() -> BucketMap<u64, u64, Ident> {
    let mut m = BucketMap::with_capacity_and_hasher(26, Ident::default());
    let keys = (0..8).map(|j| 4 * j).chain((0..4).map(|j| 4 * j + 1));
    for k in keys
        .chain((0..7).map(|j| 4 * j + 2))
        .chain((0..7).map(|j| 4 * j + 3))
    {
        m.insert(k, k);
    }
    assert_eq!((m.len(), m.shape().b, m.shape().growing), (26, 2, false));
    m
}

#[test]
fn evacuation_splits_a_bucket_into_x_and_y_and_marks_each_slot() {
    let mut m = map_about_to_double();
    m.insert(30, 30); // Bucket 2 (of 8): evacuates old bucket 2, then old bucket 0 (nevacuate).
    let (x, y, e) = (EVACUATED_X, EVACUATED_Y, EVACUATED_EMPTY);
    {
        let old = m.h.oldbuckets.as_ref().expect("growing");
        // Bit 2 of the key (the old 2^B = 4) decides: 0, 8, 16, 24 stay (X), 4, 12, … move (Y).
        assert_eq!(old.buckets[0].tophash, [x, y, x, y, x, y, x, y]);
        assert_eq!(old.buckets[2].tophash, [x, y, x, y, x, y, x, e]);
        assert!(!old.buckets[1].evacuated() && !old.buckets[3].evacuated());
        assert_eq!(m.h.nevacuate, 1);
    }
    let t = m.bucket_tophashes();
    assert_eq!(t[0][0], [5, 5, 5, 5, 0, 0, 0, 0]); // 0, 8, 16, 24
    assert_eq!(t[4][0], [5, 5, 5, 5, 0, 0, 0, 0]); // 4, 12, 20, 28
    assert_eq!(t[1][0], [0; 8]); // Old bucket 1 not moved yet: lookups still read it.
    assert_eq!(m.get(&13), Some(&13));

    m.remove(&1000); // 1000 & 7 = 0: old bucket 0 is done, so only nevacuate (1) moves.
    assert_eq!((m.shape().growing, m.h.nevacuate), (true, 3));
    m.remove(&1000); // Old bucket 3: the grow is over and the old array is freed.
    assert!(!m.shape().growing && m.h.oldbuckets.is_none());
    assert_eq!(m.len(), 27);
    for k in (0..31).filter(|k| *k != 29) {
        assert_eq!(
            m.get(&k),
            if k % 4 == 1 && k > 13 { None } else { Some(&k) }
        );
    }
}

#[test]
fn each_key_and_value_is_dropped_exactly_once_even_mid_grow() {
    use std::rc::Rc;
    let token = Rc::new(());
    let mut m: BucketMap<u64, Rc<()>, Ident> =
        BucketMap::with_capacity_and_hasher(26, Ident::default());
    for k in 0..27 {
        m.insert(k, Rc::clone(&token)); // The 27th insert starts a grow.
    }
    assert!(
        m.shape().growing,
        "some old buckets evacuated (markers), some not"
    );
    assert_eq!(Rc::strong_count(&token), 28);
    assert!(m.remove(&3).is_some());
    assert_eq!(Rc::strong_count(&token), 27);
    let old = m.insert(4, Rc::clone(&token));
    drop(old);
    assert_eq!(Rc::strong_count(&token), 27);
    drop(m);
    assert_eq!(Rc::strong_count(&token), 1);

    let mut m: BucketMap<u64, Rc<()>, Ident> =
        BucketMap::with_capacity_and_hasher(26, Ident::default());
    for k in 0..27 {
        m.insert(k, Rc::clone(&token));
    }
    m.clear();
    assert_eq!(Rc::strong_count(&token), 1);
    assert!(!m.shape().growing);
}

#[test]
fn an_emptied_map_gets_a_new_hash_seed() {
    let mut m: BucketMap<u64, u64> = BucketMap::new();
    m.insert(1, 1);
    let seed = m.h.hash0;
    m.insert(2, 2);
    m.remove(&1);
    assert_eq!(m.h.hash0, seed, "still one key: same seed");
    m.remove(&2);
    assert_ne!(m.h.hash0, seed, "mapdelete reseeds when count reaches 0");
    m.insert(3, 3);
    let seed = m.h.hash0;
    m.clear();
    assert_ne!(m.h.hash0, seed, "mapclear reseeds");
    assert_eq!(m.get(&3), None);
}
