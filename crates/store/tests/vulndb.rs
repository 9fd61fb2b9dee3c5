//! The vulnerability database in the store: importing OSV dumps (a zip
//! made at test time, a directory), replacing records by id, withdrawn
//! and broken records, per-source status, and loading one operating
//! system's ecosystems only.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use rampart_model::machine::{InstalledPackage, OsRelease, PackageFormat};
use rampart_store::Store;
use rampart_testkit::osv::{osv_fixtures, osv_fixtures_dir, write_fixtures_zip, write_osv_zip};
use rampart_vuln::ecosystems_for;
use time::macros::datetime;

/// In memory, or on PostgreSQL when `RAMPART_TEST_BACKEND=postgres`.
fn test_store() -> Store {
    if rampart_testkit::postgres::selected() {
        Store::open_postgres(&rampart_testkit::postgres::fresh_url()).unwrap()
    } else {
        Store::open_in_memory().unwrap()
    }
}

fn os(id: &str, version: &str) -> OsRelease {
    OsRelease {
        id: id.to_owned(),
        version_id: Some(version.to_owned()),
        ..OsRelease::default()
    }
}

fn libssl(version: &str) -> InstalledPackage {
    InstalledPackage {
        name: "libssl3".to_owned(),
        version: version.to_owned(),
        format: PackageFormat::Deb,
        source_name: Some("openssl".to_owned()),
        source_version: None,
        arch: Some("amd64".to_owned()),
    }
}

#[test]
fn a_zip_dump_imports_with_its_bad_records_counted() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    write_fixtures_zip(&zip, true);
    let mut store = Store::open(&dir.path().join("rampart.db")).unwrap();
    let mut seen = Vec::new();
    let report = store
        .import_vulndb(&zip, datetime!(2026-12-01 10:00 UTC), &mut |n| seen.push(n))
        .unwrap();
    assert_eq!(report.records, 11);
    assert_eq!(report.rejected, 1);
    assert_eq!(
        report.rejects[0].origin,
        format!("{}!BROKEN-1.json", zip.display())
    );
    assert!(
        report.rejects[0].reason.contains("EOF"),
        "{}",
        report.rejects[0].reason
    );
    assert_eq!(report.withdrawn, 0);
    // DSA 2, DLA 1, DEBIAN-CVE 2 + 1, Alpine 2, ALAS 2, Rocky 1, Alma 2,
    // Red Hat 2, Ubuntu 2, limit 1.
    assert_eq!(report.advisories, 18);
    assert_eq!(
        report.sources,
        [
            "AlmaLinux",
            "Alpine",
            "Amazon Linux",
            "Debian",
            "Red Hat",
            "Rocky Linux",
            "Ubuntu"
        ]
    );
    assert_eq!(
        seen.last(),
        Some(&12),
        "progress ends with every entry read"
    );

    let status = store.vulndb_status().unwrap();
    let debian = status
        .sources
        .iter()
        .find(|s| s.source == "Debian")
        .unwrap();
    assert_eq!(debian.records, 5);
    assert_eq!(debian.advisories, 7);
    assert_eq!(debian.ecosystems, ["Debian:11", "Debian:12", "Debian:13"]);
    assert_eq!(
        debian.newest_record.as_deref(),
        Some("2025-09-12T11:00:05.986201214Z")
    );
    assert_eq!(debian.imported_at.as_deref(), Some("2026-12-01T10:00:00Z"));
    assert_eq!(status.summary.records, 11);
    assert_eq!(
        status.summary.imported_at.as_deref(),
        Some("2026-12-01T10:00:00Z")
    );
    assert_eq!(status.summary.sources.len(), 7);
}

