//! Where an issuer keeps its state and private keys: the keys directory
//! ([`KeysDir`], owner-only files) or a caller's storage, such as Rampart's
//! store, where every server replica and worker shares one issuer.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::IdentityError;
use crate::files::{
    PRIVATE_FILE_MODE, check_private_file, ensure_private_dir, remove_if_present, write_atomic,
};
use crate::issuer::{STATE_FILE, key_path, valid_kid};

/// One private key as kept: its id and its PKCS#8 PEM. `Debug` leaves the
/// PEM out.
#[derive(Clone)]
pub struct StoredKey {
    /// Key id (the JWK thumbprint).
    pub kid: String,
    /// The private key, PKCS#8 PEM.
    pub pem: String,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// An issuer as kept: its state document (URL, key list and times; no key
/// material), its keys and the generation it was read at.
#[derive(Debug, Clone)]
pub struct StoredIssuer {
    /// The state document, JSON.
    pub state: String,
    /// Every key the state names.
    pub keys: Vec<StoredKey>,
    /// The generation it was read at, which a change is made from (`None`:
    /// not kept yet; always 0 in the keys directory).
    pub generation: Option<i64>,
}

/// Keeps an issuer. Implementations hold no lock between calls: a change
/// names the generation it was made from and is refused
/// ([`IdentityError::Changed`]) when another change came first.
pub trait IssuerStorage: fmt::Debug + Send + Sync {
    /// Where the issuer is, for messages: a quoted path or "the store".
    fn location(&self) -> String;

    /// The keys directory, when the issuer lives in one.
    fn keys_dir(&self) -> Option<&Path> {
        None
    }

    /// The issuer's generation, or `None` when there is no issuer.
    fn generation(&self) -> Result<Option<i64>, IdentityError>;

    /// The issuer, or `None` when there is none.
    fn load(&self) -> Result<Option<StoredIssuer>, IdentityError>;

    /// Writes `issuer` if the kept one is still at `issuer.generation`
    /// (`None`: if there is none, or when replacing one that `generation`
    /// could not read). Keys the new state does not name are deleted.
    /// Returns the new generation.
    fn save(&self, issuer: &StoredIssuer) -> Result<i64, IdentityError>;
}

/// The issuer in a keys directory: `issuer.json` and one owner-only
/// `issuer-<kid>.pem` per key. One process changes it at a time (the
/// generation is always 0).
#[derive(Debug, Clone)]
pub struct KeysDir {
    dir: PathBuf,
}

/// The part of `issuer.json` the keys directory needs: the key ids.
#[derive(Deserialize)]
struct KeyList {
    keys: Vec<KeyId>,
}

#[derive(Deserialize)]
struct KeyId {
    kid: String,
}

impl KeysDir {
    /// The issuer in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// The key ids `state` names, each checked to be a safe file name part.
    fn kids(&self, state: &str) -> Result<Vec<String>, IdentityError> {
        let list: KeyList = serde_json::from_str(state)
            .map_err(|e| IdentityError::corrupt(self.state_location(), e.to_string()))?;
        list.keys
            .into_iter()
            .map(|k| {
                if valid_kid(&k.kid) {
                    Ok(k.kid)
                } else {
                    Err(IdentityError::corrupt(
                        self.state_location(),
                        format!("malformed key id `{}`", k.kid),
                    ))
                }
            })
            .collect()
    }

    /// Deletes the issuer from the directory (its state and the keys it
    /// names; other files stay), after it moved elsewhere. Nothing to
    /// delete is fine.
    pub fn remove(&self) -> Result<(), IdentityError> {
        let path = self.state_path();
        let state = match fs::read_to_string(&path) {
            Ok(state) => state,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(IdentityError::io("read", &path, e)),
        };
        let kids = self.kids(&state)?;
        // The state first: a directory left half-cleaned has no issuer,
        // never an issuer missing its keys.
        remove_if_present(&path)?;
        for kid in kids {
            remove_if_present(&key_path(&self.dir, &kid))?;
        }
        Ok(())
    }

    fn state_location(&self) -> String {
        format!("`{}`", self.state_path().display())
    }
}

impl IssuerStorage for KeysDir {
    fn location(&self) -> String {
        format!("`{}`", self.dir.display())
    }

    fn keys_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn generation(&self) -> Result<Option<i64>, IdentityError> {
        Ok(self.state_path().exists().then_some(0))
    }

    fn load(&self) -> Result<Option<StoredIssuer>, IdentityError> {
        let path = self.state_path();
        if !path.exists() {
            return Ok(None);
        }
        let state = fs::read_to_string(&path).map_err(|e| IdentityError::io("read", &path, e))?;
        let mut keys = Vec::new();
        for kid in self.kids(&state)? {
            let path = key_path(&self.dir, &kid);
            check_private_file(&path)?;
            let pem = fs::read_to_string(&path).map_err(|e| IdentityError::io("read", &path, e))?;
            keys.push(StoredKey { kid, pem });
        }
        Ok(Some(StoredIssuer {
            state,
            keys,
            generation: Some(0),
        }))
    }

    fn save(&self, issuer: &StoredIssuer) -> Result<i64, IdentityError> {
        ensure_private_dir(&self.dir)?;
        let previous = fs::read_to_string(self.state_path())
            .ok()
            .and_then(|state| self.kids(&state).ok())
            .unwrap_or_default();
        // Keys first, so the state never names a key that is not there.
        for key in &issuer.keys {
            if !valid_kid(&key.kid) {
                return Err(IdentityError::corrupt(
                    self.location(),
                    format!("malformed key id `{}`", key.kid),
                ));
            }
            let path = key_path(&self.dir, &key.kid);
            if !path.exists() {
                write_atomic(&path, key.pem.as_bytes(), PRIVATE_FILE_MODE)?;
            }
        }
        let mut body = issuer.state.clone().into_bytes();
        body.push(b'\n');
        write_atomic(&self.state_path(), &body, PRIVATE_FILE_MODE)?;
        for kid in previous
            .iter()
            .filter(|kid| !issuer.keys.iter().any(|k| &k.kid == *kid))
        {
            remove_if_present(&key_path(&self.dir, kid))?;
        }
        Ok(0)
    }
}
