//! Recommendation metadata, loaded from the TOML files in
//! `data/recommendations/` (compiled in).

use std::collections::BTreeMap;

use rampart_model::Severity;
use serde::{Deserialize, Serialize};

use crate::CatalogError;

/// The recommendation data files, by name.
const FILES: &[(&str, &str)] = &[
    (
        "accessanalyzer.toml",
        include_str!("../data/recommendations/accessanalyzer.toml"),
    ),
    (
        "cloudtrail.toml",
        include_str!("../data/recommendations/cloudtrail.toml"),
    ),
    (
        "cloudwatch.toml",
        include_str!("../data/recommendations/cloudwatch.toml"),
    ),
    (
        "config.toml",
        include_str!("../data/recommendations/config.toml"),
    ),
    (
        "docdb.toml",
        include_str!("../data/recommendations/docdb.toml"),
    ),
    (
        "dynamodb.toml",
        include_str!("../data/recommendations/dynamodb.toml"),
    ),
    ("ec2.toml", include_str!("../data/recommendations/ec2.toml")),
    ("ecr.toml", include_str!("../data/recommendations/ecr.toml")),
    ("efs.toml", include_str!("../data/recommendations/efs.toml")),
    ("eks.toml", include_str!("../data/recommendations/eks.toml")),
    ("elb.toml", include_str!("../data/recommendations/elb.toml")),
    (
        "guardduty.toml",
        include_str!("../data/recommendations/guardduty.toml"),
    ),
    ("iam.toml", include_str!("../data/recommendations/iam.toml")),
    ("kms.toml", include_str!("../data/recommendations/kms.toml")),
    (
        "neptune.toml",
        include_str!("../data/recommendations/neptune.toml"),
    ),
    (
        "machines.toml",
        include_str!("../data/recommendations/machines.toml"),
    ),
    (
        "lambda.toml",
        include_str!("../data/recommendations/lambda.toml"),
    ),
    ("rds.toml", include_str!("../data/recommendations/rds.toml")),
    ("sql.toml", include_str!("../data/recommendations/sql.toml")),
    ("s3.toml", include_str!("../data/recommendations/s3.toml")),
    (
        "secretsmanager.toml",
        include_str!("../data/recommendations/secretsmanager.toml"),
    ),
    (
        "securityhub.toml",
        include_str!("../data/recommendations/securityhub.toml"),
    ),
    ("sns.toml", include_str!("../data/recommendations/sns.toml")),
    ("sqs.toml", include_str!("../data/recommendations/sqs.toml")),
    ("ssm.toml", include_str!("../data/recommendations/ssm.toml")),
    ("ecs.toml", include_str!("../data/recommendations/ecs.toml")),
    (
        "autoscaling.toml",
        include_str!("../data/recommendations/autoscaling.toml"),
    ),
    (
        "elasticbeanstalk.toml",
        include_str!("../data/recommendations/elasticbeanstalk.toml"),
    ),
    (
        "codebuild.toml",
        include_str!("../data/recommendations/codebuild.toml"),
    ),
    (
        "workspaces.toml",
        include_str!("../data/recommendations/workspaces.toml"),
    ),
    (
        "sagemaker.toml",
        include_str!("../data/recommendations/sagemaker.toml"),
    ),
    (
        "redshift.toml",
        include_str!("../data/recommendations/redshift.toml"),
    ),
    (
        "opensearch.toml",
        include_str!("../data/recommendations/opensearch.toml"),
    ),
    (
        "elasticache.toml",
        include_str!("../data/recommendations/elasticache.toml"),
    ),
    ("dms.toml", include_str!("../data/recommendations/dms.toml")),
    ("msk.toml", include_str!("../data/recommendations/msk.toml")),
    ("fsx.toml", include_str!("../data/recommendations/fsx.toml")),
    ("emr.toml", include_str!("../data/recommendations/emr.toml")),
    // --- wt-gov ---
    (
        "network_firewall.toml",
        include_str!("../data/recommendations/network_firewall.toml"),
    ),
    (
        "inspector.toml",
        include_str!("../data/recommendations/inspector.toml"),
    ),
    (
        "governance.toml",
        include_str!("../data/recommendations/governance.toml"),
    ),
    (
        "backup.toml",
        include_str!("../data/recommendations/backup.toml"),
    ),
    (
        "data_platform.toml",
        include_str!("../data/recommendations/data_platform.toml"),
    ),
    (
        "apigateway.toml",
        include_str!("../data/recommendations/apigateway.toml"),
    ),
    (
        "appsync.toml",
        include_str!("../data/recommendations/appsync.toml"),
    ),
    (
        "cognito.toml",
        include_str!("../data/recommendations/cognito.toml"),
    ),
    (
        "kinesis.toml",
        include_str!("../data/recommendations/kinesis.toml"),
    ),
    (
        "stepfunctions.toml",
        include_str!("../data/recommendations/stepfunctions.toml"),
    ),
    (
        "eventbridge.toml",
        include_str!("../data/recommendations/eventbridge.toml"),
    ),
    ("mq.toml", include_str!("../data/recommendations/mq.toml")),
    (
        "transfer.toml",
        include_str!("../data/recommendations/transfer.toml"),
    ),
    (
        "datasync.toml",
        include_str!("../data/recommendations/datasync.toml"),
    ),
    (
        "cloudfront.toml",
        include_str!("../data/recommendations/cloudfront.toml"),
    ),
    (
        "wafv2.toml",
        include_str!("../data/recommendations/wafv2.toml"),
    ),
    ("acm.toml", include_str!("../data/recommendations/acm.toml")),
    (
        "route53.toml",
        include_str!("../data/recommendations/route53.toml"),
    ),
    (
        "shield.toml",
        include_str!("../data/recommendations/shield.toml"),
    ),
    (
        "memorydb.toml",
        include_str!("../data/recommendations/memorydb.toml"),
    ),
];

