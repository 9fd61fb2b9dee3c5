//! `rampart vulndb import` and `rampart vulndb status` on dumps made at
//! test time from the real-shaped OSV fixtures: the import summary, bad
//! records reported with where they were read, and the status table and
//! JSON (snapshots).

#![allow(
    clippy::unwrap_used,
    reason = "test code: a failure should stop the test"
)]

use rampart_testkit::osv::{osv_fixtures_dir, write_fixtures_zip};
use rampart_testkit::{describe, rampart, stdout_json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

/// Replaces what differs per run: the temporary directory, the fixtures'
/// path and the import time.
fn stable(text: &str, dir: &std::path::Path, imported_at: &str) -> String {
    text.replace(&dir.display().to_string(), "[dir]")
        .replace(&osv_fixtures_dir().display().to_string(), "[fixtures]")
        .replace(imported_at, "[imported_at]")
}

#[test]
fn import_reports_each_source_and_the_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let zip = dir.path().join("all.zip");
    write_fixtures_zip(&zip, true);
    let output = rampart(
        BIN,
        &["vulndb", "import", zip.to_str().unwrap(), "--db", &db],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "rejected `{}!BROKEN-1.json`: EOF while parsing",
            zip.display()
        )),
        "{stderr}"
    );

    let json = rampart(BIN, &["vulndb", "status", "--db", &db, "--format", "json"]);
    assert!(json.status.success(), "{}", describe(&json));
    let value = stdout_json(&json);
    assert_eq!(value["summary"]["records"], 11);
    let imported_at = value["summary"]["imported_at"].as_str().unwrap().to_owned();
    insta::assert_snapshot!("vulndb_import", stable(&stdout, dir.path(), &imported_at));
    insta::assert_snapshot!(
        "vulndb_status_json",
        stable(
            &String::from_utf8(json.stdout).unwrap(),
            dir.path(),
            &imported_at
        )
    );

    let table = rampart(BIN, &["vulndb", "status", "--db", &db]);
    assert!(table.status.success(), "{}", describe(&table));
    insta::assert_snapshot!(
        "vulndb_status_table",
        stable(
            &String::from_utf8(table.stdout).unwrap(),
            dir.path(),
            &imported_at
        )
    );
}

#[test]
fn a_directory_imports_too_and_a_missing_path_fails() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let fixtures = osv_fixtures_dir();
    let output = rampart(
        BIN,
        &["vulndb", "import", fixtures.to_str().unwrap(), "--db", &db],
    );
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("11 records (18 package entries), 0 withdrawn, 0 rejected"),
        "{stdout}"
    );

    let missing = dir.path().join("missing.zip");
    let output = rampart(
        BIN,
        &["vulndb", "import", missing.to_str().unwrap(), "--db", &db],
    );
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("missing.zip"),
        "{}",
        describe(&output)
    );
}

#[test]
fn status_without_records_has_nothing_to_show() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let output = rampart(BIN, &["vulndb", "status", "--db", &db]);
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rampart vulndb import"));
}
