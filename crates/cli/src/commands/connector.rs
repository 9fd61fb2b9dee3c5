//! `rampart connector`: create, show, list, update and delete connectors.

use std::io::Write;

use rampart_connector::{
    CloudTrailMode, Connector, ConnectorError, DEFAULT_STACKSET_NAME, EXCLUSION_TAGS, Offering,
    OrganizationalData, Plan, SCOPE_BY_TAGS, VmScanners, format_tags, parse_log_groups, parse_tags,
};
use rampart_store::{Store, StoreError};

use crate::args::{
    CloudTrailArg, ConnectorArgs, ConnectorCommand, ConnectorCreateArgs, ConnectorDeleteArgs,
    ConnectorListArgs, ConnectorShowArgs, ConnectorUpdateArgs, ListFormat, PlanSettingsArgs,
    StoreArgs,
};
use crate::commands::{open_existing_store, open_store, store_exists};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Runs one `rampart connector` subcommand.
pub fn run(args: &ConnectorArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    match &args.command {
        ConnectorCommand::Create(args) => create(args, out),
        ConnectorCommand::Show(args) => show(args, out),
        ConnectorCommand::List(args) => list(args, out),
        ConnectorCommand::Update(args) => update(args, out),
        ConnectorCommand::Delete(args) => delete(args, out),
        ConnectorCommand::Template(args) => super::template::run(args, out),
        ConnectorCommand::Sync(args) => tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(super::connector_scan::sync(args, out))
        }),
        ConnectorCommand::Token(args) => super::connector_scan::token(args, out),
        ConnectorCommand::Status(args) => {
            return tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(super::connector_status::run(args, out))
            });
        }
    }
    .map(|()| Exit::Ok)
}

impl From<ConnectorError> for CliError {
    fn from(err: ConnectorError) -> Self {
        CliError::usage(err)
    }
}

fn create(args: &ConnectorCreateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.classic {
        return super::connector_scan::create_classic(args, out);
    }
    if args.external_id.is_some() || args.access_key_id.is_some() {
        return Err(CliError::usage(
            "`--access-key-id` and `--external-id` need `--classic`",
        ));
    }
    let plans = parse_plans(&args.plans)?;
    let regions = args.regions.as_deref().map(clean_list).unwrap_or_default();
    let scan_interval = parse_scan_interval(&args.scan_interval)?;
    let organization = if args.organization {
        Some(OrganizationalData::Organization {
            stackset_name: args
                .stackset_name
                .clone()
                .unwrap_or_else(|| DEFAULT_STACKSET_NAME.to_owned()),
            excluded_account_ids: args
                .exclude_accounts
                .as_deref()
                .map(clean_list)
                .unwrap_or_default(),
        })
    } else if args.stackset_name.is_some() {
        return Err(CliError::usage("`--stackset-name` needs `--organization`"));
    } else if args.exclude_accounts.is_some() {
        return Err(CliError::usage(
            "`--exclude-accounts` needs `--organization`",
        ));
    } else {
        None
    };
    let mut connector = Connector::new(
        &args.name,
        &args.account,
        &plans,
        regions,
        scan_interval,
        organization,
    );
    set_role_arns(&mut connector, &args.role_arns)?;
    apply_settings(&mut connector, &args.settings)?;
    connector.validate()?;
    let store = open_store(&args.store)?;
    store
        .create_connector(&connector)
        .map_err(connector_store_error)?;
    match args.format {
        ListFormat::Json => write_json(out, &connector),
        ListFormat::Table => {
            let heading = format!(
                "created connector `{}` for account {}\n\n",
                connector.name,
                connector.account()
            );
            write_text(out, &(heading + &details(&connector)))
        }
    }
}

fn show(args: &ConnectorShowArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let connector = find(&args.store, &args.name)?.1;
    match args.format {
        ListFormat::Json => write_json(out, &connector),
        ListFormat::Table => write_text(out, &details(&connector)),
    }
}

fn list(args: &ConnectorListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let connectors = open_existing_store(&args.store)?.connectors()?;
    match args.format {
        ListFormat::Json => write_json(out, &connectors),
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = connectors
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        c.account().to_owned(),
                        kind(c),
                        plan_names(c),
                        regions(c),
                        format!("{}h", c.environment_data.scan_interval),
                        c.id.to_string(),
                    ]
                })
                .collect();
            write_text(
                out,
                &table(
                    &[
                        "NAME", "ACCOUNT", "KIND", "PLANS", "REGIONS", "INTERVAL", "ID",
                    ],
                    &rows,
                ),
            )
        }
    }
}

