//! The crate's answers in the format of the Go programs in `go/`, for `cargo xtask golden`:
//!
//! ```console
//! $ cargo run -q -p chapter-allocator --example oracle -- sizeclasses
//! $ cargo run -q -p chapter-allocator --example oracle -- spanobjects
//! $ cargo run -q -p chapter-allocator --example oracle -- tiny < golden/tiny.csv
//! $ cargo run -q -p chapter-allocator --example oracle -- memstats < golden/memstats.csv
//! ```
//!
//! `tiny` and `memstats` read their cases from the first columns of their input and answer
//! every row.

use chapter_allocator::mspan::span_objects_csv;
use chapter_allocator::sizeclasses::{csv, make_classes};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("sizeclasses") => print!("{}", csv(&make_classes())),
        Some("spanobjects") => print!("{}", span_objects_csv()),
        Some("tiny") => {
            let input = std::io::read_to_string(std::io::stdin()).expect("stdin");
            let sizes: Vec<usize> = input
                .lines()
                .skip(1)
                .filter_map(|l| l.split(',').next()?.parse().ok())
                .collect();
            println!("size,block,offset");
            for (n, b, o) in chapter_allocator::tiny::replay(&sizes) {
                println!("{n},{b},{o}");
            }
        }
        Some("memstats") => {
            let input = std::io::read_to_string(std::io::stdin()).expect("stdin");
            print!("{}", chapter_allocator::malloc::memstats_csv(&input));
        }
        other => {
            eprintln!("usage: oracle sizeclasses|spanobjects|tiny|memstats (got {other:?})");
            std::process::exit(2);
        }
    }
}
