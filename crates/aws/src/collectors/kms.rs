//! KMS: keys (`AWS::KMS::Key`) with their metadata, aliases and, for
//! customer-managed keys, rotation status, key policy and tags.
//!
//! Per region: `ListKeys` (1,000 a page) and `ListAliases` (100 a page)
//! once; per key `DescribeKey`; per customer-managed key also
//! `GetKeyRotationStatus`, `GetKeyPolicy` (policy `default`) and
//! `ListResourceTags`. AWS-managed keys (`alias/aws/*`) get no extra calls:
//! AWS rotates them yearly and owns their policies, so their
//! `keyRotationEnabled` and `policy` are `null` by design (not
//! unavailable) and checks should look at `keyManager`.

use std::collections::BTreeMap;

use aws_sdk_kms::operation::get_key_rotation_status::GetKeyRotationStatusOutput;
use aws_sdk_kms::types::{AliasListEntry, KeyManagerType, KeyMetadata};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, policy_document, str_list,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects KMS keys.
#[derive(Debug)]
pub struct Kms;

static META: CollectorMeta = CollectorMeta {
    service: "kms",
    scope: Scope::Regional,
    operations: &[
        op!("kms", "ListKeys"),
        op!("kms", "ListAliases"),
        op!("kms", "DescribeKey"),
        op!("kms", "GetKeyRotationStatus"),
        op!("kms", "GetKeyPolicy"),
        op!("kms", "ListResourceTags"),
    ],
    resource_types: &["AWS::KMS::Key"],
};

/// Properties that come from `DescribeKey`: all unavailable when it fails.
const METADATA_PROPERTIES: &[&str] = &[
    "keyManager",
    "keyState",
    "enabled",
    "keySpec",
    "keyUsage",
    "origin",
    "multiRegion",
    "keyRotationEnabled",
    "policy",
    "tags",
];

impl Collector for Kms {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().kms(ctx.region());
            let (keys, aliases) = futures::join!(
                ctx.pages(
                    "ListKeys",
                    client.list_keys().into_paginator().page_size(1000).send()
                ),
                ctx.pages(
                    "ListAliases",
                    client.list_aliases().into_paginator().page_size(100).send()
                ),
            );
            let Ok(keys) = keys else {
                return;
            };
            let aliases = aliases.map(|pages| alias_index(pages.iter().flat_map(|p| p.aliases())));
            let keys: Vec<(String, Option<String>)> = keys
                .iter()
                .flat_map(|p| p.keys())
                .filter_map(|k| {
                    k.key_id()
                        .map(|id| (id.to_owned(), k.key_arn().map(str::to_owned)))
                })
                .collect();
            let client = &client;
            let aliases = &aliases;
            futures::stream::iter(keys)
                .map(|(id, arn)| async move {
                    let asset = collect_key(ctx, client, &id, arn.as_deref(), aliases).await;
                    ctx.emit(asset);
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// Describes one key and, when customer-managed, reads its rotation
/// status, policy and tags.
async fn collect_key(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_kms::Client,
    id: &str,
    arn: Option<&str>,
    aliases: &Result<BTreeMap<String, Vec<String>>, CallFailure>,
) -> Asset {
    let key_aliases = aliases
        .as_ref()
        .map(|index| index.get(id).map(Vec::as_slice).unwrap_or_default());
    let described = ctx
        .call("DescribeKey", client.describe_key().key_id(id).send())
        .await;
    let metadata = described.as_ref().map_err(|f| f.clone()).and_then(|out| {
        out.key_metadata().cloned().ok_or_else(|| CallFailure {
            kind: rampart_model::GapKind::Other,
            code: None,
            message: "DescribeKey returned no key metadata".to_owned(),
        })
    });
    let customer = metadata
        .as_ref()
        .is_ok_and(|m| m.key_manager() == Some(&KeyManagerType::Customer));
    if !customer {
        return key_asset(
            ctx.account(),
            ctx.region(),
            id,
            arn,
            metadata.as_ref(),
            key_aliases,
            None,
        );
    }
    let (rotation, policy, tags) = futures::join!(
        ctx.call_optional(
            "GetKeyRotationStatus",
            &["UnsupportedOperationException"],
            client.get_key_rotation_status().key_id(id).send()
        ),
        ctx.call(
            "GetKeyPolicy",
            client
                .get_key_policy()
                .key_id(id)
                .policy_name("default")
                .send()
        ),
        ctx.pages(
            "ListResourceTags",
            client
                .list_resource_tags()
                .key_id(id)
                .into_paginator()
                .page_size(50)
                .send()
        ),
    );
    let tags = tags.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.tags())
            .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
            .collect::<BTreeMap<_, _>>()
    });
    let details = CustomerKeyDetails {
        rotation: rotation.as_ref().map(Option::as_ref),
        policy: policy.as_ref().map(|p| p.policy()),
        tags: tags.as_ref(),
    };
    key_asset(
        ctx.account(),
        ctx.region(),
        id,
        arn,
        metadata.as_ref(),
        key_aliases,
        Some(&details),
    )
}

