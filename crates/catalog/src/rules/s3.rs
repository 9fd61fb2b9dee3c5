//! Rules for S3: account- and bucket-level Block Public Access, public
//! read/write through ACLs and bucket policies, TLS-only policies,
//! cross-account grants, access logging, versioning, lifecycle, Object Lock,
//! KMS encryption, ACL usage, MFA delete, cross-Region replication and event
//! notifications.
//!
//! Policy documents are analysed with the shared `super::policy` module
//! (public principals, restricting conditions, action and resource
//! wildcards); the small helpers at the end adapt it to S3's checks.

use std::collections::HashMap;

use rampart_model::types;

use super::policy::{self, Statement, principal_account, statements};
use super::{Outcome, Rule};
use crate::doc::{Array, Node};
use crate::inventory::{AssetRef, Inventory};
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "s3-account-block-public-access",
        check: account_block_public_access,
    },
    Rule {
        id: "s3-bucket-block-public-access",
        check: bucket_block_public_access,
    },
    Rule {
        id: "s3-bucket-server-access-logging",
        check: bucket_server_access_logging,
    },
    Rule {
        id: "s3-bucket-versioning-enabled",
        check: bucket_versioning_enabled,
    },
    Rule {
        id: "s3-bucket-versioned-has-lifecycle",
        check: bucket_versioned_has_lifecycle,
    },
    Rule {
        id: "s3-bucket-object-lock-enabled",
        check: bucket_object_lock_enabled,
    },
    Rule {
        id: "s3-bucket-kms-encryption",
        check: bucket_kms_encryption,
    },
    Rule {
        id: "s3-bucket-mfa-delete-enabled",
        check: bucket_mfa_delete_enabled,
    },
    Rule {
        id: "s3-bucket-acls-disabled",
        check: bucket_acls_disabled,
    },
    Rule {
        id: "s3-bucket-cross-region-replication",
        check: bucket_cross_region_replication,
    },
    Rule {
        id: "s3-bucket-event-notifications",
        check: bucket_event_notifications,
    },
    Rule {
        id: "s3-bucket-lifecycle-configuration",
        check: bucket_lifecycle_configuration,
    },
    // Policy-dependent rules last.
    Rule {
        id: "s3-bucket-public-read-prohibited",
        check: bucket_public_read_prohibited,
    },
    Rule {
        id: "s3-bucket-public-write-prohibited",
        check: bucket_public_write_prohibited,
    },
    Rule {
        id: "s3-bucket-ssl-requests-only",
        check: bucket_ssl_requests_only,
    },
    Rule {
        id: "s3-bucket-cross-account-sensitive-actions",
        check: bucket_cross_account_sensitive_actions,
    },
];

/// The four Block Public Access flags.
const BPA_FLAGS: [&str; 4] = [
    "blockPublicAcls",
    "ignorePublicAcls",
    "blockPublicPolicy",
    "restrictPublicBuckets",
];

/// ACL grantee groups that make a grant public.
const PUBLIC_GROUPS: [&str; 2] = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// Actions that read a bucket's data or its configuration.
const READ_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:GetObjectAcl",
    "s3:GetBucketAcl",
    "s3:GetBucketPolicy",
];

/// Actions that write, delete or re-permission a bucket's data.
const WRITE_ACTIONS: &[&str] = &[
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucket",
    "s3:PutLifecycleConfiguration",
    "s3:RestoreObject",
];

/// Actions FSBP S3.6 does not allow other accounts to have.
const CROSS_ACCOUNT_SENSITIVE_ACTIONS: &[&str] = &[
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
];

// ---------------------------------------------------------------------------
// Block Public Access

/// The account-level Block Public Access asset of `account`, if collected.
fn account_bpa<'a>(inv: &'a Inventory, account: &str) -> Option<AssetRef<'a>> {
    inv.of_type_in_account(types::S3_ACCOUNT_PUBLIC_ACCESS_BLOCK, account)
        .next()
}

