#!/usr/bin/env python3
"""Create an IAM user with one inline policy and print its access key.

For tests of access-denied coverage gaps. Start moto with
INITIAL_NO_AUTH_ACTION_COUNT=3: the three calls below are the last ones it
lets through unauthenticated; from then on moto checks every request's
credentials and IAM policy (for the services where moto enforces IAM).

    seed-restricted-user.py --endpoint URL --policy '{"Version": ..., "Statement": [...]}'

With --buckets N, then creates N buckets with the new user's key (so the
policy must allow s3:CreateBucket). Prints `ACCESS_KEY_ID SECRET_ACCESS_KEY`
on one line.
"""

from __future__ import annotations

import argparse
import json

import boto3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--policy", required=True, help="inline policy document (JSON)")
    ap.add_argument("--user", default="rampart-auditor")
    ap.add_argument("--buckets", type=int, default=0,
                    help="then create this many buckets with the new user's key (needs s3:CreateBucket)")
    args = ap.parse_args()
    json.loads(args.policy)  # fail early on bad JSON
    iam = boto3.client("iam", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    iam.create_user(UserName=args.user)
    iam.put_user_policy(UserName=args.user, PolicyName="scan", PolicyDocument=args.policy)
    key = iam.create_access_key(UserName=args.user)["AccessKey"]
    if args.buckets:
        s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
        for i in range(args.buckets):
            s3.create_bucket(Bucket=f"restricted-bucket-{i:02d}")
    print(key["AccessKeyId"], key["SecretAccessKey"])


if __name__ == "__main__":
    main()
