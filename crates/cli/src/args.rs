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

/// Rampart's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan an AWS account: inventory every enabled (or given) region.
    Scan(ScanArgs),
    /// List the assets of the latest complete scan (or a given one).
    Inventory(InventoryArgs),
    /// List past scans, newest first.
    Scans(ScansArgs),
    /// Re-evaluate a stored snapshot (e.g. after changing exemptions).
    Evaluate(EvaluateArgs),
    /// The secure score, overall and per security control.
    Score(ScoreArgs),
    /// Recommendations with their unhealthy, healthy and other resources.
    Recommendations(RecommendationsArgs),
    /// Regulatory compliance with a standard, control by control.
    Compliance(ComplianceArgs),
    /// Export findings: rampart.assessments/v1 JSON, OCSF, CSV, SARIF or HTML.
    Findings(FindingsArgs),
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

/// `rampart score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Scan to read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Only this account's resources.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
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
    /// Standard: aws-fsbp, cis-aws-3.0, cis-aws-4.0 or pci-dss-4.0.
    pub standard: String,
    /// Scan to read.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FindingsFormat {
    /// rampart.assessments/v1 (see docs/findings.md).
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
    /// The store file [default: the user's data directory, rampart/rampart.db].
    #[arg(long, env = "RAMPART_DB", value_name = "PATH")]
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
    /// Only these services, comma-separated (sts, iam, s3, ec2, cloudtrail,
    /// kms, rds, config, guardduty, eks, ssm, organizations).
    #[arg(long, value_delimiter = ',', value_name = "SERVICE,...")]
    pub services: Option<Vec<String>>,
    /// API calls in flight at once per service and region.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Don't draw progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Evaluation options.
    #[command(flatten)]
    pub evaluation: EvaluationArgs,
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
    /// Only this region.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Only this account.
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
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
