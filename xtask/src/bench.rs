//! `cargo xtask bench [chapter] [--quick] [--render]`: runs a chapter's criterion benches
//! (`benches/benches/<chapter>.rs`) and their Go twins (`benches/go`), writes the medians to
//! `benches/results/<os>-<arch>-<cpu>.json` (one file per machine, merged chapter by chapter),
//! and regenerates `src/generated/bench-<chapter>.md` from every results file.
//!
//! Every number is nanoseconds per operation. A criterion iteration declares how many operations
//! it does as `Throughput::Elements(n)` (a maps phase over `N` keys, a spawn_join phase over its
//! tasks, the two yields of a ping-pong turn), so its times are divided by `n` here; the Go
//! benchmarks report per-operation ns/op themselves.
//!
//! A chapter may also have resident-memory programs ([`RSS`]): one Rust example per allocator
//! and a Go main package, each running the same workload and printing one JSON line with its
//! peak and final RSS in KiB. They go to the results file's `rss` list and to a second table.
//! In the same way a chapter may have lock-wait programs ([`WAITS`]): one Rust example per lock
//! and a Go main package, each printing the percentiles of the time its contenders waited in
//! Lock, for the results file's `lock_wait` list and a table of their own.
//!
//! `--quick` shortens criterion's warm-up and measurement and runs Go, the resident-memory and
//! the lock-wait programs once instead of five, three and three times.
//! `--render` only regenerates the tables from the committed JSON.
//! A chapter may also run its Go benchmarks a second time with a `GOEXPERIMENT` (Go built
//! another way, [`GO_EXPERIMENTS`]): the gc chapter's `go-classic` column is Go without Green
//! Tea (`GOEXPERIMENT=nogreenteagc`), beside plain Go's `go`.
//!
//! `cargo xtask test` calls [`test_mode`]: every bench once, and the tables must be up to date.

use crate::util::{self, cargo, step, Ctx, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Each chapter with benches: its criterion target (`benches/benches/<chapter>.rs`) and the Go
/// benchmark groups that are its twins (`func Benchmark_<group>` in `benches/go`). Bench ids are
/// `<group>/<phase>` in both languages (criterion: group `<group>`, function `<phase>`, value
/// the impl), or just `<group>` when a group has one phase (criterion:
/// `BenchmarkId::from_parameter(impl)`; Go: a `Benchmark_<group>` without sub-benchmarks).
const CHAPTERS: &[(&str, &[&str])] = &[
    ("maps", &["map_u64", "map_str16", "growslice"]),
    (
        "scheduler",
        &[
            "spawn_join",
            "gosched_pingpong",
            "park_ready_pingpong",
            "switch",
        ],
    ),
    ("allocator", &["alloc_window", "alloc_threads"]),
    (
        "mutex",
        &[
            "mutex_uncontended",
            "mutex_contended",
            "mutex_many",
            "rwmutex_read_mostly",
        ],
    ),
    (
        "memory-model",
        &[
            "atomic_load",
            "atomic_store",
            "atomic_add",
            "atomic_cas",
            "atomic_add_contended",
            "atomic_store_load_sb",
        ],
    ),
    (
        "gc",
        &[
            "gc_mark_tree",
            "gc_mark_graph",
            "gc_alloc_window",
            "gc_stw_pause",
        ],
    ),
];

/// Go built another way, as a second Go column: (chapter, impl, GOEXPERIMENT). The chapter's
/// Go benchmarks run once more with that GOEXPERIMENT (a runtime built without Green Tea),
/// and their rows are reported as `impl`; the plain run stays `go`.
const GO_EXPERIMENTS: &[(&str, &str, &str)] = &[("gc", "go-classic", "nogreenteagc")];

/// Chapters with resident-memory programs: (chapter, bench id, the `benches` examples, the Go
/// main package in `benches/go`). Each program runs one workload on one allocator and prints
/// one JSON line: `impl`, `peak_kib` (VmHWM), `final_kib` (VmRSS), optionally `released_kib`,
/// and the counts `objects`, `bytes`, `live`, which must be the same for every program of a
/// chapter (the proof that they all ran the same workload). With the argument `small` they run
/// a short workload, for `cargo xtask test`.
const RSS: &[(&str, &str, &[&str], &str)] = &[(
    "allocator",
    "rss_mixed",
    &["rss_ours", "rss_glibc", "rss_mimalloc"],
    "./rssmixed",
)];

/// Runs of each resident-memory program in a full run (a quick run uses 1): the row is the
/// median of each number.
const RSS_COUNT: usize = 3;

/// The title of a chapter's resident-memory table.
const RSS_TITLE: &str = "Resident memory, mixed workload (KiB)";

/// Ratio columns of the resident-memory table.
const RSS_RATIOS: &[(&str, &str, &str)] = &[
    ("ours/glibc", "ours", "glibc"),
    ("ours/mimalloc", "ours", "mimalloc"),
    ("ours/go", "ours", "go"),
];

/// Chapters with lock-wait programs: (chapter, bench id, the `benches` examples, the Go main
/// package in `benches/go`). Each program runs one contention workload on one lock and prints
/// one JSON line: `impl`, the percentiles `p50_ns`, `p99_ns`, `p999_ns` and `max_ns` of the
/// time a Lock call waited, and the counts `locks` and `state`, which must be the same for every
/// program of a chapter. With the argument `small` they run a short workload, for
/// `cargo xtask test`.
const WAITS: &[(&str, &str, &[&str], &str)] = &[(
    "mutex",
    "lock_wait",
    &["wait_ours", "wait_parking_lot", "wait_std"],
    "./lockwait",
)];

/// Runs of each lock-wait program in a full run (a quick run uses 1): the row is the median of
/// each number.
const WAIT_COUNT: usize = 3;

/// The title of a chapter's lock-wait table.
const WAIT_TITLE: &str =
    "Wait in Lock, 4 contenders on 2 Ps (goroutines) or 2 cores (threads) (ns)";

/// Ratio columns of the lock-wait table.
const WAIT_RATIOS: &[(&str, &str, &str)] = &[
    ("ours/go", "ours", "go"),
    ("ours/parking_lot", "ours", "parking_lot"),
];

/// Column order of the tables; an impl not listed here comes after, alphabetically.
const IMPLS: &[&str] = &[
    "ours",
    "go",
    "glibc",
    "mimalloc",
    "hashbrown+ahash",
    "std",
    "parking_lot",
    "ours-bucket",
    "tokio-ct",
    "tokio-mt",
    "rayon",
    "std-thread",
    "seqcst",
    "acqrel",
    "relaxed",
    "relaxed+fence",
    "ours-classic",
    "go-classic",
];

/// (header, numerator, denominator) of the ratio columns.
const RATIOS: &[(&str, &str, &str)] = &[
    ("ours/go", "ours", "go"),
    ("ours/hashbrown", "ours", "hashbrown+ahash"),
    ("ours/tokio-ct", "ours", "tokio-ct"),
    ("ours/mimalloc", "ours", "mimalloc"),
    ("ours/parking_lot", "ours", "parking_lot"),
    ("seqcst/go", "seqcst", "go"),
    ("seqcst/relaxed", "seqcst", "relaxed"),
    ("ours/go-classic", "ours", "go-classic"),
    ("ours-classic/go-classic", "ours-classic", "go-classic"),
];

const ALLOCATOR: &str =
    "Rust rows use the system allocator (glibc malloc) unless the row names another";

/// Go's `-count` in a full run (a quick run uses 1): the row is the median of the counts.
const GO_COUNT: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Machine {
    os: String,
    arch: String,
    cpu: String,
    cores: usize,
}

impl Machine {
    fn id(&self) -> String {
        format!("{}-{}-{}", self.os, self.arch, self.cpu)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    chapter: String,
    bench: String,
    #[serde(rename = "impl")]
    imp: String,
    median_ns: f64,
    min_ns: f64,
    max_ns: f64,
}

/// One resident-memory program's numbers (see [`RSS`]), in KiB.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct RssRow {
    chapter: String,
    bench: String,
    #[serde(rename = "impl")]
    imp: String,
    peak_kib: u64,
    final_kib: u64,
    /// What the allocator says it gave back to the OS over the run, where it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    released_kib: Option<u64>,
}

/// One lock-wait program's numbers (see [`WAITS`]), in ns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct WaitRow {
    chapter: String,
    bench: String,
    #[serde(rename = "impl")]
    imp: String,
    p50_ns: u64,
    p99_ns: u64,
    p999_ns: u64,
    max_ns: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ResultsFile {
    machine: Machine,
    rustc: String,
    go: String,
    date: String,
    allocator: String,
    results: Vec<Row>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    rss: Vec<RssRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lock_wait: Vec<WaitRow>,
}

struct Args {
    chapters: Vec<&'static str>,
    quick: bool,
    render: bool,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut a = Args {
        chapters: Vec::new(),
        quick: false,
        render: false,
    };
    for arg in args {
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--render" => a.render = true,
            s if s.starts_with('-') => return Err(format!("bench: unknown flag `{s}`")),
            s => match CHAPTERS.iter().find(|c| c.0 == s) {
                Some(c) => a.chapters.push(c.0),
                None => {
                    let known: Vec<_> = CHAPTERS.iter().map(|c| c.0).collect();
                    return Err(format!(
                        "bench: no chapter `{s}`; chapters: {}",
                        known.join(", ")
                    ));
                }
            },
        }
    }
    if a.chapters.is_empty() {
        a.chapters = CHAPTERS.iter().map(|c| c.0).collect();
    }
    Ok(a)
}

