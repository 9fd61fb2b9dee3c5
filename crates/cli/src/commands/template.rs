//! `rampart connector template NAME`: the onboarding template a customer
//! deploys so that the connector's roles trust Rampart's issuer.

use std::io::Write;

use rampart_connector::{Connector, OrganizationalData, RoleArn};
use rampart_onboarding::{Access, OrganizationInput, PlanInput, TemplateInput};

use crate::args::{ConnectorTemplateArgs, TemplateAccess, TemplateFormat};
use crate::commands::{keys_dir, open_store, store_path};
use crate::exit::CliError;

/// Writes the connector's template to `--output` or `out`.
pub fn run(args: &ConnectorTemplateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let connector = find(args)?;
    if let Some(parent) = connector.parent() {
        return Err(CliError::usage(format!(
            "connector `{}` is a member of the organization managed by account `{parent}`; its roles come from the management account's StackSet: run `rampart connector template` for that connector",
            connector.name
        )));
    }
    let keys = keys_dir(&args.store)?;
    let issuer = rampart_identity::Issuer::open(&keys).map_err(|e| {
        CliError::usage(format!(
            "no issuer in `{}` ({e}); create it with `rampart issuer init --url https://...`",
            keys.display()
        ))
    })?;
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
    let input = template_input(&connector, issuer.url(), thumbprints, args.access)?;
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
    if !store_path(&args.store)?.exists() {
        return Err(none());
    }
    open_store(&args.store)?
        .connector(&args.name)?
        .ok_or_else(none)
}

/// The generator's input from a stored connector: its account, plans and
/// role names, and organization.
fn template_input(
    connector: &Connector,
    issuer_url: &str,
    thumbprints: Vec<String>,
    access: TemplateAccess,
) -> Result<TemplateInput, CliError> {
    let mut plans = Vec::new();
    for offering in &connector.offerings {
        let mut role_names = Vec::new();
        for (field, arn) in offering.role_arns() {
            let role = RoleArn::parse(arn).ok_or_else(|| {
                CliError::usage(format!(
                    "connector `{}`: `{field}` is not a role ARN: `{arn}`",
                    connector.name
                ))
            })?;
            if role.path != "/" {
                return Err(CliError::usage(format!(
                    "connector `{}`: role `{arn}` has the path `{}`; templates create roles at `/`: change it with `rampart connector update`",
                    connector.name, role.path
                )));
            }
            role_names.push(role.name.to_owned());
        }
        plans.push(PlanInput {
            plan: offering.plan(),
            role_names,
        });
    }
    let organization = match &connector.environment_data.organizational_data {
        Some(OrganizationalData::Organization {
            stackset_name,
            excluded_account_ids,
        }) => Some(OrganizationInput {
            stackset_name: stackset_name.clone(),
            excluded_account_ids: excluded_account_ids.clone(),
        }),
        _ => None,
    };
    Ok(TemplateInput {
        account_id: connector.account().to_owned(),
        connector_name: connector.name.clone(),
        issuer_url: issuer_url.to_owned(),
        thumbprints,
        plans,
        access: match access {
            TemplateAccess::Default => Access::Default,
            TemplateAccess::LeastPrivilege => Access::LeastPrivilege,
        },
        organization,
    })
}
