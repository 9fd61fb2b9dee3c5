//! Amazon API Gateway: REST API stages (`AWS::ApiGateway::Stage`), and
//! HTTP and WebSocket API (API Gateway v2) stages (`AWS::ApiGatewayV2::Stage`)
//! and routes (`AWS::ApiGatewayV2::Route`).
//!
//! Per region: `GetRestApis` (paginated) and per REST API `GetStages` (its
//! stages with method settings, cache, client certificate, X-Ray and web
//! ACL) then `GetResources` (its resources and methods, for the stages'
//! `methodCount`); `GetApis` (paged by `NextToken`) and per v2 API
//! `GetStages` then `GetRoutes`. Both APIs' read calls are allowed by the
//! IAM action `apigateway:GET`.
//!
//! An API deleted before its `GetStages` (`NotFoundException`) has nothing
//! to emit; one deleted between `GetStages` and the following call
//! (`GetResources`, `GetRoutes`) has its stages emitted with
//! `"deleted": true`. Other failures are gaps: that API's stages or routes
//! are missing from the scan, or its stages' `methodCount`/`routeCount`
//! is unavailable.

use std::collections::BTreeMap;

use aws_sdk_apigateway::types::{MethodSetting, RestApi, Stage as RestStage};
use aws_sdk_apigatewayv2::types::{Api, Route, Stage as V2Stage};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects API Gateway REST stages and v2 stages and routes.
#[derive(Debug)]
pub struct ApiGateway;

static META: CollectorMeta = CollectorMeta {
    service: "apigateway",
    scope: Scope::Regional,
    operations: &[
        op!("apigateway", "GetRestApis" => "apigateway:GET"),
        op!("apigateway", "GetStages" => "apigateway:GET"),
        op!("apigateway", "GetResources" => "apigateway:GET"),
        op!("apigatewayv2", "GetApis" => "apigateway:GET"),
        op!("apigatewayv2", "GetStages" => "apigateway:GET"),
        op!("apigatewayv2", "GetRoutes" => "apigateway:GET"),
    ],
    resource_types: &[
        "AWS::ApiGateway::Stage",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGatewayV2::Route",
    ],
};

/// Error code of an API deleted since it was listed.
const GONE: &[&str] = &["NotFoundException"];

impl Collector for ApiGateway {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            futures::join!(collect_rest(ctx), collect_v2(ctx));
        })
    }
}

