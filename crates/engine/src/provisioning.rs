//! Where a plan's provisioning hooks into a connector's scan.
//!
//! Some plans need Rampart to set things up in the account before their
//! data can be read: the Servers plan (snapshot-based agentless scanning)
//! and the Containers plan (registry and cluster access) will provision per
//! account. A [`Provisioner`] is one plan's step; [`scan_connector`] runs
//! every provisioner whose plan the connector enables, in every account the
//! scan reaches (the management account and each member), before the
//! account is collected. What a step could not do is a coverage gap of the
//! scan, never a failed scan.
//!
//! The Containers plan's step is [`crate::containers::ContainersProvisioner`]
//! (the EKS audit-log pipelines), the Servers plan's
//! [`crate::servers::ServersProvisioner`] (SSM on the instances in scope)
//! and [`crate::cloudtrail::CloudTrailProvisioner`], the SQL plan's
//! [`crate::sql_logs::SqlLogProvisioner`] (SQL Server log pipelines); the
//! CLI and the server pass all of them ([`plan_provisioners`]).
//!
//! [`scan_connector`]: crate::connector_scan::scan_connector

use std::path::Path;
use std::sync::Arc;

use futures::future::BoxFuture;
use rampart_aws::{AwsAccess, AwsSettings};
use rampart_connector::{Connector, Plan};
use rampart_health::role_credentials;
use rampart_model::{CoverageGap, GapKind};
use rampart_store::Store;
use serde::Serialize;

use crate::EngineError;
use crate::Keys;
use crate::credentials::open_issuer;

/// What `rampart containers provision` and `rampart servers provision` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionMode {
    /// Create or repair what the plan needs.
    Apply,
    /// Only say what applying would do.
    DryRun,
    /// Undo what provisioning did.
    Remove,
}

/// One account to provision, as a scan reached it.
#[derive(Debug, Clone, Copy)]
pub struct ProvisionTarget<'a> {
    /// The connector of the account (an organization's member connector
    /// for a member account).
    pub connector: &'a Connector,
    /// The AWS settings the scan started from; the step reaches the
    /// account with its own plan's role (see
    /// [`rampart_health::role_credentials`]).
    pub aws: &'a AwsSettings,
    /// The keys directory (the issuer that mints the plan role's tokens).
    pub keys_dir: &'a Keys,
    /// The regions the scan covers.
    pub regions: &'a [String],
}

/// One plan's provisioning step.
pub trait Provisioner: Send + Sync {
    /// The plan this step belongs to; it runs only for connectors that
    /// enable it.
    fn plan(&self) -> Plan;

    /// Provisions one account; what could not be done comes back as
    /// coverage gaps of the account.
    fn provision<'a>(&'a self, target: ProvisionTarget<'a>) -> BoxFuture<'a, Vec<CoverageGap>>;
}

/// Every plan's provisioning step with its default options, in the order
/// scans run them: Containers (audit-log pipelines), Servers (SSM),
/// CloudTrail (notification mode), SQL (SQL Server log pipelines). What
/// the CLI's scans and `rampart serve` pass.
pub fn plan_provisioners() -> Vec<Arc<dyn Provisioner>> {
    vec![
        Arc::new(crate::containers::ContainersProvisioner::default()),
        Arc::new(crate::servers::ServersProvisioner::default()),
        Arc::new(crate::cloudtrail::CloudTrailProvisioner),
        Arc::new(crate::sql_logs::SqlLogProvisioner::default()),
    ]
}

/// The gap of a provisioning step that could not start (the plan's role
/// could not be reached): `what` was not done.
pub(crate) fn not_provisioned(
    target: &ProvisionTarget<'_>,
    what: &str,
    err: &EngineError,
) -> CoverageGap {
    CoverageGap {
        account: target.connector.account().to_owned(),
        region: target
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "global".to_owned()),
        service: "sts".to_owned(),
        operation: "AssumeRoleWithWebIdentity".to_owned(),
        kind: GapKind::Other,
        error: format!("{what}: {err}"),
        occurrences: 1,
    }
}

/// Runs every provisioner whose plan `connector` enables, in order; their
/// gaps together.
pub async fn provision_account(
    provisioners: &[Arc<dyn Provisioner>],
    target: ProvisionTarget<'_>,
) -> Vec<CoverageGap> {
    let plans = target.connector.plans();
    let mut gaps = Vec::new();
    for provisioner in provisioners {
        if plans.contains(&provisioner.plan()) {
            gaps.extend(provisioner.provision(target).await);
        }
    }
    gaps
}

