#!/usr/bin/env python3
"""Seed a moto server with bulk resources for scan benchmarks.

    source scripts/tools-env.sh
    URL=$(scripts/moto.sh start)
    "$RAMPART_PYTHON" scripts/seed-bench.py --endpoint "$URL" --scale 4 [--reset]

Per unit of --scale, in us-east-1 of account 123456789012:
  50 EC2 instances (5 launches of 10, one per subnet of bench-vpc, tagged; launch k
     uses the unit's security group k and IMDSv2 required on even k, optional on odd),
  10 S3 buckets (even-numbered ones with AES256 default encryption + versioning),
  10 security groups in bench-vpc with 3 ingress rules each (groups 0, 3, 6, 9 have
     SSH open to 0.0.0.0/0),
  5 IAM users with one access key each.
Names are deterministic (bench-<unit>-...), so it can run after seed-demo.py on the
same state, but not twice without a reset.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request

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

REGION = "us-east-1"
AMI = "ami-0a3c14e1ddbe7f23c"  # from scripts/moto-amis.json
SUBNETS = 5
INSTANCES_PER_UNIT = 50
BUCKETS_PER_UNIT = 10
SGS_PER_UNIT = 10
USERS_PER_UNIT = 5
ENVS = ("prod", "staging", "dev")
TEAMS = ("payments", "search", "platform", "data", "web")


def tags(**kv):
    return [{"Key": k, "Value": v} for k, v in kv.items()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default=os.environ.get("RAMPART_MOTO_URL"),
                    help="moto server URL (default: $RAMPART_MOTO_URL)")
    ap.add_argument("--scale", type=int, default=1, help="number of units to create (default 1)")
    ap.add_argument("--reset", action="store_true", help="POST /moto-api/reset before seeding")
    args = ap.parse_args()
    if not args.endpoint:
        ap.error("--endpoint is required")
    if args.scale < 1:
        ap.error("--scale must be >= 1")
    endpoint = args.endpoint.rstrip("/")

    t0 = time.monotonic()
    if args.reset:
        req = urllib.request.Request(endpoint + "/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(req, timeout=30).close()

    cfg = Config(retries={"max_attempts": 2, "mode": "standard"}, s3={"addressing_style": "path"},
                 read_timeout=120)
    session = boto3.session.Session()
    ec2 = session.client("ec2", region_name=REGION, endpoint_url=endpoint, config=cfg)
    s3 = session.client("s3", region_name=REGION, endpoint_url=endpoint, config=cfg)
    iam = session.client("iam", region_name=REGION, endpoint_url=endpoint, config=cfg)

    counts = {"instances": 0, "buckets": 0, "buckets_encrypted_versioned": 0,
              "security_groups": 0, "sg_rules": 0, "iam_users": 0, "access_keys": 0}
    timings: dict[str, float] = {}

    def timed(name, fn):
        t = time.monotonic()
        fn()
        timings[name] = timings.get(name, 0.0) + time.monotonic() - t

    # One VPC with SUBNETS subnets (/20: room for thousands of instances each).
    vpc = ec2.create_vpc(
        CidrBlock="10.200.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": tags(Name="bench-vpc", env="bench")}],
    )["Vpc"]["VpcId"]
    azs = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.200.{16 * k}.0/20", AvailabilityZone=azs[k % len(azs)],
            TagSpecifications=[{"ResourceType": "subnet", "Tags": tags(Name=f"bench-subnet-{k}")}],
        )["Subnet"]["SubnetId"]
        for k in range(SUBNETS)
    ]

    for unit in range(args.scale):
        u = f"{unit:03d}"
        sg_ids: list[str] = []

        def instances():
            per = INSTANCES_PER_UNIT // SUBNETS
            for k, subnet in enumerate(subnets):
                # Batch k uses the unit's security group k (moto attaches no group at all
                # when none is given, unlike AWS, which uses the VPC's default group).
                n = len(ec2.run_instances(
                    ImageId=AMI, InstanceType="t3.micro", MinCount=per, MaxCount=per, SubnetId=subnet,
                    SecurityGroupIds=[sg_ids[k % len(sg_ids)]],
                    MetadataOptions={"HttpTokens": "required" if k % 2 == 0 else "optional"},
                    TagSpecifications=[{"ResourceType": "instance", "Tags": tags(
                        Name=f"bench-{u}-web-{k}", env=ENVS[(unit + k) % len(ENVS)],
                        owner=TEAMS[k % len(TEAMS)], **{"cost-center": f"cc-{100 + unit}"},
                    )}],
                )["Instances"])
                counts["instances"] += n

        def buckets():
            for j in range(BUCKETS_PER_UNIT):
                name = f"bench-{u}-bucket-{j:02d}"
                s3.create_bucket(Bucket=name)
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags(
                    env=ENVS[j % len(ENVS)], owner=TEAMS[j % len(TEAMS)])})
                counts["buckets"] += 1
                if j % 2 == 0:
                    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
                    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
                    counts["buckets_encrypted_versioned"] += 1

        def security_groups():
            for j in range(SGS_PER_UNIT):
                name = f"bench-{u}-sg-{j:02d}"
                gid = ec2.create_security_group(
                    GroupName=name, Description=f"bench group {j}", VpcId=vpc,
                    TagSpecifications=[{"ResourceType": "security-group", "Tags": tags(
                        Name=name, owner=TEAMS[j % len(TEAMS)])}],
                )["GroupId"]
                # 3 rules in one call; every 3rd group has SSH open to the world.
                ssh_from = "0.0.0.0/0" if j % 3 == 0 else "10.0.0.0/8"
                perms = [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": ssh_from}]},
                    {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.200.0.0/16"}]},
                ]
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
                sg_ids.append(gid)
                counts["security_groups"] += 1
                counts["sg_rules"] += len(perms)

        def users():
            for j in range(USERS_PER_UNIT):
                name = f"bench-{u}-user-{j}"
                iam.create_user(UserName=name, Tags=tags(team=TEAMS[j % len(TEAMS)]))
                iam.create_access_key(UserName=name)
                counts["iam_users"] += 1
                counts["access_keys"] += 1

        timed("security_groups", security_groups)
        timed("instances", instances)
        timed("buckets", buckets)
        timed("iam_users", users)

    elapsed = time.monotonic() - t0
    print(f"Seeded bench scale {args.scale} at {endpoint} (us-east-1, vpc bench-vpc {vpc}, {SUBNETS} subnets):")
    for k, v in counts.items():
        print(f"  {k:<28} {v}")
    print(f"Done in {elapsed:.1f}s (" + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
