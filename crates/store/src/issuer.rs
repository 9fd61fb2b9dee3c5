//! The OpenID Connect issuer kept in the store (schema version 12), so every
//! server replica and worker signs with, publishes and rotates the same keys.
//! The state (URL, key list, times) is plain JSON without key material; each
//! private key is sealed with an AEAD key kept outside the store (the keys
//! directory's), like classic connectors' secrets.

use crate::db::{OptionalExtension, params};

use crate::{Result, SealedSecret, Store, rfc3339};

/// The `issuer` (one row) and `issuer_keys` tables, created on open.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS issuer (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL,
    generation INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS issuer_keys (
    kid TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL
);
";

/// The issuer as stored: its state, its sealed keys and the generation
/// that a change must name ([`Store::put_issuer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIssuerRecord {
    /// The issuer's state document (no key material).
    pub state: String,
    /// Each private key by key id, sealed.
    pub keys: Vec<(String, SealedSecret)>,
    /// Counts the changes; a change names the generation it was made from.
    pub generation: i64,
}

impl Store {
    /// The issuer kept in the store, if there is one: its state and keys
    /// in one statement, so both are of the same generation.
    pub fn issuer(&self) -> Result<Option<StoredIssuerRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT i.state, i.generation, k.kid, k.key_id, k.nonce, k.ciphertext
             FROM issuer i LEFT JOIN issuer_keys k ON TRUE
             WHERE i.id = 1 ORDER BY k.kid",
        )?;
        let rows = stmt.query_map([], |r| {
            let key = match r.get::<Option<String>>(2)? {
                Some(kid) => Some((
                    kid,
                    SealedSecret {
                        key_id: r.get(3)?,
                        nonce: r.get(4)?,
                        ciphertext: r.get(5)?,
                    },
                )),
                None => None,
            };
            Ok((r.get::<String>(0)?, r.get::<i64>(1)?, key))
        })?;
        let mut record: Option<StoredIssuerRecord> = None;
        for row in rows {
            let (state, generation, key) = row?;
            let record = record.get_or_insert_with(|| StoredIssuerRecord {
                state,
                keys: Vec::new(),
                generation,
            });
            record.keys.extend(key);
        }
        Ok(record)
    }

    /// The kept issuer's generation, or `None` when the store holds no
    /// issuer.
    pub fn issuer_generation(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT generation FROM issuer WHERE id = 1",
                params![],
                |r| r.get::<i64>(0),
            )
            .optional()?)
    }

    /// Writes the issuer's state and keys, atomically, if it is still at
    /// generation `from` (`None`: only if the store holds no issuer yet).
    /// Keys not in `keys` are deleted; a key already stored is kept as it
    /// is (a key id names one key). Returns the new generation, or `None`
    /// when another change came first (nothing is written).
    pub fn put_issuer(
        &self,
        state: &str,
        keys: &[(String, SealedSecret)],
        from: Option<i64>,
    ) -> Result<Option<i64>> {
        let tx = self.conn.begin_write()?;
        let current: Option<i64> = tx
            .query_row(
                "SELECT generation FROM issuer WHERE id = 1",
                params![],
                |r| r.get(0),
            )
            .optional()?;
        if current != from {
            return Ok(None);
        }
        let generation = from.map_or(1, |g| g + 1);
        let now = rfc3339(time::OffsetDateTime::now_utc());
        tx.execute(
            "INSERT INTO issuer (id, state, generation, updated_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, generation = excluded.generation,
                 updated_at = excluded.updated_at",
            params![state, generation, now],
        )?;
        let kept: Vec<&str> = keys.iter().map(|(kid, _)| kid.as_str()).collect();
        let stored: Vec<String> = {
            let mut stmt = tx.prepare("SELECT kid FROM issuer_keys")?;
            let rows = stmt.query_map([], |r| r.get::<String>(0))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()?
        };
        for kid in stored.iter().filter(|kid| !kept.contains(&kid.as_str())) {
            tx.execute("DELETE FROM issuer_keys WHERE kid = ?1", params![kid])?;
        }
        for (kid, sealed) in keys.iter().filter(|(kid, _)| !stored.contains(kid)) {
            tx.execute(
                "INSERT INTO issuer_keys (kid, key_id, nonce, ciphertext) VALUES (?1, ?2, ?3, ?4)",
                params![kid, sealed.key_id, sealed.nonce, sealed.ciphertext],
            )?;
        }
        tx.commit()?;
        Ok(Some(generation))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::SealedSecret;

    fn sealed(byte: u8) -> SealedSecret {
        SealedSecret {
            key_id: "k1".into(),
            nonce: vec![byte; 12],
            ciphertext: vec![byte; 40],
        }
    }

    #[test]
    fn the_issuer_is_written_once_per_generation() {
        let store = crate::test_store();
        assert_eq!(store.issuer().unwrap(), None);
        assert_eq!(store.issuer_generation().unwrap(), None);
        let a = ("a".to_owned(), sealed(1));
        let b = ("b".to_owned(), sealed(2));
        assert_eq!(
            store
                .put_issuer("{\"v\":1}", std::slice::from_ref(&a), None)
                .unwrap(),
            Some(1)
        );
        assert_eq!(store.issuer_generation().unwrap(), Some(1));
        // A second creation, or a change from a stale generation, writes nothing.
        assert_eq!(store.put_issuer("{}", &[], None).unwrap(), None);
        assert_eq!(store.put_issuer("{}", &[], Some(7)).unwrap(), None);
        let got = store.issuer().unwrap().unwrap();
        assert_eq!(got.state, "{\"v\":1}");
        assert_eq!(got.keys, vec![a.clone()]);
        assert_eq!(got.generation, 1);
        // Adding b then dropping a.
        assert_eq!(
            store
                .put_issuer("{\"v\":2}", &[a.clone(), b.clone()], Some(1))
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            store
                .put_issuer("{\"v\":3}", std::slice::from_ref(&b), Some(2))
                .unwrap(),
            Some(3)
        );
        let got = store.issuer().unwrap().unwrap();
        assert_eq!((got.state.as_str(), got.generation), ("{\"v\":3}", 3));
        assert_eq!(got.keys, vec![b]);
    }
}
