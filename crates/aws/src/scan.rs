//! Running collectors over an account: regions × services, bounded
//! concurrency, gaps recorded, progress reported.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::StreamExt;
use rampart_model::{Asset, CoverageGap, GapKind};
use tokio::sync::Semaphore;

use crate::access::AwsAccess;
use crate::collectors::{COLLECTORS, Collector, Scope};
use crate::error::{CallFailure, classify};

/// Calls in flight at once across the whole scan, whatever `--concurrency` says.
pub const MAX_IN_FLIGHT: usize = 64;

/// What to scan in one account.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Account id (from `GetCallerIdentity`).
    pub account: String,
    /// Region for global services.
    pub home_region: String,
    /// Enabled regions to scan.
    pub regions: Vec<String>,
    /// Regions requested but not enabled: recorded as gaps.
    pub disabled_regions: Vec<String>,
    /// Only these services (collector keys); `None`: all.
    pub services: Option<Vec<String>>,
    /// Calls in flight at once per service and region.
    pub concurrency: usize,
}

/// Receives progress of a scan. All methods default to doing nothing.
pub trait Progress: Send + Sync {
    /// The scan has planned `tasks` region/service tasks.
    fn planned(&self, _tasks: usize) {}
    /// A task started.
    fn started(&self, _region: &str, _service: &str) {}
    /// A task finished with so many assets and gaps.
    fn finished(&self, _region: &str, _service: &str, _assets: usize, _gaps: usize) {}
}

/// Progress that reports nothing.
#[derive(Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a scan of one account produced.
#[derive(Debug, Default)]
pub struct AccountScan {
    /// Assets, sorted by type, region and ARN.
    pub assets: Vec<Asset>,
    /// Gaps, one per account/region/service/operation/kind.
    pub gaps: Vec<CoverageGap>,
}

/// Concurrency limits shared by every task of a scan.
#[derive(Debug)]
struct Limits {
    per_service: usize,
    global: Semaphore,
    services: Mutex<HashMap<(String, &'static str), Arc<Semaphore>>>,
}

impl Limits {
    fn new(per_service: usize) -> Self {
        Self {
            per_service: per_service.max(1),
            global: Semaphore::new(MAX_IN_FLIGHT),
            services: Mutex::new(HashMap::new()),
        }
    }

    fn service(&self, region: &str, service: &'static str) -> Arc<Semaphore> {
        let mut map = match self.services.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry((region.to_owned(), service))
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_service)))
            .clone()
    }
}

#[derive(Debug, Default)]
struct TaskOutput {
    assets: Vec<Asset>,
    gaps: Vec<CoverageGap>,
}

/// What a collector sees: where it runs, its clients, and where results go.
#[derive(Debug)]
pub struct CollectContext<'a> {
    plan: &'a ScanPlan,
    region: &'a str,
    service: &'static str,
    access: &'a AwsAccess,
    limits: &'a Limits,
    output: Mutex<TaskOutput>,
}

impl<'a> CollectContext<'a> {
    /// The account being scanned.
    pub fn account(&self) -> &str {
        &self.plan.account
    }

    /// The region this task runs in (the home region for global collectors).
    pub fn region(&self) -> &str {
        self.region
    }

    /// The scan's home region.
    pub fn home_region(&self) -> &str {
        &self.plan.home_region
    }

    /// Every region the scan covers.
    pub fn scan_regions(&self) -> &[String] {
        &self.plan.regions
    }

    /// Calls in flight at once per service and region.
    pub fn concurrency(&self) -> usize {
        self.limits.per_service
    }

    /// The configured AWS access, for clients.
    pub fn access(&self) -> &AwsAccess {
        self.access
    }

    /// Hands over one asset.
    pub fn emit(&self, asset: Asset) {
        self.with_output(|out| out.assets.push(asset));
    }

    /// Records a gap for `operation` in this task's region.
    pub fn gap(&self, operation: &str, failure: &CallFailure) {
        self.gap_in(self.region, operation, failure);
    }

