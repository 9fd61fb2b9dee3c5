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
pub mod history;
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
pub mod worker;

use std::path::PathBuf;

use rampart_store::Store;

use crate::args::StoreArgs;
use crate::exit::CliError;

/// The store: `--db`, `RAMPART_DB`, or the user's data directory. A
/// `postgres://` URL passes through as a path; `Store::open` connects to it.
pub fn store_path(args: &StoreArgs) -> Result<PathBuf, CliError> {
    if let Some(path) = &args.db {
        return Ok(path.clone());
    }
    dirs::data_dir()
        .map(|d| d.join("rampart").join("rampart.db"))
        .ok_or_else(|| CliError::usage("no data directory for the store; pass `--db PATH`"))
}

/// The secret-key directory: `--keys-dir`, `RAMPART_KEYS_DIR`, or `keys`
/// beside the store file (in the user's data directory for a PostgreSQL
/// store).
pub fn keys_dir(args: &StoreArgs) -> Result<PathBuf, CliError> {
    if let Some(dir) = &args.keys_dir {
        return Ok(dir.clone());
    }
    let store = store_path(args)?;
    if !store_location(&store).is_sqlite() {
        return dirs::data_dir()
            .map(|d| d.join("rampart").join("keys"))
            .ok_or_else(|| {
                CliError::usage("no data directory for the keys; pass `--keys-dir DIR`")
            });
    }
    Ok(store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("keys"), |p| p.join("keys")))
}

/// The keys directory, and the store when there is one: where the issuer
/// in use is looked for (the store first).
pub fn issuer_keys(args: &StoreArgs) -> Result<rampart_engine::Keys, CliError> {
    let store = if store_exists(args)? {
        Some(store_path(args)?)
    } else {
        None
    };
    Ok(rampart_engine::Keys::new(keys_dir(args)?, store.as_deref()))
}

/// Opens the store; `Store::open` creates a missing directory (`0700`) and
/// file (`0600`).
pub fn open_store(args: &StoreArgs) -> Result<Store, CliError> {
    let path = store_path(args)?;
    Store::open(&path).map_err(|e| {
        CliError::usage(format!(
            "cannot open store `{}`: {e}",
            store_location(&path)
        ))
    })
}

/// What a `--db` value names, shown with a URL's password hidden.
pub fn store_location(path: &std::path::Path) -> rampart_store::StoreLocation {
    rampart_store::StoreLocation::from(path)
}

/// Whether there is a store to read at `--db` (a PostgreSQL database
/// always is).
pub fn store_exists(args: &StoreArgs) -> Result<bool, CliError> {
    Ok(store_location(&store_path(args)?).exists())
}

/// Opens an existing store for reading; a missing file is "nothing to
/// read" (exit 3). Only commands that write create the file.
pub fn open_existing_store(args: &StoreArgs) -> Result<Store, CliError> {
    let path = store_path(args)?;
    if !store_location(&path).exists() {
        return Err(CliError::nothing(format!(
            "no store at `{}`; run `rampart scan` first",
            path.display()
        )));
    }
    open_store(args)
}
