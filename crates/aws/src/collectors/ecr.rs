//! ECR: private repositories (`AWS::ECR::Repository`).
//!
//! Per region `GetRegistryScanningConfiguration` (the registry-level scan
//! rules, copied into every repository as `registryScanningConfiguration`)
//! and `DescribeRepositories` (1,000 a page). Per repository four calls:
//! `GetLifecyclePolicy` (`LifecyclePolicyNotFoundException`: `null`),
//! `GetRepositoryPolicy` (`RepositoryPolicyNotFoundException`: `null`),
//! `ListImages` with one result (`hasImages`) and `ListTagsForResource`.

use aws_sdk_ecr::operation::get_lifecycle_policy::GetLifecyclePolicyOutput;
use aws_sdk_ecr::operation::get_registry_scanning_configuration::GetRegistryScanningConfigurationOutput;
use aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyOutput;
use aws_sdk_ecr::types::{Repository, Tag};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, policy_document, tag_map};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects ECR repositories.
#[derive(Debug)]
pub struct Ecr;

static META: CollectorMeta = CollectorMeta {
    service: "ecr",
    scope: Scope::Regional,
    operations: &[
        op!("ecr", "GetRegistryScanningConfiguration"),
        op!("ecr", "DescribeRepositories"),
        op!("ecr", "GetLifecyclePolicy"),
        op!("ecr", "GetRepositoryPolicy"),
        op!("ecr", "ListImages"),
        op!("ecr", "ListTagsForResource"),
    ],
    resource_types: &["AWS::ECR::Repository"],
};

/// What the per-repository calls returned (`Ok(None)`: not configured).
#[derive(Debug)]
pub struct RepositoryDetail {
    /// `GetLifecyclePolicy`.
    pub lifecycle: Result<Option<GetLifecyclePolicyOutput>, CallFailure>,
    /// `GetRepositoryPolicy`.
    pub policy: Result<Option<GetRepositoryPolicyOutput>, CallFailure>,
    /// `ListImages` (one result): whether the repository holds any image.
    pub has_images: Result<bool, CallFailure>,
    /// `ListTagsForResource`.
    pub tags: Result<Vec<Tag>, CallFailure>,
}

impl Collector for Ecr {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().ecr(ctx.region());
            let registry = ctx
                .call(
                    "GetRegistryScanningConfiguration",
                    client.get_registry_scanning_configuration().send(),
                )
                .await
                .map(|out| registry_scanning_json(&out));
            let Ok(pages) = ctx
                .pages(
                    "DescribeRepositories",
                    client
                        .describe_repositories()
                        .into_paginator()
                        .page_size(1000)
                        .send(),
                )
                .await
            else {
                return;
            };
            let repos: Vec<Repository> = pages
                .iter()
                .flat_map(|p| p.repositories())
                .cloned()
                .collect();
            let client = &client;
            let registry = &registry;
            let assets: Vec<Option<Asset>> = futures::stream::iter(repos)
                .map(|repo| async move {
                    let name = repo.repository_name().unwrap_or_default();
                    let arn = repo.repository_arn().unwrap_or_default();
                    let (lifecycle, policy, images, tags) = futures::join!(
                        ctx.call_optional(
                            "GetLifecyclePolicy",
                            &["LifecyclePolicyNotFoundException"],
                            client.get_lifecycle_policy().repository_name(name).send(),
                        ),
                        ctx.call_optional(
                            "GetRepositoryPolicy",
                            &["RepositoryPolicyNotFoundException"],
                            client.get_repository_policy().repository_name(name).send(),
                        ),
                        ctx.call(
                            "ListImages",
                            client
                                .list_images()
                                .repository_name(name)
                                .max_results(1)
                                .send(),
                        ),
                        ctx.call(
                            "ListTagsForResource",
                            client.list_tags_for_resource().resource_arn(arn).send(),
                        ),
                    );
                    let detail = RepositoryDetail {
                        lifecycle,
                        policy,
                        has_images: images.map(|out| !out.image_ids().is_empty()),
                        tags: tags.map(|out| out.tags().to_vec()),
                    };
                    repository_asset(
                        ctx.account(),
                        ctx.region(),
                        &repo,
                        registry.as_ref(),
                        &detail,
                    )
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in assets.into_iter().flatten() {
                ctx.emit(asset);
            }
        })
    }
}

