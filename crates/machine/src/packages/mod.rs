//! Installed packages, from the package managers' own databases: dpkg,
//! RPM (SQLite and BerkeleyDB) and apk.

use rampart_disk::FileTree;
use rampart_model::machine::{InstalledPackage, PackageFormat};

use crate::MachineError;

mod apk;
mod dpkg;
mod rpm;

/// A package database that was read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackageDatabase {
    /// Its path on the machine.
    pub path: String,
    /// Which package manager wrote it.
    pub format: PackageFormat,
    /// How many installed packages it listed.
    pub packages: usize,
}

/// The installed packages of a machine, with the databases read and what
/// could not be read.
#[derive(Debug, Default)]
pub struct FoundPackages {
    /// Every installed package, sorted and deduplicated.
    pub packages: Vec<InstalledPackage>,
    /// The databases read.
    pub databases: Vec<PackageDatabase>,
    /// Databases (or entries) that could not be read.
    pub errors: Vec<MachineError>,
}

impl FoundPackages {
    fn add(&mut self, path: &str, format: PackageFormat, packages: Vec<InstalledPackage>) {
        self.databases.push(PackageDatabase {
            path: path.to_owned(),
            format,
            packages: packages.len(),
        });
        self.packages.extend(packages);
    }
}

/// Reads every package database on the machine. Databases larger than
/// `limit` bytes are errors.
pub fn installed_packages(tree: &dyn FileTree, limit: u64) -> FoundPackages {
    let mut found = FoundPackages::default();
    dpkg::read(tree, limit, &mut found);
    apk::read(tree, limit, &mut found);
    rpm::read(tree, limit, &mut found);
    found.packages.sort();
    found.packages.dedup();
    found
}

/// Reads a file through the tree, turning "too large" and I/O failures into
/// errors on the inventory.
pub(crate) fn read_db(
    tree: &dyn FileTree,
    path: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, MachineError> {
    tree.read_file(path, limit)
        .map_err(|e| MachineError::read(path, e))
}

/// Splits RFC 822-style stanzas (dpkg status, apk installed) separated by
/// blank lines.
pub(crate) fn stanzas(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n")
        .flat_map(|chunk| chunk.split("\r\n\r\n"))
        .map(|s| s.trim_matches(['\n', '\r']))
        .filter(|s| !s.trim().is_empty())
}
