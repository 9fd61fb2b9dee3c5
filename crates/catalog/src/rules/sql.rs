//! Rules over the SQL Servers discovery found (`rampart_aws::sql_discovery`,
//! one [`rampart_model::types::SQL_SERVER_INSTANCE`] asset per host):
//! network exposure of an EC2 host's SQL ports, support state of the
//! version (Microsoft's lifecycle dates, `data/sql-server-lifecycle.tsv`),
//! and RDS Custom automation.

use std::sync::LazyLock;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::ec2::{Exposure, instance_retiring, instance_world_exposure};
use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "sql-server-ports-closed-to-internet",
        check: ports_closed,
    },
    Rule {
        id: "sql-server-version-supported",
        check: version_supported,
    },
    Rule {
        id: "sql-rds-custom-automation-not-paused",
        check: automation_not_paused,
    },
    Rule {
        id: "sql-server-protection-prerequisites-met",
        check: prerequisites_met,
    },
    Rule {
        id: "sql-server-va-findings-resolved",
        check: va_findings_resolved,
    },
];

/// Findings listed one by one in the VA recommendation's evidence, at most.
const MAX_LISTED: usize = 50;

/// The database engine (1433) and the SQL Server Browser service (1434).
const SQL_PORTS: &[i64] = &[1433, 1434];

/// One release's support dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    pub major: u32,
    pub minor: u32,
    pub product: String,
    pub mainstream_end: Date,
    pub extended_end: Date,
}

/// Microsoft's lifecycle dates, as data with their source.
pub(crate) static LIFECYCLE: LazyLock<Vec<Lifecycle>> = LazyLock::new(|| {
    parse_lifecycle(include_str!("../../data/sql-server-lifecycle.tsv")).unwrap_or_default()
});

/// Parses the lifecycle table (`#` comments, a header, tab-separated rows).
pub(crate) fn parse_lifecycle(text: &str) -> Result<Vec<Lifecycle>, String> {
    let date = format_description!("[year]-[month]-[day]");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with("major\t"))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let [major, minor, product, mainstream, extended] = cols[..] else {
                return Err(format!("lifecycle row `{line}` does not have 5 columns"));
            };
            let parse_date =
                |t: &str| Date::parse(t, &date).map_err(|e| format!("lifecycle date `{t}`: {e}"));
            Ok(Lifecycle {
                major: major.parse().map_err(|e| format!("major `{major}`: {e}"))?,
                minor: minor.parse().map_err(|e| format!("minor `{minor}`: {e}"))?,
                product: product.to_owned(),
                mainstream_end: parse_date(mainstream)?,
                extended_end: parse_date(extended)?,
            })
        })
        .collect()
}

fn not_on_ec2(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("hostType")? {
        Some("ec2") => None,
        Some(other) => Some(
            Outcome::not_applicable(format!(
                "The SQL Server runs on an RDS ({other}) DB instance: its network exposure is assessed by `rds-instance-not-publicly-accessible`."
            ))
            .with(p.evidence("hostType")),
        ),
        None => {
            return Err(Unreadable {
                path: "hostType".to_owned(),
                error: "the SQL Server asset does not say what hosts it".to_owned(),
            });
        }
    })
}

fn host<'i>(
    p: &Props<'_>,
    inv: &'i Inventory,
) -> Result<crate::inventory::AssetRef<'i>, Unreadable> {
    let arn = p.str("hostArn")?.ok_or_else(|| Unreadable {
        path: "hostArn".to_owned(),
        error: "the SQL Server asset does not name its host".to_owned(),
    })?;
    inv.by_arn(arn).ok_or_else(|| Unreadable {
        path: "hostArn".to_owned(),
        error: format!("the host `{arn}` is not in the inventory"),
    })
}

