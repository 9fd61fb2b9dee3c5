//! AWS Transfer Family: servers (`AWS::Transfer::Server`) with their
//! protocols, and connectors (`AWS::Transfer::Connector`) with their
//! logging role.
//!
//! Per region: `ListServers` and `ListConnectors` (paginated) once; per
//! server `DescribeServer`, per connector `DescribeConnector`. A resource
//! deleted between the two calls (`ResourceNotFoundException`) is emitted
//! with `"deleted": true`; a failed describe marks its properties
//! unavailable.

use aws_sdk_transfer::types::{DescribedConnector, DescribedServer};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Transfer Family servers and connectors.
#[derive(Debug)]
pub struct Transfer;

static META: CollectorMeta = CollectorMeta {
    service: "transfer",
    scope: Scope::Regional,
    operations: &[
        op!("transfer", "ListServers"),
        op!("transfer", "DescribeServer"),
        op!("transfer", "ListConnectors"),
        op!("transfer", "DescribeConnector"),
    ],
    resource_types: &["AWS::Transfer::Server", "AWS::Transfer::Connector"],
};

/// Error code of a resource deleted since it was listed.
const GONE: &[&str] = &["ResourceNotFoundException"];

/// Properties read by `DescribeServer`.
const SERVER_PROPERTIES: &[&str] = &["protocols", "state", "endpointType", "loggingRole"];

/// Properties read by `DescribeConnector`.
const CONNECTOR_PROPERTIES: &[&str] = &["loggingRole", "url", "status"];

impl Collector for Transfer {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().transfer(ctx.region());
            futures::join!(
                collect_servers(ctx, &client),
                collect_connectors(ctx, &client)
            );
        })
    }
}

