//! The current posture across accounts (issue 14): every stored snapshot
//! keeps the latest slices of the accounts its scan did not scan, so scans
//! of different accounts or connectors never hide each other, and a
//! connector that no longer lists an account (or no longer exists) drops it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use rampart_catalog::exemptions::Exemptions;
use rampart_connector::{Connector, Plan};
use rampart_engine::scan::{current_posture, store_complete};
use rampart_model::{Asset, CoverageGap, GapKind, ScanRecord, ScanStatus};
use rampart_store::{AssetFilter, Scope, Store};
use serde_json::json;
use time::OffsetDateTime;

const A: &str = "111111111111";
const B: &str = "222222222222";
const M: &str = "333333333333";
const BLOCK: &str = "s3-account-block-public-access";

/// The account-level S3 public access block of `account`, switched off:
/// unhealthy for [`BLOCK`].
fn block_off(account: &str) -> Asset {
    Asset::new(
        format!("arn:rampart:s3:us-east-1:{account}:account-public-access-block"),
        "Rampart::S3::AccountPublicAccessBlock",
        account,
        "us-east-1",
        "account-public-access-block",
        json!({"configured": false, "blockPublicAcls": false, "ignorePublicAcls": false,
               "blockPublicPolicy": false, "restrictPublicBuckets": false}),
    )
}

/// The account-level S3 public access block of `account`, all on.
fn block_on(account: &str) -> Asset {
    let mut asset = block_off(account);
    asset.properties = json!({"configured": true, "blockPublicAcls": true, "ignorePublicAcls": true,
                              "blockPublicPolicy": true, "restrictPublicBuckets": true});
    asset
}

fn bucket(account: &str, name: &str) -> Asset {
    Asset::new(
        format!("arn:aws:s3:::{name}"),
        "AWS::S3::Bucket",
        account,
        "us-east-1",
        name,
        json!({}),
    )
}

fn gap(account: &str) -> CoverageGap {
    CoverageGap {
        account: account.to_owned(),
        region: "us-east-1".to_owned(),
        service: "kms".to_owned(),
        operation: "ListKeys".to_owned(),
        kind: GapKind::AccessDenied,
        error: "denied".to_owned(),
        occurrences: 1,
    }
}

/// Scans `accounts` (through `connector` when given) with `assets` and
/// `gaps` collected; returns the stored scan's other accounts.
fn scan(
    store: &mut Store,
    id: &str,
    connector: Option<&Connector>,
    accounts: &[&str],
    assets: Vec<Asset>,
    gaps: Vec<CoverageGap>,
) -> rampart_engine::StoredScan {
    let record = ScanRecord {
        id: id.to_owned(),
        started_at: OffsetDateTime::now_utc(),
        finished_at: None,
        status: ScanStatus::Running,
        accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
        regions: vec!["us-east-1".to_owned()],
        api_calls: 1,
        asset_count: 0,
        gap_count: 0,
    };
    store.begin_scan(&record).unwrap();
    if let Some(c) = connector {
        store.set_scan_connector(id, &c.id.to_string()).unwrap();
    }
    // Finish times must order the scans.
    std::thread::sleep(std::time::Duration::from_millis(5));
    store_complete(store, record, assets, gaps, 1, &Exemptions::default(), None).unwrap()
}

fn accounts_of(store: &Store) -> Vec<String> {
    let mut accounts: Vec<String> = store
        .assets(&AssetFilter::default())
        .unwrap()
        .into_iter()
        .map(|a| a.account)
        .collect();
    accounts.sort();
    accounts.dedup();
    accounts
}

fn connector(name: &str, account: &str) -> Connector {
    let c = Connector::new(
        name,
        account,
        &[Plan::Cspm],
        vec!["us-east-1".into()],
        12,
        None,
    );
    c.validate().unwrap();
    c
}

