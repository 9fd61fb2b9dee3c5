//! Every command-line flag, defined once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Rampart: agentless security posture for AWS.
#[derive(Debug, Parser)]
#[command(name = "rampart", version, about, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
    /// Log more detail to stderr (repeat for more: -v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `--services`' help: every service the binary accepts, from the
/// collectors registry.
pub fn services_help() -> String {
    let services: Vec<&str> = rampart_aws::collectors::COLLECTORS
        .iter()
        .map(|c| c.meta().service)
        .collect();
    format!(
        "Only these services, comma-separated ({})",
        services.join(", ")
    )
}

/// Rampart's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan an AWS account: inventory every enabled (or given) region.
    Scan(ScanArgs),
    /// List the assets of the latest complete scan (or a given one).
    Inventory(InventoryArgs),
    /// List past scans, newest first.
    Scans(ScansArgs),
    /// Coverage gaps: what a stored scan could not read, and why.
    Gaps(GapsArgs),
    /// Re-evaluate a stored snapshot (e.g. after changing exemptions).
    Evaluate(EvaluateArgs),
    /// The secure score, overall and per security control.
    Score(ScoreArgs),
    /// Recommendations with their unhealthy, healthy and other resources.
    Recommendations(RecommendationsArgs),
    /// Regulatory compliance: every standard's summary, or one standard
    /// control by control.
    Compliance(ComplianceArgs),
    /// What changed in the assessments: new, changed, resolved and
    /// removed, newest first.
    Changes(ChangesArgs),
    /// The secure score and assessment counts by status per day (the
    /// day's last state), of the estate or the part the filters select.
    Trend(TrendArgs),
    /// Posture history kept in the store: prune what is older than a
    /// retention.
    History(HistoryArgs),
    /// Export findings: rampart.assessments/v1 JSON, OCSF, CSV, SARIF or HTML.
    Findings(FindingsArgs),
    /// Manage connectors: the AWS accounts (or organizations) Rampart scans.
    Connector(ConnectorArgs),
    /// Rampart's OpenID Connect issuer: its signing keys, public documents,
    /// rotation and TLS thumbprint.
    Issuer(IssuerArgs),
    /// Serve the dashboard and the REST API over HTTP.
    Serve(ServeArgs),
    /// Claim scan jobs from the store's queue and run them (scale-out: any
    /// number of workers on any machines sharing a PostgreSQL store).
    Worker(WorkerArgs),
    /// The job queue workers claim from: jobs by status.
    Jobs(JobsArgs),
    /// API tokens for the server: create (shown once), list, revoke.
    Token(TokenArgs),
    /// Alerts from threat detection: list and export them, change their status.
    Alerts(AlertsArgs),
    /// The Containers plan's EKS audit-log pipelines.
    Containers(ContainersArgs),
    /// The Servers plan's SSM provisioning of EC2 instances.
    Servers(ServersArgs),
    /// The SQL plan: SQL Servers found, their prerequisites and
    /// vulnerability assessment, and accepted baselines.
    Sql(SqlArgs),
    /// Threat detection: drain a connector's audit-log pipelines into alerts.
    Detect(DetectArgs),
    /// Read one existing EBS snapshot (forensics, CI of AMIs): its OS,
    /// packages matched against the vulnerability database, and secrets.
    /// The snapshot is never changed or deleted.
    DiskScan(DiskScanArgs),
    /// What agentless scanning found in machines' disks, from the last scan
    /// that read machines (rampart.vulnerabilities/v1).
    Vulnerabilities(VulnerabilitiesArgs),
    /// Import OSV vulnerability records (`all.zip` dumps, directories of
    /// JSON records) into the store and show what it holds; scans match
    /// installed packages against them without network access.
    Vulndb(VulndbArgs),
    /// The Servers plan's CloudTrail threat detection: its notification pipeline.
    Cloudtrail(CloudTrailArgs),
}

/// Severities, for filters and gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Informational.
    Informational,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl From<SeverityArg> for rampart_model::Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Informational => Self::Informational,
            SeverityArg::Low => Self::Low,
            SeverityArg::Medium => Self::Medium,
            SeverityArg::High => Self::High,
            SeverityArg::Critical => Self::Critical,
        }
    }
}

/// Assessment statuses, for filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Healthy.
    Healthy,
    /// Unhealthy.
    Unhealthy,
    /// Not applicable.
    NotApplicable,
    /// Could not be assessed.
    Error,
    /// Exempt.
    Exempt,
}

impl From<StatusArg> for rampart_model::AssessmentStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Healthy => Self::Healthy,
            StatusArg::Unhealthy => Self::Unhealthy,
            StatusArg::NotApplicable => Self::NotApplicable,
            StatusArg::Error => Self::Error,
            StatusArg::Exempt => Self::Exempt,
        }
    }
}

/// Evaluation options shared by `scan` and `evaluate`.
#[derive(Debug, Clone, Args)]
pub struct EvaluationArgs {
    /// Exemptions file (YAML): accepted risks, shown as exempt.
    #[arg(long, env = "RAMPART_EXEMPTIONS", value_name = "FILE")]
    pub exemptions: Option<PathBuf>,
    /// Exit with code 4 when an unhealthy assessment has this severity or higher.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
}

/// Which stored scan to read.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read this scan instead of the latest complete one.
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
}

/// `rampart evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Scan to re-evaluate.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Evaluation options.
    #[command(flatten)]
    pub evaluation: EvaluationArgs,
}