/// Whether all four flags are on in the object at `prefix` ("" for the
/// asset's top level).
fn all_flags_on(p: &Props<'_>, prefix: &str) -> Result<bool, Unreadable> {
    for flag in BPA_FLAGS {
        if p.bool(&format!("{prefix}{flag}"))? != Some(true) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The Block Public Access flags in effect for a bucket: a flag is on when
/// the bucket or the account sets it. An account setting that was not
/// collected counts as off (the conservative reading).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EffectiveBpa {
    ignore_public_acls: bool,
    restrict_public_buckets: bool,
}

impl EffectiveBpa {
    fn blocks_everything(self) -> bool {
        self.ignore_public_acls && self.restrict_public_buckets
    }
}

/// Reads the bucket's and the account's flags that neutralise existing
/// grants (`ignorePublicAcls`, `restrictPublicBuckets`).
fn effective_bpa(p: &Props<'_>, inv: &Inventory) -> Result<EffectiveBpa, Unreadable> {
    let mut bpa = EffectiveBpa {
        ignore_public_acls: p.bool("publicAccessBlock.ignorePublicAcls")? == Some(true),
        restrict_public_buckets: p.bool("publicAccessBlock.restrictPublicBuckets")? == Some(true),
    };
    if !bpa.blocks_everything()
        && let Some(account) = account_bpa(inv, p.asset().account)
    {
        let a = Props::of(account);
        bpa.ignore_public_acls |= a.bool("ignorePublicAcls")? == Some(true);
        bpa.restrict_public_buckets |= a.bool("restrictPublicBuckets")? == Some(true);
    }
    Ok(bpa)
}

/// FSBP S3.1 / CIS 2.1.4 (account part): all four account-level Block
/// Public Access flags on. Every account is assessed, one without buckets
/// too (AWS Config's `s3-account-level-public-access-blocks-periodic`): the
/// setting protects the next bucket created.
fn account_block_public_access(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let configured = p.bool("configured")?;
    let all_on = all_flags_on(p, "")?;
    if all_on {
        return Ok(Outcome::healthy(
            "All four account-level S3 Block Public Access settings are on.",
        )
        .with(p.evidence("blockPublicPolicy")));
    }
    let reason = if configured == Some(true) {
        "Some account-level S3 Block Public Access settings are off; turn on all four (BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)."
    } else {
        "Account-level S3 Block Public Access is not configured; turn on all four settings for the account."
    };
    let mut outcome = Outcome::unhealthy(reason).with(p.evidence("configured"));
    for flag in BPA_FLAGS {
        outcome = outcome.with(p.evidence(flag));
    }
    Ok(outcome)
}

/// FSBP S3.8 / CIS 2.1.4 (bucket part): all four bucket-level Block Public
/// Access flags on. The bucket's own settings are judged, as AWS Config's
/// `s3-bucket-level-public-access-prohibited` does: account-level Block
/// Public Access (S3.1) does not exempt the bucket, and the reason says
/// when it covers the bucket meanwhile.
fn bucket_block_public_access(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if p.get("publicAccessBlock")?.is_some() && all_flags_on(p, "publicAccessBlock.")? {
        return Ok(
            Outcome::healthy("All four bucket-level Block Public Access settings are on.")
                .with(p.evidence("publicAccessBlock")),
        );
    }
    if let Some(account) = account_bpa(inv, p.asset().account) {
        let a = Props::of(account);
        if all_flags_on(&a, "")? {
            return Ok(Outcome::unhealthy(
                "The bucket does not have all four bucket-level Block Public Access settings on (account-level Block Public Access covers it meanwhile); turn them on for the bucket too, so it stays protected if the account setting changes.",
            )
            .with(p.evidence("publicAccessBlock")));
        }
    }
    Ok(Outcome::unhealthy(
        "The bucket does not have all four Block Public Access settings on; turn on BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets for the bucket.",
    )
    .with(p.evidence("publicAccessBlock")))
}

// ---------------------------------------------------------------------------
// Logging, versioning, lifecycle, Object Lock, encryption

/// Names of the buckets that deliver their server access logs to `bucket`
/// (other than itself). The index of log targets is built once per
/// evaluation.
fn log_sources(inv: &Inventory, bucket: AssetRef<'_>) -> Vec<String> {
    let index = inv.memo("s3:log_sources", |inv| {
        let mut index: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
        for other in inv.of_type("AWS::S3::Bucket") {
            if let Some(target) = Props::of(other).str("logging.targetBucket").ok().flatten() {
                index
                    .entry((other.account.to_owned(), target.to_owned()))
                    .or_default()
                    .push((other.arn.to_owned(), other.name.to_owned()));
            }
        }
        index
    });
    index
        .get(&(bucket.account.to_owned(), bucket.name.to_owned()))
        .map(|sources| {
            sources
                .iter()
                .filter(|(arn, _)| *arn != bucket.arn)
                .map(|(_, name)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// FSBP S3.9: server access logging on. Not applicable: the bucket is the
/// access-log target of other buckets (logging a log bucket into itself or
/// another log bucket only multiplies log objects; AWS says to exempt it).
fn bucket_server_access_logging(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(target) = p.str("logging.targetBucket")? {
        return Ok(Outcome::healthy(format!(
            "Server access logs are delivered to bucket `{target}`."
        ))
        .with(p.evidence("logging")));
    }
    let sources = log_sources(inv, p.asset());
    if !sources.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The bucket is the server access log target of {}; a log bucket does not need access logs of its own.",
            sources.join(", ")
        )));
    }
    Ok(Outcome::unhealthy(
        "Server access logging is off; enable it with a target bucket in the same region.",
    )
    .with(p.evidence("logging")))
}

/// Whether Object Lock is enabled on the bucket.
fn object_lock_enabled(p: &Props<'_>) -> Result<bool, Unreadable> {
    Ok(p.str("objectLock.objectLockEnabled")? == Some("Enabled"))
}

/// FSBP S3.14: versioning `Enabled` (never enabled or `Suspended` fails).
/// Every bucket is assessed; one with Object Lock passes, Object Lock
/// keeping versioning on for good (S3 reports it `Enabled` and it cannot be
/// suspended).
fn bucket_versioning_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if object_lock_enabled(p)? {
        return Ok(
            Outcome::healthy("Object Lock is enabled, which keeps versioning on for good.")
                .with(p.evidence("objectLock")),
        );
    }
    let status = p.str("versioning.status")?;
    Ok(match status {
        Some("Enabled") => {
            Outcome::healthy("Versioning is enabled.").with(p.evidence("versioning.status"))
        }
        Some("Suspended") => Outcome::unhealthy(
            "Versioning is suspended; enable it again so overwritten and deleted objects can be recovered.",
        )
        .with(p.evidence("versioning.status")),
        _ => Outcome::unhealthy(
            "Versioning has never been enabled; enable it so overwritten and deleted objects can be recovered.",
        )
        .with(p.evidence("versioning")),
    })
}

