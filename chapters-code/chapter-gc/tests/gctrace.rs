//! go1.27.3's `GODEBUG=gctrace=1` lines for a known live heap against [`Heap`] running the
//! same scenarios. `go run ./gctrace` (go/gctrace/main.go) ran each scenario under real Go
//! and recorded, in golden/gctrace.txt, the properties its lines had on every run: the goal
//! of the second forced cycle (the goal for the live heap alone), the live heap, and the
//! range of cycles the garbage may take. Here the same live heap (32 MiB of pointer-free
//! 64 KiB chunks held in globals) meets the same garbage (4 KiB objects) under the same GOGC
//! or memory limit, and our lines must parse as Go's, print the same goal and live MB, keep
//! the same relations, and take a number of cycles inside Go's range.

#![cfg(not(miri))] // the allocator's heap maps memory; miri cannot (see heap.rs)

use chapter_gc::heap::{Globals, Heap};
use chapter_gc::types::bytes_type;

const MIB: u64 = 1 << 20;

/// The numbers of one gctrace line the checks use (MB figures, as printed).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Line {
    heap0: u64,
    heap1: u64,
    heap2: u64,
    goal: u64,
    stacks: u64,
    globals: u64,
    forced: bool,
}

/// A cursor over a line, for [`parse`].
struct Cur<'a>(&'a str);

impl Cur<'_> {
    fn lit(&mut self, s: &str) -> Option<()> {
        self.0 = self.0.strip_prefix(s)?;
        Some(())
    }
    /// `\d+`
    fn int(&mut self) -> Option<u64> {
        let n = self.0.bytes().take_while(u8::is_ascii_digit).count();
        let v = self.0.get(..n).filter(|d| !d.is_empty())?.parse().ok()?;
        self.0 = &self.0[n..];
        Some(v)
    }
    /// `\d+(?:\.\d+)?`, or with `frac` exactly that many decimals.
    fn num(&mut self, frac: Option<usize>) -> Option<()> {
        self.int()?;
        if let Some(rest) = self.0.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || frac.is_some_and(|f| f != n) {
                return None;
            }
            self.0 = &rest[n..];
        } else if frac.is_some() {
            return None;
        }
        Some(())
    }
}

// ANCHOR: parse_gctrace
/// Parse a gctrace line by the grammar of go/gctrace's regular expression (runtime/mgc.go:
/// gcMarkTermination's format):
///
/// ```text
/// ^gc (\d+) @(\d+\.\d{3})s (\d+)%( \(checking for goroutine leaks\))?: N\+N\+N ms clock,
///  N\+N/N/N\+N ms cpu, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, (\d+) MB stacks,
///  (\d+) MB globals, (\d+) P( \(forced\))?$          with N = \d+(?:\.\d+)?
/// ```
fn parse(line: &str) -> Option<Line> {
    let mut c = Cur(line);
    c.lit("gc ")?;
    c.int()?;
    c.lit(" @")?;
    c.num(Some(3))?;
    c.lit("s ")?;
    c.int()?;
    c.lit("%")?;
    let _ = c.lit(" (checking for goroutine leaks)");
    c.lit(": ")?;
    for sep in ["+", "+", " ms clock, ", "+", "/", "/", "+", " ms cpu, "] {
        c.num(None)?;
        c.lit(sep)?;
    }
    let mut l = Line {
        heap0: c.int()?,
        ..Line::default()
    };
    c.lit("->")?;
    l.heap1 = c.int()?;
    c.lit("->")?;
    l.heap2 = c.int()?;
    c.lit(" MB, ")?;
    l.goal = c.int()?;
    c.lit(" MB goal, ")?;
    l.stacks = c.int()?;
    c.lit(" MB stacks, ")?;
    l.globals = c.int()?;
    c.lit(" MB globals, ")?;
    c.int()?;
    c.lit(" P")?;
    l.forced = c.lit(" (forced)").is_some();
    c.0.is_empty().then_some(l)
}
// ANCHOR_END: parse_gctrace