/// The part of the estate a command reads: `--account`, `--connector`
/// and `--region`, each optional and combinable (`inventory`, `score`,
/// `compliance`, `findings`).
#[derive(Debug, Clone, Default, Args)]
pub struct ScopeArgs {
    /// Only this account.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Only the accounts of this connector (name or id).
    #[arg(long, value_name = "CONNECTOR")]
    pub connector: Option<String>,
    /// Only this region (global resources are in the scan's home region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// `rampart score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Scan to read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only the assessments of this part of the estate.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart changes`.
#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only changes of this part of the estate.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Days and recommendation.
    #[command(flatten)]
    pub days: HistoryFilterArgs,
    /// Only this kind of change.
    #[arg(long, value_enum)]
    pub change: Option<ChangeKindArg>,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// The days and the recommendation a history read covers.
#[derive(Debug, Args)]
pub struct HistoryFilterArgs {
    /// From this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DAY")]
    pub since: Option<String>,
    /// Up to this day.
    #[arg(long, value_name = "DAY")]
    pub until: Option<String>,
    /// Only this recommendation.
    #[arg(long, value_name = "ID")]
    pub recommendation: Option<String>,
}

/// A kind of change to an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChangeKindArg {
    /// Assessed for the first time.
    New,
    /// Its status changed (other than unhealthy to healthy).
    Changed,
    /// Unhealthy became healthy.
    Resolved,
    /// No longer assessed (the resource is gone).
    Removed,
}

impl From<ChangeKindArg> for rampart_store::ChangeKind {
    fn from(kind: ChangeKindArg) -> Self {
        match kind {
            ChangeKindArg::New => Self::New,
            ChangeKindArg::Changed => Self::Changed,
            ChangeKindArg::Resolved => Self::Resolved,
            ChangeKindArg::Removed => Self::Removed,
        }
    }
}

/// `rampart trend`.
#[derive(Debug, Args)]
pub struct TrendArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only this part of the estate.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Days and recommendation.
    #[command(flatten)]
    pub days: HistoryFilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: HistoryCommand,
}

/// `rampart history` subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Remove logged changes and daily aggregates older than `--keep-days`
    /// (whole month partitions on PostgreSQL). The current assessments and
    /// scans are never removed.
    Prune(PruneArgs),
}

/// `rampart history prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Keep this many days of history.
    #[arg(long, value_name = "DAYS")]
    pub keep_days: u32,
}

/// `rampart recommendations`.
#[derive(Debug, Args)]
pub struct RecommendationsArgs {
    /// Scan to read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only recommendations of this severity or higher.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub severity: Option<SeverityArg>,
    /// Only recommendations with at least one assessment in this status
    /// (and, with `--format json`, only those assessments).
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<StatusArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart compliance`.
#[derive(Debug, Args)]
pub struct ComplianceArgs {
    /// Standard: aws-fsbp, cis-aws-3.0, cis-aws-4.0, cis-aws-5.0,
    /// pci-dss-4.0, nist-800-53-r5, nist-800-171-r2, iso-27001-2022, soc2
    /// or aws-well-architected-security [default: a summary of every
    /// standard].
    pub standard: Option<String>,
    /// Scan to read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only the assessments of this part of the estate.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// rampart.assessments/v1 (see docs/formats.md).
    Json,
    /// OCSF Compliance Finding events (JSON array).
    Ocsf,
    /// One row per assessment.
    Csv,
    /// SARIF 2.1.0.
    Sarif,
    /// One self-contained HTML report.
    Html,
}

/// `rampart findings`.
#[derive(Debug, Args)]
pub struct FindingsArgs {
    /// Scan to read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only this part of the estate: its assessments, coverage gaps and
    /// machines, with their score and compliance.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Format.
    #[arg(long, value_enum)]
    pub format: FindingsFormat,
    /// Write here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with code 4 when an unhealthy assessment has this severity or higher.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
}

/// Where the store is.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The store: a SQLite file, or a PostgreSQL database as a
    /// `postgres://user@host/db` URL [default: the user's data directory,
    /// rampart/rampart.db].
    #[arg(long, env = "RAMPART_DB", value_name = "PATH|URL")]
    pub db: Option<PathBuf>,
    /// Directory of secret keys (the issuer's signing keys, the key that
    /// encrypts classic connectors' secrets), kept out of the store file
    /// [default: `keys` beside the store file].
    #[arg(long, env = "RAMPART_KEYS_DIR", value_name = "DIR")]
    pub keys_dir: Option<PathBuf>,
}

/// How to reach AWS.
#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// Named profile from ~/.aws/config (default: the default credential chain).
    #[arg(long, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Region for global services and region discovery [default: the
    /// profile's or AWS_REGION, else us-east-1].
    #[arg(long, value_name = "REGION")]
    pub home_region: Option<String>,
    /// Attempts per call, first included; throttling backs off adaptively.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// Timeout of one call attempt, in seconds.
    #[arg(long, default_value_t = 20, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub call_timeout: u64,
    /// At most this many AWS API calls per second to one account, per
    /// process (each worker or server has its own cap); 0: no cap.
    #[arg(long, env = "RAMPART_ACCOUNT_RATE", default_value_t = rampart_aws::rate::DEFAULT_ACCOUNT_RATE, value_name = "N")]
    pub account_rate: u32,
}

