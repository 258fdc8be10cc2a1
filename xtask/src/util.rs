//! Paths and process helpers shared by every verb.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub type Result<T = ()> = std::result::Result<T, String>;

/// Where things live: the repository root and the git-ignored tools folder.
pub struct Ctx {
    pub root: PathBuf,
    pub tools: PathBuf,
}

impl Ctx {
    pub fn new() -> Ctx {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let tools = root.join("tools");
        Ctx { root, tools }
    }

    pub fn tool_bin(&self, name: &str) -> PathBuf {
        self.tools.join("bin").join(name)
    }

    pub fn venv_bin(&self, name: &str) -> PathBuf {
        self.tools.join("venv").join("bin").join(name)
    }
}

/// Prints a step header so long runs show where they are.
pub fn step(msg: &str) {
    eprintln!("\n==> {msg}");
}

/// Runs a command to completion, inheriting stdio; fails with the command line and a hint.
pub fn run(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let secs = start.elapsed().as_secs_f32();
    if status.success() {
        if secs > 5.0 {
            eprintln!("    ({secs:.0}s)");
        }
        Ok(())
    } else {
        Err(format!(
            "command failed ({status}) after {secs:.0}s: {shown}"
        ))
    }
}

/// Runs a command and returns its stdout (stderr passes through).
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!("command failed ({}): {shown}", out.status));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{shown}: output is not UTF-8: {e}"))
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
