#!/usr/bin/env python3
"""Seed a moto server with Rampart's demo account: deliberately misconfigured
resources, each next to a healthy counterpart, in us-east-1 (home) and eu-west-1.

    source scripts/tools-env.sh
    URL=$(scripts/moto.sh start)
    "$RAMPART_PYTHON" scripts/seed-demo.py --endpoint "$URL" [--reset]

Account: moto's default 123456789012. Every resource, its region and what is
wrong with it is listed in docs/demo-account.md; keep the two in step.
Run it against a freshly reset moto (`--reset` does `POST /moto-api/reset` first):
names are fixed, so a second run on the same state fails on the first duplicate.
"""

from __future__ import annotations

import argparse
import importlib.util
import datetime as dt
import json
import os
import sys
import time
import urllib.request

# Dummy credentials, set before boto3 reads the environment. The caller's AWS
# config and profiles must not leak in (a real profile could point elsewhere).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_var, None)

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import BotoCoreError, ClientError  # noqa: E402

ACCOUNT = "123456789012"
HOME = "us-east-1"
EU = "eu-west-1"
# From scripts/moto-amis.json (Amazon Linux 2, owner 137112412989, public).
BASE_AMI = "ami-0a3c14e1ddbe7f23c"
LOG_BUCKET = "demo-log-bucket"
STD_TAGS = {"env": "prod", "owner": "platform"}


def tag_list(extra: dict[str, str] | None = None, std: bool = True, key="Key", value="Value"):
    tags = dict(STD_TAGS) if std else {}
    tags.update(extra or {})
    return [{key: k, value: v} for k, v in tags.items()]


def ec2_tags(resource_type: str, name: str, std: bool = True, extra=None):
    extra = dict(extra or {})
    extra["Name"] = name
    return [{"ResourceType": resource_type, "Tags": tag_list(extra, std)}]


def policy_doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