/// Alias names by target key id, sorted.
pub fn alias_index<'e>(
    entries: impl IntoIterator<Item = &'e AliasListEntry>,
) -> BTreeMap<String, Vec<String>> {
    let mut index: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in entries {
        if let (Some(key), Some(name)) = (entry.target_key_id(), entry.alias_name()) {
            index
                .entry(key.to_owned())
                .or_default()
                .push(name.to_owned());
        }
    }
    for names in index.values_mut() {
        names.sort();
    }
    index
}

/// What is read only for customer-managed keys; each part either read or
/// the failure that prevented it.
#[derive(Debug)]
pub struct CustomerKeyDetails<'a> {
    /// `GetKeyRotationStatus`; `None` when the key type does not support it.
    pub rotation: Result<Option<&'a GetKeyRotationStatusOutput>, &'a CallFailure>,
    /// `GetKeyPolicy` (`default`): the policy text.
    pub policy: Result<Option<&'a str>, &'a CallFailure>,
    /// `ListResourceTags`.
    pub tags: Result<&'a BTreeMap<String, String>, &'a CallFailure>,
}

/// The `AWS::KMS::Key` asset. `details` is `None` for AWS-managed keys
/// (and keys that could not be described).
pub fn key_asset(
    account: &str,
    region: &str,
    key_id: &str,
    key_arn: Option<&str>,
    metadata: Result<&KeyMetadata, &CallFailure>,
    aliases: Result<&[String], &CallFailure>,
    details: Option<&CustomerKeyDetails<'_>>,
) -> Asset {
    let arn = metadata
        .ok()
        .and_then(KeyMetadata::arn)
        .or(key_arn)
        .map_or_else(
            || {
                format!(
                    "arn:{}:kms:{region}:{account}:key/{key_id}",
                    partition(region)
                )
            },
            str::to_owned,
        );
    let name = aliases
        .ok()
        .and_then(|a| a.first())
        .map_or(key_id, String::as_str);
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::KMS::Key",
        account,
        region,
        name,
        json!({
            "keyId": key_id,
            "arn": arn,
            "aliases": aliases.map_or(Value::Null, str_list),
        }),
    );
    match metadata {
        Ok(m) => {
            if let Value::Object(extra) = metadata_json(m) {
                for (key, value) in extra {
                    asset.set_property(&key, value);
                }
            }
        }
        Err(failure) => {
            for key in METADATA_PROPERTIES {
                if *key != "tags" {
                    asset.set_property(key, Value::Null);
                }
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    if let Err(failure) = aliases {
        asset.mark_unavailable("aliases", failure.to_string());
    }
    if metadata.is_ok() {
        match details {
            None => {
                asset.set_property("keyRotationEnabled", Value::Null);
                asset.set_property("policy", Value::Null);
            }
            Some(details) => apply_customer_details(&mut asset, details),
        }
    }
    asset
}

fn apply_customer_details(asset: &mut Asset, details: &CustomerKeyDetails<'_>) {
    match details.rotation {
        Ok(Some(rotation)) => {
            asset.set_property(
                "keyRotationEnabled",
                Value::Bool(rotation.key_rotation_enabled()),
            );
            asset.set_property(
                "rotationPeriodInDays",
                json!(rotation.rotation_period_in_days()),
            );
            asset.set_property(
                "nextRotationDate",
                opt_timestamp(rotation.next_rotation_date()),
            );
        }
        Ok(None) => asset.set_property("keyRotationEnabled", Value::Null),
        Err(failure) => {
            asset.set_property("keyRotationEnabled", Value::Null);
            asset.mark_unavailable("keyRotationEnabled", failure.to_string());
        }
    }
    match details.policy {
        Ok(policy) => asset.set_property("policy", policy.map_or(Value::Null, policy_document)),
        Err(failure) => {
            asset.set_property("policy", Value::Null);
            asset.mark_unavailable("policy", failure.to_string());
        }
    }
    match details.tags {
        Ok(tags) => asset.tags = tags.clone(),
        Err(failure) => asset.mark_unavailable("tags", failure.to_string()),
    }
}

fn metadata_json(m: &KeyMetadata) -> Value {
    let multi_region = m.multi_region_configuration();
    json!({
        "description": opt_str(m.description()),
        "keyManager": opt_str(m.key_manager().map(|v| v.as_str())),
        "keyState": opt_str(m.key_state().map(|v| v.as_str())),
        "enabled": m.enabled(),
        "keySpec": opt_str(m.key_spec().map(|v| v.as_str())),
        "keyUsage": opt_str(m.key_usage().map(|v| v.as_str())),
        "origin": opt_str(m.origin().map(|v| v.as_str())),
        "multiRegion": m.multi_region(),
        "multiRegionKeyType": opt_str(
            multi_region.and_then(|c| c.multi_region_key_type()).map(|v| v.as_str())
        ),
        "primaryKeyArn": opt_str(multi_region.and_then(|c| c.primary_key()).and_then(|k| k.arn())),
        "creationDate": opt_timestamp(m.creation_date()),
        "deletionDate": opt_timestamp(m.deletion_date()),
        "pendingDeletionWindowInDays": m.pending_deletion_window_in_days(),
        "validTo": opt_timestamp(m.valid_to()),
        "expirationModel": opt_str(m.expiration_model().map(|v| v.as_str())),
        "customKeyStoreId": opt_str(m.custom_key_store_id()),
        "encryptionAlgorithms": m
            .encryption_algorithms()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        "signingAlgorithms": m
            .signing_algorithms()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, OriginType};
    use rampart_model::GapKind;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn failure(code: &str) -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some(code.into()),
            message: format!("{code}: nope"),
        }
    }

    fn metadata(manager: KeyManagerType) -> KeyMetadata {
        KeyMetadata::builder()
            .key_id(ID)
            .arn(ARN)
            .key_manager(manager)
            .key_state(KeyState::Enabled)
            .enabled(true)
            .key_spec(KeySpec::SymmetricDefault)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .origin(OriginType::AwsKms)
            .multi_region(false)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn customer_key_with_rotation_policy_and_tags() {
        let meta = metadata(KeyManagerType::Customer);
        let rotation = GetKeyRotationStatusOutput::builder()
            .key_rotation_enabled(true)
            .rotation_period_in_days(365)
            .build();
        let tags = BTreeMap::from([("team".to_owned(), "sec".to_owned())]);
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*"}]}"#;
        let details = CustomerKeyDetails {
            rotation: Ok(Some(&rotation)),
            policy: Ok(Some(policy)),
            tags: Ok(&tags),
        };
        let aliases = vec!["alias/app".to_owned()];
        let asset = key_asset(
            "123456789012",
            "us-east-1",
            ID,
            Some(ARN),
            Ok(&meta),
            Ok(&aliases),
            Some(&details),
        );
        assert_eq!(asset.arn, ARN);
        assert_eq!(asset.resource_type, "AWS::KMS::Key");
        assert_eq!(asset.name, "alias/app");
        assert_eq!(asset.tags["team"], "sec");
        let p = &asset.properties;
        assert_eq!(p["keyManager"], "CUSTOMER");
        assert_eq!(p["keyState"], "Enabled");
        assert_eq!(p["keySpec"], "SYMMETRIC_DEFAULT");
        assert_eq!(p["keyUsage"], "ENCRYPT_DECRYPT");
        assert_eq!(p["origin"], "AWS_KMS");
        assert_eq!(p["multiRegion"], false);
        assert_eq!(p["keyRotationEnabled"], true);
        assert_eq!(p["rotationPeriodInDays"], 365);
        assert_eq!(p["aliases"], json!(["alias/app"]));
        assert_eq!(p["policy"]["Statement"][0]["Principal"]["AWS"], "*");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn customer_key_without_rotation() {
        let meta = metadata(KeyManagerType::Customer);
        let rotation = GetKeyRotationStatusOutput::builder()
            .key_rotation_enabled(false)
            .build();
        let tags = BTreeMap::new();
        let details = CustomerKeyDetails {
            rotation: Ok(Some(&rotation)),
            policy: Ok(Some("{}")),
            tags: Ok(&tags),
        };
        let asset = key_asset(
            "123456789012",
            "us-east-1",
            ID,
            Some(ARN),
            Ok(&meta),
            Ok(&[]),
            Some(&details),
        );
        assert_eq!(asset.name, ID);
        assert_eq!(asset.properties["keyRotationEnabled"], false);
        assert_eq!(asset.properties["aliases"], json!([]));
    }

    #[test]
    fn rotation_unsupported_is_null_not_unavailable() {
        let meta = metadata(KeyManagerType::Customer);
        let tags = BTreeMap::new();
        let details = CustomerKeyDetails {
            rotation: Ok(None),
            policy: Ok(Some("{}")),
            tags: Ok(&tags),
        };
        let asset = key_asset(
            "123456789012",
            "us-east-1",
            ID,
            Some(ARN),
            Ok(&meta),
            Ok(&[]),
            Some(&details),
        );
        assert_eq!(asset.properties["keyRotationEnabled"], Value::Null);
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn aws_managed_key_gets_no_customer_details() {
        let meta = metadata(KeyManagerType::Aws);
        let aliases = vec!["alias/aws/s3".to_owned()];
        let asset = key_asset(
            "123456789012",
            "us-east-1",
            ID,
            Some(ARN),
            Ok(&meta),
            Ok(&aliases),
            None,
        );
        assert_eq!(asset.properties["keyManager"], "AWS");
        assert_eq!(asset.properties["keyRotationEnabled"], Value::Null);
        assert_eq!(asset.properties["policy"], Value::Null);
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn failed_customer_calls_mark_unavailable() {
        let meta = metadata(KeyManagerType::Customer);
        let denied = failure("AccessDeniedException");
        let details = CustomerKeyDetails {
            rotation: Err(&denied),
            policy: Err(&denied),
            tags: Err(&denied),
        };
        let asset = key_asset(
            "123456789012",
            "us-east-1",
            ID,
            Some(ARN),
            Ok(&meta),
            Ok(&[]),
            Some(&details),
        );
        assert_eq!(asset.properties["keyRotationEnabled"], Value::Null);
        for key in ["keyRotationEnabled", "policy", "tags"] {
            assert_eq!(asset.unavailable[key], "AccessDeniedException: nope");
        }
        assert_eq!(asset.properties["keyState"], "Enabled");
    }

    #[test]
    fn undescribed_key_keeps_id_and_marks_metadata_unavailable() {
        let denied = failure("AccessDeniedException");
        let aliases_failed = failure("AccessDeniedException");
        let asset = key_asset(
            "123456789012",
            "eu-west-1",
            ID,
            None,
            Err(&denied),
            Err(&aliases_failed),
            None,
        );
        assert_eq!(
            asset.arn,
            format!("arn:aws:kms:eu-west-1:123456789012:key/{ID}")
        );
        assert_eq!(asset.properties["keyId"], ID);
        assert_eq!(asset.properties["keyManager"], Value::Null);
        assert_eq!(asset.properties["aliases"], Value::Null);
        for key in [
            "keyManager",
            "keyState",
            "keyRotationEnabled",
            "policy",
            "aliases",
        ] {
            assert!(asset.unavailable.contains_key(key), "{key}");
        }
    }

    #[test]
    fn aliases_are_indexed_by_target_key() {
        let entries = [
            AliasListEntry::builder()
                .alias_name("alias/b")
                .target_key_id("k1")
                .build(),
            AliasListEntry::builder()
                .alias_name("alias/a")
                .target_key_id("k1")
                .build(),
            AliasListEntry::builder()
                .alias_name("alias/aws/ebs")
                .build(),
        ];
        let index = alias_index(entries.iter());
        assert_eq!(index.len(), 1);
        assert_eq!(index["k1"], vec!["alias/a", "alias/b"]);
    }
}
