//! Evaluation: assets in, assessments out. Pure: no I/O, no clock.
//!
//! [`evaluate_each`] is the core: it hands every assessment, as an
//! [`Assessed`] that borrows its asset and recommendation id, to a sink and
//! keeps none of them, so evaluating a million assets needs no memory
//! beyond the inventory and what the sink keeps (a
//! [`Tally`](crate::tally::Tally) for score and compliance is a few counters
//! per recommendation and one flag per resource and security control).
//! [`evaluate_by_asset`] makes the same assessments in an order that is
//! faster on large inventories. [`evaluate`] and [`evaluate_inventory`]
//! collect owned [`Assessment`]s.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use rampart_model::{Assessment, AssessmentStatus, Asset, Evidence};

use time::OffsetDateTime;

use crate::exemptions::Exemptions;
use crate::inventory::{AssetRef, Inventory};
use crate::metadata::Catalog;
use crate::rules::{self, Rule, Verdict};
use crate::tally::Tally;
use crate::view::Props;

/// One assessment as evaluation produces it: the recommendation id and the
/// asset are borrowed, the reason is usually fixed text. [`into_assessment`]
/// makes the owned [`Assessment`] the store and reports use.
///
/// [`into_assessment`]: Assessed::into_assessment
#[derive(Debug, Clone, PartialEq)]
pub struct Assessed<'a> {
    /// Recommendation id.
    pub recommendation: &'a str,
    /// The assessed asset.
    pub asset: AssetRef<'a>,
    /// Outcome.
    pub status: AssessmentStatus,
    /// One sentence a person can act on.
    pub reason: Cow<'static, str>,
    /// What the outcome rests on.
    pub evidence: Vec<Evidence>,
}

impl Assessed<'_> {
    /// The owned assessment (no exemption).
    pub fn into_assessment(self) -> Assessment {
        Assessment {
            recommendation: self.recommendation.to_owned(),
            resource: self.asset.arn.to_owned(),
            resource_type: self.asset.resource_type.to_owned(),
            resource_name: self.asset.name.to_owned(),
            account: self.asset.account.to_owned(),
            region: self.asset.region.to_owned(),
            status: self.status,
            reason: self.reason.into_owned(),
            evidence: self.evidence,
            exemption: None,
        }
    }
}

/// Assesses every asset against every recommendation of its type.
/// Assessments are ordered by recommendation id, then resource.
pub fn evaluate(catalog: &Catalog, assets: &[Asset]) -> Vec<Assessment> {
    let inventory = Inventory::new(assets);
    evaluate_inventory(catalog, &inventory)
}

/// [`evaluate`] over an already indexed inventory.
pub fn evaluate_inventory(catalog: &Catalog, inventory: &Inventory) -> Vec<Assessment> {
    let mut out = Vec::new();
    evaluate_each(catalog, inventory, |a| out.push(a.into_assessment()));
    out
}

/// Evaluates `inventory`, applies `exemptions` as of `now`, counts each
/// assessment in `tally` and hands it, owned, to `sink`, one at a time in
/// [`evaluate_each`]'s order; stops at the first error of `sink`. What a
/// re-evaluation that writes assessments straight into a store needs.
pub fn assess_each<'a, E>(
    catalog: &Catalog,
    inventory: &'a Inventory,
    exemptions: &Exemptions,
    now: OffsetDateTime,
    tally: &mut Tally<'a>,
    sink: impl FnMut(&Assessment) -> Result<(), E>,
) -> Result<(), E> {
    assess_accounts(catalog, inventory, exemptions, now, tally, |_| true, sink)
}

/// [`assess_each`] of the assets of the accounts `assessed` accepts only:
/// the inventory's other assets (those of other accounts that the
/// assessed ones refer to, such as a trail's bucket in a log archive
/// account) are there to be looked up, not assessed.
pub fn assess_accounts<'a, E>(
    catalog: &Catalog,
    inventory: &'a Inventory,
    exemptions: &Exemptions,
    now: OffsetDateTime,
    tally: &mut Tally<'a>,
    assessed_account: impl Fn(&str) -> bool,
    mut sink: impl FnMut(&Assessment) -> Result<(), E>,
) -> Result<(), E> {
    let mut failed = None;
    evaluate_each(catalog, inventory, |assessed| {
        if failed.is_some() || !assessed_account(assessed.asset.account) {
            return;
        }
        let (recommendation, resource) = (assessed.recommendation, assessed.asset.arn);
        let mut assessment = assessed.into_assessment();
        exemptions.apply_one(&mut assessment, inventory, now);
        tally.add(recommendation, resource, assessment.status);
        if let Err(e) = sink(&assessment) {
            failed = Some(e);
        }
    });
    failed.map_or(Ok(()), Err)
}