/// A coverage gap seen once: what a plan's step could not do in an
/// account and region.
pub(crate) fn gap(
    account: &str,
    region: &str,
    service: &str,
    operation: &str,
    kind: GapKind,
    error: String,
) -> CoverageGap {
    CoverageGap {
        account: account.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        operation: operation.to_owned(),
        kind,
        error,
        occurrences: 1,
    }
}

/// Access as one of `plan`'s roles (web identity).
pub(crate) async fn role_access(
    connector: &Connector,
    plan: Plan,
    role_arn: &str,
    keys_dir: &Keys,
    base: &AwsSettings,
) -> Result<AwsAccess, EngineError> {
    let issuer = open_issuer(keys_dir)?;
    let source = role_credentials(connector, plan, role_arn, issuer);
    let settings = base
        .clone()
        .for_account(connector.account())
        .with_credentials(source)
        .await?;
    Ok(AwsAccess::load(&settings).await?)
}

/// The regions a connector's provisioning covers: `requested`, else the
/// connector's, else the home region.
pub(crate) async fn connector_regions(
    connector: &Connector,
    requested: Option<&[String]>,
    base: &AwsSettings,
) -> Result<Vec<String>, EngineError> {
    if let Some(regions) = requested {
        return Ok(regions.to_vec());
    }
    if !connector.environment_data.regions.is_empty() {
        return Ok(connector.environment_data.regions.clone());
    }
    let access = AwsAccess::load(base).await?;
    Ok(vec![access.home_region().to_owned()])
}

/// The stored connector `name` and the regions a command on it works in:
/// those asked, else the connector's, else the home region.
pub(crate) async fn stored_target(
    engine: &crate::Engine,
    name: &str,
    regions: Option<&[String]>,
) -> Result<(Connector, Vec<String>), EngineError> {
    let connector = find_connector(&engine.db, name)?;
    let regions = connector_regions(&connector, regions, &engine.aws).await?;
    Ok((connector, regions))
}

/// The stored connector `name`.
pub(crate) fn find_connector(db: &Path, name: &str) -> Result<Connector, EngineError> {
    Store::open(db)?
        .connector(name)?
        .ok_or_else(|| EngineError::NoConnector(name.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use std::sync::Mutex;

    use rampart_model::GapKind;

    use super::*;

    /// Records the accounts it was asked to provision; one gap each.
    struct Recorder(Plan, Mutex<Vec<String>>);

    impl Provisioner for Recorder {
        fn plan(&self) -> Plan {
            self.0
        }

        fn provision<'a>(&'a self, target: ProvisionTarget<'a>) -> BoxFuture<'a, Vec<CoverageGap>> {
            Box::pin(async move {
                self.1
                    .lock()
                    .unwrap()
                    .push(target.connector.account().to_owned());
                vec![CoverageGap {
                    account: target.connector.account().to_owned(),
                    region: "us-east-1".to_owned(),
                    service: "ec2".to_owned(),
                    operation: "CreateSnapshot".to_owned(),
                    kind: GapKind::AccessDenied,
                    error: "denied".to_owned(),
                    occurrences: 1,
                }]
            })
        }
    }

    #[tokio::test]
    async fn only_the_plans_the_connector_enables_are_provisioned() {
        let servers = Arc::new(Recorder(Plan::Servers, Mutex::default()));
        let containers = Arc::new(Recorder(Plan::Containers, Mutex::default()));
        let provisioners: Vec<Arc<dyn Provisioner>> = vec![servers.clone(), containers.clone()];
        let connector = Connector::new(
            "acme",
            "111111111111",
            &[Plan::Cspm, Plan::Servers],
            vec![],
            6,
            None,
        );
        let aws = AwsSettings::default();
        let keys = Keys::new("keys", None);
        let target = ProvisionTarget {
            connector: &connector,
            aws: &aws,
            keys_dir: &keys,
            regions: &["us-east-1".to_owned()],
        };
        let gaps = provision_account(&provisioners, target).await;
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0].operation, "CreateSnapshot");
        assert_eq!(*servers.1.lock().unwrap(), ["111111111111"]);
        assert!(containers.1.lock().unwrap().is_empty());
        // Without provisioners (today's CLI and server) nothing runs.
        assert!(provision_account(&[], target).await.is_empty());
    }
}
