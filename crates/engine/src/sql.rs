//! The SQL plan's vulnerability assessment: for each SQL Server on an EC2
//! host that Systems Manager manages (the plan's prerequisites,
//! [`rampart_catalog::sql`]), run the read-only assessment script of
//! [`rampart_sqlva`] through SSM Run Command (`AWS-RunPowerShellScript`,
//! as the plan's `arcAutoProvisioning` role), parse its output, apply the
//! accepted baselines from the store, and keep the result as one
//! [`types::SQL_VULNERABILITY_ASSESSMENT`] asset per server, which the
//! recommendation `sql-server-va-findings-resolved` assesses.
//!
//! A server whose script could not run, or whose output was cut short, has
//! an assessment with `error` (or rules in error): never "no finding".

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_aws::run_command::{CommandRequest, run_command};
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_catalog::Inventory;
use rampart_catalog::sql::{PrerequisiteState, prerequisites_of};
use rampart_connector::{Connector, Plan};
use rampart_model::{Asset, CoverageGap, GapKind, types};
use rampart_sqlva::{Assessment, Baseline, Rule, ScriptOptions, Status, apply_baselines};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::EngineError;
use crate::Keys;
use crate::provisioning::{gap, role_access};

/// The SSM document the assessment runs as.
pub const DOCUMENT: &str = "AWS-RunPowerShellScript";

/// Servers assessed at once per account.
const AT_ONCE: usize = 4;

/// How the assessment runs.
#[derive(Debug, Clone)]
pub struct SqlVaOptions {
    /// How long to wait for one server's script.
    pub wait: Duration,
    /// How often to ask SSM whether it finished.
    pub poll_every: Duration,
    /// The script's limits.
    pub script: ScriptOptions,
}

impl Default for SqlVaOptions {
    fn default() -> Self {
        Self {
            wait: Duration::from_secs(600),
            poll_every: Duration::from_secs(3),
            script: ScriptOptions::default(),
        }
    }
}

/// A SQL Server the assessment can reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaTarget {
    /// The SQL Server asset's ARN.
    pub server: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// The EC2 host.
    pub instance_id: String,
}

