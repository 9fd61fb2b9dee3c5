//! Seeding and reading the SSM emulator (`scripts/moto-ssm.py`, started by
//! [`Moto::start_with_ssm_emulator`]).
//!
//! The emulator answers the Systems Manager operations moto lacks in the
//! real wire protocol. What an SSM Agent would report is seeded through its
//! test-only routes (`POST /_ssm_emulator/<kind>`), in the API's own JSON
//! shapes; state is per account and region (`account` defaults to
//! `123456789012`, `region` to `us-east-1`).

use serde_json::{Value, json};

use crate::Moto;

/// The default moto account.
pub const ACCOUNT: &str = "123456789012";

impl Moto {
    /// POSTs `payload` to the emulator's `/_ssm_emulator/<kind>` route
    /// (`managed-instances`, `patch-states`, `compliance`, `inventory`,
    /// `reset`); panics unless it answers 200.
    pub fn ssm_seed(&self, kind: &str, payload: &Value) {
        let path = format!("/_ssm_emulator/{kind}");
        let response = self
            .request_with_body("POST", &path, &payload.to_string())
            .unwrap_or_else(|| panic!("the SSM emulator did not answer {path}"));
        assert!(
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
            "{path}: {response}"
        );
    }

    /// Registers managed instances (`InstanceInformation` objects, as
    /// `DescribeInstanceInformation` returns them) in `region` of the
    /// default account: the emulator's "the agent registered".
    pub fn ssm_register(&self, region: &str, instances: &[Value]) {
        self.ssm_seed(
            "managed-instances",
            &json!({"account": ACCOUNT, "region": region, "instances": instances}),
        );
    }

    /// Seeds patch states (`InstancePatchState` objects).
    pub fn ssm_patch_states(&self, region: &str, states: &[Value]) {
        self.ssm_seed(
            "patch-states",
            &json!({"account": ACCOUNT, "region": region, "states": states}),
        );
    }

    /// Seeds compliance summaries (`ResourceComplianceSummaryItem` objects).
    pub fn ssm_compliance(&self, region: &str, items: &[Value]) {
        self.ssm_seed(
            "compliance",
            &json!({"account": ACCOUNT, "region": region, "items": items}),
        );
    }

    /// Seeds one inventory type of an instance (`entries` are the type's
    /// rows, string to string, e.g. `AWS:Application`'s `Name`/`Version`).
    pub fn ssm_inventory(
        &self,
        region: &str,
        instance_id: &str,
        type_name: &str,
        entries: &[Value],
    ) {
        self.ssm_seed(
            "inventory",
            &json!({
                "account": ACCOUNT,
                "region": region,
                "instanceId": instance_id,
                "typeName": type_name,
                "captureTime": "2026-01-01T00:00:00Z",
                "entries": entries,
            }),
        );
    }

    /// Records a response for an operation moto does not model (needs
    /// [`Moto::start_with_ssm_emulator`]): a request signed for `service`
    /// (the SigV4 signing name, `network-firewall`) whose operation is
    /// `operation` (the `X-Amz-Target` suffix or the query `Action`) is
    /// answered with HTTP 200, `content_type` and `body`, the service's own
    /// wire format as its API reference documents it.
    pub fn record_response(&self, service: &str, operation: &str, content_type: &str, body: &str) {
        self.record(&Recording::operation(
            service,
            operation,
            content_type,
            body,
        ));
    }

    /// Like [`Moto::record_response`] for REST protocols: answers requests
    /// whose `METHOD /path` fully matches the regular expression `request`
    /// (`GET /v1/apis/[^/]+/caches`) with `status`, `content_type` and `body`.
    pub fn record_rest_response(
        &self,
        service: &str,
        request: &str,
        status: u16,
        content_type: &str,
        body: &str,
    ) {
        self.record(&Recording::rest(service, request, content_type, body).status(status));
    }

    /// Records `recording` (needs [`Moto::start_with_ssm_emulator`]); the
    /// latest recording matching a request answers it.
    pub fn record(&self, recording: &Recording) {
        self.ssm_seed("recorded-responses", &recording.payload());
    }