#[test]
fn the_parser_takes_gos_lines_and_nothing_else() {
    // GODEBUG=gctrace=1 go run ./gctrace, go1.27.3, linux/amd64.
    let go = [
        "gc 9 @0.062s 1%: 0.21+1.0+0.068 ms clock, 0.43+0/0.15/0.19+0.13 ms cpu, \
         43->43->32 MB, 48 MB goal, 0 MB stacks, 0 MB globals, 4 P",
        "gc 6 @0.023s 1%: 0.072+0.11+0.002 ms clock, 0.14+0/0/0.10+0.004 ms cpu, \
         32->32->32 MB, 43 MB goal, 0 MB stacks, 0 MB globals, 4 P (forced)",
    ];
    let l = parse(go[0]).expect("Go's line");
    assert_eq!((l.heap0, l.heap1, l.heap2, l.goal), (43, 43, 32, 48));
    assert!(!l.forced);
    assert!(parse(go[1]).expect("Go's forced line").forced);
    for bad in [
        go[0].replace("@0.062s", "@0.06s"),
        go[0].replace(" ms clock", "ms clock"),
        go[0].replace("0.15/0.19", "0.15+0.19"),
        go[0].replace("4 P", "4 P (forced"),
        format!("{} ", go[1]),
    ] {
        assert_eq!(parse(&bad), None, "{bad}");
    }
}

/// One scenario of golden/gctrace.txt: its parameters and what Go's lines showed.
#[derive(Debug)]
struct Golden {
    name: String,
    gogc: i32,
    limit_kb: u64,
    live_mib: u64,
    garbage_mib: u64,
    forced_goal: u64,
    forced_heap2: u64,
    cycles: (u64, u64),
}

fn field<'a>(line: &'a str, before: &str, after: &str) -> &'a str {
    let rest = &line[line
        .find(before)
        .unwrap_or_else(|| panic!("{before}: {line}"))
        + before.len()..];
    &rest[..rest
        .find(after)
        .unwrap_or_else(|| panic!("{after}: {line}"))]
}

fn golden() -> Vec<Golden> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/gctrace.txt");
    let text = std::fs::read_to_string(path).expect("golden/gctrace.txt");
    let n = |s: &str| -> u64 { s.parse().unwrap_or_else(|e| panic!("{s}: {e}")) };
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            // Every property Go's lines had must have held on the run the file records.
            assert!(!l.contains("false"), "Go broke a property: {l}");
            let limit_kb = l
                .split_once("memlimit=+")
                .map(|(_, r)| (r[..r.find("MiB").unwrap()].parse::<f64>().unwrap() * 1024.0) as u64)
                .unwrap_or(0);
            let (lo, hi) = field(l, "cycles in [", "]").split_once(',').unwrap();
            Golden {
                name: field(l, "", ":").to_string(),
                gogc: chapter_gc::mgcpacer::read_gogc(field(l, "gogc=", " ")),
                limit_kb,
                live_mib: n(field(l, "live=", "MiB")),
                garbage_mib: n(field(l, "garbage=", "MiB")),
                forced_goal: n(field(l, "forced goal ", " MB")),
                forced_heap2: n(field(l, "MB heap2 ", " MB")),
                cycles: (n(lo), n(hi)),
            }
        })
        .collect()
}

/// go/gctrace's cycleRange: the cycles `garbage` MiB may take with goal and live MB figures.
fn cycle_range(garbage: u64, goal: u64, live: u64) -> (u64, u64) {
    let (g, goal, live) = (garbage as f64, goal as f64, live as f64);
    let lo = (g / ((goal - live + 2.0) * 9.0 / 8.0)) as i64 - 1;
    let hi = (g / ((goal - live - 1.0) * 45.0 / 64.0)).ceil() as u64 + 1;
    (lo.max(0) as u64, hi)
}

/// The goal MB figures gcPercentHeapGoal can give a line after one whose heap2, stacks and
/// globals print as `p`'s (each truncated). None with GOGC off.
fn gc_percent_goal_mb(p: &Line, gogc: i32) -> (f64, f64) {
    if gogc < 0 {
        return (f64::INFINITY, f64::INFINITY);
    }
    let f = |h: f64, st: f64, gl: f64| h + (h + st + gl) * gogc as f64 / 100.0;
    let (h, st, gl) = (p.heap2 as f64, p.stacks as f64, p.globals as f64);
    (f(h, st, gl), f(h + 1.0, st + 1.0, gl + 1.0))
}

