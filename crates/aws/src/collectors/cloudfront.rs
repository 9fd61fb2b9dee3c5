//! CloudFront: distributions (`AWS::CloudFront::Distribution`), a global
//! service collected once per account.
//!
//! `ListDistributions` (100 a page) gives each distribution's origins,
//! origin groups, cache behaviors, viewer certificate and web ACL; the
//! default root object and the (standard, S3) access-log settings are only
//! in the full configuration, read per distribution with
//! `GetDistributionConfig` (a failed read marks `defaultRootObject` and
//! `logging` unavailable; `NoSuchDistribution` means the distribution was
//! deleted after the list, `deleted: true`).
//!
//! S3 origins (origins with an `S3OriginConfig`, whose domain is a bucket's
//! REST endpoint) name a bucket; each such bucket is probed once with
//! `HeadBucket`: `404` means the bucket does not exist (`s3BucketExists:
//! false`), a success, `301` (another region) or `403` (another owner)
//! means it exists. Any other failure is a gap and leaves the field `null`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudfront::types::{
    CacheBehavior, DefaultCacheBehavior, DistributionConfig, DistributionSummary, Origin,
    OriginGroup, ViewerCertificate,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp};
use crate::error::classify;
use crate::op;
use crate::scan::CollectContext;

/// Collects CloudFront distributions.
#[derive(Debug)]
pub struct CloudFront;

/// Resource type of CloudFront distributions.
pub const DISTRIBUTION_TYPE: &str = "AWS::CloudFront::Distribution";

static META: CollectorMeta = CollectorMeta {
    service: "cloudfront",
    scope: Scope::Global,
    operations: &[
        op!("cloudfront", "ListDistributions"),
        op!("cloudfront", "GetDistributionConfig"),
        op!("s3", "HeadBucket" => "s3:ListBucket"),
    ],
    resource_types: &[DISTRIBUTION_TYPE],
};

