//! Rules for EC2 (instances, security groups, EBS, VPC).

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[Rule {
    id: "ec2-instance-imdsv2-required",
    check: instance_imdsv2_required,
}];

/// IMDSv2 only: `metadataOptions.httpTokens` is `required`; an instance with
/// the metadata endpoint switched off has no IMDS to protect.
fn instance_imdsv2_required(p: &Props<'_>, _: &Inventory<'_>) -> Result<Outcome, Unreadable> {
    let endpoint = p.str("metadataOptions.httpEndpoint")?;
    if endpoint == Some("disabled") {
        return Ok(Outcome::not_applicable(
            "The instance metadata service is switched off on this instance.",
        )
        .with(p.evidence("metadataOptions.httpEndpoint")));
    }
    let tokens = p.str("metadataOptions.httpTokens")?;
    Ok(Outcome::either(
        tokens == Some("required"),
        "The instance requires IMDSv2 session tokens.",
        "The instance accepts IMDSv1 requests; set `HttpTokens` to `required`.",
    )
    .with(p.evidence("metadataOptions.httpTokens")))
}
