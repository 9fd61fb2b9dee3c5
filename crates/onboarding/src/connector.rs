//! A stored connector as a template's input: the one conversion the CLI
//! (`rampart connector template`) and the server's template download share.

use rampart_connector::{Connector, OrganizationalData, RoleArn};

use crate::{Access, OrganizationInput, PlanInput, TemplateError, TemplateInput};

/// What a template takes from a connector: its account, name, plans with
/// their role names, and organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorRoles {
    /// The connector's account.
    pub account_id: String,
    /// The connector's name.
    pub connector_name: String,
    /// The enabled plans, each with the role names of its role ARNs.
    pub plans: Vec<PlanInput>,
    /// Present for an Organization's management account.
    pub organization: Option<OrganizationInput>,
}

impl ConnectorRoles {
    /// Reads the connector's plans and role names. Refuses an
    /// organization's member (its roles come from the management account's
    /// StackSet), a role ARN that does not parse, and a role with a path
    /// other than `/` (templates create roles at `/`).
    pub fn from_connector(connector: &Connector) -> Result<Self, TemplateError> {
        if let Some(parent) = connector.parent() {
            return Err(TemplateError::MemberConnector {
                connector: connector.name.clone(),
                parent: parent.to_owned(),
            });
        }
        let mut plans = Vec::new();
        for offering in &connector.offerings {
            let mut role_names = Vec::new();
            for (field, arn) in offering.role_arns() {
                let role = RoleArn::parse(arn).ok_or_else(|| TemplateError::RoleArn {
                    connector: connector.name.clone(),
                    field,
                    arn: arn.to_owned(),
                })?;
                if role.path != "/" {
                    return Err(TemplateError::RolePath {
                        connector: connector.name.clone(),
                        arn: arn.to_owned(),
                        path: role.path.to_owned(),
                    });
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
        Ok(Self {
            account_id: connector.account().to_owned(),
            connector_name: connector.name.clone(),
            plans,
            organization,
        })
    }

    /// The template input for this issuer, thumbprints and access mode.
    pub fn input(
        self,
        issuer_url: &str,
        thumbprints: Vec<String>,
        access: Access,
    ) -> TemplateInput {
        TemplateInput {
            account_id: self.account_id,
            connector_name: self.connector_name,
            issuer_url: issuer_url.to_owned(),
            thumbprints,
            plans: self.plans,
            access,
            organization: self.organization,
        }
    }
}

/// The template input of a stored connector ([`ConnectorRoles`] with the
/// issuer's URL, its host's thumbprints and the access mode).
pub fn connector_input(
    connector: &Connector,
    issuer_url: &str,
    thumbprints: Vec<String>,
    access: Access,
) -> Result<TemplateInput, TemplateError> {
    Ok(ConnectorRoles::from_connector(connector)?.input(issuer_url, thumbprints, access))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use rampart_connector::{Connector, Plan};

    use super::*;

    #[test]
    fn a_connector_gives_its_plans_role_names_and_account() {
        let connector = Connector::new("prod", "123456789012", &[Plan::Cspm], vec![], 12, None);
        let input = connector_input(
            &connector,
            "https://rampart.example.com",
            vec!["ab".repeat(20)],
            Access::LeastPrivilege,
        )
        .unwrap();
        assert_eq!(input.account_id, "123456789012");
        assert_eq!(input.connector_name, "prod");
        assert_eq!(input.access, Access::LeastPrivilege);
        assert_eq!(input.plans.len(), 1);
        assert_eq!(input.plans[0].plan, Plan::Cspm);
        let expected: Vec<String> = connector
            .role_arn(Plan::Cspm)
            .and_then(RoleArn::parse)
            .map(|r| vec![r.name.to_owned()])
            .unwrap();
        assert_eq!(input.plans[0].role_names, expected);
        assert!(input.organization.is_none());
    }

    #[test]
    fn bad_role_arns_and_paths_are_refused() {
        let mut connector = Connector::new("prod", "123456789012", &[Plan::Cspm], vec![], 12, None);
        let json = connector.to_json();
        let arn = connector.role_arn(Plan::Cspm).unwrap().to_owned();
        let with_path = arn.replace(":role/", ":role/team/");
        connector = Connector::from_json(&json.replace(&arn, &with_path)).unwrap();
        let err = ConnectorRoles::from_connector(&connector).unwrap_err();
        assert!(
            matches!(err, TemplateError::RolePath { ref path, .. } if path == "/team/"),
            "{err}"
        );
        connector = Connector::from_json(&json.replace(&arn, "not-an-arn")).unwrap();
        let err = ConnectorRoles::from_connector(&connector).unwrap_err();
        assert!(matches!(err, TemplateError::RoleArn { .. }), "{err}");
    }
}
