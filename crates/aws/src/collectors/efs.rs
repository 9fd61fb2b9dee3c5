//! Efs collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects Efs.
#[derive(Debug)]
pub struct Efs;

static META: CollectorMeta = CollectorMeta {
    service: "efs",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["AWS::Placeholder::Efs"],
};

impl Collector for Efs {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
