//! Rules for ECS task definitions, services and clusters.
//!
//! Task definitions are the latest ACTIVE revision of each family (what
//! Security Hub evaluates); a revision that is no longer ACTIVE is not
//! applicable. Services and clusters that are no longer ACTIVE are not
//! applicable either.

use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "ecs-task-definition-host-network-user",
        check: host_network_user,
    },
    Rule {
        id: "ecs-service-no-public-ip",
        check: service_no_public_ip,
    },
    Rule {
        id: "ecs-task-definition-no-host-pid",
        check: no_host_pid,
    },
    Rule {
        id: "ecs-task-definition-nonprivileged",
        check: nonprivileged,
    },
    Rule {
        id: "ecs-task-definition-readonly-root",
        check: readonly_root,
    },
    Rule {
        id: "ecs-task-definition-no-environment-secrets",
        check: no_environment_secrets,
    },
    Rule {
        id: "ecs-task-definition-logging",
        check: logging,
    },
    Rule {
        id: "ecs-fargate-service-latest-platform",
        check: fargate_latest_platform,
    },
    Rule {
        id: "ecs-cluster-container-insights",
        check: container_insights,
    },
];

/// Security Hub's ECS.8 default `secretKeys`.
const SECRET_KEYS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ECS_ENGINE_AUTH_DATA",
];

/// Security Hub's ECS.10 defaults: the latest Fargate platform version of
/// each platform family.
const LATEST_LINUX: &str = "1.4.0";
const LATEST_WINDOWS: &str = "1.0.0";

/// Not applicable when the resource is no longer `ACTIVE`.
fn inactive(p: &Props<'_>, what: &str) -> Result<Option<Outcome>, Unreadable> {
    Ok(match p.str("status")? {
        Some(status) if status != "ACTIVE" => Some(
            Outcome::not_applicable(format!("The {what} is {status}, not ACTIVE."))
                .with(p.evidence("status")),
        ),
        _ => None,
    })
}

/// A container's name for messages.
fn name(c: Node<'_>) -> String {
    format!(
        "`{}`",
        c.get("name").and_then(Node::as_str).unwrap_or("(unnamed)")
    )
}

/// The names of the containers matching `pred`, joined for a message.
fn containers_where(
    p: &Props<'_>,
    pred: impl Fn(Node<'_>) -> bool,
) -> Result<Vec<String>, Unreadable> {
    Ok(p.array("containerDefinitions")?
        .iter()
        .filter(|c| pred(*c))
        .map(name)
        .collect())
}

/// Whether a container user runs as root: unset, `root` or uid `0`
/// (with or without a group).
fn runs_as_root(user: Option<&str>) -> bool {
    match user.map(str::trim) {
        None | Some("") => true,
        Some(u) => {
            let who = u.split(':').next().unwrap_or(u);
            who == "root" || who == "0"
        }
    }
}

/// ECS.1: in `host` network mode, every container is either privileged or
/// runs as a non-root user. Other network modes pass.
fn host_network_user(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "task definition revision")? {
        return Ok(na);
    }
    let mode = p.str("networkMode")?;
    if mode != Some("host") {
        return Ok(Outcome::healthy(format!(
            "The task definition uses the `{}` network mode, not `host`.",
            mode.unwrap_or("default")
        ))
        .with(p.evidence("networkMode")));
    }
    let unsafe_containers = containers_where(p, |c| {
        let privileged = c.get("privileged").and_then(Node::as_bool) == Some(true);
        !privileged && runs_as_root(c.get("user").and_then(Node::as_str))
    })?;
    Ok(Outcome::either(
        unsafe_containers.is_empty(),
        "Every container of this host-network task definition runs as a non-root user or is explicitly privileged.",
        format!(
            "In the `host` network mode, container(s) {} run as root without being explicitly privileged; set a non-root `user`.",
            unsafe_containers.join(", ")
        ),
    )
    .with(p.evidence("networkMode"))
    .with(p.evidence("containerDefinitions")))
}

/// ECS.2: the service does not assign public IP addresses to its tasks
/// (`assignPublicIp` is not `ENABLED`).
fn service_no_public_ip(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "service")? {
        return Ok(na);
    }
    let assign = p.str("assignPublicIp")?;
    Ok(Outcome::either(
        assign != Some("ENABLED"),
        "The service does not assign public IP addresses to its tasks.",
        "The service assigns a public IP address to every task; set `assignPublicIp` to `DISABLED` and use private subnets.",
    )
    .with(p.evidence("assignPublicIp")))
}

/// ECS.3: `pidMode` is not `host`.
fn no_host_pid(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "task definition revision")? {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("pidMode")? != Some("host"),
        "The task definition does not share the host's process namespace.",
        "The task definition sets `pidMode: host`, sharing the host's process namespace with its containers.",
    )
    .with(p.evidence("pidMode")))
}

/// ECS.4: no container sets `privileged: true`.
fn nonprivileged(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "task definition revision")? {
        return Ok(na);
    }
    let privileged = containers_where(p, |c| {
        c.get("privileged").and_then(Node::as_bool) == Some(true)
    })?;
    Ok(Outcome::either(
        privileged.is_empty(),
        "No container of the task definition is privileged.",
        format!(
            "Container(s) {} run privileged; remove `privileged: true`.",
            privileged.join(", ")
        ),
    )
    .with(p.evidence("containerDefinitions")))
}

