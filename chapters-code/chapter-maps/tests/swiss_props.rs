//! `SwissMap` against std's `HashMap`, and Go's rules for modifying a map while ranging over it.

use chapter_maps::SwissMap;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

/// Under miri (which checks the unsafe code, about 1000x slower) runs are shorter: a few ops
/// still reach grows and splits, and the full-size runs happen in the ordinary test run.
const OPS: usize = if cfg!(miri) { 24 } else { 200 };
const STR_OPS: usize = if cfg!(miri) { 60 } else { 300 };
/// The longest run of one range op. Under miri a run of 40 ops with several 1500-key ranges
/// took over a quarter of an hour; 64 keys still make a small map grow into a table.
const RANGE: u16 = if cfg!(miri) { 64 } else { 1500 };
const CURSOR_STEPS: usize = if cfg!(miri) { 40 } else { 300 };
/// The cursor test's starting size and longest insert run. Under miri a 1900-key map plus a
/// 1200-key run took most of a quarter of an hour; 200 keys still span several groups.
const CURSOR_INITIAL: u64 = if cfg!(miri) { 200 } else { 2000 };
const CURSOR_RANGE: u16 = if cfg!(miri) { 120 } else { 1200 };

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 2 } else { n },
        ..ProptestConfig::default()
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u64, u32),
    /// Insert `len` consecutive keys: a cheap way through grows, splits and directory doubling.
    InsertRange(u64, u16),
    Remove(u64),
    /// Remove `len` consecutive keys: tombstones, pruning, emptying the map (seed reset).
    RemoveRange(u64, u16),
    Get(u64),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..3000u64, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        1 => (0..3000u64, 0..RANGE).prop_map(|(k, n)| Op::InsertRange(k, n)),
        5 => (0..3000u64).prop_map(Op::Remove),
        1 => (0..3000u64, 0..RANGE).prop_map(|(k, n)| Op::RemoveRange(k, n)),
        5 => (0..3000u64).prop_map(Op::Get),
        1 => Just(Op::Clear),
    ]
}

proptest! {
    #![proptest_config(cases(96))]

    // ANCHOR: props_vs_std
    #[test]
    fn random_operations_agree_with_std_hashmap(ops in prop::collection::vec(op(), 0..OPS)) {
        let mut ours: SwissMap<u64, u32> = SwissMap::new();
        let mut std: HashMap<u64, u32> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => prop_assert_eq!(ours.insert(k, v), std.insert(k, v)),
                Op::InsertRange(k, n) => {
                    for k in k..k + n as u64 {
                        prop_assert_eq!(ours.insert(k, k as u32), std.insert(k, k as u32));
                    }
                }
                Op::Remove(k) => prop_assert_eq!(ours.remove(&k), std.remove(&k)),
                Op::RemoveRange(k, n) => {
                    for k in k..k + n as u64 {
                        prop_assert_eq!(ours.remove(&k), std.remove(&k));
                    }
                }
                Op::Get(k) => {
                    prop_assert_eq!(ours.get(&k), std.get(&k));
                    prop_assert_eq!(ours.contains_key(&k), std.contains_key(&k));
                }
                Op::Clear => {
                    ours.clear();
                    std.clear();
                }
            }
            prop_assert_eq!(ours.len(), std.len());
        }
        let mut a: Vec<(u64, u32)> = ours.iter().map(|(&k, &v)| (k, v)).collect();
        let mut b: Vec<(u64, u32)> = std.into_iter().collect();
        a.sort_unstable();
        b.sort_unstable();
        prop_assert_eq!(a, b);
        let s = ours.shape();
        prop_assert!(s.tables.iter().all(|t| t.capacity <= 1024 && (t.used + t.tombstones) * 8 <= t.capacity * 7));
    }
    // ANCHOR_END: props_vs_std

    #[test]
    fn string_keys_agree_with_std_hashmap(ops in prop::collection::vec((0..400u32, any::<bool>()), 0..STR_OPS)) {
        let mut ours: SwissMap<String, u32> = SwissMap::new();
        let mut std: HashMap<String, u32> = HashMap::new();
        for (k, insert) in ops {
            let key = format!("{k:016x}");
            if insert {
                prop_assert_eq!(ours.insert(key.clone(), k), std.insert(key, k));
            } else {
                prop_assert_eq!(ours.remove(key.as_str()), std.remove(key.as_str()));
            }
        }
        for (k, v) in &std {
            prop_assert_eq!(ours.get(k.as_str()), Some(v));
        }
        prop_assert_eq!(ours.len(), std.len());
    }
}

/// What the test does between two cursor steps.
#[derive(Debug, Clone)]
enum Step {
    Next,
    Insert(u64),
    Update(u64),
    Remove(u64),
    InsertRange(u64, u16),
    RemoveRange(u64, u16),
    Clear,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        20 => Just(Step::Next),
        4 => (0..4000u64).prop_map(Step::Insert),
        4 => (0..2000u64).prop_map(Step::Update),
        4 => (0..2000u64).prop_map(Step::Remove),
        1 => (0..4000u64, 0..CURSOR_RANGE).prop_map(|(k, n)| Step::InsertRange(k, n)),
        1 => (0..2000u64, 0..600u16).prop_map(|(k, n)| Step::RemoveRange(k, n)),
        // Rare: one in 40 of these is a clear, the rest plain steps.
        1 => (0..40u8).prop_map(|x| if x == 0 { Step::Clear } else { Step::Next }),
    ]
}

