//! IAM Access Analyzer: one region asset
//! ([`types::ACCESS_ANALYZER_REGION`]) per region, `{"analyzers": [...],
//! "regionDisabled": bool}`, present also when the region has no analyzer.
//!
//! Per region `ListAnalyzers` (100 a page, every analyzer type). When the
//! call fails, `analyzers` is `null` and marked unavailable, except when
//! AWS answers that the region is not enabled for the account
//! (`regionDisabled: true`; the gap is still recorded). moto does not
//! implement Access Analyzer: there the list is always unavailable.

use aws_sdk_accessanalyzer::types::AnalyzerSummary;
use futures::future::BoxFuture;
use rampart_model::{Asset, GapKind, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, timestamp};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects Access Analyzer's analyzers per region.
#[derive(Debug)]
pub struct AccessAnalyzer;

static META: CollectorMeta = CollectorMeta {
    service: "accessanalyzer",
    scope: Scope::Regional,
    operations: &[op!("accessanalyzer", "ListAnalyzers" => "access-analyzer:ListAnalyzers")],
    resource_types: &[types::ACCESS_ANALYZER_REGION],
};

impl Collector for AccessAnalyzer {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().accessanalyzer(ctx.region());
            let listed = ctx
                .pages(
                    "ListAnalyzers",
                    client
                        .list_analyzers()
                        .into_paginator()
                        .page_size(100)
                        .send(),
                )
                .await;
            let analyzers: Result<Vec<AnalyzerSummary>, CallFailure> =
                listed.map(|pages| pages.iter().flat_map(|p| p.analyzers()).cloned().collect());
            ctx.emit(region_asset(
                ctx.account(),
                ctx.region(),
                analyzers.as_deref(),
            ));
        })
    }
}

fn analyzer_json(a: &AnalyzerSummary) -> Value {
    json!({
        "arn": a.arn(),
        "name": a.name(),
        "type": a.r#type().as_str(),
        "status": a.status().as_str(),
        "statusReason": opt_str(a.status_reason().map(|r| r.code().as_str())),
        "createdAt": timestamp(a.created_at()),
        "lastResourceAnalyzedAt": opt_timestamp(a.last_resource_analyzed_at()),
    })
}

/// The [`types::ACCESS_ANALYZER_REGION`] asset: every analyzer of the
/// region with its type (`ACCOUNT`, `ORGANIZATION`, `*_UNUSED_ACCESS`, …)
/// and status (`ACTIVE`, `CREATING`, `DISABLED`, `FAILED`).
pub fn region_asset(
    account: &str,
    region: &str,
    analyzers: Result<&[AnalyzerSummary], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("access-analyzer", region, account, "analyzers"),
        types::ACCESS_ANALYZER_REGION,
        account,
        region,
        "analyzers",
        Value::Null,
    );
    match analyzers {
        Ok(list) => {
            asset.properties = json!({
                "analyzers": list.iter().map(analyzer_json).collect::<Vec<_>>(),
                "regionDisabled": false,
            });
        }
        Err(failure) if failure.kind == GapKind::RegionDisabled => {
            asset.properties = json!({ "analyzers": [], "regionDisabled": true });
        }
        Err(failure) => {
            // The call failed for another reason: nothing is known, not even
            // whether the region is enabled.
            asset.properties = json!({ "analyzers": null, "regionDisabled": null });
            asset.mark_unavailable("analyzers", failure.to_string());
            asset.mark_unavailable("regionDisabled", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_accessanalyzer::types::{AnalyzerStatus, Type};
    use aws_smithy_types::DateTime;

    fn analyzer(kind: Type, status: AnalyzerStatus) -> AnalyzerSummary {
        AnalyzerSummary::builder()
            .arn("arn:aws:access-analyzer:us-east-1:123456789012:analyzer/a")
            .name("a")
            .r#type(kind)
            .created_at(DateTime::from_secs(0))
            .status(status)
            .build()
            .unwrap()
    }

    #[test]
    fn lists_analyzers_with_type_and_status() {
        let list = vec![
            analyzer(Type::Account, AnalyzerStatus::Active),
            analyzer(Type::AccountUnusedAccess, AnalyzerStatus::Disabled),
        ];
        let asset = region_asset("123456789012", "us-east-1", Ok(&list));
        assert_eq!(
            asset.arn,
            "arn:rampart:access-analyzer:us-east-1:123456789012:analyzers"
        );
        assert_eq!(asset.resource_type, "Rampart::AccessAnalyzer::RegionStatus");
        let p = &asset.properties;
        assert_eq!(p["analyzers"][0]["type"], "ACCOUNT");
        assert_eq!(p["analyzers"][0]["status"], "ACTIVE");
        assert_eq!(p["analyzers"][1]["type"], "ACCOUNT_UNUSED_ACCESS");
        assert_eq!(p["analyzers"][1]["status"], "DISABLED");
        assert_eq!(p["regionDisabled"], false);
        assert!(asset.unavailable.is_empty());

        let none = region_asset("123456789012", "eu-west-1", Ok(&[]));
        assert_eq!(
            none.properties,
            json!({ "analyzers": [], "regionDisabled": false })
        );
    }

    #[test]
    fn unreadable_list_is_unavailable_and_disabled_region_says_so() {
        let not_implemented = CallFailure {
            kind: GapKind::NotImplemented,
            code: None,
            message: "HTTP 404 with an HTML body".into(),
        };
        let asset = region_asset("123456789012", "us-east-1", Err(&not_implemented));
        assert_eq!(asset.properties["analyzers"], Value::Null);
        assert_eq!(asset.unavailable["analyzers"], "HTTP 404 with an HTML body");

        let disabled = CallFailure {
            kind: GapKind::RegionDisabled,
            code: Some("OptInRequired".into()),
            message: "OptInRequired: region not enabled".into(),
        };
        let asset = region_asset("123456789012", "me-south-1", Err(&disabled));
        assert_eq!(asset.properties["regionDisabled"], true);
        assert!(asset.unavailable.is_empty());
    }
}