/// A SQL Server on an EC2 instance with a public IPv4 address must not be
/// reachable on 1433 (engine) or 1434 (Browser) from the internet: the
/// host's security groups are looked up in the snapshot. Not applicable:
/// RDS-hosted servers, a host without a public address, or one being
/// terminated.
fn ports_closed(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = not_on_ec2(p)? {
        return Ok(na);
    }
    let host = Props::of(host(p, inv)?);
    if let Some(na) = instance_retiring(&host)? {
        return Ok(na);
    }
    match instance_world_exposure(&host, inv, SQL_PORTS)? {
        Exposure::NoPublicAddress => Ok(Outcome::not_applicable(
            "The SQL Server's host has no public IPv4 address, so its ports are not reachable from the internet directly.",
        )
        .with(host.evidence("publicIpAddress"))),
        Exposure::Open(open) => Ok(Outcome::unhealthy(format!(
            "The SQL Server's host has the public address {} and its security group `{}` allows port {} from `{}`; allow SQL Server only from the application's security group or address ranges, and turn off the Browser service when named instances are not used.",
            open.address, open.group, open.port, open.world
        ))
        .with(p.evidence("hostArn"))
        .with(open.address_evidence)
        .with(open.rule_evidence)),
        Exposure::Closed => Ok(Outcome::healthy(
            "No security group of the SQL Server's host opens 1433 or 1434 to the internet.",
        )
        .with(p.evidence("hostArn"))
        .with(host.evidence("securityGroups"))),
    }
}

/// Microsoft still ships security updates for the release: unhealthy once
/// its extended support has ended on the day the scan observed it
/// (`observedAt`). Not applicable: RDS for SQL Server (RDS manages and
/// upgrades the engine; RDS Custom does not). Error: the version is unknown (a license signal alone
/// does not say it; SSM inventory does) or missing from the lifecycle data.
fn version_supported(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("hostType")? == Some("rds") {
        return Ok(Outcome::not_applicable(
            "RDS for SQL Server manages the engine version: RDS upgrades major versions before Microsoft's support ends.",
        )
        .with(p.evidence("hostType")));
    }
    let Some(major) = p.i64("majorVersion")? else {
        return Err(Unreadable {
            path: "majorVersion".to_owned(),
            error: "the SQL Server's version is unknown (the signals that found it do not say; SSM software inventory from the Servers plan reports it)".to_owned(),
        });
    };
    let minor = p
        .str("version")?
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    let observed = p
        .str("observedAt")?
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        .ok_or_else(|| Unreadable {
            path: "observedAt".to_owned(),
            error: "the SQL Server asset has no observation time".to_owned(),
        })?
        .date();
    let major = u32::try_from(major).unwrap_or(0);
    let release = LIFECYCLE
        .iter()
        .filter(|l| l.major == major && l.minor <= minor)
        .max_by_key(|l| l.minor);
    let Some(release) = release else {
        if LIFECYCLE.iter().all(|l| l.major < major) {
            return Ok(Outcome::healthy(format!(
                "SQL Server major version {major} is newer than every release in Rampart's lifecycle data, so it is in mainstream support."
            ))
            .with(p.evidence("majorVersion")));
        }
        return Err(Unreadable {
            path: "majorVersion".to_owned(),
            error: format!("no lifecycle dates for SQL Server major version `{major}`"),
        });
    };
    let outcome = if observed > release.extended_end {
        Outcome::unhealthy(format!(
            "{} left extended support on {}: it no longer receives security updates; upgrade to a supported release (or buy Extended Security Updates and record an exemption).",
            release.product, release.extended_end
        ))
    } else if observed > release.mainstream_end {
        Outcome::healthy(format!(
            "{} is in extended support (security updates only) until {}; plan the upgrade.",
            release.product, release.extended_end
        ))
    } else {
        Outcome::healthy(format!(
            "{} is in mainstream support until {}.",
            release.product, release.mainstream_end
        ))
    };
    Ok(outcome
        .with(p.evidence("majorVersion"))
        .with(p.evidence("version"))
        .with(p.evidence("observedAt")))
}

