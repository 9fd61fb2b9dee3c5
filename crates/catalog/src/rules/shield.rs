//! Rules for Shield Advanced, read from the account's
//! `Rampart::Shield::Subscription` asset: protections for CloudFront
//! distributions, Application Load Balancers and public hosted zones, SRT
//! access and proactive engagement. Without a subscription every rule is
//! not applicable; without the subscription asset (Shield not collected)
//! the assessment is an error, never healthy.

use rampart_model::types::SHIELD_SUBSCRIPTION;

use crate::doc::Node;
use crate::inventory::{AssetRef, Inventory};
use crate::view::{Props, Unreadable};

use super::{Outcome, Rule};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "shield-cloudfront-distribution-protected",
        check: distribution_protected,
    },
    Rule {
        id: "shield-alb-protected",
        check: alb_protected,
    },
    Rule {
        id: "shield-hosted-zone-protected",
        check: hosted_zone_protected,
    },
    Rule {
        id: "shield-srt-access-configured",
        check: srt_access,
    },
    Rule {
        id: "shield-proactive-engagement-enabled",
        check: proactive_engagement,
    },
];

/// The account's subscription asset, or why it is missing.
fn subscription<'a>(inventory: &'a Inventory, account: &str) -> Result<AssetRef<'a>, Unreadable> {
    inventory
        .of_type_in_account(SHIELD_SUBSCRIPTION, account)
        .next()
        .ok_or_else(|| Unreadable {
            path: "subscribed".to_owned(),
            error: format!("Shield Advanced was not collected for account `{account}`"),
        })
}

/// Not applicable when the account does not subscribe.
fn not_subscribed(s: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    match s.bool("subscribed")? {
        Some(true) => Ok(None),
        Some(false) => Ok(Some(
            Outcome::not_applicable("The account does not subscribe to Shield Advanced.")
                .with(s.evidence("subscribed")),
        )),
        None => Err(Unreadable {
            path: "subscribed".to_owned(),
            error: "the Shield Advanced subscription state is unknown".to_owned(),
        }),
    }
}

/// Whether the subscription protects the subject.
fn protected(p: &Props<'_>, inventory: &Inventory, what: &str) -> Result<Outcome, Unreadable> {
    let subject = p.asset();
    let sub = Props::of(subscription(inventory, subject.account)?);
    if let Some(na) = not_subscribed(&sub)? {
        return Ok(na);
    }
    let protections = sub.array("protectedResources")?;
    let found = protections
        .iter()
        .any(|arn| arn.as_str() == Some(subject.arn));
    Ok(Outcome::either(
        found,
        format!("A Shield Advanced protection covers the {what}."),
        format!(
            "The account subscribes to Shield Advanced but the {what} has no protection; add one."
        ),
    )
    .with(sub.evidence("subscribed"))
    .with(sub.evidence("protectedResources")))
}

fn distribution_protected(p: &Props<'_>, inventory: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = super::cloudfront::deleted(p)? {
        return Ok(na);
    }
    protected(p, inventory, "distribution")
}

fn alb_protected(p: &Props<'_>, inventory: &Inventory) -> Result<Outcome, Unreadable> {
    match p.str("type")? {
        Some("application") => protected(p, inventory, "load balancer"),
        Some(kind) => Ok(Outcome::not_applicable(format!(
            "The load balancer is a {kind} load balancer; the check applies to Application Load Balancers."
        ))
        .with(p.evidence("type"))),
        None => Err(Unreadable {
            path: "type".to_owned(),
            error: "the API did not return the load balancer type".to_owned(),
        }),
    }
}

fn hosted_zone_protected(p: &Props<'_>, inventory: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = super::route53::not_public(p)? {
        return Ok(na);
    }
    protected(p, inventory, "hosted zone")
}

fn srt_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_subscribed(p)? {
        return Ok(na);
    }
    let role = p.str("drtAccess.roleArn")?;
    Ok(match role {
        Some(role) => Outcome::healthy(format!(
            "The Shield Response Team may act through role `{role}`."
        )),
        None => Outcome::unhealthy(
            "No Shield Response Team access role is set; associate a role with AWSShieldDRTAccessPolicy.",
        ),
    }
    .with(p.evidence("drtAccess")))
}

fn proactive_engagement(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_subscribed(p)? {
        return Ok(na);
    }
    let status = p.get("proactiveEngagementStatus")?.and_then(Node::as_str);
    Ok(Outcome::either(
        status == Some("ENABLED"),
        "Proactive engagement is enabled.",
        format!(
            "Proactive engagement is {}; add emergency contacts and enable it.",
            status.unwrap_or("not configured")
        ),
    )
    .with(p.evidence("proactiveEngagementStatus")))
}
