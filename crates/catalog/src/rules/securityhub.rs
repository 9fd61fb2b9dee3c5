//! Rules for Security Hub, over the per-region status asset
//! (`Rampart::SecurityHub::RegionStatus`).

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[Rule {
    id: "securityhub-enabled-in-region",
    check: enabled_in_region,
}];

/// CIS 4.16: Security Hub is enabled in the region. Not applicable to a
/// region AWS says is not enabled for the account.
fn enabled_in_region(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.bool("regionDisabled")? == Some(true) {
        return Ok(
            Outcome::not_applicable("The region is not enabled for the account.")
                .with(p.evidence("regionDisabled")),
        );
    }
    match p.bool("enabled")? {
        Some(enabled) => Ok(Outcome::either(
            enabled,
            "Security Hub is enabled in the region.",
            "Security Hub is not enabled in the region; enable it (and a standard such as AWS Foundational Security Best Practices).",
        )
        .with(p.evidence("enabled"))
        .with(p.evidence("standards"))),
        None => Err(Unreadable {
            path: "enabled".to_owned(),
            error: "whether Security Hub is enabled was not reported".to_owned(),
        }),
    }
}
