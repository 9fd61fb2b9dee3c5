//! apk (Alpine): `/lib/apk/db/installed`.

use rampart_disk::FileTree;
use rampart_model::machine::{InstalledPackage, PackageFormat};

use super::{FoundPackages, read_db, stanzas};
use crate::MachineError;

const INSTALLED: &str = "/lib/apk/db/installed";

pub(super) fn read(tree: &dyn FileTree, limit: u64, found: &mut FoundPackages) {
    match read_db(tree, INSTALLED, limit) {
        Ok(Some(bytes)) => match parse_installed(&String::from_utf8_lossy(&bytes)) {
            Ok(packages) => found.add(INSTALLED, PackageFormat::Apk, packages),
            Err(detail) => found.errors.push(MachineError::parse(INSTALLED, detail)),
        },
        Ok(None) => {}
        Err(e) => found.errors.push(e),
    }
}

/// Parses apk's installed database: one stanza per package, one-letter
/// fields (`P:` name, `V:` version, `A:` architecture, `o:` origin — the
/// source package).
pub(crate) fn parse_installed(text: &str) -> Result<Vec<InstalledPackage>, String> {
    let mut out = Vec::new();
    for (index, stanza) in stanzas(text).enumerate() {
        let (mut name, mut version, mut arch, mut origin) = (None, None, None, None);
        for line in stanza.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key {
                "P" => name = Some(value),
                "V" => version = Some(value),
                "A" => arch = Some(value),
                "o" => origin = Some(value),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            return Err(format!("entry {} has no `P:` or `V:`", index + 1));
        };
        if name.is_empty() || version.is_empty() {
            return Err(format!("entry {} has an empty `P:` or `V:`", index + 1));
        }
        out.push(InstalledPackage {
            name: name.to_owned(),
            version: version.to_owned(),
            format: PackageFormat::Apk,
            source_name: Some(origin.filter(|o| !o.is_empty()).unwrap_or(name).to_owned()),
            source_version: None,
            arch: arch.filter(|a| !a.is_empty()).map(str::to_owned),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_with_origins() -> Result<(), String> {
        let text = "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nF:lib\nR:libcrypto.so.3\n\n\
                    C:Q1def=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\n";
        let p = parse_installed(text)?;
        assert_eq!(p.len(), 2);
        assert_eq!(
            p.first().and_then(|p| p.source_name.as_deref()),
            Some("openssl")
        );
        assert_eq!(
            p.get(1).and_then(|p| p.source_name.as_deref()),
            Some("musl")
        );
        Ok(())
    }
}
