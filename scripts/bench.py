#!/usr/bin/env python3
"""Scan benchmark: seeds moto at several sizes and measures `rampart scan`.

    scripts/bench                 # scales 1 10 50, release build
    scripts/bench --scales 1 5    # other sizes

For each scale: a fresh moto server (started here, stopped by PID), seeded by
scripts/seed-bench.py, then one `rampart scan --regions us-east-1` into a fresh
store. Reports wall time, the scanner's CPU time (user+sys of the rampart
process), moto's CPU time over the same window, rampart's peak RSS, assets,
API calls and calls per asset, and each figure's growth relative to the
smallest scale.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
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
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_moto(moto_server: str, wrapper: Path | None = None) -> tuple[subprocess.Popen, str]:
    """moto on a free port; with `wrapper`, that script (run by the Python
    beside `moto_server`, with moto's -H/-p arguments) serves moto's app."""
    port = free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true",
               MOTO_AMIS_PATH=str(ROOT / "scripts" / "moto-amis.json"))
    command = [moto_server] if wrapper is None else [str(Path(moto_server).with_name("python3")), str(wrapper)]
    proc = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("moto did not start")


def run_scan(rampart: str, url: str, db: str, env: dict) -> dict:
    """One scan under /usr/bin/time, which reports the rampart process alone."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        started = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", timing.name, rampart, "scan",
                              "--endpoint-url", url, "--regions", "us-east-1", "--db", db, "--no-progress"],
                             env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        user, system, max_kib = timing.read().split()[-3:]
    if out.returncode != 0:
        sys.exit(f"scan failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    m = re.search(r"· (\d+) API calls · (\d+) assets · (\d+) coverage gaps", out.stdout)
    if not m:
        sys.exit(f"unexpected summary:\n{out.stdout}")
    by_service = {}
    section = out.stdout.split("API calls by service", 1)[-1].split("\n\n", 1)[0]
    for line in section.splitlines()[1:]:
        cells = line.split()
        if len(cells) == 2 and cells[1].isdigit():
            by_service[cells[0]] = int(cells[1])
    return {
        "by_service": by_service,
        "wall": wall,
        "cpu": float(user) + float(system),
        "rss_mib": int(max_kib) / 1024,
        "calls": int(m.group(1)),
        "assets": int(m.group(2)),
        "gaps": int(m.group(3)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--rampart", required=True)
    ap.add_argument("--moto-server", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--baseline", help="an earlier rampart binary: scan the same moto with it too and "
                                       "compare API calls per service and wall time")
    args = ap.parse_args()

    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_SESSION_TOKEN="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "RAMPART_DB"):
        env.pop(var, None)

    rows = []
    for scale in sorted(args.scales):
        proc, url = start_moto(args.moto_server)
        tmp = tempfile.mkdtemp()
        try:
            t0 = time.perf_counter()
            subprocess.run([args.python, str(ROOT / "scripts" / "seed-bench.py"), "--endpoint", url,
                            "--scale", str(scale)], env=env, check=True, capture_output=True)
            seed_s = time.perf_counter() - t0
            # Warm moto's lazy state (IAM managed policies load on first IAM call) outside the window.
            run_scan(args.rampart, url, os.path.join(tmp, "warm.db"), env)
            moto_before = proc_cpu(proc.pid)
            r = run_scan(args.rampart, url, os.path.join(tmp, "bench.db"), env)
            r["moto_cpu"] = proc_cpu(proc.pid) - moto_before
            if args.baseline:
                run_scan(args.baseline, url, os.path.join(tmp, "warm-base.db"), env)
                r["baseline"] = run_scan(args.baseline, url, os.path.join(tmp, "base.db"), env)
            r["scale"] = scale
            r["seed"] = seed_s
            rows.append(r)
            print(f"scale {scale}: seeded in {seed_s:.1f} s; {r}", file=sys.stderr)
        finally:
            proc.kill()
            proc.wait()
            shutil.rmtree(tmp, ignore_errors=True)

    base = rows[0]
    print("| scale | assets | API calls | calls/asset | wall s | rampart CPU s | CPU/wall | moto CPU s | peak RSS MiB | wall × | CPU × | RSS × | assets × |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scale']}× | {r['assets']} | {r['calls']} | {r['calls'] / r['assets']:.2f} | "
              f"{r['wall']:.2f} | {r['cpu']:.2f} | {r['cpu'] / r['wall']:.1%} | {r['moto_cpu']:.2f} | "
              f"{r['rss_mib']:.0f} | {r['wall'] / base['wall']:.1f} | {r['cpu'] / max(base['cpu'], 1e-3):.1f} | "
              f"{r['rss_mib'] / base['rss_mib']:.1f} | {r['assets'] / base['assets']:.1f} |")

    for r in rows:
        b = r.get("baseline")
        if not b:
            continue
        old, new = b["by_service"], r["by_service"]
        changed = {k: (old.get(k, 0), new.get(k, 0)) for k in sorted(set(old) | set(new))
                   if old.get(k, 0) != new.get(k, 0)}
        added = {k: v for k, (o, v) in changed.items() if o == 0}
        other = {k: v for k, v in changed.items() if v[0] != 0}
        print(f"\nscale {r['scale']}× against the baseline: assets {b['assets']} → {r['assets']}, "
              f"API calls {b['calls']} → {r['calls']} (+{r['calls'] - b['calls']}), "
              f"calls/asset {b['calls'] / b['assets']:.2f} → {r['calls'] / r['assets']:.2f}, "
              f"wall {b['wall']:.2f} s → {r['wall']:.2f} s")
        print(f"  calls of services the baseline does not have: {sum(added.values())} "
              f"({len(added)} services)")
        if other:
            for k, (o, v) in other.items():
                print(f"  changed: {k}: {o} → {v}")
        else:
            print("  every service the baseline calls makes the same number of calls")


if __name__ == "__main__":
    main()
