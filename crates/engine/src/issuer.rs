//! Which issuer Rampart signs with: the one kept in the store when there is
//! one (every server replica and worker shares it, so a rotation on one is
//! seen by all), else the keys directory's (`rampart issuer init`).
//!
//! In the store, the issuer's state is plain JSON and each private key is
//! sealed with the keys directory's secret key (`classic.key`, which also
//! seals classic connectors' secrets), with `issuer:<kid>` as the associated
//! data: the store alone reveals no key, and a sealed key cannot pass for
//! another. The keys directory then never changes after set-up, so replicas
//! can mount one read-only copy of it.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rampart_identity::{IdentityError, Issuer, IssuerStorage, StoredIssuer, StoredKey};
use rampart_store::Store;
use time::OffsetDateTime;

use crate::classic::SecretKey;

/// The keys directory, and the store that keeps the issuer when it holds
/// one. It reads as the keys directory's path wherever a path is wanted
/// (the classic connectors' secret key, say); [`Keys::issuer`] looks in
/// the store first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    dir: PathBuf,
    store: Option<PathBuf>,
}

impl Keys {
    /// The keys directory `dir`, and the store at `store` (a SQLite path or
    /// a `postgres://` URL; `None`: the keys directory only).
    pub fn new(dir: impl Into<PathBuf>, store: Option<&Path>) -> Self {
        Self {
            dir: dir.into(),
            store: store.map(Path::to_path_buf),
        }
    }

    /// The keys directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The issuer in use: the store's when it holds one, else the keys
    /// directory's.
    pub fn issuer(&self) -> Result<Issuer, IdentityError> {
        match &self.store {
            Some(db) => find_issuer(&self.dir, &Store::open(db).map_err(storage_error)?),
            None => Issuer::open(&self.dir),
        }
    }
}

impl Deref for Keys {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.dir
    }
}

/// How messages name the store as the issuer's place.
const IN_THE_STORE: &str = "the store";

/// What to do about a missing or unreadable issuer, after its error.
pub const CREATE_HINT: &str = "create it with `rampart issuer init --issuer-url https://HOST/PATH`";

/// The issuer kept in the store, its keys sealed with the keys directory's
/// secret key. It holds a connection of its own to the store.
#[derive(Debug)]
pub struct StoreIssuer {
    store: Mutex<Store>,
    key: SecretKey,
}

fn storage_error(reason: impl ToString) -> IdentityError {
    IdentityError::Storage {
        location: IN_THE_STORE.to_owned(),
        reason: reason.to_string(),
    }
}

fn sealing_context(kid: &str) -> String {
    format!("issuer:{kid}")
}

