//! S3: every general purpose bucket in the scanned regions, with each
//! bucket-level setting a posture check reads (policy, Block Public Access,
//! ACL, encryption, versioning, logging, ownership controls, tags, lifecycle,
//! Object Lock, event notifications, replication), and the account-level
//! Block Public Access setting (S3 Control).
//!
//! Global collector: it runs once per account in the home region. The bucket
//! list comes from `ListBuckets`; each bucket's region from the list's
//! `BucketRegion` or, where the endpoint omits it (moto does),
//! `GetBucketLocation`. Only buckets in the scanned regions are read, each
//! with a client of its own region (S3 answers other regions with
//! redirects), and their gaps are recorded in that region.
//!
//! Calls per bucket: `GetBucketAcl` first (every bucket has an ACL, so it also
//! tells a bucket deleted since the listing, `NoSuchBucket`, which is then
//! skipped without a gap), then concurrently the other reads, where
//! `GetBucketPolicyStatus` is only called when the bucket has a policy: 13
//! calls per bucket with a policy, 12 without, plus `GetBucketLocation` where
//! the listing lacks the region. A bucket whose location cannot be read is
//! not emitted (its region, hence whether it is in scope, is unknown); the
//! `GetBucketLocation` gap says so.
//!
//! "Not configured" answers (`NoSuchBucketPolicy`, `NoSuchTagSet`, …) are not
//! gaps: they map to `null` (or `false`, or empty tags). A failed read leaves
//! its property `null` and marks it unavailable.
//!
//! moto (5.2.5, and the older 5.2.1) answers the "not configured" cases with
//! the same error codes as AWS. Where it differs:
//! * `ListBuckets` omits `BucketRegion`, so every bucket costs a
//!   `GetBucketLocation` (AWS includes `BucketRegion` when the request has a
//!   parameter, hence `MaxBuckets` is always sent).
//! * `GetBucketVersioning` answers with the root element
//!   `GetBucketVersioningResponse` instead of `VersioningConfiguration`, and
//!   `GetBucketNotificationConfiguration` of a bucket without notifications
//!   with `GetBucketNotificationResponse` instead of
//!   `NotificationConfiguration`. The SDK rejects both (HTTP 200, unparseable
//!   body): they are gaps and the properties unavailable, never guessed.
//! * moto 5.2.1 does not implement `GetBucketPolicyStatus` (it answers with a
//!   `ListObjects` result: a gap); 5.2.5 does, like AWS.
//! * S3 Control's host is the account id prefixed to the endpoint host
//!   (`123456789012.127.0.0.1`); the access layer resolves it to the endpoint,
//!   and moto serves S3 Control there (by the `/v20180820/` path).

use std::collections::BTreeMap;

use aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput;
use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_logging::GetBucketLoggingOutput;
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput;
use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput;
use aws_sdk_s3::operation::get_bucket_policy_status::GetBucketPolicyStatusOutput;
use aws_sdk_s3::operation::get_bucket_replication::GetBucketReplicationOutput;
use aws_sdk_s3::operation::get_bucket_tagging::GetBucketTaggingOutput;
use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
use aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationOutput;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput;
use aws_sdk_s3::types::{
    Bucket, BucketLocationConstraint, Event, Grant, LifecycleRule, LifecycleRuleFilter,
    ReplicationRule, Tag,
};
use aws_sdk_s3control::operation::get_public_access_block::GetPublicAccessBlockOutput as AccountPublicAccessBlockOutput;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, policy_document, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects S3 buckets and the account-level Block Public Access setting.
#[derive(Debug)]
pub struct S3;

static META: CollectorMeta = CollectorMeta {
    service: "s3",
    scope: Scope::Global,
    operations: &[
        op!("s3", "ListBuckets" => "s3:ListAllMyBuckets"),
        op!("s3", "GetBucketLocation"),
        op!("s3", "GetBucketAcl"),
        op!("s3", "GetBucketPolicy"),
        op!("s3", "GetBucketPolicyStatus"),
        op!("s3", "GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock"),
        op!("s3", "GetBucketEncryption" => "s3:GetEncryptionConfiguration"),
        op!("s3", "GetBucketVersioning"),
        op!("s3", "GetBucketLogging"),
        op!("s3", "GetBucketOwnershipControls"),
        op!("s3", "GetBucketTagging"),
        op!("s3", "GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration"),
        op!("s3", "GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration"),
        op!("s3", "GetBucketNotificationConfiguration" => "s3:GetBucketNotification"),
        op!("s3", "GetBucketReplication" => "s3:GetReplicationConfiguration"),
        op!("s3control", "GetPublicAccessBlock" => "s3:GetAccountPublicAccessBlock"),
    ],
    resource_types: &["AWS::S3::Bucket", types::S3_ACCOUNT_PUBLIC_ACCESS_BLOCK],
};

/// The operation name of S3 Control's `GetPublicAccessBlock` in gaps. Gaps
/// carry the collector's service (`s3`), where the bucket-level
/// `GetPublicAccessBlock` has the same name; the API prefix tells them apart.
pub const ACCOUNT_PUBLIC_ACCESS_BLOCK_OPERATION: &str = "s3control:GetPublicAccessBlock";

/// The setting name in the account-level Block Public Access asset's id.
const ACCOUNT_PUBLIC_ACCESS_BLOCK_SETTING: &str = "account-public-access-block";

/// `ListBuckets` page size (the API's maximum). Sending it also makes AWS
/// include each bucket's `BucketRegion`, which it omits from a request
/// without parameters.
const MAX_BUCKETS: i32 = 10_000;

