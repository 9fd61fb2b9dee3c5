//! CloudTrail collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects CloudTrail.
#[derive(Debug)]
pub struct CloudTrail;

static META: CollectorMeta = CollectorMeta {
    service: "cloudtrail",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for CloudTrail {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
