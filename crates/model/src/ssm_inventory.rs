//! Software inventory reported by SSM, as a vulnerability matcher needs it.
//!
//! The SSM collector keeps one [`crate::types::SSM_INSTANCE_INVENTORY`]
//! asset per managed instance: the OS from `AWS:InstanceInformation`
//! (`os.name`, `os.version`, `os.platformType`) and the packages from
//! `AWS:Application` (`applications[]` with `name`, `version`, `release`,
//! `epoch`, `architecture`, `publisher`, `packageId`). [`os_release`] and
//! [`installed_packages`] turn those properties into the same
//! [`OsRelease`] and [`InstalledPackage`]s a disk scan yields, so one
//! matcher serves both.

use serde_json::Value;

use crate::machine::{InstalledPackage, OsRelease, PackageFormat};

/// The `os-release` `ID` for SSM's platform name, when Rampart knows it.
fn os_id(platform_name: &str) -> Option<&'static str> {
    let name = platform_name.to_ascii_lowercase();
    let known: [(&str, &str); 11] = [
        ("amazon linux", "amzn"),
        ("ubuntu", "ubuntu"),
        ("debian", "debian"),
        ("red hat", "rhel"),
        ("rhel", "rhel"),
        ("centos", "centos"),
        ("rocky", "rocky"),
        ("almalinux", "almalinux"),
        ("oracle", "ol"),
        ("suse", "sles"),
        ("sles", "sles"),
    ];
    known
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map(|(_, id)| *id)
}

fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The OS of an inventory asset's properties (`os.name` / `os.version`),
/// when SSM reported one Rampart can name (`None` for Windows and unknown
/// distributions).
pub fn os_release(properties: &Value) -> Option<OsRelease> {
    let os = properties.get("os")?;
    let name = text(os, "name")?;
    let id = os_id(name)?;
    Some(OsRelease {
        id: id.to_owned(),
        version_id: text(os, "version").map(str::to_owned),
        pretty_name: Some(
            [Some(name), text(os, "version")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        id_like: Vec::new(),
        version_codename: None,
    })
}

/// The package manager of one application: its `packageId`'s suffix
/// (`….rpm`, `….deb`), else the OS's.
fn format_of(app: &Value, os: Option<&OsRelease>) -> Option<PackageFormat> {
    if let Some(id) = text(app, "packageId") {
        if id.ends_with(".rpm") {
            return Some(PackageFormat::Rpm);
        }
        if id.ends_with(".deb") {
            return Some(PackageFormat::Deb);
        }
    }
    match os.map(|o| o.id.as_str()) {
        Some("ubuntu" | "debian") => Some(PackageFormat::Deb),
        Some("amzn" | "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "sles") => {
            Some(PackageFormat::Rpm)
        }
        _ => None,
    }
}

/// The installed packages of an inventory asset's properties, as a disk
/// scan would list them: versions as the package manager writes them
/// (`epoch:version-release`, the epoch only when not `0`). Applications of
/// no known package manager (Windows programs, unknown distributions) are
/// left out.
pub fn installed_packages(properties: &Value) -> Vec<InstalledPackage> {
    let os = os_release(properties);
    let Some(apps) = properties.get("applications").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut packages: Vec<InstalledPackage> = apps
        .iter()
        .filter_map(|app| {
            let name = text(app, "name")?;
            let format = format_of(app, os.as_ref())?;
            let mut version = text(app, "version")?.to_owned();
            if let Some(release) = text(app, "release")
                && !version.ends_with(&format!("-{release}"))
            {
                version = format!("{version}-{release}");
            }
            if let Some(epoch) = text(app, "epoch").filter(|e| *e != "0")
                && !version.contains(':')
            {
                version = format!("{epoch}:{version}");
            }
            Some(InstalledPackage {
                name: name.to_owned(),
                version,
                format,
                source_name: None,
                source_version: None,
                arch: text(app, "architecture").map(str::to_owned),
            })
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amazon_linux_rpms_with_epoch_and_release() {
        let props = json!({
            "os": {"name": "Amazon Linux", "version": "2023", "platformType": "Linux"},
            "applications": [
                {"name": "openssl-libs", "version": "3.0.8", "release": "1.amzn2023.0.4",
                 "epoch": "1", "architecture": "x86_64", "packageId": "openssl-libs-3.0.8-1.amzn2023.0.4.x86_64.rpm"},
                {"name": "bash", "version": "5.2.15", "release": "1.amzn2023.0.2", "epoch": "0",
                 "architecture": "x86_64"},
                {"name": "", "version": "1"},
            ],
        });
        let os = os_release(&props).unwrap_or_default();
        assert_eq!(os.id, "amzn");
        assert_eq!(os.version_id.as_deref(), Some("2023"));
        let packages = installed_packages(&props);
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].name, "bash");
        assert_eq!(packages[0].version, "5.2.15-1.amzn2023.0.2");
        assert_eq!(packages[0].format, PackageFormat::Rpm);
        assert_eq!(packages[1].version, "1:3.0.8-1.amzn2023.0.4");
        assert_eq!(packages[1].arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn debian_packages_and_windows_programs() {
        let deb = json!({
            "os": {"name": "Ubuntu", "version": "22.04"},
            "applications": [{"name": "libssl3", "version": "3.0.2-0ubuntu1.15", "architecture": "amd64"}],
        });
        let packages = installed_packages(&deb);
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].format, PackageFormat::Deb);
        assert_eq!(packages[0].version, "3.0.2-0ubuntu1.15");

        let windows = json!({
            "os": {"name": "Microsoft Windows Server 2022 Datacenter", "version": "10.0.20348"},
            "applications": [{"name": "7-Zip", "version": "23.01", "publisher": "Igor Pavlov"}],
        });
        assert_eq!(os_release(&windows), None);
        assert!(installed_packages(&windows).is_empty());
        assert!(installed_packages(&json!({})).is_empty());
    }
}
