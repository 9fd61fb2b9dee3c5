"""Demo seed: CloudFront, AWS WAF, Route 53, ECS, EC2 Auto Scaling, CodeBuild,
SageMaker, Redshift, OpenSearch Service, ElastiCache and MemoryDB.

One healthy and one failing resource per family where moto models it, all in
us-east-1 (CloudFront and Route 53 are global). Calls moto may not implement
go through `s.optional`. Documented in docs/demo-account.md.
"""

from __future__ import annotations

import json

HOME = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/demo-service-role"


def seed(s) -> None:
    s.optional("cloudfront", _cloudfront, s)
    s.optional("wafv2", _wafv2, s)
    s.optional("route53", _route53, s)
    s.optional("ecs", _ecs, s)
    s.optional("autoscaling", _autoscaling, s)
    s.optional("codebuild", _codebuild, s)
    s.optional("sagemaker", _sagemaker, s)
    s.optional("redshift", _redshift, s)
    s.optional("opensearch", _opensearch, s)
    s.optional("elasticache", _elasticache, s)
    s.optional("memorydb", _memorydb, s)
    s.optional("elasticbeanstalk", _elasticbeanstalk, s)
    s.optional("fsx", _fsx, s)


def _distribution(name: str, root: str, policy: str, logging: bool) -> dict:
    return {
        "CallerReference": name,
        "Comment": name,
        "Enabled": True,
        "DefaultRootObject": root,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "site",
                    "DomainName": f"{name}.example.com",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "site",
            "ViewerProtocolPolicy": policy,
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
        "Logging": {
            "Enabled": logging,
            "IncludeCookies": False,
            "Bucket": "demo-logs.s3.amazonaws.com" if logging else "",
            "Prefix": "cdn/" if logging else "",
        },
    }


def _cloudfront(s) -> None:
    cf = s.c("cloudfront", HOME)
    cf.create_distribution(DistributionConfig=_distribution("demo-site", "index.html", "redirect-to-https", True))
    s.add("cloudfront", HOME, "distribution demo-site: HTTPS only, default root object, logging on")
    cf.create_distribution(DistributionConfig=_distribution("demo-cdn-legacy", "", "allow-all", False))
    s.add("cloudfront", HOME, "distribution demo-cdn-legacy: HTTP allowed, no root object, no logging, no WAF (bad)")


def _wafv2(s) -> None:
    waf = s.c("wafv2", HOME)
    visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "demo"}
    waf.create_web_acl(
        Name="demo-empty-acl",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig=visibility,
        Rules=[],
    )
    s.add("wafv2", HOME, "web ACL demo-empty-acl: no rules, no logging (bad)")


def _route53(s) -> None:
    r53 = s.c("route53", HOME)
    r53.create_hosted_zone(Name="demo-shop.example.", CallerReference="demo-shop-zone")
    s.add("route53", "global", "public hosted zone demo-shop.example: no query logging, no DNSSEC (bad)")


def _ecs(s) -> None:
    ecs = s.c("ecs", HOME)
    ecs.create_cluster(clusterName="demo-apps", settings=[{"name": "containerInsights", "value": "enabled"}])
    s.add("ecs", HOME, "cluster demo-apps: Container Insights on")
    ecs.create_cluster(clusterName="demo-batch")
    s.add("ecs", HOME, "cluster demo-batch: no Container Insights (bad)")
    ecs.register_task_definition(
        family="demo-web",
        networkMode="awsvpc",
        containerDefinitions=[
            {
                "name": "web",
                "image": "public.ecr.aws/nginx/nginx:latest",
                "memory": 256,
                "user": "1000",
                "privileged": False,
                "readonlyRootFilesystem": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "demo-web"}},
            }
        ],
    )
    s.add("ecs", HOME, "task definition demo-web: non-root, read-only root, logs")
    ecs.register_task_definition(
        family="demo-agent",
        networkMode="host",
        pidMode="host",
        containerDefinitions=[
            {
                "name": "agent",
                "image": "public.ecr.aws/demo/agent:1",
                "memory": 256,
                "privileged": True,
                "environment": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "not-a-real-secret"}],
            }
        ],
    )
    s.add("ecs", HOME, "task definition demo-agent: host network as root, host PID, privileged, secret in environment, no logs (bad)")


def _autoscaling(s) -> None:
    asg = s.c("autoscaling", HOME)
    asg.create_launch_configuration(
        LaunchConfigurationName="demo-legacy-lc",
        ImageId="ami-12c6146b",
        InstanceType="t3.micro",
        AssociatePublicIpAddress=True,
        MetadataOptions={"HttpTokens": "optional", "HttpPutResponseHopLimit": 3, "HttpEndpoint": "enabled"},
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="demo-legacy-asg",
        LaunchConfigurationName="demo-legacy-lc",
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{HOME}a"],
    )
    s.add("autoscaling", HOME, "group demo-legacy-asg: launch configuration with public IP and IMDSv1, one zone (bad)")


