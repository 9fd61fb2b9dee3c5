//! Rules for CIS's "log metric filter and alarm" monitoring (CIS AWS
//! Foundations 3.0 / 4.0.1 / 5.0 section 4, Security Hub CloudWatch.1–14):
//! for each kind of activity, the account has a multi-Region trail that
//! logs every management event to CloudWatch Logs, a metric filter on that
//! log group whose pattern selects the activity, an alarm on the filter's
//! metric with its actions on, and an SNS topic behind the alarm with a
//! confirmed subscriber.
//!
//! The subject is the account (`Rampart::Account`); the trails, the
//! region's `Rampart::CloudWatch::Monitoring` asset (metric filters and
//! alarms) and the SNS topics come from the inventory.
//!
//! A pattern selects an activity when, with blanks and double quotes
//! removed, it contains every term CIS's own pattern has (each
//! `$.eventName = …` of the list, the error code, the user identity
//! conditions): a pattern that adds terms (`||` more event names, an
//! excluded source) still counts, one that misses a term does not. This is
//! how peers check it too; the boolean structure is not parsed.

use rampart_model::types;
use serde_json::Value;

use super::cloudtrail::{arn_account, is_logging, logs_all_management_events};
use super::{Outcome, Rule};
use crate::doc::Node;
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};
use rampart_model::Evidence;

