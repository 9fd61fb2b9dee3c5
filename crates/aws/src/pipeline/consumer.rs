//! Consumes a pipeline queue: long-polls it, reads the objects its S3
//! notifications name, decodes them ([`super::decode`]) and hands the log
//! events to the caller's [`EventSink`]. A message is deleted only after
//! the sink stored the events of every object it names (at least once);
//! a message that keeps failing is left to SQS, which moves it to the
//! dead-letter queue after the redrive policy's receive count.
//!
//! What an object holds is the [`ObjectDecoder`]'s business: Firehose
//! objects of CloudWatch Logs payloads ([`FirehoseLogs`], the Containers
//! plan's audit log, read as the `kubernetesDataCollection` role) or
//! CloudTrail log files ([`super::cloudtrail::TrailLogs`]).

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use aws_smithy_async::time::SharedTimeSource;
use serde::Serialize;

use super::containers::PipelineNames;
use super::decode::{self, Notification, ObjectRef};
use super::{PipelineError, url_depth};
use crate::access::AwsAccess;
use crate::collectors::Operation;
use crate::op;

/// Every API operation the consumer may call, with its IAM action.
pub const OPERATIONS: &[Operation] = &[
    op!("sqs", "GetQueueUrl"),
    op!("sqs", "ReceiveMessage"),
    op!("sqs", "DeleteMessage"),
    op!("sqs", "GetQueueAttributes"),
    op!("s3", "GetObject"),
];

/// One log event with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogRecord {
    /// Account that owns the log group.
    pub account: String,
    /// Region of the pipeline.
    pub region: String,
    /// The EKS cluster (from the log group name, else the pipeline's).
    pub cluster: String,
    /// Log group.
    pub log_group: String,
    /// Log stream (`kube-apiserver-audit-…`, `authenticator-…`).
    pub log_stream: String,
    /// CloudWatch Logs event id (a numeric string).
    pub id: String,
    /// When it was logged, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// The log line: for the audit log, one `audit.k8s.io/v1` event as JSON.
    pub message: String,
    /// Bucket of the object it came in.
    pub bucket: String,
    /// Key of the object it came in.
    pub key: String,
}

/// Where the caller stores events. `store` returns `Ok` only once the
/// events (and whatever they produced) are stored: the SQS message is
/// deleted after that. Events may arrive again after a failure, so
/// storing must be idempotent (key on account, log group, stream and id).
pub trait EventSink<R = LogRecord>: Sync {
    /// Stores the events of one SQS message; `Err` with a one-line reason.
    fn store(&self, records: Vec<R>) -> impl Future<Output = Result<(), String>> + Send;
}

/// What the objects of a queue's notifications hold, and how to read them.
pub trait ObjectDecoder: Send + Sync {
    /// One event of an object.
    type Record: Send;

    /// Whether the object is one this source reads; others are skipped
    /// without being fetched (their message is still deleted).
    fn wants(&self, source: &QueueSource, object: &ObjectRef) -> bool;

    /// The events of one object, fetched whole.
    fn decode(
        &self,
        source: &QueueSource,
        object: &ObjectRef,
        bytes: &[u8],
    ) -> Result<Vec<Self::Record>, PipelineError>;

    /// When an event happened, milliseconds since the Unix epoch (for lag).
    fn timestamp_ms(record: &Self::Record) -> i64;
}

/// Firehose objects of CloudWatch Logs subscription payloads: the
/// Containers plan's audit log.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirehoseLogs;

impl ObjectDecoder for FirehoseLogs {
    type Record = LogRecord;

    fn wants(&self, _source: &QueueSource, _object: &ObjectRef) -> bool {
        true
    }

    fn decode(
        &self,
        source: &QueueSource,
        object: &ObjectRef,
        bytes: &[u8],
    ) -> Result<Vec<LogRecord>, PipelineError> {
        let batches = decode::decode_object(bytes)?;
        Ok(batches
            .into_iter()
            .flat_map(|batch| {
                let cluster = decode::cluster_of_log_group(&batch.log_group)
                    .unwrap_or(&source.cluster)
                    .to_owned();
                let account = if batch.owner.is_empty() {
                    source.account.clone()
                } else {
                    batch.owner.clone()
                };
                batch.events.into_iter().map(move |e| LogRecord {
                    account: account.clone(),
                    region: source.region.clone(),
                    cluster: cluster.clone(),
                    log_group: batch.log_group.clone(),
                    log_stream: batch.log_stream.clone(),
                    id: e.id,
                    timestamp_ms: e.timestamp_ms,
                    message: e.message,
                    bucket: object.bucket.clone(),
                    key: object.key.clone(),
                })
            })
            .collect())
    }

    fn timestamp_ms(record: &LogRecord) -> i64 {
        record.timestamp_ms
    }
}

/// A pipeline's queue, as the consumer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueSource {
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// What the queue serves: the EKS cluster of a Containers pipeline,
    /// the trail of a CloudTrail one.
    pub cluster: String,
    /// The bucket whose objects the notifications may name; objects of any
    /// other bucket are refused.
    pub bucket: String,
    /// The queue's URL.
    pub queue_url: String,
    /// The dead-letter queue's URL.
    pub dead_letter_queue_url: Option<String>,
}

