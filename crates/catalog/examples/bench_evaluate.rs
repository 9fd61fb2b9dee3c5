//! Evaluation benchmark: the whole catalog over a synthetic inventory.
//!
//! `scripts/bench-evaluate [N] [--collect]` (release build, one core).
//!
//! The inventory is `rampart_testkit::synthetic`'s: the subjects of every
//! fixture in `data/fixtures/` (so every recommendation has realistic
//! input, healthy and not), one synthetic account after another, each
//! shaped like a real account of about a thousand assets, until it holds N
//! assets.
//!
//! Assets are made one at a time and pushed into the compact [`Inventory`]
//! (as `rampart evaluate` pushes stored rows), so no list of
//! `rampart_model::Asset`s is ever held. Timed: packing and indexing, then
//! evaluation to the secure score and compliance with every standard
//! (making the synthetic assets stands in for reading the store and is
//! not). By default assessments stream into a [`Tally`] (what score and
//! compliance need); `--collect` keeps every assessment as an owned record.
//! Prints the counts, the times, the inventory's memory, the process's peak
//! RSS, and whether the target (1,000,000 assets in under 10 s and 2 GiB)
//! is met.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program: failures end it, results go to stdout"
)]

use std::time::{Duration, Instant};

use rampart_catalog::compliance::assess_standard_of;
use rampart_catalog::evaluate::{evaluate_by_asset, evaluate_inventory};
use rampart_catalog::score::secure_score_of;
use rampart_catalog::standards::{builtin_standards, security_controls};
use rampart_catalog::tally::Tally;
use rampart_catalog::{Catalog, Inventory};
use rampart_testkit::synthetic;

/// A `/proc/self/status` value in KiB (0 where there is none).
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time this process has spent so far (`/proc/self/schedstat`).
fn cpu_time() -> Duration {
    let ns = std::fs::read_to_string("/proc/self/schedstat")
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

fn gib(kib: u64) -> f64 {
    kib as f64 / (1024.0 * 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let collect = args.iter().any(|a| a == "--collect");
    let n: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(1_000_000, |a| a.parse().expect("asset count"));

    let catalog = Catalog::builtin().unwrap();
    let controls = security_controls().unwrap();
    let standards = builtin_standards().unwrap();
    let templates = synthetic::templates();
    let base_kib = status_kib("VmRSS:");

    // The inventory is built from assets made one at a time, as `rampart
    // evaluate` builds it from stored rows: no full list of
    // `rampart_model::Asset`s is ever held.
    let (t, build_cpu) = (Instant::now(), cpu_time());
    let mut inventory = Inventory::default();
    let mut make = Duration::ZERO;
    let mut made = Instant::now();
    let accounts = synthetic::each_asset(&templates, n, |asset| {
        make += made.elapsed();
        inventory.push(&asset);
        made = Instant::now();
    });
    let build = t.elapsed();
    let build_cpu = cpu_time() - build_cpu;
    let input_kib = status_kib("VmRSS:");

    let (wall, cpu) = (Instant::now(), cpu_time());
    let collected;
    let mut tally = Tally::new(&catalog);
    let mut reason_bytes = 0;
    let mut evidence = 0;
    if collect {
        collected = evaluate_inventory(&catalog, &inventory);
        for a in &collected {
            reason_bytes += a.reason.len();
            evidence += a.evidence.len();
            tally.add(&a.recommendation, &a.resource, a.status);
        }
    } else {
        evaluate_by_asset(&catalog, &inventory, |a| {
            reason_bytes += a.reason.len();
            evidence += a.evidence.len();
            tally.add(a.recommendation, a.asset.arn, a.status);
        });
    }
    let evaluated = wall.elapsed();
    let score = secure_score_of(&controls, &tally);
    let results: Vec<_> = standards
        .iter()
        .map(|s| assess_standard_of(s, &tally))
        .collect();
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    let peak_kib = status_kib("VmHWM:");

    let types = templates.len();
    let variants: usize = templates.values().map(Vec::len).sum();
    println!(
        "assets {n} ({accounts} accounts; {variants} templates of {types} types) · recommendations {} · assessments {}{}",
        catalog.len(),
        tally.total(),
        if collect {
            " (collected)"
        } else {
            " (streamed)"
        },
    );
    println!(
        "  reasons {:.1} MB, evidence items {evidence} · secure score {:.1}% · {} standards",
        reason_bytes as f64 / 1e6,
        score.percent,
        results.len()
    );
    let pack = build.saturating_sub(make);
    println!(
        "inventory: {:.2} s to make the synthetic assets (stands in for reading the store; not timed below) · {:.2} s to pack and index them (CPU {:.2} s incl. making) · inventory {:.2} GiB",
        make.as_secs_f64(),
        pack.as_secs_f64(),
        build_cpu.as_secs_f64(),
        gib(input_kib.saturating_sub(base_kib))
    );
    println!(
        "evaluation: wall {:.2} s (assess {:.2} s, score + compliance {:.2} s) · CPU {:.2} s · {:.0} assets/s",
        wall.as_secs_f64(),
        evaluated.as_secs_f64(),
        (wall - evaluated).as_secs_f64(),
        cpu.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    let total = pack + wall;
    let time_ok = total < Duration::from_secs(10);
    let memory_ok = peak_kib < 2 * 1024 * 1024;
    println!(
        "pack + index + evaluation: {:.2} s · peak RSS {:.2} GiB (process before the inventory {:.2} GiB, inventory {:.2} GiB, evaluation {:.2} GiB)",
        total.as_secs_f64(),
        gib(peak_kib),
        gib(base_kib),
        gib(input_kib.saturating_sub(base_kib)),
        gib(peak_kib.saturating_sub(input_kib))
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "target at {n} assets: time < 10 s {} · peak RSS < 2 GiB {}",
        verdict(time_ok),
        verdict(memory_ok)
    );
    // Freeing a million assets takes a while and is not part of the run.
    std::process::exit(0);
}
