//! Collectors: one small type per AWS service, each with static metadata
//! (service, scope, the API operations it may call) and registered in
//! [`COLLECTORS`]. A collector makes API calls through its
//! [`CollectContext`] and emits [`Asset`](rampart_model::Asset)s; the mapping
//! from SDK types to assets is a set of pure functions, unit-tested per
//! collector.

use futures::future::BoxFuture;

use crate::scan::CollectContext;

pub mod accessanalyzer;
pub mod acm;
pub mod apigateway;
pub mod appsync;
pub mod autoscaling;
pub mod cloudfront;
pub mod cloudtrail;
pub mod cloudwatch;
pub mod codebuild;
pub mod cognito;
pub mod config;
pub mod datasync;
pub mod dms;
pub mod dynamodb;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod efs;
pub mod eks;
pub mod elasticache;
pub mod elasticbeanstalk;
pub mod elb;
pub mod emr;
pub mod eventbridge;
pub mod firehose;
pub mod fsx;
pub mod guardduty;
pub mod iam;
pub mod kinesis;
pub mod kms;
pub mod lambda;
pub mod mq;
pub mod msk;
pub mod opensearch;
pub mod organizations;
pub mod rds;
pub mod redshift;
pub mod redshift_serverless;
pub mod route53;
pub mod s3;
pub mod sagemaker;
pub mod secretsmanager;
pub mod securityhub;
pub mod shield;
pub mod sns;
pub mod sqs;
pub mod ssm;
pub mod stepfunctions;
pub mod sts;
// --- wt-gov ---
pub mod account;
pub mod acm_pca;
pub mod athena;
pub mod backup;
pub mod bedrock;
pub mod cloudformation;
pub mod codeartifact;
pub mod connect;
pub mod glue;
pub mod inspector2;
pub mod macie2;
pub mod memorydb;
pub mod network_firewall;
pub mod servicecatalog;
pub mod sso_admin;
pub mod transfer;
mod util;
pub mod wafv2;
pub mod workspaces;

pub use util::*;

/// Where a collector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Once per account, in the home region (IAM, S3 bucket list, Organizations).
    Global,
    /// Once per account and scanned region.
    Regional,
}

/// One API operation a collector may call, and the IAM action that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The API (SDK client) the operation belongs to, as the call counter
    /// keys it (`s3`, `s3control`). Usually the collector's service; the
    /// IAM prefix of [`action`](Self::action) may differ (S3 Control's
    /// actions are `s3:…`).
    pub service: &'static str,
    /// The API operation name, as the SDK names it (`GetBucketPolicy`).
    /// Unique per collector together with [`service`](Self::service).
    pub name: &'static str,
    /// The IAM action that allows it (`s3:GetBucketPolicy`).
    pub action: &'static str,
}

/// Declares an [`Operation`]: `op!("s3", "GetBucketPolicy")` for the usual
/// `service:Operation` action, `op!("s3", "ListBuckets" => "s3:ListAllMyBuckets")`
/// where IAM names the action differently. The first argument is the API
/// (SDK client) the operation belongs to, also for actions with another
/// prefix: `op!("s3control", "GetPublicAccessBlock" => "s3:GetAccountPublicAccessBlock")`.
#[macro_export]
macro_rules! op {
    ($service:literal, $name:literal) => {
        $crate::collectors::Operation {
            service: $service,
            name: $name,
            action: concat!($service, ":", $name),
        }
    };
    ($service:literal, $name:literal => $action:literal) => {
        $crate::collectors::Operation {
            service: $service,
            name: $name,
            action: $action,
        }
    };
}

/// Operations the access layer makes before any collector runs: the
/// credentials check and region discovery.
pub static ACCESS_OPERATIONS: &[Operation] = &[
    op!("sts", "GetCallerIdentity"),
    op!("ec2", "DescribeRegions"),
];

/// Every operation a scan may make: the access layer's and each collector's.
pub fn all_operations() -> impl Iterator<Item = &'static Operation> {
    ACCESS_OPERATIONS
        .iter()
        .chain(COLLECTORS.iter().flat_map(|c| c.meta().operations.iter()))
}

