//! The crate's answers in the format of the Go programs in `go/`, for `cargo xtask golden`:
//!
//! ```console
//! $ go run ./pacer gen > rows        # in go/: one row per GC cycle that real Go ran
//! $ cargo run -q -p chapter-gc --example oracle -- heapgoal < rows
//! ```
//!
//! `heapgoal`: each row holds what go1.27.3's pacer read when the cycle ended — GOGC, the
//! memory limit, heapMarked, the stack and globals scan sizes, and mappedReady, heapFree,
//! heapAlloc for the memory-limit goal — and, last, the goal the runtime reported. The
//! oracle ignores that last column: it replays mark termination on a
//! [`GcControllerState`] (resetLive, then commit with the sweep just started) and prints
//! `goal N` from [`GcControllerState::heap_goal`]; `go run ./pacer answer` prints Go's.

use chapter_gc::mgcpacer::GcControllerState;
use std::io::Read;

/// The goal the pacer computes for one row of `go run ./pacer gen`.
fn heap_goal(row: &str) -> Result<u64, String> {
    let f: Vec<&str> = row.split_whitespace().collect();
    if f.len() != 9 {
        return Err(format!("want 9 columns, got {}: {row}", f.len()));
    }
    let n = |i: usize| -> Result<u64, String> {
        f[i].parse()
            .map_err(|e| format!("column {}: {e}: {row}", i + 1))
    };
    let gogc: i32 = f[0].parse().map_err(|e| format!("gogc: {e}"))?;
    let limit: i64 = f[1].parse().map_err(|e| format!("limit: {e}"))?;
    let mut c = GcControllerState::new(gogc, limit);
    c.last_stack_scan = n(3)?;
    c.globals_scan = n(4)?;
    c.mapped_ready = n(5)?;
    c.heap_free = n(6)?;
    c.total_alloc = n(7)?; // heapAlloc = totalAlloc - totalFree
    c.reset_live(n(2)?);
    c.last_stack_scan = n(3)?; // resetLive took it from this cycle's (zero) stack scan work
    c.commit(false); // mark termination: the sweep has just begun
    Ok(c.heap_goal())
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    match name.as_str() {
        "heapgoal" => {
            for row in input
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            {
                match heap_goal(row) {
                    Ok(g) => println!("goal {g}"),
                    Err(e) => {
                        eprintln!("oracle heapgoal: {e}");
                        std::process::exit(1);
                    }
                }
            }
        }
        other => {
            eprintln!("oracle: unknown name `{other}` (heapgoal)");
            std::process::exit(2);
        }
    }
}
