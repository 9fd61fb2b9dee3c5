//! The catalog is consistent, and every recommendation's logic gives the
//! expected status on its fixtures.
//!
//! Fixtures: `data/fixtures/<recommendation id>/<status>[-<case>].json`, each
//! `{"subject": <asset>, "related": [<asset>, ...]}`; `<status>` is the
//! expected assessment status (`healthy`, `unhealthy`, `not_applicable`,
//! `error`). Every recommendation has at least one fixture of each of the
//! first three.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_catalog::evaluate::assess;
use rampart_catalog::standards::{builtin_standards, security_controls};
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

/// Recommendations whose Security Hub control (or CIS audit step) excludes
/// nothing: every resource of the type is assessed, so no input can be
/// `not_applicable` and they have no such fixture (docs/recommendations.md,
/// "Semantics: how scope and not-applicable are decided").
const NOTHING_NOT_APPLICABLE: &[&str] = &[
    "kms-key-not-pending-deletion",
    "ecr-repository-image-scanning",
    "ecr-repository-tag-immutability",
    "ecr-repository-lifecycle-policy",
    "ec2-security-group-no-world-ssh",
    "ec2-security-group-no-world-rdp",
    "ec2-security-group-no-ipv4-admin-ports",
    "ec2-security-group-no-ipv6-admin-ports",
    "ec2-security-group-authorized-ports-only",
    "ec2-security-group-no-world-high-risk-ports",
    "ec2-security-group-no-world-cifs",
    "ec2-network-acl-in-use",
    "ec2-network-acl-no-world-admin-ports",
    "iam-password-policy-min-length",
    "iam-password-policy-prevents-reuse",
    "iam-password-policy-uppercase",
    "iam-password-policy-lowercase",
    "iam-password-policy-symbols",
    "iam-password-policy-numbers",
    "iam-password-policy-expiry",
    "iam-user-mfa-enabled",
    "iam-user-unused-credentials-45-days",
    "iam-user-unused-credentials-90-days",
    "iam-user-single-active-access-key",
    "iam-user-access-keys-rotated",
    "iam-user-no-direct-policies",
    "s3-account-block-public-access",
    "s3-bucket-block-public-access",
    "s3-bucket-versioning-enabled",
    "s3-bucket-acls-disabled",
    "s3-bucket-public-read-prohibited",
    "s3-bucket-public-write-prohibited",
    "s3-bucket-cross-account-sensitive-actions",
    "elb-classic-access-logs",
    "elb-classic-connection-draining",
    "elb-classic-cross-zone",
    "elb-classic-multi-az",
    "elb-classic-desync-mitigation",
    "lambda-function-public-access-prohibited",
    "ec2-instance-imdsv2-required",
    "rds-snapshot-not-public",
    "rds-cluster-snapshot-not-public",
    "rds-snapshot-encrypted",
    "rds-cluster-snapshot-encrypted",
    "iam-group-no-full-admin",
    "iam-user-no-cloudshell-full-access",
    "iam-group-no-cloudshell-full-access",
    "kms-user-inline-policy-no-decrypt-all-keys",
    "kms-role-inline-policy-no-decrypt-all-keys",
    "kms-group-inline-policy-no-decrypt-all-keys",
    "backup-plan-min-frequency-and-retention",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("fixtures")
}

#[test]
fn catalog_metadata_logic_and_fixtures_match_one_to_one() {
    let catalog = Catalog::builtin().unwrap();
    let rule_ids: Vec<&str> = rules::all().map(|r| r.id).collect();
    let unique: BTreeSet<&str> = rule_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        rule_ids.len(),
        "a rule id is registered twice"
    );
    let meta_ids: BTreeSet<&str> = catalog.iter().map(|r| r.id.as_str()).collect();
    let no_logic: Vec<_> = meta_ids.difference(&unique).collect();
    let no_meta: Vec<_> = unique.difference(&meta_ids).collect();
    assert!(
        no_logic.is_empty(),
        "recommendations without logic: {no_logic:?}"
    );
    assert!(no_meta.is_empty(), "rules without metadata: {no_meta:?}");

    let fixture_dirs: BTreeSet<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let orphans: Vec<_> = fixture_dirs
        .iter()
        .filter(|d| !meta_ids.contains(d.as_str()))
        .collect();
    assert!(
        orphans.is_empty(),
        "fixture folders without a recommendation: {orphans:?}"
    );

    let controls: BTreeSet<String> = security_controls()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    let standards = builtin_standards().unwrap();
    for rec in catalog.iter() {
        let id = &rec.id;
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "`{id}`: ids are kebab-case"
        );
        for (field, value) in [
            ("title", &rec.title),
            ("description", &rec.description),
            ("remediation.text", &rec.remediation.text),
            ("remediation.cli", &rec.remediation.cli),
            (
                "remediation.cloudformation",
                &rec.remediation.cloudformation,
            ),
            ("resource_type", &rec.resource_type),
        ] {
            assert!(!value.trim().is_empty(), "`{id}`: empty {field}");
        }
        assert!(
            rec.resource_type.starts_with("AWS::") || rec.resource_type.starts_with("Rampart::"),
            "`{id}`: resource type `{}`",
            rec.resource_type
        );
        assert!(
            controls.contains(&rec.security_control),
            "`{id}`: unknown security control `{}`",
            rec.security_control
        );
        assert!(
            !rec.standards.is_empty(),
            "`{id}`: maps to no standard control"
        );
        for mapping in &rec.standards {
            let (std_id, control) = mapping.split_once(':').unwrap_or_else(|| {
                panic!("`{id}`: mapping `{mapping}` is not `<standard>:<control>`")
            });
            let standard = standards
                .iter()
                .find(|s| s.id == std_id)
                .unwrap_or_else(|| panic!("`{id}`: unknown standard `{std_id}`"));
            assert!(
                standard.control(control).is_some(),
                "`{id}`: `{control}` is not a control of `{std_id}`"
            );
        }
        let names: Vec<String> = std::fs::read_dir(fixtures_dir().join(id))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let never_not_applicable = NOTHING_NOT_APPLICABLE.contains(&id.as_str());
        assert!(
            !never_not_applicable || !names.iter().any(|n| n.starts_with("not_applicable")),
            "`{id}` is listed as never not applicable but has a `not_applicable` fixture"
        );
        for required in ["healthy", "unhealthy", "not_applicable"] {
            if required == "not_applicable" && never_not_applicable {
                continue;
            }
            assert!(
                names
                    .iter()
                    .any(|n| n == &format!("{required}.json")
                        || n.starts_with(&format!("{required}-"))),
                "`{id}`: no `{required}` fixture (`{required}.json` or `{required}-<case>.json`)"
            );
        }
    }
}

