//! Evaluation benchmark: the whole catalog over a synthetic inventory.
//!
//! `cargo run --release -p rampart-catalog --example bench_evaluate -- 1000000`
//!
//! The inventory is made from the subjects of every fixture in
//! `data/fixtures/` (so every recommendation has realistic input), one copy
//! per synthetic account (about 1,100 accounts for a million assets), until
//! it holds N assets. Prints the time to
//! build it, to evaluate, to compute the secure score and compliance, and
//! the assessment counts; `scripts/bench-evaluate` adds peak memory.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program: failures end it, results go to stdout"
)]

use std::path::Path;
use std::time::Instant;

use rampart_catalog::compliance::assess_standard;
use rampart_catalog::score::secure_score;
use rampart_catalog::standards::{builtin_standards, security_controls};
use rampart_catalog::{Catalog, evaluate};
use rampart_model::Asset;

fn templates() -> Vec<Asset> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("fixtures");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        let mut files: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let mut subject: Asset = serde_json::from_value(v["subject"].clone()).unwrap();
            // Synthetic inventories have no unreadable data.
            subject.unavailable.clear();
            out.push(subject);
        }
    }
    out
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |a| a.parse().expect("asset count"));
    let t = Instant::now();
    let templates = templates();
    let assets: Vec<Asset> = (0..n)
        .map(|i| {
            // One copy of the template set per account, as an organization
            // of many accounts looks: account- and region-level settings stay
            // one per account and region, as AWS has them.
            let round = i / templates.len();
            let mut a = templates[i % templates.len()].clone();
            let account = format!("{:012}", 100_000_000_000u64 + round as u64);
            a.arn = format!("{}-{round}", a.arn.replace(&a.account, &account));
            a.account = account;
            a
        })
        .collect();
    let build = t.elapsed();

    let catalog = Catalog::builtin().unwrap();
    let t = Instant::now();
    let assessments = evaluate(&catalog, &assets);
    let eval = t.elapsed();

    let t = Instant::now();
    let controls = security_controls().unwrap();
    let score = secure_score(&catalog, &controls, &assessments);
    let standards = builtin_standards().unwrap();
    let results: Vec<_> = standards
        .iter()
        .map(|s| assess_standard(s, &catalog, &assessments))
        .collect();
    let posture = t.elapsed();

    println!(
        "assets {n} (from {} templates, {} accounts) · recommendations {} · assessments {}",
        templates.len(),
        n.div_ceil(templates.len()),
        catalog.len(),
        assessments.len()
    );
    println!("build inventory {:.2} s", build.as_secs_f64());
    println!(
        "evaluate        {:.2} s ({:.0} assets/s)",
        eval.as_secs_f64(),
        n as f64 / eval.as_secs_f64()
    );
    println!(
        "score+compliance {:.2} s (score {:.1}%, {} standards)",
        posture.as_secs_f64(),
        score.percent,
        results.len()
    );
}
