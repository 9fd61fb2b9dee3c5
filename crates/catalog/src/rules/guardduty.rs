//! Rules for GuardDuty: enabled in every region, and its protection plans
//! on each detector.
//!
//! Protection plans are read from the detector's `features` (the current
//! API). A detector that reports no such feature is judged on the legacy
//! `dataSources` where one exists (S3 logs, EKS audit logs, EBS malware
//! scanning): `DISABLED` there is unhealthy. When neither says anything
//! the plan's state is unknown and the assessment is an error, never
//! healthy. (moto reports `features: []` and every data source
//! `DISABLED`.)

use super::cloudtrail::{region_disabled_outcome, region_not_enabled};
use super::{Outcome, Rule};
use crate::doc::{Array, Node};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "guardduty-enabled",
        check: enabled,
    },
    Rule {
        id: "guardduty-eks-audit-log-monitoring",
        check: eks_audit_logs,
    },
    Rule {
        id: "guardduty-lambda-protection",
        check: lambda_protection,
    },
    Rule {
        id: "guardduty-eks-runtime-monitoring",
        check: eks_runtime,
    },
    Rule {
        id: "guardduty-malware-protection-ec2",
        check: malware_protection,
    },
    Rule {
        id: "guardduty-rds-protection",
        check: rds_protection,
    },
    Rule {
        id: "guardduty-s3-protection",
        check: s3_protection,
    },
    Rule {
        id: "guardduty-runtime-monitoring",
        check: runtime_monitoring,
    },
    Rule {
        id: "guardduty-ecs-runtime-monitoring",
        check: ecs_runtime,
    },
    Rule {
        id: "guardduty-ec2-runtime-monitoring",
        check: ec2_runtime,
    },
];

/// FSBP GuardDuty.1: a GuardDuty detector is enabled in the region. Not
/// applicable: the region is not enabled for the account.
fn enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    let enabled = match p.bool("enabled") {
        Ok(v) => v,
        Err(err) if region_not_enabled(&err) => return Ok(region_disabled_outcome(&err)),
        Err(err) => return Err(err),
    };
    match enabled {
        Some(true) => Ok(Outcome::healthy("GuardDuty is enabled in this region.")
            .with(p.evidence("detectorIds"))),
        Some(false) => {
            let none = p.array("detectorIds")?.is_empty();
            Ok(Outcome::unhealthy(if none {
                "GuardDuty has no detector in this region; enable GuardDuty here."
            } else {
                "The region's GuardDuty detector is suspended; enable it."
            })
            .with(p.evidence("enabled"))
            .with(p.evidence("detectorIds")))
        }
        None => Err(Unreadable {
            path: "enabled".to_owned(),
            error: "GuardDuty's state in this region was not reported".to_owned(),
        }),
    }
}

/// A protection plan: which features (with an optional additional
/// configuration that must also be on) satisfy it, and the legacy data
/// source that answers for it when `features` says nothing.
struct Plan {
    name: &'static str,
    features: &'static [(&'static str, Option<&'static str>)],
    data_source: Option<&'static str>,
}

/// The state a plan's feature reports.
enum State {
    On,
    Off(String),
    Unreported,
}

fn feature_state(
    features: Array<'_>,
    name: &str,
    extra: Option<&str>,
) -> Result<State, Unreadable> {
    let Some(feature) = features
        .iter()
        .find(|f| f.get("name").and_then(Node::as_str) == Some(name))
    else {
        return Ok(State::Unreported);
    };
    match feature.get("status").and_then(Node::as_str) {
        Some("ENABLED") => {}
        Some(other) => return Ok(State::Off(format!("`{name}` is {other}"))),
        None => return Ok(State::Unreported),
    }
    let Some(extra) = extra else {
        return Ok(State::On);
    };
    let config = feature
        .get("additionalConfiguration")
        .and_then(Node::as_array)
        .and_then(|c| {
            c.iter()
                .find(|x| x.get("name").and_then(Node::as_str) == Some(extra))
        });
    match config.and_then(|c| c.get("status")).and_then(Node::as_str) {
        Some("ENABLED") => Ok(State::On),
        Some(other) => Ok(State::Off(format!(
            "`{name}` is on but `{extra}` is {other}"
        ))),
        None => Err(Unreadable {
            path: "features".to_owned(),
            error: format!("`{name}` is on but GuardDuty did not report its `{extra}` setting"),
        }),
    }
}