/// ACL grantee group URIs that make a grant public.
const PUBLIC_GROUPS: &[&str] = &[
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

/// The outcome of one per-bucket (or account-level) read: `Ok(Some)` read,
/// `Ok(None)` not configured (an "absent" error code), `Err` failed (the
/// failure is also a gap).
pub type Detail<T> = Result<Option<T>, CallFailure>;

/// Everything read about one bucket.
#[derive(Debug)]
pub struct BucketDetails {
    /// `GetBucketPolicy` (absent: `NoSuchBucketPolicy`).
    pub policy: Detail<GetBucketPolicyOutput>,
    /// `GetBucketPolicyStatus`; `Ok(None)` when the bucket has no policy (not called).
    pub policy_status: Detail<GetBucketPolicyStatusOutput>,
    /// `GetPublicAccessBlock` (absent: `NoSuchPublicAccessBlockConfiguration`).
    pub public_access_block: Detail<GetPublicAccessBlockOutput>,
    /// `GetBucketAcl`.
    pub acl: Detail<GetBucketAclOutput>,
    /// `GetBucketEncryption` (absent: `ServerSideEncryptionConfigurationNotFoundError`).
    pub encryption: Detail<GetBucketEncryptionOutput>,
    /// `GetBucketVersioning`.
    pub versioning: Detail<GetBucketVersioningOutput>,
    /// `GetBucketLogging`.
    pub logging: Detail<GetBucketLoggingOutput>,
    /// `GetBucketOwnershipControls` (absent: `OwnershipControlsNotFoundError`).
    pub ownership_controls: Detail<GetBucketOwnershipControlsOutput>,
    /// `GetBucketTagging` (absent: `NoSuchTagSet`).
    pub tagging: Detail<GetBucketTaggingOutput>,
    /// `GetBucketLifecycleConfiguration` (absent: `NoSuchLifecycleConfiguration`).
    pub lifecycle: Detail<GetBucketLifecycleConfigurationOutput>,
    /// `GetObjectLockConfiguration` (absent: `ObjectLockConfigurationNotFoundError`).
    pub object_lock: Detail<GetObjectLockConfigurationOutput>,
    /// `GetBucketNotificationConfiguration`.
    pub notifications: Detail<GetBucketNotificationConfigurationOutput>,
    /// `GetBucketReplication` (absent: `ReplicationConfigurationNotFoundError`).
    pub replication: Detail<GetBucketReplicationOutput>,
}

impl Collector for S3 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            futures::join!(
                collect_account_public_access_block(ctx),
                collect_buckets(ctx)
            );
        })
    }
}

/// Account-level Block Public Access (S3 Control), always one asset.
async fn collect_account_public_access_block(ctx: &CollectContext<'_>) {
    let client = ctx.access().s3control(ctx.region());
    let result = ctx
        .call_optional(
            ACCOUNT_PUBLIC_ACCESS_BLOCK_OPERATION,
            &["NoSuchPublicAccessBlockConfiguration"],
            client
                .get_public_access_block()
                .account_id(ctx.account())
                .send(),
        )
        .await;
    ctx.emit(account_public_access_block_asset(
        ctx.account(),
        ctx.region(),
        &result,
    ));
}

