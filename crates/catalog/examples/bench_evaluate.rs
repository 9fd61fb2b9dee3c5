//! Evaluation benchmark: the whole catalog over a synthetic inventory.
//!
//! `scripts/bench-evaluate [N] [--collect]` (release build, one core).
//!
//! The inventory is made from the subjects of every fixture in
//! `data/fixtures/` (so every recommendation has realistic input, healthy
//! and not), one synthetic account after another, each shaped like a real
//! account of about a thousand assets: one of each account-level setting,
//! one of each region-level setting in each of four regions, and resources
//! in realistic proportions (many volumes, snapshots, instances, security
//! groups and roles; few clusters and load balancers), until it holds N
//! assets.
//!
//! Evaluation is timed from indexing the inventory to the secure score and
//! compliance with every standard. By default assessments stream into a
//! [`Tally`] (what `scan` and `evaluate` need for posture); `--collect`
//! keeps every assessment as an owned record, as the CLI does before
//! storing them. Prints the counts, wall and CPU time of the evaluation,
//! the memory the input takes, the process's peak RSS, and whether the
//! target (1,000,000 assets in under 10 s and 2 GiB) is met.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program: failures end it, results go to stdout"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use rampart_catalog::compliance::assess_standard_of;
use rampart_catalog::evaluate::{evaluate_by_asset, evaluate_inventory};
use rampart_catalog::score::secure_score_of;
use rampart_catalog::standards::{builtin_standards, security_controls};
use rampart_catalog::tally::Tally;
use rampart_catalog::{Catalog, Inventory};
use rampart_model::Asset;

/// Regions each synthetic account uses.
const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1"];

/// Settings: one per account (`false`) or one per account and region (`true`).
const SETTINGS: &[(&str, bool)] = &[
    ("Rampart::Account", false),
    ("Rampart::IAM::AccountSummary", false),
    ("Rampart::IAM::PasswordPolicy", false),
    ("Rampart::IAM::RootAccount", false),
    ("Rampart::S3::AccountPublicAccessBlock", false),
    ("Rampart::AccessAnalyzer::RegionStatus", true),
    ("Rampart::CloudTrail::RegionStatus", true),
    ("Rampart::Config::RegionStatus", true),
    ("Rampart::EC2::EbsEncryptionByDefault", true),
    ("Rampart::EC2::RegionSettings", true),
    ("Rampart::GuardDuty::RegionStatus", true),
    ("Rampart::SecurityHub::RegionStatus", true),
    ("AWS::Config::ConfigurationRecorder", true),
    ("AWS::GuardDuty::Detector", true),
];

/// Resources per synthetic account, spread over its regions. Types with
/// templates that are not listed get one per account.
const RESOURCES: &[(&str, usize)] = &[
    ("AWS::EC2::Volume", 180),
    ("AWS::EC2::Snapshot", 150),
    ("AWS::EC2::Instance", 120),
    ("AWS::EC2::SecurityGroup", 100),
    ("AWS::IAM::Role", 90),
    ("AWS::IAM::ManagedPolicy", 40),
    ("AWS::S3::Bucket", 40),
    ("AWS::Lambda::Function", 40),
    ("AWS::EC2::Image", 20),
    ("AWS::RDS::DBSnapshot", 20),
    ("AWS::IAM::User", 15),
    ("AWS::KMS::Key", 15),
    ("AWS::SecretsManager::Secret", 15),
    ("AWS::SQS::Queue", 15),
    ("AWS::SNS::Topic", 15),
    ("AWS::EC2::NetworkAcl", 12),
    ("AWS::DynamoDB::Table", 10),
    ("AWS::ECR::Repository", 10),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", 10),
    ("AWS::RDS::DBInstance", 8),
    ("AWS::RDS::DBClusterSnapshot", 8),
    ("AWS::EC2::VPC", 6),
    ("AWS::IAM::Group", 5),
    ("AWS::EFS::FileSystem", 4),
    ("AWS::EFS::AccessPoint", 4),
    ("AWS::RDS::DBCluster", 3),
    ("AWS::ElasticLoadBalancing::LoadBalancer", 3),
    ("AWS::SSM::Document", 3),
    ("AWS::EKS::Cluster", 2),
    ("AWS::CloudTrail::Trail", 2),
    ("AWS::IAM::ServerCertificate", 1),
];

