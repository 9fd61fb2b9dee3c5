//! Rules for Kinesis Data Streams and Amazon Data Firehose delivery
//! streams: encryption at rest and retention.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "kinesis-stream-encrypted",
        check: stream_encrypted,
    },
    Rule {
        id: "kinesis-stream-retention-period",
        check: stream_retention,
    },
    Rule {
        id: "firehose-delivery-stream-encrypted",
        check: delivery_stream_encrypted,
    },
];

/// Security Hub's default minimum retention for Kinesis.3, in hours.
const MIN_RETENTION_HOURS: i64 = 168;

/// Not applicable when the resource was deleted while the scan ran or is
/// being deleted (`status_path` is `DELETING`).
fn gone(p: &Props<'_>, what: &str, status_path: &str) -> Result<Option<Outcome>, Unreadable> {
    if p.bool("deleted")? == Some(true) {
        return Ok(Some(
            Outcome::not_applicable(format!("The {what} was deleted while the scan ran."))
                .with(p.evidence("deleted")),
        ));
    }
    Ok((p.str(status_path)? == Some("DELETING")).then(|| {
        Outcome::not_applicable(format!("The {what} is being deleted."))
            .with(p.evidence(status_path))
    }))
}

/// Kinesis.1: the stream encrypts records at rest with a KMS key
/// (`encryptionType` `KMS`). Not applicable: deleted or being deleted.
fn stream_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p, "stream", "streamStatus")? {
        return Ok(na);
    }
    let kms = p.str("encryptionType")? == Some("KMS");
    Ok(Outcome::either(
        kms,
        "The stream encrypts records at rest with a KMS key.",
        "The stream stores records unencrypted; start server-side encryption with a KMS key (`aws/kinesis` or your own).",
    )
    .with(p.evidence("encryptionType"))
    .with(p.evidence("keyId")))
}

/// Kinesis.3: the stream keeps records at least 168 hours (Security Hub's
/// default `minimumDataRetentionInHours`). Not applicable: deleted or being
/// deleted.
fn stream_retention(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p, "stream", "streamStatus")? {
        return Ok(na);
    }
    let Some(hours) = p.i64("retentionPeriodHours")? else {
        return Err(Unreadable {
            path: "retentionPeriodHours".to_owned(),
            error: "the stream's retention period was not reported".to_owned(),
        });
    };
    Ok(Outcome::either(
        hours >= MIN_RETENTION_HOURS,
        format!("The stream keeps records for {hours} hours (at least {MIN_RETENTION_HOURS})."),
        format!(
            "The stream keeps records for only {hours} hours; raise the retention period to at least {MIN_RETENTION_HOURS} hours (7 days)."
        ),
    )
    .with(p.evidence("retentionPeriodHours")))
}

/// DataFirehose.1: the delivery stream encrypts data at rest with
/// server-side encryption (`encryptionStatus` `ENABLED` or `ENABLING`).
/// Not applicable: deleted or being deleted, and streams reading from a
/// Kinesis data stream (`KinesisStreamAsSource`), for which Firehose offers
/// no server-side encryption of its own: the source stream's encryption
/// (Kinesis.1) protects that data.
fn delivery_stream_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = gone(p, "delivery stream", "deliveryStreamStatus")? {
        return Ok(na);
    }
    if p.str("deliveryStreamType")? == Some("KinesisStreamAsSource") {
        return Ok(Outcome::not_applicable(
            "The delivery stream reads from a Kinesis data stream; Firehose server-side encryption is not available for it, and the source stream's own encryption applies.",
        )
        .with(p.evidence("deliveryStreamType")));
    }
    let status = p.str("encryptionStatus")?;
    Ok(Outcome::either(
        matches!(status, Some("ENABLED" | "ENABLING")),
        "The delivery stream encrypts data at rest with server-side encryption.",
        "The delivery stream does not encrypt data at rest; start server-side encryption (an AWS-owned or customer-managed KMS key).",
    )
    .with(p.evidence("encryptionStatus"))
    .with(p.evidence("encryptionKeyType")))
}
