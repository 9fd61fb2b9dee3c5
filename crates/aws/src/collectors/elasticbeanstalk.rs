//! Elastic Beanstalk: environments (`AWS::ElasticBeanstalk::Environment`).
//!
//! Per region `DescribeEnvironments` (100 a page, terminated environments
//! left out), then per environment `DescribeConfigurationSettings` for the
//! option settings the recommendations read: the health reporting system,
//! CloudWatch Logs streaming and managed platform updates. Other options
//! (which can hold environment properties, often secrets) are never kept.

use aws_sdk_elasticbeanstalk::Client;
use aws_sdk_elasticbeanstalk::types::{ConfigurationOptionSetting, EnvironmentDescription};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Map, Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// `AWS::ElasticBeanstalk::Environment`.
pub const ENVIRONMENT: &str = "AWS::ElasticBeanstalk::Environment";

/// The option settings kept, as `namespace` and option name.
pub const KEPT_OPTIONS: &[(&str, &str)] = &[
    ("aws:elasticbeanstalk:healthreporting:system", "SystemType"),
    ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs"),
    ("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"),
    (
        "aws:elasticbeanstalk:managedactions",
        "ManagedActionsEnabled",
    ),
    (
        "aws:elasticbeanstalk:managedactions:platformupdate",
        "UpdateLevel",
    ),
];

/// Collects Elastic Beanstalk environments.
#[derive(Debug)]
pub struct ElasticBeanstalk;

static META: CollectorMeta = CollectorMeta {
    service: "elasticbeanstalk",
    scope: Scope::Regional,
    operations: &[
        op!("elasticbeanstalk", "DescribeEnvironments"),
        op!("elasticbeanstalk", "DescribeConfigurationSettings"),
    ],
    resource_types: &[ENVIRONMENT],
};

impl Collector for ElasticBeanstalk {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().elasticbeanstalk(ctx.region());
            let Some(environments) = list_environments(ctx, &client).await else {
                return;
            };
            let client = &client;
            let assets: Vec<Asset> = futures::stream::iter(environments)
                .map(|env| async move {
                    let settings = match (env.application_name(), env.environment_name()) {
                        (Some(app), Some(name)) => ctx
                            .call(
                                "DescribeConfigurationSettings",
                                client
                                    .describe_configuration_settings()
                                    .application_name(app)
                                    .environment_name(name)
                                    .send(),
                            )
                            .await
                            .map(|out| {
                                out.configuration_settings()
                                    .iter()
                                    .flat_map(|c| c.option_settings())
                                    .cloned()
                                    .collect::<Vec<_>>()
                            }),
                        _ => Ok(Vec::new()),
                    };
                    environment_asset(
                        ctx.account(),
                        ctx.region(),
                        &env,
                        settings.as_ref().map(Vec::as_slice),
                    )
                })
                .buffer_unordered(ctx.concurrency())
                .filter_map(|a| async move { a })
                .collect()
                .await;
            for asset in assets {
                ctx.emit(asset);
            }
        })
    }
}

async fn list_environments(
    ctx: &CollectContext<'_>,
    client: &Client,
) -> Option<Vec<EnvironmentDescription>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ctx
            .call(
                "DescribeEnvironments",
                client
                    .describe_environments()
                    .include_deleted(false)
                    .max_records(100)
                    .set_next_token(token.take())
                    .send(),
            )
            .await
            .ok()?;
        out.extend(page.environments().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Some(out),
        }
    }
}

/// The kept option settings as `{"<namespace>": {"<option>": value}}`.
fn kept_options(settings: &[ConfigurationOptionSetting]) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for s in settings {
        let (Some(ns), Some(name)) = (s.namespace(), s.option_name()) else {
            continue;
        };
        if !KEPT_OPTIONS.contains(&(ns, name)) {
            continue;
        }
        if let Value::Object(options) = out
            .entry(ns.to_owned())
            .or_insert_with(|| Value::Object(Map::new()))
        {
            options.insert(name.to_owned(), opt_str(s.value()));
        }
    }
    Value::Object(out)
}

