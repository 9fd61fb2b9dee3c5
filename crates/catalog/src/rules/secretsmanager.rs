//! Rules for Secrets Manager secrets (metadata only: rotation settings and
//! the dates the API reports).
//!
//! Evaluation has no clock, so the age-based controls compare dates inside
//! the asset: the secret's own record of when it was last used or changed
//! is the latest moment the data speaks for.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{Outcome, Rule};
use crate::inventory::Inventory;
use crate::view::{Props, Unreadable};

pub(crate) static RULES: &[Rule] = &[
    Rule {
        id: "secretsmanager-secret-rotation-enabled",
        check: rotation_enabled,
    },
    Rule {
        id: "secretsmanager-secret-rotation-succeeded",
        check: rotation_succeeded,
    },
    Rule {
        id: "secretsmanager-secret-rotated-within-90-days",
        check: rotated_within_90_days,
    },
];

/// The longest rotation period SecretsManager.4 accepts, in days.
const MAX_DAYS: i64 = 90;

/// Slack for a rotation that is due: the rotation window (at most a day)
/// plus the day granularity of `lastAccessedDate`.
const GRACE_DAYS: i64 = 2;

/// A date property, `None` when absent; text that is not RFC 3339 is
/// unreadable.
fn date(p: &Props<'_>, path: &str) -> Result<Option<OffsetDateTime>, Unreadable> {
    match p.str(path)? {
        None => Ok(None),
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map(Some)
            .map_err(|e| Unreadable {
                path: path.to_owned(),
                error: format!("`{text}` is not an RFC 3339 date: {e}"),
            }),
    }
}

fn day(d: OffsetDateTime) -> String {
    d.date().to_string()
}

/// Not applicable to a secret scheduled for deletion.
fn scheduled_for_deletion(p: &Props<'_>) -> Result<Option<Outcome>, Unreadable> {
    Ok(date(p, "deletedDate")?.map(|d| {
        Outcome::not_applicable(format!(
            "The secret is scheduled for deletion on {}.",
            day(d)
        ))
        .with(p.evidence("deletedDate"))
    }))
}

/// How often a secret's rotation schedule rotates it, at most.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Interval {
    /// At most this many days apart.
    Days(i64),
    /// A schedule whose longest gap this code cannot work out.
    Unknown(String),
}

/// The longest gap, in days, between two rotations under
/// `rotationRules` (`automaticallyAfterDays`, or a `rate(...)`/`cron(...)`
/// `scheduleExpression`); `None` without rules.
fn interval(p: &Props<'_>) -> Result<Option<Interval>, Unreadable> {
    if let Some(days) = p.i64("rotationRules.automaticallyAfterDays")? {
        return Ok(Some(Interval::Days(days)));
    }
    Ok(p.str("rotationRules.scheduleExpression")?
        .map(schedule_interval))
}

/// The longest gap of a Secrets Manager schedule expression.
fn schedule_interval(expr: &str) -> Interval {
    let unknown = || Interval::Unknown(expr.to_owned());
    let trimmed = expr.trim();
    if let Some(body) = trimmed
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let mut parts = body.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return unknown();
        };
        let Ok(n) = n.parse::<i64>() else {
            return unknown();
        };
        return match unit {
            "day" | "days" => Interval::Days(n),
            "hour" | "hours" => Interval::Days((n + 23) / 24),
            _ => unknown(),
        };
    }
    if let Some(body) = trimmed
        .strip_prefix("cron(")
        .and_then(|r| r.strip_suffix(')'))
    {
        // minutes hours day-of-month month day-of-week year
        let fields: Vec<&str> = body.split_whitespace().collect();
        let (Some(month), Some(weekday), Some(year)) =
            (fields.get(3), fields.get(4), fields.get(5))
        else {
            return unknown();
        };
        // Every month of every year, on a day that exists in every month
        // or on a weekday (not "the fifth Monday"): at most two months
        // apart (a day-of-month of 31 skips the shorter months).
        if *month == "*" && *year == "*" && !weekday.contains('#') && fields.len() == 6 {
            return Interval::Days(62);
        }
        return unknown();
    }
    unknown()
}

/// SecretsManager.1: automatic rotation is enabled. Not applicable to a
/// secret scheduled for deletion.
fn rotation_enabled(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = scheduled_for_deletion(p)? {
        return Ok(na);
    }
    let enabled = p.bool("rotationEnabled")?;
    Ok(Outcome::either(
        enabled == Some(true),
        "Automatic rotation is enabled for the secret.",
        "Automatic rotation is off; configure a rotation function and schedule for the secret.",
    )
    .with(p.evidence("rotationEnabled")))
}