#[test]
fn scans_of_different_accounts_add_up_and_a_rescan_replaces_only_its_account() {
    let mut store = Store::open_in_memory().unwrap();
    let first = scan(
        &mut store,
        "s1",
        None,
        &[A],
        vec![block_off(A), bucket(A, "a-logs")],
        vec![gap(A)],
    );
    assert!(first.other_accounts.is_empty());

    // Account B's scan keeps A's slice, with its gap and origin.
    let second = scan(&mut store, "s2", None, &[B], vec![block_off(B)], vec![]);
    assert_eq!(second.other_accounts, vec![A.to_owned()]);
    let latest = store.latest_complete_scan().unwrap().unwrap();
    assert_eq!(latest.id, "s2");
    assert_eq!(
        latest.accounts,
        vec![B.to_owned()],
        "the accounts it scanned"
    );
    assert_eq!(accounts_of(&store), vec![A.to_owned(), B.to_owned()]);
    assert_eq!(store.gaps().unwrap(), vec![gap(A)]);
    // A's current state is still s1's own rows: nothing was copied.
    assert_eq!(
        store.current_accounts().unwrap(),
        vec![
            (A.to_owned(), "s1".to_owned()),
            (B.to_owned(), "s2".to_owned())
        ]
    );
    // Both accounts are assessed in the stored snapshot …
    let failing: Vec<String> = store
        .assessments()
        .unwrap()
        .into_iter()
        .filter(|a| a.recommendation == BLOCK && a.status.as_str() == "unhealthy")
        .map(|a| a.account)
        .collect();
    assert_eq!(failing.len(), 2, "{failing:?}");
    // … and the scan's own posture counts only the scanned account, while
    // the posture cached for it is the whole current state's.
    assert_eq!(second.posture.unhealthy.get(BLOCK), Some(&1));
    let cached = store.posture("s2", "recommendations").unwrap().unwrap();
    assert_eq!(cached[BLOCK]["unhealthy"], 2);

    // A rescan of A replaces A's slice (the bucket is gone) and keeps B's.
    let third = scan(&mut store, "s3", None, &[A], vec![block_off(A)], vec![]);
    assert_eq!(third.other_accounts, vec![B.to_owned()]);
    let assets = store.assets(&AssetFilter::default()).unwrap();
    assert!(
        !assets.iter().any(|a| a.name == "a-logs"),
        "A was rescanned"
    );
    assert_eq!(accounts_of(&store), vec![A.to_owned(), B.to_owned()]);
    assert!(store.gaps().unwrap().is_empty(), "A's old gap is gone");
    // B's slice is still held by the scan that collected it.
    assert_eq!(
        store.current_accounts().unwrap(),
        vec![
            (A.to_owned(), "s3".to_owned()),
            (B.to_owned(), "s2".to_owned())
        ]
    );
}

#[test]
fn a_connector_drops_accounts_it_no_longer_lists_and_a_deleted_connector_drops_its_own() {
    let mut store = Store::open_in_memory().unwrap();
    let org = connector("org", A);
    let single = connector("single", B);
    store.create_connector(&org).unwrap();
    store.create_connector(&single).unwrap();

    scan(
        &mut store,
        "org-1",
        Some(&org),
        &[A, M],
        vec![block_off(A), block_off(M)],
        vec![],
    );
    let other = scan(
        &mut store,
        "single-1",
        Some(&single),
        &[B],
        vec![block_off(B)],
        vec![],
    );
    assert_eq!(other.other_accounts, vec![A.to_owned(), M.to_owned()]);
    assert_eq!(
        accounts_of(&store),
        vec![A.to_owned(), B.to_owned(), M.to_owned()]
    );

    // M left the organization: the organization's next scan drops it and
    // keeps the other connector's account.
    let again = scan(
        &mut store,
        "org-2",
        Some(&org),
        &[A],
        vec![block_off(A)],
        vec![],
    );
    assert_eq!(again.other_accounts, vec![B.to_owned()]);
    assert_eq!(accounts_of(&store), vec![A.to_owned(), B.to_owned()]);

    // The single-account connector is deleted: the next scan drops B.
    assert!(store.delete_connector("single").unwrap());
    let last = scan(
        &mut store,
        "org-3",
        Some(&org),
        &[A],
        vec![block_off(A)],
        vec![],
    );
    assert!(last.other_accounts.is_empty());
    assert_eq!(accounts_of(&store), vec![A.to_owned()]);
}

