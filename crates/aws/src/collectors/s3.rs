//! S3 collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects S3.
#[derive(Debug)]
pub struct S3;

static META: CollectorMeta = CollectorMeta {
    service: "s3",
    scope: Scope::Global,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for S3 {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