/// The registry's scanning configuration as JSON: `{"scanType": "BASIC" |
/// "ENHANCED", "rules": [{"scanFrequency", "repositoryFilters": [{"filter",
/// "filterType"}]}]}`.
pub fn registry_scanning_json(out: &GetRegistryScanningConfigurationOutput) -> Value {
    let Some(config) = out.scanning_configuration() else {
        return json!({ "scanType": null, "rules": [] });
    };
    let rules: Vec<Value> = config
        .rules()
        .iter()
        .map(|rule| {
            json!({
                "scanFrequency": rule.scan_frequency().as_str(),
                "repositoryFilters": rule
                    .repository_filters()
                    .iter()
                    .map(|f| json!({ "filter": f.filter(), "filterType": f.filter_type().as_str() }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "scanType": opt_str(config.scan_type().map(|t| t.as_str())),
        "rules": rules,
    })
}

/// The `AWS::ECR::Repository` asset (`None` without an ARN). Each detail
/// that could not be read is `null` and marked unavailable.
pub fn repository_asset(
    account: &str,
    region: &str,
    repo: &Repository,
    registry_scanning: Result<&Value, &CallFailure>,
    detail: &RepositoryDetail,
) -> Option<Asset> {
    let arn = repo.repository_arn()?;
    let name = repo.repository_name().unwrap_or(arn);
    let scanning = repo
        .image_scanning_configuration()
        .map_or(Value::Null, |c| json!({ "scanOnPush": c.scan_on_push() }));
    let encryption = repo.encryption_configuration().map_or(Value::Null, |e| {
        json!({ "encryptionType": e.encryption_type().as_str(), "kmsKey": opt_str(e.kms_key()) })
    });
    let exclusions: Vec<Value> = repo
        .image_tag_mutability_exclusion_filters()
        .iter()
        .map(|f| json!({ "filter": f.filter(), "filterType": f.filter_type().as_str() }))
        .collect();
    let mut asset = Asset::new(
        arn,
        "AWS::ECR::Repository",
        account,
        region,
        name,
        json!({
            "repositoryArn": arn,
            "repositoryName": name,
            "registryId": opt_str(repo.registry_id()),
            "repositoryUri": opt_str(repo.repository_uri()),
            "createdAt": opt_timestamp(repo.created_at()),
            "imageTagMutability": opt_str(repo.image_tag_mutability().map(|m| m.as_str())),
            "imageTagMutabilityExclusionFilters": exclusions,
            "imageScanningConfiguration": scanning,
            "encryptionConfiguration": encryption,
        }),
    );
    match registry_scanning {
        Ok(value) => asset.set_property("registryScanningConfiguration", value.clone()),
        Err(failure) => {
            asset.set_property("registryScanningConfiguration", Value::Null);
            asset.mark_unavailable("registryScanningConfiguration", failure.to_string());
        }
    }
    match &detail.lifecycle {
        Ok(out) => asset.set_property(
            "lifecyclePolicy",
            out.as_ref().map_or(Value::Null, |o| {
                json!({
                    "lifecyclePolicyText": o.lifecycle_policy_text().map_or(Value::Null, policy_document),
                    "lastEvaluatedAt": opt_timestamp(o.last_evaluated_at()),
                })
            }),
        ),
        Err(failure) => {
            asset.set_property("lifecyclePolicy", Value::Null);
            asset.mark_unavailable("lifecyclePolicy", failure.to_string());
        }
    }
    match &detail.policy {
        Ok(out) => asset.set_property(
            "repositoryPolicy",
            out.as_ref()
                .and_then(|o| o.policy_text())
                .map_or(Value::Null, policy_document),
        ),
        Err(failure) => {
            asset.set_property("repositoryPolicy", Value::Null);
            asset.mark_unavailable("repositoryPolicy", failure.to_string());
        }
    }
    match &detail.has_images {
        Ok(has) => asset.set_property("hasImages", Value::Bool(*has)),
        Err(failure) => {
            asset.set_property("hasImages", Value::Null);
            asset.mark_unavailable("hasImages", failure.to_string());
        }
    }
    match &detail.tags {
        Ok(tags) => {
            asset.tags = tag_map(tags.iter().map(|t| (Some(t.key()), Some(t.value()))));
        }
        Err(failure) => asset.mark_unavailable("tags", failure.to_string()),
    }
    Some(asset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecr::types::{
        EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability,
        RegistryScanningConfiguration, RegistryScanningRule, ScanFrequency, ScanType,
        ScanningRepositoryFilter, ScanningRepositoryFilterType,
    };
    use rampart_model::GapKind;

    const ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/app";

    fn denied() -> CallFailure {
        CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        }
    }

    fn repo(mutability: ImageTagMutability, scan_on_push: bool) -> Repository {
        Repository::builder()
            .repository_arn(ARN)
            .repository_name("app")
            .registry_id("123456789012")
            .image_tag_mutability(mutability)
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(scan_on_push)
                    .build(),
            )
            .encryption_configuration(
                EncryptionConfiguration::builder()
                    .encryption_type(EncryptionType::Aes256)
                    .build()
                    .unwrap(),
            )
            .build()
    }

    fn basic_registry() -> Value {
        registry_scanning_json(
            &GetRegistryScanningConfigurationOutput::builder()
                .registry_id("123456789012")
                .scanning_configuration(
                    RegistryScanningConfiguration::builder()
                        .scan_type(ScanType::Basic)
                        .build(),
                )
                .build(),
        )
    }

    #[test]
    fn maps_a_configured_repository() {
        let detail = RepositoryDetail {
            lifecycle: Ok(Some(
                GetLifecyclePolicyOutput::builder()
                    .lifecycle_policy_text(r#"{"rules":[{"rulePriority":1}]}"#)
                    .build(),
            )),
            policy: Ok(Some(
                GetRepositoryPolicyOutput::builder()
                    .policy_text(r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#)
                    .build(),
            )),
            has_images: Ok(true),
            tags: Ok(vec![
                Tag::builder().key("env").value("prod").build().unwrap(),
            ]),
        };
        let registry = basic_registry();
        let asset = repository_asset(
            "123456789012",
            "us-east-1",
            &repo(ImageTagMutability::Immutable, true),
            Ok(&registry),
            &detail,
        )
        .unwrap();
        assert_eq!(asset.arn, ARN);
        assert_eq!(asset.name, "app");
        assert_eq!(asset.tags["env"], "prod");
        let p = &asset.properties;
        assert_eq!(p["imageTagMutability"], "IMMUTABLE");
        assert_eq!(p["imageScanningConfiguration"]["scanOnPush"], true);
        assert_eq!(p["encryptionConfiguration"]["encryptionType"], "AES256");
        assert_eq!(
            p["lifecyclePolicy"]["lifecyclePolicyText"]["rules"][0]["rulePriority"],
            1
        );
        assert_eq!(p["repositoryPolicy"]["Statement"][0]["Principal"], "*");
        assert_eq!(p["hasImages"], true);
        assert_eq!(p["registryScanningConfiguration"]["scanType"], "BASIC");
        assert!(asset.unavailable.is_empty());
    }

    #[test]
    fn absent_policies_are_null_and_failures_unavailable() {
        let detail = RepositoryDetail {
            lifecycle: Ok(None),
            policy: Err(denied()),
            has_images: Ok(false),
            tags: Err(denied()),
        };
        let failure = denied();
        let asset = repository_asset(
            "123456789012",
            "us-east-1",
            &repo(ImageTagMutability::Mutable, false),
            Err(&failure),
            &detail,
        )
        .unwrap();
        let p = &asset.properties;
        assert_eq!(p["imageTagMutability"], "MUTABLE");
        assert_eq!(p["imageScanningConfiguration"]["scanOnPush"], false);
        assert_eq!(p["lifecyclePolicy"], Value::Null);
        assert!(!asset.unavailable.contains_key("lifecyclePolicy"));
        assert_eq!(p["repositoryPolicy"], Value::Null);
        assert_eq!(
            asset.unavailable["repositoryPolicy"],
            "AccessDeniedException: nope"
        );
        assert!(
            asset
                .unavailable
                .contains_key("registryScanningConfiguration")
        );
        assert!(asset.unavailable.contains_key("tags"));
        assert_eq!(p["hasImages"], false);
    }

    #[test]
    fn maps_registry_scanning_rules() {
        let out = GetRegistryScanningConfigurationOutput::builder()
            .scanning_configuration(
                RegistryScanningConfiguration::builder()
                    .scan_type(ScanType::Enhanced)
                    .rules(
                        RegistryScanningRule::builder()
                            .scan_frequency(ScanFrequency::ContinuousScan)
                            .repository_filters(
                                ScanningRepositoryFilter::builder()
                                    .filter("prod-*")
                                    .filter_type(ScanningRepositoryFilterType::Wildcard)
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build();
        let value = registry_scanning_json(&out);
        assert_eq!(value["scanType"], "ENHANCED");
        assert_eq!(value["rules"][0]["scanFrequency"], "CONTINUOUS_SCAN");
        assert_eq!(
            value["rules"][0]["repositoryFilters"][0]["filter"],
            "prod-*"
        );
        assert_eq!(
            value["rules"][0]["repositoryFilters"][0]["filterType"],
            "WILDCARD"
        );
    }
}
