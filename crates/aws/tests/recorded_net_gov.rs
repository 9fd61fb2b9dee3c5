//! Collectors whose APIs moto (5.2) does not model, end to end through
//! recorded responses: the real SDK, the real collector and the real rules
//! (scan → assets → assessments) against answers written in each service's
//! wire format as its API reference documents it, served by the emulator in
//! front of moto (`Moto::start_with_ssm_emulator`, `Moto::record`). Calls
//! not recorded go on to moto (load balancers, web ACLs, Bedrock's logging
//! configuration, MSK clusters).
//!
//! Covered: MSK Connect (`ListConnectors`), CodeArtifact (`ListRepositories`,
//! `GetRepositoryPermissionsPolicy`, with an `AccessDeniedException` and a
//! missing policy), Network Firewall firewalls (with the sync states moto
//! lacks), policies and rule groups, Bedrock
//! guardrails (with an `AccessDeniedException` in one region), AWS WAF's
//! `ListResourcesForWebACL` (ELB.16) and Shield Advanced (subscribed and
//! not). One moto for the binary; each test scans only its own services and
//! keeps its recordings to its services (and regions), so the tests run
//! side by side. The moto-gap tests in `edge.rs`, `gov.rs` and `data.rs`
//! document what moto alone answers.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{ACCOUNT, REGION, settings};

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;
use aws_sdk_wafv2::types::{
    AllowAction, CountAction, DefaultAction, GeoMatchStatement, Rule, RuleAction, Scope, Statement,
    VisibilityConfig,
};
use rampart_aws::{AccountScan, AwsAccess, NoProgress, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::{Assessment, AssessmentStatus, Asset, GapKind};
use rampart_testkit::Moto;
use rampart_testkit::ssm::Recording;
use serde_json::{Value, json};

use AssessmentStatus::{Error, Healthy, NotApplicable, Unhealthy};

const JSON_1_0: &str = "application/x-amz-json-1.0";
const JSON_1_1: &str = "application/x-amz-json-1.1";
const REST_JSON: &str = "application/json";

/// One moto + emulator for the binary.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start_with_ssm_emulator)
}

/// Scans `services` in `regions` through a fresh access (so its call counts
/// hold only this scan's calls); returns the result, the assessments and
/// the calls made (all declared by a collector).
async fn scan(
    regions: &[&str],
    services: &[&str],
) -> (
    AccountScan,
    Vec<Assessment>,
    BTreeMap<(String, String), u64>,
) {
    let access = AwsAccess::load(&settings(&moto().url())).await.unwrap();
    let result = collect_account(&access, &common::plan(regions, services), &NoProgress).await;
    let calls = common::assert_only_declared_calls(&access);
    let assessments = evaluate(&Catalog::builtin().unwrap(), &result.assets);
    (result, assessments, calls)
}

/// The asset of `kind` named `name` in `region`.
fn asset<'a>(result: &'a AccountScan, kind: &str, region: &str, name: &str) -> &'a Asset {
    result
        .assets
        .iter()
        .find(|a| a.resource_type == kind && a.region == region && a.name == name)
        .unwrap_or_else(|| panic!("no {kind} `{name}` in {region}"))
}

/// Asserts the status of `recommendation` on `name` in `region`, and that
/// its reason contains `reason`.
fn expect(
    assessments: &[Assessment],
    recommendation: &str,
    region: &str,
    name: &str,
    status: AssessmentStatus,
    reason: &str,
) {
    let a = assessments
        .iter()
        .find(|a| {
            a.recommendation == recommendation && a.region == region && a.resource_name == name
        })
        .unwrap_or_else(|| panic!("no `{recommendation}` assessment of `{name}` in {region}"));
    assert_eq!(a.status, status, "{recommendation} on {name}: {}", a.reason);
    assert!(
        a.reason.contains(reason),
        "{recommendation} on {name}: `{}` lacks `{reason}`",
        a.reason
    );
}

fn calls_of(calls: &BTreeMap<(String, String), u64>, service: &str, operation: &str) -> u64 {
    calls
        .get(&(service.to_owned(), operation.to_owned()))
        .copied()
        .unwrap_or_default()
}

/// A VPC with subnets in two zones of `region` and one internet-facing
/// Application Load Balancer per name, created in moto; returns their ARNs.
async fn albs(region: &str, names: &[&str]) -> Vec<String> {
    let setup = AwsAccess::load(&settings(&moto().url())).await.unwrap();
    let ec2 = setup.ec2(region);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc
        .unwrap()
        .vpc_id
        .unwrap();
    let mut subnets = Vec::new();
    for (zone, cidr) in [("a", "10.20.1.0/24"), ("b", "10.20.2.0/24")] {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(format!("{region}{zone}"))
            .send()
            .await
            .unwrap()
            .subnet
            .unwrap()
            .subnet_id
            .unwrap();
        subnets.push(subnet);
    }
    let elbv2 = setup.elbv2(region);
    let mut arns = Vec::new();
    for name in names {
        let out = elbv2
            .create_load_balancer()
            .name(*name)
            .r#type(LoadBalancerTypeEnum::Application)
            .set_subnets(Some(subnets.clone()))
            .send()
            .await
            .unwrap();
        arns.push(
            out.load_balancers()[0]
                .load_balancer_arn()
                .unwrap()
                .to_owned(),
        );
    }
    arns
}

