//! SQL Server specifics: the three kinds of CloudWatch Logs message a SQL
//! Server host ships, normalized into one event body rules read.
//!
//! * ERRORLOG lines (`2024-05-01 10:15:32.51 Logon       Login failed for
//!   user 'sa'. Reason: … [CLIENT: 203.0.113.9]`), as the CloudWatch agent
//!   ships them from an EC2 or RDS Custom instance and as RDS exports its
//!   `error` log (the same lines; times are the server's clock, read as
//!   UTC). A message holding the `Error: 18456, Severity: 14, State: 8.`
//!   line and its `Login failed` line together (multi-line agent setting)
//!   is one event with both.
//! * SQL Server Audit records: a JSON object with the columns of
//!   `sys.fn_get_audit_file` (`event_time`, `action_id`, `succeeded`,
//!   `server_principal_name`, `client_ip`, `application_name`,
//!   `statement`, …), or the text of Windows Application event 33205
//!   (`Audit event: event_time:… action_id:LGIF …`, an audit written to
//!   the Application log).
//! * Windows process creation on the SQL Server host: Sysmon event 1 or
//!   Security event 4688, as XML (the agent's `event_format: xml`) or a
//!   flat JSON object of the event's data fields.
//!
//! Every event body has `format` (`errorlog`, `audit`, `windows`), `action`
//! (`login_failed`, `login_succeeded`, `config_changed`,
//! `permission_change`, `execute`, `process_created`, `error`, `message`,
//! `audit`, `windows_event`) and `succeeded`, plus what the kind carries:
//! `principal`, `client_ip`, `client_local`, `failure` (the reason class of
//! a failed login: `invalid_user`, `wrong_password`, `disabled`, `locked`,
//! `password_expired`, `must_change_password`, `database_unavailable`,
//! `sql_auth_disabled`, `untrusted_domain`, `access_validation`, `other`),
//! `reason`, `error`, `severity`, `state`, `auth`, `option`, `old_value`,
//! `new_value`, `action_id`, `application`, `statement`, `object`,
//! `database`, `class_type`, `target_principal`, `host`, `event_id`,
//! `image`, `parent_image`, `command_line`, `process`, `message`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::DetectError;
use crate::event::{Event, EventContext};
use rampart_model::AlertSource;

/// One CloudWatch Logs event as a subscription delivers it
/// (`logEvents[]`: `id`, `timestamp` in milliseconds, `message`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogEvent {
    /// CloudWatch Logs' id of the event (unique per log group).
    pub id: String,
    /// Ingestion time in Unix milliseconds, used when the message has no
    /// time of its own.
    #[serde(default)]
    pub timestamp: Option<i64>,
    /// The message.
    pub message: String,
}

/// Counters of one parsed batch of messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Messages given.
    pub messages: u64,
    /// Messages that became events.
    pub parsed: u64,
    /// Messages that did not parse (counted, never an alert).
    pub unparsed: u64,
}

/// The events of one batch of messages, and what did not parse.
#[derive(Debug, Clone, Default)]
pub struct ParsedBatch {
    /// The events, in message order.
    pub events: Vec<Event>,
    /// Counters.
    pub stats: ParseStats,
    /// Why the first few unparsed messages failed (at most
    /// [`MAX_ERRORS`]).
    pub errors: Vec<String>,
}

/// Most unparsed-message reasons a [`ParsedBatch`] keeps.
pub const MAX_ERRORS: usize = 10;

/// Parses every message of one SQL Server host's or instance's log
/// groups; a message that does not parse is counted, never dropped
/// silently and never an event.
pub fn parse_log_events<'a>(
    events: impl IntoIterator<Item = &'a LogEvent>,
    context: &Arc<EventContext>,
) -> ParsedBatch {
    let mut out = ParsedBatch::default();
    for event in events {
        out.stats.messages += 1;
        match Event::from_sqlserver_message(
            &event.id,
            event.timestamp,
            &event.message,
            Arc::clone(context),
        ) {
            Ok(parsed) => {
                out.stats.parsed += 1;
                out.events.push(parsed);
            }
            Err(e) => {
                out.stats.unparsed += 1;
                if out.errors.len() < MAX_ERRORS {
                    out.errors.push(format!("`{}`: {e}", event.id));
                }
            }
        }
    }
    out
}