/// The SQL Servers of `assets` in `account` the assessment runs on: on an
/// EC2 host that is running, Windows (the script is PowerShell), and an
/// online managed instance. The others get no assessment asset (their
/// prerequisites recommendation says why).
pub fn va_targets(assets: &[Asset], account: &str) -> Vec<VaTarget> {
    // Most accounts have no SQL Server: no index over the scan's assets.
    if !assets
        .iter()
        .any(|a| a.resource_type == types::SQL_SERVER_INSTANCE && a.account == account)
    {
        return Vec::new();
    }
    let inv = Inventory::new(assets);
    let mut out: Vec<VaTarget> = inv
        .of_type(types::SQL_SERVER_INSTANCE)
        .filter(|s| s.account == account)
        .filter(|s| {
            s.properties.get("hostType").and_then(|n| n.as_str()) == Some("ec2")
                && s.properties.get("platform").and_then(|n| n.as_str()) != Some("linux")
        })
        .filter_map(|server| {
            let found = prerequisites_of(&inv, server);
            let managed = found
                .prerequisites
                .iter()
                .any(|p| p.requirement == "ssm-managed" && p.state == PrerequisiteState::Met);
            (found.running && managed).then(|| VaTarget {
                server: server.arn.to_owned(),
                account: server.account.to_owned(),
                region: server.region.to_owned(),
                instance_id: found.host_id.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.server.cmp(&b.server));
    out
}

/// The assessment of one server, as stored in its asset.
#[derive(Debug, Clone)]
pub struct ServerAssessment {
    /// Whom it is of.
    pub target: VaTarget,
    /// When it ran.
    pub assessed_at: OffsetDateTime,
    /// SSM's command id, when the command was sent.
    pub command_id: Option<String>,
    /// The invocation's status (`Success`, `Failed`, …).
    pub command_status: Option<String>,
    /// Why there is no (complete) result.
    pub error: Option<String>,
    /// The parsed output with baselines applied (absent when the script
    /// did not run).
    pub assessment: Option<Assessment>,
}

/// Runs the assessment on one server with `access` and applies
/// `baselines` (the server's accepted results).
pub async fn assess_server(
    access: &AwsAccess,
    target: &VaTarget,
    rules: &[Rule],
    baselines: &[Baseline],
    options: &SqlVaOptions,
) -> ServerAssessment {
    let mut out = ServerAssessment {
        target: target.clone(),
        assessed_at: OffsetDateTime::now_utc(),
        command_id: None,
        command_status: None,
        error: None,
        assessment: None,
    };
    let script = match rampart_sqlva::render_script(rules, &options.script) {
        Ok(script) => script,
        Err(e) => {
            out.error = Some(format!("the assessment script could not be made: {e}"));
            return out;
        }
    };
    let request = CommandRequest {
        instance_id: target.instance_id.clone(),
        document: DOCUMENT.to_owned(),
        commands: vec![script],
        comment: "Rampart SQL vulnerability assessment (read-only)".to_owned(),
        execution_timeout: options.wait,
    };
    match run_command(
        access,
        &target.region,
        &request,
        options.wait,
        options.poll_every,
    )
    .await
    {
        Err(e) => out.error = Some(e.to_string()),
        Ok(result) => {
            out.command_id = Some(result.command_id.clone());
            out.command_status = Some(result.status.clone());
            let parsed = rampart_sqlva::parse_output(&result.stdout, rules);
            if result.status != "Success" && parsed.results.iter().all(|r| !r.reported) {
                let stderr: String = result.stderr.chars().take(300).collect();
                out.error = Some(format!(
                    "the assessment command ended `{}` (exit {}): {}",
                    result.status,
                    result.response_code,
                    if stderr.trim().is_empty() {
                        "no output".to_owned()
                    } else {
                        stderr.trim().to_owned()
                    }
                ));
            }
            let results = apply_baselines(parsed.results.clone(), baselines);
            out.assessment = Some(Assessment { results, ..parsed });
        }
    }
    out
}

/// The [`types::SQL_VULNERABILITY_ASSESSMENT`] asset of an assessment:
/// `serverArn`, `instanceId`, `assessedAt`, `commandId`, `commandStatus`,
/// `error`, `complete`, counts by status, and `results` (each rule's
/// result with the rule's title, category and severity).
pub fn assessment_asset(found: &ServerAssessment, rules: &[Rule]) -> Asset {
    let t = &found.target;
    let by_id: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let results: Vec<Value> = found
        .assessment
        .iter()
        .flat_map(|a| a.results.iter())
        .map(|r| {
            let rule = by_id.get(r.rule.as_str());
            let mut v = serde_json::to_value(r).unwrap_or_else(|_| json!({}));
            if let (Some(map), Some(rule)) = (v.as_object_mut(), rule) {
                map.insert("title".into(), json!(rule.title));
                map.insert("category".into(), json!(rule.category));
                map.insert("severity".into(), json!(rule.severity));
                map.insert("remediation".into(), json!(rule.remediation));
            }
            v
        })
        .collect();
    let count = |s: Status| {
        found
            .assessment
            .as_ref()
            .map_or(0, |a| a.results.iter().filter(|r| r.status == s).count())
    };
    let assessed_at = found
        .assessed_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Asset::new(
        format!(
            "arn:rampart:sql:{}:{}:va/ec2-instance/{}",
            t.region, t.account, t.instance_id
        ),
        types::SQL_VULNERABILITY_ASSESSMENT,
        t.account.clone(),
        t.region.clone(),
        format!("SQL vulnerability assessment of {}", t.instance_id),
        json!({
            "serverArn": t.server,
            "instanceId": t.instance_id,
            "assessedAt": assessed_at,
            "commandId": found.command_id,
            "commandStatus": found.command_status,
            "error": found.error,
            "complete": found.assessment.as_ref().is_some_and(|a| a.complete),
            "findings": count(Status::Finding),
            "nonFindings": count(Status::NonFinding),
            "errors": count(Status::Error),
            "notes": found.assessment.as_ref().map(|a| a.notes.clone()).unwrap_or_default(),
            "results": results,
        }),
    )
}

/// Runs the SQL plan's assessment for the connectors that have it: what a
/// connector scan calls with its collected assets.
pub trait SqlAssessor: Send + Sync {
    /// Assesses the SQL Servers of `connector`'s account found in `assets`.
    fn assess<'a>(
        &'a self,
        connector: &'a Connector,
        aws: &'a AwsSettings,
        keys_dir: &'a Keys,
        assets: &'a [Asset],
    ) -> BoxFuture<'a, (Vec<Asset>, Vec<CoverageGap>)>;
}

/// The assessment as scans run it: the plan's provisioning role, the
/// built-in rules, the baselines of the store file `db`.
pub struct SqlVulnerabilityAssessor {
    /// The store file holding the baselines.
    pub db: std::path::PathBuf,
    /// Options.
    pub options: SqlVaOptions,
}

impl SqlVulnerabilityAssessor {
    /// The step with default options over the store `db`.
    pub fn new(db: &Path) -> Self {
        Self {
            db: db.to_owned(),
            options: SqlVaOptions::default(),
        }
    }
}

impl SqlAssessor for SqlVulnerabilityAssessor {
    fn assess<'a>(
        &'a self,
        connector: &'a Connector,
        aws: &'a AwsSettings,
        keys_dir: &'a Keys,
        assets: &'a [Asset],
    ) -> BoxFuture<'a, (Vec<Asset>, Vec<CoverageGap>)> {
        Box::pin(async move {
            let account = connector.account();
            let targets = va_targets(assets, account);
            if targets.is_empty()
                || !connector.plans().contains(&Plan::Sql)
                || connector.is_classic()
            {
                return (Vec::new(), Vec::new());
            }
            let home = targets.first().map_or("us-east-1", |t| t.region.as_str());
            let rules = match rampart_sqlva::builtin_rules() {
                Ok(rules) => rules,
                Err(e) => {
                    return (
                        Vec::new(),
                        vec![gap(
                            account,
                            home,
                            "ssm",
                            "SendCommand",
                            GapKind::Other,
                            e.to_string(),
                        )],
                    );
                }
            };
            let access = match sql_access(connector, aws, keys_dir).await {
                Ok(access) => access,
                Err(e) => {
                    return (
                        Vec::new(),
                        vec![gap(
                            account,
                            home,
                            "ssm",
                            "AssumeRoleWithWebIdentity",
                            GapKind::AccessDenied,
                            format!("SQL vulnerability assessment: {e}"),
                        )],
                    );
                }
            };
            let found = assess_targets(&access, &targets, &rules, &self.db, &self.options).await;
            let assessed = found.iter().map(|f| assessment_asset(f, &rules)).collect();
            (assessed, Vec::new())
        })
    }
}

