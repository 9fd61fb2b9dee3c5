//! Secrets Manager: secrets (`AWS::SecretsManager::Secret`), metadata only.
//!
//! Per region `ListSecrets` (100 a page, secrets scheduled for deletion
//! included so that they show as such); no per-secret call, because the
//! list already carries rotation, dates and the KMS key. Secret values are
//! never read (no `GetSecretValue`, no `BatchGetSecretValue`).

use aws_sdk_secretsmanager::types::{RotationRulesType, SecretListEntry};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, tag_map};
use crate::op;
use crate::scan::CollectContext;

/// Collects Secrets Manager secrets.
#[derive(Debug)]
pub struct SecretsManager;

static META: CollectorMeta = CollectorMeta {
    service: "secretsmanager",
    scope: Scope::Regional,
    operations: &[op!("secretsmanager", "ListSecrets")],
    resource_types: &["AWS::SecretsManager::Secret"],
};

impl Collector for SecretsManager {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().secretsmanager(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListSecrets",
                    client
                        .list_secrets()
                        .include_planned_deletion(true)
                        .into_paginator()
                        .page_size(100)
                        .send(),
                )
                .await
            else {
                return;
            };
            for secret in pages.iter().flat_map(|p| p.secret_list()) {
                if let Some(asset) = secret_asset(ctx.account(), ctx.region(), secret) {
                    ctx.emit(asset);
                }
            }
        })
    }
}

fn rotation_rules_json(rules: &RotationRulesType) -> Value {
    json!({
        "automaticallyAfterDays": rules.automatically_after_days(),
        "duration": opt_str(rules.duration()),
        "scheduleExpression": opt_str(rules.schedule_expression()),
    })
}

/// The `AWS::SecretsManager::Secret` asset of a listed secret (`None` for
/// an entry without an ARN). `rotationEnabled` is `false` when the API
/// leaves it out (it does for secrets that never had rotation); dates the
/// API does not report are `null` (`lastRotatedDate`: never rotated;
/// `deletedDate`: not scheduled for deletion).
pub fn secret_asset(account: &str, region: &str, secret: &SecretListEntry) -> Option<Asset> {
    let arn = secret.arn()?;
    let name = secret.name().unwrap_or(arn);
    let properties = json!({
        "arn": arn,
        "name": name,
        "description": opt_str(secret.description()),
        "kmsKeyId": opt_str(secret.kms_key_id()),
        "rotationEnabled": secret.rotation_enabled().unwrap_or(false),
        "rotationLambdaArn": opt_str(secret.rotation_lambda_arn()),
        "rotationRules": secret.rotation_rules().map_or(Value::Null, rotation_rules_json),
        "lastRotatedDate": opt_timestamp(secret.last_rotated_date()),
        "lastChangedDate": opt_timestamp(secret.last_changed_date()),
        "lastAccessedDate": opt_timestamp(secret.last_accessed_date()),
        "nextRotationDate": opt_timestamp(secret.next_rotation_date()),
        "deletedDate": opt_timestamp(secret.deleted_date()),
        "createdDate": opt_timestamp(secret.created_date()),
        "owningService": opt_str(secret.owning_service()),
        "primaryRegion": opt_str(secret.primary_region()),
    });
    let tags = tag_map(secret.tags().iter().map(|t| (t.key(), t.value())));
    Some(
        Asset::new(
            arn,
            "AWS::SecretsManager::Secret",
            account,
            region,
            name,
            properties,
        )
        .with_tags(tags),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::types::Tag;
    use aws_smithy_types::DateTime;

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";

    #[test]
    fn maps_a_rotating_secret() {
        let secret = SecretListEntry::builder()
            .arn(ARN)
            .name("db")
            .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/k")
            .rotation_enabled(true)
            .rotation_lambda_arn("arn:aws:lambda:us-east-1:123456789012:function:rotate")
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(30)
                    .build(),
            )
            .last_rotated_date(DateTime::from_secs(86_400))
            .last_accessed_date(DateTime::from_secs(2 * 86_400))
            .created_date(DateTime::from_secs(0))
            .tags(Tag::builder().key("env").value("prod").build())
            .build();
        let asset = secret_asset("123456789012", "us-east-1", &secret);
        let asset = asset.as_ref();
        assert_eq!(asset.map(|a| a.arn.as_str()), Some(ARN));
        let Some(asset) = asset else { return };
        assert_eq!(asset.resource_type, "AWS::SecretsManager::Secret");
        assert_eq!(asset.name, "db");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["rotationEnabled"], true);
        assert_eq!(p["rotationRules"]["automaticallyAfterDays"], 30);
        assert_eq!(p["rotationRules"]["scheduleExpression"], Value::Null);
        assert_eq!(p["lastRotatedDate"], "1970-01-02T00:00:00Z");
        assert_eq!(p["lastAccessedDate"], "1970-01-03T00:00:00Z");
        assert_eq!(p["deletedDate"], Value::Null);
        assert_eq!(p["kmsKeyId"], "arn:aws:kms:us-east-1:123456789012:key/k");
    }

    #[test]
    fn a_secret_without_rotation_says_so() {
        let secret = SecretListEntry::builder()
            .arn(ARN)
            .name("api-key")
            .deleted_date(DateTime::from_secs(0))
            .build();
        let asset = secret_asset("123456789012", "us-east-1", &secret);
        let p = asset.map(|a| a.properties).unwrap_or_default();
        assert_eq!(p["rotationEnabled"], false);
        assert_eq!(p["rotationRules"], Value::Null);
        assert_eq!(p["lastRotatedDate"], Value::Null);
        assert_eq!(p["kmsKeyId"], Value::Null);
        assert_eq!(p["deletedDate"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn an_entry_without_arn_is_skipped() {
        let secret = SecretListEntry::builder().name("x").build();
        assert!(secret_asset("123456789012", "us-east-1", &secret).is_none());
    }
}
