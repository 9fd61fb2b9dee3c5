//! Realistic agentless machine scan results (`rampart.vulnerabilities/v1`
//! machines) for tests of every surface that shows them (exports, API,
//! dashboard): fixed ids and times, so outputs snapshot.
//!
//! Three machines: a Debian web server with two findings (one shared
//! advisory alias with the second machine) and a secret, an Alpine worker
//! in another account with the same CVE under another advisory id, and a
//! machine whose snapshot could not be read (errors, no findings — never
//! clean).

use std::path::Path;

use rampart_model::machine::{
    MachineScan, OsRelease, SecretFinding, VulnerabilityFinding, VulnerabilitySeverity,
};
use rampart_store::Store;
use time::macros::datetime;

/// The CVE both readable machines have.
pub const SHARED_CVE: &str = "CVE-2024-0727";
/// The Debian web server's ARN.
pub const WEB_ARN: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-0web0000000000001";
/// The Alpine worker's ARN (another account and region).
pub const WORKER_ARN: &str = "arn:aws:ec2:eu-west-1:210987654321:instance/i-0wrk0000000000002";
/// The machine whose disk could not be read.
pub const BROKEN_ARN: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-0bad0000000000003";

/// A Debian 12 web server: a critical OpenSSL advisory (alias
/// [`SHARED_CVE`]), a medium zlib one without a fixed version, and an AWS
/// access key left in a home directory.
pub fn web_server() -> MachineScan {
    MachineScan {
        match_errors: Vec::new(),
        source: rampart_model::machine::MachineSource::Disk,
        resource: WEB_ARN.into(),
        snapshot: Some("snap-0web0000000000001".into()),
        scanned_at: datetime!(2026-03-02 10:00:00 UTC),
        os: Some(OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            version_codename: Some("bookworm".into()),
            ..OsRelease::default()
        }),
        packages_scanned: 412,
        findings: vec![
            VulnerabilityFinding {
                package: "libssl3".into(),
                source_package: Some("openssl".into()),
                installed_version: "3.0.11-1~deb12u1".into(),
                fixed_version: Some("3.0.13-1~deb12u1".into()),
                vulnerability: "DSA-5678-1".into(),
                aliases: vec![SHARED_CVE.into(), "CVE-2023-6237".into()],
                severity: VulnerabilitySeverity::Critical,
                ecosystem: "Debian:12".into(),
            },
            VulnerabilityFinding {
                package: "zlib1g".into(),
                source_package: Some("zlib".into()),
                installed_version: "1:1.2.13.dfsg-1".into(),
                fixed_version: None,
                vulnerability: "DLA-3612-1".into(),
                aliases: vec!["CVE-2023-45853".into()],
                severity: VulnerabilitySeverity::Medium,
                ecosystem: "Debian:12".into(),
            },
        ],
        secrets: vec![SecretFinding {
            path: "/home/admin/.aws/credentials".into(),
            kind: "aws-access-key".into(),
            fingerprint: "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .into(),
        }],
        errors: vec![],
    }
}

/// An Alpine 3.19 worker in account 210987654321: [`SHARED_CVE`] under
/// Alpine's advisory id, high.
pub fn worker() -> MachineScan {
    MachineScan {
        match_errors: Vec::new(),
        source: rampart_model::machine::MachineSource::Disk,
        resource: WORKER_ARN.into(),
        snapshot: Some("snap-0wrk0000000000002".into()),
        scanned_at: datetime!(2026-03-02 10:05:00 UTC),
        os: Some(OsRelease {
            id: "alpine".into(),
            version_id: Some("3.19.1".into()),
            pretty_name: Some("Alpine Linux v3.19".into()),
            ..OsRelease::default()
        }),
        packages_scanned: 37,
        findings: vec![VulnerabilityFinding {
            package: "libcrypto3".into(),
            source_package: Some("openssl".into()),
            installed_version: "3.1.4-r2".into(),
            fixed_version: Some("3.1.4-r5".into()),
            vulnerability: format!("ALPINE-{SHARED_CVE}"),
            aliases: vec![SHARED_CVE.into()],
            severity: VulnerabilitySeverity::High,
            ecosystem: "Alpine:v3.19".into(),
        }],
        secrets: vec![],
        errors: vec![],
    }
}

/// A machine whose snapshot could not be read: errors, no operating
/// system, no packages, no findings.
pub fn unreadable() -> MachineScan {
    MachineScan {
        match_errors: Vec::new(),
        source: rampart_model::machine::MachineSource::Disk,
        resource: BROKEN_ARN.into(),
        snapshot: Some("snap-0bad0000000000003".into()),
        scanned_at: datetime!(2026-03-02 10:07:00 UTC),
        os: None,
        packages_scanned: 0,
        findings: vec![],
        secrets: vec![],
        errors: vec![
            "reading snapshot `snap-0bad0000000000003`: no partition with a filesystem Rampart reads"
                .into(),
        ],
    }
}

/// The three sample machines, ordered by ARN as the store returns them.
pub fn sample_machines() -> Vec<MachineScan> {
    let mut all = vec![web_server(), worker(), unreadable()];
    all.sort_by(|a, b| a.resource.cmp(&b.resource));
    all
}

/// Stores [`sample_machines`] as what scan `scan_id` (already stored)
/// read, in the store at `db`.
pub fn seed_machines(db: &Path, scan_id: &str) {
    let mut store =
        Store::open(db).unwrap_or_else(|e| panic!("cannot open store `{}`: {e}", db.display()));
    store
        .put_machine_scans(scan_id, &sample_machines())
        .unwrap_or_else(|e| panic!("cannot store the sample machines: {e}"));
}
