//! Rules for CloudTrail: region coverage by a multi-Region trail logging
//! management events, S3 data events, and per-trail settings (KMS, log
//! file validation, CloudWatch Logs), plus the trail's S3 bucket (public
//! access, server access logging).
//!
//! Region rules have the per-region `Rampart::CloudTrail::RegionStatus` as
//! subject and look up the trails it lists by ARN.
//!
//! Event selectors: moto (and a trail that never had selectors set) returns
//! neither basic nor advanced selectors; AWS then applies its default, all
//! management events (read and write) and no data events. Both lists empty
//! is read as that default.

use std::collections::HashMap;

use super::s3::bucket_exposure;
use super::{Outcome, Rule};
use crate::doc::{Array, Node};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "cloudtrail-multi-region-management-events",
        check: multi_region_management_events,
    },
    Rule {
        id: "cloudtrail-region-logging",
        check: region_logging,
    },
    Rule {
        id: "cloudtrail-s3-write-data-events",
        check: s3_write_data_events,
    },
    Rule {
        id: "cloudtrail-s3-read-data-events",
        check: s3_read_data_events,
    },
    Rule {
        id: "cloudtrail-trail-kms-encryption",
        check: trail_kms_encryption,
    },
    Rule {
        id: "cloudtrail-trail-log-file-validation",
        check: trail_log_file_validation,
    },
    Rule {
        id: "cloudtrail-trail-cloudwatch-logs",
        check: trail_cloudwatch_logs,
    },
    Rule {
        id: "cloudtrail-bucket-access-logging",
        check: bucket_access_logging,
    },
    // Policy-dependent.
    Rule {
        id: "cloudtrail-bucket-not-public",
        check: trail_bucket_not_public,
    },
];

/// The account id in an ARN.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Whether an unreadable region-level property failed because the region
/// is not enabled for the account (opt-in region) or the service is not
/// offered to it there.
pub(crate) fn region_not_enabled(err: &Unreadable) -> bool {
    ["OptInRequired", "SubscriptionRequiredException"]
        .iter()
        .any(|code| err.error.contains(code))
}

/// The not-applicable outcome for a region that is not enabled.
pub(crate) fn region_disabled_outcome(err: &Unreadable) -> Outcome {
    Outcome::not_applicable(format!(
        "The region is not enabled for this account ({}).",
        err.error
    ))
}

/// What a region rule found among the trails logging the region.
enum Coverage {
    /// A trail of this account satisfies the rule.
    Met(String),
    /// None does; only organization trails of another account might.
    Foreign(Vec<String>),
    /// None does, and a trail of this account could not be read.
    Unknown(Unreadable),
    /// None does.
    Missing,
}

/// Evaluates `qualifies` on every trail the region status lists
/// (`multi_region_only`: only multi-Region trails count).
fn coverage(
    p: &Props<'_>,
    inv: &Inventory,
    multi_region_only: bool,
    qualifies: fn(&Props<'_>) -> Result<bool, Unreadable>,
) -> Result<Coverage, Unreadable> {
    let listed = p.array("trails")?;
    let account = p.asset().account;
    let mut foreign = Vec::new();
    let mut unknown = None;
    for entry in listed {
        let Some(arn) = entry.get("trailArn").and_then(Node::as_str) else {
            continue;
        };
        if multi_region_only
            && entry.get("isMultiRegionTrail").and_then(Node::as_bool) != Some(true)
        {
            continue;
        }
        let other_account = arn_account(arn).is_some_and(|a| a != account);
        let result = match inv.by_arn(arn) {
            Some(trail) => qualifies(&Props::of(trail)),
            None => Err(Unreadable {
                path: "trails".to_owned(),
                error: format!("trail `{arn}` is listed but not in the inventory"),
            }),
        };
        match result {
            Ok(true) => return Ok(Coverage::Met(arn.to_owned())),
            Ok(false) => {}
            Err(_) if other_account => {}
            Err(err) => {
                unknown.get_or_insert(err);
            }
        }
        if other_account && !foreign.iter().any(|f| f == arn) {
            foreign.push(arn.to_owned());
        }
    }
    Ok(match (unknown, foreign.is_empty()) {
        (Some(err), _) => Coverage::Unknown(err),
        (None, false) => Coverage::Foreign(foreign),
        (None, true) => Coverage::Missing,
    })
}

/// The shared body of the region rules.
fn region_rule(
    p: &Props<'_>,
    inv: &Inventory,
    multi_region_only: bool,
    qualifies: fn(&Props<'_>) -> Result<bool, Unreadable>,
    healthy: &'static str,
    unhealthy: &'static str,
) -> Result<Outcome, Unreadable> {
    if let Err(err) = p.get("trails")
        && region_not_enabled(&err)
    {
        return Ok(region_disabled_outcome(&err));
    }
    match coverage(p, inv, multi_region_only, qualifies)? {
        Coverage::Met(arn) => Ok(Outcome::healthy(format!("{healthy} (trail `{arn}`)."))
            .with(p.evidence("trails"))),
        Coverage::Unknown(err) => Err(err),
        Coverage::Foreign(arns) => Ok(Outcome::not_applicable(format!(
            "No trail of this account qualifies; the region is logged by organization trail {} of another account, which is assessed there.",
            arns.join(", ")
        ))
        .with(p.evidence("trails"))),
        Coverage::Missing => Ok(Outcome::unhealthy(unhealthy).with(p.evidence("trails"))),
    }
}

/// Whether the trail is logging (`status.isLogging`).
pub(crate) fn is_logging(t: &Props<'_>) -> Result<bool, Unreadable> {
    match t.bool("status.isLogging")? {
        Some(logging) => Ok(logging),
        None => Err(Unreadable {
            path: "status.isLogging".to_owned(),
            error: "GetTrailStatus did not say whether the trail is logging".to_owned(),
        }),
    }
}

/// Field selectors of an advanced selector, as (field, equals list).
fn field_equals<'v>(selector: Node<'v>, field: &str) -> Option<Vec<&'v str>> {
    selector
        .get("fieldSelectors")
        .and_then(Node::as_array)?
        .iter()
        .find(|f| f.get("field").and_then(Node::as_str) == Some(field))
        .map(|f| {
            f.get("equals")
                .and_then(Node::as_array)
                .map(|v| v.iter().filter_map(Node::as_str).collect())
                .unwrap_or_default()
        })
}

