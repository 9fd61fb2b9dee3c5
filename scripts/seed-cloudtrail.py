#!/usr/bin/env python3
"""Seeds moto for the CloudTrail end-to-end test (crates/cli/tests/cloudtrail.rs).

Subcommands, all in moto's default account (123456789012), us-east-1:

  trail NAME BUCKET [--prefix P]   a bucket and a multi-region trail logging to it
  logs BUCKET KEY FILE             PutObject of FILE (a JSON array of gzip members,
                                   each a list of CloudTrail records) as one object
                                   whose gzip members are {"Records": [...]} each
  raw BUCKET KEY TEXT              PutObject of TEXT as is (an unreadable object)
  foreign-notification BUCKET QUEUE PREFIX
                                   a queue and a notification of new objects under
                                   PREFIX to it: someone else's configuration
  notification BUCKET              prints the bucket's notification configuration (JSON)
"""

import argparse
import gzip
import json

import boto3

REGION = "us-east-1"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    trail = sub.add_parser("trail")
    trail.add_argument("name")
    trail.add_argument("bucket")
    trail.add_argument("--prefix")
    logs = sub.add_parser("logs")
    logs.add_argument("bucket")
    logs.add_argument("key")
    logs.add_argument("file")
    raw = sub.add_parser("raw")
    raw.add_argument("bucket")
    raw.add_argument("key")
    raw.add_argument("text")
    foreign = sub.add_parser("foreign-notification")
    foreign.add_argument("bucket")
    foreign.add_argument("queue")
    foreign.add_argument("prefix")
    notification = sub.add_parser("notification")
    notification.add_argument("bucket")
    args = parser.parse_args()

    def client(service):
        return boto3.client(service, endpoint_url=args.endpoint, region_name=REGION)

    s3 = client("s3")
    if args.command == "trail":
        s3.create_bucket(Bucket=args.bucket)
        params = {"Name": args.name, "S3BucketName": args.bucket, "IsMultiRegionTrail": True}
        if args.prefix:
            params["S3KeyPrefix"] = args.prefix
        ct = client("cloudtrail")
        ct.create_trail(**params)
        ct.start_logging(Name=args.name)
    elif args.command == "logs":
        with open(args.file, encoding="utf-8") as f:
            members = json.load(f)
        body = b"".join(
            gzip.compress(json.dumps({"Records": records}).encode()) for records in members
        )
        s3.put_object(Bucket=args.bucket, Key=args.key, Body=body)
    elif args.command == "raw":
        s3.put_object(Bucket=args.bucket, Key=args.key, Body=args.text.encode())
    elif args.command == "foreign-notification":
        sqs = client("sqs")
        url = sqs.create_queue(QueueName=args.queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        s3.put_bucket_notification_configuration(
            Bucket=args.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "someone-else",
                        "QueueArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {"FilterRules": [{"Name": "prefix", "Value": args.prefix}]}
                        },
                    }
                ]
            },
        )
    elif args.command == "notification":
        out = s3.get_bucket_notification_configuration(Bucket=args.bucket)
        out.pop("ResponseMetadata", None)
        print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
