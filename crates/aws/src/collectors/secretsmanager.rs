//! SecretsManager collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects SecretsManager.
#[derive(Debug)]
pub struct SecretsManager;

static META: CollectorMeta = CollectorMeta {
    service: "secretsmanager",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::SecretsManager"],
};

impl Collector for SecretsManager {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
