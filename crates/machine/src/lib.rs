//! Rampart's machine inspection: what a machine's root filesystem says about
//! it — its operating system, its installed packages (and language packages
//! pinned by lock files) and the secrets left on it — read through a
//! [`FileTree`] and nothing else (no I/O of its own besides a private
//! temporary copy of SQLite package databases).
//!
//! [`inspect`] is the one entry point. Every file that could not be read and
//! every database that could not be parsed is an entry in
//! [`MachineInventory::errors`]: an inventory is never silently clean.
//!
//! Secrets are reported by path, kind and fingerprint (`sha256:<hex>` of the
//! secret's value); the value itself never leaves this crate, is never
//! logged, never put in an error or `Debug` output, and file contents are
//! zeroized once scanned.

use rampart_disk::FileTree;
use rampart_model::machine::{InstalledPackage, OsRelease, SecretFinding};

mod error;
mod languages;
mod os;
mod packages;
mod secrets;
mod walk;

pub use error::MachineError;
pub use languages::{FoundLanguagePackages, LanguagePackage, language_packages};
pub use os::{os_release, parse_os_release};
pub use packages::{FoundPackages, PackageDatabase, installed_packages};
pub use secrets::{Matcher, RULES, SecretRule, SecretScan, find_secrets, rules_markdown};

/// Limits on what inspecting one machine reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectOptions {
    /// Largest small metadata file read (`/etc/os-release`, release files).
    pub max_metadata_bytes: u64,
    /// Largest package database read (dpkg status, apk installed, rpmdb).
    pub max_package_db_bytes: u64,
    /// Largest file scanned for secrets; a larger candidate is an error.
    pub max_secret_file_bytes: u64,
    /// Most files scanned for secrets; reaching it is an error entry.
    pub max_secret_files: usize,
    /// How deep application directories (`/var/www`, `/opt`, `/srv`) are
    /// walked for `.env` files and keys.
    pub max_app_depth: usize,
    /// Most directories listed while walking application directories.
    pub max_app_dirs: usize,
    /// Largest lock file read.
    pub max_lock_file_bytes: u64,
    /// Most lock files read; more is an error entry.
    pub max_lock_files: usize,
    /// Whether to read language lock files.
    pub language_packages: bool,
    /// Whether to look for secrets at all.
    pub secrets: bool,
    /// Whether to report the SSH host keys under `/etc/ssh` (every machine
    /// has them; off by default).
    pub report_host_keys: bool,
}

impl Default for InspectOptions {
    fn default() -> Self {
        Self {
            max_metadata_bytes: 64 * 1024,
            max_package_db_bytes: 512 * 1024 * 1024,
            max_secret_file_bytes: 4 * 1024 * 1024,
            max_secret_files: 2_000,
            max_app_depth: 4,
            max_app_dirs: 2_000,
            max_lock_file_bytes: 32 * 1024 * 1024,
            max_lock_files: 500,
            language_packages: true,
            secrets: true,
            report_host_keys: false,
        }
    }
}

/// What one machine's file tree holds.
#[derive(Debug, Default)]
pub struct MachineInventory {
    /// The operating system, when a release file was found.
    pub os: Option<OsRelease>,
    /// Installed packages from every package database found, sorted.
    pub packages: Vec<InstalledPackage>,
    /// The package databases read, with how many packages each held.
    pub package_databases: Vec<PackageDatabase>,
    /// Language packages pinned by lock files in application directories
    /// and homes, sorted.
    pub language_packages: Vec<LanguagePackage>,
    /// How many lock files were read.
    pub lock_files_read: usize,
    /// Secrets found, sorted by path, kind and fingerprint.
    pub secrets: Vec<SecretFinding>,
    /// How many files were scanned for secrets.
    pub secret_files_scanned: u64,
    /// What could not be read or parsed (never means clean).
    pub errors: Vec<MachineError>,
}

impl MachineInventory {
    /// The errors as messages (for `MachineScan::errors`).
    pub fn error_messages(&self) -> Vec<String> {
        self.errors.iter().map(ToString::to_string).collect()
    }
}

/// Inspects a machine's root filesystem: operating system, installed
/// packages and (unless switched off) language packages and secrets.
pub fn inspect(tree: &dyn FileTree, options: &InspectOptions) -> MachineInventory {
    // The secret and lock-file walks list many of the same directories;
    // on a snapshot each listing is remote reads, so list each once.
    let listed = ListedOnce::new(tree);
    let tree: &dyn FileTree = &listed;
    let mut inventory = MachineInventory::default();
    match os_release(tree, options.max_metadata_bytes) {
        Ok(os) => inventory.os = os,
        Err(e) => inventory.errors.push(e),
    }
    let found = installed_packages(tree, options.max_package_db_bytes);
    inventory.packages = found.packages;
    inventory.package_databases = found.databases;
    inventory.errors.extend(found.errors);
    if options.language_packages {
        let found = language_packages(tree, options);
        inventory.language_packages = found.packages;
        inventory.lock_files_read = found.lock_files;
        inventory.errors.extend(found.errors);
    }
    if options.secrets {
        let scan = find_secrets(tree, options);
        inventory.secrets = scan.findings;
        inventory.secret_files_scanned = scan.files_scanned;
        inventory.errors.extend(scan.errors);
    }
    inventory
}

/// A tree whose directory listings are read once per inspection.
struct ListedOnce<'a> {
    inner: &'a dyn FileTree,
    listings:
        std::sync::Mutex<std::collections::HashMap<String, Option<Vec<rampart_disk::DirEntry>>>>,
}

impl<'a> ListedOnce<'a> {
    fn new(inner: &'a dyn FileTree) -> Self {
        Self {
            inner,
            listings: std::sync::Mutex::default(),
        }
    }
}

impl FileTree for ListedOnce<'_> {
    fn read_file(
        &self,
        path: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, rampart_disk::DiskError> {
        self.inner.read_file(path, limit)
    }

    fn read_dir(
        &self,
        path: &str,
    ) -> Result<Option<Vec<rampart_disk::DirEntry>>, rampart_disk::DiskError> {
        if let Ok(listings) = self.listings.lock()
            && let Some(listing) = listings.get(path)
        {
            return Ok(listing.clone());
        }
        // Errors are not kept: each caller reports its own.
        let listing = self.inner.read_dir(path)?;
        if let Ok(mut listings) = self.listings.lock() {
            listings.insert(path.to_owned(), listing.clone());
        }
        Ok(listing)
    }
}
