//! Commands that go through connectors: `rampart scan --connector` (the
//! engine's [`scan_connector`] with a progress bar and the summary),
//! `rampart connector sync` (an organization's member connectors),
//! `rampart connector token` (web identity tokens) and `rampart connector
//! create --classic` (classic, legacy connectors).

use std::io::{Read, Write};
use std::time::Instant;

use rampart_connector::{ClassicAuthentication, Connector, Plan};
use rampart_engine::agentless::AgentlessScanner;
use rampart_engine::classic::SecretKey;
use rampart_engine::credentials::{Credentials, open_issuer};
use rampart_engine::organization::sync_members;
use rampart_engine::{ConnectorScanOutcome, ConnectorScanRequest, StoredScan, scan_connector};
use rampart_model::CoverageGap;
use rampart_store::Store;
use time::OffsetDateTime;

use crate::args::{
    ConnectorCreateArgs, ConnectorSyncArgs, ConnectorTokenArgs, ListFormat, ScanArgs, StoreArgs,
};
use crate::commands::scan::{
    BarProgress, aws_settings, gate, merged_note, posture_summary, summary,
};
use crate::commands::{issuer_keys, keys_dir, open_store, store_exists, store_path};
use crate::exit::{CliError, Exit};
use crate::posture;

/// The warning `connector create --classic` prints.
pub const CLASSIC_WARNING: &str = "warning: classic connectors are legacy; prefer OIDC federation (rampart issuer init, rampart connector create, rampart connector template)";

/// The environment variable a classic connector's secret access key may
/// come from (instead of standard input).
pub const SECRET_ENV: &str = "RAMPART_CLASSIC_SECRET_ACCESS_KEY";

fn warn(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{text}");
}

/// The existing store and the connector named (or with the id) `name`;
/// exit 3 when there is none.
fn find(args: &StoreArgs, name: &str) -> Result<(Store, Connector), CliError> {
    if !store_exists(args)? {
        return Err(CliError::nothing(format!("no connector `{name}`")));
    }
    let store = open_store(args)?;
    match store.connector(name)? {
        Some(connector) => Ok((store, connector)),
        None => Err(CliError::nothing(format!("no connector `{name}`"))),
    }
}

