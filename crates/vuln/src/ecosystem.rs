//! Which OSV ecosystems describe a machine's operating system.
//!
//! OSV writes release-scoped ecosystems: `Debian:12`, `Ubuntu:22.04:LTS`
//! (`Ubuntu:24.10` for interim releases, `Ubuntu:Pro:22.04:LTS` for fixes
//! published only to Ubuntu Pro), `Alpine:v3.19`, `AlmaLinux:9`,
//! `Rocky Linux:9`, and for Red Hat a CPE-like product stream
//! (`Red Hat:enterprise_linux:9::baseos`, `…::appstream`). osv.dev
//! publishes no Amazon Linux ecosystem; records converted from ALAS
//! advisories are matched under `Amazon Linux:2` and `Amazon Linux:2023`.

use rampart_model::machine::{OsRelease, PackageFormat};

use crate::version::VersionScheme;

/// The ecosystems one operating system's advisories are in: exact names,
/// and prefixes (Red Hat's product streams).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcosystemSelection {
    /// Ecosystems matched by name (`Debian:12`).
    pub exact: Vec<String>,
    /// Ecosystems matched by prefix (`Red Hat:enterprise_linux:9::`).
    pub prefixes: Vec<String>,
    /// The package format of the operating system.
    pub format: PackageFormat,
}

impl EcosystemSelection {
    /// Whether `ecosystem` is one of the selection's.
    pub fn contains(&self, ecosystem: &str) -> bool {
        self.exact.iter().any(|e| e == ecosystem)
            || self
                .prefixes
                .iter()
                .any(|p| ecosystem.starts_with(p.as_str()))
    }

    /// How the selection's versions compare.
    pub fn scheme(&self) -> VersionScheme {
        VersionScheme::of(self.format)
    }

    /// A short label (`Debian:12`, `Red Hat:enterprise_linux:9::*`).
    pub fn label(&self) -> String {
        self.exact
            .iter()
            .cloned()
            .chain(self.prefixes.iter().map(|p| format!("{p}*")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The ecosystems for `os`, or `None` when no OSV ecosystem describes it
/// (an unknown distribution, or a release without `VERSION_ID`).
pub fn ecosystems_for(os: &OsRelease) -> Option<EcosystemSelection> {
    let version = os
        .version_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let major = || version.and_then(|v| v.split('.').next()).map(str::to_owned);
    let exact = |name: String, format| EcosystemSelection {
        exact: vec![name],
        prefixes: Vec::new(),
        format,
    };
    match os.id.trim().to_ascii_lowercase().as_str() {
        "debian" => {
            let release = major().or_else(|| {
                debian_release_of_codename(os.version_codename.as_deref()?).map(str::to_owned)
            })?;
            Some(exact(format!("Debian:{release}"), PackageFormat::Deb))
        }
        "ubuntu" => {
            let v = version?;
            let (year, month) = v.split_once('.')?;
            let lts = month.starts_with("04") && year.parse::<u32>().is_ok_and(|y| y % 2 == 0);
            let release = format!("{year}.{}", month.get(..2).unwrap_or(month));
            let name = if lts {
                format!("Ubuntu:{release}:LTS")
            } else {
                format!("Ubuntu:{release}")
            };
            Some(exact(name, PackageFormat::Deb))
        }
        "alpine" => {
            let v = version?;
            let mut parts = v.split('.');
            let (maj, min) = (parts.next()?, parts.next()?);
            Some(exact(format!("Alpine:v{maj}.{min}"), PackageFormat::Apk))
        }
        "almalinux" => Some(exact(format!("AlmaLinux:{}", major()?), PackageFormat::Rpm)),
        "rocky" => Some(exact(
            format!("Rocky Linux:{}", major()?),
            PackageFormat::Rpm,
        )),
        "rhel" => Some(EcosystemSelection {
            exact: Vec::new(),
            prefixes: vec![format!("Red Hat:enterprise_linux:{}::", major()?)],
            format: PackageFormat::Rpm,
        }),
        "amzn" => Some(exact(
            format!("Amazon Linux:{}", major()?),
            PackageFormat::Rpm,
        )),
        _ => None,
    }
}

/// The Debian release number of a codename (`bookworm` is 12).
pub fn debian_release_of_codename(codename: &str) -> Option<&'static str> {
    Some(match codename.trim() {
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// The [`OsRelease`] of an SSM inventory platform (`PlatformName`,
/// `PlatformVersion` of `AWS:InstanceInformation`): `Ubuntu` `22.04`,
/// `Amazon Linux` `2023`, `Debian GNU/Linux` `12`, `Red Hat Enterprise
/// Linux` `9.4`, `Rocky Linux` `9.3`, `AlmaLinux` `9.4`, `Alpine Linux`
/// `3.19.1`. `None` for other platforms.
pub fn os_release_of_platform(name: &str, version: &str) -> Option<OsRelease> {
    let lower = name.trim().to_ascii_lowercase();
    let id = if lower.starts_with("ubuntu") {
        "ubuntu"
    } else if lower.starts_with("amazon linux") {
        "amzn"
    } else if lower.starts_with("debian") {
        "debian"
    } else if lower.starts_with("red hat enterprise linux") {
        "rhel"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("alpine") {
        "alpine"
    } else {
        return None;
    };
    Some(OsRelease {
        id: id.to_owned(),
        version_id: Some(version.trim().to_owned()).filter(|v| !v.is_empty()),
        pretty_name: Some(format!("{} {}", name.trim(), version.trim())),
        ..OsRelease::default()
    })
}
