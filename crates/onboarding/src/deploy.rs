//! How to deploy a generated template: the exact AWS CLI commands and the
//! console page, for one account, an organization (the management account's
//! stack holds the StackSet) or Terraform. The dashboard's deploy step shows
//! them; they match `docs/connecting-aws.md`.

/// How a template is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployKind<'a> {
    /// A CloudFormation stack in one account.
    Account,
    /// A CloudFormation stack in an Organization's management account; its
    /// StackSet (named here) deploys the member template.
    Organization {
        /// The StackSet's name.
        stackset_name: &'a str,
    },
    /// A Terraform configuration for one account.
    Terraform,
}

/// The stack name the commands use: `Rampart-<connector name>`.
pub fn stack_name(connector_name: &str) -> String {
    format!("Rampart-{connector_name}")
}

/// The shell commands that deploy `file` (the downloaded template) for the
/// connector `connector_name`, in `region` (IAM is global; the stack lives
/// in one region), one command per item.
pub fn deploy_commands(
    kind: DeployKind<'_>,
    connector_name: &str,
    file: &str,
    region: &str,
) -> Vec<String> {
    let stack = stack_name(connector_name);
    match kind {
        DeployKind::Account => vec![
            format!(
                "aws cloudformation deploy --template-file {file} --stack-name {stack} --capabilities CAPABILITY_NAMED_IAM --region {region}"
            ),
            format!(
                "aws cloudformation describe-stacks --stack-name {stack} --region {region} --query 'Stacks[0].Outputs'"
            ),
        ],
        DeployKind::Organization { stackset_name } => vec![
            "aws organizations enable-aws-service-access --service-principal member.org.stacksets.cloudformation.amazonaws.com".to_owned(),
            format!(
                "aws cloudformation deploy --template-file {file} --stack-name {stack} --capabilities CAPABILITY_NAMED_IAM --region {region} --parameter-overrides OrganizationalUnitIds=r-abcd"
            ),
            format!(
                "aws cloudformation list-stack-instances --stack-set-name {stackset_name} --region {region}"
            ),
        ],
        DeployKind::Terraform => vec![
            format!("mkdir rampart-{connector_name} && mv {file} rampart-{connector_name}/main.tf"),
            format!("cd rampart-{connector_name} && terraform init && terraform apply"),
        ],
    }
}

/// The AWS console page that creates a stack (or, for an organization,
/// the management account's stack) from an uploaded template, in the
/// partition's console.
pub fn console_url(partition: &str, region: &str) -> String {
    let host = match partition {
        "aws-us-gov" => "console.amazonaws-us-gov.com",
        "aws-cn" => "console.amazonaws.cn",
        _ => "console.aws.amazon.com",
    };
    format!("https://{host}/cloudformation/home?region={region}#/stacks/create/template")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_commands_deploy_the_file_with_named_iam() {
        let commands = deploy_commands(
            DeployKind::Account,
            "prod",
            "rampart-prod.json",
            "eu-west-1",
        );
        assert_eq!(
            commands[0],
            "aws cloudformation deploy --template-file rampart-prod.json --stack-name Rampart-prod --capabilities CAPABILITY_NAMED_IAM --region eu-west-1"
        );
    }

    #[test]
    fn organization_commands_enable_trusted_access_and_list_the_stackset() {
        let commands = deploy_commands(
            DeployKind::Organization {
                stackset_name: "Rampart",
            },
            "org",
            "rampart-org.json",
            "us-east-1",
        );
        assert!(commands[0].contains("enable-aws-service-access"));
        assert!(commands[1].contains("--parameter-overrides OrganizationalUnitIds="));
        assert!(commands[1].contains("CAPABILITY_NAMED_IAM"));
        assert!(commands[2].contains("--stack-set-name Rampart"));
    }

    #[test]
    fn terraform_and_console_links() {
        let commands = deploy_commands(
            DeployKind::Terraform,
            "prod",
            "rampart-prod.tf",
            "us-east-1",
        );
        assert!(commands[1].ends_with("terraform init && terraform apply"));
        assert_eq!(
            console_url("aws", "us-east-1"),
            "https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/create/template"
        );
        assert!(
            console_url("aws-us-gov", "us-gov-west-1")
                .starts_with("https://console.amazonaws-us-gov.com/")
        );
        assert!(console_url("aws-cn", "cn-north-1").starts_with("https://console.amazonaws.cn/"));
    }
}
