//! Onboarding and connector management in the browser: add an AWS account
//! or organization (a form validated by `Connector::validate`, the code the
//! API and the CLI use, with each error next to its field), the deploy step
//! (template download, the AWS CLI commands, the console page, the issuer's
//! public documents), verification (connector health, re-runnable, and the
//! first scan), edit, pause and resume, and delete with a confirmation.
//!
//! Every form is a plain `POST` with the session's CSRF token; the
//! authentication middleware refuses readers (403) and bad tokens. The
//! form pages themselves answer 403 to readers too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use rampart_connector::{
    Connector, ConnectorError, DEFAULT_STACKSET_NAME, EXCLUSION_TAGS, Offering, OrganizationalData,
    Plan, SCOPE_BY_TAGS, SQL_LOG_GROUPS, VmScanners, format_tags, parse_log_groups, parse_tags,
};
use rampart_health::{Check, State as HealthState};
use rampart_onboarding::{DeployKind, console_url, deploy_commands};
use rampart_store::StoreError;
use serde::Deserialize;

use super::connectors::template_links;
use super::{
    Nav, PageError, PageResult, badge, csrf_field, is_admin, link, page, see_other, segment, when,
};
use crate::AppState;
use crate::api::connectors::find;
use crate::auth::Principal;
use crate::error::ApiError;

/// How long the deploy step waits for each issuer document.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(5);

/// 403 for a reader opening an admin form.
fn admin_only(who: &Principal) -> Result<(), PageError> {
    if is_admin(who) {
        Ok(())
    } else {
        Err(PageError(ApiError::forbidden(format!(
            "token `{}` is a reader; adding and changing connectors needs an admin",
            who.name
        ))))
    }
}

/// The add / edit form's fields, as posted. Checkboxes are `Some` when
/// ticked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConnectorForm {
    name: String,
    account: String,
    /// `account` or `organization`.
    kind: String,
    stackset_name: String,
    excluded_accounts: String,
    regions: String,
    scan_interval: String,
    plan_cspm: Option<String>,
    plan_servers: Option<String>,
    plan_containers: Option<String>,
    plan_sql: Option<String>,
    servers_provisioning: Option<String>,
    servers_policy_attach: Option<String>,
    servers_scope_tags: String,
    servers_agentless: Option<String>,
    servers_exclusion_tags: String,
    containers_audit_logs: Option<String>,
    containers_retention: String,
    sql_rds: Option<String>,
    sql_provisioning: Option<String>,
    sql_threat_detection: Option<String>,
    sql_log_groups: String,
    /// Template access mode: `default` or `least-privilege`.
    access: String,
}

fn on() -> Option<String> {
    Some("on".to_owned())
}

fn flag(enabled: bool) -> Option<String> {
    if enabled { on() } else { None }
}

/// A validation error and the form field it belongs to (`form`: the form
/// as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldError {
    field: &'static str,
    message: String,
}

impl From<ConnectorError> for FieldError {
    fn from(err: ConnectorError) -> Self {
        let field = match err.field() {
            Some("name") => "name",
            Some("hierarchyIdentifier") => "account",
            Some("environmentData.organizationalData.excludedAccountIds") => "excluded_accounts",
            Some("environmentData.organizationalData.stacksetName") => "stackset_name",
            Some("environmentData.regions") => "regions",
            Some("environmentData.scanInterval") => "scan_interval",
            Some("DefenderForContainersAws.kubeAuditRetentionTime") => "containers_retention",
            Some(f) if f == SCOPE_BY_TAGS => "servers_scope_tags",
            Some(f) if f == EXCLUSION_TAGS => "servers_exclusion_tags",
            Some(f) if f == SQL_LOG_GROUPS => "sql_log_groups",
            Some("offerings" | "roles") => "plans",
            _ => "form",
        };
        FieldError {
            field,
            message: err.to_string(),
        }
    }
}