/// Whether the bucket has at least one lifecycle rule with status `Enabled`.
fn has_enabled_lifecycle_rule(p: &Props<'_>) -> Result<bool, Unreadable> {
    Ok(p.array("lifecycle.rules")?
        .iter()
        .any(|r| r.get("status").and_then(Node::as_str) == Some("Enabled")))
}

/// FSBP S3.10: a versioned bucket has an enabled lifecycle rule (otherwise
/// noncurrent versions pile up forever). Not applicable: versioning is not
/// enabled.
fn bucket_versioned_has_lifecycle(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("versioning.status")? != Some("Enabled") {
        return Ok(
            Outcome::not_applicable("Versioning is not enabled on the bucket.")
                .with(p.evidence("versioning.status")),
        );
    }
    Ok(Outcome::either(
        has_enabled_lifecycle_rule(p)?,
        "The versioned bucket has an enabled lifecycle rule.",
        "The bucket is versioned but has no enabled lifecycle rule; add one that expires or transitions noncurrent versions.",
    )
    .with(p.evidence("lifecycle")))
}

/// FSBP S3.15: Object Lock enabled. Not applicable: the bucket is a server
/// access log target, which S3 requires to have no default retention.
fn bucket_object_lock_enabled(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if object_lock_enabled(p)? {
        return Ok(Outcome::healthy("Object Lock is enabled.").with(p.evidence("objectLock")));
    }
    let sources = log_sources(inv, p.asset());
    if !sources.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The bucket receives server access logs from {}, and S3 does not deliver access logs to buckets with an Object Lock default retention.",
            sources.join(", ")
        )));
    }
    Ok(Outcome::unhealthy(
        "Object Lock is not enabled; enable it with a default retention to keep objects from being deleted or overwritten.",
    )
    .with(p.evidence("objectLock")))
}

/// FSBP S3.17: default encryption with a KMS key (`aws:kms` or
/// `aws:kms:dsse`). No encryption object means SSE-S3 (S3's default since
/// 2023), which fails. Not applicable: the bucket is a server access log
/// target, for which S3 supports only SSE-S3 default encryption.
fn bucket_kms_encryption(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let rules = p.array("encryption.rules")?;
    let kms = rules.iter().any(|r| {
        matches!(
            r.get("sseAlgorithm").and_then(Node::as_str),
            Some("aws:kms" | "aws:kms:dsse")
        )
    });
    if kms {
        return Ok(Outcome::healthy(
            "Default encryption uses an AWS KMS key (SSE-KMS or DSSE-KMS).",
        )
        .with(p.evidence("encryption")));
    }
    let sources = log_sources(inv, p.asset());
    if !sources.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The bucket receives server access logs from {}, and S3 supports only SSE-S3 default encryption on access log targets.",
            sources.join(", ")
        )));
    }
    Ok(Outcome::unhealthy(
        "Default encryption does not use an AWS KMS key; set SSE-KMS with a customer managed key.",
    )
    .with(p.evidence("encryption")))
}

