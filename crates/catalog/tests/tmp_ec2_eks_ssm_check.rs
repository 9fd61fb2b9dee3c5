#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, missing_docs)]
use std::path::{Path, PathBuf};
use rampart_catalog::evaluate::assess;
use rampart_catalog::standards::{builtin_standards, security_controls};
use rampart_catalog::{Catalog, Inventory, rules};
use rampart_model::{AssessmentStatus, Asset};
#[derive(serde::Deserialize)]
struct Fixture { subject: Asset, #[serde(default)] related: Vec<Asset> }
#[test]
fn mine() {
    let catalog = Catalog::builtin().unwrap();
    let standards = builtin_standards().unwrap();
    let controls: Vec<String> = security_controls().unwrap().into_iter().map(|c| c.name).collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join("fixtures");
    let mut failures = Vec::new();
    let mut n = 0;
    for rule in rules::all().filter(|r| r.id.starts_with("ec2-") || r.id.starts_with("eks-") || r.id.starts_with("ssm-")) {
        let Some(rec) = catalog.get(rule.id) else { failures.push(format!("{}: no metadata", rule.id)); continue };
        n += 1;
        if !controls.contains(&rec.security_control) { failures.push(format!("{}: control", rule.id)); }
        for m in &rec.standards {
            let (s, c) = m.split_once(':').unwrap();
            let st = standards.iter().find(|x| x.id == s).unwrap();
            if st.control(c).is_none() { failures.push(format!("{}: {m} missing", rule.id)); }
        }
        for req in ["healthy", "unhealthy", "not_applicable"] {
            if !dir.join(rule.id).join(format!("{req}.json")).exists() { failures.push(format!("{}: no {req}", rule.id)); }
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(rule.id)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let expected = AssessmentStatus::parse(stem.split('-').next().unwrap()).unwrap();
            let f: Fixture = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(f.subject.resource_type, rec.resource_type, "{}", path.display());
            let mut all = vec![f.subject.clone()]; all.extend(f.related);
            let inv = Inventory::new(&all);
            let a = assess(rule.id, rule.check, &f.subject, &inv);
            println!("{:55} {:28} {:?}: {}", rule.id, stem, a.status, a.reason);
            if a.status != expected || (expected == AssessmentStatus::Unhealthy && a.evidence.is_empty()) {
                failures.push(format!("{}: got {:?}: {}", path.display(), a.status, a.reason));
            }
        }
    }
    println!("{n} rules");
    assert!(failures.is_empty(), "{failures:#?}");
}
#[test]
fn demo() {
    let catalog = Catalog::builtin().unwrap();
    let assets: Vec<Asset> = serde_json::from_str(&std::fs::read_to_string("/tmp/demo-inventory.json").unwrap()).unwrap();
    let inv = Inventory::new(&assets);
    for rule in rules::all().filter(|r| r.id.starts_with("ec2-") || r.id.starts_with("eks-") || r.id.starts_with("ssm-")) {
        let Some(rec) = catalog.get(rule.id) else { continue };
        for a in inv.of_type(&rec.resource_type) {
            let r = assess(rule.id, rule.check, a, &inv);
            println!("DEMO {:45} {:10} {:24} {:?}: {}", rule.id, a.region, a.name, r.status, r.reason);
        }
    }
}
