//! The application-integration collectors (API Gateway REST and v2,
//! AppSync, Cognito, Kinesis, Firehose, Step Functions, EventBridge, Amazon
//! MQ, Transfer Family, DataSync) against moto; the collected assets are
//! assessed by the catalog end to end. One moto for the file.
//!
//! moto (5.2.5) does not model a REST stage's client certificate (every
//! stage reads as without one: APIGateway.2's healthy case is covered by
//! fixtures only), Cognito threat protection add-ons are kept only as far
//! as moto echoes them, and it accepts FTP on a public Transfer server
//! (AWS requires a VPC endpoint).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    reason = "test code: a failure should stop the test"
)]

mod common;
use common::{REGION, settings, status};

use rampart_aws::{AwsAccess, NoProgress, ScanPlan, collect_account};
use rampart_catalog::Catalog;
use rampart_catalog::evaluate::evaluate;
use rampart_model::{AssessmentStatus, Asset};
use rampart_testkit::Moto;
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/service-role";

const SERVICES: &[&str] = &[
    "apigateway",
    "appsync",
    "cognito-idp",
    "cognito-identity",
    "kinesis",
    "firehose",
    "states",
    "events",
    "mq",
    "transfer",
    "datasync",
];

fn plan() -> ScanPlan {
    common::plan(&[REGION], SERVICES)
}

fn find<'a>(assets: &'a [Asset], kind: &str, name: &str) -> &'a Asset {
    assets
        .iter()
        .find(|a| a.resource_type == kind && a.name == name)
        .unwrap_or_else(|| panic!("no {kind} `{name}`"))
}

/// A REST API with one mock `GET /` method, deployed to stage `stage`.
async fn rest_api(
    apigw: &aws_sdk_apigateway::Client,
    name: &str,
    stage: &str,
    tracing: bool,
) -> String {
    use aws_sdk_apigateway::types::IntegrationType;
    let id = apigw
        .create_rest_api()
        .name(name)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let root = apigw
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .items
        .unwrap()
        .into_iter()
        .find(|r| r.path.as_deref() == Some("/"))
        .unwrap()
        .id
        .unwrap();
    apigw
        .put_method()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .authorization_type("NONE")
        .send()
        .await
        .unwrap();
    apigw
        .put_integration()
        .rest_api_id(&id)
        .resource_id(&root)
        .http_method("GET")
        .r#type(IntegrationType::Mock)
        .send()
        .await
        .unwrap();
    let deployment = apigw
        .create_deployment()
        .rest_api_id(&id)
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    apigw
        .create_stage()
        .rest_api_id(&id)
        .stage_name(stage)
        .deployment_id(deployment)
        .tracing_enabled(tracing)
        .cache_cluster_enabled(true)
        .send()
        .await
        .unwrap();
    id
}

