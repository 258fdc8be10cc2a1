//! `cargo run -p chapter-memory-model --example race -- FILE.mm [SEED]`: runs one `.mm`
//! program under the schedule SEED picks (0 by default) and reports its races the way
//! `go run -race` does, exiting with status 66 if there were any. A program that does not
//! parse gets the parser's `file:line:col: message` and status 2.

use chapter_memory_model::exec::{self, End};
use chapter_memory_model::program;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: race FILE.mm [SEED]");
        return ExitCode::from(2);
    };
    let seed = match args.get(1).map(|s| s.parse::<u64>()) {
        None => 0,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("race: the seed must be a number, not {:?}", args[1]);
            return ExitCode::from(2);
        }
    };
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("race: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let name = std::path::Path::new(path)
        .file_name()
        .map_or(path.clone(), |n| n.to_string_lossy().into_owned());
    let prog = match program::parse(&name, &src) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let run = exec::run(&prog, seed);
    for r in &run.races {
        eprint!("{}", exec::report(&prog, r));
    }
    match run.end {
        End::Exit => {}
        End::Died(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
        End::StepLimit => {
            eprintln!("race: gave up after {} steps", run.schedule.len());
            return ExitCode::from(2);
        }
    }
    if run.races.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("Found {} data race(s)", run.races.len());
        ExitCode::from(66)
    }
}