/// [`evaluate_inventory`] without collecting: hands each assessment to
/// `sink` as it is made, in the same order (recommendation id, then
/// resource ARN).
pub fn evaluate_each<'a>(
    catalog: &Catalog,
    inventory: &'a Inventory,
    mut sink: impl FnMut(Assessed<'a>),
) {
    let by_type = rules_by_type(catalog);
    // Each type's assets sorted once, for all its recommendations.
    let subjects: HashMap<&str, Vec<AssetRef<'a>>> = by_type
        .keys()
        .map(|ty| (*ty, sorted_subjects(inventory, ty)))
        .collect();
    let mut rules: Vec<(&str, &Rule)> = by_type
        .iter()
        .flat_map(|(ty, rules)| rules.iter().map(|&rule| (*ty, rule)))
        .collect();
    rules.sort_by_key(|(_, rule)| rule.id);
    for (ty, rule) in rules {
        for &asset in subjects.get(ty).into_iter().flatten() {
            sink(assessed(rule.id, rule.check, asset, inventory));
        }
    }
}

/// The same assessments as [`evaluate_each`], asset by asset: by resource
/// type, then the inventory's order of assets, then recommendation id.
/// Faster on large inventories (each asset's properties are read by all its
/// recommendations while they are in the CPU cache, and assets are visited
/// in the order they were made); for sinks that do not depend on the
/// order, such as a [`Tally`](crate::tally::Tally).
pub fn evaluate_by_asset<'a>(
    catalog: &Catalog,
    inventory: &'a Inventory,
    mut sink: impl FnMut(Assessed<'a>),
) {
    for (ty, rules) in rules_by_type(catalog) {
        for asset in inventory.of_type(ty) {
            for rule in &rules {
                sink(assessed(rule.id, rule.check, asset, inventory));
            }
        }
    }
}

/// The rules with a recommendation in `catalog`, by its resource type
/// (types in name order, rules in id order).
fn rules_by_type(catalog: &Catalog) -> BTreeMap<&str, Vec<&'static Rule>> {
    let mut by_type: BTreeMap<&str, Vec<&'static Rule>> = BTreeMap::new();
    for rule in rules::all() {
        if let Some(meta) = catalog.get(rule.id) {
            by_type
                .entry(meta.resource_type.as_str())
                .or_default()
                .push(rule);
        }
    }
    for rules in by_type.values_mut() {
        rules.sort_by_key(|r| r.id);
    }
    by_type
}

/// The assets of a type, by ARN (a stable sort: equal ARNs keep the
/// inventory's order).
fn sorted_subjects<'a>(inventory: &'a Inventory, resource_type: &str) -> Vec<AssetRef<'a>> {
    let mut assets: Vec<_> = inventory.of_type(resource_type).collect();
    assets.sort_by(|a, b| a.arn.cmp(b.arn));
    assets
}

/// Runs one rule on one asset.
pub fn assess(
    id: &str,
    check: rules::Check,
    asset: AssetRef<'_>,
    inventory: &Inventory,
) -> Assessment {
    assessed(id, check, asset, inventory).into_assessment()
}

/// Runs one rule on one asset, borrowing both.
pub fn assessed<'a>(
    id: &'a str,
    check: rules::Check,
    asset: AssetRef<'a>,
    inventory: &Inventory,
) -> Assessed<'a> {
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
            Cow::Owned(format!(
                "The scan could not read `{}` ({}), so this could not be assessed.",
                unreadable.path, unreadable.error
            )),
            vec![Evidence {
                path: unreadable.path,
                value: serde_json::Value::Null,
            }],
        ),
    };
    Assessed {
        recommendation: id,
        asset,
        status,
        reason,
        evidence,
    }
}
