//! Rampart's scan engine: "scan this connector" (or the default
//! credentials) as a library, called by the CLI (`rampart scan`), the
//! server (API-triggered and scheduled scans) and, later, workers.
//!
//! A scan goes: credentials ([`credentials`]: web identity tokens for
//! native connectors, stored keys or an external-id role for classic ones)
//! → organization members ([`organization`]) → the plans' provisioning
//! steps ([`provisioning`]; [`containers`] for the Containers plan, [`servers`]
//! for the Servers plan's SSM provisioning, [`cloudtrail`] for its CloudTrail
//! notifications) → collect ([`rampart_aws`]) →
//! evaluate ([`rampart_catalog`]) → store ([`rampart_store`]), in
//! [`connector_scan::scan_connector`] and [`scan::collect_and_store`].
//! [`Engine`] wraps both for long-running processes: it opens the store,
//! loads the exemptions and picks the path from the request.
//!
//! Nothing here prints or knows about flags: warnings go to a callback,
//! progress to a [`rampart_aws::Progress`], errors are an [`EngineError`]
//! whose [`ErrorKind`] the CLI maps to an exit code.

pub mod agentless;
pub mod classic;
pub mod cloudtrail;
pub mod connector_scan;
pub mod containers;
pub mod credentials;
pub mod detection;
mod error;
pub mod issuer;
pub mod organization;
pub mod posture;
pub mod provisioning;
pub mod scan;
pub mod server_coverage;
pub mod servers;
pub mod sql;
pub mod sql_logs;
pub mod vulnerabilities;
pub mod worker;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use rampart_aws::{AwsAccess, AwsSettings, Progress};
use rampart_connector::Connector;
use rampart_health::{ConnectorHealth, connector_health, scan_evidence};
use rampart_store::Store;

pub use crate::connector_scan::{ConnectorScanOutcome, ConnectorScanRequest, scan_connector};
pub use crate::error::{EngineError, ErrorKind};
pub use crate::issuer::Keys;
pub use crate::provisioning::{Provisioner, plan_provisioners};
pub use crate::scan::{ScanOptions, ScanPosture, StoredScan, collect_and_store};

/// API calls in flight at once per service and region, for scans that do
/// not say.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What every scan of a long-running process starts from.
#[derive(Clone)]
pub struct Engine {
    /// AWS settings (profile, endpoint, retries, timeouts); a connector's
    /// credentials replace the default ones.
    pub aws: AwsSettings,
    /// The store file.
    pub db: PathBuf,
    /// The keys directory (issuer keys, classic secret key), and the store
    /// that keeps the issuer when it holds one.
    pub keys_dir: Keys,
    /// An exemptions file applied together with the stored exemptions.
    pub exemptions_file: Option<PathBuf>,
    /// API calls in flight at once per service and region.
    pub concurrency: usize,
    /// The plans' provisioning steps (the CLI and the server add
    /// [`containers::ContainersProvisioner`] and
    /// [`servers::ServersProvisioner`]).
    pub provisioners: Vec<Arc<dyn Provisioner>>,
    /// The Servers plan's agentless step
    /// ([`agentless::AgentlessScanner`]), when the process has a disk
    /// reader and a vulnerability database.
    pub machine_scanners: Vec<Arc<dyn agentless::MachineScanner>>,
    /// The SQL plan's vulnerability assessment
    /// ([`sql::SqlVulnerabilityAssessor`]).
    pub sql_assessors: Vec<Arc<dyn sql::SqlAssessor>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("db", &self.db)
            .field("keys_dir", &self.keys_dir)
            .field("exemptions_file", &self.exemptions_file)
            .field("concurrency", &self.concurrency)
            .field("provisioners", &self.provisioners.len())
            .finish_non_exhaustive()
    }
}

