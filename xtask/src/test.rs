//! `cargo xtask test`: everything CI checks, as named stages run in order. Each stage installs
//! what it needs. `--only a,b` or `--skip a,b` pick stages while working on one of them;
//! CI always runs them all.

use crate::util::{self, cargo, step, Ctx, Result};
use crate::{assignment, bench, book, browser, golden, i18n, tools};
use std::process::Command;
use std::time::Instant;

type Stage = (&'static str, &'static str, fn(&Ctx) -> Result);

const STAGES: &[Stage] = &[
    ("unit", "rustfmt check and cargo test --workspace", unit),
    (
        "loom",
        "loom models (--cfg loom, release, own target dir)",
        loom,
    ),
    (
        "miri",
        "miri on the tests of unsafe code (pinned nightly)",
        miri,
    ),
    ("golden", "golden diff against real go1.27.3", |c| {
        golden::run(c, &[])
    }),
    (
        "bench",
        "criterion and Go benches in test mode; tables match results",
        bench::test_mode,
    ),
    (
        "book",
        "three-language book build, includes, translations, links",
        book_checks,
    ),
    (
        "browser",
        "the rendered site in headless Chromium",
        browser::run,
    ),
    (
        "aarch64",
        "aarch64 build and tests under qemu-user",
        aarch64,
    ),
    (
        "assignment",
        "generated assignments: starters build, their tests fail",
        |c| assignment::run(c, &["--check".to_string()]),
    ),
];

pub fn run(ctx: &Ctx, args: &[String]) -> Result {
    let pick = |flag: &str| -> Option<Vec<String>> {
        let i = args.iter().position(|a| a == flag)?;
        Some(
            args.get(i + 1)
                .map(|s| s.split(',').map(String::from).collect())
                .unwrap_or_default(),
        )
    };
    let only = pick("--only");
    let skip = pick("--skip").unwrap_or_default();
    for name in only.iter().flatten().chain(&skip) {
        if !STAGES.iter().any(|s| s.0 == name) {
            let names: Vec<_> = STAGES.iter().map(|s| s.0).collect();
            return Err(format!("no stage `{name}`; stages: {}", names.join(", ")));
        }
    }
    let mut times = Vec::new();
    let all = Instant::now();
    for (name, what, f) in STAGES {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == name))
            || skip.iter().any(|x| x == name)
        {
            continue;
        }
        step(&format!("stage {name}: {what}"));
        let t = Instant::now();
        f(ctx).map_err(|e| {
            format!(
                "stage `{name}` failed after {}s: {e}",
                t.elapsed().as_secs()
            )
        })?;
        eprintln!("    stage {name} passed in {}s", t.elapsed().as_secs());
        times.push((*name, t.elapsed().as_secs()));
    }
    eprintln!("\nall stages passed in {}s:", all.elapsed().as_secs());
    for (name, s) in times {
        eprintln!("  {name:<11} {s:>5}s");
    }
    Ok(())
}

/// The chapter crates that miri and the aarch64 build check: add a chapter here once its
/// tests pass under both.
const CHECKED_CRATES: &[&str] = &[
    "chapter-maps",
    "chapter-scheduler",
    "chapter-allocator",
    "chapter-mutex",
    "chapter-memory-model",
    "chapter-gc",
];

/// `-p NAME` for each crate.
fn packages(crates: &[&str]) -> Vec<String> {
    crates
        .iter()
        .flat_map(|c| ["-p".to_string(), c.to_string()])
        .collect()
}

fn unit(_: &Ctx) -> Result {
    util::run(cargo().args(["fmt", "--all", "--check"]))
        .map_err(|e| format!("{e}\n  the code is not formatted: run `cargo fmt --all`"))?;
    util::run(cargo().args(["test", "--workspace", "--quiet"]))
}

fn loom(ctx: &Ctx) -> Result {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--release",
        "--quiet",
        "-p",
        "chapter-maps",
        "-p",
        "chapter-scheduler",
        "-p",
        "chapter-allocator",
        "-p",
        "chapter-mutex",
        "-p",
        "chapter-memory-model",
        "-p",
        "chapter-gc",
        "--lib",
        "--",
        "loom_",
    ])
    .env("RUSTFLAGS", "--cfg loom")
    .env("LOOM_MAX_PREEMPTIONS", "3")
    .env("CARGO_TARGET_DIR", ctx.root.join("target").join("loom"));
    util::run(&mut cmd)
}

fn miri(ctx: &Ctx) -> Result {
    tools::ensure_miri()?;
    let mut cmd = Command::new("rustup");
    cmd.args([
        "run",
        tools::MIRI_NIGHTLY,
        "cargo",
        "miri",
        "test",
        "--quiet",
    ])
    .args(packages(CHECKED_CRATES))
    .env("CARGO_TARGET_DIR", ctx.root.join("target").join("miri"))
    .env("PROPTEST_CASES", "4")
    .env(
        "MIRIFLAGS",
        "-Zmiri-strict-provenance -Zmiri-disable-isolation",
    );
    // The examples read stdin; miri runs the library's and the integration tests' code only.
    cmd.args(["--lib", "--tests"]);
    util::run(&mut cmd)
}

fn book_checks(ctx: &Ctx) -> Result {
    book::build(ctx)?; // also checks the includes
    i18n::run(ctx, &["--check".to_string()])?;
    step("link check of the built site, offline, with #fragments (lychee)");
    let lychee = tools::ensure_lychee(ctx)?;
    util::run(
        Command::new(lychee)
            .current_dir(&ctx.root)
            .args([
                "--offline",
                "--include-fragments",
                "--no-progress",
                "--root-dir",
            ])
            .arg(ctx.root.join("book"))
            .arg("book"),
    )
}

fn aarch64(ctx: &Ctx) -> Result {
    tools::ensure_aarch64()?;
    let mut cmd = cargo();
    cmd.args(["test", "--quiet", "--target", "aarch64-unknown-linux-gnu"])
        .args(packages(CHECKED_CRATES))
        .env("CARGO_TARGET_DIR", ctx.root.join("target").join("aarch64"))
        .env("PROPTEST_CASES", "32");
    util::run(&mut cmd)
}
