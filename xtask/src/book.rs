//! Building, serving and checking the book.

use crate::tools;
use crate::util::{run, step, Ctx, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The translations, besides the English source.
pub const LANGUAGES: [&str; 2] = ["zh", "ja"];

fn mdbook(ctx: &Ctx) -> Command {
    let mut cmd = Command::new(ctx.tool_bin("mdbook"));
    // The preprocessors are found on PATH.
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env(
        "PATH",
        format!("{}:{path}", ctx.tools.join("bin").display()),
    );
    cmd.current_dir(&ctx.root);
    cmd
}

/// English into book/, then each translation into book/<lang>/. The English build empties
/// book/, so it must come first.
pub fn build(ctx: &Ctx) -> Result {
    tools::ensure_mdbook(ctx)?;
    check_includes(ctx)?;
    step("building the book: en");
    run(mdbook(ctx).arg("build"))?;
    for lang in LANGUAGES {
        step(&format!("building the book: {lang}"));
        let dest = ctx.root.join("book").join(lang);
        run(mdbook(ctx)
            .env("MDBOOK_BOOK__LANGUAGE", lang)
            .arg("build")
            .arg("-d")
            .arg(&dest))?;
    }
    eprintln!("book built in {}", ctx.root.join("book").display());
    Ok(())
}

/// Builds every language, then serves book/ on 127.0.0.1:3000 until interrupted.
pub fn serve(ctx: &Ctx) -> Result {
    build(ctx)?;
    let addr = "127.0.0.1:3000";
    eprintln!("\nserving the book on http://{addr}/ (en), /zh/, /ja/ — Ctrl-C to stop");
    crate::serve::serve_dir(&ctx.root.join("book"), addr)
}

/// Every `{{#include path:anchor}}` in src/ names an existing file, and the anchor exists
/// there and encloses at least one line (mdbook renders an empty block for a mistyped anchor
/// and still succeeds).
pub fn check_includes(ctx: &Ctx) -> Result {
    let mut problems = Vec::new();
    let mut count = 0;
    for md in markdown_files(&ctx.root.join("src")) {
        let text = std::fs::read_to_string(&md).map_err(|e| format!("{}: {e}", md.display()))?;
        for (lineno, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(start) = rest.find("{{#include ") {
                let after = &rest[start + "{{#include ".len()..];
                let Some(end) = after.find("}}") else { break };
                let spec = after[..end].trim();
                rest = &after[end..];
                count += 1;
                let at = format!(
                    "{}:{}",
                    md.strip_prefix(&ctx.root).unwrap().display(),
                    lineno + 1
                );
                if let Err(e) = check_one(&md, spec) {
                    problems.push(format!("{at}: {{{{#include {spec}}}}}: {e}"));
                }
            }
        }
    }
    if problems.is_empty() {
        eprintln!("check-includes: {count} includes, all resolve to non-empty content");
        Ok(())
    } else {
        Err(format!("broken includes:\n  {}", problems.join("\n  ")))
    }
}

fn check_one(md: &Path, spec: &str) -> Result {
    let (file, anchor) = match spec.split_once(':') {
        Some((f, a)) => (f, Some(a)),
        None => (spec, None),
    };
    let path = md.parent().unwrap().join(file);
    let text =
        std::fs::read_to_string(&path).map_err(|_| format!("no such file {}", path.display()))?;
    let Some(anchor) = anchor else {
        return if text.trim().is_empty() {
            Err("the file is empty".into())
        } else {
            Ok(())
        };
    };
    if anchor.chars().all(|c| c.is_ascii_digit() || c == ':') {
        return Ok(()); // a line range, not an anchor
    }
    let open = format!("ANCHOR: {anchor}");
    let close = format!("ANCHOR_END: {anchor}");
    let lines: Vec<&str> = text.lines().collect();
    let Some(a) = lines.iter().position(|l| l.trim_end().ends_with(&open)) else {
        return Err(format!("anchor `{anchor}` not found in {file}"));
    };
    let Some(b) = lines[a..]
        .iter()
        .position(|l| l.trim_end().ends_with(&close))
    else {
        return Err(format!("anchor `{anchor}` is never closed in {file}"));
    };
    let body = &lines[a + 1..a + b];
    if body
        .iter()
        .all(|l| l.trim().is_empty() || l.contains("ANCHOR"))
    {
        return Err(format!("anchor `{anchor}` in {file} encloses nothing"));
    }
    Ok(())
}

pub fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(markdown_files(&p));
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
    out.sort();
    out
}
