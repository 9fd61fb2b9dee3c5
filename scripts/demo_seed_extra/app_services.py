"""Demo seed: Lambda, Elastic Load Balancing (ALB/NLB and Classic), SQS, SNS.

Each check of these services gets a bad and a healthy counterpart, mostly in
us-east-1 with a little in eu-west-1. Documented in docs/demo-account.md.
"""

from __future__ import annotations

import io
import json
import zipfile

HOME = "us-east-1"
EU = "eu-west-1"
ACCOUNT = "123456789012"
LOG_BUCKET = "demo-log-bucket"
STD_TAGS = {"env": "prod", "owner": "platform"}


def _tags(extra=None, key="Key", value="Value"):
    tags = dict(STD_TAGS)
    tags.update(extra or {})
    return [{key: k, value: v} for k, v in tags.items()]


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return {'ok': True}\n")
    return buf.getvalue()


def seed(s) -> None:
    _lambda(s)
    _elb(s)
    queues = _sqs(s)
    _sns(s, queues)


# -- Lambda -----------------------------------------------------------------------
def _lambda(s) -> None:
    iam = s.c("iam")
    role = iam.create_role(
        RoleName="demo-lambda-exec-role",
        AssumeRolePolicyDocument=_policy(
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
        Tags=_tags(),
    )["Role"]["Arn"]
    s.ids["role:demo-lambda-exec-role"] = role
    s.add("iam", "global", "role demo-lambda-exec-role (Lambda execution role, trusts lambda.amazonaws.com)")
    code = {"ZipFile": _zip()}
    private = [s.ids["subnet:demo-private-a"], s.ids["subnet:demo-private-b"]]
    sg = [s.ids["sg:demo-restricted"]]

    lam = s.c("lambda", HOME)
    # Finding: deprecated runtime, public resource policy, not in a VPC; an
    # environment variable that looks like a secret (the scan keeps names only).
    lam.create_function(
        FunctionName="demo-fn-public-legacy",
        Runtime="python3.7",
        Role=role,
        Handler="index.handler",
        Code=code,
        Environment={"Variables": {"DB_PASSWORD": "not-a-real-secret", "STAGE": "prod"}},
        Tags=dict(STD_TAGS),
    )
    lam.add_permission(
        FunctionName="demo-fn-public-legacy",
        StatementId="public-invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    s.add("lambda", HOME, "function demo-fn-public-legacy: python3.7 (deprecated), policy Principal * (finding), no VPC")

    # Healthy: current runtime, in two private subnets (two AZs), policy only
    # for S3 events from this account.
    lam.create_function(
        FunctionName="demo-fn-private",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code=code,
        VpcConfig={"SubnetIds": private, "SecurityGroupIds": sg},
        TracingConfig={"Mode": "Active"},
        Tags=dict(STD_TAGS),
    )
    lam.add_permission(
        FunctionName="demo-fn-private",
        StatementId="s3-events",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{LOG_BUCKET}",
        SourceAccount=ACCOUNT,
    )
    s.add("lambda", HOME, "function demo-fn-private: python3.12, VPC demo-private-a/b (2 AZs), S3 invoke with SourceAccount (healthy)")

    # Finding for multi-AZ only: in a VPC, but one subnet (one AZ).
    lam.create_function(
        FunctionName="demo-fn-single-az",
        Runtime="nodejs22.x",
        Role=role,
        Handler="index.handler",
        Code=code,
        VpcConfig={"SubnetIds": private[:1], "SecurityGroupIds": sg},
        Tags=dict(STD_TAGS),
    )
    s.add("lambda", HOME, "function demo-fn-single-az: nodejs22.x, VPC with one subnet (single AZ, finding)")

    lam_eu = s.c("lambda", EU)
    lam_eu.create_function(
        FunctionName="demo-eu-fn",
        Runtime="nodejs16.x",
        Role=role,
        Handler="index.handler",
        Code=code,
        Tags=dict(STD_TAGS),
    )
    s.add("lambda", EU, "function demo-eu-fn: nodejs16.x (deprecated), no VPC, no policy (finding for runtime/VPC)")


# -- Elastic Load Balancing ---------------------------------------------------------
def _elb(s) -> None:
    public = [s.ids["subnet:demo-public-a"], s.ids["subnet:demo-public-b"]]
    acm = s.c("acm", HOME)
    cert = acm.request_certificate(DomainName="demo.example.com", ValidationMethod="DNS")["CertificateArn"]
    s.add("acm", HOME, "certificate demo.example.com (for the HTTPS listeners)")

    v2 = s.c("elbv2", HOME)
    tg = v2.create_target_group(
        Name="demo-web-targets", Protocol="HTTP", Port=80, VpcId=s.ids["vpc"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]

    # Finding: HTTP listener forwarding (no redirect), no access logs, no
    # deletion protection, invalid headers passed on, desync mode monitor.
    bad = v2.create_load_balancer(
        Name="demo-alb-insecure",
        Subnets=public,
        SecurityGroups=[s.ids["sg:demo-web"]],
        Scheme="internet-facing",
        Type="application",
        Tags=_tags({"Name": "demo-alb-insecure"}),
    )["LoadBalancers"][0]["LoadBalancerArn"]
    v2.create_listener(
        LoadBalancerArn=bad,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    v2.modify_load_balancer_attributes(
        LoadBalancerArn=bad,
        Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "false"},
            {"Key": "deletion_protection.enabled", "Value": "false"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "false"},
            {"Key": "routing.http.desync_mitigation_mode", "Value": "monitor"},
        ],
    )
    s.add("elbv2", HOME, "ALB demo-alb-insecure: HTTP:80 forward (no redirect), no logs, no deletion protection, "
          "drop-invalid-headers off, desync monitor (findings)")

    # Healthy: HTTP redirects to HTTPS; HTTPS with a TLS 1.3 policy and an ACM
    # certificate; logs, deletion protection, drop invalid headers, strictest.
    good = v2.create_load_balancer(
        Name="demo-alb-secure",
        Subnets=public,
        SecurityGroups=[s.ids["sg:demo-web"]],
        Scheme="internet-facing",
        Type="application",
        Tags=_tags({"Name": "demo-alb-secure"}),
    )["LoadBalancers"][0]["LoadBalancerArn"]
    v2.create_listener(
        LoadBalancerArn=good,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
        ],
    )
    v2.create_listener(
        LoadBalancerArn=good,
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": cert}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    v2.modify_load_balancer_attributes(
        LoadBalancerArn=good,
        Attributes=[
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": LOG_BUCKET},
            {"Key": "access_logs.s3.prefix", "Value": "alb"},
            {"Key": "deletion_protection.enabled", "Value": "true"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
            {"Key": "routing.http.desync_mitigation_mode", "Value": "strictest"},
        ],
    )
    s.add("elbv2", HOME, "ALB demo-alb-secure: HTTP->HTTPS redirect, HTTPS TLS13 policy + ACM cert, logs to "
          f"{LOG_BUCKET}, deletion protection, drop-invalid-headers, desync strictest (healthy)")

    # NLB in one AZ with a plain TCP listener.
    nlb = v2.create_load_balancer(
        Name="demo-nlb-single-az",
        Subnets=public[:1],
        Scheme="internal",
        Type="network",
        Tags=_tags({"Name": "demo-nlb-single-az"}),
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tcp_tg = v2.create_target_group(
        Name="demo-tcp-targets", Protocol="TCP", Port=5432, VpcId=s.ids["vpc"], TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    v2.create_listener(
        LoadBalancerArn=nlb, Protocol="TCP", Port=5432, DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_tg}]
    )
    v2.create_listener(
        LoadBalancerArn=nlb,
        Protocol="TLS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-2016-08",
        Certificates=[{"CertificateArn": cert}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tcp_tg}],
    )
    s.add("elbv2", HOME, "NLB demo-nlb-single-az: one AZ, plain TCP:5432 listener, TLS:443 with the old "
          "ELBSecurityPolicy-2016-08, no deletion protection (findings)")

    elb = s.c("elb", HOME)
    # Finding: Classic with a plain HTTP listener in one AZ; no logs, no
    # connection draining, no cross-zone, desync monitor.
    elb.create_load_balancer(
        LoadBalancerName="demo-clb-legacy",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstanceProtocol": "HTTP", "InstancePort": 80}],
        AvailabilityZones=["us-east-1a"],
        Tags=_tags({"Name": "demo-clb-legacy"}),
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="demo-clb-legacy",
        LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": False},
            "AccessLog": {"Enabled": False},
            "ConnectionDraining": {"Enabled": False},
            "AdditionalAttributes": [{"Key": "elb.http.desyncmitigationmode", "Value": "monitor"}],
        },
    )
    s.add("elb", HOME, "Classic demo-clb-legacy: HTTP:80 only, one AZ, no logs/draining/cross-zone, desync monitor (findings)")

    # Healthy: Classic terminating TLS with an ACM certificate and the
    # TLS 1.2 predefined policy, in two AZs, logs, draining, cross-zone.
    elb.create_load_balancer(
        LoadBalancerName="demo-clb-tls",
        Listeners=[
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstanceProtocol": "HTTP",
                "InstancePort": 80,
                "SSLCertificateId": cert,
            }
        ],
        AvailabilityZones=["us-east-1a", "us-east-1b"],
        Tags=_tags({"Name": "demo-clb-tls"}),
    )
    elb.create_load_balancer_policy(
        LoadBalancerName="demo-clb-tls",
        PolicyName="demo-tls-1-2",
        PolicyTypeName="SSLNegotiationPolicyType",
        PolicyAttributes=[
            {"AttributeName": "Reference-Security-Policy", "AttributeValue": "ELBSecurityPolicy-TLS-1-2-2017-01"}
        ],
    )
    elb.set_load_balancer_policies_of_listener(
        LoadBalancerName="demo-clb-tls", LoadBalancerPort=443, PolicyNames=["demo-tls-1-2"]
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="demo-clb-tls",
        LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True},
            "AccessLog": {"Enabled": True, "S3BucketName": LOG_BUCKET, "EmitInterval": 60, "S3BucketPrefix": "clb"},
            "ConnectionDraining": {"Enabled": True, "Timeout": 300},
            "AdditionalAttributes": [{"Key": "elb.http.desyncmitigationmode", "Value": "defensive"}],
        },
    )
    s.add("elb", HOME, "Classic demo-clb-tls: HTTPS:443 with ACM cert + ELBSecurityPolicy-TLS-1-2-2017-01, 2 AZs, "
          "logs, draining, cross-zone, desync defensive (healthy)")

    # eu-west-1: Classic terminating TLS with an IAM server certificate and
    # no negotiation policy of its own (so the 2016-08 default applies).
    iam_certs = s.c("iam").list_server_certificates()["ServerCertificateMetadataList"]
    if iam_certs:
        elb_eu = s.c("elb", EU)
        elb_eu.create_load_balancer(
            LoadBalancerName="demo-eu-clb-iam-cert",
            Listeners=[
                {
                    "Protocol": "SSL",
                    "LoadBalancerPort": 443,
                    "InstanceProtocol": "TCP",
                    "InstancePort": 8443,
                    "SSLCertificateId": iam_certs[0]["Arn"],
                }
            ],
            AvailabilityZones=["eu-west-1a", "eu-west-1b"],
            Tags=_tags({"Name": "demo-eu-clb-iam-cert"}),
        )
        s.add("elb", EU, f"Classic demo-eu-clb-iam-cert: SSL:443 with IAM server certificate {iam_certs[0]['ServerCertificateName']} "
              "and no TLS 1.2 policy (findings); TCP-only, so desync mitigation is not applicable")
    else:
        s.gap("Classic demo-eu-clb-iam-cert: no IAM server certificate to use (none uploaded), not created")


