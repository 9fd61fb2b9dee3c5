//! AWS Glue: jobs (`AWS::Glue::Job`: command and Glue version) and machine
//! learning transforms (`AWS::Glue::MLTransform`: encryption of user data
//! at rest).
//!
//! Per region `GetJobs` and `GetMLTransforms` (both paginated, the
//! definitions come in the lists).

use aws_sdk_glue::types::{Job, MlTransform};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, partition};
use crate::op;
use crate::scan::CollectContext;

/// Collects Glue jobs and ML transforms.
#[derive(Debug)]
pub struct Glue;

/// A Glue job.
pub const JOB: &str = "AWS::Glue::Job";
/// A Glue machine learning transform.
pub const ML_TRANSFORM: &str = "AWS::Glue::MLTransform";

static META: CollectorMeta = CollectorMeta {
    service: "glue",
    scope: Scope::Regional,
    operations: &[op!("glue", "GetJobs"), op!("glue", "GetMLTransforms")],
    resource_types: &[JOB, ML_TRANSFORM],
};

impl Collector for Glue {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().glue(ctx.region());
            let (jobs, transforms) = futures::join!(
                ctx.pages("GetJobs", client.get_jobs().into_paginator().send()),
                ctx.pages(
                    "GetMLTransforms",
                    client.get_ml_transforms().into_paginator().send()
                ),
            );
            for job in jobs.iter().flatten().flat_map(|p| p.jobs()) {
                ctx.emit(job_asset(ctx.account(), ctx.region(), job));
            }
            for transform in transforms.iter().flatten().flat_map(|p| p.transforms()) {
                ctx.emit(ml_transform_asset(ctx.account(), ctx.region(), transform));
            }
        })
    }
}

/// The `AWS::Glue::Job` asset: its command (`glueetl` for Spark,
/// `gluestreaming` for Spark streaming, `pythonshell`, `glueray`) and its
/// Glue version (`null` when the job names none, which AWS runs as 0.9).
pub fn job_asset(account: &str, region: &str, job: &Job) -> Asset {
    let name = job.name().unwrap_or_default();
    let arn = format!(
        "arn:{}:glue:{region}:{account}:job/{name}",
        partition(region)
    );
    Asset::new(
        arn,
        JOB,
        account,
        region,
        name,
        json!({
            "name": name,
            "command": opt_str(job.command().and_then(|c| c.name())),
            "glueVersion": opt_str(job.glue_version()),
            "workerType": opt_str(job.worker_type().map(|w| w.as_str())),
            "securityConfiguration": opt_str(job.security_configuration()),
        }),
    )
}

/// The `AWS::Glue::MLTransform` asset: the encryption mode of its user data
/// (`mlUserDataEncryptionMode`: `SSE-KMS`, `DISABLED`, or `null` when no
/// encryption is configured) and its KMS key.
pub fn ml_transform_asset(account: &str, region: &str, transform: &MlTransform) -> Asset {
    let id = transform.transform_id().unwrap_or_default();
    let arn = format!(
        "arn:{}:glue:{region}:{account}:mlTransform/{id}",
        partition(region)
    );
    let encryption = transform
        .transform_encryption()
        .and_then(|e| e.ml_user_data_encryption());
    Asset::new(
        arn,
        ML_TRANSFORM,
        account,
        region,
        transform.name().unwrap_or(id),
        json!({
            "transformId": id,
            "name": opt_str(transform.name()),
            "status": opt_str(transform.status().map(|s| s.as_str())),
            "mlUserDataEncryptionMode": encryption
                .map_or(Value::Null, |e| Value::from(e.ml_user_data_encryption_mode().as_str())),
            "kmsKeyId": opt_str(encryption.and_then(|e| e.kms_key_id())),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_glue::types::{
        JobCommand, MlUserDataEncryption, MlUserDataEncryptionModeString, TransformEncryption,
    };

    #[test]
    fn maps_jobs() {
        let job = Job::builder()
            .name("etl")
            .command(JobCommand::builder().name("glueetl").build())
            .glue_version("2.0")
            .build();
        let asset = job_asset("123456789012", "us-east-1", &job);
        assert_eq!(asset.arn, "arn:aws:glue:us-east-1:123456789012:job/etl");
        assert_eq!(asset.properties["command"], "glueetl");
        assert_eq!(asset.properties["glueVersion"], "2.0");
        let bare = job_asset(
            "123456789012",
            "us-east-1",
            &Job::builder().name("x").build(),
        );
        assert_eq!(bare.properties["glueVersion"], Value::Null);
    }

    #[test]
    fn maps_transforms() {
        let t = MlTransform::builder()
            .transform_id("tfm-1")
            .name("dedupe")
            .transform_encryption(
                TransformEncryption::builder()
                    .ml_user_data_encryption(
                        MlUserDataEncryption::builder()
                            .ml_user_data_encryption_mode(MlUserDataEncryptionModeString::Ssekms)
                            .kms_key_id("arn:key")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let asset = ml_transform_asset("123456789012", "us-east-1", &t);
        assert_eq!(
            asset.arn,
            "arn:aws:glue:us-east-1:123456789012:mlTransform/tfm-1"
        );
        assert_eq!(asset.properties["mlUserDataEncryptionMode"], "SSE-KMS");
        let bare = MlTransform::builder().transform_id("tfm-2").build();
        let asset = ml_transform_asset("123456789012", "us-east-1", &bare);
        assert_eq!(asset.properties["mlUserDataEncryptionMode"], Value::Null);
        assert_eq!(asset.name, "tfm-2");
    }
}