pub fn run(ctx: &Ctx, args: &[String]) -> Result {
    let a = parse_args(args)?;
    if a.render {
        return render_all(ctx, &a.chapters);
    }
    let all = Instant::now();
    let machine = machine();
    let mut rows = Vec::new();
    let mut rss = Vec::new();
    let mut waits = Vec::new();
    for &chapter in &a.chapters {
        let t = Instant::now();
        let rust = criterion_rows(ctx, chapter, a.quick)?;
        eprintln!(
            "    criterion: {} results in {}s",
            rust.len(),
            t.elapsed().as_secs()
        );
        let t = Instant::now();
        let go = go_rows(ctx, chapter, a.quick)?;
        eprintln!("    go: {} results in {}s", go.len(), t.elapsed().as_secs());
        rows.extend(order_rows(go, rust));
        let t = Instant::now();
        let mem = rss_rows(ctx, chapter, if a.quick { 1 } else { RSS_COUNT }, false)?;
        if !mem.is_empty() {
            eprintln!(
                "    resident memory: {} programs in {}s",
                mem.len(),
                t.elapsed().as_secs()
            );
        }
        rss.extend(mem);
        let t = Instant::now();
        let wait = wait_rows(ctx, chapter, if a.quick { 1 } else { WAIT_COUNT }, false)?;
        if !wait.is_empty() {
            eprintln!(
                "    lock wait: {} programs in {}s",
                wait.len(),
                t.elapsed().as_secs()
            );
        }
        waits.extend(wait);
    }

    let path = results_dir(ctx).join(format!("{}.json", machine.id()));
    let mut file = ResultsFile {
        machine,
        rustc: crate::util::output(Command::new(rustc()).arg("-V"))?
            .trim()
            .to_string(),
        go: crate::util::output(crate::tools::go_cmd(ctx)?.arg("version"))?
            .trim()
            .to_string(),
        date: utc_now(),
        allocator: ALLOCATOR.to_string(),
        results: Vec::new(),
        rss: Vec::new(),
        lock_wait: Vec::new(),
    };
    // Keep the rows of the chapters not run this time.
    if let Ok(old) = read_results(&path) {
        file.results = old
            .results
            .into_iter()
            .filter(|r| !a.chapters.contains(&r.chapter.as_str()))
            .collect();
        file.rss = old
            .rss
            .into_iter()
            .filter(|r| !a.chapters.contains(&r.chapter.as_str()))
            .collect();
        file.lock_wait = old
            .lock_wait
            .into_iter()
            .filter(|r| !a.chapters.contains(&r.chapter.as_str()))
            .collect();
    }
    file.results.extend(rows);
    file.rss.extend(rss);
    file.lock_wait.extend(waits);
    std::fs::create_dir_all(results_dir(ctx)).map_err(|e| format!("benches/results: {e}"))?;
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("\nwrote {}", rel(ctx, &path));

    render_all(ctx, &a.chapters)?;
    for &chapter in &a.chapters {
        eprintln!("\n{}", render_machine(chapter, &file).unwrap_or_default());
    }
    if a.chapters.contains(&"maps") {
        designs(ctx)?;
    }
    eprintln!(
        "bench: done in {}s{}",
        all.elapsed().as_secs(),
        if a.quick { " (--quick)" } else { "" }
    );
    Ok(())
}

