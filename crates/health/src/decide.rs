//! The decisions: plain data in, a [`State`] and a one-line detail out.
//! Nothing here calls AWS or the network.

use std::collections::BTreeSet;

use rampart_aws::{AccessError, CallFailure, CallerIdentity};
use rampart_model::{CoverageGap, GapKind, ScanRecord, ScanStatus};
use serde_json::Value;

use crate::State;

/// The documented default quota of S3 general purpose buckets per account
/// (adjustable in Service Quotas; Rampart does not read Service Quotas).
pub const S3_BUCKET_QUOTA: usize = 10_000;

/// The documented default quota of Firehose streams per account and region
/// (adjustable in Service Quotas; Rampart does not read Service Quotas).
pub const FIREHOSE_STREAM_QUOTA: usize = 5_000;

/// How many items a detail or fix names before "and N more".
const SHOWN: usize = 5;

/// Per-region results of one kind of call.
pub type Regional<T> = Vec<(String, Result<T, CallFailure>)>;

/// An HTTP response, as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The status code.
    pub status: u16,
    /// The body (at most 1 MiB).
    pub body: Vec<u8>,
    /// The `Location` header, for redirects.
    pub location: Option<String>,
}

/// `a, b, c and 2 more`.
pub fn list(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(SHOWN).map(String::as_str).collect();
    let rest = items.len().saturating_sub(SHOWN);
    if rest > 0 {
        format!("{} and {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn publish_fix(issuer_url: &str) -> String {
    format!(
        "publish the issuer documents: `rampart issuer export --dir DIR` and serve DIR at {issuer_url}/ over HTTPS (or run `rampart serve` there)"
    )
}

/// The discovery document fetched from `<issuer>/.well-known/openid-configuration`:
/// met when it answers 200 with JSON whose `issuer` is exactly the
/// configured URL. Returns the `jwks_uri` it names.
pub fn discovery(
    issuer_url: &str,
    discovery_url: &str,
    fetched: &Result<Fetched, String>,
) -> (State, String, Option<String>) {
    let fetched = match fetched {
        Ok(f) => f,
        Err(reason) => {
            return (
                State::not_met(publish_fix(issuer_url)),
                format!("cannot fetch {discovery_url}: {reason}"),
                None,
            );
        }
    };
    if (300..400).contains(&fetched.status) {
        return (
            State::not_met(format!(
                "serve the discovery document at {discovery_url} itself, without a redirect"
            )),
            format!(
                "{discovery_url} redirects (HTTP {}) to {}",
                fetched.status,
                fetched.location.as_deref().unwrap_or("nowhere")
            ),
            None,
        );
    }
    if fetched.status != 200 {
        return (
            State::not_met(publish_fix(issuer_url)),
            format!("{discovery_url} answered HTTP {}", fetched.status),
            None,
        );
    }
    let Ok(document) = serde_json::from_slice::<Value>(&fetched.body) else {
        return (
            State::not_met(publish_fix(issuer_url)),
            format!("{discovery_url} is not JSON"),
            None,
        );
    };
    let named = document.get("issuer").and_then(Value::as_str);
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_owned);
    match named {
        Some(named) if named == issuer_url => {
            let mut detail = format!("{discovery_url} names issuer {named}");
            if issuer_url.starts_with("http://") {
                detail.push_str(" (http: for local testing only; AWS accepts https issuers only)");
            }
            (State::Met, detail, jwks_uri)
        }
        Some(named) => (
            State::not_met(format!(
                "publish this issuer's documents ({issuer_url}): `rampart issuer export --dir DIR`; the ones served are another issuer's"
            )),
            format!("{discovery_url} names issuer {named}, not {issuer_url}"),
            jwks_uri,
        ),
        None => (
            State::not_met(publish_fix(issuer_url)),
            format!("{discovery_url} has no `issuer`"),
            jwks_uri,
        ),
    }
}

/// The JWKS fetched from the discovery document's `jwks_uri`: met when it
/// has a key with the signing key's `kid`.
pub fn jwks(
    issuer_url: &str,
    signing_kid: &str,
    jwks_uri: &str,
    fetched: &Result<Fetched, String>,
) -> (State, String) {
    let fetched = match fetched {
        Ok(f) if f.status == 200 => f,
        Ok(f) => {
            return (
                State::not_met(publish_fix(issuer_url)),
                format!("{jwks_uri} answered HTTP {}", f.status),
            );
        }
        Err(reason) => {
            return (
                State::not_met(publish_fix(issuer_url)),
                format!("cannot fetch {jwks_uri}: {reason}"),
            );
        }
    };
    let Ok(document) = serde_json::from_slice::<Value>(&fetched.body) else {
        return (
            State::not_met(publish_fix(issuer_url)),
            format!("{jwks_uri} is not JSON"),
        );
    };
    let kids: Vec<String> = document
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| k.get("kid").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if kids.iter().any(|k| k == signing_kid) {
        (
            State::Met,
            format!("{jwks_uri} has signing key {signing_kid}"),
        )
    } else {
        (
            State::not_met(format!(
                "publish the current JWKS: `rampart issuer export --dir DIR` and upload DIR/.well-known/jwks.json to {jwks_uri}"
            )),
            format!(
                "{jwks_uri} lacks signing key {signing_kid} (has: {})",
                if kids.is_empty() {
                    "no keys".to_owned()
                } else {
                    list(&kids)
                }
            ),
        )
    }
}

/// Whether the web identity exchange (or classic credentials) for a role
/// worked, judged from `GetCallerIdentity` made with them.
pub fn role_assumable(
    connector_name: &str,
    role: &str,
    result: Result<&CallerIdentity, &AccessError>,
) -> (State, String) {
    match result {
        Ok(identity) => (State::Met, format!("{role} as {}", identity.arn)),
        Err(err @ (AccessError::Unreachable { .. } | AccessError::MalformedEndpoint { .. })) => (
            State::unknown(err.to_string()),
            format!("{role}: AWS not reached"),
        ),
        Err(err @ AccessError::CredentialSource(_)) => (
            State::not_met(format!(
                "fix the role ARN: `rampart connector update {connector_name} --role-arn PLAN=ARN`"
            )),
            format!("{role}: {err}"),
        ),
        Err(err) => (
            State::not_met(format!(
                "deploy the onboarding template (`rampart connector template {connector_name}`): it creates the IAM OIDC provider for the issuer and the role, which must trust the plan's audience and session `Rampart_{connector_name}`"
            )),
            format!("{role}: {err}"),
        ),
    }
}

/// Whether the role's caller identity is in the connector's account.
pub fn account_matches(expected: &str, identity: &CallerIdentity) -> (State, String) {
    if identity.account == expected {
        (
            State::Met,
            format!("account {} ({})", identity.account, identity.arn),
        )
    } else {
        (
            State::not_met(format!(
                "use a role in account {expected}, or create the connector for account {}",
                identity.account
            )),
            format!(
                "the connector is for account {expected}, but the role's credentials are for account {} ({})",
                identity.account, identity.arn
            ),
        )
    }
}

fn denied_fix(actions: &[String], role: &str, connector_name: &str) -> String {
    format!(
        "allow {} to role {role}: attach ReadOnlyAccess, or redeploy the onboarding template (`rampart connector template {connector_name}`)",
        list(actions)
    )
}

/// CSPM: each cheap read (IAM action, result) succeeded.
pub fn reads(
    connector_name: &str,
    role: &str,
    results: &[(&str, Result<(), CallFailure>)],
) -> (State, String) {
    let ok: Vec<String> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(a, _)| (*a).to_owned())
        .collect();
    let denied: Vec<String> = results
        .iter()
        .filter(|(_, r)| matches!(r, Err(f) if f.kind == GapKind::AccessDenied))
        .map(|(a, _)| (*a).to_owned())
        .collect();
    let other: Vec<String> = results
        .iter()
        .filter_map(|(a, r)| match r {
            Err(f) if f.kind != GapKind::AccessDenied => Some(format!("{a}: {f}")),
            _ => None,
        })
        .collect();
    let detail = if ok.is_empty() {
        "no read succeeded".to_owned()
    } else {
        format!("{} succeeded", list(&ok))
    };
    if !denied.is_empty() {
        (
            State::not_met(denied_fix(&denied, role, connector_name)),
            format!("{detail}; access denied: {}", list(&denied)),
        )
    } else if !other.is_empty() {
        (State::unknown(list(&other)), detail)
    } else {
        (State::Met, detail)
    }
}

