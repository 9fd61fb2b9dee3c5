//! Rules for Systems Manager: EC2 instances managed by SSM, and the
//! account's own SSM documents.
//!
//! Property shapes are the SSM collector's (`crates/aws/src/collectors/ssm.rs`):
//! a [`rampart_model::types::SSM_MANAGED_INSTANCE`] asset per instance that
//! `DescribeInstanceInformation` returned, with `resourceArn` set to the
//! EC2 instance's ARN.

use std::collections::HashMap;

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "ssm-instance-managed",
        check: instance_managed,
    },
    Rule {
        id: "ssm-document-not-public",
        check: document_not_public,
    },
];

/// The managed-instance asset type.
const MANAGED_INSTANCE: &str = rampart_model::types::SSM_MANAGED_INSTANCE;

/// FSBP SSM.1, on the EC2 instance: a managed instance with this
/// instance's ARN (or id) exists in the same account and region; a running
/// instance must also be `Online` (a registered agent that stopped
/// reporting is not managing anything).
///
/// Unknown: the snapshot does not record whether `DescribeInstanceInformation`
/// succeeded, and a failed call emits no managed instance at all. So when
/// the region has *no* managed instance, "none is managed" cannot be told
/// from "the list could not be read" (moto does not implement the call),
/// and the result is an error, never unhealthy or healthy. Once at least
/// one managed instance is listed in the region, the list was read, and an
/// instance missing from it is unmanaged.
///
/// Not applicable: an instance being terminated.
fn instance_managed(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let state = p.str("state")?;
    if let Some(state @ ("shutting-down" | "terminated")) = state {
        return Ok(Outcome::not_applicable(format!(
            "The instance is {state}; the check applies to instances that are kept."
        ))
        .with(p.evidence("state")));
    }
    let asset = p.asset();
    let instance_id = p.str("instanceId")?;
    // (account, region) -> managed-instance ARN by resource ARN and by instance id.
    let index = inv.memo("ssm:managed_instances", |inv| {
        let mut index: HashMap<(String, String), HashMap<String, String>> = HashMap::new();
        for m in inv.of_type(MANAGED_INSTANCE) {
            let by_key = index
                .entry((m.account.to_owned(), m.region.to_owned()))
                .or_default();
            for name in ["resourceArn", "instanceId"] {
                if let Some(key) = m.properties.get(name).and_then(Node::as_str) {
                    by_key.insert(key.to_owned(), m.arn.to_owned());
                }
            }
        }
        index
    });
    let Some(managed) = index.get(&(asset.account.to_owned(), asset.region.to_owned())) else {
        return Err(Unreadable {
            path: "ssm:DescribeInstanceInformation".to_owned(),
            error: "no Systems Manager managed instance is listed in this region, so the scan cannot tell an unmanaged instance from an unreadable list".to_owned(),
        });
    };
    let mine = managed
        .get(asset.arn)
        .or_else(|| instance_id.and_then(|id| managed.get(id)))
        .and_then(|arn| inv.by_arn(arn));
    let Some(mine) = mine else {
        return Ok(Outcome::unhealthy(
            "Systems Manager does not manage this instance; install or start the SSM Agent and give the instance a role with `AmazonSSMManagedInstanceCore`.",
        )
        .with(p.evidence("iamInstanceProfile")));
    };
    let m = Props::of(mine);
    let ping = m.str("pingStatus")?;
    let running = matches!(state, Some("running" | "pending"));
    let evidence = rampart_model::Evidence {
        path: "managedInstance.pingStatus".to_owned(),
        value: m.evidence("pingStatus").value,
    };
    if running && ping != Some("Online") {
        return Ok(Outcome::unhealthy(format!(
            "The instance is registered with Systems Manager but its agent is {}; check the SSM Agent and the instance's network path to Systems Manager.",
            ping.unwrap_or("not reporting")
        ))
        .with(evidence));
    }
    Ok(Outcome::healthy("Systems Manager manages this instance.").with(evidence))
}

/// FSBP SSM.4: the document is not shared with `all` (`public`). Not
/// applicable: a document another account owns (only its owner can change
/// its sharing).
fn document_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let account = p.asset().account;
    if let Some(owner) = p.str("owner")?.filter(|o| *o != account) {
        return Ok(Outcome::not_applicable(format!(
            "The document belongs to `{owner}`; only its owner controls its sharing."
        ))
        .with(p.evidence("owner")));
    }
    let Some(public) = p.bool("public")? else {
        return Err(Unreadable {
            path: "public".to_owned(),
            error: "the document's sharing permissions are unknown".to_owned(),
        });
    };
    Ok(Outcome::either(
        !public,
        "The document is not shared publicly.",
        "The document is shared with everyone; remove `All` from its sharing permissions and turn on block public sharing for SSM documents.",
    )
    .with(p.evidence("public")))
}