/// Every fixture's subject, by type.
fn templates() -> BTreeMap<String, Vec<Asset>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("fixtures");
    let mut out: BTreeMap<String, Vec<Asset>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let mut subject: Asset = serde_json::from_value(v["subject"].clone()).unwrap();
        // Synthetic inventories have no unreadable data.
        subject.unavailable.clear();
        out.entry(subject.resource_type.clone())
            .or_default()
            .push(subject);
    }
    out
}

/// A copy of `template` in `account` and `region`; `suffix` keeps ARNs unique.
fn copy(template: &Asset, account: &str, region: &str, suffix: &str) -> Asset {
    let mut a = template.clone();
    a.arn = a
        .arn
        .replace(&a.account, account)
        .replace(&a.region, region);
    if !a.arn.contains(account) || !suffix.is_empty() {
        a.arn = format!("{}-{account}{suffix}", a.arn);
    }
    a.account = account.to_owned();
    a.region = region.to_owned();
    a
}

/// The synthetic inventory: `n` assets, and how many accounts it spans.
fn inventory(templates: &BTreeMap<String, Vec<Asset>>, n: usize) -> (Vec<Asset>, usize) {
    // (type, per region?, count) for one account
    let mut plan: Vec<(&str, bool, usize)> = SETTINGS
        .iter()
        .map(|&(t, regional)| (t, regional, 1))
        .chain(RESOURCES.iter().map(|&(t, count)| (t, false, count)))
        .collect();
    for t in templates.keys() {
        if !plan.iter().any(|(p, _, _)| p == t) {
            plan.push((t.as_str(), false, 1));
        }
    }
    let mut assets = Vec::with_capacity(n);
    let mut accounts = 0;
    while assets.len() < n {
        let account = format!("{:012}", 100_000_000_000u64 + accounts as u64);
        for &(t, regional, count) in &plan {
            let Some(variants) = templates.get(t) else {
                continue;
            };
            if regional {
                for (r, region) in REGIONS.iter().enumerate() {
                    let template = &variants[(accounts + r) % variants.len()];
                    assets.push(copy(template, &account, region, ""));
                }
            } else if SETTINGS.iter().any(|(s, _)| *s == t) {
                let template = &variants[accounts % variants.len()];
                assets.push(copy(template, &account, REGIONS[0], ""));
            } else {
                for k in 0..count {
                    let template = &variants[(accounts + k) % variants.len()];
                    let region = REGIONS[k % REGIONS.len()];
                    assets.push(copy(template, &account, region, &format!("-{k}")));
                }
            }
        }
        accounts += 1;
    }
    assets.truncate(n);
    (assets, accounts)
}

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

    let t = Instant::now();
    let templates = templates();
    let (assets, accounts) = inventory(&templates, n);
    let build = t.elapsed();
    let input_kib = status_kib("VmRSS:");
    let catalog = Catalog::builtin().unwrap();
    let controls = security_controls().unwrap();
    let standards = builtin_standards().unwrap();

    let (wall, cpu) = (Instant::now(), cpu_time());
    let inventory = Inventory::new(&assets);
    let indexed = wall.elapsed();
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
            tally.add(a.recommendation, &a.asset.arn, a.status);
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
    println!(
        "build synthetic inventory {:.2} s (not timed below) · input RSS {:.2} GiB",
        build.as_secs_f64(),
        gib(input_kib)
    );
    println!(
        "evaluation: wall {:.2} s (index {:.2} s, assess {:.2} s, score + compliance {:.2} s) · CPU {:.2} s · {:.0} assets/s",
        wall.as_secs_f64(),
        indexed.as_secs_f64(),
        (evaluated - indexed).as_secs_f64(),
        (wall - evaluated).as_secs_f64(),
        cpu.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    let time_ok = wall < Duration::from_secs(10);
    let memory_ok = peak_kib < 2 * 1024 * 1024;
    println!(
        "peak RSS {:.2} GiB (input {:.2} GiB + evaluation {:.2} GiB)",
        gib(peak_kib),
        gib(input_kib),
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