/// How to fix what a recommendation finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// Steps, in prose.
    pub text: String,
    /// An AWS CLI command (placeholders in `<ANGLE_BRACKETS>`).
    pub cli: String,
    /// A CloudFormation snippet (YAML) showing the fixed setting.
    pub cloudformation: String,
}

/// One recommendation's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recommendation {
    /// Stable id (kebab-case, never reused).
    pub id: String,
    /// Short title, an imperative ("S3 buckets should block public access").
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// What is checked and why it matters.
    pub description: String,
    /// How to fix it.
    pub remediation: Remediation,
    /// The resource type assessed (`AWS::S3::Bucket`, or a `Rampart::` setting type).
    pub resource_type: String,
    /// The security control it counts towards in the secure score.
    pub security_control: String,
    /// Standard controls it maps to, `<standard>:<control id>`.
    #[serde(default)]
    pub standards: Vec<String>,
    /// Preview recommendations are assessed but do not count in the score.
    #[serde(default)]
    pub preview: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    recommendation: Vec<Recommendation>,
}

/// Every recommendation, by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    recommendations: BTreeMap<String, Recommendation>,
}

impl Catalog {
    /// Loads the built-in catalog.
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::from_files(FILES.iter().copied())
    }

    /// Loads a catalog from `(file name, TOML text)` pairs.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, CatalogError> {
        let mut recommendations = BTreeMap::new();
        for (name, text) in files {
            let file: File = toml::from_str(text).map_err(|e| CatalogError::Recommendations {
                file: name.to_owned(),
                reason: e.to_string(),
            })?;
            for rec in file.recommendation {
                if recommendations.contains_key(&rec.id) {
                    return Err(CatalogError::Recommendations {
                        file: name.to_owned(),
                        reason: format!("duplicate recommendation id `{}`", rec.id),
                    });
                }
                recommendations.insert(rec.id.clone(), rec);
            }
        }
        Ok(Self { recommendations })
    }

    /// Checks that `id` names a recommendation; the error says which ids
    /// are closest (`unknown recommendation `x`; did you mean `y`?`).
    pub fn check_id(&self, id: &str) -> Result<(), String> {
        if self.get(id).is_some() {
            return Ok(());
        }
        Err(rampart_model::suggest::unknown(
            "recommendation",
            id,
            &self.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            0,
            Some("see `rampart recommendations` for the ids"),
        ))
    }

    /// One recommendation.
    pub fn get(&self, id: &str) -> Option<&Recommendation> {
        self.recommendations.get(id)
    }

    /// Every recommendation, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Recommendation> {
        self.recommendations.values()
    }

    /// Number of recommendations.
    pub fn len(&self) -> usize {
        self.recommendations.len()
    }

    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.recommendations.is_empty()
    }
}