/// Assesses `targets` ([`AT_ONCE`] at a time) with `access`, each with its
/// baselines from the store file `db` (none when the store cannot be
/// read); by server.
async fn assess_targets(
    access: &AwsAccess,
    targets: &[VaTarget],
    rules: &[Rule],
    db: &Path,
    options: &SqlVaOptions,
) -> Vec<ServerAssessment> {
    let store = rampart_store::Store::open(db);
    let mut futures = Vec::new();
    for target in targets {
        let baselines = match &store {
            Ok(store) => store.sql_va_baselines(&target.server).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        futures
            .push(async move { assess_server(access, target, rules, &baselines, options).await });
    }
    let mut stream = futures::stream::iter(futures).buffer_unordered(AT_ONCE);
    let mut found = Vec::new();
    while let Some(one) = stream.next().await {
        found.push(one);
    }
    found.sort_by(|a, b| a.target.server.cmp(&b.target.server));
    found
}

/// `rampart sql assess`: runs the assessment now on the SQL Servers of the
/// stored connector `name` that the latest complete scan found and can be
/// assessed (or on `server` alone: its ARN or host id), with the accepted
/// baselines applied; one [`types::SQL_VULNERABILITY_ASSESSMENT`] asset per
/// server, as a scan would store it. Nothing is stored: the next scan
/// keeps its own assessment.
pub async fn assess_connector(
    engine: &crate::Engine,
    name: &str,
    server: Option<&str>,
) -> Result<Vec<Asset>, EngineError> {
    let connector = crate::provisioning::find_connector(&engine.db, name)?;
    if !connector.plans().contains(&Plan::Sql) {
        return Err(EngineError::SqlVa(format!(
            "connector `{name}` has no SQL plan (DefenderForDatabasesAws); enable it with `rampart connector update`"
        )));
    }
    let store = rampart_store::Store::open(&engine.db)?;
    let scan = store.latest_complete_scan()?.ok_or_else(|| {
        EngineError::SqlVa("no complete scan in the store; run `rampart scan` first".to_owned())
    })?;
    let assets = view_assets(&store)?;
    let mut targets = va_targets(&assets, connector.account());
    if let Some(wanted) = server {
        targets.retain(|t| t.server == wanted || t.instance_id == wanted);
        if targets.is_empty() {
            return Err(EngineError::SqlVa(format!(
                "no SQL Server `{wanted}` of connector `{name}` can be assessed in scan `{}` (see `rampart sql list`: it needs a running, SSM-managed Windows host)",
                scan.id
            )));
        }
    }
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let rules = rampart_sqlva::builtin_rules().map_err(|e| EngineError::SqlVa(e.to_string()))?;
    let access = sql_access(&connector, &engine.aws, &engine.keys_dir).await?;
    let found = assess_targets(
        &access,
        &targets,
        &rules,
        &engine.db,
        &SqlVaOptions::default(),
    )
    .await;
    Ok(found.iter().map(|f| assessment_asset(f, &rules)).collect())
}

/// Access as the SQL plan's `arcAutoProvisioning` role (Run Command).
async fn sql_access(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
) -> Result<AwsAccess, EngineError> {
    let role = connector
        .offering(Plan::Sql)
        .and_then(|o| {
            o.role_arns()
                .into_iter()
                .find(|(field, _)| *field == "arcAutoProvisioning.cloudRoleArn")
                .map(|(_, arn)| arn.to_owned())
        })
        .ok_or_else(|| EngineError::NoConnector(format!("{}: no SQL plan", connector.name)))?;
    role_access(connector, Plan::Sql, &role, keys_dir, base).await
}

/// The asset types a SQL Server's view reads: the servers, their
/// assessments, and what their prerequisites look at.
const VIEW_TYPES: [&str; 8] = [
    types::SQL_SERVER_INSTANCE,
    types::SQL_VULNERABILITY_ASSESSMENT,
    "AWS::EC2::Instance",
    "AWS::RDS::DBInstance",
    "AWS::IAM::Role",
    "AWS::IAM::ManagedPolicy",
    types::SSM_MANAGED_INSTANCE,
    types::SSM_REGION,
];

/// One SQL Server of a stored scan, for `rampart sql list`, the API and
/// the dashboard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SqlServerView {
    /// The SQL Server asset's ARN.
    pub server: String,
    /// Its name.
    pub name: String,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// `ec2`, `rds-custom`, `rds`.
    pub host_type: String,
    /// The host's id.
    pub host_id: String,
    /// `SQL Server 2019`, when known.
    pub product: Option<String>,
    /// The full version, when known.
    pub version: Option<String>,
    /// The edition, when known.
    pub edition: Option<String>,
    /// The ARN of the RDS DB instance, or of the EC2 instance that hosts
    /// the server (the contract of `rampart sql list --format json`).
    pub resource: String,
    /// `ec2`, `rds-custom` or `rds` (the same as `host_type`).
    pub kind: String,
    /// The signals that found it (`ssm-inventory`, `platform-details`,
    /// `ami-name`, `rds-engine`), in the order of `signals`.
    pub discovered_by: Vec<String>,
    /// What found it (`source`, `detail`).
    pub signals: Value,
    /// The SQL plan's prerequisites.
    pub prerequisites: Vec<rampart_catalog::sql::Prerequisite>,
    /// Whether every prerequisite holds.
    pub prerequisites_met: bool,
    /// The vulnerability assessment asset's properties, when it ran.
    pub assessment: Option<Value>,
}