impl StoreIssuer {
    /// The issuer in the store `store` was opened from (another connection
    /// to it, without schema work: `store` did that), sealed with the
    /// secret key in `keys_dir` (created when `create_key` and missing).
    pub fn new(store: &Store, keys_dir: &Path, create_key: bool) -> Result<Self, IdentityError> {
        let db = store
            .location()
            .ok_or_else(|| storage_error("an in-memory store cannot keep the issuer"))?;
        let key = if create_key {
            SecretKey::load_or_create(keys_dir)
        } else {
            SecretKey::load(keys_dir)
        }
        .map_err(storage_error)?;
        Ok(Self {
            store: Mutex::new(Store::reopen(db).map_err(storage_error)?),
            key,
        })
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl IssuerStorage for StoreIssuer {
    fn location(&self) -> String {
        IN_THE_STORE.to_owned()
    }

    fn generation(&self) -> Result<Option<i64>, IdentityError> {
        self.store().issuer_generation().map_err(storage_error)
    }

    fn load(&self) -> Result<Option<StoredIssuer>, IdentityError> {
        let Some(record) = self.store().issuer().map_err(storage_error)? else {
            return Ok(None);
        };
        let keys = record
            .keys
            .iter()
            .map(|(kid, sealed)| {
                let pem = self.key.open(&sealing_context(kid), sealed).map_err(|e| {
                    IdentityError::corrupt(IN_THE_STORE, format!("key `{kid}`: {e}"))
                })?;
                Ok(StoredKey {
                    kid: kid.clone(),
                    pem,
                })
            })
            .collect::<Result<Vec<_>, IdentityError>>()?;
        Ok(Some(StoredIssuer {
            state: record.state,
            keys,
            generation: Some(record.generation),
        }))
    }

    fn save(&self, issuer: &StoredIssuer) -> Result<i64, IdentityError> {
        let keys = issuer
            .keys
            .iter()
            .map(|k| {
                let sealed = self
                    .key
                    .seal(&sealing_context(&k.kid), &k.pem)
                    .map_err(storage_error)?;
                Ok((k.kid.clone(), sealed))
            })
            .collect::<Result<Vec<_>, IdentityError>>()?;
        self.store()
            .put_issuer(&issuer.state, &keys, issuer.generation)
            .map_err(storage_error)?
            .ok_or_else(|| IdentityError::Changed(IN_THE_STORE.to_owned()))
    }
}

/// The issuer in use: the store's when it holds one, else the one in
/// `keys_dir` ([`IdentityError::NotInitialized`] when neither has one).
pub fn find_issuer(keys_dir: &Path, store: &Store) -> Result<Issuer, IdentityError> {
    if store.issuer_generation().map_err(storage_error)?.is_some() {
        let storage = StoreIssuer::new(store, keys_dir, false)?;
        return Issuer::open_in(Box::new(storage), OffsetDateTime::now_utc());
    }
    Issuer::open(keys_dir)
}

/// Creates an issuer in the store (`rampart issuer init --in-store`),
/// creating the keys directory's secret key if needed. Refuses when the
/// store or the keys directory holds an issuer, unless `replace`: the old
/// one's keys are deleted (the keys directory's too), and tokens they
/// signed stop validating.
pub fn create_in_store(
    keys_dir: &Path,
    store: &Store,
    issuer_url: &str,
    replace: bool,
) -> Result<Issuer, IdentityError> {
    let in_dir = rampart_identity::KeysDir::new(keys_dir);
    if !replace && in_dir.generation()?.is_some() {
        return Err(IdentityError::AlreadyInitialized(in_dir.location()));
    }
    let storage = StoreIssuer::new(store, keys_dir, true)?;
    let issuer = Issuer::create_in(Box::new(storage), issuer_url, replace)?;
    in_dir.remove()?;
    Ok(issuer)
}

/// Moves the keys directory's issuer into the store (`rampart issuer
/// move-to-store`): same URL, keys and times, so nothing changes for AWS.
/// The keys directory's issuer files are deleted once the store holds it.
/// Refuses when the store holds an issuer already.
pub fn move_to_store(keys_dir: &Path, store: &Store) -> Result<Issuer, IdentityError> {
    let issuer = Issuer::open(keys_dir)?;
    let storage = StoreIssuer::new(store, keys_dir, true)?;
    let moved = issuer.copy_to(Box::new(storage))?;
    rampart_identity::KeysDir::new(keys_dir).remove()?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failure should stop the test"
    )]

    use super::*;

    const URL: &str = "https://id.example.com/rampart";

    struct Place {
        _tmp: tempfile::TempDir,
        keys: PathBuf,
        db: PathBuf,
    }

    /// A keys directory and a store: a SQLite file, or a fresh PostgreSQL
    /// database when the suite runs on PostgreSQL.
    fn place() -> Place {
        let tmp = tempfile::tempdir().unwrap();
        let keys = tmp.path().join("keys");
        let db = if rampart_testkit::postgres::selected() {
            PathBuf::from(rampart_testkit::postgres::fresh_url())
        } else {
            tmp.path().join("rampart.db")
        };
        Place {
            _tmp: tmp,
            keys,
            db,
        }
    }