/// `rampart scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Regions to scan, comma-separated [default: every enabled region].
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Option<Vec<String>>,
    /// Only these services, comma-separated (the list is the collectors
    /// registry's; see `services_help`).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE,...", help = services_help())]
    pub services: Option<Vec<String>>,
    /// Scan through this connector (name or id): its CSPM role by web
    /// identity federation (or a classic connector's keys or role), its
    /// regions; an organization's connector scans every member account too.
    #[arg(long, value_name = "NAME")]
    pub connector: Option<String>,
    /// API calls in flight at once per service and region.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Don't draw progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Queue the scan for `rampart worker` instead of running it here
    /// (needs `--connector`): one job per account (an organization's
    /// management account and each member); prints the job and scan ids.
    #[arg(long, requires = "connector")]
    pub queue: bool,
    /// Evaluation options.
    #[command(flatten)]
    pub evaluation: EvaluationArgs,
}

/// `rampart worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Store (a PostgreSQL URL to share the queue between machines).
    #[command(flatten)]
    pub store: StoreArgs,
    /// AWS access for the scans.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Jobs run at once.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// How long a claimed job is held without a renewal (it is renewed
    /// every third of it); a stopped worker's jobs are claimed again after
    /// it.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub lease: u64,
    /// How often an idle worker looks for jobs.
    #[arg(long, default_value_t = 2, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub poll: u64,
    /// How long a failed job waits before it is claimed again.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub retry_after: u64,
    /// Stop when the queue has nothing to claim and nothing runs (for
    /// batch runs and tests) instead of waiting for SIGTERM.
    #[arg(long)]
    pub until_idle: bool,
    /// The worker's name in leases [default: host name and process id].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Scan an account one job per region (run side by side, on any
    /// workers) when its current posture holds more assets than this; 0:
    /// never.
    #[arg(long, default_value_t = rampart_engine::worker::DEFAULT_REGION_JOBS_ABOVE, value_name = "ASSETS")]
    pub region_jobs_above: u64,
}

/// `rampart jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only jobs in this status (queued, running, done, failed).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// How many jobs to list.
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// Output formats of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns for people.
    Table,
    /// JSON for programs.
    Json,
}

/// `rampart inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only this resource type (e.g. AWS::S3::Bucket).
    #[arg(long = "type", value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only the assets of this part of the estate.
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Only assets with this tag: KEY or KEY=VALUE.
    #[arg(long, value_name = "KEY[=VALUE]")]
    pub tag: Option<String>,
    /// Read this scan instead of the latest complete one.
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart scans`.
#[derive(Debug, Args)]
pub struct ScansArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// How many scans to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// Severity of a vulnerability finding, for filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VulnSeverityArg {
    /// Unknown and above (every finding).
    Unknown,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl From<VulnSeverityArg> for rampart_model::machine::VulnerabilitySeverity {
    fn from(arg: VulnSeverityArg) -> Self {
        match arg {
            VulnSeverityArg::Unknown => Self::Unknown,
            VulnSeverityArg::Low => Self::Low,
            VulnSeverityArg::Medium => Self::Medium,
            VulnSeverityArg::High => Self::High,
            VulnSeverityArg::Critical => Self::Critical,
        }
    }
}

/// `rampart disk-scan`.
#[derive(Debug, Args)]
pub struct DiskScanArgs {
    /// AWS access (read as these credentials: `ec2:DescribeSnapshots`,
    /// `ebs:ListSnapshotBlocks`, `ebs:GetSnapshotBlock`, and `kms:Decrypt`
    /// on an encrypted snapshot's key).
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Store (the vulnerability database is read from it).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The snapshot to read.
    #[arg(long, value_name = "SNAPSHOT_ID")]
    pub snapshot: String,
    /// The snapshot's region.
    #[arg(long, value_name = "REGION")]
    pub region: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart vulnerabilities`.
#[derive(Debug, Args)]
pub struct VulnerabilitiesArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read this scan instead of the latest one that read machines.
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// Only findings of this advisory (its id or an alias such as a CVE id).
    #[arg(long, value_name = "ID")]
    pub cve: Option<String>,
    /// Only findings at or above this severity.
    #[arg(long, value_enum)]
    pub severity: Option<VulnSeverityArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart gaps`.
#[derive(Debug, Args)]
pub struct GapsArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read this scan instead of the latest one (complete or not).
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart connector`.
#[derive(Debug, Args)]
pub struct ConnectorArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ConnectorCommand,
}

/// `rampart connector` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConnectorCommand {
    /// Create a connector for an AWS account or organization.
    Create(ConnectorCreateArgs),
    /// Show one connector.
    Show(ConnectorShowArgs),
    /// List connectors, by name.
    List(ConnectorListArgs),
    /// Change a connector's regions, scan interval, plans or roles.
    Update(ConnectorUpdateArgs),
    /// Delete a connector (an organization's with its member connectors).
    Delete(ConnectorDeleteArgs),
    /// Print the onboarding template (OIDC provider and plan roles) to deploy
    /// in the connector's account or organization.
    Template(ConnectorTemplateArgs),
    /// Refresh an organization connector's member connectors from
    /// Organizations `ListAccounts` (new accounts added, excluded, suspended
    /// and departed ones removed).
    Sync(ConnectorSyncArgs),
    /// Mint a fresh web identity token for one of the connector's plans
    /// (for troubleshooting with `aws sts assume-role-with-web-identity`).
    Token(ConnectorTokenArgs),
    /// Check the connector's health: the issuer, each plan's roles and
    /// requirements, the last scan and its gaps (exit 1 when a requirement
    /// is not met).
    Status(ConnectorStatusArgs),
}