/// Lists buckets, locates them, and reads each one in the scanned regions.
async fn collect_buckets(ctx: &CollectContext<'_>) {
    let home = ctx.access().s3(ctx.region());
    let Ok(pages) = ctx
        .pages(
            "ListBuckets",
            home.list_buckets()
                .max_buckets(MAX_BUCKETS)
                .into_paginator()
                .send(),
        )
        .await
    else {
        return;
    };
    let buckets: Vec<Bucket> = pages
        .into_iter()
        .flat_map(|page| page.buckets.unwrap_or_default())
        .collect();

    let located: Vec<Option<(Bucket, String)>> = futures::stream::iter(buckets)
        .map(|bucket| {
            let home = &home;
            async move {
                let region = bucket_region(ctx, home, &bucket).await?;
                Some((bucket, region))
            }
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;

    let mut clients: BTreeMap<String, aws_sdk_s3::Client> = BTreeMap::new();
    let mut in_scope = Vec::new();
    for (bucket, region) in located.into_iter().flatten() {
        if !ctx.scan_regions().contains(&region) {
            continue;
        }
        let client = clients
            .entry(region.clone())
            .or_insert_with(|| ctx.access().s3(&region))
            .clone();
        in_scope.push((bucket, region, client));
    }

    let assets: Vec<Option<Asset>> = futures::stream::iter(in_scope)
        .map(|(bucket, region, client)| async move {
            let name = bucket.name().unwrap_or_default();
            let details = bucket_details(ctx, &client, &region, name).await?;
            Some(bucket_asset(ctx.account(), &bucket, &region, &details))
        })
        .buffer_unordered(ctx.concurrency())
        .collect()
        .await;
    for asset in assets.into_iter().flatten() {
        ctx.emit(asset);
    }
}

/// The bucket's region: from the listing, else `GetBucketLocation` (a
/// failure is a gap, and the bucket, whose region is unknown, is skipped).
async fn bucket_region(
    ctx: &CollectContext<'_>,
    home: &aws_sdk_s3::Client,
    bucket: &Bucket,
) -> Option<String> {
    if let Some(region) = bucket.bucket_region().filter(|r| !r.is_empty()) {
        return Some(region.to_owned());
    }
    let name = bucket.name()?;
    let out = ctx
        .call(
            "GetBucketLocation",
            home.get_bucket_location().bucket(name).send(),
        )
        .await
        .ok()?;
    Some(location_region(out.location_constraint()))
}

/// Reads one bucket in its region. `None`: the bucket no longer exists.
async fn bucket_details(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_s3::Client,
    region: &str,
    name: &str,
) -> Option<BucketDetails> {
    let acl = ctx
        .call_optional_in(
            region,
            "GetBucketAcl",
            &["NoSuchBucket"],
            client.get_bucket_acl().bucket(name).send(),
        )
        .await;
    if matches!(acl, Ok(None)) {
        return None;
    }

    let policy = async {
        let policy = ctx
            .call_optional_in(
                region,
                "GetBucketPolicy",
                &["NoSuchBucketPolicy"],
                client.get_bucket_policy().bucket(name).send(),
            )
            .await;
        let status = if matches!(policy, Ok(None)) {
            Ok(None)
        } else {
            ctx.call_optional_in(
                region,
                "GetBucketPolicyStatus",
                &["NoSuchBucketPolicy"],
                client.get_bucket_policy_status().bucket(name).send(),
            )
            .await
        };
        (policy, status)
    };
    let (
        (policy, policy_status),
        public_access_block,
        encryption,
        versioning,
        logging,
        ownership_controls,
        tagging,
        lifecycle,
        object_lock,
        notifications,
        replication,
    ) = futures::join!(
        policy,
        ctx.call_optional_in(
            region,
            "GetPublicAccessBlock",
            &["NoSuchPublicAccessBlockConfiguration"],
            client.get_public_access_block().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketEncryption",
            &["ServerSideEncryptionConfigurationNotFoundError"],
            client.get_bucket_encryption().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketVersioning",
            &[],
            client.get_bucket_versioning().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketLogging",
            &[],
            client.get_bucket_logging().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketOwnershipControls",
            &["OwnershipControlsNotFoundError"],
            client.get_bucket_ownership_controls().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketTagging",
            &["NoSuchTagSet"],
            client.get_bucket_tagging().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketLifecycleConfiguration",
            &["NoSuchLifecycleConfiguration"],
            client
                .get_bucket_lifecycle_configuration()
                .bucket(name)
                .send(),
        ),
        ctx.call_optional_in(
            region,
            "GetObjectLockConfiguration",
            &["ObjectLockConfigurationNotFoundError"],
            client.get_object_lock_configuration().bucket(name).send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketNotificationConfiguration",
            &[],
            client
                .get_bucket_notification_configuration()
                .bucket(name)
                .send(),
        ),
        ctx.call_optional_in(
            region,
            "GetBucketReplication",
            &["ReplicationConfigurationNotFoundError"],
            client.get_bucket_replication().bucket(name).send(),
        ),
    );
    Some(BucketDetails {
        policy,
        policy_status,
        public_access_block,
        acl,
        encryption,
        versioning,
        logging,
        ownership_controls,
        tagging,
        lifecycle,
        object_lock,
        notifications,
        replication,
    })
}

/// The region of a bucket from `GetBucketLocation`'s `LocationConstraint`:
/// none or empty means `us-east-1`, the legacy `EU` means `eu-west-1`.
pub fn location_region(constraint: Option<&BucketLocationConstraint>) -> String {
    match constraint.map(BucketLocationConstraint::as_str) {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(region) => region.to_owned(),
    }
}

/// Sets `key` from one read: the mapped value when read, `absent` when not
/// configured, `null` and unavailable when the read failed.
fn set_detail<T>(
    asset: &mut Asset,
    key: &str,
    detail: &Detail<T>,
    absent: Value,
    map: impl FnOnce(&T) -> Value,
) {
    match detail {
        Ok(Some(out)) => asset.set_property(key, map(out)),
        Ok(None) => asset.set_property(key, absent),
        Err(failure) => {
            asset.set_property(key, Value::Null);
            asset.mark_unavailable(key, failure.to_string());
        }
    }
}

/// The bucket asset (`AWS::S3::Bucket`).
///
/// Properties: `creationDate`, `region`, `policy` (parsed JSON or `null`),
/// `policyIsPublic`, `publicAccessBlock` (object or `null`), `acl`
/// (`{owner, grants[{grantee{type, uri, id, displayName, emailAddress},
/// permission}]}`), `aclAllowsPublic` (a grant to AllUsers or
/// AuthenticatedUsers), `encryption` (`{rules[…]}` or `null`), `versioning`
/// (`{status, mfaDelete}`; `status: null` means never enabled), `logging`
/// (`{targetBucket, targetPrefix}` or `null`), `ownershipControls`
/// (`{rules[{objectOwnership}]}` or `null`), `lifecycle` (`{rules[…]}` or
/// `null`), `objectLock` (object or `null`), `notifications` (always an
/// object; empty lists when none), `replication` (`{role, rules[…]}` or
/// `null`). A failed read leaves its property `null` and marks it
/// unavailable (`tags` too, for `GetBucketTagging`).
pub fn bucket_asset(
    account: &str,
    bucket: &Bucket,
    region: &str,
    details: &BucketDetails,
) -> Asset {
    let name = bucket.name().unwrap_or_default();
    let mut asset = Asset::new(
        format!("arn:aws:s3:::{name}"),
        "AWS::S3::Bucket",
        account,
        region,
        name,
        json!({
            "creationDate": opt_timestamp(bucket.creation_date()),
            "region": region,
        }),
    );

    set_detail(&mut asset, "policy", &details.policy, Value::Null, |out| {
        out.policy().map_or(Value::Null, policy_document)
    });
    match (&details.policy, &details.policy_status) {
        // No policy: nothing in it can be public.
        (Ok(None), _) | (_, Ok(None)) => asset.set_property("policyIsPublic", Value::Bool(false)),
        (_, Ok(Some(out))) => match out.policy_status().and_then(|s| s.is_public()) {
            Some(public) => asset.set_property("policyIsPublic", Value::Bool(public)),
            None => {
                asset.set_property("policyIsPublic", Value::Null);
                asset.mark_unavailable("policyIsPublic", "the policy status has no IsPublic");
            }
        },
        (_, Err(failure)) => {
            asset.set_property("policyIsPublic", Value::Null);
            asset.mark_unavailable("policyIsPublic", failure.to_string());
        }
    }
    set_detail(
        &mut asset,
        "publicAccessBlock",
        &details.public_access_block,
        Value::Null,
        |out| {
            out.public_access_block_configuration()
                .map_or(Value::Null, |c| {
                    public_access_block_json(
                        c.block_public_acls(),
                        c.ignore_public_acls(),
                        c.block_public_policy(),
                        c.restrict_public_buckets(),
                    )
                })
        },
    );
    set_detail(&mut asset, "acl", &details.acl, Value::Null, acl_json);
    set_detail(
        &mut asset,
        "aclAllowsPublic",
        &details.acl,
        Value::Null,
        |out| Value::Bool(out.grants().iter().any(grant_is_public)),
    );
    set_detail(
        &mut asset,
        "encryption",
        &details.encryption,
        Value::Null,
        |out| {
            out.server_side_encryption_configuration()
                .map_or(Value::Null, |config| {
                    let rules: Vec<Value> = config
                .rules()
                .iter()
                .map(|rule| {
                    let default = rule.apply_server_side_encryption_by_default();
                    json!({
                        "sseAlgorithm": opt_str(default.map(|d| d.sse_algorithm().as_str())),
                        "kmsMasterKeyId": opt_str(default.and_then(|d| d.kms_master_key_id())),
                        "bucketKeyEnabled": rule.bucket_key_enabled().unwrap_or(false),
                        "blockedEncryptionTypes": rule.blocked_encryption_types().map_or(
                            Value::Null,
                            |b| Value::Array(
                                b.encryption_type()
                                    .iter()
                                    .map(|t| Value::String(t.as_str().to_owned()))
                                    .collect(),
                            ),
                        ),
                    })
                })
                .collect();
                    json!({ "rules": rules })
                })
        },
    );
    set_detail(
        &mut asset,
        "versioning",
        &details.versioning,
        Value::Null,
        |out| {
            json!({
                "status": opt_str(out.status().map(|s| s.as_str())),
                "mfaDelete": opt_str(out.mfa_delete().map(|s| s.as_str())),
            })
        },
    );
    set_detail(
        &mut asset,
        "logging",
        &details.logging,
        Value::Null,
        |out| {
            out.logging_enabled().map_or(
                Value::Null,
                |l| json!({ "targetBucket": l.target_bucket(), "targetPrefix": l.target_prefix() }),
            )
        },
    );
    set_detail(
        &mut asset,
        "ownershipControls",
        &details.ownership_controls,
        Value::Null,
        |out| {
            out.ownership_controls().map_or(Value::Null, |c| {
                let rules: Vec<Value> = c
                    .rules()
                    .iter()
                    .map(|r| json!({ "objectOwnership": r.object_ownership().as_str() }))
                    .collect();
                json!({ "rules": rules })
            })
        },
    );
    set_detail(
        &mut asset,
        "lifecycle",
        &details.lifecycle,
        Value::Null,
        |out| {
            let rules: Vec<Value> = out.rules().iter().map(lifecycle_rule_json).collect();
            json!({ "rules": rules })
        },
    );
    set_detail(
        &mut asset,
        "objectLock",
        &details.object_lock,
        Value::Null,
        |out| {
            out.object_lock_configuration().map_or(Value::Null, |c| {
                let retention = c.rule().and_then(|r| r.default_retention());
                json!({
                    "objectLockEnabled": opt_str(c.object_lock_enabled().map(|e| e.as_str())),
                    "rule": retention.map_or(Value::Null, |d| json!({
                        "defaultRetention": {
                            "mode": opt_str(d.mode().map(|m| m.as_str())),
                            "days": d.days(),
                            "years": d.years(),
                        }
                    })),
                })
            })
        },
    );
    set_detail(
        &mut asset,
        "notifications",
        &details.notifications,
        Value::Null,
        notifications_json,
    );
    set_detail(
        &mut asset,
        "replication",
        &details.replication,
        Value::Null,
        |out| {
            out.replication_configuration().map_or(Value::Null, |c| {
                let rules: Vec<Value> = c.rules().iter().map(replication_rule_json).collect();
                json!({ "role": c.role(), "rules": rules })
            })
        },
    );

    match &details.tagging {
        Ok(Some(out)) => {
            asset.tags = tag_map(
                out.tag_set()
                    .iter()
                    .map(|t| (Some(t.key()), Some(t.value()))),
            );
        }
        Ok(None) => {}
        Err(failure) => asset.mark_unavailable("tags", failure.to_string()),
    }
    asset
}

/// Block Public Access flags as JSON; an unset flag is off.
fn public_access_block_json(
    block_public_acls: Option<bool>,
    ignore_public_acls: Option<bool>,
    block_public_policy: Option<bool>,
    restrict_public_buckets: Option<bool>,
) -> Value {
    json!({
        "blockPublicAcls": block_public_acls.unwrap_or(false),
        "ignorePublicAcls": ignore_public_acls.unwrap_or(false),
        "blockPublicPolicy": block_public_policy.unwrap_or(false),
        "restrictPublicBuckets": restrict_public_buckets.unwrap_or(false),
    })
}

/// Whether a grant is to everyone or to every authenticated AWS user.
fn grant_is_public(grant: &Grant) -> bool {
    grant
        .grantee()
        .and_then(|g| g.uri())
        .is_some_and(|uri| PUBLIC_GROUPS.contains(&uri))
}

fn acl_json(out: &GetBucketAclOutput) -> Value {
    let grants: Vec<Value> = out
        .grants()
        .iter()
        .map(|grant| {
            let grantee = grant.grantee().map_or(Value::Null, |g| {
                json!({
                    "type": g.r#type().as_str(),
                    "uri": opt_str(g.uri()),
                    "id": opt_str(g.id()),
                    "displayName": opt_str(g.display_name()),
                    "emailAddress": opt_str(g.email_address()),
                })
            });
            json!({
                "grantee": grantee,
                "permission": opt_str(grant.permission().map(|p| p.as_str())),
            })
        })
        .collect();
    json!({
        "owner": out.owner().map_or(Value::Null, |o| json!({
            "id": opt_str(o.id()),
            "displayName": opt_str(o.display_name()),
        })),
        "grants": grants,
    })
}

fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({ "key": t.key(), "value": t.value() }))
            .collect(),
    )
}