/// The maps chapter's comparison of the two designs (memory, probe lengths, longest insert):
/// the chapter's own `designs` example, saved as src/generated/maps-designs.md.
fn designs(ctx: &Ctx) -> Result {
    step("chapter-maps: the two map designs side by side (example `designs`)");
    let table = crate::util::output(
        cargo()
            .args([
                "run",
                "-q",
                "--release",
                "-p",
                "chapter-maps",
                "--example",
                "designs",
            ])
            .current_dir(&ctx.root),
    )?;
    let path = ctx
        .root
        .join("src")
        .join("generated")
        .join("maps-designs.md");
    std::fs::write(&path, &table).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("{table}\nwrote {}", rel(ctx, &path));
    Ok(())
}

/// For `cargo xtask test`: every criterion bench once (`--test`), every Go benchmark once
/// (`-benchtime 1x`, after the Go tests that check both sides draw the same keys; once more
/// under each of [`GO_EXPERIMENTS`]), every
/// resident-memory and lock-wait program once on its small workload (all of a chapter's must
/// report the same counts), and the generated tables must be what the committed results render
/// to.
pub fn test_mode(ctx: &Ctx) -> Result {
    step("criterion benches, one iteration each (cargo bench -p benches -- --test)");
    let home = ctx.root.join("target").join("bench-criterion").join("test");
    util::run(
        cargo()
            .args(["bench", "-q", "-p", "benches", "--", "--test"])
            .env("CRITERION_HOME", &home)
            .current_dir(&ctx.root),
    )?;

    step("Go benches, one iteration each (go test -bench . -benchtime 1x in benches/go)");
    util::run(
        crate::tools::go_cmd(ctx)?
            .args(["test", "-run", ".", "-bench", ".", "-benchtime", "1x"])
            .current_dir(go_dir(ctx)),
    )?;
    for &(chapter, imp, experiment) in GO_EXPERIMENTS {
        let groups = CHAPTERS
            .iter()
            .find(|c| c.0 == chapter)
            .map_or(&[][..], |c| c.1);
        let pattern = format!("^Benchmark_({})$", groups.join("|"));
        step(&format!(
            "{chapter}'s Go benches as {imp}, one iteration each (GOEXPERIMENT={experiment})"
        ));
        util::run(
            crate::tools::go_cmd(ctx)?
                .args(["test", "-run", "^$", "-bench", &pattern, "-benchtime", "1x"])
                .env("GOEXPERIMENT", experiment)
                .current_dir(go_dir(ctx)),
        )?;
    }

    for (chapter, ..) in RSS {
        for r in rss_rows(ctx, chapter, 1, true)? {
            eprintln!(
                "    {}/{}: peak {} KiB, final {} KiB",
                r.bench, r.imp, r.peak_kib, r.final_kib
            );
        }
    }
    for (chapter, ..) in WAITS {
        for r in wait_rows(ctx, chapter, 1, true)? {
            eprintln!(
                "    {}/{}: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
                r.bench, r.imp, r.p50_ns, r.p99_ns, r.p999_ns, r.max_ns
            );
        }
    }

    step("generated bench tables match benches/results/*.json");
    let mut stale = Vec::new();
    for (chapter, _) in CHAPTERS {
        let path = generated_path(ctx, chapter);
        let want = render_chapter(ctx, chapter)?;
        if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(rel(ctx, &path));
        }
    }
    if !stale.is_empty() {
        return Err(format!(
            "{} out of date: run cargo xtask bench --render",
            stale.join(", ")
        ));
    }
    Ok(())
}

// ---- running -----------------------------------------------------------------------------

fn criterion_rows(ctx: &Ctx, chapter: &str, quick: bool) -> Result<Vec<Row>> {
    let home = ctx
        .root
        .join("target")
        .join("bench-criterion")
        .join(chapter);
    let _ = std::fs::remove_dir_all(&home);
    step(&format!(
        "criterion: cargo bench -p benches --bench {chapter}{} (builds first; prints each bench)",
        if quick { " --quick" } else { "" }
    ));
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "benches", "--bench", chapter, "--"]);
    if quick {
        cmd.args(["--warm-up-time", "0.1", "--measurement-time", "0.5"]);
    }
    util::run(cmd.env("CRITERION_HOME", &home).current_dir(&ctx.root))?;
    let mut rows = Vec::new();
    for dir in find_dirs_named(&home, "new") {
        rows.push(criterion_row(chapter, &dir)?);
    }
    if rows.is_empty() {
        return Err(format!(
            "criterion wrote no results under {}",
            home.display()
        ));
    }
    Ok(rows)
}

