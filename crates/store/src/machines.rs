//! Agentless machine scan results, per scan (schema step "machines",
//! version 6 of [`crate::SCHEMA_VERSION`]'s history; created on open, so
//! older files upgrade in place).
//!
//! `machine_scans` holds one row per machine and scan (operating system,
//! packages scanned, secrets, errors); `machine_findings` one row per
//! vulnerable package, so "which machines have CVE-X" and filtered finding
//! lists are SQL queries (the API and the dashboard use them).

use std::collections::BTreeMap;

use crate::db::{OptionalExtension, params};
use rampart_model::machine::{
    MachineScan, MachineSource, VulnerabilityFinding, VulnerabilitySeverity,
};

use crate::{Result, Store, StoreError, json_text, parse_json, parse_time, rfc3339, to_i64};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS machine_scans (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'disk',
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    snapshot TEXT,
    scanned_at TEXT NOT NULL,
    os TEXT,
    packages_scanned INTEGER NOT NULL,
    secrets TEXT NOT NULL,
    errors TEXT NOT NULL,
    match_errors TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (scan_id, resource)
);
CREATE INDEX IF NOT EXISTS machine_scans_resource ON machine_scans (resource, scanned_at);
CREATE TABLE IF NOT EXISTS machine_findings (
    scan_id TEXT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    resource TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    package TEXT NOT NULL,
    source_package TEXT,
    installed_version TEXT NOT NULL,
    fixed_version TEXT,
    vulnerability TEXT NOT NULL,
    aliases TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    ecosystem TEXT NOT NULL,
    PRIMARY KEY (scan_id, resource, ordinal)
);
CREATE INDEX IF NOT EXISTS machine_findings_vulnerability ON machine_findings (vulnerability);
";

/// Which findings to read.
#[derive(Debug, Clone, Default)]
pub struct MachineFindingFilter {
    /// Only this advisory (its id or one of its aliases, e.g. `CVE-2024-0727`).
    pub vulnerability: Option<String>,
    /// Only this package (binary or source name).
    pub package: Option<String>,
    /// Only findings at or above this severity.
    pub min_severity: Option<VulnerabilitySeverity>,
    /// Only this machine (ARN).
    pub resource: Option<String>,
}

fn rank(s: VulnerabilitySeverity) -> i64 {
    match s {
        VulnerabilitySeverity::Unknown => 0,
        VulnerabilitySeverity::Low => 1,
        VulnerabilitySeverity::Medium => 2,
        VulnerabilitySeverity::High => 3,
        VulnerabilitySeverity::Critical => 4,
    }
}

/// `(account, region)` of an ARN (`arn:aws:ec2:REGION:ACCOUNT:…`); empty
/// parts when it is not one.
fn arn_parts(arn: &str) -> (String, String) {
    let mut parts = arn.split(':');
    let region = parts.nth(3).unwrap_or_default().to_owned();
    let account = parts.next().unwrap_or_default().to_owned();
    (account, region)
}

type FindingRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

type MachineRow = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
    String,
    String,
    String,
);

