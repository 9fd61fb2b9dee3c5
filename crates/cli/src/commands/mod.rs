//! One module per command.

pub mod alerts;
pub mod cloudtrail;
pub mod compliance;
pub mod connector;
pub mod connector_scan;
pub mod connector_status;
pub mod containers;
pub mod evaluate;
pub mod findings;
pub mod gaps;
pub mod inventory;
pub mod issuer;
pub mod recommendations;
pub mod scan;
pub mod scans;
pub mod score;
pub mod serve;
pub mod servers;
pub mod sql;
pub mod template;
pub mod token;
pub mod vulndb;
pub mod vulnerabilities;

use std::path::PathBuf;

use rampart_store::Store;

use crate::args::StoreArgs;
use crate::exit::CliError;

/// The store file: `--db`, `RAMPART_DB`, or the user's data directory.
pub fn store_path(args: &StoreArgs) -> Result<PathBuf, CliError> {
    if let Some(path) = &args.db {
        return Ok(path.clone());
    }
    dirs::data_dir()
        .map(|d| d.join("rampart").join("rampart.db"))
        .ok_or_else(|| CliError::usage("no data directory for the store; pass `--db PATH`"))
}

/// The secret-key directory: `--keys-dir`, `RAMPART_KEYS_DIR`, or `keys`
/// beside the store file.
pub fn keys_dir(args: &StoreArgs) -> Result<PathBuf, CliError> {
    if let Some(dir) = &args.keys_dir {
        return Ok(dir.clone());
    }
    let store = store_path(args)?;
    Ok(store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("keys"), |p| p.join("keys")))
}

/// Opens the store; `Store::open` creates a missing directory (`0700`) and
/// file (`0600`).
pub fn open_store(args: &StoreArgs) -> Result<Store, CliError> {
    let path = store_path(args)?;
    Store::open(&path)
        .map_err(|e| CliError::usage(format!("cannot open store `{}`: {e}", path.display())))
}

/// Opens an existing store for reading; a missing file is "nothing to
/// read" (exit 3). Only commands that write create the file.
pub fn open_existing_store(args: &StoreArgs) -> Result<Store, CliError> {
    let path = store_path(args)?;
    if !path.exists() {
        return Err(CliError::nothing(format!(
            "no store at `{}`; run `rampart scan` first",
            path.display()
        )));
    }
    open_store(args)
}