/// One `<CRITERION_HOME>/<group>/<function>/<impl>/new/` directory: `benchmark.json` names it and
/// gives the throughput, `estimates.json` the median, `sample.json` each sample's time.
fn criterion_row(chapter: &str, dir: &Path) -> Result<Row> {
    let read = |name: &str| -> Result<Value> {
        let p = dir.join(name);
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let bench = read("benchmark.json")?;
    let estimates = read("estimates.json")?;
    let sample = read("sample.json")?;
    let bad = |what: &str| format!("{}: no {what}", dir.display());
    let group = bench["group_id"].as_str().ok_or_else(|| bad("group_id"))?;
    // No function id (BenchmarkId::from_parameter): the group is the whole bench id.
    let name = match bench["function_id"].as_str() {
        Some(function) => format!("{group}/{function}"),
        None if bench["function_id"].is_null() => group.to_string(),
        None => return Err(bad("function_id")),
    };
    let imp = bench["value_str"]
        .as_str()
        .ok_or_else(|| bad("value_str (impl)"))?;
    let ops = bench["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    let median = estimates["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| bad("median"))?;
    let iters = sample["iters"].as_array().ok_or_else(|| bad("iters"))?;
    let times = sample["times"].as_array().ok_or_else(|| bad("times"))?;
    let per_iter: Vec<f64> = iters
        .iter()
        .zip(times)
        .filter_map(|(i, t)| Some(t.as_f64()? / i.as_f64()?))
        .collect();
    let min = per_iter.iter().copied().fold(f64::INFINITY, f64::min);
    let max = per_iter.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(Row {
        chapter: chapter.to_string(),
        bench: name,
        imp: imp.to_string(),
        median_ns: round3(median / ops),
        min_ns: round3(min / ops),
        max_ns: round3(max / ops),
    })
}

/// The chapter's Go rows: plain Go (`go`), then each of its [`GO_EXPERIMENTS`].
fn go_rows(ctx: &Ctx, chapter: &str, quick: bool) -> Result<Vec<Row>> {
    let mut rows = go_rows_as(ctx, chapter, quick, "go", None)?;
    for &(_, imp, experiment) in GO_EXPERIMENTS.iter().filter(|e| e.0 == chapter) {
        rows.extend(go_rows_as(ctx, chapter, quick, imp, Some(experiment))?);
    }
    Ok(rows)
}

/// One `go test -bench` run of the chapter's groups, with `GOEXPERIMENT=experiment` if given,
/// its rows reported as impl `imp`.
fn go_rows_as(
    ctx: &Ctx,
    chapter: &str,
    quick: bool,
    imp: &str,
    experiment: Option<&str>,
) -> Result<Vec<Row>> {
    let groups = CHAPTERS
        .iter()
        .find(|c| c.0 == chapter)
        .map(|c| c.1)
        .unwrap_or(&[]);
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let count = if quick { 1 } else { GO_COUNT };
    let pattern = format!("^Benchmark_({})$", groups.join("|"));
    let env = experiment.map_or(String::new(), |e| format!("GOEXPERIMENT={e} "));
    step(&format!(
        "{env}go test -run '^$' -bench '{pattern}' -count {count} (in benches/go)"
    ));
    let mut cmd = crate::tools::go_cmd(ctx)?;
    if let Some(e) = experiment {
        cmd.env("GOEXPERIMENT", e);
    }
    cmd.args([
        "test",
        "-run",
        "^$",
        "-bench",
        &pattern,
        "-count",
        &count.to_string(),
    ])
    .current_dir(go_dir(ctx));
    let out = run_echo(&mut cmd)?;
    // bench id → ns/op of each count, in the order Go first printed them.
    let mut seen: Vec<(String, Vec<f64>)> = Vec::new();
    for line in out.lines() {
        let Some((bench, ns)) = parse_go_line(line) else {
            continue;
        };
        match seen.iter_mut().find(|(b, _)| *b == bench) {
            Some((_, v)) => v.push(ns),
            None => seen.push((bench, vec![ns])),
        }
    }
    if seen.is_empty() {
        return Err("go test printed no benchmark results".to_string());
    }
    Ok(seen
        .into_iter()
        .map(|(bench, mut v)| {
            v.sort_by(f64::total_cmp);
            let n = v.len();
            let median = if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            };
            Row {
                chapter: chapter.to_string(),
                bench,
                imp: imp.to_string(),
                median_ns: round3(median),
                min_ns: round3(v[0]),
                max_ns: round3(v[n - 1]),
            }
        })
        .collect())
}

/// One run of a resident-memory or lock-wait program: the command as shown and its JSON line.
struct ProgramRun {
    shown: String,
    line: String,
    v: Value,
}

impl ProgramRun {
    fn str(&self, k: &str) -> Result<String> {
        self.v[k]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("{}: no `{k}` in `{}`", self.shown, self.line))
    }

    fn num(&self, k: &str) -> Result<u64> {
        self.v[k]
            .as_u64()
            .ok_or_else(|| format!("{}: no `{k}` in `{}`", self.shown, self.line))
    }
}

/// Runs each of a chapter's programs `count` times, one at a time: the Rust `examples` built
/// with the bench profile (as `cargo bench` builds), then `go run <go_pkg>` in `benches/go`.
/// Each prints one JSON line (its last non-empty line); the result is each program's runs.
/// Every run must report the same `counts` as the first (the proof that all the programs ran
/// the same workload). `small`: the short workload of `cargo xtask test`.
fn run_programs(
    ctx: &Ctx,
    bench: &str,
    examples: &[&str],
    go_pkg: &str,
    counts: &[&str],
    count: usize,
    small: bool,
) -> Result<Vec<Vec<ProgramRun>>> {
    let mut programs: Vec<Command> = Vec::new();
    for ex in examples {
        let mut cmd = cargo();
        cmd.args([
            "run",
            "-q",
            "--profile",
            "bench",
            "-p",
            "benches",
            "--example",
            ex,
            "--",
        ])
        .current_dir(&ctx.root);
        programs.push(cmd);
    }
    let mut go = crate::tools::go_cmd(ctx)?;
    go.args(["run", go_pkg]).current_dir(go_dir(ctx));
    programs.push(go);

    let mut all = Vec::new();
    let mut first: Option<(String, Vec<u64>)> = None;
    for mut cmd in programs {
        if small {
            cmd.arg("small");
        }
        let shown = format!("{cmd:?}");
        let mut runs = Vec::new();
        for _ in 0..count {
            let out = crate::util::output(&mut cmd)?;
            let line = out
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .to_string();
            eprintln!("    {line}");
            let v: Value =
                serde_json::from_str(&line).map_err(|e| format!("{shown}: `{line}`: {e}"))?;
            let run = ProgramRun {
                shown: shown.clone(),
                line,
                v,
            };
            let imp = run.str("impl")?;
            let these = counts
                .iter()
                .map(|k| run.num(k))
                .collect::<Result<Vec<u64>>>()?;
            match &first {
                None => first = Some((imp, these)),
                Some((first, c)) if *c != these => {
                    return Err(format!(
                        "{bench}: {imp} ran a different workload from {first}: \
                         {} = {these:?} against {c:?}",
                        counts.join(", ")
                    ))
                }
                Some(_) => {}
            }
            runs.push(run);
        }
        all.push(runs);
    }
    Ok(all)
}

