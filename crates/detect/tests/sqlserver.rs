//! SQL Server: every message kind parses into the documented body, what
//! does not parse is counted, sequences (`after`) and forgetting baselines
//! work in general, on persisted state and on the real clock; and the
//! alerts document SQL Server alerts make.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests: a failure ends the test"
)]

use std::path::Path;
use std::sync::Arc;

use rampart_detect::{
    Engine, EngineConfig, EngineState, Event, EventContext, LogEvent, Ruleset, parse_log_events,
};
use rampart_model::{AlertEntity, AlertsDocument};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

fn rules() -> Arc<Ruleset> {
    Arc::new(Ruleset::builtin().unwrap_or_else(|e| panic!("{e}")))
}

fn instance() -> Arc<EventContext> {
    Arc::new(EventContext::sql_server_instance(
        "111122223333",
        "us-east-1",
        "i-0a1b2c3d4e5f60718",
    ))
}

fn parse(message: &str) -> Event {
    Event::from_sqlserver_message("e1", None, message, instance())
        .unwrap_or_else(|e| panic!("{message}: {e}"))
}

fn s<'e>(event: &'e Event, key: &str) -> &'e str {
    event
        .body
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[test]
fn errorlog_lines_of_every_kind_parse() {
    let cases = [
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]",
            "login_failed",
            "wrong_password",
            "sa",
            "203.0.113.9",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'admin'. Reason: Could not find a login matching the name provided. [CLIENT: 203.0.113.9]",
            "login_failed",
            "invalid_user",
            "admin",
            "203.0.113.9",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'old_app'. Reason: The account is disabled. [CLIENT: 10.0.1.40]",
            "login_failed",
            "disabled",
            "old_app",
            "10.0.1.40",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'app'. Reason: The password of the account has expired. [CLIENT: 10.0.1.41]",
            "login_failed",
            "password_expired",
            "app",
            "10.0.1.41",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'jane' because the account is currently locked out. The system administrator can unlock it.  [CLIENT: 10.0.1.42]",
            "login_failed",
            "locked",
            "jane",
            "10.0.1.42",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'CORP\\svc_etl'. Reason: Failed to open the explicitly specified database 'warehouse'. [CLIENT: <local machine>]",
            "login_failed",
            "database_unavailable",
            "CORP\\svc_etl",
            "<local machine>",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed for user 'sa'. Reason: An attempt to login using SQL authentication failed. Server is configured for Windows authentication only. [CLIENT: 2001:db8::7]",
            "login_failed",
            "sql_auth_disabled",
            "sa",
            "2001:db8::7",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login failed. The login is from an untrusted domain and cannot be used with Integrated authentication. [CLIENT: 198.51.100.4]",
            "login_failed",
            "untrusted_domain",
            "",
            "198.51.100.4",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Login succeeded for user 'app_user'. Connection made using SQL Server authentication. [CLIENT: 10.0.1.25]",
            "login_succeeded",
            "",
            "app_user",
            "10.0.1.25",
        ),
        (
            "2024-05-01 10:15:32.51 spid58      Configuration option 'xp_cmdshell' changed from 0 to 1. Run the RECONFIGURE statement to install.",
            "config_changed",
            "",
            "",
            "",
        ),
        (
            "2024-05-01 10:15:32.51 Logon       Error: 18456, Severity: 14, State: 8.",
            "error",
            "",
            "",
            "",
        ),
        (
            "2024-05-01 10:15:32.51 spid23s     Starting up database 'msdb'.",
            "message",
            "",
            "",
            "",
        ),
    ];
    for (line, action, failure, principal, client) in cases {
        let event = parse(line);
        assert_eq!(s(&event, "format"), "errorlog", "{line}");
        assert_eq!(s(&event, "action"), action, "{line}");
        assert_eq!(s(&event, "failure"), failure, "{line}");
        assert_eq!(s(&event, "principal"), principal, "{line}");
        assert_eq!(s(&event, "client_ip"), client, "{line}");
        assert_eq!(event.succeeded(), action != "login_failed", "{line}");
        assert_eq!(
            event.time,
            time::macros::datetime!(2024-05-01 10:15:32.51 UTC),
            "{line}"
        );
    }
    let change = parse(cases[9].0);
    assert_eq!(change.body["option"], "xp_cmdshell");
    assert_eq!(change.body["old_value"], 0);
    assert_eq!(change.body["new_value"], 1);
    assert_eq!(
        change.summary(),
        "configuration option xp_cmdshell changed from 0 to 1"
    );
    let header = parse(cases[10].0);
    assert_eq!(header.body["state"], 8);
    assert_eq!(header.body["error"], 18456);

    // Entities: the login and a remote address; a local client is no address.
    let remote = parse(cases[0].0);
    assert_eq!(
        remote.entity(rampart_detect::EntityKey::User),
        Some(AlertEntity::new("sql-login", "sa"))
    );
    assert_eq!(
        remote.entity(rampart_detect::EntityKey::Ip),
        Some(AlertEntity::new("ip", "203.0.113.9"))
    );
    assert_eq!(
        remote.summary(),
        "login failed for sa from 203.0.113.9 (wrong_password)"
    );
    assert_eq!(
        parse(cases[5].0).entity(rampart_detect::EntityKey::Ip),
        None
    );
}

