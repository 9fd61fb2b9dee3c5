//! `rampart issuer`: Rampart's OpenID Connect issuer (init, show, export,
//! rotate, thumbprint). Private keys never reach stdout, stderr or logs.

use std::io::Write;

use rampart_identity::{DISCOVERY_PATH, IdentityError, Issuer};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::{
    IssuerArgs, IssuerCommand, IssuerExportArgs, IssuerInitArgs, IssuerMoveArgs, IssuerRotateArgs,
    IssuerShowArgs, IssuerThumbprintArgs, ListFormat,
};
use crate::commands::{issuer_keys, keys_dir, open_store, store_exists};
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Runs an `issuer` subcommand.
pub fn run(args: &IssuerArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let text = match &args.command {
        IssuerCommand::Init(a) => init(a)?,
        IssuerCommand::MoveToStore(a) => move_to_store(a)?,
        IssuerCommand::Show(a) => show(a)?,
        IssuerCommand::Export(a) => export(a)?,
        IssuerCommand::Rotate(a) => rotate(a)?,
        IssuerCommand::Thumbprint(a) => thumbprint(a)?,
    };
    out.write_all(text.as_bytes()).map_err(CliError::failure)?;
    Ok(Exit::Ok)
}

/// Maps an identity error to an exit code: what the user can fix is usage.
fn cli_error(err: IdentityError) -> CliError {
    match &err {
        IdentityError::AlreadyInitialized(_) => CliError::usage(format!(
            "{err}; pass `--force` to replace it (its keys are deleted and tokens they signed stop validating)"
        )),
        IdentityError::NotInitialized(_) => {
            CliError::usage(format!("{err}; {}", rampart_engine::issuer::CREATE_HINT))
        }
        IdentityError::InvalidIssuerUrl { .. }
        | IdentityError::Changed(_)
        | IdentityError::LoosePermissions { .. }
        | IdentityError::InvalidClaim(_)
        | IdentityError::Thumbprint { .. } => CliError::usage(err),
        _ => CliError::failure(err),
    }
}

fn open(store: &crate::args::StoreArgs) -> Result<Issuer, CliError> {
    issuer_keys(store)?.issuer().map_err(cli_error)
}

fn time_text(at: Option<OffsetDateTime>) -> String {
    at.and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

fn init(args: &IssuerInitArgs) -> Result<String, CliError> {
    let dir = keys_dir(&args.store)?;
    let issuer = if args.in_store {
        let store = open_store(&args.store)?;
        rampart_engine::issuer::create_in_store(&dir, &store, &args.issuer_url, args.force)
    } else {
        // The store's issuer is the one in use: a second one in the keys
        // directory would never sign.
        if store_exists(&args.store)?
            && open_store(&args.store)?
                .issuer_generation()
                .map_err(CliError::failure)?
                .is_some()
        {
            return Err(CliError::usage(
                "the store holds the issuer already; pass `--in-store --force` to replace it there",
            ));
        }
        if args.force {
            Issuer::init_replacing(&dir, &args.issuer_url)
        } else {
            Issuer::init(&dir, &args.issuer_url)
        }
    }
    .map_err(cli_error)?;
    Ok(format!(
        "created issuer `{}` with signing key `{}` in {}\nnext: `rampart issuer export --dir DIR` and serve DIR at {}/ over HTTPS (or run `rampart serve`)\n",
        issuer.url(),
        issuer.signing_kid(),
        issuer.location(),
        issuer.url(),
    ))
}

fn move_to_store(args: &IssuerMoveArgs) -> Result<String, CliError> {
    let dir = keys_dir(&args.store)?;
    let store = open_store(&args.store)?;
    let issuer = rampart_engine::issuer::move_to_store(&dir, &store).map_err(cli_error)?;
    Ok(format!(
        "moved issuer `{}` ({} keys, signing key `{}`) from `{}` into the store; its files there are deleted\nevery `rampart serve` and `rampart worker` on this store uses it; they need the same `{}` in their keys directory to open its keys\n",
        issuer.url(),
        issuer.keys().len(),
        issuer.signing_kid(),
        dir.display(),
        rampart_engine::classic::KEY_FILE,
    ))
}

fn show(args: &IssuerShowArgs) -> Result<String, CliError> {
    let issuer = open(&args.store)?;
    let keys = issuer.keys();
    let discovery_url = format!("{}/{DISCOVERY_PATH}", issuer.url());
    Ok(match args.format {
        ListFormat::Json => {
            let doc = json!({
                "issuer_url": issuer.url(),
                "discovery_url": discovery_url,
                "jwks_uri": issuer.jwks_uri(),
                "keys_dir": issuer.keys_dir(),
                "kept_in": if issuer.keys_dir().is_some() { "keys_dir" } else { "store" },
                "keys": keys,
            });
            serde_json::to_string_pretty(&doc).map_err(CliError::failure)? + "\n"
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|k| {
                    vec![
                        k.kid.clone(),
                        k.bits.to_string(),
                        time_text(Some(k.created_at)),
                        time_text(k.retired_at),
                        time_text(k.published_until),
                        if k.signing { "yes" } else { "no" }.to_owned(),
                    ]
                })
                .collect();
            format!(
                "issuer     {}\ndiscovery  {discovery_url}\njwks       {}\nkept in    {}\n\n{}",
                issuer.url(),
                issuer.jwks_uri(),
                issuer.location(),
                table(
                    &[
                        "KID",
                        "BITS",
                        "CREATED",
                        "RETIRED",
                        "PUBLISHED UNTIL",
                        "SIGNING"
                    ],
                    &rows
                )
            )
        }
    })
}

fn export(args: &IssuerExportArgs) -> Result<String, CliError> {
    let issuer = open(&args.store)?;
    let written = issuer.export(&args.dir).map_err(cli_error)?;
    let mut text = String::new();
    for path in &written {
        text.push_str(&format!("wrote {}\n", path.display()));
    }
    text.push_str(&format!(
        "serve `{}` at {}/ over HTTPS, with `Content-Type: application/json` for both files\n",
        args.dir.display(),
        issuer.url()
    ));
    Ok(text)
}

fn rotate(args: &IssuerRotateArgs) -> Result<String, CliError> {
    let mut issuer = open(&args.store)?;
    let previous = issuer.signing_kid().to_owned();
    let now = OffsetDateTime::now_utc();
    let kid = issuer.rotate(now).map_err(cli_error)?;
    let until = issuer
        .keys()
        .into_iter()
        .find(|k| k.kid == previous)
        .and_then(|k| k.published_until);
    Ok(format!(
        "new signing key `{kid}`; `{previous}` stays in the JWKS until {}\nnext: publish the new JWKS now (`rampart issuer export --dir DIR` and upload it; `rampart serve` serves it already)\n",
        time_text(until)
    ))
}

fn thumbprint(args: &IssuerThumbprintArgs) -> Result<String, CliError> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => open(&args.store)?.url().to_owned(),
    };
    let print = rampart_identity::thumbprint(&url).map_err(cli_error)?;
    Ok(format!("{print}\n"))
}
