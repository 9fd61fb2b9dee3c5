//! Exit codes and the one-line error a user sees.

use std::fmt;

/// Rampart's documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// Unexpected failure (store I/O and the like).
    Failure = 1,
    /// Bad usage or configuration (flags, region, endpoint, credentials).
    Usage = 2,
    /// Nothing could be collected, or there is no scan to read.
    NothingCollected = 3,
    /// `--fail-on`: an unhealthy assessment at or above the given severity.
    FindingsAtOrAbove = 4,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

/// An error that ends the command with an exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub exit: Exit,
    /// One line for the user.
    pub message: String,
}

impl CliError {
    /// A usage/configuration error (exit 2).
    pub fn usage(message: impl fmt::Display) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.to_string(),
        }
    }

    /// Nothing to collect or read (exit 3).
    pub fn nothing(message: impl fmt::Display) -> Self {
        Self {
            exit: Exit::NothingCollected,
            message: message.to_string(),
        }
    }

    /// Unexpected failure (exit 1).
    pub fn failure(message: impl fmt::Display) -> Self {
        Self {
            exit: Exit::Failure,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl From<rampart_store::StoreError> for CliError {
    fn from(err: rampart_store::StoreError) -> Self {
        Self::failure(format!("store: {err}"))
    }
}

impl From<rampart_engine::EngineError> for CliError {
    fn from(err: rampart_engine::EngineError) -> Self {
        use rampart_engine::ErrorKind;
        let exit = match err.kind() {
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::NotFound => Exit::NothingCollected,
            ErrorKind::Failure => Exit::Failure,
            ErrorKind::Interrupted => Exit::Interrupted,
        };
        Self {
            exit,
            message: err.to_string(),
        }
    }
}

impl From<rampart_engine::classic::SecretError> for CliError {
    fn from(err: rampart_engine::classic::SecretError) -> Self {
        rampart_engine::EngineError::from(err).into()
    }
}