fn update(args: &ConnectorUpdateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.regions.is_none()
        && args.scan_interval.is_none()
        && args.plans.is_none()
        && args.exclude_accounts.is_none()
        && args.role_arns.is_empty()
        && !args.settings.any()
    {
        return Err(CliError::usage(
            "nothing to change: give `--regions`, `--scan-interval`, `--plans`, `--exclude-accounts`, `--role-arn`, a plan setting, `--pause` or `--resume`",
        ));
    }
    let (store, mut connector) = find(&args.store, &args.name)?;
    if let Some(regions) = &args.regions {
        connector.environment_data.regions = clean_list(regions);
    }
    if let Some(hours) = &args.scan_interval {
        connector.environment_data.scan_interval = parse_scan_interval(hours)?;
    }
    if let Some(plans) = &args.plans {
        connector.set_plans(&parse_plans(plans)?);
    }
    if let Some(excluded) = &args.exclude_accounts {
        match &mut connector.environment_data.organizational_data {
            Some(OrganizationalData::Organization {
                excluded_account_ids,
                ..
            }) => *excluded_account_ids = clean_list(excluded),
            _ => return Err(ConnectorError::NotAnOrganization(connector.name.clone()).into()),
        }
    }
    set_role_arns(&mut connector, &args.role_arns)?;
    apply_settings(&mut connector, &args.settings)?;
    connector.validate()?;
    connector.touch();
    store
        .update_connector(&connector)
        .map_err(connector_store_error)?;
    match args.format {
        ListFormat::Json => write_json(out, &connector),
        ListFormat::Table => {
            let heading = format!("updated connector `{}`\n\n", connector.name);
            write_text(out, &(heading + &details(&connector)))
        }
    }
}

fn delete(args: &ConnectorDeleteArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (store, connector) = find(&args.store, &args.name)?;
    let members = if connector.is_organization() {
        store.members_of(connector.account())?
    } else {
        Vec::new()
    };
    let mut text = String::new();
    for member in &members {
        store.delete_connector(&member.id.to_string())?;
    }
    if !store.delete_connector(&connector.id.to_string())? {
        return Err(CliError::nothing(format!("no connector `{}`", args.name)));
    }
    text.push_str(&format!(
        "deleted connector `{}` (account {}, id {})\n",
        connector.name,
        connector.account(),
        connector.id
    ));
    for member in &members {
        text.push_str(&format!(
            "deleted member connector `{}` (account {}, id {})\n",
            member.name,
            member.account(),
            member.id
        ));
    }
    write_text(out, &text)
}

/// The store, if its file exists (reading commands don't create one).
fn existing_store(args: &StoreArgs) -> Result<Option<Store>, CliError> {
    if store_exists(args)? {
        open_store(args).map(Some)
    } else {
        Ok(None)
    }
}

/// The store and the connector named (or with the id) `name`; exit 3 when
/// there is none.
fn find(args: &StoreArgs, name: &str) -> Result<(Store, Connector), CliError> {
    let store = existing_store(args)?;
    let connector = match &store {
        Some(store) => store.connector(name)?,
        None => None,
    };
    match (store, connector) {
        (Some(store), Some(connector)) => Ok((store, connector)),
        _ => Err(CliError::nothing(format!("no connector `{name}`"))),
    }
}

fn connector_store_error(err: StoreError) -> CliError {
    match err {
        StoreError::ConnectorExists(_) => CliError::usage(err),
        other => other.into(),
    }
}

