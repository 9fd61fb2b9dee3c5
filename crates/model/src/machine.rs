//! What agentless machine scanning finds inside a machine's disks: its
//! operating system, installed packages, vulnerability findings and secrets
//! (contract `rampart.vulnerabilities/v1`).
//!
//! The field names are the contract's: add fields freely, never rename or
//! remove one. Package lists read from a disk and package lists reported by
//! SSM inventory are both [`InstalledPackage`]s, so one matcher serves both.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The schema name of the vulnerabilities export.
pub const VULNERABILITIES_SCHEMA: &str = "rampart.vulnerabilities/v1";

/// The operating system a machine runs, from its `/etc/os-release` (or
/// SSM's `AWS:InstanceInformation`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`debian`, `ubuntu`, `alpine`, `amzn`, `rhel`, `rocky`, …).
    pub id: String,
    /// `VERSION_ID` (`12`, `22.04`, `3.19.1`, `2023`, …).
    #[serde(default)]
    pub version_id: Option<String>,
    /// `PRETTY_NAME`.
    #[serde(default)]
    pub pretty_name: Option<String>,
    /// `ID_LIKE`, split on spaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// `VERSION_CODENAME` (`bookworm`, `jammy`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_codename: Option<String>,
}

/// The package manager a package was installed by, which decides how its
/// versions compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageFormat {
    /// dpkg (Debian, Ubuntu): versions compare as dpkg does.
    Deb,
    /// RPM (Amazon Linux, Red Hat family, SUSE): rpmvercmp.
    Rpm,
    /// apk (Alpine).
    Apk,
}

/// One package installed on a machine.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstalledPackage {
    /// The binary package's name (`libssl3`).
    pub name: String,
    /// Its installed version as the package manager writes it, epoch
    /// included (`1:2.3-4`, `3.0.11-1~deb12u1`, `3.0.8-1.amzn2023.0.4`).
    pub version: String,
    /// The package manager.
    pub format: PackageFormat,
    /// The source package it was built from, when it differs or is known
    /// (Debian advisories name source packages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The source package's version, when it differs from `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// Architecture (`amd64`, `x86_64`, `noarch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
}

/// How severe a vulnerability finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VulnerabilitySeverity {
    /// No severity in the advisory.
    Unknown,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl VulnerabilitySeverity {
    /// The name used in output (`critical`, …, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses [`VulnerabilitySeverity::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Unknown,
            Self::Low,
            Self::Medium,
            Self::High,
            Self::Critical,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One vulnerable package on one machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityFinding {
    /// The installed (binary) package's name.
    pub package: String,
    /// The source package the advisory names, when known.
    #[serde(default)]
    pub source_package: Option<String>,
    /// The installed version.
    pub installed_version: String,
    /// The first fixed version, when the advisory has one.
    #[serde(default)]
    pub fixed_version: Option<String>,
    /// The advisory id as the vulnerability database writes it (OSV `id`).
    pub vulnerability: String,
    /// The advisory's OSV aliases (`CVE-…`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Severity.
    pub severity: VulnerabilitySeverity,
    /// The OSV ecosystem the advisory is for (`Debian:12`).
    pub ecosystem: String,
}

/// A secret left on a machine's disk, reported by location, kind and
/// fingerprint; the secret's value never leaves the scanner.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecretFinding {
    /// Absolute path inside the machine's filesystem.
    pub path: String,
    /// What kind of secret (`aws-access-key`, `private-key`, …).
    pub kind: String,
    /// `sha256:<hex>` of the secret, never the secret itself.
    pub fingerprint: String,
}

/// Where a machine's package list came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MachineSource {
    /// Its disk, read from a snapshot: packages and secrets.
    #[default]
    Disk,
    /// The Servers plan's SSM software inventory: packages only (secrets
    /// are not assessed; the disk was not read).
    SsmInventory,
}

