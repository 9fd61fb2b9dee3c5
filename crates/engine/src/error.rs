//! The engine's errors: one enum, each variant with the [`ErrorKind`] the
//! CLI turns into an exit code and the server into a job failure.

use rampart_aws::AccessError;

use crate::classic::SecretError;

/// What kind of failure an [`EngineError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad usage or configuration (flags, region, credentials, issuer).
    Usage,
    /// The thing to scan does not exist.
    NotFound,
    /// An unexpected failure (store I/O, a broken built-in catalog).
    Failure,
    /// The scan was cancelled.
    Interrupted,
}

/// Why a scan (or a step of it) could not run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No connector with that name or id.
    #[error("no connector `{0}`")]
    NoConnector(String),
    /// A scan narrowed to accounts a connector does not reach: each is
    /// its own account or one of its members (a single member when the
    /// connector's own account is not among them).
    #[error(
        "connector `{connector}` cannot scan accounts `{accounts}` alone: give its own account (and any of its members) or one member account"
    )]
    NotItsAccounts {
        /// The connector's name.
        connector: String,
        /// The accounts asked for, comma-separated.
        accounts: String,
    },
    /// The connector does not enable the CSPM plan.
    #[error(
        "connector `{0}` does not enable the cspm plan; enable it with `rampart connector update {0} --plans cspm,...`"
    )]
    NoCspm(String),
    /// The issuer (needed to mint web identity tokens) cannot be opened.
    #[error(
        "cannot mint tokens: {0}; create the issuer with `rampart issuer init --issuer-url https://HOST/PATH`"
    )]
    NoIssuer(String),
    /// AWS cannot be reached with the settings (endpoint, credentials).
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A connector's credentials do not prove an identity.
    #[error("connector `{connector}`: {error}")]
    Identity {
        /// The connector's name.
        connector: String,
        /// Why.
        error: AccessError,
    },
    /// A connector's credentials reach another account than its own.
    #[error(
        "connector `{connector}` is for account {expected}, but its credentials are for account {actual} (`{arn}`); nothing was stored"
    )]
    WrongAccount {
        /// The connector's name.
        connector: String,
        /// Its account.
        expected: String,
        /// The account reached.
        actual: String,
        /// The identity reached.
        arn: String,
    },
    /// No region list and no regions requested.
    #[error("{error}; {hint}")]
    NoRegions {
        /// Why regions could not be listed.
        error: AccessError,
        /// How to scan anyway.
        hint: &'static str,
    },
    /// A requested service has no collector.
    #[error("unknown service `{service}`; {known}")]
    UnknownService {
        /// The service asked for.
        service: String,
        /// The closest known services (`did you mean …`), or all of them.
        known: String,
    },
    /// A classic connector with stored keys has no stored secret.
    #[error("classic connector `{0}` has no stored secret access key; delete and create it again")]
    NoClassicSecret(String),
    /// A classic connector's secret cannot be sealed or opened.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The exemptions file cannot be read.
    #[error("cannot read exemptions `{path}`: {error}")]
    ExemptionsFile {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The exemptions file is malformed.
    #[error("exemptions `{path}`: {error}")]
    Exemptions {
        /// The file.
        path: String,
        /// Why.
        error: String,
    },
    /// Exemptions stored through the API are malformed.
    #[error("stored {0}")]
    StoredExemptions(String),
    /// The built-in catalog is broken.
    #[error("built-in catalog: {0}")]
    Catalog(String),
    /// The built-in security controls are broken.
    #[error("built-in security controls: {0}")]
    Controls(String),
    /// The connector has no Containers plan.
    #[error(
        "connector `{0}` has no Containers plan (DefenderForContainersAws); enable it with `rampart connector update`"
    )]
    NoContainers(String),
    /// The connector has no Servers plan.
    #[error(
        "connector `{0}` has no Servers plan (DefenderForServersAws); enable it with `rampart connector update`"
    )]
    NoServers(String),
    /// The connector has no SQL plan with threat detection.
    #[error(
        "connector `{0}` has no SQL plan (DefenderForDatabasesAws) with threat detection; enable it with `rampart connector update --plans ... --sql-threat-detection on`"
    )]
    NoSqlThreatDetection(String),
    /// The connector has no log source to drain.
    #[error(
        "connector `{0}` has no log source: enable the Containers plan, CloudTrail threat detection of the Servers plan, or the SQL plan's threat detection with `rampart connector update`"
    )]
    NoDetection(String),
    /// The built-in detection rules did not load.
    #[error("built-in detection rules: {0}")]
    Rules(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] rampart_store::StoreError),
    /// The vulnerability database cannot be used (none imported, or it
    /// does not load).
    #[error("vulnerability database: {0}")]
    VulnDb(String),
    /// Agentless scanning cannot run in this build or setup.
    #[error("agentless scanning: {0}")]
    Agentless(String),
    /// The scan was cancelled; the last complete snapshot is unchanged.
    #[error("scan interrupted; the last complete snapshot is unchanged")]
    Interrupted,
    /// A SQL Server, its assessment or a rule result was not found.
    #[error("{0}")]
    SqlNotFound(String),
    /// A SQL vulnerability assessment result cannot be accepted as a
    /// baseline, or the rules did not load.
    #[error("SQL vulnerability assessment: {0}")]
    SqlVa(String),
}

impl EngineError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoConnector(_) | Self::SqlNotFound(_) | Self::NotItsAccounts { .. } => {
                ErrorKind::NotFound
            }
            Self::NoCspm(_)
            | Self::NoIssuer(_)
            | Self::Access(_)
            | Self::Identity { .. }
            | Self::NoRegions { .. }
            | Self::UnknownService { .. }
            | Self::ExemptionsFile { .. }
            | Self::Exemptions { .. }
            | Self::NoContainers(_)
            | Self::NoServers(_)
            | Self::NoDetection(_)
            | Self::NoSqlThreatDetection(_)
            | Self::VulnDb(_)
            | Self::Agentless(_)
            | Self::SqlVa(_) => ErrorKind::Usage,
            Self::Secret(e) if e.is_usage() => ErrorKind::Usage,
            Self::WrongAccount { .. }
            | Self::NoClassicSecret(_)
            | Self::Secret(_)
            | Self::StoredExemptions(_)
            | Self::Catalog(_)
            | Self::Rules(_)
            | Self::Controls(_)
            | Self::Store(_) => ErrorKind::Failure,
            Self::Interrupted => ErrorKind::Interrupted,
        }
    }
}
