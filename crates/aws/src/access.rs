//! All AWS client setup in one place: credentials, region, endpoint
//! override, retries, timeouts, call accounting.
//!
//! Every collector gets its clients from [`AwsAccess`]; nothing else in
//! Rampart builds an SDK client.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns, ResolveDnsError};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use crate::error::{AccessError, classify, one_line};
use crate::rate::AccountRates;
use rampart_model::GapKind;

/// How to reach AWS. Built from CLI flags (or a connector); defaults are
/// what a scan of a real account should use.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Named profile from the shared config files; `None` uses the default chain.
    pub profile: Option<String>,
    /// Endpoint override (an emulator such as moto, or a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Region used for global services and discovery; `None`: from the
    /// profile/environment, else `us-east-1`.
    pub home_region: Option<String>,
    /// Explicit credentials (a connector's); `None` uses the default chain.
    pub credentials: Option<SharedCredentialsProvider>,
    /// Maximum attempts per call, first try included (adaptive retry mode).
    pub max_attempts: u32,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// Timeout of a call, retries included.
    pub call_timeout: Duration,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// The cap on API calls per second per account, shared by the
    /// process's accesses ([`crate::rate`]); `None`: no cap.
    pub account_rate: Option<AccountRates>,
    /// The account these settings reach, whose bucket `account_rate` takes
    /// from (`None`: the process's own credentials, one bucket of their
    /// own).
    pub account: Option<String>,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            profile: None,
            endpoint_url: None,
            home_region: None,
            credentials: None,
            max_attempts: 5,
            attempt_timeout: Duration::from_secs(20),
            call_timeout: Duration::from_secs(90),
            connect_timeout: Duration::from_secs(5),
            account_rate: None,
            account: None,
        }
    }
}

impl AwsSettings {
    /// These settings reaching `account` (its calls take from its bucket
    /// when a per-account cap is set).
    #[must_use]
    pub fn for_account(mut self, account: &str) -> Self {
        self.account = Some(account.to_owned());
        self
    }
}

/// Count of API calls (attempts, retries included) per service and operation.
#[derive(Debug, Default)]
pub struct CallStats {
    counts: Mutex<BTreeMap<(String, String), u64>>,
}

impl CallStats {
    fn record(&self, service: &str, operation: &str) {
        if let Ok(mut counts) = self.counts.lock() {
            *counts
                .entry((service.to_owned(), operation.to_owned()))
                .or_insert(0) += 1;
        }
    }

    /// Calls so far, by `(service, operation)`.
    pub fn snapshot(&self) -> BTreeMap<(String, String), u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Total calls so far.
    pub fn total(&self) -> u64 {
        self.counts
            .lock()
            .map(|c| c.values().sum())
            .unwrap_or_default()
    }
}

/// Interceptor that counts every attempt an SDK client transmits.
#[derive(Debug, Clone)]
struct CallCounter {
    service: &'static str,
    stats: Arc<CallStats>,
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "RampartCallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map_or("unknown", Metadata::name);
        self.stats.record(self.service, operation);
        Ok(())
    }
}

/// Forbids retrying an HTTP 500 whose body is an HTML page: AWS answers
/// errors in XML or JSON, so such a response comes from an endpoint that
/// does not implement the call (an emulator), and retrying only wastes calls.
#[derive(Debug, Clone, Copy)]
struct NoRetryOnHtml500;

impl ClassifyRetry for NoRetryOnHtml500 {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let html_500 = ctx.response().is_some_and(|response| {
            response.status().as_u16() == 500
                && response.body().bytes().is_some_and(|b| {
                    let head = String::from_utf8_lossy(b.get(..32).unwrap_or(b)).to_lowercase();
                    let head = head.trim_start();
                    head.starts_with("<!doctype html") || head.starts_with("<html")
                })
        });
        if html_500 {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "RampartNoRetryOnHtml500"
    }
}

/// Resolves host names below an endpoint override's host (`123456789012.localhost`,
/// `bucket.127.0.0.1`) to the endpoint's own address. Endpoint rules put account
/// ids and bucket names in front of the host (S3 Control, S3 virtual hosting);
/// with an emulator on loopback those names resolve nowhere.
#[derive(Debug, Clone)]
struct EndpointResolver {
    host: String,
}

