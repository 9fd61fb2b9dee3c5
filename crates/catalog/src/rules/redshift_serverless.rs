//! Rules for Amazon Redshift Serverless workgroups
//! (`AWS::RedshiftServerless::Workgroup`) and namespaces
//! (`AWS::RedshiftServerless::Namespace`). Every workgroup and namespace is
//! assessed except one being deleted.

use super::redshift::{DEFAULT_DATABASE_NAME, not_reported, reported_bool, reported_str};
use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "redshift-serverless-workgroup-enhanced-vpc-routing",
        check: workgroup_enhanced_vpc_routing,
    },
    Rule {
        id: "redshift-serverless-workgroup-ssl-required",
        check: workgroup_ssl_required,
    },
    Rule {
        id: "redshift-serverless-workgroup-not-publicly-accessible",
        check: workgroup_not_publicly_accessible,
    },
    Rule {
        id: "redshift-serverless-namespace-custom-admin-username",
        check: namespace_custom_admin_username,
    },
    Rule {
        id: "redshift-serverless-namespace-logs-exported",
        check: namespace_logs_exported,
    },
    Rule {
        id: "redshift-serverless-namespace-custom-database-name",
        check: namespace_custom_database_name,
    },
];

/// The admin user name Redshift Serverless uses by default
/// (RedshiftServerless.5).
pub const DEFAULT_SERVERLESS_ADMIN_USERNAME: &str = "admin";

/// The logs RedshiftServerless.6 requires a namespace to export (the
/// Config rule's default `logType`).
pub const REQUIRED_LOG_EXPORTS: &[&str] = &["connectionlog", "userlog"];

/// Not applicable to a workgroup or namespace being deleted.
fn gone(p: &Props<'_>, noun: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some("DELETING") => Some(
            Outcome::not_applicable(format!("The {noun} is being deleted."))
                .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// FSBP RedshiftServerless.1: `enhancedVpcRouting` is true.
fn workgroup_enhanced_vpc_routing(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p, "workgroup")? {
        return Ok(outcome);
    }
    Ok(Outcome::either(
        reported_bool(p, "enhancedVpcRouting")?,
        "Enhanced VPC routing is on.",
        "Enhanced VPC routing is off: COPY and UNLOAD traffic leaves the VPC.",
    )
    .with(p.evidence("enhancedVpcRouting")))
}

/// FSBP RedshiftServerless.2: the `require_ssl` configuration parameter is
/// `true`. A workgroup whose parameters do not list it is unknown.
fn workgroup_ssl_required(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p, "workgroup")? {
        return Ok(outcome);
    }
    let parameters = p.array("configParameters")?;
    let Some((index, value)) = parameters.iter().enumerate().find_map(|(i, c)| {
        (c.get("parameterKey").and_then(Node::as_str) == Some("require_ssl"))
            .then(|| (i, c.get("parameterValue").and_then(Node::as_str)))
    }) else {
        return Err(not_reported("configParameters.require_ssl"));
    };
    let on = value.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Outcome::either(
        on,
        "The workgroup requires SSL for connections (`require_ssl` is true).",
        "The workgroup does not require SSL: `require_ssl` is not true, so clients may connect without TLS.",
    )
    .with(p.evidence(&format!("configParameters.{index}"))))
}

/// FSBP RedshiftServerless.3: `publiclyAccessible` is false.
fn workgroup_not_publicly_accessible(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p, "workgroup")? {
        return Ok(outcome);
    }
    Ok(Outcome::either(
        !reported_bool(p, "publiclyAccessible")?,
        "The workgroup is not publicly accessible.",
        "The workgroup is publicly accessible from the internet.",
    )
    .with(p.evidence("publiclyAccessible")))
}

/// FSBP RedshiftServerless.5: the admin user is not
/// [`DEFAULT_SERVERLESS_ADMIN_USERNAME`].
fn namespace_custom_admin_username(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p, "namespace")? {
        return Ok(outcome);
    }
    let user = reported_str(p, "adminUsername")?;
    Ok(Outcome::either(
        user != DEFAULT_SERVERLESS_ADMIN_USERNAME,
        "The admin user name is not the default.",
        format!("The admin user is the default `{DEFAULT_SERVERLESS_ADMIN_USERNAME}`."),
    )
    .with(p.evidence("adminUsername")))
}

/// FSBP RedshiftServerless.6: the namespace exports every log of
/// [`REQUIRED_LOG_EXPORTS`] to CloudWatch Logs.
fn namespace_logs_exported(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p, "namespace")? {
        return Ok(outcome);
    }
    let exported: Vec<&str> = p
        .array("logExports")?
        .iter()
        .filter_map(Node::as_str)
        .collect();
    let missing: Vec<&str> = REQUIRED_LOG_EXPORTS
        .iter()
        .copied()
        .filter(|l| !exported.contains(l))
        .collect();
    Ok(if missing.is_empty() {
        Outcome::healthy("The namespace exports its connection and user logs to CloudWatch Logs.")
    } else {
        Outcome::unhealthy(format!(
            "The namespace does not export `{}` to CloudWatch Logs.",
            missing.join("`, `")
        ))
    }
    .with(p.evidence("logExports")))
}

/// FSBP RedshiftServerless.7: the first database is not named
/// [`DEFAULT_DATABASE_NAME`].
fn namespace_custom_database_name(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(outcome) = gone(p, "namespace")? {
        return Ok(outcome);
    }
    let name = reported_str(p, "dbName")?;
    Ok(Outcome::either(
        name != DEFAULT_DATABASE_NAME,
        "The database name is not the default.",
        format!("The database has the default name `{DEFAULT_DATABASE_NAME}`."),
    )
    .with(p.evidence("dbName")))
}
