//! AWS Private CA: certificate authorities
//! (`AWS::ACMPCA::CertificateAuthority`) with their type and status.
//!
//! Per region `ListCertificateAuthorities` (paginated; it also lists CAs
//! deleted but still restorable, with status `DELETED`).

use aws_sdk_acmpca::types::CertificateAuthority;
use futures::future::BoxFuture;
use rampart_model::Asset;
use serde_json::json;

use super::{Collector, CollectorMeta, Scope, arn_name, opt_str, opt_timestamp};
use crate::op;
use crate::scan::CollectContext;

/// Collects Private CA certificate authorities.
#[derive(Debug)]
pub struct AcmPca;

/// A Private CA certificate authority.
pub const CERTIFICATE_AUTHORITY: &str = "AWS::ACMPCA::CertificateAuthority";

static META: CollectorMeta = CollectorMeta {
    service: "acm-pca",
    scope: Scope::Regional,
    operations: &[op!("acm-pca", "ListCertificateAuthorities")],
    resource_types: &[CERTIFICATE_AUTHORITY],
};

impl Collector for AcmPca {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().acm_pca(ctx.region());
            let pages = ctx
                .pages(
                    "ListCertificateAuthorities",
                    client
                        .list_certificate_authorities()
                        .into_paginator()
                        .send(),
                )
                .await;
            for ca in pages
                .iter()
                .flatten()
                .flat_map(|p| p.certificate_authorities())
            {
                ctx.emit(certificate_authority_asset(ctx.account(), ctx.region(), ca));
            }
        })
    }
}

/// The `AWS::ACMPCA::CertificateAuthority` asset: `type` (`ROOT` /
/// `SUBORDINATE`), `status` (`ACTIVE`, `DISABLED`, `DELETED`, …), usage mode
/// and validity.
pub fn certificate_authority_asset(
    account: &str,
    region: &str,
    ca: &CertificateAuthority,
) -> Asset {
    let arn = ca.arn().unwrap_or_default();
    Asset::new(
        arn,
        CERTIFICATE_AUTHORITY,
        account,
        region,
        arn_name(arn),
        json!({
            "arn": arn,
            "type": opt_str(ca.r#type().map(|t| t.as_str())),
            "status": opt_str(ca.status().map(|s| s.as_str())),
            "usageMode": opt_str(ca.usage_mode().map(|u| u.as_str())),
            "ownerAccount": opt_str(ca.owner_account()),
            "notAfter": opt_timestamp(ca.not_after()),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_acmpca::types::{CertificateAuthorityStatus, CertificateAuthorityType};

    #[test]
    fn maps_a_ca() {
        let ca = CertificateAuthority::builder()
            .arn("arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/abc")
            .r#type(CertificateAuthorityType::Root)
            .status(CertificateAuthorityStatus::Active)
            .build();
        let asset = certificate_authority_asset("123456789012", "us-east-1", &ca);
        assert_eq!(asset.name, "abc");
        assert_eq!(asset.properties["type"], "ROOT");
        assert_eq!(asset.properties["status"], "ACTIVE");
    }
}