/// Items of a comma- or space-separated list, trimmed, empty ones dropped
/// (as the CLI's comma-separated flags are read).
fn list_items(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ConnectorForm {
    /// A new connector's defaults: one account, CSPM, 12 hours, the
    /// plans' default settings.
    fn defaults() -> Self {
        ConnectorForm {
            kind: "account".to_owned(),
            scan_interval: rampart_connector::DEFAULT_SCAN_INTERVAL_HOURS.to_string(),
            plan_cspm: on(),
            servers_provisioning: on(),
            servers_agentless: on(),
            containers_audit_logs: on(),
            containers_retention: rampart_connector::DEFAULT_KUBE_AUDIT_RETENTION_DAYS.to_string(),
            sql_rds: on(),
            sql_provisioning: on(),
            sql_threat_detection: on(),
            access: "default".to_owned(),
            ..ConnectorForm::default()
        }
    }

    /// The form showing a stored connector.
    fn from_connector(c: &Connector) -> Self {
        let mut form = ConnectorForm {
            name: c.name.clone(),
            account: c.account().to_owned(),
            kind: if c.is_organization() {
                "organization"
            } else {
                "account"
            }
            .to_owned(),
            regions: c.environment_data.regions.join(", "),
            scan_interval: c.environment_data.scan_interval.to_string(),
            access: "default".to_owned(),
            ..ConnectorForm::defaults()
        };
        if let Some(OrganizationalData::Organization {
            stackset_name,
            excluded_account_ids,
        }) = &c.environment_data.organizational_data
        {
            form.stackset_name.clone_from(stackset_name);
            form.excluded_accounts = excluded_account_ids.join(", ");
        }
        form.plan_cspm = flag(c.offering(Plan::Cspm).is_some());
        form.plan_servers = flag(c.offering(Plan::Servers).is_some());
        form.plan_containers = flag(c.offering(Plan::Containers).is_some());
        form.plan_sql = flag(c.offering(Plan::Sql).is_some());
        for offering in &c.offerings {
            match offering {
                Offering::DefenderForServersAws(o) => {
                    form.servers_provisioning = flag(o.arc_auto_provisioning.enabled);
                    form.servers_policy_attach =
                        flag(o.arc_auto_provisioning.is_policy_attach_allowed);
                    form.servers_scope_tags = format_tags(&o.scope_by_tags);
                    form.servers_agentless = flag(o.agentless_enabled());
                    form.servers_exclusion_tags = format_tags(&o.exclusion_tags());
                }
                Offering::DefenderForContainersAws(o) => {
                    form.containers_audit_logs = flag(o.enable_audit_logs_auto_provisioning);
                    form.containers_retention = o.kube_audit_retention_time.to_string();
                }
                Offering::DefenderForDatabasesAws(o) => {
                    form.sql_rds = flag(o.rds.enabled);
                    form.sql_provisioning = flag(o.arc_auto_provisioning.enabled);
                    if let Some(t) = &o.threat_detection {
                        form.sql_threat_detection = flag(t.enabled);
                        form.sql_log_groups = t.log_groups.join(", ");
                    }
                }
                Offering::CspmMonitorAws(_) => {}
            }
        }
        form
    }

    fn plans(&self) -> Vec<Plan> {
        [
            (Plan::Cspm, &self.plan_cspm),
            (Plan::Servers, &self.plan_servers),
            (Plan::Containers, &self.plan_containers),
            (Plan::Sql, &self.plan_sql),
        ]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(plan, _)| plan)
        .collect()
    }

    /// The scan interval as the CLI reads `--scan-interval`.
    fn scan_interval(&self) -> Result<u32, ConnectorError> {
        let text = self.scan_interval.trim();
        text.parse::<u32>()
            .map_err(|_| ConnectorError::ScanInterval(text.to_owned()))
    }

    /// A new connector from the form, validated.
    fn build(&self) -> Result<Connector, FieldError> {
        let interval = self.scan_interval()?;
        let excluded = list_items(&self.excluded_accounts);
        let organization = if self.kind == "organization" {
            let stackset = self.stackset_name.trim();
            Some(OrganizationalData::Organization {
                stackset_name: if stackset.is_empty() {
                    DEFAULT_STACKSET_NAME.to_owned()
                } else {
                    stackset.to_owned()
                },
                excluded_account_ids: excluded,
            })
        } else if excluded.is_empty() {
            None
        } else {
            return Err(ConnectorError::NotAnOrganization(self.name.trim().to_owned()).into());
        };
        let mut connector = Connector::new(
            self.name.trim(),
            self.account.trim(),
            &self.plans(),
            list_items(&self.regions),
            interval,
            organization,
        );
        self.apply_settings(&mut connector)?;
        connector.validate()?;
        Ok(connector)
    }

    /// Applies the form to a stored connector (its name, account and kind
    /// stay), validated.
    fn apply(&self, connector: &mut Connector) -> Result<(), FieldError> {
        connector.environment_data.regions = list_items(&self.regions);
        connector.environment_data.scan_interval = self.scan_interval()?;
        let excluded = list_items(&self.excluded_accounts);
        match &mut connector.environment_data.organizational_data {
            Some(OrganizationalData::Organization {
                excluded_account_ids,
                ..
            }) => *excluded_account_ids = excluded,
            _ if !excluded.is_empty() => {
                return Err(ConnectorError::NotAnOrganization(connector.name.clone()).into());
            }
            _ => {}
        }
        connector.set_plans(&self.plans());
        self.apply_settings(connector)?;
        connector.validate()?;
        connector.touch();
        Ok(())
    }

    /// The plans' settings.
    fn apply_settings(&self, connector: &mut Connector) -> Result<(), FieldError> {
        let scope = parse_tags(SCOPE_BY_TAGS, &self.servers_scope_tags)?;
        let exclusions = parse_tags(EXCLUSION_TAGS, &self.servers_exclusion_tags)?;
        let retention_text = self.containers_retention.trim();
        let sql_log_groups = parse_log_groups(&self.sql_log_groups)?;
        let partition = connector.partition().to_owned();
        let account = connector.hierarchy_identifier.clone();
        for offering in &mut connector.offerings {
            match offering {
                Offering::DefenderForServersAws(o) => {
                    o.arc_auto_provisioning.enabled = self.servers_provisioning.is_some();
                    o.arc_auto_provisioning.is_policy_attach_allowed =
                        self.servers_policy_attach.is_some();
                    o.scope_by_tags.clone_from(&scope);
                    let agentless = self.servers_agentless.is_some();
                    // Absent means on: an unchecked box is stored as `enabled: false`.
                    o.vm_scanners = Some(VmScanners {
                        enabled: agentless,
                        exclusion_tags: exclusions.clone(),
                    });
                }
                Offering::DefenderForContainersAws(o) => {
                    o.enable_audit_logs_auto_provisioning = self.containers_audit_logs.is_some();
                    o.kube_audit_retention_time =
                        retention_text.parse::<u32>().map_err(|_| FieldError {
                            field: "containers_retention",
                            message: format!(
                                "audit-log retention `{retention_text}` is not a number of days"
                            ),
                        })?;
                }
                Offering::DefenderForDatabasesAws(o) => {
                    o.rds.enabled = self.sql_rds.is_some();
                    o.arc_auto_provisioning.enabled = self.sql_provisioning.is_some();
                    let detection = o.threat_detection_or_default(&partition, &account);
                    detection.enabled = self.sql_threat_detection.is_some();
                    detection.log_groups.clone_from(&sql_log_groups);
                }
                Offering::CspmMonitorAws(_) => {}
            }
        }
        Ok(())
    }

    fn access(&self) -> &str {
        if self.access == "least-privilege" {
            "least-privilege"
        } else {
            "default"
        }
    }
}

