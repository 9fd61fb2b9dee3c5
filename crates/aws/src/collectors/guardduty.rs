//! GuardDuty collector (not yet written).

use futures::future::BoxFuture;

use super::{Collector, CollectorMeta, Scope};
use crate::scan::CollectContext;

/// Collects GuardDuty.
#[derive(Debug)]
pub struct GuardDuty;

static META: CollectorMeta = CollectorMeta {
    service: "guardduty",
    scope: Scope::Regional,
    operations: &[],
    resource_types: &["TODO"],
};

impl Collector for GuardDuty {
    fn meta(&self) -> &'static CollectorMeta {
        &META
    }

    fn collect<'a>(&'a self, _ctx: &'a CollectContext<'a>) -> BoxFuture<'a, ()> {
        Box::pin(async move {})
    }
}
