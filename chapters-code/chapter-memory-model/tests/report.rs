//! What a race report looks like: `cargo run -p chapter-memory-model --example race --
//! go/races/mp_read_before_recv/mp_read_before_recv.mm` prints this, and exits with 66 as
//! `go run -race` does.

use chapter_memory_model::{exec, program};

// ANCHOR: report
const REPORT: &str = "\
==================
WARNING: DATA RACE
Read at x by main goroutine:
  mp_read_before_recv.mm:7 @B

Previous write at x by goroutine 2:
  mp_read_before_recv.mm:12 @A
==================
";
// ANCHOR_END: report

#[test]
fn a_report_names_both_accesses_like_gos() {
    let src = include_str!("../go/races/mp_read_before_recv/mp_read_before_recv.mm");
    let prog = program::parse("mp_read_before_recv.mm", src).unwrap();
    // Whichever access runs first, the report names the same two: try every seed's order.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..32 {
        let run = exec::run(&prog, seed);
        assert_eq!(run.races.len(), 1, "seed {seed}");
        seen.insert(exec::report(&prog, &run.races[0]));
    }
    assert!(seen.contains(REPORT), "{seen:#?}");
    // In the other order the write finds the read: the roles swap, the pair stays.
    assert!(seen.iter().all(|r| r.contains("@A") && r.contains("@B")));
}
