//! The OpenAPI 3 document served at `/api/v1/openapi.json`, written by
//! hand; a test checks it lists exactly the routes of [`super::table`].

use serde_json::{Map, Value, json};

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn page_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["items", "next_cursor", "next"],
        "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."},
            "next": {"type": ["string", "null"], "description": "The next page's path and query; null on the last page."}
        }
    })
}

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

fn paging() -> Vec<Value> {
    vec![
        json!({"name": "limit", "in": "query", "required": false, "description": "Items per page (1–500, default 50).",
               "schema": {"type": "integer", "minimum": 1, "maximum": 500}}),
        query("cursor", "From a previous page's `next_cursor`."),
    ]
}

const SCAN_Q: (&str, &str) = ("scan", "Read this scan instead of the latest complete one.");

/// The part of the estate a score, compliance or counts read covers
/// (combinable; an unknown connector is a 404).
const SCOPE_Q: [(&str, &str); 3] = [
    ("account", "Only this account's assessments."),
    (
        "connector",
        "Only the assessments of this connector's accounts (name or id; with `account`, that account if the connector has it).",
    ),
    (
        "region",
        "Only this region's assessments (global resources count in the scan's home region).",
    ),
];

/// `SCAN_Q` with [`SCOPE_Q`] and `more`.
fn scoped(more: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    [&[SCAN_Q][..], &SCOPE_Q[..], more].concat()
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema_ref("Error")}}})
}

/// One operation.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: Vec<Value>,
    body: Option<Value>,
    status: &'static str,
    response: Option<Value>,
    /// Other success responses: status, description, schema.
    also: Vec<(&'static str, &'static str, Value)>,
    admin: bool,
}

fn op(method: &'static str, path: &'static str, tag: &'static str, summary: &'static str) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        params: Vec::new(),
        body: None,
        status: "200",
        response: None,
        also: Vec::new(),
        admin: method != "get",
    }
}

impl Op {
    fn q(mut self, list: &[(&str, &str)]) -> Self {
        self.params.extend(list.iter().map(|(n, d)| query(n, d)));
        self
    }

    fn paged(mut self, item: Value) -> Self {
        self.params.extend(paging());
        self.response = Some(page_of(item));
        self
    }

    fn returns(mut self, status: &'static str, schema: Value) -> Self {
        self.status = status;
        self.response = Some(schema);
        self
    }

    /// Another success response.
    fn also(mut self, status: &'static str, description: &'static str, schema: Value) -> Self {
        self.also.push((status, description, schema));
        self
    }

    fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self
    }

    fn no_content(mut self) -> Self {
        self.status = "204";
        self.response = None;
        self
    }

    fn to_json(&self) -> Value {
        let mut params: Vec<Value> = path_names(self.path).map(path_param).collect();
        params.extend(self.params.iter().cloned());
        let mut responses = Map::new();
        let ok = match &self.response {
            Some(schema) => {
                json!({"description": "OK", "content": {"application/json": {"schema": schema}}})
            }
            None => json!({"description": "Done"}),
        };
        responses.insert(self.status.to_owned(), ok);
        for (status, description, schema) in &self.also {
            responses.insert(
                (*status).to_owned(),
                json!({"description": description, "content": {"application/json": {"schema": schema}}}),
            );
        }
        responses.insert("400".into(), error_response("Invalid request"));
        responses.insert("401".into(), error_response("No valid token or session"));
        if self.admin {
            responses.insert("403".into(), error_response("Needs an admin token"));
        }
        let by_connector = self
            .params
            .iter()
            .any(|p| p.get("name").and_then(Value::as_str) == Some("connector"));
        if self.path.contains('{') || self.body.is_some() || by_connector {
            responses.insert("404".into(), error_response("Not found"));
        }
        let mut operation = json!({
            "tags": [self.tag],
            "summary": self.summary,
            "operationId": operation_id(self.method, self.path),
            "parameters": params,
            "responses": responses,
        });
        if let (Some(body), Some(obj)) = (&self.body, operation.as_object_mut()) {
            obj.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": body}}}),
            );
        }
        operation
    }
}

fn path_names(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn operation_id(method: &str, path: &str) -> String {
    let mut id = method.to_owned();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        let seg = seg.trim_start_matches('{').trim_end_matches('}');
        for word in seg.split(['_', '-', '.']) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                id.extend(first.to_uppercase());
                id.push_str(chars.as_str());
            }
        }
    }
    id
}

