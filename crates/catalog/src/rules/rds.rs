//! Rules for RDS: DB instances, DB clusters (Aurora, Multi-AZ DB clusters,
//! and the DocumentDB and Neptune clusters the same API returns), DB
//! snapshots and DB cluster snapshots.
//!
//! Engine matters. Members of a cluster (`dbClusterIdentifier` set: Aurora,
//! Multi-AZ DB clusters, DocumentDB, Neptune) take backups, deletion
//! protection, IAM authentication, log exports, copy-tags, port and master
//! user from their cluster, so the instance-level checks of those settings
//! are not applicable to them and the cluster-level recommendations assess
//! the cluster instead. Snapshot checks assess every snapshot, automated and
//! AWS Backup ones included (AWS Config's `rds-snapshots-public-prohibited`
//! and `rds-snapshot-encrypted` exclude none); only manual snapshots can be
//! shared, so the others pass the public-snapshot checks.

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    // DB instances.
    Rule {
        id: "rds-instance-not-publicly-accessible",
        check: instance_not_publicly_accessible,
    },
    Rule {
        id: "rds-instance-storage-encrypted",
        check: instance_storage_encrypted,
    },
    Rule {
        id: "rds-instance-multi-az",
        check: instance_multi_az,
    },
    Rule {
        id: "rds-instance-enhanced-monitoring",
        check: instance_enhanced_monitoring,
    },
    Rule {
        id: "rds-instance-deletion-protection",
        check: instance_deletion_protection,
    },
    Rule {
        id: "rds-instance-cloudwatch-logs",
        check: instance_cloudwatch_logs,
    },
    Rule {
        id: "rds-postgresql-instance-cloudwatch-logs",
        check: postgresql_instance_cloudwatch_logs,
    },
    Rule {
        id: "rds-sqlserver-instance-cloudwatch-logs",
        check: sqlserver_instance_cloudwatch_logs,
    },
    Rule {
        id: "rds-mariadb-instance-cloudwatch-logs",
        check: mariadb_instance_cloudwatch_logs,
    },
    Rule {
        id: "rds-instance-iam-authentication",
        check: instance_iam_authentication,
    },
    Rule {
        id: "rds-instance-automated-backups",
        check: instance_automated_backups,
    },
    Rule {
        id: "rds-instance-auto-minor-version-upgrade",
        check: instance_auto_minor_version_upgrade,
    },
    Rule {
        id: "rds-instance-copy-tags-to-snapshots",
        check: instance_copy_tags_to_snapshots,
    },
    Rule {
        id: "rds-instance-in-vpc",
        check: instance_in_vpc,
    },
    Rule {
        id: "rds-instance-no-default-port",
        check: instance_no_default_port,
    },
    Rule {
        id: "rds-instance-custom-admin-username",
        check: instance_custom_admin_username,
    },
    // DB clusters.
    Rule {
        id: "rds-cluster-storage-encrypted",
        check: cluster_storage_encrypted,
    },
    Rule {
        id: "rds-cluster-deletion-protection",
        check: cluster_deletion_protection,
    },
    Rule {
        id: "rds-cluster-iam-authentication",
        check: cluster_iam_authentication,
    },
    Rule {
        id: "rds-cluster-multi-az",
        check: cluster_multi_az,
    },
    Rule {
        id: "rds-aurora-cluster-copy-tags-to-snapshots",
        check: aurora_cluster_copy_tags_to_snapshots,
    },
    Rule {
        id: "rds-postgresql-cluster-copy-tags-to-snapshots",
        check: postgresql_cluster_copy_tags_to_snapshots,
    },
    Rule {
        id: "rds-mysql-cluster-copy-tags-to-snapshots",
        check: mysql_cluster_copy_tags_to_snapshots,
    },
    Rule {
        id: "rds-cluster-auto-minor-version-upgrade",
        check: cluster_auto_minor_version_upgrade,
    },
    Rule {
        id: "rds-aurora-mysql-cluster-backtracking",
        check: aurora_mysql_cluster_backtracking,
    },
    Rule {
        id: "rds-aurora-mysql-cluster-audit-logs",
        check: aurora_mysql_cluster_audit_logs,
    },
    Rule {
        id: "rds-aurora-postgresql-cluster-cloudwatch-logs",
        check: aurora_postgresql_cluster_cloudwatch_logs,
    },
    Rule {
        id: "rds-cluster-custom-admin-username",
        check: cluster_custom_admin_username,
    },
    Rule {
        id: "rds-cluster-no-default-port",
        check: cluster_no_default_port,
    },
    // Snapshots.
    Rule {
        id: "rds-snapshot-not-public",
        check: snapshot_not_public,
    },
    Rule {
        id: "rds-cluster-snapshot-not-public",
        check: cluster_snapshot_not_public,
    },
    Rule {
        id: "rds-snapshot-encrypted",
        check: snapshot_encrypted,
    },
    Rule {
        id: "rds-cluster-snapshot-encrypted",
        check: cluster_snapshot_encrypted,
    },
    // Encryption in transit and audit settings from parameter groups.
    Rule {
        id: "rds-postgresql-instance-encrypted-in-transit",
        check: postgresql_instance_encrypted_in_transit,
    },
    Rule {
        id: "rds-mysql-instance-encrypted-in-transit",
        check: mysql_instance_encrypted_in_transit,
    },
    Rule {
        id: "rds-sqlserver-instance-encrypted-in-transit",
        check: sqlserver_instance_encrypted_in_transit,
    },
    Rule {
        id: "rds-mariadb-instance-encrypted-in-transit",
        check: mariadb_instance_encrypted_in_transit,
    },
    Rule {
        id: "rds-aurora-mysql-cluster-audit-logging",
        check: aurora_mysql_cluster_audit_logging,
    },
    // RDS Proxy.
    Rule {
        id: "rds-proxy-tls-required",
        check: proxy_tls_required,
    },
    // Event notification subscriptions.
    Rule {
        id: "rds-event-subscription-cluster-critical-events",
        check: event_subscription_cluster_critical_events,
    },
    Rule {
        id: "rds-event-subscription-instance-critical-events",
        check: event_subscription_instance_critical_events,
    },
    Rule {
        id: "rds-event-subscription-parameter-group-critical-events",
        check: event_subscription_parameter_group_critical_events,
    },
    Rule {
        id: "rds-event-subscription-security-group-critical-events",
        check: event_subscription_security_group_critical_events,
    },
];

// ---------------------------------------------------------------------------
// Helpers.

