//! Rampart's disk reader: turns a machine's disk (an EBS snapshot read
//! through the EBS direct APIs, or an image file) into a read-only
//! [`FileTree`] of its root filesystem.
//!
//! Everything that inspects a machine (operating system, packages,
//! secrets) works on a [`FileTree`] and never sees blocks or filesystems.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

mod ebs;
mod ext4;
mod partition;
mod source;
mod xfs;

pub use ebs::{EbsOptions, EbsSnapshot};
pub use ext4::Ext4Tree;
pub use partition::{Partition, PartitionRole, TableKind, read_partitions};
pub use source::{BlockSource, DEFAULT_CACHE_BYTES, ImageFile, ReadStats, Volume};
pub use xfs::XfsTree;

/// What went wrong reading a disk or a file on it. Never means "clean":
/// the machine's result carries the error.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// An I/O error on the source (a block that could not be read).
    #[error("cannot read `{what}`: {source}")]
    Io {
        /// What was being read.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The disk holds something the reader does not understand.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// What (`filesystem`, `partition table`, …).
        what: &'static str,
        /// Details.
        detail: String,
    },
    /// Structures on the disk are inconsistent.
    #[error("corrupt {what}: {detail}")]
    Corrupt {
        /// What (`ext4 superblock`, `XFS inode 1234`, …).
        what: String,
        /// Details.
        detail: String,
    },
    /// A file is larger than the caller's limit.
    #[error("`{path}` is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// Anything else (devices, sockets, FIFOs).
    Other,
}

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (no slashes).
    pub name: String,
    /// What it is.
    pub kind: EntryKind,
    /// Its size in bytes (regular files; 0 otherwise).
    pub size: u64,
}

/// A read-only view of a machine's root filesystem, by absolute path
/// (`/etc/os-release`). Symbolic links are followed inside the tree,
/// never out of it.
pub trait FileTree: Send + Sync {
    /// Reads a whole regular file, or `None` when it does not exist. A file
    /// larger than `limit` bytes is [`DiskError::TooLarge`].
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError>;

    /// Lists a directory, or `None` when it does not exist.
    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError>;
}

/// Lists the tree below `root` depth first (directories before their
/// contents, names sorted), without following links to directories; at
/// most `limit` entries (more is [`DiskError::TooLarge`]). Each item is the
/// entry's absolute path and the entry.
pub fn walk(
    tree: &dyn FileTree,
    root: &str,
    limit: usize,
) -> Result<Vec<(String, DirEntry)>, DiskError> {
    let mut out = Vec::new();
    let mut pending = vec![root.trim_end_matches('/').to_owned()];
    while let Some(dir) = pending.pop() {
        let Some(entries) = tree.read_dir(if dir.is_empty() { "/" } else { &dir })? else {
            continue;
        };
        let mut subdirs = Vec::new();
        for entry in entries {
            let path = format!("{dir}/{}", entry.name);
            if entry.kind == EntryKind::Dir {
                subdirs.push(path.clone());
            }
            out.push((path, entry));
            if out.len() > limit {
                return Err(DiskError::TooLarge {
                    path: root.to_owned(),
                    limit: limit as u64,
                });
            }
        }
        pending.extend(subdirs.into_iter().rev());
    }
    Ok(out)
}

/// A directory of this machine served as a [`FileTree`] (tests, and images
/// mounted by the user). Symbolic links are followed by the host, so use it
/// only on trusted directories.
#[derive(Debug, Clone)]
pub struct HostDir {
    root: PathBuf,
}

impl HostDir {
    /// Serves `root` as `/`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn resolve(&self, path: &str) -> PathBuf {
        let mut out = self.root.clone();
        for part in Path::new(path).components() {
            if let Component::Normal(p) = part {
                out.push(p);
            }
        }
        out
    }
}

fn io_error(what: &Path, source: std::io::Error) -> DiskError {
    DiskError::Io {
        what: what.display().to_string(),
        source,
    }
}

