//! Log pipelines Rampart provisions in a customer's account and consumes
//! (design.md section 9): CloudWatch Logs → Firehose → S3 → SQS.
//!
//! * [`containers`] — the Containers plan's audit-log pipeline per EKS
//!   cluster: [`containers::plan`] (dry run), [`containers::apply`],
//!   [`containers::plan_removal`], [`containers::remove`],
//!   [`containers::check`].
//! * [`servers`] — the Servers plan's SSM provisioning per account: an
//!   instance profile for instances without one, State Manager
//!   associations for software inventory and patch scans
//!   ([`servers::plan`], [`servers::apply`], [`servers::plan_removal`],
//!   [`servers::remove`]).
//! * [`consumer`] — long-polls a pipeline queue, reads the objects its S3
//!   notifications name, and hands the log events to a sink; a message is
//!   deleted only after the sink stored all of its events.
//! * [`decode`] — pure decoding of notifications and Firehose objects.
//!
//! Every failed AWS call is data ([`PipelineError`] on its step or object),
//! never a panic.
//!
//! ```no_run
//! use rampart_aws::AwsAccess;
//! use rampart_aws::pipeline::consumer::{Consumer, ConsumerOptions, EventSink, LogRecord, QueueSource};
//! use rampart_aws::pipeline::containers::{self, ApplyOptions, Action, Clients, ClusterPipeline};
//!
//! struct Store;
//! impl EventSink for Store {
//!     async fn store(&self, records: Vec<LogRecord>) -> Result<(), String> {
//!         // Store the events (idempotently) and their alerts; then Ok.
//!         Ok(())
//!     }
//! }
//!
//! # async fn example(k8s: AwsAccess, data_collection: AwsAccess) -> Result<(), Box<dyn std::error::Error>> {
//! // `k8s`: the kubernetesService role's access; `data_collection`: the
//! // kubernetesDataCollection role's.
//! let pipeline = ClusterPipeline {
//!     account: "123456789012".into(),
//!     region: "eu-west-1".into(),
//!     cluster: "prod".into(),
//!     connector_id: "c0ffee00-0000-4000-8000-000000000001".into(),
//!     connector_name: "prod".into(),
//!     retention_days: 30,
//!     cloudwatch_to_kinesis_role_arn: "arn:aws:iam::123456789012:role/RampartContainersCloudWatchToKinesis".into(),
//!     kinesis_to_s3_role_arn: "arn:aws:iam::123456789012:role/RampartContainersKinesisToS3".into(),
//! };
//! let clients = Clients::new(&k8s, &pipeline.region);
//! let plan = containers::plan(&clients, &pipeline).await?; // dry run
//! if plan.steps.iter().any(|s| s.action != Action::None) {
//!     let report = containers::apply(&clients, &pipeline, ApplyOptions::default()).await?;
//!     for failed in report.failures() {
//!         eprintln!("{}: {:?}", failed.step.resource, failed.outcome);
//!     }
//! }
//! let sqs = data_collection.sqs(&pipeline.region);
//! let source = QueueSource::resolve(&sqs, &pipeline.names(), &pipeline.cluster).await?;
//! let mut consumer = Consumer::new(&data_collection, source, ConsumerOptions::default());
//! let report = consumer.poll(&Store).await;
//! println!("{} events, {} errors", report.events, report.errors.len());
//! # Ok(())
//! # }
//! ```

pub mod consumer;
pub mod containers;
pub mod decode;
pub mod servers;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rampart_model::GapKind;
use serde::Serialize;

use crate::error::classify;

/// Tag key naming the connector a pipeline resource belongs to (its id).
pub const CONNECTOR_TAG: &str = "RampartSecurityConnector";

/// Tag key naming the EKS cluster a pipeline resource serves.
pub const CLUSTER_TAG: &str = "RampartEksCluster";

/// Prefix of every resource name the pipelines create.
pub const NAME_PREFIX: &str = "rampart-";

