//! `rampart alerts` on a store holding the shared sample alerts: the table
//! and the `rampart.alerts/v1` document (snapshots), filters, OCSF, typos
//! answered with "did you mean", and status changes with their history.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use rampart_model::AlertStatus;
use rampart_store::Store;
use rampart_testkit::alerts::sample_alerts;
use rampart_testkit::{describe, rampart, stdout_json};

const BIN: &str = env!("CARGO_BIN_EXE_rampart");

fn store_with_samples() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let mut store = Store::open(&db).unwrap();
    store.upsert_alerts(&sample_alerts()).unwrap();
    (dir, db.display().to_string())
}

fn run_ok(args: &[&str]) -> String {
    let output = rampart(BIN, args);
    assert!(output.status.success(), "{}", describe(&output));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_table_and_the_json_document_show_the_stored_alerts() {
    let (_dir, db) = store_with_samples();
    let table = run_ok(&["alerts", "--db", &db]);
    insta::assert_snapshot!("alerts_table", table);

    let json = run_ok(&["alerts", "--format", "json", "--db", &db]);
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["schema"], "rampart.alerts/v1");
    // The document is the stored alerts exactly, evidence included.
    let parsed: rampart_model::AlertsDocument = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed.alerts, sample_alerts());
    let generated = doc["generated_at"].as_str().unwrap().to_owned();
    insta::assert_snapshot!("alerts_json", json.replace(&generated, "[generated_at]"));
}

#[test]
fn filters_narrow_the_list() {
    let (_dir, db) = store_with_samples();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["alerts", "--format", "json", "--db", &db];
        all.extend_from_slice(args);
        let doc = stdout_json(&rampart(BIN, &all));
        doc["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alert_type"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&["--severity", "medium"]),
        ["K8S.PrivilegedContainer", "AWS.RootConsoleLogin"]
    );
    assert_eq!(ids(&["--severity", "high"]), ["K8S.PrivilegedContainer"]);
    assert_eq!(ids(&["--source", "cloudtrail"]), ["AWS.RootConsoleLogin"]);
    assert_eq!(
        ids(&["--plan", "containers", "--type", "K8S.ExecIntoPod"]),
        ["K8S.ExecIntoPod"]
    );
    assert_eq!(ids(&["--account", "999999999999"]), Vec::<String>::new());
    assert_eq!(
        ids(&["--resource", "arn:aws:iam::123456789012:root"]),
        ["AWS.RootConsoleLogin"]
    );

    let ocsf = stdout_json(&rampart(BIN, &["alerts", "--format", "ocsf", "--db", &db]));
    assert_eq!(ocsf.as_array().unwrap().len(), 3);
    assert_eq!(ocsf[0]["class_uid"], 2004);
}

#[test]
fn unknown_values_are_errors_that_suggest_the_right_one() {
    let (_dir, db) = store_with_samples();
    let typo = rampart(
        BIN,
        &["alerts", "--type", "K8S.PrivilegedContainr", "--db", &db],
    );
    assert_eq!(typo.status.code(), Some(2), "{}", describe(&typo));
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(
        stderr.contains("did you mean `K8S.PrivilegedContainer`?"),
        "{stderr}"
    );
    let severity = rampart(BIN, &["alerts", "--severity", "hihg", "--db", &db]);
    assert_eq!(severity.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&severity.stderr);
    assert!(stderr.contains("'high'"), "{stderr}");
    let status = rampart(
        BIN,
        &[
            "alerts",
            "set-status",
            "alrt-7c1e9a4b2d3f5e60",
            "--status",
            "dismised",
            "--db",
            &db,
        ],
    );
    assert_eq!(status.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&status.stderr).contains("'dismissed'"));
    let missing = rampart(
        BIN,
        &[
            "alerts",
            "set-status",
            "alrt-nope",
            "--status",
            "resolved",
            "--db",
            &db,
        ],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no alert `alrt-nope`"));
}

#[test]
fn set_status_changes_the_status_and_keeps_history() {
    let (_dir, db) = store_with_samples();
    let id = "alrt-7c1e9a4b2d3f5e60";
    let said = run_ok(&[
        "alerts",
        "set-status",
        id,
        "--status",
        "dismissed",
        "--comment",
        "CI runner, expected",
        "--db",
        &db,
    ]);
    assert_eq!(said, format!("alert {id}: active -> dismissed\n"));
    let again = run_ok(&[
        "alerts",
        "set-status",
        id,
        "--status",
        "dismissed",
        "--db",
        &db,
    ]);
    assert_eq!(again, format!("alert {id} is already dismissed\n"));
    let doc = stdout_json(&rampart(
        BIN,
        &[
            "alerts",
            "--status",
            "dismissed",
            "--format",
            "json",
            "--db",
            &db,
        ],
    ));
    assert_eq!(doc["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(doc["alerts"][0]["id"], id);
    let store = Store::open(std::path::Path::new(&db)).unwrap();
    let history = store.alert_history(id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].to, AlertStatus::Dismissed);
    assert_eq!(history[0].comment.as_deref(), Some("CI runner, expected"));
    assert!(history[0].actor.starts_with("cli"));
}

#[test]
fn a_missing_store_has_nothing_to_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db").display().to_string();
    let output = rampart(BIN, &["alerts", "--db", &db]);
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
}

#[test]
fn the_webhook_needs_an_http_url_and_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db").display().to_string();
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--init", "--listen", "127.0.0.1:0", "--db", &db];
        args.extend_from_slice(extra);
        rampart(BIN, &args)
    };
    let no_secret = serve(&["--alert-webhook", "http://127.0.0.1:9/hook"]);
    assert_eq!(no_secret.status.code(), Some(2), "{}", describe(&no_secret));
    assert!(String::from_utf8_lossy(&no_secret.stderr).contains("needs a secret"));
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "0123456789abcdef0123\n").unwrap();
    let secret = secret.display().to_string();
    let bad_url = serve(&[
        "--alert-webhook",
        "ftp://example.com/hook",
        "--alert-webhook-secret-file",
        &secret,
    ]);
    assert_eq!(bad_url.status.code(), Some(2), "{}", describe(&bad_url));
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("http(s) URL"));
    let no_url = serve(&["--alert-webhook-min-severity", "medium"]);
    assert_eq!(no_url.status.code(), Some(2), "{}", describe(&no_url));
}