impl QueueSource {
    /// The source of a cluster's pipeline, its queue URLs looked up.
    pub async fn resolve(
        sqs: &aws_sdk_sqs::Client,
        names: &PipelineNames,
        cluster: &str,
    ) -> Result<Self, PipelineError> {
        let url = |name: String| async move {
            sqs.get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map(|o| o.queue_url().unwrap_or_default().to_owned())
                .map_err(|e| PipelineError::call("GetQueueUrl", &e))
        };
        Ok(Self {
            account: names.account.clone(),
            region: names.region.clone(),
            cluster: cluster.to_owned(),
            bucket: names.bucket.clone(),
            queue_url: url(names.queue.clone()).await?,
            dead_letter_queue_url: Some(url(names.dead_letter_queue.clone()).await?),
        })
    }
}

/// How the consumer polls.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerOptions {
    /// Long-poll wait, seconds (0–20).
    pub wait_time_secs: i32,
    /// Visibility timeout asked on receive, seconds; `None` keeps the
    /// queue's (five minutes for Rampart's queues).
    pub visibility_timeout_secs: Option<i32>,
    /// Messages per receive (1–10).
    pub max_messages: i32,
}

impl Default for ConsumerOptions {
    fn default() -> Self {
        Self {
            wait_time_secs: 20,
            visibility_timeout_secs: None,
            max_messages: 10,
        }
    }
}

/// A message or object that could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumeError {
    /// The SQS message id.
    pub message_id: String,
    /// The object's bucket, when the error is about an object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// The object's key, when the error is about an object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What went wrong.
    pub error: PipelineError,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// Messages received.
    pub received: usize,
    /// Messages deleted (processed, or S3 test events).
    pub deleted: usize,
    /// S3 `s3:TestEvent` messages among them.
    pub test_events: usize,
    /// Objects read and decoded.
    pub objects: usize,
    /// Objects the source does not read (skipped, not fetched).
    pub skipped: usize,
    /// Log events handed to the sink and stored.
    pub events: usize,
    /// Messages or objects that failed; their messages stay on the queue.
    pub errors: Vec<ConsumeError>,
    /// The receive itself failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receive_error: Option<PipelineError>,
}

/// Running totals of one cluster's consumer, for health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClusterStats {
    /// The cluster.
    pub cluster: String,
    /// Log events stored.
    pub events_processed: u64,
    /// Messages deleted.
    pub messages_deleted: u64,
    /// Objects or messages that failed.
    pub errors: u64,
    /// Newest event stored, milliseconds since the Unix epoch.
    pub last_event_ms: Option<i64>,
    /// When the last events were stored, how old the newest of them was.
    pub lag: Option<Duration>,
}

/// Consumes one pipeline queue.
#[derive(Debug, Clone)]
pub struct Consumer<D = FirehoseLogs> {
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    source: QueueSource,
    options: ConsumerOptions,
    clock: SharedTimeSource,
    stats: ClusterStats,
    decoder: D,
}

impl Consumer {
    /// A consumer with clients of `access` (the `kubernetesDataCollection`
    /// role) in the source's region.
    pub fn new(access: &AwsAccess, source: QueueSource, options: ConsumerOptions) -> Self {
        let sqs = access.sqs(&source.region);
        let s3 = access.s3(&source.region);
        Self::with_clients(sqs, s3, source, options, SharedTimeSource::default())
    }

    /// A consumer with these clients and clock (the clock dates the lag).
    pub fn with_clients(
        sqs: aws_sdk_sqs::Client,
        s3: aws_sdk_s3::Client,
        source: QueueSource,
        options: ConsumerOptions,
        clock: SharedTimeSource,
    ) -> Self {
        Consumer::with_decoder(sqs, s3, source, options, clock, FirehoseLogs)
    }
}

impl<D: ObjectDecoder> Consumer<D> {
    /// A consumer reading objects with `decoder`, with clients of `access`
    /// in the source's region.
    pub fn with_access(
        access: &AwsAccess,
        source: QueueSource,
        options: ConsumerOptions,
        decoder: D,
    ) -> Self {
        let sqs = access.sqs(&source.region);
        let s3 = access.s3(&source.region);
        Self::with_decoder(
            sqs,
            s3,
            source,
            options,
            SharedTimeSource::default(),
            decoder,
        )
    }

    /// A consumer reading objects with `decoder`.
    pub fn with_decoder(
        sqs: aws_sdk_sqs::Client,
        s3: aws_sdk_s3::Client,
        source: QueueSource,
        options: ConsumerOptions,
        clock: SharedTimeSource,
        decoder: D,
    ) -> Self {
        let stats = ClusterStats {
            cluster: source.cluster.clone(),
            ..ClusterStats::default()
        };
        Self {
            sqs,
            s3,
            source,
            options,
            clock,
            stats,
            decoder,
        }
    }

