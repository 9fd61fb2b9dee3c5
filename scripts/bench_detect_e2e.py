#!/usr/bin/env python3
"""End-to-end detection latency on moto: from an audit event written to an
EKS cluster's log group to its alert stored by a running `rampart detect`.

Path measured: PutLogEvents -> (moto) subscription filter -> Firehose -> S3
object -> S3 notification -> SQS -> `rampart detect` long poll -> GetObject,
decode, rules, one store transaction -> alert readable by `rampart alerts`.

Run through scripts/bench-detect-e2e (it starts a private moto and builds
the binary). Prints each event's latency and the median, p90 and max.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"
CLUSTER = "bench"
FIXTURE = "crates/detect/fixtures/k8s/privileged-container/malicious/pod-privileged.json"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="rampart-bench-detect-")
    db = os.path.join(work, "rampart.db")
    env = dict(os.environ)
    env.pop("RAMPART_KEYS_DIR", None)

    def rampart(*argv, aws=False):
        cmd = [args.bin, *argv, "--db", db]
        if aws:
            cmd += ["--endpoint-url", args.endpoint]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"{' '.join(cmd)}: exit {out.returncode}\n{out.stderr}")
        return out.stdout

    boto3.client("eks", endpoint_url=args.endpoint, region_name=REGION).create_cluster(
        name=CLUSTER,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
    )
    rampart("issuer", "init", "--issuer-url", "https://id.example.test/rampart")
    rampart("connector", "create", "--name", "bench", "--account", ACCOUNT,
            "--plans", "cspm,containers", "--regions", REGION)
    rampart("containers", "provision", "--connector", "bench", aws=True)
    log_group = f"/aws/eks/{CLUSTER}/cluster"
    logs = boto3.client("logs", endpoint_url=args.endpoint, region_name=REGION)
    stream = "kube-apiserver-audit-bench"
    logs.create_log_stream(logGroupName=log_group, logStreamName=stream)

    with open(FIXTURE, encoding="utf-8") as f:
        template = json.load(f)

    detect = subprocess.Popen(
        [args.bin, "detect", "--connector", "bench", "--wait", "20",
         "--visibility-timeout", "30", "--db", db, "--endpoint-url", args.endpoint],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latencies = []
    try:
        time.sleep(1.0)
        for _ in range(args.events):
            event = dict(template)
            event["auditID"] = str(uuid.uuid4())
            t0 = time.monotonic()
            logs.put_log_events(logGroupName=log_group, logStreamName=stream, logEvents=[
                {"timestamp": int(time.time() * 1000), "message": json.dumps(event)}])
            deadline = t0 + 60
            while True:
                alerts = json.loads(rampart("alerts", "--format", "json"))["alerts"]
                ids = {e["event_id"] for a in alerts for e in a["evidence"]}
                if event["auditID"] in ids:
                    latencies.append(time.monotonic() - t0)
                    break
                if time.monotonic() > deadline:
                    sys.exit(f"no alert for {event['auditID']} after 60 s")
                time.sleep(0.02)
    finally:
        detect.terminate()
        detect.wait(timeout=30)

    latencies.sort()
    ms = [round(x * 1000) for x in latencies]
    print(f"events: {len(ms)}; latency ms (put -> alert readable): {ms}")
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    print(f"median {statistics.median(ms):.0f} ms, p90 {p90} ms, max {ms[-1]} ms")


if __name__ == "__main__":
    main()
