//! A small pool of store connections, used from blocking threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rampart_store::{Store, StoreError};

use crate::error::ApiError;

/// Idle connections kept for reuse: more than the requests a busy server
/// runs at once, so a burst does not open and drop connections.
const MAX_IDLE: usize = 16;

/// Store connections for request handlers. Each call runs on a blocking
/// thread with a connection of its own (SQLite in WAL mode lets readers run
/// side by side with a writer).
#[derive(Clone, Debug)]
pub struct StorePool {
    path: Arc<PathBuf>,
    idle: Arc<Mutex<Vec<Store>>>,
}

impl StorePool {
    /// Opens the store at `path` (creating it and its tables).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let first = Store::open(path)?;
        Ok(Self {
            path: Arc::new(path.to_owned()),
            idle: Arc::new(Mutex::new(vec![first])),
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with a connection on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = pool.take()?;
            let result = f(&mut store);
            pool.give_back(store);
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("store task: {e}")))?
    }

    fn take(&self) -> Result<Store, ApiError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match reused {
            Some(store) => Ok(store),
            // The first connection created the tables: no schema work.
            None => Ok(Store::reopen(&self.path)?),
        }
    }

    fn give_back(&self, store: Store) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(store);
        }
    }
}