#[test]
fn an_asset_collected_again_is_not_kept_twice() {
    let mut store = Store::open_in_memory().unwrap();
    // A's scan reports a setting under another account id (no scan lists
    // that account), as a cross-account asset would be.
    let first = scan(
        &mut store,
        "x1",
        None,
        &[A],
        vec![block_off(A), block_off(M)],
        vec![],
    );
    let again = scan(
        &mut store,
        "x2",
        None,
        &[A],
        vec![block_off(A), block_off(M)],
        vec![],
    );
    assert_eq!(again.kept, 0);
    assert_eq!(
        again.posture.statuses, first.posture.statuses,
        "each asset assessed once"
    );
    assert_eq!(again.snapshot.assets.len(), 2);
}

/// One job of an organization connector's accounts (the management
/// account's, in a scan queued per account) keeps the members an older
/// whole-organization scan collected while they are still members; once a
/// member's connector is gone (it left), the next job drops it.
#[test]
fn a_job_of_the_management_account_keeps_members_that_are_still_members() {
    use rampart_connector::OrganizationalData;
    let mut store = Store::open_in_memory().unwrap();
    let org = Connector::new(
        "org",
        A,
        &[Plan::Cspm],
        vec!["us-east-1".into()],
        12,
        Some(OrganizationalData::Organization {
            stackset_name: "Rampart".into(),
            excluded_account_ids: vec![],
        }),
    );
    let member = Connector::new(
        "org-member",
        M,
        &[Plan::Cspm],
        vec!["us-east-1".into()],
        12,
        Some(OrganizationalData::Member {
            parent_hierarchy_id: A.into(),
        }),
    );
    store.create_connector(&org).unwrap();
    store.create_connector(&member).unwrap();

    // The whole organization, then the management account's own job.
    scan(
        &mut store,
        "org-all",
        Some(&org),
        &[A, M],
        vec![block_off(A), block_off(M)],
        vec![],
    );
    let job = scan(
        &mut store,
        "org-a",
        Some(&org),
        &[A],
        vec![block_off(A)],
        vec![],
    );
    assert_eq!(
        job.other_accounts,
        vec![M.to_owned()],
        "M is still a member"
    );
    assert_eq!(accounts_of(&store), vec![A.to_owned(), M.to_owned()]);

    // M left: the sync deleted its member connector.
    assert!(store.delete_connector("org-member").unwrap());
    let after = scan(
        &mut store,
        "org-a2",
        Some(&org),
        &[A],
        vec![block_off(A)],
        vec![],
    );
    assert!(
        after.other_accounts.is_empty(),
        "{:?}",
        after.other_accounts
    );
    assert_eq!(accounts_of(&store), vec![A.to_owned()]);
}

/// A stored scan's posture cache (score, compliance, counts per
/// recommendation) is written with the scan, from the assessments as they
/// were written: equal to computing it from the stored assessments.
#[test]
fn a_stored_scan_caches_its_score_compliance_and_counts() {
    let mut store = Store::open_in_memory().unwrap();
    scan(
        &mut store,
        "s1",
        None,
        &[A, B],
        vec![
            block_off(A),
            block_off(B),
            bucket(A, "a-bucket"),
            bucket(B, "b-bucket"),
        ],
        vec![],
    );
    let catalog = rampart_catalog::Catalog::builtin().unwrap();
    let controls = rampart_catalog::standards::security_controls().unwrap();
    let standards = rampart_catalog::standards::builtin_standards().unwrap();
    let stored = store.assessments().unwrap();
    assert!(stored.len() > 4, "{}", stored.len());

    let mut counts: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> =
        Default::default();
    for a in &stored {
        *counts
            .entry(a.recommendation.clone())
            .or_default()
            .entry(a.status.as_str().to_owned())
            .or_default() += 1;
    }
    let cached = |kind: &str| store.posture("s1", kind).unwrap().expect(kind);
    assert_eq!(cached("recommendations"), json!(counts));
    assert_eq!(counts[BLOCK]["unhealthy"], 2);
    let compliance: Vec<_> = standards
        .iter()
        .map(|s| rampart_catalog::compliance::assess_standard(s, &catalog, &stored))
        .collect();
    assert_eq!(cached("compliance"), json!(compliance));
    assert_eq!(
        cached("score"),
        json!(rampart_catalog::score::secure_score(
            &catalog, &controls, &stored
        ))
    );
}