/// FSBP S3.20 / CIS 2.1.2: MFA delete enabled. Not applicable: the bucket
/// has a lifecycle configuration, which S3 does not allow together with
/// MFA delete.
fn bucket_mfa_delete_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if !p.array("lifecycle.rules")?.is_empty() {
        return Ok(Outcome::not_applicable(
            "The bucket has a lifecycle configuration, which cannot be combined with MFA delete.",
        )
        .with(p.evidence("lifecycle")));
    }
    let mfa = p.str("versioning.mfaDelete")?;
    Ok(Outcome::either(
        mfa == Some("Enabled"),
        "MFA delete is enabled.",
        "MFA delete is not enabled; as the root user, enable versioning with MFA delete on the bucket.",
    )
    .with(p.evidence("versioning")))
}

// ---------------------------------------------------------------------------
// ACLs

/// Whether ownership controls disable ACLs (`BucketOwnerEnforced`).
fn acls_disabled(p: &Props<'_>) -> Result<bool, Unreadable> {
    Ok(p.array("ownershipControls.rules")?
        .iter()
        .any(|r| r.get("objectOwnership").and_then(Node::as_str) == Some("BucketOwnerEnforced")))
}

/// FSBP S3.12: ACLs do not manage user access (AWS Config's
/// `s3-bucket-acl-prohibited`). Healthy: ACLs disabled by
/// `BucketOwnerEnforced`, or enabled but granting only the owner (no user
/// access is managed through them). Unhealthy: the ACL grants someone other
/// than the owner.
fn bucket_acls_disabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if acls_disabled(p)? {
        return Ok(Outcome::healthy(
            "ACLs are disabled (Object Ownership is BucketOwnerEnforced).",
        )
        .with(p.evidence("ownershipControls")));
    }
    if p.get("acl")?.is_none() {
        return Err(Unreadable {
            path: "acl".to_owned(),
            error: "the bucket ACL is missing from the inventory".to_owned(),
        });
    }
    let owner = p.str("acl.owner.id")?;
    let others: Vec<String> = p
        .array("acl.grants")?
        .iter()
        .filter_map(|g| {
            let grantee = g.get("grantee")?;
            let id = grantee.get("id").and_then(Node::as_str);
            if id.is_some() && id == owner {
                return None;
            }
            Some(
                grantee
                    .get("uri")
                    .or_else(|| grantee.get("id"))
                    .or_else(|| grantee.get("emailAddress"))
                    .and_then(Node::as_str)
                    .unwrap_or("an unnamed grantee")
                    .to_owned(),
            )
        })
        .collect();
    if others.is_empty() {
        return Ok(Outcome::healthy(
            "ACLs are enabled but grant access only to the bucket owner; setting Object Ownership to BucketOwnerEnforced would disable them altogether.",
        )
        .with(p.evidence("acl.grants")));
    }
    Ok(Outcome::unhealthy(format!(
        "The bucket ACL grants access to {}; move that access to the bucket policy and set Object Ownership to BucketOwnerEnforced.",
        others.join(", ")
    ))
    .with(p.evidence("acl.grants"))
    .with(p.evidence("ownershipControls")))
}

