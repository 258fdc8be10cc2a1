//! The crate's answers in the format of the Go programs in `go/`, for `cargo xtask golden`:
//!
//! ```console
//! $ cargo run -q -p chapter-allocator --example oracle -- sizeclasses
//! $ cargo run -q -p chapter-allocator --example oracle -- spanobjects
//! ```

use chapter_allocator::mspan::span_objects_csv;
use chapter_allocator::sizeclasses::{csv, make_classes};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("sizeclasses") => print!("{}", csv(&make_classes())),
        Some("spanobjects") => print!("{}", span_objects_csv()),
        other => {
            eprintln!("usage: oracle sizeclasses|spanobjects (got {other:?})");
            std::process::exit(2);
        }
    }
}
