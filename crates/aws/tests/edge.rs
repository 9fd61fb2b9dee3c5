//! The edge collectors (CloudFront, AWS WAF, ACM, Route 53, Shield
//! Advanced) against one moto server; the collected assets are assessed by
//! the catalog end to end.
//!
//! moto 5.2.5 gaps, asserted as such (a failed call is data, never
//! healthy): it does not implement WAFv2 `ListResourcesForWebACL` (so the
//! ALB association is unreadable and ELB.16 is an error) nor Shield
//! `GetSubscriptionState` (so every Shield recommendation is an error);
//! its CloudFront responses leave out `S3OriginConfig` and
//! `OriginAccessControlId`, so S3 origins (CloudFront.1, .12, .13) are
//! covered by fixtures and unit tests only; its `GetDNSSEC` always answers
//! `NOT_SIGNING`.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{ACCOUNT, REGION, status};

use std::collections::BTreeSet;

use aws_sdk_cloudfront::types::{
    CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, LoggingConfig,
    OriginProtocolPolicy, Origins, ViewerProtocolPolicy,
};
use aws_sdk_wafv2::types::{
    AllowAction, CountAction, DefaultAction, GeoMatchStatement, Rule, RuleAction, Scope, Statement,
    VisibilityConfig,
};
use rampart_aws::{AwsAccess, AwsSettings, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::AssessmentStatus;
use rampart_testkit::Moto;
use serde_json::json;

fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        max_attempts: 1,
        ..common::settings(endpoint)
    }
}

fn plan() -> ScanPlan {
    common::plan(
        &[REGION],
        &["cloudfront", "wafv2", "acm", "route53", "shield"],
    )
}

fn visibility(name: &str, metrics: bool) -> VisibilityConfig {
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(metrics)
        .metric_name(name)
        .build()
        .unwrap()
}