# -- SQS ---------------------------------------------------------------------------------
def _sqs(s) -> dict[str, str]:
    sqs = s.c("sqs", HOME)
    arns = {}

    def create(region, name, attributes, what):
        client = s.c("sqs", region)
        url = client.create_queue(QueueName=name, Attributes=attributes, tags=dict(STD_TAGS))["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        arns[name] = arn
        s.add("sqs", region, f"queue {name}: {what}")
        return url, arn

    url, arn = create(HOME, "demo-queue-public-plain", {"SqsManagedSseEnabled": "false"},
                      "no encryption, policy Principal * SendMessage (findings)")
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"Policy": _policy({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn})},
    )
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    if attrs.get("SqsManagedSseEnabled", "false").lower() == "true" or attrs.get("KmsMasterKeyId"):
        s.gap("SQS demo-queue-public-plain: moto kept SSE on despite SqsManagedSseEnabled=false")

    url, arn = create(HOME, "demo-queue-kms", {"KmsMasterKeyId": s.ids["alias/demo-rotated@" + HOME]},
                      "SSE-KMS (demo-rotated key), policy only for SNS topic demo-topic-kms (healthy)")
    topic_arn = f"arn:aws:sns:{HOME}:{ACCOUNT}:demo-topic-kms"
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": _policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            )
        },
    )
    create(HOME, "demo-queue-sse-sqs", {"SqsManagedSseEnabled": "true"}, "SSE-SQS, no policy (healthy)")
    create(EU, "demo-eu-queue", {"SqsManagedSseEnabled": "true"}, "SSE-SQS, no policy (healthy)")
    return arns


