//! The Servers view of a stored scan, for `rampart servers list`, the API
//! and the dashboard: [`stored_coverage`] per EC2 instance (from
//! [`rampart_catalog::servers`]), [`tally`] for counts, and
//! [`stored_server`] for one instance's page.

use rampart_catalog::servers::{EC2_INSTANCE, InstanceCoverage, instance_coverage_of_assets};
use rampart_model::{Alert, Assessment, Asset, ScanRecord, types};
use rampart_store::{AlertFilter, AssessmentFilter, AssetFilter, Store, StoreError};
use serde::Serialize;

/// The asset types [`rampart_catalog::servers::instance_coverage`] reads.
pub const COVERAGE_TYPES: [&str; 5] = [
    EC2_INSTANCE,
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    types::SSM_MANAGED_INSTANCE,
    types::SSM_REGION,
];

fn assets_of_types(store: &Store, kinds: &[&str]) -> Result<Vec<Asset>, StoreError> {
    let mut assets = Vec::new();
    for kind in kinds {
        let filter = AssetFilter {
            resource_type: Some((*kind).to_owned()),
            ..AssetFilter::default()
        };
        assets.extend(store.assets(&filter)?);
    }
    Ok(assets)
}

/// Per EC2 instance of the current state, its Servers coverage.
pub fn stored_coverage(store: &Store) -> Result<Vec<InstanceCoverage>, StoreError> {
    let assets = assets_of_types(store, &COVERAGE_TYPES)?;
    Ok(instance_coverage_of_assets(&assets))
}

/// How many instances are covered, and why the rest are not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CoverageTally {
    /// Instances in the scan.
    pub instances: usize,
    /// Covered ones (managed, agent online, inventory reported).
    pub covered: usize,
    /// Per reason code, how many instances have it (an instance may have
    /// several), ordered by code.
    pub reasons: Vec<(String, usize)>,
}

/// Counts `coverage`.
pub fn tally(coverage: &[InstanceCoverage]) -> CoverageTally {
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for c in coverage {
        for r in &c.reasons {
            *reasons.entry(r.code.clone()).or_default() += 1;
        }
    }
    CoverageTally {
        instances: coverage.len(),
        covered: coverage.iter().filter(|c| c.covered).count(),
        reasons: reasons.into_iter().collect(),
    }
}

/// One instance's Servers page: coverage, SSM software inventory, its
/// assessments in the scan and its alerts.
#[derive(Debug, Clone, Serialize)]
pub struct ServerDetail {
    /// The scan read.
    pub scan: ScanRecord,
    /// Its coverage.
    pub coverage: InstanceCoverage,
    /// The SSM software-inventory asset, when SSM reported one.
    pub inventory: Option<Asset>,
    /// Its assessments in the scan.
    pub assessments: Vec<Assessment>,
    /// Alerts about it (any plan).
    pub alerts: Vec<Alert>,
}

/// The page of instance `instance` (an `i-…` id or the instance's ARN) in
/// the stored scan `scan`; `None` when the scan has no such instance.
pub fn stored_server(
    store: &Store,
    scan: &ScanRecord,
    instance: &str,
) -> Result<Option<ServerDetail>, StoreError> {
    let coverage = stored_coverage(store)?
        .into_iter()
        .find(|c| c.instance_id == instance || c.arn == instance);
    let Some(coverage) = coverage else {
        return Ok(None);
    };
    let inventory = store
        .assets(&AssetFilter {
            resource_type: Some(types::SSM_INSTANCE_INVENTORY.to_owned()),
            account: Some(coverage.account.clone()),
            region: Some(coverage.region.clone()),
            ..AssetFilter::default()
        })?
        .into_iter()
        .find(|a| inventory_of(a, &coverage));
    let assessments = store.assessments_page(
        &AssessmentFilter {
            resource: Some(coverage.arn.clone()),
            ..AssessmentFilter::default()
        },
        None,
        10_000,
    )?;
    let alerts = store.alerts(&AlertFilter {
        resource: Some(coverage.arn.clone()),
        ..AlertFilter::default()
    })?;
    Ok(Some(ServerDetail {
        scan: scan.clone(),
        coverage,
        inventory,
        assessments,
        alerts,
    }))
}

/// Whether inventory asset `a` is instance `c`'s.
fn inventory_of(a: &Asset, c: &InstanceCoverage) -> bool {
    a.properties
        .get("instanceId")
        .and_then(serde_json::Value::as_str)
        == Some(c.instance_id.as_str())
        || a.arn.ends_with(&format!("/{}", c.instance_id))
}
