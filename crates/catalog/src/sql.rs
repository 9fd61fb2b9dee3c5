//! SQL plan prerequisites: per SQL Server discovery found (one
//! [`SQL_SERVER_INSTANCE`] asset per host), what the plan needs before it
//! can assess and watch it, computed from a snapshot's assets (pure). The
//! recommendation `sql-server-protection-prerequisites-met` and
//! `rampart connector status` both read it.
//!
//! - SQL Server on EC2: the host is managed by Systems Manager with its
//!   agent online (the vulnerability assessment runs through Run Command),
//!   and SSM software inventory is reported (it gives the version); both
//!   come from the Servers plan's coverage of the host
//!   ([`crate::servers::coverage_of`]), whose reasons say why not.
//! - RDS Custom for SQL Server: RDS automation is on (`full`).
//! - RDS for SQL Server: the `error` log is exported to CloudWatch Logs
//!   (threat detection reads it from there).

use rampart_model::types::SQL_SERVER_INSTANCE;
use serde::{Deserialize, Serialize};

use crate::doc::Node;
use crate::inventory::{AssetRef, Inventory};
use crate::servers::{Managed, coverage_of};

/// Whether one prerequisite holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PrerequisiteState {
    /// It holds.
    Met,
    /// It does not; how to fix it.
    NotMet {
        /// What to do.
        fix: String,
    },
    /// The snapshot cannot say; why.
    Unknown {
        /// Why.
        why: String,
    },
}

/// One prerequisite of one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prerequisite {
    /// Stable name: `ssm-managed`, `ssm-inventory`, `rds-custom-automation`,
    /// `error-log-exported`, `host-known`.
    pub requirement: String,
    /// One sentence about what was found.
    pub detail: String,
    /// Met, not met (with the fix) or unknown (with why).
    #[serde(flatten)]
    pub state: PrerequisiteState,
}

impl Prerequisite {
    /// `met`, `not_met` or `unknown`.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            PrerequisiteState::Met => "met",
            PrerequisiteState::NotMet { .. } => "not met",
            PrerequisiteState::Unknown { .. } => "unknown",
        }
    }

    fn new(requirement: &str, detail: impl Into<String>, state: PrerequisiteState) -> Self {
        Self {
            requirement: requirement.to_owned(),
            detail: detail.into(),
            state,
        }
    }
}

/// The prerequisites of one SQL Server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerPrerequisites {
    /// The SQL Server asset's ARN.
    pub server: String,
    /// Its name (`SQL Server 2019 on web-1`).
    pub name: String,
    /// `ec2`, `rds-custom` or `rds`.
    pub host_type: String,
    /// The host's id (instance id or DB instance identifier).
    pub host_id: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Whether the host is running (a stopped host is not assessed).
    pub running: bool,
    /// Each prerequisite, in a fixed order.
    pub prerequisites: Vec<Prerequisite>,
}

impl ServerPrerequisites {
    /// The prerequisites that do not hold.
    pub fn not_met(&self) -> impl Iterator<Item = &Prerequisite> {
        self.prerequisites
            .iter()
            .filter(|p| matches!(p.state, PrerequisiteState::NotMet { .. }))
    }

    /// The prerequisites the snapshot cannot decide.
    pub fn unknown(&self) -> impl Iterator<Item = &Prerequisite> {
        self.prerequisites
            .iter()
            .filter(|p| matches!(p.state, PrerequisiteState::Unknown { .. }))
    }
}

fn text<'a>(node: Option<Node<'a>>) -> Option<&'a str> {
    node.and_then(Node::as_str)
}

/// Every SQL Server of the snapshot with its prerequisites, ordered by
/// account, region and ARN.
pub fn server_prerequisites(inv: &Inventory) -> Vec<ServerPrerequisites> {
    let mut out: Vec<ServerPrerequisites> = inv
        .of_type(SQL_SERVER_INSTANCE)
        .map(|server| prerequisites_of(inv, server))
        .collect();
    out.sort_by(|a, b| (&a.account, &a.region, &a.server).cmp(&(&b.account, &b.region, &b.server)));
    out
}

