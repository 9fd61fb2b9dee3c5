//! Evaluation: assets in, assessments out. Pure: no I/O, no clock.

use rampart_model::{Assessment, AssessmentStatus, Asset, Evidence};

use crate::inventory::Inventory;
use crate::metadata::Catalog;
use crate::rules::{self, Verdict};
use crate::view::Props;

/// Assesses every asset against every recommendation of its type.
/// Assessments are ordered by recommendation id, then resource.
pub fn evaluate(catalog: &Catalog, assets: &[Asset]) -> Vec<Assessment> {
    let inventory = Inventory::new(assets);
    evaluate_inventory(catalog, &inventory)
}

/// [`evaluate`] over an already indexed inventory.
pub fn evaluate_inventory(catalog: &Catalog, inventory: &Inventory<'_>) -> Vec<Assessment> {
    let mut rules: Vec<_> = rules::all().collect();
    rules.sort_by_key(|r| r.id);
    let mut out = Vec::new();
    for rule in rules {
        let Some(meta) = catalog.get(rule.id) else {
            continue;
        };
        let mut subjects: Vec<&Asset> = inventory.of_type(&meta.resource_type).to_vec();
        subjects.sort_by(|a, b| a.arn.cmp(&b.arn));
        for asset in subjects {
            out.push(assess(rule.id, rule.check, asset, inventory));
        }
    }
    out
}

/// Runs one rule on one asset.
pub fn assess(
    id: &str,
    check: rules::Check,
    asset: &Asset,
    inventory: &Inventory<'_>,
) -> Assessment {
    let (status, reason, evidence) = match check(&Props::of(asset), inventory) {
        Ok(outcome) => (
            match outcome.verdict {
                Verdict::Healthy => AssessmentStatus::Healthy,
                Verdict::Unhealthy => AssessmentStatus::Unhealthy,
                Verdict::NotApplicable => AssessmentStatus::NotApplicable,
            },
            outcome.reason,
            outcome.evidence,
        ),
        Err(unreadable) => (
            AssessmentStatus::Error,
            format!(
                "The scan could not read `{}` ({}), so this could not be assessed.",
                unreadable.path, unreadable.error
            ),
            vec![Evidence {
                path: unreadable.path,
                value: serde_json::Value::Null,
            }],
        ),
    };
    Assessment {
        recommendation: id.to_owned(),
        resource: asset.arn.clone(),
        resource_type: asset.resource_type.clone(),
        resource_name: asset.name.clone(),
        account: asset.account.clone(),
        region: asset.region.clone(),
        status,
        reason,
        evidence,
        exemption: None,
    }
}