fn operations() -> Vec<Op> {
    let status_counts = schema_ref("StatusCounts");
    vec![
        op("get", "/openapi.json", "meta", "This document")
            .returns("200", json!({"type": "object"})),
        op(
            "get",
            "/me",
            "meta",
            "The caller's token name, role and session CSRF token",
        )
        .returns("200", schema_ref("Me")),
        op(
            "get",
            "/alerts",
            "alerts",
            "Alerts from threat detection, most recently seen first (each with up to 10 evidence events)",
        )
        .q(&[
            ("severity", "Only this severity or higher: informational, low, medium or high."),
            ("status", "active, resolved or dismissed."),
            ("type", "Only this alert type (e.g. K8S.PrivilegedContainer)."),
            ("plan", "containers, servers, sql or cspm."),
            ("source", "eks-audit, cloudtrail, sql-log, host or disk-scan."),
            ("account", "Only this account."),
            ("resource", "Only alerts about this resource ARN."),
        ])
        .paged(schema_ref("Alert")),
        op(
            "get",
            "/alerts/{id}",
            "alerts",
            "One alert (up to 100 evidence events) and its status history",
        )
        .returns(
            "200",
            json!({"type": "object", "required": ["alert", "history"], "properties": {
                "alert": schema_ref("Alert"),
                "history": {"type": "array", "items": schema_ref("AlertStatusChange")}
            }}),
        ),
        op(
            "post",
            "/alerts/{id}/status",
            "alerts",
            "Change an alert's status (recorded with the token's name, the time and the comment)",
        )
        .body(json!({"type": "object", "required": ["status"], "additionalProperties": false, "properties": {
            "status": {"type": "string", "enum": ["active", "resolved", "dismissed"]},
            "comment": {"type": "string"}
        }}))
        .returns(
            "200",
            json!({"type": "object", "properties": {
                "id": {"type": "string"}, "change": schema_ref("AlertStatusChange")
            }}),
        ),
        op("get", "/scans", "scans", "Scan history, newest first")
            .q(&[("status", "running, complete or failed.")])
            .paged(schema_ref("Scan")),
        op(
            "post",
            "/scans",
            "scans",
            "Trigger a scan (one per connector at a time; 409 while that connector's scan runs). A server started with `--queue-scans` queues it for workers (a connector is then required)",
        )
        .body(schema_ref("ScanRequest"))
        .returns("202", schema_ref("Scan")),
        op(
            "get",
            "/scans/{id}",
            "scans",
            "A scan's status, with progress while it runs",
        )
        .returns("200", schema_ref("Scan")),
        op(
            "post",
            "/scans/{id}/cancel",
            "scans",
            "Cancel a running or queued scan",
        )
        .returns("202", schema_ref("Scan")),
        op(
            "get",
            "/score",
            "posture",
            "The secure score now, overall and per security control",
        )
        .q(&scoped(&[]))
        .returns("200", schema_ref("SecureScore")),
        op(
            "get",
            "/score/history",
            "posture",
            "The secure score over time, one point per complete scan",
        )
        .q(&[
            ("from", "RFC 3339; scans finished at or after."),
            ("to", "RFC 3339; scans finished before."),
        ])
        .paged(schema_ref("ScorePoint")),
        op(
            "get",
            "/changes",
            "posture",
            "Changes to the current assessments (new, changed, resolved, removed), newest first",
        )
        .q(&[&SCOPE_Q[..], &[
            ("since", "YYYY-MM-DD; changes of this day or later (UTC)."),
            ("until", "YYYY-MM-DD; changes of this day or earlier."),
            ("change", "new, changed, resolved or removed."),
            ("recommendation", "Only this recommendation."),
            ("resource", "Only this resource (ARN)."),
        ][..]].concat())
        .paged(schema_ref("AssessmentChange")),
        op(
            "get",
            "/trend",
            "posture",
            "Assessment counts by status per day (the day's last state), oldest first",
        )
        .q(&[&SCOPE_Q[..], &[
            ("since", "YYYY-MM-DD; days from this one."),
            ("until", "YYYY-MM-DD; days up to this one."),
            ("recommendation", "Only this recommendation."),
        ][..]].concat())
        .returns("200", json!({"type": "object", "properties": {"days": {"type": "array", "items": schema_ref("DailyPosture")}}})),
        op(
            "get",
            "/recommendations",
            "posture",
            "Recommendations with assessment counts, most urgent first",
        )
        .q(&scoped(&[
            ("severity", "informational, low, medium, high or critical."),
            ("status", "Only those with an assessment in this status."),
            ("resource_type", "Only this resource type."),
            ("security_control", "Only this security control."),
            ("standard", "Only those mapped to this standard id."),
        ]))
        .paged(schema_ref("RecommendationSummary")),
        op(
            "get",
            "/recommendations/{id}",
            "posture",
            "A recommendation: metadata, remediation and counts",
        )
        .q(&scoped(&[]))
        .returns(
            "200",
            json!({"type": "object", "properties": {"counts": status_counts}}),
        ),
        op(
            "get",
            "/recommendations/{id}/assessments",
            "posture",
            "A recommendation's assessments",
        )
        .q(&assessment_filters())
        .paged(schema_ref("Assessment")),
        op(
            "get",
            "/assessments",
            "posture",
            "Assessments of every recommendation",
        )
        .q(&[
            &assessment_filters()[..],
            &[("recommendation", "Only this recommendation.")],
        ]
        .concat())
        .paged(schema_ref("Assessment")),
        op(
            "get",
            "/compliance",
            "compliance",
            "Standards with control counts by state",
        )
        .q(&scoped(&[]))
        .paged(schema_ref("StandardSummary")),
        op(
            "get",
            "/compliance/{standard}",
            "compliance",
            "One standard's control counts by state",
        )
        .q(&scoped(&[]))
        .returns("200", schema_ref("StandardSummary")),
        op(
            "get",
            "/compliance/{standard}/controls",
            "compliance",
            "A standard's controls, assessed",
        )
        .q(&scoped(&[(
            "state",
            "failed, passed, error, no_resources, manual or not_covered.",
        )]))
        .paged(schema_ref("Control")),
        op(
            "get",
            "/compliance/{standard}/controls/{control}",
            "compliance",
            "One control, assessed",
        )
        .q(&scoped(&[]))
        .returns("200", schema_ref("Control")),
        op(
            "get",
            "/inventory",
            "inventory",
            "Assets, ordered by type then ARN",
        )
        .q(&[
            SCAN_Q,
            ("type", "Only this resource type (e.g. AWS::S3::Bucket)."),
            ("region", "Only this region."),
            ("account", "Only this account."),
            ("connector", "Only the accounts of this connector (name or id)."),
            ("tag", "KEY or KEY=VALUE."),
        ])
        .paged(schema_ref("Asset")),
        op(
            "get",
            "/servers",
            "servers",
            "EC2 instances with their Servers-plan coverage (SSM managed, agent, instance profile, patch and association compliance, software inventory) and why the rest are not covered",
        )
        .q(&[
            SCAN_Q,
            ("account", "Only this account."),
            ("region", "Only this region."),
            ("covered", "true or false."),
            ("reason", "Only instances not covered for this reason code (e.g. not-managed, no-instance-profile)."),
        ])
        .paged(schema_ref("ServerCoverage")),
        op(
            "get",
            "/servers/{instance}",
            "servers",
            "One EC2 instance (id or ARN): coverage, SSM software inventory, assessments and alerts",
        )
        .q(&[SCAN_Q])
        .returns("200", schema_ref("ServerDetail")),
        op(
            "get",
            "/sql/servers",
            "sql",
            "SQL Servers found by the scan (on EC2, RDS Custom, RDS) with the signals that found them, the SQL plan's prerequisites and the vulnerability assessment",
        )
        .q(&[
            SCAN_Q,
            ("account", "Only this account."),
            ("region", "Only this region."),
            ("prerequisites", "met or not_met."),
            ("host_type", "ec2, rds-custom or rds."),
        ])
        .paged(schema_ref("SqlServer")),
        op(
            "get",
            "/sql/servers/{server}",
            "sql",
            "One SQL Server (its ARN or its host's id): signals, prerequisites, vulnerability assessment results",
        )
        .q(&[SCAN_Q])
        .returns("200", schema_ref("SqlServer")),
        op(
            "get",
            "/sql/servers/{server}/baselines",
            "sql",
            "The server's accepted vulnerability assessment baselines: while a rule returns exactly the accepted rows it is a non-finding",
        )
        .returns("200", json!({"type": "array", "items": schema_ref("SqlBaseline")})),
        op(
            "post",
            "/sql/servers/{server}/baselines",
            "sql",
            "Accept a rule's result in the latest complete scan (or `scan`) as expected, recorded with the token's name; errors and truncated results cannot be accepted",
        )
        .body(json!({"type": "object", "required": ["rule"], "additionalProperties": false, "properties": {
            "rule": {"type": "string"},
            "database": {"type": "string"},
            "scan": {"type": "string"}
        }}))
        .returns(
            "201",
            json!({"type": "object", "properties": {
                "server": {"type": "string"}, "baseline": schema_ref("SqlBaseline")
            }}),
        ),
        op(
            "delete",
            "/sql/servers/{server}/baselines/{rule}",
            "sql",
            "Remove the server's baseline of a rule (on `database` for database rules); 404 when there is none",
        )
        .q(&[("database", "The user database, for database rules.")])
        .no_content(),
        op(
            "get",
            "/vulnerabilities",
            "vulnerabilities",
            "The rampart.vulnerabilities/v1 document of the latest scan that read machines' disks (agentless scanning), whole (not paged); with a filter, machines keep only the matching findings and machines without one are left out",
        )
        .q(&vulnerability_filters())
        .returns("200", schema_ref("VulnerabilitiesDocument"))
        .also("404", "No scan read machines yet (code no_scan)", schema_ref("Error")),
        op(
            "get",
            "/vulnerabilities/machines",
            "vulnerabilities",
            "Machines read by agentless scanning, one summary each (findings by severity, secrets, errors), worst first; a machine whose disk could not be read has result not_read, never clean",
        )
        .q(&[
            &vulnerability_filters()[..],
            &[("result", "not_read, findings or clean.")],
        ]
        .concat())
        .paged(schema_ref("MachineSummary")),
        op(
            "get",
            "/vulnerabilities/machines/{instance}",
            "vulnerabilities",
            "One machine (instance id or ARN) as in the document: OS, packages scanned, findings, secrets, errors",
        )
        .q(&[("scan", "Read this scan instead of the latest one that read machines.")])
        .returns("200", schema_ref("MachineDetail")),
        op(
            "get",
            "/vulnerabilities/findings",
            "vulnerabilities",
            "Vulnerable packages with their machine, worst first",
        )
        .q(&vulnerability_filters())
        .paged(schema_ref("MachineFinding")),
        op(
            "get",
            "/vulnerabilities/cves/{id}/machines",
            "vulnerabilities",
            "Which machines have a vulnerability (a CVE id, an advisory id or any alias), with the matching findings",
        )
        .q(&[
            ("scan", "Read this scan instead of the latest one that read machines."),
            ("account", "Only machines of this account."),
        ])
        .paged(schema_ref("AffectedMachine")),
        op("get", "/connectors", "connectors", "Connectors, by name")
            .q(&[
                ("account", "Only this AWS account id."),
                (
                    "plan",
                    "Only those with this plan: cspm, servers, containers or sql.",
                ),
                ("kind", "organization, member or account."),
            ])
            .paged(schema_ref("Connector")),
        op(
            "post",
            "/connectors",
            "connectors",
            "Create a connector (validated as `rampart connector create` does)",
        )
        .body(schema_ref("Connector"))
        .returns("201", schema_ref("Connector")),
        op(
            "get",
            "/connectors/{name}",
            "connectors",
            "One connector, by name or id, with `nextScanAt`",
        )
        .returns("200", schema_ref("Connector")),
        op(
            "put",
            "/connectors/{name}",
            "connectors",
            "Replace a connector (its id, account and creation time stay)",
        )
        .body(schema_ref("Connector"))
        .returns("200", schema_ref("Connector")),
        op(
            "delete",
            "/connectors/{name}",
            "connectors",
            "Delete a connector (an organization's members too)",
        )
        .no_content(),
        op(
            "get",
            "/connectors/{name}/health",
            "connectors",
            "The connector's latest health check (kept in the store, shared by replicas; 404 when none ran)",
        )
        .returns("200", schema_ref("ConnectorHealth")),
        op(
            "post",
            "/connectors/{name}/health",
            "connectors",
            "Check the connector's health now (issuer, each plan's roles and requirements, last scan; 20 s timeout) and keep the result",
        )
        .returns("200", schema_ref("ConnectorHealth")),
        op(
            "get",
            "/exemptions",
            "exemptions",
            "Stored exemptions, oldest first",
        )
        .q(&[
            ("recommendation", "Only this recommendation."),
            ("account", "Only this account."),
            ("region", "Only this region."),
            (
                "active",
                "true: only those in force; false: only expired ones.",
            ),
        ])
        .paged(schema_ref("StoredExemption")),
        op(
            "post",
            "/exemptions",
            "exemptions",
            "Create an exemption; re-evaluates the latest scan",
        )
        .body(schema_ref("Exemption"))
        .returns("201", schema_ref("ExemptionSaved"))
        .also(
            "200",
            "An exemption with the same content was stored already: that one, nothing changed",
            schema_ref("ExemptionSaved"),
        ),
        op("get", "/exemptions/{id}", "exemptions", "One exemption")
            .returns("200", schema_ref("StoredExemption")),
        op(
            "put",
            "/exemptions/{id}",
            "exemptions",
            "Replace an exemption; re-evaluates the latest scan",
        )
        .body(schema_ref("Exemption"))
        .returns("200", schema_ref("ExemptionSaved")),
        op(
            "delete",
            "/exemptions/{id}",
            "exemptions",
            "Delete an exemption; re-evaluates the latest scan",
        )
        .no_content(),
    ]
}

