//! The Servers plan's SSM provisioning (`arcAutoProvisioning`): for the
//! EC2 instances in the plan's scope, an instance profile where they have
//! none, the SSM core policy on their own profile's role when the offering
//! allows it, and State Manager associations gathering software inventory
//! and scanning patches ([`rampart_aws::pipeline::servers`]).
//!
//! [`provision_connector`] runs it as the offering's `arcAutoProvisioning`
//! role for `rampart servers provision` and the server;
//! [`ServersProvisioner`] runs it with the connector's scan when
//! auto-provisioning is on, and turns what failed into coverage gaps.
//!
//! The plan's settings are also an asset of the scanned account
//! ([`types::SERVERS_PLAN`], [`plan_settings_asset`]), so the catalog —
//! which sees only assets — can assess them (recommendation
//! `servers-auto-provisioning-enabled`). Written by the connector scan from
//! the connector, not read from AWS.

use futures::future::BoxFuture;
use rampart_aws::AwsSettings;
use rampart_aws::pipeline::PipelineError;
use rampart_aws::pipeline::servers::{
    self, ApplyOptions, ApplyReport, Clients, GLOBAL, Outcome, Plan as ProvisioningPlan,
};
use rampart_connector::{Connector, Offering, Plan, ServersOffering};
use rampart_health::servers_input;
use rampart_model::{Asset, CoverageGap, GapKind, setting_id, types};
use serde::Serialize;
use serde_json::json;

use crate::EngineError;
use crate::Keys;
pub use crate::provisioning::ProvisionMode;
use crate::provisioning::{ProvisionTarget, Provisioner, not_provisioned, role_access};

/// What provisioning did for one connector's account.
#[derive(Debug, Clone, Serialize)]
pub struct ProvisionReport {
    /// The connector's name.
    pub connector: String,
    /// Its account.
    pub account: String,
    /// What was asked.
    pub mode: ProvisionMode,
    /// The regions covered.
    pub regions: Vec<String>,
    /// The plan (dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<ProvisioningPlan>,
    /// What applying or removing did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ApplyReport>,
    /// Why nothing could be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<PipelineError>,
}

impl ProvisionReport {
    /// Whether every step succeeded (or had nothing to do) and every read
    /// worked.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
            && self.report.as_ref().is_none_or(ApplyReport::succeeded)
            && self
                .plan
                .as_ref()
                .is_none_or(|p| p.steps.iter().all(|s| s.error.is_none()))
    }

    /// What failed, as coverage gaps of the account (for scans): one per
    /// failed step, in the step's region (the home region for IAM steps).
    pub fn gaps(&self) -> Vec<CoverageGap> {
        let home = self
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "us-east-1".to_owned());
        let gap = |region: &str, error: &PipelineError, what: &str| {
            let (service, operation, kind) = match error {
                PipelineError::Call {
                    operation, kind, ..
                } => (service_of(operation), operation.clone(), *kind),
                PipelineError::PolicyAttachNotAllowed { .. } => {
                    ("iam", "AttachRolePolicy".to_owned(), GapKind::AccessDenied)
                }
                _ => ("ssm", "ProvisionSsm".to_owned(), GapKind::Other),
            };
            CoverageGap {
                account: self.account.clone(),
                region: if region == GLOBAL {
                    home.clone()
                } else {
                    region.to_owned()
                },
                service: service.to_owned(),
                operation,
                kind,
                error: format!("servers ssm provisioning: {what}{error}"),
                occurrences: 1,
            }
        };
        let mut gaps = Vec::new();
        if let Some(error) = &self.error {
            gaps.push(gap(GLOBAL, error, ""));
        }
        for failed in self.report.iter().flat_map(ApplyReport::failures) {
            if let Outcome::Failed { error } = &failed.outcome {
                let what = format!("{} `{}`: ", failed.step.resource, failed.step.name);
                gaps.push(gap(&failed.step.region, error, &what));
            }
        }
        gaps
    }
}

/// The service of an operation provisioning calls.
fn service_of(operation: &str) -> &'static str {
    servers::OPERATIONS
        .iter()
        .find(|op| op.name == operation)
        .map_or("ssm", |op| op.service)
}

