//! Ground truth from real Go. Each chapter crate lists its Go programs in `go/golden.txt`:
//!
//! ```text
//! # program   golden file      how to compare
//! growslice   growslice.csv    stdout oracle=growslice
//! mapfatal    mapfatal.txt     fatal
//! ```
//!
//! `stdout`: the program's whole output is the golden file. `fatal`: the program is meant to die;
//! its `fatal error:`/`panic:` lines, and the `runtime: goroutine stack exceeds …` line that
//! precedes a stack overflow, are the golden file (the addresses and tracebacks that follow
//! vary from run to run). `oracle=NAME`: the crate's own answers
//! (`cargo run -p CRATE --example oracle -- NAME < golden`) must equal the golden file too.
//! `cargo xtask golden` reruns everything and diffs; `--bless` rewrites the golden files.

use crate::tools;
use crate::util::{cargo, step, Ctx, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

pub fn run(ctx: &Ctx, args: &[String]) -> Result {
    let bless = args.iter().any(|a| a == "--bless");
    let mut failures = Vec::new();
    for krate in crate::chapters(ctx) {
        let dir = ctx.root.join("chapters-code").join(&krate);
        let manifest = dir.join("go").join("golden.txt");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 3 {
                return Err(format!("{}: bad line `{line}`", manifest.display()));
            }
            let (program, file, mode) = (f[0], f[1], f[2]);
            step(&format!("{krate}: go run ./{program} → golden/{file}"));
            let got = run_go(ctx, &dir.join("go"), program, mode)?;
            let golden_path = dir.join("golden").join(file);
            if bless {
                std::fs::write(&golden_path, &got).map_err(|e| e.to_string())?;
                eprintln!("    wrote {}", golden_path.display());
            } else {
                let want = std::fs::read_to_string(&golden_path).unwrap_or_default();
                if let Some(d) = diff(&want, &got) {
                    failures.push(format!("{krate}/golden/{file} differs from real Go:\n{d}"));
                }
            }
            for extra in &f[3..] {
                if let Some(name) = extra.strip_prefix("oracle=") {
                    step(&format!("{krate}: oracle {name} < golden/{file}"));
                    let want = std::fs::read_to_string(&golden_path).map_err(|e| e.to_string())?;
                    let ours = oracle(&krate, name, &want)?;
                    if let Some(d) = diff(&want, &ours) {
                        failures.push(format!(
                            "{krate}: oracle {name} disagrees with golden/{file}:\n{d}"
                        ));
                    }
                }
                if let Some(spec) = extra.strip_prefix("random=") {
                    // random=GENERATOR:ORACLE: GENERATOR prints random input rows; real Go and the
                    // oracle must answer every one of them alike.
                    let (gen, name) = spec.split_once(':').ok_or("random=GEN:ORACLE")?;
                    step(&format!(
                        "{krate}: random rows from ./{gen}: go vs oracle {name}"
                    ));
                    let rows = run_go_args(ctx, &dir.join("go"), gen, &["gen"], None)?;
                    let go = run_go_args(ctx, &dir.join("go"), gen, &["answer"], Some(&rows))?;
                    let ours = oracle(&krate, name, &rows)?;
                    if let Some(d) = diff(&go, &ours) {
                        failures.push(format!(
                            "{krate}: oracle {name} disagrees with Go on random rows:\n{d}"
                        ));
                    } else {
                        eprintln!(
                            "    {} random rows agree",
                            go.lines()
                                .filter(|l| !l.starts_with('#') && !l.starts_with("elemsize"))
                                .count()
                        );
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        eprintln!("golden: everything agrees with go1.27.3");
        Ok(())
    } else {
        Err(failures.join("\n\n"))
    }
}

fn run_go(ctx: &Ctx, dir: &Path, program: &str, mode: &str) -> Result<String> {
    match mode {
        "stdout" => run_go_args(ctx, dir, program, &[], None),
        "fatal" => {
            let mut cmd = tools::go_cmd(ctx)?;
            let out = cmd
                .current_dir(dir)
                .args(["run", &format!("./{program}")])
                .output()
                .map_err(|e| format!("go run: {e}"))?;
            if out.status.success() {
                return Err(format!(
                    "./{program} was expected to die with a fatal error but exited 0"
                ));
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            Ok(stderr
                .lines()
                .filter(|l| is_fatal_line(l))
                .map(|l| format!("{l}\n"))
                .collect())
        }
        other => Err(format!("unknown golden mode `{other}` (stdout or fatal)")),
    }
}

/// The stderr lines that `fatal` mode keeps: what the runtime says about why it died.
fn is_fatal_line(line: &str) -> bool {
    [
        "fatal error:",
        "panic:",
        "runtime: goroutine stack exceeds ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

fn run_go_args(
    ctx: &Ctx,
    dir: &Path,
    program: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String> {
    let mut cmd = tools::go_cmd(ctx)?;
    cmd.current_dir(dir)
        .args(["run", &format!("./{program}")])
        .args(args);
    pipe(cmd, stdin)
}

fn oracle(krate: &str, name: &str, input: &str) -> Result<String> {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "-q",
        "--release",
        "-p",
        krate,
        "--example",
        "oracle",
        "--",
        name,
    ]);
    pipe(cmd, Some(input))
}

fn pipe(mut cmd: Command, stdin: Option<&str>) -> Result<String> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let input = stdin.unwrap_or("").to_string();
    let mut pipe_in = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || pipe_in.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let _ = writer.join();
    if !out.status.success() {
        // What the program printed says which case failed (racecorpus: UNSTABLE, a timeout).
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        return Err(format!(
            "{shown} failed ({}); the last lines it printed:\n{tail}",
            out.status
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// The first few differing lines, or None when equal.
fn diff(want: &str, got: &str) -> Option<String> {
    if want == got {
        return None;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut out = Vec::new();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied(), g.get(i).copied());
        if a != b {
            out.push(format!(
                "  line {}: want {:?}\n           got  {:?}",
                i + 1,
                a.unwrap_or("<end>"),
                b.unwrap_or("<end>")
            ));
            if out.len() == 8 {
                out.push("  …".into());
                break;
            }
        }
    }
    if out.is_empty() {
        out.push("  (only line endings differ)".into());
    }
    Some(out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fatal_lines() {
        assert!(is_fatal_line("fatal error: concurrent map writes"));
        assert!(is_fatal_line("panic: boom"));
        assert!(is_fatal_line(
            "runtime: goroutine stack exceeds 1048576-byte limit"
        ));
        assert!(!is_fatal_line("runtime: sp=0xc000 stack=[0xc000, 0xd000]"));
        assert!(!is_fatal_line(
            "goroutine 1 gp=0xc000 m=0 mp=0x5e0 [running]:"
        ));
    }
}