/// Creates a web ACL; `rule_metrics` adds one geo-match rule with CloudWatch
/// metrics on or off. Returns its ARN.
async fn web_acl(
    waf: &aws_sdk_wafv2::Client,
    name: &str,
    scope: Scope,
    rule_metrics: Option<bool>,
) -> String {
    let mut request = waf
        .create_web_acl()
        .name(name)
        .scope(scope)
        .default_action(
            DefaultAction::builder()
                .allow(AllowAction::builder().build())
                .build(),
        )
        .visibility_config(visibility(name, true));
    if let Some(metrics) = rule_metrics {
        request = request.rules(
            Rule::builder()
                .name("geo")
                .priority(0)
                .statement(
                    Statement::builder()
                        .geo_match_statement(
                            GeoMatchStatement::builder()
                                .country_codes("KP".into())
                                .build(),
                        )
                        .build(),
                )
                .action(
                    RuleAction::builder()
                        .count(CountAction::builder().build())
                        .build(),
                )
                .visibility_config(visibility("geo", metrics))
                .build()
                .unwrap(),
        );
    }
    request.send().await.unwrap().summary.unwrap().arn.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_services_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collectors' calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();

    // AWS WAF: a regional web ACL with a rule without metrics and logging
    // on, an empty one, and a CloudFront one.
    let waf = setup.wafv2(REGION);
    let web = web_acl(&waf, "web", Scope::Regional, Some(false)).await;
    let empty = web_acl(&waf, "empty", Scope::Regional, None).await;
    let edge = web_acl(&waf, "edge", Scope::Cloudfront, Some(true)).await;
    waf.put_logging_configuration()
        .logging_configuration(
            aws_sdk_wafv2::types::LoggingConfiguration::builder()
                .resource_arn(&web)
                .log_destination_configs(format!(
                    "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-waf-logs-web"
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // CloudFront: one distribution reaching a custom origin over plain
    // HTTP, allowing HTTP viewers, on the default certificate, behind the
    // CloudFront web ACL; logging off, a default root object.
    let origin = aws_sdk_cloudfront::types::Origin::builder()
        .id("api")
        .domain_name("api.example.com")
        .custom_origin_config(
            CustomOriginConfig::builder()
                .http_port(80)
                .https_port(443)
                .origin_protocol_policy(OriginProtocolPolicy::HttpOnly)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference("rampart-edge")
        .comment("edge")
        .enabled(true)
        .default_root_object("index.html")
        .web_acl_id(&edge)
        .logging(
            LoggingConfig::builder()
                .enabled(false)
                .include_cookies(false)
                .bucket("")
                .prefix("")
                .build(),
        )
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("api")
                .viewer_protocol_policy(ViewerProtocolPolicy::AllowAll)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let distribution = setup
        .cloudfront(REGION)
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .unwrap()
        .distribution
        .unwrap();
    let distribution_name = format!("{} ({})", distribution.id, distribution.domain_name);

    // ACM: a requested certificate (moto gives it an RSA 2048 key).
    setup
        .acm(REGION)
        .request_certificate()
        .domain_name("www.example.com")
        .send()
        .await
        .unwrap();

    // Route 53: a public zone logging its queries, one that does not.
    let route53 = setup.route53(REGION);
    let logs = setup.logs(REGION);
    logs.create_log_group()
        .log_group_name("/aws/route53/example.com")
        .send()
        .await
        .unwrap();
    let mut zones = Vec::new();
    for name in ["example.com", "quiet.example"] {
        let zone = route53
            .create_hosted_zone()
            .name(name)
            .caller_reference(name)
            .send()
            .await
            .unwrap()
            .hosted_zone
            .unwrap();
        zones.push(zone.id);
    }
    route53
        .create_query_logging_config()
        .hosted_zone_id(zones[0].trim_start_matches("/hostedzone/"))
        .cloud_watch_logs_log_group_arn(format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/route53/example.com:*"
        ))
        .send()
        .await
        .unwrap();

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(), &NoProgress).await;

    // Only declared calls.
    common::assert_only_declared_calls(&access);
    // The gaps are exactly what moto lacks.
    let gaps: BTreeSet<(&str, &str)> = result
        .gaps
        .iter()
        .map(|g| (g.service.as_str(), g.operation.as_str()))
        .collect();
    assert_eq!(
        gaps,
        BTreeSet::from([
            ("wafv2", "ListResourcesForWebACL"),
            ("shield", "GetSubscriptionState"),
        ]),
        "{:#?}",
        result.gaps
    );

    let find = |name: &str, kind: &str| {
        result
            .assets
            .iter()
            .find(|a| a.name == name && a.resource_type == kind)
            .unwrap_or_else(|| panic!("no {kind} `{name}`"))
    };
    let d = find(&distribution_name, "AWS::CloudFront::Distribution");
    assert_eq!(d.properties["defaultRootObject"], "index.html");
    assert_eq!(d.properties["logging"]["enabled"], false);
    assert_eq!(d.properties["webAclId"], edge.as_str());
    assert_eq!(
        d.properties["origins"][0]["customOrigin"]["originProtocolPolicy"],
        "http-only"
    );
    let edge_acl = find("edge", "AWS::WAFv2::WebACL");
    assert_eq!(edge_acl.properties["scope"], "CLOUDFRONT");
    let web_acl = find("web", "AWS::WAFv2::WebACL");
    assert_eq!(web_acl.properties["logging"]["enabled"], true);
    assert!(web_acl.unavailable.contains_key("associatedResources"));
    assert_eq!(
        find("empty", "AWS::WAFv2::WebACL").properties["rules"],
        json!([])
    );
    let region = find("AWS WAF web ACLs", "Rampart::WAFv2::RegionStatus");
    let listed: BTreeSet<&str> = region.properties["webAcls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(listed, BTreeSet::from([web.as_str(), empty.as_str()]));
    assert!(region.unavailable.contains_key("albAssociations"));
    assert_eq!(
        find("www.example.com", "AWS::CertificateManager::Certificate").properties["keyAlgorithm"],
        "RSA_2048"
    );
    let zone = find("example.com", "AWS::Route53::HostedZone");
    assert_eq!(zone.properties["queryLogging"]["enabled"], true);
    assert_eq!(zone.properties["dnssec"]["serveSignature"], "NOT_SIGNING");
    let shield = find(
        "Shield Advanced subscription",
        "Rampart::Shield::Subscription",
    );
    assert!(shield.unavailable.contains_key("subscribed"));

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    use AssessmentStatus::{Error, Healthy, NotApplicable, Unhealthy};
    let d = distribution_name.as_str();
    let expected = [
        ("cloudfront-distribution-https-only", d, Unhealthy),
        ("cloudfront-distribution-origin-failover", d, Unhealthy),
        ("cloudfront-distribution-access-logging", d, Unhealthy),
        ("cloudfront-distribution-waf-enabled", d, Healthy),
        ("cloudfront-distribution-custom-certificate", d, Unhealthy),
        ("cloudfront-distribution-sni", d, NotApplicable),
        (
            "cloudfront-distribution-custom-origin-encryption",
            d,
            Unhealthy,
        ),
        (
            "cloudfront-distribution-no-deprecated-origin-ssl",
            d,
            Healthy,
        ),
        (
            "cloudfront-distribution-default-root-object",
            d,
            NotApplicable,
        ),
        (
            "cloudfront-distribution-recommended-tls-policy",
            d,
            NotApplicable,
        ),
        ("shield-cloudfront-distribution-protected", d, Error),
        ("wafv2-web-acl-not-empty", "web", Healthy),
        ("wafv2-web-acl-not-empty", "empty", Unhealthy),
        ("wafv2-web-acl-logging", "web", Healthy),
        ("wafv2-web-acl-logging", "empty", Unhealthy),
        ("wafv2-web-acl-rule-metrics", "web", Unhealthy),
        ("wafv2-web-acl-rule-metrics", "edge", Healthy),
        ("wafv2-web-acl-rule-metrics", "empty", NotApplicable),
        ("acm-certificate-rsa-2048", "www.example.com", Healthy),
        ("route53-public-zone-query-logging", "example.com", Healthy),
        (
            "route53-public-zone-query-logging",
            "quiet.example",
            Unhealthy,
        ),
        (
            "route53-public-zone-dnssec-signing",
            "example.com",
            Unhealthy,
        ),
        ("shield-hosted-zone-protected", "example.com", Error),
        (
            "shield-srt-access-configured",
            "Shield Advanced subscription",
            Error,
        ),
    ];
    for (recommendation, name, want) in expected {
        assert_eq!(
            status(&assessments, recommendation, name),
            want,
            "{recommendation} on {name}"
        );
    }
}
