//! Machine inspection's errors. None of them ever carries a secret's value:
//! secret-scanning errors name the file and what went wrong, never content.

use rampart_disk::DiskError;

/// Something on the machine that could not be read or understood. The
/// inventory carries it; it never means "clean".
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file or directory.
        path: String,
        /// The disk reader's error.
        #[source]
        source: DiskError,
    },
    /// A file could not be parsed.
    #[error("cannot parse `{path}`: {detail}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong (never the file's content).
        detail: String,
    },
    /// Some packages of a database could not be parsed; the others were
    /// read.
    #[error(
        "{corrupt} of {total} package entries in `{path}` could not be parsed (first: {first})"
    )]
    CorruptPackages {
        /// The database file.
        path: String,
        /// How many entries were corrupt.
        corrupt: usize,
        /// How many entries the database holds.
        total: usize,
        /// The first corrupt entry's problem.
        first: String,
    },
    /// A walk's budget ran out: files past it were not read.
    #[error("{scan} stopped early: {detail}")]
    Budget {
        /// Which scan (`secret scan`, `lock file scan`).
        scan: &'static str,
        /// Which budget and where.
        detail: String,
    },
}

impl MachineError {
    pub(crate) fn read(path: &str, source: DiskError) -> Self {
        Self::Read {
            path: path.to_owned(),
            source,
        }
    }

    pub(crate) fn parse(path: &str, detail: impl Into<String>) -> Self {
        Self::Parse {
            path: path.to_owned(),
            detail: detail.into(),
        }
    }
}
