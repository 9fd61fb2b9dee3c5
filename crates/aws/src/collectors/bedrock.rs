//! Amazon Bedrock: one [`types::BEDROCK_REGION`] asset per region with the
//! model invocation logging configuration and the guardrails.
//!
//! Per region `GetModelInvocationLoggingConfiguration` (no configuration:
//! `invocationLogging` is `null`) and `ListGuardrails` (paginated; the
//! names of the region's guardrails). A failed read marks that property
//! unavailable.

use aws_sdk_bedrock::operation::get_model_invocation_logging_configuration::GetModelInvocationLoggingConfigurationOutput;
use aws_sdk_bedrock::types::GuardrailSummary;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Amazon Bedrock's region settings.
#[derive(Debug)]
pub struct Bedrock;

static META: CollectorMeta = CollectorMeta {
    service: "bedrock",
    scope: Scope::Regional,
    operations: &[
        op!("bedrock", "GetModelInvocationLoggingConfiguration"),
        op!("bedrock", "ListGuardrails"),
    ],
    resource_types: &[types::BEDROCK_REGION],
};

impl Collector for Bedrock {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().bedrock(ctx.region());
            let (logging, guardrails) = futures::join!(
                ctx.call(
                    "GetModelInvocationLoggingConfiguration",
                    client.get_model_invocation_logging_configuration().send()
                ),
                ctx.pages(
                    "ListGuardrails",
                    client.list_guardrails().into_paginator().send()
                ),
            );
            let guardrails = guardrails.map(|pages| {
                pages
                    .into_iter()
                    .flat_map(|p| p.guardrails)
                    .collect::<Vec<_>>()
            });
            ctx.emit(region_asset(
                ctx.account(),
                ctx.region(),
                logging.as_ref(),
                guardrails.as_deref(),
            ));
        })
    }
}

/// The [`types::BEDROCK_REGION`] asset: `invocationLogging`
/// (`{cloudWatchLogGroup, s3Bucket}` or `null` when not configured) and
/// `guardrails` (names).
pub fn region_asset(
    account: &str,
    region: &str,
    logging: Result<&GetModelInvocationLoggingConfigurationOutput, &CallFailure>,
    guardrails: Result<&[GuardrailSummary], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("bedrock", region, account, "settings"),
        types::BEDROCK_REGION,
        account,
        region,
        "settings",
        json!({}),
    );
    match logging {
        Ok(out) => asset.set_property(
            "invocationLogging",
            out.logging_config().map_or(Value::Null, |c| {
                json!({
                    "cloudWatchLogGroup": c.cloud_watch_config().map(|w| w.log_group_name()),
                    "s3Bucket": c.s3_config().map(|s| s.bucket_name()),
                })
            }),
        ),
        Err(failure) => {
            asset.set_property("invocationLogging", Value::Null);
            asset.mark_unavailable("invocationLogging", failure.to_string());
        }
    }
    match guardrails {
        Ok(list) => asset.set_property(
            "guardrails",
            Value::Array(list.iter().map(|g| Value::from(g.name())).collect()),
        ),
        Err(failure) => {
            asset.set_property("guardrails", Value::Null);
            asset.mark_unavailable("guardrails", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrock::types::{CloudWatchConfig, GuardrailStatus, LoggingConfig};
    use aws_smithy_types::DateTime;
    use rampart_model::GapKind;

    #[test]
    fn maps_region_settings() {
        let logging = GetModelInvocationLoggingConfigurationOutput::builder()
            .logging_config(
                LoggingConfig::builder()
                    .cloud_watch_config(
                        CloudWatchConfig::builder()
                            .log_group_name("bedrock-invocations")
                            .role_arn("arn:aws:iam::123456789012:role/bedrock-logs")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let guardrail = GuardrailSummary::builder()
            .id("g1")
            .arn("arn:aws:bedrock:us-east-1:123456789012:guardrail/g1")
            .status(GuardrailStatus::Ready)
            .name("no-pii")
            .version("DRAFT")
            .created_at(DateTime::from_secs(0))
            .updated_at(DateTime::from_secs(0))
            .build()
            .unwrap();
        let asset = region_asset("123456789012", "us-east-1", Ok(&logging), Ok(&[guardrail]));
        assert_eq!(
            asset.properties["invocationLogging"]["cloudWatchLogGroup"],
            "bedrock-invocations"
        );
        assert_eq!(
            asset.properties["invocationLogging"]["s3Bucket"],
            Value::Null
        );
        assert_eq!(asset.properties["guardrails"], json!(["no-pii"]));

        let none = GetModelInvocationLoggingConfigurationOutput::builder().build();
        let failure = CallFailure {
            kind: GapKind::NotImplemented,
            code: None,
            message: "not implemented".into(),
        };
        let asset = region_asset("123456789012", "us-east-1", Ok(&none), Err(&failure));
        assert_eq!(asset.properties["invocationLogging"], Value::Null);
        assert!(!asset.unavailable.contains_key("invocationLogging"));
        assert!(asset.unavailable.contains_key("guardrails"));
    }
}
