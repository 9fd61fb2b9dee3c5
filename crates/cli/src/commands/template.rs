//! `rampart connector template NAME`: the onboarding template a customer
//! deploys so that the connector's roles trust Rampart's issuer.

use std::io::Write;

use rampart_connector::Connector;
use rampart_onboarding::{Access, ConnectorRoles};

use crate::args::{ConnectorTemplateArgs, TemplateAccess, TemplateFormat};
use crate::commands::{issuer_keys, open_store, store_exists};
use crate::exit::CliError;

/// Writes the connector's template to `--output` or `out`.
pub fn run(args: &ConnectorTemplateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let connector = find(args)?;
    // Refuse a member or a bad role before reaching the issuer's host.
    let roles = ConnectorRoles::from_connector(&connector).map_err(CliError::usage)?;
    let issuer = issuer_keys(&args.store)?
        .issuer()
        .map_err(|e| CliError::usage(format!("{e}; {}", rampart_engine::issuer::CREATE_HINT)))?;
    let thumbprints = if args.thumbprint.is_empty() {
        let url = issuer.url();
        vec![rampart_identity::thumbprint(url).map_err(|e| {
            CliError::usage(format!(
                "cannot compute the TLS thumbprint of `{url}` ({e}); pass `--thumbprint HEX` (`rampart issuer thumbprint` on a host that reaches it prints it)"
            ))
        })?]
    } else {
        args.thumbprint.clone()
    };
    let access = match args.access {
        TemplateAccess::Default => Access::Default,
        TemplateAccess::LeastPrivilege => Access::LeastPrivilege,
    };
    let input = roles.input(issuer.url(), thumbprints, access);
    let text = match args.format {
        TemplateFormat::Cloudformation => rampart_onboarding::cloudformation(&input),
        TemplateFormat::Terraform => rampart_onboarding::terraform(&input),
    }
    .map_err(CliError::usage)?;

    let Some(path) = &args.output else {
        return out
            .write_all(text.as_bytes())
            .map_err(|e| CliError::failure(format!("cannot write the template: {e}")));
    };
    std::fs::write(path, &text)
        .map_err(|e| CliError::failure(format!("cannot write `{}`: {e}", path.display())))?;
    let file = path.display();
    let next = match args.format {
        TemplateFormat::Cloudformation if input.organization.is_some() => format!(
            "deploy it in the management account with `aws cloudformation deploy --template-file {file} --stack-name Rampart-{} --capabilities CAPABILITY_NAMED_IAM --parameter-overrides OrganizationalUnitIds=<root id>`",
            connector.name
        ),
        TemplateFormat::Cloudformation => format!(
            "deploy it with `aws cloudformation deploy --template-file {file} --stack-name Rampart-{} --capabilities CAPABILITY_NAMED_IAM`",
            connector.name
        ),
        TemplateFormat::Terraform => {
            "apply it with `terraform init && terraform apply` in its directory".to_owned()
        }
    };
    writeln!(out, "wrote `{file}`; {next}")
        .map_err(|e| CliError::failure(format!("cannot write: {e}")))
}

/// The connector named (or with the id) `args.name`; exit 3 when none.
fn find(args: &ConnectorTemplateArgs) -> Result<Connector, CliError> {
    let none = || CliError::nothing(format!("no connector `{}`", args.name));
    if !store_exists(&args.store)? {
        return Err(none());
    }
    open_store(&args.store)?
        .connector(&args.name)?
        .ok_or_else(none)
}
