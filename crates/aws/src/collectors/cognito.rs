//! Amazon Cognito: user pools (`AWS::Cognito::UserPool`, collector
//! `cognito-idp`) with their password policy and threat protection mode,
//! and identity pools (`AWS::Cognito::IdentityPool`, collector
//! `cognito-identity`) with whether they allow unauthenticated identities.
//!
//! Per region: `ListUserPools` (60 a page) and per pool
//! `DescribeUserPool`; `ListIdentityPools` (60 a page) and per pool
//! `DescribeIdentityPool`. A pool deleted between the two calls
//! (`ResourceNotFoundException`) is emitted with `"deleted": true`; a
//! failed describe marks its properties unavailable.

use aws_sdk_cognitoidentity::operation::describe_identity_pool::DescribeIdentityPoolOutput;
use aws_sdk_cognitoidentityprovider::types::UserPoolType;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Cognito user pools.
#[derive(Debug)]
pub struct CognitoUserPools;

/// Collects Cognito identity pools.
#[derive(Debug)]
pub struct CognitoIdentityPools;

static USER_POOLS_META: CollectorMeta = CollectorMeta {
    service: "cognito-idp",
    scope: Scope::Regional,
    operations: &[
        op!("cognito-idp", "ListUserPools"),
        op!("cognito-idp", "DescribeUserPool"),
    ],
    resource_types: &["AWS::Cognito::UserPool"],
};

static IDENTITY_POOLS_META: CollectorMeta = CollectorMeta {
    service: "cognito-identity",
    scope: Scope::Regional,
    operations: &[
        op!("cognito-identity", "ListIdentityPools"),
        op!("cognito-identity", "DescribeIdentityPool"),
    ],
    resource_types: &["AWS::Cognito::IdentityPool"],
};

/// Error code of a pool deleted since it was listed.
const GONE: &[&str] = &["ResourceNotFoundException"];

/// Largest page the Cognito list calls accept.
const PAGE_SIZE: i32 = 60;

/// Properties read by `DescribeUserPool`.
const USER_POOL_PROPERTIES: &[&str] = &["passwordPolicy", "advancedSecurityMode", "userPoolTier"];

/// Properties read by `DescribeIdentityPool`.
const IDENTITY_POOL_PROPERTIES: &[&str] = &["allowUnauthenticatedIdentities"];