/// The connector's Servers offering, if it has one.
pub fn servers_offering(connector: &Connector) -> Option<&ServersOffering> {
    match connector.offering(Plan::Servers) {
        Some(Offering::DefenderForServersAws(o)) => Some(o),
        _ => None,
    }
}

/// Provisions (or plans, or removes) SSM coverage of the instances in
/// scope of `connector`'s account in `regions`, as the offering's
/// `arcAutoProvisioning` role. Fails only when the connector has no
/// Servers plan or the role cannot be reached; what fails per step is in
/// the report.
pub async fn provision_connector(
    connector: &Connector,
    base: &AwsSettings,
    keys_dir: &Keys,
    regions: &[String],
    mode: ProvisionMode,
    options: ApplyOptions,
) -> Result<ProvisionReport, EngineError> {
    let offering = servers_offering(connector)
        .ok_or_else(|| EngineError::NoServers(connector.name.clone()))?;
    let access = role_access(
        connector,
        Plan::Servers,
        &offering.arc_auto_provisioning.cloud_role_arn,
        keys_dir,
        base,
    )
    .await?;
    let clients = Clients::new(&access);
    let input = servers_input(connector, offering, regions);
    let mut report = ProvisionReport {
        connector: connector.name.clone(),
        account: input.account.clone(),
        mode,
        regions: regions.to_vec(),
        plan: None,
        report: None,
        error: None,
    };
    match mode {
        ProvisionMode::DryRun => match servers::plan(&clients, &input).await {
            Ok(plan) => report.plan = Some(plan),
            Err(e) => report.error = Some(e),
        },
        ProvisionMode::Apply => match servers::apply(&clients, &input, options).await {
            Ok(r) => report.report = Some(r),
            Err(e) => report.error = Some(e),
        },
        ProvisionMode::Remove => match servers::remove(&clients, &input).await {
            Ok(r) => report.report = Some(r),
            Err(e) => report.error = Some(e),
        },
    }
    Ok(report)
}

/// `rampart servers provision`: [`provision_connector`] for the stored
/// connector `name` in `regions` (else the connector's, else the home
/// region).
pub async fn provision(
    engine: &crate::Engine,
    name: &str,
    regions: Option<&[String]>,
    mode: ProvisionMode,
) -> Result<ProvisionReport, EngineError> {
    let (connector, regions) = crate::provisioning::stored_target(engine, name, regions).await?;
    provision_connector(
        &connector,
        &engine.aws,
        &engine.keys_dir,
        &regions,
        mode,
        ApplyOptions::default(),
    )
    .await
}

/// The scan's Servers step: provisions SSM on the instances in scope when
/// the offering's `arcAutoProvisioning` is on; failures are gaps.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServersProvisioner {
    /// How long to wait for a new instance profile.
    pub options: Option<ApplyOptions>,
}

impl Provisioner for ServersProvisioner {
    fn plan(&self) -> Plan {
        Plan::Servers
    }

    fn provision<'a>(&'a self, target: ProvisionTarget<'a>) -> BoxFuture<'a, Vec<CoverageGap>> {
        Box::pin(async move {
            let connector = target.connector;
            let Some(offering) = servers_offering(connector) else {
                return Vec::new();
            };
            if !offering.arc_auto_provisioning.enabled || connector.is_classic() {
                return Vec::new();
            }
            let result = provision_connector(
                connector,
                target.aws,
                target.keys_dir,
                target.regions,
                ProvisionMode::Apply,
                self.options.unwrap_or_default(),
            )
            .await;
            match result {
                Ok(report) => {
                    tracing::info!(
                        connector = %connector.name,
                        succeeded = report.succeeded(),
                        "servers ssm provisioning done"
                    );
                    report.gaps()
                }
                Err(err) => vec![not_provisioned(
                    &target,
                    "servers ssm provisioning not done",
                    &err,
                )],
            }
        })
    }
}

