//! Sns collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Sns.
#[derive(Debug)]
pub struct Sns;

static META: CollectorMeta = CollectorMeta {
    service: "sns",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::Sns"],
};

impl Collector for Sns {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