const ALB: &str = "AWS::ElasticLoadBalancingV2::LoadBalancer";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_connect_connectors_from_recorded_responses() {
    let moto = moto();
    let arn = |name: &str, id: &str| {
        format!("arn:aws:kafkaconnect:{REGION}:{ACCOUNT}:connector/{name}/{id}")
    };
    let connector = |name: &str, id: &str, encryption: &str, logs: bool| {
        json!({
            "connectorArn": arn(name, id),
            "connectorName": name,
            "connectorDescription": "orders pipeline",
            "connectorState": "RUNNING",
            "creationTime": "2026-03-02T10:15:30.000Z",
            "currentVersion": "K3AEGXETSR30VB",
            "kafkaConnectVersion": "2.7.1",
            "capacity": {"provisionedCapacity": {"mcuCount": 1, "workerCount": 2}},
            "kafkaCluster": {"apacheKafkaCluster": {
                "bootstrapServers": "b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com:9098",
                "vpc": {"securityGroups": ["sg-0a1b2c3d"], "subnets": ["subnet-0a1b2c3d", "subnet-0e1f2a3b"]}
            }},
            "kafkaClusterClientAuthentication": {"authenticationType": "IAM"},
            "kafkaClusterEncryptionInTransit": {"encryptionType": encryption},
            "logDelivery": {"workerLogDelivery": {
                "cloudWatchLogs": {"enabled": logs, "logGroup": if logs { json!("/msk-connect/orders") } else { Value::Null }},
                "firehose": {"enabled": false},
                "s3": {"enabled": false}
            }},
            "plugins": [{"customPlugin": {
                "customPluginArn": format!("arn:aws:kafkaconnect:{REGION}:{ACCOUNT}:custom-plugin/s3-sink/a1b2c3d4"),
                "revision": 1
            }}],
            "serviceExecutionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/msk-connect"),
            "workerConfiguration": null
        })
    };
    let list = json!({"connectors": [
        connector("orders-sink", "1a2b3c4d-0001", "TLS", true),
        connector("clicks-source", "1a2b3c4d-0002", "PLAINTEXT", false),
    ]});
    moto.record(
        &Recording::rest(
            "kafkaconnect",
            "GET /v1/connectors",
            REST_JSON,
            &list.to_string(),
        )
        .in_region(REGION),
    );

    let (result, assessments, calls) = scan(&[REGION], &["kafka"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    assert_eq!(calls_of(&calls, "kafkaconnect", "ListConnectors"), 1);
    let kind = "AWS::KafkaConnect::Connector";
    let orders = asset(&result, kind, REGION, "orders-sink");
    assert_eq!(orders.arn, arn("orders-sink", "1a2b3c4d-0001"));
    assert_eq!(orders.properties["encryptionInTransit"], "TLS");
    assert_eq!(orders.properties["clientAuthentication"], "IAM");
    assert_eq!(orders.properties["connectorState"], "RUNNING");
    assert_eq!(orders.properties["kafkaConnectVersion"], "2.7.1");
    assert_eq!(orders.properties["logDelivery"]["cloudWatchLogs"], true);
    assert!(
        orders.properties["creationTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-02T10:15:30")
    );
    let clicks = asset(&result, kind, REGION, "clicks-source");
    assert_eq!(clicks.properties["encryptionInTransit"], "PLAINTEXT");
    assert_eq!(
        clicks.properties["logDelivery"],
        json!({"cloudWatchLogs": false, "firehose": false, "s3": false})
    );
    let a = &assessments;
    let rec = "msk-connector-encrypted-in-transit";
    expect(a, rec, REGION, "orders-sink", Healthy, "with TLS");
    expect(a, rec, REGION, "clicks-source", Unhealthy, "plain text");
    let rec = "msk-connector-logging";
    expect(a, rec, REGION, "orders-sink", Healthy, "CloudWatch Logs");
    expect(a, rec, REGION, "clicks-source", Unhealthy, "no worker logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codeartifact_repositories_from_recorded_responses() {
    let moto = moto();
    let arn =
        |name: &str| format!("arn:aws:codeartifact:{REGION}:{ACCOUNT}:repository/acme/{name}");
    let repository = |name: &str| {
        json!({
            "name": name,
            "administratorAccount": ACCOUNT,
            "domainName": "acme",
            "domainOwner": ACCOUNT,
            "arn": arn(name),
            "description": "packages",
            "createdTime": 1_767_225_600.0
        })
    };
    let list = json!({"repositories": [
        repository("npm-internal"),
        repository("npm-public"),
        repository("pypi-mirror"),
        repository("maven-locked"),
    ]});
    moto.record(
        &Recording::rest(
            "codeartifact",
            "POST /v1/repositories",
            REST_JSON,
            &list.to_string(),
        )
        .in_region(REGION),
    );
    let policy_path = "GET /v1/repository/permissions/policy";
    let policy = |name: &str, principal: Value| {
        let document = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "ReadPackages",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["codeartifact:ReadFromRepository", "codeartifact:GetRepositoryEndpoint"],
                "Resource": "*"
            }]
        });
        json!({"policy": {
            "resourceArn": arn(name),
            "revision": "jY2Jd0VbYb6yT8nRrQYc+3vVd1YaBkTjPXeW6c7Dds=",
            "document": document.to_string()
        }})
        .to_string()
    };
    // A named account may read npm-internal; anyone may read npm-public.
    moto.record(
        &Recording::rest(
            "codeartifact",
            policy_path,
            REST_JSON,
            &policy(
                "npm-internal",
                json!({"AWS": "arn:aws:iam::210987654321:root"}),
            ),
        )
        .containing("repository=npm-internal"),
    );
    moto.record(
        &Recording::rest(
            "codeartifact",
            policy_path,
            REST_JSON,
            &policy("npm-public", json!("*")),
        )
        .containing("repository=npm-public"),
    );
    // pypi-mirror has no policy; the scanner may not read maven-locked's.
    moto.record(
        &Recording::rest(
            "codeartifact",
            policy_path,
            REST_JSON,
            &json!({
                "message": "No resource policy is set on repository pypi-mirror.",
                "resourceId": "pypi-mirror",
                "resourceType": "repository"
            })
            .to_string(),
        )
        .status(404)
        .header("x-amzn-ErrorType", "ResourceNotFoundException")
        .containing("repository=pypi-mirror"),
    );
    moto.record(
        &Recording::rest(
            "codeartifact",
            policy_path,
            REST_JSON,
            &json!({
                "message": format!(
                    "User: arn:aws:sts::{ACCOUNT}:assumed-role/rampart-scan/rampart is not authorized to perform: codeartifact:GetRepositoryPermissionsPolicy on resource: {}",
                    arn("maven-locked")
                )
            })
            .to_string(),
        )
        .status(403)
        .header("x-amzn-ErrorType", "AccessDeniedException")
        .containing("repository=maven-locked"),
    );

    let (result, assessments, calls) = scan(&[REGION], &["codeartifact"]).await;
    assert_eq!(calls_of(&calls, "codeartifact", "ListRepositories"), 1);
    assert_eq!(
        calls_of(&calls, "codeartifact", "GetRepositoryPermissionsPolicy"),
        4
    );
    // The denied read is the one gap; the missing policy is none.
    assert_eq!(result.gaps.len(), 1, "{:#?}", result.gaps);
    let gap = &result.gaps[0];
    assert_eq!(
        (gap.service.as_str(), gap.operation.as_str(), gap.kind),
        (
            "codeartifact",
            "GetRepositoryPermissionsPolicy",
            GapKind::AccessDenied
        )
    );
    assert!(gap.error.contains("AccessDeniedException"), "{}", gap.error);

    let kind = "AWS::CodeArtifact::Repository";
    let internal = asset(&result, kind, REGION, "npm-internal");
    assert_eq!(internal.arn, arn("npm-internal"));
    assert_eq!(internal.properties["domainName"], "acme");
    assert_eq!(internal.properties["domainOwner"], ACCOUNT);
    assert_eq!(
        internal.properties["policy"]["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::210987654321:root"
    );
    let public = asset(&result, kind, REGION, "npm-public");
    assert_eq!(
        public.properties["policy"]["Statement"][0]["Principal"],
        "*"
    );
    let mirror = asset(&result, kind, REGION, "pypi-mirror");
    assert_eq!(mirror.properties["policy"], Value::Null);
    assert!(mirror.unavailable.is_empty(), "{:?}", mirror.unavailable);
    let locked = asset(&result, kind, REGION, "maven-locked");
    assert_eq!(locked.properties["policy"], Value::Null);
    assert!(
        locked.unavailable["policy"].contains("AccessDeniedException"),
        "{:?}",
        locked.unavailable
    );

    let a = &assessments;
    let rec = "codeartifact-repository-not-public";
    expect(a, rec, REGION, "npm-internal", Healthy, "known principals");
    expect(a, rec, REGION, "npm-public", Unhealthy, "`ReadPackages`");
    expect(
        a,
        rec,
        REGION,
        "pypi-mirror",
        NotApplicable,
        "no resource policy",
    );
    // Denied is an error on that repository, never "healthy".
    expect(a, rec, REGION, "maven-locked", Error, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_firewall_policies_and_rule_groups_from_recorded_responses() {
    let moto = moto();
    let prefix = format!("arn:aws:network-firewall:{REGION}:{ACCOUNT}");
    let policy_arn = |name: &str| format!("{prefix}:firewall-policy/{name}");
    let stateless_arn = |name: &str| format!("{prefix}:stateless-rulegroup/{name}");
    let stateful_arn = |name: &str| format!("{prefix}:stateful-rulegroup/{name}");
    let record = |operation: &str, contains: Option<&str>, body: Value| {
        let mut recording =
            Recording::operation("network-firewall", operation, JSON_1_0, &body.to_string())
                .in_region(REGION);
        if let Some(text) = contains {
            recording = recording.containing(text);
        }
        moto.record(&recording);
    };

    record(
        "ListFirewallPolicies",
        None,
        json!({"FirewallPolicies": [
            {"Name": "strict", "Arn": policy_arn("strict")},
            {"Name": "permissive", "Arn": policy_arn("permissive")}
        ]}),
    );
    let policy_response = |name: &str, id: &str| {
        json!({
            "FirewallPolicyName": name,
            "FirewallPolicyArn": policy_arn(name),
            "FirewallPolicyId": id,
            "Description": "egress inspection",
            "FirewallPolicyStatus": "ACTIVE",
            "Tags": [{"Key": "team", "Value": "network"}],
            "ConsumedStatelessRuleCapacity": 10,
            "ConsumedStatefulRuleCapacity": 100,
            "NumberOfAssociations": 1,
            "LastModifiedTime": 1_767_225_600.0
        })
    };
    record(
        "DescribeFirewallPolicy",
        Some(&policy_arn("strict")),
        json!({
            "UpdateToken": "f7c1a9d2-0001",
            "FirewallPolicyResponse": policy_response("strict", "0c1a9d2e-0001"),
            "FirewallPolicy": {
                "StatelessRuleGroupReferences": [
                    {"ResourceArn": stateless_arn("block-list"), "Priority": 10}
                ],
                "StatelessDefaultActions": ["aws:forward_to_sfe"],
                "StatelessFragmentDefaultActions": ["aws:drop"],
                "StatefulRuleGroupReferences": [
                    {"ResourceArn": stateful_arn("domain-allow")}
                ]
            }
        }),
    );
    record(
        "DescribeFirewallPolicy",
        Some(&policy_arn("permissive")),
        json!({
            "UpdateToken": "f7c1a9d2-0002",
            "FirewallPolicyResponse": policy_response("permissive", "0c1a9d2e-0002"),
            "FirewallPolicy": {
                "StatelessDefaultActions": ["aws:pass"],
                "StatelessFragmentDefaultActions": ["aws:pass"]
            }
        }),
    );

    record(
        "ListRuleGroups",
        None,
        json!({"RuleGroups": [
            {"Name": "block-list", "Arn": stateless_arn("block-list")},
            {"Name": "placeholder", "Arn": stateless_arn("placeholder")},
            {"Name": "domain-allow", "Arn": stateful_arn("domain-allow")}
        ]}),
    );
    let group_response = |arn: String, name: &str, kind: &str| {
        json!({
            "RuleGroupArn": arn,
            "RuleGroupName": name,
            "RuleGroupId": format!("{name}-6a1b2c3d"),
            "Type": kind,
            "Capacity": 100,
            "RuleGroupStatus": "ACTIVE",
            "Tags": [{"Key": "team", "Value": "network"}],
            "ConsumedCapacity": 2,
            "NumberOfAssociations": 1,
            "LastModifiedTime": 1_767_225_600.0
        })
    };
    record(
        "DescribeRuleGroup",
        Some(&stateless_arn("block-list")),
        json!({
            "UpdateToken": "a1b2c3d4-0001",
            "RuleGroup": {"RulesSource": {"StatelessRulesAndCustomActions": {
                "StatelessRules": [{
                    "RuleDefinition": {
                        "MatchAttributes": {
                            "Sources": [{"AddressDefinition": "203.0.113.0/24"}],
                            "Destinations": [{"AddressDefinition": "0.0.0.0/0"}],
                            "Protocols": [6]
                        },
                        "Actions": ["aws:drop"]
                    },
                    "Priority": 1
                }],
                "CustomActions": []
            }}},
            "RuleGroupResponse": group_response(stateless_arn("block-list"), "block-list", "STATELESS")
        }),
    );
    record(
        "DescribeRuleGroup",
        Some(&stateless_arn("placeholder")),
        json!({
            "UpdateToken": "a1b2c3d4-0002",
            "RuleGroup": {"RulesSource": {"StatelessRulesAndCustomActions": {
                "StatelessRules": []
            }}},
            "RuleGroupResponse": group_response(stateless_arn("placeholder"), "placeholder", "STATELESS")
        }),
    );
    record(
        "DescribeRuleGroup",
        Some(&stateful_arn("domain-allow")),
        json!({
            "UpdateToken": "a1b2c3d4-0003",
            "RuleGroup": {"RulesSource": {"RulesSourceList": {
                "Targets": [".example.com"],
                "TargetTypes": ["TLS_SNI", "HTTP_HOST"],
                "GeneratedRulesType": "ALLOWLIST"
            }}},
            "RuleGroupResponse": group_response(stateful_arn("domain-allow"), "domain-allow", "STATEFUL")
        }),
    );

    // Firewalls: moto reports no sync states (zones), so they are recorded
    // too. `edge` spans two zones with both protections and logging;
    // `lab` has one zone, no protection and no logging.
    let firewall_arn = |name: &str| format!("{prefix}:firewall/{name}");
    record(
        "ListFirewalls",
        None,
        json!({"Firewalls": [
            {"FirewallName": "edge", "FirewallArn": firewall_arn("edge")},
            {"FirewallName": "lab", "FirewallArn": firewall_arn("lab")}
        ]}),
    );
    let firewall = |name: &str, zones: &[(&str, &str)], protected: bool| {
        let sync: serde_json::Map<String, Value> = zones
            .iter()
            .map(|(zone, subnet)| {
                (
                    (*zone).to_owned(),
                    json!({
                        "Attachment": {"SubnetId": subnet, "EndpointId": format!("vpce-{subnet}"), "Status": "READY"},
                        "Config": {policy_arn("strict"): {"SyncStatus": "IN_SYNC", "UpdateToken": "f7c1a9d2-0001"}}
                    }),
                )
            })
            .collect();
        json!({
            "UpdateToken": format!("{name}-token"),
            "Firewall": {
                "FirewallName": name,
                "FirewallArn": firewall_arn(name),
                "FirewallPolicyArn": policy_arn("strict"),
                "VpcId": "vpc-0a1b2c3d4e5f60718",
                "SubnetMappings": zones.iter().map(|(_, subnet)| json!({"SubnetId": subnet, "IPAddressType": "IPV4"})).collect::<Vec<_>>(),
                "DeleteProtection": protected,
                "SubnetChangeProtection": protected,
                "FirewallPolicyChangeProtection": false,
                "FirewallId": format!("{name}-9f8e7d6c"),
                "Tags": [{"Key": "team", "Value": "network"}]
            },
            "FirewallStatus": {
                "Status": "READY",
                "ConfigurationSyncStateSummary": "IN_SYNC",
                "SyncStates": sync
            }
        })
    };
    record(
        "DescribeFirewall",
        Some(&firewall_arn("edge")),
        firewall(
            "edge",
            &[
                ("us-east-1a", "subnet-0a0a0a0a"),
                ("us-east-1b", "subnet-0b0b0b0b"),
            ],
            true,
        ),
    );
    record(
        "DescribeFirewall",
        Some(&firewall_arn("lab")),
        firewall("lab", &[("us-east-1a", "subnet-0c0c0c0c")], false),
    );
    record(
        "DescribeLoggingConfiguration",
        Some(&firewall_arn("edge")),
        json!({
            "FirewallArn": firewall_arn("edge"),
            "LoggingConfiguration": {"LogDestinationConfigs": [
                {"LogType": "ALERT", "LogDestinationType": "S3",
                 "LogDestination": {"bucketName": "nfw-logs", "prefix": "edge"}},
                {"LogType": "FLOW", "LogDestinationType": "CloudWatchLogs",
                 "LogDestination": {"logGroup": "/nfw/edge/flow"}}
            ]}
        }),
    );
    record(
        "DescribeLoggingConfiguration",
        Some(&firewall_arn("lab")),
        json!({
            "FirewallArn": firewall_arn("lab"),
            "LoggingConfiguration": {"LogDestinationConfigs": []}
        }),
    );

    let (result, assessments, calls) = scan(&[REGION], &["network-firewall"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    for (operation, count) in [
        ("ListFirewalls", 1),
        ("DescribeFirewall", 2),
        ("DescribeLoggingConfiguration", 2),
        ("ListFirewallPolicies", 1),
        ("DescribeFirewallPolicy", 2),
        ("ListRuleGroups", 1),
        ("DescribeRuleGroup", 3),
    ] {
        assert_eq!(
            calls_of(&calls, "network-firewall", operation),
            count,
            "{operation}"
        );
    }
    let kind = "AWS::NetworkFirewall::Firewall";
    let edge = asset(&result, kind, REGION, "edge");
    assert_eq!(
        edge.properties["availabilityZones"],
        json!(["us-east-1a", "us-east-1b"])
    );
    assert_eq!(edge.properties["firewallPolicyArn"], policy_arn("strict"));
    assert_eq!(edge.properties["status"], "READY");
    assert_eq!(edge.tags["team"], "network");
    assert_eq!(
        edge.properties["logDestinations"],
        json!([
            {"logType": "ALERT", "logDestinationType": "S3"},
            {"logType": "FLOW", "logDestinationType": "CloudWatchLogs"}
        ])
    );
    let lab = asset(&result, kind, REGION, "lab");
    assert_eq!(lab.properties["availabilityZones"], json!(["us-east-1a"]));
    assert_eq!(lab.properties["logDestinations"], json!([]));
    let kind = "AWS::NetworkFirewall::FirewallPolicy";
    let strict = asset(&result, kind, REGION, "strict");
    assert_eq!(strict.arn, policy_arn("strict"));
    assert_eq!(strict.tags["team"], "network");
    assert_eq!(strict.properties["status"], "ACTIVE");
    assert_eq!(
        strict.properties["statelessDefaultActions"],
        json!(["aws:forward_to_sfe"])
    );
    assert_eq!(
        strict.properties["statefulRuleGroupArns"],
        json!([stateful_arn("domain-allow")])
    );
    let permissive = asset(&result, kind, REGION, "permissive");
    assert_eq!(permissive.properties["statelessRuleGroupArns"], json!([]));
    assert_eq!(permissive.properties["statefulRuleGroupArns"], json!([]));
    let kind = "AWS::NetworkFirewall::RuleGroup";
    let block = asset(&result, kind, REGION, "block-list");
    assert_eq!(block.properties["type"], "STATELESS");
    assert_eq!(block.properties["statelessRuleCount"], 1);
    let placeholder = asset(&result, kind, REGION, "placeholder");
    assert_eq!(placeholder.properties["statelessRuleCount"], 0);
    let allow = asset(&result, kind, REGION, "domain-allow");
    assert_eq!(allow.properties["type"], "STATEFUL");
    assert_eq!(allow.properties["statelessRuleCount"], Value::Null);

    let a = &assessments;
    let rec = "network-firewall-multi-az";
    expect(a, rec, REGION, "edge", Healthy, "2 Availability Zones");
    expect(a, rec, REGION, "lab", Unhealthy, "one Availability Zone");
    let rec = "network-firewall-logging";
    expect(a, rec, REGION, "edge", Healthy, "ALERT and FLOW");
    expect(a, rec, REGION, "lab", Unhealthy, "no logging configuration");
    let rec = "network-firewall-deletion-protection";
    expect(a, rec, REGION, "edge", Healthy, "deletion protection");
    expect(a, rec, REGION, "lab", Unhealthy, "deleted in one call");
    let rec = "network-firewall-subnet-change-protection";
    expect(a, rec, REGION, "edge", Healthy, "subnet change protection");
    expect(a, rec, REGION, "lab", Unhealthy, "without first lifting");
    let rec = "network-firewall-policy-rule-group";
    expect(
        a,
        rec,
        REGION,
        "strict",
        Healthy,
        "1 stateless and 1 stateful",
    );
    expect(a, rec, REGION, "permissive", Unhealthy, "no rule group");
    let rec = "network-firewall-policy-default-action-full-packets";
    expect(a, rec, REGION, "strict", Healthy, "Full packets");
    expect(
        a,
        rec,
        REGION,
        "permissive",
        Unhealthy,
        "passed without inspection",
    );
    let rec = "network-firewall-policy-default-action-fragmented-packets";
    expect(a, rec, REGION, "strict", Healthy, "Fragmented packets");
    expect(
        a,
        rec,
        REGION,
        "permissive",
        Unhealthy,
        "passed without inspection",
    );
    let rec = "network-firewall-stateless-rule-group-not-empty";
    expect(a, rec, REGION, "block-list", Healthy, "holds 1 rules");
    expect(a, rec, REGION, "placeholder", Unhealthy, "holds no rule");
    expect(a, rec, REGION, "domain-allow", NotApplicable, "STATEFUL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_guardrails_from_recorded_responses() {
    let moto = moto();
    let (west, denied) = ("us-west-2", "eu-west-1");
    // Invocation logging to CloudWatch Logs in us-east-1 (moto models it).
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    setup
        .bedrock(REGION)
        .put_model_invocation_logging_configuration()
        .logging_config(
            aws_sdk_bedrock::types::LoggingConfig::builder()
                .cloud_watch_config(
                    aws_sdk_bedrock::types::CloudWatchConfig::builder()
                        .log_group_name("bedrock-invocations")
                        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/bedrock-logs"))
                        .build()
                        .unwrap(),
                )
                .text_data_delivery_enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // A guardrail in us-east-1, none in us-west-2, denied in eu-west-1.
    let guardrails = json!({"guardrails": [{
        "id": "x1y2z3a4b5c6",
        "arn": format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/x1y2z3a4b5c6"),
        "status": "READY",
        "name": "no-pii",
        "description": "blocks personal data",
        "version": "DRAFT",
        "createdAt": "2026-02-01T09:00:00Z",
        "updatedAt": "2026-02-03T17:30:00Z"
    }]});
    moto.record(
        &Recording::rest(
            "bedrock",
            "GET /guardrails",
            REST_JSON,
            &guardrails.to_string(),
        )
        .in_region(REGION),
    );
    moto.record(
        &Recording::rest(
            "bedrock",
            "GET /guardrails",
            REST_JSON,
            r#"{"guardrails": []}"#,
        )
        .in_region(west),
    );
    moto.record(
        &Recording::rest(
            "bedrock",
            "GET /guardrails",
            REST_JSON,
            &json!({"message": format!(
                "User: arn:aws:sts::{ACCOUNT}:assumed-role/rampart-scan/rampart is not authorized to perform: bedrock:ListGuardrails"
            )})
            .to_string(),
        )
        .status(403)
        .header("x-amzn-ErrorType", "AccessDeniedException")
        .in_region(denied),
    );

    let (result, assessments, calls) = scan(&[REGION, west, denied], &["bedrock"]).await;
    assert_eq!(calls_of(&calls, "bedrock", "ListGuardrails"), 3);
    assert_eq!(
        calls_of(&calls, "bedrock", "GetModelInvocationLoggingConfiguration"),
        3
    );
    assert_eq!(result.gaps.len(), 1, "{:#?}", result.gaps);
    let gap = &result.gaps[0];
    assert_eq!(
        (gap.region.as_str(), gap.operation.as_str(), gap.kind),
        (denied, "ListGuardrails", GapKind::AccessDenied)
    );

    let kind = rampart_model::types::BEDROCK_REGION;
    let east = asset(&result, kind, REGION, "settings");
    assert_eq!(east.properties["guardrails"], json!(["no-pii"]));
    assert_eq!(
        east.properties["invocationLogging"]["cloudWatchLogGroup"],
        "bedrock-invocations"
    );
    let bare = asset(&result, kind, west, "settings");
    assert_eq!(bare.properties["guardrails"], json!([]));
    // moto answers an empty `loggingConfig` where AWS omits it: no
    // destination either way.
    for destination in ["cloudWatchLogGroup", "s3Bucket"] {
        assert_eq!(
            bare.properties["invocationLogging"][destination],
            Value::Null
        );
    }
    let locked = asset(&result, kind, denied, "settings");
    assert_eq!(locked.properties["guardrails"], Value::Null);
    assert!(locked.unavailable["guardrails"].contains("AccessDeniedException"));

    let a = &assessments;
    let rec = "bedrock-guardrail-configured";
    expect(a, rec, REGION, "settings", Healthy, "1 Bedrock guardrail");
    expect(a, rec, west, "settings", Unhealthy, "no Bedrock guardrail");
    expect(a, rec, denied, "settings", Error, "");
    let rec = "bedrock-model-invocation-logging";
    expect(
        a,
        rec,
        REGION,
        "settings",
        Healthy,
        "logs model invocations",
    );
    expect(a, rec, west, "settings", Unhealthy, "not configured");
}

fn visibility(name: &str) -> VisibilityConfig {
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(name)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wafv2_alb_associations_from_recorded_responses() {
    let moto = moto();
    let region = "eu-west-1";
    let arns = albs(region, &["storefront", "admin-portal"]).await;
    let (storefront, admin) = (&arns[0], &arns[1]);
    // Two regional web ACLs in moto; moto does not list their resources.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let waf = setup.wafv2(region);
    let mut acls = Vec::new();
    for name in ["shop-protection", "unused"] {
        let acl = waf
            .create_web_acl()
            .name(name)
            .scope(Scope::Regional)
            .default_action(
                DefaultAction::builder()
                    .allow(AllowAction::builder().build())
                    .build(),
            )
            .rules(
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
                    .visibility_config(visibility("geo"))
                    .build()
                    .unwrap(),
            )
            .visibility_config(visibility(name))
            .send()
            .await
            .unwrap();
        acls.push(acl.summary.unwrap().arn.unwrap());
    }
    let (shop_acl, unused_acl) = (&acls[0], &acls[1]);
    moto.record(
        &Recording::operation(
            "wafv2",
            "ListResourcesForWebACL",
            JSON_1_1,
            &json!({"ResourceArns": [storefront]}).to_string(),
        )
        .in_region(region)
        .containing(shop_acl),
    );
    moto.record(
        &Recording::operation(
            "wafv2",
            "ListResourcesForWebACL",
            JSON_1_1,
            r#"{"ResourceArns": []}"#,
        )
        .in_region(region)
        .containing(unused_acl),
    );

    let (result, assessments, calls) = scan(&[region], &["wafv2", "elb"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    assert_eq!(calls_of(&calls, "wafv2", "ListResourcesForWebACL"), 2);
    let kind = "AWS::WAFv2::WebACL";
    assert_eq!(
        asset(&result, kind, region, "shop-protection").properties["associatedResources"],
        json!([storefront])
    );
    assert_eq!(
        asset(&result, kind, region, "unused").properties["associatedResources"],
        json!([])
    );
    let status = asset(
        &result,
        rampart_model::types::WAFV2_REGION,
        region,
        "AWS WAF web ACLs",
    );
    assert_eq!(
        status.properties["albAssociations"],
        json!([{"webAclArn": shop_acl, "resourceArn": storefront}])
    );
    assert!(status.unavailable.is_empty(), "{:?}", status.unavailable);
    assert_eq!(asset(&result, ALB, region, "admin-portal").arn, *admin);

    let a = &assessments;
    let rec = "elb-alb-waf-associated";
    expect(a, rec, region, "storefront", Healthy, "shop-protection");
    expect(
        a,
        rec,
        region,
        "admin-portal",
        Unhealthy,
        "No AWS WAF web ACL",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shield_advanced_from_recorded_responses() {
    let moto = moto();
    let region = "us-west-2";
    let arns = albs(region, &["checkout", "reports"]).await;
    let checkout = &arns[0];
    let record = |operation: &str, body: Value| {
        moto.record(&Recording::operation(
            "shield",
            operation,
            JSON_1_1,
            &body.to_string(),
        ));
    };
    record(
        "GetSubscriptionState",
        json!({"SubscriptionState": "ACTIVE"}),
    );
    record(
        "ListProtections",
        json!({"Protections": [{
            "Id": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
            "Name": "checkout-alb",
            "ResourceArn": checkout,
            "HealthCheckIds": [],
            "ProtectionArn": format!("arn:aws:shield::{ACCOUNT}:protection/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111")
        }]}),
    );
    record(
        "DescribeDRTAccess",
        json!({
            "RoleArn": format!("arn:aws:iam::{ACCOUNT}:role/shield-drt"),
            "LogBucketList": ["alb-access-logs"]
        }),
    );
    record(
        "DescribeSubscription",
        json!({"Subscription": {
            "StartTime": 1_767_225_600.0,
            "EndTime": 1_798_761_600.0,
            "TimeCommitmentInSeconds": 31_536_000,
            "AutoRenew": "ENABLED",
            "Limits": [{"Type": "MitigationCapacityUnits", "Max": 10_000}],
            "ProactiveEngagementStatus": "DISABLED",
            "SubscriptionLimits": {
                "ProtectionLimits": {"ProtectedResourceTypeLimits": [
                    {"Type": "ELASTIC_IP_ADDRESS", "Max": 100},
                    {"Type": "APPLICATION_LOAD_BALANCER", "Max": 50}
                ]},
                "ProtectionGroupLimits": {
                    "MaxProtectionGroups": 20,
                    "PatternTypeLimits": {"ArbitraryPatternLimits": {"MaxMembers": 100}}
                }
            },
            "SubscriptionArn": format!("arn:aws:shield::{ACCOUNT}:subscription/1a2b3c4d5e6f")
        }}),
    );

    let (result, assessments, calls) = scan(&[region], &["shield", "elb"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    for operation in [
        "GetSubscriptionState",
        "ListProtections",
        "DescribeDRTAccess",
        "DescribeSubscription",
    ] {
        assert_eq!(calls_of(&calls, "shield", operation), 1, "{operation}");
    }
    let subscription = "Shield Advanced subscription";
    let kind = rampart_model::types::SHIELD_SUBSCRIPTION;
    let shield = result
        .assets
        .iter()
        .find(|a| a.resource_type == kind)
        .unwrap();
    assert_eq!(shield.properties["subscribed"], true);
    assert_eq!(shield.properties["protectedResources"], json!([checkout]));
    assert_eq!(
        shield.properties["drtAccess"],
        json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/shield-drt"), "logBuckets": ["alb-access-logs"]})
    );
    assert_eq!(shield.properties["proactiveEngagementStatus"], "DISABLED");
    let home = shield.region.clone();

    let a = &assessments;
    let rec = "shield-alb-protected";
    expect(a, rec, region, "checkout", Healthy, "protection covers");
    expect(a, rec, region, "reports", Unhealthy, "has no protection");
    expect(
        a,
        "shield-srt-access-configured",
        &home,
        subscription,
        Healthy,
        "shield-drt",
    );
    expect(
        a,
        "shield-proactive-engagement-enabled",
        &home,
        subscription,
        Unhealthy,
        "DISABLED",
    );

    // Without a subscription nothing else is read and nothing applies.
    record(
        "GetSubscriptionState",
        json!({"SubscriptionState": "INACTIVE"}),
    );
    let (result, assessments, calls) = scan(&[region], &["shield", "elb"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    let shield_calls: Vec<&str> = calls
        .keys()
        .filter(|(service, _)| service == "shield")
        .map(|(_, operation)| operation.as_str())
        .collect();
    assert_eq!(shield_calls, ["GetSubscriptionState"]);
    let shield = result
        .assets
        .iter()
        .find(|a| a.resource_type == kind)
        .unwrap();
    assert_eq!(shield.properties["subscribed"], false);
    assert_eq!(shield.properties["protectedResources"], Value::Null);
    let a = &assessments;
    let rec = "shield-alb-protected";
    expect(
        a,
        rec,
        region,
        "checkout",
        NotApplicable,
        "does not subscribe",
    );
    expect(
        a,
        rec,
        region,
        "reports",
        NotApplicable,
        "does not subscribe",
    );
    expect(
        a,
        "shield-srt-access-configured",
        &home,
        subscription,
        NotApplicable,
        "does not subscribe",
    );
}