fn lifecycle_filter_json(filter: &LifecycleRuleFilter) -> Value {
    json!({
        "prefix": opt_str(filter.prefix()),
        "tag": filter.tag().map_or(Value::Null, |t| json!({ "key": t.key(), "value": t.value() })),
        "objectSizeGreaterThan": filter.object_size_greater_than(),
        "objectSizeLessThan": filter.object_size_less_than(),
        "and": filter.and().map_or(Value::Null, |a| json!({
            "prefix": opt_str(a.prefix()),
            "tags": tags_json(a.tags()),
            "objectSizeGreaterThan": a.object_size_greater_than(),
            "objectSizeLessThan": a.object_size_less_than(),
        })),
    })
}

#[expect(
    deprecated,
    reason = "rules written before filters carry their scope in the legacy `Prefix`"
)]
fn lifecycle_rule_json(rule: &LifecycleRule) -> Value {
    let transitions: Vec<Value> = rule
        .transitions()
        .iter()
        .map(|t| {
            json!({
                "days": t.days(),
                "date": opt_timestamp(t.date()),
                "storageClass": opt_str(t.storage_class().map(|s| s.as_str())),
            })
        })
        .collect();
    let noncurrent_transitions: Vec<Value> = rule
        .noncurrent_version_transitions()
        .iter()
        .map(|t| {
            json!({
                "noncurrentDays": t.noncurrent_days(),
                "newerNoncurrentVersions": t.newer_noncurrent_versions(),
                "storageClass": opt_str(t.storage_class().map(|s| s.as_str())),
            })
        })
        .collect();
    json!({
        "id": opt_str(rule.id()),
        "status": rule.status().as_str(),
        "prefix": opt_str(rule.prefix()),
        "filter": rule.filter().map_or(Value::Null, lifecycle_filter_json),
        "expiration": rule.expiration().map_or(Value::Null, |e| json!({
            "days": e.days(),
            "date": opt_timestamp(e.date()),
            "expiredObjectDeleteMarker": e.expired_object_delete_marker(),
        })),
        "transitions": transitions,
        "noncurrentVersionTransitions": noncurrent_transitions,
        "noncurrentVersionExpiration": rule.noncurrent_version_expiration().map_or(Value::Null, |e| json!({
            "noncurrentDays": e.noncurrent_days(),
            "newerNoncurrentVersions": e.newer_noncurrent_versions(),
        })),
        "abortIncompleteMultipartUpload": rule.abort_incomplete_multipart_upload().map_or(
            Value::Null,
            |a| json!({ "daysAfterInitiation": a.days_after_initiation() }),
        ),
    })
}