impl ResolveDns for EndpointResolver {
    fn resolve_dns<'a>(&'a self, name: &'a str) -> DnsFuture<'a> {
        let target = if name == self.host || name.ends_with(&format!(".{}", self.host)) {
            self.host.clone()
        } else {
            name.to_owned()
        };
        DnsFuture::new(async move {
            if let Ok(ip) = target.trim_matches(['[', ']']).parse::<IpAddr>() {
                return Ok(vec![ip]);
            }
            let addrs = tokio::net::lookup_host((target.as_str(), 0))
                .await
                .map_err(ResolveDnsError::new)?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Regions as the account sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionList {
    /// Every region the endpoint knows.
    pub known: Vec<String>,
    /// Regions enabled for the account.
    pub enabled: Vec<String>,
}

/// The identity behind the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// Account id.
    pub account: String,
    /// ARN of the calling principal.
    pub arn: String,
    /// Unique id of the calling principal.
    pub user_id: String,
}

/// Configured access to one AWS account: the one place SDK clients come from.
#[derive(Debug, Clone)]
pub struct AwsAccess {
    base: SdkConfig,
    home_region: String,
    endpoint_url: Option<String>,
    stats: Arc<CallStats>,
}

macro_rules! clients {
    ($( $(#[$doc:meta])* $fn_name:ident => $krate:ident, $service:literal; )*) => {
        impl AwsAccess {
            $(
                $(#[$doc])*
                pub fn $fn_name(&self, region: &str) -> $krate::Client {
                    let config = $krate::config::Builder::from(&self.config_for(region))
                        .interceptor(CallCounter { service: $service, stats: self.stats.clone() })
                        .retry_classifier(NoRetryOnHtml500)
                        .build();
                    $krate::Client::from_conf(config)
                }
            )*
        }
    };
}

clients! {
    /// STS client for a region.
    sts => aws_sdk_sts, "sts";
    /// IAM client (global; pass the home region).
    iam => aws_sdk_iam, "iam";
    /// EC2 client for a region.
    ec2 => aws_sdk_ec2, "ec2";
    /// CloudTrail client for a region.
    cloudtrail => aws_sdk_cloudtrail, "cloudtrail";
    /// KMS client for a region.
    kms => aws_sdk_kms, "kms";
    /// RDS client for a region.
    rds => aws_sdk_rds, "rds";
    /// AWS Config client for a region.
    config => aws_sdk_config, "config";
    /// GuardDuty client for a region.
    guardduty => aws_sdk_guardduty, "guardduty";
    /// EKS client for a region.
    eks => aws_sdk_eks, "eks";
    /// SSM client for a region.
    ssm => aws_sdk_ssm, "ssm";
    /// Organizations client (global; pass the home region).
    organizations => aws_sdk_organizations, "organizations";
    /// Lambda client for a region.
    lambda => aws_sdk_lambda, "lambda";
    /// Elastic Load Balancing v2 (ALB/NLB/GWLB) client for a region.
    elbv2 => aws_sdk_elasticloadbalancingv2, "elbv2";
    /// Classic Load Balancing client for a region.
    elb => aws_sdk_elasticloadbalancing, "elb";
    /// CloudWatch client for a region.
    cloudwatch => aws_sdk_cloudwatch, "cloudwatch";
    /// SQS client for a region.
    sqs => aws_sdk_sqs, "sqs";
    /// SNS client for a region.
    sns => aws_sdk_sns, "sns";
    /// Secrets Manager client for a region.
    secretsmanager => aws_sdk_secretsmanager, "secretsmanager";
    /// ECR client for a region.
    ecr => aws_sdk_ecr, "ecr";
    /// EFS client for a region.
    efs => aws_sdk_efs, "efs";
    /// DynamoDB client for a region.
    dynamodb => aws_sdk_dynamodb, "dynamodb";
    /// IAM Access Analyzer client for a region.
    accessanalyzer => aws_sdk_accessanalyzer, "accessanalyzer";
    /// Security Hub client for a region.
    securityhub => aws_sdk_securityhub, "securityhub";
    /// S3 Control client (account-level S3 settings).
    s3control => aws_sdk_s3control, "s3control";
    /// Amazon Data Firehose client for a region.
    firehose => aws_sdk_firehose, "firehose";
    /// CloudWatch Logs client for a region.
    logs => aws_sdk_cloudwatchlogs, "logs";
    /// EBS direct APIs client for a region (reading snapshot blocks).
    ebs => aws_sdk_ebs, "ebs";
    /// CloudFront client (global; pass the home region).
    cloudfront => aws_sdk_cloudfront, "cloudfront";
    /// AWS WAF v2 client for a region (`us-east-1` for CloudFront's scope).
    wafv2 => aws_sdk_wafv2, "wafv2";
    /// ACM client for a region.
    acm => aws_sdk_acm, "acm";
    /// Route 53 client (global; pass the home region).
    route53 => aws_sdk_route53, "route53";
    /// Route 53 Domains client (its API is in `us-east-1` only).
    route53domains => aws_sdk_route53domains, "route53domains";
    /// API Gateway (REST APIs) client for a region.
    apigateway => aws_sdk_apigateway, "apigateway";
    /// API Gateway v2 (HTTP and WebSocket APIs) client for a region.
    apigatewayv2 => aws_sdk_apigatewayv2, "apigatewayv2";
    /// AppSync client for a region.
    appsync => aws_sdk_appsync, "appsync";
    /// Cognito user pools client for a region.
    cognito_idp => aws_sdk_cognitoidentityprovider, "cognito-idp";
    /// Cognito identity pools client for a region.
    cognito_identity => aws_sdk_cognitoidentity, "cognito-identity";
    /// Step Functions client for a region.
    sfn => aws_sdk_sfn, "states";
    /// EventBridge client for a region.
    eventbridge => aws_sdk_eventbridge, "events";
    /// Amazon MQ client for a region.
    mq => aws_sdk_mq, "mq";
    /// Kinesis Data Streams client for a region.
    kinesis => aws_sdk_kinesis, "kinesis";
    /// Transfer Family client for a region.
    transfer => aws_sdk_transfer, "transfer";
    /// DataSync client for a region.
    datasync => aws_sdk_datasync, "datasync";
    /// Redshift client for a region.
    redshift => aws_sdk_redshift, "redshift";
    /// Redshift Serverless client for a region.
    redshift_serverless => aws_sdk_redshiftserverless, "redshift-serverless";
    /// OpenSearch Service client for a region (also Elasticsearch domains).
    opensearch => aws_sdk_opensearch, "es";
    /// EMR client for a region.
    emr => aws_sdk_emr, "elasticmapreduce";
    /// ECS client for a region.
    ecs => aws_sdk_ecs, "ecs";
    /// EC2 Auto Scaling client for a region.
    autoscaling => aws_sdk_autoscaling, "autoscaling";
    /// Elastic Beanstalk client for a region.
    elasticbeanstalk => aws_sdk_elasticbeanstalk, "elasticbeanstalk";
    /// CodeBuild client for a region.
    codebuild => aws_sdk_codebuild, "codebuild";
    /// WorkSpaces client for a region.
    workspaces => aws_sdk_workspaces, "workspaces";
    /// SageMaker client for a region.
    sagemaker => aws_sdk_sagemaker, "sagemaker";
    /// ElastiCache client for a region.
    elasticache => aws_sdk_elasticache, "elasticache";
    /// Database Migration Service client for a region.
    dms => aws_sdk_databasemigration, "dms";
    /// MSK client for a region.
    kafka => aws_sdk_kafka, "kafka";
    /// MSK Connect client for a region.
    kafkaconnect => aws_sdk_kafkaconnect, "kafkaconnect";
    /// FSx client for a region.
    fsx => aws_sdk_fsx, "fsx";
    /// AWS Backup client for a region.
    backup => aws_sdk_backup, "backup";
    /// Glue client for a region.
    glue => aws_sdk_glue, "glue";
    /// Athena client for a region.
    athena => aws_sdk_athena, "athena";
    /// Network Firewall client for a region.
    network_firewall => aws_sdk_networkfirewall, "network-firewall";
    /// Amazon Inspector client for a region.
    inspector2 => aws_sdk_inspector2, "inspector2";
    /// Macie client for a region.
    macie2 => aws_sdk_macie2, "macie2";
    /// AWS Private CA client for a region.
    acm_pca => aws_sdk_acmpca, "acm-pca";
    /// Amazon Connect client for a region.
    connect => aws_sdk_connect, "connect";
    /// CloudFormation client for a region.
    cloudformation => aws_sdk_cloudformation, "cloudformation";
    /// Service Catalog client for a region.
    servicecatalog => aws_sdk_servicecatalog, "servicecatalog";
    /// Account Management client (global; pass the home region).
    account => aws_sdk_account, "account";
    /// Shield Advanced client (global; pass `us-east-1`).
    shield => aws_sdk_shield, "shield";
    /// IAM Identity Center administration client for a region.
    sso_admin => aws_sdk_ssoadmin, "sso";
    /// Bedrock client for a region.
    bedrock => aws_sdk_bedrock, "bedrock";
    /// CodeArtifact client for a region.
    codeartifact => aws_sdk_codeartifact, "codeartifact";
    /// MemoryDB client for a region.
    memorydb => aws_sdk_memorydb, "memorydb";
}

impl AwsAccess {
    /// Loads credentials and configuration. Does not call AWS.
    ///
    /// With explicit [`AwsSettings::credentials`] the SDK's identity cache
    /// is off: Rampart's providers ([`crate::credentials`]) cache and refresh
    /// themselves, with their own margin and clock.
    pub async fn load(settings: &AwsSettings) -> Result<Self, AccessError> {
        let (base, home_region, endpoint_url) = sdk_config(settings, Signing::Settings).await?;
        Ok(Self {
            base,
            home_region,
            endpoint_url,
            stats: Arc::new(CallStats::default()),
        })
    }

    /// The region used for global services and discovery.
    pub fn home_region(&self) -> &str {
        &self.home_region
    }

    /// The endpoint override, if any.
    pub fn endpoint_url(&self) -> Option<&str> {
        self.endpoint_url.as_deref()
    }

    /// API calls made through this access so far.
    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    /// The SDK configuration for one region.
    pub fn config_for(&self, region: &str) -> SdkConfig {
        self.base
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build()
    }

    /// S3 client for a region; path-style addressing when an endpoint
    /// override is set (emulators do not serve virtual-hosted buckets).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.config_for(region))
            .interceptor(CallCounter {
                service: "s3",
                stats: self.stats.clone(),
            })
            .retry_classifier(NoRetryOnHtml500)
            .force_path_style(self.endpoint_url.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Who the credentials belong to (STS `GetCallerIdentity`). The first
    /// call of every scan: it proves the endpoint answers and the
    /// credentials are accepted.
    pub async fn caller_identity(&self) -> Result<CallerIdentity, AccessError> {
        let out = self
            .sts(&self.home_region)
            .get_caller_identity()
            .send()
            .await
            .map_err(|err| {
                if let Some(exchange) = crate::credentials::exchange_failure(&err) {
                    return AccessError::Credentials(exchange.to_string());
                }
                let failure = classify(&err);
                let chain = one_line(&crate::error::error_chain(&err));
                if failure.kind != GapKind::AccessDenied && chain.contains("credentials") {
                    return AccessError::Credentials(format!(
                        "no usable credentials ({}); set `--profile`, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
                        short_reason(&chain)
                    ));
                }
                match failure.kind {
                    GapKind::Unreachable | GapKind::Timeout => AccessError::Unreachable {
                        endpoint: self.endpoint_description(),
                        reason: short_reason(&chain),
                    },
                    GapKind::AccessDenied => AccessError::Credentials(failure.message),
                    _ if chain.contains("credential") || chain.contains("profile") => {
                        AccessError::Credentials(short_reason(&chain))
                    }
                    _ => AccessError::Unreachable {
                        endpoint: self.endpoint_description(),
                        reason: failure.message,
                    },
                }
            })?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }

    /// Regions the endpoint knows and those enabled for the account
    /// (EC2 `DescribeRegions` with `AllRegions`).
    pub async fn regions(&self) -> Result<RegionList, AccessError> {
        let out = self
            .ec2(&self.home_region)
            .describe_regions()
            .all_regions(true)
            .send()
            .await
            .map_err(|err| AccessError::RegionDiscovery(classify(&err).message))?;
        let mut known = Vec::new();
        let mut enabled = Vec::new();
        for region in out.regions() {
            let Some(name) = region.region_name() else {
                continue;
            };
            known.push(name.to_owned());
            if region.opt_in_status() != Some("not-opted-in") {
                enabled.push(name.to_owned());
            }
        }
        known.sort();
        enabled.sort();
        Ok(RegionList { known, enabled })
    }

    fn endpoint_description(&self) -> String {
        self.endpoint_url
            .clone()
            .unwrap_or_else(|| format!("AWS ({})", self.home_region))
    }
}

/// How the requests of an SDK configuration are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signing {
    /// With the settings' credentials (explicit provider, profile or default chain).
    Settings,
    /// Not at all: no credentials provider (STS `AssumeRoleWithWebIdentity`).
    Anonymous,
}

/// The SDK configuration every client starts from: retries, timeouts,
/// profile, credentials and endpoint override. Returns it with the home
/// region and the validated endpoint override.
async fn sdk_config(
    settings: &AwsSettings,
    signing: Signing,
) -> Result<(SdkConfig, String, Option<String>), AccessError> {
    let endpoint = settings
        .endpoint_url
        .as_deref()
        .map(validate_endpoint)
        .transpose()?;
    if let Some(region) = &settings.home_region {
        validate_region_syntax(region)?;
    }
    let retry = RetryConfig::adaptive()
        .with_max_attempts(settings.max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20));
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(settings.connect_timeout)
        .operation_attempt_timeout(settings.attempt_timeout)
        .operation_timeout(settings.call_timeout)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(profile) = &settings.profile {
        check_profile(profile, &ProfileFiles::from_env())?;
        loader = loader.profile_name(profile);
    }
    match (signing, &settings.credentials) {
        (Signing::Anonymous, _) => loader = loader.no_credentials(),
        (Signing::Settings, Some(credentials)) => {
            loader = loader
                .credentials_provider(credentials.clone())
                .identity_cache(IdentityCache::no_cache());
        }
        (Signing::Settings, None) => {}
    }
    let builder = || {
        aws_smithy_http_client::Builder::new().tls_provider(
            aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ),
        )
    };
    let http = match &endpoint {
        Some((url, host)) => {
            loader = loader.endpoint_url(url.clone());
            Some(builder().build_with_resolver(EndpointResolver { host: host.clone() }))
        }
        // The SDK's own client, unless calls are capped.
        None => settings
            .account_rate
            .as_ref()
            .map(|_| builder().build_https()),
    };
    if let Some(http) = http {
        let http = match &settings.account_rate {
            Some(rates) => rates.cap(
                http,
                settings
                    .account
                    .as_deref()
                    .unwrap_or(crate::rate::DEFAULT_CREDENTIALS),
            ),
            None => http,
        };
        loader = loader.http_client(http);
    }
    let base = loader.load().await;
    let home_region = settings
        .home_region
        .clone()
        .or_else(|| base.region().map(|r| r.as_ref().to_owned()))
        .unwrap_or_else(|| "us-east-1".to_owned());
    Ok((base, home_region, endpoint.map(|(url, _)| url)))
}

/// The STS client a credentials provider exchanges credentials with
/// (`AssumeRoleWithWebIdentity`, `AssumeRole`), in the home region, set up
/// like every other client from `settings`; its calls are counted in `stats`.
pub(crate) async fn exchange_sts(
    settings: &AwsSettings,
    signing: Signing,
    stats: Arc<CallStats>,
) -> Result<aws_sdk_sts::Client, AccessError> {
    let (base, home_region, _) = sdk_config(settings, signing).await?;
    let config = base.to_builder().region(Region::new(home_region)).build();
    let config = aws_sdk_sts::config::Builder::from(&config)
        .interceptor(CallCounter {
            service: "sts",
            stats,
        })
        .retry_classifier(NoRetryOnHtml500)
        .build();
    Ok(aws_sdk_sts::Client::from_conf(config))
}

/// The shared config and credentials files, as the SDK finds them.
#[derive(Debug, Clone)]
pub(crate) struct ProfileFiles {
    config: std::path::PathBuf,
    credentials: std::path::PathBuf,
}

impl ProfileFiles {
    /// AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else `~/.aws/…`.
    fn from_env() -> Self {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(std::path::PathBuf::from)
            .unwrap_or_default();
        let file = |var: &str, name: &str| {
            std::env::var_os(var)
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| home.join(".aws").join(name))
        };
        Self {
            config: file("AWS_CONFIG_FILE", "config"),
            credentials: file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        }
    }
}

/// Checks that `name` is a profile of the config file (`[profile NAME]`,
/// or `[default]`) or of the credentials file (`[NAME]`), or `default`: a missing
/// profile is an error saying where Rampart looked, not a credentials
/// failure later on.
pub(crate) fn check_profile(name: &str, files: &ProfileFiles) -> Result<(), AccessError> {
    // `default` needs no section: the rest of the chain (environment,
    // instance role) still applies.
    if name == "default" {
        return Ok(());
    }
    let sections = |path: &std::path::Path, config: bool| -> Option<Vec<String>> {
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .filter_map(|line| {
                    let inner = line.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
                    let name = if config {
                        match inner.strip_prefix("profile") {
                            Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim(),
                            _ if inner == "default" => inner,
                            _ => return None,
                        }
                    } else {
                        inner
                    };
                    Some(name.to_owned())
                })
                .collect(),
        )
    };
    let config = sections(&files.config, true);
    let credentials = sections(&files.credentials, false);
    let mut known: Vec<String> = config
        .iter()
        .chain(credentials.iter())
        .flatten()
        .cloned()
        .collect();
    if known.iter().any(|k| k == name) {
        return Ok(());
    }
    known.sort();
    known.dedup();
    let hint = if config.is_none() && credentials.is_none() {
        " (neither file exists)".to_owned()
    } else {
        let names: Vec<&str> = known.iter().map(String::as_str).collect();
        rampart_model::suggest::did_you_mean(name, &names, 10)
            .map(|h| format!("; {h}"))
            .unwrap_or_else(|| "; no profiles are defined there".to_owned())
    };
    Err(AccessError::UnknownProfile {
        name: name.to_owned(),
        config: files.config.display().to_string(),
        credentials: files.credentials.display().to_string(),
        hint,
    })
}

/// Keeps the most specific part of an SDK error chain.
fn short_reason(chain: &str) -> String {
    let parts: Vec<&str> = chain.split(": ").collect();
    let tail: Vec<&str> = parts.iter().rev().take(2).rev().copied().collect();
    tail.join(": ")
}

/// Checks an endpoint override and returns it with its host.
fn validate_endpoint(url: &str) -> Result<(String, String), AccessError> {
    let malformed = |reason: &str| AccessError::MalformedEndpoint {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = url::Url::parse(url).map_err(|e| malformed(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(malformed("the scheme must be `http` or `https`"));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| malformed("it has no host"))?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(malformed("it must not have a query or fragment"));
    }
    Ok((url.trim_end_matches('/').to_owned(), host.to_owned()))
}

/// Checks that a region name is shaped like an AWS region code.
pub fn validate_region_syntax(region: &str) -> Result<(), AccessError> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if well_formed {
        Ok(())
    } else {
        Err(AccessError::MalformedRegion(region.to_owned()))
    }
}

/// Checks requested regions against the account's region list. Returns the
/// regions to scan and those requested but not enabled.
pub fn resolve_regions(
    requested: Option<&[String]>,
    list: &RegionList,
) -> Result<(Vec<String>, Vec<String>), AccessError> {
    let Some(requested) = requested else {
        return Ok((list.enabled.clone(), Vec::new()));
    };
    let mut scan = Vec::new();
    let mut disabled = Vec::new();
    for region in requested {
        validate_region_syntax(region)?;
        if !list.known.contains(region) {
            return Err(AccessError::UnknownRegion {
                region: region.clone(),
                known: list.known.join(", "),
            });
        }
        if list.enabled.contains(region) {
            if !scan.contains(region) {
                scan.push(region.clone());
            }
        } else if !disabled.contains(region) {
            disabled.push(region.clone());
        }
    }
    Ok((scan, disabled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_validation() {
        assert!(validate_endpoint("http://127.0.0.1:5000").is_ok());
        assert_eq!(
            validate_endpoint("http://localhost:5000/").ok(),
            Some(("http://localhost:5000".to_owned(), "localhost".to_owned()))
        );
        for bad in [
            "127.0.0.1:5000",
            "ftp://x",
            "http://",
            "not a url",
            "http://h/?q=1",
        ] {
            let err = validate_endpoint(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref()
                    .is_some_and(|e| e.starts_with("malformed endpoint URL")),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn a_missing_profile_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let files = ProfileFiles {
            config: dir.path().join("config"),
            credentials: dir.path().join("credentials"),
        };
        assert!(check_profile("default", &files).is_ok());
        let err = check_profile("audit", &files).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "no profile `audit` in `{}` or `{}` (neither file exists)",
                files.config.display(),
                files.credentials.display()
            )
        );
        std::fs::write(
            &files.config,
            "[default]\nregion = us-east-1\n[profile auditor]\nregion = eu-west-1\n",
        )
        .unwrap();
        std::fs::write(&files.credentials, "[ci]\naws_access_key_id = x\n").unwrap();
        for good in ["default", "auditor", "ci"] {
            assert!(check_profile(good, &files).is_ok(), "{good}");
        }
        let err = check_profile("audit", &files).unwrap_err().to_string();
        assert!(err.ends_with("; did you mean `auditor`?"), "{err}");
        let err = check_profile("zzzzzz", &files).unwrap_err().to_string();
        assert!(
            err.ends_with("; valid values: `auditor`, `ci` and `default`"),
            "{err}"
        );
    }

    #[test]
    fn region_syntax() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-5",
        ] {
            assert!(validate_region_syntax(good).is_ok(), "{good}");
        }
        for bad in ["useast1", "US-EAST-1", "us-east-", "us-east-x", ""] {
            assert!(validate_region_syntax(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolving_requested_regions() {
        let list = RegionList {
            known: vec!["af-south-1".into(), "eu-west-1".into(), "us-east-1".into()],
            enabled: vec!["eu-west-1".into(), "us-east-1".into()],
        };
        let all = resolve_regions(None, &list).ok();
        assert_eq!(all, Some((list.enabled.clone(), vec![])));
        let req = vec![
            "us-east-1".to_owned(),
            "af-south-1".to_owned(),
            "us-east-1".to_owned(),
        ];
        assert_eq!(
            resolve_regions(Some(&req), &list).ok(),
            Some((vec!["us-east-1".to_owned()], vec!["af-south-1".to_owned()]))
        );
        let unknown = vec!["us-east-9".to_owned()];
        let err = resolve_regions(Some(&unknown), &list)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown region `us-east-9` (known regions: af-south-1, eu-west-1, us-east-1)")
        );
    }

    #[tokio::test]
    async fn resolver_maps_prefixed_hosts_to_endpoint_host() {
        let resolver = EndpointResolver {
            host: "127.0.0.1".to_owned(),
        };
        let ips = resolver.resolve_dns("123456789012.127.0.0.1").await.ok();
        assert_eq!(
            ips,
            Some(vec![
                "127.0.0.1"
                    .parse::<IpAddr>()
                    .unwrap_or(IpAddr::from([0, 0, 0, 0]))
            ])
        );
    }
}
