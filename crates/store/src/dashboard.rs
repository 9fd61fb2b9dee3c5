//! Reads the dashboard needs beyond the API's pages: one asset by its key,
//! the inventory's facets (types and regions with counts), the latest
//! scores for a trend line. Each is one indexed SQL query.

use crate::db::{OptionalExtension, params};
use rampart_model::Asset;

use crate::{Result, ScorePoint, Store, collect_rows, parse_json, parse_time};

/// Indexes for the dashboard's and the API's reads: a resource's
/// assessments in page order, and filtered pages in key order (inventory by region or
/// account, assessments by status), so a page of a filtered list reads
/// about one page of rows however rare its matches are
/// (`scripts/bench-server`).
pub(crate) const SCHEMA: &str = "
-- Schema version 11 reads the current state without a scan: the indexes
-- that began with `scan_id` gave way to the same without it.
DROP INDEX IF EXISTS assessments_scan_resource;
DROP INDEX IF EXISTS assessments_scan_resource_key;
DROP INDEX IF EXISTS assets_scan_region_type;
DROP INDEX IF EXISTS assets_scan_account_type;
DROP INDEX IF EXISTS assessments_scan_status_key;
CREATE INDEX IF NOT EXISTS assessments_resource_key ON assessments (resource, recommendation);
CREATE INDEX IF NOT EXISTS assets_key ON assets (type, arn);
CREATE INDEX IF NOT EXISTS assets_arn ON assets (arn);
CREATE INDEX IF NOT EXISTS assets_region_type ON assets (region, type, arn);
CREATE INDEX IF NOT EXISTS assets_account_type ON assets (account, type, arn);
CREATE INDEX IF NOT EXISTS assessments_status_key ON assessments (status, recommendation, resource);
-- Reads of one account's or region's part (a scoped score, compliance,
-- counts): without it each read scanned every current assessment.
CREATE INDEX IF NOT EXISTS assessments_account_region ON assessments (account, region);
CREATE INDEX IF NOT EXISTS assessments_region ON assessments (region);
-- One account's gaps (a scan replacing its accounts' current state, the
-- sweep of departed accounts, a connector's page).
CREATE INDEX IF NOT EXISTS gaps_account ON gaps (account);
";

