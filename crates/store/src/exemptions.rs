//! Exemptions created through the API (the YAML file's live beside them).

use crate::db::{OptionalExtension, params};
use rampart_catalog::exemptions::Exemption;
use time::OffsetDateTime;

use crate::{Result, Store, collect_rows, parse_time, rfc3339};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS exemptions (
    id TEXT PRIMARY KEY,
    recommendation TEXT,
    resource TEXT,
    account TEXT,
    region TEXT,
    tag TEXT,
    reason TEXT NOT NULL,
    expires TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
";

/// A stored exemption.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredExemption {
    /// Its id.
    pub id: String,
    /// What it exempts.
    #[serde(flatten)]
    pub exemption: Exemption,
    /// Who created it (the token's name).
    pub created_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "SELECT id, recommendation, resource, account, region, tag, reason, expires, created_by, created_at FROM exemptions";

fn from_row(row: &crate::db::Row<'_>) -> crate::RowResult<StoredExemption> {
    let id: String = row.get(0)?;
    let exemption = Exemption {
        recommendation: row.get(1)?,
        resource: row.get(2)?,
        account: row.get(3)?,
        region: row.get(4)?,
        tag: row.get(5)?,
        reason: row.get(6)?,
        expires: row.get(7)?,
    };
    let created_by: String = row.get(8)?;
    let created: String = row.get(9)?;
    Ok(
        parse_time("created_at", &created).map(|created_at| StoredExemption {
            id,
            exemption,
            created_by,
            created_at,
        }),
    )
}

impl Store {
    /// Stores an exemption, or replaces the one with the same id.
    pub fn put_exemption(&self, e: &StoredExemption) -> Result<()> {
        let x = &e.exemption;
        self.conn.execute(
            "INSERT INTO exemptions (id, recommendation, resource, account, region, tag, reason, expires, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET recommendation = excluded.recommendation, resource = excluded.resource, account = excluded.account, region = excluded.region, tag = excluded.tag, reason = excluded.reason, expires = excluded.expires, created_by = excluded.created_by, created_at = excluded.created_at",
            params![
                e.id,
                x.recommendation,
                x.resource,
                x.account,
                x.region,
                x.tag,
                x.reason,
                x.expires,
                e.created_by,
                rfc3339(e.created_at),
            ],
        )?;
        Ok(())
    }

    /// The oldest stored exemption with exactly this content (what it
    /// exempts, the reason and the expiry), if any: saving the same
    /// exemption twice (a retried request) finds the first one.
    pub fn exemption_like(&self, x: &Exemption) -> Result<Option<StoredExemption>> {
        self.conn
            .query_row(
                &format!(
                    "{COLUMNS} WHERE recommendation IS NOT DISTINCT FROM ?1 AND resource IS NOT DISTINCT FROM ?2 AND account IS NOT DISTINCT FROM ?3
                     AND region IS NOT DISTINCT FROM ?4 AND tag IS NOT DISTINCT FROM ?5 AND reason = ?6 AND expires IS NOT DISTINCT FROM ?7
                     ORDER BY created_at, id LIMIT 1"
                ),
                params![
                    x.recommendation,
                    x.resource,
                    x.account,
                    x.region,
                    x.tag,
                    x.reason,
                    x.expires
                ],
                from_row,
            )
            .optional()?
            .transpose()
    }

    /// One exemption.
    pub fn exemption(&self, id: &str) -> Result<Option<StoredExemption>> {
        self.conn
            .query_row(&format!("{COLUMNS} WHERE id = ?1"), params![id], from_row)
            .optional()?
            .transpose()
    }

    /// Stored exemptions, oldest first: `limit` of them after skipping `offset`.
    pub fn exemptions(&self, offset: u64, limit: u64) -> Result<Vec<StoredExemption>> {
        let mut stmt = self.conn.prepare(&format!(
            "{COLUMNS} ORDER BY created_at, id LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(
            params![crate::to_i64(limit), crate::to_i64(offset)],
            from_row,
        )?;
        collect_rows(rows)
    }

    /// Every stored exemption (for evaluation).
    pub fn all_exemptions(&self) -> Result<Vec<Exemption>> {
        Ok(self
            .exemptions(0, u64::MAX / 2)?
            .into_iter()
            .map(|e| e.exemption)
            .collect())
    }

    /// Deletes an exemption; `false` when there was none with this id.
    pub fn delete_exemption(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM exemptions WHERE id = ?1", params![id])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exemptions_are_stored_listed_replaced_and_deleted() {
        let store = crate::test_store();
        let mut e = StoredExemption {
            id: "e1".into(),
            exemption: Exemption {
                recommendation: Some("rec".into()),
                resource: Some("arn:aws:s3:::web-*".into()),
                account: None,
                region: Some("us-east-1".into()),
                tag: None,
                reason: "public site".into(),
                expires: Some("2030-01-01".into()),
            },
            created_by: "admin".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        store.put_exemption(&e).unwrap();
        assert_eq!(store.exemption("e1").unwrap(), Some(e.clone()));
        e.exemption.reason = "changed".into();
        store.put_exemption(&e).unwrap();
        assert_eq!(store.exemptions(0, 10).unwrap(), vec![e.clone()]);
        assert_eq!(store.all_exemptions().unwrap(), vec![e.exemption.clone()]);
        assert!(store.exemptions(1, 10).unwrap().is_empty());
        assert!(store.delete_exemption("e1").unwrap());
        assert!(!store.delete_exemption("e1").unwrap());
        assert!(store.exemption("e1").unwrap().is_none());
    }

    #[test]
    fn the_same_content_is_found_and_other_content_is_not() {
        let store = crate::test_store();
        let e = StoredExemption {
            id: "e1".into(),
            exemption: Exemption {
                recommendation: Some("rec".into()),
                resource: None,
                account: None,
                region: Some("us-east-1".into()),
                tag: None,
                reason: "test data".into(),
                expires: None,
            },
            created_by: "admin".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(store.exemption_like(&e.exemption).unwrap(), None);
        store.put_exemption(&e).unwrap();
        assert_eq!(store.exemption_like(&e.exemption).unwrap(), Some(e.clone()));
        let mut other = e.exemption.clone();
        other.region = None;
        assert_eq!(store.exemption_like(&other).unwrap(), None);
        let mut other = e.exemption.clone();
        other.reason = "another reason".into();
        assert_eq!(store.exemption_like(&other).unwrap(), None);
    }
}