impl Event {
    /// One SQL Server CloudWatch Logs message (an ERRORLOG line, an audit
    /// record, or a Windows process-creation event of the host): `id` is
    /// the log event's id, `timestamp_ms` its ingestion time (used only
    /// when the message has no time).
    pub fn from_sqlserver_message(
        id: &str,
        timestamp_ms: Option<i64>,
        message: &str,
        context: Arc<EventContext>,
    ) -> Result<Self, DetectError> {
        let (body, time) =
            parse_message(message, timestamp_ms).map_err(|reason| DetectError::Event {
                source_name: AlertSource::SqlLog.as_str(),
                reason: format!("message `{id}`: {reason}"),
            })?;
        Ok(Self {
            source: AlertSource::SqlLog,
            id: id.to_owned(),
            time,
            context,
            body,
        })
    }
}

/// The normalized body and time of one message.
fn parse_message(
    message: &str,
    timestamp_ms: Option<i64>,
) -> Result<(Value, OffsetDateTime), String> {
    // ERRORLOG is UTF-16: a misconfigured agent leaves NULs and a BOM.
    let text: String = message
        .chars()
        .filter(|c| *c != '\0' && *c != '\u{feff}')
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Err("empty message".to_owned());
    }
    let fallback = || {
        timestamp_ms
            .and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            })
            .ok_or_else(|| "no time in the message and no log event timestamp".to_owned())
    };
    if text.starts_with('{') {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("json: {e}"))?;
        let Value::Object(map) = value else {
            return Err("json is not an object".to_owned());
        };
        if map.contains_key("action_id") {
            return audit_record(&map, fallback);
        }
        if map.contains_key("EventID") || map.contains_key("event_id") {
            return windows_event(&flat_json_fields(&map), fallback);
        }
        return Err(
            "json is neither an audit record (`action_id`) nor a windows event (`EventID`)"
                .to_owned(),
        );
    }
    if text.starts_with("<Event") {
        return windows_event(&xml_fields(text), fallback);
    }
    if let Some(at) = text.find("Audit event:") {
        let map = audit_text_fields(text.get(at + "Audit event:".len()..).unwrap_or_default());
        return audit_record(&map, fallback);
    }
    errorlog(text)
}

// ---------------------------------------------------------------- ERRORLOG

/// One ERRORLOG message (one line, or an error header and its line).
fn errorlog(text: &str) -> Result<(Value, OffsetDateTime), String> {
    let mut lines = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or_default();
    let (time, process, mut message) = errorlog_line(first).ok_or_else(|| {
        "not an errorlog line (`YYYY-MM-DD hh:mm:ss.ff <process> <text>`)".to_owned()
    })?;
    let mut header = error_header(&message);
    // A header followed by its message: the message, with the header's numbers.
    let rest: Vec<&str> = lines.collect();
    if header.is_some() {
        if let Some(next) = rest.first() {
            message = match errorlog_line(next) {
                Some((_, _, m)) => m,
                None => next.trim().to_owned(),
            };
        }
    } else {
        for line in rest {
            message.push(' ');
            message.push_str(line.trim());
        }
    }
    let mut body = Map::new();
    body.insert("format".into(), json!("errorlog"));
    body.insert("process".into(), json!(process));
    body.insert("message".into(), json!(message));
    let mut succeeded = true;
    let action = if let Some(rest) = message.strip_prefix("Login failed") {
        succeeded = false;
        login_failed(rest, &message, &mut body);
        "login_failed"
    } else if let Some(rest) = message.strip_prefix("Login succeeded for user '") {
        if let Some((user, after)) = quoted_until(rest, &["'. ", "'."]) {
            body.insert("principal".into(), json!(user));
            if let Some(auth) = between(after, "Connection made using ", " authentication") {
                body.insert("auth".into(), json!(auth));
            }
        }
        client(&message, &mut body);
        "login_succeeded"
    } else if let Some(rest) = message.strip_prefix("Configuration option '") {
        match config_change(rest) {
            Some((option, old, new)) => {
                body.insert("option".into(), json!(option));
                body.insert("old_value".into(), json!(old));
                body.insert("new_value".into(), json!(new));
                "config_changed"
            }
            None => "message",
        }
    } else if let Some((error, severity, state)) = header.take() {
        body.insert("error".into(), json!(error));
        body.insert("severity".into(), json!(severity));
        body.insert("state".into(), json!(state));
        "error"
    } else {
        "message"
    };
    if let Some((error, severity, state)) = error_header_in(text) {
        body.entry("error").or_insert(json!(error));
        body.entry("severity").or_insert(json!(severity));
        body.entry("state").or_insert(json!(state));
    }
    body.insert("action".into(), json!(action));
    body.insert("succeeded".into(), json!(succeeded));
    Ok((Value::Object(body), time))
}