/// The median of some runs' numbers.
fn median_u64(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Runs a chapter's resident-memory programs (see [`RSS`]) `count` times each; each number of
/// a row is the median of its runs. `small`: the short workload of `cargo xtask test`.
fn rss_rows(ctx: &Ctx, chapter: &str, count: usize, small: bool) -> Result<Vec<RssRow>> {
    let Some(&(_, bench, examples, go_pkg)) = RSS.iter().find(|r| r.0 == chapter) else {
        return Ok(Vec::new());
    };
    let arg = if small { "small" } else { "full" };
    step(&format!(
        "resident memory ({arg} workload): examples {} and go run {go_pkg}, {count}x each",
        examples.join(", ")
    ));
    let programs = run_programs(
        ctx,
        bench,
        examples,
        go_pkg,
        &["objects", "bytes", "live"],
        count,
        small,
    )?;
    let mut rows = Vec::new();
    for runs in programs {
        let mut nums: Vec<(u64, u64, Option<u64>)> = Vec::new();
        for r in &runs {
            let (peak, fin) = (r.num("peak_kib")?, r.num("final_kib")?);
            if peak == 0 || fin == 0 {
                return Err(format!("{}: no resident memory in `{}`", r.shown, r.line));
            }
            nums.push((peak, fin, r.v["released_kib"].as_u64()));
        }
        rows.push(RssRow {
            chapter: chapter.to_string(),
            bench: bench.to_string(),
            imp: runs[0].str("impl")?,
            peak_kib: median_u64(nums.iter().map(|r| r.0).collect()),
            final_kib: median_u64(nums.iter().map(|r| r.1).collect()),
            released_kib: nums[0]
                .2
                .map(|_| median_u64(nums.iter().filter_map(|r| r.2).collect())),
        });
    }
    rows.sort_by_key(|r| impl_rank(&r.imp));
    Ok(rows)
}

/// Runs a chapter's lock-wait programs (see [`WAITS`]) `count` times each; each number of a
/// row is the median of its runs. `small`: the short workload of `cargo xtask test`.
fn wait_rows(ctx: &Ctx, chapter: &str, count: usize, small: bool) -> Result<Vec<WaitRow>> {
    let Some(&(_, bench, examples, go_pkg)) = WAITS.iter().find(|r| r.0 == chapter) else {
        return Ok(Vec::new());
    };
    let arg = if small { "small" } else { "full" };
    step(&format!(
        "lock wait ({arg} workload): examples {} and go run {go_pkg}, {count}x each",
        examples.join(", ")
    ));
    let programs = run_programs(
        ctx,
        bench,
        examples,
        go_pkg,
        &["locks", "state"],
        count,
        small,
    )?;
    let mut rows = Vec::new();
    for runs in programs {
        let median = |k: &str| -> Result<u64> {
            Ok(median_u64(
                runs.iter().map(|r| r.num(k)).collect::<Result<_>>()?,
            ))
        };
        rows.push(WaitRow {
            chapter: chapter.to_string(),
            bench: bench.to_string(),
            imp: runs[0].str("impl")?,
            p50_ns: median("p50_ns")?,
            p99_ns: median("p99_ns")?,
            p999_ns: median("p999_ns")?,
            max_ns: median("max_ns")?,
        });
    }
    rows.sort_by_key(|r| impl_rank(&r.imp));
    Ok(rows)
}

/// `Benchmark_map_u64/insert-2   7   149.7 ns/op` → ("map_u64/insert", 149.7).
fn parse_go_line(line: &str) -> Option<(String, f64)> {
    let mut fields = line.split_whitespace();
    let name = fields.next()?.strip_prefix("Benchmark_")?;
    let fields: Vec<&str> = fields.collect();
    let at = fields.iter().position(|f| *f == "ns/op")?;
    let ns: f64 = fields.get(at.checked_sub(1)?)?.parse().ok()?;
    // Drop the -GOMAXPROCS suffix (absent when GOMAXPROCS is 1).
    let name = match name.rsplit_once('-') {
        Some((n, procs)) if !procs.is_empty() && procs.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => name,
    };
    Some((name.to_string(), ns))
}

/// Benches in the order Go runs them (its source order), then any Rust-only ones; within a
/// bench, impls in column order.
fn order_rows(go: Vec<Row>, rust: Vec<Row>) -> Vec<Row> {
    let mut benches: Vec<String> = Vec::new();
    let mut rust_only: Vec<String> = Vec::new();
    for r in &go {
        if !benches.contains(&r.bench) {
            benches.push(r.bench.clone());
        }
    }
    for r in &rust {
        if !benches.contains(&r.bench) && !rust_only.contains(&r.bench) {
            rust_only.push(r.bench.clone());
        }
    }
    rust_only.sort();
    benches.extend(rust_only);
    let mut all: Vec<Row> = go.into_iter().chain(rust).collect();
    all.sort_by_key(|r| {
        (
            benches.iter().position(|b| *b == r.bench),
            impl_rank(&r.imp),
        )
    });
    all
}

fn impl_rank(imp: &str) -> (usize, String) {
    (
        IMPLS.iter().position(|i| *i == imp).unwrap_or(IMPLS.len()),
        imp.to_string(),
    )
}

/// Runs a command, echoing its stdout line by line as progress, and returns that stdout.
fn run_echo(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let mut out = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.map_err(|e| format!("{shown}: {e}"))?;
        eprintln!("{line}");
        out.push_str(&line);
        out.push('\n');
    }
    let status = child.wait().map_err(|e| format!("{shown}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "command failed ({status}) after {}s: {shown}",
            start.elapsed().as_secs()
        ));
    }
    Ok(out)
}