impl Store {
    /// Stores the machines a scan read (replacing what the scan stored
    /// before for the same machines).
    pub fn put_machine_scans(&mut self, scan_id: &str, machines: &[MachineScan]) -> Result<()> {
        self.write(|store| {
            for m in machines {
                let (account, region) = arn_parts(&m.resource);
                store.conn.execute(
                    "DELETE FROM machine_findings WHERE scan_id = ?1 AND resource = ?2",
                    params![scan_id, m.resource],
                )?;
                store.conn.execute(
                    "INSERT INTO machine_scans (scan_id, resource, account, region, snapshot, scanned_at, os, packages_scanned, secrets, errors, source, match_errors) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (scan_id, resource) DO UPDATE SET account = excluded.account, region = excluded.region, snapshot = excluded.snapshot, scanned_at = excluded.scanned_at, os = excluded.os, packages_scanned = excluded.packages_scanned, secrets = excluded.secrets, errors = excluded.errors, source = excluded.source, match_errors = excluded.match_errors",
                    params![
                        scan_id,
                        m.resource,
                        account,
                        region,
                        m.snapshot,
                        rfc3339(m.scanned_at),
                        m.os.as_ref().map(json_text),
                        to_i64(m.packages_scanned),
                        json_text(&m.secrets),
                        json_text(&m.errors),
                        m.source.as_str(),
                        json_text(&m.match_errors),
                    ],
                )?;
                let mut insert = store.conn.prepare_cached(
                    "INSERT INTO machine_findings (scan_id, resource, ordinal, package, source_package, installed_version, fixed_version, vulnerability, aliases, severity, severity_rank, ecosystem) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                for (i, f) in m.findings.iter().enumerate() {
                    insert.execute(params![
                        scan_id,
                        m.resource,
                        to_i64(i as u64),
                        f.package,
                        f.source_package,
                        f.installed_version,
                        f.fixed_version,
                        f.vulnerability,
                        json_text(&f.aliases),
                        f.severity.as_str(),
                        rank(f.severity),
                        f.ecosystem,
                    ])?;
                }
            }
            Ok::<(), StoreError>(())
        })
    }

