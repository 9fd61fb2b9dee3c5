//! Collectors whose APIs moto does not model (CodeBuild report groups, EMR
//! security configurations, Elastic Beanstalk option settings), or models
//! with timestamps the SDK cannot parse (DMS, MSK clusters, Macie, Amazon
//! Connect), end to end: the real SDK, collector and rules against
//! responses recorded in the services' own wire formats (JSON 1.1, awsQuery
//! XML, REST JSON) as their API references document them, served by the
//! emulator in front of moto (`Moto::record`). Each test scans only its own
//! service, so the tests share one moto. A recorded `AccessDenied` on a
//! per-item describe must leave that item unreadable (an error and a gap),
//! never healthy.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{REGION, settings};

use std::collections::BTreeSet;
use std::sync::OnceLock;

use rampart_aws::{AccountScan, AwsAccess, NoProgress, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::{Assessment, AssessmentStatus, Asset, GapKind};
use rampart_testkit::Moto;
use rampart_testkit::ssm::Recording;
use serde_json::json;

use AssessmentStatus::{Error, Healthy, NotApplicable, Unhealthy};

const JSON_1_1: &str = "application/x-amz-json-1.1";
const REST_JSON: &str = "application/json";
const XML: &str = "text/xml";
/// 2026-01-01T00:00:00Z as epoch seconds (JSON protocols' timestamps).
const CREATED: f64 = 1_767_225_600.0;

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start_with_ssm_emulator)
}

/// Records a 200 answer to `operation` of `service` (JSON or query).
fn record_ok(service: &str, operation: &str, content_type: &str, body: &str) {
    moto().record(&Recording::operation(
        service,
        operation,
        content_type,
        body,
    ));
}

/// Records a 200 answer to REST requests matching `request`.
fn record_rest_ok(service: &str, request: &str, body: &str) {
    moto().record(&Recording::rest(service, request, REST_JSON, body));
}

/// Scans `services` in `regions` and assesses the result.
async fn scan(regions: &[&str], services: &[&str]) -> (AwsAccess, AccountScan, Vec<Assessment>) {
    let access = AwsAccess::load(&settings(&moto().url())).await.unwrap();
    let result = collect_account(&access, &common::plan(regions, services), &NoProgress).await;
    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, &result.assets);
    (access, result, assessments)
}

/// The gaps as `(region, service, operation, kind)`.
fn gaps(result: &AccountScan) -> BTreeSet<(String, String, String, GapKind)> {
    result
        .gaps
        .iter()
        .map(|g| {
            (
                g.region.clone(),
                g.service.clone(),
                g.operation.clone(),
                g.kind,
            )
        })
        .collect()
}

fn gap(service: &str, operation: &str, kind: GapKind) -> (String, String, String, GapKind) {
    (
        REGION.to_owned(),
        service.to_owned(),
        operation.to_owned(),
        kind,
    )
}

fn asset<'a>(result: &'a AccountScan, resource_type: &str, name: &str) -> &'a Asset {
    result
        .assets
        .iter()
        .find(|a| a.resource_type == resource_type && a.name == name)
        .unwrap_or_else(|| panic!("no {resource_type} `{name}` in {:#?}", result.assets))
}

fn assessment<'a>(
    assessments: &'a [Assessment],
    recommendation: &str,
    region: &str,
    name: &str,
) -> &'a Assessment {
    assessments
        .iter()
        .find(|a| {
            a.recommendation == recommendation && a.region == region && a.resource_name == name
        })
        .unwrap_or_else(|| panic!("no `{recommendation}` assessment of `{name}` in {region}"))
}