impl MachineSource {
    /// The name used in output (`disk`, `ssm-inventory`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disk => "disk",
            Self::SsmInventory => "ssm-inventory",
        }
    }

    /// Parses [`MachineSource::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Disk, Self::SsmInventory]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What one scan of one machine found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineScan {
    /// The machine's ARN (the EC2 instance; a snapshot's ARN for a
    /// single-snapshot scan).
    pub resource: String,
    /// Where the package list came from (`disk` when absent: documents
    /// written before this field existed).
    #[serde(default)]
    pub source: MachineSource,
    /// The snapshot read, when the packages came from a disk.
    #[serde(default)]
    pub snapshot: Option<String>,
    /// When the machine was scanned.
    #[serde(with = "time::serde::rfc3339")]
    pub scanned_at: OffsetDateTime,
    /// Its operating system, when found.
    #[serde(default)]
    pub os: Option<OsRelease>,
    /// How many installed packages were matched.
    pub packages_scanned: u64,
    /// Vulnerable packages.
    #[serde(default)]
    pub findings: Vec<VulnerabilityFinding>,
    /// Secrets on disk.
    #[serde(default)]
    pub secrets: Vec<SecretFinding>,
    /// What could not be read. A machine with errors and no findings was
    /// not read, never clean.
    #[serde(default)]
    pub errors: Vec<String>,
    /// Why the packages read could not be matched (no advisories imported
    /// for the OS, no vulnerability database): the disk was read, its
    /// secrets are assessed, its vulnerabilities are not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_errors: Vec<String>,
}

impl MachineScan {
    /// Disk read errors and package matching errors together: a machine
    /// with any of them and no finding is not known to be clean.
    pub fn problems(&self) -> Vec<String> {
        self.errors
            .iter()
            .chain(&self.match_errors)
            .cloned()
            .collect()
    }
}

/// The vulnerability database a document's findings came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerabilityDbSummary {
    /// The sources imported (`Debian`, `Alpine`, …).
    pub sources: Vec<String>,
    /// When the newest import finished (RFC 3339), if any.
    #[serde(default)]
    pub imported_at: Option<String>,
    /// Advisory records held.
    pub records: u64,
}

/// The `rampart.vulnerabilities/v1` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilitiesDocument {
    /// Always [`VULNERABILITIES_SCHEMA`].
    pub schema: String,
    /// When the document was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The vulnerability database used.
    pub vulnerability_db: VulnerabilityDbSummary,
    /// One entry per machine scanned.
    pub machines: Vec<MachineScan>,
}

impl VulnerabilitiesDocument {
    /// A document holding `machines`, made at `generated_at`.
    pub fn new(
        generated_at: OffsetDateTime,
        vulnerability_db: VulnerabilityDbSummary,
        machines: Vec<MachineScan>,
    ) -> Self {
        Self {
            schema: VULNERABILITIES_SCHEMA.to_owned(),
            generated_at,
            vulnerability_db,
            machines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_has_the_contract_fields() -> Result<(), serde_json::Error> {
        let machine = MachineScan {
            match_errors: Vec::new(),
            source: MachineSource::Disk,
            resource: "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc".to_owned(),
            snapshot: Some("snap-0123".to_owned()),
            scanned_at: OffsetDateTime::UNIX_EPOCH,
            os: Some(OsRelease {
                id: "debian".to_owned(),
                version_id: Some("12".to_owned()),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
                ..OsRelease::default()
            }),
            packages_scanned: 1,
            findings: vec![VulnerabilityFinding {
                package: "libssl3".to_owned(),
                source_package: Some("openssl".to_owned()),
                installed_version: "3.0.11-1~deb12u1".to_owned(),
                fixed_version: Some("3.0.13-1~deb12u1".to_owned()),
                vulnerability: "DSA-5678-1".to_owned(),
                aliases: vec!["CVE-2024-0727".to_owned()],
                severity: VulnerabilitySeverity::Critical,
                ecosystem: "Debian:12".to_owned(),
            }],
            secrets: vec![],
            errors: vec![],
        };
        let doc = VulnerabilitiesDocument::new(
            OffsetDateTime::UNIX_EPOCH,
            VulnerabilityDbSummary::default(),
            vec![machine],
        );
        let json = serde_json::to_value(&doc)?;
        assert_eq!(json["schema"], VULNERABILITIES_SCHEMA);
        let m = &json["machines"][0];
        for key in [
            "resource",
            "snapshot",
            "scanned_at",
            "os",
            "packages_scanned",
            "findings",
            "secrets",
            "errors",
        ] {
            assert!(m.get(key).is_some(), "missing `{key}`");
        }
        assert_eq!(m["findings"][0]["severity"], "critical");
        assert_eq!(m["os"]["version_id"], "12");
        let back: VulnerabilitiesDocument = serde_json::from_value(json)?;
        assert_eq!(back, doc);
        Ok(())
    }
}
