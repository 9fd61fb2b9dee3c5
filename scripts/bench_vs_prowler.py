#!/usr/bin/env python3
"""Rampart vs Prowler on the same emulated account (see scripts/bench-vs-prowler).

Starts a private moto, seeds the demo account (plus the bench seed at
--scale), then runs `rampart scan` and `prowler aws --compliance <the ten
frameworks both tools report on>` (Prowler runs the union of their checks: the
full overlapping check set) on the same regions, each under /usr/bin/time,
and prints wall time, CPU time and peak memory side by side with ratios, and
how far their findings agree, per standard:

* control level: for every control of a standard both tools assessed, does
  it pass or fail in both;
* resource level: (standard, control, resource ARN) triples both tools
  assessed, same pass/fail. Rampart names account/region settings
  `arn:rampart:…`, Prowler uses its own ids for them, so those only meet at
  control level.

Prowler's requirement ids are normalised to the standards' own ids (NIST
800-53 `ac_2_3_a` is AC-2(3), SOC 2 `cc_6_1` is CC6.1, PCI DSS testing
procedures `1.2.5.1` are requirement 1.2.5).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# moto is not AWS: no per-account cap on API calls (`--account-rate`).
os.environ.setdefault("RAMPART_ACCOUNT_RATE", "0")

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "eu-west-1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(moto_server: str):
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true",
               MOTO_AMIS_PATH=str(ROOT / "scripts" / "moto-amis.json"))
    proc = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto did not start")


def timed(cmd: list[str], env: dict, ok_codes=(0,)) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", t.name, *cmd], env=env,
                             capture_output=True, text=True)
        wall = time.perf_counter() - start
        user, system, kib = t.read().split()[-3:]
    if out.returncode not in ok_codes:
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return {"wall": wall, "cpu": float(user) + float(system), "rss": int(kib) / 1024}


# Prowler's framework key in OCSF (`Framework-Version`) → Rampart's standard id.
FRAMEWORKS = {
    "AWS-Foundational-Security-Best-Practices": ("aws-fsbp", "aws_foundational_security_best_practices_aws"),
    "CIS-3.0": ("cis-aws-3.0", "cis_3.0_aws"),
    "CIS-4.0.1": ("cis-aws-4.0", "cis_4.0_aws"),
    "CIS-5.0": ("cis-aws-5.0", "cis_5.0_aws"),
    "PCI-4.0": ("pci-dss-4.0", "pci_4.0_aws"),
    "NIST-800-53-Revision-5": ("nist-800-53-r5", "nist_800_53_revision_5_aws"),
    "NIST-800-171-Revision-2": ("nist-800-171-r2", "nist_800_171_revision_2_aws"),
    "ISO27001-2022": ("iso-27001-2022", "iso27001_2022_aws"),
    "SOC2": ("soc2", "soc2_aws"),
    "AWS-Well-Architected-Framework-Security-Pillar": ("aws-well-architected-security",
                                                       "aws_well_architected_framework_security_pillar_aws"),
}
STANDARDS = {std for std, _ in FRAMEWORKS.values()}


def normalise(std: str, control: str) -> str:
    """Prowler's requirement id as the standard's own control id."""
    if std == "nist-800-53-r5":
        parts = control.lower().split("_")
        out = f"{parts[0].upper()}-{parts[1]}" if len(parts) > 1 else control.upper()
        for part in parts[2:]:
            if part.isdigit():
                out += f"({part})"
            else:
                break
        return out
    if std == "nist-800-171-r2":
        return control.replace("_", ".")
    if std == "soc2":
        parts = control.lower().split("_")
        return f"{parts[0].upper()}{'.'.join(parts[1:])}" if len(parts) > 1 else control.upper()
    if std == "pci-dss-4.0":
        return ".".join(control.split(".")[:3])
    return control


def rampart_results(findings: dict) -> dict:
    results: dict = {}
    for a in findings["assessments"]:
        if a["status"] not in ("healthy", "unhealthy"):
            continue
        for mapping in a["standards"]:
            std, _, control = mapping.partition(":")
            if std not in STANDARDS:
                continue
            key = (std, control, a["resource"])
            results[key] = results.get(key, True) and a["status"] == "healthy"
    return results


def prowler_results(events: list) -> dict:
    results: dict = {}
    for e in events:
        if e.get("status_code") not in ("PASS", "FAIL"):
            continue
        resource = (e.get("resources") or [{}])[0].get("uid", "")
        for framework, controls in e.get("unmapped", {}).get("compliance", {}).items():
            std = FRAMEWORKS.get(framework, (None, None))[0]
            if not std:
                continue
            for control in controls:
                key = (std, normalise(std, control), resource)
                results[key] = results.get(key, True) and e["status_code"] == "PASS"
    return results


def by_control(results: dict) -> dict:
    out: dict = {}
    for (std, control, _), passed in results.items():
        out[(std, control)] = out.get((std, control), True) and passed
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rampart", required=True)
    ap.add_argument("--prowler", required=True)
    ap.add_argument("--moto-server", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--scale", type=int, default=1, help="bench seed units on top of the demo account (0: none)")
    args = ap.parse_args()

    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "RAMPART_DB"):
        env.pop(var, None)
    proc, url = start_moto(args.moto_server)
    tmp = tempfile.mkdtemp()
    try:
        subprocess.run([args.python, str(ROOT / "scripts" / "seed-demo.py"), "--endpoint", url], env=env,
                       check=True, capture_output=True)
        if args.scale:
            subprocess.run([args.python, str(ROOT / "scripts" / "seed-bench.py"), "--endpoint", url,
                            "--scale", str(args.scale)], env=env, check=True, capture_output=True)
        # Warm moto (IAM managed policies load on first use) outside both measurements.
        subprocess.run([args.rampart, "scan", "--endpoint-url", url, "--regions", ",".join(REGIONS),
                        "--db", os.path.join(tmp, "warm.db"), "--no-progress"], env=env, capture_output=True)
        db = os.path.join(tmp, "r.db")
        r = timed([args.rampart, "scan", "--endpoint-url", url, "--regions", ",".join(REGIONS), "--db", db,
                   "--no-progress"], env)
        findings = json.loads(subprocess.run([args.rampart, "findings", "--db", db, "--format", "json"],
                                             env=env, capture_output=True, text=True, check=True).stdout)
        penv = dict(env, AWS_ENDPOINT_URL=url)
        outdir = os.path.join(tmp, "prowler")
        p = timed([args.prowler, "aws", "--compliance", *(f for _, f in FRAMEWORKS.values()), "-f", *REGIONS, "--output-formats", "json-ocsf", "--output-directory", outdir,
                   "--no-banner"], penv, ok_codes=(0, 3))
        events = json.load(open(glob.glob(os.path.join(outdir, "*.ocsf.json"))[0]))
    finally:
        proc.kill()
        proc.wait()

    ours, theirs = rampart_results(findings), prowler_results(events)
    print(f"| | Rampart | Prowler | Prowler ÷ Rampart |")
    print(f"|---|---|---|---|")
    print(f"| wall time | {r['wall']:.1f} s | {p['wall']:.1f} s | {p['wall'] / r['wall']:.1f}× |")
    print(f"| CPU time | {r['cpu']:.2f} s | {p['cpu']:.2f} s | {p['cpu'] / max(r['cpu'], 0.01):.1f}× |")
    print(f"| peak memory | {r['rss']:.0f} MiB | {p['rss']:.0f} MiB | {p['rss'] / r['rss']:.1f}× |")
    print(f"| results (standard, control, resource) | {len(ours)} | {len(theirs)} | |")
    co, ct = by_control(ours), by_control(theirs)
    print("\n| standard | controls assessed by both | same pass/fail | only Rampart | only Prowler "
          "| (control, resource) pairs by both | same result |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for std in sorted(STANDARDS):
        cs = {k for k in co if k[0] == std}
        ts = {k for k in ct if k[0] == std}
        both = cs & ts
        agree = sum(1 for k in both if co[k] == ct[k])
        pairs = {k for k in ours if k[0] == std} & {k for k in theirs if k[0] == std}
        same = sum(1 for k in pairs if ours[k] == theirs[k])
        print(f"| {std} | {len(both)} | {agree} ({agree / max(len(both), 1):.0%}) | {len(cs - ts)} "
              f"| {len(ts - cs)} | {len(pairs)} | {same} ({same / max(len(pairs), 1):.0%}) |")
    both = sorted(set(co) & set(ct))
    agree = [k for k in both if co[k] == ct[k]]
    print(f"\nall standards: controls assessed by both: {len(both)}; same pass/fail: {len(agree)} "
          f"({len(agree) / max(len(both), 1):.0%}); only Rampart: {len(set(co) - set(ct))}; "
          f"only Prowler: {len(set(ct) - set(co))}")
    for k in both:
        if co[k] != ct[k] and k[0] == "aws-fsbp":
            print(f"  differs: {k[0]}:{k[1]}: Rampart {'pass' if co[k] else 'fail'}, "
                  f"Prowler {'pass' if ct[k] else 'fail'}")
    pairs = sorted(set(ours) & set(theirs))
    same = sum(1 for k in pairs if ours[k] == theirs[k])
    print(f"(standard, control, resource) triples assessed by both: {len(pairs)}; same result: {same} "
          f"({same / max(len(pairs), 1):.0%})")

if __name__ == "__main__":
    main()