    /// The latest complete scan that read machines, if any.
    pub fn latest_machine_scan_id(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.id FROM scans s WHERE s.status = 'complete' AND EXISTS (SELECT 1 FROM machine_scans m WHERE m.scan_id = s.id) ORDER BY s.finished_at DESC, s.started_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The machines scan `scan_id` read, by ARN, with their findings.
    pub fn machine_scans(&self, scan_id: &str) -> Result<Vec<MachineScan>> {
        let mut stmt = self.conn.prepare(
            "SELECT resource, source, snapshot, scanned_at, os, packages_scanned, secrets, errors, match_errors FROM machine_scans WHERE scan_id = ?1 ORDER BY resource",
        )?;
        let rows: Vec<MachineRow> = stmt
            .query_map(params![scan_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect::<crate::db::DbResult<_>>()?;
        let mut findings = self.findings_by_machine(scan_id, &MachineFindingFilter::default())?;
        rows.into_iter()
            .map(
                |(
                    resource,
                    source,
                    snapshot,
                    scanned_at,
                    os,
                    packages,
                    secrets,
                    errors,
                    match_errors,
                )| {
                    Ok(MachineScan {
                        match_errors: parse_json("machine_scans.match_errors", &match_errors)?,
                        source: MachineSource::parse(&source).ok_or_else(|| {
                            StoreError::Corrupt {
                                column: "machine_scans.source",
                                reason: format!("unknown source `{source}`"),
                            }
                        })?,
                        findings: findings.remove(&resource).unwrap_or_default(),
                        resource,
                        snapshot,
                        scanned_at: parse_time("machine_scans.scanned_at", &scanned_at)?,
                        os: os.map(|o| parse_json("machine_scans.os", &o)).transpose()?,
                        packages_scanned: u64::try_from(packages).unwrap_or(0),
                        secrets: parse_json("machine_scans.secrets", &secrets)?,
                        errors: parse_json("machine_scans.errors", &errors)?,
                    })
                },
            )
            .collect()
    }

    /// The newest stored result of each machine across complete scans, by
    /// ARN (what decides whether a machine is due for a new scan, and what
    /// a scan that skips it reports).
    pub fn latest_machine_results(&self) -> Result<BTreeMap<String, (String, MachineScan)>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.scan_id, m.resource FROM machine_scans m JOIN scans s ON s.id = m.scan_id WHERE s.status = 'complete' AND m.scanned_at = (SELECT MAX(m2.scanned_at) FROM machine_scans m2 JOIN scans s2 ON s2.id = m2.scan_id WHERE m2.resource = m.resource AND s2.status = 'complete')",
        )?;
        let pairs: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<crate::db::DbResult<_>>()?;
        let mut by_scan: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (scan, resource) in pairs {
            by_scan.entry(scan).or_default().push(resource);
        }
        let mut out = BTreeMap::new();
        for (scan, resources) in by_scan {
            for m in self.machine_scans(&scan)? {
                if resources.contains(&m.resource) {
                    out.insert(m.resource.clone(), (scan.clone(), m));
                }
            }
        }
        Ok(out)
    }

    /// The machines of scan `scan_id` with a finding for `vulnerability`
    /// (an advisory id or one of its aliases), by ARN.
    pub fn machines_with_vulnerability(
        &self,
        scan_id: &str,
        vulnerability: &str,
    ) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT resource FROM machine_findings WHERE scan_id = ?1 AND (vulnerability = ?2 OR EXISTS (SELECT 1 FROM json_each(aliases) WHERE value = ?2)) ORDER BY resource",
        )?;
        let rows = stmt
            .query_map(params![scan_id, vulnerability], |r| r.get(0))?
            .collect::<crate::db::DbResult<_>>()?;
        Ok(rows)
    }

    /// Scan `scan_id`'s findings matching `filter`, as `(machine ARN,
    /// finding)`, ordered by machine then as the scan found them.
    pub fn machine_findings(
        &self,
        scan_id: &str,
        filter: &MachineFindingFilter,
    ) -> Result<Vec<(String, VulnerabilityFinding)>> {
        let mut sql = String::from(
            "SELECT resource, package, source_package, installed_version, fixed_version, vulnerability, aliases, severity, ecosystem FROM machine_findings WHERE scan_id = ?1",
        );
        let mut args: Vec<crate::db::Value> = vec![scan_id.to_owned().into()];
        if let Some(v) = &filter.vulnerability {
            args.push(v.clone().into());
            let n = args.len();
            sql.push_str(&format!(
                " AND (vulnerability = ?{n} OR EXISTS (SELECT 1 FROM json_each(aliases) WHERE value = ?{n}))"
            ));
        }
        if let Some(p) = &filter.package {
            args.push(p.clone().into());
            let n = args.len();
            sql.push_str(&format!(" AND (package = ?{n} OR source_package = ?{n})"));
        }
        if let Some(s) = filter.min_severity {
            args.push(rank(s).into());
            sql.push_str(&format!(" AND severity_rank >= ?{}", args.len()));
        }
        if let Some(r) = &filter.resource {
            args.push(r.clone().into());
            sql.push_str(&format!(" AND resource = ?{}", args.len()));
        }
        sql.push_str(" ORDER BY resource, ordinal");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows: Vec<FindingRow> = stmt
            .query_map(crate::db::params_from_iter(args), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect::<crate::db::DbResult<_>>()?;
        rows.into_iter()
            .map(
                |(
                    resource,
                    package,
                    source_package,
                    installed_version,
                    fixed_version,
                    vulnerability,
                    aliases,
                    severity,
                    ecosystem,
                )| {
                    Ok((
                        resource,
                        VulnerabilityFinding {
                            package,
                            source_package,
                            installed_version,
                            fixed_version,
                            vulnerability,
                            aliases: parse_json("machine_findings.aliases", &aliases)?,
                            severity: VulnerabilitySeverity::parse(&severity).ok_or_else(|| {
                                StoreError::Corrupt {
                                    column: "machine_findings.severity",
                                    reason: format!("unknown severity `{severity}`"),
                                }
                            })?,
                            ecosystem,
                        },
                    ))
                },
            )
            .collect()
    }

    fn findings_by_machine(
        &self,
        scan_id: &str,
        filter: &MachineFindingFilter,
    ) -> Result<BTreeMap<String, Vec<VulnerabilityFinding>>> {
        let mut out: BTreeMap<String, Vec<VulnerabilityFinding>> = BTreeMap::new();
        for (resource, finding) in self.machine_findings(scan_id, filter)? {
            out.entry(resource).or_default().push(finding);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use rampart_model::machine::{OsRelease, SecretFinding};
    use rampart_model::{ScanRecord, ScanStatus};
    use time::macros::datetime;

    use super::*;

    fn finding(
        pkg: &str,
        id: &str,
        alias: &str,
        sev: VulnerabilitySeverity,
    ) -> VulnerabilityFinding {
        VulnerabilityFinding {
            package: pkg.into(),
            source_package: Some(format!("{pkg}-src")),
            installed_version: "1.0-1".into(),
            fixed_version: Some("1.0-2".into()),
            vulnerability: id.into(),
            aliases: vec![alias.into()],
            severity: sev,
            ecosystem: "Debian:12".into(),
        }
    }

    fn machine(id: &str, findings: Vec<VulnerabilityFinding>) -> MachineScan {
        MachineScan {
            match_errors: Vec::new(),
            source: MachineSource::Disk,
            resource: format!("arn:aws:ec2:us-east-1:123456789012:instance/{id}"),
            snapshot: Some(format!("snap-{id}")),
            scanned_at: datetime!(2026-01-01 00:00:00 UTC),
            os: Some(OsRelease {
                id: "debian".into(),
                version_id: Some("12".into()),
                ..OsRelease::default()
            }),
            packages_scanned: 10,
            findings,
            secrets: vec![SecretFinding {
                path: "/root/.aws/credentials".into(),
                kind: "aws-access-key".into(),
                fingerprint: "sha256:00".into(),
            }],
            errors: vec![],
        }
    }

    fn scan(store: &Store, id: &str) {
        store
            .begin_scan(&ScanRecord {
                id: id.into(),
                started_at: datetime!(2026-01-01 00:00:00 UTC),
                finished_at: None,
                status: ScanStatus::Running,
                accounts: vec!["123456789012".into()],
                regions: vec!["us-east-1".into()],
                api_calls: 0,
                asset_count: 0,
                gap_count: 0,
            })
            .unwrap();
    }

    #[test]
    fn machine_scans_round_trip_and_queries() {
        let mut store = crate::test_store();
        scan(&store, "s1");
        let a = machine(
            "i-a",
            vec![
                finding(
                    "libssl3",
                    "DSA-1",
                    "CVE-2024-0001",
                    VulnerabilitySeverity::Critical,
                ),
                finding(
                    "zlib1g",
                    "DSA-2",
                    "CVE-2024-0002",
                    VulnerabilitySeverity::Low,
                ),
            ],
        );
        let b = machine(
            "i-b",
            vec![finding(
                "zlib1g",
                "DSA-2",
                "CVE-2024-0002",
                VulnerabilitySeverity::Low,
            )],
        );
        store
            .put_machine_scans("s1", &[a.clone(), b.clone()])
            .unwrap();
        // Not complete yet: not the latest machine scan.
        assert_eq!(store.latest_machine_scan_id().unwrap(), None);
        store
            .conn
            .execute("UPDATE scans SET status = 'complete', finished_at = '2026-01-01T00:01:00Z' WHERE id = 's1'", [])
            .unwrap();
        assert_eq!(
            store.latest_machine_scan_id().unwrap().as_deref(),
            Some("s1")
        );
        assert_eq!(
            store.machine_scans("s1").unwrap(),
            vec![a.clone(), b.clone()]
        );
        assert_eq!(
            store
                .machines_with_vulnerability("s1", "CVE-2024-0002")
                .unwrap(),
            vec![a.resource.clone(), b.resource.clone()]
        );
        assert_eq!(
            store.machines_with_vulnerability("s1", "DSA-1").unwrap(),
            vec![a.resource.clone()]
        );
        let high = store
            .machine_findings(
                "s1",
                &MachineFindingFilter {
                    min_severity: Some(VulnerabilitySeverity::High),
                    ..MachineFindingFilter::default()
                },
            )
            .unwrap();
        assert_eq!(high.len(), 1);
        assert_eq!(high[0].1.vulnerability, "DSA-1");
        let by_source = store
            .machine_findings(
                "s1",
                &MachineFindingFilter {
                    package: Some("zlib1g-src".into()),
                    ..MachineFindingFilter::default()
                },
            )
            .unwrap();
        assert_eq!(by_source.len(), 2);
        let latest = store.latest_machine_results().unwrap();
        assert_eq!(latest.len(), 2);
        assert_eq!(latest[&a.resource].0, "s1");
        assert_eq!(latest[&a.resource].1, a);
    }
}
