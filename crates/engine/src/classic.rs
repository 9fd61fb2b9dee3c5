//! Secrets at rest in the store: classic connectors' secrets and the
//! issuer's private keys when the store keeps the issuer
//! ([`crate::issuer`]). They are sealed with ChaCha20-Poly1305 under a
//! 256-bit key kept in `<keys dir>/classic.key` (owner-only, created on first
//! use), never in the store. Each sealing draws a fresh random nonce; the
//! context (a connector's id, or `issuer:<kid>`) is the associated data, so
//! a sealed secret cannot be moved to another connector or key.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::digest::{SHA256, digest};
use rampart_store::SealedSecret;

/// The key file's name in the keys directory.
pub const KEY_FILE: &str = "classic.key";

/// Bytes in a key.
const KEY_LEN: usize = 32;

/// The key that seals classic connectors' secrets. `Debug` shows its id only.
pub struct SecretKey {
    key: LessSafeKey,
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn key_path(keys_dir: &Path) -> PathBuf {
    keys_dir.join(KEY_FILE)
}

/// Why a classic connector's secret cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// A file or directory of the key cannot be created, written or read.
    #[error("cannot {action} `{path}`: {error}")]
    Io {
        /// What was tried.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The key file cannot be read (it does not exist yet, say).
    #[error(
        "cannot read the secret key `{path}`: {error} (it is created with the first classic connector, or by `rampart issuer init --in-store`)"
    )]
    NoKey {
        /// The key file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The key file is accessible to other users.
    #[error("`{path}` is accessible to other users (mode {mode:o}); restrict it with `chmod 600`")]
    LooseKey {
        /// The key file.
        path: String,
        /// Its mode.
        mode: u32,
    },
    /// The key file does not hold a key.
    #[error("`{0}` is not a 256-bit key in hex")]
    NotAKey(String),
    /// The secret was sealed with another key.
    #[error(
        "the secret was sealed with key `{sealed}`, but `{KEY_FILE}` is key `{current}`; restore the original key file"
    )]
    OtherKey {
        /// The key the secret was sealed with.
        sealed: String,
        /// The key in the keys directory.
        current: String,
    },
    /// The sealed secret does not open (tampered, or another connector's).
    #[error("the sealed secret does not open with this key")]
    DoesNotOpen,
    /// The sealed secret is malformed.
    #[error("corrupt sealed secret ({0})")]
    Corrupt(&'static str),
    /// The cryptography failed.
    #[error("{0}")]
    Crypto(&'static str),
}

impl SecretError {
    /// Whether the user can fix it (a missing or loose key file, another
    /// key) rather than an unexpected failure.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::NoKey { .. } | Self::LooseKey { .. } | Self::OtherKey { .. }
        )
    }
}

fn io_error(action: &'static str, path: &Path, error: std::io::Error) -> SecretError {
    SecretError::Io {
        action,
        path: path.display().to_string(),
        error,
    }
}

impl SecretKey {
    /// Loads the key, creating it (and the keys directory, owner-only) when
    /// there is none yet.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, SecretError> {
        let path = key_path(keys_dir);
        if !path.exists() {
            if !keys_dir.exists() {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(keys_dir)
                    .map_err(|e| io_error("create", keys_dir, e))?;
            }
            let mut bytes = [0u8; KEY_LEN];
            aws_lc_rs::rand::fill(&mut bytes)
                .map_err(|_| SecretError::Crypto("cannot draw random bytes for the secret key"))?;
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| io_error("create", &path, e))?;
            file.write_all(hex(&bytes).as_bytes())
                .and_then(|()| file.write_all(b"\n"))
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error("write", &path, e))?;
            tracing::info!(file = %path.display(), "created the key for classic connectors' secrets");
        }
        Self::load(keys_dir)
    }

    /// Loads the existing key; refuses a key file other users can access.
    pub fn load(keys_dir: &Path) -> Result<Self, SecretError> {
        let path = key_path(keys_dir);
        let meta = fs::metadata(&path).map_err(|error| SecretError::NoKey {
            path: path.display().to_string(),
            error,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::LooseKey {
                path: path.display().to_string(),
                mode,
            });
        }
        let text = fs::read_to_string(&path).map_err(|e| io_error("read", &path, e))?;
        let bytes = unhex(text.trim())
            .filter(|b| b.len() == KEY_LEN)
            .ok_or_else(|| SecretError::NotAKey(path.display().to_string()))?;
        let id = hex(digest(&SHA256, &bytes)
            .as_ref()
            .get(..8)
            .unwrap_or_default());
        let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
            .map_err(|_| SecretError::Crypto("cannot use the classic connectors' key"))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            id,
        })
    }

    /// Seals `secret` for `connector_id` (a connector's id, or another
    /// context such as `issuer:<kid>`).
    pub fn seal(&self, connector_id: &str, secret: &str) -> Result<SealedSecret, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| SecretError::Crypto("cannot draw a random nonce"))?;
        let mut in_out = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(connector_id.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| SecretError::Crypto("cannot seal the secret"))?;
        Ok(SealedSecret {
            key_id: self.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext: in_out,
        })
    }

    /// Opens a secret sealed for `connector_id` (see [`seal`](Self::seal)).
    pub fn open(&self, connector_id: &str, sealed: &SealedSecret) -> Result<String, SecretError> {
        if sealed.key_id != self.id {
            return Err(SecretError::OtherKey {
                sealed: sealed.key_id.clone(),
                current: self.id.clone(),
            });
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed.nonce)
            .map_err(|_| SecretError::Corrupt("nonce"))?;
        let mut in_out = sealed.ciphertext.clone();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(connector_id.as_bytes()), &mut in_out)
            .map_err(|_| SecretError::DoesNotOpen)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Corrupt("not UTF-8"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use std::os::unix::fs::PermissionsExt;

    use super::{KEY_FILE, SecretKey};

    #[test]
    fn seals_and_opens_per_connector() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let key = SecretKey::load_or_create(&keys).unwrap();
        let mode = std::fs::metadata(keys.join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let a = key.seal("c1", "wJalrXUtnFEMI/K7MDENG").unwrap();
        let b = key.seal("c1", "wJalrXUtnFEMI/K7MDENG").unwrap();
        assert_ne!(a.nonce, b.nonce, "a fresh nonce per sealing");
        assert_ne!(a.ciphertext, b.ciphertext);
        assert!(
            !String::from_utf8_lossy(&a.ciphertext).contains("wJalr"),
            "ciphertext holds no plaintext"
        );
        // Reloaded from the file, the same key opens it; another connector
        // id (associated data) does not.
        let again = SecretKey::load_or_create(&keys).unwrap();
        assert_eq!(again.open("c1", &a).unwrap(), "wJalrXUtnFEMI/K7MDENG");
        assert!(again.open("c2", &a).is_err());
        let mut tampered = a.clone();
        if let Some(byte) = tampered.ciphertext.first_mut() {
            *byte ^= 1;
        }
        assert!(again.open("c1", &tampered).is_err());

        // Another key is refused by id.
        let other = SecretKey::load_or_create(&dir.path().join("other")).unwrap();
        assert!(
            other
                .open("c1", &a)
                .unwrap_err()
                .to_string()
                .contains("sealed with key")
        );
    }

    #[test]
    fn a_loose_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        SecretKey::load_or_create(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretKey::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