/// Per-region failures as `region (reason)`.
fn failures<T>(results: &Regional<T>) -> Vec<String> {
    results
        .iter()
        .filter_map(|(region, r)| r.as_ref().err().map(|f| format!("{region} ({f})")))
        .collect()
}

fn any_denied<T>(results: &Regional<T>) -> bool {
    results
        .iter()
        .any(|(_, r)| matches!(r, Err(f) if f.kind == GapKind::AccessDenied))
}

/// Regions whose call succeeded.
fn checked<T>(results: &Regional<T>) -> Vec<String> {
    results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(region, _)| region.clone())
        .collect()
}

/// Something counted per region (EC2 instances, EKS clusters): met when
/// at least one was found; not met when none was found where the call
/// worked everywhere (or was denied); unknown when calls failed otherwise.
pub fn found<T>(
    what: &str,
    action: &str,
    role: &str,
    connector_name: &str,
    none_fix: &str,
    results: &Regional<Vec<T>>,
) -> (State, String) {
    let per_region: Vec<String> = results
        .iter()
        .filter_map(|(region, r)| match r {
            Ok(items) if !items.is_empty() => Some(format!("{region} {}", items.len())),
            _ => None,
        })
        .collect();
    let total: usize = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(Vec::len))
        .sum();
    let failed = failures(results);
    let not_checked = if failed.is_empty() {
        String::new()
    } else {
        format!("; not checked: {}", list(&failed))
    };
    if total > 0 {
        return (
            State::Met,
            format!("{total} {what}: {}{not_checked}", per_region.join(", ")),
        );
    }
    let regions = checked(results);
    if any_denied(results) {
        return (
            State::not_met(denied_fix(&[action.to_owned()], role, connector_name)),
            format!(
                "no {what} in {}{not_checked}",
                if regions.is_empty() {
                    "any region".to_owned()
                } else {
                    list(&regions)
                }
            ),
        );
    }
    if !failed.is_empty() {
        return (
            State::unknown(format!("`{action}` failed in {}", list(&failed))),
            format!(
                "no {what} in {}",
                if regions.is_empty() {
                    "the regions that answered (none)".to_owned()
                } else {
                    list(&regions)
                }
            ),
        );
    }
    (
        State::not_met(none_fix.to_owned()),
        format!("no {what} in {}", list(&regions)),
    )
}

/// One EC2 instance as the Servers and SQL checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Instance id.
    pub id: String,
    /// `PlatformDetails` (`Linux/UNIX`, `Windows with SQL Server Standard`, …).
    pub platform_details: Option<String>,
}

/// One instance's Systems Manager registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    /// Instance id.
    pub id: String,
    /// `PingStatus` (`Online`, `ConnectionLost`, `Inactive`).
    pub ping_status: String,
}