/// The error for a setting the API did not report (JSON `null`): unknown,
/// never taken as a default.
pub(super) fn not_reported(path: &str) -> Unreadable {
    Unreadable {
        path: path.to_owned(),
        error: "the RDS API did not report this setting".to_owned(),
    }
}

/// A boolean the API must report.
pub(super) fn reported_bool(p: &Props<'_>, path: &str) -> Result<bool, Unreadable> {
    p.bool(path)?.ok_or_else(|| not_reported(path))
}

/// DocumentDB.2 / Neptune.5: automated backups kept at least
/// [`MIN_BACKUP_RETENTION_DAYS`] days (`backupRetentionPeriod`).
pub(super) fn backup_retention(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    let days = reported_i64(p, "backupRetentionPeriod")?;
    Ok(Outcome::either(
        days >= MIN_BACKUP_RETENTION_DAYS,
        format!("Automated backups are kept for {days} days."),
        format!(
            "Automated backups are kept for only {days} day(s); set `BackupRetentionPeriod` to at least {MIN_BACKUP_RETENTION_DAYS}."
        ),
    )
    .with(p.evidence("backupRetentionPeriod")))
}

/// A number the API must report.
pub(super) fn reported_i64(p: &Props<'_>, path: &str) -> Result<i64, Unreadable> {
    p.i64(path)?.ok_or_else(|| not_reported(path))
}

/// A string the API must report.
pub(super) fn reported_str<'a>(p: &Props<'a>, path: &str) -> Result<&'a str, Unreadable> {
    p.str(path)?.ok_or_else(|| not_reported(path))
}

/// The engine (`mysql`, `aurora-postgresql`, `sqlserver-ex`, `docdb`, ...).
pub(super) fn engine<'a>(p: &Props<'a>) -> Result<&'a str, Unreadable> {
    reported_str(p, "engine")
}

/// Aurora engines (`aurora`, `aurora-mysql`, `aurora-postgresql`).
fn is_aurora(engine: &str) -> bool {
    engine.starts_with("aurora")
}

/// Aurora MySQL (`aurora` is the MySQL 5.6-compatible engine's old name).
pub(super) fn is_aurora_mysql(engine: &str) -> bool {
    engine == "aurora-mysql" || engine == "aurora"
}

/// DocumentDB and Neptune share the RDS API but are not RDS database engines.
fn is_docdb_or_neptune(engine: &str) -> bool {
    engine == "docdb" || engine == "neptune"
}

/// RDS Custom engines (`custom-oracle-ee`, `custom-sqlserver-se`, ...).
fn is_rds_custom(engine: &str) -> bool {
    engine.starts_with("custom-")
}

/// The engine's well-known default port, if it has one RDS uses.
fn default_port(engine: &str) -> Option<i64> {
    let engine = engine.strip_prefix("custom-").unwrap_or(engine);
    match engine {
        "mysql" | "mariadb" | "aurora" | "aurora-mysql" => Some(3306),
        "postgres" | "aurora-postgresql" => Some(5432),
        e if e.starts_with("oracle-") => Some(1521),
        e if e.starts_with("sqlserver-") => Some(1433),
        e if e.starts_with("db2-") => Some(50000),
        _ => None,
    }
}

/// Master user names RDS proposes by default, so the first ones an attacker
/// tries.
fn is_default_admin(username: &str) -> bool {
    ["admin", "postgres"]
        .iter()
        .any(|d| username.eq_ignore_ascii_case(d))
}

/// The log types FSBP RDS.9 expects a standalone DB instance of this engine
/// to export to CloudWatch Logs (`None`: the engine has no such list).
fn required_instance_logs(engine: &str) -> Option<&'static [&'static str]> {
    match engine {
        "postgres" => Some(&["postgresql", "upgrade"]),
        "mysql" | "mariadb" => Some(&["audit", "error", "general", "slowquery"]),
        e if e.starts_with("oracle-") => Some(&["alert", "audit", "trace", "listener"]),
        e if e.starts_with("sqlserver-") => Some(&["error", "agent"]),
        _ => None,
    }
}

/// The log types in `enabledCloudwatchLogsExports` that are missing from
/// `required`.
pub(super) fn missing_log_exports(
    p: &Props<'_>,
    required: &[&str],
) -> Result<Vec<String>, Unreadable> {
    let enabled = p.array("enabledCloudwatchLogsExports")?;
    Ok(required
        .iter()
        .filter(|r| !enabled.iter().any(|e| e.as_str() == Some(r)))
        .map(|r| (*r).to_owned())
        .collect())
}

/// Not applicable while the instance is being deleted.
pub(super) fn instance_gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.str("dbInstanceStatus")? == Some("deleting")).then(|| {
        Outcome::not_applicable("The DB instance is being deleted.")
            .with(p.evidence("dbInstanceStatus"))
    }))
}

/// Not applicable while the cluster is being deleted.
pub(super) fn cluster_gone(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok((p.str("status")? == Some("deleting")).then(|| {
        Outcome::not_applicable("The DB cluster is being deleted.").with(p.evidence("status"))
    }))
}

/// Not applicable to a cluster member for a setting its cluster owns.
pub(super) fn cluster_owned(p: &Props<'_>, setting: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok(p.str("dbClusterIdentifier")?.map(|cluster| {
        Outcome::not_applicable(format!(
            "The instance is a member of DB cluster `{cluster}`, which owns the {setting} setting; the cluster recommendation assesses it."
        ))
        .with(p.evidence("dbClusterIdentifier"))
    }))
}

/// A Multi-AZ DB cluster's member (RDS for MySQL/PostgreSQL, not Aurora).
fn multi_az_cluster_member(p: &Props<'_>, engine: &str) -> Result<bool, Unreadable> {
    Ok(p.str("dbClusterIdentifier")?.is_some()
        && !is_aurora(engine)
        && !is_docdb_or_neptune(engine))
}

/// Aurora Serverless v1 (`engineMode` `serverless`) clusters.
pub(super) fn is_serverless_v1(p: &Props<'_>) -> Result<bool, Unreadable> {
    Ok(p.str("engineMode")? == Some("serverless"))
}

// ---------------------------------------------------------------------------
// DB instances.