/// The error of `field`, if it is the one that failed.
fn error_for<'a>(error: Option<&'a FieldError>, field: &str) -> Option<&'a str> {
    error
        .filter(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// One labelled text input with its error below it.
fn text_field(
    label: &str,
    name: &'static str,
    value: &str,
    hint: &str,
    error: Option<&FieldError>,
    readonly: bool,
) -> Markup {
    let message = error_for(error, name);
    let error_id = format!("{name}-error");
    html! {
        label for=(name) {
            (label)
            @if !hint.is_empty() { span.muted.small { " " (hint) } }
        }
        input id=(name) name=(name) type="text" value=(value) readonly[readonly]
            aria-invalid=[message.map(|_| "true")] aria-describedby=[message.map(|_| error_id.as_str())];
        @if let Some(message) = message {
            p.field-error id=(error_id) role="alert" { (message) }
        }
    }
}

fn checkbox(label: &str, name: &str, checked: bool) -> Markup {
    html! {
        label.check {
            input type="checkbox" name=(name) checked[checked];
            " " (label)
        }
    }
}

/// The add (`editing` is `None`) or edit form.
fn connector_form(
    who: &Principal,
    form: &ConnectorForm,
    error: Option<&FieldError>,
    editing: Option<&Connector>,
) -> Markup {
    let action = match editing {
        Some(c) => format!("/connectors/{}/edit", segment(&c.name)),
        None => "/connectors/new".to_owned(),
    };
    let organization = form.kind == "organization";
    html! {
        @if let Some(message) = error_for(error, "form") {
            p.error-box role="alert" { (message) }
        }
        form.stack.connector-form method="post" action=(action) {
            (csrf_field(who))
            fieldset {
                legend { "Account" }
                (text_field("Name", "name", &form.name, "1 to 40 letters, digits or +=,.@-_; roles trust the session name Rampart_<name>", error, editing.is_some()))
                @if editing.is_none() {
                    div.choices {
                        label.check { input type="radio" name="kind" value="account" checked[!organization]; " One AWS account" }
                        label.check { input type="radio" name="kind" value="organization" checked[organization]; " An AWS Organization (its management account)" }
                    }
                } @else {
                    input type="hidden" name="kind" value=(form.kind);
                }
                (text_field("Account id", "account", &form.account, "12 digits; for an organization, the management account's", error, editing.is_some()))
                @if editing.is_none() || organization {
                    (text_field("StackSet name (organization)", "stackset_name", &form.stackset_name, "default: Rampart", error, editing.is_some()))
                    (text_field("Excluded member accounts (organization)", "excluded_accounts", &form.excluded_accounts, "comma-separated account ids that get no connector", error, false))
                }
            }
            fieldset {
                legend { "Environment" }
                (text_field("Regions", "regions", &form.regions, "comma-separated, e.g. us-east-1, eu-west-1; empty: every enabled region", error, false))
                (text_field("Scan interval (hours)", "scan_interval", &form.scan_interval, "1 to 24", error, false))
            }
            fieldset #plans {
                legend { "Plans" }
                @if let Some(message) = error_for(error, "plans") {
                    p.field-error #plans-error role="alert" { (message) }
                }
                (checkbox("CSPM — posture management: inventory, recommendations, secure score", "plan_cspm", form.plan_cspm.is_some()))
                (checkbox("Servers — EC2 instances", "plan_servers", form.plan_servers.is_some()))
                div.plan-settings {
                    (checkbox("Agent provisioning through Systems Manager", "servers_provisioning", form.servers_provisioning.is_some()))
                    (checkbox("Attach the SSM policy to an instance's own profile role when it lacks it", "servers_policy_attach", form.servers_policy_attach.is_some()))
                    (text_field("Scope by tag", "servers_scope_tags", &form.servers_scope_tags, "key=value, …: only instances with one of these tags; empty: every instance", error, false))
                    (checkbox("Agentless scanning (disk snapshots)", "servers_agentless", form.servers_agentless.is_some()))
                    (text_field("Agentless exclusion tags", "servers_exclusion_tags", &form.servers_exclusion_tags, "key=value, …: instances with one of these tags are not scanned", error, false))
                }
                (checkbox("Containers — EKS clusters", "plan_containers", form.plan_containers.is_some()))
                div.plan-settings {
                    (checkbox("Audit-log auto-provisioning", "containers_audit_logs", form.containers_audit_logs.is_some()))
                    (text_field("Audit-log retention (days)", "containers_retention", &form.containers_retention, "1 or more", error, false))
                }
                (checkbox("SQL — SQL Server on EC2 and RDS", "plan_sql", form.plan_sql.is_some()))
                div.plan-settings {
                    (checkbox("RDS discovery", "sql_rds", form.sql_rds.is_some()))
                    (checkbox("Agent provisioning through Systems Manager", "sql_provisioning", form.sql_provisioning.is_some()))
                    (checkbox("Threat detection: log pipelines provisioned with every scan", "sql_threat_detection", form.sql_threat_detection.is_some()))
                    (text_field("SQL Server log groups", "sql_log_groups", &form.sql_log_groups, "log groups the CloudWatch agent writes SQL Server logs to, comma-separated; RDS exported error logs are found without them", error, false))
                }
            }
            @if editing.is_none() {
                fieldset {
                    legend { "Template access" }
                    label.check { input type="radio" name="access" value="default" checked[form.access() == "default"]; " Default: AWS ReadOnlyAccess, billing denied (new collectors work without redeploying)" }
                    label.check { input type="radio" name="access" value="least-privilege" checked[form.access() == "least-privilege"]; " Least privilege: only the actions Rampart calls" }
                }
            }
            div {
                button type="submit" { @if editing.is_some() { "Save changes" } @else { "Add and continue to deploy" } }
            }
        }
    }
}