proptest! {
    #![proptest_config(cases(96))]

    /// Go's spec for `for k, v := range m` with writes in the loop body:
    /// a key is never returned twice (unless deleted and re-created, which makes it a new
    /// entry); a key deleted before it is reached is not returned; a key updated before it is
    /// reached is returned with its latest value; every key present throughout is returned
    /// exactly once; new keys may or may not be returned.
    #[test]
    fn cursor_keeps_gos_rules_under_random_writes(
        initial in 0..CURSOR_INITIAL,
        steps in prop::collection::vec(step(), 0..CURSOR_STEPS),
    ) {
        let mut m: SwissMap<u64, u64> = (0..initial).map(|k| (k, 0)).collect();
        let mut model: HashMap<u64, u64> = m.iter().map(|(&k, &v)| (k, v)).collect();
        let mut untouched: HashSet<u64> = model.keys().copied().collect(); // never removed
        let mut recreated: HashSet<u64> = HashSet::new(); // removed, then inserted again
        let mut removed: HashSet<u64> = HashSet::new();
        let mut returned: HashSet<u64> = HashSet::new();
        let mut version = 1u64;
        let mut it = m.cursor();
        let mut done = false;

        let mut insert = |m: &mut SwissMap<u64, u64>, model: &mut HashMap<u64, u64>,
                          removed: &HashSet<u64>, recreated: &mut HashSet<u64>, k: u64| {
            version += 1;
            m.insert(k, version);
            if model.insert(k, version).is_none() && removed.contains(&k) {
                recreated.insert(k);
            }
        };
        let remove = |m: &mut SwissMap<u64, u64>, model: &mut HashMap<u64, u64>,
                      removed: &mut HashSet<u64>, untouched: &mut HashSet<u64>, k: u64| {
            assert_eq!(m.remove(&k), model.remove(&k));
            removed.insert(k);
            untouched.remove(&k);
        };

        // Steps first, then drain the cursor. With no more writes it owes at most one more
        // key per entry left in the map, so it must end within len + 1 calls.
        let mut next = |m: &SwissMap<u64, u64>, model: &HashMap<u64, u64>,
                        returned: &mut HashSet<u64>, recreated: &HashSet<u64>| {
            match it.next(m) {
                None => Ok(true),
                Some((&k, &v)) => {
                    prop_assert_eq!(model.get(&k), Some(&v), "key {} is present with its latest value", k);
                    prop_assert!(returned.insert(k) || recreated.contains(&k), "key {} returned twice", k);
                    Ok(false)
                }
            }
        };
        for s in steps {
            match s {
                Step::Next => {
                    if !done {
                        done = next(&m, &model, &mut returned, &recreated)?;
                    }
                }
                Step::Insert(k) => insert(&mut m, &mut model, &removed, &mut recreated, k),
                Step::Update(k) => {
                    if model.contains_key(&k) {
                        insert(&mut m, &mut model, &removed, &mut recreated, k);
                    }
                }
                Step::Remove(k) => remove(&mut m, &mut model, &mut removed, &mut untouched, k),
                Step::InsertRange(k, n) => {
                    for k in k..k + n as u64 {
                        insert(&mut m, &mut model, &removed, &mut recreated, k);
                    }
                }
                Step::RemoveRange(k, n) => {
                    for k in k..k + n as u64 {
                        remove(&mut m, &mut model, &mut removed, &mut untouched, k);
                    }
                }
                Step::Clear => {
                    m.clear();
                    removed.extend(model.keys().copied());
                    model.clear();
                    untouched.clear();
                }
            }
            prop_assert_eq!(m.len(), model.len());
        }
        for _ in 0..=m.len() {
            if done {
                break;
            }
            done = next(&m, &model, &mut returned, &recreated)?;
        }
        prop_assert!(done, "the cursor ends");
        for k in &untouched {
            prop_assert!(returned.contains(k), "key {} present throughout but never returned", k);
        }
    }
}

#[test]
fn iteration_order_is_randomised_per_iteration() {
    // The first key over many fresh iterations of a 100-key map. Every key has at least a
    // 1-in-128 chance per iteration (the start slot is uniform over the 128-slot table), so
    // over 10 000 iterations all 100 keys show up (the chance one is missing is ~1e-32) and
    // none dominates (a key wins only if the start slot falls in the gap before it).
    let m: SwissMap<u64, u64> = (0..100).map(|k| (k, k)).collect();
    let trials = if cfg!(miri) { 200 } else { 10_000 };
    let mut first: HashMap<u64, usize> = HashMap::new();
    for _ in 0..trials {
        *first.entry(*m.iter().next().unwrap().0).or_default() += 1;
    }
    if !cfg!(miri) {
        assert_eq!(first.len(), 100, "every key is sometimes first");
        let max = *first.values().max().unwrap();
        assert!(
            max < trials / 10,
            "one key is first {max} times out of {trials}"
        );
    }
    // And two iterations rarely agree on the whole order.
    let a: Vec<u64> = m.keys().copied().collect();
    let same = (0..20)
        .filter(|_| m.keys().copied().collect::<Vec<_>>() == a)
        .count();
    assert!(same < 5, "{same} of 20 iterations repeated the order");
}

#[test]
fn a_fresh_map_gets_a_fresh_layout() {
    // Seeds differ per map: two maps with the same keys disagree on some slot placement,
    // visible as a different iteration order even from the same offsets on average.
    let orders: HashSet<Vec<u64>> = (0..8)
        .map(|_| {
            let m: SwissMap<u64, u64> = (0..20).map(|k| (k, k)).collect();
            let mut v: Vec<u64> = m.keys().copied().collect();
            let pos = v.iter().position(|&k| k == 0).unwrap();
            v.rotate_left(pos); // remove the effect of the random start
            v
        })
        .collect();
    assert!(orders.len() > 1);
}