/// Whether an advanced selector has any condition on `field` other than
/// `equals`.
fn field_narrowed(selector: Node<'_>, field: &str) -> bool {
    selector
        .get("fieldSelectors")
        .and_then(Node::as_array)
        .is_some_and(|fields| {
            fields.iter().any(|f| {
                f.get("field").and_then(Node::as_str) == Some(field)
                    && [
                        "startsWith",
                        "endsWith",
                        "notEquals",
                        "notStartsWith",
                        "notEndsWith",
                    ]
                    .iter()
                    .any(|k| {
                        f.get(*k)
                            .and_then(Node::as_array)
                            .is_some_and(|v| !v.is_empty())
                    })
            })
        })
}

/// A multi-Region trail that is logging and records all read and write
/// management events without excluded event sources.
pub(crate) fn logs_all_management_events(t: &Props<'_>) -> Result<bool, Unreadable> {
    if t.bool("isMultiRegionTrail")? != Some(true) || !is_logging(t)? {
        return Ok(false);
    }
    let basic = t.array("eventSelectors")?;
    let advanced = t.array("advancedEventSelectors")?;
    if basic.is_empty() && advanced.is_empty() {
        // No selectors: AWS's default, all management events.
        return Ok(true);
    }
    let basic_ok = basic.iter().any(|s| {
        s.get("includeManagementEvents").and_then(Node::as_bool) != Some(false)
            && matches!(
                s.get("readWriteType").and_then(Node::as_str),
                None | Some("All")
            )
            && s.get("excludeManagementEventSources")
                .and_then(Node::as_array)
                .is_none_or(Array::is_empty)
    });
    let advanced_ok = advanced.iter().any(|s| {
        field_equals(s, "eventCategory").is_some_and(|v| v == ["Management"])
            && field_equals(s, "readOnly").is_none()
            && !field_narrowed(s, "readOnly")
            && !field_narrowed(s, "eventSource")
            && field_equals(s, "eventSource").is_none()
    });
    Ok(basic_ok || advanced_ok)
}

/// FSBP CloudTrail.1 / CIS 3.1: the region is logged by a multi-Region
/// trail of this account that is logging and records all read and write
/// management events. Not applicable: the region is not enabled for the
/// account, or only an organization trail of another account logs it.
fn multi_region_management_events(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    region_rule(
        p,
        inv,
        true,
        logs_all_management_events,
        "A multi-Region trail logs all read and write management events here",
        "No logging multi-Region trail records all read and write management events in this region; create one (or fix the selectors of an existing one) and start logging.",
    )
}

/// FSBP CloudTrail.3: at least one trail (single- or multi-Region) is
/// logging this region. Not applicable: as for CloudTrail.1.
fn region_logging(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    region_rule(
        p,
        inv,
        false,
        is_logging,
        "A trail is logging API activity in this region",
        "No trail is logging API activity in this region; create a multi-Region trail and start logging.",
    )
}

