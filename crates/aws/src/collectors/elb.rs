//! Elastic Load Balancing: Application, Network and Gateway Load Balancers
//! (`AWS::ElasticLoadBalancingV2::LoadBalancer`, API `elbv2`) with their
//! attributes and listeners, and Classic Load Balancers
//! (`AWS::ElasticLoadBalancing::LoadBalancer`, API `elb`) with their
//! attributes and, when they terminate TLS, their policies.
//!
//! Per region, v2: `DescribeLoadBalancers` (400 a page) once,
//! `DescribeTags` per 20 load balancers, and per load balancer
//! `DescribeLoadBalancerAttributes` and `DescribeListeners` (400 a page).
//! Classic: `DescribeLoadBalancers` (400 a page) once, `DescribeTags` per
//! 20 load balancers, per load balancer `DescribeLoadBalancerAttributes`,
//! and `DescribeLoadBalancerPolicies` only for load balancers with an
//! HTTPS or SSL listener (the TLS negotiation policy).
//!
//! The v2 attributes come as `key=value` strings with dotted keys; the asset
//! gives the ones checks use typed under `attributes` (`accessLogs`,
//! `deletionProtection`, `dropInvalidHeaderFields`, `desyncMitigationMode`,
//! `crossZoneEnabled`; `null` when the API did not return the key) and the
//! whole list as `attributes.all` (`[{key, value}]`).

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancing::types::{
    LoadBalancerAttributes as ClassicAttributes, LoadBalancerDescription, PolicyDescription,
};
use aws_sdk_elasticloadbalancingv2::types::{
    Action, Listener, LoadBalancer, LoadBalancerAttribute,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects load balancers (v2 and Classic).
#[derive(Debug)]
pub struct Elb;

static META: CollectorMeta = CollectorMeta {
    service: "elb",
    scope: Scope::Regional,
    operations: &[
        op!("elbv2", "DescribeLoadBalancers" => "elasticloadbalancing:DescribeLoadBalancers"),
        op!("elbv2", "DescribeLoadBalancerAttributes" => "elasticloadbalancing:DescribeLoadBalancerAttributes"),
        op!("elbv2", "DescribeListeners" => "elasticloadbalancing:DescribeListeners"),
        op!("elbv2", "DescribeTags" => "elasticloadbalancing:DescribeTags"),
        op!("elb", "DescribeLoadBalancers" => "elasticloadbalancing:DescribeLoadBalancers"),
        op!("elb", "DescribeLoadBalancerAttributes" => "elasticloadbalancing:DescribeLoadBalancerAttributes"),
        op!("elb", "DescribeLoadBalancerPolicies" => "elasticloadbalancing:DescribeLoadBalancerPolicies"),
        op!("elb", "DescribeTags" => "elasticloadbalancing:DescribeTags"),
    ],
    resource_types: &[V2_TYPE, CLASSIC_TYPE],
};

/// Resource type of Application, Network and Gateway Load Balancers.
pub const V2_TYPE: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";
/// Resource type of Classic Load Balancers.
pub const CLASSIC_TYPE: &str = "AWS::ElasticLoadBalancing::LoadBalancer";

/// Load balancers per `DescribeTags` call (the API's maximum).
const TAG_BATCH: usize = 20;

/// Tags of one load balancer, or why they could not be read.
type TagsOrFailure = Result<BTreeMap<String, String>, CallFailure>;

/// Tags by load balancer (ARN for v2, name for Classic).
type TagIndex = BTreeMap<String, TagsOrFailure>;

impl Collector for Elb {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            futures::join!(collect_v2(ctx), collect_classic(ctx));
        })
    }
}