#[test]
fn an_error_header_and_its_line_are_one_event() {
    let message = "2024-05-01 10:15:32.51 Logon       Error: 18456, Severity: 14, State: 5.\n2024-05-01 10:15:32.51 Logon       Login failed for user 'dba'. Reason: Could not find a login matching the name provided. [CLIENT: 203.0.113.9]";
    let event = parse(message);
    assert_eq!(s(&event, "action"), "login_failed");
    assert_eq!(s(&event, "failure"), "invalid_user");
    assert_eq!(s(&event, "principal"), "dba");
    assert_eq!(event.body["state"], 5);
    assert_eq!(event.body["error"], 18456);
}

#[test]
fn utf16_residue_is_tolerated() {
    // An agent reading ERRORLOG (UTF-16LE) without `encoding: utf-16`.
    let line = "2024-05-01 10:15:32.51 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]";
    let garbled: String = std::iter::once('\u{feff}')
        .chain(line.chars().flat_map(|c| [c, '\0']))
        .collect();
    let event = parse(&garbled);
    assert_eq!(s(&event, "failure"), "wrong_password");
    assert_eq!(s(&event, "client_ip"), "203.0.113.9");
}

#[test]
fn audit_records_as_json_and_as_application_log_text() {
    let json_record = json!({
        "event_time": "2024-05-01 10:15:32.5123456", "sequence_number": 1, "action_id": "LGIF",
        "succeeded": 0, "class_type": "LX", "server_principal_name": "sa",
        "server_instance_name": "EC2AMAZ-SQL01", "database_name": "", "client_ip": "203.0.113.9",
        "application_name": "sqlmap/1.8.4#stable (https://sqlmap.org)",
        "statement": "Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]"
    });
    let event = parse(&json_record.to_string());
    assert_eq!(s(&event, "format"), "audit");
    assert_eq!(s(&event, "action"), "login_failed");
    assert_eq!(s(&event, "action_id"), "LGIF");
    assert_eq!(s(&event, "failure"), "wrong_password");
    assert_eq!(s(&event, "host"), "EC2AMAZ-SQL01");
    assert!(!event.succeeded());
    assert_eq!(
        event.time,
        time::macros::datetime!(2024-05-01 10:15:32.5123456 UTC)
    );

    // `action_id` is char(4): padded; `succeeded` may be text.
    let grant = json!({"event_time": "2024-05-01T10:15:32Z", "action_id": "G   ", "succeeded": "true",
        "server_principal_name": "mallory", "object_name": "customers",
        "statement": "GRANT SELECT ON dbo.customers TO [ghost]", "client_ip": "local machine"});
    let event = parse(&grant.to_string());
    assert_eq!(s(&event, "action"), "permission_change");
    assert!(event.succeeded());
    assert_eq!(event.body["client_local"], true);
    assert_eq!(event.entity(rampart_detect::EntityKey::Ip), None);
    assert_eq!(
        event.summary(),
        "audit G on customers by mallory from local machine: GRANT SELECT ON dbo.customers TO [ghost]"
    );

    // An audit written to the Windows Application log (event 33205).
    let text = "Audit event: audit_schema_version:1\nevent_time:2024-05-01 10:15:32.5123456\nsequence_number:1\naction_id:EX\nsucceeded:true\nserver_principal_name:sa\nobject_name:xp_cmdshell\nstatement:EXEC master..xp_cmdshell 'whoami'\nclient_ip:203.0.113.9\napplication_name:\n";
    let event = parse(text);
    assert_eq!(s(&event, "action"), "execute");
    assert_eq!(s(&event, "object"), "xp_cmdshell");
    assert_eq!(s(&event, "statement"), "EXEC master..xp_cmdshell 'whoami'");
}

