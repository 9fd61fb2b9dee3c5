//! RPM: the rpmdb in `/usr/lib/sysimage/rpm` (newer Fedora, SUSE) or
//! `/var/lib/rpm`, as SQLite (`rpmdb.sqlite`, rpm ≥ 4.16), BerkeleyDB hash
//! (`Packages`, Amazon Linux 2, CentOS 7) or ndb (`Packages.db`, SUSE).

use rampart_disk::FileTree;
use rampart_model::machine::{InstalledPackage, PackageFormat};

use super::{FoundPackages, read_db};
use crate::MachineError;

mod bdb;
pub(crate) mod header;
mod ndb;
mod sqlite;

/// One stored header: its key and its bytes (or why they could not be read).
type Blob = (u64, Result<Vec<u8>, String>);

const DIRS: [&str; 2] = ["/usr/lib/sysimage/rpm", "/var/lib/rpm"];

pub(super) fn read(tree: &dyn FileTree, limit: u64, found: &mut FoundPackages) {
    // On Fedora `/var/lib/rpm` links to `/usr/lib/sysimage/rpm`: the first
    // directory holding a database is the machine's.
    for dir in DIRS {
        let sqlite_path = format!("{dir}/rpmdb.sqlite");
        match read_db(tree, &sqlite_path, limit) {
            Ok(Some(bytes)) => {
                let wal_path = format!("{sqlite_path}-wal");
                let wal = match read_db(tree, &wal_path, limit) {
                    Ok(wal) => wal,
                    Err(e) => {
                        found.errors.push(e);
                        None
                    }
                };
                match sqlite::blobs(&bytes, wal.as_deref()) {
                    Ok(blobs) => add_blobs(found, &sqlite_path, blobs),
                    Err(detail) => found.errors.push(MachineError::parse(&sqlite_path, detail)),
                }
                return;
            }
            Ok(None) => {}
            Err(e) => {
                found.errors.push(e);
                return;
            }
        }
        let bdb_path = format!("{dir}/Packages");
        match read_db(tree, &bdb_path, limit) {
            Ok(Some(bytes)) => {
                match bdb::blobs(&bytes) {
                    Ok(blobs) => add_blobs(found, &bdb_path, blobs),
                    Err(bdb::BdbError::NotBerkeleyDb) => {
                        found.errors.push(MachineError::parse(
                            &bdb_path,
                            "not a BerkeleyDB hash database",
                        ));
                    }
                    Err(bdb::BdbError::Corrupt(detail)) => {
                        found.errors.push(MachineError::parse(&bdb_path, detail));
                    }
                }
                return;
            }
            Ok(None) => {}
            Err(e) => {
                found.errors.push(e);
                return;
            }
        }
        let ndb_path = format!("{dir}/Packages.db");
        match read_db(tree, &ndb_path, limit) {
            Ok(Some(bytes)) => {
                match ndb::blobs(&bytes) {
                    Ok(blobs) => add_blobs(found, &ndb_path, blobs),
                    Err(detail) => found.errors.push(MachineError::parse(&ndb_path, detail)),
                }
                return;
            }
            Ok(None) => {}
            Err(e) => {
                found.errors.push(e);
                return;
            }
        }
    }
}

/// Parses every header blob; corrupt ones are counted in one error.
fn add_blobs(found: &mut FoundPackages, path: &str, blobs: Vec<Blob>) {
    let total = blobs.len();
    let mut packages: Vec<InstalledPackage> = Vec::with_capacity(total);
    let mut corrupt = 0;
    let mut first = None;
    for (key, blob) in blobs {
        match blob.and_then(|b| header::parse_rpm_header(&b)) {
            Ok(Some(p)) => packages.push(p),
            Ok(None) => {}
            Err(detail) => {
                corrupt += 1;
                first.get_or_insert_with(|| format!("package {key}: {detail}"));
            }
        }
    }
    if let Some(first) = first {
        found.errors.push(MachineError::CorruptPackages {
            path: path.to_owned(),
            corrupt,
            total,
            first,
        });
    }
    found.add(path, PackageFormat::Rpm, packages);
}