/// A scan of one account evaluates its assets with the current assets of
/// other accounts they refer to (a replication destination in another
/// account), and assesses none of those: the other account's assessments
/// stay its own scan's.
#[test]
fn a_scan_looks_up_other_accounts_assets_its_assets_refer_to() {
    const REPLICATION: &str = "s3-bucket-cross-region-replication";
    let mut store = Store::open_in_memory().unwrap();
    scan(
        &mut store,
        "b1",
        None,
        &[B],
        vec![bucket(B, "b-replica")],
        vec![],
    );
    let replicating = |name: &str, destination: &str| {
        let mut asset = bucket(A, name);
        asset.properties = json!({"replication": {"rules": [
            {"status": "Enabled", "destination": {"bucket": format!("arn:aws:s3:::{destination}")}}
        ]}});
        asset
    };
    scan(
        &mut store,
        "a1",
        None,
        &[A],
        vec![
            replicating("a-data", "b-replica"),
            replicating("a-other", "nowhere-known"),
        ],
        vec![],
    );
    let outcome = |resource: &str| {
        store
            .assessments()
            .unwrap()
            .into_iter()
            .find(|a| a.recommendation == REPLICATION && a.resource == resource)
            .map(|a| (a.status.as_str().to_owned(), a.reason))
            .unwrap()
    };
    let (status, reason) = outcome("arn:aws:s3:::a-data");
    assert_eq!(status, "unhealthy", "{reason}");
    assert!(reason.contains("within its own region"), "{reason}");
    let (status, reason) = outcome("arn:aws:s3:::a-other");
    assert_eq!(status, "healthy", "{reason}");
    assert!(reason.contains("not in this scan"), "{reason}");
    // B's bucket was looked up, not assessed again by A's scan: every
    // logged change of B's is b1's.
    let b_changes = store
        .changes(
            &rampart_store::ChangeFilter {
                scope: Scope {
                    accounts: Some(vec![B.to_owned()]),
                    region: None,
                },
                ..Default::default()
            },
            None,
            1000,
        )
        .unwrap();
    assert!(!b_changes.is_empty());
    assert!(b_changes.iter().all(|c| c.scan_id == "b1"));
    assert_eq!(
        store.current_accounts().unwrap()[1],
        (B.to_owned(), "b1".to_owned())
    );
}

/// The posture of part of the estate (one account, one region) comes from
/// the day's aggregates of that part: equal to computing it from the
/// part's stored assessments, and different for accounts in different
/// states.
#[test]
fn a_scoped_posture_from_the_aggregates_equals_the_one_from_its_assessments() {
    let mut store = Store::open_in_memory().unwrap();
    scan(
        &mut store,
        "s1",
        None,
        &[A, B],
        vec![
            block_off(A),
            block_on(B),
            bucket(A, "a-bucket"),
            bucket(B, "b-bucket"),
        ],
        vec![],
    );
    let catalog = rampart_catalog::Catalog::builtin().unwrap();
    let controls = rampart_catalog::standards::security_controls().unwrap();
    let standards = rampart_catalog::standards::builtin_standards().unwrap();
    let mut scores = Vec::new();
    for scope in [
        Scope {
            accounts: Some(vec![A.to_owned()]),
            region: None,
        },
        Scope {
            accounts: Some(vec![B.to_owned()]),
            region: None,
        },
        Scope {
            accounts: None,
            region: Some("us-east-1".to_owned()),
        },
    ] {
        let stored = store.assessment_statuses_in(&scope).unwrap();
        assert!(!stored.is_empty(), "{scope:?}");
        let counted = current_posture(&store, &scope)
            .unwrap()
            .expect("a recorded day");
        let score = json!(rampart_catalog::score::secure_score(
            &catalog, &controls, &stored
        ));
        assert_eq!(counted.score(), score, "{scope:?}");
        let compliance: Vec<_> = standards
            .iter()
            .map(|s| rampart_catalog::compliance::assess_standard(s, &catalog, &stored))
            .collect();
        assert_eq!(
            counted.compliance(&catalog, &standards),
            json!(compliance),
            "{scope:?}"
        );
        assert_eq!(
            counted.recommendation_counts(&catalog),
            json!(rampart_catalog::tally::Tally::of(&catalog, &stored).recommendation_counts()),
            "{scope:?}"
        );
        scores.push(score["percent"].clone());
    }
    assert_ne!(
        scores[0], scores[1],
        "A's block is off, B's is not: {scores:?}"
    );
}