/// The `AWS::ElasticBeanstalk::Environment` asset (`None` without a name).
/// `options` holds the kept option settings by namespace (unavailable when
/// `DescribeConfigurationSettings` failed); `healthStatus` is only reported
/// for environments with enhanced health reporting.
pub fn environment_asset(
    account: &str,
    region: &str,
    env: &EnvironmentDescription,
    settings: Result<&[ConfigurationOptionSetting], &CallFailure>,
) -> Option<Asset> {
    let name = env.environment_name()?;
    let arn = env.environment_arn().map_or_else(
        || {
            format!(
                "arn:{}:elasticbeanstalk:{region}:{account}:environment/{}/{name}",
                partition(region),
                env.application_name().unwrap_or_default()
            )
        },
        str::to_owned,
    );
    let mut asset = Asset::new(
        arn.clone(),
        ENVIRONMENT,
        account,
        region,
        name,
        json!({
            "environmentArn": arn,
            "environmentName": name,
            "environmentId": opt_str(env.environment_id()),
            "applicationName": opt_str(env.application_name()),
            "status": opt_str(env.status().map(|s| s.as_str())),
            "health": opt_str(env.health().map(|h| h.as_str())),
            "healthStatus": opt_str(env.health_status().map(|h| h.as_str())),
            "solutionStackName": opt_str(env.solution_stack_name()),
            "platformArn": opt_str(env.platform_arn()),
            "tier": opt_str(env.tier().and_then(|t| t.name())),
            "dateCreated": opt_timestamp(env.date_created()),
        }),
    );
    match settings {
        Ok(settings) => asset.set_property("options", kept_options(settings)),
        Err(failure) => {
            asset.set_property("options", Value::Null);
            asset.mark_unavailable("options", failure.to_string());
        }
    }
    Some(asset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticbeanstalk::types::{EnvironmentHealthStatus, EnvironmentStatus};
    use rampart_model::GapKind;

    fn setting(ns: &str, name: &str, value: &str) -> ConfigurationOptionSetting {
        ConfigurationOptionSetting::builder()
            .namespace(ns)
            .option_name(name)
            .value(value)
            .build()
    }

    fn env() -> EnvironmentDescription {
        EnvironmentDescription::builder()
            .environment_name("web-prod")
            .environment_id("e-1")
            .application_name("web")
            .status(EnvironmentStatus::Ready)
            .health_status(EnvironmentHealthStatus::Ok)
            .build()
    }

    #[test]
    fn keeps_only_the_options_the_recommendations_read() {
        let settings = [
            setting(
                "aws:elasticbeanstalk:healthreporting:system",
                "SystemType",
                "enhanced",
            ),
            setting("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs", "true"),
            setting(
                "aws:elasticbeanstalk:application:environment",
                "DB_PASSWORD",
                "hunter2",
            ),
        ];
        let asset = environment_asset("123456789012", "us-east-1", &env(), Ok(&settings)).unwrap();
        assert_eq!(asset.resource_type, ENVIRONMENT);
        assert_eq!(
            asset.arn,
            "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/web/web-prod"
        );
        let p = &asset.properties;
        assert_eq!(p["status"], "Ready");
        assert_eq!(p["healthStatus"], "Ok");
        assert_eq!(
            p["options"]["aws:elasticbeanstalk:healthreporting:system"]["SystemType"],
            "enhanced"
        );
        assert_eq!(
            p["options"]["aws:elasticbeanstalk:cloudwatch:logs"]["StreamLogs"],
            "true"
        );
        assert!(!serde_json::to_string(&asset).unwrap().contains("hunter2"));
    }

    #[test]
    fn unreadable_settings_are_unavailable() {
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDenied".into()),
            message: "AccessDenied: nope".into(),
        };
        let asset = environment_asset("1", "us-east-1", &env(), Err(&failure)).unwrap();
        assert_eq!(asset.unavailable["options"], "AccessDenied: nope");
        assert!(
            environment_asset(
                "1",
                "r",
                &EnvironmentDescription::builder().build(),
                Ok(&[])
            )
            .is_none()
        );
    }
}
