//! CloudWatch monitoring of the account's activity: one region asset
//! ([`types::CLOUDWATCH_MONITORING`]) per region with the CloudWatch Logs
//! metric filters (`logs:DescribeMetricFilters`: log group, filter pattern,
//! the metrics it feeds) and the CloudWatch metric alarms
//! (`cloudwatch:DescribeAlarms`: the metric watched, whether actions are
//! enabled, the alarm actions). The CIS "log metric filter and alarm"
//! recommendations read it together with the trails and SNS topics.
//!
//! Per region one paginated listing of each (50 metric filters, 100 alarms
//! a page). When a listing fails its list is `null` and marked
//! unavailable: never read as "no filter" or "no alarm".

use aws_sdk_cloudwatch::types::MetricAlarm;
use aws_sdk_cloudwatchlogs::types::MetricFilter;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects metric filters and metric alarms per region.
#[derive(Debug)]
pub struct CloudWatch;

static META: CollectorMeta = CollectorMeta {
    service: "cloudwatch",
    scope: Scope::Regional,
    operations: &[
        op!("logs", "DescribeMetricFilters"),
        op!("cloudwatch", "DescribeAlarms"),
    ],
    resource_types: &[types::CLOUDWATCH_MONITORING],
};

impl Collector for CloudWatch {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let logs = ctx.access().logs(ctx.region());
            let cloudwatch = ctx.access().cloudwatch(ctx.region());
            let (filters, alarms) = futures::join!(
                ctx.pages(
                    "DescribeMetricFilters",
                    logs.describe_metric_filters()
                        .limit(50)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    "DescribeAlarms",
                    cloudwatch
                        .describe_alarms()
                        .max_records(100)
                        .into_paginator()
                        .send(),
                ),
            );
            let filters: Result<Vec<MetricFilter>, CallFailure> = filters.map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.metric_filters())
                    .cloned()
                    .collect()
            });
            let alarms: Result<Vec<MetricAlarm>, CallFailure> = alarms.map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.metric_alarms())
                    .cloned()
                    .collect()
            });
            ctx.emit(monitoring_asset(
                ctx.account(),
                ctx.region(),
                filters.as_deref(),
                alarms.as_deref(),
            ));
        })
    }
}

fn filter_json(f: &MetricFilter) -> Value {
    json!({
        "logGroupName": opt_str(f.log_group_name()),
        "filterName": opt_str(f.filter_name()),
        "filterPattern": f.filter_pattern().unwrap_or_default(),
        "metrics": f.metric_transformations().iter().map(|m| json!({
            "namespace": m.metric_namespace(),
            "name": m.metric_name(),
        })).collect::<Vec<_>>(),
    })
}

fn alarm_json(a: &MetricAlarm) -> Value {
    // An alarm on a metric math expression watches the metrics it reads.
    let mut metrics: Vec<Value> = Vec::new();
    if let (Some(namespace), Some(name)) = (a.namespace(), a.metric_name()) {
        metrics.push(json!({"namespace": namespace, "name": name}));
    }
    for query in a.metrics() {
        if let Some(m) = query.metric_stat().and_then(|s| s.metric()) {
            metrics.push(json!({"namespace": m.namespace(), "name": m.metric_name()}));
        }
    }
    json!({
        "alarmName": opt_str(a.alarm_name()),
        "alarmArn": opt_str(a.alarm_arn()),
        "metrics": metrics,
        "actionsEnabled": a.actions_enabled(),
        "alarmActions": a.alarm_actions(),
        "stateValue": opt_str(a.state_value().map(|s| s.as_str())),
    })
}

/// The [`types::CLOUDWATCH_MONITORING`] asset of a region:
/// `metricFilters` and `alarms`, each `null` and unavailable when its
/// listing failed.
pub fn monitoring_asset(
    account: &str,
    region: &str,
    filters: Result<&[MetricFilter], &CallFailure>,
    alarms: Result<&[MetricAlarm], &CallFailure>,
) -> Asset {
    let mut asset = Asset::new(
        setting_id("cloudwatch", region, account, "monitoring"),
        types::CLOUDWATCH_MONITORING,
        account,
        region,
        "monitoring",
        json!({
            "metricFilters": filters.ok().map(|f| f.iter().map(filter_json).collect::<Vec<_>>()),
            "alarms": alarms.ok().map(|a| a.iter().map(alarm_json).collect::<Vec<_>>()),
        }),
    );
    if let Err(failure) = filters {
        asset.mark_unavailable("metricFilters", failure.to_string());
    }
    if let Err(failure) = alarms {
        asset.mark_unavailable("alarms", failure.to_string());
    }
    asset
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat, StateValue};
    use aws_sdk_cloudwatchlogs::types::MetricTransformation;
    use rampart_model::GapKind;

    fn filter() -> MetricFilter {
        MetricFilter::builder()
            .filter_name("root-usage")
            .log_group_name("trail-logs")
            .filter_pattern("{ $.userIdentity.type = \"Root\" }")
            .metric_transformations(
                MetricTransformation::builder()
                    .metric_name("RootUsage")
                    .metric_namespace("CISBenchmark")
                    .metric_value("1")
                    .build()
                    .unwrap(),
            )
            .build()
    }

    #[test]
    fn filters_and_alarms_keep_what_the_rules_read() {
        let alarm = MetricAlarm::builder()
            .alarm_name("root")
            .alarm_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:root")
            .namespace("CISBenchmark")
            .metric_name("RootUsage")
            .actions_enabled(true)
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:security")
            .state_value(StateValue::Ok)
            .build();
        let math = MetricAlarm::builder()
            .alarm_name("math")
            .metrics(
                MetricDataQuery::builder()
                    .id("m1")
                    .metric_stat(
                        MetricStat::builder()
                            .metric(
                                Metric::builder()
                                    .namespace("CISBenchmark")
                                    .metric_name("IamChanges")
                                    .build(),
                            )
                            .period(300)
                            .stat("Sum")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = monitoring_asset(
            "123456789012",
            "us-east-1",
            Ok(&[filter()]),
            Ok(&[alarm, math]),
        );
        assert_eq!(asset.resource_type, types::CLOUDWATCH_MONITORING);
        let p = &asset.properties;
        assert_eq!(p["metricFilters"][0]["logGroupName"], "trail-logs");
        assert_eq!(p["metricFilters"][0]["metrics"][0]["name"], "RootUsage");
        assert_eq!(p["alarms"][0]["actionsEnabled"], true);
        assert_eq!(
            p["alarms"][0]["alarmActions"][0],
            "arn:aws:sns:us-east-1:123456789012:security"
        );
        assert_eq!(p["alarms"][1]["metrics"][0]["name"], "IamChanges");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn a_failed_listing_is_unavailable_never_empty() {
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "denied".into(),
        };
        let asset = monitoring_asset("123456789012", "us-east-1", Ok(&[filter()]), Err(&failure));
        assert!(asset.properties["alarms"].is_null());
        assert!(asset.unavailable.contains_key("alarms"));
        assert!(!asset.unavailable.contains_key("metricFilters"));
    }
}