/// Whether a basic data resource covers every S3 object.
fn covers_all_s3_objects(resource: Node<'_>) -> bool {
    resource.get("type").and_then(Node::as_str) == Some("AWS::S3::Object")
        && resource
            .get("values")
            .and_then(Node::as_array)
            .is_some_and(|v| {
                v.iter().filter_map(Node::as_str).any(|x| {
                    matches!(
                        x,
                        "arn:aws:s3" | "arn:aws:s3:::" | "arn:aws-us-gov:s3" | "arn:aws-cn:s3"
                    )
                })
            })
}

/// A logging trail recording S3 object-level data events of `kind`
/// (`WriteOnly` or `ReadOnly`) for all buckets.
fn logs_s3_data_events(t: &Props<'_>, kind: &str) -> Result<bool, Unreadable> {
    if !is_logging(t)? {
        return Ok(false);
    }
    let basic_ok = t.array("eventSelectors")?.iter().any(|s| {
        let rw = s.get("readWriteType").and_then(Node::as_str);
        let kind_ok = matches!(rw, None | Some("All")) || rw == Some(kind);
        let all_objects = s
            .get("dataResources")
            .and_then(Node::as_array)
            .is_some_and(|r| r.iter().any(covers_all_s3_objects));
        kind_ok && all_objects
    });
    let read_only_value = if kind == "ReadOnly" { "true" } else { "false" };
    let advanced_ok = t.array("advancedEventSelectors")?.iter().any(|s| {
        field_equals(s, "eventCategory").is_some_and(|v| v == ["Data"])
            && field_equals(s, "resources.type").is_some_and(|v| v == ["AWS::S3::Object"])
            && field_equals(s, "resources.ARN").is_none()
            && !field_narrowed(s, "resources.ARN")
            && !field_narrowed(s, "eventName")
            && field_equals(s, "eventName").is_none()
            && !field_narrowed(s, "readOnly")
            && field_equals(s, "readOnly").is_none_or(|v| v == [read_only_value])
    });
    Ok(basic_ok || advanced_ok)
}

fn logs_s3_writes(t: &Props<'_>) -> Result<bool, Unreadable> {
    logs_s3_data_events(t, "WriteOnly")
}

fn logs_s3_reads(t: &Props<'_>) -> Result<bool, Unreadable> {
    logs_s3_data_events(t, "ReadOnly")
}

/// CIS 3.8: a trail logging this region records S3 object-level write
/// events for all buckets. Not applicable: as for CloudTrail.1.
fn s3_write_data_events(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    region_rule(
        p,
        inv,
        false,
        logs_s3_writes,
        "A logging trail records S3 object-level write events for all buckets",
        "No logging trail records S3 object-level write events for all buckets in this region; add an S3 data event selector (write or all) for all buckets to a multi-Region trail.",
    )
}

/// CIS 3.9: a trail logging this region records S3 object-level read events
/// for all buckets. Not applicable: as for CloudTrail.1.
fn s3_read_data_events(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    region_rule(
        p,
        inv,
        false,
        logs_s3_reads,
        "A logging trail records S3 object-level read events for all buckets",
        "No logging trail records S3 object-level read events for all buckets in this region; add an S3 data event selector (read or all) for all buckets to a multi-Region trail.",
    )
}

/// Not applicable for an organization trail owned by another account: the
/// member account sees it but cannot change it.
fn foreign_trail(p: &Props<'_>) -> Option<Outcome> {
    let arn = p.asset().arn;
    let owner = arn_account(arn)?;
    (owner != p.asset().account).then(|| {
        Outcome::not_applicable(format!(
            "The trail belongs to account {owner} (an organization trail); it is assessed in that account."
        ))
    })
}

/// FSBP CloudTrail.2 / CIS 3.5: log files encrypted with a KMS key
/// (`kmsKeyId` set). Not applicable: organization trails of another account.
fn trail_kms_encryption(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = foreign_trail(p) {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.str("kmsKeyId")?.is_some(),
        "Log files are encrypted with a KMS key (SSE-KMS).",
        "Log files are not encrypted with a KMS key; set a customer managed KMS key on the trail.",
    )
    .with(p.evidence("kmsKeyId")))
}

/// FSBP CloudTrail.4 / CIS 3.2: log file integrity validation on. Not
/// applicable: organization trails of another account.
fn trail_log_file_validation(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = foreign_trail(p) {
        return Ok(na);
    }
    Ok(Outcome::either(
        p.bool("logFileValidationEnabled")? == Some(true),
        "Log file integrity validation is enabled.",
        "Log file integrity validation is off; enable it so tampering with delivered log files can be detected.",
    )
    .with(p.evidence("logFileValidationEnabled")))
}