async fn collect_servers(ctx: &CollectContext<'_>, client: &aws_sdk_transfer::Client) {
    let Ok(pages) = ctx
        .pages(
            "ListServers",
            client
                .list_servers()
                .max_results(1000)
                .into_paginator()
                .send(),
        )
        .await
    else {
        return;
    };
    let servers: Vec<(String, String)> = pages
        .into_iter()
        .flat_map(|p| p.servers)
        .filter_map(|s| s.server_id.map(|id| (id, s.arn)))
        .collect();
    futures::stream::iter(servers)
        .map(|(id, arn)| async move {
            let described = ctx
                .call_optional(
                    "DescribeServer",
                    GONE,
                    client.describe_server().server_id(&id).send(),
                )
                .await
                .map(|o| o.and_then(|o| o.server));
            ctx.emit(server_asset(
                ctx.account(),
                ctx.region(),
                &id,
                &arn,
                described.as_ref().map(Option::as_ref),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

async fn collect_connectors(ctx: &CollectContext<'_>, client: &aws_sdk_transfer::Client) {
    let Ok(pages) = ctx
        .pages(
            "ListConnectors",
            client
                .list_connectors()
                .max_results(1000)
                .into_paginator()
                .send(),
        )
        .await
    else {
        return;
    };
    let connectors: Vec<(String, Option<String>)> = pages
        .into_iter()
        .flat_map(|p| p.connectors)
        .filter_map(|c| c.connector_id.map(|id| (id, c.arn)))
        .collect();
    futures::stream::iter(connectors)
        .map(|(id, arn)| async move {
            let described = ctx
                .call_optional(
                    "DescribeConnector",
                    GONE,
                    client.describe_connector().connector_id(&id).send(),
                )
                .await
                .map(|o| o.and_then(|o| o.connector));
            ctx.emit(connector_asset(
                ctx.account(),
                ctx.region(),
                &id,
                arn.as_deref(),
                described.as_ref().map(Option::as_ref),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// The `AWS::Transfer::Server` asset from its listed id and ARN and its
/// `DescribeServer` answer (`Ok(None)`: deleted since listed). `protocols`
/// lists `SFTP`, `FTPS`, `FTP`, `AS2`; AWS documents `SFTP` as the default
/// when a server is created without protocols, so an omitted list is
/// recorded as `["SFTP"]`.
pub fn server_asset(
    account: &str,
    region: &str,
    id: &str,
    listed_arn: &str,
    described: Result<Option<&DescribedServer>, &CallFailure>,
) -> Asset {
    let arn = described
        .ok()
        .flatten()
        .map(|s| s.arn.clone())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| listed_arn.to_owned());
    let arn = if arn.is_empty() {
        format!(
            "arn:{}:transfer:{region}:{account}:server/{id}",
            partition(region)
        )
    } else {
        arn
    };
    let mut properties = json!({
        "serverId": id,
        "arn": arn,
        "deleted": matches!(described, Ok(None)),
    });
    let mut tags = None;
    if let (Ok(Some(s)), Some(map)) = (described, properties.as_object_mut()) {
        let protocols: Vec<Value> = match s.protocols.as_deref() {
            Some(list) if !list.is_empty() => list.iter().map(|p| json!(p.as_str())).collect(),
            _ => vec![json!("SFTP")],
        };
        map.insert("protocols".into(), Value::Array(protocols));
        map.insert(
            "state".into(),
            opt_str(s.state.as_ref().map(|v| v.as_str())),
        );
        map.insert(
            "endpointType".into(),
            opt_str(s.endpoint_type.as_ref().map(|v| v.as_str())),
        );
        map.insert(
            "loggingRole".into(),
            opt_str(s.logging_role.as_deref().filter(|r| !r.is_empty())),
        );
        tags = s.tags.as_ref().map(|t| {
            tag_map(
                t.iter()
                    .map(|t| (Some(t.key.as_str()), Some(t.value.as_str()))),
            )
        });
    }
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::Transfer::Server",
        account,
        region,
        id,
        properties,
    );
    if let Some(tags) = tags {
        asset = asset.with_tags(tags);
    }
    if let Err(failure) = described {
        for key in SERVER_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

/// The `AWS::Transfer::Connector` asset from its listed id and ARN and its
/// `DescribeConnector` answer (`Ok(None)`: deleted since listed).
/// `loggingRole` is the IAM role the connector logs to CloudWatch with,
/// `null` when none is set.
pub fn connector_asset(
    account: &str,
    region: &str,
    id: &str,
    listed_arn: Option<&str>,
    described: Result<Option<&DescribedConnector>, &CallFailure>,
) -> Asset {
    let arn = described
        .ok()
        .flatten()
        .map(|c| c.arn.as_str())
        .or(listed_arn)
        .filter(|a| !a.is_empty())
        .map_or_else(
            || {
                format!(
                    "arn:{}:transfer:{region}:{account}:connector/{id}",
                    partition(region)
                )
            },
            str::to_owned,
        );
    let mut properties = json!({
        "connectorId": id,
        "arn": arn,
        "deleted": matches!(described, Ok(None)),
    });
    if let (Ok(Some(c)), Some(map)) = (described, properties.as_object_mut()) {
        map.insert(
            "loggingRole".into(),
            opt_str(c.logging_role.as_deref().filter(|r| !r.is_empty())),
        );
        map.insert("url".into(), opt_str(c.url.as_deref()));
        map.insert("status".into(), json!(c.status.as_str()));
    }
    let mut asset = Asset::new(
        arn.clone(),
        "AWS::Transfer::Connector",
        account,
        region,
        id,
        properties,
    );
    if let Err(failure) = described {
        for key in CONNECTOR_PROPERTIES {
            asset.mark_unavailable(key, failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_transfer::types::{ConnectorEgressType, ConnectorStatus, Protocol, State};

    #[test]
    fn maps_servers_and_their_protocols() {
        let s = DescribedServer::builder()
            .arn("arn:aws:transfer:us-east-1:123456789012:server/s-1")
            .server_id("s-1")
            .protocols(Protocol::Ftp)
            .protocols(Protocol::Sftp)
            .state(State::Online)
            .build()
            .unwrap();
        let asset = server_asset("123456789012", "us-east-1", "s-1", "", Ok(Some(&s)));
        assert_eq!(
            asset.arn,
            "arn:aws:transfer:us-east-1:123456789012:server/s-1"
        );
        assert_eq!(asset.properties["protocols"], json!(["FTP", "SFTP"]));
        assert_eq!(asset.properties["state"], "ONLINE");
        let bare = DescribedServer::builder().arn("arn:x").build().unwrap();
        let asset = server_asset("123456789012", "us-east-1", "s-2", "", Ok(Some(&bare)));
        assert_eq!(asset.properties["protocols"], json!(["SFTP"]));
        let gone = server_asset("123456789012", "us-east-1", "s-3", "", Ok(None));
        assert_eq!(
            gone.arn,
            "arn:aws:transfer:us-east-1:123456789012:server/s-3"
        );
        assert_eq!(gone.properties["deleted"], true);
    }

    #[test]
    fn maps_connectors() {
        let c = DescribedConnector::builder()
            .arn("arn:aws:transfer:us-east-1:123456789012:connector/c-1")
            .connector_id("c-1")
            .url("sftp://partner.example.com")
            .egress_type(ConnectorEgressType::ServiceManaged)
            .status(ConnectorStatus::Active)
            .build()
            .unwrap();
        let asset = connector_asset("123456789012", "us-east-1", "c-1", None, Ok(Some(&c)));
        assert_eq!(asset.properties["loggingRole"], Value::Null);
        assert_eq!(asset.properties["status"], "ACTIVE");
    }
}