/// FSBP RDS.2 / CIS 2.3.3: `publiclyAccessible` is `false`. `null` (the API
/// omitted it) is unknown, an error. Not applicable: DocumentDB and Neptune
/// instances, which have no such flag, and instances being deleted.
fn instance_not_publicly_accessible(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if is_docdb_or_neptune(engine) {
        return Ok(Outcome::not_applicable(format!(
            "`{engine}` instances have no public-access flag; their network exposure is set on the cluster's subnets and security groups."
        ))
        .with(p.evidence("engine")));
    }
    let public = reported_bool(p, "publiclyAccessible")?;
    Ok(Outcome::either(
        !public,
        "The DB instance is not publicly accessible.",
        "The DB instance is publicly accessible: its endpoint resolves to a public IP address; set `PubliclyAccessible` to false.",
    )
    .with(p.evidence("publiclyAccessible")))
}

/// FSBP RDS.3 / CIS 2.3.1: `storageEncrypted` is `true`. The instance
/// reports its own storage encryption, also for cluster members (which
/// inherit it from the cluster). Not applicable: instances being deleted.
fn instance_storage_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let encrypted = reported_bool(p, "storageEncrypted")?;
    Ok(Outcome::either(
        encrypted,
        "The DB instance's storage is encrypted at rest.",
        "The DB instance's storage is not encrypted; encryption can only be set at creation, so restore an encrypted copy of a snapshot and move clients to it.",
    )
    .with(p.evidence("storageEncrypted")))
}

/// FSBP RDS.5: `multiAZ` is `true`. Not applicable: cluster members
/// (availability comes from the cluster's instances, see RDS.15), SQL Server
/// Express (no Multi-AZ support), instances being deleted.
fn instance_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    if let Some(na) = cluster_owned(p, "high-availability")? {
        return Ok(na);
    }
    let engine = engine(p)?;
    if engine == "sqlserver-ex" {
        return Ok(Outcome::not_applicable(
            "SQL Server Express Edition does not support Multi-AZ deployments.",
        )
        .with(p.evidence("engine")));
    }
    let multi_az = reported_bool(p, "multiAZ")?;
    Ok(Outcome::either(
        multi_az,
        "The DB instance is a Multi-AZ deployment with a standby in another Availability Zone.",
        "The DB instance runs in a single Availability Zone; turn on `MultiAZ` so a standby can take over on failure.",
    )
    .with(p.evidence("multiAZ")))
}

/// FSBP RDS.6: `monitoringInterval` is above 0. Not applicable: engines
/// without Enhanced Monitoring (DocumentDB, Neptune, RDS Custom), the
/// `db.m1.small` class, instances being deleted.
fn instance_enhanced_monitoring(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if is_docdb_or_neptune(engine) || is_rds_custom(engine) {
        return Ok(Outcome::not_applicable(format!(
            "Enhanced Monitoring is not available for `{engine}` instances."
        ))
        .with(p.evidence("engine")));
    }
    if p.str("dbInstanceClass")? == Some("db.m1.small") {
        return Ok(Outcome::not_applicable(
            "Enhanced Monitoring is not available for the db.m1.small instance class.",
        )
        .with(p.evidence("dbInstanceClass")));
    }
    let interval = reported_i64(p, "monitoringInterval")?;
    Ok(Outcome::either(
        interval > 0,
        format!("Enhanced Monitoring collects OS metrics every {interval} seconds."),
        "Enhanced Monitoring is off (`MonitoringInterval` is 0); set an interval and a monitoring role.",
    )
    .with(p.evidence("monitoringInterval")))
}

/// FSBP RDS.8: `deletionProtection` is `true`. Not applicable: cluster
/// members (deletion protection is a cluster setting, RDS.7), instances
/// being deleted.
fn instance_deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    if let Some(na) = cluster_owned(p, "deletion protection")? {
        return Ok(na);
    }
    let protected = reported_bool(p, "deletionProtection")?;
    Ok(Outcome::either(
        protected,
        "Deletion protection is on.",
        "Deletion protection is off, so one API call can delete the database; turn on `DeletionProtection`.",
    )
    .with(p.evidence("deletionProtection")))
}

/// Shared logic of the log-export checks on standalone instances: every type
/// in `required` is in `enabledCloudwatchLogsExports`.
fn instance_logs(p: &Props<'_>, required: &[&str]) -> Result<Outcome, Unreadable> {
    let missing = missing_log_exports(p, required)?;
    Ok(Outcome::either(
        missing.is_empty(),
        format!(
            "The instance exports its {} logs to CloudWatch Logs.",
            required.join(" and ")
        ),
        format!(
            "The instance does not export these logs to CloudWatch Logs: {}; add them to its CloudWatch Logs exports.",
            missing.join(", ")
        ),
    )
    .with(p.evidence("enabledCloudwatchLogsExports")))
}

/// Not applicable to cluster members (their log exports are a cluster
/// setting) or instances being deleted.
fn instance_logs_gate(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(Some(gone));
    }
    cluster_owned(p, "log export")
}

/// FSBP RDS.9: the engine's log types are exported (PostgreSQL: postgresql,
/// upgrade; MySQL, MariaDB: audit, error, general, slowquery; Oracle: alert,
/// audit, trace, listener; SQL Server: error, agent). Not applicable:
/// engines without such a list (Db2, RDS Custom), cluster members, instances
/// being deleted.
fn instance_cloudwatch_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_logs_gate(p)? {
        return Ok(na);
    }
    let engine = engine(p)?;
    let Some(required) = required_instance_logs(engine) else {
        return Ok(Outcome::not_applicable(format!(
            "RDS.9 defines no required log types for `{engine}` instances."
        ))
        .with(p.evidence("engine")));
    };
    instance_logs(p, required)
}

/// FSBP RDS.36: an RDS for PostgreSQL instance exports `postgresql` logs.
/// Not applicable: other engines, cluster members, instances being deleted.
fn postgresql_instance_cloudwatch_logs(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_logs_gate(p)? {
        return Ok(na);
    }
    let engine = engine(p)?;
    if engine != "postgres" {
        return Ok(Outcome::not_applicable(format!(
            "The instance runs `{engine}`, not RDS for PostgreSQL."
        ))
        .with(p.evidence("engine")));
    }
    instance_logs(p, &["postgresql"])
}

/// FSBP RDS.40: an RDS for SQL Server instance exports `agent` and `error`
/// logs. Not applicable: other engines (RDS Custom included), cluster
/// members, instances being deleted.
fn sqlserver_instance_cloudwatch_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_logs_gate(p)? {
        return Ok(na);
    }
    let engine = engine(p)?;
    if !engine.starts_with("sqlserver-") {
        return Ok(Outcome::not_applicable(format!(
            "The instance runs `{engine}`, not RDS for SQL Server."
        ))
        .with(p.evidence("engine")));
    }
    instance_logs(p, &["agent", "error"])
}