fn events_json(events: &[Event]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|e| Value::String(e.as_str().to_owned()))
            .collect(),
    )
}

fn notifications_json(out: &GetBucketNotificationConfigurationOutput) -> Value {
    let topics: Vec<Value> = out
        .topic_configurations()
        .iter()
        .map(|c| json!({ "id": opt_str(c.id()), "topicArn": c.topic_arn(), "events": events_json(c.events()) }))
        .collect();
    let queues: Vec<Value> = out
        .queue_configurations()
        .iter()
        .map(|c| json!({ "id": opt_str(c.id()), "queueArn": c.queue_arn(), "events": events_json(c.events()) }))
        .collect();
    let lambdas: Vec<Value> = out
        .lambda_function_configurations()
        .iter()
        .map(|c| {
            json!({
                "id": opt_str(c.id()),
                "lambdaFunctionArn": c.lambda_function_arn(),
                "events": events_json(c.events()),
            })
        })
        .collect();
    json!({
        "topicConfigurations": topics,
        "queueConfigurations": queues,
        "lambdaFunctionConfigurations": lambdas,
        "eventBridgeEnabled": out.event_bridge_configuration().is_some(),
    })
}

#[expect(
    deprecated,
    reason = "V1 replication rules carry their scope in the legacy `Prefix`"
)]
fn replication_rule_json(rule: &ReplicationRule) -> Value {
    json!({
        "id": opt_str(rule.id()),
        "priority": rule.priority(),
        "status": rule.status().as_str(),
        "prefix": opt_str(rule.prefix()),
        "filter": rule.filter().map_or(Value::Null, |f| json!({
            "prefix": opt_str(f.prefix()),
            "tag": f.tag().map_or(Value::Null, |t| json!({ "key": t.key(), "value": t.value() })),
            "and": f.and().map_or(Value::Null, |a| json!({
                "prefix": opt_str(a.prefix()),
                "tags": tags_json(a.tags()),
            })),
        })),
        "destination": rule.destination().map_or(Value::Null, |d| json!({
            "bucket": d.bucket(),
            "account": opt_str(d.account()),
            "storageClass": opt_str(d.storage_class().map(|s| s.as_str())),
            "encryptionConfiguration": d.encryption_configuration().map_or(
                Value::Null,
                |e| json!({ "replicaKmsKeyId": opt_str(e.replica_kms_key_id()) }),
            ),
            "replicationTime": opt_str(d.replication_time().map(|t| t.status().as_str())),
            "metrics": opt_str(d.metrics().map(|m| m.status().as_str())),
        })),
        "deleteMarkerReplication": opt_str(
            rule.delete_marker_replication().and_then(|d| d.status()).map(|s| s.as_str()),
        ),
        "existingObjectReplication": opt_str(
            rule.existing_object_replication().map(|e| e.status().as_str()),
        ),
        "sseKmsEncryptedObjects": opt_str(
            rule.source_selection_criteria()
                .and_then(|c| c.sse_kms_encrypted_objects())
                .map(|s| s.status().as_str()),
        ),
    })
}

