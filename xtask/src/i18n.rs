//! Translations: gettext catalogues under translations/, extracted from the English source by
//! mdbook-xgettext. `--update` merges a fresh extraction into zh.po and ja.po (new strings come
//! in empty, for a translator); `--check` fails on any string of a fresh extraction that a
//! catalogue lacks, leaves empty, or marks fuzzy — the site would silently show English there.

use crate::book::LANGUAGES;
use crate::tools;
use crate::util::{self, step, Ctx, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run(ctx: &Ctx, args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        Some("--update") => update(ctx),
        Some("--check") => check(ctx),
        _ => Err("usage: cargo xtask i18n --update | --check".into()),
    }
}

/// Runs mdbook-xgettext and returns the path of the fresh messages.pot.
fn extract(ctx: &Ctx) -> Result<PathBuf> {
    tools::ensure_mdbook(ctx)?;
    step("extracting translatable strings (mdbook-xgettext)");
    let dir = ctx.root.join("target").join("i18n");
    let path = std::env::var("PATH").unwrap_or_default();
    util::run(
        Command::new(ctx.tool_bin("mdbook"))
            .current_dir(&ctx.root)
            .env(
                "PATH",
                format!("{}:{path}", ctx.tools.join("bin").display()),
            )
            .env(
                "MDBOOK_OUTPUT",
                r#"{"xgettext": {"pot-file": "messages.pot"}}"#,
            )
            .arg("build")
            .arg("-d")
            .arg(&dir),
    )?;
    Ok(dir.join("messages.pot"))
}

fn update(ctx: &Ctx) -> Result {
    let fresh = extract(ctx)?;
    let pot = ctx.root.join("translations").join("messages.pot");
    std::fs::create_dir_all(pot.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::copy(&fresh, &pot).map_err(|e| format!("copy {}: {e}", pot.display()))?;
    tools::ensure_apt("msgmerge", &["gettext"])?;
    for lang in LANGUAGES {
        let po = ctx.root.join("translations").join(format!("{lang}.po"));
        if po.exists() {
            util::run(
                Command::new("msgmerge")
                    .args([
                        "--quiet",
                        "--update",
                        "--backup=none",
                        "--no-wrap",
                        "--no-fuzzy-matching",
                    ])
                    .arg(&po)
                    .arg(&pot),
            )?;
        } else {
            util::run(
                Command::new("msginit")
                    .args(["--no-translator", "--no-wrap", "--locale", lang, "--input"])
                    .arg(&pot)
                    .arg("--output-file")
                    .arg(&po),
            )?;
        }
        // Strings the English no longer has would linger as `#~` entries: drop them.
        util::run(
            Command::new("msgattrib")
                .args(["--no-obsolete", "--no-wrap", "-o"])
                .arg(&po)
                .arg(&po),
        )?;
        let (missing, fuzzy) = problems(&pot, &po)?;
        eprintln!(
            "{lang}.po: {} to translate, {} fuzzy",
            missing.len(),
            fuzzy.len()
        );
    }
    Ok(())
}

fn check(ctx: &Ctx) -> Result {
    let fresh = extract(ctx)?;
    let mut report = Vec::new();
    for lang in LANGUAGES {
        let po = ctx.root.join("translations").join(format!("{lang}.po"));
        if !po.exists() {
            report.push(format!(
                "{lang}.po is missing (run cargo xtask i18n --update)"
            ));
            continue;
        }
        let (missing, fuzzy) = problems(&fresh, &po)?;
        for m in missing.iter().take(10) {
            report.push(format!("{lang}.po: untranslated: {}", short(m)));
        }
        for m in fuzzy.iter().take(10) {
            report.push(format!("{lang}.po: fuzzy: {}", short(m)));
        }
        if missing.len() + fuzzy.len() > 20 {
            report.push(format!(
                "{lang}.po: … {} untranslated and {} fuzzy in all",
                missing.len(),
                fuzzy.len()
            ));
        }
        if missing.is_empty() && fuzzy.is_empty() {
            eprintln!("{lang}.po: complete");
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "translations are behind the English source:\n  {}\nrun `cargo xtask i18n --update`, translate the new entries, drop the fuzzy flags",
            report.join("\n  ")
        ))
    }
}

fn short(s: &str) -> String {
    let one: String = s.replace('\n', "⏎");
    if one.chars().count() > 90 {
        format!("{}…", one.chars().take(90).collect::<String>())
    } else {
        one
    }
}

/// Strings of the template that the catalogue lacks or leaves empty, and those it marks fuzzy.
fn problems(pot: &Path, po: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let template = parse(pot)?;
    let catalogue: HashMap<String, Entry> = parse(po)?
        .into_iter()
        .map(|e| (e.msgid.clone(), e))
        .collect();
    let (mut missing, mut fuzzy) = (Vec::new(), Vec::new());
    for t in template.iter().filter(|t| !t.msgid.is_empty()) {
        match catalogue.get(&t.msgid) {
            None => missing.push(t.msgid.clone()),
            Some(e) if e.msgstr.is_empty() => missing.push(t.msgid.clone()),
            Some(e) if e.fuzzy => fuzzy.push(t.msgid.clone()),
            Some(_) => {}
        }
    }
    Ok((missing, fuzzy))
}

#[derive(Debug, Default, Clone)]
pub struct Entry {
    pub msgid: String,
    pub msgstr: String,
    pub fuzzy: bool,
}

/// A small PO reader: msgid/msgstr with continuation lines, the fuzzy flag, obsolete entries
/// (`#~`) skipped.
pub fn parse(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    let mut cur = Entry::default();
    let mut field: Option<&str> = None;
    let mut started = false;
    let flush = |cur: &mut Entry, started: &mut bool, out: &mut Vec<Entry>| {
        if *started {
            out.push(std::mem::take(cur));
        }
        *started = false;
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            flush(&mut cur, &mut started, &mut out);
            field = None;
        } else if line.starts_with("#~") {
            continue;
        } else if let Some(flags) = line.strip_prefix("#,") {
            if started && field == Some("msgstr") {
                flush(&mut cur, &mut started, &mut out);
            }
            cur.fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
        } else if line.starts_with('#') {
            continue;
        } else if let Some(rest) = line.strip_prefix("msgid ") {
            if started && field == Some("msgstr") {
                let fuzzy = cur.fuzzy;
                flush(&mut cur, &mut started, &mut out);
                cur.fuzzy = fuzzy;
            }
            started = true;
            field = Some("msgid");
            cur.msgid = unquote(rest, path, n)?;
        } else if let Some(rest) = line.strip_prefix("msgstr ") {
            field = Some("msgstr");
            cur.msgstr = unquote(rest, path, n)?;
        } else if line.starts_with('"') {
            let s = unquote(line, path, n)?;
            match field {
                Some("msgid") => cur.msgid.push_str(&s),
                Some("msgstr") => cur.msgstr.push_str(&s),
                _ => {
                    return Err(format!(
                        "{}:{}: string outside an entry",
                        path.display(),
                        n + 1
                    ))
                }
            }
        } else if line.starts_with("msgctxt")
            || line.starts_with("msgid_plural")
            || line.starts_with("msgstr[")
        {
            return Err(format!(
                "{}:{}: unsupported PO construct",
                path.display(),
                n + 1
            ));
        }
    }
    flush(&mut cur, &mut started, &mut out);
    Ok(out)
}

fn unquote(s: &str, path: &Path, n: usize) -> Result<String> {
    let s = s.trim();
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("{}:{}: expected a quoted string", path.display(), n + 1))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o)
            }
            None => out.push('\\'),
        }
    }
    Ok(out)
}