/// Application, Network and Gateway Load Balancers.
async fn collect_v2(ctx: &CollectContext<'_>) {
    let client = ctx.access().elbv2(ctx.region());
    let Ok(pages) = ctx
        .pages(
            "DescribeLoadBalancers",
            client
                .describe_load_balancers()
                .page_size(400)
                .into_paginator()
                .send(),
        )
        .await
    else {
        return;
    };
    let lbs: Vec<LoadBalancer> = pages
        .into_iter()
        .flat_map(|p| p.load_balancers.unwrap_or_default())
        .collect();
    let arns: Vec<String> = lbs
        .iter()
        .filter_map(|lb| lb.load_balancer_arn().map(str::to_owned))
        .collect();
    let client = &client;
    let tags: TagIndex = futures::stream::iter(arns.chunks(TAG_BATCH).map(<[String]>::to_vec))
        .map(|batch| async move {
            let out = ctx
                .call(
                    "DescribeTags",
                    client
                        .describe_tags()
                        .set_resource_arns(Some(batch.clone()))
                        .send(),
                )
                .await;
            batch_tags(
                &batch,
                out.map(|o| {
                    o.tag_descriptions()
                        .iter()
                        .filter_map(|d| {
                            d.resource_arn().map(|arn| {
                                (
                                    arn.to_owned(),
                                    tag_map(d.tags().iter().map(|t| (t.key(), t.value()))),
                                )
                            })
                        })
                        .collect()
                }),
            )
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    let tags = &tags;
    futures::stream::iter(lbs)
        .map(|lb| async move {
            let arn = lb.load_balancer_arn().unwrap_or_default();
            let (attributes, listeners) = futures::join!(
                ctx.call(
                    "DescribeLoadBalancerAttributes",
                    client
                        .describe_load_balancer_attributes()
                        .load_balancer_arn(arn)
                        .send()
                ),
                ctx.pages(
                    "DescribeListeners",
                    client
                        .describe_listeners()
                        .load_balancer_arn(arn)
                        .page_size(400)
                        .into_paginator()
                        .send()
                ),
            );
            let attributes = attributes.map(|o| o.attributes.unwrap_or_default());
            let listeners = listeners.map(|pages| {
                pages
                    .into_iter()
                    .flat_map(|p| p.listeners.unwrap_or_default())
                    .collect::<Vec<_>>()
            });
            let empty = Ok(BTreeMap::new());
            let lb_tags = tags.get(arn).unwrap_or(&empty);
            ctx.emit(v2_asset(
                ctx.account(),
                ctx.region(),
                &lb,
                attributes.as_deref(),
                listeners.as_deref(),
                lb_tags.as_ref(),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// Spreads one `DescribeTags` answer (or its failure) over the batch.
fn batch_tags(
    batch: &[String],
    out: Result<BTreeMap<String, BTreeMap<String, String>>, CallFailure>,
) -> Vec<(String, TagsOrFailure)> {
    batch
        .iter()
        .map(|key| {
            let tags = match &out {
                Ok(found) => Ok(found.get(key).cloned().unwrap_or_default()),
                Err(failure) => Err(failure.clone()),
            };
            (key.clone(), tags)
        })
        .collect()
}

/// Classic Load Balancers.
async fn collect_classic(ctx: &CollectContext<'_>) {
    let client = ctx.access().elb(ctx.region());
    let Ok(pages) = ctx
        .pages(
            "DescribeLoadBalancers",
            client
                .describe_load_balancers()
                .page_size(400)
                .into_paginator()
                .send(),
        )
        .await
    else {
        return;
    };
    let lbs: Vec<LoadBalancerDescription> = pages
        .into_iter()
        .flat_map(|p| p.load_balancer_descriptions.unwrap_or_default())
        .collect();
    let names: Vec<String> = lbs
        .iter()
        .filter_map(|lb| lb.load_balancer_name().map(str::to_owned))
        .collect();
    let client = &client;
    let tags: TagIndex = futures::stream::iter(names.chunks(TAG_BATCH).map(<[String]>::to_vec))
        .map(|batch| async move {
            let out = ctx
                .call(
                    "DescribeTags",
                    client
                        .describe_tags()
                        .set_load_balancer_names(Some(batch.clone()))
                        .send(),
                )
                .await;
            batch_tags(
                &batch,
                out.map(|o| {
                    o.tag_descriptions()
                        .iter()
                        .filter_map(|d| {
                            d.load_balancer_name().map(|name| {
                                (
                                    name.to_owned(),
                                    tag_map(d.tags().iter().map(|t| (Some(t.key()), t.value()))),
                                )
                            })
                        })
                        .collect()
                }),
            )
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    let tags = &tags;
    futures::stream::iter(lbs)
        .map(|lb| async move {
            let name = lb.load_balancer_name().unwrap_or_default();
            let terminates_tls = lb
                .listener_descriptions()
                .iter()
                .any(|d| d.listener().is_some_and(|l| is_tls_protocol(l.protocol())));
            let attributes = async {
                ctx.call(
                    "DescribeLoadBalancerAttributes",
                    client
                        .describe_load_balancer_attributes()
                        .load_balancer_name(name)
                        .send(),
                )
                .await
                .map(|o| o.load_balancer_attributes)
            };
            let policies = async {
                if !terminates_tls {
                    return Ok(Vec::new());
                }
                ctx.call(
                    "DescribeLoadBalancerPolicies",
                    client
                        .describe_load_balancer_policies()
                        .load_balancer_name(name)
                        .send(),
                )
                .await
                .map(|o| o.policy_descriptions.unwrap_or_default())
            };
            let (attributes, policies) = futures::join!(attributes, policies);
            let empty = Ok(BTreeMap::new());
            let lb_tags = tags.get(name).unwrap_or(&empty);
            ctx.emit(classic_asset(
                ctx.account(),
                ctx.region(),
                &lb,
                attributes.as_ref().map(Option::as_ref),
                policies.as_deref(),
                lb_tags.as_ref(),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// Whether a Classic listener protocol terminates TLS (`HTTPS`, `SSL`).
fn is_tls_protocol(protocol: &str) -> bool {
    protocol.eq_ignore_ascii_case("HTTPS") || protocol.eq_ignore_ascii_case("SSL")
}

/// A v2 attribute value by key.
fn attribute<'a>(attributes: &'a [LoadBalancerAttribute], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.key() == Some(key))
        .and_then(LoadBalancerAttribute::value)
}

/// A `"true"`/`"false"` attribute as a JSON boolean (`null` when absent).
fn bool_attribute(attributes: &[LoadBalancerAttribute], key: &str) -> Value {
    attribute(attributes, key).map_or(Value::Null, |v| Value::Bool(v.eq_ignore_ascii_case("true")))
}

/// One listener action as JSON.
fn action_json(action: &Action) -> Value {
    json!({
        "type": opt_str(action.r#type().map(|t| t.as_str())),
        "order": action.order(),
        "targetGroupArn": opt_str(action.target_group_arn()),
        "redirectConfig": action.redirect_config().map_or(Value::Null, |r| json!({
            "protocol": opt_str(r.protocol()),
            "port": opt_str(r.port()),
            "host": opt_str(r.host()),
            "path": opt_str(r.path()),
            "query": opt_str(r.query()),
            "statusCode": opt_str(r.status_code().map(|s| s.as_str())),
        })),
    })
}

/// One v2 listener as JSON.
fn listener_json(listener: &Listener) -> Value {
    json!({
        "listenerArn": opt_str(listener.listener_arn()),
        "port": listener.port(),
        "protocol": opt_str(listener.protocol().map(|p| p.as_str())),
        "sslPolicy": opt_str(listener.ssl_policy()),
        "certificates": listener
            .certificates()
            .iter()
            .filter_map(|c| c.certificate_arn())
            .collect::<Vec<_>>(),
        "alpnPolicy": listener.alpn_policy(),
        "defaultActions": listener.default_actions().iter().map(action_json).collect::<Vec<_>>(),
    })
}

/// The `AWS::ElasticLoadBalancingV2::LoadBalancer` asset.
pub fn v2_asset(
    account: &str,
    region: &str,
    lb: &LoadBalancer,
    attributes: Result<&[LoadBalancerAttribute], &CallFailure>,
    listeners: Result<&[Listener], &CallFailure>,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    let arn = lb.load_balancer_arn().unwrap_or_default();
    let name = lb.load_balancer_name().unwrap_or_default();
    let attributes_json = attributes.map_or(Value::Null, |a| {
        json!({
            "accessLogs": {
                "enabled": bool_attribute(a, "access_logs.s3.enabled"),
                "bucket": opt_str(attribute(a, "access_logs.s3.bucket").filter(|b| !b.is_empty())),
                "prefix": opt_str(attribute(a, "access_logs.s3.prefix").filter(|b| !b.is_empty())),
            },
            "deletionProtection": bool_attribute(a, "deletion_protection.enabled"),
            "dropInvalidHeaderFields": bool_attribute(a, "routing.http.drop_invalid_header_fields.enabled"),
            "desyncMitigationMode": opt_str(attribute(a, "routing.http.desync_mitigation_mode")),
            "crossZoneEnabled": bool_attribute(a, "load_balancing.cross_zone.enabled"),
            "all": a.iter().map(|x| json!({"key": x.key(), "value": x.value()})).collect::<Vec<_>>(),
        })
    });
    let properties = json!({
        "loadBalancerArn": arn,
        "loadBalancerName": name,
        "type": opt_str(lb.r#type().map(|t| t.as_str())),
        "scheme": opt_str(lb.scheme().map(|s| s.as_str())),
        "state": opt_str(lb.state().and_then(|s| s.code()).map(|c| c.as_str())),
        "dnsName": opt_str(lb.dns_name()),
        "vpcId": opt_str(lb.vpc_id()),
        "ipAddressType": opt_str(lb.ip_address_type().map(|t| t.as_str())),
        "securityGroups": lb.security_groups(),
        "availabilityZones": lb.availability_zones().iter().map(|z| json!({
            "zoneName": opt_str(z.zone_name()),
            "subnetId": opt_str(z.subnet_id()),
        })).collect::<Vec<_>>(),
        "createdTime": opt_timestamp(lb.created_time()),
        "attributes": attributes_json,
        "listeners": listeners.map_or(Value::Null, |l| Value::Array(l.iter().map(listener_json).collect())),
    });
    let mut asset = Asset::new(arn, V2_TYPE, account, region, name, properties);
    if let Err(failure) = attributes {
        asset.mark_unavailable("attributes", failure.to_string());
    }
    if let Err(failure) = listeners {
        asset.mark_unavailable("listeners", failure.to_string());
    }
    match tags {
        Ok(tags) => asset.with_tags(tags.clone()),
        Err(failure) => {
            asset.mark_unavailable("tags", failure.to_string());
            asset
        }
    }
}

/// One Classic policy as JSON (attributes as a `[{name, value}]` list:
/// their names contain dots).
fn policy_json(policy: &PolicyDescription) -> Value {
    json!({
        "policyName": opt_str(policy.policy_name()),
        "policyTypeName": opt_str(policy.policy_type_name()),
        "attributes": policy.policy_attribute_descriptions().iter().map(|a| json!({
            "name": opt_str(a.attribute_name()),
            "value": opt_str(a.attribute_value()),
        })).collect::<Vec<_>>(),
    })
}

/// Classic attributes as JSON; `desyncMitigationMode` is lifted out of the
/// additional attributes (`elb.http.desyncmitigationmode`).
fn classic_attributes_json(a: &ClassicAttributes) -> Value {
    let desync = a
        .additional_attributes()
        .iter()
        .find(|x| x.key() == Some("elb.http.desyncmitigationmode"))
        .and_then(|x| x.value());
    json!({
        "crossZoneLoadBalancing": a.cross_zone_load_balancing().map_or(Value::Null, |c| json!({"enabled": c.enabled()})),
        "accessLog": a.access_log().map_or(Value::Null, |l| json!({
            "enabled": l.enabled(),
            "s3BucketName": opt_str(l.s3_bucket_name()),
            "s3BucketPrefix": opt_str(l.s3_bucket_prefix()),
            "emitInterval": l.emit_interval(),
        })),
        "connectionDraining": a.connection_draining().map_or(Value::Null, |c| json!({
            "enabled": c.enabled(),
            "timeout": c.timeout(),
        })),
        "connectionSettings": a.connection_settings().map_or(Value::Null, |c| json!({"idleTimeout": c.idle_timeout()})),
        "desyncMitigationMode": opt_str(desync),
        "additionalAttributes": a.additional_attributes().iter().map(|x| json!({"key": x.key(), "value": x.value()})).collect::<Vec<_>>(),
    })
}

/// The `AWS::ElasticLoadBalancing::LoadBalancer` asset. `attributes` is
/// `Ok(None)` when the API returned no attributes; `policies` is empty
/// (not read) for load balancers without an HTTPS or SSL listener.
pub fn classic_asset(
    account: &str,
    region: &str,
    lb: &LoadBalancerDescription,
    attributes: Result<Option<&ClassicAttributes>, &CallFailure>,
    policies: Result<&[PolicyDescription], &CallFailure>,
    tags: Result<&BTreeMap<String, String>, &CallFailure>,
) -> Asset {
    let name = lb.load_balancer_name().unwrap_or_default();
    let arn = format!(
        "arn:{}:elasticloadbalancing:{region}:{account}:loadbalancer/{name}",
        partition(region)
    );
    let listeners: Vec<Value> = lb
        .listener_descriptions()
        .iter()
        .filter_map(|d| {
            d.listener().map(|l| {
                json!({
                    "protocol": l.protocol(),
                    "loadBalancerPort": l.load_balancer_port(),
                    "instanceProtocol": opt_str(l.instance_protocol()),
                    "instancePort": l.instance_port(),
                    "sslCertificateId": opt_str(l.ssl_certificate_id()),
                    "policyNames": d.policy_names(),
                })
            })
        })
        .collect();
    let properties = json!({
        "loadBalancerName": name,
        "dnsName": opt_str(lb.dns_name()),
        "scheme": opt_str(lb.scheme()),
        "vpcId": opt_str(lb.vpc_id()),
        "availabilityZones": lb.availability_zones(),
        "subnets": lb.subnets(),
        "securityGroups": lb.security_groups(),
        "instances": lb.instances().iter().filter_map(|i| i.instance_id()).collect::<Vec<_>>(),
        "createdTime": opt_timestamp(lb.created_time()),
        "listeners": listeners,
        "attributes": attributes.ok().flatten().map_or(Value::Null, classic_attributes_json),
        "policies": policies.map_or(Value::Null, |p| Value::Array(p.iter().map(policy_json).collect())),
    });
    let mut asset = Asset::new(arn, CLASSIC_TYPE, account, region, name, properties);
    if let Err(failure) = attributes {
        asset.mark_unavailable("attributes", failure.to_string());
    }
    if let Err(failure) = policies {
        asset.mark_unavailable("policies", failure.to_string());
    }
    match tags {
        Ok(tags) => asset.with_tags(tags.clone()),
        Err(failure) => {
            asset.mark_unavailable("tags", failure.to_string());
            asset
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancing::types::{
        AccessLog, AdditionalAttribute, ConnectionDraining, CrossZoneLoadBalancing,
        Listener as ClassicListener, ListenerDescription, PolicyAttributeDescription,
    };
    use aws_sdk_elasticloadbalancingv2::types::{
        ActionTypeEnum, AvailabilityZone, Certificate, LoadBalancerSchemeEnum,
        LoadBalancerTypeEnum, ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum,
    };
    use rampart_model::GapKind;

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDenied".into()),
            message: "AccessDenied: not authorized".into(),
        }
    }

    const ALB: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/abc";

    fn alb() -> LoadBalancer {
        LoadBalancer::builder()
            .load_balancer_arn(ALB)
            .load_balancer_name("web")
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .availability_zones(
                AvailabilityZone::builder()
                    .zone_name("us-east-1a")
                    .subnet_id("subnet-a")
                    .build(),
            )
            .availability_zones(
                AvailabilityZone::builder()
                    .zone_name("us-east-1b")
                    .subnet_id("subnet-b")
                    .build(),
            )
            .build()
    }

    fn attr(key: &str, value: &str) -> LoadBalancerAttribute {
        LoadBalancerAttribute::builder()
            .key(key)
            .value(value)
            .build()
    }

    #[test]
    fn maps_an_alb_with_attributes_and_listeners() {
        let attributes = vec![
            attr("access_logs.s3.enabled", "true"),
            attr("access_logs.s3.bucket", "logs"),
            attr("access_logs.s3.prefix", ""),
            attr("deletion_protection.enabled", "false"),
            attr("routing.http.drop_invalid_header_fields.enabled", "true"),
            attr("routing.http.desync_mitigation_mode", "monitor"),
        ];
        let listeners = vec![
            Listener::builder()
                .port(80)
                .protocol(ProtocolEnum::Http)
                .default_actions(
                    Action::builder()
                        .r#type(ActionTypeEnum::Redirect)
                        .redirect_config(
                            RedirectActionConfig::builder()
                                .protocol("HTTPS")
                                .port("443")
                                .status_code(RedirectActionStatusCodeEnum::Http301)
                                .build(),
                        )
                        .build(),
                )
                .build(),
            Listener::builder()
                .port(443)
                .protocol(ProtocolEnum::Https)
                .ssl_policy("ELBSecurityPolicy-TLS13-1-2-2021-06")
                .certificates(
                    Certificate::builder()
                        .certificate_arn("arn:aws:acm:us-east-1:1:certificate/x")
                        .build(),
                )
                .build(),
        ];
        let tags = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let asset = v2_asset(
            "123456789012",
            "us-east-1",
            &alb(),
            Ok(&attributes),
            Ok(&listeners),
            Ok(&tags),
        );
        assert_eq!(asset.arn, ALB);
        assert_eq!(asset.resource_type, V2_TYPE);
        let p = &asset.properties;
        assert_eq!(p["type"], "application");
        assert_eq!(p["scheme"], "internet-facing");
        assert_eq!(p["availabilityZones"][1]["zoneName"], "us-east-1b");
        assert_eq!(p["attributes"]["accessLogs"]["enabled"], true);
        assert_eq!(p["attributes"]["accessLogs"]["bucket"], "logs");
        assert_eq!(p["attributes"]["accessLogs"]["prefix"], Value::Null);
        assert_eq!(p["attributes"]["deletionProtection"], false);
        assert_eq!(p["attributes"]["dropInvalidHeaderFields"], true);
        assert_eq!(p["attributes"]["desyncMitigationMode"], "monitor");
        assert_eq!(p["attributes"]["crossZoneEnabled"], Value::Null);
        assert_eq!(p["listeners"][0]["protocol"], "HTTP");
        assert_eq!(p["listeners"][0]["defaultActions"][0]["type"], "redirect");
        assert_eq!(
            p["listeners"][0]["defaultActions"][0]["redirectConfig"]["protocol"],
            "HTTPS"
        );
        assert_eq!(
            p["listeners"][0]["defaultActions"][0]["redirectConfig"]["statusCode"],
            "HTTP_301"
        );
        assert_eq!(
            p["listeners"][1]["sslPolicy"],
            "ELBSecurityPolicy-TLS13-1-2-2021-06"
        );
        assert_eq!(
            p["listeners"][1]["certificates"][0],
            "arn:aws:acm:us-east-1:1:certificate/x"
        );
        assert_eq!(asset.tags["env"], "prod");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn v2_failures_are_unavailable_not_empty() {
        let failure = denied();
        let asset = v2_asset(
            "123456789012",
            "us-east-1",
            &alb(),
            Err(&failure),
            Err(&failure),
            Err(&failure),
        );
        assert_eq!(asset.properties["attributes"], Value::Null);
        assert_eq!(asset.properties["listeners"], Value::Null);
        for key in ["attributes", "listeners", "tags"] {
            assert!(asset.unavailable[key].contains("AccessDenied"), "{key}");
        }
    }

    fn classic(https: bool) -> LoadBalancerDescription {
        let mut lb = LoadBalancerDescription::builder()
            .load_balancer_name("legacy")
            .availability_zones("us-east-1a")
            .listener_descriptions(
                ListenerDescription::builder()
                    .listener(
                        ClassicListener::builder()
                            .protocol("HTTP")
                            .load_balancer_port(80)
                            .instance_port(80)
                            .build()
                            .unwrap_or_else(|_| unreachable!()),
                    )
                    .build(),
            );
        if https {
            lb = lb.listener_descriptions(
                ListenerDescription::builder()
                    .listener(
                        ClassicListener::builder()
                            .protocol("HTTPS")
                            .load_balancer_port(443)
                            .instance_port(80)
                            .ssl_certificate_id("arn:aws:iam::123456789012:server-certificate/old")
                            .build()
                            .unwrap_or_else(|_| unreachable!()),
                    )
                    .policy_names("tls")
                    .build(),
            );
        }
        lb.build()
    }

    #[test]
    fn maps_a_classic_load_balancer() {
        let attributes = ClassicAttributes::builder()
            .cross_zone_load_balancing(CrossZoneLoadBalancing::builder().enabled(false).build())
            .access_log(AccessLog::builder().enabled(false).build())
            .connection_draining(
                ConnectionDraining::builder()
                    .enabled(true)
                    .timeout(300)
                    .build(),
            )
            .additional_attributes(
                AdditionalAttribute::builder()
                    .key("elb.http.desyncmitigationmode")
                    .value("defensive")
                    .build(),
            )
            .build();
        let policies = vec![
            PolicyDescription::builder()
                .policy_name("tls")
                .policy_type_name("SSLNegotiationPolicyType")
                .policy_attribute_descriptions(
                    PolicyAttributeDescription::builder()
                        .attribute_name("Reference-Security-Policy")
                        .attribute_value("ELBSecurityPolicy-2016-08")
                        .build(),
                )
                .build(),
        ];
        let tags = BTreeMap::new();
        let asset = classic_asset(
            "123456789012",
            "us-east-1",
            &classic(true),
            Ok(Some(&attributes)),
            Ok(&policies),
            Ok(&tags),
        );
        assert_eq!(
            asset.arn,
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/legacy"
        );
        assert_eq!(asset.resource_type, CLASSIC_TYPE);
        let p = &asset.properties;
        assert_eq!(p["availabilityZones"], json!(["us-east-1a"]));
        assert_eq!(p["listeners"][0]["protocol"], "HTTP");
        assert_eq!(
            p["listeners"][1]["sslCertificateId"],
            "arn:aws:iam::123456789012:server-certificate/old"
        );
        assert_eq!(p["listeners"][1]["policyNames"], json!(["tls"]));
        assert_eq!(p["attributes"]["crossZoneLoadBalancing"]["enabled"], false);
        assert_eq!(p["attributes"]["accessLog"]["enabled"], false);
        assert_eq!(p["attributes"]["connectionDraining"]["enabled"], true);
        assert_eq!(p["attributes"]["desyncMitigationMode"], "defensive");
        assert_eq!(
            p["policies"][0]["attributes"][0]["value"],
            "ELBSecurityPolicy-2016-08"
        );
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn classic_failures_are_unavailable() {
        let failure = denied();
        let asset = classic_asset(
            "123456789012",
            "us-east-1",
            &classic(true),
            Err(&failure),
            Err(&failure),
            Err(&failure),
        );
        for key in ["attributes", "policies", "tags"] {
            assert!(asset.unavailable.contains_key(key), "{key}");
        }
        assert!(is_tls_protocol("ssl") && !is_tls_protocol("TCP"));
    }

    #[test]
    fn tag_batches_spread_results_and_failures() {
        let batch = vec!["a".to_owned(), "b".to_owned()];
        let found = BTreeMap::from([(
            "a".to_owned(),
            BTreeMap::from([("k".to_owned(), "v".to_owned())]),
        )]);
        let spread = batch_tags(&batch, Ok(found));
        assert_eq!(spread[0].1.as_ref().map(|t| t.len()), Ok(1));
        assert_eq!(spread[1].1.as_ref().map(|t| t.len()), Ok(0));
        let failed = batch_tags(&batch, Err(denied()));
        assert!(failed.iter().all(|(_, t)| t.is_err()));
    }
}
