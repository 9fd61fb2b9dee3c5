#!/usr/bin/env python3
"""Seeds a PostgreSQL store with millions of assessments (run through scripts/bench-server-postgres).

Writing ten million assessments through the store one row at a time takes
hours, and the synthetic seeder holds its whole inventory in memory, so:

1. `seed_store` writes one complete scan of a modest synthetic inventory
   (--base-assets, about a thousand assets per account, every assessment
   of the built-in catalog) into a SQLite file;
2. `rampart token create --db URL` creates the store's tables in
   PostgreSQL (every command opens and migrates the store it is given);
3. the SQLite rows are copied into staging tables (`COPY FROM STDIN`),
   then multiplied in SQL: the scan row once, its assets and assessments
   K times, copy g with every account id replaced by another (account
   ids, ARNs, properties, evidence), so that each (recommendation,
   resource) and (type, ARN) stays unique and the estate looks like
   K × (base accounts) real accounts. Indexes are dropped for the copy and
   built again after it;
4. the history the store would hold after DAYS daily scans of that estate
   (history.rs): the first scan's change log (every assessment `new`,
   DAYS - 1 days ago), then each later day about 0.2 % of the assessments
   changed (`resolved` for those healthy now, `changed` for the others),
   and today's daily aggregates (counts, totals and the score's per-control
   resource counts) computed from the current state with the same
   INSERT … SELECT … GROUP BY as `record_day`;
5. `ANALYZE`.

Prints the counts and how long each step took. A store that already holds
a complete scan is left as it is (its counts are printed). The copy skips
foreign-key triggers (`session_replication_role`), so the URL's user must
be a superuser, as in scripts/test-postgres's cluster.
"""

import argparse
import csv
import datetime
import math
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time


class Psql:
    """Runs SQL through `psql` (ON_ERROR_STOP) against one database."""

    def __init__(self, url):
        self.url = url

    def run(self, sql, stdin=None):
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", self.url, "-c", sql]
        if stdin is None:
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"psql failed: {out.stderr.strip()}\n  in: {sql[:500]}")
            return out.stdout
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, text=True)

    def value(self, sql):
        return self.run(sql).strip()

    def script(self, sql):
        """Several statements in one session (SET applies to all)."""
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", self.url]
        out = subprocess.run(cmd, input=sql, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"psql failed: {out.stderr.strip()}")
        return out.stdout


def lit(text):
    return "'" + text.replace("'", "''") + "'"


class Steps:
    def __init__(self):
        self.started = time.monotonic()
        self.last = self.started

    def done(self, what):
        now = time.monotonic()
        print(f"  {what}: {now - self.last:.1f} s", flush=True)
        self.last = now

    def total(self):
        return time.monotonic() - self.started


def copy_table(db, pg, table, stage, columns):
    """Streams `columns` of SQLite's `table` into PostgreSQL's `stage`."""
    # Strings are quoted (an empty string stays one) and so is None, which
    # Python's csv module writes as an empty string ("" under
    # QUOTE_NONNUMERIC): FORCE_NULL reads it back as NULL in the columns
    # SQLite lets be NULL (JSON or times there, never an empty string).
    nullable = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if not r[3] and not r[5] and r[1] in columns]
    force_null = f", FORCE_NULL ({', '.join(nullable)})" if nullable else ""
    proc = pg.run(f"COPY {stage} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv{force_null})", stdin=True)
    out = csv.writer(proc.stdin, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    n = 0
    for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}"):
        out.writerow(row)
        n += 1
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit(f"COPY into {stage} failed")
    return n


def pg_columns(pg, table):
    return pg.run(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_schema = current_schema() AND table_name = {lit(table)} ORDER BY ordinal_position"
    ).split()


def indexes_of(pg, tables):
    """(drop statement, create statement) of every index of `tables`:
    primary keys as constraints, the others as indexes."""
    names = ", ".join(lit(t) for t in tables)
    out = []
    for line in pg.run(
        "SELECT c.relname, i.relname, pg_get_indexdef(i.oid), coalesce(k.conname, ''), "
        "coalesce(pg_get_constraintdef(k.oid), '') "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_constraint k ON k.conindid = i.oid "
        f"AND k.conrelid = c.oid WHERE n.nspname = current_schema() AND c.relname IN ({names})"
    ).splitlines():
        table, index, indexdef, constraint, condef = line.split("|")
        if constraint:
            out.append((
                f"ALTER TABLE {table} DROP CONSTRAINT {constraint}",
                f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {condef}",
            ))
        else:
            # A partitioned table's index is reported `ON ONLY` the parent,
            # which would leave the partitions without it.
            out.append((f"DROP INDEX {index}", indexdef.replace(" ON ONLY ", " ON ")))
    return out