/// FSBP RDS.42: an RDS for MariaDB instance exports `audit` and `error` logs
/// (Security Hub's default `logTypes`). Not applicable: other engines,
/// cluster members, instances being deleted.
fn mariadb_instance_cloudwatch_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = instance_logs_gate(p)? {
        return Ok(na);
    }
    let engine = engine(p)?;
    if engine != "mariadb" {
        return Ok(Outcome::not_applicable(format!(
            "The instance runs `{engine}`, not RDS for MariaDB."
        ))
        .with(p.evidence("engine")));
    }
    instance_logs(p, &["audit", "error"])
}

/// FSBP RDS.10: `iamDatabaseAuthenticationEnabled` on a MySQL, MariaDB,
/// PostgreSQL or Aurora instance, the engines the control evaluates (Aurora
/// and Multi-AZ DB cluster members included; they report their cluster's
/// setting, which RDS.12 also assesses on the cluster). Not applicable:
/// other engines (Oracle, SQL Server, Db2, DocumentDB, Neptune, RDS
/// Custom), instances being deleted.
fn instance_iam_authentication(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if !matches!(
        engine,
        "mysql" | "mariadb" | "postgres" | "aurora" | "aurora-mysql" | "aurora-postgresql"
    ) {
        return Ok(Outcome::not_applicable(format!(
            "IAM database authentication is not available for `{engine}` instances."
        ))
        .with(p.evidence("engine")));
    }
    let enabled = reported_bool(p, "iamDatabaseAuthenticationEnabled")?;
    Ok(Outcome::either(
        enabled,
        "IAM database authentication is enabled.",
        "IAM database authentication is off, so every login uses a long-lived database password; enable it and grant `rds-db:connect` to the roles that need it.",
    )
    .with(p.evidence("iamDatabaseAuthenticationEnabled")))
}

/// Minimum automated-backup retention, in days (Security Hub's default).
const MIN_BACKUP_RETENTION_DAYS: i64 = 7;

/// FSBP RDS.11: `backupRetentionPeriod` is at least 7 days. Cluster members
/// are assessed too, as AWS Config's `db-instance-backup-enabled` does: a
/// member reports its cluster's retention (Aurora has no other
/// recommendation for it). Not applicable: read replicas (Security Hub's
/// `checkReadReplicas` is off; their source is backed up), instances being
/// deleted.
fn instance_automated_backups(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    if let Some(source) = p.str("readReplicaSourceDBInstanceIdentifier")? {
        return Ok(Outcome::not_applicable(format!(
            "The instance is a read replica of `{source}`; backups are taken from the source."
        ))
        .with(p.evidence("readReplicaSourceDBInstanceIdentifier")));
    }
    let days = reported_i64(p, "backupRetentionPeriod")?;
    let reason_bad = if days == 0 {
        "Automated backups are off (`BackupRetentionPeriod` is 0); set a retention of at least 7 days.".to_owned()
    } else {
        format!(
            "Automated backups are kept for only {days} day(s); set `BackupRetentionPeriod` to at least {MIN_BACKUP_RETENTION_DAYS}."
        )
    };
    Ok(Outcome::either(
        days >= MIN_BACKUP_RETENTION_DAYS,
        format!("Automated backups are kept for {days} days."),
        reason_bad,
    )
    .with(p.evidence("backupRetentionPeriod")))
}

/// FSBP RDS.13 / CIS 2.3.2: `autoMinorVersionUpgrade` is `true`. Aurora
/// members carry the setting per instance and are assessed. Not applicable:
/// RDS Custom (which requires it off), members of Multi-AZ DB clusters (a
/// cluster setting, RDS.35), instances being deleted.
fn instance_auto_minor_version_upgrade(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if is_rds_custom(engine) {
        return Ok(Outcome::not_applicable(
            "RDS Custom instances do not support automatic minor version upgrades; you patch them yourself.",
        )
        .with(p.evidence("engine")));
    }
    if multi_az_cluster_member(p, engine)? {
        return Ok(Outcome::not_applicable(
            "The instance belongs to a Multi-AZ DB cluster, whose own setting controls minor version upgrades.",
        )
        .with(p.evidence("dbClusterIdentifier")));
    }
    let auto = reported_bool(p, "autoMinorVersionUpgrade")?;
    Ok(Outcome::either(
        auto,
        "Automatic minor version upgrades are enabled.",
        "Automatic minor version upgrades are off, so engine security fixes wait for a manual upgrade; turn on `AutoMinorVersionUpgrade`.",
    )
    .with(p.evidence("autoMinorVersionUpgrade")))
}

/// FSBP RDS.17: `copyTagsToSnapshot` is `true`. Not applicable: cluster
/// members (a cluster setting, RDS.16/47/48), instances being deleted.
fn instance_copy_tags_to_snapshots(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    if let Some(na) = cluster_owned(p, "copy-tags-to-snapshots")? {
        return Ok(na);
    }
    let copy = reported_bool(p, "copyTagsToSnapshot")?;
    Ok(Outcome::either(
        copy,
        "The instance copies its tags to its snapshots.",
        "The instance does not copy its tags to its snapshots, so snapshots lose their owner and classification; turn on `CopyTagsToSnapshot`.",
    )
    .with(p.evidence("copyTagsToSnapshot")))
}

/// FSBP RDS.18: the instance has a DB subnet group in a VPC
/// (`dbSubnetGroup.vpcId`); no subnet group is what an EC2-Classic instance
/// looks like. Not applicable: instances being deleted.
fn instance_in_vpc(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let vpc = p.str("dbSubnetGroup.vpcId")?.filter(|v| !v.is_empty());
    Ok(match vpc {
        Some(vpc) => Outcome::healthy(format!("The instance runs in VPC `{vpc}`.")),
        None => Outcome::unhealthy(
            "The instance has no DB subnet group in a VPC; move it into a VPC so security groups and network ACLs apply.",
        ),
    }
    .with(p.evidence("dbSubnetGroup")))
}

/// FSBP RDS.23: the endpoint port is not the engine's default. Not
/// applicable: cluster members (the cluster's port is assessed), engines
/// without a known default, instances without an endpoint yet (creating),
/// instances being deleted.
fn instance_no_default_port(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    if let Some(na) = cluster_owned(p, "port")? {
        return Ok(na);
    }
    let engine = engine(p)?;
    let Some(default) = default_port(engine) else {
        return Ok(Outcome::not_applicable(format!(
            "`{engine}` has no well-known default port to compare with."
        ))
        .with(p.evidence("engine")));
    };
    let Some(port) = p.i64("endpoint.port")? else {
        if p.str("dbInstanceStatus")? == Some("creating") {
            return Ok(Outcome::not_applicable(
                "The instance is being created and has no endpoint yet.",
            )
            .with(p.evidence("dbInstanceStatus")));
        }
        return Err(not_reported("endpoint.port"));
    };
    Ok(port_outcome(
        p,
        "instance",
        engine,
        port,
        default,
        "endpoint.port",
    ))
}