/// What went wrong with one step of a pipeline, or one object or message
/// of a consumer. Messages are lower case with values in backticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PipelineError {
    /// An AWS call failed.
    #[error("`{operation}` failed: {message}")]
    Call {
        /// The API operation (`CreateBucket`).
        operation: String,
        /// Why, classified as a coverage gap.
        kind: GapKind,
        /// The error code AWS returned, if any.
        code: Option<String>,
        /// One line.
        message: String,
    },
    /// A resource with Rampart's name exists but is not tagged with this
    /// connector: it is left alone.
    #[error("`{name}` exists but is not tagged `{CONNECTOR_TAG}={connector}`; it is left alone")]
    NotOwned {
        /// The resource's name.
        name: String,
        /// The connector id expected in the tag.
        connector: String,
    },
    /// The step was not attempted because a step it needs failed.
    #[error("skipped because `{0}` failed")]
    Blocked(String),
    /// The input is unusable.
    #[error("invalid pipeline input: {0}")]
    Invalid(String),
    /// A resource did not become ready in time.
    #[error("`{name}` is still `{status}` after {waited_secs}s")]
    NotReady {
        /// The resource's name.
        name: String,
        /// Its last status.
        status: String,
        /// Seconds waited.
        waited_secs: u64,
    },
    /// An object or message could not be decoded.
    #[error("{0}")]
    Decode(#[from] decode::DecodeError),
    /// The caller's sink did not store the events.
    #[error("the sink did not store the events: {0}")]
    Sink(String),
    /// An instance's own instance profile lacks the SSM core policy and
    /// the offering does not allow attaching it (`isPolicyAttachAllowed`).
    #[error(
        "instance `{instance}` has profile `{profile}` without SSM; policy attach not allowed (`arcAutoProvisioning.isPolicyAttachAllowed` is off)"
    )]
    PolicyAttachNotAllowed {
        /// The instance.
        instance: String,
        /// Its instance profile's name.
        profile: String,
    },
}

impl PipelineError {
    /// A failed call of `operation`, classified.
    pub fn call<E>(operation: &str, err: &SdkError<E, Response>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let failure = classify(err);
        Self::Call {
            operation: operation.to_owned(),
            kind: failure.kind,
            code: failure.code,
            message: failure.message,
        }
    }
}

impl Serialize for decode::DecodeError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

// ---------------------------------------------------------------- shared by the provisioning pipelines

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create the resource.
    Create,
    /// Change the resource's settings.
    Update,
    /// Delete the resource.
    Delete,
    /// Nothing to do.
    None,
}

/// How a step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing needed doing.
    Unchanged,
    /// Carried out.
    Done,
    /// Failed or skipped; the error says which.
    Failed {
        /// Why.
        error: PipelineError,
    },
}

/// Whether a part of the pipeline is as it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// As it should be.
    Met,
    /// Missing or different.
    NotMet,
    /// Could not be read: neither met nor not met.
    Unknown,
}

/// A resource as read: missing, found, or unreadable.
#[derive(Debug, Clone)]
pub(crate) enum Read<T> {
    Missing,
    Found(T),
    Failed(PipelineError),
}

pub(crate) fn code_is<E>(err: &SdkError<E, Response>, codes: &[&str]) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
    err.code().is_some_and(|c| codes.contains(&c))
}

/// Maps a failed call of `operation` to its error.
pub(crate) fn call<E>(
    operation: &'static str,
) -> impl FnOnce(SdkError<E, Response>) -> PipelineError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    move |err| PipelineError::call(operation, &err)
}

/// The verb of an action, as reports show it.
pub fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        Action::None => "none",
    }
}

/// The partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// A stable 32-bit FNV-1a hash, as 8 hex digits: keeps truncated names
/// unique and deterministic across builds and platforms.
pub(crate) fn short_hash(parts: &[&str]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash ^= 0x1f;
            hash = hash.wrapping_mul(0x0100_0193);
        }
        for byte in part.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    format!("{hash:08x}")
}

/// A name part made of lower-case letters, digits and single hyphens, at
/// most `max` characters, without leading or trailing hyphens.
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.len() == max {
            break;
        }
        out.push(c);
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_hashes_are_stable() {
        assert_eq!(slug("Prod_Cluster--1", 40), "prod-cluster-1");
        assert_eq!(slug("abc-def", 4), "abc");
        assert_eq!(slug("__x", 10), "x");
        // FNV-1a reference values: "" and "a".
        assert_eq!(short_hash(&[""]), "811c9dc5");
        assert_eq!(short_hash(&["a"]), "e40c292c");
        assert_ne!(short_hash(&["ab", "c"]), short_hash(&["a", "bc"]));
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("eu-west-1"), "aws");
    }
}
