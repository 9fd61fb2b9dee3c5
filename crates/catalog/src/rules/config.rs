//! Rules for AWS Config: recording in every region, of all resource types,
//! with global resource types recorded somewhere in the account.

use rampart_model::types;

use super::cloudtrail::{region_disabled_outcome, region_not_enabled};
use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "config-recording-enabled",
        check: recording_enabled,
    },
    Rule {
        id: "config-recorder-recording-all",
        check: recorder_recording_all,
    },
];

/// A service-linked recorder (made by another AWS service for its own
/// needs) does not count as the account's recorder.
fn service_linked(recorder: Node<'_>) -> bool {
    recorder
        .get("servicePrincipal")
        .and_then(Node::as_str)
        .is_some()
        || recorder.get("recordingScope").and_then(Node::as_str) == Some("INTERNAL")
}

/// What is wrong with a customer recorder, or `None` when it records all
/// supported resource types and is on. `status` `null` means unknown.
fn recorder_problem(recorder: Node<'_>) -> Result<Option<&'static str>, Unreadable> {
    let Some(status) = recorder.get("status").filter(|s| !s.is_null()) else {
        return Err(Unreadable {
            path: "recorders.status".to_owned(),
            error: "the recorder's status was not reported".to_owned(),
        });
    };
    if status.get("recording").and_then(Node::as_bool) != Some(true) {
        return Ok(Some("is stopped"));
    }
    if status.get("lastStatus").and_then(Node::as_str) == Some("FAILURE") {
        return Ok(Some("fails to record"));
    }
    let group = recorder.get("recordingGroup");
    let all_supported = group
        .and_then(|g| g.get("allSupported"))
        .and_then(Node::as_bool)
        == Some(true);
    let excluded = group
        .and_then(|g| g.get("exclusionByResourceTypes"))
        .and_then(|e| e.get("resourceTypes"))
        .and_then(Node::as_array)
        .is_some_and(|t| !t.is_empty());
    if !all_supported || excluded {
        return Ok(Some("does not record all supported resource types"));
    }
    Ok(None)
}

/// Whether a customer recorder records global resource types (IAM).
fn records_global(recorder: Node<'_>) -> bool {
    !service_linked(recorder)
        && recorder
            .get("recordingGroup")
            .and_then(|g| g.get("includeGlobalResourceTypes"))
            .and_then(Node::as_bool)
            == Some(true)
        && recorder
            .get("status")
            .and_then(|s| s.get("recording"))
            .and_then(Node::as_bool)
            == Some(true)
}

/// FSBP Config.1 / CIS 3.3: in this region a customer configuration
/// recorder is on and records all supported resource types, and global
/// resource types are recorded in at least one region of the account.
/// Not applicable: the region is not enabled for the account.
fn recording_enabled(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let recorders = match p.array("recorders") {
        Ok(r) => r,
        Err(err) if region_not_enabled(&err) => return Ok(region_disabled_outcome(&err)),
        Err(err) => return Err(err),
    };
    let customer: Vec<Node<'_>> = recorders.iter().filter(|r| !service_linked(*r)).collect();
    if customer.is_empty() {
        return Ok(Outcome::unhealthy(
            "AWS Config has no configuration recorder in this region; create one that records all supported resource types and start it.",
        )
        .with(p.evidence("recorders")));
    }
    let mut problem = None;
    let mut good = false;
    for r in &customer {
        match recorder_problem(*r)? {
            None => good = true,
            Some(why) => problem = Some(why),
        }
    }
    if !good {
        return Ok(Outcome::unhealthy(format!(
            "The region's configuration recorder {}; start it and record all supported resource types.",
            problem.unwrap_or("is not usable")
        ))
        .with(p.evidence("recorders")));
    }
    // Global resource types (IAM) need recording in one region only.
    if customer.iter().any(|r| records_global(*r)) {
        return Ok(Outcome::healthy(
            "AWS Config records all supported resource types here, global ones included.",
        )
        .with(p.evidence("recorders")));
    }
    let account = p.asset().account;
    let mut unknown = None;
    for other in inv.of_type_in_account(types::CONFIG_REGION, account) {
        if other.arn == p.asset().arn {
            continue;
        }
        match Props::of(other).array("recorders") {
            Ok(list) if list.iter().any(records_global) => {
                return Ok(Outcome::healthy(format!(
                    "AWS Config records all supported resource types here; global ones are recorded in {}.",
                    other.region
                ))
                .with(p.evidence("recorders")));
            }
            Ok(_) => {}
            Err(err) => {
                unknown.get_or_insert(err);
            }
        }
    }
    if let Some(err) = unknown {
        return Err(err);
    }
    Ok(Outcome::unhealthy(
        "No region of the account records global resource types (IAM); turn on includeGlobalResourceTypes on one region's recorder.",
    )
    .with(p.evidence("recorders")))
}

/// FSBP Config.1 / CIS 3.3, per recorder: the recorder is on, not failing,
/// and records all supported resource types. Not applicable: service-linked
/// recorders, which another AWS service manages for its own resource types.
fn recorder_recording_all(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let recorder = p.asset().properties;
    if service_linked(recorder) {
        return Ok(Outcome::not_applicable(
            "The recorder is service-linked: another AWS service manages it for its own resource types.",
        )
        .with(p.evidence("servicePrincipal")));
    }
    // Read through Props so an unavailable status is an error.
    let _ = p.get("status")?;
    let _ = p.get("recordingGroup")?;
    match recorder_problem(recorder)? {
        None => Ok(Outcome::healthy(
            "The recorder is on and records all supported resource types.",
        )
        .with(p.evidence("status.recording"))),
        Some(why) => Ok(Outcome::unhealthy(format!(
            "The configuration recorder {why}; start it and record all supported resource types."
        ))
        .with(p.evidence("status"))
        .with(p.evidence("recordingGroup"))),
    }
}
