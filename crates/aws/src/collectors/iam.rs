//! Iam collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Iam.
#[derive(Debug)]
pub struct Iam;

static META: CollectorMeta = CollectorMeta {
    service: "iam",
    scope: Scope::Global,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for Iam {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