/// RDS Custom for SQL Server: RDS automation (monitoring, backups, instance
/// recovery) is not paused. Not applicable: servers not on RDS Custom.
fn automation_not_paused(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if p.str("hostType")? != Some("rds-custom") {
        return Ok(
            Outcome::not_applicable("The SQL Server is not an RDS Custom DB instance.")
                .with(p.evidence("hostType")),
        );
    }
    let db = Props::of(host(p, inv)?);
    match db.str("automationMode")? {
        Some("full") => Ok(Outcome::healthy("RDS Custom automation is on (`full`).")
            .with(db.evidence("automationMode"))),
        Some(mode) => {
            let resume = db
                .str("resumeFullAutomationModeTime")?
                .map_or_else(String::new, |t| format!(" (it resumes at {t})"));
            Ok(Outcome::unhealthy(format!(
                "RDS Custom automation is `{mode}`{resume}: RDS does not monitor, back up or recover the instance meanwhile; resume full automation when the customization is done."
            ))
            .with(db.evidence("automationMode"))
            .with(db.evidence("resumeFullAutomationModeTime")))
        }
        None => Err(Unreadable {
            path: "automationMode".to_owned(),
            error: "the RDS Custom DB instance does not report its automation mode".to_owned(),
        }),
    }
}

/// The SQL plan's prerequisites for the server hold
/// ([`crate::sql::prerequisites_of`]): unhealthy listing each one that does
/// not, with its fix; error when none fails but one cannot be decided. Not
/// applicable: a stopped host.
fn prerequisites_met(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let found = crate::sql::prerequisites_of(inv, p.asset());
    if !found.running {
        return Ok(Outcome::not_applicable(format!(
            "The SQL Server's host `{}` is stopped; its prerequisites are assessed while it runs.",
            found.host_id
        ))
        .with(p.evidence("hostState")));
    }
    let evidence = rampart_model::Evidence {
        path: "prerequisites".to_owned(),
        value: serde_json::to_value(&found.prerequisites).unwrap_or_default(),
    };
    let not_met: Vec<String> = found
        .not_met()
        .map(|pr| match &pr.state {
            crate::sql::PrerequisiteState::NotMet { fix } => {
                format!("{} ({}): {fix}", pr.requirement, pr.detail)
            }
            _ => pr.requirement.clone(),
        })
        .collect();
    if !not_met.is_empty() {
        return Ok(Outcome::unhealthy(format!(
            "The SQL plan cannot protect this server yet: {}.",
            not_met.join("; ")
        ))
        .with(evidence));
    }
    if let Some(unknown) = found.unknown().next() {
        let why = match &unknown.state {
            crate::sql::PrerequisiteState::Unknown { why } => why.clone(),
            _ => String::new(),
        };
        return Err(Unreadable {
            path: format!("prerequisites.{}", unknown.requirement),
            error: why,
        });
    }
    Ok(Outcome::healthy(format!(
        "Every prerequisite of the SQL plan holds ({}).",
        found
            .prerequisites
            .iter()
            .map(|pr| pr.requirement.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with(evidence))
}

/// The server's vulnerability assessment (one
/// [`rampart_model::types::SQL_VULNERABILITY_ASSESSMENT`] asset per server,
/// by `serverArn`).
fn assessment_of<'i>(p: &Props<'_>, inv: &'i Inventory) -> Option<crate::inventory::AssetRef<'i>> {
    let index = inv.memo("sql:va_by_server", |inv| {
        let mut index: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for a in inv.of_type(rampart_model::types::SQL_VULNERABILITY_ASSESSMENT) {
            if let Some(server) = a
                .properties
                .get("serverArn")
                .and_then(crate::doc::Node::as_str)
            {
                index.insert(server.to_owned(), a.arn.to_owned());
            }
        }
        index
    });
    index.get(p.asset().arn).and_then(|arn| inv.by_arn(arn))
}

/// Defender's "SQL servers on machines should have vulnerability findings
/// resolved": unhealthy when any rule of the read-only assessment is a
/// finding (each finding is one evidence entry: rule, title, severity,
/// database, the offending rows); findings accepted by a baseline are not
/// findings. Error: the script could not run, or rules are in error and
/// nothing was found. Not applicable: the server was not assessed (not on
/// EC2, not a managed Windows host, or the SQL plan is off).
fn va_findings_resolved(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let Some(va) = assessment_of(p, inv) else {
        return Ok(Outcome::not_applicable(
            "The SQL plan's vulnerability assessment did not run on this server (it runs on SQL Servers on EC2 Windows hosts managed by Systems Manager, for connectors with the SQL plan).",
        ));
    };
    let va = Props::of(va);
    if let Some(error) = va.str("error")?
        && va.array("results")?.is_empty()
    {
        return Err(Unreadable {
            path: "vulnerabilityAssessment.error".to_owned(),
            error: format!("the vulnerability assessment did not run: {error}"),
        });
    }
    let results = va.array("results")?;
    fn status(r: crate::doc::Node<'_>) -> Option<&str> {
        r.get("status").and_then(crate::doc::Node::as_str)
    }
    let findings: Vec<crate::doc::Node<'_>> = results
        .iter()
        .filter(|r| status(*r) == Some("finding"))
        .collect();
    let errors: Vec<&str> = results
        .iter()
        .filter(|r| status(*r) == Some("error"))
        .filter_map(|r| r.get("rule").and_then(crate::doc::Node::as_str))
        .collect();
    let baselined = results
        .iter()
        .filter(|r| r.get("baseline").is_some_and(|b| !b.is_null()))
        .count();
    let counts = rampart_model::Evidence {
        path: "vulnerabilityAssessment".to_owned(),
        value: serde_json::json!({
            "assessedAt": va.str("assessedAt")?,
            "commandId": va.str("commandId")?,
            "findings": findings.len(),
            "errors": errors.len(),
            "acceptedByBaseline": baselined,
            "rules": results.len(),
        }),
    };
    if findings.is_empty() {
        if !errors.is_empty() {
            return Err(Unreadable {
                path: "vulnerabilityAssessment.results".to_owned(),
                error: format!(
                    "{} rule(s) could not be assessed ({}); nothing was found in the others",
                    errors.len(),
                    errors.join(", ")
                ),
            });
        }
        return Ok(Outcome::healthy(format!(
            "No vulnerability assessment finding in {} rule results{}.",
            results.len(),
            if baselined > 0 {
                format!(" ({baselined} accepted by a baseline)")
            } else {
                String::new()
            }
        ))
        .with(counts));
    }
    let mut outcome = Outcome::unhealthy(format!(
        "{} vulnerability assessment finding(s) in the SQL Server{}; fix them with each rule's remediation, or accept an expected result as a baseline (`rampart sql baseline accept`).",
        findings.len(),
        if errors.is_empty() {
            String::new()
        } else {
            format!(" ({} rule(s) could not be assessed)", errors.len())
        }
    ))
    .with(counts);
    for (i, f) in findings.iter().take(MAX_LISTED).enumerate() {
        let pick = |k: &str| f.get(k).map_or(serde_json::Value::Null, |n| n.to_value());
        outcome = outcome.with(rampart_model::Evidence {
            path: format!("findings[{i}]"),
            value: serde_json::json!({
                "rule": pick("rule"),
                "title": pick("title"),
                "severity": pick("severity"),
                "category": pick("category"),
                "database": pick("database"),
                "columns": pick("columns"),
                "evidence": pick("evidence"),
                "remediation": pick("remediation"),
            }),
        });
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;

    #[test]
    fn the_lifecycle_table_parses_and_is_ordered() {
        let table = parse_lifecycle(include_str!("../../data/sql-server-lifecycle.tsv")).unwrap();
        assert_eq!(table.len(), LIFECYCLE.len());
        assert!(table.len() >= 8);
        for release in &table {
            assert!(release.mainstream_end < release.extended_end, "{release:?}");
        }
        assert_eq!(table[0].product, "SQL Server 2022");
        assert!(parse_lifecycle("16\t0\tSQL Server 2022\t2028-01-11").is_err());
        assert!(parse_lifecycle("16\t0\tSQL Server 2022\t2028-13-11\t2033-01-11").is_err());
    }
}
