//! `rampart connector status NAME`: the connector's health — the issuer,
//! each plan's roles and requirements, the last scan and its gaps — each
//! requirement met, not met (with the fix) or unknown (with the reason).
//!
//! Exit 0 when no requirement is "not met" (unknown ones allowed), 1 when
//! one is; 2 for bad usage, 3 when there is no such connector.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rampart_aws::{AwsSettings, CredentialSource};
use rampart_connector::{ClassicAuthentication, Connector, Plan};
use rampart_health::{ConnectorHealth, HealthOptions, State, connector_health, scan_evidence};
use rampart_identity::Issuer;
use rampart_server::health::HealthFn;
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
/// with an external id signed by the default chain or `profile`). The
/// secret key is loaded from `keys_dir` into `secret_key` when first
/// needed. Shared by `connector status` and `scan --connector`.
pub(crate) fn classic_source(
    keys_dir: &Path,
    secret_key: &mut Option<SecretKey>,
    profile: Option<&String>,
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
            let key = match secret_key {
                Some(key) => key,
                None => secret_key.insert(SecretKey::load(keys_dir)?),
            };
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
                profile
                    .cloned()
                    .map_or(CredentialSource::Default, CredentialSource::Profile),
            ),
        }),
    }
}

/// What a health check of `connector` needs: the AWS settings, the issuer
/// in `keys_dir` (or why there is none) and a classic connector's
/// credential source. Shared by `rampart connector status` and `rampart
/// serve`'s health checks.
pub(crate) fn health_options(
    aws: AwsSettings,
    keys_dir: &Path,
    store: &Store,
    connector: &Connector,
) -> Result<HealthOptions, CliError> {
    let issuer = Issuer::open(keys_dir)
        .map(Arc::new)
        .map_err(|e| e.to_string());
    let profile = aws.profile.clone();
    let mut options = HealthOptions::new(aws, issuer);
    if let Some(classic) = &connector.classic {
        options.classic = Some(classic_source(
            keys_dir,
            &mut None,
            profile.as_ref(),
            store,
            connector,
            classic,
        )?);
    }
    Ok(options)
}

/// Runs `rampart connector status`.
pub async fn run(args: &ConnectorStatusArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let (store, connector) = find(args)?;
    let options = match keys_dir(&args.store) {
        Ok(dir) => health_options(aws_settings(&args.aws), &dir, &store, &connector)?,
        // A classic connector's credentials need the keys directory.
        Err(e) if connector.is_classic() => return Err(e),
        Err(e) => HealthOptions::new(aws_settings(&args.aws), Err(e.message)),
    };
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

/// `rampart serve`'s connector health check (`POST
/// /connectors/{name}/health`): the same check as `rampart connector
/// status`, with the server's AWS settings, store and keys directory. It
/// runs on a blocking thread driving its own future, as the server's scans
/// do.
pub(crate) fn server_health_fn(aws: AwsSettings, db: PathBuf, keys_dir: PathBuf) -> HealthFn {
    Arc::new(move |connector: Connector| {
        let (aws, db, keys_dir) = (aws.clone(), db.clone(), keys_dir.clone());
        Box::pin(async move {
            let handle = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                handle.block_on(server_check(aws, &db, &keys_dir, connector))
            })
            .await
            .map_err(|e| format!("health task: {e}"))?
        })
    })
}

async fn server_check(
    aws: AwsSettings,
    db: &Path,
    keys_dir: &Path,
    connector: Connector,
) -> Result<ConnectorHealth, String> {
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let options = health_options(aws, keys_dir, &store, &connector).map_err(|e| e.message)?;
    let evidence = scan_evidence(&store, &connector).map_err(|e| e.to_string())?;
    drop(store);
    Ok(connector_health(&connector, &options, evidence.as_ref()).await)
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
