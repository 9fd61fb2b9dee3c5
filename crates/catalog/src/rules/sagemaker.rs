//! Rules for SageMaker notebook instances, endpoint configurations and
//! models.
//!
//! An item deleted while the scan ran is not applicable, and so is a
//! notebook instance being deleted.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "sagemaker-notebook-no-direct-internet",
        check: notebook_no_direct_internet,
    },
    Rule {
        id: "sagemaker-notebook-in-vpc",
        check: notebook_in_vpc,
    },
    Rule {
        id: "sagemaker-notebook-no-root-access",
        check: notebook_no_root_access,
    },
    Rule {
        id: "sagemaker-endpoint-config-multiple-instances",
        check: endpoint_config_multiple_instances,
    },
    Rule {
        id: "sagemaker-model-network-isolation",
        check: model_network_isolation,
    },
    Rule {
        id: "sagemaker-notebook-supported-platform",
        check: notebook_supported_platform,
    },
];

/// Platform identifiers with standard support (SageMaker.8).
const SUPPORTED_PLATFORMS: &[&str] = &["notebook-al2-v2", "notebook-al2-v3", "notebook-al2023-v1"];

/// Not applicable when the item was deleted while the scan ran, or (for
/// notebook instances) is being deleted.
fn gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if p.bool("deleted")? == Some(true) {
        return Ok(Some(
            Outcome::not_applicable("The resource was deleted while the scan ran.")
                .with(p.evidence("deleted")),
        ));
    }
    Ok((p.str("status")? == Some("Deleting")).then(|| {
        Outcome::not_applicable("The notebook instance is being deleted.")
            .with(p.evidence("status"))
    }))
}

/// SageMaker.1: direct internet access is `Disabled` (it defaults to
/// `Enabled`).
fn notebook_no_direct_internet(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("directInternetAccess")? == Some("Disabled"),
        "The notebook instance has no direct internet access.",
        "The notebook instance has direct internet access; recreate it in your VPC with direct internet access disabled.",
    )
    .with(p.evidence("directInternetAccess")))
}

/// SageMaker.2: the notebook instance is in a subnet of the customer's VPC.
fn notebook_in_vpc(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p)? {
        return Ok(na);
    }
    Ok(match p.str("subnetId")? {
        Some(subnet) => Outcome::healthy(format!(
            "The notebook instance runs in subnet `{subnet}` of your VPC."
        )),
        None => Outcome::unhealthy(
            "The notebook instance runs in the SageMaker service VPC; recreate it with a subnet of your VPC.",
        ),
    }
    .with(p.evidence("subnetId")))
}

/// SageMaker.3: root access is `Disabled` (it defaults to `Enabled`).
fn notebook_no_root_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("rootAccess")? == Some("Disabled"),
        "Users have no root access on the notebook instance.",
        "Users have root access on the notebook instance; turn root access off.",
    )
    .with(p.evidence("rootAccess")))
}

/// SageMaker.4: every instance-based production variant starts with more
/// than one instance. Not applicable when all variants are serverless.
fn endpoint_config_multiple_instances(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p)? {
        return Ok(na);
    }
    let variants = p.array("productionVariants")?;
    let counted: Vec<Node<'_>> = variants
        .iter()
        .filter(|v| v.get("serverless").and_then(Node::as_bool) != Some(true))
        .collect();
    if counted.is_empty() {
        return Ok(Outcome::not_applicable(
            "The endpoint configuration has no instance-based production variant.",
        )
        .with(p.evidence("productionVariants")));
    }
    let single: Vec<String> = counted
        .iter()
        .filter(|v| {
            v.get("initialInstanceCount")
                .and_then(Node::as_i64)
                .unwrap_or(1)
                <= 1
        })
        .map(|v| {
            format!(
                "`{}`",
                v.get("variantName").and_then(Node::as_str).unwrap_or("?")
            )
        })
        .collect();
    Ok(Outcome::either(
        single.is_empty(),
        "Every instance-based production variant starts with more than one instance.",
        format!(
            "Production variant(s) {} start with a single instance; use an initial instance count of at least 2.",
            single.join(", ")
        ),
    )
    .with(p.evidence("productionVariants")))
}

/// SageMaker.5: the model's containers run with network isolation.
fn model_network_isolation(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p)? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool("enableNetworkIsolation")? == Some(true),
        "The model's containers run with network isolation.",
        "The model's containers have network access; create the model again with network isolation enabled.",
    )
    .with(p.evidence("enableNetworkIsolation")))
}

/// SageMaker.8: the notebook instance runs on a supported platform.
fn notebook_supported_platform(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p)? {
        return Ok(na);
    }
    let platform = p.str("platformIdentifier")?;
    Ok(match platform {
        Some(id) if SUPPORTED_PLATFORMS.contains(&id) => Outcome::healthy(format!(
            "The notebook instance runs on supported platform `{id}`."
        )),
        Some(id) => Outcome::unhealthy(format!(
            "The notebook instance runs on platform `{id}`, which is past its end of support; recreate it on `notebook-al2-v3` or later."
        )),
        None => {
            return Err(Unreadable {
                path: "platformIdentifier".to_owned(),
                error: "the notebook instance's platform was not reported".to_owned(),
            });
        }
    }
    .with(p.evidence("platformIdentifier")))
}