#[test]
fn every_fixture_gives_its_expected_status() {
    let catalog = Catalog::builtin().unwrap();
    let mut checked = 0;
    for rule in rules::all() {
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
            let subject = inventory.get(0).unwrap();
            let assessment = assess(rule.id, rule.check, subject, &inventory);
            assert_eq!(
                assessment.status,
                expected,
                "{}: got {:?}: {}",
                path.display(),
                assessment.status,
                assessment.reason
            );
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
    assert!(
        checked >= 3 * catalog.len() - NOTHING_NOT_APPLICABLE.len(),
        "only {checked} fixtures for {} recommendations",
        catalog.len()
    );
}

/// The six standards added for issue 15: ids are a contract other tools rely
/// on, each has controls, and enough recommendations map to each (floors
/// measured when the mappings were derived; a mapping file that loses its
/// crosswalk falls below them).
#[test]
fn crosswalked_standards_are_mapped_by_enough_recommendations() {
    let catalog = Catalog::builtin().unwrap();
    let standards = builtin_standards().unwrap();
    let floors = [
        ("nist-800-53-r5", 155),
        ("nist-800-171-r2", 93),
        ("iso-27001-2022", 127),
        ("soc2", 83),
        ("cis-aws-5.0", 49),
        ("aws-well-architected-security", 117),
    ];
    for (id, floor) in floors {
        let standard = standards
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("standard `{id}` is missing"));
        assert!(!standard.controls.is_empty(), "{id}: no controls");
        let prefix = format!("{id}:");
        let mapped = catalog
            .iter()
            .filter(|r| r.standards.iter().any(|m| m.starts_with(&prefix)))
            .count();
        assert!(
            mapped >= floor,
            "{id}: {mapped} recommendations map to it, expected at least {floor}"
        );
    }
}

/// CIS 5.0.0 renumbered section 1 of 4.0.1 (item 1.3 was dropped, 1.4-1.22
/// became 1.3-1.21); every CIS 4.0.1 mapping has its 5.0.0 counterpart.
#[test]
fn cis_5_mappings_follow_the_4_0_mappings() {
    let catalog = Catalog::builtin().unwrap();
    for rec in catalog.iter() {
        for mapping in &rec.standards {
            let Some(control) = mapping.strip_prefix("cis-aws-4.0:") else {
                continue;
            };
            let renumbered = match control.split_once('.') {
                Some(("1", n)) if !n.contains('.') => {
                    let n: u32 = n.parse().unwrap();
                    match n {
                        3 => None,
                        n if n > 3 => Some(format!("1.{}", n - 1)),
                        n => Some(format!("1.{n}")),
                    }
                }
                _ => Some(control.to_owned()),
            };
            if let Some(c5) = renumbered {
                let expected = format!("cis-aws-5.0:{c5}");
                assert!(
                    rec.standards.contains(&expected),
                    "`{}`: maps to `{mapping}` but not to `{expected}`",
                    rec.id
                );
            }
        }
    }
}

/// docs/recommendations.md reviews every recommendation's semantics against
/// its Security Hub control: the review table names each recommendation
/// exactly once, and nothing else.
#[test]
fn semantics_review_table_names_every_recommendation() {
    let catalog = Catalog::builtin().unwrap();
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/recommendations.md"),
    )
    .unwrap();
    let start = doc
        .find("### Review of every recommendation")
        .expect("docs/recommendations.md has the review table");
    let section = &doc[start..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let mut listed = Vec::new();
    for line in section.lines() {
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let id = &cell[..cell.find('`').unwrap()];
        listed.push(id.to_owned());
    }
    let unique: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    assert_eq!(
        unique.len(),
        listed.len(),
        "a recommendation is listed twice"
    );
    let ids: BTreeSet<&str> = catalog.iter().map(|r| r.id.as_str()).collect();
    let missing: Vec<_> = ids.difference(&unique).collect();
    let unknown: Vec<_> = unique.difference(&ids).collect();
    assert!(missing.is_empty(), "not in the review table: {missing:?}");
    assert!(unknown.is_empty(), "not recommendations: {unknown:?}");
    for id in NOTHING_NOT_APPLICABLE {
        assert!(
            ids.contains(id),
            "`{id}` in NOTHING_NOT_APPLICABLE is not a recommendation"
        );
    }
}