/// The plan-settings asset of the account `connector` reaches, in
/// `home_region` (the region the scan reads global services from).
pub fn plan_settings_asset(connector: &Connector, home_region: &str) -> Asset {
    let account = connector.account();
    let servers = match connector.offering(Plan::Servers) {
        Some(Offering::DefenderForServersAws(servers)) => Some(servers),
        _ => None,
    };
    Asset::new(
        setting_id("servers", home_region, account, "plan-settings"),
        types::SERVERS_PLAN,
        account,
        home_region,
        "Servers plan",
        json!({
            "connector": connector.name,
            "serversPlanEnabled": servers.is_some(),
            "autoProvisioning": servers.map(|s| s.arc_auto_provisioning.enabled),
            "autoProvisioningRoleArn": servers.map(|s| s.arc_auto_provisioning.cloud_role_arn.clone()),
            "scopeByTags": servers.map(|s| json!(s.scope_by_tags)),
            "agentlessScanning": servers.map(|s| s.vm_scanners.as_ref().is_some_and(|v| v.enabled)),
        }),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use rampart_aws::pipeline::servers::{Action, Resource, Step, StepReport};

    use super::*;

    fn step(resource: Resource, region: &str, name: &str) -> Step {
        Step {
            resource,
            region: region.into(),
            name: name.into(),
            action: Action::Create,
            reason: "r".into(),
            error: None,
        }
    }

    #[test]
    fn failed_steps_become_gaps_in_their_region() {
        let report = ProvisionReport {
            connector: "prod".into(),
            account: "111122223333".into(),
            mode: ProvisionMode::Apply,
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            plan: None,
            report: Some(ApplyReport {
                account: "111122223333".into(),
                steps: vec![
                    StepReport {
                        step: step(
                            Resource::InstanceProfile,
                            GLOBAL,
                            "RampartSsmInstanceProfile",
                        ),
                        outcome: Outcome::Failed {
                            error: PipelineError::Call {
                                operation: "CreateInstanceProfile".into(),
                                kind: GapKind::AccessDenied,
                                code: Some("AccessDenied".into()),
                                message: "denied".into(),
                            },
                        },
                    },
                    StepReport {
                        step: step(Resource::ExistingRolePolicy, "us-east-1", "i-1"),
                        outcome: Outcome::Failed {
                            error: PipelineError::PolicyAttachNotAllowed {
                                instance: "i-1".into(),
                                profile: "app".into(),
                            },
                        },
                    },
                    StepReport {
                        step: step(Resource::InstanceTags, "us-east-1", "i-2"),
                        outcome: Outcome::Done,
                    },
                ],
            }),
            error: None,
        };
        assert!(!report.succeeded());
        let gaps = report.gaps();
        assert_eq!(gaps.len(), 2, "{gaps:?}");
        assert_eq!(
            (
                gaps[0].region.as_str(),
                gaps[0].service.as_str(),
                gaps[0].operation.as_str()
            ),
            ("eu-west-1", "iam", "CreateInstanceProfile")
        );
        assert_eq!(gaps[1].region, "us-east-1");
        assert!(
            gaps[1].error.contains("policy attach not allowed"),
            "{}",
            gaps[1].error
        );
    }

    fn connector(plans: &[Plan]) -> Connector {
        Connector::new("prod", "123456789012", plans, vec![], 12, None)
    }

    #[test]
    fn servers_settings_or_plan_off() {
        let mut c = connector(&[Plan::Cspm, Plan::Servers]);
        let asset = plan_settings_asset(&c, "us-east-1");
        assert_eq!(asset.resource_type, types::SERVERS_PLAN);
        assert_eq!(
            asset.arn,
            "arn:rampart:servers:us-east-1:123456789012:plan-settings"
        );
        assert_eq!(asset.properties["serversPlanEnabled"], true);
        assert_eq!(asset.properties["autoProvisioning"], true);
        if let Some(Offering::DefenderForServersAws(s)) = c.offering_mut(Plan::Servers) {
            s.arc_auto_provisioning.enabled = false;
        }
        let asset = plan_settings_asset(&c, "us-east-1");
        assert_eq!(asset.properties["autoProvisioning"], false);

        let asset = plan_settings_asset(&connector(&[Plan::Cspm]), "us-east-1");
        assert_eq!(asset.properties["serversPlanEnabled"], false);
        assert_eq!(
            asset.properties["autoProvisioning"],
            serde_json::Value::Null
        );
    }
}