/// `rampart connector status`.
#[derive(Debug, Args)]
pub struct ConnectorStatusArgs {
    /// AWS access (endpoint, home region, retries).
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Store (and `--keys-dir`, where the issuer lives).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector's name or id.
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart connector sync`.
#[derive(Debug, Args)]
pub struct ConnectorSyncArgs {
    /// AWS access (endpoint, home region, retries).
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Store (and `--keys-dir`, where the issuer lives).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The organization connector's name or id.
    pub name: String,
}

/// `rampart connector token`.
#[derive(Debug, Args)]
pub struct ConnectorTokenArgs {
    /// Store (and `--keys-dir`, where the issuer lives).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector's name or id.
    pub name: String,
    /// The plan whose audience the token carries.
    #[arg(long, value_name = "PLAN", default_value = "cspm")]
    pub plan: String,
}

/// `rampart connector create`.
#[derive(Debug, Args)]
pub struct ConnectorCreateArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Unique name: 1 to 40 letters, digits or `+=,.@-_` (roles trust the
    /// session name `Rampart_<name>`).
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The AWS account id (12 digits); for an organization, the management
    /// account's.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: String,
    /// Plans to enable, comma-separated: cspm, servers, containers, sql.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "PLAN,...",
        default_value = "cspm"
    )]
    pub plans: Vec<String>,
    /// Regions to scan, comma-separated [default: every enabled region].
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Option<Vec<String>>,
    /// Hours between scans, 1 to 24.
    #[arg(long, value_name = "HOURS", default_value = "12")]
    pub scan_interval: String,
    /// The account is an Organization's management account: its members get
    /// connectors automatically, their roles deployed by a StackSet.
    #[arg(long)]
    pub organization: bool,
    /// With `--organization`: the StackSet's name [default: Rampart].
    #[arg(long, value_name = "NAME")]
    pub stackset_name: Option<String>,
    /// With `--organization`: member accounts that get no connector,
    /// comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT,...")]
    pub exclude_accounts: Option<Vec<String>>,
    /// A role other than the default for a plan: PLAN=ARN sets the role the
    /// plan's reads run as, PLAN.ROLE=ARN another of its roles (e.g.
    /// `servers.arcAutoProvisioning=ARN`). Repeatable.
    #[arg(long = "role-arn", value_name = "PLAN[.ROLE]=ARN")]
    pub role_arns: Vec<String>,
    /// Plan settings and pausing.
    #[command(flatten)]
    pub settings: PlanSettingsArgs,
    /// Output format of the created connector.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Create a classic (legacy) connector: an IAM user's access keys
    /// (`--access-key-id` and `--secret-access-key-stdin`) or a role assumed
    /// with an external id (`--role-arn ARN --external-id ID`). Prefer OIDC
    /// federation.
    #[arg(long)]
    pub classic: bool,
    /// With `--classic`: the IAM user's access key id.
    #[arg(long, value_name = "KEY_ID", requires = "classic")]
    pub access_key_id: Option<String>,
    /// With `--classic --access-key-id`: read the secret access key from
    /// standard input (or set RAMPART_CLASSIC_SECRET_ACCESS_KEY); it is never
    /// taken on the command line, and stored encrypted.
    #[arg(long, requires = "access_key_id")]
    pub secret_access_key_stdin: bool,
    /// With `--classic --role-arn ARN`: the external id the role requires.
    #[arg(long, value_name = "ID", requires = "classic")]
    pub external_id: Option<String>,
}

/// `rampart connector show`.
#[derive(Debug, Args)]
pub struct ConnectorShowArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector's name or id.
    pub name: String,
    /// Output format (json: the resource exactly as stored).
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart connector list`.
#[derive(Debug, Args)]
pub struct ConnectorListArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart connector update`.
#[derive(Debug, Args)]
pub struct ConnectorUpdateArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector's name or id.
    pub name: String,
    /// Regions to scan, comma-separated; `--regions ''` means every enabled
    /// region.
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Option<Vec<String>>,
    /// Hours between scans, 1 to 24.
    #[arg(long, value_name = "HOURS")]
    pub scan_interval: Option<String>,
    /// The plans to enable, comma-separated (plans kept keep their roles).
    #[arg(long, value_delimiter = ',', value_name = "PLAN,...")]
    pub plans: Option<Vec<String>>,
    /// An organization connector's excluded member accounts, comma-separated
    /// (replaces the list; `''` clears it).
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNT,...")]
    pub exclude_accounts: Option<Vec<String>>,
    /// Change a plan's role: PLAN=ARN or PLAN.ROLE=ARN. Repeatable.
    #[arg(long = "role-arn", value_name = "PLAN[.ROLE]=ARN")]
    pub role_arns: Vec<String>,
    /// Plan settings and pausing.
    #[command(flatten)]
    pub settings: PlanSettingsArgs,
    /// Output format of the updated connector.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart connector delete`.
#[derive(Debug, Args)]
pub struct ConnectorDeleteArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector's name or id.
    pub name: String,
}

/// `rampart connector template`.
#[derive(Debug, Args)]
pub struct ConnectorTemplateArgs {
    /// Store (and `--keys-dir`, where the issuer lives).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector's name or id.
    pub name: String,
    /// Template format.
    #[arg(long, value_enum, default_value_t = TemplateFormat::Cloudformation)]
    pub format: TemplateFormat,
    /// What the roles may read: AWS's ReadOnlyAccess minus billing, or only
    /// the calls Rampart makes.
    #[arg(long, value_enum, default_value_t = TemplateAccess::Default)]
    pub access: TemplateAccess,
    /// Write the template to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// SHA-1 thumbprint (40 hex digits) of the issuer host's certificate
    /// chain; repeat for several [default: computed by connecting to the
    /// issuer's host].
    #[arg(long, value_name = "HEX")]
    pub thumbprint: Vec<String>,
}

