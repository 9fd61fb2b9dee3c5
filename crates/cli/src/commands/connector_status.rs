//! `rampart connector status NAME`: the connector's health — the issuer,
//! each plan's roles and requirements, the last scan and its gaps — each
//! requirement met, not met (with the fix) or unknown (with the reason).
//!
//! Exit 0 when no requirement is "not met" (unknown ones allowed), 1 when
//! one is; 2 for bad usage, 3 when there is no such connector.

use std::io::Write;
use std::sync::Arc;

use rampart_aws::CredentialSource;
use rampart_connector::{ClassicAuthentication, Connector, Plan};
use rampart_health::{ConnectorHealth, HealthOptions, State, connector_health, scan_evidence};
use rampart_identity::Issuer;
use rampart_store::Store;

use crate::args::{ConnectorStatusArgs, ListFormat};
use crate::classic::SecretKey;
use crate::commands::scan::aws_settings;
use crate::commands::{keys_dir, open_store, store_path};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// The existing store and the connector; exit 3 when there is none.
fn find(args: &ConnectorStatusArgs) -> Result<(Store, Connector), CliError> {
    let missing = || CliError::nothing(format!("no connector `{}`", args.name));
    if !store_path(&args.store)?.exists() {
        return Err(missing());
    }
    let store = open_store(&args.store)?;
    let connector = store.connector(&args.name)?.ok_or_else(missing)?;
    Ok((store, connector))
}

/// A classic connector's credential source (its stored keys, or its role
/// with an external id signed by the default chain or `--profile`).
fn classic_source(
    args: &ConnectorStatusArgs,
    store: &Store,
    connector: &Connector,
    classic: &ClassicAuthentication,
) -> Result<CredentialSource, CliError> {
    match classic {
        ClassicAuthentication::AwsCreds { access_key_id } => {
            let id = connector.id.to_string();
            let sealed = store.classic_secret(&id)?.ok_or_else(|| {
                CliError::failure(format!(
                    "classic connector `{}` has no stored secret access key; delete and create it again",
                    connector.name
                ))
            })?;
            let key = SecretKey::load(&keys_dir(&args.store)?)?;
            Ok(CredentialSource::StaticKeys {
                access_key_id: access_key_id.clone(),
                secret_access_key: key.open(&id, &sealed)?,
                session_token: None,
            })
        }
        ClassicAuthentication::AwsAssumeRole {
            role_arn,
            external_id,
        } => Ok(CredentialSource::AssumeRole {
            role_arn: role_arn.clone(),
            external_id: external_id.clone(),
            session_name: Plan::session_name(&connector.name),
            base: Box::new(
                args.aws
                    .profile
                    .clone()
                    .map_or(CredentialSource::Default, CredentialSource::Profile),
            ),
        }),
    }
}

/// Runs `rampart connector status`.
pub async fn run(args: &ConnectorStatusArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let (store, connector) = find(args)?;
    let issuer = keys_dir(&args.store).and_then(|dir| {
        Issuer::open(&dir)
            .map(Arc::new)
            .map_err(|e| CliError::usage(e.to_string()))
    });
    let mut options = HealthOptions::new(aws_settings(&args.aws), issuer.map_err(|e| e.message));
    if let Some(classic) = &connector.classic {
        options.classic = Some(classic_source(args, &store, &connector, classic)?);
    }
    let evidence = scan_evidence(&store, &connector)?;
    drop(store);
    let health = connector_health(&connector, &options, evidence.as_ref()).await;
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&health).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => render(&health),
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(if health.healthy() {
        Exit::Ok
    } else {
        Exit::Failure
    })
}

/// The table, then the fixes and the reasons.
fn render(health: &ConnectorHealth) -> String {
    let plan = |p: Option<Plan>| p.map_or_else(|| "-".to_owned(), |p| p.name().to_owned());
    let rows: Vec<Vec<String>> = health
        .checks
        .iter()
        .map(|c| {
            vec![
                plan(c.plan),
                c.requirement.to_owned(),
                c.state.name().replace('_', " "),
                c.detail.clone(),
            ]
        })
        .collect();
    let mut text = format!(
        "connector `{}` (account {})\n\n{}",
        health.connector,
        health.account,
        table(&["PLAN", "REQUIREMENT", "STATE", "DETAIL"], &rows)
    );
    let mut notes = Vec::new();
    for check in &health.checks {
        match &check.state {
            State::NotMet { fix } => notes.push(format!(
                "not met  {} {}: {fix}",
                plan(check.plan),
                check.requirement
            )),
            State::Unknown { why } => notes.push(format!(
                "unknown  {} {}: {why}",
                plan(check.plan),
                check.requirement
            )),
            State::Met => {}
        }
    }
    if !notes.is_empty() {
        text.push('\n');
        for note in notes {
            text.push_str(&note);
            text.push('\n');
        }
    }
    let not_met = health.not_met().count();
    let unknown = health
        .checks
        .iter()
        .filter(|c| matches!(c.state, State::Unknown { .. }))
        .count();
    text.push_str(&format!(
        "\n{} met, {not_met} not met, {unknown} unknown\n",
        health.checks.len().saturating_sub(not_met + unknown)
    ));
    text
}