/// One SQL Server's prerequisites (`server` is its [`SQL_SERVER_INSTANCE`]).
pub fn prerequisites_of(inv: &Inventory, server: AssetRef<'_>) -> ServerPrerequisites {
    let p = server.properties;
    let host_type = text(p.get("hostType")).unwrap_or_default().to_owned();
    let host_id = text(p.get("hostId")).unwrap_or_default().to_owned();
    let host = text(p.get("hostArn")).and_then(|arn| inv.by_arn(arn));
    let mut out = ServerPrerequisites {
        server: server.arn.to_owned(),
        name: server.name.to_owned(),
        host_type: host_type.clone(),
        host_id: host_id.clone(),
        account: server.account.to_owned(),
        region: server.region.to_owned(),
        running: true,
        prerequisites: Vec::new(),
    };
    let Some(host) = host else {
        out.prerequisites.push(Prerequisite::new(
            "host-known",
            format!("the host `{host_id}` is not in the snapshot"),
            PrerequisiteState::Unknown {
                why: "the scan did not collect the host".to_owned(),
            },
        ));
        return out;
    };
    let hp = host.properties;
    match host_type.as_str() {
        "ec2" => {
            out.running = text(hp.get("state")) == Some("running");
            let coverage = coverage_of(inv, host);
            let reasons: Vec<String> = coverage.reasons.iter().map(|r| r.message.clone()).collect();
            let managed = match coverage.managed {
                Managed::Yes if coverage.ping_status.as_deref() == Some("Online") => {
                    PrerequisiteState::Met
                }
                Managed::Yes | Managed::No => PrerequisiteState::NotMet {
                    fix: format!(
                        "make `{host_id}` a managed instance with its SSM Agent online ({}): turn on the Servers plan's auto-provisioning on the connector, or attach `AmazonSSMManagedInstanceCore` to the instance's role",
                        reasons.join("; ")
                    ),
                },
                Managed::Unknown => PrerequisiteState::Unknown {
                    why: "the region's Systems Manager instance list could not be read".to_owned(),
                },
            };
            out.prerequisites.push(Prerequisite::new(
                "ssm-managed",
                format!(
                    "SSM: {}",
                    match (coverage.managed, coverage.ping_status.as_deref()) {
                        (Managed::Yes, Some(ping)) => format!("managed, agent {ping}"),
                        (Managed::Yes, None) => "managed".to_owned(),
                        (Managed::No, _) => "not managed".to_owned(),
                        (Managed::Unknown, _) => "unknown".to_owned(),
                    }
                ),
                managed,
            ));
            let inventory = match coverage.inventory_present {
                Some(true) => PrerequisiteState::Met,
                Some(false) => PrerequisiteState::NotMet {
                    fix: format!(
                        "associate `AWS-GatherSoftwareInventory` with `{host_id}` (the Servers plan's auto-provisioning does) so SSM reports its software and the SQL Server's version"
                    ),
                },
                None => PrerequisiteState::Unknown {
                    why: "whether SSM holds inventory for the host is unknown".to_owned(),
                },
            };
            out.prerequisites.push(Prerequisite::new(
                "ssm-inventory",
                match coverage.application_count {
                    Some(n) => format!("SSM inventory: {n} applications"),
                    None => "SSM inventory: none".to_owned(),
                },
                inventory,
            ));
        }
        "rds-custom" => {
            out.running = text(hp.get("dbInstanceStatus")) != Some("stopped");
            let mode = text(hp.get("automationMode"));
            let state = match mode {
                Some("full") => PrerequisiteState::Met,
                Some(_) => PrerequisiteState::NotMet {
                    fix: format!(
                        "resume RDS automation: `aws rds modify-db-instance --db-instance-identifier {host_id} --automation-mode full`"
                    ),
                },
                None => PrerequisiteState::Unknown {
                    why: "the DB instance does not report its automation mode".to_owned(),
                },
            };
            out.prerequisites.push(Prerequisite::new(
                "rds-custom-automation",
                format!("RDS Custom automation: {}", mode.unwrap_or("unknown")),
                state,
            ));
        }
        "rds" => {
            let exports: Vec<&str> = hp
                .get("enabledCloudwatchLogsExports")
                .and_then(Node::as_array)
                .into_iter()
                .flatten()
                .filter_map(Node::as_str)
                .collect();
            let state = if exports.contains(&"error") {
                PrerequisiteState::Met
            } else {
                PrerequisiteState::NotMet {
                    fix: format!(
                        "export the error log to CloudWatch Logs: `aws rds modify-db-instance --db-instance-identifier {host_id} --cloudwatch-logs-export-configuration '{{\"EnableLogTypes\":[\"error\"]}}'`"
                    ),
                }
            };
            out.prerequisites.push(Prerequisite::new(
                "error-log-exported",
                format!(
                    "CloudWatch Logs exports: {}",
                    if exports.is_empty() {
                        "none".to_owned()
                    } else {
                        exports.join(", ")
                    }
                ),
                state,
            ));
            out.running = text(hp.get("dbInstanceStatus")) != Some("stopped");
        }
        other => out.prerequisites.push(Prerequisite::new(
            "host-known",
            format!("unknown host type `{other}`"),
            PrerequisiteState::Unknown {
                why: "the SQL Server asset names no known host type".to_owned(),
            },
        )),
    }
    out
}
