//! The crate's answers in the format of the Go programs in `go/`, for `cargo xtask golden`:
//!
//! ```console
//! $ cargo run -q -p chapter-scheduler --example oracle -- runorder
//! $ cargo run -q -p chapter-scheduler --example oracle -- schedtrace
//! ```
//!
//! `runorder` runs the four patterns of `go/runorder` at GOMAXPROCS=1 and prints the order in
//! which goroutines ran; `schedtrace` prints this runtime's schedtrace lines normalized the way
//! `go/schedtrace` normalizes Go's.

use chapter_scheduler::parking::{Baton, Wait};
use chapter_scheduler::{go, gosched, Config, Runtime};
use std::sync::{Arc, Mutex};

/// Labels in the order they happen.
#[derive(Clone, Default)]
struct Trace(Arc<Mutex<Vec<String>>>);

impl Trace {
    fn add(&self, label: impl Into<String>) {
        self.0.lock().unwrap().push(label.into());
    }
    fn line(&self) -> String {
        self.0.lock().unwrap().join(" ")
    }
}

/// Starts `from..to`, each recording its number.
fn spawn(t: &Trace, wg: &Arc<Wait>, from: usize, to: usize) {
    for i in from..to {
        let (t, wg) = (t.clone(), wg.clone());
        go(move || {
            t.add(i.to_string());
            wg.done();
        });
    }
}

fn spawn10() -> String {
    let (t, wg) = (Trace::default(), Wait::new(10));
    spawn(&t, &wg, 0, 10);
    wg.wait();
    t.line()
}

fn gosched_pattern() -> String {
    let (t, wg) = (Trace::default(), Wait::new(10));
    spawn(&t, &wg, 0, 5);
    gosched();
    t.add("M");
    spawn(&t, &wg, 5, 10);
    wg.wait();
    t.line()
}

fn nested() -> String {
    let (t, wg) = (Trace::default(), Wait::new(9));
    for p in 0..3 {
        let (t, wg) = (t.clone(), wg.clone());
        go(move || {
            t.add(format!("p{p}"));
            for c in 0..2 {
                let (t, wg) = (t.clone(), wg.clone());
                go(move || {
                    t.add(format!("c{p}{c}"));
                    wg.done();
                });
            }
            wg.done();
        });
    }
    wg.wait();
    t.line()
}

fn chain() -> String {
    let (t, wg) = (Trace::default(), Wait::new(6));
    let wake = Arc::new(Baton::default()); // Go: an unbuffered channel main receives from
    for i in 0..5 {
        let (t, wg, wake) = (t.clone(), wg.clone(), wake.clone());
        go(move || {
            t.add(i.to_string());
            if i == 2 {
                wake.wake();
            }
            wg.done();
        });
    }
    wake.wait();
    t.add("M");
    let (t2, wg2) = (t.clone(), wg.clone());
    go(move || {
        t2.add("5");
        wg2.done();
    });
    wg.wait();
    t.line()
}

/// A named pattern of go/runorder.
type Pattern = (&'static str, fn() -> String);

fn runorder() {
    let lines = Runtime::new(1).run(|| {
        let patterns: [Pattern; 4] = [
            ("spawn10", spawn10),
            ("gosched", gosched_pattern),
            ("nested", nested),
            ("chain", chain),
        ];
        let mut out = Vec::new();
        for (name, run) in patterns {
            gosched(); // as go/runorder does: a fresh time slice for each pattern
            out.push(format!("{name}: {}", run()));
        }
        out
    });
    for l in lines {
        println!("{l}");
    }
}

/// The normalization of go/schedtrace: wait reasons and preemptoff reasons become S,
/// true/false become B, nil and every number become N.
fn normalize(line: &str) -> String {
    let mut s = line.to_string();
    if let (Some(a), Some(b)) = (s.find("status="), s.find(") m=")) {
        if s[a..].starts_with("status=") && s.contains('(') && s.starts_with("  G") {
            s.replace_range(a..b + 4, "status=N(S) m=");
        }
    }
    if let (Some(a), Some(b)) = (s.find("preemptoff="), s.find(" locks=")) {
        s.replace_range(a..b + 7, "preemptoff=S locks=");
    }
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let w = std::mem::take(word);
        match w.as_str() {
            "true" | "false" => out.push('B'),
            "nil" => out.push('N'),
            _ => out.push_str(&w),
        }
    };
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || (c == '-' && chars.peek().is_some_and(|d| d.is_ascii_digit())) {
            // A run of digits is a number wherever it stands (P0, 10ms, m=3).
            flush(&mut word, &mut out);
            while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                chars.next();
            }
            out.push('N');
        } else if c.is_ascii_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn schedtrace() {
    for (title, detail) in [
        ("# GOMAXPROCS=2 GODEBUG=schedtrace=10", false),
        ("# GOMAXPROCS=2 GODEBUG=schedtrace=10,scheddetail=1", true),
    ] {
        let sink = Arc::new(Mutex::new(Vec::new()));
        let rt = Runtime {
            config: Config {
                gomaxprocs: 2,
                schedtrace_ms: 10,
                scheddetail: detail,
                trace_sink: Some(sink.clone()),
                ..Config::default()
            },
        };
        // As go/schedtrace's child: keep both Ps busy for 60ms.
        rt.run(|| {
            let wg = Wait::new(2);
            for _ in 0..2 {
                let wg = wg.clone();
                go(move || {
                    let end = std::time::Instant::now() + std::time::Duration::from_millis(60);
                    while std::time::Instant::now() < end {
                        chapter_scheduler::preempt_check();
                    }
                    wg.done();
                });
            }
            wg.wait();
        });
        println!("{title}");
        let mut seen = std::collections::HashSet::new();
        for l in sink.lock().unwrap().iter() {
            let n = normalize(l);
            if seen.insert(n.clone()) {
                println!("{n}");
            }
        }
    }
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("runorder") => runorder(),
        Some("schedtrace") => schedtrace(),
        other => {
            eprintln!("usage: oracle runorder|schedtrace (got {other:?})");
            std::process::exit(2);
        }
    }
}