/// The shared body of the protection plan rules. Not applicable: the
/// detector is not enabled (GuardDuty.1 reports that).
fn plan_check(p: &Props<'_>, plan: &Plan) -> Result<Outcome, Unreadable> {
    match p.str("status")? {
        Some("ENABLED") => {}
        Some(other) => {
            return Ok(Outcome::not_applicable(format!(
                "The detector is {other}; GuardDuty itself is off here (reported by the GuardDuty enabled recommendation)."
            ))
            .with(p.evidence("status")));
        }
        None => {
            return Err(Unreadable {
                path: "status".to_owned(),
                error: "the detector's status was not reported".to_owned(),
            });
        }
    }
    let features = p.array("features")?;
    let mut off = None;
    for (name, extra) in plan.features {
        match feature_state(features, name, *extra)? {
            State::On => {
                return Ok(
                    Outcome::healthy(format!("GuardDuty {} is enabled.", plan.name))
                        .with(p.evidence("features")),
                );
            }
            State::Off(why) => {
                off.get_or_insert(why);
            }
            State::Unreported => {}
        }
    }
    if let Some(why) = off {
        return Ok(Outcome::unhealthy(format!(
            "GuardDuty {} is not enabled ({why}); enable it on the detector.",
            plan.name
        ))
        .with(p.evidence("features")));
    }
    if let Some(path) = plan.data_source {
        match p.str(path)? {
            Some("ENABLED") => {
                return Ok(
                    Outcome::healthy(format!("GuardDuty {} is enabled.", plan.name))
                        .with(p.evidence(path)),
                );
            }
            Some(other) => {
                return Ok(Outcome::unhealthy(format!(
                    "GuardDuty {} is {other}; enable it on the detector.",
                    plan.name
                ))
                .with(p.evidence(path))
                .with(p.evidence("features")));
            }
            None => {}
        }
    }
    Err(Unreadable {
        path: "features".to_owned(),
        error: format!(
            "the detector reports no state for {} (no `{}` feature)",
            plan.name,
            plan.features.first().map_or("matching", |(name, _)| name)
        ),
    })
}

static EKS_AUDIT: Plan = Plan {
    name: "EKS Audit Log Monitoring",
    features: &[("EKS_AUDIT_LOGS", None)],
    data_source: Some("dataSources.kubernetes.auditLogs.status"),
};
static LAMBDA: Plan = Plan {
    name: "Lambda Protection",
    features: &[("LAMBDA_NETWORK_LOGS", None)],
    data_source: None,
};
static EKS_RUNTIME: Plan = Plan {
    name: "EKS Runtime Monitoring with automated agent management",
    features: &[
        ("RUNTIME_MONITORING", Some("EKS_ADDON_MANAGEMENT")),
        ("EKS_RUNTIME_MONITORING", Some("EKS_ADDON_MANAGEMENT")),
    ],
    data_source: None,
};
static MALWARE: Plan = Plan {
    name: "Malware Protection for EC2",
    features: &[("EBS_MALWARE_PROTECTION", None)],
    data_source: Some(
        "dataSources.malwareProtection.scanEc2InstanceWithFindings.ebsVolumes.status",
    ),
};
static RDS: Plan = Plan {
    name: "RDS Protection",
    features: &[("RDS_LOGIN_EVENTS", None)],
    data_source: None,
};
static S3: Plan = Plan {
    name: "S3 Protection",
    features: &[("S3_DATA_EVENTS", None)],
    data_source: Some("dataSources.s3Logs.status"),
};
static RUNTIME: Plan = Plan {
    name: "Runtime Monitoring",
    features: &[("RUNTIME_MONITORING", None)],
    data_source: None,
};
static ECS_RUNTIME: Plan = Plan {
    name: "ECS Runtime Monitoring (Fargate agent management)",
    features: &[("RUNTIME_MONITORING", Some("ECS_FARGATE_AGENT_MANAGEMENT"))],
    data_source: None,
};
static EC2_RUNTIME: Plan = Plan {
    name: "EC2 Runtime Monitoring (agent management)",
    features: &[("RUNTIME_MONITORING", Some("EC2_AGENT_MANAGEMENT"))],
    data_source: None,
};

/// FSBP GuardDuty.5: EKS Audit Log Monitoring on (feature `EKS_AUDIT_LOGS`,
/// else `dataSources.kubernetes.auditLogs`). Not applicable: detector off.
fn eks_audit_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &EKS_AUDIT)
}

/// FSBP GuardDuty.6: Lambda Protection on (`LAMBDA_NETWORK_LOGS`). Not
/// applicable: detector off.
fn lambda_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &LAMBDA)
}

/// FSBP GuardDuty.7: EKS Runtime Monitoring with automated agent management
/// (`RUNTIME_MONITORING` or `EKS_RUNTIME_MONITORING` with
/// `EKS_ADDON_MANAGEMENT`). Not applicable: detector off.
fn eks_runtime(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &EKS_RUNTIME)
}

/// FSBP GuardDuty.8: Malware Protection for EC2 on (`EBS_MALWARE_PROTECTION`,
/// else the legacy EBS volume scanning data source). Not applicable:
/// detector off.
fn malware_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &MALWARE)
}

/// FSBP GuardDuty.9: RDS Protection on (`RDS_LOGIN_EVENTS`). Not applicable:
/// detector off.
fn rds_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &RDS)
}

/// FSBP GuardDuty.10: S3 Protection on (`S3_DATA_EVENTS`, else
/// `dataSources.s3Logs`). Not applicable: detector off.
fn s3_protection(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &S3)
}

/// FSBP GuardDuty.11: Runtime Monitoring on (`RUNTIME_MONITORING`). Not
/// applicable: detector off.
fn runtime_monitoring(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &RUNTIME)
}

/// FSBP GuardDuty.12: ECS Runtime Monitoring (`RUNTIME_MONITORING` with
/// `ECS_FARGATE_AGENT_MANAGEMENT`). Not applicable: detector off.
fn ecs_runtime(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &ECS_RUNTIME)
}

/// FSBP GuardDuty.13: EC2 Runtime Monitoring (`RUNTIME_MONITORING` with
/// `EC2_AGENT_MANAGEMENT`). Not applicable: detector off.
fn ec2_runtime(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    plan_check(p, &EC2_RUNTIME)
}
