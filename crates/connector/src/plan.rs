//! Plans (Defender's "offerings"): what each one is called, the audience its
//! tokens carry, and the IAM roles it asks the customer account for.

use serde::{Deserialize, Serialize};

/// One plan a connector can enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    /// Cloud security posture management: inventory and recommendations.
    Cspm,
    /// Workload protection for EC2 instances.
    Servers,
    /// Workload protection for EKS clusters.
    Containers,
    /// Workload protection for SQL Server on EC2 and RDS.
    Sql,
}

/// One IAM role a plan needs in the customer account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanRole {
    /// The offering field that holds the role's ARN (dotted path inside the
    /// offering, as design.md section 8 names it).
    pub field: &'static str,
    /// The role's default name in onboarding templates.
    pub default_name: &'static str,
    /// What the role is for, one line.
    pub purpose: &'static str,
}

impl Plan {
    /// Every plan, in display order.
    pub const ALL: [Plan; 4] = [Plan::Cspm, Plan::Servers, Plan::Containers, Plan::Sql];

    /// The name used on the command line and in the API (`cspm`, `servers`, …).
    pub fn name(self) -> &'static str {
        match self {
            Plan::Cspm => "cspm",
            Plan::Servers => "servers",
            Plan::Containers => "containers",
            Plan::Sql => "sql",
        }
    }

    /// The plan with this command-line name.
    pub fn from_name(name: &str) -> Option<Plan> {
        Plan::ALL.into_iter().find(|plan| plan.name() == name)
    }

    /// The offering type, as Defender names it (`CspmMonitorAws`, …).
    pub fn offering_type(self) -> &'static str {
        match self {
            Plan::Cspm => "CspmMonitorAws",
            Plan::Servers => "DefenderForServersAws",
            Plan::Containers => "DefenderForContainersAws",
            Plan::Sql => "DefenderForDatabasesAws",
        }
    }

    /// The plan with this offering type.
    pub fn from_offering_type(offering_type: &str) -> Option<Plan> {
        Plan::ALL
            .into_iter()
            .find(|plan| plan.offering_type() == offering_type)
    }

    /// The `aud` claim of this plan's tokens, and the client id the customer's
    /// IAM OIDC provider lists for it. Each of the plan's roles trusts only
    /// tokens with this audience.
    pub fn audience(self) -> &'static str {
        match self {
            Plan::Cspm => "rampart-cspm",
            Plan::Servers => "rampart-servers",
            Plan::Containers => "rampart-containers",
            Plan::Sql => "rampart-sql",
        }
    }

    /// The roles this plan needs; the first is the one its reads run as.
    pub fn roles(self) -> &'static [PlanRole] {
        match self {
            Plan::Cspm => &[PlanRole {
                field: "nativeCloudConnection.cloudRoleArn",
                default_name: "CspmMonitorAws",
                purpose: "reads resource configuration for posture assessment",
            }],
            Plan::Servers => &[
                PlanRole {
                    field: "defenderForServers.cloudRoleArn",
                    default_name: "RampartServers",
                    purpose: "discovers EC2 instances and their SSM status",
                },
                PlanRole {
                    field: "arcAutoProvisioning.cloudRoleArn",
                    default_name: "RampartServersProvisioning",
                    purpose: "installs the agent on EC2 instances through SSM",
                },
            ],
            Plan::Containers => &[
                PlanRole {
                    field: "kubernetesService.cloudRoleArn",
                    default_name: "RampartContainersK8s",
                    purpose: "reads EKS clusters and their configuration",
                },
                PlanRole {
                    field: "kubernetesDataCollection.cloudRoleArn",
                    default_name: "RampartContainersDataCollection",
                    purpose: "reads the audit-log bucket and queue",
                },
                PlanRole {
                    field: "cloudWatchToKinesis.cloudRoleArn",
                    default_name: "RampartContainersCloudWatchToKinesis",
                    purpose: "lets CloudWatch Logs write audit logs to the delivery stream",
                },
                PlanRole {
                    field: "kinesisToS3.cloudRoleArn",
                    default_name: "RampartContainersKinesisToS3",
                    purpose: "lets the delivery stream write audit logs to the bucket",
                },
            ],
            Plan::Sql => &[
                PlanRole {
                    field: "rds.cloudRoleArn",
                    default_name: "RampartDatabasesRds",
                    purpose: "discovers RDS databases",
                },
                PlanRole {
                    field: "arcAutoProvisioning.cloudRoleArn",
                    default_name: "RampartDatabasesProvisioning",
                    purpose: "discovers SQL Server on EC2 and installs the agent through SSM",
                },
                PlanRole {
                    field: "threatDetection.cloudRoleArn",
                    default_name: "RampartDatabasesThreatDetection",
                    purpose: "provisions and reads the SQL Server log pipelines",
                },
                PlanRole {
                    field: "threatDetection.cloudWatchToKinesis.cloudRoleArn",
                    default_name: "RampartDatabasesCloudWatchToKinesis",
                    purpose: "lets CloudWatch Logs write SQL Server logs to the delivery stream",
                },
                PlanRole {
                    field: "threatDetection.kinesisToS3.cloudRoleArn",
                    default_name: "RampartDatabasesKinesisToS3",
                    purpose: "lets the delivery stream write SQL Server logs to the bucket",
                },
            ],
        }
    }

    /// The role session name Rampart uses for a connector: `Rampart_<name>`.
    /// Trust policies require it (`sts:RoleSessionName`).
    pub fn session_name(connector_name: &str) -> String {
        format!("Rampart_{connector_name}")
    }
}

impl std::str::FromStr for Plan {
    type Err = crate::ConnectorError;

    /// Parses a command-line plan name (`cspm`, `servers`, `containers`, `sql`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Plan::from_name(name).ok_or_else(|| crate::ConnectorError::UnknownPlan(name.to_owned()))
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;

    #[test]
    fn names_and_offering_types_round_trip() {
        for plan in Plan::ALL {
            assert_eq!(Plan::from_name(plan.name()), Some(plan));
            assert_eq!(Plan::from_offering_type(plan.offering_type()), Some(plan));
            assert!(!plan.roles().is_empty());
        }
        assert_eq!(Plan::from_name("CSPM"), None);
    }

    #[test]
    fn audiences_are_distinct() {
        let mut audiences: Vec<_> = Plan::ALL.iter().map(|p| p.audience()).collect();
        audiences.sort_unstable();
        audiences.dedup();
        assert_eq!(audiences.len(), Plan::ALL.len());
    }
}