/// Servers: every instance is a managed node that is online. Unknown when
/// there are no instances or `DescribeInstanceInformation` failed (moto
/// does not implement it) — never met without the call's answer.
pub fn ssm_status(
    instances: &Regional<Vec<Instance>>,
    managed: &Regional<Vec<Managed>>,
) -> (State, String) {
    let total: usize = instances
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(Vec::len))
        .sum();
    if total == 0 {
        return (
            State::unknown("no EC2 instances to check"),
            "no instances".to_owned(),
        );
    }
    let mut online = 0usize;
    let mut not_online: Vec<String> = Vec::new();
    for (region, found) in instances {
        let Ok(found) = found else { continue };
        let Some((_, Ok(registered))) = managed.iter().find(|(r, _)| r == region) else {
            continue;
        };
        for instance in found {
            match registered.iter().find(|m| m.id == instance.id) {
                Some(m) if m.ping_status == "Online" => online += 1,
                Some(m) => not_online.push(format!("{} ({})", instance.id, m.ping_status)),
                None => not_online.push(format!("{} (not managed)", instance.id)),
            }
        }
    }
    let failed = failures(managed);
    if !not_online.is_empty() {
        return (
            State::not_met(format!(
                "make {} managed nodes: SSM Agent running, an instance profile with AmazonSSMManagedInstanceCore, and a route to the ssm, ssmmessages and ec2messages endpoints",
                list(&not_online)
            )),
            format!("{online} of {total} instances online in Systems Manager"),
        );
    }
    if !failed.is_empty() {
        return (
            State::unknown(format!(
                "`ssm:DescribeInstanceInformation` failed in {}",
                list(&failed)
            )),
            format!("{online} of {total} instances confirmed online"),
        );
    }
    (
        State::Met,
        format!("all {total} instances online in Systems Manager"),
    )
}

/// Servers: SSM provisioning covers every instance in scope. The detail
/// counts covered instances; not met lists each one that is not, with
/// why, and the fix; unknown when the state could not be read.
pub fn ssm_provisioning(
    connector_name: &str,
    enabled: bool,
    coverage: Result<rampart_aws::pipeline::servers::Coverage, String>,
) -> (State, String) {
    let coverage = match coverage {
        Ok(c) => c,
        Err(why) => return (State::unknown(why), String::new()),
    };
    let mut detail = format!(
        "{} of {} instance{} in scope covered",
        coverage.covered,
        coverage.in_scope,
        if coverage.in_scope == 1 { "" } else { "s" }
    );
    if coverage.out_of_scope > 0 {
        detail.push_str(&format!(" ({} out of scope)", coverage.out_of_scope));
    }
    if !enabled {
        detail.push_str("; auto-provisioning off");
    }
    let mut reasons: Vec<String> = coverage
        .not_covered
        .iter()
        .map(|(id, why)| format!("{id}: {why}"))
        .collect();
    reasons.extend(
        coverage
            .pending
            .iter()
            .map(|(id, what)| format!("{id}: not provisioned yet ({what})")),
    );
    reasons.extend(
        coverage
            .problems
            .iter()
            .map(|(what, why)| format!("{what}: {why}")),
    );
    // Off: the user provisions SSM themselves; the SSM status check says
    // whether the instances report.
    if !enabled {
        return (State::Met, detail);
    }
    if reasons.is_empty() {
        if coverage.unreadable.is_empty() {
            return (State::Met, detail);
        }
        let why: Vec<String> = coverage
            .unreadable
            .iter()
            .map(|(what, why)| format!("{what}: {why}"))
            .collect();
        return (State::unknown(why.join("; ")), detail);
    }
    let mut fix = format!(
        "{}; then run `rampart servers provision --connector {connector_name}`",
        reasons.join("; ")
    );
    if !coverage.not_covered.is_empty() {
        fix.push_str(&format!(
            " (an instance profile lacking the SSM policy: attach `AmazonSSMManagedInstanceCore` to its role, or allow it with `rampart connector update {connector_name} --servers-policy-attach on`)"
        ));
    }
    (State::not_met(fix), detail)
}

/// One EKS cluster's API endpoint access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterEndpoint {
    /// Region.
    pub region: String,
    /// Cluster name.
    pub name: String,
    /// `resourcesVpcConfig.endpointPublicAccess`.
    pub public: bool,
    /// `resourcesVpcConfig.endpointPrivateAccess`.
    pub private: bool,
    /// `resourcesVpcConfig.publicAccessCidrs`.
    pub public_cidrs: Vec<String>,
}

/// Containers: every cluster's API server is reachable from outside its
/// VPC (public endpoint access). A cluster reporting neither public nor
/// private access (impossible on AWS; emulators omit the fields) is unknown.
pub fn endpoint_access(clusters: &[Result<ClusterEndpoint, String>]) -> (State, String) {
    if clusters.is_empty() {
        return (
            State::unknown("no EKS clusters to check"),
            "no clusters".to_owned(),
        );
    }
    let mut public = Vec::new();
    let mut private_only = Vec::new();
    let mut unclear = Vec::new();
    for cluster in clusters {
        match cluster {
            Ok(c) if c.public => {
                let cidrs = if c.public_cidrs.is_empty()
                    || c.public_cidrs.iter().any(|x| x == "0.0.0.0/0")
                {
                    String::new()
                } else {
                    format!(" from {}", list(&c.public_cidrs))
                };
                public.push(format!("{}/{} public{cidrs}", c.region, c.name));
            }
            Ok(c) if c.private => private_only.push(format!("{}/{}", c.region, c.name)),
            Ok(c) => unclear.push(format!(
                "{}/{}: DescribeCluster reported neither public nor private endpoint access",
                c.region, c.name
            )),
            Err(reason) => unclear.push(reason.clone()),
        }
    }
    if !private_only.is_empty() {
        return (
            State::not_met(format!(
                "enable public endpoint access on {} (limited to Rampart's egress addresses with publicAccessCidrs): aws eks update-cluster-config --name NAME --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=CIDR",
                list(&private_only)
            )),
            format!("private endpoint only: {}", list(&private_only)),
        );
    }
    if !unclear.is_empty() {
        let detail = if public.is_empty() {
            "no cluster confirmed public".to_owned()
        } else {
            list(&public)
        };
        return (State::unknown(list(&unclear)), detail);
    }
    (State::Met, list(&public))
}

