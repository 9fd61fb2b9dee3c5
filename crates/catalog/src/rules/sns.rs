//! Rules for SNS topics: KMS encryption, public access policies and
//! delivery-status logging.

use super::policy::{self, Statement};
use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "sns-topic-kms-encrypted",
        check: topic_kms_encrypted,
    },
    Rule {
        id: "sns-topic-no-public-access",
        check: topic_no_public_access,
    },
    Rule {
        id: "sns-topic-delivery-status-logging",
        check: topic_delivery_status_logging,
    },
];

/// Not applicable when the topic was deleted after `ListTopics` listed it.
fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The topic was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// A statement's label for messages: its `Sid`, or its position.
fn label(stmt: &Statement<'_>) -> String {
    stmt.sid()
        .map_or_else(|| format!("#{}", stmt.index + 1), |sid| format!("`{sid}`"))
}

/// SNS.1: the topic encrypts messages at rest with a KMS key
/// (`kmsMasterKeyId`). Not applicable: a topic deleted while the scan ran.
fn topic_kms_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let key = p.str("kmsMasterKeyId")?;
    Ok(match key {
        Some(key) => Outcome::healthy(format!("The topic is encrypted with KMS key `{key}`.")),
        None => Outcome::unhealthy(
            "The topic does not encrypt messages with KMS; set `KmsMasterKeyId` (a customer managed key, or alias/aws/sns).",
        ),
    }
    .with(p.evidence("kmsMasterKeyId")))
}

/// SNS.4: the topic policy grants nothing to everyone (`*`) without a
/// condition pinning the caller (the default policy's `AWS:SourceOwner`
/// counts). A topic without an access policy passes. Not applicable:
/// deleted while the scan ran.
fn topic_no_public_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let Some(doc) = policy::read(p, "policy")? else {
        return Ok(Outcome::healthy(
            "The topic has no access policy; only identities of its own account can use it.",
        )
        .with(p.evidence("policy")));
    };
    let public: Vec<String> = policy::public_statements(doc).iter().map(label).collect();
    Ok(Outcome::either(
        public.is_empty(),
        "The topic policy grants access only to known principals or under restricting conditions.",
        format!(
            "The topic policy lets anyone use the topic (statement {}); name the allowed principals or add an `aws:SourceOwner`/`aws:PrincipalOrgID` condition.",
            public.join(", ")
        ),
    )
    .with(p.evidence("policy")))
}

/// SNS.2: delivery-status logging is configured for at least one protocol
/// (a success or failure feedback role for application, HTTP, Firehose,
/// Lambda or SQS endpoints). Not applicable: a topic deleted while the scan
/// ran.
fn topic_delivery_status_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let logging = p
        .get("deliveryStatusLogging")?
        .and_then(Node::as_object)
        .ok_or_else(|| Unreadable {
            path: "deliveryStatusLogging".to_owned(),
            error: "the scan read no topic attributes".to_owned(),
        })?;
    let mut protocols: Vec<&str> = logging.keys().collect();
    protocols.sort_unstable();
    Ok(Outcome::either(
        !protocols.is_empty(),
        format!("Delivery-status logging is configured for {}.", protocols.join(", ")),
        "No delivery-status logging is configured; set the success/failure feedback role attributes for the topic's subscription protocols.",
    )
    .with(p.evidence("deliveryStatusLogging")))
}
