//! Systems Manager: managed instances ([`types::SSM_MANAGED_INSTANCE`]) and
//! the account's own documents (`AWS::SSM::Document`) with whom they are
//! shared (FSBP SSM.4: documents should not be public).
//!
//! Per region: `DescribeInstanceInformation` (50 a page); `ListDocuments`
//! filtered on `Owner=Self` (50 a page) and per document
//! `DescribeDocumentPermission` (`Share`, 200 account ids a page).
//!
//! A managed instance is SSM's view of an EC2 instance (`i-…`) or a hybrid
//! node (`mi-…`). Its id is Rampart's
//! `arn:rampart:ssm:<region>:<account>:managed-instance/<instanceId>` so it
//! never collides with the `AWS::EC2::Instance` asset of the same instance;
//! `resourceArn` holds the real ARN (the EC2 instance's, or SSM's
//! `managed-instance/mi-…`) to join on.
//!
//! moto does not implement `DescribeInstanceInformation`: against it the
//! call is a gap and no managed instance is emitted.

use aws_sdk_ssm::types::{
    DocumentIdentifier, DocumentKeyValuesFilter, DocumentPermissionType, InstanceInformation,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{
    Collector, CollectorMeta, Scope, opt_str, opt_timestamp, partition, str_list, tag_map,
};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects SSM managed instances and owned documents.
#[derive(Debug)]
pub struct Ssm;

static META: CollectorMeta = CollectorMeta {
    service: "ssm",
    scope: Scope::Regional,
    operations: &[
        op!("ssm", "DescribeInstanceInformation"),
        op!("ssm", "ListDocuments"),
        op!("ssm", "DescribeDocumentPermission"),
    ],
    resource_types: &[types::SSM_MANAGED_INSTANCE, "AWS::SSM::Document"],
};

/// Pages of `DescribeDocumentPermission` read at most for one document.
const MAX_PERMISSION_PAGES: usize = 100;

impl Collector for Ssm {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().ssm(ctx.region());
            let client = &client;
            futures::join!(
                collect_instances(ctx, client),
                collect_documents(ctx, client)
            );
        })
    }
}

async fn collect_instances(ctx: &CollectContext<'_>, client: &aws_sdk_ssm::Client) {
    let pages = ctx
        .pages(
            "DescribeInstanceInformation",
            client
                .describe_instance_information()
                .into_paginator()
                .page_size(50)
                .send(),
        )
        .await;
    for info in pages
        .iter()
        .flatten()
        .flat_map(|p| p.instance_information_list())
    {
        ctx.emit(managed_instance_asset(ctx.account(), ctx.region(), info));
    }
}

async fn collect_documents(ctx: &CollectContext<'_>, client: &aws_sdk_ssm::Client) {
    let Ok(pages) = ctx
        .pages(
            "ListDocuments",
            client
                .list_documents()
                .filters(
                    DocumentKeyValuesFilter::builder()
                        .key("Owner")
                        .values("Self")
                        .build(),
                )
                .into_paginator()
                .page_size(50)
                .send(),
        )
        .await
    else {
        return;
    };
    let documents: Vec<DocumentIdentifier> = pages
        .into_iter()
        .flat_map(|p| p.document_identifiers.unwrap_or_default())
        .collect();
    futures::stream::iter(documents)
        .map(|doc| async move {
            let shared = match doc.name() {
                Some(name) => document_permissions(ctx, client, name).await,
                None => Ok(Vec::new()),
            };
            ctx.emit(document_asset(
                ctx.account(),
                ctx.region(),
                &doc,
                shared.as_deref(),
            ));
        })
        .buffer_unordered(ctx.concurrency())
        .collect::<Vec<()>>()
        .await;
}

