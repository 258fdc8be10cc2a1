//! The project's own tool: `cargo xtask <verb>`. Every verb installs what it needs into the
//! git-ignored `tools/` folder on first use, prints progress on long steps, and when something
//! cannot be installed says what is missing and how to get it.

mod assignment;
mod bench;
mod book;
mod browser;
mod golden;
mod i18n;
mod serve;
mod test;
mod tools;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <verb>

  serve                      build the book in every language and serve it on 127.0.0.1:3000
  build                      build the book (en, zh, ja) into book/
  test                       everything CI checks
  golden [--bless]           rerun the Go programs under chapters-code/*/go and diff golden/
  bench [chapter] [--quick] [--render]
                             run the Rust and Go benches, write benches/results/*.json and the tables
  i18n --update | --check    refresh translations/*.po from the English source, or verify them
  assignment CRATE --out DIR write a student starter crate; assignment --check verifies all
  check-includes             every {{#include}} names an existing file and a non-empty anchor
  browser                    build the book, then check it in headless Chromium (target/browser/)
";

/// The chapter crates, by directory name under chapters-code/ (e.g. `chapter-maps`).
pub fn chapters(ctx: &util::Ctx) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(ctx.root.join("chapters-code"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("Cargo.toml").exists())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ctx = util::Ctx::new();
    let result = match args.first().map(String::as_str) {
        Some("serve") => book::serve(&ctx),
        Some("build") => book::build(&ctx),
        Some("test") => test::run(&ctx, &args[1..]),
        Some("golden") => golden::run(&ctx, &args[1..]),
        Some("bench") => bench::run(&ctx, &args[1..]),
        Some("i18n") => i18n::run(&ctx, &args[1..]),
        Some("assignment") => assignment::run(&ctx, &args[1..]),
        Some("check-includes") => book::check_includes(&ctx),
        Some("browser") => book::build(&ctx).and_then(|()| browser::run(&ctx)),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown verb `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