/// ECS.5: every container sets `readonlyRootFilesystem: true` (unset is
/// ECS's default, a writable root file system).
fn readonly_root(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "task definition revision")? {
        return Ok(na);
    }
    let writable = containers_where(p, |c| {
        c.get("readonlyRootFilesystem").and_then(Node::as_bool) != Some(true)
    })?;
    Ok(Outcome::either(
        writable.is_empty(),
        "Every container of the task definition has a read-only root file system.",
        format!(
            "Container(s) {} have a writable root file system; set `readonlyRootFilesystem: true`.",
            writable.join(", ")
        ),
    )
    .with(p.evidence("containerDefinitions")))
}

/// ECS.8: no container has a plain environment variable named like an AWS
/// credential or the ECS engine's registry authentication.
fn no_environment_secrets(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "task definition revision")? {
        return Ok(na);
    }
    let mut found = Vec::new();
    for c in p.array("containerDefinitions")?.iter() {
        let names = c
            .get("environmentNames")
            .and_then(Node::as_array)
            .unwrap_or_default();
        for env in names.iter().filter_map(Node::as_str) {
            if SECRET_KEYS.contains(&env) {
                found.push(format!("`{env}` in {}", name(c)));
            }
        }
    }
    Ok(Outcome::either(
        found.is_empty(),
        "No container passes AWS credentials as plain environment variables.",
        format!(
            "Credentials are passed as plain environment variables ({}); reference them from Secrets Manager or Parameter Store under `secrets`.",
            found.join(", ")
        ),
    )
    .with(p.evidence("containerDefinitions")))
}

/// ECS.9: every container has a log configuration.
fn logging(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "task definition revision")? {
        return Ok(na);
    }
    let unlogged = containers_where(p, |c| c.get("logDriver").and_then(Node::as_str).is_none())?;
    Ok(Outcome::either(
        unlogged.is_empty(),
        "Every container of the task definition has a log configuration.",
        format!(
            "Container(s) {} have no log configuration; set a `logConfiguration` (for example the `awslogs` driver).",
            unlogged.join(", ")
        ),
    )
    .with(p.evidence("containerDefinitions")))
}

/// Whether the service runs on Fargate: launch type `FARGATE`, or a
/// capacity provider strategy of `FARGATE`/`FARGATE_SPOT`.
fn on_fargate(p: &Props<'_>) -> Result<bool, Unreadable> {
    if p.str("launchType")? == Some("FARGATE") {
        return Ok(true);
    }
    Ok(p.array("capacityProviders")?
        .iter()
        .filter_map(Node::as_str)
        .any(|c| c == "FARGATE" || c == "FARGATE_SPOT"))
}

/// ECS.10: a Fargate service uses `LATEST` or the latest platform version
/// of its family. Not applicable to services not on Fargate.
fn fargate_latest_platform(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "service")? {
        return Ok(na);
    }
    if !on_fargate(p)? {
        return Ok(Outcome::not_applicable(
            "The service does not run on Fargate (EC2 or external launch type).",
        )
        .with(p.evidence("launchType"))
        .with(p.evidence("capacityProviders")));
    }
    let windows = p
        .str("platformFamily")?
        .is_some_and(|f| f.to_ascii_uppercase().starts_with("WINDOWS"));
    let latest = if windows {
        LATEST_WINDOWS
    } else {
        LATEST_LINUX
    };
    let version = p.str("platformVersion")?;
    Ok(match version {
        None | Some("LATEST") => {
            Outcome::healthy("The Fargate service uses the `LATEST` platform version.")
        }
        Some(v) if v == latest => Outcome::healthy(format!(
            "The Fargate service uses platform version `{v}`, the latest."
        )),
        Some(v) => Outcome::unhealthy(format!(
            "The Fargate service uses platform version `{v}`; move it to `LATEST` (`{latest}`)."
        )),
    }
    .with(p.evidence("platformVersion"))
    .with(p.evidence("platformFamily")))
}

/// ECS.12: the cluster's `containerInsights` setting is `enabled` or
/// `enhanced`.
fn container_insights(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = inactive(p, "cluster")? {
        return Ok(na);
    }
    let value = p.str("containerInsights")?;
    Ok(Outcome::either(
        matches!(value, Some("enabled" | "enhanced")),
        "Container Insights is on for the cluster.",
        "Container Insights is off for the cluster; set its `containerInsights` setting to `enabled`.",
    )
    .with(p.evidence("containerInsights")))
}

#[cfg(test)]
mod tests {
    use super::runs_as_root;

    #[test]
    fn root_users() {
        for root in [
            None,
            Some(""),
            Some("root"),
            Some("0"),
            Some("0:0"),
            Some("root:staff"),
        ] {
            assert!(runs_as_root(root), "{root:?}");
        }
        for user in [Some("1000"), Some("app"), Some("1000:1000"), Some("rooter")] {
            assert!(!runs_as_root(user), "{user:?}");
        }
    }
}