#[test]
fn windows_process_events_as_xml_and_json() {
    let xml = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><TimeCreated SystemTime='2024-05-01T10:15:32.5123456Z'/><Computer>SQL01</Computer></System><EventData><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data><Data Name='CommandLine'>cmd /c echo a &amp;&amp; whoami</Data><Data Name='User'>NT SERVICE\\MSSQLSERVER</Data><Data Name='ParentImage'>C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe</Data><Data Name='RuleName'/></EventData></Event>";
    let event = parse(xml);
    assert_eq!(s(&event, "action"), "process_created");
    assert_eq!(s(&event, "command_line"), "cmd /c echo a && whoami");
    assert_eq!(s(&event, "host"), "SQL01");
    assert_eq!(s(&event, "principal"), "NT SERVICE\\MSSQLSERVER");
    assert_eq!(
        event.summary(),
        "sqlservr.exe started cmd.exe on SQL01: cmd /c echo a && whoami"
    );
    let security = json!({"EventID": 4688, "Computer": "SQL01", "TimeCreated": "2024-05-01T10:15:32Z",
        "SubjectUserName": "MSSQLSERVER", "SubjectDomainName": "NT Service",
        "NewProcessName": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "ParentProcessName": "C:\\Program Files\\Microsoft SQL Server\\MSSQL16.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
        "CommandLine": "powershell -nop"});
    let event = parse(&security.to_string());
    assert_eq!(s(&event, "principal"), "NT Service\\MSSQLSERVER");
    assert!(s(&event, "parent_image").ends_with("sqlservr.exe"));
    // Another Windows event parses, as an event no rule reads.
    let logon =
        json!({"EventID": 4624, "Computer": "SQL01", "TimeCreated": "2024-05-01T10:15:32Z"});
    assert_eq!(s(&parse(&logon.to_string()), "action"), "windows_event");
}

#[test]
fn unparsable_messages_are_counted_and_never_alert() {
    let messages = [
        "2024-05-01 10:15:32.51 Logon       Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: 203.0.113.9]",
        "\tCopyright (C) 2022 Microsoft Corporation",
        "{\"not\": \"an audit record\"}",
        "{\"action_id\": \"LGIF\", \"event_time\": \"yesterday\"}",
        "<Event><System><EventID>1</EventID><Provider Name='Microsoft-Windows-Sysmon'/></System><EventData><Data Name='ParentImage'>x</Data></EventData></Event>",
        "",
        "2024-13-45 10:15:32.51 Logon       Login failed for user 'sa'.",
    ];
    let events: Vec<LogEvent> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| LogEvent {
            id: format!("m{i}"),
            timestamp: Some(1_714_558_532_000),
            message: (*m).to_owned(),
        })
        .collect();
    let batch = parse_log_events(&events, &instance());
    assert_eq!(batch.stats.messages, 7);
    assert_eq!(batch.stats.parsed, 1);
    assert_eq!(batch.stats.unparsed, 6);
    assert_eq!(batch.errors.len(), 6);
    assert!(
        batch.errors.iter().any(|e| e.contains("`m1`")),
        "{:?}",
        batch.errors
    );
    let mut engine = Engine::new(rules(), EngineConfig::default());
    let out = engine.process(batch.events);
    assert_eq!(out.stats.events, 1);
    assert!(out.alerts.is_empty());
}

