"""Demo seeding for network, governance and data-platform services:
Network Firewall, Amazon Inspector, Amazon Macie, AWS Private CA, Amazon
Connect, CloudFormation, Service Catalog, the account's alternate contacts,
AWS Backup, Systems Manager parameters, Glue and Athena.

Each misconfigured resource has a healthy counterpart where moto can model
one. Everything created is listed in docs/demo-account.md ("Network,
governance and data platform").
"""

from __future__ import annotations

import json

HOME = "us-east-1"
ACCOUNT = "123456789012"


def seed(s) -> None:
    # Network Firewall: "edge" without deletion protection or logging,
    # "core" protected and logging flows to S3.
    nfw = s.c("network-firewall")
    policy = f"arn:aws:network-firewall:{HOME}:{ACCOUNT}:firewall-policy/demo-policy"
    for name, protected in (("edge", False), ("core", True)):
        nfw.create_firewall(
            FirewallName=name,
            FirewallPolicyArn=policy,
            VpcId="vpc-0demo0000000001",
            SubnetMappings=[{"SubnetId": "subnet-0demo000000001"}],
            DeleteProtection=protected,
            SubnetChangeProtection=protected,
        )
        s.add("network-firewall", HOME, f"firewall {name} (protections {'on' if protected else 'off'})")
    nfw.update_logging_configuration(
        FirewallName="core",
        LoggingConfiguration={
            "LogDestinationConfigs": [
                {"LogType": "FLOW", "LogDestinationType": "S3", "LogDestination": {"bucketName": "demo-fw-logs"}}
            ]
        },
    )

    # Inspector (EC2 scanning only) and Macie enabled in the home region;
    # the other regions stay off.
    s.c("inspector2").enable(accountIds=[ACCOUNT], resourceTypes=["EC2"])
    s.add("inspector2", HOME, "EC2 scanning activated (ECR and Lambda not)")
    s.c("macie2").enable_macie(status="ENABLED")
    s.add("macie2", HOME, "Macie enabled")

    # Private CA: a root CA left active (pending its certificate in moto).
    s.c("acm-pca").create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_2048",
            "SigningAlgorithm": "SHA256WITHRSA",
            "Subject": {"CommonName": "demo-root.example.com"},
        },
        CertificateAuthorityType="ROOT",
    )
    s.add("acm-pca", HOME, "root CA demo-root.example.com (not disabled)")

    # Connect: one instance (moto cannot report its flow-log attribute).
    s.c("connect").create_instance(
        IdentityManagementType="CONNECT_MANAGED",
        InstanceAlias="demo-support",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )
    s.add("connect", HOME, "instance demo-support")

    # CloudFormation: one stack notifying SNS, one not.
    # The healthy topic app_services.py created (moto publishes stack events
    # to it, so it must exist).
    topic = f"arn:aws:sns:{HOME}:{ACCOUNT}:demo-topic-kms"
    cfn = s.c("cloudformation")
    template = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    cfn.create_stack(
        StackName="demo-notified",
        TemplateBody=template,
        NotificationARNs=[topic],
    )
    cfn.create_stack(StackName="demo-silent", TemplateBody=template)
    s.add("cloudformation", HOME, "stacks demo-notified (SNS topic demo-topic-kms) and demo-silent (no SNS)")

    # Service Catalog: a portfolio shared with a single outside account.
    sc = s.c("servicecatalog")
    shared = sc.create_portfolio(DisplayName="demo-shared", ProviderName="platform", IdempotencyToken="demo-shared")
    sc.create_portfolio(DisplayName="demo-internal", ProviderName="platform", IdempotencyToken="demo-internal")
    sc.create_portfolio_share(PortfolioId=shared["PortfolioDetail"]["Id"], AccountId="210987654321")
    s.add("servicecatalog", HOME, "portfolios demo-shared (shared with 210987654321) and demo-internal")

    # Account: a security contact; billing and operations contacts unset.
    s.c("account").put_alternate_contact(
        AlternateContactType="SECURITY",
        Name="Demo SecOps",
        Title="Security",
        EmailAddress="secops@example.com",
        PhoneNumber="+1-555-0100",
    )
    s.add("account", HOME, "security alternate contact (billing and operations unset)")

    # AWS Backup: a vault (moto lacks recovery points, protected resources
    # and vault access policies) and two plans: daily for 35 days (healthy)
    # and weekly for 7 days (bad).
    backup = s.c("backup")
    backup.create_backup_vault(BackupVaultName="demo-vault")
    s.add("backup", HOME, "backup vault demo-vault (no Vault Lock)")
    s.gap(
        "backup: moto lacks ListRecoveryPointsByBackupVault, ListProtectedResources"
        " and GetBackupVaultAccessPolicy"
    )
    for name, schedule, days in (
        ("demo-plan-daily", "cron(0 5 ? * * *)", 35),
        ("demo-plan-weekly", "cron(0 5 ? * 1 *)", 7),
    ):
        backup.create_backup_plan(
            BackupPlan={
                "BackupPlanName": name,
                "Rules": [
                    {
                        "RuleName": name,
                        "TargetBackupVaultName": "demo-vault",
                        "ScheduleExpression": schedule,
                        "Lifecycle": {"DeleteAfterDays": days},
                    }
                ],
            }
        )
    s.add("backup", HOME, "backup plans demo-plan-daily (daily, 35 days) / demo-plan-weekly (weekly, 7 days: bad)")

    # Systems Manager parameters (metadata only is scanned): a password as a
    # SecureString with the demo key, an API key in clear (bad), a token
    # under the AWS managed key (bad), and a look-alike name in clear.
    ssm = s.c("ssm")
    key = s.ids.get("alias/demo-rotated@" + HOME)
    for name, kind, key_id in (
        ("/demo/app/db-password", "SecureString", key),
        ("/demo/app/api-key", "String", None),
        ("/demo/legacy/github-token", "SecureString", None),
        ("/demo/iam/password-policy-min-length", "String", None),
    ):
        kwargs = {"KeyId": key_id} if key_id else {}
        ssm.put_parameter(Name=name, Value="demo-not-a-secret", Type=kind, **kwargs)
    s.add(
        "ssm",
        HOME,
        "parameters /demo/app/db-password (SecureString, demo key), /demo/app/api-key (String: bad),"
        " /demo/legacy/github-token (SecureString, alias/aws/ssm: bad), /demo/iam/password-policy-min-length",
    )

    # Glue: a Spark job on an unsupported version and one on 4.0; an ML
    # transform without encryption.
    glue = s.c("glue")
    for name, version in (("demo-etl-legacy", "2.0"), ("demo-etl", "4.0")):
        glue.create_job(
            Name=name,
            Role=f"arn:aws:iam::{ACCOUNT}:role/demo-glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://demo-scripts/etl.py"},
            GlueVersion=version,
        )
    glue.create_ml_transform(
        Name="demo-dedupe",
        Role=f"arn:aws:iam::{ACCOUNT}:role/demo-glue",
        InputRecordTables=[{"DatabaseName": "demo", "TableName": "customers"}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
    )
    s.add("glue", HOME, "jobs demo-etl-legacy (Glue 2.0) and demo-etl (4.0); ML transform demo-dedupe (unencrypted)")

    # Athena: an encrypted, metered workgroup next to moto's default "primary".
    # Recent botocore speaks a REST protocol to Athena that moto 5.2.5 does not
    # route (the Rust SDK's JSON protocol works), hence `optional`.
    created = s.optional(
        "athena CreateWorkGroup",
        s.c("athena").create_work_group,
        Name="demo-secured",
        Configuration={
            "PublishCloudWatchMetricsEnabled": True,
            "ResultConfiguration": {
                "OutputLocation": "s3://demo-athena-results/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
        },
    )
    if created is not None:
        s.add("athena", HOME, "workgroup demo-secured (encrypted, metrics) next to primary (neither)")