/// The three steps, with the current one marked.
fn steps(current: usize, name: Option<&str>) -> Markup {
    let base = name.map(|n| format!("/connectors/{}", segment(n)));
    let items = [
        ("1. Add the account", None),
        (
            "2. Deploy the template",
            base.as_ref().map(|b| format!("{b}/deploy")),
        ),
        (
            "3. Verify and scan",
            base.as_ref().map(|b| format!("{b}/verify")),
        ),
    ];
    html! {
        ol.steps aria-label="Onboarding steps" {
            @for (i, (label, href)) in items.iter().enumerate() {
                li aria-current=[(i + 1 == current).then_some("step")] {
                    @match href {
                        Some(href) if i + 1 != current => { a href=(href) { (label) } }
                        _ => { (label) }
                    }
                }
            }
        }
    }
}

/// `GET /connectors/new`.
pub(super) async fn new_form(Extension(who): Extension<Principal>) -> PageResult {
    admin_only(&who)?;
    let content = html! {
        p.small { a href="/connectors" { "« Connectors" } }
        h1 { "Add an AWS account" }
        (steps(1, None))
        p.muted { "Rampart reads the account through IAM roles that trust its OIDC issuer: no access keys. Next you deploy a template that creates them." }
        (connector_form(&who, &ConnectorForm::defaults(), None, None))
    };
    Ok(page("Add an AWS account", Nav::Connectors, &who, content))
}

fn store_conflict(err: StoreError) -> Result<FieldError, PageError> {
    match err {
        StoreError::ConnectorExists(name) => Ok(FieldError {
            field: "name",
            message: format!("a connector named `{name}` already exists"),
        }),
        other => Err(other.into()),
    }
}

/// `POST /connectors/new`: creates the connector, then the deploy step.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Form(form): Form<ConnectorForm>,
) -> PageResult {
    let invalid = |error: FieldError, form: &ConnectorForm, who: &Principal| {
        let content = html! {
            p.small { a href="/connectors" { "« Connectors" } }
            h1 { "Add an AWS account" }
            (steps(1, None))
            (connector_form(who, form, Some(&error), None))
        };
        let mut response = page("Add an AWS account", Nav::Connectors, who, content);
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        response
    };
    let connector = match form.build() {
        Ok(c) => c,
        Err(error) => return Ok(invalid(error, &form, &who)),
    };
    let stored = connector.clone();
    let created = state
        .store
        .run(move |s| Ok(s.create_connector(&stored)))
        .await?;
    if let Err(err) = created {
        return Ok(invalid(store_conflict(err)?, &form, &who));
    }
    let to = link(
        &format!("/connectors/{}/deploy", segment(&connector.name)),
        &[("access", form.access())],
    );
    Ok(see_other(&to))
}