fn view_assets(store: &rampart_store::Store) -> Result<Vec<Asset>, rampart_store::StoreError> {
    let mut assets = Vec::new();
    for kind in VIEW_TYPES {
        let filter = rampart_store::AssetFilter {
            resource_type: Some(kind.to_owned()),
            ..rampart_store::AssetFilter::default()
        };
        assets.extend(store.assets(&filter)?);
    }
    Ok(assets)
}

/// The SQL Servers of the current state, by account, region and ARN.
pub fn stored_sql_servers(
    store: &rampart_store::Store,
) -> Result<Vec<SqlServerView>, rampart_store::StoreError> {
    let assets = view_assets(store)?;
    let inv = Inventory::new(&assets);
    let servers: BTreeMap<&str, &Asset> = assets
        .iter()
        .filter(|a| a.resource_type == types::SQL_SERVER_INSTANCE)
        .map(|a| (a.arn.as_str(), a))
        .collect();
    let assessments: BTreeMap<&str, &Asset> = assets
        .iter()
        .filter(|a| a.resource_type == types::SQL_VULNERABILITY_ASSESSMENT)
        .filter_map(|a| Some((a.properties.get("serverArn")?.as_str()?, a)))
        .collect();
    let text = |a: &Asset, k: &str| {
        a.properties
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(rampart_catalog::sql::server_prerequisites(&inv)
        .into_iter()
        .filter_map(|found| {
            let asset = *servers.get(found.server.as_str())?;
            let met = found.not_met().next().is_none() && found.unknown().next().is_none();
            Some(SqlServerView {
                server: found.server.clone(),
                name: found.name.clone(),
                account: found.account.clone(),
                region: found.region.clone(),
                host_type: found.host_type.clone(),
                host_id: found.host_id.clone(),
                product: text(asset, "product"),
                version: text(asset, "version"),
                edition: text(asset, "edition"),
                resource: text(asset, "hostArn").unwrap_or_default(),
                kind: found.host_type.clone(),
                discovered_by: discovered_by(asset),
                signals: asset
                    .properties
                    .get("signals")
                    .cloned()
                    .unwrap_or(Value::Null),
                prerequisites: found.prerequisites,
                prerequisites_met: met,
                assessment: assessments
                    .get(found.server.as_str())
                    .map(|a| a.properties.clone()),
            })
        })
        .collect())
}

/// The distinct signal sources of a SQL Server asset, in order.
fn discovered_by(asset: &Asset) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let sources = asset
        .properties
        .get("signals")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("source").and_then(Value::as_str));
    for source in sources {
        if !out.iter().any(|o| o == source) {
            out.push(source.to_owned());
        }
    }
    out
}