/// Public ACL grants with one of `permissions`, unless ACLs are ignored.
fn public_acl_grants(p: &Props<'_>, permissions: &[&str]) -> Result<Vec<String>, Unreadable> {
    if acls_disabled(p)? {
        return Ok(Vec::new());
    }
    Ok(p.array("acl.grants")?
        .iter()
        .filter_map(|g| {
            let uri = g.get("grantee")?.get("uri")?.as_str()?;
            let permission = g.get("permission")?.as_str()?;
            (PUBLIC_GROUPS.contains(&uri) && permissions.contains(&permission))
                .then(|| format!("{permission} to {uri}"))
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Replication, event notifications, lifecycle

/// Names of the buckets in the inventory (any account) with an enabled
/// replication rule whose destination is `bucket` (other than itself). The
/// index of destinations is built once per evaluation.
fn replication_sources(inv: &Inventory, bucket: AssetRef<'_>) -> Vec<String> {
    let index = inv.memo("s3:replication_sources", |inv| {
        let mut index: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for other in inv.of_type("AWS::S3::Bucket") {
            for rule in Props::of(other)
                .array("replication.rules")
                .unwrap_or_default()
            {
                if !rule_enabled(rule) {
                    continue;
                }
                if let Some(dest) = rule.pointer("/destination/bucket").and_then(Node::as_str) {
                    index
                        .entry(dest.to_owned())
                        .or_default()
                        .push((other.arn.to_owned(), other.name.to_owned()));
                }
            }
        }
        index
    });
    let mut names: Vec<String> = index
        .get(bucket.arn)
        .map(|sources| {
            sources
                .iter()
                .filter(|(arn, _)| *arn != bucket.arn)
                .map(|(_, name)| name.clone())
                .collect()
        })
        .unwrap_or_default();
    names.dedup();
    names
}

/// Whether a replication or lifecycle rule has status `Enabled`.
fn rule_enabled(rule: Node<'_>) -> bool {
    rule.get("status").and_then(Node::as_str) == Some("Enabled")
}

/// The bucket name in a destination bucket ARN (`arn:<partition>:s3:::name`).
fn bucket_name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// What the enabled replication rules of a bucket replicate to.
#[derive(Debug, Default)]
struct ReplicationTargets {
    /// Destinations in the inventory in another region (`name (region)`).
    cross_region: Vec<String>,
    /// Destinations not in the inventory, whose region is unknown.
    unknown_region: Vec<String>,
    /// Destinations in the inventory in the bucket's own region.
    same_region: Vec<String>,
}

/// Classifies the destinations of the enabled rules in `rules` by region,
/// looking each destination bucket up in the inventory.
fn replication_targets(
    rules: Array<'_>,
    bucket: AssetRef<'_>,
    inv: &Inventory,
) -> ReplicationTargets {
    let mut targets = ReplicationTargets::default();
    for dest in rules
        .iter()
        .filter(|r| rule_enabled(*r))
        .filter_map(|r| r.pointer("/destination/bucket").and_then(Node::as_str))
    {
        let name = bucket_name_of(dest);
        match inv.by_arn(dest) {
            Some(d) if d.region == bucket.region => {
                targets.same_region.push(format!("`{name}` ({})", d.region));
            }
            Some(d) => targets
                .cross_region
                .push(format!("`{name}` ({})", d.region)),
            None => targets.unknown_region.push(format!("`{name}`")),
        }
    }
    targets
}

/// FSBP S3.7: an enabled replication rule copies the bucket to a bucket in
/// another region. A destination found in the inventory must be in another
/// region; one outside the inventory (another account, an unscanned region)
/// is accepted, and the reason says its region was not confirmed. Not
/// applicable: the bucket is itself the destination of another bucket's
/// enabled replication rule (a replica need not replicate again), or it is
/// a server access log target.
fn bucket_cross_region_replication(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let bucket = p.asset();
    let rules = p.array("replication.rules");
    let targets = match &rules {
        Ok(rules) => replication_targets(*rules, bucket, inv),
        Err(_) => ReplicationTargets::default(),
    };
    if !targets.cross_region.is_empty() {
        return Ok(Outcome::healthy(format!(
            "An enabled replication rule copies the bucket to {} in another region.",
            targets.cross_region.join(", ")
        ))
        .with(p.evidence("replication.rules")));
    }
    if !targets.unknown_region.is_empty() {
        return Ok(Outcome::healthy(format!(
            "An enabled replication rule copies the bucket to {}, which is not in this scan, so its region could not be confirmed as different.",
            targets.unknown_region.join(", ")
        ))
        .with(p.evidence("replication.rules")));
    }
    let sources = replication_sources(inv, bucket);
    if !sources.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The bucket is the replication destination of {}; a replica does not need to be replicated again.",
            sources.join(", ")
        )));
    }
    let log_sources = log_sources(inv, bucket);
    if !log_sources.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The bucket is the server access log target of {}; access logs do not need a copy in another region.",
            log_sources.join(", ")
        )));
    }
    let rules = rules?;
    let reason = if !targets.same_region.is_empty() {
        format!(
            "The bucket replicates only within its own region (to {}); add an enabled rule with a destination bucket in another region.",
            targets.same_region.join(", ")
        )
    } else if rules.is_empty() {
        "The bucket has no replication configuration; add an enabled replication rule to a bucket in another region.".to_owned()
    } else {
        "No replication rule of the bucket is enabled; enable a rule whose destination bucket is in another region.".to_owned()
    };
    Ok(Outcome::unhealthy(reason).with(p.evidence("replication")))
}

/// The notification destinations configured on a bucket (`notifications`),
/// described for a reason.
fn notification_destinations(notifications: Node<'_>) -> Vec<String> {
    let mut found = Vec::new();
    for (list, arn_key, what) in [
        ("topicConfigurations", "topicArn", "SNS topic"),
        ("queueConfigurations", "queueArn", "SQS queue"),
        (
            "lambdaFunctionConfigurations",
            "lambdaFunctionArn",
            "Lambda function",
        ),
    ] {
        let items = notifications
            .get(list)
            .and_then(Node::as_array)
            .unwrap_or_default();
        for item in items {
            let arn = item
                .get(arn_key)
                .and_then(Node::as_str)
                .unwrap_or("(no ARN)");
            found.push(format!("{what} `{arn}`"));
        }
    }
    if notifications
        .get("eventBridgeEnabled")
        .and_then(Node::as_bool)
        == Some(true)
    {
        found.push("Amazon EventBridge".to_owned());
    }
    found
}

