//! [`VulnIndex`]: advisories keyed by package name, and matching installed
//! packages against them.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use rampart_model::machine::{InstalledPackage, OsRelease, PackageFormat, VulnerabilityFinding};

use crate::VulnError;
use crate::ecosystem::{EcosystemSelection, ecosystems_for};
use crate::osv::{Advisory, OsvEvent};
use crate::version::VersionScheme;

/// Advisories keyed by the package name they name, ready to match.
#[derive(Debug, Clone, Default)]
pub struct VulnIndex {
    advisories: Vec<Advisory>,
    by_package: BTreeMap<String, Vec<usize>>,
}

impl VulnIndex {
    /// An index of `advisories` (of any ecosystems; matching picks the
    /// machine's).
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> Self {
        let mut index = Self::default();
        for advisory in advisories {
            index.insert(advisory);
        }
        index
    }

    /// An index of advisories stored as JSON (the store's rows).
    pub fn from_json<'a>(rows: impl IntoIterator<Item = &'a str>) -> Result<Self, VulnError> {
        let mut index = Self::default();
        for row in rows {
            let advisory: Advisory = serde_json::from_str(row).map_err(|e| VulnError::Stored {
                reason: e.to_string(),
            })?;
            index.insert(advisory);
        }
        Ok(index)
    }

    /// Adds one advisory.
    pub fn insert(&mut self, advisory: Advisory) {
        let at = self.advisories.len();
        self.by_package
            .entry(advisory.package.clone())
            .or_default()
            .push(at);
        self.advisories.push(advisory);
    }

    /// How many advisories the index holds.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    /// Whether the index holds none.
    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Matches the packages installed on a machine running `os`. Fails
    /// when no OSV ecosystem describes `os` (the machine was not checked,
    /// which is never "no findings").
    pub fn match_packages(
        &self,
        os: &OsRelease,
        packages: &[InstalledPackage],
    ) -> Result<Vec<VulnerabilityFinding>, VulnError> {
        let selection = ecosystems_for(os).ok_or_else(|| VulnError::UnsupportedOs {
            os: describe_os(os),
        })?;
        Ok(self.match_in(&selection, packages))
    }

    /// Matches packages whose ecosystem was decided apart from them (SSM
    /// inventory lists packages; the operating system comes from the
    /// instance's information): only advisories of `selection`'s
    /// ecosystems count, versions compare by its package format, and
    /// packages of another format are skipped.
    ///
    /// A package matches an advisory naming its source package (compared
    /// at the source version when known) or, when the source is not known
    /// or the format is RPM (Red Hat-family records name binary RPMs too),
    /// its own name. Findings are sorted by package, advisory id and
    /// ecosystem, one per (package, advisory).
    pub fn match_in(
        &self,
        selection: &EcosystemSelection,
        packages: &[InstalledPackage],
    ) -> Vec<VulnerabilityFinding> {
        let scheme = selection.scheme();
        let mut findings = Vec::new();
        let mut seen: HashSet<(String, String, String)> = HashSet::new();
        for package in packages.iter().filter(|p| p.format == selection.format) {
            for (name, version) in candidate_names(package) {
                let Some(indices) = self.by_package.get(name) else {
                    continue;
                };
                let mut hits: Vec<&Advisory> = indices
                    .iter()
                    .filter_map(|&i| self.advisories.get(i))
                    .filter(|a| selection.contains(&a.ecosystem))
                    .collect();
                hits.sort_by(|a, b| a.ecosystem.cmp(&b.ecosystem).then(a.id.cmp(&b.id)));
                for advisory in hits {
                    let Some(verdict) = affects(scheme, advisory, version) else {
                        continue;
                    };
                    let key = (
                        package.name.clone(),
                        package.version.clone(),
                        advisory.id.clone(),
                    );
                    if !seen.insert(key) {
                        continue;
                    }
                    let source_package = if advisory.package != package.name {
                        Some(advisory.package.clone())
                    } else {
                        package.source_name.clone()
                    };
                    findings.push(VulnerabilityFinding {
                        package: package.name.clone(),
                        source_package,
                        installed_version: package.version.clone(),
                        fixed_version: verdict.fixed,
                        vulnerability: advisory.id.clone(),
                        aliases: advisory.aliases.clone(),
                        severity: advisory.severity,
                        ecosystem: advisory.ecosystem.clone(),
                    });
                }
            }
        }
        findings.sort_by(|a, b| {
            (
                &a.package,
                &a.installed_version,
                &a.vulnerability,
                &a.ecosystem,
            )
                .cmp(&(
                    &b.package,
                    &b.installed_version,
                    &b.vulnerability,
                    &b.ecosystem,
                ))
        });
        findings
    }
}