// ANCHOR: run_scenario
/// Run one scenario on our heap as go/gctrace's child does: the live chunks in globals,
/// runtime.GC twice (the limit set between them), then `garbage_mib` of 4 KiB objects.
/// Returns the second forced line and the lines of the cycles the garbage started.
fn run(s: &Golden, garbage_mib: u64) -> (Line, Vec<Line>) {
    let chunks = (s.live_mib * MIB / (64 << 10)) as usize;
    let globals = Globals {
        words: vec![0; chunks],
        ptrmask: vec![true; chunks],
    };
    let mut h = Heap::with_globals(s.gogc, globals);
    let chunk = bytes_type(64 << 10);
    for i in 0..chunks {
        let p = h.alloc(chunk);
        h.set_global(i, p);
    }
    h.gc();
    if s.limit_kb > 0 {
        // Go: debug.SetMemoryLimit(mappedReady + limit); the next cycle commits it.
        let limit = h.controller.mapped_ready + (s.limit_kb << 10);
        h.controller.set_memory_limit(limit as i64);
    }
    h.gc();
    let forced = parse(&h.stats.last_trace.line()).expect("our forced line parses");
    assert!(forced.forced);
    let garbage = bytes_type(4096);
    let mut auto = Vec::new();
    let mut numgc = h.stats.numgc;
    for _ in 0..garbage_mib * MIB / 4096 {
        h.alloc(garbage);
        if h.stats.numgc != numgc {
            numgc = h.stats.numgc;
            let t = h.stats.last_trace.line();
            auto.push(parse(&t).unwrap_or_else(|| panic!("our line does not parse: {t}")));
        }
    }
    (forced, auto)
}
// ANCHOR_END: run_scenario

#[test]
fn our_gctrace_agrees_with_go() {
    let golden = golden();
    assert_eq!(
        golden.len(),
        5,
        "gogc=50, 100, 200, and a memory limit with gogc=100 and off"
    );
    for s in &golden {
        // Go's range is the formula's (a check on this file's copy of it).
        assert_eq!(
            cycle_range(s.garbage_mib, s.forced_goal, s.live_mib),
            s.cycles,
            "{}: cycleRange",
            s.name
        );
        let garbage = s.garbage_mib;
        let (forced, auto) = run(s, garbage);
        // The goal for the live heap alone, and the live heap, within Go's MB truncation.
        assert!(
            forced.goal.abs_diff(s.forced_goal) <= 1,
            "{}: goal {} MB, Go's {} MB",
            s.name,
            forced.goal,
            s.forced_goal
        );
        assert_eq!(forced.heap2, s.forced_heap2, "{}: live MB", s.name);
        // The same relations between consecutive lines that Go's lines kept.
        let mut prev = forced;
        for l in &auto {
            let (glo, ghi) = gc_percent_goal_mb(&prev, s.gogc);
            if s.limit_kb == 0 {
                assert!(
                    (l.goal + 1) as f64 > glo && (l.goal as f64) < ghi,
                    "{}: goal {l:?} after {prev:?}",
                    s.name
                );
            } else {
                assert!((l.goal as f64) < glo, "{}: the limit decides {l:?}", s.name);
            }
            let tlo = prev.heap2 + (l.goal - prev.heap2) * 45 / 64 - 1;
            assert!(
                l.heap0 >= tlo && l.heap0 <= l.goal + 1,
                "{}: trigger {l:?} after {prev:?}",
                s.name
            );
            prev = *l;
        }
        let (lo, hi) = s.cycles;
        let n = auto.len() as u64;
        assert!(
            (lo..=hi).contains(&n),
            "{}: {n} cycles for {garbage} MiB, Go's range [{lo},{hi}]",
            s.name
        );
        eprintln!(
            "{}: goal {} MB (Go {}), live {} MB, {n} cycles for {garbage} MiB in [{lo},{hi}]",
            s.name, forced.goal, s.forced_goal, forced.heap2
        );
    }
}