/// FSBP S3.11: event notifications on: at least one SNS topic, SQS queue or
/// Lambda function configuration, or delivery to EventBridge. Not
/// applicable: the bucket is a server access log target (its only writer is
/// the logging service; notifications on every log object are noise).
fn bucket_event_notifications(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let notifications = p.get("notifications");
    if let Ok(Some(n)) = notifications {
        let destinations = notification_destinations(n);
        if !destinations.is_empty() {
            return Ok(Outcome::healthy(format!(
                "Event notifications are sent to {}.",
                destinations.join(", ")
            ))
            .with(p.evidence("notifications")));
        }
    }
    let sources = log_sources(inv, p.asset());
    if !sources.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The bucket is the server access log target of {}; notifications for each delivered log object are not needed.",
            sources.join(", ")
        )));
    }
    if notifications?.is_none() {
        return Err(Unreadable {
            path: "notifications".to_owned(),
            error: "the bucket's notification configuration is missing from the inventory"
                .to_owned(),
        });
    }
    Ok(Outcome::unhealthy(
        "The bucket has no event notifications; send object events (for example s3:ObjectRemoved:*) to an SNS topic, SQS queue or Lambda function, or turn on EventBridge delivery.",
    )
    .with(p.evidence("notifications")))
}

/// FSBP S3.13: at least one enabled lifecycle rule. Not applicable: MFA
/// delete is enabled, and S3 refuses a lifecycle configuration on a bucket
/// with MFA delete, so the two controls (S3.13 and S3.20) exclude each
/// other; such a bucket has chosen MFA delete. An unreadable versioning
/// state on a bucket without lifecycle rules is an error (it could be
/// either case).
fn bucket_lifecycle_configuration(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if has_enabled_lifecycle_rule(p)? {
        return Ok(
            Outcome::healthy("The bucket has an enabled lifecycle rule.")
                .with(p.evidence("lifecycle.rules")),
        );
    }
    if p.str("versioning.mfaDelete")? == Some("Enabled") {
        return Ok(Outcome::not_applicable(
            "MFA delete is enabled on the bucket, and S3 does not allow lifecycle rules on a bucket with MFA delete.",
        )
        .with(p.evidence("versioning.mfaDelete")));
    }
    let reason = if p.array("lifecycle.rules")?.is_empty() {
        "The bucket has no lifecycle configuration; add an enabled rule that transitions or expires objects (and aborts incomplete multipart uploads)."
    } else {
        "None of the bucket's lifecycle rules is enabled; enable a rule that transitions or expires objects."
    };
    Ok(Outcome::unhealthy(reason).with(p.evidence("lifecycle")))
}

// ---------------------------------------------------------------------------
// Public read / write (policy-dependent)

/// What the bucket exposes publicly, by ACL and by policy.
#[derive(Debug, Default)]
pub(crate) struct Exposure {
    /// Public ACL grants (`PERMISSION to URI`).
    pub acl: Vec<String>,
    /// Policy statements (Sid or index) that allow the public.
    pub policy: Vec<String>,
}

impl Exposure {
    pub(crate) fn is_public(&self) -> bool {
        !self.acl.is_empty() || !self.policy.is_empty()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.acl.is_empty() {
            parts.push(format!("its ACL grants {}", self.acl.join(", ")));
        }
        if !self.policy.is_empty() {
            parts.push(format!(
                "its policy allows anyone in statement {}",
                self.policy.join(", ")
            ));
        }
        parts.join(" and ")
    }
}

/// Public exposure of a bucket for `acl_permissions` / `actions`, honouring
/// Block Public Access (bucket and account) and AWS's own policy status.
pub(crate) fn bucket_exposure(
    p: &Props<'_>,
    inv: &Inventory,
    acl_permissions: &[&str],
    actions: &[&str],
) -> Result<Exposure, Unreadable> {
    let bpa = effective_bpa(p, inv)?;
    let mut exposure = Exposure::default();
    if !bpa.ignore_public_acls {
        exposure.acl = public_acl_grants(p, acl_permissions)?;
    }
    if !bpa.restrict_public_buckets
        && let Some(doc) = policy::read(p, "policy")?
    {
        let public = public_statements(doc, actions);
        // AWS's own evaluation (GetBucketPolicyStatus) weighs conditions
        // we do not model; when it says "not public", trust it.
        let aws_says_private = matches!(p.bool("policyIsPublic"), Ok(Some(false)));
        if !aws_says_private {
            exposure.policy = public;
        }
    }
    Ok(exposure)
}