impl FileTree for HostDir {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError> {
        let full = self.resolve(path);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&full, e)),
        };
        if !meta.is_file() {
            return Ok(None);
        }
        if meta.len() > limit {
            return Err(DiskError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        std::fs::read(&full)
            .map(Some)
            .map_err(|e| io_error(&full, e))
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError> {
        let full = self.resolve(path);
        let entries = match std::fs::read_dir(&full) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&full, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&full, e))?;
            let meta = entry
                .path()
                .symlink_metadata()
                .map_err(|e| io_error(&entry.path(), e))?;
            let kind = if meta.is_file() {
                EntryKind::File
            } else if meta.is_dir() {
                EntryKind::Dir
            } else if meta.file_type().is_symlink() {
                EntryKind::Symlink
            } else {
                EntryKind::Other
            };
            out.push(DirEntry {
                name: entry.file_name().to_string_lossy().into_owned(),
                kind,
                size: if meta.is_file() { meta.len() } else { 0 },
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Some(out))
    }
}

/// A filesystem the reader recognises on a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FsKind {
    /// ext2, ext3 or ext4.
    Ext4,
    /// XFS (v4 or v5).
    Xfs,
}

impl std::fmt::Display for FsKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ext4 => "ext4",
            Self::Xfs => "xfs",
        })
    }
}

/// What the first bytes of a volume say it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A filesystem the reader reads.
    Supported(FsKind),
    /// Something recognised but not read (`btrfs`, `LVM physical volume`, …).
    Unsupported(&'static str),
    /// Nothing recognised.
    Unknown,
}

/// Recognises the filesystem (or other format) at the start of a volume.
pub fn probe(volume: &Volume) -> Result<Probe, DiskError> {
    let len = volume.len().min(0x10100) as usize;
    if len < 2048 {
        return Ok(Probe::Unknown);
    }
    let head = volume.read_vec(0, len)?;
    let at = |o: usize, n: usize| head.get(o..o + n);
    Ok(if at(0, 4) == Some(b"XFSB") {
        Probe::Supported(FsKind::Xfs)
    } else if at(1080, 2) == Some(&[0x53, 0xEF]) {
        Probe::Supported(FsKind::Ext4)
    } else if at(0x10040, 8) == Some(b"_BHRfS_M") {
        Probe::Unsupported("btrfs")
    } else if at(512, 8) == Some(b"LABELONE") {
        Probe::Unsupported("LVM physical volume")
    } else if at(0, 6) == Some(b"LUKS\xba\xbe") {
        Probe::Unsupported("LUKS encrypted volume")
    } else if at(3, 8) == Some(b"NTFS    ") {
        Probe::Unsupported("NTFS")
    } else if at(0, 4) == Some(b"hsqs") {
        Probe::Unsupported("squashfs")
    } else if at(4086, 10) == Some(b"SWAPSPACE2") {
        Probe::Unsupported("swap")
    } else {
        Probe::Unknown
    })
}

/// Opens the filesystem on a volume as a tree.
pub fn open_filesystem(volume: Volume) -> Result<(FsKind, Box<dyn FileTree>), DiskError> {
    match probe(&volume)? {
        Probe::Supported(FsKind::Ext4) => Ok((FsKind::Ext4, Box::new(Ext4Tree::open(volume)?))),
        Probe::Supported(FsKind::Xfs) => Ok((FsKind::Xfs, Box::new(XfsTree::open(volume)?))),
        Probe::Unsupported(what) => Err(DiskError::Unsupported {
            what: "filesystem",
            detail: format!("`{what}`"),
        }),
        Probe::Unknown => Err(DiskError::Unsupported {
            what: "filesystem",
            detail: "no filesystem recognised".to_owned(),
        }),
    }
}

/// A machine's root filesystem, found on its disk by [`open_root`].
pub struct RootFs {
    tree: Box<dyn FileTree>,
    /// The filesystem.
    pub filesystem: FsKind,
    /// The partition table of the disk.
    pub table: TableKind,
    /// The partition holding the root (`None`: the whole disk).
    pub partition: Option<Partition>,
}

impl std::fmt::Debug for RootFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootFs")
            .field("filesystem", &self.filesystem)
            .field("table", &self.table)
            .field("partition", &self.partition)
            .finish_non_exhaustive()
    }
}

