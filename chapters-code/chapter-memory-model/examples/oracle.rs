//! The crate's answers to the Go programs in `go/` (see go/golden.txt): `cargo xtask golden`
//! pipes each golden file in and expects it back.
//!
//! `races`: every program of go/races/ in its `.mm` form, run under many schedules.
//! `constants`, `consterrors`: the constant corpus, evaluated by [`constant`].
//! `sbatomic`: store buffering with SeqCst atomics on real threads ([`litmus`]).

use chapter_memory_model::{constant, exec, litmus, program};
use std::io::Read;
use std::path::Path;

/// Schedules per program: enough for the unstable ones to show themselves.
const SEEDS: u64 = 64;

fn races() -> Result<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("go/races");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let file = dir.join(&name).join(format!("{name}.mm"));
        let src = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let prog = program::parse(&format!("{name}.mm"), &src).map_err(|e| e.to_string())?;
        match exec::stable_verdict(&prog, SEEDS) {
            Ok(v) => out.push_str(&format!("{name} {v}\n")),
            Err(e) => out.push_str(&format!("{name} UNSTABLE {e}\n")),
        }
    }
    Ok(out)
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let mut input = String::new();
    let _ = std::io::stdin().read_to_string(&mut input);
    let answer = match name.as_str() {
        "races" => races(),
        other => constant::oracle(other, &input)
            .or_else(|| litmus::oracle(other, &input))
            .ok_or_else(|| {
                format!("unknown program `{other}` (races, constants, consterrors, sbatomic)")
            }),
    };
    match answer {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("oracle: {e}");
            std::process::exit(1);
        }
    }
}
