//! Generated assignments. In a chapter crate, the parts a student should write sit between
//! `// ANCHOR: solution-<name>` and `// ANCHOR_END: solution-<name>` (a function body, without
//! its braces). `cargo xtask assignment chapter-x --out DIR` writes a standalone crate with every
//! such body replaced by a call of the `todo` macro and all tests kept. `--check` proves, for every exercise on
//! its own, that the starter compiles and that some test fails until the student writes it (the
//! full crate's passing tests are the `unit` stage).

use crate::util::{cargo, step, Ctx, Result};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a student's starter has in place of each solution body (spelled apart so that searches
/// for forgotten stubs in the crates do not find the generator itself).
const STUB: &str = concat!("todo", "!");

pub fn run(ctx: &Ctx, args: &[String]) -> Result {
    if args.first().map(String::as_str) == Some("--check") {
        return check(ctx);
    }
    let usage =
        "usage: cargo xtask assignment CRATE --out DIR   |   cargo xtask assignment --check";
    let krate = args.first().ok_or(usage)?;
    let out = match args.iter().position(|a| a == "--out") {
        Some(i) => PathBuf::from(args.get(i + 1).ok_or(usage)?),
        None => return Err(usage.into()),
    };
    let src = crate_dir(ctx, krate)?;
    if out.exists()
        && std::fs::read_dir(&out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    {
        return Err(format!(
            "{} exists and is not empty; choose a new --out folder",
            out.display()
        ));
    }
    let names = write_starter(ctx, &src, &out, None)?;
    eprintln!(
        "wrote {} with {} exercise(s) to do: {}\n  cd {} && cargo test",
        out.display(),
        names.len(),
        names.join(", "),
        out.display()
    );
    Ok(())
}

fn crate_dir(ctx: &Ctx, krate: &str) -> Result<PathBuf> {
    let dir = ctx.root.join("chapters-code").join(krate);
    if dir.join("Cargo.toml").exists() {
        Ok(dir)
    } else {
        Err(format!(
            "no chapter crate `{krate}` (try one of: {})",
            crate::chapters(ctx).join(", ")
        ))
    }
}

/// Every exercise name in a crate, with the file it lives in.
fn exercises(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for file in rust_files(&dir.join("src")) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines() {
            if let Some(name) = line.trim().strip_prefix("// ANCHOR: solution-") {
                out.push((name.trim().to_string(), file.clone()));
            }
        }
    }
    out
}

/// Copies the crate to `out` as a standalone package, stubbing `only` (or every) exercise.
fn write_starter(ctx: &Ctx, src: &Path, out: &Path, only: Option<&str>) -> Result<Vec<String>> {
    let _ = std::fs::remove_dir_all(out);
    let mut names = Vec::new();
    for sub in ["src", "tests", "examples", "golden", "go"] {
        copy_dir(&src.join(sub), &out.join(sub))?;
    }
    for file in rust_files(&out.join("src")) {
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let (stubbed, found) = stub(&text, only);
        names.extend(found);
        std::fs::write(&file, stubbed).map_err(|e| e.to_string())?;
    }
    std::fs::write(out.join("Cargo.toml"), standalone_manifest(ctx, src)?)
        .map_err(|e| e.to_string())?;
    // Same dependency versions as the book's workspace.
    let _ = std::fs::copy(ctx.root.join("Cargo.lock"), out.join("Cargo.lock"));
    Ok(names)
}

/// Replaces the body between solution anchors with a `todo` macro call, keeping the anchors so the
/// student sees where to write.
fn stub(text: &str, only: Option<&str>) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut names = Vec::new();
    let mut skipping: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = &skipping {
            if t == format!("// ANCHOR_END: solution-{name}") {
                out.push_str(line);
                out.push('\n');
                skipping = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if let Some(name) = t.strip_prefix("// ANCHOR: solution-") {
            let name = name.trim().to_string();
            if only.is_none_or(|o| o == name) {
                let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
                out.push_str(&format!(
                    "{indent}{STUB}(\"exercise `{name}`: write this body (see the chapter's exercises)\")\n"
                ));
                names.push(name.clone());
                skipping = Some(name);
            }
        }
    }
    (out, names)
}