impl FileTree for RootFs {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError> {
        self.tree.read_file(path, limit)
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError> {
        self.tree.read_dir(path)
    }
}

fn has_os_release(tree: &dyn FileTree) -> Result<bool, DiskError> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if tree.read_file(path, 64 << 10)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Finds and opens a machine's root filesystem: reads the partition table
/// (MBR or GPT; none: the whole disk), skips EFI, BIOS boot and swap
/// partitions, opens each filesystem and picks the first holding
/// `/etc/os-release` (or `/usr/lib/os-release`).
///
/// Blocking: reads the source synchronously. With an [`EbsSnapshot`], call
/// it from `tokio::task::spawn_blocking`.
///
/// A disk with no readable root filesystem is an error naming what was
/// found on each partition, never an empty tree.
pub fn open_root(source: Arc<dyn BlockSource>) -> Result<RootFs, DiskError> {
    let disk = Volume::whole(source.clone());
    let (table, partitions, table_error) = match read_partitions(&disk) {
        Ok((table, partitions)) => (table, partitions, None),
        Err(e @ DiskError::Io { .. }) => return Err(e),
        Err(e) => (TableKind::None, Vec::new(), Some(e)),
    };
    let mut candidates: Vec<(Option<Partition>, Volume)> = partitions
        .iter()
        .filter(|p| {
            !matches!(
                p.role,
                PartitionRole::EfiSystem | PartitionRole::BiosBoot | PartitionRole::Swap
            )
        })
        .map(|p| (Some(p.clone()), Volume::range(source.clone(), p.offset, p.len)))
        .collect();
    if candidates.is_empty() {
        candidates.push((None, disk));
    }
    let mut notes: Vec<String> = Vec::new();
    if let Some(e) = &table_error {
        notes.push(e.to_string());
    }
    let mut fallback: Option<RootFs> = None;
    let mut hard_error: Option<DiskError> = None;
    for (partition, volume) in candidates {
        let place = partition
            .as_ref()
            .map_or_else(|| "whole disk".to_owned(), |p| format!("partition {}", p.number));
        match open_filesystem(volume) {
            Ok((filesystem, tree)) => {
                let found = match has_os_release(tree.as_ref()) {
                    Ok(found) => found,
                    Err(e) => {
                        notes.push(format!("{place}: {filesystem}: {e}"));
                        hard_error.get_or_insert(e);
                        continue;
                    }
                };
                let root = RootFs {
                    tree,
                    filesystem,
                    table,
                    partition,
                };
                if found {
                    tracing::debug!(?root, "root filesystem found");
                    return Ok(root);
                }
                notes.push(format!("{place}: {filesystem} without `/etc/os-release`"));
                if fallback.is_none() && root.read_dir("/etc")?.is_some() {
                    fallback = Some(root);
                }
            }
            Err(e) => {
                notes.push(format!("{place}: {e}"));
                if matches!(e, DiskError::Io { .. } | DiskError::Corrupt { .. }) {
                    hard_error.get_or_insert(e);
                }
            }
        }
    }
    if let Some(root) = fallback {
        return Ok(root);
    }
    if let Some(e) = hard_error {
        return Err(e);
    }
    Err(DiskError::Unsupported {
        what: "disk",
        detail: format!("no root filesystem ({})", notes.join("; ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_directory_is_a_tree() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("etc"))?;
        std::fs::write(dir.path().join("etc/os-release"), "ID=debian\n")?;
        let tree = HostDir::new(dir.path());
        assert_eq!(
            tree.read_file("/etc/os-release", 1024)?,
            Some(b"ID=debian\n".to_vec())
        );
        assert_eq!(tree.read_file("/etc/missing", 1024)?, None);
        assert!(matches!(
            tree.read_file("/etc/os-release", 3),
            Err(DiskError::TooLarge { .. })
        ));
        let entries = tree.read_dir("/etc")?.unwrap_or_default();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries.first().map(|e| e.kind), Some(EntryKind::File));
        // `..` cannot leave the tree.
        assert_eq!(
            tree.read_file("/../../etc/os-release", 1024)?,
            Some(b"ID=debian\n".to_vec())
        );
        Ok(())
    }
}
