//! Runs every litmus test under every mode on real threads and counts the outcomes:
//!
//! ```console
//! $ cargo run --release -p chapter-memory-model --example litmus [ROUNDS]
//! ```
//!
//! ROUNDS (default 200000) rounds per two-thread test; IRIW, whose four threads outnumber
//! two cores and so meet at the barrier far more slowly, runs a tenth as many. Next to each
//! count of the weak outcome stand the columns of `litmus::TABLE`: whether the Rust model
//! allows it, whether loom shows it, whether amd64 showed it when the table was written.
//! A count of a weak outcome that the model forbids is a bug; a weak outcome that the model
//! allows may or may not turn up, depending on the machine and on timing.

use chapter_memory_model::litmus::{row_of, stress, Mode, Test};
use std::time::Instant;

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn main() {
    let rounds: usize = match std::env::args().nth(1) {
        None => 200_000,
        Some(a) => a.parse().unwrap_or_else(|_| {
            eprintln!("usage: litmus [ROUNDS] (got {a:?})");
            std::process::exit(2)
        }),
    };
    println!(
        "{} on {}, {} rounds per test (IRIW: {})",
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rounds,
        rounds / 10
    );
    println!(
        "{:<5} {:<22} {:>9} {:>7} {:>5} {:>6}  outcomes",
        "test", "mode", "weak", "allowed", "loom", "amd64"
    );
    let start = Instant::now();
    let mut bugs = 0;
    for test in Test::ALL {
        let n = if test.threads() > 2 {
            rounds / 10
        } else {
            rounds
        };
        for mode in Mode::ALL {
            let counts = stress(test, mode, n);
            let weak = counts.get(&test.weak()).copied().unwrap_or(0);
            let row = row_of(test, mode);
            if weak > 0 && !row.allowed {
                bugs += 1;
            }
            let all: Vec<String> = counts
                .iter()
                .map(|(o, c)| format!("{}: {c}", test.show(o)))
                .collect();
            println!(
                "{:<5} {:<22} {:>9} {:>7} {:>5} {:>6}  {}",
                test.name(),
                mode.name(),
                weak,
                yes(row.allowed),
                yes(row.loom),
                yes(row.amd64),
                all.join(", ")
            );
        }
    }
    println!("{:.1?} in all", start.elapsed());
    if bugs > 0 {
        eprintln!("{bugs} forbidden weak outcome(s) seen");
        std::process::exit(1);
    }
}
