//! dpkg: `/var/lib/dpkg/status` and the one-file-per-package
//! `/var/lib/dpkg/status.d/` distroless images have.

use rampart_disk::{EntryKind, FileTree};
use rampart_model::machine::{InstalledPackage, PackageFormat};

use super::{FoundPackages, read_db, stanzas};
use crate::MachineError;

const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d";

pub(super) fn read(tree: &dyn FileTree, limit: u64, found: &mut FoundPackages) {
    match read_db(tree, STATUS, limit) {
        Ok(Some(bytes)) => {
            let text = String::from_utf8_lossy(&bytes);
            match parse_status(&text, false) {
                Ok(packages) => found.add(STATUS, PackageFormat::Deb, packages),
                Err(detail) => found.errors.push(MachineError::parse(STATUS, detail)),
            }
        }
        Ok(None) => {}
        Err(e) => found.errors.push(e),
    }
    let entries = match tree.read_dir(STATUS_D) {
        Ok(Some(entries)) => entries,
        Ok(None) => return,
        Err(e) => {
            found.errors.push(MachineError::read(STATUS_D, e));
            return;
        }
    };
    let mut packages = Vec::new();
    for entry in entries {
        // Distroless keeps `<name>` and `<name>.md5sums` side by side.
        if !matches!(entry.kind, EntryKind::File | EntryKind::Symlink) || entry.name.contains('.') {
            continue;
        }
        let path = format!("{STATUS_D}/{}", entry.name);
        match read_db(tree, &path, limit) {
            Ok(Some(bytes)) => match parse_status(&String::from_utf8_lossy(&bytes), true) {
                Ok(p) => packages.extend(p),
                Err(detail) => found.errors.push(MachineError::parse(&path, detail)),
            },
            Ok(None) => {}
            Err(e) => found.errors.push(e),
        }
    }
    found.add(STATUS_D, PackageFormat::Deb, packages);
}

/// Parses a dpkg status file. Only installed packages count (`Status:
/// install ok installed`, or `hold ok installed`); in `status.d` files,
/// which carry no `Status`, a stanza without one counts as installed.
pub(crate) fn parse_status(
    text: &str,
    status_optional: bool,
) -> Result<Vec<InstalledPackage>, String> {
    let mut out = Vec::new();
    for (index, stanza) in stanzas(text).enumerate() {
        let fields = fields(stanza);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        };
        let installed = match get("Status") {
            Some(status) => {
                let words: Vec<&str> = status.split_whitespace().collect();
                matches!(words.as_slice(), ["install" | "hold", "ok", "installed"])
            }
            None => status_optional,
        };
        if !installed {
            continue;
        }
        let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
            return Err(format!(
                "stanza {} has no `Package` or `Version`",
                index + 1
            ));
        };
        if name.is_empty() || version.is_empty() {
            return Err(format!(
                "stanza {} has an empty `Package` or `Version`",
                index + 1
            ));
        }
        let (source_name, source_version) = match get("Source") {
            Some(source) if !source.is_empty() => parse_source(source),
            _ => (name.to_owned(), None),
        };
        out.push(InstalledPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            format: PackageFormat::Deb,
            source_name: Some(source_name),
            source_version: source_version.filter(|v| v != version),
            arch: get("Architecture")
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
        });
    }
    Ok(out)
}

/// `Source: openssl (3.0.11-1~deb12u1)` → name and optional version.
fn parse_source(source: &str) -> (String, Option<String>) {
    match source.split_once('(') {
        Some((name, rest)) => {
            let version = rest.trim_end().trim_end_matches(')').trim();
            (
                name.trim().to_owned(),
                (!version.is_empty()).then(|| version.to_owned()),
            )
        }
        None => (source.trim().to_owned(), None),
    }
}

/// The fields of one stanza; continuation lines (starting with a space or
/// tab) belong to the field before them.
fn fields(stanza: &str) -> Vec<(&str, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    for line in stanza.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            out.push((key.trim(), value.trim().to_owned()));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "test assertions")]
mod tests {
    use super::*;

    #[test]
    fn only_installed_packages_with_sources_and_epochs() -> Result<(), String> {
        let text = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n\
                    Source: openssl\nVersion: 3.0.11-1~deb12u1\nDescription: SSL\n multi-line\n .\n Package: fake\n\n\
                    Package: perl-base\nStatus: hold ok installed\nVersion: 5.36.0-7\nSource: perl (5.36.0-7+b1)\n\n\
                    Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Package: bsdutils\nStatus: install ok installed\nVersion: 1:2.38.1-5+b1\nSource: util-linux (2.38.1-5)\n";
        let p = parse_status(text, false)?;
        let names: Vec<_> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["libssl3", "perl-base", "bsdutils"]);
        assert_eq!(p[0].source_name.as_deref(), Some("openssl"));
        assert_eq!(p[0].source_version, None);
        assert_eq!(p[1].source_version.as_deref(), Some("5.36.0-7+b1"));
        assert_eq!(p[2].version, "1:2.38.1-5+b1");
        assert_eq!(p[2].source_name.as_deref(), Some("util-linux"));
        assert_eq!(p[2].source_version.as_deref(), Some("2.38.1-5"));
        Ok(())
    }

    #[test]
    fn a_stanza_without_a_version_is_an_error() {
        assert!(parse_status("Package: x\nStatus: install ok installed\n", false).is_err());
    }
}