/// Time, process and message of one timestamped ERRORLOG line.
fn errorlog_line(line: &str) -> Option<(OffsetDateTime, String, String)> {
    let line = line.trim_start();
    let stamp_end = line.find(|c: char| c.is_ascii_whitespace())?;
    let date = line.get(..stamp_end)?;
    let rest = line.get(stamp_end..)?.trim_start();
    let clock_end = rest.find(|c: char| c.is_ascii_whitespace())?;
    let clock = rest.get(..clock_end)?;
    let rest = rest.get(clock_end..)?.trim_start();
    let time = errorlog_time(date, clock)?;
    let process_end = rest
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let process = rest.get(..process_end)?.to_owned();
    let message = rest.get(process_end..)?.trim().to_owned();
    if process.is_empty() {
        return None;
    }
    Some((time, process, message))
}

/// `2024-05-01` and `10:15:32.51` (any fraction digits), read as UTC.
fn errorlog_time(date: &str, clock: &str) -> Option<OffsetDateTime> {
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u8 = d.next()?.parse().ok()?;
    let day: u8 = d.next()?.parse().ok()?;
    if d.next().is_some() {
        return None;
    }
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':');
    let hour: u8 = t.next()?.parse().ok()?;
    let minute: u8 = t.next()?.parse().ok()?;
    let second: u8 = t.next()?.parse().ok()?;
    if t.next().is_some() || !fraction.chars().all(|c| c.is_ascii_digit()) || fraction.len() > 9 {
        return None;
    }
    let nanos: u32 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    let date = Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

/// `Error: 18456, Severity: 14, State: 8.`
fn error_header(message: &str) -> Option<(u64, u64, u64)> {
    let rest = message.strip_prefix("Error: ")?;
    let (error, rest) = rest.split_once(", Severity: ")?;
    let (severity, rest) = rest.split_once(", State: ")?;
    let state = rest.trim_end_matches('.');
    Some((
        error.trim().parse().ok()?,
        severity.trim().parse().ok()?,
        state.trim().parse().ok()?,
    ))
}

/// An error header on any line of a multi-line message.
fn error_header_in(text: &str) -> Option<(u64, u64, u64)> {
    text.lines()
        .find_map(|line| errorlog_line(line).and_then(|(_, _, m)| error_header(&m)))
}

/// The part of a `Login failed…` message after `Login failed`.
fn login_failed(rest: &str, message: &str, body: &mut Map<String, Value>) {
    if let Some(after) = rest.strip_prefix(" for user '")
        && let Some((user, _)) = quoted_until(after, &["'. ", "' because", "'."])
    {
        body.insert("principal".into(), json!(user));
    }
    let reason = message
        .split_once("Reason: ")
        .map(|(_, r)| r.split(" [CLIENT:").next().unwrap_or(r).trim().to_owned());
    let failure = failure_class(reason.as_deref().unwrap_or(message));
    if let Some(reason) = reason {
        body.insert("reason".into(), json!(reason));
    }
    body.insert("failure".into(), json!(failure));
    client(message, body);
}

/// The reason class of a failed login's text.
fn failure_class(text: &str) -> &'static str {
    let t = text.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    if has("could not find a login matching")
        || has("nt account name with sql server authentication")
    {
        "invalid_user"
    } else if has("password did not match") {
        "wrong_password"
    } else if has("account is disabled") {
        "disabled"
    } else if has("locked out") {
        "locked"
    } else if has("password of the account has expired") {
        "password_expired"
    } else if has("password of the account must be changed") {
        "must_change_password"
    } else if has("explicitly specified database") || has("cannot open database") {
        "database_unavailable"
    } else if has("windows authentication only") {
        "sql_auth_disabled"
    } else if has("untrusted domain") {
        "untrusted_domain"
    } else if has("server access validation failed") {
        "access_validation"
    } else {
        "other"
    }
}