fn vulnerability_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "scan",
            "Read this scan instead of the latest one that read machines.",
        ),
        (
            "cve",
            "Only findings of this advisory id or alias (e.g. CVE-2024-0727).",
        ),
        (
            "package",
            "Only findings of this package (binary or source name).",
        ),
        (
            "severity",
            "Only findings of this severity or higher: unknown, low, medium, high or critical.",
        ),
        ("account", "Only machines of this account."),
    ]
}

fn assessment_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        SCAN_Q,
        (
            "status",
            "healthy, unhealthy, not_applicable, error or exempt.",
        ),
        ("account", "Only this account."),
        (
            "connector",
            "Only the accounts of this connector (name or id).",
        ),
        ("region", "Only this region."),
        ("resource_type", "Only this resource type."),
        ("resource", "Only this resource ARN."),
    ]
}

fn schemas() -> Value {
    let nullable_string = json!({"type": ["string", "null"]});
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "description": "Stable machine code: bad_request, unauthorized, forbidden, not_found, conflict, no_scan, …"},
                "message": {"type": "string"},
                "request_id": {"type": "string", "description": "On a 500: the id the server's log records the details under."}
            }}}
        },
        "Me": {"type": "object", "properties": {
            "token_id": {"type": "string"}, "name": {"type": "string"},
            "role": {"type": "string", "enum": ["reader", "admin"]}, "csrf_token": nullable_string
        }},
        "ScanRequest": {"type": "object", "additionalProperties": false, "properties": {
            "regions": {"type": "array", "items": {"type": "string"}},
            "services": {"type": "array", "items": {"type": "string"}},
            "connector": {"type": "string", "description": "Scan through this connector (name or id), as `rampart scan --connector` does; 404 when there is none. Default: the server's own AWS credentials."}
        }},
        "Scan": {"type": "object", "required": ["id", "status"], "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "description": "queued (for a worker, `rampart serve --queue-scans`), running, complete, failed or cancelled"},
            "record": {"type": "object", "description": "The stored scan (absent until the scan is stored)."},
            "connector": {"type": "string", "description": "The id of the connector the stored scan went through (absent for a scan with the server's own credentials)."},
            "coverage": {"type": "object", "description": "What the stored scan covered: `full` true, or a scan narrowed by service or region with its `services` and `regions` (null: all) and `mergedFrom`, the previous snapshots whose other slices its snapshot keeps.", "required": ["full"], "properties": {
                "full": {"type": "boolean"},
                "services": {"type": ["array", "null"], "items": {"type": "string"}},
                "regions": {"type": ["array", "null"], "items": {"type": "string"}},
                "mergedFrom": {"type": "array", "items": {"type": "string"}}
            }},
            "job": {"type": "object", "description": "Progress, while this server runs or ran the scan; for a scan queued for workers, its queue job (read from the store, the same on every replica).", "properties": {
                "state": {"type": "string", "description": "queued, running, complete, failed or cancelled"}, "done": {"type": "integer"}, "planned": {"type": "integer"},
                "percent": {"type": "number"}, "error": nullable_string,
                "job": {"type": "string", "description": "The queue job's id (queued scans only)."},
                "attempts": {"type": "integer", "description": "Worker runs of the queue job so far (queued scans only)."},
                "worker": {"type": "string", "description": "The worker holding the queue job (queued scans only)."}
            }}
        }},
        "SecureScore": {"type": "object", "properties": {
            "scan_id": {"type": "string"}, "finished_at": nullable_string, "account": nullable_string,
            "connector": nullable_string, "region": nullable_string,
            "percent": {"type": "number"},
            "controls": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "max": {"type": "number"}, "current": {"type": "number"},
                "healthy": {"type": "integer"}, "unhealthy": {"type": "integer"}, "potential_increase": {"type": "number"}
            }}}
        }},
        "ScorePoint": {"type": "object", "properties": {
            "scan_id": {"type": "string"}, "finished_at": {"type": "string", "format": "date-time"}, "percent": {"type": "number"}
        }},
        "AssessmentChange": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "scan_id": {"type": "string"},
            "account": {"type": "string"}, "region": {"type": "string"}, "recommendation": {"type": "string"},
            "resource": {"type": "string"}, "change": {"type": "string", "enum": ["new", "changed", "resolved", "removed"]},
            "old_status": nullable_string, "new_status": nullable_string
        }},
        "DailyPosture": {"type": "object", "properties": {
            "day": {"type": "string", "format": "date"}, "healthy": {"type": "integer"}, "unhealthy": {"type": "integer"},
            "error": {"type": "integer"}, "exempt": {"type": "integer"}, "not_applicable": {"type": "integer"},
            "score": {"type": ["number", "null"], "description": "secure score (percent) of the scope at the day's last scan; null for one recommendation's trend"}
        }},
        "StatusCounts": {"type": "object", "properties": {
            "unhealthy": {"type": "integer"}, "healthy": {"type": "integer"}, "not_applicable": {"type": "integer"},
            "error": {"type": "integer"}, "exempt": {"type": "integer"}
        }},
        "RecommendationSummary": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "severity": {"type": "string"},
            "resource_type": {"type": "string"}, "security_control": {"type": "string"},
            "standards": {"type": "array", "items": {"type": "string"}}, "preview": {"type": "boolean"},
            "counts": {"$ref": "#/components/schemas/StatusCounts"}
        }},
        "Assessment": {"type": "object", "properties": {
            "recommendation": {"type": "string"}, "resource": {"type": "string"}, "resource_type": {"type": "string"},
            "resource_name": {"type": "string"}, "account": {"type": "string"}, "region": {"type": "string"},
            "status": {"type": "string"}, "reason": {"type": "string"},
            "evidence": {"type": "array", "items": {"type": "object"}}, "exemption": {"type": "object"}
        }},
        "StandardSummary": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "controls": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "Control counts by state."}
        }},
        "Control": {"type": "object", "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "state": {"type": "string"},
            "recommendations": {"type": "array", "items": {"type": "string"}},
            "healthy": {"type": "integer"}, "unhealthy": {"type": "integer"}, "error": {"type": "integer"}, "exempt": {"type": "integer"}
        }},
        "ServerCoverage": {"type": "object", "required": ["instanceId", "arn", "account", "region", "managed", "covered", "reasons"], "properties": {
            "instanceId": {"type": "string"}, "arn": {"type": "string"}, "account": {"type": "string"},
            "region": {"type": "string"}, "name": {"type": "string"}, "state": nullable_string,
            "managed": {"type": "string", "enum": ["yes", "no", "unknown"]},
            "pingStatus": nullable_string, "agentVersion": nullable_string, "agentLatest": {"type": ["boolean", "null"]},
            "platformType": nullable_string, "platform": nullable_string,
            "instanceProfile": nullable_string, "role": nullable_string, "profileAllowsSsm": {"type": ["boolean", "null"]},
            "patchCompliance": nullable_string, "missingPatches": {"type": ["integer", "null"]},
            "associationCompliance": nullable_string, "inventoryPresent": {"type": ["boolean", "null"]},
            "applicationCount": {"type": ["integer", "null"]}, "covered": {"type": "boolean"},
            "reasons": {"type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}
            }}}
        }},
        "SqlBaseline": {"type": "object", "required": ["rule", "result_hash", "accepted_by", "accepted_at"], "properties": {
            "rule": {"type": "string"}, "database": nullable_string,
            "result_hash": {"type": "string", "description": "SHA-256 of the accepted columns and rows"},
            "accepted_by": {"type": "string"}, "accepted_at": {"type": "string", "format": "date-time"}
        }},
        "SqlServer": {"type": "object", "required": ["server", "name", "account", "region", "host_type", "host_id", "prerequisites", "prerequisites_met"], "properties": {
            "server": {"type": "string"}, "name": {"type": "string"}, "account": {"type": "string"},
            "region": {"type": "string"}, "host_type": {"type": "string", "enum": ["ec2", "rds-custom", "rds"]},
            "host_id": {"type": "string"}, "product": nullable_string, "version": nullable_string,
            "edition": nullable_string,
            "resource": {"type": "string", "description": "The ARN of the RDS DB instance, or of the EC2 instance that hosts the server"},
            "kind": {"type": "string", "enum": ["ec2", "rds-custom", "rds"]},
            "discovered_by": {"type": "array", "items": {"type": "string"}, "description": "The signals that found the server"},
            "signals": {"description": "What found the server: source (ssm-inventory, platform-details, ami-name, rds-engine) and detail."},
            "prerequisites": {"type": "array", "items": {"type": "object", "required": ["requirement", "detail", "state"], "properties": {
                "requirement": {"type": "string"}, "detail": {"type": "string"},
                "state": {"type": "string", "enum": ["met", "not_met", "unknown"]},
                "fix": {"type": "string"}, "why": {"type": "string"}
            }}},
            "prerequisites_met": {"type": "boolean"},
            "assessment": {"description": "The vulnerability assessment asset's properties (results per rule and database, counts, error); null when it did not run.", "type": ["object", "null"]}
        }},
        "ServerDetail": {"type": "object", "required": ["scan", "coverage", "assessments", "alerts"], "properties": {
            "scan": {"type": "object"},
            "coverage": {"$ref": "#/components/schemas/ServerCoverage"},
            "inventory": {"description": "The SSM software-inventory asset (null when SSM reported none).", "anyOf": [{"$ref": "#/components/schemas/Asset"}, {"type": "null"}]},
            "assessments": {"type": "array", "items": {"$ref": "#/components/schemas/Assessment"}},
            "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}
        }},
        "Asset": {"type": "object", "properties": {
            "arn": {"type": "string"}, "resource_type": {"type": "string"}, "account": {"type": "string"},
            "region": {"type": "string"}, "name": {"type": "string"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "properties": {"type": "object"}, "unavailable": {"type": "object"}
        }},
        "Connector": {"type": "object", "required": ["name", "hierarchyIdentifier", "environmentName", "environmentData", "offerings"],
            "description": "The connector resource (design.md section 8). `id`, `createdAt` and `updatedAt` are set by the server.",
            "properties": {
                "id": {"type": "string", "readOnly": true},
                "name": {"type": "string"},
                "hierarchyIdentifier": {"type": "string", "description": "The AWS account id."},
                "environmentName": {"type": "string", "enum": ["AWS"]},
                "environmentData": {"type": "object", "properties": {
                    "environmentType": {"type": "string", "enum": ["AwsAccount"]},
                    "organizationalData": {"type": "object"},
                    "regions": {"type": "array", "items": {"type": "string"}},
                    "scanInterval": {"type": "integer", "minimum": 1, "maximum": 24}
                }},
                "offerings": {"type": "array", "items": {"type": "object", "properties": {"offeringType": {"type": "string"}},
                    "description": "DefenderForServersAws also takes `scopeByTags` ({key: value}: only instances with one of these tags), `arcAutoProvisioning.isPolicyAttachAllowed` (attach the SSM policy to an instance's own profile role when it lacks it; default false) and `vmScanners` ({enabled, exclusionTags: {key: value}}: agentless scanning)."}},
                "paused": {"type": "boolean", "default": false, "description": "Scheduled scans skip a paused connector; absent when false."},
                "createdAt": {"type": "string", "format": "date-time", "readOnly": true},
                "updatedAt": {"type": "string", "format": "date-time", "readOnly": true},
                "nextScanAt": {"type": ["string", "null"], "format": "date-time", "readOnly": true,
                    "description": "Only in `GET /connectors/{name}`: when the scheduler scans the connector next; null for a connector it does not scan on its own (an organization's member, no cspm plan)."}
            }
        },
        "ConnectorHealth": {"type": "object", "required": ["connector", "account", "checked_at", "checks"], "properties": {
            "connector": {"type": "string"}, "account": {"type": "string"},
            "checked_at": {"type": "string", "format": "date-time"},
            "checks": {"type": "array", "items": {"type": "object", "required": ["plan", "requirement", "state", "detail"], "properties": {
                "plan": {"type": ["string", "null"], "description": "cspm, servers, containers or sql; null for the connector as a whole (issuer, last scan)."},
                "requirement": {"type": "string"},
                "state": {"type": "string", "enum": ["met", "not_met", "unknown"]},
                "fix": {"type": "string", "description": "With not_met: what to do."},
                "why": {"type": "string", "description": "With unknown: why it could not be told."},
                "detail": {"type": "string"}
            }}}
        }},
        "Exemption": {"type": "object", "required": ["reason"], "additionalProperties": false,
            "description": "Every criterion given must match; at least one of recommendation, resource, account, region, tag.",
            "properties": {
                "recommendation": {"type": "string", "description": "Recommendation id or `*`."},
                "resource": {"type": "string", "description": "ARN pattern: `*` any run, `?` one character."},
                "account": {"type": "string"}, "region": {"type": "string"},
                "tag": {"type": "string", "description": "KEY or KEY=VALUE."},
                "reason": {"type": "string"},
                "expires": {"type": "string", "description": "YYYY-MM-DD or RFC 3339."}
            }
        },
        // Not `allOf` with `Exemption`: that one forbids other properties,
        // and a stored exemption answers `null` for criteria not given.
        "StoredExemption": {"type": "object", "required": ["id", "reason", "created_by", "created_at"], "properties": {
            "id": {"type": "string"},
            "recommendation": nullable_string, "resource": nullable_string,
            "account": nullable_string, "region": nullable_string, "tag": nullable_string,
            "reason": {"type": "string"}, "expires": nullable_string,
            "created_by": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"}
        }},
        "ExemptionSaved": {"type": "object", "properties": {
            "exemption": {"$ref": "#/components/schemas/StoredExemption"},
            "reevaluated_scan": {"type": ["string", "null"], "description": "The scan re-evaluated with it."}
        }}
    })
}

