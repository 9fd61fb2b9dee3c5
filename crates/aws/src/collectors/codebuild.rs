//! CodeBuild: build projects (`AWS::CodeBuild::Project`) and report groups
//! (`AWS::CodeBuild::ReportGroup`).
//!
//! Per region `ListProjects` then `BatchGetProjects` (100 names at a time),
//! and `ListReportGroups` then `BatchGetReportGroups` (100 ARNs at a time).
//! A name the batch call reports as not found (deleted after the listing)
//! becomes an asset with `deleted: true`. Secrets are never kept:
//! environment variables keep their name and type only, and a source URL's
//! password or token is removed (`credentialsInUrl` says it had one).

use aws_sdk_codebuild::Client;
use aws_sdk_codebuild::types::{Project, ProjectSource, ReportGroup};
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp, partition, tag_map,
};
use crate::op;
use crate::scan::CollectContext;

/// `AWS::CodeBuild::Project`.
pub const PROJECT: &str = "AWS::CodeBuild::Project";
/// `AWS::CodeBuild::ReportGroup`.
pub const REPORT_GROUP: &str = "AWS::CodeBuild::ReportGroup";

/// Collects CodeBuild projects and report groups.
#[derive(Debug)]
pub struct CodeBuild;

static META: CollectorMeta = CollectorMeta {
    service: "codebuild",
    scope: Scope::Regional,
    operations: &[
        op!("codebuild", "ListProjects"),
        op!("codebuild", "BatchGetProjects"),
        op!("codebuild", "ListReportGroups"),
        op!("codebuild", "BatchGetReportGroups"),
    ],
    resource_types: &[PROJECT, REPORT_GROUP],
};

impl Collector for CodeBuild {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().codebuild(ctx.region());
            futures::join!(
                collect_projects(ctx, &client),
                collect_report_groups(ctx, &client)
            );
        })
    }
}

async fn collect_projects(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListProjects",
            client.list_projects().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let names: Vec<String> = pages.iter().flat_map(|p| p.projects()).cloned().collect();
    for chunk in names.chunks(100) {
        let Ok(out) = ctx
            .call(
                "BatchGetProjects",
                client
                    .batch_get_projects()
                    .set_names(Some(chunk.to_vec()))
                    .send(),
            )
            .await
        else {
            continue;
        };
        for project in out.projects() {
            if let Some(asset) = project_asset(ctx.account(), ctx.region(), project) {
                ctx.emit(asset);
            }
        }
        for name in out.projects_not_found() {
            ctx.emit(deleted_project_asset(ctx.account(), ctx.region(), name));
        }
    }
}

async fn collect_report_groups(ctx: &CollectContext<'_>, client: &Client) {
    let Ok(pages) = ctx
        .pages(
            "ListReportGroups",
            client.list_report_groups().into_paginator().send(),
        )
        .await
    else {
        return;
    };
    let arns: Vec<String> = pages
        .iter()
        .flat_map(|p| p.report_groups())
        .cloned()
        .collect();
    for chunk in arns.chunks(100) {
        if let Ok(out) = ctx
            .call(
                "BatchGetReportGroups",
                client
                    .batch_get_report_groups()
                    .set_report_group_arns(Some(chunk.to_vec()))
                    .send(),
            )
            .await
        {
            for group in out.report_groups() {
                if let Some(asset) = report_group_asset(ctx.account(), ctx.region(), group) {
                    ctx.emit(asset);
                }
            }
        }
    }
}

/// A source location with any password or token removed from its URL's
/// user information, and whether there was one. `https://user:secret@host/x`
/// gives `(https://user@host/x, true)`; `https://user@host/x` (a user name
/// alone) is kept as it is.
pub fn redact_location(location: &str) -> (String, bool) {
    let Some((scheme, rest)) = location.split_once("://") else {
        return (location.to_owned(), false);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (location.to_owned(), false);
    };
    match userinfo.split_once(':') {
        Some((user, secret)) if !secret.is_empty() => {
            (format!("{scheme}://{user}@{host}{path}"), true)
        }
        _ => (location.to_owned(), false),
    }
}

fn source_json(source: &ProjectSource) -> Value {
    let (location, credentials) = source
        .location()
        .map(redact_location)
        .map_or((Value::Null, false), |(l, c)| (Value::String(l), c));
    json!({
        "type": source.r#type().as_str(),
        "location": location,
        "credentialsInUrl": credentials,
        "sourceIdentifier": opt_str(source.source_identifier()),
    })
}