/// Labels of the Allow statements that grant one of `actions` to anyone
/// without a restricting condition.
fn public_statements(doc: Node<'_>, actions: &[&str]) -> Vec<String> {
    policy::public_statements(doc)
        .iter()
        .filter(|s| actions.iter().any(|a| s.matches_action(a)))
        .map(statement_label)
        .collect()
}

/// The shared body of S3.2/S3.3.
fn public_check(
    p: &Props<'_>,
    inv: &Inventory,
    what: &str,
    acl_permissions: &[&str],
    actions: &[&str],
) -> Result<Outcome, Unreadable> {
    let bpa = effective_bpa(p, inv)?;
    if bpa.blocks_everything() {
        return Ok(Outcome::healthy(format!(
            "Block Public Access (bucket or account) ignores public ACLs and restricts public policies, so no grant can make the bucket publicly {what}."
        ))
        .with(p.evidence("publicAccessBlock")));
    }
    let exposure = bucket_exposure(p, inv, acl_permissions, actions)?;
    if exposure.is_public() {
        return Ok(Outcome::unhealthy(format!(
            "The bucket is publicly {what}: {}; remove the public grants and turn on Block Public Access.",
            exposure.describe()
        ))
        .with(p.evidence("acl.grants"))
        .with(p.evidence("policy"))
        .with(p.evidence("policyIsPublic"))
        .with(p.evidence("publicAccessBlock")));
    }
    Ok(Outcome::healthy(format!(
        "Neither the bucket ACL nor its policy makes it publicly {what}."
    ))
    .with(p.evidence("policyIsPublic")))
}

/// FSBP S3.2: no public read through the ACL (READ/FULL_CONTROL to AllUsers
/// or AuthenticatedUsers) or the policy (read actions to `*` without a
/// restricting condition), taking Block Public Access into account: a
/// bucket whose Block Public Access ignores public ACLs and restricts
/// public policies passes (every bucket is assessed, as AWS Config's
/// `s3-bucket-public-read-prohibited` does).
fn bucket_public_read_prohibited(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    public_check(p, inv, "readable", &["READ", "FULL_CONTROL"], READ_ACTIONS)
}

/// FSBP S3.3: no public write through the ACL (WRITE/WRITE_ACP/FULL_CONTROL)
/// or the policy (write actions to `*` without a restricting condition).
/// Every bucket is assessed, as for S3.2.
fn bucket_public_write_prohibited(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    public_check(
        p,
        inv,
        "writable",
        &["WRITE", "WRITE_ACP", "FULL_CONTROL"],
        WRITE_ACTIONS,
    )
}

/// FSBP S3.5 / CIS 2.1.1: the bucket policy denies requests that do not use
/// TLS. A statement must deny `s3:*` to everyone on the bucket's objects
/// with `Bool`/`BoolIfExists` `aws:SecureTransport` = `false`. Not
/// applicable: the policy denies every request unconditionally, so no
/// request is served over any transport.
fn bucket_ssl_requests_only(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let bucket = p.asset().name;
    let Some(doc) = policy::read(p, "policy")? else {
        return Ok(Outcome::unhealthy(
            "The bucket has no policy, so requests over plain HTTP are allowed; add a statement that denies s3:* when aws:SecureTransport is false.",
        )
        .with(p.evidence("policy")));
    };
    let stmts = statements(doc);
    let object = format!("arn:aws:s3:::{bucket}/any-key");
    if stmts
        .iter()
        .any(|s| denies_all_s3_to_everyone(s, &object) && s.conditions().is_empty())
    {
        return Ok(Outcome::not_applicable(
            "The bucket policy denies every request to everyone, whatever the transport.",
        )
        .with(p.evidence("policy")));
    }
    Ok(Outcome::either(
        stmts.iter().any(|s| denies_insecure_transport(s, bucket)),
        "The bucket policy denies requests that do not use TLS.",
        "The bucket policy does not deny plain-HTTP requests; add a Deny statement for s3:* on the bucket and its objects when aws:SecureTransport is false.",
    )
    .with(p.evidence("policy")))
}