/// FSBP RDS.25: `masterUsername` is not a default (`admin`, `postgres`).
/// Aurora members are assessed, as in the control (it leaves out only
/// DocumentDB and Neptune); they report their cluster's master user, which
/// RDS.24 also assesses on the cluster. Not applicable: DocumentDB and
/// Neptune, instances being deleted.
fn instance_custom_admin_username(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    custom_admin_username(p, "instances", "database")
}

// ---------------------------------------------------------------------------
// DB clusters.

/// FSBP RDS.27: `storageEncrypted` is `true`. Not applicable: clusters being
/// deleted.
fn cluster_storage_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let encrypted = reported_bool(p, "storageEncrypted")?;
    Ok(Outcome::either(
        encrypted,
        "The cluster's storage is encrypted at rest.",
        "The cluster's storage is not encrypted; encryption can only be set at creation, so restore an encrypted copy of a cluster snapshot and move clients to it.",
    )
    .with(p.evidence("storageEncrypted")))
}

/// FSBP RDS.7: `deletionProtection` is `true`. Not applicable: clusters
/// being deleted.
fn cluster_deletion_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let protected = reported_bool(p, "deletionProtection")?;
    Ok(Outcome::either(
        protected,
        "Deletion protection is on.",
        "Deletion protection is off, so one API call can delete the cluster; turn on `DeletionProtection`.",
    )
    .with(p.evidence("deletionProtection")))
}

/// FSBP RDS.12: `iamDatabaseAuthenticationEnabled` is `true`. Not
/// applicable: DocumentDB (it does not use this flag), Aurora Serverless v1
/// (no IAM database authentication), clusters being deleted.
fn cluster_iam_authentication(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if engine == "docdb" {
        return Ok(Outcome::not_applicable(
            "DocumentDB clusters do not use the IAM database authentication flag.",
        )
        .with(p.evidence("engine")));
    }
    if is_serverless_v1(p)? {
        return Ok(Outcome::not_applicable(
            "Aurora Serverless v1 clusters do not support IAM database authentication.",
        )
        .with(p.evidence("engineMode")));
    }
    let enabled = reported_bool(p, "iamDatabaseAuthenticationEnabled")?;
    Ok(Outcome::either(
        enabled,
        "IAM database authentication is enabled.",
        "IAM database authentication is off, so every login uses a long-lived database password; enable it on the cluster.",
    )
    .with(p.evidence("iamDatabaseAuthenticationEnabled")))
}

/// FSBP RDS.15: `multiAZ` is `true` (the cluster has instances in more than
/// one Availability Zone). Not applicable: Aurora Serverless v1, whose
/// compute cannot be spread, clusters being deleted.
fn cluster_multi_az(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    if is_serverless_v1(p)? {
        return Ok(Outcome::not_applicable(
            "Aurora Serverless v1 clusters cannot add instances in other Availability Zones.",
        )
        .with(p.evidence("engineMode")));
    }
    let multi_az = reported_bool(p, "multiAZ")?;
    Ok(Outcome::either(
        multi_az,
        "The cluster has instances in more than one Availability Zone.",
        "All of the cluster's instances are in one Availability Zone; add a reader in another zone so the cluster can fail over.",
    )
    .with(p.evidence("multiAZ")))
}

/// Shared logic of the cluster copy-tags checks, for clusters whose engine
/// satisfies `applies` (`family` names it in the not-applicable reason).
fn cluster_copy_tags(
    p: &Props<'_>,
    applies: fn(&str) -> bool,
    family: &str,
) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if !applies(engine) {
        return Ok(
            Outcome::not_applicable(format!("The cluster runs `{engine}`, not {family}."))
                .with(p.evidence("engine")),
        );
    }
    let copy = reported_bool(p, "copyTagsToSnapshot")?;
    Ok(Outcome::either(
        copy,
        "The cluster copies its tags to its snapshots.",
        "The cluster does not copy its tags to its snapshots, so snapshots lose their owner and classification; turn on `CopyTagsToSnapshot`.",
    )
    .with(p.evidence("copyTagsToSnapshot")))
}

/// FSBP RDS.16: an Aurora cluster copies tags to snapshots. Not applicable:
/// other engines, clusters being deleted.
fn aurora_cluster_copy_tags_to_snapshots(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    cluster_copy_tags(p, is_aurora, "Aurora")
}

/// FSBP RDS.47: an RDS for PostgreSQL (Multi-AZ) DB cluster copies tags to
/// snapshots. Not applicable: other engines, clusters being deleted.
fn postgresql_cluster_copy_tags_to_snapshots(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    cluster_copy_tags(p, |e| e == "postgres", "RDS for PostgreSQL")
}

/// FSBP RDS.48: an RDS for MySQL (Multi-AZ) DB cluster copies tags to
/// snapshots. Not applicable: other engines, clusters being deleted.
fn mysql_cluster_copy_tags_to_snapshots(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    cluster_copy_tags(p, |e| e == "mysql", "RDS for MySQL")
}

/// FSBP RDS.35: a Multi-AZ DB cluster (engine `mysql` or `postgres`) has
/// `autoMinorVersionUpgrade`. Not applicable: Aurora, DocumentDB and Neptune
/// clusters (the setting lives on their instances), clusters being deleted.
fn cluster_auto_minor_version_upgrade(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if !matches!(engine, "mysql" | "postgres") {
        return Ok(Outcome::not_applicable(format!(
            "`{engine}` clusters set minor version upgrades per instance, which rds-instance-auto-minor-version-upgrade assesses."
        ))
        .with(p.evidence("engine")));
    }
    let auto = reported_bool(p, "autoMinorVersionUpgrade")?;
    Ok(Outcome::either(
        auto,
        "Automatic minor version upgrades are enabled for the cluster.",
        "Automatic minor version upgrades are off for the cluster; turn on `AutoMinorVersionUpgrade`.",
    )
    .with(p.evidence("autoMinorVersionUpgrade")))
}

