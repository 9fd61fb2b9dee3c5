//! Classic connectors' secrets: the `classic_secrets` table. Only sealed
//! (encrypted) bytes are stored; the key that opens them lives outside the
//! database (the CLI keeps it in the keys directory), so the store file alone
//! reveals no secret.

use crate::db::{OptionalExtension, params};

use crate::{Result, Store};

/// The `classic_secrets` table, created by [`Store::init`]. A row goes with
/// its connector (`ON DELETE CASCADE`).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS classic_secrets (
    connector_id TEXT PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL
);
";

/// A secret sealed with an AEAD key kept outside the store.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// Which key sealed it (a fingerprint of the key, not the key).
    pub key_id: String,
    /// The nonce, unique per sealing.
    pub nonce: Vec<u8>,
    /// Ciphertext with its authentication tag.
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Stores (or replaces) the sealed secret of a classic connector, by the
    /// connector's id. The connector must be stored first.
    pub fn put_classic_secret(&self, connector_id: &str, secret: &SealedSecret) -> Result<()> {
        self.conn.execute(
            "INSERT INTO classic_secrets (connector_id, key_id, nonce, ciphertext)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (connector_id) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce, ciphertext = excluded.ciphertext",
            params![connector_id, secret.key_id, secret.nonce, secret.ciphertext],
        )?;
        Ok(())
    }

    /// The sealed secret of the classic connector with this id, if any.
    pub fn classic_secret(&self, connector_id: &str) -> Result<Option<SealedSecret>> {
        Ok(self
            .conn
            .query_row(
                "SELECT key_id, nonce, ciphertext FROM classic_secrets WHERE connector_id = ?1",
                params![connector_id],
                |row| {
                    Ok(SealedSecret {
                        key_id: row.get(0)?,
                        nonce: row.get(1)?,
                        ciphertext: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_connector::{Connector, Plan};

    use super::SealedSecret;

    #[test]
    fn secrets_are_kept_by_connector_and_go_with_it() {
        let store = crate::test_store();
        let c = Connector::new("legacy", "123456789012", &[Plan::Cspm], vec![], 12, None);
        store.create_connector(&c).unwrap();
        let id = c.id.to_string();
        assert_eq!(store.classic_secret(&id).unwrap(), None);
        let sealed = SealedSecret {
            key_id: "k1".into(),
            nonce: vec![1; 12],
            ciphertext: vec![9, 8, 7],
        };
        store.put_classic_secret(&id, &sealed).unwrap();
        assert_eq!(store.classic_secret(&id).unwrap(), Some(sealed));
        assert!(store.delete_connector("legacy").unwrap());
        assert_eq!(store.classic_secret(&id).unwrap(), None);
    }

    #[test]
    fn a_secret_needs_its_connector() {
        let store = crate::test_store();
        let sealed = SealedSecret {
            key_id: "k1".into(),
            nonce: vec![1; 12],
            ciphertext: vec![9],
        };
        assert!(store.put_classic_secret("no-such-id", &sealed).is_err());
    }
}
