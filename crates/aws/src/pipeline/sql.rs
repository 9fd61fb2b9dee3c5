//! Which log groups carry a SQL Server's logs, for the SQL plan's log
//! pipelines ([`super::containers`] with [`PipelineSource::LogGroup`]):
//!
//! * RDS for SQL Server and RDS Custom for SQL Server instances that
//!   export their `error` log: `/aws/rds/instance/<id>/error` (RDS names
//!   it; it appears once the first lines are written);
//! * the log groups the connector names (`threatDetection.logGroups`),
//!   where the CloudWatch agent of an EC2 or RDS Custom host writes the
//!   error log, SQL Server Audit records or Windows process events. Log
//!   groups are regional: a named group is used in each region it exists
//!   in.
//!
//! [`PipelineSource::LogGroup`]: super::containers::PipelineSource::LogGroup

use serde::Serialize;

use super::PipelineError;
use crate::access::AwsAccess;
use crate::collectors::Operation;
use crate::op;

/// Every call [`find_log_groups`] may make, with its IAM action.
pub const FIND_OPERATIONS: &[Operation] = &[
    op!("rds", "DescribeDBInstances"),
    op!("logs", "DescribeLogGroups"),
];

/// One log group of SQL Server logs in one region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SqlLogGroup {
    /// The region.
    pub region: String,
    /// The log group's name.
    pub log_group: String,
    /// The RDS DB instance whose exported log it is; `None` for a group
    /// the connector names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_instance: Option<String>,
}

/// The log group an RDS DB instance exports its SQL Server `error` log to.
pub fn rds_error_log_group(db_instance: &str) -> String {
    format!("/aws/rds/instance/{db_instance}/error")
}

/// The RDS DB instance of an exported-log group
/// (`/aws/rds/instance/<id>/<log>`).
pub fn rds_instance_of_log_group(log_group: &str) -> Option<&str> {
    let rest = log_group.strip_prefix("/aws/rds/instance/")?;
    let (id, log) = rest.split_once('/')?;
    (!id.is_empty() && !log.is_empty() && !log.contains('/')).then_some(id)
}

/// The SQL Server log groups of one region: RDS instances exporting their
/// `error` log, and those of `named` that exist in the region (in that
/// order, without duplicates). `Err` when a listing failed: a region's
/// groups are never reported partly.
pub async fn find_log_groups(
    access: &AwsAccess,
    region: &str,
    named: &[String],
) -> Result<Vec<SqlLogGroup>, PipelineError> {
    let mut found = Vec::new();
    let mut pages = access
        .rds(region)
        .describe_db_instances()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| PipelineError::call("DescribeDBInstances", &e))?;
        for db in page.db_instances() {
            let sql_server = db
                .engine()
                .is_some_and(|e| e.starts_with("sqlserver-") || e.starts_with("custom-sqlserver-"));
            let exports_error = db
                .enabled_cloudwatch_logs_exports()
                .iter()
                .any(|l| l == "error");
            if let (true, true, Some(id)) = (sql_server, exports_error, db.db_instance_identifier())
            {
                found.push(SqlLogGroup {
                    region: region.to_owned(),
                    log_group: rds_error_log_group(id),
                    db_instance: Some(id.to_owned()),
                });
            }
        }
    }
    let logs = access.logs(region);
    for name in named {
        if found.iter().any(|g| &g.log_group == name) {
            continue;
        }
        let mut pages = logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .send();
        let mut exists = false;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| PipelineError::call("DescribeLogGroups", &e))?;
            if page
                .log_groups()
                .iter()
                .any(|g| g.log_group_name() == Some(name.as_str()))
            {
                exists = true;
                break;
            }
        }
        if exists {
            found.push(SqlLogGroup {
                region: region.to_owned(),
                log_group: name.clone(),
                db_instance: rds_instance_of_log_group(name).map(str::to_owned),
            });
        }
    }
    Ok(found)
}

/// The SQL Server log groups of several regions.
#[derive(Debug, Clone, Default)]
pub struct FoundLogGroups {
    /// The groups found, region by region.
    pub groups: Vec<SqlLogGroup>,
    /// Regions whose groups could not be listed, with why.
    pub region_errors: Vec<(String, PipelineError)>,
    /// Named groups that exist in none of the regions; empty when a region
    /// could not be listed (then nothing is known to be missing).
    pub not_found: Vec<String>,
}

/// [`find_log_groups`] in every region of `regions`.
pub async fn find_log_groups_in(
    access: &AwsAccess,
    regions: &[String],
    named: &[String],
) -> FoundLogGroups {
    let mut found = FoundLogGroups::default();
    for region in regions {
        match find_log_groups(access, region, named).await {
            Ok(groups) => found.groups.extend(groups),
            Err(error) => found.region_errors.push((region.clone(), error)),
        }
    }
    if found.region_errors.is_empty() {
        found.not_found = named
            .iter()
            .filter(|n| !found.groups.iter().any(|g| &g.log_group == *n))
            .cloned()
            .collect();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_log_groups_name_their_instance() {
        let group = rds_error_log_group("sql-prod-1");
        assert_eq!(group, "/aws/rds/instance/sql-prod-1/error");
        assert_eq!(rds_instance_of_log_group(&group), Some("sql-prod-1"));
        assert_eq!(
            rds_instance_of_log_group("/aws/rds/instance/x/agent"),
            Some("x")
        );
        for other in [
            "/sql/errorlog",
            "/aws/rds/instance//error",
            "/aws/rds/instance/x",
            "/aws/rds/instance/x/error/more",
            "/aws/eks/prod/cluster",
        ] {
            assert_eq!(rds_instance_of_log_group(other), None, "{other}");
        }
    }
}