/// `[CLIENT: …]` of a message, into `client_ip` and `client_local`.
fn client(message: &str, body: &mut Map<String, Value>) {
    let Some(at) = message.rfind("[CLIENT:") else {
        return;
    };
    let rest = message.get(at + "[CLIENT:".len()..).unwrap_or_default();
    let value = rest.split(']').next().unwrap_or_default().trim();
    if !value.is_empty() {
        set_client(body, value);
    }
}

fn set_client(body: &mut Map<String, Value>, value: &str) {
    let local = value.starts_with('<')
        || value.eq_ignore_ascii_case("local machine")
        || value == "127.0.0.1"
        || value == "::1";
    body.insert("client_ip".into(), json!(value));
    body.insert("client_local".into(), json!(local));
}

/// The text up to the first of `ends` (a quoted name), and what follows.
fn quoted_until<'t>(text: &'t str, ends: &[&str]) -> Option<(&'t str, &'t str)> {
    ends.iter()
        .filter_map(|end| text.find(end).map(|at| (at, end.len())))
        .min_by_key(|(at, _)| *at)
        .and_then(|(at, len)| Some((text.get(..at)?, text.get(at + len..)?)))
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let (_, after) = text.split_once(start)?;
    let (inner, _) = after.split_once(end)?;
    Some(inner)
}

/// `xp_cmdshell' changed from 0 to 1. Run the RECONFIGURE…`.
fn config_change(rest: &str) -> Option<(String, i64, i64)> {
    let (option, after) = rest.split_once("' changed from ")?;
    let (old, after) = after.split_once(" to ")?;
    let new = after
        .split(|c: char| !c.is_ascii_digit() && c != '-')
        .next()?;
    Some((
        option.to_owned(),
        old.trim().parse().ok()?,
        new.parse().ok()?,
    ))
}

// ------------------------------------------------------------------- audit

/// The fields of a Windows event 33205 message (`key:value` per line).
fn audit_text_fields(text: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(':') {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                map.insert(key.to_owned(), json!(value.trim()));
            }
        }
    }
    map
}

/// A SQL Server Audit record (columns of `sys.fn_get_audit_file`).
fn audit_record(
    map: &Map<String, Value>,
    fallback: impl Fn() -> Result<OffsetDateTime, String>,
) -> Result<(Value, OffsetDateTime), String> {
    let text = |key: &str| -> Option<String> {
        match map.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    let action_id = text("action_id")
        .ok_or_else(|| "audit record without `action_id`".to_owned())?
        .to_ascii_uppercase();
    let time = match text("event_time") {
        Some(stamp) => audit_time(&stamp).ok_or_else(|| format!("audit `event_time` `{stamp}`"))?,
        None => fallback()?,
    };
    let succeeded = match map.get("succeeded") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() != Some(0),
        Some(Value::String(s)) => !matches!(s.trim().to_ascii_lowercase().as_str(), "false" | "0"),
        _ => true,
    };
    let action = match action_id.as_str() {
        "LGIS" => "login_succeeded",
        "LGIF" => "login_failed",
        "G" | "GWG" | "D" | "DWC" | "R" | "RWG" | "RWC" | "APRL" | "DPRL" => "permission_change",
        "EX" => "execute",
        _ => "audit",
    };
    let mut body = Map::new();
    body.insert("format".into(), json!("audit"));
    body.insert("action".into(), json!(action));
    body.insert("action_id".into(), json!(action_id));
    body.insert("succeeded".into(), json!(succeeded));
    let principal = text("server_principal_name").or_else(|| text("session_server_principal_name"));
    for (key, value) in [
        ("principal", principal),
        ("database_principal", text("database_principal_name")),
        (
            "target_principal",
            text("target_server_principal_name").or_else(|| text("target_database_principal_name")),
        ),
        ("application", text("application_name")),
        ("statement", text("statement")),
        ("object", text("object_name")),
        ("schema", text("schema_name")),
        ("database", text("database_name")),
        ("class_type", text("class_type")),
        ("host", text("server_instance_name")),
        ("client_host", text("host_name")),
        ("additional_information", text("additional_information")),
    ] {
        if let Some(value) = value {
            body.insert(key.into(), json!(value));
        }
    }
    if let Some(ip) = text("client_ip") {
        set_client(&mut body, &ip);
    }
    if action == "login_failed" {
        let why = text("statement")
            .or_else(|| text("additional_information"))
            .unwrap_or_default();
        if let Some((_, reason)) = why.split_once("Reason: ") {
            let reason = reason.split(" [CLIENT:").next().unwrap_or(reason).trim();
            body.insert("reason".into(), json!(reason));
        }
        body.insert("failure".into(), json!(failure_class(&why)));
        if !body.contains_key("client_ip") {
            client(&why, &mut body);
        }
    }
    Ok((Value::Object(body), time))
}

