//! `rampart disk-scan` end to end against moto: an ext4 image of a small
//! Debian root (with a secret on it) uploaded as a snapshot through the
//! EBS direct APIs (`StartSnapshot`, `PutSnapshotBlock`), a vulnerability
//! database imported with `rampart vulndb import`, and the exact
//! `rampart.vulnerabilities/v1` document read back; then the errors a
//! snapshot without blocks gives (moto's `CreateSnapshot`), never "clean",
//! and `rampart vulnerabilities` on a store without machine scans.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::path::Path;

use rampart_testkit::{Moto, describe, rampart, stdout_json, workspace_root};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn disk_scan_of_an_uploaded_ext4_snapshot_gives_its_findings_and_secrets() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let db = db.to_str().unwrap();

    // A Debian root (dpkg status with an openssl affected by DSA-5678-1)
    // and root's SSH keys.
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let fixtures = workspace_root().join("crates/machine/fixtures");
    copy_tree(&fixtures.join("debian"), &root);
    std::fs::create_dir_all(root.join("root")).unwrap();
    copy_tree(&fixtures.join("secrets/root"), &root.join("root"));
    let image = dir.path().join("disk.img");
    rampart_testkit::disk::ext4_image(&root, &image, 8, &[]);
    let snapshot = rampart_testkit::disk::upload_snapshot(&moto.url(), &image).snapshot_id;

    // No vulnerability database yet: refused, nothing read.
    let url = moto.url();
    let run = |format: &str| {
        rampart(
            BIN,
            &[
                "disk-scan",
                "--snapshot",
                &snapshot,
                "--region",
                "us-east-1",
                "--endpoint-url",
                &url,
                "--db",
                db,
                "--format",
                format,
            ],
        )
    };
    let out = run("json");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));

    let zip = dir.path().join("all.zip");
    rampart_testkit::osv::write_fixtures_zip(&zip, false);
    let out = rampart(
        BIN,
        &["vulndb", "import", "--db", db, zip.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", describe(&out));

    let out = run("json");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["schema"], "rampart.vulnerabilities/v1");
    let machine = &doc["machines"][0];
    assert_eq!(
        machine["resource"],
        format!("arn:aws:ec2:us-east-1::snapshot/{snapshot}")
    );
    assert_eq!(machine["snapshot"], snapshot.as_str());
    assert_eq!(machine["errors"], serde_json::json!([]));
    assert_eq!(machine["os"]["id"], "debian");
    let findings = machine["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["vulnerability"] == "DSA-5678-1"
            && f["package"] == "libssl3"
            && f["fixed_version"] == "3.0.13-1~deb12u1"),
        "{findings:?}"
    );
    let secrets = machine["secrets"].as_array().unwrap();
    assert!(
        secrets
            .iter()
            .any(|s| s["path"].as_str().unwrap().starts_with("/root/.ssh/")),
        "{secrets:?}"
    );
    // The exact document, times and the snapshot id aside.
    let mut stable = doc.clone();
    stable["generated_at"] = "[generated_at]".into();
    stable["vulnerability_db"]["imported_at"] = "[imported_at]".into();
    stable["machines"][0]["scanned_at"] = "[scanned_at]".into();
    let text = serde_json::to_string_pretty(&stable)
        .unwrap()
        .replace(&snapshot, "[snapshot]");
    insta::assert_snapshot!("disk_scan_json", text);

    // The snapshot was only read.
    let out = run("table");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let table = String::from_utf8_lossy(&out.stdout).replace(&snapshot, "[snapshot]");
    let table: String = table
        .lines()
        .map(|l| {
            // The SCANNED column is the time of the run.
            let mut words: Vec<&str> = l.split("  ").collect();
            for w in &mut words {
                if w.trim().len() == 20 && w.trim().ends_with('Z') && w.trim().starts_with("20") {
                    *w = "[scanned_at]";
                }
            }
            words.join("  ") + "\n"
        })
        .collect();
    insta::assert_snapshot!("disk_scan_table", table);
}

#[test]
fn a_snapshot_without_blocks_is_an_error_never_clean() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let zip = dir.path().join("all.zip");
    rampart_testkit::osv::write_fixtures_zip(&zip, false);
    let out = rampart(
        BIN,
        &[
            "vulndb",
            "import",
            "--db",
            db.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let out = rampart(
        BIN,
        &[
            "disk-scan",
            "--snapshot",
            "snap-0123456789abcdef0",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &moto.url(),
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let doc = stdout_json(&out);
    let machine = &doc["machines"][0];
    assert_eq!(machine["findings"], serde_json::json!([]));
    assert_eq!(machine["os"], serde_json::Value::Null);
    let errors = machine["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .as_str()
            .unwrap()
            .contains("snap-0123456789abcdef0"),
        "{errors:?}"
    );

    // No scan read machines: nothing to show (exit 3).
    let out = rampart(
        BIN,
        &[
            "vulnerabilities",
            "--db",
            db.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
}