fn errorlog(id: &str, at: OffsetDateTime, text: &str) -> Event {
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    Event::from_sqlserver_message(id, None, &format!("{stamp} Logon       {text}"), instance())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn wrong_password(id: &str, at: OffsetDateTime, ip: &str) -> Event {
    errorlog(
        id,
        at,
        &format!(
            "Login failed for user 'sa'. Reason: Password did not match that for the login provided. [CLIENT: {ip}]"
        ),
    )
}

fn success(id: &str, at: OffsetDateTime, user: &str, ip: &str) -> Event {
    errorlog(
        id,
        at,
        &format!(
            "Login succeeded for user '{user}'. Connection made using SQL Server authentication. [CLIENT: {ip}]"
        ),
    )
}

fn types(out: &rampart_detect::BatchOutcome) -> Vec<String> {
    out.alerts.iter().map(|a| a.alert_type.clone()).collect()
}

const T0: OffsetDateTime = time::macros::datetime!(2026-03-10 10:00 UTC);

#[test]
fn a_login_after_a_brute_force_needs_the_address_the_order_and_the_time() {
    let guesses = |ip: &str, from: i64| -> Vec<Event> {
        (0..10)
            .map(|i| wrong_password(&format!("f{ip}{i}"), T0 + Duration::seconds(from + i), ip))
            .collect()
    };
    // Same address, within the hour: raised, naming address and login.
    let mut engine = Engine::new(rules(), EngineConfig::default());
    let first = engine.process(guesses("203.0.113.9", 0));
    assert_eq!(types(&first), ["SQL.BruteForceValidUser"]);
    let out = engine.process([success(
        "s1",
        T0 + Duration::minutes(50),
        "sa",
        "203.0.113.9",
    )]);
    assert_eq!(types(&out), ["SQL.LoginAfterBruteForce"]);
    assert_eq!(
        out.alerts[0].entities[..2],
        [
            AlertEntity::new("ip", "203.0.113.9"),
            AlertEntity::new("sql-login", "sa")
        ]
    );
    // The state survives a restart.
    let saved = serde_json::to_string(engine.state()).unwrap();
    let state: EngineState = serde_json::from_str(&saved).unwrap();
    let mut resumed = Engine::with_state(rules(), EngineConfig::default(), state);
    let out = resumed.process([success(
        "s2",
        T0 + Duration::minutes(55),
        "sa",
        "203.0.113.9",
    )]);
    assert_eq!(types(&out), ["SQL.LoginAfterBruteForce"]);
    // Over an hour later: not raised, counted.
    let out = resumed.process([success(
        "s3",
        T0 + Duration::minutes(70),
        "sa",
        "203.0.113.9",
    )]);
    assert!(out.alerts.is_empty());
    assert_eq!(out.stats.sequence_unmet, 1);
    // Another address, or before the threshold was crossed: not raised.
    let mut engine = Engine::new(rules(), EngineConfig::default());
    let mut events = vec![success("early", T0, "sa", "203.0.113.9")];
    events.extend(guesses("203.0.113.9", 1));
    events.push(success(
        "other",
        T0 + Duration::minutes(1),
        "sa",
        "10.0.1.25",
    ));
    let out = engine.process(events);
    assert_eq!(types(&out), ["SQL.BruteForceValidUser"]);
    assert_eq!(out.stats.sequence_unmet, 2);
}

#[test]
fn after_is_general_and_checked_at_load() {
    // A CloudTrail sequence built from the same mechanism: a console
    // sign-in success after AWS.ConsoleLoginFailures from its address.
    let failures = rampart_detect::rules::BUILTIN_RULES
        .iter()
        .find(|(f, _)| *f == "cloudtrail/console-login-failures.yml")
        .map(|(_, t)| *t)
        .unwrap();
    let sequel = r"
title: Console sign-in after failures
id: test-console-login-after-failures
description: A console sign-in succeeded right after many failures.
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: ConsoleLogin, responseElements.ConsoleLogin: Success}
    condition: selection
level: high
rampart:
    alert_type: TEST.ConsoleLoginAfterFailures
    signal: a console sign-in success after AWS.ConsoleLoginFailures
    remediation: check the session
    group_by: [ip]
    after: {alert_types: [AWS.ConsoleLoginFailures], within_seconds: 600}
";
    let rules = Arc::new(
        Ruleset::from_files([("a.yml", failures), ("b.yml", sequel)])
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let account = Arc::new(EventContext::cloudtrail("111122223333", "us-east-1"));
    let login = |id: &str, second: i64, result: &str| {
        let time = (T0 + Duration::seconds(second))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let body = json!({"eventID": id, "eventTime": time, "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin", "sourceIPAddress": "203.0.113.9",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "responseElements": {"ConsoleLogin": result}});
        Event::from_cloudtrail_record(body, Arc::clone(&account)).unwrap()
    };
    let mut engine = Engine::new(Arc::clone(&rules), EngineConfig::default());
    let mut events: Vec<Event> = (0..5)
        .map(|i| login(&format!("f{i}"), i, "Failure"))
        .collect();
    events.push(login("ok", 60, "Success"));
    let out = engine.process(events);
    let mut raised = types(&out);
    raised.sort();
    assert_eq!(
        raised,
        ["AWS.ConsoleLoginFailures", "TEST.ConsoleLoginAfterFailures"]
    );

    // Naming an alert type no rule raises is refused.
    let err = Ruleset::from_files([("b.yml", sequel)]).err().unwrap();
    assert!(
        err.to_string().contains("`AWS.ConsoleLoginFailures`"),
        "{err}"
    );
}

#[test]
fn baselines_forget_values_after_their_horizon_across_restarts() {
    let day = |d: i64| T0 + Duration::days(d);
    let mut engine = Engine::new(rules(), EngineConfig::default());
    let out = engine.process([
        success("a0", day(0), "legacy_etl", "10.0.1.30"),
        success("b0", day(0), "app_user", "10.0.1.25"),
    ]);
    assert!(out.alerts.is_empty(), "learning");
    let saved = serde_json::to_string(engine.state()).unwrap();
    assert!(saved.contains("last_seen"), "times of values are persisted");
    let mut engine = Engine::with_state(
        rules(),
        EngineConfig::default(),
        serde_json::from_str(&saved).unwrap(),
    );
    // Seen 59 days later: known. Then 61 days after that: new again.
    assert!(
        engine
            .process([success("a1", day(59), "legacy_etl", "10.0.1.30")])
            .alerts
            .is_empty()
    );
    let out = engine.process([success("a2", day(120), "legacy_etl", "10.0.1.30")]);
    let mut raised = types(&out);
    raised.sort();
    assert_eq!(
        raised,
        ["SQL.LoginByNewPrincipal", "SQL.LoginFromNewAddress"]
    );
    // app_user, last seen on day 0, is new again as well; seen now, known.
    let out = engine.process([success(
        "b1",
        day(120) + Duration::minutes(1),
        "app_user",
        "10.0.1.30",
    )]);
    assert_eq!(types(&out), ["SQL.LoginByNewPrincipal"]);
    let out = engine.process([success("b2", day(121), "app_user", "10.0.1.30")]);
    assert!(out.alerts.is_empty());
}

#[test]
fn sixty_day_baseline_on_the_real_clock() {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let ago = |days: i64| now - Duration::days(days);
    let mut engine = Engine::new(rules(), EngineConfig::default());
    for (id, when, user) in [
        ("h1", ago(90), "dormant"),
        ("h2", ago(61), "dormant"),
        ("h3", ago(30), "active"),
        ("h4", ago(10), "active"),
    ] {
        let out = engine.process([success(id, when, user, "10.0.1.25")]);
        assert!(
            out.alerts
                .iter()
                .all(|a| a.alert_type != "SQL.LoginByNewPrincipal" || user == "active"),
            "{id}"
        );
    }
    let out = engine.process([
        success("n1", now - Duration::minutes(2), "active", "10.0.1.25"),
        success("n2", now - Duration::minutes(1), "dormant", "10.0.1.25"),
    ]);
    let principals: Vec<_> = out
        .alerts
        .iter()
        .filter(|a| a.alert_type == "SQL.LoginByNewPrincipal")
        .flat_map(|a| a.entities.iter().map(|e| e.value.clone()))
        .collect();
    assert!(principals.contains(&"dormant".to_owned()), "{principals:?}");
    assert!(!principals.contains(&"active".to_owned()), "{principals:?}");
}

fn fixture_events(file: &str) -> Vec<Event> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sqlserver")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let logs: Vec<LogEvent> = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let batch = parse_log_events(&logs, &instance());
    assert_eq!(batch.stats.unparsed, 0, "{file}: {:?}", batch.errors);
    batch.events
}

