//! Recommendation logic: one plain function per recommendation, registered
//! with its id in its service module's `RULES`. Metadata lives in
//! `data/recommendations/`; a test checks the two match one to one.
//!
//! A rule sees its subject asset through [`Props`] and the rest of the
//! snapshot through [`Inventory`]. Reading a property the scan could not
//! read returns [`Unreadable`]; propagate it with `?` and the assessment
//! becomes `error`.

use std::borrow::Cow;

use rampart_model::Evidence;

use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

mod accessanalyzer;
mod acm;
mod apis;
mod appint;
mod autoscaling;
mod cloudfront;
mod cloudtrail;
mod cloudwatch;
mod codebuild;
mod config;
mod dms;
mod docdb;
mod dynamodb;
mod ec2;
mod ecr;
mod ecs;
mod efs;
mod eks;
mod elasticache;
mod elasticbeanstalk;
mod elb;
mod emr;
mod fsx;
mod guardduty;
mod iam;
mod kinesis;
mod kms;
mod lambda;
mod machines;
mod memorydb;
mod msk;
mod neptune;
mod opensearch;
pub(crate) mod policy;
mod rds;
mod redshift;
mod redshift_serverless;
mod route53;
mod s3;
mod sagemaker;
mod secretsmanager;
mod securityhub;
mod shield;
mod sns;
mod sql;
mod sqs;
mod ssm;
mod workspaces;
// --- wt-gov ---
mod backup;
mod data_platform;
mod governance;
mod inspector;
mod network_firewall;
mod wafv2;

/// What a rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Meets the recommendation.
    Healthy,
    /// Does not.
    Unhealthy,
    /// Does not apply.
    NotApplicable,
}

/// A rule's outcome: verdict, one sentence, evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence a person can act on (most are fixed text: no
    /// allocation per assessment).
    pub reason: Cow<'static, str>,
    /// Property paths and values the verdict rests on.
    pub evidence: Vec<Evidence>,
}

impl Outcome {
    /// A healthy outcome.
    pub fn healthy(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            verdict: Verdict::Healthy,
            reason: reason.into(),
            evidence: Vec::new(),
        }
    }

    /// An unhealthy outcome.
    pub fn unhealthy(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            verdict: Verdict::Unhealthy,
            reason: reason.into(),
            evidence: Vec::new(),
        }
    }

    /// A not-applicable outcome.
    pub fn not_applicable(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            verdict: Verdict::NotApplicable,
            reason: reason.into(),
            evidence: Vec::new(),
        }
    }

    /// Adds evidence.
    #[must_use]
    pub fn with(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    /// Healthy or unhealthy depending on `ok`.
    pub fn either(
        ok: bool,
        healthy: impl Into<Cow<'static, str>>,
        unhealthy: impl Into<Cow<'static, str>>,
    ) -> Self {
        if ok {
            Self::healthy(healthy)
        } else {
            Self::unhealthy(unhealthy)
        }
    }
}

/// A rule's logic.
pub type Check = fn(&Props<'_>, &Inventory) -> Result<Outcome, Unreadable>;

/// A recommendation's logic, by id.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The recommendation id (as in the metadata).
    pub id: &'static str,
    /// The logic.
    pub check: Check,
}

/// Every rule.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    [
        accessanalyzer::RULES,
        cloudtrail::RULES,
        cloudwatch::RULES,
        config::RULES,
        docdb::RULES,
        dynamodb::RULES,
        ec2::RULES,
        ecr::RULES,
        efs::RULES,
        eks::RULES,
        elb::RULES,
        guardduty::RULES,
        iam::RULES,
        kms::RULES,
        lambda::RULES,
        neptune::RULES,
        machines::RULES,
        rds::RULES,
        s3::RULES,
        secretsmanager::RULES,
        securityhub::RULES,
        sns::RULES,
        sql::RULES,
        sqs::RULES,
        ssm::RULES,
        ecs::RULES,
        autoscaling::RULES,
        elasticbeanstalk::RULES,
        codebuild::RULES,
        workspaces::RULES,
        sagemaker::RULES,
        redshift::RULES,
        redshift_serverless::RULES,
        opensearch::RULES,
        elasticache::RULES,
        dms::RULES,
        msk::RULES,
        fsx::RULES,
        emr::RULES,
        // --- wt-gov ---
        network_firewall::RULES,
        inspector::RULES,
        governance::RULES,
        governance::EXTRA_RULES,
        backup::RULES,
        data_platform::RULES,
        kinesis::RULES,
        appint::RULES,
        apis::RULES,
        cloudfront::RULES,
        wafv2::RULES,
        acm::RULES,
        route53::RULES,
        shield::RULES,
        memorydb::RULES,
    ]
    .into_iter()
    .flatten()
}

/// The rule for a recommendation id.
pub fn get(id: &str) -> Option<&'static Rule> {
    all().find(|r| r.id == id)
}