/// FSBP CloudTrail.5: the trail delivers to a CloudWatch Logs log group
/// (`cloudWatchLogsLogGroupArn` set). Not applicable: organization trails of
/// another account.
fn trail_cloudwatch_logs(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = foreign_trail(p) {
        return Ok(na);
    }
    let group = p.str("cloudWatchLogsLogGroupArn")?;
    if group.is_none() {
        return Ok(Outcome::unhealthy(
            "The trail does not send events to CloudWatch Logs; set a log group and a delivery role so events can be monitored and alarmed on.",
        )
        .with(p.evidence("cloudWatchLogsLogGroupArn")));
    }
    if let Some(error) = p
        .str("status.latestCloudWatchLogsDeliveryError")?
        .filter(|e| !e.is_empty())
    {
        return Ok(Outcome::unhealthy(format!(
            "The trail is configured for CloudWatch Logs but delivery fails ({error}); fix the delivery role or log group."
        ))
        .with(p.evidence("status.latestCloudWatchLogsDeliveryError")));
    }
    Ok(
        Outcome::healthy("The trail sends events to a CloudWatch Logs log group.")
            .with(p.evidence("cloudWatchLogsLogGroupArn")),
    )
}

/// FSBP CloudTrail.6: the trail's S3 bucket is not publicly readable or
/// writable (ACL or policy, honouring Block Public Access). The bucket must
/// be in the inventory; when it is not (another account, or unread), the
/// check cannot be made. Not applicable: organization trails of another
/// account.
fn trail_bucket_not_public(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = foreign_trail(p) {
        return Ok(na);
    }
    let Some(bucket) = p.str("s3BucketName")? else {
        return Ok(Outcome::not_applicable(
            "The trail delivers to no S3 bucket.",
        ));
    };
    let partition = p.asset().arn.split(':').nth(1).unwrap_or("aws");
    let Some(asset) = inv.by_arn(&format!("arn:{partition}:s3:::{bucket}")) else {
        return Err(Unreadable {
            path: "s3BucketName".to_owned(),
            error: format!(
                "bucket `{bucket}` is not in this scan (it may belong to another account), so its exposure is unknown"
            ),
        });
    };
    let b = Props::of(asset);
    let exposure = bucket_exposure(
        &b,
        inv,
        &["READ", "WRITE", "WRITE_ACP", "FULL_CONTROL"],
        &[
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:PutBucketPolicy",
            "s3:PutBucketAcl",
        ],
    )?;
    Ok(Outcome::either(
        !exposure.is_public(),
        format!("The trail's bucket `{bucket}` is not publicly accessible."),
        format!(
            "The trail's bucket `{bucket}` is publicly accessible through its ACL or policy; remove the public grants and turn on Block Public Access for it."
        ),
    )
    .with(p.evidence("s3BucketName"))
    .with(b.evidence("policyIsPublic"))
    .with(b.evidence("aclAllowsPublic")))
}

/// FSBP CloudTrail.7 / CIS 3.4: a bucket that receives CloudTrail logs has
/// server access logging on. Subject: the bucket. Not applicable: no trail
/// in the inventory delivers to the bucket.
fn bucket_access_logging(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
    let name = p.asset().name;
    // bucket name -> names of the trails delivering to it (built once).
    let by_bucket = inv.memo("cloudtrail:trails_by_bucket", |inv| {
        let mut index: HashMap<String, Vec<String>> = HashMap::new();
        for t in inv.of_type("AWS::CloudTrail::Trail") {
            if let Some(bucket) = Props::of(t).str("s3BucketName").ok().flatten() {
                index
                    .entry(bucket.to_owned())
                    .or_default()
                    .push(t.name.to_owned());
            }
        }
        index
    });
    let trails: Vec<&str> = by_bucket
        .get(name)
        .map(|names| names.iter().map(String::as_str).collect())
        .unwrap_or_default();
    if trails.is_empty() {
        return Ok(Outcome::not_applicable(
            "No CloudTrail trail delivers logs to this bucket.",
        ));
    }
    Ok(Outcome::either(
        p.str("logging.targetBucket")?.is_some(),
        format!(
            "The CloudTrail bucket (trails {}) has server access logging enabled.",
            trails.join(", ")
        ),
        format!(
            "The bucket receives CloudTrail logs (trails {}) but has no server access logging; enable it to a separate log bucket.",
            trails.join(", ")
        ),
    )
    .with(p.evidence("logging")))
}