impl Collector for CloudFront {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().cloudfront(ctx.region());
            let Ok(pages) = ctx
                .pages(
                    "ListDistributions",
                    client
                        .list_distributions()
                        .max_items(100)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let summaries: Vec<DistributionSummary> = pages
                .iter()
                .filter_map(|p| p.distribution_list())
                .flat_map(|l| l.items().iter().cloned())
                .collect();
            let buckets: BTreeSet<String> = summaries
                .iter()
                .flat_map(|d| d.origins().map(|o| o.items()).unwrap_or_default())
                .filter_map(origin_bucket)
                .collect();
            let s3 = ctx.access().s3(ctx.region());
            let s3 = &s3;
            let exists: BTreeMap<String, Option<bool>> = futures::stream::iter(buckets)
                .map(|bucket| async move {
                    let found = bucket_exists(ctx, s3, &bucket).await;
                    (bucket, found)
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            let client = &client;
            let exists = &exists;
            futures::stream::iter(summaries)
                .map(|summary| async move {
                    let summary = &summary;
                    let config = ctx
                        .call_optional(
                            "GetDistributionConfig",
                            &["NoSuchDistribution"],
                            client.get_distribution_config().id(summary.id()).send(),
                        )
                        .await;
                    let mut asset =
                        distribution_asset(ctx.account(), ctx.region(), summary, exists);
                    match config {
                        Ok(Some(out)) => apply_config(&mut asset, out.distribution_config()),
                        Ok(None) => asset.set_property("deleted", Value::Bool(true)),
                        Err(failure) => {
                            asset.mark_unavailable("defaultRootObject", failure.to_string());
                            asset.mark_unavailable("logging", failure.to_string());
                        }
                    }
                    ctx.emit(asset);
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// Whether `bucket` exists: `Some(false)` on `404`, `Some(true)` on
/// success, `301` or `403`; `None` (and a gap) on any other failure.
async fn bucket_exists(
    ctx: &CollectContext<'_>,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Option<bool> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Some(true),
        Err(err) => match err.raw_response().map(|r| r.status().as_u16()) {
            Some(404) => Some(false),
            Some(301 | 403) => Some(true),
            _ => {
                ctx.gap("HeadBucket", &classify(&err));
                None
            }
        },
    }
}

/// The bucket an S3 origin's REST endpoint names
/// (`<bucket>.s3.amazonaws.com`, `<bucket>.s3.<region>.amazonaws.com`,
/// `<bucket>.s3-<region>.amazonaws.com`, dual-stack forms); `None` for
/// other origins, including S3 website endpoints (custom origins).
pub fn origin_bucket(origin: &Origin) -> Option<String> {
    origin.s3_origin_config()?;
    bucket_of_domain(origin.domain_name())
}

/// The bucket name of an S3 REST endpoint domain.
pub fn bucket_of_domain(domain: &str) -> Option<String> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if domain.contains(".s3-website") {
        return None;
    }
    let rest = domain
        .strip_suffix(".amazonaws.com")
        .or_else(|| domain.strip_suffix(".amazonaws.com.cn"))?;
    // The last `.s3.` / `.s3-` separates the bucket from the endpoint.
    let at = [rest.rfind(".s3."), rest.rfind(".s3-")]
        .into_iter()
        .flatten()
        .max()
        .or_else(|| rest.strip_suffix(".s3").map(str::len))?;
    let bucket = rest.get(..at)?;
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

fn origin_json(origin: &Origin, exists: &BTreeMap<String, Option<bool>>) -> Value {
    let bucket = origin_bucket(origin);
    let bucket_exists = bucket
        .as_ref()
        .and_then(|b| exists.get(b).copied().flatten());
    json!({
        "id": origin.id(),
        "domainName": origin.domain_name(),
        "originPath": opt_str(origin.origin_path()),
        "s3Origin": origin.s3_origin_config().is_some(),
        "originAccessIdentity": opt_str(
            origin
                .s3_origin_config()
                .map(|c| c.origin_access_identity())
                .filter(|id| !id.is_empty())
        ),
        "originAccessControlId": opt_str(origin.origin_access_control_id().filter(|id| !id.is_empty())),
        "s3Bucket": bucket,
        "s3BucketExists": bucket_exists,
        "vpcOrigin": origin.vpc_origin_config().is_some(),
        "customOrigin": origin.custom_origin_config().map_or(Value::Null, |c| json!({
            "originProtocolPolicy": c.origin_protocol_policy().as_str(),
            "httpPort": c.http_port(),
            "httpsPort": c.https_port(),
            "originSslProtocols": c
                .origin_ssl_protocols()
                .map(|p| p.items().iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>())
                .unwrap_or_default(),
        })),
    })
}

fn origin_group_json(group: &OriginGroup) -> Value {
    json!({
        "id": group.id(),
        "members": group
            .members()
            .map(|m| m.items().iter().map(|i| i.origin_id().to_owned()).collect::<Vec<_>>())
            .unwrap_or_default(),
    })
}

fn default_behavior_json(b: &DefaultCacheBehavior) -> Value {
    json!({
        "pathPattern": "*",
        "targetOriginId": b.target_origin_id(),
        "viewerProtocolPolicy": b.viewer_protocol_policy().as_str(),
    })
}

fn behavior_json(b: &CacheBehavior) -> Value {
    json!({
        "pathPattern": b.path_pattern(),
        "targetOriginId": b.target_origin_id(),
        "viewerProtocolPolicy": b.viewer_protocol_policy().as_str(),
    })
}

fn certificate_json(c: &ViewerCertificate) -> Value {
    json!({
        "cloudFrontDefaultCertificate": c.cloud_front_default_certificate(),
        "acmCertificateArn": opt_str(c.acm_certificate_arn()),
        "iamCertificateId": opt_str(c.iam_certificate_id()),
        "sslSupportMethod": opt_str(c.ssl_support_method().map(|s| s.as_str())),
        "minimumProtocolVersion": opt_str(c.minimum_protocol_version().map(|s| s.as_str())),
    })
}

/// The `AWS::CloudFront::Distribution` asset of a listed distribution (in
/// the scan's home region, as global resources are).
/// `webAclId` is `null` when no web ACL is associated (the API returns an
/// empty string); `cacheBehaviors` holds the default behavior first (path
/// pattern `*`) and then the others. `defaultRootObject` and `logging` come
/// from the full configuration ([`apply_config`]) and are `null` until then.
pub fn distribution_asset(
    account: &str,
    region: &str,
    d: &DistributionSummary,
    exists: &BTreeMap<String, Option<bool>>,
) -> Asset {
    let behaviors: Vec<Value> = d
        .default_cache_behavior()
        .map(default_behavior_json)
        .into_iter()
        .chain(
            d.cache_behaviors()
                .map(|c| c.items())
                .unwrap_or_default()
                .iter()
                .map(behavior_json),
        )
        .collect();
    let properties = json!({
        "id": d.id(),
        "arn": d.arn(),
        "domainName": d.domain_name(),
        "status": d.status(),
        "enabled": d.enabled(),
        "staging": d.staging(),
        "comment": d.comment(),
        "aliases": d
            .aliases()
            .map(|a| a.items().to_vec())
            .unwrap_or_default(),
        "lastModifiedTime": opt_timestamp(Some(d.last_modified_time())),
        "webAclId": opt_str(Some(d.web_acl_id()).filter(|id| !id.is_empty())),
        "httpVersion": d.http_version().as_str(),
        "priceClass": d.price_class().as_str(),
        "origins": d
            .origins()
            .map(|o| o.items())
            .unwrap_or_default()
            .iter()
            .map(|o| origin_json(o, exists))
            .collect::<Vec<_>>(),
        "originGroups": d
            .origin_groups()
            .map(|g| g.items())
            .unwrap_or_default()
            .iter()
            .map(origin_group_json)
            .collect::<Vec<_>>(),
        "cacheBehaviors": behaviors,
        "viewerCertificate": d.viewer_certificate().map_or(Value::Null, certificate_json),
        "defaultRootObject": Value::Null,
        "logging": Value::Null,
        "deleted": false,
    });
    let name = d
        .aliases()
        .and_then(|a| a.items().first())
        .map_or_else(|| d.domain_name().to_owned(), Clone::clone);
    Asset::new(
        d.arn(),
        DISTRIBUTION_TYPE,
        account,
        region,
        format!("{} ({name})", d.id()),
        properties,
    )
}

/// Fills in what only the full configuration has: `defaultRootObject`
/// (`null` when empty) and `logging` (`{enabled, bucket, prefix}`; `enabled:
/// false` when the configuration has no logging block).
pub fn apply_config(asset: &mut Asset, config: Option<&DistributionConfig>) {
    let root = config
        .and_then(DistributionConfig::default_root_object)
        .filter(|r| !r.is_empty());
    asset.set_property("defaultRootObject", opt_str(root));
    let logging = config.and_then(DistributionConfig::logging);
    asset.set_property(
        "logging",
        json!({
            "enabled": logging.is_some_and(|l| l.enabled()),
            "bucket": opt_str(logging.map(|l| l.bucket()).filter(|b| !b.is_empty())),
            "prefix": opt_str(logging.map(|l| l.prefix()).filter(|p| !p.is_empty())),
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudfront::types::{
        CustomOriginConfig, LoggingConfig, OriginProtocolPolicy, OriginSslProtocols, Origins,
        S3OriginConfig, SslProtocol, ViewerProtocolPolicy,
    };
    use aws_smithy_types::DateTime;

    #[test]
    fn bucket_names_from_s3_endpoints() {
        assert_eq!(
            bucket_of_domain("assets.s3.amazonaws.com").as_deref(),
            Some("assets")
        );
        assert_eq!(
            bucket_of_domain("my.site.s3.eu-west-1.amazonaws.com").as_deref(),
            Some("my.site")
        );
        assert_eq!(
            bucket_of_domain("old-bucket.s3-us-west-2.amazonaws.com").as_deref(),
            Some("old-bucket")
        );
        assert_eq!(
            bucket_of_domain("b.s3.dualstack.us-east-1.amazonaws.com").as_deref(),
            Some("b")
        );
        assert_eq!(
            bucket_of_domain("site.s3-website-us-east-1.amazonaws.com"),
            None
        );
        assert_eq!(bucket_of_domain("example.com"), None);
    }

    #[test]
    fn maps_a_distribution_and_its_config() {
        let s3 = Origin::builder()
            .id("s3")
            .domain_name("assets.s3.amazonaws.com")
            .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
            .origin_access_control_id("E2OAC")
            .build()
            .ok();
        let custom = Origin::builder()
            .id("api")
            .domain_name("api.example.com")
            .custom_origin_config(
                CustomOriginConfig::builder()
                    .http_port(80)
                    .https_port(443)
                    .origin_protocol_policy(OriginProtocolPolicy::HttpOnly)
                    .origin_ssl_protocols(
                        OriginSslProtocols::builder()
                            .quantity(1)
                            .items(SslProtocol::SsLv3)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
            .ok();
        let origins = Origins::builder()
            .quantity(2)
            .set_items(Some(s3.into_iter().chain(custom).collect()))
            .build()
            .ok();
        let summary = DistributionSummary::builder()
            .id("E1ABC")
            .arn("arn:aws:cloudfront::123456789012:distribution/E1ABC")
            .status("Deployed")
            .last_modified_time(DateTime::from_secs(0))
            .domain_name("d111.cloudfront.net")
            .set_origins(origins)
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("s3")
                    .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                    .build()
                    .unwrap(),
            )
            .comment("")
            .price_class(aws_sdk_cloudfront::types::PriceClass::PriceClassAll)
            .enabled(true)
            .web_acl_id("")
            .http_version(aws_sdk_cloudfront::types::HttpVersion::Http2)
            .staging(false)
            .is_ipv6_enabled(true)
            .build();
        let summary = summary.unwrap();
        let exists = BTreeMap::from([("assets".to_owned(), Some(false))]);
        let mut asset = distribution_asset("123456789012", "us-east-1", &summary, &exists);
        assert_eq!(asset.resource_type, DISTRIBUTION_TYPE);
        assert_eq!(asset.region, "us-east-1");
        let p = &asset.properties;
        assert_eq!(p["webAclId"], Value::Null);
        assert_eq!(p["origins"][0]["s3Bucket"], "assets");
        assert_eq!(p["origins"][0]["s3BucketExists"], false);
        assert_eq!(p["origins"][0]["originAccessControlId"], "E2OAC");
        assert_eq!(p["origins"][0]["originAccessIdentity"], Value::Null);
        assert_eq!(p["origins"][1]["s3Bucket"], Value::Null);
        assert_eq!(
            p["origins"][1]["customOrigin"]["originProtocolPolicy"],
            "http-only"
        );
        assert_eq!(
            p["origins"][1]["customOrigin"]["originSslProtocols"],
            json!(["SSLv3"])
        );
        assert_eq!(p["cacheBehaviors"][0]["viewerProtocolPolicy"], "allow-all");
        assert_eq!(p["logging"], Value::Null);

        let config = DistributionConfig::builder()
            .caller_reference("x")
            .comment("")
            .enabled(true)
            .default_root_object("index.html")
            .logging(
                LoggingConfig::builder()
                    .enabled(true)
                    .include_cookies(false)
                    .bucket("logs.s3.amazonaws.com")
                    .prefix("")
                    .build(),
            )
            .build()
            .ok();
        apply_config(&mut asset, config.as_ref());
        let p = &asset.properties;
        assert_eq!(p["defaultRootObject"], "index.html");
        assert_eq!(p["logging"]["enabled"], true);
        assert_eq!(p["logging"]["bucket"], "logs.s3.amazonaws.com");
        assert_eq!(p["logging"]["prefix"], Value::Null);

        apply_config(&mut asset, None);
        assert_eq!(asset.properties["logging"]["enabled"], false);
        assert_eq!(asset.properties["defaultRootObject"], Value::Null);
    }
}
