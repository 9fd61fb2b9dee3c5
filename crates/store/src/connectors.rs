//! Connectors: the `connectors` table. Each row holds the whole resource as
//! JSON (`body`) plus the columns it is looked up by.

use crate::db::{OptionalExtension, params};
use rampart_connector::Connector;

use crate::{Result, Store, StoreError, rfc3339};

/// The `connectors` table, created by [`Store::init`].
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connectors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    parent TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS connectors_parent ON connectors (parent);
";

const CONNECTOR_BODY: &str = "SELECT body FROM connectors";

impl Store {
    /// Stores a new connector. A connector with the same name (or id)
    /// already stored gives [`StoreError::ConnectorExists`].
    pub fn create_connector(&self, connector: &Connector) -> Result<()> {
        let inserted = self.conn.execute(
            "INSERT INTO connectors (id, name, account, parent, body, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO NOTHING",
            params![
                connector.id.to_string(),
                connector.name,
                connector.account(),
                connector.parent(),
                connector.to_json(),
                rfc3339(connector.created_at),
                rfc3339(connector.updated_at),
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::ConnectorExists(connector.name.clone()));
        }
        Ok(())
    }

    /// The connector with this name, or else with this id.
    pub fn connector(&self, name_or_id: &str) -> Result<Option<Connector>> {
        let body: Option<String> = self
            .conn
            .query_row(
                &format!(
                    "{CONNECTOR_BODY} WHERE name = ?1 OR id = ?1 ORDER BY name = ?1 DESC LIMIT 1"
                ),
                params![name_or_id],
                |row| row.get(0),
            )
            .optional()?;
        body.map(|b| parse_connector(&b)).transpose()
    }

    /// Every connector, sorted by name.
    pub fn connectors(&self) -> Result<Vec<Connector>> {
        self.query_connectors(&format!("{CONNECTOR_BODY} ORDER BY name"), [])
    }

    /// The member connectors of the organization whose management account
    /// is `parent_account`, sorted by name.
    pub fn members_of(&self, parent_account: &str) -> Result<Vec<Connector>> {
        self.query_connectors(
            &format!("{CONNECTOR_BODY} WHERE parent = ?1 ORDER BY name"),
            params![parent_account],
        )
    }

    fn query_connectors(&self, sql: &str, args: impl crate::db::Params) -> Result<Vec<Connector>> {
        let mut stmt = self.conn.prepare(sql)?;
        let bodies = stmt
            .query_map(args, |row| row.get::<String>(0))?
            .collect::<crate::db::DbResult<Vec<_>>>()?;
        bodies.iter().map(|b| parse_connector(b)).collect()
    }

    /// Replaces the stored connector with the same id. Renaming onto another
    /// connector's name gives [`StoreError::ConnectorExists`]; an id not
    /// stored gives [`StoreError::NoSuchConnector`].
    pub fn update_connector(&self, connector: &Connector) -> Result<()> {
        let taken: Option<String> = self
            .conn
            .query_row(
                "SELECT id FROM connectors WHERE name = ?1 AND id <> ?2",
                params![connector.name, connector.id.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::ConnectorExists(connector.name.clone()));
        }
        let changed = self.conn.execute(
            "UPDATE connectors SET name = ?2, account = ?3, parent = ?4, body = ?5, updated_at = ?6
             WHERE id = ?1",
            params![
                connector.id.to_string(),
                connector.name,
                connector.account(),
                connector.parent(),
                connector.to_json(),
                rfc3339(connector.updated_at),
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchConnector(connector.name.clone()));
        }
        Ok(())
    }

    /// Deletes the connector with this name (or id); `false` when there is
    /// none. Member connectors are not touched: delete them with
    /// [`members_of`](Self::members_of) first.
    pub fn delete_connector(&self, name_or_id: &str) -> Result<bool> {
        let Some(connector) = self.connector(name_or_id)? else {
            return Ok(false);
        };
        let deleted = self.conn.execute(
            "DELETE FROM connectors WHERE id = ?1",
            params![connector.id.to_string()],
        )?;
        Ok(deleted > 0)
    }
}

