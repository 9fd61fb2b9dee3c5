#!/usr/bin/env python3
"""Scale benchmark: an AWS Organization scanned by 1, 2 and 4 workers.

moto emulates an Organization: its default account (123456789012) creates an
organization with --members member accounts; each member is seeded with a
small realistic set of resources through its OrganizationAccountAccessRole
(moto keeps each account's state apart). Then, for each worker count, in a
fresh PostgreSQL schema (scripts/test-postgres): `rampart issuer init`, an
organization connector, `rampart connector sync`, one queued scan (`rampart
scan --connector org --queue`: one job per account), and that many `rampart
worker --until-idle` processes started together. Printed per run: wall time,
accounts per minute, each worker's CPU seconds and max RSS (/usr/bin/time),
moto's CPU seconds over the same window (one moto process answers every
account: when its CPU time nears the wall time it is the bottleneck), and the
speed-up against one worker. Every run checks that every account's posture
is there afterwards.

The per-account cap on API calls is off (`--account-rate 0`: moto is not AWS).

With `--latency-ms N`, moto runs behind scripts/moto-latency.py, which holds
every AWS call for N ms before moto answers it (after the seeding), as a
network and AWS's front end do. Without it every call answers in about a
millisecond and the run is bound by the machine's CPU from the first worker
on; with it a job mostly waits, as against real AWS, and the table shows how
throughput grows with workers until the CPU saturates.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

# The moto server and free port of the scan benchmark (scripts/bench.py).
from bench import free_port, start_moto

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
MANAGEMENT = "123456789012"
REGION = "us-east-1"
SERVICES = "s3,sqs,sns,kms,iam,ec2,dynamodb,cloudwatch,cloudtrail,lambda,sts,organizations"


def proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of `pid`, and with `children` of its children it waited
    for (PostgreSQL's backends, once their connections closed)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12])
    if children:
        used += int(fields[13]) + int(fields[14])
    return used / TICKS


def postgres_cpu(pid_file: str | None) -> float:
    """CPU seconds of the PostgreSQL cluster (its postmaster and the backends
    it reaped); 0 when unknown."""
    if not pid_file:
        return 0.0
    pid = int(Path(pid_file).read_text().split()[0])
    return proc_cpu(pid, children=True)


def session_in(url: str, account: str) -> boto3.session.Session:
    """A session in `account`: the management account's own, or a member's
    through its OrganizationAccountAccessRole."""
    if account == MANAGEMENT:
        return boto3.session.Session(region_name=REGION)
    creds = boto3.client("sts", endpoint_url=url, region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="bench-seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=REGION)


def seed_account(url: str, account: str) -> None:
    """A small estate: buckets, a queue, a topic, a key, IAM users and a
    role, a VPC security group open to the world, an instance, a table, a
    log group."""
    s = session_in(url, account)
    c = lambda name: s.client(name, endpoint_url=url)  # noqa: E731
    s3 = c("s3")
    for name in ("logs", "data"):
        s3.create_bucket(Bucket=f"{name}-{account}")
    s3.put_bucket_versioning(Bucket=f"data-{account}", VersioningConfiguration={"Status": "Enabled"})
    c("sqs").create_queue(QueueName=f"jobs-{account}")
    c("sns").create_topic(Name=f"alerts-{account}")
    c("kms").create_key(Description="app key")
    iam = c("iam")
    for user in ("alice", "deploy"):
        iam.create_user(UserName=user)
    iam.create_access_key(UserName="deploy")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "ec2.amazonaws.com"}}]}))
    ec2 = c("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                      SecurityGroupIds=[sg])
    c("dynamodb").create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                               AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                               KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    c("logs").create_log_group(logGroupName="/app/web")


def seed(url: str, members: int) -> list[str]:
    org = boto3.client("organizations", endpoint_url=url, region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    accounts = [MANAGEMENT]
    for i in range(members):
        status = org.create_account(Email=f"member{i}@example.test",
                                    AccountName=f"member{i}")["CreateAccountStatus"]
        accounts.append(status["AccountId"])
    for account in accounts:
        seed_account(url, account)
    return accounts


class Rampart:
    def __init__(self, binary: str, db: str, moto_url: str, keys: str):
        self.binary, self.db, self.moto_url = binary, db, moto_url
        self.env = dict(os.environ, RAMPART_KEYS_DIR=keys, RAMPART_ACCOUNT_RATE="0")
        for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "RAMPART_DB"):
            self.env.pop(var, None)

    def args(self, *args: str, aws: bool = False) -> list[str]:
        extra = ["--endpoint-url", self.moto_url] if aws else []
        return [self.binary, *args, *extra, "--db", self.db]

    def run(self, *args: str, aws: bool = False) -> str:
        out = subprocess.run(self.args(*args, aws=aws), env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"rampart {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        return out.stdout


def run_workers(r: Rampart, workers: int, concurrency: int, moto: subprocess.Popen,
                pg_pid_file: str | None, keep_logs: str | None = None) -> dict:
    timings = [tempfile.NamedTemporaryFile("r", suffix=".time") for _ in range(workers)]
    logs = [tempfile.TemporaryFile("w+") for _ in range(workers)]
    moto_before = proc_cpu(moto.pid)
    pg_before = postgres_cpu(pg_pid_file)
    started = time.perf_counter()
    procs = [subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", timings[i].name,
                               *r.args("worker", "--until-idle", "--concurrency", str(concurrency),
                                       "--poll", "1", "--name", f"bench-w{i}", aws=True)],
                              env=r.env, stdout=logs[i], stderr=subprocess.STDOUT)
             for i in range(workers)]
    for p in procs:
        p.wait()
    wall = time.perf_counter() - started
    moto_cpu = proc_cpu(moto.pid) - moto_before
    time.sleep(1)  # the backends of the workers' connections exit and are reaped
    pg_cpu = postgres_cpu(pg_pid_file) - pg_before
    per_worker = []
    for i, p in enumerate(procs):
        logs[i].seek(0)
        log = logs[i].read()
        if keep_logs:
            Path(keep_logs, f"{workers}-workers-w{i}.log").write_text(log)
        if p.returncode != 0:
            sys.exit(f"worker {i} failed ({p.returncode}):\n{log}")
        elapsed, user, system, max_kib = timings[i].read().split()[-4:]
        per_worker.append({"wall": float(elapsed), "cpu": float(user) + float(system),
                           "rss_mib": int(max_kib) / 1024,
                           "jobs": sum(1 for line in log.splitlines()
                                       if line.startswith("job ") and " done" in line)})
    return {"wall": wall, "moto_cpu": moto_cpu, "pg_cpu": pg_cpu, "workers": per_worker}


def set_latency(url: str, ms: float) -> None:
    req = urllib.request.Request(url + "/_latency", data=json.dumps({"ms": ms}).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as answer:
        if json.load(answer)["ms"] != ms:
            sys.exit("moto-latency did not take the delay")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rampart", required=True)
    ap.add_argument("--moto-server", required=True)
    ap.add_argument("--postgres", required=True, help="a PostgreSQL URL (scripts/test-postgres start)")
    ap.add_argument("--members", type=int, default=24)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--concurrency", type=int, default=2, help="jobs per worker at once")
    ap.add_argument("--services", default=SERVICES)
    ap.add_argument("--postgres-pid-file", help="the cluster's postmaster.pid, to count its CPU")
    ap.add_argument("--keep-logs", metavar="DIR",
                    help="write each worker's output to DIR (set RAMPART_LOG for more of it)")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="hold every AWS call this long before moto answers (scripts/moto-latency.py)")
    args = ap.parse_args()

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")
    if args.latency_ms > 0:
        moto, url = start_moto(args.moto_server, ROOT / "scripts" / "moto-latency.py")
    else:
        moto, url = start_moto(args.moto_server)
    try:
        started = time.perf_counter()
        accounts = seed(url, args.members)
        print(f"seeded an organization of {len(accounts)} accounts in "
              f"{time.perf_counter() - started:.1f} s (moto {url})", file=sys.stderr)
        if args.latency_ms > 0:
            set_latency(url, args.latency_ms)
        results = []
        for workers in args.workers:
            tmp = tempfile.mkdtemp(prefix="bench-org-")
            sep = "&" if "?" in args.postgres else "?"
            db = f"{args.postgres}{sep}options=-csearch_path%3Dbench_org_{os.getpid()}_{workers}"
            r = Rampart(args.rampart, db, url, os.path.join(tmp, "keys"))
            r.run("issuer", "init", "--issuer-url", "https://id.example.test/rampart")
            r.run("connector", "create", "--name", "org", "--account", MANAGEMENT,
                  "--organization", "--regions", REGION)
            r.run("connector", "sync", "org", aws=True)
            queued = r.run("scan", "--connector", "org", "--queue", "--services", args.services)
            jobs = len(queued.splitlines())
            if jobs != len(accounts):
                sys.exit(f"expected {len(accounts)} jobs, queued {jobs}:\n{queued}")
            run = run_workers(r, workers, args.concurrency, moto, args.postgres_pid_file, args.keep_logs)
            statuses = {j["status"] for j in json.loads(r.run("jobs", "--format", "json", "--limit", "10000"))}
            if statuses != {"done"}:
                sys.exit(f"jobs not all done: {statuses}")
            seen = {a["account"] for a in json.loads(r.run("inventory", "--format", "json"))}
            if seen != set(accounts):
                sys.exit(f"accounts missing from the posture: {sorted(set(accounts) - seen)}")
            run.update(workers=workers, per_worker=run.pop("workers"), accounts=len(accounts))
            results.append(run)
            print(f"{workers} worker(s): {run['wall']:.1f} s", file=sys.stderr)
    finally:
        moto.kill()
        moto.wait()

    base = results[0]["wall"]
    print(f"\nOrganization of {results[0]['accounts']} accounts (1 management + {args.members} members), "
          f"services {args.services}, region {REGION}; {args.concurrency} jobs per worker at once; "
          f"{args.latency_ms:g} ms added to every AWS call\n")
    print("| workers | wall s | accounts/min | speed-up | per-account s (wall × workers) | "
          "worker CPU s (each) | worker max RSS MiB (each) | jobs (each) | moto CPU s | moto CPU/wall | "
          "PostgreSQL CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        w = r["per_worker"]
        cpu = " / ".join(f"{x['cpu']:.1f}" for x in w)
        rss = " / ".join(f"{x['rss_mib']:.0f}" for x in w)
        done = " / ".join(str(x["jobs"]) for x in w)
        print(f"| {r['workers']} | {r['wall']:.1f} | {r['accounts'] / r['wall'] * 60:.1f} | "
              f"{base / r['wall']:.2f}× | {r['wall'] * r['workers'] / r['accounts']:.2f} | "
              f"{cpu} | {rss} | {done} | {r['moto_cpu']:.1f} | {r['moto_cpu'] / r['wall']:.0%} | {r['pg_cpu']:.1f} |")
    cpu_per_account = sum(x["cpu"] for x in results[0]["per_worker"]) / results[0]["accounts"]
    print(f"\nworker CPU per account (1 worker): {cpu_per_account:.2f} s; "
          f"moto CPU per account: {results[0]['moto_cpu'] / results[0]['accounts']:.2f} s")


if __name__ == "__main__":
    main()