/// One monitored activity: what it is, and the terms its filter needs.
struct Activity {
    /// For messages (`unauthorized API calls`).
    what: &'static str,
    /// Terms the normalized pattern must contain, each one of alternatives.
    terms: &'static [&'static [&'static str]],
}

macro_rules! activity_rules {
    ($($id:literal => $fn:ident, $what:literal,
        [$([$($alt:literal),+]),* $(,)?], events [$($event:literal),* $(,)?];)*) => {
        $(
            fn $fn(p: &Props<'_>, inv: &Inventory) -> Result<Outcome, Unreadable> {
                monitored(p, inv, &Activity {
                    what: $what,
                    terms: &[$(&[$($alt),+],)* $(&[concat!("$.eventName=", $event)],)*],
                })
            }
        )*
        pub(crate) static RULES: &[Rule] = &[$(Rule { id: $id, check: $fn }),*];
    };
}

activity_rules! {
    "cloudwatch-alarm-unauthorized-api-calls" => unauthorized_api_calls, "unauthorized API calls", [
        ["$.errorCode=*UnauthorizedOperation"],
        ["$.errorCode=AccessDenied*"],
    ], events [];
    "cloudwatch-alarm-console-sign-in-without-mfa" => console_without_mfa, "console sign-in without MFA", [
        ["$.eventName=ConsoleLogin"],
        ["$.additionalEventData.MFAUsed!=Yes"],
    ], events [];
    "cloudwatch-alarm-root-usage" => root_usage, "use of the root user", [
        ["$.userIdentity.type=Root"],
        ["$.userIdentity.invokedByNOTEXISTS"],
        ["$.eventType!=AwsServiceEvent"],
    ], events [];
    "cloudwatch-alarm-iam-policy-changes" => iam_policy_changes, "IAM policy changes", [
    ], events [
            "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
            "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy",
            "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy",
            "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
        ];
    "cloudwatch-alarm-cloudtrail-changes" => cloudtrail_changes, "CloudTrail configuration changes", [
    ], events ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"];
    "cloudwatch-alarm-console-authentication-failures" => console_failures, "console authentication failures", [
        ["$.eventName=ConsoleLogin"],
        ["$.errorMessage=Failedauthentication"],
    ], events [];
    "cloudwatch-alarm-kms-key-disable-or-deletion" => key_disable_or_deletion, "disabling or scheduled deletion of customer managed keys", [
        ["$.eventSource=kms.amazonaws.com"]
    ], events ["DisableKey", "ScheduleKeyDeletion"];
    "cloudwatch-alarm-s3-bucket-policy-changes" => bucket_policy_changes, "S3 bucket policy changes", [
        ["$.eventSource=s3.amazonaws.com"]
    ], events [
            "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
            "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
            "DeleteBucketLifecycle", "DeleteBucketReplication",
        ];
    "cloudwatch-alarm-config-changes" => config_changes, "AWS Config configuration changes", [
        ["$.eventSource=config.amazonaws.com"]
    ], events [
            "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
            "PutConfigurationRecorder",
        ];
    "cloudwatch-alarm-security-group-changes" => security_group_changes, "security group changes", [
    ], events [
            "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ];
    "cloudwatch-alarm-network-acl-changes" => network_acl_changes, "network ACL changes", [
    ], events [
            "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl",
            "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation",
        ];
    "cloudwatch-alarm-network-gateway-changes" => network_gateway_changes, "network gateway changes", [
    ], events [
            "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway",
            "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway",
        ];
    "cloudwatch-alarm-route-table-changes" => route_table_changes, "route table changes", [
    ], events [
            "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation",
            "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable",
        ];
    "cloudwatch-alarm-vpc-changes" => vpc_changes, "VPC changes", [
    ], events [
            "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection",
            "RejectVpcPeeringConnection",
        ];
    "cloudwatch-alarm-organizations-changes" => organizations_changes, "AWS Organizations changes", [
        ["$.eventSource=organizations.amazonaws.com"]
    ], events [
            "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit",
            "CreatePolicy", "DeclineHandshake", "DeleteOrganization",
            "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType",
            "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization",
            "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy",
            "UpdateOrganizationalUnit",
        ];
}

/// A filter pattern without blanks and double quotes.
fn normalized(pattern: &str) -> String {
    pattern
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"')
        .collect()
}

/// Whether a pattern contains every term of `activity`.
fn selects(pattern: &str, activity: &Activity) -> bool {
    let pattern = normalized(pattern);
    activity
        .terms
        .iter()
        .all(|alternatives| alternatives.iter().any(|t| pattern.contains(t)))
}

/// The region and name of a log group ARN
/// (`arn:aws:logs:<region>:<account>:log-group:<name>[:*]`).
fn log_group_of(arn: &str) -> Option<(&str, &str, &str)> {
    let mut parts = arn.splitn(7, ':');
    let (_, _, _, region, account, kind) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = parts.next()?;
    let name = name.strip_suffix(":*").unwrap_or(name);
    (kind == "log-group" && !name.is_empty()).then_some((region, account, name))
}

fn evidence(path: &str, value: Value) -> Evidence {
    Evidence {
        path: path.to_owned(),
        value,
    }
}

/// How far the best trail got, for the unhealthy reason: the trail's log
/// group, the filter that selects the activity, the alarm with actions on
/// its metric (later stages compare greater).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Stage {
    filter: Option<String>,
    alarm: Option<String>,
    group: String,
}

/// The shared body of the rules.
fn monitored(p: &Props<'_>, inv: &Inventory, activity: &Activity) -> Result<Outcome, Unreadable> {
    let account = p.asset().account;
    let mut foreign = Vec::new();
    let mut stages = Vec::new();
    let mut trails_seen = 0usize;
    for trail in inv.of_type("AWS::CloudTrail::Trail") {
        let t = Props::of(trail);
        let arn = trail.arn;
        let owner = arn_account(arn).unwrap_or(trail.account);
        if trail.account != account && owner != account {
            continue;
        }
        if t.bool("isMultiRegionTrail")? != Some(true)
            || !is_logging(&t)?
            || !logs_all_management_events(&t)?
        {
            continue;
        }
        let Some(group_arn) = t.str("cloudWatchLogsLogGroupArn")? else {
            continue;
        };
        if owner != account {
            if !foreign.iter().any(|f| f == arn) {
                foreign.push(arn.to_owned());
            }
            continue;
        }
        trails_seen += 1;
        let Some((region, group_account, group)) = log_group_of(group_arn) else {
            continue;
        };
        match trail_monitors(inv, account, region, group_account, group, activity)? {
            Ok(outcome) => {
                return Ok(outcome.with(evidence("trail", Value::from(arn))));
            }
            Err(stage) => stages.push(stage),
        }
    }
    if trails_seen == 0 && !foreign.is_empty() {
        return Ok(Outcome::not_applicable(format!(
            "The account's activity reaches CloudWatch Logs only through organization trail {} of another account; its metric filters and alarms are assessed there.",
            foreign.join(", ")
        )));
    }
    let Some(best) = stages.into_iter().max() else {
        return Ok(Outcome::unhealthy(
            "No multi-Region trail that logs every management event sends to CloudWatch Logs, so no metric filter can watch the account's activity; send a trail to a log group first.",
        )
        .with(evidence("trailsToCloudWatchLogs", Value::from(0))));
    };
    let reason = match (&best.filter, &best.alarm) {
        (None, _) => format!(
            "No metric filter on log group `{}` selects {}; add CIS's filter and an alarm on its metric.",
            best.group, activity.what
        ),
        (Some(filter), None) => format!(
            "Metric filter `{filter}` selects {}, but no alarm with its actions on watches its metric.",
            activity.what
        ),
        (Some(_), Some(alarm)) => format!(
            "Alarm `{alarm}` watches {}, but notifies no SNS topic with a confirmed subscriber.",
            activity.what
        ),
    };
    let opt = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
    Ok(Outcome::unhealthy(reason)
        .with(evidence("logGroup", Value::from(best.group.as_str())))
        .with(evidence("metricFilter", opt(&best.filter)))
        .with(evidence("alarm", opt(&best.alarm))))
}

/// Whether the trail's log group monitors the activity: the healthy
/// outcome, or how far it got.
fn trail_monitors(
    inv: &Inventory,
    account: &str,
    region: &str,
    group_account: &str,
    group: &str,
    activity: &Activity,
) -> Result<Result<Outcome, Stage>, Unreadable> {
    let unreadable = |error: String| Unreadable {
        path: "metricFilters".to_owned(),
        error,
    };
    if group_account != account {
        return Err(unreadable(format!(
            "the trail's log group `{group}` is in account `{group_account}`, whose metric filters this scan does not read"
        )));
    }
    let Some(monitoring) = inv
        .of_type_in_region(types::CLOUDWATCH_MONITORING, account, region)
        .next()
    else {
        return Err(unreadable(format!(
            "CloudWatch in `{region}` (the trail's log group `{group}`) was not part of this scan"
        )));
    };
    let m = Props::of(monitoring);
    let filters = m.array("metricFilters")?;
    let mut metrics: Vec<(String, &str, &str)> = Vec::new();
    for f in filters {
        let field = |k: &str| f.get(k).and_then(Node::as_str).unwrap_or_default();
        if field("logGroupName") != group || !selects(field("filterPattern"), activity) {
            continue;
        }
        for metric in f
            .get("metrics")
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
        {
            let namespace = metric
                .get("namespace")
                .and_then(Node::as_str)
                .unwrap_or_default();
            let name = metric
                .get("name")
                .and_then(Node::as_str)
                .unwrap_or_default();
            metrics.push((field("filterName").to_owned(), namespace, name));
        }
    }
    let Some((first_filter, _, _)) = metrics.first() else {
        return Ok(Err(Stage {
            filter: None,
            alarm: None,
            group: group.to_owned(),
        }));
    };
    let mut stage = Stage {
        filter: Some(first_filter.clone()),
        alarm: None,
        group: group.to_owned(),
    };
    for alarm in m.array("alarms")? {
        let name = alarm
            .get("alarmName")
            .and_then(Node::as_str)
            .unwrap_or_default();
        let watched = alarm
            .get("metrics")
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
            .find_map(|w| {
                let ns = w.get("namespace").and_then(Node::as_str)?;
                let n = w.get("name").and_then(Node::as_str)?;
                metrics.iter().find(|(_, mns, mn)| *mns == ns && *mn == n)
            });
        let Some((filter, _, _)) = watched else {
            continue;
        };
        if alarm.get("actionsEnabled").and_then(Node::as_bool) != Some(true) {
            continue;
        }
        stage = stage.max(Stage {
            filter: Some(filter.clone()),
            alarm: Some(name.to_owned()),
            group: group.to_owned(),
        });
        let topics = alarm
            .get("alarmActions")
            .and_then(Node::as_array)
            .into_iter()
            .flatten()
            .filter_map(Node::as_str)
            .filter(|a| a.contains(":sns:"));
        for topic in topics {
            let Some(asset) = inv.by_arn(topic) else {
                return Err(Unreadable {
                    path: "alarms".to_owned(),
                    error: format!(
                        "alarm `{name}` notifies SNS topic `{topic}`, which this scan did not read"
                    ),
                });
            };
            let confirmed = Props::of(asset).i64("subscriptionsConfirmed")?.unwrap_or(0);
            if confirmed > 0 {
                return Ok(Ok(Outcome::healthy(format!(
                    "Metric filter `{filter}` on log group `{group}` selects {}; alarm `{name}` on its metric notifies `{topic}` ({confirmed} confirmed subscription{}).",
                    activity.what,
                    if confirmed == 1 { "" } else { "s" }
                ))
                .with(evidence("logGroup", Value::from(group)))
                .with(evidence("metricFilter", Value::from(filter.as_str())))
                .with(evidence("alarm", Value::from(name)))
                .with(evidence("topic", Value::from(topic)))));
            }
        }
    }
    Ok(Err(stage))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Activity = Activity {
        what: "root",
        terms: &[
            &["$.userIdentity.type=Root"],
            &["$.userIdentity.invokedByNOTEXISTS"],
            &["$.eventType!=AwsServiceEvent"],
        ],
    };

    #[test]
    fn patterns_match_with_any_spacing_and_quoting_and_need_every_term() {
        let cis = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
        assert!(selects(cis, &ROOT));
        assert!(selects(
            "{($.userIdentity.type=Root)&&($.userIdentity.invokedBy NOT EXISTS)&&($.eventType!=AwsServiceEvent)}",
            &ROOT
        ));
        // Look-alike: any root activity, service events included.
        assert!(!selects(
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }"#,
            &ROOT
        ));
        assert!(!selects("", &ROOT));
    }

    #[test]
    fn log_group_arns_give_region_account_and_name() {
        assert_eq!(
            log_group_of("arn:aws:logs:eu-west-1:123456789012:log-group:/org/trail:*"),
            Some(("eu-west-1", "123456789012", "/org/trail"))
        );
        assert_eq!(
            log_group_of("arn:aws:logs:eu-west-1:123456789012:log-group:a:b"),
            Some(("eu-west-1", "123456789012", "a:b"))
        );
        assert_eq!(
            log_group_of("arn:aws:logs:eu-west-1:123456789012:destination:x"),
            None
        );
    }
}