/// `rampart scan --connector NAME`: [`scan_connector`] with the flags, a
/// progress bar, warnings on stderr and the summary on `out`.
pub async fn run(args: &ScanArgs, name: &str, out: &mut dyn Write) -> Result<Exit, CliError> {
    let started = Instant::now();
    let (mut store, _) = find(&args.store, name)?;
    let mut exemptions = posture::exemptions(args.evaluation.exemptions.as_deref())?;
    posture::add_stored_exemptions(&store, &mut exemptions)?;
    let request = ConnectorScanRequest {
        store: &mut store,
        keys_dir: keys_dir(&args.store)?,
        aws: aws_settings(&args.aws),
        connector: name.to_owned(),
        scan_id: uuid::Uuid::now_v7().to_string(),
        regions: args.regions.clone(),
        services: args.services.clone(),
        accounts: None,
        concurrency: usize::try_from(args.concurrency).unwrap_or(8),
        exemptions: &exemptions,
        provisioners: &rampart_engine::plan_provisioners(),
        machine_scanners: &[std::sync::Arc::new(AgentlessScanner::new(&store_path(
            &args.store,
        )?))],
        sql_assessors: &[std::sync::Arc::new(
            rampart_engine::sql::SqlVulnerabilityAssessor::new(&store_path(&args.store)?),
        )],
    };
    let bar = BarProgress::new(args.no_progress);
    let warn_above_bar = |text: &str| bar.bar.suspend(|| warn(text));
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let scanned = scan_connector(request, &bar, &warn_above_bar, interrupt).await;
    bar.bar.finish_and_clear();
    let ConnectorScanOutcome {
        connector,
        scan:
            StoredScan {
                snapshot,
                posture,
                catalog,
                coverage,
                kept,
                other_accounts,
            },
        calls,
    } = scanned?;

    let mut text = format!(
        "Scanned through connector `{}` ({} account{})\n",
        connector.name,
        snapshot.scan.accounts.len(),
        if snapshot.scan.accounts.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    text.push_str(&summary(&snapshot, &calls, started.elapsed()));
    text.push_str(&merged_note(coverage.as_ref(), kept, &other_accounts));
    if snapshot.scan.accounts.len() > 1 {
        text.push_str("\nAccounts\n");
        let rows: Vec<Vec<String>> = snapshot
            .scan
            .accounts
            .iter()
            .map(|account| {
                let assets = snapshot
                    .assets
                    .iter()
                    .filter(|a| &a.account == account)
                    .count();
                let gaps: Vec<&CoverageGap> = snapshot
                    .gaps
                    .iter()
                    .filter(|g| &g.account == account)
                    .collect();
                let reached = !gaps.iter().any(|g| {
                    g.service == "sts"
                        && (g.operation.starts_with("AssumeRole")
                            || g.operation == "GetCallerIdentity")
                });
                vec![
                    account.clone(),
                    assets.to_string(),
                    gaps.len().to_string(),
                    if reached {
                        "scanned"
                    } else {
                        "not reached (see gaps)"
                    }
                    .to_owned(),
                ]
            })
            .collect();
        text.push_str(&crate::output::table(
            &["ACCOUNT", "ASSETS", "GAPS", "STATUS"],
            &rows,
        ));
    }
    text.push_str(&posture_summary(&catalog, &posture));
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    gate(&snapshot, &catalog, &posture, args.evaluation.fail_on)
}

/// `rampart connector sync NAME`.
pub async fn sync(args: &ConnectorSyncArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (store, connector) = find(&args.store, &args.name)?;
    if !connector.is_organization() {
        return Err(CliError::usage(format!(
            "connector `{}` is not an organization's (create it with `--organization`)",
            connector.name
        )));
    }
    let base = aws_settings(&args.aws);
    let keys = keys_dir(&args.store)?;
    let mut creds = Credentials::new(&keys, &store, &base);
    let target = creds.target(&connector)?;
    let access = target.access(&base).await.map_err(CliError::usage)?;
    let report = sync_members(&store, &connector, &access)
        .await
        .map_err(|e| CliError::failure(format!("cannot list the organization's accounts: {e}")))?;
    let mut text = String::new();
    for (verb, names) in [
        ("created", &report.created),
        ("updated", &report.updated),
        ("removed", &report.removed),
        ("unchanged", &report.unchanged),
    ] {
        for name in names {
            text.push_str(&format!("{verb} member connector `{name}`\n"));
        }
    }
    text.push_str(&format!(
        "{} for organization `{}`\n",
        crate::output::plural(
            store.members_of(connector.account())?.len() as u64,
            "member connector",
            "member connectors"
        ),
        connector.name
    ));
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    for problem in &report.problems {
        warn(&format!("warning: {problem}"));
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "{} member account(s) could not be synced (see the warnings above)",
            report.problems.len()
        )))
    }
}

/// `rampart connector token NAME --plan PLAN`: a fresh token on stdout.
pub fn token(args: &ConnectorTokenArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let plan: Plan = args.plan.trim().parse().map_err(CliError::usage)?;
    let (_, connector) = find(&args.store, &args.name)?;
    if connector.is_classic() {
        return Err(CliError::usage(format!(
            "connector `{}` is classic: it uses stored keys or a role with an external id, not tokens",
            connector.name
        )));
    }
    let Some(role_arn) = connector.role_arn(plan) else {
        return Err(CliError::usage(format!(
            "connector `{}` does not enable the `{plan}` plan",
            connector.name
        )));
    };
    let issuer = open_issuer(&issuer_keys(&args.store)?)?;
    let minted = issuer
        .mint(
            &connector.id.to_string(),
            plan.audience(),
            OffsetDateTime::now_utc(),
        )
        .map_err(CliError::failure)?;
    out.write_all(format!("{}\n", minted.token).as_bytes())
        .map_err(CliError::failure)?;
    warn(&format!(
        "token for connector `{}` (sub {}), audience `{}`, expires {}; try it with:\n  aws sts assume-role-with-web-identity --role-arn {role_arn} --role-session-name {} --web-identity-token \"$TOKEN\"",
        connector.name,
        connector.id,
        plan.audience(),
        minted
            .expires_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        Plan::session_name(&connector.name)
    ));
    Ok(())
}

