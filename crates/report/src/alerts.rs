//! Alert exports: the native `rampart.alerts/v1` document and OCSF 1.3.0
//! Detection Finding events (class 2004, category 2 Findings, cloud
//! profile), one per alert, as a JSON array.
//!
//! | Rampart     | OCSF `status_id` |
//! |-------------|------------------|
//! | `active`    | 1 New            |
//! | `resolved`  | 4 Resolved       |
//! | `dismissed` | 3 Suppressed     |
//!
//! MITRE ATT&CK tactics and techniques go to `finding_info.attacks`, the
//! evidence events' own ids to `finding_info.related_events` (and, with
//! their time and summary, to `evidences[].data`), entities to
//! `observables`. Rampart's alert type, plan, source, rule attribution and
//! entities are also under `unmapped.rampart`.

use rampart_model::{Alert, AlertStatus, AlertsDocument};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::{Format, ReportError, ocsf::OCSF_VERSION, severity_caption, to_json};

const CLASS_UID: u32 = 2004;
const ACTIVITY_CREATE: u32 = 1;

/// The native document (`rampart.alerts/v1`), pretty-printed.
pub fn alerts_json(generated_at: OffsetDateTime, alerts: &[Alert]) -> Result<String, ReportError> {
    to_json(
        Format::Json,
        &AlertsDocument::new(generated_at, alerts.to_vec()),
    )
}

/// OCSF Detection Finding events, one per alert, as a JSON array.
pub fn alerts_ocsf(alerts: &[Alert]) -> Result<String, ReportError> {
    let events: Vec<Value> = alerts.iter().map(event).collect();
    to_json(Format::Ocsf, &events)
}

/// OCSF `status_id` and caption of an alert status.
fn status(status: AlertStatus) -> (u8, &'static str) {
    match status {
        AlertStatus::Active => (1, "New"),
        AlertStatus::Dismissed => (3, "Suppressed"),
        AlertStatus::Resolved => (4, "Resolved"),
    }
}

/// OCSF observable `type_id` of an entity kind.
fn observable_type(kind: &str) -> (u8, &'static str) {
    match kind {
        "ip" => (2, "IP Address"),
        "k8s-user" | "aws-principal" | "user" => (4, "User Name"),
        "hostname" => (1, "Hostname"),
        _ => (99, "Other"),
    }
}

fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn attacks(alert: &Alert) -> Vec<Value> {
    // OCSF has one tactic and one technique per attack object: one object
    // per (tactic, technique) pair.
    let tactics = &alert.mitre.tactics;
    let mut out = Vec::new();
    for technique in &alert.mitre.techniques {
        if tactics.is_empty() {
            out.push(json!({"technique": {"uid": technique}, "version": "v15"}));
        }
        for tactic in tactics {
            out.push(json!({"tactic": {"name": tactic}, "technique": {"uid": technique}, "version": "v15"}));
        }
    }
    if alert.mitre.techniques.is_empty() {
        for tactic in tactics {
            out.push(json!({"tactic": {"name": tactic}, "version": "v15"}));
        }
    }
    out
}

fn event(alert: &Alert) -> Value {
    let (severity_id, severity) = crate::ocsf::severity_id(alert.severity);
    let (status_id, status) = status(alert.status);
    let partition = crate::ocsf::partition(&alert.resource.arn);
    let observables: Vec<Value> = alert
        .entities
        .iter()
        .map(|e| {
            let (type_id, kind) = observable_type(&e.kind);
            json!({"name": e.kind, "type_id": type_id, "type": kind, "value": e.value})
        })
        .collect();
    let related: Vec<Value> = alert
        .evidence
        .iter()
        .map(|e| json!({"uid": e.event_id, "product_uid": e.source.as_str()}))
        .collect();
    let evidences: Vec<Value> = alert.evidence.iter().map(|e| json!({"data": e})).collect();
    json!({
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "Rampart", "vendor_name": "Rampart", "version": env!("CARGO_PKG_VERSION")},
            "profiles": ["cloud"],
            "uid": alert.id,
        },
        "time": millis(alert.last_seen),
        "start_time": millis(alert.first_seen),
        "end_time": millis(alert.last_seen),
        "count": alert.count,
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "message": alert.title,
        "finding_info": {
            "uid": alert.id,
            "title": alert.title,
            "desc": alert.description,
            "types": [alert.alert_type],
            "first_seen_time": millis(alert.first_seen),
            "last_seen_time": millis(alert.last_seen),
            "analytic": {"uid": alert.rule.id, "name": alert.alert_type, "type_id": 1, "type": "Rule"},
            "attacks": attacks(alert),
            "related_events": related,
        },
        "evidences": evidences,
        "observables": observables,
        "resources": [{
            "uid": alert.resource.arn,
            "type": alert.resource.resource_type,
            "name": alert.resource.name,
            "region": alert.region,
            "cloud_partition": partition,
        }],
        "cloud": {
            "provider": "AWS",
            "account": {"uid": alert.account, "type_id": 10, "type": "AWS Account"},
            "region": alert.region,
        },
        "remediation": {"desc": alert.remediation},
        "unmapped": {"rampart": {
            "alert_type": alert.alert_type,
            "plan": alert.plan.as_str(),
            "source": alert.source.as_str(),
            "status": alert.status.as_str(),
            "rule": alert.rule,
            "entities": alert.entities,
            "evidence_truncated": alert.evidence_truncated,
            "severity": severity_caption(alert.severity),
        }},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps_to_an_ocsf_status() {
        assert_eq!(status(AlertStatus::Active), (1, "New"));
        assert_eq!(status(AlertStatus::Dismissed), (3, "Suppressed"));
        assert_eq!(status(AlertStatus::Resolved), (4, "Resolved"));
        assert_eq!(observable_type("ip").0, 2);
        assert_eq!(observable_type("k8s-pod").0, 99);
    }
}