/// Room for `count + 1` of something with a default quota.
pub fn room(what: &str, count: usize, quota: usize, scope: &str) -> (State, String) {
    let detail = format!(
        "{count} {what} of the default quota {quota} {scope} (documented default; Rampart does not read Service Quotas)"
    );
    if count < quota {
        (State::Met, detail)
    } else {
        (
            State::not_met(format!(
                "delete unused {what} or request a higher quota in Service Quotas (if it was already raised, ignore this)"
            )),
            detail,
        )
    }
}

/// Containers: room for a delivery stream in each region with a cluster.
pub fn stream_room(counts: &Regional<usize>) -> (State, String) {
    if counts.is_empty() {
        return (
            State::unknown("no EKS clusters: no region needs a delivery stream"),
            "no cluster regions".to_owned(),
        );
    }
    let mut full = Vec::new();
    let mut shown = Vec::new();
    for (region, count) in counts {
        if let Ok(count) = count {
            shown.push(format!("{region} {count}"));
            if *count >= FIREHOSE_STREAM_QUOTA {
                full.push(region.clone());
            }
        }
    }
    let detail = format!(
        "Firehose streams per region (default quota {FIREHOSE_STREAM_QUOTA}, documented default; Rampart does not read Service Quotas): {}",
        if shown.is_empty() {
            "none counted".to_owned()
        } else {
            shown.join(", ")
        }
    );
    if !full.is_empty() {
        return (
            State::not_met(format!(
                "delete unused Firehose streams or request a higher quota in Service Quotas in {} (if it was already raised, ignore this)",
                list(&full)
            )),
            detail,
        );
    }
    let failed = failures(counts);
    if !failed.is_empty() {
        return (
            State::unknown(format!(
                "`firehose:ListDeliveryStreams` failed in {} (least-privilege templates do not grant it)",
                list(&failed)
            )),
            detail,
        );
    }
    (State::Met, detail)
}

/// Whether EC2 reports a license-included SQL Server platform
/// (`PlatformDetails` such as `Windows with SQL Server Standard`).
pub fn is_sql_server_platform(platform_details: &str) -> bool {
    platform_details.contains("SQL Server")
}

/// Whether an RDS engine is RDS Custom for SQL Server (`custom-sqlserver-ee`,
/// `-se`, `-web`, `-dev`).
pub fn is_rds_custom_sql_server(engine: &str) -> bool {
    engine.starts_with("custom-sqlserver")
}

/// One RDS DB instance as the SQL check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInstance {
    /// DB instance identifier.
    pub id: String,
    /// Engine (`custom-sqlserver-se`, `postgres`, …).
    pub engine: String,
}

/// SQL: SQL Server on EC2 (license-included platform) or RDS Custom for
/// SQL Server found live, or found by the last scan (`scan`: its id and the
/// hosts it found by any signal, SSM inventory and image names included,
/// which the EC2 and RDS APIs alone do not show).
pub fn sql_server(
    connector_name: &str,
    ec2: &Regional<Vec<Instance>>,
    rds: &Regional<Vec<DbInstance>>,
    scan: Option<(&str, &[String])>,
) -> (State, String) {
    let mut found = Vec::new();
    for (region, instances) in ec2 {
        for i in instances.iter().flatten() {
            if i.platform_details
                .as_deref()
                .is_some_and(is_sql_server_platform)
            {
                found.push(format!("EC2 {region}/{}", i.id));
            }
        }
    }
    for (region, dbs) in rds {
        for db in dbs.iter().flatten() {
            if is_rds_custom_sql_server(&db.engine) {
                found.push(format!("RDS Custom {region}/{} ({})", db.id, db.engine));
            }
        }
    }
    if !found.is_empty() {
        return (
            State::Met,
            format!("{} found: {}", found.len(), list(&found)),
        );
    }
    if let Some((scan_id, hosts)) = scan.filter(|(_, hosts)| !hosts.is_empty()) {
        return (
            State::Met,
            format!(
                "{} found by the last scan ({scan_id}): {}",
                hosts.len(),
                hosts.join(", ")
            ),
        );
    }
    let mut failed: Vec<String> = failures(ec2)
        .into_iter()
        .map(|f| format!("ec2:DescribeInstances {f}"))
        .collect();
    failed.extend(
        failures(rds)
            .into_iter()
            .map(|f| format!("rds:DescribeDBInstances {f}")),
    );
    let mut regions: BTreeSet<String> = checked(ec2).into_iter().collect();
    regions.extend(checked(rds));
    let regions: Vec<String> = regions.into_iter().collect();
    let detail = format!(
        "no SQL Server found in {} (checked: EC2 PlatformDetails containing `SQL Server`, RDS engines `custom-sqlserver-*`)",
        if regions.is_empty() {
            "any region".to_owned()
        } else {
            list(&regions)
        }
    );
    if any_denied(ec2) || any_denied(rds) {
        return (
            State::not_met(format!(
                "allow ec2:DescribeInstances and rds:DescribeDBInstances to the sql plan's roles: redeploy the onboarding template (`rampart connector template {connector_name}`)"
            )),
            format!("{detail}; failed: {}", list(&failed)),
        );
    }
    if !failed.is_empty() {
        return (State::unknown(list(&failed)), detail);
    }
    (
        State::not_met(
            "nothing for the sql plan to protect in the connector's regions: it covers SQL Server on EC2 from license-included AMIs and RDS Custom for SQL Server (bring-your-own-license installs are not visible to the EC2 API); check the connector's regions or disable the plan",
        ),
        detail,
    )
}