fn find_dirs_named(root: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == name) {
                    found.push(p);
                } else {
                    stack.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

// ---- rendering ---------------------------------------------------------------------------

fn render_all(ctx: &Ctx, chapters: &[&str]) -> Result {
    for chapter in chapters {
        let path = generated_path(ctx, chapter);
        let text = render_chapter(ctx, chapter)?;
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            eprintln!("{} is up to date", rel(ctx, &path));
            continue;
        }
        std::fs::create_dir_all(path.parent().unwrap()).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", rel(ctx, &path));
    }
    Ok(())
}

/// `src/generated/bench-<chapter>.md`: one HTML table per machine, machines by file name.
/// HTML blocks are not extracted for translation, so new numbers never need a translator.
fn render_chapter(ctx: &Ctx, chapter: &str) -> Result<String> {
    let mut out =
        "<!-- Generated by `cargo xtask bench` from benches/results/*.json: do not edit. -->\n"
            .to_string();
    let mut any = false;
    for path in results_files(ctx)? {
        let file = read_results(&path)?;
        if let Some(table) = render_machine(chapter, &file) {
            out.push('\n');
            out.push_str(&table);
            any = true;
        }
    }
    if !any {
        out.push_str(&format!(
            "\n<!-- No results yet: run cargo xtask bench {chapter}. -->\n"
        ));
    }
    Ok(out)
}

fn render_machine(chapter: &str, file: &ResultsFile) -> Option<String> {
    let rows: Vec<&Row> = file
        .results
        .iter()
        .filter(|r| r.chapter == chapter)
        .collect();
    let rss: Vec<&RssRow> = file.rss.iter().filter(|r| r.chapter == chapter).collect();
    let waits: Vec<&WaitRow> = file
        .lock_wait
        .iter()
        .filter(|r| r.chapter == chapter)
        .collect();
    if rows.is_empty() && rss.is_empty() && waits.is_empty() {
        return None;
    }
    let go = file
        .go
        .split_whitespace()
        .find(|w| w.starts_with("go1"))
        .unwrap_or(&file.go);
    let rustc = file
        .rustc
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let date = file.date.get(..10).unwrap_or(&file.date);
    // Raw HTML, one block with no blank line: mdbook-xgettext leaves HTML blocks alone, so new
    // numbers never become strings to translate (a Markdown table would, cell by cell).
    let mut s = String::new();
    s.push_str(&format!(
        "<p class=\"bench-machine\"><strong>{}</strong> — {} cores, {rustc}, {go}, {date}</p>\n",
        file.machine.id(),
        file.machine.cores
    ));
    if !rows.is_empty() {
        s.push_str(&time_table(&rows));
    }
    if !rss.is_empty() {
        s.push_str(&rss_table(&rss));
    }
    if !waits.is_empty() {
        s.push_str(&wait_table(&waits));
    }
    Some(s)
}