/// The `AWS::CodeBuild::Project` asset (`None` without a name). `sources`
/// holds the primary source first, then the secondary ones; `environment`
/// keeps the image, compute type, privileged mode and each variable's name
/// and type (`PLAINTEXT`, `PARAMETER_STORE`, `SECRETS_MANAGER`); `logsConfig`
/// is `null` when the API returns none (CloudWatch Logs is then on, the
/// CodeBuild default).
pub fn project_asset(account: &str, region: &str, project: &Project) -> Option<Asset> {
    let name = project.name()?;
    let arn = project
        .arn()
        .map_or_else(|| project_arn(account, region, name), str::to_owned);
    let sources: Vec<Value> = project
        .source()
        .into_iter()
        .chain(project.secondary_sources())
        .map(source_json)
        .collect();
    let environment = project.environment().map_or(Value::Null, |e| {
        json!({
            "type": e.r#type().as_str(),
            "image": e.image(),
            "computeType": e.compute_type().as_str(),
            "privilegedMode": e.privileged_mode(),
            "environmentVariables": e.environment_variables().iter().map(|v| json!({
                "name": v.name(),
                "type": v.r#type().map_or("PLAINTEXT", |t| t.as_str()),
            })).collect::<Vec<_>>(),
        })
    });
    let logs = project.logs_config().map_or(Value::Null, |l| {
        json!({
            "cloudWatchLogs": l.cloud_watch_logs().map_or(Value::Null, |c| json!({
                "status": c.status().as_str(),
                "groupName": opt_str(c.group_name()),
            })),
            "s3Logs": l.s3_logs().map_or(Value::Null, |s| json!({
                "status": s.status().as_str(),
                "location": opt_str(s.location()),
                "encryptionDisabled": s.encryption_disabled(),
            })),
        })
    });
    Some(
        Asset::new(
            arn.clone(),
            PROJECT,
            account,
            region,
            name,
            json!({
                "name": name,
                "arn": arn,
                "deleted": false,
                "created": opt_timestamp(project.created()),
                "serviceRole": opt_str(project.service_role()),
                "encryptionKey": opt_str(project.encryption_key()),
                "sources": sources,
                "environment": environment,
                "logsConfig": logs,
            }),
        )
        .with_tags(tag_map(project.tags().iter().map(|t| (t.key(), t.value())))),
    )
}

fn project_arn(account: &str, region: &str, name: &str) -> String {
    format!(
        "arn:{}:codebuild:{region}:{account}:project/{name}",
        partition(region)
    )
}

/// A project `ListProjects` listed and `BatchGetProjects` no longer found.
pub fn deleted_project_asset(account: &str, region: &str, name: &str) -> Asset {
    let arn = project_arn(account, region, name);
    Asset::new(
        arn.clone(),
        PROJECT,
        account,
        region,
        name,
        json!({ "name": name, "arn": arn, "deleted": true }),
    )
}

