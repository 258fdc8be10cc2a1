//! The browser test: headless Chromium (Debian's, nothing downloaded) driven by playwright-core
//! over the built book in every language. The checks themselves are in xtask/browser/test.mjs;
//! this serves book/ on an ephemeral port, installs the pinned npm packages on first use and
//! runs the script. Screenshots go to target/browser/.

use crate::util::{self, have, step, Ctx, Result};
use std::path::Path;
use std::process::Command;

/// Runs the browser checks against book/, which must already be built (`cargo xtask build`).
pub fn run(ctx: &Ctx) -> Result {
    let book = ctx.root.join("book");
    if !book.join("index.html").exists() || !book.join("zh").join("index.html").exists() {
        return Err(format!(
            "{} holds no built book (en and zh/ at least); run `cargo xtask build` first",
            book.display()
        ));
    }
    let chromium = crate::tools::ensure_chromium()?;
    let dir = ctx.root.join("xtask").join("browser");
    ensure_node_modules(&dir)?;

    let out = ctx.root.join("target").join("browser");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let base = crate::serve::spawn(&book)?;
    step(&format!(
        "browser checks of {base}/ with {}",
        chromium.display()
    ));
    util::run(Command::new("node")
        .arg("test.mjs")
        .arg(format!("{base}/"))
        .arg(&out)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir))
    .map_err(|e| {
        format!(
            "the browser checks failed: see the problems listed above, and the screenshots in {}\n  ({e})",
            out.display()
        )
    })
}

/// `npm ci` in xtask/browser when its node_modules is missing or holds another version of
/// playwright-core than package.json pins.
fn ensure_node_modules(dir: &Path) -> Result {
    if !have("node") || !have("npm") {
        return Err("the browser test needs Node.js 20 or later with npm (Debian: apt-get install nodejs npm)".into());
    }
    let read = |p: &Path| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
    };
    let pinned = read(&dir.join("package.json")).and_then(|v| {
        v["dependencies"]["playwright-core"]
            .as_str()
            .map(String::from)
    });
    let installed = read(&dir.join("node_modules/playwright-core/package.json"))
        .and_then(|v| v["version"].as_str().map(String::from));
    if pinned.is_some() && pinned == installed {
        return Ok(());
    }
    step("installing the browser test's npm packages (npm ci in xtask/browser)");
    util::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir),
    )
    .map_err(|e| {
        format!("{e}\n  npm needs the npm registry; by hand: (cd xtask/browser && npm ci)")
    })
}