/// `2024-05-01 10:15:32.5123456` (UTC, as `fn_get_audit_file` returns it)
/// or RFC 3339.
fn audit_time(stamp: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(stamp, &Rfc3339) {
        return Some(t);
    }
    let (date, clock) = stamp.split_once([' ', 'T'])?;
    errorlog_time(date, clock.trim_end_matches('Z'))
}

// ----------------------------------------------------------------- windows

/// `EventID`, `Computer`, `TimeCreated` and every `<Data Name='…'>` of an
/// XML Windows event.
fn xml_fields(xml: &str) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(id) = element_text(xml, "EventID") {
        map.insert("EventID".into(), json!(id));
    }
    if let Some(computer) = element_text(xml, "Computer") {
        map.insert("Computer".into(), json!(computer));
    }
    if let Some(provider) = attribute(xml, "<Provider", "Name") {
        map.insert("Provider".into(), json!(provider));
    }
    if let Some(stamp) = attribute(xml, "<TimeCreated", "SystemTime") {
        map.insert("TimeCreated".into(), json!(stamp));
    }
    let mut rest = xml;
    while let Some(at) = rest.find("<Data Name=") {
        rest = rest.get(at + "<Data Name=".len()..).unwrap_or_default();
        let quote = rest.chars().next().unwrap_or('\'');
        let inner = rest.get(1..).unwrap_or_default();
        let Some((name, after)) = inner.split_once(quote) else {
            break;
        };
        let after = after.trim_start();
        let value = if after.starts_with("/>") {
            String::new()
        } else {
            let after = after.strip_prefix('>').unwrap_or(after);
            unescape(after.split("</Data>").next().unwrap_or_default())
        };
        map.insert(name.to_owned(), json!(value));
    }
    map
}

fn element_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    let at = xml.find(&open)?;
    let rest = xml.get(at + open.len()..)?;
    let (_, rest) = rest.split_once('>')?;
    let (inner, _) = rest.split_once(&format!("</{name}>"))?;
    Some(unescape(inner.trim()))
}

fn attribute(xml: &str, element: &str, name: &str) -> Option<String> {
    let at = xml.find(element)?;
    let rest = xml.get(at..)?;
    let tag = rest.split('>').next()?;
    let key = format!("{name}=");
    let (_, after) = tag.split_once(&key)?;
    let quote = after.chars().next()?;
    let inner = after.get(1..)?;
    let (value, _) = inner.split_once(quote)?;
    Some(unescape(value))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// A flat JSON Windows event (`EventID` plus data fields), its values as
/// strings.
fn flat_json_fields(map: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        let key = if key == "event_id" {
            "EventID"
        } else {
            key.as_str()
        };
        match value {
            Value::String(s) => {
                out.insert(key.to_owned(), json!(s));
            }
            Value::Number(n) => {
                out.insert(key.to_owned(), json!(n.to_string()));
            }
            _ => {}
        }
    }
    out
}

