//! Damaged databases never panic and never pass for clean: every byte
//! flip and truncation of an rpmdb gives packages, an error, or both.
//! Also checks that any `FileTree`, not only `HostDir`, serves inspection.

#![allow(clippy::indexing_slicing, reason = "test mutations")]

mod common;

use std::collections::BTreeMap;

use common::{TestResult, package};
use rampart_disk::{DirEntry, DiskError, EntryKind, FileTree};
use rampart_machine::{InspectOptions, MachineInventory, inspect};

/// A tree held in memory: files by absolute path.
struct MemTree(BTreeMap<String, Vec<u8>>);

impl FileTree for MemTree {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError> {
        match self.0.get(path) {
            Some(bytes) if bytes.len() as u64 > limit => Err(DiskError::TooLarge {
                path: path.to_owned(),
                limit,
            }),
            other => Ok(other.cloned()),
        }
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError> {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let mut names: BTreeMap<String, EntryKind> = BTreeMap::new();
        for key in self.0.keys() {
            if let Some(rest) = key.strip_prefix(&prefix) {
                match rest.split_once('/') {
                    Some((dir, _)) => names.insert(dir.to_owned(), EntryKind::Dir),
                    None => names.insert(rest.to_owned(), EntryKind::File),
                };
            }
        }
        Ok((!names.is_empty()).then(|| {
            names
                .into_iter()
                .map(|(name, kind)| DirEntry {
                    name,
                    kind,
                    size: 0,
                })
                .collect()
        }))
    }
}

fn inspect_one(path: &str, bytes: Vec<u8>) -> MachineInventory {
    let tree = MemTree(BTreeMap::from([(path.to_owned(), bytes)]));
    inspect(
        &tree,
        &InspectOptions {
            secrets: false,
            ..InspectOptions::default()
        },
    )
}

fn blobs() -> Vec<Vec<u8>> {
    vec![
        package(
            "openssl-libs",
            Some(1),
            "1.0.2k",
            "26.amzn2",
            "x86_64",
            "openssl-1.0.2k-26.amzn2.src.rpm",
        ),
        package(
            "glibc",
            None,
            "2.26",
            "64.amzn2.0.1",
            "x86_64",
            "glibc-2.26-64.amzn2.0.1.src.rpm",
        ),
    ]
}

#[test]
fn a_memory_tree_serves_inspection() {
    let inv = inspect_one("/var/lib/rpm/Packages", common::bdb_hash(&blobs()));
    assert!(inv.errors.is_empty(), "{:?}", inv.error_messages());
    assert_eq!(inv.packages.len(), 2);
}

#[test]
fn every_damaged_berkeley_db_is_packages_or_an_error() {
    let db = common::bdb_hash(&blobs());
    let mut outcomes = [0usize; 2];
    for len in (0..db.len()).step_by(61) {
        let inv = inspect_one("/var/lib/rpm/Packages", db[..len].to_vec());
        assert!(!inv.errors.is_empty(), "truncated to {len} bytes yet clean");
        outcomes[usize::from(inv.packages.is_empty())] += 1;
    }
    for at in (0..db.len()).step_by(7) {
        let mut damaged = db.clone();
        damaged[at] ^= 0xa5;
        let inv = inspect_one("/var/lib/rpm/Packages", damaged);
        // A flip in unused bytes changes nothing; otherwise something is reported.
        assert!(
            inv.packages.len() == 2 || !inv.errors.is_empty(),
            "flip at {at} lost packages silently"
        );
    }
    assert!(outcomes[1] > 0);
}

#[test]
fn every_damaged_ndb_is_packages_or_an_error() {
    let db = common::ndb(&blobs());
    let clean = inspect_one("/var/lib/rpm/Packages.db", db.clone());
    assert!(clean.errors.is_empty(), "{:?}", clean.error_messages());
    assert_eq!(clean.packages.len(), 2);
    for len in (0..db.len()).step_by(13) {
        let inv = inspect_one("/var/lib/rpm/Packages.db", db[..len].to_vec());
        assert!(!inv.errors.is_empty(), "truncated to {len} bytes yet clean");
    }
    for at in (0..db.len()).step_by(5) {
        let mut damaged = db.clone();
        damaged[at] ^= 0x5a;
        let inv = inspect_one("/var/lib/rpm/Packages.db", damaged);
        assert!(
            inv.packages.len() == 2 || !inv.errors.is_empty(),
            "flip at {at} lost packages silently"
        );
    }
}

#[test]
fn every_damaged_header_in_sqlite_is_counted() -> TestResult {
    let blob = &blobs()[0];
    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("rpmdb.sqlite");
    let mut damaged_blobs = Vec::new();
    for at in (0..blob.len()).step_by(3) {
        let mut b = blob.clone();
        b[at] ^= 0xff;
        damaged_blobs.push(b);
    }
    for len in 0..blob.len() {
        damaged_blobs.push(blob[..len].to_vec());
    }
    common::write_rpmdb_sqlite(&db_path, &damaged_blobs)?;
    let inv = inspect_one("/var/lib/rpm/rpmdb.sqlite", std::fs::read(&db_path)?);
    let total = damaged_blobs.len();
    // Every truncation is corrupt; flips in string bytes still parse.
    assert_eq!(inv.errors.len(), 1, "{:?}", inv.error_messages());
    assert!(inv.packages.len() < total);
    assert!(inv.error_messages()[0].contains(&format!(" of {total} package entries")));
    Ok(())
}

#[test]
fn garbage_package_databases_are_errors() {
    for path in ["/var/lib/dpkg/status", "/lib/apk/db/installed"] {
        let inv = inspect_one(
            path,
            b"Package: x\nStatus: install ok installed\n\nP:\xff\n".to_vec(),
        );
        assert!(!inv.errors.is_empty() || !inv.packages.is_empty(), "{path}");
    }
    let inv = inspect_one("/lib/apk/db/installed", b"P:musl\n\nV:1.0\n".to_vec());
    assert_eq!(
        inv.error_messages(),
        ["cannot parse `/lib/apk/db/installed`: entry 1 has no `P:` or `V:`"]
    );
}

/// Counts directory listings by path.
struct Counting {
    inner: rampart_disk::HostDir,
    listed: std::sync::Mutex<BTreeMap<String, usize>>,
}

impl FileTree for Counting {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError> {
        self.inner.read_file(path, limit)
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError> {
        if let Ok(mut listed) = self.listed.lock() {
            *listed.entry(path.to_owned()).or_default() += 1;
        }
        self.inner.read_dir(path)
    }
}

#[test]
fn each_directory_is_listed_once_per_inspection() -> TestResult {
    let tree = Counting {
        inner: rampart_disk::HostDir::new(common::fixture("secrets")),
        listed: std::sync::Mutex::default(),
    };
    let inv = inspect(&tree, &InspectOptions::default());
    assert!(!inv.secrets.is_empty());
    let listed = tree.listed.lock().map_err(|e| e.to_string())?;
    // Both the secret walk and the lock-file walk go through /var/www.
    assert!(listed.contains_key("/var/www/app"));
    let twice: Vec<_> = listed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "listed more than once: {twice:?}");
    Ok(())
}
