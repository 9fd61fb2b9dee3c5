#!/usr/bin/env python3
"""Seeds moto for the Containers and SQL end-to-end tests
(crates/cli/tests/containers.rs, crates/cli/tests/servers.rs).

Subcommands, all in moto's default account (123456789012), us-east-1:

  cluster NAME                    an EKS cluster
  log-group NAME                  a CloudWatch Logs group (the one the
                                  CloudWatch agent writes SQL Server logs to)
  events GROUP STREAM FILE        PutLogEvents of FILE's lines (one audit event
    [--each]                      each) to GROUP/STREAM (the stream is created
                                  if missing), in one call or one call per line;
                                  moto forwards each call through the
                                  subscription filter to Firehose, S3 and SQS
  object BUCKET KEY TEXT          PutObject of TEXT (a malformed object)
"""

import argparse
import time

import boto3

REGION = "us-east-1"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    cluster = sub.add_parser("cluster")
    cluster.add_argument("name")
    group = sub.add_parser("log-group")
    group.add_argument("name")
    events = sub.add_parser("events")
    events.add_argument("group")
    events.add_argument("stream")
    events.add_argument("file")
    events.add_argument("--each", action="store_true", help="one PutLogEvents per line")
    obj = sub.add_parser("object")
    obj.add_argument("bucket")
    obj.add_argument("key")
    obj.add_argument("text")
    args = parser.parse_args()

    def client(service):
        return boto3.client(service, endpoint_url=args.endpoint, region_name=REGION)

    if args.command == "cluster":
        client("eks").create_cluster(
            name=args.name,
            roleArn="arn:aws:iam::123456789012:role/eks",
            resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        )
    elif args.command == "log-group":
        client("logs").create_log_group(logGroupName=args.name)
    elif args.command == "events":
        logs = client("logs")
        try:
            logs.create_log_stream(logGroupName=args.group, logStreamName=args.stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        with open(args.file, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        now = int(time.time() * 1000)
        batch = [{"timestamp": now + i, "message": m} for i, m in enumerate(lines)]
        for events in [[e] for e in batch] if args.each else [batch]:
            logs.put_log_events(
                logGroupName=args.group, logStreamName=args.stream, logEvents=events
            )
    elif args.command == "object":
        client("s3").put_object(Bucket=args.bucket, Key=args.key, Body=args.text.encode())


if __name__ == "__main__":
    main()
