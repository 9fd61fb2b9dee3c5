//! `rampart issuer`: Rampart's OpenID Connect issuer (init, show, export,
//! rotate, thumbprint). Private keys never reach stdout, stderr or logs.

use std::io::Write;

use rampart_identity::{DISCOVERY_PATH, IdentityError, Issuer};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::args::{
    IssuerArgs, IssuerCommand, IssuerExportArgs, IssuerInitArgs, IssuerRotateArgs, IssuerShowArgs,
    IssuerThumbprintArgs, ListFormat,
};
use crate::commands::keys_dir;
use crate::exit::{CliError, Exit};
use crate::output::table;

/// Runs an `issuer` subcommand.
pub fn run(args: &IssuerArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let text = match &args.command {
        IssuerCommand::Init(a) => init(a)?,
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
        IdentityError::NotInitialized(_) => CliError::usage(format!(
            "{err}; create it with `rampart issuer init --issuer-url https://HOST/PATH`"
        )),
        IdentityError::InvalidIssuerUrl { .. }
        | IdentityError::LoosePermissions { .. }
        | IdentityError::InvalidClaim(_)
        | IdentityError::Thumbprint { .. } => CliError::usage(err),
        _ => CliError::failure(err),
    }
}

fn open(store: &crate::args::StoreArgs) -> Result<Issuer, CliError> {
    Issuer::open(&keys_dir(store)?).map_err(cli_error)
}

fn time_text(at: Option<OffsetDateTime>) -> String {
    at.and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

fn init(args: &IssuerInitArgs) -> Result<String, CliError> {
    let dir = keys_dir(&args.store)?;
    let issuer = if args.force {
        Issuer::init_replacing(&dir, &args.issuer_url)
    } else {
        Issuer::init(&dir, &args.issuer_url)
    }
    .map_err(cli_error)?;
    Ok(format!(
        "created issuer `{}` with signing key `{}` in `{}`\nnext: `rampart issuer export --dir DIR` and serve DIR at {}/ over HTTPS (or run `rampart serve`)\n",
        issuer.url(),
        issuer.signing_kid(),
        dir.display(),
        issuer.url(),
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
                "issuer     {}\ndiscovery  {discovery_url}\njwks       {}\nkeys dir   {}\n\n{}",
                issuer.url(),
                issuer.jwks_uri(),
                issuer.keys_dir().display(),
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