/// The SQL Server `id` (its ARN or its host's id) of the current state,
/// if a scan found it.
pub fn stored_sql_server(
    store: &rampart_store::Store,
    id: &str,
) -> Result<Option<SqlServerView>, rampart_store::StoreError> {
    Ok(stored_sql_servers(store)?
        .into_iter()
        .find(|v| v.server == id || v.host_id == id))
}

/// Accepts the stored result of `rule` (on `database`, for database rules)
/// of the server `server` (its ARN or its host's id) in scan `scan_id` as
/// that server's baseline, accepted by `by`; stores and returns it.
pub fn accept_baseline(
    store: &mut rampart_store::Store,
    scan_id: &str,
    server: &str,
    rule: &str,
    database: Option<&str>,
    by: &str,
) -> Result<(String, Baseline), EngineError> {
    let view = stored_sql_server(store, server)?.ok_or_else(|| {
        EngineError::SqlNotFound(format!("no SQL Server `{server}` in scan `{scan_id}`"))
    })?;
    let assessment = view.assessment.as_ref().ok_or_else(|| {
        EngineError::SqlNotFound(format!(
            "SQL Server `{}` has no vulnerability assessment in scan `{scan_id}`",
            view.host_id
        ))
    })?;
    let result = assessment
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| {
            r.get("rule").and_then(Value::as_str) == Some(rule)
                && r.get("database").and_then(Value::as_str) == database
        })
        .ok_or_else(|| {
            EngineError::SqlNotFound(format!(
                "no result of `{rule}`{} for `{}`",
                database.map_or_else(String::new, |d| format!(" on database `{d}`")),
                view.host_id
            ))
        })?;
    let parsed: rampart_sqlva::RuleResult = serde_json::from_value(result.clone())
        .map_err(|e| EngineError::SqlVa(format!("stored result of `{rule}` is unreadable: {e}")))?;
    let baseline = Baseline::accept(&parsed, by, OffsetDateTime::now_utc())
        .map_err(|e| EngineError::SqlVa(e.to_string()))?;
    store.put_sql_va_baseline(&view.server, &baseline)?;
    Ok((view.server.clone(), baseline))
}
