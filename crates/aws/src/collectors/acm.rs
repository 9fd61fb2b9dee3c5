//! ACM: certificates (`AWS::CertificateManager::Certificate`).
//!
//! Per region `ListCertificates` (1000 a page) with every key type in its
//! `Includes` filter (without it the list leaves out certificates whose key
//! is not RSA 1024/2048 or EC P-256/P-384), then `DescribeCertificate` per
//! certificate for its type, key algorithm, validity and use. A failed
//! describe leaves the listed certificate with its detail marked
//! unavailable; `ResourceNotFoundException` means it was deleted after the
//! list (`deleted: true`). `observedAt` is the time of the scan, the clock the
//! expiry recommendation compares `notAfter` with.

use aws_sdk_acm::types::{CertificateDetail, Filters, KeyAlgorithm};
use futures::StreamExt;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Collector, CollectorMeta, Scope, opt_str, opt_timestamp, str_list};
use crate::op;
use crate::scan::CollectContext;

/// Collects ACM certificates.
#[derive(Debug)]
pub struct Acm;

/// Resource type of ACM certificates.
pub const CERTIFICATE_TYPE: &str = "AWS::CertificateManager::Certificate";

/// The certificate properties `DescribeCertificate` gives.
const DETAIL: &[&str] = &["type", "keyAlgorithm", "notAfter", "status", "inUseBy"];

static META: CollectorMeta = CollectorMeta {
    service: "acm",
    scope: Scope::Regional,
    operations: &[
        op!("acm", "ListCertificates"),
        op!("acm", "DescribeCertificate"),
    ],
    resource_types: &[CERTIFICATE_TYPE],
};

impl Collector for Acm {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().acm(ctx.region());
            let all_keys = Filters::builder()
                .set_key_types(Some(
                    KeyAlgorithm::values()
                        .iter()
                        .map(|k| KeyAlgorithm::from(*k))
                        .collect(),
                ))
                .build();
            let Ok(pages) = ctx
                .pages(
                    "ListCertificates",
                    client
                        .list_certificates()
                        .includes(all_keys)
                        .max_items(1000)
                        .into_paginator()
                        .send(),
                )
                .await
            else {
                return;
            };
            let observed = OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .map_or(Value::Null, Value::String);
            let arns: Vec<(String, Option<String>)> = pages
                .iter()
                .flat_map(|p| p.certificate_summary_list())
                .filter_map(|c| {
                    c.certificate_arn()
                        .map(|a| (a.to_owned(), c.domain_name().map(str::to_owned)))
                })
                .collect();
            let client = &client;
            let observed = &observed;
            futures::stream::iter(arns)
                .map(|(arn, domain)| async move {
                    let detail = ctx
                        .call_optional(
                            "DescribeCertificate",
                            &["ResourceNotFoundException"],
                            client.describe_certificate().certificate_arn(&arn).send(),
                        )
                        .await;
                    let asset = match detail {
                        Ok(Some(out)) => certificate_asset(
                            ctx.account(),
                            ctx.region(),
                            &arn,
                            domain.as_deref(),
                            out.certificate(),
                            observed,
                        ),
                        Ok(None) => {
                            let mut asset = certificate_asset(
                                ctx.account(),
                                ctx.region(),
                                &arn,
                                domain.as_deref(),
                                None,
                                observed,
                            );
                            asset.set_property("deleted", Value::Bool(true));
                            asset
                        }
                        Err(failure) => {
                            let mut asset = certificate_asset(
                                ctx.account(),
                                ctx.region(),
                                &arn,
                                domain.as_deref(),
                                None,
                                observed,
                            );
                            for key in DETAIL {
                                asset.mark_unavailable(key, failure.to_string());
                            }
                            asset
                        }
                    };
                    ctx.emit(asset);
                })
                .buffer_unordered(ctx.concurrency())
                .collect::<Vec<()>>()
                .await;
        })
    }
}

/// The `AWS::CertificateManager::Certificate` asset: the listed ARN and
/// domain, the detail `DescribeCertificate` gave (`type`: `IMPORTED`,
/// `AMAZON_ISSUED` or `PRIVATE`; `keyAlgorithm` as ACM names it,
/// `RSA_2048`; `notAfter` `null` until issued) and `observedAt`.
pub fn certificate_asset(
    account: &str,
    region: &str,
    arn: &str,
    domain: Option<&str>,
    detail: Option<&CertificateDetail>,
    observed: &Value,
) -> Asset {
    let domain = detail.and_then(CertificateDetail::domain_name).or(domain);
    let properties = json!({
        "certificateArn": arn,
        "domainName": opt_str(domain),
        "type": opt_str(detail.and_then(|d| d.r#type()).map(|t| t.as_str())),
        "keyAlgorithm": opt_str(detail.and_then(CertificateDetail::key_algorithm).map(KeyAlgorithm::as_str)),
        "status": opt_str(detail.and_then(CertificateDetail::status).map(|s| s.as_str())),
        "notBefore": opt_timestamp(detail.and_then(CertificateDetail::not_before)),
        "notAfter": opt_timestamp(detail.and_then(CertificateDetail::not_after)),
        "importedAt": opt_timestamp(detail.and_then(CertificateDetail::imported_at)),
        "renewalEligibility": opt_str(detail.and_then(CertificateDetail::renewal_eligibility).map(|r| r.as_str())),
        "inUseBy": str_list(detail.map(CertificateDetail::in_use_by).unwrap_or_default()),
        "observedAt": observed,
        "deleted": false,
    });
    Asset::new(
        arn,
        CERTIFICATE_TYPE,
        account,
        region,
        domain.unwrap_or(arn),
        properties,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_acm::types::{CertificateStatus, CertificateType};
    use aws_smithy_types::DateTime;

    #[test]
    fn maps_an_imported_certificate() {
        let detail = CertificateDetail::builder()
            .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/c1")
            .domain_name("shop.example.com")
            .r#type(CertificateType::Imported)
            .key_algorithm(KeyAlgorithm::Rsa1024)
            .status(CertificateStatus::Issued)
            .not_after(DateTime::from_secs(86_400))
            .in_use_by("arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1")
            .build();
        let observed = json!("1970-01-01T00:00:00Z");
        let asset = certificate_asset(
            "123456789012",
            "us-east-1",
            "arn:aws:acm:us-east-1:123456789012:certificate/c1",
            None,
            Some(&detail),
            &observed,
        );
        assert_eq!(asset.resource_type, CERTIFICATE_TYPE);
        assert_eq!(asset.name, "shop.example.com");
        let p = &asset.properties;
        assert_eq!(p["type"], "IMPORTED");
        assert_eq!(p["keyAlgorithm"], "RSA_1024");
        assert_eq!(p["notAfter"], "1970-01-02T00:00:00Z");
        assert_eq!(p["observedAt"], "1970-01-01T00:00:00Z");
        assert_eq!(p["inUseBy"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_listed_certificate_without_detail_keeps_its_arn() {
        let asset = certificate_asset(
            "123456789012",
            "us-east-1",
            "arn:aws:acm:us-east-1:123456789012:certificate/c2",
            Some("api.example.com"),
            None,
            &Value::Null,
        );
        assert_eq!(asset.name, "api.example.com");
        assert_eq!(asset.properties["keyAlgorithm"], Value::Null);
    }
}