/// FSBP RDS.14: an Aurora MySQL cluster has a backtrack window above 0.
/// `backtrackWindow` absent means backtracking was never turned on (it is
/// chosen at creation). Not applicable: other engines, Aurora Serverless v1
/// (no backtracking), clusters being deleted.
fn aurora_mysql_cluster_backtracking(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if !is_aurora_mysql(engine) {
        return Ok(Outcome::not_applicable(format!(
            "Backtracking exists only for Aurora MySQL; the cluster runs `{engine}`."
        ))
        .with(p.evidence("engine")));
    }
    if is_serverless_v1(p)? {
        return Ok(Outcome::not_applicable(
            "Aurora Serverless v1 clusters do not support backtracking.",
        )
        .with(p.evidence("engineMode")));
    }
    let window = p.i64("backtrackWindow")?.unwrap_or(0);
    Ok(Outcome::either(
        window > 0,
        format!("Backtracking is enabled with a {window}-second window."),
        "Backtracking is off; it can only be chosen at creation, so create a clone with a backtrack window and move to it.",
    )
    .with(p.evidence("backtrackWindow")))
}

/// Aurora Serverless v1 or a cluster being deleted: not applicable to the
/// Aurora log-export checks.
fn aurora_logs_gate(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(Some(gone));
    }
    Ok(is_serverless_v1(p)?.then(|| {
        Outcome::not_applicable(
            "Aurora Serverless v1 clusters publish logs through parameters, not CloudWatch Logs exports.",
        )
        .with(p.evidence("engineMode"))
    }))
}

/// FSBP RDS.34: an Aurora MySQL cluster exports `audit` logs. Not
/// applicable: other engines, Aurora Serverless v1, clusters being deleted.
fn aurora_mysql_cluster_audit_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = aurora_logs_gate(p)? {
        return Ok(na);
    }
    let engine = engine(p)?;
    if !is_aurora_mysql(engine) {
        return Ok(Outcome::not_applicable(format!(
            "The cluster runs `{engine}`, not Aurora MySQL."
        ))
        .with(p.evidence("engine")));
    }
    let missing = missing_log_exports(p, &["audit"])?;
    Ok(Outcome::either(
        missing.is_empty(),
        "The cluster exports its audit log to CloudWatch Logs.",
        "The cluster does not export its audit log to CloudWatch Logs; add `audit` to its CloudWatch Logs exports.",
    )
    .with(p.evidence("enabledCloudwatchLogsExports")))
}

/// FSBP RDS.37: an Aurora PostgreSQL cluster exports `postgresql` logs. Not
/// applicable: other engines, Aurora Serverless v1, clusters being deleted.
fn aurora_postgresql_cluster_cloudwatch_logs(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    if let Some(na) = aurora_logs_gate(p)? {
        return Ok(na);
    }
    let engine = engine(p)?;
    if engine != "aurora-postgresql" {
        return Ok(Outcome::not_applicable(format!(
            "The cluster runs `{engine}`, not Aurora PostgreSQL."
        ))
        .with(p.evidence("engine")));
    }
    let missing = missing_log_exports(p, &["postgresql"])?;
    Ok(Outcome::either(
        missing.is_empty(),
        "The cluster exports its PostgreSQL log to CloudWatch Logs.",
        "The cluster does not export its PostgreSQL log to CloudWatch Logs; add `postgresql` to its CloudWatch Logs exports.",
    )
    .with(p.evidence("enabledCloudwatchLogsExports")))
}

/// FSBP RDS.24: the cluster's `masterUsername` is not a default (`admin`,
/// `postgres`). Not applicable: DocumentDB and Neptune clusters, clusters
/// being deleted.
fn cluster_custom_admin_username(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    custom_admin_username(p, "clusters", "cluster")
}

/// RDS.24 / RDS.25 after the instance- or cluster-specific cases: the
/// master user name is not a default. `kind` names the resources in the
/// not-applicable reason, `recreate` the thing to recreate.
fn custom_admin_username(p: &Props<'_>, kind: &str, recreate: &str) -> Result<Outcome, Unreadable> {
    let engine = engine(p)?;
    if is_docdb_or_neptune(engine) {
        return Ok(Outcome::not_applicable(format!(
            "`{engine}` {kind} are outside this RDS control."
        ))
        .with(p.evidence("engine")));
    }
    let user = reported_str(p, "masterUsername")?;
    Ok(Outcome::either(
        !is_default_admin(user),
        "The master user name is not a default.",
        format!(
            "The master user is named `{user}`, a default that attackers try first; recreate the {recreate} with a custom master user name."
        ),
    )
    .with(p.evidence("masterUsername")))
}

/// FSBP RDS.23 for clusters: `port` is not the engine's default. Not
/// applicable: DocumentDB, Neptune and engines without a known default,
/// clusters being deleted.
fn cluster_no_default_port(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    let Some(default) = default_port(engine) else {
        return Ok(Outcome::not_applicable(format!(
            "`{engine}` clusters are outside this RDS control."
        ))
        .with(p.evidence("engine")));
    };
    let port = reported_i64(p, "port")?;
    Ok(port_outcome(p, "cluster", engine, port, default, "port"))
}

/// RDS.23: `port` (read at `path`) against the engine's `default`.
fn port_outcome(
    p: &Props<'_>,
    noun: &str,
    engine: &str,
    port: i64,
    default: i64,
    path: &str,
) -> Outcome {
    Outcome::either(
        port != default,
        format!("The {noun} listens on port {port}, not the `{engine}` default."),
        format!(
            "The {noun} listens on port {default}, the `{engine}` default; move it to a non-default port and update clients and security groups."
        ),
    )
    .with(p.evidence(path))
}

// ---------------------------------------------------------------------------
// Snapshots.

/// Healthy for snapshots that cannot be shared: only manual snapshots can
/// (automated and AWS Backup snapshots must be copied first).
fn unsharable(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    let kind = reported_str(p, "snapshotType")?;
    Ok((kind != "manual").then(|| {
        Outcome::healthy(format!(
            "`{kind}` snapshots cannot be shared, so this one is not public; only manual snapshots can be made public."
        ))
        .with(p.evidence("snapshotType"))
    }))
}