/// The alert schemas (apart from [`schemas`]: one `json!` holding them all
/// is past the macro's recursion limit).
fn alert_schemas() -> Value {
    json!({
        "Alert": {"type": "object", "description": "One alert, as in the `rampart.alerts/v1` document (docs/alerts.md).",
            "required": ["id", "alert_type", "title", "severity", "status", "plan", "source", "first_seen", "last_seen", "count",
                         "account", "region", "resource", "entities", "mitre", "description", "remediation", "rule", "evidence"],
            "properties": {
                "id": {"type": "string"}, "alert_type": {"type": "string"}, "title": {"type": "string"},
                "severity": {"type": "string", "enum": ["informational", "low", "medium", "high", "critical"]},
                "status": {"type": "string", "enum": ["active", "resolved", "dismissed"]},
                "plan": {"type": "string", "enum": ["containers", "servers", "sql", "cspm"]},
                "source": {"type": "string", "enum": ["eks-audit", "cloudtrail", "sql-log", "host", "disk-scan"]},
                "first_seen": {"type": "string", "format": "date-time"}, "last_seen": {"type": "string", "format": "date-time"},
                "count": {"type": "integer"}, "account": {"type": "string"}, "region": {"type": "string"},
                "resource": {"type": "object", "properties": {"arn": {"type": "string"}, "type": {"type": "string"}, "name": {"type": "string"}}},
                "entities": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}, "value": {"type": "string"}}}},
                "mitre": {"type": "object", "properties": {
                    "tactics": {"type": "array", "items": {"type": "string"}},
                    "techniques": {"type": "array", "items": {"type": "string"}}
                }},
                "description": {"type": "string"}, "remediation": {"type": "string"},
                "rule": {"type": "object", "properties": {"id": {"type": "string"}, "source": {"type": "string"},
                    "author": {"type": "string"}, "url": {"type": "string"}}},
                "evidence": {"type": "array", "items": {"type": "object", "properties": {
                    "source": {"type": "string"}, "event_id": {"type": "string", "description": "The event's own id (auditID, eventID, …)."},
                    "time": {"type": "string", "format": "date-time"}, "summary": {"type": "string"}
                }}},
                "evidence_truncated": {"type": "integer", "description": "Contributing events left out of `evidence`."}
            }
        },
        "AlertStatusChange": {"type": "object", "required": ["at", "actor", "from", "to"], "properties": {
            "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
            "from": {"type": "string"}, "to": {"type": "string"}, "comment": {"type": "string"}
        }}
    })
}