/// Onboarding template formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    /// CloudFormation (JSON); a StackSet for an organization.
    Cloudformation,
    /// Terraform (HCL), one account.
    Terraform,
}

/// Onboarding template access modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateAccess {
    /// AWS's ReadOnlyAccess plus a deny of billing actions.
    Default,
    /// Only the actions Rampart's collectors call.
    LeastPrivilege,
}

/// `rampart issuer`.
#[derive(Debug, Args)]
pub struct IssuerArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: IssuerCommand,
}

/// `rampart issuer` subcommands.
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Create the issuer: an RSA signing key (owner-only file in the keys
    /// directory, or sealed in the store with `--in-store`) for a public
    /// issuer URL.
    Init(IssuerInitArgs),
    /// Move the keys directory's issuer into the store, where every server
    /// replica and worker shares it (same URL and keys: nothing changes
    /// for AWS).
    MoveToStore(IssuerMoveArgs),
    /// Show the issuer URL, its document URLs and its keys (never a private key).
    Show(IssuerShowArgs),
    /// Write the discovery document and the JWKS under a directory, for
    /// static hosting at the issuer URL.
    Export(IssuerExportArgs),
    /// Generate a new signing key; the previous one stays in the JWKS until
    /// every token it signed has expired.
    Rotate(IssuerRotateArgs),
    /// Print the SHA-1 thumbprint IAM's OIDC provider takes (the last
    /// certificate of the chain the issuer's host presents).
    Thumbprint(IssuerThumbprintArgs),
}

/// `rampart issuer init`.
#[derive(Debug, Args)]
pub struct IssuerInitArgs {
    /// Store (the keys directory defaults beside it).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The public HTTPS URL the issuer's documents are served at (the `iss`
    /// claim), e.g. `https://id.example.com/rampart`.
    #[arg(long, value_name = "URL")]
    pub issuer_url: String,
    /// Replace an existing issuer and delete its keys (tokens they signed
    /// stop validating; the OIDC providers in AWS must be updated).
    #[arg(long)]
    pub force: bool,
    /// Keep the issuer in the store instead of the keys directory: its
    /// keys are sealed with the keys directory's secret key
    /// (`classic.key`, created if missing), and every server replica and
    /// worker on the store sees a rotation.
    #[arg(long)]
    pub in_store: bool,
}

/// `rampart issuer move-to-store`.
#[derive(Debug, Args)]
pub struct IssuerMoveArgs {
    /// Store (the keys directory defaults beside it).
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rampart issuer show`.
#[derive(Debug, Args)]
pub struct IssuerShowArgs {
    /// Store (the keys directory defaults beside it).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart issuer export`.
#[derive(Debug, Args)]
pub struct IssuerExportArgs {
    /// Store (the keys directory defaults beside it).
    #[command(flatten)]
    pub store: StoreArgs,
    /// Directory to write into; its content is to be served at the issuer URL.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

/// `rampart issuer rotate`.
#[derive(Debug, Args)]
pub struct IssuerRotateArgs {
    /// Store (the keys directory defaults beside it).
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rampart issuer thumbprint`.
#[derive(Debug, Args)]
pub struct IssuerThumbprintArgs {
    /// Store (the keys directory defaults beside it).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The URL whose host to ask [default: the configured issuer URL].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

/// `rampart serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// AWS access for scans triggered through the API.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// The URL users reach the server at, when behind a reverse proxy
    /// (an https URL makes cookies Secure).
    #[arg(long, env = "RAMPART_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// A reverse proxy in front of the server (an address, or a network
    /// like `10.0.0.0/8`; repeat or separate with commas): its
    /// `X-Forwarded-For` names the client that sign-in limits count.
    #[arg(long = "trusted-proxy", env = "RAMPART_TRUSTED_PROXIES", value_name = "CIDR",
          value_delimiter = ',', value_parser = rampart_server::parse_trusted_proxy)]
    pub trusted_proxies: Vec<rampart_server::IpNet>,
    /// Longest time one request may take, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout: u64,
    /// Exemptions file (YAML) applied together with the exemptions stored
    /// through the API.
    #[arg(long, env = "RAMPART_EXEMPTIONS", value_name = "FILE")]
    pub exemptions: Option<PathBuf>,
    /// Queue scans for `rampart worker` processes instead of running them
    /// in this server (scale-out): scheduled scans (servers sharing a store
    /// queue each once) and scans triggered through the API or the
    /// dashboard (a connector is then required).
    #[arg(long)]
    pub queue_scans: bool,
    /// Don't scan connectors every `scanInterval` hours; scans then run
    /// only when triggered (API, dashboard or `rampart scan`).
    #[arg(long)]
    pub no_scheduled_scans: bool,
    /// Create the store file when it does not exist yet (without it, a
    /// missing `--db` file is an error: exit 3).
    #[arg(long)]
    pub init: bool,
    /// Don't drain the EKS audit-log pipelines of connectors with the
    /// Containers plan into alerts (`rampart detect` does it on demand).
    #[arg(long)]
    pub no_detection: bool,
    /// Alert webhook.
    #[command(flatten)]
    pub webhook: AlertWebhookArgs,
}

