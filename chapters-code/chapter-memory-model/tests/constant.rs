//! The crate's constant arithmetic against the real compiler: the whole corpus of
//! go/constants/cases.go and go/consterrors/cases.txt must print exactly what the Go
//! programs printed into golden/, and no input may make the checker panic.

use chapter_memory_model::constant::{oracle, Package, CASES_GO, ERROR_CASES};
use proptest::prelude::*;

fn golden(name: &str) -> String {
    let path = format!("{}/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Compare line by line first, so a failure names the case.
fn assert_same(name: &str, want: &str, got: &str) {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        assert_eq!(g, w, "{name}: line {} differs", i + 1);
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "{name}: line count"
    );
    assert_eq!(got, want);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the whole corpus is slow under miri, and Go's messages use math.Pow, which miri makes imprecise; the unit tests cover each rule"
)]
fn constants_corpus_matches_the_compiler() {
    let want = golden("constants");
    assert!(
        want.lines().count() >= 100,
        "the corpus has {} lines",
        want.lines().count()
    );
    assert_same("constants", &want, &oracle("constants", &want).unwrap());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the whole corpus is slow under miri, and Go's messages use math.Pow, which miri makes imprecise; the unit tests cover each rule"
)]
fn consterrors_corpus_matches_the_compiler() {
    let want = golden("consterrors");
    assert!(
        want.lines().count() >= 60,
        "the corpus has {} lines",
        want.lines().count()
    );
    assert_same("consterrors", &want, &oracle("consterrors", &want).unwrap());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the whole corpus is slow under miri, and Go's messages use math.Pow, which miri makes imprecise; the unit tests cover each rule"
)]
fn every_rejected_case_line_gets_a_message() {
    // Each line of cases.txt that declares something on its own must be rejected by itself:
    // checking it alone (after the helper declarations it names) gives at least one error.
    let errors = oracle("consterrors", "").unwrap();
    let lines: std::collections::BTreeSet<u32> = errors
        .lines()
        .map(|l| l.split(':').nth(1).unwrap().parse().unwrap())
        .collect();
    for (i, line) in ERROR_CASES.lines().enumerate() {
        let n = i as u32 + 3;
        if line.starts_with("const ") && !line.ends_with('(') && !lines.contains(&n) {
            // the helpers: valid declarations that later cases use
            assert!(
                [
                    "const t0 byte = 200",
                    "const t4 int8 = -128",
                    "const f64 float64 = 1.5"
                ]
                .contains(&line),
                "line {n} has no error: {line}"
            );
        }
    }
}

#[test]
fn the_corpus_files_are_the_go_programs_files() {
    assert!(CASES_GO.starts_with("package main"));
    assert!(CASES_GO.contains("var cases = []struct"));
    assert!(ERROR_CASES.contains("const b0 byte = 256"));
}

#[test]
fn oracle_knows_only_its_two_programs() {
    assert!(oracle("races", "").is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 2000 }))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let src = format!("package p\nconst x = {}\n", String::from_utf8_lossy(&bytes));
        let _ = Package::check(&src).errors("p.go");
    }

    #[test]
    fn token_soup_never_panics(toks in proptest::collection::vec(proptest::sample::select(vec![
        "1", "0", "-1", "1.5", "0x1p-2", "1e400", "1e-400", "'a'", "\"s\"", "`r`", "iota", "x", "b",
        "true", "len", "byte", "int8", "uint", "float32", "string", "rune", "bool",
        "+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "&^", "==", "<", ">=", "&&", "||", "!",
        "(", ")", ",", "=", "\n", "const", "1000", "1075", "512", "511",
    ]), 0..40)) {
        let src = format!("package p\nconst b byte = 1\nconst (\n\tx = {}\n\ty\n)\n", toks.join(" "));
        let mut p = Package::check(&src);
        let _ = p.errors("p.go");
        let _ = p.println("x");
        let _ = p.println(&toks.join(""));
    }
}