    /// The queue it reads.
    pub fn source(&self) -> &QueueSource {
        &self.source
    }

    /// Totals so far.
    pub fn stats(&self) -> &ClusterStats {
        &self.stats
    }

    /// Messages waiting in the dead-letter queue (health). `None` when the
    /// source has no dead-letter queue.
    pub async fn dead_letter_depth(&self) -> Result<Option<u64>, PipelineError> {
        let Some(url) = &self.source.dead_letter_queue_url else {
            return Ok(None);
        };
        url_depth(&self.sqs, url).await.map(Some)
    }

    /// One long poll: receives up to `max_messages`, processes each, and
    /// deletes those fully stored. Never fails as a whole: errors are in
    /// the report.
    pub async fn poll<S: EventSink<D::Record>>(&mut self, sink: &S) -> PollReport {
        let mut report = PollReport::default();
        let mut receive = self
            .sqs
            .receive_message()
            .queue_url(&self.source.queue_url)
            .max_number_of_messages(self.options.max_messages.clamp(1, 10))
            .wait_time_seconds(self.options.wait_time_secs.clamp(0, 20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount);
        if let Some(timeout) = self.options.visibility_timeout_secs {
            receive = receive.visibility_timeout(timeout);
        }
        let messages = match receive.send().await {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(err) => {
                report.receive_error = Some(PipelineError::call("ReceiveMessage", &err));
                return report;
            }
        };
        report.received = messages.len();
        for message in messages {
            let id = message.message_id().unwrap_or_default().to_owned();
            let Some(handle) = message.receipt_handle() else {
                continue;
            };
            let done = self
                .process(&id, message.body().unwrap_or_default(), sink, &mut report)
                .await;
            if done {
                match self
                    .sqs
                    .delete_message()
                    .queue_url(&self.source.queue_url)
                    .receipt_handle(handle)
                    .send()
                    .await
                {
                    Ok(_) => {
                        report.deleted += 1;
                        self.stats.messages_deleted += 1;
                    }
                    Err(err) => report.errors.push(ConsumeError {
                        message_id: id,
                        bucket: None,
                        key: None,
                        error: PipelineError::call("DeleteMessage", &err),
                    }),
                }
            }
        }
        self.stats.errors += report.errors.len() as u64;
        report
    }

    /// Processes one message; whether it may be deleted.
    async fn process<S: EventSink<D::Record>>(
        &mut self,
        id: &str,
        body: &str,
        sink: &S,
        report: &mut PollReport,
    ) -> bool {
        let error = |bucket: Option<&str>, key: Option<&str>, error: PipelineError| ConsumeError {
            message_id: id.to_owned(),
            bucket: bucket.map(str::to_owned),
            key: key.map(str::to_owned),
            error,
        };
        let objects = match decode::parse_notification(body) {
            Ok(Notification::Test { .. }) => {
                report.test_events += 1;
                return true;
            }
            Ok(Notification::Objects(objects)) => objects,
            Err(e) => {
                report.errors.push(error(None, None, e.into()));
                return false;
            }
        };
        let mut records = Vec::new();
        let mut complete = true;
        for object in &objects {
            if object.bucket == self.source.bucket && !self.decoder.wants(&self.source, object) {
                report.skipped += 1;
                continue;
            }
            match self.read_object(object).await {
                Ok(mut found) => {
                    report.objects += 1;
                    records.append(&mut found);
                }
                Err(e) => {
                    complete = false;
                    report
                        .errors
                        .push(error(Some(&object.bucket), Some(&object.key), e));
                }
            }
        }
        if !records.is_empty() {
            let count = records.len();
            let newest = records.iter().map(D::timestamp_ms).max();
            if let Err(reason) = sink.store(records).await {
                report
                    .errors
                    .push(error(None, None, PipelineError::Sink(reason)));
                return false;
            }
            report.events += count;
            self.stats.events_processed += count as u64;
            if let Some(newest) = newest {
                let last = self.stats.last_event_ms.map_or(newest, |l| l.max(newest));
                self.stats.last_event_ms = Some(last);
                self.stats.lag = Some(lag(self.clock.now(), newest));
            }
        }
        complete
    }

    async fn read_object(&self, object: &ObjectRef) -> Result<Vec<D::Record>, PipelineError> {
        if object.bucket != self.source.bucket {
            return Err(PipelineError::Invalid(format!(
                "notification names bucket `{}`, not the pipeline's `{}`",
                object.bucket, self.source.bucket
            )));
        }
        let bytes = super::get_object(&self.s3, &object.bucket, &object.key).await?;
        self.decoder.decode(&self.source, object, &bytes)
    }
}

/// How far `newest_ms` lies behind `now` (zero when it is in the future).
pub fn lag(now: SystemTime, newest_ms: i64) -> Duration {
    let now_ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Duration::from_millis(u64::try_from(now_ms.saturating_sub(newest_ms)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_age_of_the_newest_event() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(10_000);
        assert_eq!(lag(now, 7_500), Duration::from_millis(2_500));
        assert_eq!(lag(now, 12_000), Duration::ZERO);
    }
}