/// `rampart serve`'s alert webhook (see docs/alerts.md).
#[derive(Debug, Clone, Args)]
pub struct AlertWebhookArgs {
    /// POST each new alert (a signed rampart.alerts/v1 document) to this
    /// http(s) URL.
    #[arg(long, env = "RAMPART_ALERT_WEBHOOK", value_name = "URL")]
    pub alert_webhook: Option<String>,
    /// Only alerts of this severity or higher are sent.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        default_value = "high",
        requires = "alert_webhook"
    )]
    pub alert_webhook_min_severity: SeverityArg,
    /// File holding the webhook's HMAC secret (or set
    /// RAMPART_ALERT_WEBHOOK_SECRET); required with --alert-webhook.
    #[arg(long, value_name = "FILE", requires = "alert_webhook")]
    pub alert_webhook_secret_file: Option<PathBuf>,
}

/// `rampart token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TokenCommand,
}

/// Token roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Reads everything, changes nothing.
    Reader,
    /// Reads and changes (exemptions, scans, connectors).
    Admin,
}

/// `rampart token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once, alone on standard output (what
    /// it is goes to standard error), and stored hashed.
    Create {
        /// Store.
        #[command(flatten)]
        store: StoreArgs,
        /// What the token may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A label (who or what uses it).
        #[arg(long, default_value = "api", value_name = "NAME")]
        name: String,
    },
    /// List tokens (never their secrets).
    List {
        /// Store.
        #[command(flatten)]
        store: StoreArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Revoke a token by id.
    Revoke {
        /// Store.
        #[command(flatten)]
        store: StoreArgs,
        /// The token's id (from `rampart token list`).
        id: String,
    },
}

/// Alert statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertStatusArg {
    /// Raised and not yet handled.
    Active,
    /// Handled: the threat was dealt with.
    Resolved,
    /// Judged benign or accepted.
    Dismissed,
}

impl From<AlertStatusArg> for rampart_model::AlertStatus {
    fn from(s: AlertStatusArg) -> Self {
        match s {
            AlertStatusArg::Active => Self::Active,
            AlertStatusArg::Resolved => Self::Resolved,
            AlertStatusArg::Dismissed => Self::Dismissed,
        }
    }
}

/// Plans, for alert filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanArg {
    /// Containers (EKS).
    Containers,
    /// Servers (EC2).
    Servers,
    /// SQL Server.
    Sql,
    /// Foundational CSPM.
    Cspm,
}

impl From<PlanArg> for rampart_model::AlertPlan {
    fn from(p: PlanArg) -> Self {
        match p {
            PlanArg::Containers => Self::Containers,
            PlanArg::Servers => Self::Servers,
            PlanArg::Sql => Self::Sql,
            PlanArg::Cspm => Self::Cspm,
        }
    }
}

/// Alert sources, for filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertSourceArg {
    /// Kubernetes audit log (EKS).
    EksAudit,
    /// CloudTrail.
    Cloudtrail,
    /// SQL Server logs.
    SqlLog,
    /// Host logs.
    Host,
    /// Agentless disk scans.
    DiskScan,
}

impl From<AlertSourceArg> for rampart_model::AlertSource {
    fn from(s: AlertSourceArg) -> Self {
        match s {
            AlertSourceArg::EksAudit => Self::EksAudit,
            AlertSourceArg::Cloudtrail => Self::CloudTrail,
            AlertSourceArg::SqlLog => Self::SqlLog,
            AlertSourceArg::Host => Self::Host,
            AlertSourceArg::DiskScan => Self::DiskScan,
        }
    }
}

/// Alert output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertsFormat {
    /// Aligned columns for people.
    Table,
    /// rampart.alerts/v1 (see docs/alerts.md).
    Json,
    /// OCSF 1.3 Detection Finding events (JSON array).
    Ocsf,
}

/// `rampart alerts`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    /// Change an alert's status instead of listing.
    #[command(subcommand)]
    pub command: Option<AlertsCommand>,
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only alerts of this severity or higher.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub severity: Option<SeverityArg>,
    /// Only alerts in this status.
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: Option<AlertStatusArg>,
    /// Only this alert type (e.g. K8S.PrivilegedContainer).
    #[arg(long = "type", value_name = "TYPE")]
    pub alert_type: Option<String>,
    /// Only this plan.
    #[arg(long, value_enum, value_name = "PLAN")]
    pub plan: Option<PlanArg>,
    /// Only this source.
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub source: Option<AlertSourceArg>,
    /// Only this account.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Only alerts about this resource (ARN).
    #[arg(long, value_name = "ARN")]
    pub resource: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AlertsFormat::Table)]
    pub format: AlertsFormat,
}

/// `rampart alerts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Set an alert's status (recorded with who, when and the comment).
    SetStatus(AlertSetStatusArgs),
}

/// `rampart alerts set-status`.
#[derive(Debug, Args)]
pub struct AlertSetStatusArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The alert's id.
    pub id: String,
    /// The new status.
    #[arg(long, value_enum, value_name = "STATUS")]
    pub status: AlertStatusArg,
    /// Why (kept in the alert's history).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
}

/// `--cloudtrail`: CloudTrail threat detection's delivery mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudTrailArg {
    /// Do not read the trail logs.
    Off,
    /// List new log objects after a stored cursor (nothing changes in the account).
    Listing,
    /// An S3 notification on the trail bucket to a `rampart-cloudtrail-*` queue.
    Notification,
}