    fn kids(issuer: &Issuer) -> Vec<String> {
        issuer.jwks()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_store_keeps_the_issuer_sealed_and_every_handle_sees_a_rotation() {
        let p = place();
        let store = Store::open(&p.db).unwrap();
        let created = create_in_store(&p.keys, &store, URL, false).unwrap();
        assert_eq!(created.location(), "the store");
        assert!(created.keys_dir().is_none());
        // The keys directory holds the sealing key only.
        let names: Vec<String> = std::fs::read_dir(&p.keys)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![crate::classic::KEY_FILE.to_owned()]);
        // The store holds no key in the clear.
        let record = store.issuer().unwrap().unwrap();
        assert_eq!(record.keys.len(), 1);
        assert!(!String::from_utf8_lossy(&record.keys[0].1.ciphertext).contains("PRIVATE KEY"));
        assert!(!record.state.contains("PRIVATE"));

        // Two processes on one store: a rotation by one is what the other
        // opens next.
        let keys = Keys::new(&p.keys, Some(&p.db));
        let mut first = keys.issuer().unwrap();
        let other = keys.issuer().unwrap();
        assert_eq!(first.signing_kid(), other.signing_kid());
        let old = first.signing_kid().to_owned();
        let new = first.rotate(OffsetDateTime::now_utc()).unwrap();
        let reopened = keys.issuer().unwrap();
        assert_eq!(reopened.signing_kid(), new);
        assert_eq!(kids(&reopened), vec![old.clone(), new.clone()]);
        // A token the reopened issuer mints is signed by the new key.
        let token = reopened
            .mint("c", "aud", OffsetDateTime::now_utc())
            .unwrap();
        assert_eq!(token.kid, new);

        // The other handle read the issuer before the rotation: its change
        // is refused, not written over the rotation.
        let mut stale = other;
        let err = stale.rotate(OffsetDateTime::now_utc()).unwrap_err();
        assert!(matches!(err, IdentityError::Changed(_)), "{err}");
        assert_eq!(keys.issuer().unwrap().signing_kid(), new);

        // A second issuer in the store, or one in the keys directory beside
        // it, is refused.
        let err = create_in_store(&p.keys, &store, URL, false).unwrap_err();
        assert!(matches!(err, IdentityError::AlreadyInitialized(_)), "{err}");
    }

    #[test]
    fn a_keys_directory_issuer_moves_into_the_store_whole() {
        let p = place();
        let mut on_disk = Issuer::init(&p.keys, URL).unwrap();
        let old = on_disk.signing_kid().to_owned();
        let new = on_disk.rotate(OffsetDateTime::now_utc()).unwrap();
        let store = Store::open(&p.db).unwrap();
        // Before the move, the keys directory's issuer is the one in use.
        let keys = Keys::new(&p.keys, Some(&p.db));
        assert!(keys.issuer().unwrap().keys_dir().is_some());

        let moved = move_to_store(&p.keys, &store).unwrap();
        assert_eq!(moved.url(), URL);
        assert_eq!(moved.signing_kid(), new);
        assert_eq!(kids(&moved), vec![old, new.clone()]);
        assert_eq!(moved.keys(), on_disk.keys());
        // The files are gone; the store's issuer is the one in use.
        assert!(!p.keys.join(rampart_identity::STATE_FILE).exists());
        assert!(!rampart_identity::key_path(&p.keys, &new).exists());
        let in_use = keys.issuer().unwrap();
        assert_eq!(in_use.location(), "the store");
        assert_eq!(in_use.signing_kid(), new);
        // Nothing left to move.
        let err = move_to_store(&p.keys, &store).unwrap_err();
        assert!(matches!(err, IdentityError::NotInitialized(_)), "{err}");
    }

    #[test]
    fn another_sealing_key_is_an_error_not_another_issuer() {
        let p = place();
        let store = Store::open(&p.db).unwrap();
        create_in_store(&p.keys, &store, URL, false).unwrap();
        // A replica whose keys directory has another secret key (or none).
        let elsewhere = p.keys.with_file_name("other-keys");
        let err = find_issuer(&elsewhere, &store).unwrap_err();
        assert!(matches!(err, IdentityError::Storage { .. }), "{err}");
        SecretKey::load_or_create(&elsewhere).unwrap();
        let err = find_issuer(&elsewhere, &store).unwrap_err();
        assert!(matches!(err, IdentityError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("sealed with key"), "{err}");
        // An in-memory store cannot keep it.
        let memory = Store::open_in_memory().unwrap();
        let err = create_in_store(&p.keys, &memory, URL, false).unwrap_err();
        assert!(matches!(err, IdentityError::Storage { .. }), "{err}");
    }
}
