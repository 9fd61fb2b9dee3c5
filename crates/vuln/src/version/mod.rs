//! Version comparison as each package manager does it.
//!
//! - [`dpkg`]: Debian and Ubuntu (`dpkg --compare-versions`), written here
//!   (see the crate README for why not the `debversion` crate).
//! - RPM: `rpmvercmp` on epoch, version and release, through the
//!   maintained [`rpm_version`] crate.
//! - [`apk`]: Alpine's `apk version -t`, written here (no maintained
//!   pure-Rust crate exists).

pub mod apk;
pub mod dpkg;

use std::cmp::Ordering;

use rampart_model::machine::PackageFormat;

/// Which package manager's rules order two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionScheme {
    /// dpkg: `[epoch:]upstream[-revision]`.
    Dpkg,
    /// rpmvercmp: `[epoch:]version[-release]`.
    Rpm,
    /// apk: `{digit}{.digit}…{letter}{_suffix{n}}…{-rN}`.
    Apk,
}

impl VersionScheme {
    /// The scheme of a package format.
    pub fn of(format: PackageFormat) -> Self {
        match format {
            PackageFormat::Deb => Self::Dpkg,
            PackageFormat::Rpm => Self::Rpm,
            PackageFormat::Apk => Self::Apk,
        }
    }

    /// Orders `a` against `b`.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::Dpkg => dpkg::compare(a, b),
            Self::Rpm => rpm_compare(a, b),
            Self::Apk => apk::compare(a, b),
        }
    }
}

/// Orders two RPM `[epoch:]version[-release]` strings as rpm does (a
/// missing epoch is `0`).
pub fn rpm_compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    rpm_version::Evr::parse(a.trim()).cmp(&rpm_version::Evr::parse(b.trim()))
}

/// Orders two bare RPM version (or release) fields with `rpmvercmp`, as
/// `rpm.vercmp()` does.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    rpm_version::Evr::new("", a, "").cmp(&rpm_version::Evr::new("", b, ""))
}