/// One scan to run.
#[derive(Debug, Clone, Default)]
pub struct ScanJob {
    /// The new scan's id.
    pub scan_id: String,
    /// The connector to scan, by name or id (none: the default
    /// credentials).
    pub connector: Option<String>,
    /// Only these regions.
    pub regions: Option<Vec<String>>,
    /// Only these services.
    pub services: Option<Vec<String>>,
    /// Only these accounts of the connector (see
    /// [`ConnectorScanRequest::accounts`]); ignored without a connector.
    pub accounts: Option<Vec<String>>,
}

/// A scan the engine stored complete.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The connector scanned, if any.
    pub connector: Option<Connector>,
    /// The stored snapshot, its posture and catalog.
    pub scan: StoredScan,
}

impl Engine {
    /// An engine for the store `db` and the keys in `keys_dir`, reaching
    /// AWS with `aws`.
    pub fn new(aws: AwsSettings, db: PathBuf, keys_dir: PathBuf) -> Self {
        Self {
            aws,
            keys_dir: Keys::new(keys_dir, Some(&db)),
            db,
            exemptions_file: None,
            concurrency: DEFAULT_CONCURRENCY,
            provisioners: Vec::new(),
            machine_scanners: Vec::new(),
            sql_assessors: Vec::new(),
        }
    }

    /// The same engine with every plan's steps: the provisioners
    /// ([`plan_provisioners`]), the agentless machine scanner and the SQL
    /// vulnerability assessor, on the engine's store. What `rampart serve`
    /// and `rampart worker` run scans with.
    #[must_use]
    pub fn with_plans(mut self) -> Self {
        self.provisioners = plan_provisioners();
        self.machine_scanners
            .push(Arc::new(agentless::AgentlessScanner::new(&self.db)));
        self.sql_assessors
            .push(Arc::new(sql::SqlVulnerabilityAssessor::new(&self.db)));
        self
    }

    /// Runs `job` and stores it complete: through its connector when it
    /// names one, else with the default credentials. Warnings go to
    /// `warn`; when `cancel` completes first the scan is stored `failed`.
    pub async fn scan(
        &self,
        job: ScanJob,
        progress: &dyn Progress,
        warn: &dyn Fn(&str),
        cancel: impl Future<Output = ()>,
    ) -> Result<ScanOutcome, EngineError> {
        scan::check_services(job.services.as_deref())?;
        let mut store = Store::open(&self.db)?;
        let exemptions = posture::exemptions(self.exemptions_file.as_deref(), &store)?;
        if let Some(connector) = job.connector {
            let request = ConnectorScanRequest {
                store: &mut store,
                keys_dir: self.keys_dir.dir().to_path_buf(),
                aws: self.aws.clone(),
                connector,
                scan_id: job.scan_id,
                regions: job.regions,
                services: job.services,
                accounts: job.accounts,
                concurrency: self.concurrency,
                exemptions: &exemptions,
                provisioners: &self.provisioners,
                machine_scanners: &self.machine_scanners,
                sql_assessors: &self.sql_assessors,
            };
            let outcome = scan_connector(request, progress, warn, cancel).await?;
            return Ok(ScanOutcome {
                connector: Some(outcome.connector),
                scan: outcome.scan,
            });
        }
        let access = AwsAccess::load(&self.aws).await?;
        let options = ScanOptions {
            scan_id: job.scan_id,
            regions: job.regions,
            services: job.services,
            concurrency: self.concurrency,
        };
        let scan =
            collect_and_store(&access, &mut store, &options, &exemptions, progress, cancel).await?;
        Ok(ScanOutcome {
            connector: None,
            scan,
        })
    }

    /// The health of `connector` (`rampart connector status`, the server's
    /// health checks): issuer, roles, requirements and the last scan.
    pub async fn connector_health(
        &self,
        connector: &Connector,
    ) -> Result<ConnectorHealth, EngineError> {
        let store = Store::open(&self.db)?;
        let options =
            credentials::health_options(self.aws.clone(), &self.keys_dir, &store, connector)?;
        let evidence = scan_evidence(&store, connector)?;
        drop(store);
        Ok(connector_health(connector, &options, evidence.as_ref()).await)
    }
}