async fn collect_rest(ctx: &CollectContext<'_>) {
    let client = ctx.access().apigateway(ctx.region());
    let Ok(pages) = ctx
        .pages(
            "GetRestApis",
            client.get_rest_apis().limit(500).into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let apis: Vec<RestApi> = pages
        .into_iter()
        .flat_map(|p| p.items.unwrap_or_default())
        .collect();
    let client = &client;
    futures::stream::iter(apis)
        .map(|api| async move {
            let id = api.id.clone().unwrap_or_default();
            let Ok(Some(stages)) = ctx
                .call_optional(
                    "GetStages",
                    GONE,
                    client.get_stages().rest_api_id(&id).send(),
                )
                .await
            else {
                return;
            };
            let resources = ctx
                .pages(
                    "GetResources",
                    client
                        .get_resources()
                        .rest_api_id(&id)
                        .embed("methods")
                        .limit(500)
                        .into_paginator()
                        .send(),
                )
                .await;
            let methods: Result<Option<usize>, CallFailure> = match resources {
                Ok(pages) => Ok(Some(
                    pages
                        .iter()
                        .flat_map(|p| p.items())
                        .map(|r| r.resource_methods.as_ref().map_or(0, |m| m.len()))
                        .sum(),
                )),
                Err(failure) if failure.code.as_deref() == Some("NotFoundException") => Ok(None),
                Err(failure) => Err(failure),
            };
            for stage in stages.item.iter().flatten() {
                ctx.emit(rest_stage_asset(
                    ctx.account(),
                    ctx.region(),
                    &api,
                    stage,
                    methods.as_ref().copied(),
                ));
            }
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// Follows `NextToken` through an API Gateway v2 list call; `None` when a
/// page failed (a gap) or the API is gone.
macro_rules! v2_pages {
    ($ctx:expr, $op:literal, $request:expr) => {{
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut complete = true;
        loop {
            match $ctx
                .call_optional($op, GONE, $request.set_next_token(token.take()).send())
                .await
            {
                Ok(Some(page)) => {
                    items.extend(page.items.unwrap_or_default());
                    match page.next_token {
                        Some(next) if !next.is_empty() => token = Some(next),
                        _ => break,
                    }
                }
                _ => {
                    complete = false;
                    break;
                }
            }
        }
        complete.then_some(items)
    }};
}

async fn collect_v2(ctx: &CollectContext<'_>) {
    let client = ctx.access().apigatewayv2(ctx.region());
    let Some(apis): Option<Vec<Api>> =
        v2_pages!(ctx, "GetApis", client.get_apis().max_results("500"))
    else {
        return;
    };
    let client = &client;
    futures::stream::iter(apis)
        .map(|api| async move {
            let id = api.api_id.clone().unwrap_or_default();
            let stages: Option<Vec<V2Stage>> = v2_pages!(
                ctx,
                "GetStages",
                client.get_stages().api_id(&id).max_results("500")
            );
            let Some(stages) = stages else {
                return;
            };
            let routes = v2_route_pages(ctx, client, &id).await;
            let route_count = routes.as_ref().map(|r| r.as_ref().map(Vec::len));
            for stage in &stages {
                ctx.emit(v2_stage_asset(
                    ctx.account(),
                    ctx.region(),
                    &api,
                    stage,
                    route_count,
                ));
            }
            for route in routes.iter().flatten().flatten() {
                ctx.emit(v2_route_asset(ctx.account(), ctx.region(), &api, route));
            }
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// Every route of a v2 API: `Ok(None)` when the API is gone
/// (`NotFoundException`), `Err` when a page failed (a gap).
async fn v2_route_pages(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_apigatewayv2::Client,
    api_id: &str,
) -> Result<Option<Vec<Route>>, CallFailure> {
    let mut routes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ctx
            .call_optional(
                "GetRoutes",
                GONE,
                client
                    .get_routes()
                    .api_id(api_id)
                    .max_results("500")
                    .set_next_token(token.take())
                    .send(),
            )
            .await?;
        let Some(page) = page else {
            return Ok(None);
        };
        routes.extend(page.items.unwrap_or_default());
        match page.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(Some(routes)),
        }
    }
}

/// `"deleted": true` and a count property from a follow-up read: the
/// count (`Ok(Some)`), the API gone since its stages were read (`Ok(None)`)
/// or a failure (the count is unavailable).
fn apply_count(asset: &mut Asset, key: &str, count: Result<Option<usize>, &CallFailure>) {
    match count {
        Ok(Some(n)) => {
            if let Some(map) = asset.properties.as_object_mut() {
                map.insert(key.to_owned(), Value::from(n));
            }
        }
        Ok(None) => {
            if let Some(map) = asset.properties.as_object_mut() {
                map.insert("deleted".to_owned(), Value::Bool(true));
            }
        }
        Err(failure) => asset.mark_unavailable(key, failure.to_string()),
    }
}

/// One method setting as the rules read it.
fn method_setting(setting: &MethodSetting) -> Value {
    json!({
        "loggingLevel": opt_str(setting.logging_level.as_deref()),
        "dataTraceEnabled": setting.data_trace_enabled,
        "cachingEnabled": setting.caching_enabled,
        "cacheDataEncrypted": setting.cache_data_encrypted,
    })
}

/// The `AWS::ApiGateway::Stage` asset of one REST API stage (ARN
/// `arn:aws:apigateway:<region>::/restapis/<id>/stages/<name>`, as AWS
/// Config names it). `methodSettings` maps `*/*` (the whole stage) and
/// `<resource path>/<method>` overrides to `loggingLevel` (`OFF`, `ERROR`,
/// `INFO`; `null` when unset), `cachingEnabled` and `cacheDataEncrypted`;
/// `clientCertificateId`, `webAclArn` and `accessLogDestinationArn` are
/// `null` when unset. `methods` is the API's method count from
/// `GetResources` (`Ok(None)`: the API was deleted after its stages were
/// read, `"deleted": true`).
pub fn rest_stage_asset(
    account: &str,
    region: &str,
    api: &RestApi,
    stage: &RestStage,
    methods: Result<Option<usize>, &CallFailure>,
) -> Asset {
    let api_id = api.id.as_deref().unwrap_or_default();
    let stage_name = stage.stage_name.as_deref().unwrap_or_default();
    let arn = format!(
        "arn:{}:apigateway:{region}::/restapis/{api_id}/stages/{stage_name}",
        super::partition(region)
    );
    let settings: BTreeMap<&str, Value> = stage
        .method_settings
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), method_setting(v)))
        .collect();
    let endpoint_types: Vec<Value> = api
        .endpoint_configuration
        .as_ref()
        .and_then(|e| e.types.as_ref())
        .into_iter()
        .flatten()
        .map(|t| json!(t.as_str()))
        .collect();
    let properties = json!({
        "restApiId": api_id,
        "restApiName": opt_str(api.name.as_deref()),
        "endpointTypes": endpoint_types,
        "stageName": stage_name,
        "deleted": false,
        "deploymentId": opt_str(stage.deployment_id.as_deref()),
        "methodSettings": settings,
        "cacheClusterEnabled": stage.cache_cluster_enabled,
        "clientCertificateId": opt_str(stage.client_certificate_id.as_deref().filter(|c| !c.is_empty())),
        "tracingEnabled": stage.tracing_enabled,
        "webAclArn": opt_str(stage.web_acl_arn.as_deref().filter(|a| !a.is_empty())),
        "accessLogDestinationArn": opt_str(stage.access_log_settings.as_ref().and_then(|a| a.destination_arn.as_deref())),
    });
    let name = format!("{}/{stage_name}", api.name.as_deref().unwrap_or(api_id));
    let mut asset = Asset::new(
        arn,
        "AWS::ApiGateway::Stage",
        account,
        region,
        name,
        properties,
    );
    apply_count(&mut asset, "methodCount", methods);
    if let Some(tags) = stage.tags.as_ref() {
        asset = asset.with_tags(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    asset
}

/// The `AWS::ApiGatewayV2::Stage` asset of one HTTP or WebSocket API stage
/// (ARN `arn:aws:apigateway:<region>::/apis/<id>/stages/<name>`).
/// `protocolType` is `HTTP` or `WEBSOCKET`; `defaultRouteLoggingLevel` is
/// the stage's execution logging level (`OFF`, `ERROR`, `INFO`; `null`
/// when unset, WebSocket APIs only); `accessLogDestinationArn` is `null`
/// without access logging. `routes` is the API's route count from
/// `GetRoutes` (`Ok(None)`: the API was deleted after its stages were read,
/// `"deleted": true`).
pub fn v2_stage_asset(
    account: &str,
    region: &str,
    api: &Api,
    stage: &V2Stage,
    routes: Result<Option<usize>, &CallFailure>,
) -> Asset {
    let api_id = api.api_id.as_deref().unwrap_or_default();
    let stage_name = stage.stage_name.as_deref().unwrap_or_default();
    let arn = format!(
        "arn:{}:apigateway:{region}::/apis/{api_id}/stages/{stage_name}",
        super::partition(region)
    );
    let route_levels: BTreeMap<&str, Value> = stage
        .route_settings
        .iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.as_str(),
                opt_str(v.logging_level.as_ref().map(|l| l.as_str())),
            )
        })
        .collect();
    let access = stage.access_log_settings.as_ref();
    let properties = json!({
        "apiId": api_id,
        "apiName": opt_str(api.name.as_deref()),
        "protocolType": opt_str(api.protocol_type.as_ref().map(|p| p.as_str())),
        "stageName": stage_name,
        "deleted": false,
        "apiGatewayManaged": stage.api_gateway_managed.unwrap_or(false),
        "defaultRouteLoggingLevel": opt_str(stage.default_route_settings.as_ref().and_then(|s| s.logging_level.as_ref()).map(|l| l.as_str())),
        "routeLoggingLevels": route_levels,
        "accessLogDestinationArn": opt_str(access.and_then(|a| a.destination_arn.as_deref()).filter(|a| !a.is_empty())),
        "accessLogFormat": opt_str(access.and_then(|a| a.format.as_deref())),
    });
    let name = format!("{}/{stage_name}", api.name.as_deref().unwrap_or(api_id));
    let mut asset = Asset::new(
        arn,
        "AWS::ApiGatewayV2::Stage",
        account,
        region,
        name,
        properties,
    );
    apply_count(&mut asset, "routeCount", routes);
    if let Some(tags) = stage.tags.as_ref() {
        asset = asset.with_tags(tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    asset
}

/// The `AWS::ApiGatewayV2::Route` asset of one HTTP or WebSocket API route
/// (ARN `arn:aws:apigateway:<region>::/apis/<id>/routes/<route id>`).
/// `authorizationType` is `NONE`, `AWS_IAM`, `CUSTOM` or `JWT` (`NONE` when
/// the API omits it, API Gateway's default).
pub fn v2_route_asset(account: &str, region: &str, api: &Api, route: &Route) -> Asset {
    let api_id = api.api_id.as_deref().unwrap_or_default();
    let route_id = route.route_id.as_deref().unwrap_or_default();
    let route_key = route.route_key.as_deref().unwrap_or_default();
    let arn = format!(
        "arn:{}:apigateway:{region}::/apis/{api_id}/routes/{route_id}",
        super::partition(region)
    );
    let properties = json!({
        "apiId": api_id,
        "apiName": opt_str(api.name.as_deref()),
        "protocolType": opt_str(api.protocol_type.as_ref().map(|p| p.as_str())),
        "routeId": route_id,
        "routeKey": route_key,
        "authorizationType": route.authorization_type.as_ref().map_or("NONE", |a| a.as_str()),
        "authorizerId": opt_str(route.authorizer_id.as_deref()),
        "apiGatewayManaged": route.api_gateway_managed.unwrap_or(false),
    });
    let name = format!("{} {route_key}", api.name.as_deref().unwrap_or(api_id));
    Asset::new(
        arn,
        "AWS::ApiGatewayV2::Route",
        account,
        region,
        name,
        properties,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_apigatewayv2::types::{
        AccessLogSettings, AuthorizationType, LoggingLevel, ProtocolType, RouteSettings,
    };

    #[test]
    fn maps_a_rest_stage() {
        let api = RestApi::builder().id("a1").name("shop").build();
        let stage = RestStage::builder()
            .stage_name("prod")
            .method_settings(
                "*/*",
                MethodSetting::builder()
                    .logging_level("ERROR")
                    .caching_enabled(true)
                    .cache_data_encrypted(false)
                    .build(),
            )
            .cache_cluster_enabled(true)
            .tracing_enabled(true)
            .web_acl_arn("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/w/1")
            .build();
        let asset = rest_stage_asset("123456789012", "us-east-1", &api, &stage, Ok(Some(3)));
        assert_eq!(
            asset.arn,
            "arn:aws:apigateway:us-east-1::/restapis/a1/stages/prod"
        );
        assert_eq!(asset.name, "shop/prod");
        let p = &asset.properties;
        assert_eq!(p["methodSettings"]["*/*"]["loggingLevel"], "ERROR");
        assert_eq!(p["methodSettings"]["*/*"]["cacheDataEncrypted"], false);
        assert_eq!(p["tracingEnabled"], true);
        assert_eq!(p["clientCertificateId"], Value::Null);
        assert_eq!(
            p["webAclArn"],
            "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/w/1"
        );
        assert_eq!(p["methodCount"], 3);
        assert_eq!(p["deleted"], false);
        let gone = rest_stage_asset("123456789012", "us-east-1", &api, &stage, Ok(None));
        assert_eq!(gone.properties["deleted"], true);
    }

    #[test]
    fn maps_v2_stages_and_routes() {
        let api = Api::builder()
            .api_id("w1")
            .name("chat")
            .protocol_type(ProtocolType::Websocket)
            .route_selection_expression("$request.body.action")
            .build();
        let stage = V2Stage::builder()
            .stage_name("live")
            .default_route_settings(
                RouteSettings::builder()
                    .logging_level(LoggingLevel::Info)
                    .build(),
            )
            .access_log_settings(
                AccessLogSettings::builder()
                    .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:chat")
                    .format("$context.requestId")
                    .build(),
            )
            .build();
        let asset = v2_stage_asset("123456789012", "us-east-1", &api, &stage, Ok(Some(2)));
        assert_eq!(
            asset.arn,
            "arn:aws:apigateway:us-east-1::/apis/w1/stages/live"
        );
        assert_eq!(asset.properties["protocolType"], "WEBSOCKET");
        assert_eq!(asset.properties["defaultRouteLoggingLevel"], "INFO");
        assert_eq!(asset.properties["routeCount"], 2);
        assert_eq!(
            asset.properties["accessLogDestinationArn"],
            "arn:aws:logs:us-east-1:123456789012:log-group:chat"
        );
        let route = Route::builder()
            .route_id("r1")
            .route_key("$connect")
            .authorization_type(AuthorizationType::AwsIam)
            .build();
        let asset = v2_route_asset("123456789012", "us-east-1", &api, &route);
        assert_eq!(asset.properties["authorizationType"], "AWS_IAM");
        assert_eq!(asset.properties["routeKey"], "$connect");
        let bare = Route::builder().route_id("r2").route_key("GET /").build();
        let asset = v2_route_asset("123456789012", "us-east-1", &api, &bare);
        assert_eq!(asset.properties["authorizationType"], "NONE");
    }
}