#[test]
fn replaying_sql_thresholds_sequences_and_baselines_changes_nothing() {
    for (file, alert_type) in [
        (
            "brute-force-valid-user/malicious/sa-password-guessing.json",
            "SQL.BruteForceValidUser",
        ),
        (
            "login-after-brute-force/malicious/guessed-sa-password.json",
            "SQL.LoginAfterBruteForce",
        ),
        (
            "new-principal-login/malicious/dormant-login-returns.json",
            "SQL.LoginByNewPrincipal",
        ),
        (
            "mass-permission-change/malicious/grants-and-role-members.json",
            "SQL.MassPermissionChange",
        ),
    ] {
        let events = fixture_events(file);
        let mut engine = Engine::new(rules(), EngineConfig::default());
        let first = engine.process(events.clone());
        assert_eq!(
            first
                .alerts
                .iter()
                .filter(|a| a.alert_type == alert_type)
                .count(),
            1,
            "{file}"
        );
        let before = serde_json::to_value(engine.state()).ok();
        let again = engine.process(events.clone());
        assert!(again.alerts.is_empty(), "{file}: {:?}", again.alerts);
        assert_eq!(serde_json::to_value(engine.state()).ok(), before, "{file}");
    }
}

#[test]
fn sql_alerts_document_shape() {
    let mut engine = Engine::new(rules(), EngineConfig::default());
    for file in [
        "login-after-brute-force/malicious/guessed-sa-password.json",
        "harmful-application/malicious/sqlmap-login.json",
        "xp-cmdshell-enabled/malicious/errorlog-option-changed.json",
        "shell-from-sql-server/malicious/sysmon-cmd-from-sqlservr.json",
    ] {
        engine.process(fixture_events(file));
    }
    let mut alerts: Vec<_> = engine.alerts().cloned().collect();
    alerts.sort_by(|a, b| a.alert_type.cmp(&b.alert_type));
    let doc = AlertsDocument::new(OffsetDateTime::UNIX_EPOCH, alerts);
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    insta::assert_snapshot!("sql_alerts_v1", text);
}
