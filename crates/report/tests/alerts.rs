//! Alert exports on the shared sample alerts: the `rampart.alerts/v1`
//! document field by field against the contract, OCSF Detection Findings'
//! required attributes, and snapshots of both.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use rampart_report::{alerts_json, alerts_ocsf};
use rampart_testkit::alerts::sample_alerts;
use serde_json::Value;
use time::macros::datetime;

#[test]
fn native_document_follows_the_contract() {
    let text = alerts_json(datetime!(2026-03-02 10:00:00 UTC), &sample_alerts()).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "rampart.alerts/v1");
    assert_eq!(doc["generated_at"], "2026-03-02T10:00:00Z");
    let first = &doc["alerts"][0];
    for field in [
        "id",
        "alert_type",
        "title",
        "severity",
        "status",
        "plan",
        "source",
        "first_seen",
        "last_seen",
        "count",
        "account",
        "region",
        "resource",
        "entities",
        "mitre",
        "description",
        "remediation",
        "rule",
        "evidence",
    ] {
        assert!(first.get(field).is_some(), "missing `{field}`");
    }
    assert_eq!(first["resource"]["type"], "AWS::EKS::Cluster");
    assert_eq!(first["source"], "eks-audit");
    assert_eq!(
        first["evidence"][0]["event_id"],
        "4f6a1c2e-8b1d-4d6e-9a57-0c2f1e3b5a01"
    );
    assert!(first.get("evidence_truncated").is_none());
    assert_eq!(doc["alerts"][2]["rule"]["source"], "sigma");
    insta::assert_snapshot!("alerts_json", text);
}

#[test]
fn ocsf_detection_findings_carry_the_required_attributes() {
    let text = alerts_ocsf(&sample_alerts()).unwrap();
    let events: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(events.len(), 3);
    for e in &events {
        for field in [
            "activity_id",
            "category_uid",
            "class_uid",
            "finding_info",
            "metadata",
            "severity_id",
            "time",
            "type_uid",
        ] {
            assert!(e.get(field).is_some(), "missing `{field}`");
        }
        assert_eq!(e["class_uid"], 2004);
        assert_eq!(e["type_uid"], 200_401);
        assert_eq!(e["metadata"]["version"], "1.3.0");
        assert!(e["finding_info"]["uid"].is_string() && e["finding_info"]["title"].is_string());
    }
    let privileged = &events[0];
    assert_eq!(privileged["severity_id"], 4);
    assert_eq!(privileged["status_id"], 1);
    assert_eq!(privileged["count"], 3);
    assert_eq!(
        privileged["finding_info"]["attacks"][0]["technique"]["uid"],
        "T1611"
    );
    assert_eq!(
        privileged["finding_info"]["related_events"][2]["uid"],
        "c81e5f3b-7a2d-4e9c-8f14-2b6a0d4e7c23"
    );
    assert_eq!(privileged["observables"][3]["type_id"], 2);
    // Two tactics, one technique: two attack objects.
    assert_eq!(
        events[2]["finding_info"]["attacks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    insta::assert_snapshot!("alerts_ocsf", text);
}