/// SecretsManager.2: a secret with rotation enabled rotates on schedule.
/// Unhealthy when it never rotated, or when its record shows it in use or
/// changed after a rotation was due without a rotation since. Not
/// applicable when rotation is off (SecretsManager.1 covers that) or the
/// secret is scheduled for deletion.
fn rotation_succeeded(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = scheduled_for_deletion(p)? {
        return Ok(na);
    }
    if p.bool("rotationEnabled")? != Some(true) {
        return Ok(Outcome::not_applicable(
            "Automatic rotation is not enabled for the secret, so no rotation is expected.",
        )
        .with(p.evidence("rotationEnabled")));
    }
    let Some(last) = date(p, "lastRotatedDate")? else {
        return Ok(Outcome::unhealthy(
            "Rotation is enabled but the secret has never rotated successfully; check the rotation function's logs and rotate it.",
        )
        .with(p.evidence("rotationEnabled"))
        .with(p.evidence("lastRotatedDate")));
    };
    let due = match date(p, "nextRotationDate")? {
        Some(next) => next,
        None => match interval(p)? {
            Some(Interval::Days(days)) => last + Duration::days(days),
            Some(Interval::Unknown(expr)) => {
                return Err(Unreadable {
                    path: "rotationRules.scheduleExpression".to_owned(),
                    error: format!("cannot tell when `{expr}` is next due"),
                });
            }
            None => {
                return Err(Unreadable {
                    path: "rotationRules".to_owned(),
                    error: "rotation is enabled but no schedule is reported".to_owned(),
                });
            }
        },
    };
    let latest = [date(p, "lastAccessedDate")?, date(p, "lastChangedDate")?]
        .into_iter()
        .flatten()
        .max();
    if let Some(seen) = latest.filter(|seen| *seen > due + Duration::days(GRACE_DAYS) && last < due)
    {
        return Ok(Outcome::unhealthy(format!(
            "A rotation was due on {} but the secret, still in use on {}, last rotated on {}; check the rotation function.",
            day(due),
            day(seen),
            day(last)
        ))
        .with(p.evidence("lastRotatedDate"))
        .with(p.evidence("nextRotationDate"))
        .with(p.evidence("lastAccessedDate"))
        .with(p.evidence("lastChangedDate")));
    }
    Ok(Outcome::healthy(format!(
        "The secret last rotated on {}, and nothing recorded since shows a missed rotation (next due {}).",
        day(last),
        day(due)
    ))
    .with(p.evidence("lastRotatedDate"))
    .with(p.evidence("nextRotationDate")))
}

/// SecretsManager.4: the secret is rotated at least every 90 days:
/// rotation is enabled, its schedule rotates at least every 90 days, and
/// its record does not show it in use more than 90 days after its last
/// rotation (or creation, if it never rotated). Not applicable to a secret
/// scheduled for deletion.
fn rotated_within_90_days(p: &Props<'_>, _: &Inventory) -> Result<Outcome, Unreadable> {
    if let Some(na) = scheduled_for_deletion(p)? {
        return Ok(na);
    }
    if p.bool("rotationEnabled")? != Some(true) {
        return Ok(Outcome::unhealthy(format!(
            "Automatic rotation is off, so nothing rotates the secret within {MAX_DAYS} days; enable rotation with a schedule of {MAX_DAYS} days or less."
        ))
        .with(p.evidence("rotationEnabled")));
    }
    match interval(p)? {
        Some(Interval::Days(days)) if days > MAX_DAYS => {
            return Ok(Outcome::unhealthy(format!(
                "The rotation schedule allows {days} days between rotations; shorten it to {MAX_DAYS} days or less."
            ))
            .with(p.evidence("rotationRules")));
        }
        Some(Interval::Days(_)) => {}
        Some(Interval::Unknown(expr)) => {
            return Err(Unreadable {
                path: "rotationRules.scheduleExpression".to_owned(),
                error: format!("cannot tell the longest gap between rotations of `{expr}`"),
            });
        }
        None => {
            return Err(Unreadable {
                path: "rotationRules".to_owned(),
                error: "rotation is enabled but no schedule is reported".to_owned(),
            });
        }
    }
    let (base, base_path) = match date(p, "lastRotatedDate")? {
        Some(d) => (Some(d), "lastRotatedDate"),
        None => (date(p, "createdDate")?, "createdDate"),
    };
    let latest = [date(p, "lastAccessedDate")?, date(p, "lastChangedDate")?]
        .into_iter()
        .flatten()
        .max();
    if let (Some(base), Some(seen)) = (base, latest)
        && seen > base + Duration::days(MAX_DAYS + GRACE_DAYS)
    {
        return Ok(Outcome::unhealthy(format!(
            "The secret was still in use on {}, more than {MAX_DAYS} days after it last rotated (or was created) on {}; rotate it and check its rotation.",
            day(seen),
            day(base)
        ))
        .with(p.evidence(base_path))
        .with(p.evidence("lastAccessedDate"))
        .with(p.evidence("lastChangedDate")));
    }
    Ok(Outcome::healthy(format!(
        "Rotation is enabled with a schedule of at most {MAX_DAYS} days, and the secret's record shows no use more than {MAX_DAYS} days after its last rotation."
    ))
    .with(p.evidence("rotationRules"))
    .with(p.evidence(base_path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_intervals() {
        assert_eq!(schedule_interval("rate(10 days)"), Interval::Days(10));
        assert_eq!(schedule_interval("rate(4 hours)"), Interval::Days(1));
        assert_eq!(schedule_interval("rate(1 day)"), Interval::Days(1));
        assert_eq!(
            schedule_interval("cron(0 16 1,15 * ? *)"),
            Interval::Days(62)
        );
        assert_eq!(schedule_interval("cron(0 8 ? * MON *)"), Interval::Days(62));
        assert!(matches!(
            schedule_interval("cron(0 8 ? * MON#5 *)"),
            Interval::Unknown(_)
        ));
        assert!(matches!(
            schedule_interval("cron(0 0 1 */4 ? *)"),
            Interval::Unknown(_)
        ));
        assert!(matches!(
            schedule_interval("rate(x days)"),
            Interval::Unknown(_)
        ));
        assert!(matches!(schedule_interval("weekly"), Interval::Unknown(_)));
    }
}