/// Plan settings and pausing, taken by `rampart connector create` and
/// `update` (the dashboard's form and the API's JSON set the same fields).
#[derive(Debug, Default, Args)]
pub struct PlanSettingsArgs {
    /// Servers: protect only instances with one of these tags,
    /// `KEY=VALUE,...` (`''`: every instance).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub servers_scope_tags: Option<String>,
    /// Servers: SSM provisioning of the instances in scope with every
    /// scan (`arcAutoProvisioning.enabled`), `on` or `off`.
    #[arg(long, value_name = "on|off")]
    pub servers_provisioning: Option<String>,
    /// Servers: SSM provisioning may attach `AmazonSSMManagedInstanceCore`
    /// to the role of an instance's own profile when it lacks it, `on` or
    /// `off` (default off: such instances are reported).
    #[arg(long, value_name = "on|off")]
    pub servers_policy_attach: Option<String>,
    /// Servers: agentless scanning of instance disks, `on` or `off`.
    #[arg(long, value_name = "on|off")]
    pub agentless_scanning: Option<String>,
    /// Servers: instances with one of these tags are not scanned
    /// agentlessly, `KEY=VALUE,...` (`''` clears the list).
    #[arg(long, value_name = "KEY=VALUE,...")]
    pub agentless_exclusion_tags: Option<String>,
    /// Servers: CloudTrail threat detection, and how new log objects are
    /// found [default: listing].
    #[arg(long, value_enum, value_name = "MODE")]
    pub cloudtrail: Option<CloudTrailArg>,
    /// SQL: threat detection's log pipelines provisioned with every scan
    /// (`threatDetection.enabled`), `on` or `off`.
    #[arg(long, value_name = "on|off")]
    pub sql_threat_detection: Option<String>,
    /// SQL: log groups the CloudWatch agent writes SQL Server logs to on
    /// EC2 and RDS Custom hosts, comma-separated (`''` clears the list);
    /// RDS's exported `error` logs are found without it.
    #[arg(long, value_name = "LOG_GROUP,...")]
    pub sql_log_groups: Option<String>,
    /// Pause the connector's scheduled scans (`rampart serve` skips it;
    /// scans on demand still run).
    #[arg(long, conflicts_with = "resume")]
    pub pause: bool,
    /// Resume the connector's scheduled scans.
    #[arg(long)]
    pub resume: bool,
}

impl PlanSettingsArgs {
    /// Whether any setting is given.
    pub fn any(&self) -> bool {
        self.servers_scope_tags.is_some()
            || self.servers_policy_attach.is_some()
            || self.servers_provisioning.is_some()
            || self.agentless_scanning.is_some()
            || self.agentless_exclusion_tags.is_some()
            || self.cloudtrail.is_some()
            || self.sql_threat_detection.is_some()
            || self.sql_log_groups.is_some()
            || self.pause
            || self.resume
    }
}

/// `rampart containers`.
#[derive(Debug, Args)]
pub struct ContainersArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub command: ContainersCommand,
}

/// `rampart containers` subcommands.
#[derive(Debug, Subcommand)]
pub enum ContainersCommand {
    /// Provision (or plan, or remove) the EKS audit-log pipeline of every
    /// cluster of a connector with the Containers plan.
    Provision(ContainersProvisionArgs),
}

/// `rampart cloudtrail`.
#[derive(Debug, Args)]
pub struct CloudTrailArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub command: CloudTrailCommand,
}

/// `rampart cloudtrail` subcommands.
#[derive(Debug, Subcommand)]
pub enum CloudTrailCommand {
    /// Provision (or plan, or remove) the S3 notification of new log objects
    /// on every trail bucket of a connector with the Servers plan, and its
    /// `rampart-cloudtrail-*` queue (notification mode).
    Provision(ContainersProvisionArgs),
}

/// The connector a plan command works on: AWS access, the store (and
/// `--keys-dir`), the connector and its regions.
#[derive(Debug, Args)]
pub struct ConnectorTargetArgs {
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Store (and `--keys-dir`, where the issuer lives).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector (name or id).
    #[arg(long, value_name = "NAME")]
    pub connector: String,
    /// Regions, comma-separated [default: the connector's, else the home region].
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Option<Vec<String>>,
}

/// `rampart containers provision`.
#[derive(Debug, Args)]
pub struct ContainersProvisionArgs {
    /// The connector, its store and AWS access.
    #[command(flatten)]
    pub target: ConnectorTargetArgs,
    /// Only show what would change.
    #[arg(long, conflicts_with = "remove")]
    pub dry_run: bool,
    /// Tear the pipelines down (the `rampart-*` resources tagged with the connector).
    #[arg(long)]
    pub remove: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart servers`.
#[derive(Debug, Args)]
pub struct ServersArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub command: ServersCommand,
}

/// `rampart servers` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServersCommand {
    /// Provision (or plan, or remove) SSM on the EC2 instances in the scope
    /// of a connector with the Servers plan: instance profile, inventory
    /// and patch-scan associations, Rampart's tags.
    Provision(ServersProvisionArgs),
    /// List the EC2 instances of the latest complete scan with their
    /// Servers-plan coverage (SSM managed, agent, instance profile, patch
    /// and association compliance, software inventory) and why the rest
    /// are not covered.
    List(ServersListArgs),
}

/// `rampart sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub command: SqlCommand,
}

