//! The crate's answers in the golden formats, so they can be diffed against real Go.
//!
//! `cargo run -q -p chapter-maps --example oracle -- growslice < golden/growslice.csv`
//! reads rows `elemsize,variant,start_len,start_cap,appended` (a header line and `#` comments
//! are passed through) and prints each row with `,resulting_cap` added. A trailing sixth column
//! in the input (Go's answer) is replaced by ours, so the golden file itself is valid input.

use chapter_maps::growslice::{append_cap, Append, Variant};
use std::io::{BufRead, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("growslice") => growslice(),
        _ => {
            eprintln!("usage: oracle growslice < rows.csv\n  rows: elemsize,variant,start_len,start_cap,appended");
            ExitCode::from(2)
        }
    }
}

fn growslice() -> ExitCode {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad = 0;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("stdin: {e}");
                return ExitCode::FAILURE;
            }
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            let _ = writeln!(out, "{line}");
            continue;
        }
        if trimmed.starts_with("elemsize") {
            let _ = writeln!(
                out,
                "elemsize,variant,start_len,start_cap,appended,resulting_cap"
            );
            continue;
        }
        match parse(trimmed).and_then(|a| append_cap(a).map(|c| (a, c)).map_err(|e| e.to_string()))
        {
            Ok((_, cap)) => {
                let first5: Vec<&str> = trimmed.split(',').take(5).collect();
                let _ = writeln!(out, "{},{cap}", first5.join(","));
            }
            Err(e) => {
                bad += 1;
                eprintln!("stdin:{}: {e}: {trimmed}", n + 1);
            }
        }
    }
    let _ = out.flush();
    if bad > 0 {
        eprintln!("{bad} row(s) could not be answered");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn parse(line: &str) -> Result<Append, String> {
    let f: Vec<&str> = line.split(',').map(str::trim).collect();
    if f.len() != 5 && f.len() != 6 {
        return Err(format!(
            "expected 5 columns (elemsize,variant,start_len,start_cap,appended), got {}",
            f.len()
        ));
    }
    let num = |i: usize, name: &str| -> Result<usize, String> {
        f[i].parse()
            .map_err(|_| format!("{name} `{}` is not a non-negative integer", f[i]))
    };
    let (variant, has_pointers) = Variant::parse(f[1]).ok_or_else(|| {
        format!(
            "unknown variant `{}` (escape, noescape, return, escape_multi, with an optional _ptr)",
            f[1]
        )
    })?;
    let a = Append {
        elem_size: num(0, "elemsize")?,
        has_pointers,
        variant,
        start_len: num(2, "start_len")?,
        start_cap: num(3, "start_cap")?,
        appended: num(4, "appended")?,
    };
    if a.start_len > a.start_cap {
        return Err(format!(
            "start_len {} exceeds start_cap {}",
            a.start_len, a.start_cap
        ));
    }
    if a.has_pointers && a.elem_size < 8 {
        return Err(format!(
            "an element with a pointer is at least 8 bytes, not {}",
            a.elem_size
        ));
    }
    Ok(a)
}
