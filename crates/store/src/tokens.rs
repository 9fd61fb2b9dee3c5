//! API tokens: only their SHA-256 hashes are stored, with a role.

use crate::db::{OptionalExtension, params};
use time::OffsetDateTime;

use crate::{Result, Store, StoreError, collect_rows, parse_time, rfc3339};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used TEXT
);
";

/// What a token may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenRole {
    /// Reads everything, changes nothing.
    Reader,
    /// Reads and changes.
    Admin,
}

impl TokenRole {
    /// `reader` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Admin => "admin",
        }
    }

    /// Parses `reader` or `admin`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reader" => Some(Self::Reader),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A stored API token (its secret is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRecord {
    /// Public id, used to list and revoke.
    pub id: String,
    /// Hex SHA-256 of the secret.
    #[serde(skip)]
    pub hash: String,
    /// A label for people.
    pub name: String,
    /// What it may do.
    pub role: TokenRole,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last used (updated at most about once a minute).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used: Option<OffsetDateTime>,
}

const COLUMNS: &str = "SELECT id, hash, name, role, created_at, last_used FROM api_tokens";

fn from_row(row: &crate::db::Row<'_>) -> crate::RowResult<TokenRecord> {
    let (id, hash, name): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let role: String = row.get(3)?;
    let created: String = row.get(4)?;
    let last_used: Option<String> = row.get(5)?;
    Ok((|| {
        Ok(TokenRecord {
            id,
            hash,
            name,
            role: TokenRole::parse(&role).ok_or_else(|| StoreError::Corrupt {
                column: "role",
                reason: format!("unknown role `{role}`"),
            })?,
            created_at: parse_time("created_at", &created)?,
            last_used: last_used.map(|t| parse_time("last_used", &t)).transpose()?,
        })
    })())
}

impl Store {
    /// Stores a new token.
    pub fn create_token(&self, token: &TokenRecord) -> Result<()> {
        self.conn.execute(
            "INSERT INTO api_tokens (id, hash, name, role, created_at, last_used) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                token.id,
                token.hash,
                token.name,
                token.role.as_str(),
                rfc3339(token.created_at),
                token.last_used.map(rfc3339),
            ],
        )?;
        Ok(())
    }

    /// The token with this secret hash, if any.
    pub fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.conn
            .query_row(
                &format!("{COLUMNS} WHERE hash = ?1"),
                params![hash],
                from_row,
            )
            .optional()?
            .transpose()
    }

    /// Every token, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{COLUMNS} ORDER BY created_at, id"))?;
        let rows = stmt.query_map([], from_row)?;
        collect_rows(rows)
    }

    /// Deletes a token; `false` when there was none with this id.
    pub fn revoke_token(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM api_tokens WHERE id = ?1", params![id])?
            > 0)
    }

    /// Records that a token was used at `at`.
    pub fn touch_token(&self, id: &str, at: OffsetDateTime) -> Result<()> {
        self.conn.execute(
            "UPDATE api_tokens SET last_used = ?2 WHERE id = ?1",
            params![id, rfc3339(at)],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_by_hash_and_can_be_revoked() {
        let store = crate::test_store();
        let token = TokenRecord {
            id: "t1".into(),
            hash: "abc".into(),
            name: "ci".into(),
            role: TokenRole::Reader,
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_used: None,
        };
        store.create_token(&token).unwrap();
        assert_eq!(store.token_by_hash("abc").unwrap(), Some(token.clone()));
        assert_eq!(store.token_by_hash("abd").unwrap(), None);
        let later = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1);
        store.touch_token("t1", later).unwrap();
        assert_eq!(store.tokens().unwrap()[0].last_used, Some(later));
        assert!(store.revoke_token("t1").unwrap());
        assert!(!store.revoke_token("t1").unwrap());
        assert!(store.token_by_hash("abc").unwrap().is_none());
    }
}