def month_partitions(pg, day):
    """The month partitions of the history tables for `day` (as
    history.rs's `ensure_partitions` names them)."""
    first = day.replace(day=1)
    end = (first + datetime.timedelta(days=32)).replace(day=1)
    for table in ("assessment_changes", "daily_posture", "daily_totals", "daily_controls"):
        pg.run(
            f"CREATE TABLE IF NOT EXISTS {table}_p{first.year:04}_{first.month:02} PARTITION OF {table} "
            f"FOR VALUES FROM ('{first.isoformat()}') TO ('{end.isoformat()}')"
        )


def counts(pg):
    return {
        "scans": int(pg.value("SELECT count(*) FROM scans WHERE status = 'complete'")),
        "assets": int(pg.value("SELECT count(*) FROM assets")),
        "accounts": int(pg.value("SELECT count(DISTINCT account) FROM assets")),
        "assessments": int(pg.value("SELECT count(*) FROM assessments")),
        "changes": int(pg.value("SELECT count(*) FROM assessment_changes")),
        "daily rows": int(pg.value("SELECT count(*) FROM daily_posture")),
    }


def report(pg, seconds=None):
    c = counts(pg)
    size = pg.value("SELECT pg_size_pretty(pg_database_size(current_database()))")
    print(
        f"store: {c['assets']:,} assets in {c['accounts']:,} accounts · {c['assessments']:,} assessments · "
        f"{c['changes']:,} logged changes · {c['daily rows']:,} daily aggregate rows · database {size}"
        + (f" · seeded in {seconds:.0f} s" if seconds is not None else ""),
        flush=True,
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rampart", required=True)
    p.add_argument("--seed-store", required=True)
    p.add_argument("--url", required=True, help="postgres:// URL of the (empty) store")
    p.add_argument("--assessments", type=int, default=10_000_000, help="at least this many assessments")
    p.add_argument("--base-assets", type=int, default=40_000, help="assets of the SQLite scan that is multiplied")
    p.add_argument("--days", type=int, default=30, help="days of change history")
    p.add_argument("--change-rate", type=float, default=0.002, help="share of assessments changed per later day")
    p.add_argument("--aggregate-days", type=int, default=1,
                   help="days of daily aggregates (today's counts and control counts copied to earlier days, "
                        "as a month of daily scans leaves them); 1: today's only")
    args = p.parse_args()
    pg = Psql(args.url)

    # Opening the store creates its tables (and a token nobody uses).
    subprocess.run(
        [args.rampart, "token", "create", "--db", args.url, "--role", "reader", "--name", "seed"],
        capture_output=True, check=True,
    )
    if int(pg.value("SELECT count(*) FROM scans")):
        print("the store already holds scans: not seeding", flush=True)
        report(pg)
        return 0

    steps = Steps()
    tmp = tempfile.mkdtemp(prefix="rampart-seed-pg-")
    base = os.path.join(tmp, "base.db")
    out = subprocess.run([args.seed_store, base, str(args.base_assets)], capture_output=True, text=True, check=True)
    print("  " + out.stdout.strip(), flush=True)
    steps.done("SQLite scan (seed_store)")

    db = sqlite3.connect(base)
    (scan_id, finished_at) = db.execute("SELECT id, finished_at FROM scans").fetchone()
    base_assessments = db.execute("SELECT count(*) FROM assessments").fetchone()[0]
    base_accounts = [r[0] for r in db.execute("SELECT DISTINCT account FROM assets ORDER BY account")]
    if not all(re.fullmatch(r"\d{12}", a) for a in base_accounts):
        sys.exit("synthetic accounts are expected to be 12 digits")
    k = math.ceil(args.assessments / base_assessments)
    stride = len(base_accounts)
    print(
        f"  base: {base_assessments:,} assessments in {stride} accounts; {k} copies "
        f"→ {k * base_assessments:,} assessments in {k * stride:,} accounts",
        flush=True,
    )

    # Staging tables with the SQLite columns PostgreSQL has too.
    staged = {}
    for table in ("scans", "assets", "assessments"):
        sqlite_cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        cols = [c for c in pg_columns(pg, table) if c in sqlite_cols and c != "rowid"]
        pg.run(f"DROP TABLE IF EXISTS stage_{table}; "
               f"CREATE UNLOGGED TABLE stage_{table} AS SELECT {', '.join(cols)} FROM {table} WITH NO DATA")
        n = copy_table(db, pg, table, f"stage_{table}", cols)
        staged[table] = cols
        print(f"  staged {n:,} {table}", flush=True)
    # Each scored recommendation's security control and points, as the
    # store's writer keeps them (the daily score's counts join them).
    scored = db.execute("SELECT recommendation, control, max_points FROM score_recommendations").fetchall()
    if not scored:
        sys.exit("the SQLite scan has no score_recommendations: seed_store is older than schema version 10")
    pg.run("DELETE FROM score_recommendations; INSERT INTO score_recommendations VALUES "
           + ", ".join(f"({lit(r)}, {lit(c)}, {int(p)})" for r, c, p in scored))
    db.close()
    steps.done("copy into staging tables")

    every_account = [f"{int(a) + g * stride:012}" for g in range(k) for a in base_accounts]
    account_json = "[" + ",".join(f'"{a}"' for a in every_account) + "]"
    scan_cols = staged["scans"]
    pg.run(
        f"INSERT INTO scans ({', '.join(scan_cols)}) SELECT "
        + ", ".join(
            {"accounts": lit(account_json), "asset_count": f"asset_count * {k}"}.get(c, c) for c in scan_cols
        )
        + " FROM stage_scans"
    )

    # The copy: account id of copy g = base account + g × (base accounts).
    acct = f"lpad((s.account::bigint + g * {stride})::text, 12, '0')"
    replaced = {
        "assets": {"account": acct, "arn": f"replace(s.arn, s.account, {acct})",
                   "properties": f"replace(s.properties, s.account, {acct})"},
        "assessments": {"account": acct, "resource": f"replace(s.resource, s.account, {acct})",
                        "evidence": f"replace(s.evidence, s.account, {acct})"},
    }
    index_defs = indexes_of(pg, ["assets", "assessments", "assessment_changes"])
    pg.script(";\n".join(drop for drop, _ in index_defs) + ";")
    for table in ("assets", "assessments"):
        cols = staged[table]
        pg.script(
            # No foreign-key triggers for the copy (the scan row is there).
            "SET session_replication_role = replica;\n"
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT "
            + ", ".join(replaced[table].get(c, f"s.{c}") for c in cols)
            + f" FROM generate_series(0, {k - 1}) g CROSS JOIN stage_{table} s;\n"
        )
        steps.done(f"{table} × {k}")

    # History: the first scan's log, then a few changes a day, oldest first
    # (the log's order is its rowid).
    today = datetime.date.fromisoformat(finished_at[:10])
    first_day = today - datetime.timedelta(days=args.days - 1)
    day = first_day
    while day <= today:
        month_partitions(pg, day)
        day = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    cols = "(day, at, scan_id, account, region, recommendation, resource, change, old_status, new_status)"
    pg.run(
        f"INSERT INTO assessment_changes {cols} SELECT {lit(first_day.isoformat())}, "
        f"{lit(first_day.isoformat() + 'T06:00:00Z')}, scan_id, account, region, recommendation, resource, "
        "'new', NULL, status FROM assessments"
    )
    # Each later day d changes the assessments whose hash is d modulo
    # 1 / rate (each assessment at most once): one pass over the table.
    modulus = max(args.days, round(1 / args.change_rate))
    pg.run(
        f"INSERT INTO assessment_changes {cols} SELECT to_char(d, 'YYYY-MM-DD'), "
        "to_char(d, 'YYYY-MM-DD') || 'T06:00:00Z', scan_id, account, region, recommendation, resource, "
        "CASE WHEN status = 'healthy' THEN 'resolved' ELSE 'changed' END, "
        "CASE WHEN status = 'healthy' THEN 'unhealthy' ELSE 'healthy' END, status "
        f"FROM (SELECT *, DATE {lit(first_day.isoformat())} + abs(hashtext(resource || recommendation)) % {modulus} AS d "
        f"FROM assessments) a WHERE abs(hashtext(resource || recommendation)) % {modulus} BETWEEN 1 AND {args.days - 1} "
        "ORDER BY d"
    )
    steps.done(f"change log ({args.days} days)")

    pg.script(
        "SET maintenance_work_mem = '512MB';\n" + ";\n".join(create for _, create in index_defs) + ";"
    )
    steps.done(f"{len(index_defs)} indexes built again")

    # history.rs `record_day`, for the scan's day.
    pg.run(
        f"DELETE FROM daily_posture WHERE day = {lit(today.isoformat())}; "
        "INSERT INTO daily_posture (day, account, region, recommendation, healthy, unhealthy, error, exempt, not_applicable) "
        f"SELECT CAST({lit(today.isoformat())} AS TEXT), account, region, recommendation, "
        "SUM(CASE WHEN status = 'healthy' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'unhealthy' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'exempt' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN status = 'not_applicable' THEN 1 ELSE 0 END) "
        "FROM assessments GROUP BY account, region, recommendation"
    )
    pg.run(
        f"DELETE FROM daily_totals WHERE day = {lit(today.isoformat())}; "
        "INSERT INTO daily_totals (day, account, region, healthy, unhealthy, error, exempt, not_applicable) "
        "SELECT day, account, region, SUM(healthy), SUM(unhealthy), SUM(error), SUM(exempt), SUM(not_applicable) "
        f"FROM daily_posture WHERE day = {lit(today.isoformat())} GROUP BY day, account, region"
    )
    pg.run(
        f"DELETE FROM daily_controls WHERE day = {lit(today.isoformat())}; "
        "INSERT INTO daily_controls (day, account, region, control, max_points, healthy, unhealthy) "
        f"SELECT CAST({lit(today.isoformat())} AS TEXT), account, region, control, MAX(max_points), "
        "SUM(CASE WHEN worst = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN worst = 2 THEN 1 ELSE 0 END) "
        "FROM (SELECT a.account, a.region, s.control, s.max_points, a.resource, "
        "MAX(CASE a.status WHEN 'unhealthy' THEN 2 WHEN 'healthy' THEN 1 ELSE 0 END) AS worst "
        "FROM assessments a JOIN score_recommendations s ON s.recommendation = a.recommendation "
        "GROUP BY a.account, a.region, s.control, s.max_points, a.resource) r "
        "WHERE worst > 0 GROUP BY account, region, control"
    )
    steps.done("today's daily aggregates")
    # Earlier days' totals and control counts (what the whole estate's trend
    # and score read), as copies of today's.
    if args.aggregate_days > 1:
        for back in range(1, args.aggregate_days):
            day = today - datetime.timedelta(days=back)
            month_partitions(pg, day)
            for table, columns in (
                ("daily_totals", "account, region, healthy, unhealthy, error, exempt, not_applicable"),
                ("daily_controls", "account, region, control, max_points, healthy, unhealthy"),
            ):
                pg.run(
                    f"INSERT INTO {table} (day, {columns}) SELECT CAST({lit(day.isoformat())} AS TEXT), "
                    f"{columns} FROM {table} WHERE day = {lit(today.isoformat())} ON CONFLICT DO NOTHING"
                )
        steps.done(f"{args.aggregate_days - 1} earlier days of totals and control counts")
    # Schema version 11: which scan holds each account's current state, and
    # today's aggregates as started.
    pg.run(
        "INSERT INTO current_accounts (account, scan_id, finished_at) "
        "SELECT a.account, MIN(a.scan_id), MIN(s.finished_at) FROM assets a JOIN scans s ON s.id = a.scan_id "
        "GROUP BY a.account ON CONFLICT (account) DO NOTHING"
    )
    pg.run(
        "INSERT INTO meta (key, value) VALUES ('history_day', "
        f"{lit(today.isoformat())}) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    steps.done("current accounts")

    pg.run("DROP TABLE stage_scans, stage_assets, stage_assessments")
    pg.run("VACUUM ANALYZE")
    steps.done("VACUUM ANALYZE")
    os.remove(base)
    os.rmdir(tmp)
    report(pg, steps.total())
    return 0


if __name__ == "__main__":
    sys.exit(main())