#[test]
fn the_index_loads_one_operating_systems_ecosystems_only() {
    let mut store = test_store();
    store
        .import_vulndb(
            &osv_fixtures_dir(),
            datetime!(2026-12-01 10:00 UTC),
            &mut |_| {},
        )
        .unwrap();
    let bookworm = ecosystems_for(&os("debian", "12")).unwrap();
    let index = store.vuln_index(&bookworm).unwrap();
    // DSA, DEBIAN-CVE x2, the limit record: Debian:12 only.
    assert_eq!(index.len(), 4);
    let findings = index.match_in(&bookworm, &[libssl("3.0.11-1~deb12u2")]);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].vulnerability, "DSA-5678-1");

    let rhel = ecosystems_for(&os("rhel", "9.4")).unwrap();
    assert_eq!(
        store.vuln_index(&rhel).unwrap().len(),
        1,
        "Red Hat:enterprise_linux:9:: prefix"
    );
    let unknown = ecosystems_for(&os("alpine", "3.5")).unwrap();
    assert!(store.vuln_index(&unknown).unwrap().is_empty());
}

#[test]
fn a_record_replaces_the_stored_one_of_the_same_id_and_withdrawal_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = test_store();
    let first = dir.path().join("first.zip");
    write_osv_zip(&first, &osv_fixtures());
    store
        .import_vulndb(&first, datetime!(2026-12-01 10:00 UTC), &mut |_| {})
        .unwrap();

    // The DSA again, now fixed in an earlier version and for Debian 12 only.
    let updated = br#"{"id": "DSA-5678-1", "modified": "2024-05-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}]}"#;
    let withdrawn = br#"{"id": "DLA-3800-1", "modified": "2024-06-01T00:00:00Z", "withdrawn": "2024-06-01T00:00:00Z"}"#;
    let second = dir.path().join("second.zip");
    write_osv_zip(
        &second,
        &[
            ("DSA-5678-1.json".into(), updated.to_vec()),
            ("DLA-3800-1.json".into(), withdrawn.to_vec()),
        ],
    );
    let report = store
        .import_vulndb(&second, datetime!(2026-12-02 10:00 UTC), &mut |_| {})
        .unwrap();
    assert_eq!(
        (report.records, report.withdrawn, report.advisories),
        (1, 1, 1)
    );

    let bookworm = ecosystems_for(&os("debian", "12")).unwrap();
    let index = store.vuln_index(&bookworm).unwrap();
    assert!(
        index
            .match_in(&bookworm, &[libssl("3.0.11-1~deb12u2")])
            .is_empty(),
        "the new fixed version"
    );
    let bullseye = ecosystems_for(&os("debian", "11")).unwrap();
    assert!(
        store.vuln_index(&bullseye).unwrap().is_empty(),
        "the DSA's Debian 11 entry and the DLA are gone"
    );

    let status = store.vulndb_status().unwrap();
    let debian = status
        .sources
        .iter()
        .find(|s| s.source == "Debian")
        .unwrap();
    assert_eq!(debian.records, 4);
    assert_eq!(debian.imported_at.as_deref(), Some("2026-12-02T10:00:00Z"));
    assert!(debian.path.as_deref().unwrap().ends_with("second.zip"));
    let alpine = status
        .sources
        .iter()
        .find(|s| s.source == "Alpine")
        .unwrap();
    assert_eq!(alpine.imported_at.as_deref(), Some("2026-12-01T10:00:00Z"));
}

#[test]
fn an_unreadable_archive_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = test_store();
    let corrupt = dir.path().join("all.zip");
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(&[0_u8; 64]);
    std::fs::write(&corrupt, bytes).unwrap();
    let err = store
        .import_vulndb(&corrupt, datetime!(2026-12-01 10:00 UTC), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("all.zip"), "{err}");
    let missing = store
        .import_vulndb(
            &dir.path().join("nope.zip"),
            datetime!(2026-12-01 10:00 UTC),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(missing.to_string().contains("nope.zip"), "{missing}");
    let status = store.vulndb_status().unwrap();
    assert!(status.sources.is_empty());
    assert_eq!(status.summary.records, 0);
    assert_eq!(status.summary.imported_at, None);
}