/// The account ids (or `all`) a document is shared with, every page.
async fn document_permissions(
    ctx: &CollectContext<'_>,
    client: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<Vec<String>, CallFailure> {
    let mut accounts = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PERMISSION_PAGES {
        let page = ctx
            .call(
                "DescribeDocumentPermission",
                client
                    .describe_document_permission()
                    .name(name)
                    .permission_type(DocumentPermissionType::Share)
                    .max_results(200)
                    .set_next_token(token.clone())
                    .send(),
            )
            .await?;
        accounts.extend(page.account_ids().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() && token.as_deref() != Some(next) => {
                token = Some(next.to_owned());
            }
            _ => break,
        }
    }
    Ok(accounts)
}

/// The [`types::SSM_MANAGED_INSTANCE`] asset of a managed instance.
pub fn managed_instance_asset(account: &str, region: &str, info: &InstanceInformation) -> Asset {
    let id = info.instance_id().unwrap_or_default();
    let resource_arn = if id.starts_with("i-") {
        format!(
            "arn:{}:ec2:{region}:{account}:instance/{id}",
            partition(region)
        )
    } else {
        format!(
            "arn:{}:ssm:{region}:{account}:managed-instance/{id}",
            partition(region)
        )
    };
    let properties = json!({
        "instanceId": id,
        "resourceArn": resource_arn,
        "resourceType": opt_str(info.resource_type().map(|t| t.as_str())),
        "pingStatus": opt_str(info.ping_status().map(|s| s.as_str())),
        "lastPingDateTime": opt_timestamp(info.last_ping_date_time()),
        "agentVersion": opt_str(info.agent_version()),
        "isLatestVersion": info.is_latest_version(),
        "platformType": opt_str(info.platform_type().map(|t| t.as_str())),
        "platformName": opt_str(info.platform_name()),
        "platformVersion": opt_str(info.platform_version()),
        "iamRole": opt_str(info.iam_role()),
        "computerName": opt_str(info.computer_name()),
        "ipAddress": opt_str(info.ip_address()),
        "registrationDate": opt_timestamp(info.registration_date()),
        "associationStatus": opt_str(info.association_status()),
        "lastAssociationExecutionDate": opt_timestamp(info.last_association_execution_date()),
        "lastSuccessfulAssociationExecutionDate": opt_timestamp(info.last_successful_association_execution_date()),
    });
    Asset::new(
        setting_id("ssm", region, account, &format!("managed-instance/{id}")),
        types::SSM_MANAGED_INSTANCE,
        account,
        region,
        id,
        properties,
    )
}

/// The `AWS::SSM::Document` asset of an owned document, with the accounts
/// it is shared with (`all` = public) or the failure that prevented
/// reading them.
pub fn document_asset(
    account: &str,
    region: &str,
    doc: &DocumentIdentifier,
    shared_with: Result<&[String], &CallFailure>,
) -> Asset {
    let name = doc.name().unwrap_or_default();
    let arn = format!(
        "arn:{}:ssm:{region}:{account}:document/{name}",
        partition(region)
    );
    let mut asset = Asset::new(
        arn,
        "AWS::SSM::Document",
        account,
        region,
        name,
        json!({
            "name": name,
            "owner": opt_str(doc.owner()),
            "documentType": opt_str(doc.document_type().map(|t| t.as_str())),
            "documentFormat": opt_str(doc.document_format().map(|f| f.as_str())),
            "documentVersion": opt_str(doc.document_version()),
            "schemaVersion": opt_str(doc.schema_version()),
            "platformTypes": doc.platform_types().iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "createdDate": opt_timestamp(doc.created_date()),
        }),
    )
    .with_tags(tag_map(
        doc.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
    ));
    match shared_with {
        Ok(ids) => {
            asset.set_property("public", Value::Bool(ids.iter().any(|a| a == "all")));
            let accounts: Vec<&String> = ids.iter().filter(|a| *a != "all").collect();
            asset.set_property("sharedAccounts", str_list(&accounts));
        }
        Err(failure) => {
            for key in ["public", "sharedAccounts"] {
                asset.set_property(key, Value::Null);
                asset.mark_unavailable(key, failure.to_string());
            }
        }
    }
    asset
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::types::{DocumentType, PingStatus, PlatformType, Tag};
    use rampart_model::GapKind;

    #[test]
    fn maps_an_ec2_managed_instance() {
        let info = InstanceInformation::builder()
            .instance_id("i-0123456789abcdef0")
            .ping_status(PingStatus::Online)
            .agent_version("3.3.0.0")
            .is_latest_version(false)
            .platform_type(PlatformType::Linux)
            .last_ping_date_time(aws_smithy_types::DateTime::from_secs(0))
            .build();
        let asset = managed_instance_asset("123456789012", "us-east-1", &info);
        assert_eq!(
            asset.arn,
            "arn:rampart:ssm:us-east-1:123456789012:managed-instance/i-0123456789abcdef0"
        );
        assert_eq!(asset.resource_type, types::SSM_MANAGED_INSTANCE);
        assert_eq!(asset.name, "i-0123456789abcdef0");
        let p = &asset.properties;
        assert_eq!(
            p["resourceArn"],
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
        );
        assert_eq!(p["pingStatus"], "Online");
        assert_eq!(p["agentVersion"], "3.3.0.0");
        assert_eq!(p["isLatestVersion"], false);
        assert_eq!(p["platformType"], "Linux");
        assert_eq!(p["lastPingDateTime"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn maps_a_lost_hybrid_node() {
        let info = InstanceInformation::builder()
            .instance_id("mi-0123456789abcdef0")
            .ping_status(PingStatus::ConnectionLost)
            .build();
        let asset = managed_instance_asset("123456789012", "eu-west-1", &info);
        assert_eq!(
            asset.properties["resourceArn"],
            "arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-0123456789abcdef0"
        );
        assert_eq!(asset.properties["pingStatus"], "ConnectionLost");
        assert_eq!(asset.properties["agentVersion"], Value::Null);
    }

    fn doc() -> DocumentIdentifier {
        DocumentIdentifier::builder()
            .name("deploy")
            .owner("123456789012")
            .document_type(DocumentType::Command)
            .tags(
                Tag::builder()
                    .key("team")
                    .value("ops")
                    .build()
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .build()
    }

    #[test]
    fn public_private_and_unread_documents() {
        let shared = vec!["all".to_owned(), "111122223333".to_owned()];
        let asset = document_asset("123456789012", "us-east-1", &doc(), Ok(&shared));
        assert_eq!(
            asset.arn,
            "arn:aws:ssm:us-east-1:123456789012:document/deploy"
        );
        assert_eq!(asset.resource_type, "AWS::SSM::Document");
        assert_eq!(asset.tags["team"], "ops");
        assert_eq!(asset.properties["documentType"], "Command");
        assert_eq!(asset.properties["public"], true);
        assert_eq!(asset.properties["sharedAccounts"], json!(["111122223333"]));

        let asset = document_asset("123456789012", "us-east-1", &doc(), Ok(&[]));
        assert_eq!(asset.properties["public"], false);
        assert_eq!(asset.properties["sharedAccounts"], json!([]));
        assert!(asset.unavailable.is_empty());

        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "AccessDeniedException: nope".into(),
        };
        let asset = document_asset("123456789012", "us-east-1", &doc(), Err(&failure));
        assert_eq!(asset.properties["public"], Value::Null);
        assert_eq!(asset.unavailable["public"], "AccessDeniedException: nope");
    }
}
