//! The crate's answers in the format of the Go programs in `go/`, for `cargo xtask golden`:
//!
//! ```console
//! $ cargo run -q -p chapter-allocator --example oracle -- sizeclasses
//! ```

use chapter_allocator::sizeclasses::{csv, make_classes};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("sizeclasses") => print!("{}", csv(&make_classes())),
        other => {
            eprintln!("usage: oracle sizeclasses (got {other:?})");
            std::process::exit(2);
        }
    }
}
