//! The OSV record format (<https://ossf.github.io/osv-schema/>), the
//! fields Rampart reads, and [`Advisory`], one record's entry for one
//! package in one ecosystem: what the store keeps and the index matches.

use rampart_model::machine::VulnerabilitySeverity;
use serde::{Deserialize, Serialize};

use crate::severity;

/// One OSV record as the dumps write it. Fields Rampart does not read
/// (`details`, `references`, `credits`, …) are skipped when parsing.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct OsvRecord {
    /// The advisory id (`DSA-5678-1`, `DEBIAN-CVE-2024-0727`, `ALSA-2024:1234`).
    pub id: String,
    /// When the record last changed (RFC 3339).
    #[serde(default)]
    pub modified: Option<String>,
    /// When it was published.
    #[serde(default)]
    pub published: Option<String>,
    /// When it was withdrawn; a withdrawn record matches nothing.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids for the same vulnerability.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Upstream ids (the `CVE-…` a `DEBIAN-CVE-…` or `UBUNTU-CVE-…` record
    /// is about).
    #[serde(default)]
    pub upstream: Vec<String>,
    /// One-line summary (`Important: openssl security update`).
    #[serde(default)]
    pub summary: Option<String>,
    /// Severities of the whole record.
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    /// The packages affected.
    #[serde(default)]
    pub affected: Vec<OsvAffected>,
    /// The database's own fields (Red Hat-family dumps put a `severity`
    /// here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity: a CVSS vector, or a distribution's own rating (`type`
/// `Ubuntu`, score `medium`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OsvSeverity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or rating.
    pub score: String,
}

/// One affected package.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct OsvAffected {
    /// Which package, in which ecosystem.
    pub package: OsvPackage,
    /// Severities for this package alone.
    #[serde(default)]
    pub severity: Vec<OsvSeverity>,
    /// Affected version ranges.
    #[serde(default)]
    pub ranges: Vec<OsvRange>,
    /// Affected versions, listed one by one.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Ecosystem fields: Debian's `urgency`, Ubuntu's `binaries`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A package in an ecosystem.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OsvPackage {
    /// The ecosystem as OSV writes it (`Debian:12`, `Ubuntu:22.04:LTS`,
    /// `Alpine:v3.19`, `Rocky Linux:9`, `Red Hat:enterprise_linux:9::baseos`).
    #[serde(default)]
    pub ecosystem: String,
    /// The package name (a source package for Debian, Ubuntu, Alpine).
    #[serde(default)]
    pub name: String,
    /// Its package URL, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A range of affected versions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OsvRange {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`; only `ECOSYSTEM` ranges order
    /// package versions and are matched.
    #[serde(rename = "type")]
    pub kind: String,
    /// The timeline of the range.
    #[serde(default)]
    pub events: Vec<OsvEvent>,
}

/// One event of a range: exactly one of the four kinds, as OSV requires
/// (`{"introduced": "0"}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    /// Versions from this one on are affected (`0`: from the first).
    Introduced(String),
    /// Versions from this one on are fixed.
    Fixed(String),
    /// The last affected version; later ones are not.
    LastAffected(String),
    /// Versions from this one on are outside the range (`*`: no limit).
    Limit(String),
}

impl OsvEvent {
    /// The event's version.
    pub fn version(&self) -> &str {
        match self {
            Self::Introduced(v) | Self::Fixed(v) | Self::LastAffected(v) | Self::Limit(v) => v,
        }
    }
}

/// One record's advice for one package in one ecosystem, trimmed to what
/// matching reads. This is the JSON the store keeps per
/// (ecosystem, package, id).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Advisory {
    /// The record id.
    pub id: String,
    /// The ecosystem (`Debian:12`).
    pub ecosystem: String,
    /// The package the record names.
    pub package: String,
    /// When the record last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Aliases and upstream ids (`CVE-…`), deduplicated, in record order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The record's summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity, decided when the record was read (see [`severity`]).
    pub severity: VulnerabilitySeverity,
    /// The `ECOSYSTEM` ranges' events, one list per range.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Vec<OsvEvent>>,
    /// Affected versions listed one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

impl OsvRecord {
    /// Parses one record.
    pub fn from_json(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Whether the record was withdrawn. Debian's converter writes the
    /// zero instant (`0001-01-01T00:00:00Z`) where there is no date, which
    /// is not a withdrawal.
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn
            .as_deref()
            .is_some_and(|w| !w.is_empty() && !w.starts_with("0001-01-01"))
    }

    /// The record's advisories, one per (ecosystem, package), in the order
    /// the record lists them; entries naming the same package twice are
    /// merged. A withdrawn record has none; entries without an ecosystem
    /// or a name are skipped.
    pub fn advisories(&self) -> Vec<Advisory> {
        if self.is_withdrawn() {
            return Vec::new();
        }
        let mut aliases: Vec<String> = Vec::new();
        for alias in self.aliases.iter().chain(&self.upstream) {
            if alias != &self.id && !aliases.contains(alias) {
                aliases.push(alias.clone());
            }
        }
        let mut out: Vec<Advisory> = Vec::new();
        for affected in &self.affected {
            let package = &affected.package;
            if package.ecosystem.is_empty() || package.name.is_empty() {
                continue;
            }
            let ranges = affected
                .ranges
                .iter()
                .filter(|r| r.kind == "ECOSYSTEM")
                .map(|r| r.events.clone());
            let severity = severity::resolve(self, affected);
            if let Some(existing) = out
                .iter_mut()
                .find(|a| a.ecosystem == package.ecosystem && a.package == package.name)
            {
                existing.ranges.extend(ranges);
                for v in &affected.versions {
                    if !existing.versions.contains(v) {
                        existing.versions.push(v.clone());
                    }
                }
                existing.severity = existing.severity.max(severity);
                continue;
            }
            out.push(Advisory {
                id: self.id.clone(),
                ecosystem: package.ecosystem.clone(),
                package: package.name.clone(),
                modified: self.modified.clone(),
                aliases: aliases.clone(),
                summary: self.summary.clone(),
                severity,
                ranges: ranges.collect(),
                versions: affected.versions.clone(),
            });
        }
        out
    }
}

/// The source an ecosystem belongs to: the part before the first `:`
/// (`Debian` for `Debian:12`, `Red Hat` for `Red Hat:enterprise_linux:9::baseos`).
pub fn ecosystem_source(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}
