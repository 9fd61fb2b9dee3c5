//! AWS AppSync: GraphQL APIs (`AWS::AppSync::GraphQLApi`) with their
//! authentication providers, field-level logging and API cache.
//!
//! Per region: `ListGraphqlApis` (paginated) once; per API `GetApiCache`.
//! `GetApiCache` answers `NotFoundException` both for an API without a
//! cache (recorded as `apiCache: null`) and for an API deleted since it was
//! listed (message `GraphQL API <id> not found.`, recorded as
//! `"deleted": true`); other failures mark `apiCache` unavailable.

use aws_sdk_appsync::types::{ApiCache, GraphqlApi};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects AppSync GraphQL APIs.
#[derive(Debug)]
pub struct AppSync;

static META: CollectorMeta = CollectorMeta {
    service: "appsync",
    scope: Scope::Regional,
    operations: &[
        op!("appsync", "ListGraphqlApis"),
        op!("appsync", "GetApiCache"),
    ],
    resource_types: &["AWS::AppSync::GraphQLApi"],
};

/// What `GetApiCache` said about one API.
#[derive(Debug)]
pub enum CacheRead {
    /// The API's cache (`None` if the answer carried none).
    Cache(Option<ApiCache>),
    /// The API has no cache.
    NoCache,
    /// The API no longer exists.
    ApiGone,
}

/// How a `NotFoundException` message of `GetApiCache` reads: the API is
/// gone (`GraphQL API <id> not found.`) or it has no cache.
pub fn not_found_read(message: Option<&str>) -> CacheRead {
    let gone = message.is_some_and(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("graphql api") && m.contains("not found")
    });
    if gone {
        CacheRead::ApiGone
    } else {
        CacheRead::NoCache
    }
}

impl Collector for AppSync {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().appsync(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListGraphqlApis",
                    client
                        .list_graphql_apis()
                        .max_results(25)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let apis: Vec<GraphqlApi> = pages
                .into_iter()
                .flat_map(|p| p.graphql_apis.unwrap_or_default())
                .collect();
            let client = &client;
            futures::stream::iter(apis)
                .map(|api| async move {
                    let id = api.api_id.clone().unwrap_or_default();
                    let request = client.get_api_cache().api_id(&id).send();
                    let cache = ctx
                        .call("GetApiCache", async move {
                            match request.await {
                                Ok(o) => Ok(CacheRead::Cache(o.api_cache)),
                                Err(err) => match err.as_service_error() {
                                    Some(e) if e.is_not_found_exception() => {
                                        Ok(not_found_read(e.meta().message()))
                                    }
                                    _ => Err(err),
                                },
                            }
                        })
                        .await;
                    ctx.emit(graphql_api_asset(
                        ctx.account(),
                        ctx.region(),
                        &api,
                        cache.as_ref(),
                    ));
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::AppSync::GraphQLApi` asset from its listing and its
/// `GetApiCache` answer. `authenticationTypes`
/// lists the primary type first, then the additional providers' types;
/// `fieldLogLevel` is `NONE`, `ERROR`, `INFO`, `DEBUG` or `ALL` (`null`
/// when the API has no log configuration: field-level logging is off);
/// `apiCache` holds `atRestEncryptionEnabled`, `transitEncryptionEnabled`,
/// `status` and `type`, or is `null` without a cache.
pub fn graphql_api_asset(
    account: &str,
    region: &str,
    api: &GraphqlApi,
    cache: Result<&CacheRead, &CallFailure>,
) -> Asset {
    let id = api.api_id.as_deref().unwrap_or_default();
    let name = api.name.as_deref().filter(|n| !n.is_empty()).unwrap_or(id);
    let arn = api.arn.clone().unwrap_or_else(|| {
        format!(
            "arn:{}:appsync:{region}:{account}:apis/{id}",
            partition(region)
        )
    });
    let mut auth: Vec<Value> = api
        .authentication_type
        .iter()
        .map(|t| json!(t.as_str()))
        .collect();
    auth.extend(
        api.additional_authentication_providers
            .iter()
            .flatten()
            .filter_map(|p| p.authentication_type.as_ref())
            .map(|t| json!(t.as_str())),
    );
    let api_cache = match cache {
        Ok(CacheRead::Cache(Some(c))) => json!({
            "atRestEncryptionEnabled": c.at_rest_encryption_enabled,
            "transitEncryptionEnabled": c.transit_encryption_enabled,
            "status": c.status.as_ref().map(|s| s.as_str()),
            "type": c.r#type.as_ref().map(|s| s.as_str()),
        }),
        _ => Value::Null,
    };
    let properties = json!({
        "apiId": id,
        "name": name,
        "arn": arn,
        "apiType": opt_str(api.api_type.as_ref().map(|t| t.as_str())),
        "authenticationTypes": auth,
        "fieldLogLevel": opt_str(api.log_config.as_ref().map(|l| l.field_log_level.as_str())),
        "xrayEnabled": api.xray_enabled,
        "wafWebAclArn": opt_str(api.waf_web_acl_arn.as_deref()),
        "apiCache": api_cache,
        "deleted": matches!(cache, Ok(CacheRead::ApiGone)),
    });
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::AppSync::GraphQLApi",
        account,
        region,
        name,
        properties,
    );
    if let Some(tags) = api.tags.as_ref() {
        asset = asset.with_tags(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    if let Err(failure) = cache {
        asset.mark_unavailable("apiCache", failure.to_string());
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_appsync::types::{
        AdditionalAuthenticationProvider, ApiCacheType, AuthenticationType, FieldLogLevel,
        LogConfig,
    };

    fn api() -> GraphqlApi {
        GraphqlApi::builder()
            .api_id("abc")
            .name("orders")
            .arn("arn:aws:appsync:us-east-1:123456789012:apis/abc")
            .authentication_type(AuthenticationType::AwsIam)
            .additional_authentication_providers(
                AdditionalAuthenticationProvider::builder()
                    .authentication_type(AuthenticationType::ApiKey)
                    .build(),
            )
            .log_config(
                LogConfig::builder()
                    .field_log_level(FieldLogLevel::Error)
                    .cloud_watch_logs_role_arn("arn:aws:iam::123456789012:role/logs")
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn maps_an_api_and_its_cache() {
        let cache = ApiCache::builder()
            .r#type(ApiCacheType::Small)
            .at_rest_encryption_enabled(true)
            .transit_encryption_enabled(false)
            .build();
        let read = CacheRead::Cache(Some(cache));
        let asset = graphql_api_asset("123456789012", "us-east-1", &api(), Ok(&read));
        let p = &asset.properties;
        assert_eq!(p["authenticationTypes"], json!(["AWS_IAM", "API_KEY"]));
        assert_eq!(p["fieldLogLevel"], "ERROR");
        assert_eq!(p["apiCache"]["atRestEncryptionEnabled"], true);
        assert_eq!(p["apiCache"]["transitEncryptionEnabled"], false);
        let none = not_found_read(Some(
            "Unable to get the cache as it doesn't exist, please create the cache first.",
        ));
        let asset = graphql_api_asset("123456789012", "us-east-1", &api(), Ok(&none));
        assert_eq!(asset.properties["apiCache"], Value::Null);
        assert_eq!(asset.properties["deleted"], false);
        assert!(asset.unavailable.is_empty());
        let gone = not_found_read(Some("GraphQL API abc not found."));
        let asset = graphql_api_asset("123456789012", "us-east-1", &api(), Ok(&gone));
        assert_eq!(asset.properties["deleted"], true);
    }
}