/// `rampart sql` subcommands.
#[derive(Debug, Subcommand)]
pub enum SqlCommand {
    /// List the SQL Servers of the latest complete scan (on EC2, RDS Custom
    /// and RDS) with what found them, the SQL plan's prerequisites and the
    /// vulnerability assessment's findings.
    List(SqlListArgs),
    /// Run the vulnerability assessment now (SSM Run Command, read-only
    /// T-SQL) on a connector's SQL Servers that the latest scan found, or
    /// on one, and print each rule's result with the baselines applied.
    /// Nothing is stored: scans keep their own assessments.
    Assess(SqlAssessArgs),
    /// Accepted vulnerability assessment results (baselines).
    Baseline(SqlBaselineArgs),
    /// Provision (or plan, or remove) the SQL Server log pipelines of a
    /// connector with the SQL plan's threat detection: per log group (RDS
    /// exported `error` logs, the groups the connector names) a
    /// `rampart-sql-*` bucket, queue and delivery stream, and a
    /// subscription on the group.
    Provision(ContainersProvisionArgs),
}

/// `rampart sql assess`.
#[derive(Debug, Args)]
pub struct SqlAssessArgs {
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Store (and `--keys-dir`, where the issuer lives).
    #[command(flatten)]
    pub store: StoreArgs,
    /// The connector (name or id).
    #[arg(long, value_name = "NAME")]
    pub connector: String,
    /// Only this SQL Server: its ARN or its host's instance id.
    #[arg(long, value_name = "SERVER")]
    pub server: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart sql list`.
#[derive(Debug, Args)]
pub struct SqlListArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read this scan instead of the latest complete one.
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart sql baseline`.
#[derive(Debug, Args)]
pub struct SqlBaselineArgs {
    /// The subcommand.
    #[command(subcommand)]
    pub command: SqlBaselineCommand,
}

/// `rampart sql baseline` subcommands.
#[derive(Debug, Subcommand)]
pub enum SqlBaselineCommand {
    /// Accept a rule's result in the latest scan (or `--scan`) as expected:
    /// while it stays the same it is not a finding.
    Accept(SqlBaselineAcceptArgs),
    /// List a server's accepted baselines.
    List(SqlBaselineListArgs),
    /// Remove an accepted baseline.
    Remove(SqlBaselineRemoveArgs),
}

/// Which server's which rule result.
#[derive(Debug, Args)]
pub struct SqlRuleTarget {
    /// The SQL Server: its ARN or its host's id (`i-…`, a DB instance
    /// identifier).
    #[arg(long, value_name = "SERVER")]
    pub server: String,
    /// The rule (`RVA1001`).
    #[arg(long, value_name = "RULE")]
    pub rule: String,
    /// The user database, for database rules.
    #[arg(long, value_name = "DATABASE")]
    pub database: Option<String>,
}

/// `rampart sql baseline accept`.
#[derive(Debug, Args)]
pub struct SqlBaselineAcceptArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The server, rule and database.
    #[command(flatten)]
    pub target: SqlRuleTarget,
    /// Who accepts it (recorded with the baseline).
    #[arg(long, value_name = "NAME")]
    pub by: String,
    /// Read this scan instead of the latest complete one.
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
}

/// `rampart sql baseline list`.
#[derive(Debug, Args)]
pub struct SqlBaselineListArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The SQL Server's ARN.
    #[arg(long, value_name = "SERVER_ARN")]
    pub server: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart sql baseline remove`.
#[derive(Debug, Args)]
pub struct SqlBaselineRemoveArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// The server (its ARN), rule and database.
    #[command(flatten)]
    pub target: SqlRuleTarget,
}

/// `rampart servers list`.
#[derive(Debug, Args)]
pub struct ServersListArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read this scan instead of the latest complete one.
    #[arg(long, value_name = "SCAN_ID")]
    pub scan: Option<String>,
    /// Only this account.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Only this region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Only instances that are not covered.
    #[arg(long)]
    pub uncovered: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart servers provision`.
#[derive(Debug, Args)]
pub struct ServersProvisionArgs {
    /// The connector, its store and AWS access.
    #[command(flatten)]
    pub target: ConnectorTargetArgs,
    /// Only show what would change.
    #[arg(long, conflicts_with = "remove")]
    pub dry_run: bool,
    /// Undo it: the associations, profile associations, tags, role and
    /// profile tagged with the connector.
    #[arg(long)]
    pub remove: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart detect`.
#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The connector, its store and AWS access.
    #[command(flatten)]
    pub target: ConnectorTargetArgs,
    /// Drain the pipelines once and exit (default: keep long-polling until Ctrl-C).
    #[arg(long)]
    pub once: bool,
    /// Long-poll wait per receive, in seconds.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i32).range(0..=20))]
    pub wait: Option<i32>,
    /// How long a message received but not deleted (it failed, or the
    /// process died) stays hidden before it is delivered again, in seconds
    /// [default: the queue's, 5 minutes].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i32).range(0..=43200))]
    pub visibility_timeout: Option<i32>,
    /// Output format of each drain's report.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// `rampart vulndb`.
#[derive(Debug, Args)]
pub struct VulndbArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: VulndbCommand,
}

/// `rampart vulndb` subcommands.
#[derive(Debug, Subcommand)]
pub enum VulndbCommand {
    /// Import OSV records: an ecosystem's `all.zip` dump as downloaded
    /// from osv.dev's bucket, a directory of `*.json` records, or one
    /// record. A record replaces the stored one of the same id; records
    /// that cannot be read are reported and counted.
    Import(VulndbImportArgs),
    /// Per source: records, ecosystems, newest record and last import.
    Status(VulndbStatusArgs),
}

/// `rampart vulndb import`.
#[derive(Debug, Args)]
pub struct VulndbImportArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Dumps (`all.zip`), directories or JSON files to import, each in
    /// its own transaction.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// `rampart vulndb status`.
#[derive(Debug, Args)]
pub struct VulndbStatusArgs {
    /// Store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}
