//! SwissMap against what real go1.27.3 shows: golden/maporder.csv (properties of iteration),
//! golden/mapmem.csv (live bytes per entry) and golden/mapfatal.txt (the concurrent-write
//! message). The Go programs that printed them are in go/.

use chapter_maps::writing::{Fatal, CONCURRENT_MAP_WRITES};
use chapter_maps::SwissMap;
use std::collections::{HashMap, HashSet};

fn golden(name: &str) -> Vec<(String, String)> {
    let text = match name {
        "maporder" => include_str!("../golden/maporder.csv"),
        "mapmem" => include_str!("../golden/mapmem.csv"),
        _ => unreachable!(),
    };
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("entries"))
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_string(), b.to_string())
        })
        .collect()
}

/// The same experiments as go/maporder, on SwissMap.
fn order_properties() -> HashMap<&'static str, bool> {
    let mut m = SwissMap::new();
    for i in 0..100u32 {
        m.insert(i, i);
    }
    let mut first: HashMap<u32, u32> = HashMap::new();
    for _ in 0..10_000 {
        let (k, _) = m.iter().next().unwrap();
        *first.entry(*k).or_default() += 1;
    }
    let most = *first.values().max().unwrap();
    let mut same = 0;
    for _ in 0..100 {
        let a: Vec<u32> = m.iter().map(|(k, _)| *k).collect();
        let b: Vec<u32> = m.iter().map(|(k, _)| *k).collect();
        same += (a == b) as u32;
    }
    let mut p = HashMap::new();
    p.insert("every_key_of_100_is_sometimes_first", first.len() == 100);
    p.insert("no_key_is_first_in_20_percent_of_loops", most < 2000);
    p.insert("two_loops_same_order_below_15_of_100", same < 15);
    p
}

#[test]
#[cfg_attr(miri, ignore = "20,000 iterations: statistics, not memory safety")]
fn iteration_order_has_gos_randomness() {
    let ours = order_properties();
    let mut compared = 0;
    for (property, go) in golden("maporder") {
        if let Some(v) = ours.get(property.as_str()) {
            assert_eq!(v.to_string(), go, "{property}: ours {v}, go1.27.3 {go}");
            compared += 1;
        }
    }
    assert_eq!(compared, 3);
}

// ANCHOR: memory
/// Live bytes per entry of a map[uint64]uint64 built without a hint. Go's groups hold the same
/// 8 + 8 × (8 + 8) = 136 bytes as ours; Go rounds every allocation up to a size class and has
/// a few headers more, so the two agree within a quarter, and exactly in how the cost rises and
/// falls as tables fill and split.
#[test]
fn memory_per_entry_follows_go() {
    for (n, go) in golden("mapmem") {
        let n: u64 = n.parse().unwrap();
        let go: f64 = go.parse().unwrap();
        if cfg!(miri) && n > 1000 {
            continue;
        }
        let mut m = SwissMap::new();
        for i in 0..n {
            m.insert(i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i);
        }
        let ours = m.heap_bytes() as f64 / n as f64;
        assert!(
            (ours - go).abs() <= go * 0.25 + 8.0,
            "{n} entries: ours {ours:.1} B/entry, go1.27.3 {go} B/entry"
        );
    }
}
// ANCHOR_END: memory

#[test]
fn the_concurrent_write_message_is_gos() {
    let go = include_str!("../golden/mapfatal.txt").trim();
    assert_eq!(Fatal(CONCURRENT_MAP_WRITES).to_string(), go);
}

#[test]
fn keys_seen_once_in_every_iteration() {
    let mut m = SwissMap::new();
    for i in 0..5000u64 {
        m.insert(i, i);
    }
    let seen: HashSet<u64> = m.iter().map(|(k, _)| *k).collect();
    assert_eq!(seen.len(), 5000);
    assert_eq!(m.iter().count(), 5000);
}