class Seeder:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.session = boto3.session.Session()
        self.cfg = Config(
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=60,
        )
        self._clients: dict[tuple[str, str], object] = {}
        self.created: list[tuple[str, str, str]] = []  # (service, region, description)
        self.gaps: list[str] = []
        self.ids: dict[str, str] = {}

    # -- plumbing ---------------------------------------------------------------
    def c(self, service: str, region: str = HOME):
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint, config=self.cfg
            )
        return self._clients[key]

    def add(self, service: str, region: str, what: str) -> None:
        self.created.append((service, region, what))

    def gap(self, note: str) -> None:
        self.gaps.append(note)

    def optional(self, label: str, fn, *args, **kwargs):
        """Call something moto may not implement; record a gap instead of failing."""
        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            self.gap(f"{label}: skipped, moto answered: {str(exc)[:160]}")
            return None

    # -- KMS -------------------------------------------------------------------------
    def kms(self) -> None:
        for region, alias, rotate, desc in (
            (HOME, "alias/demo-no-rotation", False, "demo key without rotation (finding)"),
            (HOME, "alias/demo-rotated", True, "demo key with rotation (healthy)"),
            (EU, "alias/demo-eu-key", True, "demo eu key with rotation (healthy)"),
        ):
            kms = self.c("kms", region)
            key = kms.create_key(
                Description=desc,
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Tags=tag_list({"Name": alias.split("/", 1)[1]}, key="TagKey", value="TagValue"),
            )["KeyMetadata"]
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
            if rotate:
                kms.enable_key_rotation(KeyId=key["KeyId"])
            self.ids[alias + "@" + region] = key["Arn"]
            self.add("kms", region, f"{alias} ({'rotation on' if rotate else 'NO rotation'})")

    # -- IAM -------------------------------------------------------------------------
    def iam(self) -> None:
        iam = self.c("iam")
        # Weak password policy: length 8 (CIS wants >= 14), no reuse prevention, no expiry.
        iam.update_account_password_policy(
            MinimumPasswordLength=8,
            RequireSymbols=False,
            RequireNumbers=True,
            RequireUppercaseCharacters=True,
            RequireLowercaseCharacters=True,
            AllowUsersToChangePassword=True,
        )
        self.add("iam", "global", "password policy (min length 8, no reuse prevention, no max age)")

        def user(name: str, **tags) -> None:
            iam.create_user(UserName=name, Tags=tag_list(tags))

        # Console user without MFA.
        user("alice", team="data")
        iam.create_login_profile(UserName="alice", Password="Demo-Passw0rd!", PasswordResetRequired=False)
        self.add("iam", "global", "user alice: console password, NO MFA")

        # Console user with a virtual MFA device (healthy).
        user("bob", team="platform")
        iam.create_login_profile(UserName="bob", Password="Demo-Passw0rd!", PasswordResetRequired=False)
        mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="bob")["VirtualMFADevice"]
        iam.enable_mfa_device(
            UserName="bob",
            SerialNumber=mfa["SerialNumber"],
            AuthenticationCode1="123456",
            AuthenticationCode2="654321",
        )
        self.add("iam", "global", "user bob: console password + virtual MFA (healthy)")

        # Access keys.
        user("demo-key-unused")
        iam.create_access_key(UserName="demo-key-unused")
        self.add("iam", "global", "user demo-key-unused: 1 active access key, never used")
        user("demo-key-two-active")
        iam.create_access_key(UserName="demo-key-two-active")
        iam.create_access_key(UserName="demo-key-two-active")
        self.add("iam", "global", "user demo-key-two-active: 2 active access keys")

        # Direct attachment of the AWS-managed AdministratorAccess.
        user("ci-deployer", team="ci")
        iam.attach_user_policy(
            UserName="ci-deployer", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"
        )
        iam.create_access_key(UserName="ci-deployer")
        self.add("iam", "global", "user ci-deployer: AdministratorAccess attached directly, 1 key")

        # Customer-managed full admin policy through a group.
        full_admin = iam.create_policy(
            PolicyName="demo-full-admin",
            Description="Full admin (finding: Action * on Resource *)",
            PolicyDocument=policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            Tags=tag_list(),
        )["Policy"]["Arn"]
        iam.create_group(GroupName="admins")
        iam.attach_group_policy(GroupName="admins", PolicyArn=full_admin)
        user("demo-group-admin")
        iam.add_user_to_group(GroupName="admins", UserName="demo-group-admin")
        self.add("iam", "global", "policy demo-full-admin (*:*) -> group admins -> user demo-group-admin")

        # Least-privilege customer policy through a group (healthy).
        read_s3 = iam.create_policy(
            PolicyName="demo-read-s3",
            Description="Read one bucket (healthy, least privilege)",
            PolicyDocument=policy_doc(
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [
                        "arn:aws:s3:::demo-private-bucket",
                        "arn:aws:s3:::demo-private-bucket/*",
                    ],
                }
            ),
        )["Policy"]["Arn"]
        iam.create_group(GroupName="readers")
        iam.attach_group_policy(GroupName="readers", PolicyArn=read_s3)
        iam.add_user_to_group(GroupName="readers", UserName="bob")
        self.add("iam", "global", "policy demo-read-s3 -> group readers -> user bob (healthy)")

        # Inline user policy.
        user("demo-inline-user")
        iam.put_user_policy(
            UserName="demo-inline-user",
            PolicyName="demo-inline-ec2",
            PolicyDocument=policy_doc(
                {"Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"}
            ),
        )
        self.add("iam", "global", "user demo-inline-user: inline policy demo-inline-ec2")

        # Roles.
        def role(name, principal, desc, condition=None, managed=(), **tags):
            stmt = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
            if condition:
                stmt["Condition"] = condition
            arn = iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=policy_doc(stmt),
                Description=desc,
                Tags=tag_list(tags),
            )["Role"]["Arn"]
            for p in managed:
                iam.attach_role_policy(RoleName=name, PolicyArn=p)
            self.ids["role:" + name] = arn
            return arn

        role(
            "demo-role-trust-any",
            {"AWS": "*"},
            "Trusts any principal (finding)",
            managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        )
        self.add("iam", "global", "role demo-role-trust-any: trust Principal AWS * (ReadOnlyAccess)")
        role(
            "demo-role-cross-account",
            {"AWS": "arn:aws:iam::999999999999:root"},
            "Trusts another account without ExternalId (finding)",
            managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        )
        self.add("iam", "global", "role demo-role-cross-account: trust 999999999999 root, no ExternalId")
        role(
            "demo-role-cross-account-extid",
            {"AWS": "arn:aws:iam::999999999999:root"},
            "Trusts another account with ExternalId (healthy)",
            condition={"StringEquals": {"sts:ExternalId": "rampart-demo-external-id"}},
            managed=["arn:aws:iam::aws:policy/SecurityAudit"],
        )
        self.add("iam", "global", "role demo-role-cross-account-extid: 999999999999 + ExternalId (healthy)")
        role(
            "demo-ec2-role",
            {"Service": "ec2.amazonaws.com"},
            "EC2 service role (healthy)",
            managed=["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
        )
        iam.create_instance_profile(InstanceProfileName="demo-ec2-profile")
        iam.add_role_to_instance_profile(InstanceProfileName="demo-ec2-profile", RoleName="demo-ec2-role")
        self.add("iam", "global", "role demo-ec2-role + instance profile demo-ec2-profile (healthy)")
        # Support roles for other services (all trust an AWS service principal).
        role("demo-flow-logs-role", {"Service": "vpc-flow-logs.amazonaws.com"}, "VPC flow logs delivery")
        role(
            "demo-eks-cluster-role",
            {"Service": "eks.amazonaws.com"},
            "EKS cluster role",
            managed=["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
        )
        role(
            "demo-config-role",
            {"Service": "config.amazonaws.com"},
            "AWS Config recorder role",
            managed=["arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"],
        )
        role("demo-cloudtrail-logs-role", {"Service": "cloudtrail.amazonaws.com"}, "CloudTrail to CloudWatch Logs")
        role(
            "demo-rds-monitoring-role",
            {"Service": "monitoring.rds.amazonaws.com"},
            "RDS enhanced monitoring",
            managed=["arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"],
        )
        self.add(
            "iam",
            "global",
            "service roles demo-flow-logs-role, demo-eks-cluster-role, demo-config-role, "
            "demo-cloudtrail-logs-role, demo-rds-monitoring-role",
        )

        iam.create_open_id_connect_provider(
            Url="https://token.actions.githubusercontent.com",
            ClientIDList=["sts.amazonaws.com"],
            ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],
            Tags=tag_list(),
        )
        self.add("iam", "global", "OIDC provider token.actions.githubusercontent.com")

        self.server_certificate(iam)

    def server_certificate(self, iam) -> None:
        try:
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
            from cryptography.x509.oid import NameOID
        except ImportError:
            self.gap("IAM server certificate: `cryptography` not importable, none uploaded")
            return
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "demo.rampart.invalid")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(0x5EED)
            .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
            .not_valid_after(dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))
            .sign(key, hashes.SHA256())
        )
        iam.upload_server_certificate(
            ServerCertificateName="demo-expired-cert",
            CertificateBody=cert.public_bytes(serialization.Encoding.PEM).decode(),
            PrivateKey=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ).decode(),
        )
        self.add("iam", "global", "server certificate demo-expired-cert (self-signed, expired 2021-01-01)")

    # -- S3 --------------------------------------------------------------------------
    def s3(self) -> None:
        s3 = self.c("s3")
        # Log bucket: target of S3 server access logs, CloudTrail and Config.
        s3.create_bucket(Bucket=LOG_BUCKET)
        s3.put_bucket_policy(
            Bucket=LOG_BUCKET,
            Policy=policy_doc(
                {
                    "Sid": "S3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": ["s3:PutObject"],
                    "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
                },
                {
                    "Sid": "CloudTrailAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{LOG_BUCKET}",
                },
                {
                    "Sid": "CloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{LOG_BUCKET}/AWSLogs/{ACCOUNT}/*",
                    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
                {
                    "Sid": "ConfigWrite",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": ["s3:PutObject", "s3:GetBucketAcl"],
                    "Resource": [f"arn:aws:s3:::{LOG_BUCKET}", f"arn:aws:s3:::{LOG_BUCKET}/*"],
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{LOG_BUCKET}", f"arn:aws:s3:::{LOG_BUCKET}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ),
        )
        s3.put_bucket_encryption(
            Bucket=LOG_BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_bucket_versioning(Bucket=LOG_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(Bucket=LOG_BUCKET, PublicAccessBlockConfiguration=_bpa_all())
        s3.put_bucket_tagging(Bucket=LOG_BUCKET, Tagging={"TagSet": tag_list({"purpose": "logs"})})
        self.add("s3", HOME, f"{LOG_BUCKET}: AES256, versioned, BPA on, TLS-only; no access logging of its own")

        # Public bucket: everything wrong.
        s3.create_bucket(Bucket="demo-public-bucket")
        s3.put_bucket_acl(Bucket="demo-public-bucket", ACL="public-read")
        s3.put_bucket_policy(
            Bucket="demo-public-bucket",
            Policy=policy_doc(
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::demo-public-bucket/*",
                }
            ),
        )
        s3.put_bucket_tagging(
            Bucket="demo-public-bucket", Tagging={"TagSet": tag_list({"data": "public-website"})}
        )
        s3.put_object(Bucket="demo-public-bucket", Key="index.html", Body=b"<h1>demo</h1>")
        self.add(
            "s3",
            HOME,
            "demo-public-bucket: ACL public-read, policy GetObject to *, no SSE, no versioning, no logging",
        )

        # Private bucket: the healthy counterpart.
        s3.create_bucket(Bucket="demo-private-bucket")
        s3.put_bucket_ownership_controls(
            Bucket="demo-private-bucket",
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        )
        s3.put_public_access_block(Bucket="demo-private-bucket", PublicAccessBlockConfiguration=_bpa_all())
        s3.put_bucket_encryption(
            Bucket="demo-private-bucket",
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": self.ids["alias/demo-rotated@" + HOME],
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_bucket_versioning(
            Bucket="demo-private-bucket", VersioningConfiguration={"Status": "Enabled"}
        )
        s3.put_bucket_logging(
            Bucket="demo-private-bucket",
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": LOG_BUCKET, "TargetPrefix": "s3/demo-private-bucket/"}
            },
        )
        s3.put_bucket_policy(
            Bucket="demo-private-bucket",
            Policy=policy_doc(
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::demo-private-bucket", "arn:aws:s3:::demo-private-bucket/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ),
        )
        s3.put_bucket_tagging(
            Bucket="demo-private-bucket", Tagging={"TagSet": tag_list({"data": "confidential"})}
        )
        self.add(
            "s3",
            HOME,
            "demo-private-bucket: SSE-KMS (alias/demo-rotated), versioned, BPA on, logging, "
            "BucketOwnerEnforced, TLS-only (healthy)",
        )

        # eu-west-1 bucket: encrypted, but no versioning/logging/BPA/TLS policy.
        s3eu = self.c("s3", EU)
        s3eu.create_bucket(
            Bucket="demo-eu-bucket", CreateBucketConfiguration={"LocationConstraint": EU}
        )
        s3eu.put_bucket_encryption(
            Bucket="demo-eu-bucket",
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3eu.put_bucket_tagging(Bucket="demo-eu-bucket", Tagging={"TagSet": tag_list()})
        self.add("s3", EU, "demo-eu-bucket: AES256; no versioning, no BPA, no logging, no TLS policy")
        self.gap(
            "S3 account-level Block Public Access: deliberately left unset "
            "(s3control GetPublicAccessBlock -> NoSuchPublicAccessBlockConfiguration)"
        )

    # -- EC2 -------------------------------------------------------------------------
    def ec2_home(self) -> None:
        ec2 = self.c("ec2", HOME)
        logs = self.c("logs", HOME)
        vpc = ec2.create_vpc(
            CidrBlock="10.0.0.0/16", TagSpecifications=ec2_tags("vpc", "demo-vpc")
        )["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.ids["vpc"] = vpc
        subnets = {}
        for name, cidr, az in (
            ("demo-public-a", "10.0.0.0/24", "us-east-1a"),
            ("demo-public-b", "10.0.1.0/24", "us-east-1b"),
            ("demo-private-a", "10.0.10.0/24", "us-east-1a"),
            ("demo-private-b", "10.0.11.0/24", "us-east-1b"),
        ):
            subnets[name] = ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=cidr,
                AvailabilityZone=az,
                TagSpecifications=ec2_tags("subnet", name),
            )["Subnet"]["SubnetId"]
        self.ids.update({"subnet:" + k: v for k, v in subnets.items()})
        igw = ec2.create_internet_gateway(
            TagSpecifications=ec2_tags("internet-gateway", "demo-igw")
        )["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        rt = ec2.create_route_table(
            VpcId=vpc, TagSpecifications=ec2_tags("route-table", "demo-public-rt")
        )["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        for name in ("demo-public-a", "demo-public-b"):
            ec2.associate_route_table(RouteTableId=rt, SubnetId=subnets[name])
        self.add(
            "ec2",
            HOME,
            "vpc demo-vpc 10.0.0.0/16: subnets demo-public-a/b (IGW route; -a auto-assigns public IPs), "
            "demo-private-a/b",
        )

        # Flow log to CloudWatch Logs (healthy); the default VPC has none.
        logs.create_log_group(logGroupName="/demo/vpc-flow-logs", tags=STD_TAGS)
        logs.put_retention_policy(logGroupName="/demo/vpc-flow-logs", retentionInDays=365)
        fl = ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName="/demo/vpc-flow-logs",
            DeliverLogsPermissionArn=self.ids["role:demo-flow-logs-role"],
            TagSpecifications=ec2_tags("vpc-flow-log", "demo-vpc-flow-log"),
        )
        _check_flow_logs(fl)
        self.add("ec2", HOME, "flow log on demo-vpc -> CloudWatch Logs /demo/vpc-flow-logs (healthy)")
        self.add("ec2", HOME, "default VPC (moto's): no flow log (finding)")

        # Security groups.
        def sg(name, desc, perms):
            gid = ec2.create_security_group(
                GroupName=name,
                Description=desc,
                VpcId=vpc,
                TagSpecifications=ec2_tags("security-group", name),
            )["GroupId"]
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
            self.ids["sg:" + name] = gid
            return gid

        sg(
            "demo-open-ssh",
            "SSH open to the world",
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        sg(
            "demo-open-rdp",
            "RDP open to the IPv6 world",
            [{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
        )
        sg(
            "demo-web",
            "HTTPS from anywhere",
            [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )
        sg(
            "demo-restricted",
            "SSH from the corporate range only",
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
        )
        self.add("ec2", HOME, "security groups demo-open-ssh, demo-open-rdp, demo-web, demo-restricted in demo-vpc")

        # Network ACL with SSH open, on the public subnets.
        nacl = ec2.create_network_acl(
            VpcId=vpc, TagSpecifications=ec2_tags("network-acl", "demo-open-nacl")
        )["NetworkAcl"]["NetworkAclId"]
        ec2.create_network_acl_entry(
            NetworkAclId=nacl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
            CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22},
        )
        ec2.create_network_acl_entry(
            NetworkAclId=nacl, RuleNumber=110, Protocol="6", RuleAction="allow", Egress=False,
            CidrBlock="0.0.0.0/0", PortRange={"From": 1024, "To": 65535},
        )
        ec2.create_network_acl_entry(
            NetworkAclId=nacl, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True,
            CidrBlock="0.0.0.0/0",
        )
        acls = ec2.describe_network_acls(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "default", "Values": ["true"]}]
        )["NetworkAcls"]
        for assoc in acls[0]["Associations"]:
            if assoc["SubnetId"] in (subnets["demo-public-a"], subnets["demo-public-b"]):
                ec2.replace_network_acl_association(
                    AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=nacl
                )
        self.add("ec2", HOME, "network ACL demo-open-nacl: ingress tcp/22 from 0.0.0.0/0, on demo-public-a/b")

        # Instances.
        # Public IP through the subnet's auto-assign setting. (Launching with a
        # NetworkInterfaces spec instead makes moto leave Instance.SecurityGroups empty.)
        ec2.modify_subnet_attribute(SubnetId=subnets["demo-public-a"], MapPublicIpOnLaunch={"Value": True})
        imdsv1 = ec2.run_instances(
            ImageId=BASE_AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets["demo-public-a"],
            SecurityGroupIds=[self.ids["sg:demo-open-ssh"], self.ids["sg:demo-web"]],
            MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
            TagSpecifications=ec2_tags("instance", "demo-imdsv1", extra={"role": "web"}),
        )["Instances"][0]["InstanceId"]
        imdsv2 = ec2.run_instances(
            ImageId=BASE_AMI,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets["demo-private-a"],
            SecurityGroupIds=[self.ids["sg:demo-restricted"]],
            IamInstanceProfile={"Name": "demo-ec2-profile"},
            MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
            BlockDeviceMappings=[
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {
                        "VolumeSize": 8, "VolumeType": "gp3", "Encrypted": True, "DeleteOnTermination": True,
                        # An explicit key: without one moto creates an alias/aws/ebs key that
                        # it reports as KeyManager CUSTOMER with rotation off.
                        "KmsKeyId": self.ids["alias/demo-rotated@" + HOME],
                    },
                }
            ],
            TagSpecifications=ec2_tags("instance", "demo-imdsv2", extra={"role": "app"}),
        )["Instances"][0]["InstanceId"]
        self.ids["instance:demo-imdsv1"] = imdsv1
        self.ids["instance:demo-imdsv2"] = imdsv2
        self.add("ec2", HOME, f"instance demo-imdsv1 {imdsv1}: IMDSv1 allowed, public IP, no profile, SGs demo-open-ssh+demo-web")
        self.add("ec2", HOME, f"instance demo-imdsv2 {imdsv2}: IMDSv2 required, private, demo-ec2-profile (healthy)")

        # EBS volumes and snapshots.
        plain = ec2.create_volume(
            AvailabilityZone="us-east-1a", Size=10, VolumeType="gp3", Encrypted=False,
            TagSpecifications=ec2_tags("volume", "demo-unencrypted-vol"),
        )["VolumeId"]
        enc = ec2.create_volume(
            AvailabilityZone="us-east-1a", Size=10, VolumeType="gp3", Encrypted=True,
            KmsKeyId=self.ids["alias/demo-rotated@" + HOME],
            TagSpecifications=ec2_tags("volume", "demo-encrypted-vol"),
        )["VolumeId"]
        self.add("ec2", HOME, "volumes demo-unencrypted-vol (finding), demo-encrypted-vol (KMS, healthy)")
        pub_snap = ec2.create_snapshot(
            VolumeId=plain, Description="demo public snapshot",
            TagSpecifications=ec2_tags("snapshot", "demo-public-snapshot"),
        )["SnapshotId"]
        ec2.modify_snapshot_attribute(
            SnapshotId=pub_snap, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"]
        )
        ec2.create_snapshot(
            VolumeId=enc, Description="demo private encrypted snapshot",
            TagSpecifications=ec2_tags("snapshot", "demo-private-snapshot"),
        )
        self.add("ec2", HOME, "snapshots demo-public-snapshot (unencrypted, public), demo-private-snapshot (healthy)")

        # AMIs owned by the account.
        pub_ami = ec2.create_image(
            InstanceId=imdsv1, Name="demo-public-ami", Description="demo AMI made public",
            TagSpecifications=ec2_tags("image", "demo-public-ami"),
        )["ImageId"]
        if self.optional(
            "EC2 ModifyImageAttribute launchPermission",
            ec2.modify_image_attribute,
            ImageId=pub_ami,
            LaunchPermission={"Add": [{"Group": "all"}]},
        ) is not None:
            self.add("ec2", HOME, f"AMI demo-public-ami {pub_ami}: launch permission group all (public)")
        ec2.create_image(
            InstanceId=imdsv2, Name="demo-private-ami", Description="demo private AMI",
            TagSpecifications=ec2_tags("image", "demo-private-ami"),
        )
        self.add("ec2", HOME, "AMI demo-private-ami (private, healthy)")

        # VPC networking: launch templates, a transit gateway, an idle Elastic IP,
        # a Systems Manager interface endpoint in demo-vpc.
        ec2.create_launch_template(
            LaunchTemplateName="demo-web-lt",
            LaunchTemplateData={
                "ImageId": BASE_AMI,
                "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": True}],
                "MetadataOptions": {"HttpTokens": "optional"},
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "Encrypted": False}}
                ],
            },
            TagSpecifications=ec2_tags("launch-template", "demo-web-lt"),
        )
        ec2.create_launch_template(
            LaunchTemplateName="demo-app-lt",
            LaunchTemplateData={
                "ImageId": BASE_AMI,
                "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False}],
                "MetadataOptions": {"HttpTokens": "required"},
                "BlockDeviceMappings": [
                    {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8, "Encrypted": True}}
                ],
            },
            TagSpecifications=ec2_tags("launch-template", "demo-app-lt"),
        )
        self.add("ec2", HOME, "launch templates demo-web-lt (public IP, IMDSv1, unencrypted EBS), demo-app-lt (healthy)")
        ec2.create_transit_gateway(
            Description="demo transit gateway",
            Options={"AutoAcceptSharedAttachments": "enable"},
            TagSpecifications=ec2_tags("transit-gateway", "demo-tgw"),
        )
        self.add("ec2", HOME, "transit gateway demo-tgw: AutoAcceptSharedAttachments=enable")
        ec2.allocate_address(Domain="vpc", TagSpecifications=ec2_tags("elastic-ip", "demo-idle-eip"))
        self.add("ec2", HOME, "Elastic IP demo-idle-eip: not associated")
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            VpcEndpointType="Interface",
            ServiceName=f"com.amazonaws.{HOME}.ssm",
            SubnetIds=[subnets["demo-private-a"]],
            TagSpecifications=ec2_tags("vpc-endpoint", "demo-ssm-endpoint"),
        )
        self.add("ec2", HOME, "VPC endpoint demo-ssm-endpoint: interface endpoint for ssm in demo-vpc")

    def ec2_eu(self) -> None:
        ec2 = self.c("ec2", EU)
        ec2.enable_ebs_encryption_by_default()
        self.add("ec2", EU, "EBS encryption by default: ENABLED (us-east-1: disabled)")
        vpc = ec2.create_vpc(
            CidrBlock="10.1.0.0/16", TagSpecifications=ec2_tags("vpc", "demo-eu-vpc")
        )["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock="10.1.0.0/24", AvailabilityZone="eu-west-1a",
            TagSpecifications=ec2_tags("subnet", "demo-eu-private-a"),
        )["Subnet"]["SubnetId"]
        # moto looks the bucket up by everything after "arn:aws:s3:::", so a key prefix
        # in the ARN ("arn:aws:s3:::bucket/prefix/") makes it report the bucket missing.
        fl = ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="REJECT",
            LogDestinationType="s3",
            LogDestination="arn:aws:s3:::demo-eu-bucket",
            TagSpecifications=ec2_tags("vpc-flow-log", "demo-eu-vpc-flow-log"),
        )
        _check_flow_logs(fl)
        self.add("ec2", EU, "vpc demo-eu-vpc 10.1.0.0/16 + subnet demo-eu-private-a; flow log (REJECT) -> s3 demo-eu-bucket")
        self.add("ec2", EU, "default VPC (moto's): no flow log (finding)")
        gid = ec2.create_security_group(
            GroupName="demo-eu-open-ssh", Description="SSH open to the world", VpcId=vpc,
            TagSpecifications=ec2_tags("security-group", "demo-eu-open-ssh"),
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=gid,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )
        self.add("ec2", EU, "security group demo-eu-open-ssh (22 from 0.0.0.0/0)")
        iid = ec2.run_instances(
            ImageId=BASE_AMI, InstanceType="t3.small", MinCount=1, MaxCount=1,
            SubnetId=subnet, SecurityGroupIds=[gid],
            MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled"},
            # moto does not apply EBS encryption by default: ask for it, as AWS would do.
            BlockDeviceMappings=[
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {
                        "VolumeSize": 8, "VolumeType": "gp3", "Encrypted": True,
                        "KmsKeyId": self.ids["alias/demo-eu-key@" + EU],
                    },
                }
            ],
            TagSpecifications=ec2_tags("instance", "demo-eu-imdsv1", extra={"role": "batch"}),
        )["Instances"][0]["InstanceId"]
        self.ids["instance:demo-eu-imdsv1"] = iid
        self.add("ec2", EU, f"instance demo-eu-imdsv1 {iid}: IMDSv1 allowed, no public IP, no profile, SG open ssh")
        ec2.create_volume(
            AvailabilityZone="eu-west-1a", Size=20, VolumeType="gp3", Encrypted=True,
            KmsKeyId=self.ids["alias/demo-eu-key@" + EU],
            TagSpecifications=ec2_tags("volume", "demo-eu-encrypted-vol"),
        )
        self.add("ec2", EU, "volume demo-eu-encrypted-vol (encrypted, alias/demo-eu-key)")

    # -- CloudTrail ------------------------------------------------------------------
    def cloudtrail(self) -> None:
        ct = self.c("cloudtrail", HOME)
        ct.create_trail(
            Name="demo-trail",
            S3BucketName=LOG_BUCKET,
            IsMultiRegionTrail=False,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=False,
            TagsList=tag_list(),
        )
        ct.start_logging(Name="demo-trail")
        self.add("cloudtrail", HOME, "demo-trail: single-region, logging, no log file validation, no KMS, no CW Logs")

        logs = self.c("logs", EU)
        logs.create_log_group(logGroupName="/demo/cloudtrail", tags=STD_TAGS)
        group_arn = logs.describe_log_groups(logGroupNamePrefix="/demo/cloudtrail")["logGroups"][0]["arn"]
        cte = self.c("cloudtrail", EU)
        cte.create_trail(
            Name="demo-org-trail",
            S3BucketName=LOG_BUCKET,
            S3KeyPrefix="org",
            IsMultiRegionTrail=True,
            IncludeGlobalServiceEvents=True,
            EnableLogFileValidation=True,
            KmsKeyId=self.ids["alias/demo-eu-key@" + EU],
            CloudWatchLogsLogGroupArn=group_arn,
            CloudWatchLogsRoleArn=self.ids["role:demo-cloudtrail-logs-role"],
            TagsList=tag_list(),
        )
        cte.start_logging(Name="demo-org-trail")
        cte.put_event_selectors(
            TrailName="demo-org-trail",
            EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
        )
        self.add(
            "cloudtrail",
            EU,
            "demo-org-trail (home eu-west-1): multi-region, logging, log file validation, KMS, CW Logs (healthy)",
        )

    # -- RDS -------------------------------------------------------------------------
    def rds(self) -> None:
        rds = self.c("rds", HOME)
        ec2 = self.c("ec2", HOME)
        rds.create_db_subnet_group(
            DBSubnetGroupName="demo-db-subnets",
            DBSubnetGroupDescription="demo private subnets",
            SubnetIds=[self.ids["subnet:demo-private-a"], self.ids["subnet:demo-private-b"]],
        )
        rds.create_db_subnet_group(
            DBSubnetGroupName="demo-db-public-subnets",
            DBSubnetGroupDescription="demo public subnets",
            SubnetIds=[self.ids["subnet:demo-public-a"], self.ids["subnet:demo-public-b"]],
        )
        # Without VpcSecurityGroupIds moto attaches the *default VPC's* default group,
        # even when the subnet group is in another VPC: always pass one.
        pg_open = ec2.create_security_group(
            GroupName="demo-db-open-pg", Description="PostgreSQL open to the world",
            VpcId=self.ids["vpc"], TagSpecifications=ec2_tags("security-group", "demo-db-open-pg"),
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=pg_open,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        )
        self.add("ec2", HOME, "security group demo-db-open-pg (5432 from 0.0.0.0/0) in demo-vpc, on demo-db-public")
        rds.create_db_instance(
            DBInstanceIdentifier="demo-db-public",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            EngineVersion="16.3",
            MasterUsername="demo",
            MasterUserPassword="Demo-Passw0rd-123",
            AllocatedStorage=20,
            DBSubnetGroupName="demo-db-public-subnets",
            VpcSecurityGroupIds=[pg_open],
            PubliclyAccessible=True,
            StorageEncrypted=False,
            BackupRetentionPeriod=0,
            MultiAZ=False,
            DeletionProtection=False,
            AutoMinorVersionUpgrade=False,
            Tags=tag_list(),
        )
        self.add(
            "rds",
            HOME,
            "demo-db-public: public, unencrypted, backups 0, single-AZ, no deletion protection, no minor upgrades",
        )
        # TLS required through a custom parameter group (FSBP RDS.38); demo-db-public keeps
        # the default group, which (in moto) sets no rds.force_ssl.
        rds.create_db_parameter_group(
            DBParameterGroupName="demo-pg-tls",
            DBParameterGroupFamily="postgres16",
            Description="demo PostgreSQL with TLS required",
        )
        rds.modify_db_parameter_group(
            DBParameterGroupName="demo-pg-tls",
            Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
        )
        rds.create_db_instance(
            DBParameterGroupName="demo-pg-tls",
            DBInstanceIdentifier="demo-db-private",
            DBInstanceClass="db.t3.micro",
            Engine="postgres",
            EngineVersion="16.3",
            MasterUsername="demo",
            MasterUserPassword="Demo-Passw0rd-123",
            AllocatedStorage=20,
            DBSubnetGroupName="demo-db-subnets",
            VpcSecurityGroupIds=[self.ids["sg:demo-restricted"]],
            PubliclyAccessible=False,
            StorageEncrypted=True,
            KmsKeyId=self.ids["alias/demo-rotated@" + HOME],
            BackupRetentionPeriod=7,
            MultiAZ=True,
            DeletionProtection=True,
            AutoMinorVersionUpgrade=True,
            EnableIAMDatabaseAuthentication=True,
            CopyTagsToSnapshot=True,
            Port=5433,
            MonitoringInterval=60,
            MonitoringRoleArn=self.ids["role:demo-rds-monitoring-role"],
            EnableCloudwatchLogsExports=["postgresql", "upgrade"],
            Tags=tag_list(),
        )
        self.add(
            "rds",
            HOME,
            "demo-db-private: private, encrypted (demo-rotated), Multi-AZ, backups 7, deletion protection, "
            "port 5433, enhanced monitoring 60s, TLS required by demo-pg-tls (healthy)",
        )
        topic = f"arn:aws:sns:{HOME}:{ACCOUNT}:demo-db-ops"
        rds.create_event_subscription(
            SubscriptionName="demo-db-events",
            SnsTopicArn=topic,
            SourceType="db-instance",
            EventCategories=["maintenance", "configuration change", "failure"],
            Enabled=True,
        )
        rds.create_event_subscription(
            SubscriptionName="demo-db-failures-only",
            SnsTopicArn=topic,
            SourceType="db-instance",
            EventCategories=["failure"],
            Enabled=True,
        )
        self.add(
            "rds",
            HOME,
            "event subscriptions demo-db-events (instance maintenance, configuration change, failure: healthy), "
            "demo-db-failures-only (instance failure only)",
        )
        rds.create_db_snapshot(
            DBSnapshotIdentifier="demo-db-public-snapshot", DBInstanceIdentifier="demo-db-public"
        )
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier="demo-db-public-snapshot", AttributeName="restore", ValuesToAdd=["all"]
        )
        rds.create_db_snapshot(
            DBSnapshotIdentifier="demo-db-private-snapshot", DBInstanceIdentifier="demo-db-private"
        )
        self.add(
            "rds",
            HOME,
            "snapshots demo-db-public-snapshot (restore=all, unencrypted), demo-db-private-snapshot (healthy)",
        )

    # -- Config, GuardDuty -------------------------------------------------------------
    def config(self) -> None:
        cfg = self.c("config", HOME)
        cfg.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": self.ids["role:demo-config-role"],
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
            }
        )
        cfg.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": LOG_BUCKET, "s3KeyPrefix": "config"}
        )
        cfg.start_configuration_recorder(ConfigurationRecorderName="default")
        self.add("config", HOME, "recorder default (all resources + global) + delivery channel, recording")
        self.add("config", EU, "no recorder (finding)")

    def guardduty(self) -> None:
        gd = self.c("guardduty", HOME)
        gd.create_detector(Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES", Tags=STD_TAGS)
        self.add("guardduty", HOME, "detector enabled")
        self.add("guardduty", EU, "no detector (finding)")

    # -- EKS -------------------------------------------------------------------------
    def eks(self) -> None:
        eks = self.c("eks", HOME)
        role = self.ids["role:demo-eks-cluster-role"]
        all_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
        eks.create_cluster(
            name="demo-eks-public",
            version="1.27",
            roleArn=role,
            resourcesVpcConfig={
                "subnetIds": [self.ids["subnet:demo-public-a"], self.ids["subnet:demo-public-b"]],
                "endpointPublicAccess": True,
                "endpointPrivateAccess": False,
                "publicAccessCidrs": ["0.0.0.0/0"],
            },
            logging={"clusterLogging": [{"types": all_types, "enabled": False}]},
            tags=STD_TAGS,
        )
        self.add(
            "eks", HOME,
            "demo-eks-public: v1.27 (end of life), public endpoint 0.0.0.0/0, no control-plane logging, "
            "no secrets encryption",
        )
        eks.create_cluster(
            name="demo-eks-private",
            version="1.33",
            roleArn=role,
            resourcesVpcConfig={
                "subnetIds": [self.ids["subnet:demo-private-a"], self.ids["subnet:demo-private-b"]],
                "securityGroupIds": [self.ids["sg:demo-restricted"]],
                "endpointPublicAccess": False,
                "endpointPrivateAccess": True,
            },
            logging={"clusterLogging": [{"types": all_types, "enabled": True}]},
            encryptionConfig=[
                {"resources": ["secrets"], "provider": {"keyArn": self.ids["alias/demo-rotated@" + HOME]}}
            ],
            tags=STD_TAGS,
        )
        self.add("eks", HOME, "demo-eks-private: v1.33, private endpoint only, all 5 log types, secrets KMS (healthy)")

    def notes(self) -> None:
        self.gap("SSM: nothing seeded (moto does not implement DescribeInstanceInformation; no managed instances)")
        self.gap("Organizations: no organization created (the account is standalone)")


def _bpa_all():
    return {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


def _check_flow_logs(resp) -> None:
    # CreateFlowLogs reports per-resource failures in Unsuccessful with HTTP 200.
    if resp.get("Unsuccessful"):
        raise RuntimeError(f"CreateFlowLogs failed: {resp['Unsuccessful']}")


def reset(endpoint: str) -> None:
    req = urllib.request.Request(endpoint.rstrip("/") + "/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status != 200:
            raise SystemExit(f"reset failed: HTTP {r.status}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default=os.environ.get("RAMPART_MOTO_URL"),
                    help="moto server URL, e.g. http://127.0.0.1:5000 (default: $RAMPART_MOTO_URL)")
    ap.add_argument("--reset", action="store_true", help="POST /moto-api/reset before seeding")
    args = ap.parse_args()
    if not args.endpoint:
        ap.error("--endpoint is required")

    t0 = time.monotonic()
    if args.reset:
        reset(args.endpoint)
    s = Seeder(args.endpoint)
    steps = [s.kms, s.iam, s.s3, s.ec2_home, s.ec2_eu, s.cloudtrail, s.rds, s.config, s.guardduty, s.eks]
    # More services live in scripts/demo_seed_extra/<name>.py, each with `seed(seeder)`.
    extra_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo_seed_extra")
    for name in sorted(f[:-3] for f in os.listdir(extra_dir) if f.endswith(".py") and not f.startswith("_")):
        spec = importlib.util.spec_from_file_location(f"demo_seed_extra_{name}", os.path.join(extra_dir, f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        step = (lambda m: lambda: m.seed(s))(module)
        step.__name__ = name
        steps.append(step)
    steps.append(s.notes)
    timings = []
    for step in steps:
        t = time.monotonic()
        try:
            step()
        except (ClientError, BotoCoreError, RuntimeError) as exc:
            print(f"seed-demo: step {step.__name__} failed: {exc}", file=sys.stderr)
            print("seed-demo: was the server fresh? Use --reset to wipe it first.", file=sys.stderr)
            return 1
        timings.append(f"{step.__name__} {time.monotonic() - t:.1f}s")

    print(f"\nSeeded demo account {ACCOUNT} at {args.endpoint}:")
    for service, region, what in s.created:
        print(f"  [{service:<10} {region:<9}] {what}")
    if s.gaps:
        print(f"Gaps/notes ({len(s.gaps)}):")
        for g in s.gaps:
            print(f"  - {g}")
    print(f"Done: {len(s.created)} items in {time.monotonic() - t0:.1f}s ({', '.join(timings)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