impl Collector for CognitoUserPools {
    fn meta(&self) -> &'static CollectorMeta {
        &USER_POOLS_META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().cognito_idp(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListUserPools",
                    client
                        .list_user_pools()
                        .max_results(PAGE_SIZE)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let pools: Vec<(String, Option<String>)> = pages
                .into_iter()
                .flat_map(|p| p.user_pools.unwrap_or_default())
                .filter_map(|p| p.id.map(|id| (id, p.name)))
                .collect();
            let client = &client;
            futures::stream::iter(pools)
                .map(|(id, name)| async move {
                    let described = ctx
                        .call_optional(
                            "DescribeUserPool",
                            GONE,
                            client.describe_user_pool().user_pool_id(&id).send(),
                        )
                        .await
                        .map(|o| o.and_then(|o| o.user_pool));
                    ctx.emit(user_pool_asset(
                        ctx.account(),
                        ctx.region(),
                        &id,
                        name.as_deref(),
                        described.as_ref().map(Option::as_ref),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

impl Collector for CognitoIdentityPools {
    fn meta(&self) -> &'static CollectorMeta {
        &IDENTITY_POOLS_META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().cognito_identity(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListIdentityPools",
                    client
                        .list_identity_pools()
                        .max_results(PAGE_SIZE)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let pools: Vec<(String, Option<String>)> = pages
                .into_iter()
                .flat_map(|p| p.identity_pools.unwrap_or_default())
                .filter_map(|p| p.identity_pool_id.map(|id| (id, p.identity_pool_name)))
                .collect();
            let client = &client;
            futures::stream::iter(pools)
                .map(|(id, name)| async move {
                    let described = ctx
                        .call_optional(
                            "DescribeIdentityPool",
                            GONE,
                            client.describe_identity_pool().identity_pool_id(&id).send(),
                        )
                        .await;
                    ctx.emit(identity_pool_asset(
                        ctx.account(),
                        ctx.region(),
                        &id,
                        name.as_deref(),
                        described.as_ref().map(Option::as_ref),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::Cognito::UserPool` asset from its listed id and name and its
/// `DescribeUserPool` answer (`Ok(None)`: deleted since listed).
/// `passwordPolicy` holds `minimumLength`, `requireUppercase`,
/// `requireLowercase`, `requireNumbers`, `requireSymbols` and
/// `temporaryPasswordValidityDays` (`null` when the pool reports no
/// policy); `advancedSecurityMode` is threat protection's mode for standard
/// authentication (`OFF`, `AUDIT`, `ENFORCED`; `OFF` when the API gives no
/// add-ons, which is how Cognito reports it never turned on).
pub fn user_pool_asset(
    account: &str,
    region: &str,
    id: &str,
    listed_name: Option<&str>,
    described: Result<Option<&UserPoolType>, &CallFailure>,
) -> Asset {
    let pool = described.ok().flatten();
    let name = pool
        .and_then(|p| p.name.as_deref())
        .or(listed_name)
        .unwrap_or(id)
        .to_owned();
    let arn = pool.and_then(|p| p.arn.clone()).unwrap_or_else(|| {
        format!(
            "arn:{}:cognito-idp:{region}:{account}:userpool/{id}",
            partition(region)
        )
    });
    let mut properties = json!({
        "userPoolId": id,
        "name": name,
        "arn": arn,
        "deleted": matches!(described, Ok(None)),
    });
    if let (Some(pool), Some(map)) = (pool, properties.as_object_mut()) {
        let policy = pool
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.as_ref())
            .map_or(Value::Null, |p| {
                json!({
                    "minimumLength": p.minimum_length,
                    "requireUppercase": p.require_uppercase,
                    "requireLowercase": p.require_lowercase,
                    "requireNumbers": p.require_numbers,
                    "requireSymbols": p.require_symbols,
                    "temporaryPasswordValidityDays": p.temporary_password_validity_days,
                    "passwordHistorySize": p.password_history_size,
                })
            });
        map.insert("passwordPolicy".into(), policy);
        map.insert(
            "advancedSecurityMode".into(),
            json!(
                pool.user_pool_add_ons
                    .as_ref()
                    .map_or("OFF", |a| a.advanced_security_mode.as_str())
            ),
        );
        map.insert(
            "userPoolTier".into(),
            opt_str(pool.user_pool_tier.as_ref().map(|t| t.as_str())),
        );
    }
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::Cognito::UserPool",
        account,
        region,
        name,
        properties,
    );
    if let Some(tags) = pool.and_then(|p| p.user_pool_tags.as_ref()) {
        asset = asset.with_tags(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    if let Err(failure) = described {
        for key in USER_POOL_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

/// The `AWS::Cognito::IdentityPool` asset from its listed id and name and
/// its `DescribeIdentityPool` answer (`Ok(None)`: deleted since listed).
pub fn identity_pool_asset(
    account: &str,
    region: &str,
    id: &str,
    listed_name: Option<&str>,
    described: Result<Option<&DescribeIdentityPoolOutput>, &CallFailure>,
) -> Asset {
    let pool = described.ok().flatten();
    let name = pool
        .map(|p| p.identity_pool_name.as_str())
        .or(listed_name)
        .unwrap_or(id)
        .to_owned();
    let arn = format!(
        "arn:{}:cognito-identity:{region}:{account}:identitypool/{id}",
        partition(region)
    );
    let mut properties = json!({
        "identityPoolId": id,
        "name": name,
        "deleted": matches!(described, Ok(None)),
    });
    if let (Some(pool), Some(map)) = (pool, properties.as_object_mut()) {
        map.insert(
            "allowUnauthenticatedIdentities".into(),
            Value::Bool(pool.allow_unauthenticated_identities),
        );
        map.insert(
            "allowClassicFlow".into(),
            pool.allow_classic_flow.map_or(Value::Null, Value::Bool),
        );
    }
    let mut asset = Asset::new(
        arn,
        "AWS::Cognito::IdentityPool",
        account,
        region,
        name,
        properties,
    );
    if let Some(tags) = pool.and_then(|p| p.identity_pool_tags.as_ref()) {
        asset = asset.with_tags(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    if let Err(failure) = described {
        for key in IDENTITY_POOL_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::{
        AdvancedSecurityModeType, PasswordPolicyType, UserPoolAddOnsType, UserPoolPolicyType,
    };

    #[test]
    fn maps_a_user_pool() {
        let pool = UserPoolType::builder()
            .id("us-east-1_abc")
            .name("customers")
            .arn("arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc")
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(12)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(false)
                            .temporary_password_validity_days(7)
                            .build(),
                    )
                    .build(),
            )
            .user_pool_add_ons(
                UserPoolAddOnsType::builder()
                    .advanced_security_mode(AdvancedSecurityModeType::Enforced)
                    .build()
                    .unwrap(),
            )
            .build();
        let asset = user_pool_asset(
            "123456789012",
            "us-east-1",
            "us-east-1_abc",
            None,
            Ok(Some(&pool)),
        );
        let p = &asset.properties;
        assert_eq!(p["passwordPolicy"]["minimumLength"], 12);
        assert_eq!(p["passwordPolicy"]["requireSymbols"], false);
        assert_eq!(p["advancedSecurityMode"], "ENFORCED");
        let bare = UserPoolType::builder().id("us-east-1_x").build();
        let asset = user_pool_asset(
            "123456789012",
            "us-east-1",
            "us-east-1_x",
            Some("x"),
            Ok(Some(&bare)),
        );
        assert_eq!(asset.properties["advancedSecurityMode"], "OFF");
        assert_eq!(asset.properties["passwordPolicy"], Value::Null);
        assert_eq!(
            asset.arn,
            "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x"
        );
    }

    #[test]
    fn maps_an_identity_pool() {
        let pool = DescribeIdentityPoolOutput::builder()
            .identity_pool_id("us-east-1:1111")
            .identity_pool_name("app")
            .allow_unauthenticated_identities(true)
            .build()
            .unwrap();
        let asset = identity_pool_asset(
            "123456789012",
            "us-east-1",
            "us-east-1:1111",
            None,
            Ok(Some(&pool)),
        );
        assert_eq!(asset.name, "app");
        assert_eq!(asset.properties["allowUnauthenticatedIdentities"], true);
        let gone = identity_pool_asset("123456789012", "us-east-1", "us-east-1:2", None, Ok(None));
        assert_eq!(gone.properties["deleted"], true);
    }
}