/// Trimmed, non-empty items (`--regions ''` is the empty list).
fn clean_list(items: &[String]) -> Vec<String> {
    items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_plans(names: &[String]) -> Result<Vec<Plan>, CliError> {
    clean_list(names)
        .iter()
        .map(|name| name.parse::<Plan>().map_err(CliError::from))
        .collect()
}

fn parse_scan_interval(hours: &str) -> Result<u32, CliError> {
    hours
        .trim()
        .parse::<u32>()
        .map_err(|_| ConnectorError::ScanInterval(hours.to_owned()).into())
}

/// Applies the plan settings and `--pause` / `--resume`; tags are read by
/// `rampart_connector::parse_tags`, as the dashboard's form reads them.
fn apply_settings(connector: &mut Connector, args: &PlanSettingsArgs) -> Result<(), CliError> {
    if args.pause {
        connector.paused = true;
    }
    if args.resume {
        connector.paused = false;
    }
    apply_sql_settings(connector, args)?;
    let servers_flags = args.servers_scope_tags.is_some()
        || args.servers_policy_attach.is_some()
        || args.servers_provisioning.is_some()
        || args.agentless_scanning.is_some()
        || args.agentless_exclusion_tags.is_some()
        || args.cloudtrail.is_some();
    if !servers_flags {
        return Ok(());
    }
    let agentless = on_off_flag("--agentless-scanning", args.agentless_scanning.as_deref())?;
    let policy_attach = on_off_flag(
        "--servers-policy-attach",
        args.servers_policy_attach.as_deref(),
    )?;
    let provisioning = on_off_flag(
        "--servers-provisioning",
        args.servers_provisioning.as_deref(),
    )?;
    let scope = args
        .servers_scope_tags
        .as_deref()
        .map(|t| parse_tags(SCOPE_BY_TAGS, t))
        .transpose()?;
    let exclusions = args
        .agentless_exclusion_tags
        .as_deref()
        .map(|t| parse_tags(EXCLUSION_TAGS, t))
        .transpose()?;
    let Some(Offering::DefenderForServersAws(servers)) = connector.offering_mut(Plan::Servers)
    else {
        return Err(ConnectorError::PlanNotEnabled(Plan::Servers).into());
    };
    if let Some(scope) = scope {
        servers.scope_by_tags = scope;
    }
    if let Some(on) = provisioning {
        servers.arc_auto_provisioning.enabled = on;
    }
    if let Some(allowed) = policy_attach {
        servers.arc_auto_provisioning.is_policy_attach_allowed = allowed;
    }
    if let Some(cloudtrail) = args.cloudtrail {
        let settings = servers.cloud_trail.get_or_insert_with(Default::default);
        settings.enabled = cloudtrail != CloudTrailArg::Off;
        match cloudtrail {
            CloudTrailArg::Listing => settings.mode = CloudTrailMode::Listing,
            CloudTrailArg::Notification => settings.mode = CloudTrailMode::Notification,
            CloudTrailArg::Off => {}
        }
    }
    if agentless.is_some() || exclusions.is_some() {
        let scanners = servers.vm_scanners.get_or_insert_with(VmScanners::default);
        if let Some(on) = agentless {
            scanners.enabled = on;
        }
        if let Some(exclusions) = exclusions {
            scanners.exclusion_tags = exclusions;
        }
    }
    Ok(())
}

/// `--sql-threat-detection` and `--sql-log-groups`.
fn apply_sql_settings(connector: &mut Connector, args: &PlanSettingsArgs) -> Result<(), CliError> {
    if args.sql_threat_detection.is_none() && args.sql_log_groups.is_none() {
        return Ok(());
    }
    let enabled = on_off_flag(
        "--sql-threat-detection",
        args.sql_threat_detection.as_deref(),
    )?;
    let groups = args
        .sql_log_groups
        .as_deref()
        .map(|text| parse_log_groups(text.trim_matches('\'')))
        .transpose()?;
    let detection = connector
        .sql_threat_detection_mut()
        .ok_or(ConnectorError::PlanNotEnabled(Plan::Sql))?;
    if let Some(on) = enabled {
        detection.enabled = on;
    }
    if let Some(groups) = groups {
        detection.log_groups = groups;
    }
    Ok(())
}

/// An `on|off` flag's value.
fn on_off_flag(flag: &str, value: Option<&str>) -> Result<Option<bool>, CliError> {
    match value.map(str::trim) {
        None => Ok(None),
        Some("on" | "true") => Ok(Some(true)),
        Some("off" | "false") => Ok(Some(false)),
        Some(other) => Err(CliError::usage(format!(
            "`{flag}` takes `on` or `off`, not `{other}`"
        ))),
    }
}

/// Applies `--role-arn PLAN[.ROLE]=ARN` flags.
fn set_role_arns(connector: &mut Connector, flags: &[String]) -> Result<(), CliError> {
    for flag in flags {
        let Some((target, arn)) = flag.split_once('=') else {
            return Err(CliError::usage(format!(
                "malformed `--role-arn` `{flag}` (expected PLAN=ARN or PLAN.ROLE=ARN)"
            )));
        };
        let (plan, role) = match target.split_once('.') {
            Some((plan, role)) => (plan, Some(role)),
            None => (target, None),
        };
        let plan = plan.trim().parse::<Plan>()?;
        connector.set_role_arn(plan, role.map(str::trim), arn.trim())?;
    }
    Ok(())
}

fn kind(connector: &Connector) -> String {
    match &connector.environment_data.organizational_data {
        None => "account".to_owned(),
        Some(OrganizationalData::Organization { .. }) => "organization".to_owned(),
        Some(OrganizationalData::Member {
            parent_hierarchy_id,
        }) => format!("member of {parent_hierarchy_id}"),
    }
}

fn plan_names(connector: &Connector) -> String {
    connector
        .plans()
        .iter()
        .map(|plan| plan.name())
        .collect::<Vec<_>>()
        .join(",")
}

fn regions(connector: &Connector) -> String {
    let regions = &connector.environment_data.regions;
    if regions.is_empty() {
        "all enabled".to_owned()
    } else {
        regions.join(",")
    }
}

/// One connector for people: its settings, then its plans' roles.
fn details(connector: &Connector) -> String {
    let data = &connector.environment_data;
    let organization = match &data.organizational_data {
        None => "none (single account)".to_owned(),
        Some(OrganizationalData::Organization {
            stackset_name,
            excluded_account_ids,
        }) => {
            let excluded = if excluded_account_ids.is_empty() {
                "none".to_owned()
            } else {
                excluded_account_ids.join(", ")
            };
            format!(
                "management account; stack set `{stackset_name}`; excluded accounts: {excluded}"
            )
        }
        Some(OrganizationalData::Member {
            parent_hierarchy_id,
        }) => format!("member of {parent_hierarchy_id}"),
    };
    let fields = [
        ("name", connector.name.clone()),
        ("id", connector.id.to_string()),
        ("account", connector.account().to_owned()),
        ("organization", organization),
        ("access", super::connector_scan::authentication(connector)),
        ("regions", regions(connector)),
        ("scan interval", format!("{} hours", data.scan_interval)),
        ("created", rfc3339(connector.created_at)),
        ("updated", rfc3339(connector.updated_at)),
    ];
    let mut text: String = fields
        .iter()
        .map(|(key, value)| format!("{key:<15}{value}\n"))
        .collect();
    if connector.paused {
        text.push_str(&format!("{:<15}yes: scheduled scans skip it\n", "paused"));
    }
    text.push('\n');
    let rows: Vec<Vec<String>> = connector
        .offerings
        .iter()
        .flat_map(|offering| {
            let plan = offering.plan();
            offering.role_arns().into_iter().map(move |(field, arn)| {
                vec![
                    plan.name().to_owned(),
                    field.trim_end_matches(".cloudRoleArn").to_owned(),
                    arn.to_owned(),
                    settings(offering, field),
                ]
            })
        })
        .collect();
    text.push_str(&table(&["PLAN", "ROLE", "ARN", "SETTINGS"], &rows));
    text
}

/// The settings shown beside a role: whether its feature is on, and the
/// containers plan's audit-log settings beside its first role.
fn settings(offering: &Offering, field: &str) -> String {
    match offering {
        Offering::DefenderForServersAws(o) if field.starts_with("arcAutoProvisioning") => {
            let mut text = on_off(o.arc_auto_provisioning.enabled);
            if o.arc_auto_provisioning.is_policy_attach_allowed {
                text.push_str("; policy attach allowed");
            }
            text
        }
        Offering::DefenderForServersAws(o)
            if field.starts_with("defenderForServers")
                && (!o.scope_by_tags.is_empty() || o.vm_scanners.is_some()) =>
        {
            let mut parts = Vec::new();
            if !o.scope_by_tags.is_empty() {
                parts.push(format!("scope {}", format_tags(&o.scope_by_tags)));
            }
            if let Some(s) = &o.vm_scanners {
                parts.push(format!("agentless scanning {}", on_off(s.enabled)));
                if !s.exclusion_tags.is_empty() {
                    parts.push(format!("excluding {}", format_tags(&s.exclusion_tags)));
                }
            }
            parts.join("; ")
        }
        Offering::DefenderForDatabasesAws(o) if field.starts_with("arcAutoProvisioning") => {
            on_off(o.arc_auto_provisioning.enabled)
        }
        Offering::DefenderForDatabasesAws(o) if field.starts_with("rds") => on_off(o.rds.enabled),
        Offering::DefenderForDatabasesAws(o) if field == "threatDetection.cloudRoleArn" => o
            .threat_detection
            .as_ref()
            .map(|t| {
                let groups = if t.log_groups.is_empty() {
                    "RDS error logs only".to_owned()
                } else {
                    format!("log groups {}", t.log_groups.join(", "))
                };
                format!(
                    "log pipelines {}; {groups}; kept {} days",
                    on_off(t.enabled),
                    t.retention_days
                )
            })
            .unwrap_or_default(),
        Offering::DefenderForContainersAws(o) if field.starts_with("kubernetesService") => format!(
            "audit logs kept {} days; auto-provisioning {}",
            o.kube_audit_retention_time,
            on_off(o.enable_audit_logs_auto_provisioning)
        ),
        _ => String::new(),
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

fn on_off(enabled: bool) -> String {
    if enabled { "enabled" } else { "disabled" }.to_owned()
}

fn write_json<T: serde::Serialize + ?Sized>(
    out: &mut dyn Write,
    value: &T,
) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(CliError::failure)? + "\n";
    write_text(out, &text)
}

fn write_text(out: &mut dyn Write, text: &str) -> Result<(), CliError> {
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}