# -- SNS ---------------------------------------------------------------------------------
def _sns(s, queues: dict[str, str]) -> None:
    sns = s.c("sns", HOME)
    public = sns.create_topic(Name="demo-topic-public", Tags=_tags({"Name": "demo-topic-public"}))["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=public,
        AttributeName="Policy",
        AttributeValue=_policy(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["SNS:Publish", "SNS:Subscribe"], "Resource": public}
        ),
    )
    sns.subscribe(TopicArn=public, Protocol="sqs", Endpoint=queues["demo-queue-sse-sqs"])
    s.add("sns", HOME, "topic demo-topic-public: no KMS, policy Principal AWS * Publish/Subscribe, SQS subscriber, "
          "no delivery-status logging (findings)")

    kms = sns.create_topic(
        Name="demo-topic-kms",
        Attributes={"KmsMasterKeyId": s.ids["alias/demo-rotated@" + HOME]},
        Tags=_tags({"Name": "demo-topic-kms"}),
    )["TopicArn"]
    sns.subscribe(TopicArn=kms, Protocol="sqs", Endpoint=queues["demo-queue-kms"])
    # A role that writes to CloudWatch Logs (moto drops these attributes anyway).
    feedback_role = s.ids["role:demo-cloudtrail-logs-role"]
    for name in ("SQSSuccessFeedbackRoleArn", "SQSFailureFeedbackRoleArn"):
        sns.set_topic_attributes(TopicArn=kms, AttributeName=name, AttributeValue=feedback_role)
    sns.set_topic_attributes(TopicArn=kms, AttributeName="SQSSuccessFeedbackSampleRate", AttributeValue="100")
    attrs = sns.get_topic_attributes(TopicArn=kms)["Attributes"]
    if "SQSFailureFeedbackRoleArn" not in attrs:
        s.gap("SNS demo-topic-kms: moto accepts but does not return delivery-status logging attributes "
              "(SNS.2 shows a finding in the demo)")
    s.add("sns", HOME, "topic demo-topic-kms: KMS (demo-rotated key), default owner-only policy, SQS subscriber, "
          "SQS delivery-status logging (healthy; moto drops the logging attributes)")

    eu = s.c("sns", EU)
    eu.create_topic(
        Name="demo-eu-topic",
        Attributes={"KmsMasterKeyId": "alias/aws/sns"},
        Tags=_tags({"Name": "demo-eu-topic"}),
    )
    s.add("sns", EU, "topic demo-eu-topic: KMS (alias/aws/sns), default policy, no subscriptions")
