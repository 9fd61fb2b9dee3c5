#!/usr/bin/env python3
"""Server load benchmark (run through scripts/bench-server).

Seeds a store with one complete scan of a synthetic inventory (N assets and
every assessment of the catalog; crates/testkit/examples/seed_store.rs),
starts `rampart serve` on it, creates a reader token and drives each list
endpoint and dashboard page with `wrk` (C connections, D seconds each).
Prints a table of endpoint, requests/s, p50, p99 and whether p99 is under
the target; exits 1 if any endpoint misses it or answers anything but 2xx.

The first request to each endpoint is made (and timed) before the load:
it fills the per-scan posture cache, which the load then reads. At the end,
the server's peak resident memory (VmHWM).

`--db postgres://…` loads a PostgreSQL store that is already seeded
(scripts/bench-server-postgres seeds one with millions of assessments).
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def get(base, path, token):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    started = time.monotonic()
    # Generous: the first read of a scan of millions of assessments fills
    # its posture cache from all of them.
    with urllib.request.urlopen(req, timeout=900) as resp:
        body = resp.read()
        status = resp.status
    return status, body, time.monotonic() - started


def get_json(base, path, token):
    status, body, _ = get(base, path, token)
    if status != 200:
        sys.exit(f"{path}: HTTP {status}")
    return json.loads(body)


def q(params):
    return urllib.parse.urlencode(params)


def endpoints(base, token):
    """(label, path) of every endpoint to load, with real ids from the store."""
    first = get_json(base, "/api/v1/inventory?limit=1", token)["items"][0]
    # A keyset cursor from the middle of the list: the first IAM role's key
    # (the list is ordered by type, then ARN; cursors are keys, not filters).
    middle = get_json(base, "/api/v1/inventory?" + q({"type": "AWS::IAM::Role", "limit": 1}), token)
    deep = middle["next_cursor"]
    filt = {"type": "AWS::EC2::Volume", "region": "eu-west-1"}
    page = get_json(base, "/api/v1/inventory?" + q({**filt, "limit": 500}), token)
    filt_deep = page["next_cursor"]
    recs = get_json(base, "/api/v1/recommendations?limit=500", token)["items"]
    rec = max(recs, key=lambda r: sum(r["counts"].values()))["id"]
    standard = get_json(base, "/api/v1/compliance", token)["items"][0]["id"]
    controls = get_json(base, f"/api/v1/compliance/{standard}/controls?state=failed", token)["items"]
    control = controls[0]["id"] if controls else None
    if not (deep and filt_deep):
        sys.exit("the seeded inventory is too small for deep pages")
    out = [
        ("API inventory, first page", "/api/v1/inventory"),
        ("API inventory, deep page", "/api/v1/inventory?" + q({"cursor": deep})),
        ("API inventory, type + region", "/api/v1/inventory?" + q(filt)),
        ("API inventory, type + region, page 11", "/api/v1/inventory?" + q({**filt, "cursor": filt_deep})),
        ("API recommendations", "/api/v1/recommendations"),
        (f"API recommendation ({rec})", f"/api/v1/recommendations/{rec}"),
        ("API its assessments, unhealthy", f"/api/v1/recommendations/{rec}/assessments?status=unhealthy"),
        ("API assessments, unhealthy", "/api/v1/assessments?status=unhealthy"),
        ("API assessments, one resource type", "/api/v1/assessments?" + q({"resource_type": "AWS::EKS::Cluster"})),
        ("API score", "/api/v1/score"),
        ("API score history", "/api/v1/score/history"),
        (f"API compliance/{standard}", f"/api/v1/compliance/{standard}"),
        (f"API compliance/{standard}/controls", f"/api/v1/compliance/{standard}/controls"),
        ("API scans", "/api/v1/scans"),
        ("API changes", "/api/v1/changes"),
        ("API changes, resolved", "/api/v1/changes?" + q({"change": "resolved"})),
        ("API trend", "/api/v1/trend"),
        ("API trend, one account", "/api/v1/trend?" + q({"account": first["account"]})),
        ("API score, one account", "/api/v1/score?" + q({"account": first["account"]})),
        ("page /", "/"),
        ("page /recommendations", "/recommendations"),
        (f"page /recommendations/{rec}", f"/recommendations/{rec}"),
        ("page /inventory", "/inventory"),
        ("page /inventory?type=AWS::EC2::Volume", "/inventory?" + q({"type": "AWS::EC2::Volume"})),
        ("page /inventory/resource", "/inventory/resource?" + q({"type": first["type"], "arn": first["arn"]})),
        ("page /compliance", "/compliance"),
        (f"page /compliance/{standard}", f"/compliance/{standard}"),
        ("page /changes", "/changes"),
    ]
    if control:
        out.append((f"page /compliance/{standard}/{control}", f"/compliance/{standard}/{urllib.parse.quote(control)}"))
    return out


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def millis(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def run_wrk(args, base, path, token):
    cmd = [
        "wrk", "--latency", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
        "--timeout", "10s", "-H", f"Authorization: Bearer {token}", base + path,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    # wrk pads some values ("1.44s "): the value is the next word.
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    total = re.search(r"^\s+(\d+) requests in", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    if not (rps and "50" in pct and "99" in pct and total):
        sys.exit(f"cannot read wrk's output for {path}:\n{out}")
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "p50": millis(pct["50"]),
        "p99": millis(pct["99"]),
        "bad": int(non2xx.group(1)) if non2xx else 0,
        "errors": errors.group(1) if errors else "",
    }


def peak_rss(pid):
    """The process's peak resident memory as /proc reports it (VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                kib = int(line.split()[1])
                return f"{kib / 1024:,.0f} MiB"
    return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rampart", required=True)
    p.add_argument("--seed-store", required=True)
    p.add_argument("--assets", type=int, default=100_000)
    p.add_argument("--db", help="reuse this seeded store (seeded first when missing)")
    p.add_argument("--duration", type=int, default=5, help="seconds of load per endpoint")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--target-ms", type=float, default=50.0)
    p.add_argument("--only", help="only endpoints whose label contains this text")
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="rampart-bench-server-")
    db = args.db or os.path.join(tmp, "rampart.db")
    postgres = db.startswith(("postgres://", "postgresql://"))
    if not postgres and not os.path.exists(db):
        started = time.monotonic()
        subprocess.run([args.seed_store, db, str(args.assets)], check=True)
        print(f"seeding took {time.monotonic() - started:.1f} s", flush=True)
    token = subprocess.run(
        [args.rampart, "token", "create", "--db", db, "--role", "reader", "--name", "bench"],
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]
    log = open(os.path.join(tmp, "serve.log"), "w")
    server = subprocess.Popen(
        # The first read of a large store fills its posture cache, which can
        # take longer than the default 30 s request timeout (it is timed and
        # printed on its own below).
        [args.rampart, "serve", "--init", "--db", db, "--listen", "127.0.0.1:0", "--request-timeout", "900"],
        stdout=subprocess.PIPE, stderr=log, text=True,
    )
    try:
        line = server.stdout.readline().strip()
        prefix = "Rampart listening on "
        if not line.startswith(prefix):
            sys.exit(f"unexpected first line from rampart serve: {line!r}")
        base = line[len(prefix):]
        # The first read of a scan computes and stores its posture (score,
        # compliance, counts) from every assessment; later reads use it.
        _, _, cold = get(base, "/api/v1/score", token)
        print(f"first /api/v1/score (fills the scan's posture cache): {cold * 1e3:.0f} ms", flush=True)
        targets = endpoints(base, token)
        if args.only:
            targets = [t for t in targets if args.only in t[0]]
        print(
            f"{len(targets)} endpoints · wrk {args.threads} threads, {args.connections} connections, "
            f"{args.duration} s each · target p99 < {args.target_ms:g} ms · {os.cpu_count()} CPUs",
            flush=True,
        )
        rows = []
        for label, path in targets:
            status, body, first = get(base, path, token)
            if status != 200:
                sys.exit(f"{path}: HTTP {status}")
            r = run_wrk(args, base, path, token)
            r.update(label=label, first=first * 1e3, size=len(body))
            r["ok"] = r["p99"] < args.target_ms and r["bad"] == 0 and not r["errors"]
            rows.append(r)
            print(
                f"  {label}: {r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms"
                + (f", {r['bad']} non-2xx" if r["bad"] else "")
                + (f", socket errors {r['errors']}" if r["errors"] else ""),
                flush=True,
            )
        peak = peak_rss(server.pid)
        print(f"rampart serve peak RSS (VmHWM): {peak}", flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"| endpoint | requests/s | p50 | p99 | p99 < {args.target_ms:g} ms | first request | body |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        verdict = "yes" if r["ok"] else "**NO**"
        print(
            f"| {r['label']} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms | {verdict} "
            f"| {r['first']:.0f} ms | {r['size'] / 1024:.0f} KiB |"
        )
    missed = [r["label"] for r in rows if not r["ok"]]
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
        return 1
    print(f"\nevery endpoint: p99 < {args.target_ms:g} ms, all responses 2xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
