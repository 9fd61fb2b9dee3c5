#!/usr/bin/env python3
"""Seeds moto for the Servers provisioning CLI test (crates/cli/tests/servers.rs).

In moto's default account (123456789012), us-east-1: an instance profile
`AppPlain` whose role lacks the SSM core policy, and three instances tagged
`env`: `prod` without a profile, `prod` with `AppPlain`, `dev` without a
profile. Prints the instance ids as JSON: {"bare", "plain", "dev"}.
"""

import argparse
import json

import boto3

REGION = "us-east-1"
AMI = "ami-0a3c14e1ddbe7f23c"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    args = parser.parse_args()

    def client(service):
        return boto3.client(
            service,
            endpoint_url=args.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    iam = client("iam")
    iam.create_role(RoleName="AppPlain", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_instance_profile(InstanceProfileName="AppPlain")
    iam.add_role_to_instance_profile(InstanceProfileName="AppPlain", RoleName="AppPlain")
    ec2 = client("ec2")

    def launch(env, profile=None):
        kwargs = {
            "ImageId": AMI,
            "MinCount": 1,
            "MaxCount": 1,
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": [{"Key": "env", "Value": env}]}
            ],
        }
        if profile:
            kwargs["IamInstanceProfile"] = {"Name": profile}
        return ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]

    ids = {"bare": launch("prod"), "plain": launch("prod", "AppPlain"), "dev": launch("dev")}
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
