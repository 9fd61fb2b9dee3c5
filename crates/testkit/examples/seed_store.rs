//! Seeds a store with one complete scan of a synthetic inventory and its
//! assessments (see `rampart_testkit::synthetic`); used by
//! `scripts/bench-server`.
//!
//! `seed_store DB [N]` (N assets, default 100,000).

#![allow(
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark helper: failures end it, results go to stdout"
)]

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let db = PathBuf::from(args.next().expect("usage: seed_store DB [N]"));
    let n: usize = args
        .next()
        .map_or(100_000, |a| a.parse().expect("N: an asset count"));
    let started = Instant::now();
    let seeded = rampart_testkit::synthetic::seed_store(&db, n);
    println!(
        "seeded `{}`: scan {} · {} assets in {} accounts · {} assessments · {:.1} s",
        db.display(),
        seeded.scan_id,
        seeded.assets,
        seeded.accounts,
        seeded.assessments,
        started.elapsed().as_secs_f64()
    );
}