    /// Records a gap for `operation` in another region (per-resource calls
    /// of a global collector, such as S3's per-bucket calls).
    pub fn gap_in(&self, region: &str, operation: &str, failure: &CallFailure) {
        tracing::debug!(service = self.service, region, operation, error = %failure.message, "coverage gap");
        let gap = CoverageGap {
            account: self.plan.account.clone(),
            region: region.to_owned(),
            service: self.service.to_owned(),
            operation: operation.to_owned(),
            kind: failure.kind,
            error: failure.message.clone(),
            occurrences: 1,
        };
        self.with_output(|out| out.gaps.push(gap));
    }

    /// Makes one API call within the concurrency limits; a failure is
    /// recorded as a gap and returned.
    pub async fn call<T, E, F>(&self, operation: &'static str, call: F) -> Result<T, CallFailure>
    where
        F: Future<Output = Result<T, SdkError<E, Response>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match self.call_optional(operation, &[], call).await {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(CallFailure {
                kind: GapKind::Other,
                code: None,
                message: "no response".to_owned(),
            }),
            Err(failure) => Err(failure),
        }
    }

    /// Like [`call`](Self::call), for calls whose error codes in `absent`
    /// mean "not configured" (`NoSuchBucketPolicy`): those give `Ok(None)`
    /// and are not gaps.
    pub async fn call_optional<T, E, F>(
        &self,
        operation: &'static str,
        absent: &[&str],
        call: F,
    ) -> Result<Option<T>, CallFailure>
    where
        F: Future<Output = Result<T, SdkError<E, Response>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.call_optional_in(self.region, operation, absent, call)
            .await
    }

    /// [`call_optional`](Self::call_optional) for a call to another region.
    pub async fn call_optional_in<T, E, F>(
        &self,
        region: &str,
        operation: &'static str,
        absent: &[&str],
        call: F,
    ) -> Result<Option<T>, CallFailure>
    where
        F: Future<Output = Result<T, SdkError<E, Response>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let result = {
            let service = self.limits.service(region, self.service);
            let _service_permit = service.acquire().await;
            let _global_permit = self.limits.global.acquire().await;
            call.await
        };
        match result {
            Ok(value) => Ok(Some(value)),
            Err(err) => {
                let failure = classify(&err);
                if failure.code.as_deref().is_some_and(|c| absent.contains(&c)) {
                    return Ok(None);
                }
                self.gap_in(region, operation, &failure);
                Err(failure)
            }
        }
    }

    /// Fetches every page of a paginated call; a failure on any page is a
    /// gap and discards the partial list.
    pub async fn pages<T, E>(
        &self,
        operation: &'static str,
        mut stream: PaginationStream<Result<T, SdkError<E, Response>>>,
    ) -> Result<Vec<T>, CallFailure>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut pages = Vec::new();
        loop {
            let next = {
                let service = self.limits.service(self.region, self.service);
                let _service_permit = service.acquire().await;
                let _global_permit = self.limits.global.acquire().await;
                stream.next().await
            };
            match next {
                None => return Ok(pages),
                Some(Ok(page)) => pages.push(page),
                Some(Err(err)) => {
                    let failure = classify(&err);
                    self.gap(operation, &failure);
                    return Err(failure);
                }
            }
        }
    }

    fn with_output(&self, f: impl FnOnce(&mut TaskOutput)) {
        let mut out = match self.output.lock() {
            Ok(out) => out,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut out);
    }

    fn into_output(self) -> TaskOutput {
        match self.output.into_inner() {
            Ok(out) => out,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// The collectors a plan selects.
pub fn selected_collectors(plan: &ScanPlan) -> Vec<&'static dyn Collector> {
    COLLECTORS
        .iter()
        .copied()
        .filter(|c| {
            plan.services
                .as_ref()
                .is_none_or(|s| s.iter().any(|name| name == c.meta().service))
        })
        .collect()
}

/// Runs every selected collector over the plan's regions, concurrently
/// within the limits, and returns the merged result. Never fails: what
/// could not be read is in the gaps.
pub async fn collect_account(
    access: &AwsAccess,
    plan: &ScanPlan,
    progress: &dyn Progress,
) -> AccountScan {
    let limits = Limits::new(plan.concurrency);
    let mut tasks: Vec<(&str, &'static dyn Collector)> = Vec::new();
    for collector in selected_collectors(plan) {
        match collector.meta().scope {
            Scope::Global => tasks.push((plan.home_region.as_str(), collector)),
            Scope::Regional => {
                for region in &plan.regions {
                    tasks.push((region.as_str(), collector));
                }
            }
        }
    }
    progress.planned(tasks.len());

    let mut result = AccountScan::default();
    for region in &plan.disabled_regions {
        result.gaps.push(CoverageGap {
            account: plan.account.clone(),
            region: region.clone(),
            service: "ec2".to_owned(),
            operation: "DescribeRegions".to_owned(),
            kind: GapKind::RegionDisabled,
            error: format!("region `{region}` is not enabled for this account"),
            occurrences: 1,
        });
    }

    let limits = &limits;
    let outputs = futures::stream::iter(tasks)
        .map(|(region, collector)| async move {
            let service = collector.meta().service;
            progress.started(region, service);
            let ctx = CollectContext {
                plan,
                region,
                service,
                access,
                limits,
                output: Mutex::new(TaskOutput::default()),
            };
            collector.collect(&ctx).await;
            let out = ctx.into_output();
            progress.finished(region, service, out.assets.len(), out.gaps.len());
            out
        })
        .buffer_unordered(MAX_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await;

    for out in outputs {
        result.assets.extend(out.assets);
        result.gaps.extend(out.gaps);
    }
    // SQL Server discovery reads what the EC2, SSM and RDS collectors
    // found; a scan narrowed to fewer services keeps the earlier snapshot's.
    if crate::sql_discovery::has_inputs(plan.services.as_deref()) {
        let servers =
            crate::sql_discovery::discover(&result.assets, time::OffsetDateTime::now_utc());
        result.assets.extend(servers);
    }
    result.assets.sort_by(|a, b| {
        (&a.resource_type, &a.region, &a.arn).cmp(&(&b.resource_type, &b.region, &b.arn))
    });
    result
        .assets
        .dedup_by(|a, b| a.arn == b.arn && a.resource_type == b.resource_type);
    result.gaps = merge_gaps(result.gaps);
    result
}

/// Merges gaps of the same account, region, service, operation and kind,
/// counting occurrences and keeping the first error.
pub fn merge_gaps(gaps: Vec<CoverageGap>) -> Vec<CoverageGap> {
    let mut merged: BTreeMap<(String, String, String, String, GapKind), CoverageGap> =
        BTreeMap::new();
    for gap in gaps {
        let key = (
            gap.account.clone(),
            gap.region.clone(),
            gap.service.clone(),
            gap.operation.clone(),
            gap.kind,
        );
        merged
            .entry(key)
            .and_modify(|g| g.occurrences += gap.occurrences)
            .or_insert(gap);
    }
    merged.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(region: &str, op: &str, error: &str) -> CoverageGap {
        CoverageGap {
            account: "123456789012".into(),
            region: region.into(),
            service: "s3".into(),
            operation: op.into(),
            kind: GapKind::AccessDenied,
            error: error.into(),
            occurrences: 1,
        }
    }

    #[test]
    fn gaps_merge_by_operation_and_region() {
        let merged = merge_gaps(vec![
            gap("us-east-1", "GetBucketPolicy", "first"),
            gap("us-east-1", "GetBucketPolicy", "second"),
            gap("eu-west-1", "GetBucketPolicy", "third"),
        ]);
        assert_eq!(merged.len(), 2);
        let us = merged.iter().find(|g| g.region == "us-east-1");
        assert_eq!(
            us.map(|g| (g.occurrences, g.error.as_str())),
            Some((2, "first"))
        );
    }
}
