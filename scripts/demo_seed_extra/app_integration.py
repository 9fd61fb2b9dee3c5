"""Demo seed: API Gateway (REST and HTTP/WebSocket), AppSync, Cognito, Kinesis,
Firehose, Step Functions, EventBridge, Amazon MQ, Transfer Family, DataSync.

One healthy and one failing resource per check where moto models it, all in
us-east-1. Documented in docs/demo-account.md.
"""

from __future__ import annotations

import json

HOME = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/demo-service-role"
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


def seed(s) -> None:
    _api_gateway(s)
    _appsync(s)
    _cognito(s)
    _streams(s)
    _workflows(s)
    _brokers(s)
    _transfer(s)
    _datasync(s)


def _rest_api(apigw, name: str, stage: str, tracing: bool) -> str:
    api = apigw.create_rest_api(name=name)["id"]
    root = next(r["id"] for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/")
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName=stage, deploymentId=deployment, tracingEnabled=tracing)
    return api


def _api_gateway(s) -> None:
    apigw = s.c("apigateway", HOME)
    good = _rest_api(apigw, "demo-shop", "prod", True)
    apigw.update_stage(
        restApiId=good,
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/*/*/logging/loglevel", "value": "ERROR"}],
    )
    s.add("apigateway", HOME, "REST stage demo-shop/prod: execution logging ERROR, X-Ray on")
    _rest_api(apigw, "demo-legacy", "dev", False)
    s.add("apigateway", HOME, "REST stage demo-legacy/dev: no logging, no X-Ray, no WAF, no client certificate (bad)")

    v2 = s.c("apigatewayv2", HOME)
    chat = v2.create_api(Name="demo-chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
    v2.create_stage(
        ApiId=chat,
        StageName="live",
        DefaultRouteSettings={"LoggingLevel": "INFO"},
        AccessLogSettings={"DestinationArn": f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:demo-chat-access", "Format": "$context.requestId"},
    )
    v2.create_route(ApiId=chat, RouteKey="$connect", AuthorizationType="AWS_IAM")
    s.add("apigatewayv2", HOME, "WebSocket API demo-chat, stage live: execution + access logs; $connect authorized by IAM")
    orders = v2.create_api(Name="demo-orders", ProtocolType="HTTP")["ApiId"]
    v2.create_stage(ApiId=orders, StageName="beta")
    v2.create_route(ApiId=orders, RouteKey="GET /orders")
    s.add("apigatewayv2", HOME, "HTTP API demo-orders, stage beta: no access logs; route GET /orders without authorization (bad)")


def _appsync(s) -> None:
    appsync = s.c("appsync", HOME)
    api = appsync.create_graphql_api(
        name="demo-catalog",
        authenticationType="AWS_IAM",
        logConfig={"fieldLogLevel": "ERROR", "cloudWatchLogsRoleArn": ROLE},
    )["graphqlApi"]["apiId"]
    s.optional(
        "appsync create_api_cache",
        appsync.create_api_cache,
        apiId=api,
        ttl=300,
        apiCachingBehavior="FULL_REQUEST_CACHING",
        type="SMALL",
        atRestEncryptionEnabled=True,
        transitEncryptionEnabled=True,
    )
    s.add("appsync", HOME, "GraphQL API demo-catalog: IAM auth, field logs ERROR, encrypted cache")
    appsync.create_graphql_api(name="demo-public-feed", authenticationType="API_KEY")
    s.add("appsync", HOME, "GraphQL API demo-public-feed: API key auth, no field logs (bad)")


def _cognito(s) -> None:
    idp = s.c("cognito-idp", HOME)

    def policy(length: int, symbols: bool):
        return {
            "PasswordPolicy": {
                "MinimumLength": length,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": symbols,
                "TemporaryPasswordValidityDays": 7,
            }
        }

    idp.create_user_pool(PoolName="demo-customers", Policies=policy(12, True), UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"})
    s.add("cognito-idp", HOME, "user pool demo-customers: strong password policy, threat protection ENFORCED")
    idp.create_user_pool(PoolName="demo-staff", Policies=policy(6, False))
    s.add("cognito-idp", HOME, "user pool demo-staff: 6-character passwords without symbols, no threat protection (bad)")
    identity = s.c("cognito-identity", HOME)
    identity.create_identity_pool(IdentityPoolName="demo_mobile", AllowUnauthenticatedIdentities=False)
    identity.create_identity_pool(IdentityPoolName="demo_kiosk", AllowUnauthenticatedIdentities=True)
    s.add("cognito-identity", HOME, "identity pools demo_mobile (no guests) and demo_kiosk (guests allowed, bad)")


def _streams(s) -> None:
    kinesis = s.c("kinesis", HOME)
    kinesis.create_stream(StreamName="demo-clickstream", ShardCount=1)
    kinesis.start_stream_encryption(StreamName="demo-clickstream", EncryptionType="KMS", KeyId="alias/aws/kinesis")
    kinesis.increase_stream_retention_period(StreamName="demo-clickstream", RetentionPeriodHours=168)
    kinesis.create_stream(StreamName="demo-scratch", ShardCount=1)
    s.add("kinesis", HOME, "streams demo-clickstream (KMS, 168 h) and demo-scratch (unencrypted, 24 h; bad)")
    firehose = s.c("firehose", HOME)
    for name, encrypted in (("demo-app-logs", True), ("demo-raw-events", False)):
        firehose.create_delivery_stream(
            DeliveryStreamName=name,
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": "arn:aws:s3:::demo-firehose-sink"},
        )
        if encrypted:
            # moto records encryption given at creation without a Status; starting it sets ENABLED.
            firehose.start_delivery_stream_encryption(
                DeliveryStreamName=name, DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"}
            )
    s.add("firehose", HOME, "delivery streams demo-app-logs (encrypted) and demo-raw-events (unencrypted, bad)")


def _workflows(s) -> None:
    sfn = s.c("stepfunctions", HOME)
    sfn.create_state_machine(
        name="demo-order-flow",
        definition=DEFINITION,
        roleArn=ROLE,
        loggingConfiguration={
            "level": "ERROR",
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:demo-sfn:*"}}],
        },
    )
    sfn.create_state_machine(name="demo-cleanup", definition=DEFINITION, roleArn=ROLE)
    s.add("stepfunctions", HOME, "state machines demo-order-flow (logs ERROR) and demo-cleanup (no logging, bad)")
    events = s.c("events", HOME)
    events.create_event_bus(Name="demo-orders")
    events.put_permission(EventBusName="demo-orders", Action="events:PutEvents", Principal="210987654321", StatementId="partner-account")
    events.create_event_bus(Name="demo-audit")
    s.add("events", HOME, "custom event buses demo-orders (resource policy) and demo-audit (none, bad)")


def _brokers(s) -> None:
    mq = s.c("mq", HOME)
    for name, audit, upgrades in (("demo-orders-broker", True, True), ("demo-legacy-broker", False, False)):
        mq.create_broker(
            BrokerName=name,
            EngineType="ACTIVEMQ",
            EngineVersion="5.18",
            HostInstanceType="mq.t3.micro",
            DeploymentMode="SINGLE_INSTANCE",
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=upgrades,
            Logs={"Audit": audit, "General": True},
            Users=[{"Username": "admin", "Password": "password12345"}],
        )
    s.add("mq", HOME, "ActiveMQ brokers demo-orders-broker (audit logs, auto minor upgrades) and demo-legacy-broker (neither, bad)")


def _transfer(s) -> None:
    transfer = s.c("transfer", HOME)
    transfer.create_server(Protocols=["SFTP"])
    transfer.create_server(Protocols=["SFTP", "FTP"])
    s.add("transfer", HOME, "Transfer servers: SFTP only, and SFTP + FTP (bad)")
    for logging in (True, False):
        extra = {"LoggingRole": ROLE} if logging else {}
        transfer.create_connector(
            Url="sftp://partner.example.com",
            AccessRole=ROLE,
            SftpConfig={"UserSecretId": "demo-partner-sftp", "TrustedHostKeys": ["ssh-rsa AAAAB3NzaC1yc2E"]},
            **extra,
        )
    s.add("transfer", HOME, "Transfer SFTP connectors: one with a logging role, one without (bad)")


def _datasync(s) -> None:
    datasync = s.c("datasync", HOME)
    locations = [
        datasync.create_location_s3(S3BucketArn=f"arn:aws:s3:::{bucket}", S3Config={"BucketAccessRoleArn": ROLE})["LocationArn"]
        for bucket in ("demo-datasync-source", "demo-datasync-archive")
    ]
    datasync.create_task(
        Name="demo-nightly-archive",
        SourceLocationArn=locations[0],
        DestinationLocationArn=locations[1],
        CloudWatchLogGroupArn=f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:/aws/datasync",
    )
    datasync.create_task(Name="demo-adhoc-copy", SourceLocationArn=locations[0], DestinationLocationArn=locations[1])
    s.add("datasync", HOME, "DataSync tasks demo-nightly-archive (logs) and demo-adhoc-copy (no logs, bad)")