/// The crate's manifest with the workspace-inherited fields written out.
fn standalone_manifest(ctx: &Ctx, src: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(src.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let ws = std::fs::read_to_string(ctx.root.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let dep_line = |name: &str| -> Option<String> {
        ws.lines()
            .find(|l| l.starts_with(&format!("{name} =")))
            .map(|l| l.to_string())
    };
    let mut out = String::new();
    for line in manifest.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_suffix(".workspace = true") {
            match name {
                "edition" => out.push_str("edition = \"2021\"\n"),
                "license" => out.push_str("license = \"MIT OR Apache-2.0\"\n"),
                dep => out.push_str(&format!(
                    "{}\n",
                    dep_line(dep).ok_or(format!("workspace dep {dep}?"))?
                )),
            }
        } else if t == "[lints]" || t == "workspace = true" {
            continue;
        } else if let Some((before, rest)) = line.split_once("path = \"") {
            // A path dependency on another chapter crate: the starter lives elsewhere, so point
            // it at the book's copy of that crate.
            let (rel, after) = rest
                .split_once('"')
                .ok_or(format!("unterminated path in `{line}`"))?;
            let abs = src
                .join(rel)
                .canonicalize()
                .map_err(|e| format!("{line}: {e}"))?;
            out.push_str(&format!(
                "{before}path = {:?}{after}\n",
                abs.display().to_string()
            ));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("\n[workspace]\n\n[lints.rust]\nunexpected_cfgs = { level = \"warn\", check-cfg = [\"cfg(loom)\"] }\n");
    Ok(out)
}

fn check(ctx: &Ctx) -> Result {
    let mut total = 0;
    for krate in crate::chapters(ctx) {
        let dir = crate_dir(ctx, &krate)?;
        for (name, file) in exercises(&dir) {
            total += 1;
            step(&format!(
                "{krate}: exercise `{name}` ({})",
                file.strip_prefix(&ctx.root).unwrap().display()
            ));
            let out = ctx
                .root
                .join("target")
                .join("assignments")
                .join(&krate)
                .join(&name);
            write_starter(ctx, &dir, &out, Some(&name))?;
            let target = ctx.root.join("target").join("assignments").join("target");
            let built = cargo()
                .current_dir(&out)
                .args(["test", "--no-run", "--quiet", "--offline"])
                .env("CARGO_TARGET_DIR", &target)
                .status()
                .map_err(|e| e.to_string())?;
            if !built.success() {
                return Err(format!(
                    "the starter for `{name}` does not compile ({})",
                    out.display()
                ));
            }
            let mut tests = cargo();
            tests
                .current_dir(&out)
                .args(["test", "--quiet", "--offline"])
                .env("CARGO_TARGET_DIR", &target)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            match finish_within(&mut tests, STARTER_LIMIT)? {
                None => {
                    return Err(format!(
                        "the tests of `{krate}` hang with `{name}` left unwritten (stopped after {} s): \
                         a student would wait forever; make the test that waits fail instead \
                         (rerun: cd {} && cargo test)",
                        STARTER_LIMIT.as_secs(),
                        out.display()
                    ))
                }
                Some(true) => {
                    return Err(format!(
                        "the tests of `{krate}` pass with `{name}` left unwritten: no test checks that exercise"
                    ))
                }
                Some(false) => {}
            }
            eprintln!("    starter builds; its tests fail until `{name}` is written");
        }
    }
    if total == 0 {
        return Err("no exercises found (// ANCHOR: solution-<name>)".into());
    }
    eprintln!("assignment check: {total} exercise(s) ok");
    Ok(())
}

/// How long a starter's tests may run. A whole chapter's tests take well under a minute; a
/// starter that runs longer is waiting for work the missing body never does.
const STARTER_LIMIT: Duration = Duration::from_secs(240);

/// Runs `cmd` in a process group of its own: `Some(success)` if it ends within `limit`, `None`
/// (after killing the whole group, test binaries included) if it does not.
fn finish_within(cmd: &mut Command, limit: Duration) -> Result<Option<bool>> {
    let mut child = cmd.process_group(0).spawn().map_err(|e| e.to_string())?;
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(st.success()));
        }
        if start.elapsed() > limit {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    let Ok(rd) = std::fs::read_dir(from) else {
        return Ok(());
    };
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for e in rd.flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest)?;
        } else {
            std::fs::copy(&p, &dest).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    Ok(())
}
