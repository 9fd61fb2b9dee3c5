//! Streaming evaluation makes the same assessments as collecting them, and a
//! tally fed in either order gives the same secure score and compliance as
//! the assessments themselves.
//!
//! Input: every fixture's subject and related assets (`data/fixtures/`), one
//! inventory, unreadable properties included, so every recommendation and
//! every status (error too) is exercised.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rampart_catalog::compliance::{assess_standard, assess_standard_of};
use rampart_catalog::evaluate::{evaluate_by_asset, evaluate_each, evaluate_inventory};
use rampart_catalog::score::{secure_score, secure_score_of};
use rampart_catalog::standards::{builtin_standards, security_controls};
use rampart_catalog::tally::Tally;
use rampart_catalog::{Catalog, Inventory};
use rampart_model::{Assessment, AssessmentStatus, Asset};

fn fixture_assets() -> Vec<Asset> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("fixtures");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut assets = Vec::new();
    for f in files {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assets.push(serde_json::from_value(v["subject"].clone()).unwrap());
        for related in v["related"].as_array().into_iter().flatten() {
            assets.push(serde_json::from_value(related.clone()).unwrap());
        }
    }
    assets
}

fn key(a: &Assessment) -> String {
    serde_json::to_string(a).unwrap()
}

#[test]
fn every_order_makes_the_same_assessments() {
    let catalog = Catalog::builtin().unwrap();
    let assets = fixture_assets();
    let inventory = Inventory::new(&assets);
    let collected = evaluate_inventory(&catalog, &inventory);
    let statuses: BTreeSet<&str> = collected.iter().map(|a| a.status.as_str()).collect();
    assert_eq!(
        statuses.len(),
        4,
        "the fixtures should give every status but exempt: {statuses:?}"
    );

    let mut streamed = Vec::new();
    evaluate_each(&catalog, &inventory, |a| streamed.push(a.into_assessment()));
    assert_eq!(streamed, collected, "same assessments, same order");

    let mut by_asset = Vec::new();
    evaluate_by_asset(&catalog, &inventory, |a| by_asset.push(a.into_assessment()));
    assert_eq!(by_asset.len(), collected.len());
    let mut left: Vec<String> = by_asset.iter().map(key).collect();
    let mut right: Vec<String> = collected.iter().map(key).collect();
    left.sort();
    right.sort();
    assert!(left == right, "evaluate_by_asset made other assessments");
}

#[test]
fn a_tally_in_any_order_gives_the_same_posture() {
    let catalog = Catalog::builtin().unwrap();
    let controls = security_controls().unwrap();
    let standards = builtin_standards().unwrap();
    let assets = fixture_assets();
    let inventory = Inventory::new(&assets);
    let assessments = evaluate_inventory(&catalog, &inventory);

    let mut tally = Tally::new(&catalog);
    evaluate_by_asset(&catalog, &inventory, |a| {
        tally.add(a.recommendation, a.asset.arn, a.status);
    });
    assert_eq!(tally.total(), assessments.len() as u64);
    let score = secure_score(&catalog, &controls, &assessments);
    assert!(!score.controls.is_empty());
    assert_eq!(secure_score_of(&controls, &tally), score);
    for standard in &standards {
        assert_eq!(
            assess_standard_of(standard, &tally),
            assess_standard(standard, &catalog, &assessments)
        );
    }

    // The score's resource counts, recomputed plainly: per control, the
    // distinct resources with a healthy or unhealthy assessment of a
    // non-preview recommendation; unhealthy if any is.
    let mut expected: BTreeMap<&str, BTreeMap<&str, bool>> = BTreeMap::new();
    for a in &assessments {
        let rec = catalog.get(&a.recommendation).unwrap();
        let unhealthy = match a.status {
            AssessmentStatus::Healthy => false,
            AssessmentStatus::Unhealthy => true,
            _ => continue,
        };
        if !rec.preview {
            *expected
                .entry(rec.security_control.as_str())
                .or_default()
                .entry(a.resource.as_str())
                .or_default() |= unhealthy;
        }
    }
    for control in &controls {
        let plain = expected.get(control.name.as_str()).map(|r| {
            let unhealthy = r.values().filter(|u| **u).count() as u64;
            (r.len() as u64 - unhealthy, unhealthy)
        });
        assert_eq!(
            tally.control_resources(&control.name),
            plain,
            "{}",
            control.name
        );
    }
    assert!(expected.values().any(|r| r.values().any(|u| *u)));
    assert!(expected.values().any(|r| r.values().any(|u| !*u)));
}

#[test]
fn assess_each_applies_exemptions_like_the_collected_path_and_stops_at_a_sink_error() {
    use rampart_catalog::evaluate::assess_each;
    use rampart_catalog::exemptions::Exemptions;
    use time::macros::datetime;

    let catalog = Catalog::builtin().unwrap();
    let controls = security_controls().unwrap();
    let assets = fixture_assets();
    let inventory = Inventory::new(&assets);
    let exemptions = Exemptions::from_yaml(
        "exemptions:\n  - recommendation: \"*\"\n    resource: \"arn:aws:s3:::*\"\n    reason: accepted for the test\n",
    )
    .unwrap();
    let now = datetime!(2026-11-29 00:00 UTC);
    let mut expected = evaluate_inventory(&catalog, &inventory);
    let exempted = exemptions.apply(&mut expected, &inventory, now);
    assert!(exempted > 0, "the exemption should match some bucket");

    let mut tally = Tally::new(&catalog);
    let mut streamed = Vec::new();
    assess_each(&catalog, &inventory, &exemptions, now, &mut tally, |a| {
        streamed.push(a.clone());
        Ok::<(), String>(())
    })
    .unwrap();
    assert!(streamed == expected, "assess_each made other assessments");
    assert_eq!(
        secure_score_of(&controls, &tally),
        secure_score(&catalog, &controls, &expected)
    );

    let mut seen = 0;
    let mut tally = Tally::new(&catalog);
    let stopped = assess_each(&catalog, &inventory, &exemptions, now, &mut tally, |_| {
        seen += 1;
        if seen == 3 { Err("full") } else { Ok(()) }
    });
    assert_eq!(stopped, Err("full"));
    assert_eq!(seen, 3);
}

#[test]
fn every_fixture_asset_round_trips_through_the_compact_inventory() {
    use rampart_catalog::Doc;

    let assets = fixture_assets();
    let inventory = Inventory::new(&assets);
    assert_eq!(inventory.len(), assets.len());
    let (mut encoded, mut json) = (0, 0);
    for (i, asset) in assets.iter().enumerate() {
        assert_eq!(&inventory.get(i).unwrap().to_asset(), asset);
        let text = serde_json::to_string(&asset.properties).unwrap();
        let doc = Doc::from_json(&text).unwrap();
        assert_eq!(doc, Doc::from_value(&asset.properties).unwrap());
        encoded += doc.encoded_len();
        json += text.len();
    }
    // Tiny documents (`{}`) take more than their text; all together less.
    assert!(encoded < json, "{encoded} bytes encoded for {json} of JSON");
}