/// `rampart connector create --classic …`.
pub fn create_classic(args: &ConnectorCreateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    if args.organization || args.stackset_name.is_some() || args.exclude_accounts.is_some() {
        return Err(CliError::usage(
            "a classic connector is for one account: it takes no `--organization`",
        ));
    }
    let role = match args.role_arns.as_slice() {
        [] => None,
        [arn] if !arn.contains('=') => Some(arn.trim().to_owned()),
        _ => {
            return Err(CliError::usage(
                "with `--classic`, give one `--role-arn ARN` (the role to assume with `--external-id`)",
            ));
        }
    };
    let classic = match (&args.access_key_id, role) {
        (Some(key), None) => {
            if args.external_id.is_some() {
                return Err(CliError::usage(
                    "`--external-id` goes with `--role-arn`, not `--access-key-id`",
                ));
            }
            ClassicAuthentication::AwsCreds {
                access_key_id: key.trim().to_owned(),
            }
        }
        (None, Some(role_arn)) => ClassicAuthentication::AwsAssumeRole {
            role_arn,
            external_id: args.external_id.clone(),
        },
        _ => {
            return Err(CliError::usage(
                "a classic connector needs either `--access-key-id KEY --secret-access-key-stdin` or `--role-arn ARN [--external-id ID]`",
            ));
        }
    };
    let plans = args
        .plans
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<Plan>().map_err(CliError::usage))
        .collect::<Result<Vec<_>, _>>()?;
    if plans != [Plan::Cspm] {
        return Err(CliError::usage(
            "a classic connector supports the cspm plan only",
        ));
    }
    let regions: Vec<String> = args
        .regions
        .iter()
        .flatten()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let interval = args.scan_interval.trim().parse::<u32>().map_err(|_| {
        CliError::usage(format!(
            "scan interval `{}` is not 1 to 24 hours",
            args.scan_interval
        ))
    })?;
    let mut connector = Connector::new(&args.name, &args.account, &plans, regions, interval, None);
    connector.classic = Some(classic.clone());
    connector.validate().map_err(CliError::usage)?;

    let secret = match &classic {
        ClassicAuthentication::AwsCreds { .. } => Some(read_secret(args.secret_access_key_stdin)?),
        ClassicAuthentication::AwsAssumeRole { .. } => None,
    };
    let store = open_store(&args.store)?;
    let sealed = match &secret {
        Some(secret) => {
            let key = SecretKey::load_or_create(&keys_dir(&args.store)?)?;
            Some(key.seal(&connector.id.to_string(), secret)?)
        }
        None => None,
    };
    store.create_connector(&connector).map_err(|e| match e {
        rampart_store::StoreError::ConnectorExists(_) => CliError::usage(e),
        other => other.into(),
    })?;
    if let Some(sealed) = &sealed
        && let Err(err) = store.put_classic_secret(&connector.id.to_string(), sealed)
    {
        let _ = store.delete_connector(&connector.id.to_string());
        return Err(err.into());
    }
    warn(CLASSIC_WARNING);
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&connector).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let how = match &classic {
                ClassicAuthentication::AwsCreds { access_key_id } => format!(
                    "access keys {access_key_id} (secret stored encrypted, key in the keys directory)"
                ),
                ClassicAuthentication::AwsAssumeRole {
                    role_arn,
                    external_id,
                } => format!(
                    "role {role_arn}{}",
                    external_id
                        .as_ref()
                        .map(|id| format!(" with external id {id}"))
                        .unwrap_or_default()
                ),
            };
            format!(
                "created classic connector `{}` for account {} (id {}): {how}\n",
                connector.name,
                connector.account(),
                connector.id
            )
        }
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)
}

/// How a connector authenticates, one line for `connector show` (never a
/// secret).
pub fn authentication(connector: &Connector) -> String {
    match &connector.classic {
        None => "OIDC federation (web identity token per plan)".to_owned(),
        Some(ClassicAuthentication::AwsCreds { access_key_id }) => {
            format!("classic (legacy): access key {access_key_id}, secret stored encrypted")
        }
        Some(ClassicAuthentication::AwsAssumeRole {
            role_arn,
            external_id,
        }) => format!(
            "classic (legacy): role {role_arn}{}",
            external_id
                .as_ref()
                .map(|id| format!(" with external id {id}"))
                .unwrap_or_default()
        ),
    }
}

/// The secret access key: standard input with `--secret-access-key-stdin`,
/// else the environment.
fn read_secret(from_stdin: bool) -> Result<String, CliError> {
    let secret = if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            CliError::usage(format!(
                "cannot read the secret access key from standard input: {e}"
            ))
        })?;
        text
    } else {
        std::env::var(SECRET_ENV).map_err(|_| {
            CliError::usage(format!(
                "give the secret access key on standard input with `--secret-access-key-stdin`, or in {SECRET_ENV}; it is never taken on the command line"
            ))
        })?
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        return Err(CliError::usage("the secret access key is empty"));
    }
    Ok(secret)
}