/// The ns-per-operation table of one chapter on one machine.
fn time_table(rows: &[&Row]) -> String {
    let mut impls: Vec<&str> = Vec::new();
    let mut benches: Vec<&str> = Vec::new();
    let mut cell: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for r in rows {
        if !impls.contains(&r.imp.as_str()) {
            impls.push(&r.imp);
        }
        if !benches.contains(&r.bench.as_str()) {
            benches.push(&r.bench);
        }
        cell.insert((&r.bench, &r.imp), r.median_ns);
    }
    impls.sort_by_key(|i| impl_rank(i));
    let ratios: Vec<_> = RATIOS
        .iter()
        .filter(|(_, a, b)| impls.contains(a) && impls.contains(b))
        .collect();

    let mut s = String::new();
    s.push_str("<div class=\"table-wrapper\"><table class=\"bench\">\n<thead><tr><th>bench</th>");
    for h in impls.iter().copied().chain(ratios.iter().map(|r| r.0)) {
        s.push_str(&format!("<th>{h}</th>"));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for b in &benches {
        s.push_str(&format!("<tr><td><code>{b}</code></td>"));
        for i in &impls {
            let v = cell.get(&(*b, *i)).map_or("—".to_string(), |v| fmt_ns(*v));
            s.push_str(&format!("<td>{v}</td>"));
        }
        for (_, num, den) in &ratios {
            let v = match (cell.get(&(*b, *num)), cell.get(&(*b, *den))) {
                (Some(n), Some(d)) if *d > 0.0 => format!("{:.2}", n / d),
                _ => "—".to_string(),
            };
            s.push_str(&format!("<td>{v}</td>"));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

/// The resident-memory table of one chapter on one machine: a row for peak and one for final
/// RSS of each bench, and one for what the allocators say they released, where any does.
fn rss_table(rows: &[&RssRow]) -> String {
    let fields: [(&str, Field<RssRow>); 3] = [
        ("peak (VmHWM)", |r| Some(r.peak_kib)),
        ("final (VmRSS)", |r| Some(r.final_kib)),
        ("released to the OS", |r| r.released_kib),
    ];
    program_table(RSS_TITLE, rows, |r| (&r.bench, &r.imp), &fields, RSS_RATIOS)
}

/// The lock-wait table of one chapter on one machine: a row for each percentile of each bench.
fn wait_table(rows: &[&WaitRow]) -> String {
    let fields: [(&str, Field<WaitRow>); 4] = [
        ("p50", |r| Some(r.p50_ns)),
        ("p99", |r| Some(r.p99_ns)),
        ("p99.9", |r| Some(r.p999_ns)),
        ("max", |r| Some(r.max_ns)),
    ];
    program_table(
        WAIT_TITLE,
        rows,
        |r| (&r.bench, &r.imp),
        &fields,
        WAIT_RATIOS,
    )
}

/// One number of a program's row, where it has it.
type Field<R> = fn(&R) -> Option<u64>;

/// A table of programs' numbers: under `title`, a row for each (bench, field) with a number
/// for some impl, a column for each impl and for each ratio.
fn program_table<R>(
    title: &str,
    rows: &[&R],
    key: fn(&R) -> (&str, &str),
    fields: &[(&str, Field<R>)],
    ratios: &[(&str, &str, &str)],
) -> String {
    let mut impls: Vec<&str> = Vec::new();
    let mut benches: Vec<&str> = Vec::new();
    for r in rows {
        let (bench, imp) = key(r);
        if !impls.contains(&imp) {
            impls.push(imp);
        }
        if !benches.contains(&bench) {
            benches.push(bench);
        }
    }
    impls.sort_by_key(|i| impl_rank(i));
    let ratios: Vec<_> = ratios
        .iter()
        .filter(|(_, a, b)| impls.contains(a) && impls.contains(b))
        .collect();
    let get = |b: &str, i: &str| rows.iter().find(|r| key(r) == (b, i));

    let mut s = format!("<p class=\"bench-title\"><strong>{title}</strong></p>\n");
    s.push_str("<div class=\"table-wrapper\"><table class=\"bench\">\n<thead><tr><th>bench</th>");
    for h in impls.iter().copied().chain(ratios.iter().map(|r| r.0)) {
        s.push_str(&format!("<th>{h}</th>"));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for b in &benches {
        for &(label, field) in fields {
            let values: Vec<Option<u64>> = impls
                .iter()
                .map(|i| get(b, i).and_then(|r| field(r)))
                .collect();
            if values.iter().all(Option::is_none) {
                continue;
            }
            s.push_str(&format!("<tr><td><code>{b}</code> {label}</td>"));
            for v in &values {
                let v = v.map_or("—".to_string(), |v| v.to_string());
                s.push_str(&format!("<td>{v}</td>"));
            }
            for (_, num, den) in &ratios {
                let v = match (
                    get(b, num).and_then(|r| field(r)),
                    get(b, den).and_then(|r| field(r)),
                ) {
                    (Some(n), Some(d)) if d > 0 => format!("{:.2}", n as f64 / d as f64),
                    _ => "—".to_string(),
                };
                s.push_str(&format!("<td>{v}</td>"));
            }
            s.push_str("</tr>\n");
        }
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

/// Three significant digits or so: 3.96, 13.7, 149, 1234.
fn fmt_ns(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

// ---- files and the machine ---------------------------------------------------------------

fn results_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("benches").join("results")
}

fn go_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("benches").join("go")
}

fn generated_path(ctx: &Ctx, chapter: &str) -> PathBuf {
    ctx.root
        .join("src")
        .join("generated")
        .join(format!("bench-{chapter}.md"))
}

fn results_files(ctx: &Ctx) -> Result<Vec<PathBuf>> {
    let dir = results_dir(ctx);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_results(path: &Path) -> Result<ResultsFile> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn rel(ctx: &Ctx, p: &Path) -> String {
    p.strip_prefix(&ctx.root).unwrap_or(p).display().to_string()
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .or_else(|| {
            crate::util::output(Command::new("sysctl").args(["-n", "machdep.cpu.brand_string"]))
                .ok()
        })
        .unwrap_or_else(|| "unknown".to_string());
    Machine {
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpu: slug(&cpu),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

/// "Intel(R) Xeon(R) CPU @ 2.20GHz" → "intel-xeon-cpu-2-20ghz"; "AMD EPYC 7B13" → "amd-epyc-7b13".
fn slug(s: &str) -> String {
    let lower = s.to_lowercase().replace("(r)", "").replace("(tm)", "");
    let mut out = String::new();
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "unknown".to_string()
    } else {
        out
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (days to civil date: Howard Hinnant's
/// algorithm).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_lines() {
        assert_eq!(
            parse_go_line("Benchmark_map_u64/insert-2         \t       7\t       149.7 ns/op"),
            Some(("map_u64/insert".to_string(), 149.7))
        );
        assert_eq!(
            parse_go_line("Benchmark_growslice/append_u64 \t 391\t 3.958 ns/op\t 0 B/op"),
            Some(("growslice/append_u64".to_string(), 3.958))
        );
        assert_eq!(
            parse_go_line("Benchmark_spawn_join-2   \t      21\t       622.5 ns/op"),
            Some(("spawn_join".to_string(), 622.5))
        );
        assert_eq!(parse_go_line("PASS"), None);
        assert_eq!(parse_go_line("goos: linux"), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("AMD EPYC 7B13"), "amd-epyc-7b13");
        assert_eq!(
            slug("Intel(R) Xeon(R) CPU @ 2.20GHz"),
            "intel-xeon-cpu-2-20ghz"
        );
        assert_eq!(slug("  "), "unknown");
    }

    #[test]
    fn dates_look_right() {
        let d = utc_now();
        assert_eq!(d.len(), 20, "{d}");
        assert!(d.starts_with("20") && d.ends_with('Z'), "{d}");
    }

    #[test]
    fn table_has_ratio_columns() {
        let row = |bench: &str, imp: &str, ns: f64| Row {
            chapter: "maps".into(),
            bench: bench.into(),
            imp: imp.into(),
            median_ns: ns,
            min_ns: ns,
            max_ns: ns,
        };
        let file = ResultsFile {
            machine: Machine {
                os: "linux".into(),
                arch: "x86_64".into(),
                cpu: "x".into(),
                cores: 2,
            },
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            go: "go version go1.27.3 linux/amd64".into(),
            date: "2026-11-27T10:00:00Z".into(),
            allocator: ALLOCATOR.into(),
            results: vec![
                row("map_u64/insert", "go", 100.0),
                row("map_u64/insert", "ours", 50.0),
                row("map_u64/insert", "hashbrown+ahash", 25.0),
                row("growslice/append_u64", "ours", 4.0),
            ],
            rss: Vec::new(),
            lock_wait: Vec::new(),
        };
        let t = render_machine("maps", &file).unwrap();
        assert!(
            t.contains(
                "<strong>linux-x86_64-x</strong> — 2 cores, rustc 1.95.0, go1.27.3, 2026-11-27"
            ),
            "{t}"
        );
        assert!(
            t.contains("<tr><th>bench</th><th>ours</th><th>go</th><th>hashbrown+ahash</th><th>ours/go</th><th>ours/hashbrown</th></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<tr><td><code>map_u64/insert</code></td><td>50.0</td><td>100</td><td>25.0</td><td>0.50</td><td>2.00</td></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<tr><td><code>growslice/append_u64</code></td><td>4.00</td><td>—</td><td>—</td><td>—</td><td>—</td></tr>"),
            "{t}"
        );
        assert!(render_machine("other", &file).is_none());
    }

    #[test]
    fn rss_table_follows_the_time_table() {
        let rss = |imp: &str, peak: u64, fin: u64, released: Option<u64>| RssRow {
            chapter: "allocator".into(),
            bench: "rss_mixed".into(),
            imp: imp.into(),
            peak_kib: peak,
            final_kib: fin,
            released_kib: released,
        };
        let file = ResultsFile {
            machine: Machine {
                os: "linux".into(),
                arch: "x86_64".into(),
                cpu: "x".into(),
                cores: 2,
            },
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            go: "go version go1.27.3 linux/amd64".into(),
            date: "2026-11-27T10:00:00Z".into(),
            allocator: ALLOCATOR.into(),
            results: vec![Row {
                chapter: "allocator".into(),
                bench: "alloc_window/16".into(),
                imp: "mimalloc".into(),
                median_ns: 5.0,
                min_ns: 5.0,
                max_ns: 5.0,
            }],
            rss: vec![
                rss("mimalloc", 400, 400, None),
                rss("glibc", 200, 100, None),
                rss("ours", 100, 50, Some(1024)),
            ],
            lock_wait: Vec::new(),
        };
        let t = render_machine("allocator", &file).unwrap();
        let title = t.find(RSS_TITLE).expect("the resident-memory table");
        assert!(t.find("alloc_window/16").unwrap() < title, "{t}");
        assert!(
            t.contains("<tr><th>bench</th><th>ours</th><th>glibc</th><th>mimalloc</th><th>ours/glibc</th><th>ours/mimalloc</th></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<tr><td><code>rss_mixed</code> peak (VmHWM)</td><td>100</td><td>200</td><td>400</td><td>0.50</td><td>0.25</td></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<tr><td><code>rss_mixed</code> released to the OS</td><td>1024</td><td>—</td><td>—</td><td>—</td><td>—</td></tr>"),
            "{t}"
        );
        // An older results file, without the `rss` list, still reads.
        let json = serde_json::to_string(&ResultsFile {
            rss: Vec::new(),
            ..file
        })
        .unwrap();
        assert!(!json.contains("\"rss\""), "{json}");
        assert!(serde_json::from_str::<ResultsFile>(&json).is_ok());
    }

    #[test]
    fn lock_wait_table_follows_the_time_table() {
        let wait = |imp: &str, p50: u64, p99: u64| WaitRow {
            chapter: "mutex".into(),
            bench: "lock_wait".into(),
            imp: imp.into(),
            p50_ns: p50,
            p99_ns: p99,
            p999_ns: 10 * p99,
            max_ns: 100 * p99,
        };
        let file = ResultsFile {
            machine: Machine {
                os: "linux".into(),
                arch: "x86_64".into(),
                cpu: "x".into(),
                cores: 2,
            },
            rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
            go: "go version go1.27.3 linux/amd64".into(),
            date: "2026-11-27T10:00:00Z".into(),
            allocator: ALLOCATOR.into(),
            results: vec![Row {
                chapter: "mutex".into(),
                bench: "mutex_contended".into(),
                imp: "parking_lot".into(),
                median_ns: 8.0,
                min_ns: 8.0,
                max_ns: 8.0,
            }],
            rss: Vec::new(),
            lock_wait: vec![
                wait("std", 30, 200),
                wait("parking_lot", 30, 150),
                wait("go", 30, 1000),
                wait("ours", 60, 1500),
            ],
        };
        let t = render_machine("mutex", &file).unwrap();
        let title = t.find(WAIT_TITLE).expect("the lock-wait table");
        assert!(t.find("mutex_contended").unwrap() < title, "{t}");
        assert!(
            t.contains("<tr><th>bench</th><th>ours</th><th>go</th><th>std</th><th>parking_lot</th><th>ours/go</th><th>ours/parking_lot</th></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<tr><td><code>lock_wait</code> p50</td><td>60</td><td>30</td><td>30</td><td>30</td><td>2.00</td><td>2.00</td></tr>"),
            "{t}"
        );
        assert!(
            t.contains("<tr><td><code>lock_wait</code> p99.9</td><td>15000</td><td>10000</td><td>2000</td><td>1500</td><td>1.50</td><td>10.00</td></tr>"),
            "{t}"
        );
        // A results file without the `lock_wait` list still reads, and writes none.
        let json = serde_json::to_string(&ResultsFile {
            lock_wait: Vec::new(),
            ..file
        })
        .unwrap();
        assert!(!json.contains("\"lock_wait\""), "{json}");
        assert!(serde_json::from_str::<ResultsFile>(&json).is_ok());
    }
}
