//! Rules for IAM Access Analyzer, over the per-region status asset
//! (`Rampart::AccessAnalyzer::RegionStatus`).

use super::{Outcome, Rule};
use crate::doc::{Kind, Node};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[Rule {
    id: "accessanalyzer-enabled-in-region",
    check: enabled_in_region,
}];

/// CIS 1.20: the region has an active external-access analyzer (type
/// `ACCOUNT` or `ORGANIZATION`; unused- and internal-access analyzers do
/// not report external access). Not applicable to a region AWS says is not
/// enabled for the account: nothing can run there.
fn enabled_in_region(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.bool("regionDisabled")? == Some(true) {
        return Ok(
            Outcome::not_applicable("The region is not enabled for the account.")
                .with(p.evidence("regionDisabled")),
        );
    }
    let Some(Kind::Array(analyzers)) = p.get("analyzers")?.map(Node::kind) else {
        return Err(Unreadable {
            path: "analyzers".to_owned(),
            error: "the region's analyzers were not reported".to_owned(),
        });
    };
    let active = analyzers.iter().find(|a| {
        matches!(
            a.get("type").and_then(Node::as_str),
            Some("ACCOUNT" | "ORGANIZATION")
        ) && a.get("status").and_then(Node::as_str) == Some("ACTIVE")
    });
    Ok(match active {
        Some(a) => Outcome::healthy(format!(
            "Analyzer `{}` ({}) is active in the region.",
            a.get("name").and_then(Node::as_str).unwrap_or("?"),
            a.get("type").and_then(Node::as_str).unwrap_or("?"),
        )),
        None => Outcome::unhealthy(
            "No active account or organization analyzer exists in the region; create one with IAM Access Analyzer.",
        ),
    }
    .with(p.evidence("analyzers")))
}