/// FSBP S3.6: the policy does not allow principals of other AWS accounts
/// (explicit other-account principals, or `*` without a restricting
/// condition) the actions DeleteBucketPolicy, PutBucketAcl, PutBucketPolicy,
/// PutEncryptionConfiguration or PutObjectAcl. A bucket without a policy
/// grants nothing and passes (AWS Config's
/// `s3-bucket-blacklisted-actions-prohibited` assesses every bucket).
fn bucket_cross_account_sensitive_actions(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    let Some(doc) = policy::read(p, "policy")? else {
        return Ok(Outcome::healthy(
            "The bucket has no bucket policy, so it grants nothing to other accounts.",
        )
        .with(p.evidence("policy")));
    };
    let account = p.asset().account;
    let mut found = Vec::new();
    for stmt in &statements(doc) {
        if !stmt.is_allow() {
            continue;
        }
        let foreign = foreign_principals(stmt, account);
        if foreign.is_empty() {
            continue;
        }
        let actions: Vec<&str> = CROSS_ACCOUNT_SENSITIVE_ACTIONS
            .iter()
            .copied()
            .filter(|a| stmt.matches_action(a))
            .collect();
        if !actions.is_empty() {
            found.push(format!(
                "{} ({} to {})",
                statement_label(stmt),
                actions.join(", "),
                foreign.join(", ")
            ));
        }
    }
    if found.is_empty() {
        return Ok(Outcome::healthy(
            "The bucket policy grants no other AWS account permission to change the bucket's policy, ACLs or encryption.",
        )
        .with(p.evidence("policy")));
    }
    Ok(Outcome::unhealthy(format!(
        "The bucket policy lets other AWS accounts change its access or encryption settings in statement {}; remove those actions from the cross-account statements.",
        found.join("; ")
    ))
    .with(p.evidence("policy")))
}

// ---------------------------------------------------------------------------
// Thin helpers over the shared policy analysis (`super::policy`)

/// A statement's Sid, or its position.
pub(crate) fn statement_label(stmt: &Statement<'_>) -> String {
    stmt.sid()
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("#{}", stmt.index + 1), |sid| format!("`{sid}`"))
}

/// Whether `stmt` applies to every S3 action of every principal on
/// `object_arn` (a Deny of this shape, with or without a condition).
fn denies_all_s3_to_everyone(stmt: &Statement<'_>, object_arn: &str) -> bool {
    stmt.is_deny()
        && stmt.has_public_principal()
        && stmt.covers_service("s3")
        && stmt.matches_resource(object_arn)
}

/// Whether the statement's condition is "aws:SecureTransport is false"
/// (`Bool` or `BoolIfExists`; string or boolean value).
fn condition_is_insecure_transport(stmt: &Statement<'_>) -> bool {
    stmt.conditions().iter().any(|c| {
        c.base_operator() == "bool"
            && c.is_key("aws:SecureTransport")
            && c.values.iter().any(|v| v.eq_ignore_ascii_case("false"))
    })
}

/// Whether `stmt` denies insecure transport: Deny, to everyone, every S3
/// action, on the bucket's objects, when `aws:SecureTransport` is false.
fn denies_insecure_transport(stmt: &Statement<'_>, bucket: &str) -> bool {
    let object = format!("arn:aws:s3:::{bucket}/any-key");
    denies_all_s3_to_everyone(stmt, &object) && condition_is_insecure_transport(stmt)
}

/// Principals of other accounts an Allow statement covers: explicit AWS
/// principals of another account, and everyone (`*`, `NotPrincipal`)
/// unless a condition restricts the caller.
fn foreign_principals(stmt: &Statement<'_>, account: &str) -> Vec<String> {
    if stmt.has_public_principal() {
        return if stmt.restricts_principal() {
            Vec::new()
        } else {
            vec!["everyone (`*`)".to_owned()]
        };
    }
    stmt.principals("AWS")
        .into_iter()
        .filter(|p| principal_account(p).is_some_and(|a| a != account && !a.contains('*')))
        .map(|p| format!("`{p}`"))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use crate::doc::testing::node;
    use serde_json::{Value, json};

    fn first(doc: &Value) -> Statement<'_> {
        statements(node(doc))[0]
    }

    #[test]
    fn insecure_transport_statement() {
        let ok = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": false}}}]});
        assert!(denies_insecure_transport(&first(&ok), "b"));
        let wrong_value = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]});
        assert!(!denies_insecure_transport(&first(&wrong_value), "b"));
        let other_bucket = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": "arn:aws:s3:::c/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert!(!denies_insecure_transport(&first(&other_bucket), "b"));
        let one_action = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert!(!denies_insecure_transport(&first(&one_action), "b"));
    }

    #[test]
    fn foreign_principals_of_a_statement() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": [
            "arn:aws:iam::999999999999:root", "arn:aws:iam::123456789012:role/x", "111111111111"]}}]});
        assert_eq!(
            foreign_principals(&first(&doc), "123456789012"),
            vec![
                "`arn:aws:iam::999999999999:root`".to_owned(),
                "`111111111111`".to_owned()
            ]
        );
        let org = json!({"Statement": [{"Effect": "Allow", "Principal": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]});
        assert!(foreign_principals(&first(&org), "123456789012").is_empty());
        let open = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}}]});
        assert_eq!(foreign_principals(&first(&open), "123456789012").len(), 1);
    }
}