/// The account-level Block Public Access asset
/// ([`types::S3_ACCOUNT_PUBLIC_ACCESS_BLOCK`]), one per account, in the home
/// region. Properties: `configured` and the four flags (all `false` when not
/// configured). When the read failed, every property is `null` and
/// unavailable.
pub fn account_public_access_block_asset(
    account: &str,
    home_region: &str,
    result: &Detail<AccountPublicAccessBlockOutput>,
) -> Asset {
    let keys = [
        "configured",
        "blockPublicAcls",
        "ignorePublicAcls",
        "blockPublicPolicy",
        "restrictPublicBuckets",
    ];
    let mut asset = Asset::new(
        setting_id(
            "s3",
            home_region,
            account,
            ACCOUNT_PUBLIC_ACCESS_BLOCK_SETTING,
        ),
        types::S3_ACCOUNT_PUBLIC_ACCESS_BLOCK,
        account,
        home_region,
        ACCOUNT_PUBLIC_ACCESS_BLOCK_SETTING,
        json!({}),
    );
    match result {
        Ok(Some(out)) => {
            let config = out.public_access_block_configuration();
            let mut props = public_access_block_json(
                config.and_then(|c| c.block_public_acls()),
                config.and_then(|c| c.ignore_public_acls()),
                config.and_then(|c| c.block_public_policy()),
                config.and_then(|c| c.restrict_public_buckets()),
            );
            if let Some(map) = props.as_object_mut() {
                map.insert("configured".to_owned(), Value::Bool(true));
            }
            asset.properties = props;
        }
        Ok(None) => {
            let mut props = public_access_block_json(None, None, None, None);
            if let Some(map) = props.as_object_mut() {
                map.insert("configured".to_owned(), Value::Bool(false));
            }
            asset.properties = props;
        }
        Err(failure) => {
            for key in keys {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::{
        BucketVersioningStatus, DefaultRetention, Destination, EventBridgeConfiguration,
        ExpirationStatus, Grantee, LifecycleExpiration, LoggingEnabled, MfaDeleteStatus,
        ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule,
        ObjectOwnership, Owner, OwnershipControls, OwnershipControlsRule, Permission, PolicyStatus,
        PublicAccessBlockConfiguration, ReplicationConfiguration, ReplicationRuleStatus,
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule, TopicConfiguration, Transition, TransitionStorageClass, Type,
    };
    use rampart_model::GapKind;

    const OWNER_ID: &str = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";

    fn denied(operation: &str) -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDenied".into()),
            message: format!("AccessDenied: not allowed to {operation}"),
        }
    }

    fn listed(name: &str) -> Bucket {
        Bucket::builder()
            .name(name)
            .creation_date(aws_smithy_types::DateTime::from_secs(1_700_000_000))
            .build()
    }

    fn owner_grant() -> Grant {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::CanonicalUser)
                    .id(OWNER_ID)
                    .build()
                    .unwrap(),
            )
            .permission(Permission::FullControl)
            .build()
    }

    fn acl(extra: Option<Grant>) -> GetBucketAclOutput {
        let mut builder = GetBucketAclOutput::builder()
            .owner(
                Owner::builder()
                    .id(OWNER_ID)
                    .display_name("webfile")
                    .build(),
            )
            .grants(owner_grant());
        if let Some(grant) = extra {
            builder = builder.grants(grant);
        }
        builder.build()
    }

    /// What moto answers for a fresh bucket: nothing configured.
    fn unconfigured() -> BucketDetails {
        BucketDetails {
            policy: Ok(None),
            policy_status: Ok(None),
            public_access_block: Ok(None),
            acl: Ok(Some(acl(None))),
            encryption: Ok(None),
            versioning: Ok(Some(GetBucketVersioningOutput::builder().build())),
            logging: Ok(Some(GetBucketLoggingOutput::builder().build())),
            ownership_controls: Ok(None),
            tagging: Ok(None),
            lifecycle: Ok(None),
            object_lock: Ok(None),
            notifications: Ok(Some(
                GetBucketNotificationConfigurationOutput::builder().build(),
            )),
            replication: Ok(None),
        }
    }

    #[test]
    fn location_constraints_map_to_regions() {
        assert_eq!(location_region(None), "us-east-1");
        assert_eq!(
            location_region(Some(&BucketLocationConstraint::from(""))),
            "us-east-1"
        );
        assert_eq!(
            location_region(Some(&BucketLocationConstraint::Eu)),
            "eu-west-1"
        );
        assert_eq!(
            location_region(Some(&BucketLocationConstraint::from("EU"))),
            "eu-west-1"
        );
        assert_eq!(
            location_region(Some(&BucketLocationConstraint::UsWest2)),
            "us-west-2"
        );
        assert_eq!(
            location_region(Some(&BucketLocationConstraint::from("ap-southeast-9"))),
            "ap-southeast-9"
        );
    }

    #[test]
    fn unconfigured_bucket_maps_to_nulls_and_falses() {
        let asset = bucket_asset(
            "123456789012",
            &listed("plain"),
            "eu-west-1",
            &unconfigured(),
        );
        assert_eq!(asset.arn, "arn:aws:s3:::plain");
        assert_eq!(asset.resource_type, "AWS::S3::Bucket");
        assert_eq!(asset.region, "eu-west-1");
        assert_eq!(asset.name, "plain");
        assert!(asset.tags.is_empty());
        assert!(asset.unavailable.is_empty(), "{:?}", asset.unavailable);
        let p = &asset.properties;
        assert_eq!(p["creationDate"], "2023-11-14T22:13:20Z");
        assert_eq!(p["region"], "eu-west-1");
        assert_eq!(p["policy"], Value::Null);
        assert_eq!(p["policyIsPublic"], false);
        assert_eq!(p["publicAccessBlock"], Value::Null);
        assert_eq!(p["aclAllowsPublic"], false);
        assert_eq!(p["acl"]["owner"]["id"], OWNER_ID);
        assert_eq!(p["acl"]["grants"][0]["grantee"]["type"], "CanonicalUser");
        assert_eq!(p["acl"]["grants"][0]["permission"], "FULL_CONTROL");
        assert_eq!(p["encryption"], Value::Null);
        assert_eq!(
            p["versioning"],
            json!({ "status": null, "mfaDelete": null })
        );
        assert_eq!(p["logging"], Value::Null);
        assert_eq!(p["ownershipControls"], Value::Null);
        assert_eq!(p["lifecycle"], Value::Null);
        assert_eq!(p["objectLock"], Value::Null);
        assert_eq!(p["replication"], Value::Null);
        assert_eq!(
            p["notifications"],
            json!({
                "topicConfigurations": [],
                "queueConfigurations": [],
                "lambdaFunctionConfigurations": [],
                "eventBridgeEnabled": false,
            })
        );
    }

    #[test]
    fn public_bucket_is_flagged() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::open/*"}]}"#;
        let all_users = Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::Group)
                    .uri("http://acs.amazonaws.com/groups/global/AllUsers")
                    .build()
                    .unwrap(),
            )
            .permission(Permission::Read)
            .build();
        let details = BucketDetails {
            policy: Ok(Some(
                GetBucketPolicyOutput::builder().policy(policy).build(),
            )),
            policy_status: Ok(Some(
                GetBucketPolicyStatusOutput::builder()
                    .policy_status(PolicyStatus::builder().is_public(true).build())
                    .build(),
            )),
            public_access_block: Ok(Some(
                GetPublicAccessBlockOutput::builder()
                    .public_access_block_configuration(
                        PublicAccessBlockConfiguration::builder()
                            .block_public_acls(false)
                            .ignore_public_acls(false)
                            .block_public_policy(false)
                            .restrict_public_buckets(false)
                            .build(),
                    )
                    .build(),
            )),
            acl: Ok(Some(acl(Some(all_users)))),
            ..unconfigured()
        };
        let asset = bucket_asset("123456789012", &listed("open"), "us-east-1", &details);
        let p = &asset.properties;
        assert_eq!(p["policy"]["Statement"][0]["Principal"], "*");
        assert_eq!(p["policyIsPublic"], true);
        assert_eq!(
            p["publicAccessBlock"],
            json!({
                "blockPublicAcls": false,
                "ignorePublicAcls": false,
                "blockPublicPolicy": false,
                "restrictPublicBuckets": false,
            })
        );
        assert_eq!(p["aclAllowsPublic"], true);
        let grant = &p["acl"]["grants"][1];
        assert_eq!(grant["grantee"]["type"], "Group");
        assert_eq!(
            grant["grantee"]["uri"],
            "http://acs.amazonaws.com/groups/global/AllUsers"
        );
        assert_eq!(grant["grantee"]["id"], Value::Null);
        assert_eq!(grant["permission"], "READ");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn authenticated_users_grant_is_public_but_log_delivery_is_not() {
        let group = |uri: &str| {
            Grant::builder()
                .grantee(
                    Grantee::builder()
                        .r#type(Type::Group)
                        .uri(uri)
                        .build()
                        .unwrap(),
                )
                .permission(Permission::Write)
                .build()
        };
        assert!(grant_is_public(&group(
            "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
        )));
        assert!(!grant_is_public(&group(
            "http://acs.amazonaws.com/groups/s3/LogDelivery"
        )));
        assert!(!grant_is_public(&owner_grant()));
    }

    #[test]
    fn hardened_bucket_maps_every_setting() {
        let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
        let details = BucketDetails {
            policy: Ok(Some(
                GetBucketPolicyOutput::builder()
                    .policy(r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#)
                    .build(),
            )),
            policy_status: Ok(Some(
                GetBucketPolicyStatusOutput::builder()
                    .policy_status(PolicyStatus::builder().is_public(false).build())
                    .build(),
            )),
            public_access_block: Ok(Some(
                GetPublicAccessBlockOutput::builder()
                    .public_access_block_configuration(
                        PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .build(),
            )),
            encryption: Ok(Some(
                GetBucketEncryptionOutput::builder()
                    .server_side_encryption_configuration(
                        ServerSideEncryptionConfiguration::builder()
                            .rules(
                                ServerSideEncryptionRule::builder()
                                    .apply_server_side_encryption_by_default(
                                        ServerSideEncryptionByDefault::builder()
                                            .sse_algorithm(ServerSideEncryption::AwsKms)
                                            .kms_master_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
                                            .build()
                                            .unwrap(),
                                    )
                                    .bucket_key_enabled(true)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )),
            versioning: Ok(Some(
                GetBucketVersioningOutput::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .mfa_delete(MfaDeleteStatus::Enabled)
                    .build(),
            )),
            logging: Ok(Some(
                GetBucketLoggingOutput::builder()
                    .logging_enabled(
                        LoggingEnabled::builder()
                            .target_bucket("logs")
                            .target_prefix("hardened/")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )),
            ownership_controls: Ok(Some(
                GetBucketOwnershipControlsOutput::builder()
                    .ownership_controls(
                        OwnershipControls::builder()
                            .rules(
                                OwnershipControlsRule::builder()
                                    .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )),
            tagging: Ok(Some(
                GetBucketTaggingOutput::builder()
                    .tag_set(tag("env", "prod"))
                    .tag_set(tag("owner", "sec"))
                    .build()
                    .unwrap(),
            )),
            lifecycle: Ok(Some(
                GetBucketLifecycleConfigurationOutput::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("archive")
                            .status(ExpirationStatus::Enabled)
                            .filter(LifecycleRuleFilter::builder().prefix("logs/").build())
                            .expiration(LifecycleExpiration::builder().days(365).build())
                            .transitions(
                                Transition::builder()
                                    .days(30)
                                    .storage_class(TransitionStorageClass::Glacier)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )),
            object_lock: Ok(Some(
                GetObjectLockConfigurationOutput::builder()
                    .object_lock_configuration(
                        ObjectLockConfiguration::builder()
                            .object_lock_enabled(ObjectLockEnabled::Enabled)
                            .rule(
                                ObjectLockRule::builder()
                                    .default_retention(
                                        DefaultRetention::builder()
                                            .mode(ObjectLockRetentionMode::Governance)
                                            .days(30)
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )),
            notifications: Ok(Some(
                GetBucketNotificationConfigurationOutput::builder()
                    .topic_configurations(
                        TopicConfiguration::builder()
                            .id("t")
                            .topic_arn("arn:aws:sns:us-east-1:123456789012:events")
                            .events(Event::S3ObjectRemoved)
                            .build()
                            .unwrap(),
                    )
                    .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                    .build(),
            )),
            replication: Ok(Some(
                GetBucketReplicationOutput::builder()
                    .replication_configuration(
                        ReplicationConfiguration::builder()
                            .role("arn:aws:iam::123456789012:role/replication")
                            .rules(
                                ReplicationRule::builder()
                                    .id("dr")
                                    .priority(1)
                                    .status(ReplicationRuleStatus::Enabled)
                                    .destination(
                                        Destination::builder()
                                            .bucket("arn:aws:s3:::hardened-dr")
                                            .build()
                                            .unwrap(),
                                    )
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )),
            ..unconfigured()
        };
        let asset = bucket_asset("123456789012", &listed("hardened"), "us-east-1", &details);
        assert!(asset.unavailable.is_empty(), "{:?}", asset.unavailable);
        assert_eq!(asset.tags.get("env").map(String::as_str), Some("prod"));
        assert_eq!(asset.tags.len(), 2);
        let p = &asset.properties;
        assert_eq!(
            p["policy"]["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
            "false"
        );
        assert_eq!(p["policyIsPublic"], false);
        assert_eq!(p["publicAccessBlock"]["restrictPublicBuckets"], true);
        assert_eq!(p["publicAccessBlock"]["blockPublicAcls"], true);
        assert_eq!(p["aclAllowsPublic"], false);
        assert_eq!(
            p["encryption"],
            json!({ "rules": [{
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/k",
                "bucketKeyEnabled": true,
                "blockedEncryptionTypes": null,
            }]})
        );
        assert_eq!(
            p["versioning"],
            json!({ "status": "Enabled", "mfaDelete": "Enabled" })
        );
        assert_eq!(
            p["logging"],
            json!({ "targetBucket": "logs", "targetPrefix": "hardened/" })
        );
        assert_eq!(
            p["ownershipControls"],
            json!({ "rules": [{ "objectOwnership": "BucketOwnerEnforced" }] })
        );
        let rule = &p["lifecycle"]["rules"][0];
        assert_eq!(rule["id"], "archive");
        assert_eq!(rule["status"], "Enabled");
        assert_eq!(rule["filter"]["prefix"], "logs/");
        assert_eq!(rule["expiration"]["days"], 365);
        assert_eq!(
            rule["transitions"][0],
            json!({ "days": 30, "date": null, "storageClass": "GLACIER" })
        );
        assert_eq!(rule["noncurrentVersionExpiration"], Value::Null);
        assert_eq!(
            p["objectLock"],
            json!({
                "objectLockEnabled": "Enabled",
                "rule": { "defaultRetention": { "mode": "GOVERNANCE", "days": 30, "years": null } },
            })
        );
        assert_eq!(p["notifications"]["eventBridgeEnabled"], true);
        assert_eq!(
            p["notifications"]["topicConfigurations"][0],
            json!({
                "id": "t",
                "topicArn": "arn:aws:sns:us-east-1:123456789012:events",
                "events": ["s3:ObjectRemoved:*"],
            })
        );
        assert_eq!(
            p["replication"]["role"],
            "arn:aws:iam::123456789012:role/replication"
        );
        let repl = &p["replication"]["rules"][0];
        assert_eq!(repl["status"], "Enabled");
        assert_eq!(repl["priority"], 1);
        assert_eq!(repl["destination"]["bucket"], "arn:aws:s3:::hardened-dr");
        assert_eq!(repl["destination"]["encryptionConfiguration"], Value::Null);
    }

    #[test]
    fn failed_reads_are_unavailable_not_healthy() {
        let details = BucketDetails {
            policy: Err(denied("GetBucketPolicy")),
            policy_status: Err(denied("GetBucketPolicyStatus")),
            public_access_block: Err(denied("GetPublicAccessBlock")),
            acl: Err(denied("GetBucketAcl")),
            encryption: Err(denied("GetBucketEncryption")),
            tagging: Err(denied("GetBucketTagging")),
            replication: Err(denied("GetBucketReplication")),
            ..unconfigured()
        };
        let asset = bucket_asset("123456789012", &listed("locked"), "us-east-1", &details);
        let p = &asset.properties;
        for key in [
            "policy",
            "policyIsPublic",
            "publicAccessBlock",
            "acl",
            "aclAllowsPublic",
            "encryption",
            "replication",
        ] {
            assert_eq!(p[key], Value::Null, "{key}");
            assert!(
                asset.unavailable.contains_key(key),
                "{key} not marked unavailable"
            );
        }
        assert_eq!(
            asset.unavailable.get("acl").map(String::as_str),
            Some("AccessDenied: not allowed to GetBucketAcl")
        );
        assert!(asset.unavailable.contains_key("tags"));
        assert!(asset.tags.is_empty());
        // Reads that worked are still there.
        assert_eq!(p["versioning"]["status"], Value::Null);
        assert!(!asset.unavailable.contains_key("versioning"));
        assert_eq!(asset.unavailable.len(), 8);
    }

    #[test]
    fn policy_status_follows_the_policy() {
        // A policy that could not be read, but whose status could.
        let details = BucketDetails {
            policy: Err(denied("GetBucketPolicy")),
            policy_status: Ok(Some(
                GetBucketPolicyStatusOutput::builder()
                    .policy_status(PolicyStatus::builder().is_public(true).build())
                    .build(),
            )),
            ..unconfigured()
        };
        let asset = bucket_asset("1", &listed("b"), "us-east-1", &details);
        assert_eq!(asset.properties["policyIsPublic"], true);
        assert!(asset.unavailable.contains_key("policy"));
        assert!(!asset.unavailable.contains_key("policyIsPublic"));

        // A policy whose status says nothing (moto 5.2.1's `{}`): unknown, not private.
        let details = BucketDetails {
            policy: Ok(Some(GetBucketPolicyOutput::builder().policy("{}").build())),
            policy_status: Ok(Some(
                GetBucketPolicyStatusOutput::builder()
                    .policy_status(PolicyStatus::builder().build())
                    .build(),
            )),
            ..unconfigured()
        };
        let asset = bucket_asset("1", &listed("b"), "us-east-1", &details);
        assert_eq!(asset.properties["policyIsPublic"], Value::Null);
        assert!(asset.unavailable.contains_key("policyIsPublic"));
    }

    #[test]
    fn account_public_access_block_configured_absent_and_failed() {
        use aws_sdk_s3control::types::PublicAccessBlockConfiguration as AccountConfig;

        let configured = AccountPublicAccessBlockOutput::builder()
            .public_access_block_configuration(
                AccountConfig::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(false)
                    .build(),
            )
            .build();
        let asset =
            account_public_access_block_asset("123456789012", "us-east-1", &Ok(Some(configured)));
        assert_eq!(
            asset.arn,
            "arn:rampart:s3:us-east-1:123456789012:account-public-access-block"
        );
        assert_eq!(asset.resource_type, "Rampart::S3::AccountPublicAccessBlock");
        assert_eq!(asset.region, "us-east-1");
        assert_eq!(
            asset.properties,
            json!({
                "configured": true,
                "blockPublicAcls": true,
                "ignorePublicAcls": true,
                "blockPublicPolicy": true,
                "restrictPublicBuckets": false,
            })
        );
        assert!(asset.unavailable.is_empty());

        let asset = account_public_access_block_asset("123456789012", "us-east-1", &Ok(None));
        assert_eq!(asset.properties["configured"], false);
        assert_eq!(asset.properties["blockPublicPolicy"], false);
        assert!(asset.unavailable.is_empty());

        let asset = account_public_access_block_asset(
            "123456789012",
            "us-east-1",
            &Err(denied("GetPublicAccessBlock")),
        );
        assert_eq!(asset.properties["configured"], Value::Null);
        assert_eq!(asset.properties["restrictPublicBuckets"], Value::Null);
        assert_eq!(asset.unavailable.len(), 5);
    }

    #[test]
    fn meta_declares_both_public_access_block_operations() {
        let find = |service: &str, name: &str| {
            META.operations
                .iter()
                .find(|op| op.service == service && op.name == name)
                .map(|op| op.action)
        };
        assert_eq!(
            find("s3", "GetPublicAccessBlock"),
            Some("s3:GetBucketPublicAccessBlock")
        );
        assert_eq!(
            find("s3control", "GetPublicAccessBlock"),
            Some("s3:GetAccountPublicAccessBlock")
        );
        assert_eq!(find("s3", "ListBuckets"), Some("s3:ListAllMyBuckets"));
        assert_eq!(
            find("s3", "GetBucketEncryption"),
            Some("s3:GetEncryptionConfiguration")
        );
        assert!(META.resource_types.contains(&"AWS::S3::Bucket"));
        assert!(
            META.resource_types
                .contains(&types::S3_ACCOUNT_PUBLIC_ACCESS_BLOCK)
        );
    }
}