/// The `AWS::CodeBuild::ReportGroup` asset (`None` without an ARN).
/// `exportConfigType` is `S3` or `NO_EXPORT`; `s3Destination` is `null`
/// without an S3 export.
pub fn report_group_asset(account: &str, region: &str, group: &ReportGroup) -> Option<Asset> {
    let arn = group.arn()?;
    let export = group.export_config();
    let s3 = export
        .and_then(|e| e.s3_destination())
        .map_or(Value::Null, |s| {
            json!({
                "bucket": opt_str(s.bucket()),
                "encryptionKey": opt_str(s.encryption_key()),
                "encryptionDisabled": s.encryption_disabled(),
            })
        });
    Some(
        Asset::new(
            arn,
            REPORT_GROUP,
            account,
            region,
            group.name().unwrap_or_else(|| arn_name(arn)),
            json!({
                "arn": arn,
                "name": opt_str(group.name()),
                "type": opt_str(group.r#type().map(|t| t.as_str())),
                "status": opt_str(group.status().map(|s| s.as_str())),
                "exportConfigType": opt_str(export.and_then(|e| e.export_config_type()).map(|t| t.as_str())),
                "s3Destination": s3,
            }),
        )
        .with_tags(tag_map(group.tags().iter().map(|t| (t.key(), t.value())))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_codebuild::types::{
        ComputeType, EnvironmentType, EnvironmentVariable, EnvironmentVariableType, LogsConfig,
        LogsConfigStatusType, ProjectEnvironment, ReportExportConfig, ReportExportConfigType,
        S3LogsConfig, S3ReportExportConfig, SourceType,
    };

    #[test]
    fn redacts_passwords_and_tokens_from_source_urls() {
        assert_eq!(
            redact_location("https://x-token-auth:abc123@bitbucket.org/team/repo.git"),
            (
                "https://x-token-auth@bitbucket.org/team/repo.git".to_owned(),
                true
            )
        );
        assert_eq!(
            redact_location("https://dev@bitbucket.org/team/repo.git"),
            ("https://dev@bitbucket.org/team/repo.git".to_owned(), false)
        );
        assert_eq!(
            redact_location("https://bitbucket.org/team/repo.git"),
            ("https://bitbucket.org/team/repo.git".to_owned(), false)
        );
        assert_eq!(
            redact_location("my-bucket/src.zip"),
            ("my-bucket/src.zip".to_owned(), false)
        );
    }

    #[test]
    fn maps_a_project_without_its_secrets() {
        let project = Project::builder()
            .name("api")
            .arn("arn:aws:codebuild:us-east-1:123456789012:project/api")
            .source(
                ProjectSource::builder()
                    .r#type(SourceType::Bitbucket)
                    .location("https://dev:hunter2@bitbucket.org/team/api.git")
                    .build()
                    .unwrap(),
            )
            .environment(
                ProjectEnvironment::builder()
                    .r#type(EnvironmentType::LinuxContainer)
                    .image("aws/codebuild/standard:7.0")
                    .compute_type(ComputeType::BuildGeneral1Small)
                    .privileged_mode(true)
                    .environment_variables(
                        EnvironmentVariable::builder()
                            .name("AWS_SECRET_ACCESS_KEY")
                            .value("wJalrXUtnFEMI")
                            .r#type(EnvironmentVariableType::Plaintext)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .logs_config(
                LogsConfig::builder()
                    .s3_logs(
                        S3LogsConfig::builder()
                            .status(LogsConfigStatusType::Enabled)
                            .location("logs-bucket/api")
                            .encryption_disabled(true)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let asset = project_asset("123456789012", "us-east-1", &project).unwrap();
        assert_eq!(asset.resource_type, PROJECT);
        let p = &asset.properties;
        assert_eq!(p["sources"][0]["type"], "BITBUCKET");
        assert_eq!(p["sources"][0]["credentialsInUrl"], true);
        assert_eq!(p["environment"]["privilegedMode"], true);
        assert_eq!(
            p["environment"]["environmentVariables"],
            json!([{"name": "AWS_SECRET_ACCESS_KEY", "type": "PLAINTEXT"}])
        );
        assert_eq!(p["logsConfig"]["s3Logs"]["encryptionDisabled"], true);
        assert_eq!(p["logsConfig"]["cloudWatchLogs"], Value::Null);
        let text = serde_json::to_string(&asset).unwrap();
        assert!(!text.contains("hunter2") && !text.contains("wJalrXUtnFEMI"));

        let gone = deleted_project_asset("123456789012", "us-east-1", "old");
        assert_eq!(
            gone.arn,
            "arn:aws:codebuild:us-east-1:123456789012:project/old"
        );
        assert_eq!(gone.properties["deleted"], true);
    }

    #[test]
    fn maps_report_groups() {
        let group = ReportGroup::builder()
            .arn("arn:aws:codebuild:us-east-1:123456789012:report-group/tests")
            .name("tests")
            .export_config(
                ReportExportConfig::builder()
                    .export_config_type(ReportExportConfigType::S3)
                    .s3_destination(
                        S3ReportExportConfig::builder()
                            .bucket("reports")
                            .encryption_disabled(false)
                            .encryption_key("arn:aws:kms:us-east-1:123456789012:key/k")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let asset = report_group_asset("123456789012", "us-east-1", &group).unwrap();
        assert_eq!(asset.resource_type, REPORT_GROUP);
        assert_eq!(asset.properties["exportConfigType"], "S3");
        assert_eq!(
            asset.properties["s3Destination"]["encryptionDisabled"],
            false
        );
        assert!(report_group_asset("1", "r", &ReportGroup::builder().build()).is_none());
    }
}