/// Shared logic of the public-snapshot checks: `public` (the `restore`
/// attribute holds `all`). `null` on a manual snapshot is unknown.
pub(super) fn snapshot_public(p: &Props<'_>) -> Result<Outcome, Unreadable> {
    if let Some(na) = unsharable(p)? {
        return Ok(na);
    }
    let public = reported_bool(p, "public")?;
    let shared = p.array("sharedAccounts")?.len();
    let healthy = if shared == 0 {
        "The snapshot is private.".to_owned()
    } else {
        format!("The snapshot is not public; it is shared with {shared} named account(s).")
    };
    Ok(Outcome::either(
        !public,
        healthy,
        "Any AWS account can restore this snapshot (its `restore` attribute includes `all`); remove `all` from the snapshot's restore attribute.",
    )
    .with(p.evidence("public"))
    .with(p.evidence("attributes.restore")))
}

/// FSBP RDS.1 for DB snapshots; automated and AWS Backup snapshots cannot be
/// shared and pass.
fn snapshot_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    snapshot_public(p)
}

/// FSBP RDS.1 for DB cluster snapshots; automated and AWS Backup snapshots
/// cannot be shared and pass.
fn cluster_snapshot_not_public(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    snapshot_public(p)
}

/// Shared logic of the snapshot-encryption checks: the boolean at `path`,
/// on every snapshot: automated and AWS Backup snapshots are assessed too
/// (they carry their source's encryption; an unencrypted one is a copy of
/// the data outside the database's own protection).
pub(super) fn snapshot_encryption(p: &Props<'_>, path: &str) -> Result<Outcome, Unreadable> {
    let encrypted = reported_bool(p, path)?;
    Ok(Outcome::either(
        encrypted,
        "The snapshot is encrypted at rest.",
        "The snapshot is not encrypted; copy it with a KMS key, and delete the unencrypted copy once nothing needs it.",
    )
    .with(p.evidence(path)))
}

/// FSBP RDS.4 for DB snapshots: `encrypted`.
fn snapshot_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    snapshot_encryption(p, "encrypted")
}

/// FSBP RDS.4 for DB cluster snapshots: `storageEncrypted`.
fn cluster_snapshot_encrypted(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    snapshot_encryption(p, "storageEncrypted")
}

// ---------------------------------------------------------------------------
// Parameter groups: encryption in transit and audit logging.

/// The value of a tracked parameter in `parameters` (`[{name, value}]`, the
/// settings the collector keeps from the instance's or cluster's parameter
/// group): `Ok(None)` when the group does not set it. `parameters` itself
/// `null` is unknown, never "not set".
pub(super) fn parameter<'a>(p: &Props<'a>, name: &str) -> Result<Option<&'a str>, Unreadable> {
    let Some(parameters) = p.get("parameters")? else {
        return Err(not_reported("parameters"));
    };
    Ok(parameters
        .as_array()
        .unwrap_or_default()
        .iter()
        .find(|entry| entry.get("name").and_then(|n| n.as_str()) == Some(name))
        .and_then(|entry| entry.get("value").and_then(|v| v.as_str())))
}

/// A boolean database parameter that is on (`1`, `ON`, `true`).
pub(super) fn parameter_on(value: Option<&str>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim();
        v == "1" || v.eq_ignore_ascii_case("on") || v.eq_ignore_ascii_case("true")
    })
}

/// Parameter groups of the instance whose values are not applied yet
/// (`applyStatus` other than `in-sync`, e.g. `pending-reboot`).
fn instance_groups_not_in_sync<'a>(p: &Props<'a>) -> Result<Vec<String>, Unreadable> {
    Ok(p.array("dbParameterGroupStatus")?
        .iter()
        .filter_map(|g| {
            let status = g.get("applyStatus").and_then(|s| s.as_str());
            (status != Some("in-sync")).then(|| {
                format!(
                    "`{}` ({})",
                    g.get("name").and_then(|n| n.as_str()).unwrap_or("?"),
                    status.unwrap_or("status not reported")
                )
            })
        })
        .collect())
}

/// Shared logic of RDS.38, RDS.39, RDS.41 and RDS.44 (AWS Config's
/// `rds-*-encrypted-in-transit` rules): for instances whose engine
/// satisfies `applies`, the parameter `name` is on in the instance's DB
/// parameter group and the group is in sync. Not applicable: other engines,
/// members of a DB cluster (the cluster's parameter group governs them),
/// instances being deleted.
fn instance_encrypted_in_transit(
    p: &Props<'_>,
    applies: fn(&str) -> bool,
    family: &str,
    name: &str,
) -> Result<Outcome, Unreadable> {
    if let Some(gone) = instance_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if !applies(engine) {
        return Ok(
            Outcome::not_applicable(format!("The instance runs `{engine}`, not {family}."))
                .with(p.evidence("engine")),
        );
    }
    if let Some(na) = cluster_owned(p, "parameter group")? {
        return Ok(na);
    }
    let value = parameter(p, name)?;
    if !parameter_on(value) {
        let shown = value.map_or_else(|| "not set".to_owned(), |v| format!("`{v}`"));
        return Ok(Outcome::unhealthy(format!(
            "The instance's DB parameter group does not require TLS (`{name}` is {shown}), so clients may connect in plain text; set `{name}` to 1 in a custom parameter group."
        ))
        .with(p.evidence("parameters"))
        .with(p.evidence("dbParameterGroups")));
    }
    let pending = instance_groups_not_in_sync(p)?;
    Ok(Outcome::either(
        pending.is_empty(),
        format!("The instance's DB parameter group sets `{name}` to 1 and is applied: connections must use TLS."),
        format!(
            "`{name}` is on in the parameter group but not applied to the instance yet ({}); reboot the instance to apply it.",
            pending.join(", ")
        ),
    )
    .with(p.evidence("parameters"))
    .with(p.evidence("dbParameterGroupStatus")))
}

/// FSBP RDS.38: RDS for PostgreSQL instances set `rds.force_ssl`.
fn postgresql_instance_encrypted_in_transit(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    instance_encrypted_in_transit(
        p,
        |e| e == "postgres",
        "RDS for PostgreSQL",
        "rds.force_ssl",
    )
}

/// FSBP RDS.39: RDS for MySQL instances set `require_secure_transport`.
fn mysql_instance_encrypted_in_transit(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    instance_encrypted_in_transit(
        p,
        |e| e == "mysql",
        "RDS for MySQL",
        "require_secure_transport",
    )
}

/// FSBP RDS.41: RDS for SQL Server instances set `rds.force_ssl`.
fn sqlserver_instance_encrypted_in_transit(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    instance_encrypted_in_transit(
        p,
        |e| e.starts_with("sqlserver-"),
        "RDS for SQL Server",
        "rds.force_ssl",
    )
}

/// FSBP RDS.44: RDS for MariaDB instances set `require_secure_transport`.
fn mariadb_instance_encrypted_in_transit(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    instance_encrypted_in_transit(
        p,
        |e| e == "mariadb",
        "RDS for MariaDB",
        "require_secure_transport",
    )
}

