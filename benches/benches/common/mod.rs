//! What every chapter's criterion target shares.

use criterion::Criterion;
use std::time::Duration;

/// Settings for a full run; `cargo xtask bench --quick` overrides the times on the command line.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .without_plots()
}
