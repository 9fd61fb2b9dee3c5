//! Reading OSV records from what a user downloads: an ecosystem's
//! `all.zip` dump, a directory of `*.json` records (searched recursively),
//! or one `.json` record. Records are read one at a time, so a dump is
//! never held in memory whole.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use crate::VulnError;
use crate::osv::OsvRecord;

/// One record read from a source.
#[derive(Debug)]
pub struct OsvEntry {
    /// Where it was read: the file's path, or `dump.zip!DSA-5678-1.json`.
    pub origin: String,
    /// The record, or why it could not be parsed (the caller reports and
    /// counts it; a bad record never stops an import).
    pub record: Result<OsvRecord, String>,
}

enum Inner {
    Zip {
        archive: Box<zip::ZipArchive<BufReader<File>>>,
        next: usize,
    },
    Files {
        files: std::vec::IntoIter<PathBuf>,
    },
}

/// Reads the records of one path, one at a time. An I/O error (a file
/// that cannot be opened, a corrupt archive) is an `Err` item and ends
/// the reading; a record that is not valid OSV JSON is an `Ok` entry with
/// an error, and reading goes on.
pub struct OsvReader {
    path: PathBuf,
    inner: Inner,
    failed: bool,
}

impl std::fmt::Debug for OsvReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsvReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl OsvReader {
    /// Opens `path`: a zip archive (by its content, whatever its name), a
    /// directory, or a single JSON file.
    pub fn open(path: &Path) -> Result<Self, VulnError> {
        let read_error = |reason: String| VulnError::Read {
            path: path.display().to_string(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| read_error(e.to_string()))?;
        let inner = if meta.is_dir() {
            let mut files = Vec::new();
            collect_json(path, &mut files).map_err(|e| read_error(e.to_string()))?;
            files.sort();
            Inner::Files {
                files: files.into_iter(),
            }
        } else {
            let mut file = File::open(path).map_err(|e| read_error(e.to_string()))?;
            let mut magic = [0_u8; 4];
            let n = file
                .read(&mut magic)
                .map_err(|e| read_error(e.to_string()))?;
            if n == 4 && (&magic == b"PK\x03\x04" || &magic == b"PK\x05\x06") {
                file.rewind().map_err(|e| read_error(e.to_string()))?;
                let archive = zip::ZipArchive::new(BufReader::new(file))
                    .map_err(|e| read_error(format!("not a readable zip archive: {e}")))?;
                Inner::Zip {
                    archive: Box::new(archive),
                    next: 0,
                }
            } else {
                Inner::Files {
                    files: vec![path.to_path_buf()].into_iter(),
                }
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            inner,
            failed: false,
        })
    }

    /// The number of entries to read, when known up front (a zip
    /// archive's entry count, a directory's JSON files); for progress.
    pub fn len_hint(&self) -> Option<usize> {
        match &self.inner {
            Inner::Zip { archive, .. } => Some(archive.len()),
            Inner::Files { files } => Some(files.len()),
        }
    }

    fn next_entry(&mut self) -> Option<Result<OsvEntry, VulnError>> {
        let display = self.path.display().to_string();
        match &mut self.inner {
            Inner::Zip { archive, next } => loop {
                if *next >= archive.len() {
                    return None;
                }
                let at = *next;
                *next += 1;
                let mut entry = match archive.by_index(at) {
                    Ok(entry) => entry,
                    Err(e) => {
                        return Some(Err(VulnError::Read {
                            path: display,
                            reason: format!("entry {at}: {e}"),
                        }));
                    }
                };
                let name = match entry.name() {
                    Ok(name) => name.into_owned(),
                    Err(e) => {
                        return Some(Err(VulnError::Read {
                            path: display,
                            reason: format!("entry {at}: {e}"),
                        }));
                    }
                };
                if entry.is_dir() || !name.ends_with(".json") {
                    continue;
                }
                let origin = format!("{display}!{name}");
                let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
                if let Err(e) = entry.read_to_end(&mut bytes) {
                    return Some(Err(VulnError::Read {
                        path: origin,
                        reason: e.to_string(),
                    }));
                }
                return Some(Ok(OsvEntry {
                    origin,
                    record: OsvRecord::from_json(&bytes).map_err(|e| e.to_string()),
                }));
            },
            Inner::Files { files } => {
                let file = files.next()?;
                let origin = file.display().to_string();
                Some(match std::fs::read(&file) {
                    Ok(bytes) => Ok(OsvEntry {
                        origin,
                        record: OsvRecord::from_json(&bytes).map_err(|e| e.to_string()),
                    }),
                    Err(e) => Err(VulnError::Read {
                        path: origin,
                        reason: e.to_string(),
                    }),
                })
            }
        }
    }
}

impl Iterator for OsvReader {
    type Item = Result<OsvEntry, VulnError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_entry();
        if matches!(item, Some(Err(_))) {
            self.failed = true;
        }
        item
    }
}

fn collect_json(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_json(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}