/// A Windows event of the SQL Server host: process creation (Sysmon 1,
/// Security 4688) or any other event (`windows_event`).
fn windows_event(
    fields: &Map<String, Value>,
    fallback: impl Fn() -> Result<OffsetDateTime, String>,
) -> Result<(Value, OffsetDateTime), String> {
    let get = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let event_id = get("EventID").ok_or_else(|| "windows event without `EventID`".to_owned())?;
    let event_id: u64 = event_id
        .trim()
        .parse()
        .map_err(|_| format!("windows event id `{event_id}`"))?;
    let time = match get("TimeCreated").or_else(|| get("UtcTime")) {
        Some(stamp) => audit_time(stamp).ok_or_else(|| format!("windows event time `{stamp}`"))?,
        None => fallback()?,
    };
    let sysmon =
        get("Provider").is_some_and(|p| p.contains("Sysmon")) || get("ParentImage").is_some();
    let mut body = Map::new();
    body.insert("format".into(), json!("windows"));
    body.insert("event_id".into(), json!(event_id));
    body.insert("succeeded".into(), json!(true));
    if let Some(host) = get("Computer") {
        body.insert("host".into(), json!(host));
    }
    let process = match (event_id, sysmon) {
        (1, true) => Some((
            get("Image"),
            get("ParentImage"),
            get("User").map(str::to_owned),
        )),
        (4688, _) => Some((
            get("NewProcessName"),
            get("ParentProcessName"),
            get("SubjectUserName").map(|user| match get("SubjectDomainName") {
                Some(domain) => format!("{domain}\\{user}"),
                None => user.to_owned(),
            }),
        )),
        _ => None,
    };
    let action = match process {
        Some((image, parent, user)) => {
            let image =
                image.ok_or_else(|| format!("process event {event_id} without the new process"))?;
            body.insert("image".into(), json!(image));
            if let Some(parent) = parent {
                body.insert("parent_image".into(), json!(parent));
            }
            if let Some(line) = get("CommandLine") {
                body.insert("command_line".into(), json!(line));
            }
            if let Some(user) = user {
                body.insert("principal".into(), json!(user));
            }
            "process_created"
        }
        None => "windows_event",
    };
    body.insert("action".into(), json!(action));
    Ok((Value::Object(body), time))
}

// ----------------------------------------------------------------- summary

/// The evidence line of a SQL Server event.
pub(crate) fn summary(body: &Value) -> String {
    let s = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    let from = match s("client_ip") {
        "" => String::new(),
        ip => format!(" from {ip}"),
    };
    let short = |text: &str| {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 120 {
            format!("{}…", text.chars().take(120).collect::<String>())
        } else {
            text
        }
    };
    match (s("format"), s("action")) {
        ("errorlog", "login_failed") => format!(
            "login failed for {}{from} ({})",
            s("principal"),
            s("failure")
        ),
        ("errorlog", "login_succeeded") => {
            let auth = match s("auth") {
                "" => String::new(),
                a => format!(" ({a} authentication)"),
            };
            format!("login succeeded for {}{from}{auth}", s("principal"))
        }
        ("errorlog", "config_changed") => format!(
            "configuration option {} changed from {} to {}",
            s("option"),
            body.get("old_value").cloned().unwrap_or_default(),
            body.get("new_value").cloned().unwrap_or_default()
        ),
        ("errorlog", _) => short(s("message")),
        ("audit", _) => {
            let object = match s("object") {
                "" => String::new(),
                o => format!(" on {o}"),
            };
            let app = match s("application") {
                "" => String::new(),
                a => format!(" via {a}"),
            };
            let ok = if body.get("succeeded") == Some(&Value::Bool(false)) {
                " (failed)"
            } else {
                ""
            };
            let statement = match s("statement") {
                "" => String::new(),
                st => format!(": {}", short(st)),
            };
            format!(
                "audit {}{object} by {}{from}{app}{ok}{statement}",
                s("action_id"),
                s("principal")
            )
        }
        ("windows", "process_created") => {
            let base = |p: &str| p.rsplit(['\\', '/']).next().unwrap_or(p).to_owned();
            let line = match s("command_line") {
                "" => String::new(),
                l => format!(": {}", short(l)),
            };
            format!(
                "{} started {} on {}{line}",
                base(s("parent_image")),
                base(s("image")),
                s("host")
            )
        }
        _ => format!(
            "windows event {} on {}",
            body.get("event_id").cloned().unwrap_or_default(),
            s("host")
        ),
    }
}
