//! A two-account estate in one snapshot, for the tests of the account,
//! connector and region filters of the score, compliance and exports.
//!
//! Account [`ACCOUNT_A`] is scanned through connector [`CONNECTOR_A`] and
//! is mostly healthy; account [`ACCOUNT_B`] is scanned afterwards with the
//! `scan` command's own credentials and is unhealthy. The latest complete
//! snapshot holds both, as the engine's merge keeps every account's
//! latest slice.

use rampart_catalog::evaluate::evaluate_inventory;
use rampart_catalog::{Catalog, Inventory};
use rampart_connector::{Connector, Plan};
use rampart_model::{Asset, ScanRecord, ScanStatus, Snapshot};
use rampart_store::Store;
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// The account scanned through [`CONNECTOR_A`]: two encrypted EBS volumes
/// in us-east-1, one unencrypted in eu-west-1.
pub const ACCOUNT_A: &str = "111111111111";
/// The account scanned without a connector: two unencrypted EBS volumes
/// in us-east-1.
pub const ACCOUNT_B: &str = "222222222222";
/// The connector of [`ACCOUNT_A`].
pub const CONNECTOR_A: &str = "prod-a";
/// The scan through [`CONNECTOR_A`] (account A only).
pub const SCAN_A: &str = "estate-a";
/// The latest complete scan: account B scanned, account A kept.
pub const SCAN_B: &str = "estate-b";

/// An attached EBS volume of `account` in `region`.
pub fn volume(account: &str, region: &str, n: u32, encrypted: bool) -> Asset {
    let arn = format!("arn:aws:ec2:{region}:{account}:volume/vol-{account}-{n}");
    Asset::new(
        &arn,
        "AWS::EC2::Volume",
        account,
        region,
        format!("vol-{account}-{n}"),
        json!({"state": "in-use", "encrypted": encrypted,
               "attachments": [{"instanceId": format!("i-{n:04}"), "state": "attached"}]}),
    )
}

/// Account A's assets.
pub fn assets_a() -> Vec<Asset> {
    vec![
        volume(ACCOUNT_A, "us-east-1", 1, true),
        volume(ACCOUNT_A, "us-east-1", 2, true),
        volume(ACCOUNT_A, "eu-west-1", 3, false),
    ]
}

/// Account B's assets.
pub fn assets_b() -> Vec<Asset> {
    vec![
        volume(ACCOUNT_B, "us-east-1", 1, false),
        volume(ACCOUNT_B, "us-east-1", 2, false),
    ]
}

/// Stores the estate: scan [`SCAN_A`] of account A through connector
/// [`CONNECTOR_A`] (created here), then the latest complete scan
/// [`SCAN_B`] of account B holding A's assets too, each evaluated with the
/// built-in catalog.
pub fn seed_two_accounts(store: &mut Store) {
    let catalog = Catalog::builtin().expect("built-in catalog");
    let now = OffsetDateTime::now_utc();
    let regions = vec!["us-east-1".to_owned(), "eu-west-1".to_owned()];
    let scans = [
        (SCAN_A, ACCOUNT_A, assets_a(), now - Duration::minutes(10)),
        (
            SCAN_B,
            ACCOUNT_B,
            [assets_a(), assets_b()].concat(),
            now - Duration::minutes(5),
        ),
    ];
    for (id, account, assets, at) in scans {
        let assessments = evaluate_inventory(&catalog, &Inventory::new(&assets));
        let scan = ScanRecord {
            id: id.to_owned(),
            started_at: at,
            finished_at: Some(at + Duration::seconds(30)),
            status: ScanStatus::Running,
            accounts: vec![account.to_owned()],
            regions: regions.clone(),
            api_calls: 1,
            asset_count: 0,
            gap_count: 0,
        };
        let snapshot = Snapshot {
            scan,
            assets,
            gaps: Vec::new(),
        };
        store
            .complete_scan(&snapshot, &assessments)
            .expect("store the estate's scan");
    }
    let connector = Connector::new(CONNECTOR_A, ACCOUNT_A, &[Plan::Cspm], regions, 12, None);
    store
        .create_connector(&connector)
        .expect("store the connector");
    store
        .set_scan_connector(SCAN_A, &connector.id.to_string())
        .expect("link the scan to its connector");
}

/// A scan of account B after [`seed_two_accounts`], in which B's volume 1
/// is encrypted: its failing assessments are resolved.
pub const SCAN_FIX: &str = "estate-fix";

/// Stores [`SCAN_FIX`]: account B scanned again with volume 1 now
/// encrypted, account A kept (as the engine's merge keeps it).
pub fn fix_b_volume(store: &mut Store) {
    let catalog = Catalog::builtin().expect("built-in catalog");
    let at = OffsetDateTime::now_utc() - Duration::minutes(1);
    let assets = [
        assets_a(),
        vec![
            volume(ACCOUNT_B, "us-east-1", 1, true),
            volume(ACCOUNT_B, "us-east-1", 2, false),
        ],
    ]
    .concat();
    let assessments = evaluate_inventory(&catalog, &Inventory::new(&assets));
    let snapshot = Snapshot {
        scan: ScanRecord {
            id: SCAN_FIX.to_owned(),
            started_at: at,
            finished_at: Some(at + Duration::seconds(30)),
            status: ScanStatus::Running,
            accounts: vec![ACCOUNT_B.to_owned()],
            regions: vec!["us-east-1".to_owned(), "eu-west-1".to_owned()],
            api_calls: 1,
            asset_count: 0,
            gap_count: 0,
        },
        assets,
        gaps: Vec::new(),
    };
    store
        .complete_scan(&snapshot, &assessments)
        .expect("store the fixing scan");
}