/// Static description of a collector.
#[derive(Debug, Clone, Copy)]
pub struct CollectorMeta {
    /// Service key (the IAM action prefix, `s3`, `ec2`, …; `s3control` for
    /// S3 Control); used in gaps, progress and `--services`.
    pub service: &'static str,
    /// Global or regional.
    pub scope: Scope,
    /// Every API operation the collector may call. The least-privilege
    /// policy is generated from these, and a test checks that a scan makes
    /// no call missing here.
    pub operations: &'static [Operation],
    /// Resource types it emits.
    pub resource_types: &'static [&'static str],
}

/// A collector of one AWS service.
pub trait Collector: Send + Sync {
    /// The collector's static metadata.
    fn meta(&self) -> &'static CollectorMeta;

    /// Collects the service in `ctx`'s account and region. Failed calls are
    /// recorded as gaps through the context; this never fails as a whole.
    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()>;
}

/// Every collector, in the order their tasks are scheduled.
pub static COLLECTORS: &[&dyn Collector] = &[
    &sts::Sts,
    &iam::Iam,
    &s3::S3,
    &ec2::Ec2,
    &cloudtrail::CloudTrail,
    &cloudwatch::CloudWatch,
    &kms::Kms,
    &rds::Rds,
    &config::Config,
    &guardduty::GuardDuty,
    &eks::Eks,
    &ssm::Ssm,
    &organizations::Organizations,
    &lambda::Lambda,
    &elb::Elb,
    &sqs::Sqs,
    &sns::Sns,
    &secretsmanager::SecretsManager,
    &ecr::Ecr,
    &efs::Efs,
    &dynamodb::DynamoDb,
    &accessanalyzer::AccessAnalyzer,
    &securityhub::SecurityHub,
    &ecs::Ecs,
    &autoscaling::AutoScaling,
    &elasticbeanstalk::ElasticBeanstalk,
    &codebuild::CodeBuild,
    &workspaces::WorkSpaces,
    &sagemaker::SageMaker,
    &redshift::Redshift,
    &redshift_serverless::RedshiftServerless,
    &opensearch::OpenSearch,
    &elasticache::ElastiCache,
    &memorydb::MemoryDb,
    &dms::Dms,
    &msk::Msk,
    &fsx::Fsx,
    &emr::Emr,
    // --- wt-gov ---
    &network_firewall::NetworkFirewall,
    &inspector2::Inspector2,
    &macie2::Macie2,
    &acm_pca::AcmPca,
    &connect::Connect,
    &cloudformation::CloudFormation,
    &servicecatalog::ServiceCatalog,
    &account::Account,
    &backup::Backup,
    &glue::Glue,
    &athena::Athena,
    &sso_admin::SsoAdmin,
    &bedrock::Bedrock,
    &codeartifact::CodeArtifact,
    &kinesis::Kinesis,
    &firehose::Firehose,
    &stepfunctions::StepFunctions,
    &eventbridge::EventBridge,
    &mq::Mq,
    &transfer::Transfer,
    &datasync::DataSync,
    &cognito::CognitoUserPools,
    &cognito::CognitoIdentityPools,
    &appsync::AppSync,
    &apigateway::ApiGateway,
    &cloudfront::CloudFront,
    &wafv2::Wafv2,
    &acm::Acm,
    &route53::Route53,
    &shield::Shield,
];

/// Looks a collector up by service key.
pub fn by_service(service: &str) -> Option<&'static dyn Collector> {
    COLLECTORS
        .iter()
        .copied()
        .find(|c| c.meta().service == service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn services_and_operations_are_unique_and_well_formed() {
        let mut services = BTreeSet::new();
        for c in COLLECTORS {
            let meta = c.meta();
            assert!(
                services.insert(meta.service),
                "duplicate service {}",
                meta.service
            );
            let mut names = BTreeSet::new();
            for op in meta.operations {
                assert!(
                    names.insert((op.service, op.name)),
                    "{}: duplicate {}:{}",
                    meta.service,
                    op.service,
                    op.name
                );
                let (prefix, action) = op.action.split_once(':').unwrap_or_default();
                assert!(
                    !prefix.is_empty() && !action.is_empty(),
                    "bad action {}",
                    op.action
                );
                assert!(
                    op.name
                        .chars()
                        .next()
                        .is_some_and(|ch| ch.is_ascii_uppercase())
                );
            }
            assert!(
                !meta.resource_types.is_empty(),
                "{} emits nothing",
                meta.service
            );
        }
    }
}