/// Asserts each `(recommendation, name, status, reason fragment)` in
/// [`REGION`].
fn assert_assessed(assessments: &[Assessment], expected: &[(&str, &str, AssessmentStatus, &str)]) {
    for (recommendation, name, status, reason) in expected {
        let a = assessment(assessments, recommendation, REGION, name);
        assert_eq!(
            a.status, *status,
            "{recommendation} on {name}: {}",
            a.reason
        );
        assert!(
            a.reason.contains(reason),
            "{recommendation} on {name}: `{}` lacks `{reason}`",
            a.reason
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codebuild_report_groups_from_recorded_responses() {
    let arn = |name: &str| format!("arn:aws:codebuild:us-east-1:123456789012:report-group/{name}");
    let list =
        json!({"reportGroups": [arn("tests-encrypted"), arn("tests-plain"), arn("tests-kept")]});
    let s3 = |bucket: &str, disabled: bool| {
        json!({"exportConfigType": "S3", "s3Destination": {
            "bucket": bucket, "path": "reports", "packaging": "ZIP",
            "encryptionKey": "arn:aws:kms:us-east-1:123456789012:alias/aws/s3",
            "encryptionDisabled": disabled}})
    };
    let groups = json!({
        "reportGroups": [
            {"arn": arn("tests-encrypted"), "name": "tests-encrypted", "type": "TEST",
             "exportConfig": s3("reports-encrypted", false), "created": CREATED,
             "lastModified": CREATED, "status": "ACTIVE",
             "tags": [{"key": "team", "value": "qa"}]},
            {"arn": arn("tests-plain"), "name": "tests-plain", "type": "CODE_COVERAGE",
             "exportConfig": s3("reports-plain", true), "created": CREATED,
             "lastModified": CREATED, "status": "ACTIVE"},
            {"arn": arn("tests-kept"), "name": "tests-kept", "type": "TEST",
             "exportConfig": {"exportConfigType": "NO_EXPORT"}, "created": CREATED,
             "lastModified": CREATED, "status": "ACTIVE"}
        ],
        "reportGroupsNotFound": []
    });
    record_ok("codebuild", "ListReportGroups", JSON_1_1, &list.to_string());
    record_ok(
        "codebuild",
        "BatchGetReportGroups",
        JSON_1_1,
        &groups.to_string(),
    );

    // Projects come from moto (none here).
    let (access, result, assessments) = scan(&[REGION], &["codebuild"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    let calls = common::assert_only_declared_calls(&access);
    assert_eq!(
        calls.get(&("codebuild".to_owned(), "BatchGetReportGroups".to_owned())),
        Some(&1)
    );

    let group = "AWS::CodeBuild::ReportGroup";
    let encrypted = asset(&result, group, "tests-encrypted");
    assert_eq!(encrypted.arn, arn("tests-encrypted"));
    assert_eq!(encrypted.properties["exportConfigType"], "S3");
    assert_eq!(
        encrypted.properties["s3Destination"]["bucket"],
        "reports-encrypted"
    );
    assert_eq!(encrypted.tags["team"], "qa");
    let plain = asset(&result, group, "tests-plain");
    assert_eq!(plain.properties["type"], "CODE_COVERAGE");
    assert_eq!(
        plain.properties["s3Destination"]["encryptionDisabled"],
        true
    );
    assert!(asset(&result, group, "tests-kept").properties["s3Destination"].is_null());

    let rec = "codebuild-report-group-export-encrypted";
    assert_assessed(
        &assessments,
        &[
            (rec, "tests-encrypted", Healthy, "encrypted"),
            (rec, "tests-plain", Unhealthy, "unencrypted"),
            (rec, "tests-kept", NotApplicable, "does not export"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emr_security_configurations_from_recorded_responses() {
    let list = json!({"SecurityConfigurations": [
        {"Name": "sc-encrypted", "CreationDateTime": CREATED},
        {"Name": "sc-plain", "CreationDateTime": CREATED},
        {"Name": "sc-denied", "CreationDateTime": CREATED}
    ]});
    record_ok(
        "elasticmapreduce",
        "ListSecurityConfigurations",
        JSON_1_1,
        &list.to_string(),
    );
    let encrypted = json!({"EncryptionConfiguration": {
        "EnableInTransitEncryption": true,
        "EnableAtRestEncryption": true,
        "InTransitEncryptionConfiguration": {"TLSCertificateConfiguration": {
            "CertificateProviderType": "PEM",
            "S3Object": "s3://emr-certs/certs.zip"}},
        "AtRestEncryptionConfiguration": {
            "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS",
                "AwsKmsKey": "arn:aws:kms:us-east-1:123456789012:key/1111"},
            "LocalDiskEncryptionConfiguration": {"EncryptionKeyProviderType": "AwsKms",
                "AwsKmsKey": "arn:aws:kms:us-east-1:123456789012:key/1111"}}
    }});
    let plain = json!({"EncryptionConfiguration": {
        "EnableInTransitEncryption": false,
        "EnableAtRestEncryption": false
    }, "AuthenticationConfiguration": {}});
    for (name, document) in [("sc-encrypted", &encrypted), ("sc-plain", &plain)] {
        let body = json!({"Name": name, "SecurityConfiguration": document.to_string(),
                          "CreationDateTime": CREATED});
        moto().record(
            &Recording::operation(
                "elasticmapreduce",
                "DescribeSecurityConfiguration",
                JSON_1_1,
                &body.to_string(),
            )
            .body_matching(&format!("\"Name\":\"{name}\"")),
        );
    }
    let denied = json!({
        "__type": "AccessDeniedException",
        "message": "User: arn:aws:sts::123456789012:assumed-role/rampart-scan/session is not \
                    authorized to perform: elasticmapreduce:DescribeSecurityConfiguration"
    });
    moto().record(
        &Recording::operation(
            "elasticmapreduce",
            "DescribeSecurityConfiguration",
            JSON_1_1,
            &denied.to_string(),
        )
        .body_matching("\"Name\":\"sc-denied\"")
        .status(400),
    );

    // Clusters and block public access come from moto.
    let (access, result, assessments) = scan(&[REGION], &["elasticmapreduce"]).await;
    assert_eq!(
        gaps(&result),
        BTreeSet::from([gap(
            "elasticmapreduce",
            "DescribeSecurityConfiguration",
            GapKind::AccessDenied
        )]),
        "{:#?}",
        result.gaps
    );
    let calls = common::assert_only_declared_calls(&access);
    assert_eq!(
        calls.get(&(
            "elasticmapreduce".to_owned(),
            "DescribeSecurityConfiguration".to_owned()
        )),
        Some(&3)
    );

    let kind = "AWS::EMR::SecurityConfiguration";
    let strong = asset(&result, kind, "sc-encrypted");
    assert_eq!(
        strong.arn,
        "arn:aws:elasticmapreduce:us-east-1:123456789012:security-configuration/sc-encrypted"
    );
    assert_eq!(
        strong.properties["creationDateTime"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(
        strong.properties["encryptionConfiguration"]["AtRestEncryptionConfiguration"]["S3EncryptionConfiguration"]
            ["EncryptionMode"],
        "SSE-KMS"
    );
    assert!(strong.unavailable.is_empty());
    let weak = asset(&result, kind, "sc-plain");
    assert_eq!(
        weak.properties["encryptionConfiguration"]["EnableAtRestEncryption"],
        false
    );
    let unread = asset(&result, kind, "sc-denied");
    assert!(unread.properties["encryptionConfiguration"].is_null());
    assert!(unread.properties.get("deleted").is_none());
    assert!(
        unread.unavailable["encryptionConfiguration"].contains("AccessDenied"),
        "{:?}",
        unread.unavailable
    );

    let (rest, transit) = (
        "emr-security-configuration-encrypted-at-rest",
        "emr-security-configuration-encrypted-in-transit",
    );
    assert_assessed(
        &assessments,
        &[
            (rest, "sc-encrypted", Healthy, "encrypts data at rest"),
            (rest, "sc-plain", Unhealthy, "does not encrypt data at rest"),
            (rest, "sc-denied", Error, "AccessDenied"),
            (transit, "sc-encrypted", Healthy, "encrypts data in transit"),
            (
                transit,
                "sc-plain",
                Unhealthy,
                "does not encrypt data in transit",
            ),
            (transit, "sc-denied", Error, "AccessDenied"),
        ],
    );
}

/// An Elastic Beanstalk `member` of `DescribeEnvironments`.
fn eb_environment(name: &str, id: &str, health_status: Option<&str>) -> String {
    let health_status = health_status
        .map(|h| format!("<HealthStatus>{h}</HealthStatus>"))
        .unwrap_or_default();
    format!(
        "<member>\
         <EnvironmentName>{name}</EnvironmentName><EnvironmentId>{id}</EnvironmentId>\
         <ApplicationName>shop</ApplicationName>\
         <EnvironmentArn>arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/shop/{name}</EnvironmentArn>\
         <SolutionStackName>64bit Amazon Linux 2023 v4.3.0 running Python 3.11</SolutionStackName>\
         <PlatformArn>arn:aws:elasticbeanstalk:us-east-1::platform/Python 3.11 running on 64bit Amazon Linux 2023/4.3.0</PlatformArn>\
         <EndpointURL>awseb-e-{id}.us-east-1.elb.amazonaws.com</EndpointURL>\
         <CNAME>{name}.us-east-1.elasticbeanstalk.com</CNAME>\
         <DateCreated>2026-01-01T00:00:00.000Z</DateCreated><DateUpdated>2026-01-02T00:00:00.000Z</DateUpdated>\
         <Status>Ready</Status><AbortableOperationInProgress>false</AbortableOperationInProgress>\
         <Health>Green</Health>{health_status}\
         <Tier><Name>WebServer</Name><Type>Standard</Type><Version>1.0</Version></Tier>\
         </member>"
    )
}

/// A `DescribeConfigurationSettings` response with `options`
/// (`(namespace, option, value)`).
fn eb_settings(name: &str, options: &[(&str, &str, &str)]) -> String {
    let members: String = options
        .iter()
        .map(|(ns, option, value)| {
            format!(
                "<member><ResourceName>AWSEBAutoScalingGroup</ResourceName>\
                 <Namespace>{ns}</Namespace><OptionName>{option}</OptionName>\
                 <Value>{value}</Value></member>"
            )
        })
        .collect();
    format!(
        "<DescribeConfigurationSettingsResponse xmlns=\"http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/\">\
         <DescribeConfigurationSettingsResult><ConfigurationSettings><member>\
         <SolutionStackName>64bit Amazon Linux 2023 v4.3.0 running Python 3.11</SolutionStackName>\
         <ApplicationName>shop</ApplicationName><EnvironmentName>{name}</EnvironmentName>\
         <DeploymentStatus>deployed</DeploymentStatus>\
         <DateCreated>2026-01-01T00:00:00.000Z</DateCreated><DateUpdated>2026-01-02T00:00:00.000Z</DateUpdated>\
         <OptionSettings>{members}</OptionSettings>\
         </member></ConfigurationSettings></DescribeConfigurationSettingsResult>\
         <ResponseMetadata><RequestId>5f8b1c3e-0000-4000-8000-000000000001</RequestId></ResponseMetadata>\
         </DescribeConfigurationSettingsResponse>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elastic_beanstalk_option_settings_from_recorded_responses() {
    let environments = format!(
        "<DescribeEnvironmentsResponse xmlns=\"http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/\">\
         <DescribeEnvironmentsResult><Environments>{}{}{}</Environments></DescribeEnvironmentsResult>\
         <ResponseMetadata><RequestId>5f8b1c3e-0000-4000-8000-000000000000</RequestId></ResponseMetadata>\
         </DescribeEnvironmentsResponse>",
        eb_environment("shop-prod", "e-prod1234", Some("Ok")),
        eb_environment("shop-dev", "e-dev12345", None),
        eb_environment("shop-locked", "e-lock1234", Some("Ok")),
    );
    record_ok(
        "elasticbeanstalk",
        "DescribeEnvironments",
        XML,
        &environments,
    );
    let prod = eb_settings(
        "shop-prod",
        &[
            (
                "aws:elasticbeanstalk:healthreporting:system",
                "SystemType",
                "enhanced",
            ),
            ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", "true"),
            (
                "aws:elasticbeanstalk:cloudwatch:logs",
                "RetentionInDays",
                "90",
            ),
            (
                "aws:elasticbeanstalk:managedactions",
                "ManagedActionsEnabled",
                "true",
            ),
            (
                "aws:elasticbeanstalk:application:environment",
                "DB_PASSWORD",
                "hunter2-secret",
            ),
        ],
    );
    let dev = eb_settings(
        "shop-dev",
        &[
            (
                "aws:elasticbeanstalk:healthreporting:system",
                "SystemType",
                "basic",
            ),
            (
                "aws:elasticbeanstalk:cloudwatch:logs",
                "StreamLogs",
                "false",
            ),
        ],
    );
    for (name, body) in [("shop-prod", prod), ("shop-dev", dev)] {
        moto().record(
            &Recording::operation(
                "elasticbeanstalk",
                "DescribeConfigurationSettings",
                XML,
                &body,
            )
            .body_matching(&format!("EnvironmentName={name}(&|$)")),
        );
    }
    let denied = "<ErrorResponse xmlns=\"http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/\">\
         <Error><Type>Sender</Type><Code>AccessDenied</Code>\
         <Message>User: arn:aws:sts::123456789012:assumed-role/rampart-scan/session is not \
         authorized to perform: elasticbeanstalk:DescribeConfigurationSettings</Message></Error>\
         <RequestId>5f8b1c3e-0000-4000-8000-000000000002</RequestId></ErrorResponse>";
    moto().record(
        &Recording::operation(
            "elasticbeanstalk",
            "DescribeConfigurationSettings",
            XML,
            denied,
        )
        .body_matching("EnvironmentName=shop-locked(&|$)")
        .status(403),
    );

    let (access, result, assessments) = scan(&[REGION], &["elasticbeanstalk"]).await;
    assert_eq!(
        gaps(&result),
        BTreeSet::from([gap(
            "elasticbeanstalk",
            "DescribeConfigurationSettings",
            GapKind::AccessDenied
        )]),
        "{:#?}",
        result.gaps
    );
    common::assert_only_declared_calls(&access);

    let kind = "AWS::ElasticBeanstalk::Environment";
    let prod = asset(&result, kind, "shop-prod");
    assert_eq!(prod.properties["applicationName"], "shop");
    assert_eq!(prod.properties["tier"], "WebServer");
    assert_eq!(prod.properties["dateCreated"], "2026-01-01T00:00:00Z");
    assert_eq!(
        prod.properties["options"]["aws:elasticbeanstalk:cloudwatch:logs"]["RetentionInDays"],
        "90"
    );
    // Environment properties (often secrets) are never kept.
    let kept = serde_json::to_string(&prod.properties).unwrap();
    assert!(
        !kept.contains("hunter2") && !kept.contains("DB_PASSWORD"),
        "{kept}"
    );
    let locked = asset(&result, kind, "shop-locked");
    assert!(locked.properties["options"].is_null());
    assert!(
        locked.unavailable["options"].contains("AccessDenied"),
        "{:?}",
        locked.unavailable
    );

    let (health, logs) = (
        "elasticbeanstalk-environment-enhanced-health",
        "elasticbeanstalk-environment-cloudwatch-logs",
    );
    assert_assessed(
        &assessments,
        &[
            (
                health,
                "shop-prod",
                Healthy,
                "Enhanced health reporting is on",
            ),
            (health, "shop-dev", Unhealthy, "basic health reporting"),
            (health, "shop-locked", Error, "AccessDenied"),
            (logs, "shop-prod", Healthy, "streams its instance logs"),
            (logs, "shop-dev", Unhealthy, "does not stream"),
            (logs, "shop-locked", Error, "AccessDenied"),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dms_from_recorded_responses() {
    let instance_arn = |id: &str| format!("arn:aws:dms:us-east-1:123456789012:rep:{id}");
    let endpoint_arn = |id: &str| format!("arn:aws:dms:us-east-1:123456789012:endpoint:{id}");
    let instance = |id: &str, public: bool, upgrades: bool, multi_az: bool| {
        json!({
            "ReplicationInstanceIdentifier": id,
            "ReplicationInstanceArn": instance_arn(id),
            "ReplicationInstanceClass": "dms.t3.medium",
            "ReplicationInstanceStatus": "available",
            "AllocatedStorage": 50,
            "InstanceCreateTime": CREATED,
            "AvailabilityZone": "us-east-1a",
            "SecondaryAvailabilityZone": if multi_az { json!("us-east-1b") } else { json!(null) },
            "EngineVersion": "3.5.3",
            "AutoMinorVersionUpgrade": upgrades,
            "MultiAZ": multi_az,
            "PubliclyAccessible": public,
            "ReplicationInstancePublicIpAddresses": if public { json!(["203.0.113.10"]) } else { json!([]) },
            "ReplicationInstancePrivateIpAddresses": ["10.0.1.10"],
            "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/2222",
            "ReplicationSubnetGroup": {"ReplicationSubnetGroupIdentifier": "dms-private",
                                       "VpcId": "vpc-0a1b2c3d", "SubnetGroupStatus": "Complete"},
            "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-0a1b2c3d", "Status": "active"}]
        })
    };
    let instances = json!({"ReplicationInstances": [
        instance("ri-private", false, true, true),
        instance("ri-public", true, false, false)
    ]});
    let logging = |enabled: bool, severity: &str| {
        json!({"Logging": {"EnableLogging": enabled, "LogComponents": [
            {"Id": "SOURCE_UNLOAD", "Severity": severity},
            {"Id": "SOURCE_CAPTURE", "Severity": severity},
            {"Id": "TARGET_LOAD", "Severity": severity},
            {"Id": "TARGET_APPLY", "Severity": severity}
        ]}, "TargetMetadata": {"SupportLobs": true}})
        .to_string()
    };
    let task = |id: &str, settings: String| {
        json!({
            "ReplicationTaskIdentifier": id,
            "ReplicationTaskArn": format!("arn:aws:dms:us-east-1:123456789012:task:{id}"),
            "SourceEndpointArn": endpoint_arn("pg-require"),
            "TargetEndpointArn": endpoint_arn("pg-plain"),
            "ReplicationInstanceArn": instance_arn("ri-private"),
            "MigrationType": "full-load-and-cdc",
            "ReplicationTaskSettings": settings,
            "Status": "running",
            "ReplicationTaskCreationDate": CREATED,
            "ReplicationTaskStartDate": CREATED
        })
    };
    let tasks = json!({"ReplicationTasks": [
        task("task-logged", logging(true, "LOGGER_SEVERITY_DEFAULT")),
        task("task-silent", logging(false, "LOGGER_SEVERITY_DEFAULT"))
    ]});
    let endpoint = |id: &str, kind: &str, engine: &str, extra: serde_json::Value| {
        let mut e = json!({
            "EndpointIdentifier": id, "EndpointArn": endpoint_arn(id),
            "EndpointType": kind, "EngineName": engine, "EngineDisplayName": engine,
            "Status": "active", "ServerName": format!("{id}.example.internal"), "Port": 5432
        });
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    };
    let endpoints = json!({"Endpoints": [
        endpoint("pg-require", "SOURCE", "postgres",
                 json!({"SslMode": "require", "DatabaseName": "orders", "Username": "dms"})),
        endpoint("pg-plain", "TARGET", "postgres",
                 json!({"SslMode": "none", "DatabaseName": "orders", "Username": "dms"})),
        endpoint("mongo-open", "SOURCE", "mongodb",
                 json!({"SslMode": "none", "MongoDbSettings": {"AuthType": "no",
                        "ServerName": "mongo.example.internal", "Port": 27017}})),
        endpoint("mongo-auth", "SOURCE", "mongodb",
                 json!({"SslMode": "require", "MongoDbSettings": {"AuthType": "password",
                        "AuthMechanism": "scram_sha_1", "AuthSource": "admin"}})),
        endpoint("redis-tls", "TARGET", "redis",
                 json!({"SslMode": "none", "RedisSettings": {"ServerName": "redis.example.internal",
                        "Port": 6379, "SslSecurityProtocol": "ssl-encryption",
                        "AuthType": "auth-token"}})),
        endpoint("redis-plain", "TARGET", "redis",
                 json!({"SslMode": "none", "RedisSettings": {"ServerName": "redis.example.internal",
                        "Port": 6379, "SslSecurityProtocol": "plaintext", "AuthType": "none"}})),
        endpoint("graph-iam", "TARGET", "neptune",
                 json!({"SslMode": "none", "NeptuneSettings": {"IamAuthEnabled": true,
                        "ServiceAccessRoleArn": "arn:aws:iam::123456789012:role/dms-neptune",
                        "S3BucketName": "dms-staging", "S3BucketFolder": "neptune"}})),
        endpoint("graph-open", "TARGET", "neptune",
                 json!({"SslMode": "none", "NeptuneSettings": {"IamAuthEnabled": false,
                        "S3BucketName": "dms-staging", "S3BucketFolder": "neptune"}}))
    ]});
    record_ok(
        "dms",
        "DescribeReplicationInstances",
        JSON_1_1,
        &instances.to_string(),
    );
    record_ok(
        "dms",
        "DescribeReplicationTasks",
        JSON_1_1,
        &tasks.to_string(),
    );
    record_ok("dms", "DescribeEndpoints", JSON_1_1, &endpoints.to_string());

    let (access, result, assessments) = scan(&[REGION], &["dms"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    common::assert_only_declared_calls(&access);

    let public = asset(&result, "AWS::DMS::ReplicationInstance", "ri-public");
    assert_eq!(public.properties["publiclyAccessible"], true);
    assert_eq!(
        public.properties["publicIpAddresses"],
        json!(["203.0.113.10"])
    );
    assert_eq!(public.properties["createTime"], "2026-01-01T00:00:00Z");
    let private = asset(&result, "AWS::DMS::ReplicationInstance", "ri-private");
    assert_eq!(private.properties["multiAz"], true);
    assert_eq!(
        private.properties["replicationSubnetGroupIdentifier"],
        "dms-private"
    );
    let logged = asset(&result, "AWS::DMS::ReplicationTask", "task-logged");
    assert_eq!(logged.properties["logging"]["enableLogging"], true);
    assert_eq!(
        logged.properties["logging"]["logComponents"]["TARGET_APPLY"],
        "LOGGER_SEVERITY_DEFAULT"
    );
    assert_eq!(logged.properties["createTime"], "2026-01-01T00:00:00Z");
    let redis = asset(&result, "AWS::DMS::Endpoint", "redis-plain");
    assert_eq!(
        redis.properties["redisSettings"]["sslSecurityProtocol"],
        "plaintext"
    );
    assert_eq!(redis.properties["endpointType"], "TARGET");

    assert_assessed(
        &assessments,
        &[
            (
                "dms-replication-instance-not-public",
                "ri-private",
                Healthy,
                "",
            ),
            (
                "dms-replication-instance-not-public",
                "ri-public",
                Unhealthy,
                "",
            ),
            (
                "dms-replication-instance-auto-minor-version-upgrade",
                "ri-private",
                Healthy,
                "",
            ),
            (
                "dms-replication-instance-auto-minor-version-upgrade",
                "ri-public",
                Unhealthy,
                "",
            ),
            (
                "dms-replication-instance-multi-az",
                "ri-private",
                Healthy,
                "",
            ),
            (
                "dms-replication-instance-multi-az",
                "ri-public",
                Unhealthy,
                "",
            ),
            (
                "dms-replication-task-target-logging",
                "task-logged",
                Healthy,
                "",
            ),
            (
                "dms-replication-task-target-logging",
                "task-silent",
                Unhealthy,
                "",
            ),
            (
                "dms-replication-task-source-logging",
                "task-logged",
                Healthy,
                "",
            ),
            (
                "dms-replication-task-source-logging",
                "task-silent",
                Unhealthy,
                "",
            ),
            ("dms-endpoint-ssl", "pg-require", Healthy, "`require`"),
            ("dms-endpoint-ssl", "pg-plain", Unhealthy, "without SSL"),
            (
                "dms-endpoint-ssl",
                "redis-plain",
                NotApplicable,
                "no SSL mode",
            ),
            (
                "dms-mongodb-endpoint-authentication",
                "mongo-auth",
                Healthy,
                "",
            ),
            (
                "dms-mongodb-endpoint-authentication",
                "mongo-open",
                Unhealthy,
                "",
            ),
            (
                "dms-mongodb-endpoint-authentication",
                "pg-plain",
                NotApplicable,
                "",
            ),
            ("dms-redis-endpoint-tls", "redis-tls", Healthy, ""),
            ("dms-redis-endpoint-tls", "redis-plain", Unhealthy, ""),
            (
                "dms-neptune-endpoint-iam-authorization",
                "graph-iam",
                Healthy,
                "",
            ),
            (
                "dms-neptune-endpoint-iam-authorization",
                "graph-open",
                Unhealthy,
                "",
            ),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msk_clusters_from_recorded_responses() {
    let arn =
        |name: &str, id: &str| format!("arn:aws:kafka:us-east-1:123456789012:cluster/{name}/{id}");
    let provisioned = |name: &str, id: &str, secure: bool| {
        json!({
            "clusterArn": arn(name, id), "clusterName": name, "clusterType": "PROVISIONED",
            "state": "ACTIVE", "creationTime": "2026-01-01T00:00:00.000Z",
            "currentVersion": "K3AEGXETSR30VB",
            "tags": {"team": "streaming"},
            "provisioned": {
                "brokerNodeGroupInfo": {
                    "instanceType": "kafka.m5.large",
                    "clientSubnets": ["subnet-0a", "subnet-0b", "subnet-0c"],
                    "securityGroups": ["sg-0a1b2c3d"],
                    "storageInfo": {"ebsStorageInfo": {"volumeSize": 100}},
                    "connectivityInfo": {"publicAccess": {
                        "type": if secure { "DISABLED" } else { "SERVICE_PROVIDED_EIPS" }}}
                },
                "currentBrokerSoftwareInfo": {"kafkaVersion": "3.6.0"},
                "encryptionInfo": {
                    "encryptionAtRest": {"dataVolumeKMSKeyId": "arn:aws:kms:us-east-1:123456789012:key/3333"},
                    "encryptionInTransit": {"inCluster": secure,
                        "clientBroker": if secure { "TLS" } else { "TLS_PLAINTEXT" }}
                },
                "enhancedMonitoring": if secure { "PER_BROKER" } else { "DEFAULT" },
                "clientAuthentication": {
                    "sasl": {"iam": {"enabled": secure}, "scram": {"enabled": false}},
                    "tls": {"enabled": false, "certificateAuthorityArnList": []},
                    "unauthenticated": {"enabled": !secure}
                },
                "numberOfBrokerNodes": 3,
                "zookeeperConnectString": "z-1.example.kafka.us-east-1.amazonaws.com:2181"
            }
        })
    };
    let serverless = json!({
        "clusterArn": arn("events", "cccc-3"), "clusterName": "events",
        "clusterType": "SERVERLESS", "state": "ACTIVE",
        "creationTime": "2026-01-01T00:00:00.000Z", "currentVersion": "K2EUQ1WTGCTBG2",
        "serverless": {
            "vpcConfigs": [{"subnetIds": ["subnet-0a", "subnet-0b"], "securityGroupIds": ["sg-0a1b2c3d"]}],
            "clientAuthentication": {"sasl": {"iam": {"enabled": true}}}
        }
    });
    let clusters = json!({"clusterInfoList": [
        provisioned("orders-secure", "aaaa-1", true),
        provisioned("orders-open", "bbbb-2", false),
        serverless
    ]});
    record_rest_ok("kafka", "GET /api/v2/clusters", &clusters.to_string());
    // The collector also lists MSK Connect connectors (moto lacks them):
    // none here.
    record_rest_ok(
        "kafkaconnect",
        "GET /v1/connectors",
        r#"{"connectors": []}"#,
    );

    let (access, result, assessments) = scan(&[REGION], &["kafka"]).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);
    common::assert_only_declared_calls(&access);

    let kind = "AWS::MSK::Cluster";
    let secure = asset(&result, kind, "orders-secure");
    assert_eq!(secure.arn, arn("orders-secure", "aaaa-1"));
    assert_eq!(secure.properties["creationTime"], "2026-01-01T00:00:00Z");
    assert_eq!(secure.properties["numberOfBrokerNodes"], 3);
    assert_eq!(secure.properties["clientAuthentication"]["iam"], true);
    assert_eq!(secure.tags["team"], "streaming");
    let open = asset(&result, kind, "orders-open");
    assert_eq!(open.properties["publicAccessType"], "SERVICE_PROVIDED_EIPS");
    assert_eq!(
        open.properties["encryptionInTransit"]["clientBroker"],
        "TLS_PLAINTEXT"
    );
    assert_eq!(
        asset(&result, kind, "events").properties["clusterType"],
        "SERVERLESS"
    );

    assert_assessed(
        &assessments,
        &[
            (
                "msk-cluster-in-cluster-encryption",
                "orders-secure",
                Healthy,
                "encrypted",
            ),
            (
                "msk-cluster-in-cluster-encryption",
                "orders-open",
                Unhealthy,
                "plain text",
            ),
            (
                "msk-cluster-in-cluster-encryption",
                "events",
                Healthy,
                "Serverless",
            ),
            (
                "msk-cluster-enhanced-monitoring",
                "orders-secure",
                Healthy,
                "PER_BROKER",
            ),
            (
                "msk-cluster-enhanced-monitoring",
                "orders-open",
                Unhealthy,
                "default monitoring",
            ),
            (
                "msk-cluster-enhanced-monitoring",
                "events",
                NotApplicable,
                "Serverless",
            ),
            (
                "msk-cluster-public-access-disabled",
                "orders-secure",
                Healthy,
                "off",
            ),
            (
                "msk-cluster-public-access-disabled",
                "orders-open",
                Unhealthy,
                "public IP",
            ),
            (
                "msk-cluster-unauthenticated-access-disabled",
                "orders-secure",
                Healthy,
                "only authenticated",
            ),
            (
                "msk-cluster-unauthenticated-access-disabled",
                "orders-open",
                Unhealthy,
                "unauthenticated",
            ),
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn macie_from_recorded_responses() {
    let (enabled, paused, off, denied) = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2");
    let session = |status: &str| {
        json!({"createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-02T00:00:00.000Z",
               "findingPublishingFrequency": "FIFTEEN_MINUTES", "status": status,
               "serviceRole": "arn:aws:iam::123456789012:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie"})
        .to_string()
    };
    let (enabled_body, paused_body) = (session("ENABLED"), session("PAUSED"));
    let not_enabled = json!({"message": "Macie is not enabled."}).to_string();
    let not_authorized = json!({"message": "User: arn:aws:sts::123456789012:assumed-role/rampart-scan/session is not authorized to perform: macie2:GetMacieSession"}).to_string();
    for (region, status, body) in [
        (enabled, 200, &enabled_body),
        (paused, 200, &paused_body),
        (off, 403, &not_enabled),
        (denied, 403, &not_authorized),
    ] {
        let mut recording = Recording::rest("macie2", "GET /macie", REST_JSON, body)
            .in_region(region)
            .status(status);
        if status != 200 {
            recording = recording.header("x-amzn-ErrorType", "AccessDeniedException");
        }
        moto().record(&recording);
    }

    let (access, result, assessments) = scan(&[enabled, paused, off, denied], &["macie2"]).await;
    // Not enabled is an answer, not a gap; a denied read is a gap.
    assert_eq!(
        gaps(&result),
        BTreeSet::from([(
            denied.to_owned(),
            "macie2".to_owned(),
            "GetMacieSession".to_owned(),
            GapKind::AccessDenied
        )]),
        "{:#?}",
        result.gaps
    );
    common::assert_only_declared_calls(&access);

    let session_in = |region: &str| {
        result
            .assets
            .iter()
            .find(|a| a.region == region && a.resource_type == rampart_model::types::MACIE_REGION)
            .unwrap_or_else(|| panic!("no Macie asset in {region}: {:#?}", result.assets))
    };
    assert_eq!(session_in(enabled).properties["status"], "ENABLED");
    assert_eq!(
        session_in(enabled).properties["createdAt"],
        "2026-01-01T00:00:00Z"
    );
    assert_eq!(
        session_in(enabled).properties["findingPublishingFrequency"],
        "FIFTEEN_MINUTES"
    );
    assert_eq!(session_in(paused).properties["status"], "PAUSED");
    assert_eq!(session_in(off).properties["status"], "DISABLED");
    assert!(session_in(denied).properties["status"].is_null());
    assert!(session_in(denied).unavailable["status"].contains("AccessDenied"));

    for (region, status, reason) in [
        (enabled, Healthy, "enabled"),
        (paused, Unhealthy, "not enabled"),
        (off, Unhealthy, "not enabled"),
        (denied, Error, "AccessDenied"),
    ] {
        let a = assessment(&assessments, "macie-enabled", region, "session");
        assert_eq!(a.status, status, "macie-enabled in {region}: {}", a.reason);
        assert!(a.reason.contains(reason), "{region}: {}", a.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_from_recorded_responses() {
    let summary = |id: &str, alias: &str, status: &str| {
        json!({
            "Id": id, "Arn": format!("arn:aws:connect:us-east-1:123456789012:instance/{id}"),
            "IdentityManagementType": "CONNECT_MANAGED", "InstanceAlias": alias,
            "CreatedTime": CREATED, "InstanceStatus": status,
            "ServiceRole": "arn:aws:iam::123456789012:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect",
            "InboundCallsEnabled": true, "OutboundCallsEnabled": true,
            "InstanceAccessUrl": format!("https://{alias}.my.connect.aws")
        })
    };
    let (logged, silent, locked, pending) = (
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
        "44444444-4444-4444-8444-444444444444",
    );
    let list = json!({"InstanceSummaryList": [
        summary(logged, "support-logged", "ACTIVE"),
        summary(silent, "support-silent", "ACTIVE"),
        summary(locked, "support-locked", "ACTIVE"),
        summary(pending, "support-new", "CREATION_IN_PROGRESS")
    ]});
    record_rest_ok("connect", "GET /instance", &list.to_string());
    for (id, value) in [(logged, "true"), (silent, "false")] {
        let body =
            json!({"Attribute": {"AttributeType": "CONTACTFLOW_LOGS", "Value": value}}).to_string();
        record_rest_ok(
            "connect",
            &format!("GET /instance/{id}/attribute/CONTACTFLOW_LOGS"),
            &body,
        );
    }
    let denied = json!({"Message": "User: arn:aws:sts::123456789012:assumed-role/rampart-scan/session is not authorized to perform: connect:DescribeInstanceAttribute"}).to_string();
    moto().record(
        &Recording::rest(
            "connect",
            &format!("GET /instance/{locked}/attribute/CONTACTFLOW_LOGS"),
            REST_JSON,
            &denied,
        )
        .status(403)
        .header("x-amzn-ErrorType", "AccessDeniedException"),
    );

    let (access, result, assessments) = scan(&[REGION], &["connect"]).await;
    assert_eq!(
        gaps(&result),
        BTreeSet::from([gap(
            "connect",
            "DescribeInstanceAttribute",
            GapKind::AccessDenied
        )]),
        "{:#?}",
        result.gaps
    );
    let calls = common::assert_only_declared_calls(&access);
    // Only active instances are described.
    assert_eq!(
        calls.get(&("connect".to_owned(), "DescribeInstanceAttribute".to_owned())),
        Some(&3)
    );

    let kind = "AWS::Connect::Instance";
    let on = asset(&result, kind, "support-logged");
    assert_eq!(
        on.arn,
        format!("arn:aws:connect:us-east-1:123456789012:instance/{logged}")
    );
    assert_eq!(on.properties["contactFlowLogs"], true);
    assert_eq!(
        asset(&result, kind, "support-silent").properties["contactFlowLogs"],
        false
    );
    assert!(asset(&result, kind, "support-new").properties["contactFlowLogs"].is_null());
    let unread = asset(&result, kind, "support-locked");
    assert!(unread.properties["contactFlowLogs"].is_null());
    assert!(
        unread.unavailable["contactFlowLogs"].contains("AccessDenied"),
        "{:?}",
        unread.unavailable
    );

    let rec = "connect-flow-logging";
    assert_assessed(
        &assessments,
        &[
            (rec, "support-logged", Healthy, ""),
            (rec, "support-silent", Unhealthy, ""),
            (rec, "support-locked", Error, "AccessDenied"),
            (rec, "support-new", NotApplicable, "CREATION_IN_PROGRESS"),
        ],
    );
}
