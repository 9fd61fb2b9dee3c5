//! Rampart's disk reader: turns a machine's disk (an EBS snapshot read
//! through the EBS direct APIs, or an image file) into a read-only
//! [`FileTree`] of its root filesystem.
//!
//! Everything that inspects a machine (operating system, packages,
//! secrets) works on a [`FileTree`] and never sees blocks or filesystems.

use std::path::{Component, Path, PathBuf};

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
