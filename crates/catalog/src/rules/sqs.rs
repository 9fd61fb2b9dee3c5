//! Rules for SQS queues: encryption at rest and public access policies.

use super::policy::{self, Statement};
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "sqs-queue-encrypted",
        check: queue_encrypted,
    },
    Rule {
        id: "sqs-queue-no-public-access",
        check: queue_no_public_access,
    },
];

/// Not applicable when the queue was deleted after `ListQueues` listed it.
fn deleted(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.bool("deleted")? == Some(true)).then(|| {
        Outcome::not_applicable("The queue was deleted while the scan ran.")
            .with(p.evidence("deleted"))
    }))
}

/// A statement's label for messages: its `Sid`, or its position.
fn label(stmt: &Statement<'_>) -> String {
    stmt.sid()
        .map_or_else(|| format!("#{}", stmt.index + 1), |sid| format!("`{sid}`"))
}

/// SQS.1: the queue encrypts messages at rest, with a KMS key
/// (`kmsMasterKeyId`) or SQS-managed keys (`sqsManagedSseEnabled`). Not
/// applicable: a queue deleted while the scan ran.
fn queue_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let kms = p.str("kmsMasterKeyId")?;
    let sse_sqs = p.bool("sqsManagedSseEnabled")?;
    let outcome = match (kms, sse_sqs) {
        (Some(key), _) => Outcome::healthy(format!("The queue is encrypted with KMS key `{key}`.")),
        (None, Some(true)) => {
            Outcome::healthy("The queue is encrypted with SQS-managed keys (SSE-SQS).")
        }
        _ => Outcome::unhealthy(
            "The queue stores messages unencrypted; enable SSE-SQS (`SqsManagedSseEnabled`) or set a KMS key (`KmsMasterKeyId`).",
        ),
    };
    Ok(outcome
        .with(p.evidence("kmsMasterKeyId"))
        .with(p.evidence("sqsManagedSseEnabled")))
}

/// SQS.3: the queue policy grants nothing to everyone (`*`) without a
/// condition pinning the caller (`aws:SourceArn`, `aws:SourceAccount`,
/// `aws:PrincipalOrgID`…). A queue without an access policy passes (only
/// its account's identities can use it). Not applicable: deleted while the
/// scan ran.
fn queue_no_public_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = deleted(p)? {
        return Ok(na);
    }
    let Some(doc) = policy::read(p, "policy")? else {
        return Ok(Outcome::healthy(
            "The queue has no access policy; only identities of its own account can use it.",
        )
        .with(p.evidence("policy")));
    };
    let public: Vec<String> = policy::public_statements(doc).iter().map(label).collect();
    Ok(Outcome::either(
        public.is_empty(),
        "The queue policy grants access only to known principals or under restricting conditions.",
        format!(
            "The queue policy lets anyone use the queue (statement {}); name the allowed principals or add an `aws:SourceArn`/`aws:PrincipalOrgID` condition.",
            public.join(", ")
        ),
    )
    .with(p.evidence("policy")))
}