def _codebuild(s) -> None:
    cb = s.c("codebuild", HOME)
    common = {
        "artifacts": {"type": "NO_ARTIFACTS"},
        "serviceRole": ROLE,
    }
    cb.create_project(
        name="demo-build",
        source={"type": "GITHUB", "location": "https://github.com/example/demo.git"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL",
                     "environmentVariables": [{"name": "DB_PASSWORD", "value": "/demo/db", "type": "PARAMETER_STORE"}]},
        logsConfig={"cloudWatchLogs": {"status": "ENABLED"}},
        **common,
    )
    s.add("codebuild", HOME, "project demo-build: secret from Parameter Store, CloudWatch logs")
    cb.create_project(
        name="demo-docker-build",
        source={"type": "GITHUB", "location": "https://github.com/example/images.git"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL", "privilegedMode": True,
                     "environmentVariables": [{"name": "AWS_SECRET_ACCESS_KEY", "value": "not-a-real-secret"}]},
        **common,
    )
    s.add("codebuild", HOME, "project demo-docker-build: privileged mode, clear-text AWS key (bad)")


def _sagemaker(s) -> None:
    sm = s.c("sagemaker", HOME)
    sm.create_notebook_instance(
        NotebookInstanceName="demo-notebook",
        InstanceType="ml.t3.medium",
        RoleArn=ROLE,
        DirectInternetAccess="Enabled",
        RootAccess="Enabled",
    )
    s.add("sagemaker", HOME, "notebook instance demo-notebook: direct internet access, root access, no VPC (bad)")


def _redshift(s) -> None:
    rs = s.c("redshift", HOME)
    rs.create_cluster(
        ClusterIdentifier="demo-warehouse",
        NodeType="ra3.xlplus",
        MasterUsername="awsuser",
        MasterUserPassword="Demo-password-1",
        PubliclyAccessible=True,
        Encrypted=False,
        DBName="dev",
    )
    s.add("redshift", HOME, "cluster demo-warehouse: public, unencrypted, default admin user and database name (bad)")


def _opensearch(s) -> None:
    os_ = s.c("opensearch", HOME)
    os_.create_domain(
        DomainName="demo-search",
        EngineVersion="OpenSearch_2.11",
        EncryptionAtRestOptions={"Enabled": True},
        NodeToNodeEncryptionOptions={"Enabled": True},
        DomainEndpointOptions={"EnforceHTTPS": True, "TLSSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"},
    )
    s.add("opensearch", HOME, "domain demo-search: encrypted at rest and between nodes, TLS 1.2 policy")
    os_.create_domain(DomainName="demo-logs-es", EngineVersion="Elasticsearch_7.10")
    s.add("opensearch", HOME, "domain demo-logs-es (Elasticsearch 7.10): unencrypted, public, no logs (bad)")


def _elasticache(s) -> None:
    ec = s.c("elasticache", HOME)
    ec.create_cache_cluster(
        CacheClusterId="demo-sessions",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheNodes=1,
        SnapshotRetentionLimit=0,
    )
    s.add("elasticache", HOME, "Redis cluster demo-sessions: no automatic backups, default subnet group (bad)")


def _memorydb(s) -> None:
    mdb = s.c("memorydb", HOME)
    key = s.ids.get("alias/demo-rotated@" + HOME)
    kwargs = {"KmsKeyId": key} if key else {}
    mdb.create_cluster(
        ClusterName="demo-mdb-strict",
        NodeType="db.t4g.small",
        ACLName="demo-app-users",
        TLSEnabled=True,
        SnapshotRetentionLimit=7,
        AutoMinorVersionUpgrade=True,
        **kwargs,
    )
    s.add("memorydb", HOME, "MemoryDB cluster demo-mdb-strict: TLS, demo key, 7 days of snapshots, ACL demo-app-users")
    mdb.create_cluster(
        ClusterName="demo-mdb-open",
        NodeType="db.t4g.small",
        ACLName="open-access",
        TLSEnabled=False,
        SnapshotRetentionLimit=0,
        AutoMinorVersionUpgrade=False,
    )
    s.add("memorydb", HOME, "MemoryDB cluster demo-mdb-open: no TLS, open-access ACL, no snapshots, no minor upgrades, AWS owned key (bad)")


def _elasticbeanstalk(s) -> None:
    eb = s.c("elasticbeanstalk", HOME)
    eb.create_application(ApplicationName="demo-portal")
    eb.create_environment(
        ApplicationName="demo-portal",
        EnvironmentName="demo-portal-prod",
        SolutionStackName="64bit Amazon Linux 2023 v4.0.0 running Python 3.11",
    )
    s.add("elasticbeanstalk", HOME, "environment demo-portal-prod: basic health reporting, no log streaming (bad)")


def _fsx(s) -> None:
    subnet = s.c("ec2", HOME).describe_subnets()["Subnets"][0]["SubnetId"]
    s.c("fsx", HOME).create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[subnet],
        LustreConfiguration={"CopyTagsToBackups": False, "DeploymentType": "PERSISTENT_2"},
    )
    s.add("fsx", HOME, "Lustre file system: tags not copied to backups (bad)")