fn count_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// One asset of a scan by its type and ARN (the primary key).
    pub fn asset(&self, resource_type: &str, arn: &str) -> Result<Option<Asset>> {
        self.conn
            .query_row(
                "SELECT arn, type, account, region, name, tags, properties, unavailable FROM assets
                 WHERE type = ?1 AND arn = ?2",
                params![resource_type, arn],
                crate::asset_from_row,
            )
            .optional()?
            .transpose()
    }

    /// A scan's resource types with their asset counts, by type.
    pub fn asset_type_counts(&self) -> Result<Vec<(String, u64)>> {
        self.asset_counts_by("type")
    }

    /// A scan's regions with their asset counts, by region.
    pub fn asset_region_counts(&self) -> Result<Vec<(String, u64)>> {
        self.asset_counts_by("region")
    }

    /// A scan's accounts with their asset counts, by account: the estate a
    /// snapshot holds (the accounts it scanned and those it kept).
    pub fn asset_account_counts(&self) -> Result<Vec<(String, u64)>> {
        self.asset_account_counts_in(&crate::Scope::default())
    }

    /// Asset counts of a scan grouped by `column` (a fixed column name).
    fn asset_counts_by(&self, column: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {column}, COUNT(*) FROM assets GROUP BY {column} ORDER BY {column}"
        ))?;
        let rows = stmt.query_map([], |r| Ok(Ok((r.get::<String>(0)?, count_of(r.get(1)?)))))?;
        collect_rows(rows)
    }

    /// The cached secure scores of the `limit` latest complete scans,
    /// oldest first (for a trend line).
    pub fn recent_scores(&self, limit: u64) -> Result<Vec<ScorePoint>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.id, s.finished_at, json_extract(p.value, '$.percent') FROM scans s
             JOIN scan_posture p ON p.scan_id = s.id AND p.kind = 'score'
             WHERE s.status = 'complete'
             ORDER BY s.finished_at DESC, s.id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![crate::to_i64(limit)], |r| {
            let id: String = r.get(0)?;
            let finished: String = r.get(1)?;
            let percent: f64 = r.get(2)?;
            Ok(
                parse_time("finished_at", &finished).map(|finished_at| ScorePoint {
                    scan_id: id,
                    finished_at,
                    percent,
                }),
            )
        })?;
        let mut points = collect_rows(rows)?;
        points.reverse();
        Ok(points)
    }

    /// The tags of a scan's asset with this ARN (any type), for exemptions
    /// matching on tags; `None` when the scan has no such asset.
    pub fn asset_tags(
        &self,
        arn: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>> {
        let text: Option<String> = self
            .conn
            .query_row(
                "SELECT tags FROM assets WHERE arn = ?1 LIMIT 1",
                params![arn],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| parse_json("tags", &t)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rampart_model::{
        Assessment, AssessmentStatus, CoverageGap, ScanRecord, ScanStatus, Snapshot,
    };
    use time::OffsetDateTime;

    use super::*;
    use crate::AssessmentFilter;

    fn asset(arn: &str, ty: &str, region: &str) -> Asset {
        Asset::new(arn, ty, "123456789012", region, arn, serde_json::json!({})).with_tags(
            BTreeMap::from([("Name".to_owned(), format!("<b>{arn}</b>"))]),
        )
    }

    fn assessment(rec: &str, resource: &str, status: AssessmentStatus) -> Assessment {
        Assessment {
            recommendation: rec.into(),
            resource: resource.into(),
            resource_type: "T".into(),
            resource_name: resource.into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            status,
            reason: String::new(),
            evidence: Vec::new(),
            exemption: None,
        }
    }

    fn store() -> Store {
        let mut store = crate::test_store();
        let snapshot = Snapshot {
            scan: ScanRecord {
                id: "s".into(),
                started_at: OffsetDateTime::UNIX_EPOCH,
                finished_at: None,
                status: ScanStatus::Running,
                accounts: vec![],
                regions: vec![],
                api_calls: 0,
                asset_count: 0,
                gap_count: 0,
            },
            assets: vec![
                asset("arn:1", "AWS::S3::Bucket", "us-east-1"),
                asset("arn:2", "AWS::S3::Bucket", "eu-west-1"),
                asset("arn:3", "AWS::EC2::Instance", "eu-west-1"),
            ],
            gaps: Vec::<CoverageGap>::new(),
        };
        let assessments = [
            assessment("a", "arn:1", AssessmentStatus::Healthy),
            assessment("a", "arn:2", AssessmentStatus::Unhealthy),
            assessment("a", "arn:3", AssessmentStatus::Unhealthy),
            assessment("b", "arn:3", AssessmentStatus::Error),
        ];
        store.complete_scan(&snapshot, &assessments).unwrap();
        store
    }

    #[test]
    fn one_asset_by_key_and_facets() {
        let store = store();
        let a = store.asset("AWS::S3::Bucket", "arn:2").unwrap().unwrap();
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(a.tags.get("Name").unwrap(), "<b>arn:2</b>");
        assert!(
            store
                .asset("AWS::EC2::Instance", "arn:2")
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store.asset_type_counts().unwrap(),
            vec![
                ("AWS::EC2::Instance".into(), 1),
                ("AWS::S3::Bucket".into(), 2)
            ]
        );
        assert_eq!(
            store.asset_region_counts().unwrap(),
            vec![("eu-west-1".into(), 2), ("us-east-1".into(), 1)]
        );
        assert_eq!(
            store
                .asset_tags("arn:3")
                .unwrap()
                .unwrap()
                .get("Name")
                .unwrap(),
            "<b>arn:3</b>"
        );
        assert!(store.asset_tags("arn:9").unwrap().is_none());
    }

    #[test]
    fn recent_scores_are_the_latest_ones_oldest_first() {
        let mut store = crate::test_store();
        for (i, percent) in [10.0, 20.0, 30.0].into_iter().enumerate() {
            let id = format!("s{i}");
            let minute = i64::try_from(i).unwrap();
            let snapshot = Snapshot {
                scan: ScanRecord {
                    id: id.clone(),
                    started_at: OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute),
                    finished_at: Some(
                        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute + 1),
                    ),
                    status: ScanStatus::Running,
                    accounts: vec![],
                    regions: vec![],
                    api_calls: 0,
                    asset_count: 0,
                    gap_count: 0,
                },
                assets: vec![],
                gaps: vec![],
            };
            store.complete_scan(&snapshot, &[]).unwrap();
            store
                .put_posture(&id, "score", &serde_json::json!({"percent": percent}))
                .unwrap();
        }
        let points: Vec<(String, f64)> = store
            .recent_scores(2)
            .unwrap()
            .into_iter()
            .map(|p| (p.scan_id, p.percent))
            .collect();
        assert_eq!(points, vec![("s1".into(), 20.0), ("s2".into(), 30.0)]);
    }

    #[test]
    fn the_resource_index_serves_a_resources_assessments() {
        let store = store();
        let of_three = store
            .assessments_page(
                &AssessmentFilter {
                    resource: Some("arn:3".into()),
                    ..Default::default()
                },
                None,
                10,
            )
            .unwrap();
        assert_eq!(of_three.len(), 2);
        // The page's query, ordered and limited: without the
        // recommendation in the index SQLite walks the primary key instead,
        // every assessment of the scan, to skip the sort.
        let query = "SELECT * FROM assessments WHERE resource = 'arn:3'
                 ORDER BY recommendation, resource LIMIT 10";
        if store.backend() == crate::db::Backend::Sqlite {
            let plan: Vec<String> = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
                .unwrap()
                .query_map([], |r| r.get(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains("assessments_resource_key"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        } else {
            // A table this small is read whole unless told otherwise.
            store
                .conn
                .execute_batch("SET enable_seqscan = off")
                .unwrap();
            let plan: Vec<String> = store
                .conn
                .prepare(&format!("EXPLAIN {query}"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains("assessments_resource_key"), "{plan}");
            assert!(!plan.contains("Sort"), "{plan}");
        }
    }
}
