//! Rules for Route 53 hosted zones: DNS query logging (FSBP Route53.2) and
//! DNSSEC signing of public zones.

use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

use super::{Outcome, Rule};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "route53-public-zone-query-logging",
        check: query_logging,
    },
    Rule {
        id: "route53-public-zone-dnssec-signing",
        check: dnssec_signing,
    },
];

/// Not applicable to private zones and zones deleted while the scan ran.
pub(super) fn not_public(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if p.bool("deleted")? == Some(true) {
        return Ok(Some(
            Outcome::not_applicable("The hosted zone was deleted while the scan ran.")
                .with(p.evidence("deleted")),
        ));
    }
    Ok((p.bool("privateZone")? == Some(true)).then(|| {
        Outcome::not_applicable("The hosted zone is private (reachable only from its VPCs).")
            .with(p.evidence("privateZone"))
    }))
}

/// Route53.2: a public zone logs DNS queries.
fn query_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_public(p)? {
        return Ok(na);
    }
    let Some(enabled) = p.bool("queryLogging.enabled")? else {
        return Err(Unreadable {
            path: "queryLogging".to_owned(),
            error: "the query logging configurations were not read".to_owned(),
        });
    };
    Ok(Outcome::either(
        enabled,
        "DNS queries for the zone are logged to CloudWatch Logs.",
        "The public hosted zone has no query logging configuration; log its DNS queries to a CloudWatch Logs log group.",
    )
    .with(p.evidence("queryLogging")))
}

/// DNSSEC signing is enabled on a public zone.
fn dnssec_signing(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_public(p)? {
        return Ok(na);
    }
    let Some(signature) = p.str("dnssec.serveSignature")? else {
        return Err(Unreadable {
            path: "dnssec".to_owned(),
            error: "the zone's DNSSEC status was not read".to_owned(),
        });
    };
    Ok(Outcome::either(
        signature == "SIGNING",
        "Route 53 signs the zone with DNSSEC.",
        format!(
            "DNSSEC signing is `{signature}` for the public zone; create a key-signing key and enable signing."
        ),
    )
    .with(p.evidence("dnssec")))
}
