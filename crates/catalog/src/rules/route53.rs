//! Rules for Route 53 hosted zones: DNS query logging (FSBP Route53.2) and
//! DNSSEC signing of public zones; and for registered domains: transfer
//! lock and automatic renewal.

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
    Rule {
        id: "route53-domain-transfer-lock",
        check: domain_transfer_lock,
    },
    Rule {
        id: "route53-domain-auto-renew",
        check: domain_auto_renew,
    },
];

/// EPP status codes of an expired domain that can only be restored.
const EXPIRED_STATUSES: &[&str] = &["redemptionPeriod", "pendingDelete", "pendingRestore"];

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

/// Not applicable to an expired domain in its redemption period or pending
/// deletion; unreadable when the domain's status codes were not read.
fn expired(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if p.get("statusList")?.is_none() {
        return Err(Unreadable {
            path: "statusList".to_owned(),
            error: "the domain's status codes were not read".to_owned(),
        });
    }
    let statuses = p.array("statusList")?;
    let expired = statuses
        .iter()
        .filter_map(|s| s.as_str())
        .find(|s| EXPIRED_STATUSES.iter().any(|e| e.eq_ignore_ascii_case(s)));
    Ok(expired.map(|status| {
        Outcome::not_applicable(format!(
            "The domain has expired (status `{status}`); it can only be restored."
        ))
        .with(p.evidence("statusList"))
    }))
}

/// A domain's transfer lock is on.
fn domain_transfer_lock(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = expired(p)? {
        return Ok(na);
    }
    let Some(lock) = p.bool("transferLock")? else {
        return Err(Unreadable {
            path: "transferLock".to_owned(),
            error: "the API did not report the transfer lock".to_owned(),
        });
    };
    Ok(Outcome::either(
        lock,
        "The domain's transfer lock is on.",
        "The domain's transfer lock is off; enable it so the domain cannot be moved to another registrar.",
    )
    .with(p.evidence("transferLock")))
}

/// A domain renews automatically.
fn domain_auto_renew(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = expired(p)? {
        return Ok(na);
    }
    let Some(renew) = p.bool("autoRenew")? else {
        return Err(Unreadable {
            path: "autoRenew".to_owned(),
            error: "the API did not report automatic renewal".to_owned(),
        });
    };
    Ok(Outcome::either(
        renew,
        "The domain renews automatically.",
        format!(
            "Automatic renewal is off; the domain expires on {} unless renewed by hand. Enable automatic renewal.",
            p.str("expiry")?.unwrap_or("its expiry date")
        ),
    )
    .with(p.evidence("autoRenew"))
    .with(p.evidence("expiry")))
}
