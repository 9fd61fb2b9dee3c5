//! SecurityHub collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects SecurityHub.
#[derive(Debug)]
pub struct SecurityHub;

static META: CollectorMeta = CollectorMeta {
    service: "securityhub",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::SecurityHub"],
};

impl Collector for SecurityHub {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
