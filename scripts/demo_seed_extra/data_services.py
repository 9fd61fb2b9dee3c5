"""Demo seeding for data services and account-level detection services:
Secrets Manager, ECR, EFS, DynamoDB, Security Hub and IAM Access Analyzer.

Each misconfigured resource has a healthy counterpart. Everything created is
listed in docs/demo-account.md ("Secrets Manager", "ECR", "EFS", "DynamoDB",
"Security Hub, IAM Access Analyzer"). Secret values are dummies.
"""

from __future__ import annotations

import json

HOME = "us-east-1"
EU = "eu-west-1"
STD_TAGS = {"env": "prod", "owner": "platform"}

# A minimal Docker image manifest (schema 2); moto stores it as given.
_MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + "a" * 64,
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 32654,
                "digest": "sha256:" + "b" * 64,
            }
        ],
    }
)

_LIFECYCLE = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "expire untagged images after 14 days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 14,
                },
                "action": {"type": "expire"},
            }
        ]
    }
)


def _tags(extra: dict[str, str] | None = None, key: str = "Key", value: str = "Value"):
    tags = dict(STD_TAGS)
    tags.update(extra or {})
    return [{key: k, value: v} for k, v in tags.items()]


def _secrets(s) -> None:
    sm = s.c("secretsmanager", HOME)
    sm.create_secret(Name="demo/db-password-static", SecretString="not-a-real-password", Tags=_tags())
    s.add("secretsmanager", HOME, "demo/db-password-static (NO rotation)")

    sm.create_secret(Name="demo/api-token-rotated", SecretString="not-a-real-token", Tags=_tags())
    # moto rotates without a Lambda function (AWS requires one) and records
    # the rotation date as "now".
    sm.rotate_secret(SecretId="demo/api-token-rotated", RotationRules={"AutomaticallyAfterDays": 30})
    s.add("secretsmanager", HOME, "demo/api-token-rotated (rotation every 30 days, rotated)")

    sm.create_secret(Name="demo/retired-secret", SecretString="old", Tags=_tags())
    sm.delete_secret(SecretId="demo/retired-secret", RecoveryWindowInDays=7)
    s.add("secretsmanager", HOME, "demo/retired-secret (scheduled for deletion)")

    eu = s.c("secretsmanager", EU)
    eu.create_secret(Name="demo/eu-partner-key", SecretString="not-a-real-key", Tags=_tags())
    eu.rotate_secret(SecretId="demo/eu-partner-key", RotationRules={"AutomaticallyAfterDays": 180})
    s.add("secretsmanager", EU, "demo/eu-partner-key (rotation every 180 days)")


def _ecr(s) -> None:
    ecr = s.c("ecr", HOME)
    ecr.create_repository(
        repositoryName="demo-app-mutable",
        imageTagMutability="MUTABLE",
        imageScanningConfiguration={"scanOnPush": False},
        tags=_tags(),
    )
    ecr.put_image(repositoryName="demo-app-mutable", imageManifest=_MANIFEST, imageTag="latest")
    s.add("ecr", HOME, "demo-app-mutable (mutable tags, no scan on push, no lifecycle policy)")

    ecr.create_repository(
        repositoryName="demo-app-hardened",
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        tags=_tags(),
    )
    ecr.put_lifecycle_policy(repositoryName="demo-app-hardened", lifecyclePolicyText=_LIFECYCLE)
    ecr.put_image(repositoryName="demo-app-hardened", imageManifest=_MANIFEST, imageTag="1.0.0")
    s.add("ecr", HOME, "demo-app-hardened (immutable tags, scan on push, lifecycle policy)")

    eu = s.c("ecr", EU)
    eu.create_repository(repositoryName="demo-eu-empty", imageTagMutability="MUTABLE", tags=_tags())
    s.add("ecr", EU, "demo-eu-empty (no images)")


def _efs(s) -> None:
    efs = s.c("efs", HOME)
    bad = efs.create_file_system(
        CreationToken="demo-efs-unencrypted",
        Encrypted=False,
        Backup=False,
        Tags=_tags({"Name": "demo-efs-unencrypted"}),
    )
    efs.create_access_point(
        FileSystemId=bad["FileSystemId"],
        Tags=_tags({"Name": "demo-ap-open"}),
    )
    s.add("efs", HOME, "demo-efs-unencrypted (not encrypted, no automatic backups) + access point demo-ap-open (root /, no POSIX user)")

    key = s.ids.get("alias/demo-rotated@" + HOME)
    kwargs = {"KmsKeyId": key} if key else {}
    good = efs.create_file_system(
        CreationToken="demo-efs-encrypted",
        Encrypted=True,
        Backup=True,
        Tags=_tags({"Name": "demo-efs-encrypted"}),
        **kwargs,
    )
    efs.create_access_point(
        FileSystemId=good["FileSystemId"],
        PosixUser={"Uid": 1000, "Gid": 1000},
        RootDirectory={
            "Path": "/app",
            "CreationInfo": {"OwnerUid": 1000, "OwnerGid": 1000, "Permissions": "750"},
        },
        Tags=_tags({"Name": "demo-ap-app"}),
    )
    s.add("efs", HOME, "demo-efs-encrypted (KMS, automatic backups) + access point demo-ap-app (root /app, uid/gid 1000)")


def _dynamodb(s) -> None:
    schema = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    ddb = s.c("dynamodb", HOME)
    ddb.create_table(TableName="demo-orders-unprotected", Tags=_tags(), **schema)
    s.add("dynamodb", HOME, "demo-orders-unprotected (no PITR, no deletion protection)")

    key = s.ids.get("alias/demo-rotated@" + HOME)
    sse = {"Enabled": True, "SSEType": "KMS"}
    if key:
        sse["KMSMasterKeyId"] = key
    ddb.create_table(
        TableName="demo-orders-protected",
        DeletionProtectionEnabled=True,
        SSESpecification=sse,
        Tags=_tags(),
        **schema,
    )
    ddb.update_continuous_backups(
        TableName="demo-orders-protected",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    s.add("dynamodb", HOME, "demo-orders-protected (PITR, deletion protection, SSE-KMS)")

    eu = s.c("dynamodb", EU)
    eu.create_table(TableName="demo-eu-sessions", Tags=_tags(), **schema)
    eu.update_continuous_backups(
        TableName="demo-eu-sessions",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
    s.add("dynamodb", EU, "demo-eu-sessions (PITR, NO deletion protection)")


def _detection(s) -> None:
    hub = s.c("securityhub", HOME)
    hub.enable_security_hub(EnableDefaultStandards=True)
    s.add("securityhub", HOME, "Security Hub enabled (eu-west-1 left off)")
    s.optional(
        "securityhub get_enabled_standards",
        hub.get_enabled_standards,
    )
    for region in (HOME, EU):
        s.optional(
            f"accessanalyzer create_analyzer ({region})",
            s.c("accessanalyzer", region).create_analyzer,
            analyzerName="demo-account-analyzer",
            type="ACCOUNT",
        )


def seed(s) -> None:
    _secrets(s)
    _ecr(s)
    _efs(s)
    _dynamodb(s)
    _detection(s)