/// The names (and the version to compare at) a package is looked up by.
fn candidate_names(package: &InstalledPackage) -> Vec<(&str, &str)> {
    let own = (package.name.as_str(), package.version.as_str());
    match package.source_name.as_deref() {
        Some(source) if source != package.name => {
            let source_version = package
                .source_version
                .as_deref()
                .unwrap_or(&package.version);
            let mut names = vec![(source, source_version)];
            if package.format == PackageFormat::Rpm {
                names.push(own);
            }
            names
        }
        _ => vec![own],
    }
}

/// Why an advisory applies: the first fixed version above the installed
/// one, if the advisory has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The first fixed version newer than the installed one.
    pub fixed: Option<String>,
}

/// Whether `advisory` affects `version`: listed in `versions`, or inside
/// one of its `ECOSYSTEM` ranges. `None` when it does not.
pub fn affects(scheme: VersionScheme, advisory: &Advisory, version: &str) -> Option<Verdict> {
    let listed = advisory
        .versions
        .iter()
        .any(|v| v == version || scheme.compare(v, version) == Ordering::Equal);
    let in_range = advisory
        .ranges
        .iter()
        .any(|events| in_range(scheme, events, version));
    if !listed && !in_range {
        return None;
    }
    let fixed = advisory
        .ranges
        .iter()
        .flatten()
        .filter_map(|e| match e {
            OsvEvent::Fixed(f) if scheme.compare(f, version) == Ordering::Greater => Some(f),
            _ => None,
        })
        .min_by(|a, b| scheme.compare(a, b))
        .cloned();
    Some(Verdict { fixed })
}

/// OSV's range evaluation: events in version order (`introduced: "0"`
/// first, `limit: "*"` last); `introduced` at or below the version makes
/// it affected, `fixed` at or below and `last_affected` below make it not,
/// and a `limit` at or below ends the range.
pub fn in_range(scheme: VersionScheme, events: &[OsvEvent], version: &str) -> bool {
    let mut sorted: Vec<&OsvEvent> = events.iter().collect();
    sorted.sort_by(|a, b| order_events(scheme, a, b));
    let mut affected = false;
    for event in sorted {
        match event {
            OsvEvent::Introduced(v) => {
                if v == "0" || scheme.compare(version, v) != Ordering::Less {
                    affected = true;
                }
            }
            OsvEvent::Fixed(v) => {
                if scheme.compare(version, v) != Ordering::Less {
                    affected = false;
                }
            }
            OsvEvent::LastAffected(v) => {
                if scheme.compare(version, v) == Ordering::Greater {
                    affected = false;
                }
            }
            OsvEvent::Limit(v) => {
                if v != "*" && scheme.compare(version, v) != Ordering::Less {
                    return false;
                }
            }
        }
    }
    affected
}

fn order_events(scheme: VersionScheme, a: &OsvEvent, b: &OsvEvent) -> Ordering {
    // (rank of special values, version, kind): `introduced: "0"` sorts
    // first, `limit: "*"` last; at one version, introduced comes first.
    let key = |e: &OsvEvent| -> (i8, u8) {
        match e {
            OsvEvent::Introduced(v) if v == "0" => (-1, 0),
            OsvEvent::Introduced(_) => (0, 0),
            OsvEvent::Fixed(_) => (0, 1),
            OsvEvent::LastAffected(_) => (0, 2),
            OsvEvent::Limit(v) if v == "*" => (1, 3),
            OsvEvent::Limit(_) => (0, 3),
        }
    };
    let (ka, kb) = (key(a), key(b));
    ka.0.cmp(&kb.0)
        .then_with(|| {
            if ka.0 == 0 && kb.0 == 0 {
                scheme.compare(a.version(), b.version())
            } else {
                Ordering::Equal
            }
        })
        .then(ka.1.cmp(&kb.1))
}

fn describe_os(os: &OsRelease) -> String {
    match &os.version_id {
        Some(v) => format!("{} {v}", os.id),
        None => os.id.clone(),
    }
}
