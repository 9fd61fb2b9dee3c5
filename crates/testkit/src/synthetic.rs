//! Synthetic inventories for benchmarks and load tests, and a store seeded
//! with one.
//!
//! The inventory is made from the subjects of every fixture in
//! `crates/catalog/data/fixtures/` (so every recommendation has realistic
//! input, healthy and not), one synthetic account after another, each
//! shaped like a real account of about a thousand assets: one of each
//! account-level setting, one of each region-level setting in each of four
//! regions, and resources in realistic proportions (many volumes,
//! snapshots, instances, security groups and roles; few clusters and load
//! balancers), until it holds the asked number of assets.
//!
//! Users: `crates/catalog/examples/bench_evaluate.rs` (evaluation
//! benchmark), `crates/testkit/examples/seed_store.rs` (`scripts/bench-server`)
//! and the server's schemathesis test.

use std::collections::BTreeMap;
use std::path::Path;

use rampart_catalog::evaluate::evaluate_inventory;
use rampart_catalog::{Catalog, Inventory};
use rampart_model::{Asset, ScanRecord, ScanStatus, Snapshot};
use rampart_store::Store;
use time::OffsetDateTime;

use crate::workspace_root;

/// Regions each synthetic account uses.
pub const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-1"];

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

/// Every catalog fixture's subject, by resource type.
pub fn templates() -> BTreeMap<String, Vec<Asset>> {
    let dir = workspace_root()
        .join("crates")
        .join("catalog")
        .join("data")
        .join("fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .flat_map(|d| std::fs::read_dir(d.expect("fixture directory").path()))
        .flatten()
        .map(|e| e.expect("fixture file").path())
        .collect();
    files.sort();
    let mut out: BTreeMap<String, Vec<Asset>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read fixture");
        let v: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        let subject = v.get("subject").cloned().unwrap_or_default();
        let mut subject: Asset = serde_json::from_value(subject)
            .unwrap_or_else(|e| panic!("`{}`: subject: {e}", f.display()));
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

/// The `i`-th item of a non-empty list, wrapping around.
fn nth<T>(items: &[T], i: usize) -> &T {
    items
        .get(i % items.len().max(1))
        .expect("a template list is never empty")
}

/// A synthetic inventory of exactly `n` assets from `templates`, and how
/// many accounts it spans (ARNs are unique).
pub fn inventory_from(templates: &BTreeMap<String, Vec<Asset>>, n: usize) -> (Vec<Asset>, usize) {
    let mut assets = Vec::with_capacity(n);
    let accounts = each_asset(templates, n, |asset| assets.push(asset));
    (assets, accounts)
}

/// The assets [`inventory_from`] makes, handed to `sink` one at a time
/// (so that a consumer need not hold them all); returns how many accounts
/// they span.
pub fn each_asset(
    templates: &BTreeMap<String, Vec<Asset>>,
    n: usize,
    mut sink: impl FnMut(Asset),
) -> usize {
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
    let made = std::cell::Cell::new(0);
    let mut emit = |asset: Asset| {
        if made.get() < n {
            sink(asset);
            made.set(made.get() + 1);
        }
    };
    let mut accounts = 0;
    while made.get() < n {
        let account = format!("{:012}", 100_000_000_000u64 + accounts as u64);
        for &(t, regional, count) in &plan {
            let Some(variants) = templates.get(t).filter(|v| !v.is_empty()) else {
                continue;
            };
            if regional {
                for (r, region) in REGIONS.iter().enumerate() {
                    emit(copy(nth(variants, accounts + r), &account, region, ""));
                }
            } else if SETTINGS.iter().any(|(s, _)| *s == t) {
                emit(copy(nth(variants, accounts), &account, REGIONS[0], ""));
            } else {
                for k in 0..count {
                    let region = nth(&REGIONS, k);
                    emit(copy(
                        nth(variants, accounts + k),
                        &account,
                        region,
                        &format!("-{k}"),
                    ));
                }
            }
        }
        accounts += 1;
    }
    accounts
}

/// A synthetic inventory of exactly `n` assets, and how many accounts it spans.
pub fn inventory(n: usize) -> (Vec<Asset>, usize) {
    inventory_from(&templates(), n)
}

/// What [`seed_store`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    /// The complete scan's id.
    pub scan_id: String,
    /// Assets stored.
    pub assets: usize,
    /// Accounts they span.
    pub accounts: usize,
    /// Assessments stored.
    pub assessments: usize,
}

/// Writes one complete scan of a synthetic inventory of `n` assets, with
/// every assessment of the built-in catalog, into the store at `db`
/// (created if missing), through [`Store::complete_scan`] as `rampart scan`
/// does. The posture cache is left for the server to fill.
pub fn seed_store(db: &Path, n: usize) -> Seeded {
    let (assets, accounts) = inventory(n);
    let catalog = Catalog::builtin().expect("built-in catalog");
    let assessments = evaluate_inventory(&catalog, &Inventory::new(&assets));
    let now = OffsetDateTime::now_utc();
    let mut account_ids: Vec<String> = assets.iter().map(|a| a.account.clone()).collect();
    account_ids.sort();
    account_ids.dedup();
    let scan = ScanRecord {
        id: format!("synthetic-{}", now.unix_timestamp_nanos()),
        started_at: now,
        finished_at: Some(now),
        status: ScanStatus::Complete,
        accounts: account_ids,
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        api_calls: 0,
        asset_count: assets.len() as u64,
        gap_count: 0,
    };
    let seeded = Seeded {
        scan_id: scan.id.clone(),
        assets: assets.len(),
        accounts,
        assessments: assessments.len(),
    };
    let snapshot = Snapshot {
        scan,
        assets,
        gaps: Vec::new(),
    };
    let mut store =
        Store::open(db).unwrap_or_else(|e| panic!("cannot open store `{}`: {e}", db.display()));
    store
        .complete_scan(&snapshot, &assessments)
        .unwrap_or_else(|e| panic!("cannot store the synthetic scan: {e}"));
    seeded
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_store::{AssessmentFilter, AssetFilter};

    #[test]
    fn inventories_have_the_asked_size_unique_arns_and_realistic_shape() {
        let (assets, accounts) = inventory(2_500);
        assert_eq!(assets.len(), 2_500);
        assert_eq!(accounts, 3, "about a thousand assets per account");
        let mut keys: Vec<_> = assets.iter().map(|a| (&a.resource_type, &a.arn)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), assets.len(), "ARNs must be unique per type");
        let volumes = assets
            .iter()
            .filter(|a| a.resource_type == "AWS::EC2::Volume")
            .count();
        let clusters = assets
            .iter()
            .filter(|a| a.resource_type == "AWS::EKS::Cluster")
            .count();
        assert!(
            volumes > 10 * clusters && clusters > 0,
            "{volumes} {clusters}"
        );
        assert!(assets.iter().all(|a| REGIONS.contains(&a.region.as_str())));
    }

    #[test]
    fn seeding_stores_a_complete_scan_with_its_assets_and_assessments() {
        let dir = std::env::temp_dir().join(format!("rampart-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("rampart.db");
        let seeded = seed_store(&db, 1_200);
        let store = Store::open(&db).unwrap();
        let latest = store.latest_complete_scan().unwrap().unwrap();
        assert_eq!(latest.id, seeded.scan_id);
        assert_eq!(latest.asset_count, 1_200);
        assert_eq!(store.assets(&AssetFilter::default()).unwrap().len(), 1_200);
        assert_eq!(seeded.accounts, 2);
        assert_eq!(
            store.assessment_statuses().unwrap().len(),
            seeded.assessments
        );
        assert!(seeded.assessments > seeded.assets, "{seeded:?}");
        let unhealthy = store
            .assessments_page(
                &AssessmentFilter {
                    status: Some(rampart_model::AssessmentStatus::Unhealthy),
                    ..AssessmentFilter::default()
                },
                None,
                10,
            )
            .unwrap();
        assert_eq!(unhealthy.len(), 10, "fixtures include failing resources");
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