fn parse_connector(body: &str) -> Result<Connector> {
    Connector::from_json(body).map_err(|e| StoreError::Corrupt {
        column: "body",
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use rampart_connector::{Connector, OrganizationalData, Plan};

    use crate::{Store, StoreError};

    fn connector(name: &str, account: &str, organization: Option<OrganizationalData>) -> Connector {
        Connector::new(name, account, &[Plan::Cspm], vec![], 12, organization)
    }

    fn member(name: &str, account: &str, parent: &str) -> Connector {
        connector(
            name,
            account,
            Some(OrganizationalData::Member {
                parent_hierarchy_id: parent.into(),
            }),
        )
    }

    #[test]
    fn create_read_list_update_delete() {
        let store = crate::test_store();
        assert!(store.connectors().unwrap().is_empty());
        let prod = connector("prod", "111111111111", None);
        let dev = connector("dev", "222222222222", None);
        store.create_connector(&prod).unwrap();
        store.create_connector(&dev).unwrap();

        assert_eq!(store.connector("prod").unwrap(), Some(prod.clone()));
        assert_eq!(
            store.connector(&prod.id.to_string()).unwrap(),
            Some(prod.clone())
        );
        assert_eq!(store.connector("nope").unwrap(), None);
        let names: Vec<String> = store
            .connectors()
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["dev", "prod"]);

        let mut changed = prod.clone();
        changed.environment_data.scan_interval = 3;
        changed.set_plans(&[Plan::Cspm, Plan::Servers]);
        store.update_connector(&changed).unwrap();
        let read = store.connector("prod").unwrap().unwrap();
        assert_eq!(read, changed);
        assert_eq!(read.plans(), [Plan::Cspm, Plan::Servers]);

        assert!(store.delete_connector("prod").unwrap());
        assert!(!store.delete_connector("prod").unwrap());
        assert_eq!(store.connector("prod").unwrap(), None);
        assert_eq!(store.connectors().unwrap().len(), 1);
    }

    #[test]
    fn names_are_unique() {
        let store = crate::test_store();
        store
            .create_connector(&connector("prod", "111111111111", None))
            .unwrap();
        let err = store
            .create_connector(&connector("prod", "222222222222", None))
            .unwrap_err();
        assert!(matches!(&err, StoreError::ConnectorExists(name) if name == "prod"));
        assert_eq!(err.to_string(), "connector `prod` already exists");

        let mut dev = connector("dev", "222222222222", None);
        store.create_connector(&dev).unwrap();
        dev.name = "prod".into();
        assert!(matches!(
            store.update_connector(&dev),
            Err(StoreError::ConnectorExists(_))
        ));
        assert_eq!(
            store.connector("prod").unwrap().unwrap().account(),
            "111111111111"
        );
    }

    #[test]
    fn updating_an_unknown_connector_fails() {
        let store = crate::test_store();
        assert!(matches!(
            store.update_connector(&connector("ghost", "111111111111", None)),
            Err(StoreError::NoSuchConnector(name)) if name == "ghost"
        ));
    }

    #[test]
    fn members_are_found_by_parent() {
        let store = crate::test_store();
        let org = connector(
            "org",
            "111111111111",
            Some(OrganizationalData::Organization {
                stackset_name: "Rampart".into(),
                excluded_account_ids: vec![],
            }),
        );
        store.create_connector(&org).unwrap();
        store
            .create_connector(&member("m-b", "333333333333", "111111111111"))
            .unwrap();
        store
            .create_connector(&member("m-a", "222222222222", "111111111111"))
            .unwrap();
        store
            .create_connector(&member("other", "444444444444", "999999999999"))
            .unwrap();
        let members: Vec<String> = store
            .members_of("111111111111")
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(members, ["m-a", "m-b"]);
        assert!(store.members_of("222222222222").unwrap().is_empty());
    }

    #[test]
    fn connectors_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.db");
        let prod = connector("prod", "111111111111", None);
        Store::open(&path).unwrap().create_connector(&prod).unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.connectors().unwrap(), [prod]);
    }

    #[test]
    fn a_corrupt_body_is_reported() {
        let store = crate::test_store();
        store
            .conn
            .execute(
                "INSERT INTO connectors (id, name, account, body, created_at, updated_at)
                 VALUES ('x', 'bad', '111111111111', '{\"offerings\":[{\"offeringType\":\"Nope\"}]}', '', '')",
                [],
            )
            .unwrap();
        let err = store.connector("bad").unwrap_err().to_string();
        assert!(err.contains("unknown offering type `Nope`"), "{err}");
    }
}
