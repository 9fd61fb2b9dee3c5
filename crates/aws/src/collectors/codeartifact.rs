//! AWS CodeArtifact: repositories (`AWS::CodeArtifact::Repository`) with
//! their resource policy.
//!
//! Per region `ListRepositories` (paginated), then per repository
//! `GetRepositoryPermissionsPolicy`; `ResourceNotFoundException` means the
//! repository has no policy (`policy` is `null`, not a gap). A failed read
//! marks `policy` unavailable.

use aws_sdk_codeartifact::operation::get_repository_permissions_policy::GetRepositoryPermissionsPolicyOutput;
use aws_sdk_codeartifact::types::RepositorySummary;
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str, policy_document};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects CodeArtifact repositories.
#[derive(Debug)]
pub struct CodeArtifact;

/// A CodeArtifact repository.
pub const REPOSITORY: &str = "AWS::CodeArtifact::Repository";

static META: CollectorMeta = CollectorMeta {
    service: "codeartifact",
    scope: Scope::Regional,
    operations: &[
        op!("codeartifact", "ListRepositories"),
        op!("codeartifact", "GetRepositoryPermissionsPolicy"),
    ],
    resource_types: &[REPOSITORY],
};

impl Collector for CodeArtifact {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().codeartifact(ctx.region());
            let client = &client;
            let Ok(pages) = ctx
                .pages(
                    "ListRepositories",
                    client.list_repositories().into_paginator().send(),
                )
                .await
            else {
                return;
            };
            let repositories: Vec<RepositorySummary> = pages
                .into_iter()
                .flat_map(|p| p.repositories.unwrap_or_default())
                .collect();
            let assets: Vec<Asset> = futures::stream::iter(repositories)
                .map(|repo| async move {
                    let policy = ctx
                        .call_optional(
                            "GetRepositoryPermissionsPolicy",
                            &["ResourceNotFoundException"],
                            client
                                .get_repository_permissions_policy()
                                .domain(repo.domain_name().unwrap_or_default())
                                .set_domain_owner(repo.domain_owner().map(str::to_owned))
                                .repository(repo.name().unwrap_or_default())
                                .send(),
                        )
                        .await;
                    repository_asset(
                        ctx.account(),
                        ctx.region(),
                        &repo,
                        policy.as_ref().map(Option::as_ref),
                    )
                })
                .buffer_unordered(ctx.concurrency())
                .collect()
                .await;
            for asset in assets {
                ctx.emit(asset);
            }
        })
    }
}

/// The `AWS::CodeArtifact::Repository` asset: domain, owner and `policy`
/// (the resource policy document, `null` when there is none).
pub fn repository_asset(
    account: &str,
    region: &str,
    repo: &RepositorySummary,
    policy: Result<Option<&GetRepositoryPermissionsPolicyOutput>, &CallFailure>,
) -> Asset {
    let name = repo.name().unwrap_or_default();
    let mut asset = Asset::new(
        repo.arn().unwrap_or(name),
        REPOSITORY,
        account,
        region,
        name,
        json!({
            "name": name,
            "domainName": opt_str(repo.domain_name()),
            "domainOwner": opt_str(repo.domain_owner()),
            "administratorAccount": opt_str(repo.administrator_account()),
        }),
    );
    match policy {
        Ok(out) => asset.set_property(
            "policy",
            out.and_then(|o| o.policy())
                .and_then(|p| p.document())
                .map_or(Value::Null, policy_document),
        ),
        Err(failure) => {
            asset.set_property("policy", Value::Null);
            asset.mark_unavailable("policy", failure.to_string());
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_codeartifact::types::ResourcePolicy;
    use rampart_model::GapKind;

    #[test]
    fn maps_a_repository() {
        let repo = RepositorySummary::builder()
            .name("npm-internal")
            .domain_name("acme")
            .domain_owner("123456789012")
            .arn("arn:aws:codeartifact:us-east-1:123456789012:repository/acme/npm-internal")
            .build();
        let out = GetRepositoryPermissionsPolicyOutput::builder()
            .policy(
                ResourcePolicy::builder()
                    .document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"codeartifact:ReadFromRepository","Resource":"*"}]}"#)
                    .build(),
            )
            .build();
        let asset = repository_asset("123456789012", "us-east-1", &repo, Ok(Some(&out)));
        assert_eq!(asset.name, "npm-internal");
        assert_eq!(asset.properties["policy"]["Statement"][0]["Principal"], "*");
        let asset = repository_asset("123456789012", "us-east-1", &repo, Ok(None));
        assert_eq!(asset.properties["policy"], Value::Null);
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: None,
            message: "denied".into(),
        };
        let asset = repository_asset("123456789012", "us-east-1", &repo, Err(&failure));
        assert!(asset.unavailable.contains_key("policy"));
    }
}
