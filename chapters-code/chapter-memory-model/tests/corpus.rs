//! The race corpus: every program in go/races/ exists twice, as Go and as `.mm`. Real Go's
//! `go run -race` verdict for each is in golden/races.txt (made by go/racecorpus); the
//! crate must reach the same verdict, naming the same two accesses, in every schedule.

use chapter_memory_model::{exec, program};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// (program name, Go's verdict) for every line of the golden file.
fn golden() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("golden/races.txt")).expect("golden/races.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (name, verdict) = l.split_once(' ').expect("NAME VERDICT");
            (name.to_string(), verdict.to_string())
        })
        .collect()
}

/// The `@LABEL` words of a text: in Go, those inside `//` comments; in `.mm`, those outside
/// `#` comments.
fn labels(text: &str, go: bool) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            if go {
                l.split_once("//").map(|(_, c)| c)
            } else {
                l.split('#').next()
            }
        })
        .flat_map(str::split_whitespace)
        .filter(|w| w.starts_with('@'))
        .map(str::to_string)
        .collect()
}

// ANCHOR: corpus_test
#[test]
#[cfg_attr(
    miri,
    ignore = "thousands of schedules; the unit tests cover the mechanism under miri"
)]
fn every_program_gets_gos_verdict_in_every_schedule() {
    let mut wrong = Vec::new();
    for (name, want) in golden() {
        let file = root().join(format!("go/races/{name}/{name}.mm"));
        let src =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let prog = program::parse(&format!("{name}.mm"), &src).unwrap_or_else(|e| panic!("{e}"));
        match exec::stable_verdict(&prog, 64) {
            Ok(got) if got == want => {}
            Ok(got) => wrong.push(format!("{name}: go says `{want}`, the crate says `{got}`")),
            Err(e) => wrong.push(format!("{name}: the verdict depends on the schedule: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
// ANCHOR_END: corpus_test

#[test]
fn the_corpus_is_big_and_has_both_verdicts() {
    let g = golden();
    assert!(g.len() >= 30, "only {} programs", g.len());
    let racy = g.iter().filter(|(_, v)| v.starts_with("race ")).count();
    let free = g.iter().filter(|(_, v)| v == "no race").count();
    assert!(racy >= 10 && free >= 10, "{racy} racy, {free} race-free");
    assert_eq!(
        racy + free,
        g.len(),
        "every verdict is `race …` or `no race`"
    );
}

#[test]
fn each_go_program_and_its_twin_label_the_same_accesses() {
    for (name, verdict) in golden() {
        let dir = root().join(format!("go/races/{name}"));
        let go = std::fs::read_to_string(dir.join("main.go")).expect("main.go");
        let mm = std::fs::read_to_string(dir.join(format!("{name}.mm"))).expect(".mm");
        let (go_labels, mm_labels) = (labels(&go, true), labels(&mm, false));
        assert_eq!(go_labels, mm_labels, "{name}: labels differ");
        // Every access a verdict names is labelled in both.
        for w in verdict
            .split([' ', ',', ';'])
            .filter(|w| w.starts_with('@'))
        {
            assert!(
                go_labels.contains(w),
                "{name}: {w} is not a label of main.go"
            );
        }
    }
}