/// `GET /connectors/{name}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> PageResult {
    admin_only(&who)?;
    let connector = find(&state, name).await?;
    Ok(edit_page(
        &who,
        &connector,
        &ConnectorForm::from_connector(&connector),
        None,
    ))
}

fn edit_page(
    who: &Principal,
    connector: &Connector,
    form: &ConnectorForm,
    error: Option<&FieldError>,
) -> axum::response::Response {
    let content = html! {
        p.small { a href=(format!("/connectors#connector-{}", connector.id)) { "« Connectors" } }
        h1 { "Edit " (connector.name) }
        p.muted { "Enabling a plan adds roles: redeploy the template afterwards (the deploy step has it)." }
        (connector_form(who, form, error, Some(connector)))
    };
    let mut response = page("Edit connector", Nav::Connectors, who, content);
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// `POST /connectors/{name}/edit`.
pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Form(form): Form<ConnectorForm>,
) -> PageResult {
    let mut connector = find(&state, name).await?;
    let original = connector.clone();
    if let Err(error) = form.apply(&mut connector) {
        return Ok(edit_page(&who, &original, &form, Some(&error)));
    }
    let stored = connector.clone();
    state
        .store
        .run(move |s| Ok(s.update_connector(&stored)?))
        .await?;
    Ok(see_other(&format!(
        "/connectors#connector-{}",
        connector.id
    )))
}

/// `?access=default|least-privilege&check=issuer`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct DeployQuery {
    access: Option<String>,
    check: Option<String>,
}

/// `GET /connectors/{name}/deploy`: the template, how to deploy it, and
/// the issuer's public documents.
pub(super) async fn deploy(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Query(query): Query<DeployQuery>,
) -> PageResult {
    let connector = find(&state, name).await?;
    let access = match query.access.as_deref() {
        Some("least-privilege") => "least-privilege",
        _ => "default",
    };
    let base = format!("/connectors/{}", segment(&connector.name));
    let issuer = match state.issuer_keys() {
        Some(keys) => tokio::task::spawn_blocking(move || {
            keys.issuer().map(Arc::new).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| PageError(ApiError::internal(format!("issuer task: {e}"))))?,
        None => Err("this server has no keys directory".to_owned()),
    };
    let issuer_url = issuer.as_ref().ok().map(|i| i.url().to_owned());
    let checks: Option<Vec<Check>> = if query.check.as_deref() == Some("issuer") {
        Some(rampart_health::issuer_checks(&issuer, ISSUER_TIMEOUT).await)
    } else {
        None
    };
    let region = connector
        .environment_data
        .regions
        .first()
        .map_or("us-east-1", String::as_str);
    let file = format!("rampart-{}.json", connector.name);
    let kind = match &connector.environment_data.organizational_data {
        Some(OrganizationalData::Organization { stackset_name, .. }) => {
            DeployKind::Organization { stackset_name }
        }
        _ => DeployKind::Account,
    };
    let cloudformation = deploy_commands(kind, &connector.name, &file, region);
    let terraform = (!connector.is_organization()).then(|| {
        deploy_commands(
            DeployKind::Terraform,
            &connector.name,
            &format!("rampart-{}.tf", connector.name),
            region,
        )
    });
    let template_file = |format: &str| {
        link(
            &format!("{base}/template"),
            &[("format", format), ("access", access)],
        )
    };
    let content = html! {
        p.small { a href=(format!("/connectors#connector-{}", connector.id)) { "« Connectors" } }
        h1 { "Deploy the template for " (connector.name) }
        (steps(2, Some(&connector.name)))
        @if let Some(parent) = connector.parent() {
            p.panel { "This account is a member of the organization managed by " (parent) ": the management account's StackSet creates its roles. Nothing to deploy here." }
        } @else if connector.is_classic() {
            p.panel { "A classic connector uses stored keys or a role with an external id; it has no template." }
        } @else {
            section.panel #download {
                h2 { "Download" }
                p { "The template creates an IAM OIDC identity provider for Rampart's issuer"
                    @if let Some(url) = &issuer_url { " (" code { (url) } ")" }
                    " and, for each plan, roles that trust only that provider, the plan's audience and the session " code { "Rampart_" (connector.name) } "." }
                p {
                    a.button #download-cloudformation download href=(template_file("cloudformation")) {
                        @if connector.is_organization() { "CloudFormation with StackSet (" (access) ")" } @else { "CloudFormation (" (access) ")" }
                    }
                    @if !connector.is_organization() {
                        " " a.button #download-terraform download href=(template_file("terraform")) { "Terraform (" (access) ")" }
                    }
                }
                details {
                    summary { "Other formats, access modes, or an issuer thumbprint" }
                    (template_links(&connector, &base))
                }
            }
            section.panel #commands {
                h2 { "Deploy with the AWS CLI" }
                p { "With credentials for account " (connector.account()) " that may create IAM roles:" }
                pre { code { @for c in &cloudformation { (c) "\n" } } }
                @if connector.is_organization() {
                    p.muted.small { "Replace " code { "r-abcd" } " with your organization's root id or the OU ids to deploy to. The stack holds the management account's own roles and a service-managed StackSet that creates them in every member account (excluded accounts left out)." }
                }
                @if let Some(commands) = &terraform {
                    p { "Or with Terraform:" }
                    pre { code { @for c in commands { (c) "\n" } } }
                }
                p { "Or in the console: " a #console-link href=(console_url(connector.partition(), region)) rel="noreferrer" { "create a stack" } ", choose “Upload a template file”, upload " code { (file) } " and acknowledge that it creates IAM resources with custom names." }
            }
            section.panel #issuer {
                h2 { "The issuer's public documents" }
                p { "AWS fetches the issuer's discovery document and keys from its public URL each time a role is assumed: they must be reachable over HTTPS from the internet"
                    @if let Some(url) = &issuer_url { " at " code { (url) "/.well-known/openid-configuration" } }
                    "." }
                @match &checks {
                    None => {
                        form.inline method="get" action=(format!("{base}/deploy")) {
                            input type="hidden" name="access" value=(access);
                            input type="hidden" name="check" value="issuer";
                            button type="submit" { "Check the issuer now" }
                        }
                    }
                    Some(checks) => { (check_table(checks)) }
                }
            }
        }
        p { a.button #to-verify href=(format!("{base}/verify")) { "Next: verify the connection »" } }
    };
    Ok(page("Deploy", Nav::Connectors, &who, content))
}