/// FSBP RDS.45: an Aurora MySQL cluster's DB cluster parameter group turns
/// on Advanced Auditing (`server_audit_logging`). Not applicable: other
/// engines, clusters being deleted.
fn aurora_mysql_cluster_audit_logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(gone) = cluster_gone(p)? {
        return Ok(gone);
    }
    let engine = engine(p)?;
    if !is_aurora_mysql(engine) {
        return Ok(Outcome::not_applicable(format!(
            "The cluster runs `{engine}`, not Aurora MySQL."
        ))
        .with(p.evidence("engine")));
    }
    let value = parameter(p, "server_audit_logging")?;
    let shown = value.map_or_else(|| "not set".to_owned(), |v| format!("`{v}`"));
    Ok(Outcome::either(
        parameter_on(value),
        "Advanced Auditing is on: the cluster parameter group sets `server_audit_logging` to 1.",
        format!(
            "Advanced Auditing is off (`server_audit_logging` is {shown} in the cluster parameter group), so connections and queries are not audited; set it to 1 and choose `server_audit_events`."
        ),
    )
    .with(p.evidence("parameters"))
    .with(p.evidence("dbClusterParameterGroup")))
}

// ---------------------------------------------------------------------------
// RDS Proxy.

/// FSBP RDS.43: the proxy's `requireTLS` is `true`. Not applicable: proxies
/// being deleted.
fn proxy_tls_required(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("status")? == Some("deleting") {
        return Ok(
            Outcome::not_applicable("The proxy is being deleted.").with(p.evidence("status"))
        );
    }
    let required = reported_bool(p, "requireTLS")?;
    Ok(Outcome::either(
        required,
        "The proxy accepts only TLS connections.",
        "The proxy accepts plain-text connections; turn on `RequireTLS` so clients must connect with TLS.",
    )
    .with(p.evidence("requireTLS")))
}

// ---------------------------------------------------------------------------
// Event notification subscriptions.

/// Shared logic of RDS.19 to RDS.22 (Security Hub assesses each existing
/// subscription): a subscription for `source_type` (or for every source
/// type, `sourceType` absent) is enabled and receives the `required` event
/// categories (an empty category list means all of them). Not applicable:
/// subscriptions for other source types.
fn event_subscription_critical_events(
    p: &Props<'_>,
    source_type: &str,
    noun: &str,
    required: &[&str],
) -> Result<Outcome, Unreadable> {
    if let Some(other) = p.str("sourceType")?.filter(|t| *t != source_type) {
        return Ok(Outcome::not_applicable(format!(
            "The subscription is for `{other}` events, not {noun} events."
        ))
        .with(p.evidence("sourceType")));
    }
    let enabled = reported_bool(p, "enabled")?;
    if !enabled {
        return Ok(Outcome::unhealthy(format!(
            "The subscription for {noun} events is disabled, so no notification is sent; enable it."
        ))
        .with(p.evidence("enabled")));
    }
    let categories = p.array("eventCategories")?;
    let missing: Vec<&str> = if categories.is_empty() {
        Vec::new()
    } else {
        required
            .iter()
            .filter(|r| !categories.iter().any(|c| c.as_str() == Some(**r)))
            .copied()
            .collect()
    };
    Ok(Outcome::either(
        missing.is_empty(),
        format!(
            "The subscription notifies on critical {noun} events ({}).",
            required.join(", ")
        ),
        format!(
            "The subscription for {noun} events leaves out these critical categories: {}; add them to its event categories.",
            missing.join(", ")
        ),
    )
    .with(p.evidence("enabled"))
    .with(p.evidence("eventCategories")))
}

/// FSBP RDS.19: cluster subscriptions include `maintenance` and `failure`.
fn event_subscription_cluster_critical_events(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    event_subscription_critical_events(p, "db-cluster", "DB cluster", &["maintenance", "failure"])
}

/// FSBP RDS.20: instance subscriptions include `maintenance`,
/// `configuration change` and `failure`.
fn event_subscription_instance_critical_events(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    event_subscription_critical_events(
        p,
        "db-instance",
        "DB instance",
        &["maintenance", "configuration change", "failure"],
    )
}

/// FSBP RDS.21: parameter group subscriptions include `configuration
/// change`.
fn event_subscription_parameter_group_critical_events(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    event_subscription_critical_events(
        p,
        "db-parameter-group",
        "DB parameter group",
        &["configuration change"],
    )
}

/// FSBP RDS.22: security group subscriptions include `configuration
/// change` and `failure`.
fn event_subscription_security_group_critical_events(
    p: &Props<'_>,
    _: &Inventory,
) -> Result<Outcome, Unreadable> {
    event_subscription_critical_events(
        p,
        "db-security-group",
        "DB security group",
        &["configuration change", "failure"],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_by_engine() {
        assert_eq!(default_port("mysql"), Some(3306));
        assert_eq!(default_port("aurora-mysql"), Some(3306));
        assert_eq!(default_port("aurora-postgresql"), Some(5432));
        assert_eq!(default_port("oracle-ee-cdb"), Some(1521));
        assert_eq!(default_port("custom-oracle-ee"), Some(1521));
        assert_eq!(default_port("sqlserver-web"), Some(1433));
        assert_eq!(default_port("db2-se"), Some(50000));
        assert_eq!(default_port("docdb"), None);
        assert_eq!(default_port("neptune"), None);
    }

    #[test]
    fn required_logs_by_engine() {
        assert_eq!(
            required_instance_logs("postgres"),
            Some(&["postgresql", "upgrade"][..])
        );
        assert_eq!(
            required_instance_logs("sqlserver-ex"),
            Some(&["error", "agent"][..])
        );
        assert!(required_instance_logs("oracle-se2").is_some());
        assert_eq!(required_instance_logs("db2-ae"), None);
        assert_eq!(required_instance_logs("custom-oracle-ee"), None);
    }

    #[test]
    fn boolean_parameters() {
        assert!(parameter_on(Some("1")));
        assert!(parameter_on(Some("ON")));
        assert!(parameter_on(Some("on")));
        assert!(!parameter_on(Some("0")));
        assert!(!parameter_on(Some("OFF")));
        assert!(!parameter_on(None));
    }

    #[test]
    fn default_admin_names() {
        assert!(is_default_admin("admin"));
        assert!(is_default_admin("Postgres"));
        assert!(!is_default_admin("demo"));
    }
}
