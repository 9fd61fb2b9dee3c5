//! File-system helpers: private directories, atomic writes with a fixed mode,
//! permission checks.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::IdentityError;

/// Mode of the keys directory.
pub(crate) const PRIVATE_DIR_MODE: u32 = 0o700;
/// Mode of private key files and the issuer state.
pub(crate) const PRIVATE_FILE_MODE: u32 = 0o600;
/// Mode of exported public documents.
pub(crate) const PUBLIC_FILE_MODE: u32 = 0o644;

/// Creates `dir` (and its parents) owner-only, or tightens an existing one to
/// owner-only: it holds secret keys.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), IdentityError> {
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(PRIVATE_DIR_MODE)
            .create(dir)
            .map_err(|e| IdentityError::io("create", dir, e))?;
    }
    let mode = mode_of(dir)?;
    if mode & 0o077 != 0 {
        tracing::info!(dir = %dir.display(), "restricting the keys directory to its owner");
        fs::set_permissions(dir, Permissions::from_mode(PRIVATE_DIR_MODE))
            .map_err(|e| IdentityError::io("restrict", dir, e))?;
    }
    Ok(())
}

/// The permission bits of `path`.
pub(crate) fn mode_of(path: &Path) -> Result<u32, IdentityError> {
    let meta = fs::metadata(path).map_err(|e| IdentityError::io("inspect", path, e))?;
    Ok(meta.permissions().mode() & 0o7777)
}

/// Refuses a file that other users can read or write (like ssh does with keys).
pub(crate) fn check_private_file(path: &Path) -> Result<(), IdentityError> {
    let mode = mode_of(path)?;
    if mode & 0o077 == 0 {
        Ok(())
    } else {
        Err(IdentityError::LoosePermissions {
            path: path.to_path_buf(),
            mode,
            wanted: PRIVATE_FILE_MODE,
        })
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, created
/// with `mode` from the start (never more open, even briefly), synced, then
/// renamed over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = write_new(&temp, bytes, mode)
        .and_then(|()| fs::rename(&temp, path).map_err(|e| IdentityError::io("write", path, e)));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_new(temp: &Path, bytes: &[u8], mode: u32) -> Result<(), IdentityError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(temp)
        .map_err(|e| IdentityError::io("create", temp, e))?;
    // The umask may have narrowed `mode`; set it exactly (never wider than asked).
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(|e| IdentityError::io("set the mode of", temp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| IdentityError::io("write", temp, e))
}

/// Removes a file; a file already gone is fine.
pub(crate) fn remove_if_present(path: &Path) -> Result<(), IdentityError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IdentityError::io("remove", path, e)),
    }
}