/// Checks as a table: requirement, met / not met / unknown, detail and fix.
fn check_table(checks: &[Check]) -> Markup {
    html! {
        table.health.checks {
            thead { tr { th { "Plan" } th { "Requirement" } th { "State" } th { "Detail" } } }
            tbody {
                @for check in checks {
                    tr data-state=(check.state.name()) {
                        td { (check.plan.map_or("—", |p| p.name())) }
                        td { (check.requirement) }
                        td { (badge(check.state.name())) }
                        td.wrap {
                            (check.detail)
                            @match &check.state {
                                HealthState::NotMet { fix } => { br; strong { "Fix: " } (fix) }
                                HealthState::Unknown { why } => { br; span.muted.small { "Why: " (why) } }
                                HealthState::Met => {}
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /connectors/{name}/verify`: the latest check, a button to run it
/// again, and the first scan.
pub(super) async fn verify_page(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> PageResult {
    let connector = find(&state, name).await?;
    let base = format!("/connectors/{}", segment(&connector.name));
    let health = state.health.latest(&state.store, &connector).await?;
    let account = connector.account().to_owned();
    let scans = state.store.run(|s| Ok(s.scans_page(None, 0, 50)?)).await?;
    let last = scans.iter().find(|s| s.accounts.contains(&account));
    let running = state
        .scans
        .running()
        .into_iter()
        .find(|j| j.request.connector.as_deref() == Some(connector.name.as_str()));
    let admin = is_admin(&who);
    let content = html! {
        p.small { a href=(format!("/connectors#connector-{}", connector.id)) { "« Connectors" } }
        h1 { "Verify " (connector.name) }
        (steps(3, Some(&connector.name)))
        section.panel #verification {
            h2 { "Connection" }
            p { "Verification checks the issuer, that each plan's roles can be assumed in account " (connector.account()) ", and each plan's requirements." }
            @match &health {
                None => { p.muted #not-verified { "Not verified yet." } }
                Some(h) => {
                    p #verified-at { "Checked " (when(h.checked_at)) ": "
                        @if h.healthy() { strong { "every requirement checked is met or could not be told" } }
                        @else { strong { (h.not_met().count()) " requirements not met" } } }
                    (check_table(&h.checks))
                }
            }
            @if admin {
                form.inline method="post" action=(format!("{base}/verify")) {
                    (csrf_field(&who))
                    button #run-verification type="submit" { @if health.is_some() { "Verify again" } @else { "Run verification" } }
                }
            }
        }
        section.panel #first-scan {
            h2 { "Scan" }
            @if let Some(job) = &running {
                p { "A scan is running: " a href=(format!("/scans/{}", segment(&job.id))) { (job.id) } " (" (format!("{:.1}%", job.percent)) ")." }
            }
            @match last {
                Some(scan) => {
                    p #last-scan { "Last scan: " a href=(format!("/scans/{}", segment(&scan.id))) { (when(scan.started_at)) } " " (badge(scan.status.as_str()))
                        " · " a href="/" { "secure score on the overview" } }
                }
                None => { p.muted { "No scan of this account yet." } }
            }
            @if admin {
                form.inline method="post" action="/connectors/scan" {
                    (csrf_field(&who))
                    input type="hidden" name="connector" value=(connector.name);
                    button #start-scan type="submit" { @if last.is_some() { "Scan now" } @else { "Start the first scan" } }
                }
            }
        }
    };
    Ok(page("Verify", Nav::Connectors, &who, content))
}

/// `POST /connectors/{name}/verify`: runs the connector's health check
/// (as the connectors page's *Check health*) and shows the result.
pub(super) async fn verify(State(state): State<AppState>, Path(name): Path<String>) -> PageResult {
    let connector = find(&state, name).await?;
    state.health.run(&state.store, connector.clone()).await?;
    Ok(see_other(&format!(
        "/connectors/{}/verify",
        segment(&connector.name)
    )))
}

async fn set_paused(state: &AppState, name: String, paused: bool) -> PageResult {
    let mut connector = find(state, name).await?;
    connector.paused = paused;
    connector.touch();
    let anchor = format!("/connectors#connector-{}", connector.id);
    state
        .store
        .run(move |s| Ok(s.update_connector(&connector)?))
        .await?;
    Ok(see_other(&anchor))
}

/// `POST /connectors/{name}/pause`: scheduled scans skip it.
pub(super) async fn pause(State(state): State<AppState>, Path(name): Path<String>) -> PageResult {
    set_paused(&state, name, true).await
}

/// `POST /connectors/{name}/resume`.
pub(super) async fn resume(State(state): State<AppState>, Path(name): Path<String>) -> PageResult {
    set_paused(&state, name, false).await
}

/// `GET /connectors/{name}/delete`: what deleting removes, and what it
/// leaves, before the button.
pub(super) async fn delete_form(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
) -> PageResult {
    admin_only(&who)?;
    let connector = find(&state, name).await?;
    let (members, scans) = {
        let account = connector.account().to_owned();
        let organization = connector.is_organization();
        state
            .store
            .run(move |s| {
                let members = if organization {
                    s.members_of(&account)?
                } else {
                    Vec::new()
                };
                let scans = s
                    .scans_page(None, 0, 1000)?
                    .into_iter()
                    .filter(|r| r.accounts.contains(&account))
                    .count();
                Ok((members, scans))
            })
            .await?
    };
    let containers = connector.offering(Plan::Containers).is_some();
    let content = html! {
        p.small { a href=(format!("/connectors#connector-{}", connector.id)) { "« Connectors" } }
        h1 { "Delete " (connector.name) "?" }
        section.panel #what-goes {
            h2 { "Deleted from Rampart" }
            ul {
                li { "The connector " strong { (connector.name) } " (account " (connector.account()) ", plans " (connector.plans().iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")) "): no more scheduled or on-demand scans through it." }
                @for m in &members { li { "Member connector " strong { (m.name) } " (account " (m.account()) ")" } }
            }
            h2 { "Kept" }
            ul {
                li #snapshots { (scans) " stored scans (snapshots) of account " (connector.account()) ", their assessments, secure-score history and any alerts stay as history; newer scans replace them in the overview." }
                li { "Exemptions that name the account's resources." }
            }
            h2 { "Left in AWS — remove them yourself" }
            ul {
                li { "The onboarding stack " code { (rampart_onboarding::stack_name(&connector.name)) } " (OIDC provider and roles"
                    @if connector.is_organization() { ", and the StackSet's instances in member accounts" }
                    "): " code { "aws cloudformation delete-stack --stack-name " (rampart_onboarding::stack_name(&connector.name)) } "." }
                @if containers {
                    li { "Audit-log pipelines (bucket, queue, delivery stream) provisioned for the Containers plan: remove them with " code { "rampart containers provision --connector " (connector.name) " --remove" } " before deleting the roles they run as." }
                }
            }
        }
        form.inline method="post" action=(format!("/connectors/{}/delete", segment(&connector.name))) {
            (csrf_field(&who))
            button.danger #confirm-delete type="submit" { "Delete " (connector.name) }
        }
        " " a href="/connectors" { "Cancel" }
    };
    Ok(page("Delete connector", Nav::Connectors, &who, content))
}

/// `POST /connectors/{name}/delete`: as `DELETE /api/v1/connectors/{name}`
/// (an organization's members go with it).
pub(super) async fn delete(State(state): State<AppState>, Path(name): Path<String>) -> PageResult {
    let connector = find(&state, name).await?;
    state
        .store
        .run(move |s| {
            if connector.is_organization() {
                for member in s.members_of(connector.account())? {
                    s.delete_connector(&member.id.to_string())?;
                }
            }
            s.delete_connector(&connector.id.to_string())?;
            Ok(())
        })
        .await?;
    Ok(see_other("/connectors"))
}

/// Per-connector management links for the connectors page.
pub(super) fn manage_links(c: &Connector, who: &Principal) -> Markup {
    let base = format!("/connectors/{}", segment(&c.name));
    let (action, label) = if c.paused {
        ("resume", "Resume scheduled scans")
    } else {
        ("pause", "Pause scheduled scans")
    };
    html! {
        p.manage.small {
            a href=(format!("{base}/edit")) { "Edit plans and settings" } " · "
            a href=(format!("{base}/deploy")) { "Deploy" } " · "
            a href=(format!("{base}/verify")) { "Verify" } " · "
            a href=(format!("{base}/delete")) { "Delete…" } " "
            form.inline method="post" action=(format!("{base}/{action}")) {
                (csrf_field(who))
                button type="submit" { (label) }
            }
        }
    }
}

/// Settings summary of a connector's plans, for the connectors page.
pub(super) fn plan_settings(offering: &Offering) -> String {
    let on_off = |b: bool| if b { "on" } else { "off" };
    let mut parts: BTreeMap<&str, String> = BTreeMap::new();
    match offering {
        Offering::DefenderForServersAws(o) => {
            parts.insert(
                "provisioning",
                on_off(o.arc_auto_provisioning.enabled).into(),
            );
            if o.arc_auto_provisioning.is_policy_attach_allowed {
                parts.insert("policy attach", "allowed".into());
            }
            if !o.scope_by_tags.is_empty() {
                parts.insert("scope", format_tags(&o.scope_by_tags));
            }
            let agentless = o.vm_scanners.as_ref();
            parts.insert(
                "agentless",
                on_off(agentless.is_none_or(|s| s.enabled)).into(),
            );
            if let Some(s) = agentless.filter(|s| !s.exclusion_tags.is_empty()) {
                parts.insert("exclusions", format_tags(&s.exclusion_tags));
            }
        }
        Offering::DefenderForContainersAws(o) => {
            parts.insert(
                "audit logs",
                on_off(o.enable_audit_logs_auto_provisioning).into(),
            );
            parts.insert("retention", format!("{} days", o.kube_audit_retention_time));
        }
        Offering::DefenderForDatabasesAws(o) => {
            parts.insert("rds", on_off(o.rds.enabled).into());
            parts.insert(
                "provisioning",
                on_off(o.arc_auto_provisioning.enabled).into(),
            );
            if let Some(t) = &o.threat_detection {
                parts.insert("threat detection", on_off(t.enabled).into());
                if !t.log_groups.is_empty() {
                    parts.insert("log groups", t.log_groups.join(", "));
                }
            }
        }
        Offering::CspmMonitorAws(_) => {}
    }
    parts
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ConnectorForm {
        ConnectorForm {
            name: "prod".into(),
            account: "123456789012".into(),
            regions: "us-east-1, eu-west-1".into(),
            plan_servers: on(),
            servers_scope_tags: "env=prod".into(),
            servers_agentless: on(),
            servers_policy_attach: on(),
            ..ConnectorForm::defaults()
        }
    }

    #[test]
    fn the_form_builds_what_the_cli_would_and_round_trips() {
        let c = form().build().unwrap();
        assert_eq!(c.plans(), [Plan::Cspm, Plan::Servers]);
        assert_eq!(c.environment_data.regions, ["us-east-1", "eu-west-1"]);
        let back = ConnectorForm::from_connector(&c);
        assert_eq!(back.servers_scope_tags, "env=prod");
        assert!(back.servers_agentless.is_some());
        assert!(back.servers_policy_attach.is_some());
        assert!(matches!(
            c.offering(Plan::Servers),
            Some(Offering::DefenderForServersAws(o))
                if o.arc_auto_provisioning.is_policy_attach_allowed
        ));
        assert_eq!(back.build().unwrap().offerings, c.offerings);
    }

    #[test]
    fn errors_land_on_their_field() {
        let bad = |change: fn(&mut ConnectorForm)| {
            let mut f = form();
            change(&mut f);
            f.build().unwrap_err().field
        };
        assert_eq!(bad(|f| f.account = "12".into()), "account");
        assert_eq!(bad(|f| f.name = "a b".into()), "name");
        assert_eq!(bad(|f| f.regions = "mars-1".into()), "regions");
        assert_eq!(bad(|f| f.scan_interval = "x".into()), "scan_interval");
        assert_eq!(
            bad(|f| {
                f.plan_cspm = None;
                f.plan_servers = None;
            }),
            "plans"
        );
        assert_eq!(
            bad(|f| f.servers_scope_tags = "aws:x=1".into()),
            "servers_scope_tags"
        );
        assert_eq!(
            bad(|f| f.excluded_accounts = "1".into()),
            "excluded_accounts"
        );
        assert_eq!(
            bad(|f| {
                f.plan_containers = on();
                f.containers_retention = "0".into();
            }),
            "containers_retention"
        );
    }
}