/// A scan's relevant facts for the last-scan checks.
fn scan_when(record: &ScanRecord) -> String {
    let at = record.finished_at.unwrap_or(record.started_at);
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The connector's last scan: met when it completed; not met when there is
/// none or it failed.
pub fn last_scan(connector_name: &str, record: Option<&ScanRecord>) -> (State, String) {
    let Some(record) = record else {
        return (
            State::not_met(format!(
                "scan it: `rampart scan --connector {connector_name}`"
            )),
            "never scanned".to_owned(),
        );
    };
    let when = scan_when(record);
    match record.status {
        ScanStatus::Complete => (
            State::Met,
            format!(
                "scan {} complete at {when}: {} {}, {}",
                record.id,
                record.asset_count,
                if record.asset_count == 1 {
                    "asset"
                } else {
                    "assets"
                },
                gaps_count(usize::try_from(record.gap_count).unwrap_or(usize::MAX))
            ),
        ),
        ScanStatus::Failed => (
            State::not_met(format!(
                "see why with `rampart scans`, fix it, and scan again: `rampart scan --connector {connector_name}`"
            )),
            format!("scan {} failed at {when}", record.id),
        ),
        ScanStatus::Running => (
            State::unknown("the scan has not finished"),
            format!("scan {} running since {when}", record.id),
        ),
    }
}

/// Gap kinds that nothing in the account can fix: the endpoint does not
/// implement the call, or the region is not enabled.
fn unfixable(kind: GapKind) -> bool {
    matches!(kind, GapKind::NotImplemented | GapKind::RegionDisabled)
}

fn gap_line(gap: &CoverageGap) -> String {
    format!(
        "{}:{} {} {} ({})",
        gap.service,
        gap.operation,
        gap.region,
        gap.kind.as_str(),
        gap.error
    )
}

/// The last scan's coverage gaps (of the connector's account): met when
/// there are none, or only ones nothing in the account can fix.
pub fn scan_gaps(
    connector_name: &str,
    record: Option<&ScanRecord>,
    gaps: &[CoverageGap],
) -> (State, String) {
    let Some(record) = record else {
        return (State::unknown("never scanned"), "no scan".to_owned());
    };
    if record.status != ScanStatus::Complete {
        return (
            State::unknown(format!("scan {} is {}", record.id, record.status.as_str())),
            "no gaps recorded".to_owned(),
        );
    }
    let fixable: Vec<String> = gaps
        .iter()
        .filter(|g| !unfixable(g.kind))
        .map(gap_line)
        .collect();
    let other: Vec<String> = gaps
        .iter()
        .filter(|g| unfixable(g.kind))
        .map(gap_line)
        .collect();
    if gaps.is_empty() {
        return (State::Met, "no coverage gaps".to_owned());
    }
    if fixable.is_empty() {
        return (
            State::Met,
            format!(
                "{} nothing in the account can fix (not implemented by the endpoint, or region not enabled): {}; `rampart gaps --scan {}` lists them",
                gaps_count(other.len()),
                list(&other),
                record.id
            ),
        );
    }
    let denied: Vec<String> = gaps
        .iter()
        .filter(|g| g.kind == GapKind::AccessDenied)
        .map(|g| format!("{}:{}", g.service, g.operation))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let fix = if denied.is_empty() {
        format!(
            "scan again (`rampart scan --connector {connector_name}`); `rampart gaps --scan {}` lists the gaps",
            record.id
        )
    } else {
        format!(
            "allow {} to the cspm role (attach ReadOnlyAccess or redeploy the onboarding template: `rampart connector template {connector_name}`), then scan again",
            list(&denied)
        )
    };
    (
        State::not_met(fix),
        format!(
            "{}: {}; `rampart gaps --scan {}` lists them",
            gaps_count(gaps.len()),
            list(&fixable),
            record.id
        ),
    )
}

/// `1 gap`, `2 gaps`.
fn gaps_count(n: usize) -> String {
    if n == 1 {
        "1 gap".to_owned()
    } else {
        format!("{n} gaps")
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a failure should stop the test"
    )]

    use super::*;
    use time::OffsetDateTime;

    const URL: &str = "https://id.example.com/rampart";
    const DISCOVERY: &str = "https://id.example.com/rampart/.well-known/openid-configuration";
    const JWKS: &str = "https://id.example.com/rampart/.well-known/jwks.json";

    fn ok(status: u16, body: &str) -> Result<Fetched, String> {
        Ok(Fetched {
            status,
            body: body.as_bytes().to_vec(),
            location: None,
        })
    }

    fn fail(kind: GapKind, message: &str) -> CallFailure {
        CallFailure {
            kind,
            code: None,
            message: message.to_owned(),
        }
    }

    fn is_met(state: &State) -> bool {
        *state == State::Met
    }

    fn fix(state: &State) -> &str {
        match state {
            State::NotMet { fix } => fix,
            other => panic!("expected not met, got {other:?}"),
        }
    }

    fn why(state: &State) -> &str {
        match state {
            State::Unknown { why } => why,
            other => panic!("expected unknown, got {other:?}"),
        }
    }

    #[test]
    fn ssm_provisioning_counts_and_says_why() {
        use rampart_aws::pipeline::servers::Coverage;
        let coverage = Coverage {
            in_scope: 3,
            out_of_scope: 2,
            covered: 1,
            pending: vec![("i-2".into(), "associate RampartSsmInstanceProfile".into())],
            not_covered: vec![(
                "i-3".into(),
                "instance `i-3` has profile `app` without SSM; policy attach not allowed".into(),
            )],
            ..Coverage::default()
        };
        let (state, detail) = ssm_provisioning("prod", true, Ok(coverage.clone()));
        assert_eq!(detail, "1 of 3 instances in scope covered (2 out of scope)");
        let fix = fix(&state);
        assert!(
            fix.contains("i-3: instance `i-3` has profile `app` without SSM"),
            "{fix}"
        );
        assert!(fix.contains("i-2: not provisioned yet"), "{fix}");
        assert!(fix.contains("--servers-policy-attach on"), "{fix}");
        // Off: met, the counts still shown.
        let (state, detail) = ssm_provisioning("prod", false, Ok(coverage));
        assert!(is_met(&state));
        assert!(detail.ends_with("auto-provisioning off"), "{detail}");
        // All covered: met; a failed read alone: unknown; no answer: unknown.
        let all = Coverage {
            in_scope: 2,
            covered: 2,
            ..Coverage::default()
        };
        assert!(is_met(&ssm_provisioning("prod", true, Ok(all.clone())).0));
        let unread = Coverage {
            unreadable: vec![("instances `eu-west-1`".into(), "denied".into())],
            ..all
        };
        let (state, _) = ssm_provisioning("prod", true, Ok(unread));
        assert!(why(&state).contains("denied"));
        let (state, _) = ssm_provisioning("prod", true, Err("no role".into()));
        assert_eq!(why(&state), "no role");
    }

    #[test]
    fn discovery_met_only_for_this_issuer() {
        let body = format!(r#"{{"issuer": "{URL}", "jwks_uri": "{JWKS}"}}"#);
        let (state, _, jwks_uri) = discovery(URL, DISCOVERY, &ok(200, &body));
        assert!(is_met(&state));
        assert_eq!(jwks_uri.as_deref(), Some(JWKS));

        let other = r#"{"issuer": "https://elsewhere.example.com", "jwks_uri": "x"}"#;
        let (state, detail, _) = discovery(URL, DISCOVERY, &ok(200, other));
        assert!(fix(&state).contains("rampart issuer export"));
        assert!(detail.contains("elsewhere.example.com"), "{detail}");

        let (state, detail, _) = discovery(URL, DISCOVERY, &Err("connection refused".into()));
        assert!(fix(&state).contains("rampart issuer export --dir DIR"));
        assert!(detail.contains("connection refused"));

        let (state, detail, _) = discovery(URL, DISCOVERY, &ok(404, "nope"));
        assert!(fix(&state).contains("publish"));
        assert!(detail.contains("404"));

        let (state, _, _) = discovery(URL, DISCOVERY, &ok(200, "<html>"));
        assert!(matches!(state, State::NotMet { .. }));

        let redirect = Ok(Fetched {
            status: 301,
            body: Vec::new(),
            location: Some("https://x.example.com/".into()),
        });
        let (state, detail, _) = discovery(URL, DISCOVERY, &redirect);
        assert!(fix(&state).contains("without a redirect"));
        assert!(detail.contains("x.example.com"));
    }

    #[test]
    fn http_issuers_are_flagged_as_testing_only() {
        let url = "http://127.0.0.1:8080";
        let body = format!(r#"{{"issuer": "{url}"}}"#);
        let (state, detail, _) = discovery(url, "d", &ok(200, &body));
        assert!(is_met(&state));
        assert!(detail.contains("https issuers only"), "{detail}");
    }

    #[test]
    fn jwks_needs_the_signing_kid() {
        let body = r#"{"keys": [{"kid": "old"}, {"kid": "new"}]}"#;
        assert!(is_met(&jwks(URL, "new", JWKS, &ok(200, body)).0));
        let (state, detail) = jwks(URL, "newer", JWKS, &ok(200, body));
        assert!(fix(&state).contains("jwks.json"));
        assert!(
            detail.contains("newer") && detail.contains("old, new"),
            "{detail}"
        );
        assert!(matches!(
            jwks(URL, "new", JWKS, &ok(500, body)).0,
            State::NotMet { .. }
        ));
        assert!(matches!(
            jwks(URL, "new", JWKS, &ok(200, r#"{"keys": []}"#)).0,
            State::NotMet { .. }
        ));
    }

    fn identity(account: &str) -> CallerIdentity {
        CallerIdentity {
            account: account.into(),
            arn: format!("arn:aws:sts::{account}:assumed-role/R/Rampart_prod"),
            user_id: "AROA:Rampart_prod".into(),
        }
    }

    #[test]
    fn role_assumable_from_the_exchange() {
        let id = identity("123456789012");
        assert!(is_met(&role_assumable("prod", "arn:r", Ok(&id)).0));
        let denied = AccessError::Credentials("cannot assume role: InvalidIdentityToken".into());
        let (state, detail) = role_assumable("prod", "arn:r", Err(&denied));
        assert!(fix(&state).contains("rampart connector template prod"));
        assert!(fix(&state).contains("Rampart_prod"));
        assert!(detail.contains("InvalidIdentityToken"));
        let unreachable = AccessError::Unreachable {
            endpoint: "http://x".into(),
            reason: "refused".into(),
        };
        assert!(why(&role_assumable("prod", "arn:r", Err(&unreachable)).0).contains("refused"));
    }

    #[test]
    fn account_mismatch_names_both_accounts() {
        assert!(is_met(
            &account_matches("123456789012", &identity("123456789012")).0
        ));
        let (state, detail) = account_matches("123456789012", &identity("210987654321"));
        assert!(fix(&state).contains("123456789012") && fix(&state).contains("210987654321"));
        assert!(detail.contains("123456789012") && detail.contains("210987654321"));
    }

    #[test]
    fn reads_name_the_denied_action() {
        let all_ok = [
            ("iam:GetAccountSummary", Ok(())),
            ("s3:ListAllMyBuckets", Ok(())),
        ];
        assert!(is_met(&reads("prod", "arn:r", &all_ok).0));
        let denied = [
            ("iam:GetAccountSummary", Ok(())),
            (
                "s3:ListAllMyBuckets",
                Err(fail(GapKind::AccessDenied, "AccessDenied")),
            ),
        ];
        let (state, detail) = reads("prod", "arn:r", &denied);
        assert!(fix(&state).contains("s3:ListAllMyBuckets"));
        assert!(fix(&state).contains("ReadOnlyAccess"));
        assert!(detail.contains("iam:GetAccountSummary succeeded"));
        let broken = [(
            "iam:GetAccountSummary",
            Err(fail(GapKind::NotImplemented, "HTTP 500")),
        )];
        assert!(why(&reads("prod", "arn:r", &broken).0).contains("HTTP 500"));
    }

    fn instance(id: &str, platform: Option<&str>) -> Instance {
        Instance {
            id: id.into(),
            platform_details: platform.map(str::to_owned),
        }
    }

    #[test]
    fn found_counts_per_region() {
        let results: Regional<Vec<Instance>> = vec![
            (
                "us-east-1".into(),
                Ok(vec![instance("i-1", None), instance("i-2", None)]),
            ),
            ("eu-west-1".into(), Ok(vec![])),
        ];
        let (state, detail) = found(
            "EC2 instances",
            "ec2:DescribeInstances",
            "r",
            "p",
            "none",
            &results,
        );
        assert!(is_met(&state));
        assert!(
            detail.starts_with("2 EC2 instances: us-east-1 2"),
            "{detail}"
        );

        let none: Regional<Vec<Instance>> = vec![("us-east-1".into(), Ok(vec![]))];
        let (state, detail) = found(
            "EC2 instances",
            "ec2:DescribeInstances",
            "r",
            "p",
            "none here",
            &none,
        );
        assert_eq!(fix(&state), "none here");
        assert!(detail.contains("us-east-1"));

        let denied: Regional<Vec<Instance>> = vec![(
            "us-east-1".into(),
            Err(fail(GapKind::AccessDenied, "denied")),
        )];
        let (state, _) = found(
            "EC2 instances",
            "ec2:DescribeInstances",
            "r",
            "p",
            "none",
            &denied,
        );
        assert!(fix(&state).contains("ec2:DescribeInstances"));

        let broken: Regional<Vec<Instance>> = vec![
            ("us-east-1".into(), Ok(vec![])),
            ("eu-west-1".into(), Err(fail(GapKind::Timeout, "timed out"))),
        ];
        let (state, _) = found(
            "EC2 instances",
            "ec2:DescribeInstances",
            "r",
            "p",
            "none",
            &broken,
        );
        assert!(why(&state).contains("eu-west-1"));
    }

    fn managed(id: &str, ping: &str) -> Managed {
        Managed {
            id: id.into(),
            ping_status: ping.into(),
        }
    }

    #[test]
    fn ssm_status_is_never_met_without_an_answer() {
        let instances: Regional<Vec<Instance>> = vec![(
            "us-east-1".into(),
            Ok(vec![instance("i-1", None), instance("i-2", None)]),
        )];
        let all: Regional<Vec<Managed>> = vec![(
            "us-east-1".into(),
            Ok(vec![managed("i-1", "Online"), managed("i-2", "Online")]),
        )];
        assert!(is_met(&ssm_status(&instances, &all).0));

        let partial: Regional<Vec<Managed>> = vec![(
            "us-east-1".into(),
            Ok(vec![managed("i-1", "Online"), managed("i-9", "Online")]),
        )];
        let (state, detail) = ssm_status(&instances, &partial);
        assert!(fix(&state).contains("i-2 (not managed)"));
        assert!(detail.contains("1 of 2"));

        let lost: Regional<Vec<Managed>> = vec![(
            "us-east-1".into(),
            Ok(vec![
                managed("i-1", "Online"),
                managed("i-2", "ConnectionLost"),
            ]),
        )];
        assert!(fix(&ssm_status(&instances, &lost).0).contains("i-2 (ConnectionLost)"));

        let failed: Regional<Vec<Managed>> = vec![(
            "us-east-1".into(),
            Err(fail(GapKind::NotImplemented, "HTTP 500")),
        )];
        assert!(why(&ssm_status(&instances, &failed).0).contains("DescribeInstanceInformation"));

        let none: Regional<Vec<Instance>> = vec![("us-east-1".into(), Ok(vec![]))];
        assert!(matches!(ssm_status(&none, &all).0, State::Unknown { .. }));
    }

    fn cluster(name: &str, public: bool, private: bool) -> Result<ClusterEndpoint, String> {
        Ok(ClusterEndpoint {
            region: "us-east-1".into(),
            name: name.into(),
            public,
            private,
            public_cidrs: vec!["0.0.0.0/0".into()],
        })
    }

    #[test]
    fn endpoint_access_needs_a_public_endpoint() {
        assert!(is_met(&endpoint_access(&[cluster("a", true, false)]).0));
        assert!(is_met(&endpoint_access(&[cluster("a", true, true)]).0));
        let (state, detail) =
            endpoint_access(&[cluster("a", true, false), cluster("b", false, true)]);
        assert!(fix(&state).contains("us-east-1/b"));
        assert!(detail.contains("private endpoint only"));
        assert!(why(&endpoint_access(&[cluster("a", false, false)]).0).contains("neither"));
        assert!(why(&endpoint_access(&[Err("us-east-1/a: denied".into())]).0).contains("denied"));
        assert!(matches!(endpoint_access(&[]).0, State::Unknown { .. }));
    }

    #[test]
    fn room_against_the_default_quota() {
        assert!(is_met(
            &room("buckets", 9_999, S3_BUCKET_QUOTA, "per account").0
        ));
        let (state, detail) = room("buckets", 10_000, S3_BUCKET_QUOTA, "per account");
        assert!(fix(&state).contains("Service Quotas"));
        assert!(detail.contains("10000 buckets of the default quota 10000"));

        let streams: Regional<usize> = vec![("us-east-1".into(), Ok(3))];
        assert!(is_met(&stream_room(&streams).0));
        let full: Regional<usize> = vec![
            ("us-east-1".into(), Ok(3)),
            ("eu-west-1".into(), Ok(FIREHOSE_STREAM_QUOTA)),
        ];
        assert!(fix(&stream_room(&full).0).contains("eu-west-1"));
        let failed: Regional<usize> = vec![(
            "us-east-1".into(),
            Err(fail(GapKind::AccessDenied, "denied")),
        )];
        assert!(why(&stream_room(&failed).0).contains("ListDeliveryStreams"));
        assert!(matches!(stream_room(&Vec::new()).0, State::Unknown { .. }));
    }

    #[test]
    fn sql_server_detection() {
        assert!(is_sql_server_platform("Windows with SQL Server Standard"));
        assert!(is_sql_server_platform(
            "Red Hat Enterprise Linux with SQL Server Enterprise"
        ));
        assert!(!is_sql_server_platform("Windows"));
        assert!(!is_sql_server_platform("Linux/UNIX"));
        assert!(is_rds_custom_sql_server("custom-sqlserver-se"));
        assert!(!is_rds_custom_sql_server("sqlserver-se"));
        assert!(!is_rds_custom_sql_server("custom-oracle-ee"));

        let ec2: Regional<Vec<Instance>> = vec![(
            "us-east-1".into(),
            Ok(vec![
                instance("i-1", Some("Linux/UNIX")),
                instance("i-2", Some("Windows with SQL Server Web")),
            ]),
        )];
        let rds: Regional<Vec<DbInstance>> = vec![("us-east-1".into(), Ok(vec![]))];
        let (state, detail) = sql_server("prod", &ec2, &rds, None);
        assert!(is_met(&state));
        assert!(
            detail.contains("EC2 us-east-1/i-2") && !detail.contains("i-1"),
            "{detail}"
        );

        let plain: Regional<Vec<Instance>> = vec![(
            "us-east-1".into(),
            Ok(vec![instance("i-1", Some("Windows"))]),
        )];
        let custom: Regional<Vec<DbInstance>> = vec![(
            "eu-west-1".into(),
            Ok(vec![
                DbInstance {
                    id: "db1".into(),
                    engine: "postgres".into(),
                },
                DbInstance {
                    id: "db2".into(),
                    engine: "custom-sqlserver-ee".into(),
                },
            ]),
        )];
        let (state, detail) = sql_server("prod", &plain, &custom, None);
        assert!(is_met(&state));
        assert!(detail.contains("RDS Custom eu-west-1/db2"));

        let (state, detail) = sql_server("prod", &plain, &rds, None);
        assert!(fix(&state).contains("nothing for the sql plan"));
        assert!(detail.contains("no SQL Server found in us-east-1"));

        let broken: Regional<Vec<DbInstance>> = vec![(
            "us-east-1".into(),
            Err(fail(GapKind::NotImplemented, "HTTP 500")),
        )];
        assert!(
            why(&sql_server("prod", &plain, &broken, None).0).contains("rds:DescribeDBInstances")
        );
    }

    fn record(status: ScanStatus) -> ScanRecord {
        ScanRecord {
            id: "s1".into(),
            started_at: OffsetDateTime::UNIX_EPOCH,
            finished_at: Some(OffsetDateTime::UNIX_EPOCH),
            status,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 10,
            asset_count: 4,
            gap_count: 1,
        }
    }

    fn gap(kind: GapKind, operation: &str) -> CoverageGap {
        CoverageGap {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
            operation: operation.into(),
            kind,
            error: "boom".into(),
            occurrences: 1,
        }
    }

    #[test]
    fn last_scan_and_gaps() {
        let (state, detail) = last_scan("prod", None);
        assert_eq!(fix(&state), "scan it: `rampart scan --connector prod`");
        assert_eq!(detail, "never scanned");
        assert!(is_met(
            &last_scan("prod", Some(&record(ScanStatus::Complete))).0
        ));
        assert!(
            fix(&last_scan("prod", Some(&record(ScanStatus::Failed))).0).contains("scan again")
        );
        assert!(matches!(
            last_scan("prod", Some(&record(ScanStatus::Running))).0,
            State::Unknown { .. }
        ));

        let complete = record(ScanStatus::Complete);
        assert!(is_met(&scan_gaps("prod", Some(&complete), &[]).0));
        let emulator = [gap(GapKind::NotImplemented, "GetBucketPolicy")];
        let (state, detail) = scan_gaps("prod", Some(&complete), &emulator);
        assert!(is_met(&state));
        assert!(detail.contains("s3:GetBucketPolicy"));
        let denied = [
            gap(GapKind::AccessDenied, "GetBucketPolicy"),
            gap(GapKind::NotImplemented, "GetBucketAcl"),
        ];
        let (state, detail) = scan_gaps("prod", Some(&complete), &denied);
        assert!(fix(&state).contains("s3:GetBucketPolicy"));
        assert!(detail.starts_with("2 gaps"));
        // Connector status points to the command that lists them all.
        assert!(detail.ends_with(&format!("`rampart gaps --scan {}` lists them", complete.id)));
        assert!(fix(&state).contains("cspm role"));
        let (_, detail) = scan_gaps("prod", Some(&complete), &emulator);
        assert!(detail.starts_with("1 gap nothing"), "{detail}");
        assert!(matches!(
            scan_gaps("prod", None, &[]).0,
            State::Unknown { .. }
        ));
    }

    #[test]
    fn lists_are_shortened() {
        let items: Vec<String> = (1..=7).map(|i| i.to_string()).collect();
        assert_eq!(list(&items), "1, 2, 3, 4, 5 and 2 more");
        assert_eq!(list(&items[..2]), "1, 2");
    }
}
