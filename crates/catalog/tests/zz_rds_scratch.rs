//! Temporary: RDS-only version of the catalog tests (removed before handing back).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]
use std::path::Path;
use rampart_catalog::evaluate::assess;
use rampart_catalog::standards::{builtin_standards, security_controls};
use rampart_catalog::{Catalog, Inventory, rules};
use rampart_model::{AssessmentStatus, Asset};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture { subject: Asset, #[serde(default)] related: Vec<Asset> }

#[test]
fn rds_only() {
    let catalog = Catalog::builtin().unwrap();
    let controls: Vec<String> = security_controls().unwrap().into_iter().map(|c| c.name).collect();
    let standards = builtin_standards().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/fixtures");
    let mut problems = Vec::new();
    let mut n = 0;
    for rec in catalog.iter().filter(|r| r.id.starts_with("rds-")) {
        assert!(rules::get(&rec.id).is_some(), "no rule {}", rec.id);
        if !controls.contains(&rec.security_control) { problems.push(format!("{}: control", rec.id)); }
        for m in &rec.standards {
            let (s, c) = m.split_once(':').unwrap();
            let st = standards.iter().find(|x| x.id == s).unwrap();
            if st.control(c).is_none() { problems.push(format!("{}: {m} missing", rec.id)); }
        }
        for req in ["healthy", "unhealthy", "not_applicable"] {
            if !dir.join(&rec.id).join(format!("{req}.json")).exists() { problems.push(format!("{}: no {req}", rec.id)); }
        }
        let rule = rules::get(&rec.id).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(dir.join(&rec.id)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let expected = AssessmentStatus::parse(stem.split('-').next().unwrap()).unwrap();
            let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(fx.subject.resource_type, rec.resource_type, "{}", path.display());
            let mut all = vec![fx.subject.clone()];
            all.extend(fx.related);
            let inv = Inventory::new(&all);
            let a = assess(&rec.id, rule.check, &fx.subject, &inv);
            println!("{:<55} {:<40} {:?}: {}", rec.id, stem, a.status, a.reason);
            if a.status != expected { problems.push(format!("{}/{stem}: got {:?}: {}", rec.id, a.status, a.reason)); }
            if expected == AssessmentStatus::Unhealthy && a.evidence.is_empty() { problems.push(format!("{}/{stem}: no evidence", rec.id)); }
            n += 1;
        }
    }
    println!("{n} fixtures");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn rds_demo() {
    let catalog = Catalog::builtin().unwrap();
    let assets: Vec<Asset> = serde_json::from_str(&std::fs::read_to_string("/tmp/demo-inventory.json").unwrap()).unwrap();
    for a in rampart_catalog::evaluate(&catalog, &assets).into_iter().filter(|a| a.recommendation.starts_with("rds-")) {
        println!("DEMO {:<48} {:<42} {:?}: {}", a.recommendation, a.resource_name, a.status, a.reason);
    }
}
