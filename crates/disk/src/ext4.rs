//! ext2/3/4 through the `ext4-view` crate (read-only; journal replayed in
//! memory; symlinks resolved inside the filesystem with a bound on links).
//!
//! `ext4-view`'s filesystem handle is single-threaded (`Rc`), so it lives on
//! a thread of its own and the [`FileTree`] methods send it requests.

use std::sync::{Mutex, mpsc};
use std::thread;

use ext4_view::{Ext4, Ext4Error, Ext4Read};

use crate::source::Volume;
use crate::{DirEntry, DiskError, EntryKind, FileTree};

type Job = Box<dyn FnOnce(&Ext4) + Send>;

/// An ext2/3/4 filesystem as a [`FileTree`].
#[derive(Debug)]
pub struct Ext4Tree {
    jobs: Mutex<mpsc::Sender<Job>>,
    what: String,
}

struct Reader(Volume);

impl Ext4Read for Reader {
    fn read(
        &mut self,
        start_byte: u64,
        dst: &mut [u8],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        self.0.read_at(start_byte, dst).map_err(Into::into)
    }
}

fn fs_error(what: &str, path: &str, e: Ext4Error) -> DiskError {
    let detail = e.to_string();
    match e {
        // The block source's own error, as it was.
        Ext4Error::Io(inner) => match inner.downcast::<DiskError>() {
            Ok(original) => *original,
            Err(_) => DiskError::Io {
                what: format!("{what} `{path}`"),
                source: std::io::Error::other(detail),
            },
        },
        Ext4Error::Incompatible(_) => DiskError::Unsupported {
            what: "ext4 feature",
            detail,
        },
        Ext4Error::Encrypted => DiskError::Unsupported {
            what: "ext4 feature",
            detail: format!("`{path}` is encrypted"),
        },
        _ => DiskError::Corrupt {
            what: format!("{what} `{path}`"),
            detail,
        },
    }
}

/// Whether a lookup error means "no such file" (missing, or a component is
/// not a directory).
fn is_missing(e: &Ext4Error) -> bool {
    matches!(e, Ext4Error::NotFound | Ext4Error::NotADirectory)
}

fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

impl Ext4Tree {
    /// Opens the filesystem on `volume` (reads and checks the superblock,
    /// group descriptors and journal).
    pub fn open(volume: Volume) -> Result<Self, DiskError> {
        let what = format!("ext4 on {} at offset {}", volume.source().describe(), volume.offset());
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), DiskError>>();
        let label = what.clone();
        thread::Builder::new()
            .name("rampart-ext4".to_owned())
            .spawn(move || {
                let fs = match Ext4::load(Box::new(Reader(volume))) {
                    Ok(fs) => {
                        let _ = ready_tx.send(Ok(()));
                        fs
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(fs_error(&label, "/", e)));
                        return;
                    }
                };
                while let Ok(job) = rx.recv() {
                    job(&fs);
                }
            })
            .map_err(|source| DiskError::Io {
                what: what.clone(),
                source,
            })?;
        ready_rx.recv().map_err(|_| DiskError::Io {
            what: what.clone(),
            source: std::io::Error::other("the ext4 reader thread stopped"),
        })??;
        Ok(Self {
            jobs: Mutex::new(jobs),
            what,
        })
    }

    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Ext4) -> R + Send + 'static,
    ) -> Result<R, DiskError> {
        let stopped = || DiskError::Io {
            what: self.what.clone(),
            source: std::io::Error::other("the ext4 reader thread stopped"),
        };
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move |fs| {
            let _ = tx.send(f(fs));
        });
        self.jobs
            .lock()
            .map_err(|_| stopped())?
            .send(job)
            .map_err(|_| stopped())?;
        rx.recv().map_err(|_| stopped())
    }
}

impl FileTree for Ext4Tree {
    fn read_file(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DiskError> {
        let path = absolute(path);
        let what = self.what.clone();
        self.call(move |fs| {
            let meta = match fs.metadata(path.as_str()) {
                Ok(m) => m,
                Err(e) if is_missing(&e) => return Ok(None),
                Err(e) => return Err(fs_error(&what, &path, e)),
            };
            if !meta.file_type().is_regular_file() {
                return Ok(None);
            }
            if meta.len() > limit {
                return Err(DiskError::TooLarge { path, limit });
            }
            match fs.read(path.as_str()) {
                Ok(data) => Ok(Some(data)),
                Err(e) if is_missing(&e) => Ok(None),
                Err(e) => Err(fs_error(&what, &path, e)),
            }
        })?
    }

    fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>, DiskError> {
        let path = absolute(path);
        let what = self.what.clone();
        self.call(move |fs| {
            match fs.metadata(path.as_str()) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Ok(None),
                Err(e) if is_missing(&e) => return Ok(None),
                Err(e) => return Err(fs_error(&what, &path, e)),
            }
            let entries = fs
                .read_dir(path.as_str())
                .map_err(|e| fs_error(&what, &path, e))?;
            let mut out = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| fs_error(&what, &path, e))?;
                let name = String::from_utf8_lossy(entry.file_name().as_ref()).into_owned();
                if name == "." || name == ".." {
                    continue;
                }
                let file_type = entry.file_type().map_err(|e| fs_error(&what, &path, e))?;
                let kind = if file_type.is_regular_file() {
                    EntryKind::File
                } else if file_type.is_dir() {
                    EntryKind::Dir
                } else if file_type.is_symlink() {
                    EntryKind::Symlink
                } else {
                    EntryKind::Other
                };
                let size = if kind == EntryKind::File {
                    entry
                        .metadata()
                        .map_err(|e| fs_error(&what, &path, e))?
                        .len()
                } else {
                    0
                };
                out.push(DirEntry { name, kind, size });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(Some(out))
        })?
    }
}