/// The agentless scanning schemas (`rampart.vulnerabilities/v1`,
/// docs/vulnerabilities.md).
fn vulnerability_schemas() -> Value {
    let nullable_string = json!({"type": ["string", "null"]});
    let severity =
        json!({"type": "string", "enum": ["critical", "high", "medium", "low", "unknown"]});
    let os = json!({"type": ["object", "null"], "required": ["id"], "properties": {
        "id": {"type": "string"}, "version_id": nullable_string, "pretty_name": nullable_string,
        "id_like": {"type": "array", "items": {"type": "string"}}, "version_codename": {"type": "string"}
    }});
    let result = json!({"type": "string", "enum": ["not_read", "findings", "clean"],
        "description": "not_read: the disk could not be read (fully or in part), so the machine is not known to be clean."});
    json!({
        "VulnerabilityFinding": {"type": "object",
            "required": ["package", "installed_version", "vulnerability", "aliases", "severity", "ecosystem"],
            "properties": {
                "package": {"type": "string"}, "source_package": nullable_string,
                "installed_version": {"type": "string"}, "fixed_version": nullable_string,
                "vulnerability": {"type": "string", "description": "The advisory id (OSV id)."},
                "aliases": {"type": "array", "items": {"type": "string"}},
                "severity": severity, "ecosystem": {"type": "string"}
            }
        },
        "SecretFinding": {"type": "object", "required": ["path", "kind", "fingerprint"], "properties": {
            "path": {"type": "string"}, "kind": {"type": "string"},
            "fingerprint": {"type": "string", "description": "sha256 of the secret, never the secret itself."}
        }},
        "MachineScan": {"type": "object",
            "required": ["resource", "snapshot", "scanned_at", "os", "packages_scanned", "findings", "secrets", "errors"],
            "properties": {
                "resource": {"type": "string"}, "source": {"type": "string", "enum": ["disk", "ssm-inventory"]}, "snapshot": nullable_string,
                "scanned_at": {"type": "string", "format": "date-time"}, "os": os,
                "packages_scanned": {"type": "integer", "minimum": 0},
                "findings": {"type": "array", "items": {"$ref": "#/components/schemas/VulnerabilityFinding"}},
                "secrets": {"type": "array", "items": {"$ref": "#/components/schemas/SecretFinding"}},
                "errors": {"type": "array", "items": {"type": "string"}}
            }
        },
        "VulnerabilitiesDocument": {"type": "object", "required": ["schema", "generated_at", "vulnerability_db", "machines"],
            "properties": {
                "schema": {"type": "string", "const": "rampart.vulnerabilities/v1"},
                "generated_at": {"type": "string", "format": "date-time"},
                "vulnerability_db": {"type": "object", "required": ["sources", "records"], "properties": {
                    "sources": {"type": "array", "items": {"type": "string"}},
                    "imported_at": nullable_string, "records": {"type": "integer", "minimum": 0}
                }},
                "machines": {"type": "array", "items": {"$ref": "#/components/schemas/MachineScan"}}
            }
        },
        "MachineSummary": {"type": "object",
            "required": ["resource", "instance", "account", "region", "source", "snapshot", "scanned_at", "os", "packages_scanned", "findings", "secrets", "errors", "result"],
            "properties": {
                "resource": {"type": "string"}, "instance": {"type": "string"},
                "account": {"type": "string"}, "region": {"type": "string"}, "source": {"type": "string", "enum": ["disk", "ssm-inventory"]}, "snapshot": nullable_string,
                "scanned_at": {"type": "string", "format": "date-time"}, "os": os,
                "packages_scanned": {"type": "integer", "minimum": 0},
                "findings": {"type": "object", "description": "Findings by severity (every severity, 0 when none).",
                    "additionalProperties": {"type": "integer", "minimum": 0}},
                "secrets": {"type": "integer", "minimum": 0},
                "errors": {"type": "array", "items": {"type": "string"}},
                "result": result
            }
        },
        "MachineDetail": {"type": "object", "required": ["scan_id", "machine", "result"], "properties": {
            "scan_id": {"type": "string"},
            "machine": {"$ref": "#/components/schemas/MachineScan"},
            "result": result
        }},
        "MachineFinding": {"description": "A finding (the VulnerabilityFinding fields) with its machine.",
            "allOf": [{"$ref": "#/components/schemas/VulnerabilityFinding"}, {"type": "object",
                "required": ["resource", "instance", "account", "region"], "properties": {
                    "resource": {"type": "string"}, "instance": {"type": "string"},
                    "account": {"type": "string"}, "region": {"type": "string"}
                }}]
        },
        "AffectedMachine": {"type": "object", "required": ["resource", "instance", "account", "region", "findings"], "properties": {
            "resource": {"type": "string"}, "instance": {"type": "string"},
            "account": {"type": "string"}, "region": {"type": "string"},
            "findings": {"type": "array", "items": {"$ref": "#/components/schemas/VulnerabilityFinding"}}
        }}
    })
}

/// `(method, path)` of every documented operation.
pub fn documented() -> Vec<(&'static str, &'static str)> {
    operations().iter().map(|o| (o.method, o.path)).collect()
}

fn all_schemas() -> Value {
    let mut all = schemas();
    if let (Some(all), Value::Object(alerts)) = (all.as_object_mut(), alert_schemas()) {
        all.extend(alerts);
    }
    if let (Some(all), Value::Object(machines)) = (all.as_object_mut(), vulnerability_schemas()) {
        all.extend(machines);
    }
    all
}

/// The document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for o in operations() {
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(o.method.to_owned(), o.to_json());
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rampart API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Rampart's REST API. Authenticate with `Authorization: Bearer <token>` (`rampart token create`). Readers read; changes need an admin token. Lists take `limit` and `cursor` and answer `{items, next_cursor, next}`. Every error is `{\"error\": {\"code\", \"message\"}}`."
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": all_schemas()
        }
    })
}
