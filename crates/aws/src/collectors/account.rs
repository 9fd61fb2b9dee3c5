//! AWS Account Management (global, home region): the account's alternate
//! contacts, one [`types::ACCOUNT_CONTACTS`] asset per account.
//!
//! `GetAlternateContact` for `SECURITY`, `BILLING` and `OPERATIONS`;
//! `ResourceNotFoundException` means that contact is not set (`null`, not
//! a gap). A failed read marks that contact unavailable.

use aws_sdk_account::operation::get_alternate_contact::GetAlternateContactOutput;
use aws_sdk_account::types::AlternateContactType;
use futures::future::BoxFuture;
use rampart_model::{Asset, setting_id, types};
use serde_json::{Value, json};

use super::{Collector, CollectorMeta, Scope, opt_str};
use crate::error::CallFailure;
use crate::op;
use crate::scan::CollectContext;

/// Collects the account's alternate contacts.
#[derive(Debug)]
pub struct Account;

static META: CollectorMeta = CollectorMeta {
    service: "account",
    scope: Scope::Global,
    operations: &[op!("account", "GetAlternateContact")],
    resource_types: &[types::ACCOUNT_CONTACTS],
};

/// The contact types read, with the property each is kept under.
const CONTACTS: [(AlternateContactType, &str); 3] = [
    (AlternateContactType::Security, "security"),
    (AlternateContactType::Billing, "billing"),
    (AlternateContactType::Operations, "operations"),
];

/// One contact's read: set, not set (`None`), or failed.
pub type ContactRead = Result<Option<GetAlternateContactOutput>, CallFailure>;

impl Collector for Account {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let client = ctx.access().account(ctx.home_region());
            let client = &client;
            let reads = futures::future::join_all(CONTACTS.iter().map(|(kind, key)| async move {
                let read = ctx
                    .call_optional(
                        "GetAlternateContact",
                        &["ResourceNotFoundException"],
                        client
                            .get_alternate_contact()
                            .alternate_contact_type(kind.clone())
                            .send(),
                    )
                    .await;
                (*key, read)
            }))
            .await;
            ctx.emit(contacts_asset(ctx.account(), ctx.home_region(), &reads));
        })
    }
}

/// The [`types::ACCOUNT_CONTACTS`] asset: per contact type
/// (`security`, `billing`, `operations`) `{name, title, emailAddress,
/// phoneNumber}`, or `null` when not set.
pub fn contacts_asset(account: &str, home_region: &str, reads: &[(&str, ContactRead)]) -> Asset {
    let mut asset = Asset::new(
        setting_id("account", home_region, account, "alternate-contacts"),
        types::ACCOUNT_CONTACTS,
        account,
        home_region,
        "alternate-contacts",
        json!({}),
    );
    for (key, read) in reads {
        match read {
            Ok(out) => {
                let contact =
                    out.as_ref()
                        .and_then(|o| o.alternate_contact())
                        .map_or(Value::Null, |c| {
                            json!({
                                "name": opt_str(c.name()),
                                "title": opt_str(c.title()),
                                "emailAddress": opt_str(c.email_address()),
                                "phoneNumber": opt_str(c.phone_number()),
                            })
                        });
                asset.set_property(key, contact);
            }
            Err(failure) => {
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
    use aws_sdk_account::types::AlternateContact;
    use rampart_model::GapKind;

    #[test]
    fn maps_contacts() {
        let set = GetAlternateContactOutput::builder()
            .alternate_contact(
                AlternateContact::builder()
                    .name("SecOps")
                    .email_address("secops@example.com")
                    .alternate_contact_type(AlternateContactType::Security)
                    .build(),
            )
            .build();
        let failure = CallFailure {
            kind: GapKind::AccessDenied,
            code: Some("AccessDeniedException".into()),
            message: "denied".into(),
        };
        let reads = [
            ("security", Ok(Some(set))),
            ("billing", Ok(None)),
            ("operations", Err(failure)),
        ];
        let asset = contacts_asset("123456789012", "us-east-1", &reads);
        assert_eq!(asset.resource_type, types::ACCOUNT_CONTACTS);
        assert_eq!(
            asset.arn,
            "arn:rampart:account:us-east-1:123456789012:alternate-contacts"
        );
        assert_eq!(
            asset.properties["security"]["emailAddress"],
            "secops@example.com"
        );
        assert_eq!(asset.properties["billing"], Value::Null);
        assert!(asset.unavailable.contains_key("operations"));
        assert!(!asset.unavailable.contains_key("billing"));
    }
}
