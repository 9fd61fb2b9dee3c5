#!/usr/bin/env python3
"""Seeds moto for the connector-scan tests (crates/cli/tests/connector_scan.rs).

With --organization N: moto's default account (123456789012) creates an
organization with N member accounts (moto assigns their ids). Every account
gets its own S3 bucket `rampart-<account>` and SQS queue `q-<account>`; a
member's resources are created by assuming a role into it, which gives that
account its own state in moto.

With --iam-user ACCOUNT: an IAM user with an access key in ACCOUNT (for a
classic connector); with --bucket ACCOUNT: a bucket and queue in ACCOUNT.

Prints one JSON object: {"management": ..., "members": [...],
"user": {"accessKeyId": ..., "secretAccessKey": ...}}.
"""

import argparse
import json

import boto3

MANAGEMENT = "123456789012"


def session_in(endpoint, account):
    """A boto3 session whose calls run in `account` (moto keeps its state apart)."""
    if account == MANAGEMENT:
        return boto3.session.Session(region_name="us-east-1")
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/RampartSeed", RoleSessionName="seed"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def seed_account(endpoint, account):
    session = session_in(endpoint, account)
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=f"rampart-{account}")
    session.client("sqs", endpoint_url=endpoint).create_queue(QueueName=f"q-{account}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--organization", type=int, default=0)
    parser.add_argument("--iam-user", default=None)
    parser.add_argument("--bucket", action="append", default=[])
    args = parser.parse_args()
    out = {"management": MANAGEMENT, "members": []}

    if args.organization:
        org = boto3.client("organizations", endpoint_url=args.endpoint, region_name="us-east-1")
        org.create_organization(FeatureSet="ALL")
        for i in range(args.organization):
            status = org.create_account(
                Email=f"member{i}@example.test", AccountName=f"member{i}"
            )["CreateAccountStatus"]
            out["members"].append(status["AccountId"])
        for account in [MANAGEMENT] + out["members"]:
            seed_account(args.endpoint, account)

    for account in args.bucket:
        seed_account(args.endpoint, account)

    if args.iam_user:
        iam = session_in(args.endpoint, args.iam_user).client("iam", endpoint_url=args.endpoint)
        iam.create_user(UserName="rampart-classic")
        key = iam.create_access_key(UserName="rampart-classic")["AccessKey"]
        out["user"] = {
            "accessKeyId": key["AccessKeyId"],
            "secretAccessKey": key["SecretAccessKey"],
        }

    print(json.dumps(out))


if __name__ == "__main__":
    main()