/// Replaces `path` on a REST stage.
async fn patch_stage(
    apigw: &aws_sdk_apigateway::Client,
    id: &str,
    stage: &str,
    path: &str,
    value: &str,
) {
    use aws_sdk_apigateway::types::{Op, PatchOperation};
    apigw
        .update_stage()
        .rest_api_id(id)
        .stage_name(stage)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path(path)
                .value(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

async fn seed_api_gateway(setup: &AwsAccess) {
    use aws_sdk_apigatewayv2::types::{
        AccessLogSettings, AuthorizationType, LoggingLevel, ProtocolType, RouteSettings,
    };
    use aws_sdk_wafv2::types::{AllowAction, DefaultAction, Scope, VisibilityConfig};
    let apigw = setup.apigateway(REGION);
    // `shop/prod`: logs, caches encrypted, traced, behind WAF.
    let shop = rest_api(&apigw, "shop", "prod", true).await;
    patch_stage(&apigw, &shop, "prod", "/*/*/logging/loglevel", "ERROR").await;
    patch_stage(&apigw, &shop, "prod", "/*/*/caching/enabled", "true").await;
    patch_stage(&apigw, &shop, "prod", "/*/*/caching/dataEncrypted", "true").await;
    let waf = setup.wafv2(REGION);
    let acl = waf
        .create_web_acl()
        .name("api-protect")
        .scope(Scope::Regional)
        .default_action(
            DefaultAction::builder()
                .allow(AllowAction::builder().build())
                .build(),
        )
        .visibility_config(
            VisibilityConfig::builder()
                .sampled_requests_enabled(false)
                .cloud_watch_metrics_enabled(false)
                .metric_name("api-protect")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .summary
        .unwrap()
        .arn
        .unwrap();
    waf.associate_web_acl()
        .web_acl_arn(acl)
        .resource_arn(format!(
            "arn:aws:apigateway:{REGION}::/restapis/{shop}/stages/prod"
        ))
        .send()
        .await
        .unwrap();
    // `legacy/dev`: no logging, caching unencrypted, no tracing, no WAF.
    let legacy = rest_api(&apigw, "legacy", "dev", false).await;
    patch_stage(&apigw, &legacy, "dev", "/*/*/logging/loglevel", "OFF").await;
    patch_stage(&apigw, &legacy, "dev", "/*/*/caching/enabled", "true").await;
    patch_stage(
        &apigw,
        &legacy,
        "dev",
        "/*/*/caching/dataEncrypted",
        "false",
    )
    .await;

    let v2 = setup.apigatewayv2(REGION);
    // WebSocket `chat/live`: execution and access logs; `$connect` authorized.
    let chat = v2
        .create_api()
        .name("chat")
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap()
        .api_id
        .unwrap();
    v2.create_stage()
        .api_id(&chat)
        .stage_name("live")
        .default_route_settings(
            RouteSettings::builder()
                .logging_level(LoggingLevel::Info)
                .build(),
        )
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:chat-access")
                .format("$context.requestId")
                .build(),
        )
        .send()
        .await
        .unwrap();
    v2.create_route()
        .api_id(&chat)
        .route_key("$connect")
        .authorization_type(AuthorizationType::AwsIam)
        .send()
        .await
        .unwrap();
    v2.create_route()
        .api_id(&chat)
        .route_key("sendmessage")
        .send()
        .await
        .unwrap();
    // HTTP `orders/beta`: no access logs; one open route, one JWT route.
    let orders = v2
        .create_api()
        .name("orders")
        .protocol_type(ProtocolType::Http)
        .send()
        .await
        .unwrap()
        .api_id
        .unwrap();
    v2.create_stage()
        .api_id(&orders)
        .stage_name("beta")
        .send()
        .await
        .unwrap();
    v2.create_route()
        .api_id(&orders)
        .route_key("GET /orders")
        .send()
        .await
        .unwrap();
    v2.create_route()
        .api_id(&orders)
        .route_key("POST /orders")
        .authorization_type(AuthorizationType::Jwt)
        .authorizer_id("au1")
        .send()
        .await
        .unwrap();
}

async fn seed_appsync_and_cognito(setup: &AwsAccess) {
    use aws_sdk_appsync::types::{
        ApiCacheType, ApiCachingBehavior, AuthenticationType, FieldLogLevel, LogConfig,
    };
    use aws_sdk_cognitoidentityprovider::types::{
        AdvancedSecurityModeType, PasswordPolicyType, UserPoolAddOnsType, UserPoolPolicyType,
    };
    let appsync = setup.appsync(REGION);
    let catalog = appsync
        .create_graphql_api()
        .name("catalog")
        .authentication_type(AuthenticationType::AwsIam)
        .log_config(
            LogConfig::builder()
                .field_log_level(FieldLogLevel::Error)
                .cloud_watch_logs_role_arn(ROLE)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .graphql_api
        .unwrap()
        .api_id
        .unwrap();
    #[allow(
        deprecated,
        reason = "AWS now encrypts every new cache and ignores the flags; moto still honours them, which the check needs"
    )]
    appsync
        .create_api_cache()
        .api_id(&catalog)
        .ttl(300)
        .api_caching_behavior(ApiCachingBehavior::FullRequestCaching)
        .r#type(ApiCacheType::Small)
        .at_rest_encryption_enabled(true)
        .transit_encryption_enabled(false)
        .send()
        .await
        .unwrap();
    appsync
        .create_graphql_api()
        .name("public-feed")
        .authentication_type(AuthenticationType::ApiKey)
        .send()
        .await
        .unwrap();

    let idp = setup.cognito_idp(REGION);
    let policy = |symbols: bool, length: i32| {
        UserPoolPolicyType::builder()
            .password_policy(
                PasswordPolicyType::builder()
                    .minimum_length(length)
                    .require_uppercase(true)
                    .require_lowercase(true)
                    .require_numbers(true)
                    .require_symbols(symbols)
                    .temporary_password_validity_days(7)
                    .build(),
            )
            .build()
    };
    idp.create_user_pool()
        .pool_name("customers")
        .policies(policy(true, 12))
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(AdvancedSecurityModeType::Enforced)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    idp.create_user_pool()
        .pool_name("staff")
        .policies(policy(false, 6))
        .send()
        .await
        .unwrap();
    let identity = setup.cognito_identity(REGION);
    for (name, guests) in [("mobile", false), ("kiosk", true)] {
        identity
            .create_identity_pool()
            .identity_pool_name(name)
            .allow_unauthenticated_identities(guests)
            .send()
            .await
            .unwrap();
    }
}

async fn seed_streams_and_workflows(setup: &AwsAccess) {
    use aws_sdk_firehose::types::{
        DeliveryStreamEncryptionConfigurationInput, DeliveryStreamType,
        ExtendedS3DestinationConfiguration, KeyType,
    };
    use aws_sdk_kinesis::types::EncryptionType;
    use aws_sdk_sfn::types::{
        CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration,
    };
    let kinesis = setup.kinesis(REGION);
    for name in ["clickstream", "scratch"] {
        kinesis
            .create_stream()
            .stream_name(name)
            .shard_count(1)
            .send()
            .await
            .unwrap();
    }
    kinesis
        .start_stream_encryption()
        .stream_name("clickstream")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .unwrap();
    kinesis
        .increase_stream_retention_period()
        .stream_name("clickstream")
        .retention_period_hours(168)
        .send()
        .await
        .unwrap();

    let firehose = setup.firehose(REGION);
    for (name, encrypted) in [("app-logs", true), ("raw-events", false)] {
        let request = firehose
            .create_delivery_stream()
            .delivery_stream_name(name)
            .delivery_stream_type(DeliveryStreamType::DirectPut)
            .extended_s3_destination_configuration(
                ExtendedS3DestinationConfiguration::builder()
                    .role_arn(ROLE)
                    .bucket_arn("arn:aws:s3:::demo-firehose-sink")
                    .build()
                    .unwrap(),
            );
        request.send().await.unwrap();
        if encrypted {
            // moto keeps the creation input without a `Status`; starting
            // encryption records it as `ENABLED`, as AWS reports it.
            firehose
                .start_delivery_stream_encryption()
                .delivery_stream_name(name)
                .delivery_stream_encryption_configuration_input(
                    DeliveryStreamEncryptionConfigurationInput::builder()
                        .key_type(KeyType::AwsOwnedCmk)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    }

    let sfn = setup.sfn(REGION);
    let definition = r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#;
    sfn.create_state_machine()
        .name("order-flow")
        .definition(definition)
        .role_arn(ROLE)
        .logging_configuration(
            LoggingConfiguration::builder()
                .level(LogLevel::Error)
                .destinations(
                    LogDestination::builder()
                        .cloud_watch_logs_log_group(
                            CloudWatchLogsLogGroup::builder()
                                .log_group_arn(
                                    "arn:aws:logs:us-east-1:123456789012:log-group:sfn:*",
                                )
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    sfn.create_state_machine()
        .name("cleanup")
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();

    let events = setup.eventbridge(REGION);
    for name in ["orders", "audit"] {
        events.create_event_bus().name(name).send().await.unwrap();
    }
    events
        .put_permission()
        .event_bus_name("orders")
        .action("events:PutEvents")
        .principal("210987654321")
        .statement_id("partner-account")
        .send()
        .await
        .unwrap();
}

async fn seed_transfer_and_brokers(setup: &AwsAccess) {
    use aws_sdk_datasync::types::S3Config;
    use aws_sdk_mq::types::{DeploymentMode, EngineType, Logs, User};
    use aws_sdk_transfer::types::{Protocol, SftpConnectorConfig};
    let mq = setup.mq(REGION);
    for (name, engine, audit, upgrades) in [
        ("orders-broker", EngineType::Activemq, true, true),
        ("legacy-broker", EngineType::Activemq, false, false),
        ("rabbit", EngineType::Rabbitmq, false, true),
    ] {
        mq.create_broker()
            .broker_name(name)
            .engine_type(engine)
            .engine_version("5.18")
            .host_instance_type("mq.t3.micro")
            .deployment_mode(DeploymentMode::SingleInstance)
            .publicly_accessible(false)
            .auto_minor_version_upgrade(upgrades)
            .logs(Logs::builder().audit(audit).general(true).build())
            .users(
                User::builder()
                    .username("admin")
                    .password("password12345")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    let transfer = setup.transfer(REGION);
    transfer
        .create_server()
        .protocols(Protocol::Sftp)
        .send()
        .await
        .unwrap();
    transfer
        .create_server()
        .protocols(Protocol::Sftp)
        .protocols(Protocol::Ftp)
        .send()
        .await
        .unwrap();
    for logging in [true, false] {
        let mut request = transfer
            .create_connector()
            .url("sftp://partner.example.com")
            .access_role(ROLE)
            .sftp_config(
                SftpConnectorConfig::builder()
                    .user_secret_id("partner-sftp")
                    .trusted_host_keys("ssh-rsa AAAAB3NzaC1yc2E")
                    .build(),
            );
        if logging {
            request = request.logging_role(ROLE);
        }
        request.send().await.unwrap();
    }

    let datasync = setup.datasync(REGION);
    let mut locations = Vec::new();
    for bucket in ["demo-source", "demo-archive"] {
        locations.push(
            datasync
                .create_location_s3()
                .s3_bucket_arn(format!("arn:aws:s3:::{bucket}"))
                .s3_config(
                    S3Config::builder()
                        .bucket_access_role_arn(ROLE)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap()
                .location_arn
                .unwrap(),
        );
    }
    for (name, logs) in [("nightly-archive", true), ("adhoc-copy", false)] {
        let mut request = datasync
            .create_task()
            .name(name)
            .source_location_arn(&locations[0])
            .destination_location_arn(&locations[1]);
        if logs {
            request = request.cloud_watch_log_group_arn(
                "arn:aws:logs:us-east-1:123456789012:log-group:/aws/datasync",
            );
        }
        request.send().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_integration_services_are_collected_and_assessed() {
    let moto = Moto::start();
    // Set-up calls go through their own access, so the scan's call counts
    // hold only the collectors' calls.
    let setup = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    seed_api_gateway(&setup).await;
    seed_appsync_and_cognito(&setup).await;
    seed_streams_and_workflows(&setup).await;
    seed_transfer_and_brokers(&setup).await;

    let access = AwsAccess::load(&settings(&moto.url())).await.unwrap();
    let result = collect_account(&access, &plan(), &NoProgress).await;
    assert!(result.gaps.is_empty(), "{:#?}", result.gaps);

    common::assert_only_declared_calls(&access);

    let assets = &result.assets;
    let shop = find(assets, "AWS::ApiGateway::Stage", "shop/prod");
    assert_eq!(
        shop.properties["methodSettings"]["*/*"]["loggingLevel"],
        "ERROR"
    );
    assert_eq!(shop.properties["methodCount"], 1);
    assert!(
        shop.properties["webAclArn"]
            .as_str()
            .unwrap()
            .contains("api-protect")
    );
    let chat = find(assets, "AWS::ApiGatewayV2::Stage", "chat/live");
    assert_eq!(chat.properties["protocolType"], "WEBSOCKET");
    assert_eq!(chat.properties["routeCount"], 2);
    let catalog_api = find(assets, "AWS::AppSync::GraphQLApi", "catalog");
    assert_eq!(
        catalog_api.properties["apiCache"]["atRestEncryptionEnabled"],
        true
    );
    assert_eq!(
        find(assets, "AWS::Cognito::UserPool", "staff").properties["passwordPolicy"]["minimumLength"],
        6
    );
    assert_eq!(
        find(assets, "AWS::Kinesis::Stream", "scratch").properties["retentionPeriodHours"],
        24
    );
    assert_eq!(
        find(assets, "AWS::Events::EventBus", "default").properties["kind"],
        "default"
    );
    assert_eq!(
        find(assets, "AWS::StepFunctions::StateMachine", "order-flow").properties["logDestinations"],
        json!(["arn:aws:logs:us-east-1:123456789012:log-group:sfn:*"])
    );

    let catalog = Catalog::builtin().unwrap();
    let assessments = evaluate(&catalog, assets);
    use AssessmentStatus::{Healthy, NotApplicable, Unhealthy};
    let transfer_servers: Vec<&Asset> = assets
        .iter()
        .filter(|a| a.resource_type == "AWS::Transfer::Server")
        .collect();
    assert_eq!(transfer_servers.len(), 2);
    let ftp_server = transfer_servers
        .iter()
        .find(|a| a.properties["protocols"].to_string().contains("\"FTP\""))
        .unwrap();
    let sftp_server = transfer_servers
        .iter()
        .find(|a| a.arn != ftp_server.arn)
        .unwrap();
    let connectors: Vec<&Asset> = assets
        .iter()
        .filter(|a| a.resource_type == "AWS::Transfer::Connector")
        .collect();
    assert_eq!(connectors.len(), 2);
    let logged = connectors
        .iter()
        .find(|a| !a.properties["loggingRole"].is_null())
        .unwrap();
    let silent = connectors
        .iter()
        .find(|a| a.properties["loggingRole"].is_null())
        .unwrap();
    let expected = [
        (
            "apigateway-rest-stage-execution-logging",
            "shop/prod",
            Healthy,
        ),
        (
            "apigateway-rest-stage-execution-logging",
            "legacy/dev",
            Unhealthy,
        ),
        (
            "apigateway-rest-stage-client-certificate",
            "shop/prod",
            Unhealthy,
        ),
        ("apigateway-rest-stage-xray-tracing", "shop/prod", Healthy),
        (
            "apigateway-rest-stage-xray-tracing",
            "legacy/dev",
            Unhealthy,
        ),
        ("apigateway-rest-stage-waf", "shop/prod", Healthy),
        ("apigateway-rest-stage-waf", "legacy/dev", Unhealthy),
        (
            "apigateway-rest-stage-cache-encrypted",
            "shop/prod",
            Healthy,
        ),
        (
            "apigateway-rest-stage-cache-encrypted",
            "legacy/dev",
            Unhealthy,
        ),
        (
            "apigateway-websocket-stage-execution-logging",
            "chat/live",
            Healthy,
        ),
        (
            "apigateway-websocket-stage-execution-logging",
            "orders/beta",
            NotApplicable,
        ),
        ("apigateway-v2-stage-access-logging", "chat/live", Healthy),
        (
            "apigateway-v2-stage-access-logging",
            "orders/beta",
            Unhealthy,
        ),
        (
            "apigateway-v2-route-authorization",
            "chat $connect",
            Healthy,
        ),
        (
            "apigateway-v2-route-authorization",
            "chat sendmessage",
            NotApplicable,
        ),
        (
            "apigateway-v2-route-authorization",
            "orders GET /orders",
            Unhealthy,
        ),
        (
            "apigateway-v2-route-authorization",
            "orders POST /orders",
            Healthy,
        ),
        ("appsync-api-cache-encrypted-at-rest", "catalog", Healthy),
        (
            "appsync-api-cache-encrypted-in-transit",
            "catalog",
            Unhealthy,
        ),
        (
            "appsync-api-cache-encrypted-at-rest",
            "public-feed",
            NotApplicable,
        ),
        ("appsync-api-field-level-logging", "catalog", Healthy),
        ("appsync-api-field-level-logging", "public-feed", Unhealthy),
        ("appsync-api-no-api-key-auth", "catalog", Healthy),
        ("appsync-api-no-api-key-auth", "public-feed", Unhealthy),
        (
            "cognito-user-pool-strong-password-policy",
            "customers",
            Healthy,
        ),
        (
            "cognito-user-pool-strong-password-policy",
            "staff",
            Unhealthy,
        ),
        (
            "cognito-user-pool-threat-protection-enforced",
            "staff",
            Unhealthy,
        ),
        (
            "cognito-identity-pool-no-unauthenticated",
            "mobile",
            Healthy,
        ),
        (
            "cognito-identity-pool-no-unauthenticated",
            "kiosk",
            Unhealthy,
        ),
        ("kinesis-stream-encrypted", "clickstream", Healthy),
        ("kinesis-stream-encrypted", "scratch", Unhealthy),
        ("kinesis-stream-retention-period", "clickstream", Healthy),
        ("kinesis-stream-retention-period", "scratch", Unhealthy),
        ("firehose-delivery-stream-encrypted", "app-logs", Healthy),
        (
            "firehose-delivery-stream-encrypted",
            "raw-events",
            Unhealthy,
        ),
        ("stepfunctions-state-machine-logging", "order-flow", Healthy),
        ("stepfunctions-state-machine-logging", "cleanup", Unhealthy),
        ("eventbridge-custom-bus-resource-policy", "orders", Healthy),
        ("eventbridge-custom-bus-resource-policy", "audit", Unhealthy),
        (
            "eventbridge-custom-bus-resource-policy",
            "default",
            NotApplicable,
        ),
        ("mq-activemq-audit-logging", "orders-broker", Healthy),
        ("mq-activemq-audit-logging", "legacy-broker", Unhealthy),
        ("mq-activemq-audit-logging", "rabbit", NotApplicable),
        (
            "mq-broker-auto-minor-version-upgrade",
            "orders-broker",
            Healthy,
        ),
        (
            "mq-broker-auto-minor-version-upgrade",
            "legacy-broker",
            Unhealthy,
        ),
        ("transfer-server-no-ftp", sftp_server.name.as_str(), Healthy),
        (
            "transfer-server-no-ftp",
            ftp_server.name.as_str(),
            Unhealthy,
        ),
        ("transfer-connector-logging", logged.name.as_str(), Healthy),
        (
            "transfer-connector-logging",
            silent.name.as_str(),
            Unhealthy,
        ),
        ("datasync-task-logging", "nightly-archive", Healthy),
        ("datasync-task-logging", "adhoc-copy", Unhealthy),
    ];
    let mut wrong = Vec::new();
    for (recommendation, name, want) in expected {
        let got = status(&assessments, recommendation, name);
        if got != want {
            wrong.push(format!(
                "{recommendation} on {name}: {got:?}, expected {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