    /// The emulator's whole state (`GET /_ssm_emulator/state`): one object
    /// per account and region with `managedInstances`, `patchStates`,
    /// `compliance`, `inventory` and `associations`.
    pub fn ssm_state(&self) -> Value {
        let response = self
            .request("GET", "/_ssm_emulator/state")
            .expect("the SSM emulator did not answer /_ssm_emulator/state");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|e| panic!("state is not JSON ({e}): {response}"))
    }
}

/// An online EC2 managed instance, as `DescribeInstanceInformation`
/// returns it.
pub fn online_instance(instance_id: &str, agent_version: &str) -> Value {
    json!({
        "InstanceId": instance_id,
        "PingStatus": "Online",
        "LastPingDateTime": 1_767_225_600.0,
        "AgentVersion": agent_version,
        "IsLatestVersion": false,
        "PlatformType": "Linux",
        "PlatformName": "Amazon Linux",
        "PlatformVersion": "2023",
        "ResourceType": "EC2Instance",
        "IPAddress": "10.0.0.10",
        "ComputerName": format!("{instance_id}.ec2.internal"),
        "AssociationStatus": "Success",
    })
}

/// A response recorded for an operation moto does not model, narrowed
/// optionally to one region or to requests naming one resource; seeded
/// with [`Moto::record`].
#[derive(Debug, Clone)]
pub struct Recording {
    service: String,
    operation: Option<String>,
    request: Option<String>,
    status: u16,
    content_type: String,
    body: String,
    headers: serde_json::Map<String, Value>,
    region: Option<String>,
    contains: Option<String>,
    request_body: Option<String>,
}

impl Recording {
    /// Answers operation `operation` (the `X-Amz-Target` suffix or the
    /// query `Action`) of `service` (the SigV4 signing name) with HTTP 200,
    /// `content_type` and `body`.
    pub fn operation(service: &str, operation: &str, content_type: &str, body: &str) -> Self {
        Self {
            service: service.to_owned(),
            operation: Some(operation.to_owned()),
            request: None,
            status: 200,
            content_type: content_type.to_owned(),
            body: body.to_owned(),
            headers: serde_json::Map::new(),
            region: None,
            contains: None,
            request_body: None,
        }
    }

    /// Answers REST requests of `service` whose `METHOD /path` fully
    /// matches the regular expression `request` with HTTP 200,
    /// `content_type` and `body`.
    pub fn rest(service: &str, request: &str, content_type: &str, body: &str) -> Self {
        Self {
            operation: None,
            request: Some(request.to_owned()),
            ..Self::operation(service, "", content_type, body)
        }
    }

    /// Answers with HTTP `status` instead (an error: the body is then the
    /// service's error document).
    #[must_use]
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds response header `name: value` (`x-amzn-ErrorType`, which names
    /// a REST-JSON service's error).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_owned(), Value::String(value.to_owned()));
        self
    }

    /// Answers only requests signed for `region`.
    #[must_use]
    pub fn in_region(mut self, region: &str) -> Self {
        self.region = Some(region.to_owned());
        self
    }

    /// Answers only requests whose body, query string or path contains
    /// `text` (percent-decoded), e.g. one resource's ARN or name.
    #[must_use]
    pub fn containing(mut self, text: &str) -> Self {
        self.contains = Some(text.to_owned());
        self
    }

    /// Answers only requests whose body contains a match of the regular
    /// expression `pattern` (`"Name":"sc-1"`, `EnvironmentName=web(&|$)`).
    #[must_use]
    pub fn body_matching(mut self, pattern: &str) -> Self {
        self.request_body = Some(pattern.to_owned());
        self
    }

    fn payload(&self) -> Value {
        json!({
            "service": self.service,
            "operation": self.operation,
            "request": self.request,
            "status": self.status,
            "contentType": self.content_type,
            "body": self.body,
            "headers": self.headers,
            "region": self.region,
            "contains": self.contains,
            "requestBody": self.request_body,
        })
    }
}
