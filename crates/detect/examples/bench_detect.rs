//! Detection benchmark: every built-in rule over a synthetic EKS audit
//! stream, one core.
//!
//! `scripts/bench-detect [N]` (release build, pinned to one core). The
//! stream is made in chunks of 10,000 JSON lines, as an EKS cluster's
//! CloudWatch Logs messages look: about 97 % routine traffic (controllers
//! and kubelets watching and updating, leases, humans reading, CI
//! deploying ordinary workloads, service accounts calling from their usual
//! addresses) and 3 % attack traffic (privileged and miner pods, exec,
//! RBAC enumeration bursts, secrets listed cluster-wide, a service account
//! from a new address), one event every 50 ms of event time, so a stream
//! of two million events spans 28 hours and the engine's 24-hour horizon
//! is crossed. Timed: the engine over each chunk, parsing each line into
//! an `Event` as it goes (making the lines is not timed); and, for the
//! breakdown, parsing alone. Prints events, events/s, alerts, and the
//! process's peak RSS.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program: failures end it, results go to stdout"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_detect::{Engine, EngineConfig, Event, EventContext, Ruleset};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const CHUNK: usize = 10_000;
const START: i64 = 1_773_100_800;
const STEP_MS: i64 = 50;

/// xorshift64*: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

struct Req<'a> {
    verb: &'a str,
    resource: &'a str,
    sub: Option<&'a str>,
    ns: Option<&'a str>,
    name: Option<String>,
    user: String,
    groups: &'a [&'a str],
    ip: String,
    ua: &'a str,
    code: u64,
    body: Option<Value>,
}

fn line(n: u64, millis: i64, r: Req<'_>) -> String {
    let time =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(START * 1000 + millis) * 1_000_000)
            .unwrap()
            .format(&Rfc3339)
            .unwrap();
    let mut object = json!({"resource": r.resource, "apiVersion": "v1"});
    if let Some(ns) = r.ns {
        object["namespace"] = json!(ns);
    }
    if let Some(name) = &r.name {
        object["name"] = json!(name);
    }
    if let Some(sub) = r.sub {
        object["subresource"] = json!(sub);
    }
    let mut event = json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1",
        "level": if r.body.is_some() { "RequestResponse" } else { "Metadata" },
        "auditID": format!("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", n as u32, (n >> 32) as u16, n % 4096, (n >> 12) % 4096, n),
        "stage": "ResponseComplete",
        "requestURI": format!("/api/v1/{}{}", r.ns.map(|ns| format!("namespaces/{ns}/")).unwrap_or_default(), r.resource),
        "verb": r.verb,
        "user": {"username": r.user, "uid": "0d6f3c1e-1111-4a2b-9c3d-5e6f7a8b9c0d", "groups": r.groups},
        "sourceIPs": [r.ip], "userAgent": r.ua, "objectRef": object,
        "responseStatus": {"metadata": {}, "code": r.code},
        "requestReceivedTimestamp": time, "stageTimestamp": time,
        "annotations": {"authorization.k8s.io/decision": if r.code < 400 { "allow" } else { "forbid" },
                        "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"system:controller\""}
    });
    if let Some(body) = r.body {
        event["requestObject"] = body;
    }
    event.to_string()
}

fn pod_body(name: &str, image: &str, privileged: bool) -> Value {
    json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": image, "resources": {"limits": {"cpu": "500m"}},
            "securityContext": {"privileged": privileged, "runAsNonRoot": !privileged}}],
            "volumes": [{"name": "cfg", "configMap": {"name": name}}], "serviceAccountName": "default"}})
}

/// One event of the stream.
fn make(rng: &mut Rng, n: u64) -> String {
    let millis = n as i64 * STEP_MS;
    const SYS: &[&str] = &["system:serviceaccounts", "system:authenticated"];
    const HUMAN: &[&str] = &["developers", "system:authenticated"];
    let controllers = [
        "replicaset-controller",
        "deployment-controller",
        "endpointslice-controller",
        "generic-garbage-collector",
        "namespace-controller",
        "coredns",
        "aws-node",
    ];
    let namespaces = [
        "default",
        "prod",
        "staging",
        "team-a",
        "team-b",
        "monitoring",
    ];
    let roll = rng.below(1000);
    let req = match roll {
        // Controllers watching and listing.
        0..=349 => Req {
            verb: rng.pick(&["watch", "list", "get"]),
            resource: rng.pick(&[
                "pods",
                "endpoints",
                "configmaps",
                "secrets",
                "services",
                "nodes",
                "replicasets",
            ]),
            sub: None,
            ns: if rng.below(3) == 0 {
                None
            } else {
                Some(rng.pick(&namespaces))
            },
            name: None,
            user: format!(
                "system:serviceaccount:kube-system:{}",
                rng.pick(&controllers)
            ),
            groups: SYS,
            ip: "10.0.0.10".into(),
            ua: "kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350",
            code: 200,
            body: None,
        },
        // Kubelets: node status, leases, pod status, tokens.
        350..=649 => {
            let node = rng.below(40);
            let (verb, resource, sub, ns) = match rng.below(4) {
                0 => ("patch", "nodes", Some("status"), None),
                1 => ("update", "leases", None, Some("kube-node-lease")),
                2 => ("patch", "pods", Some("status"), Some(rng.pick(&namespaces))),
                _ => (
                    "create",
                    "serviceaccounts",
                    Some("token"),
                    Some(rng.pick(&namespaces)),
                ),
            };
            Req {
                verb,
                resource,
                sub,
                ns,
                name: Some(format!("ip-10-0-{node}-7.ec2.internal")),
                user: format!("system:node:ip-10-0-{node}-7.ec2.internal"),
                groups: &["system:nodes", "system:authenticated"],
                ip: format!("10.0.{node}.7"),
                ua: "kubelet/v1.30.2-eks (linux/amd64) kubernetes/3968350",
                code: if verb == "create" { 201 } else { 200 },
                body: None,
            }
        }
        // EKS's own identities.
        650..=699 => Req {
            verb: rng.pick(&["get", "list", "update", "patch"]),
            resource: rng.pick(&[
                "configmaps",
                "clusterroles",
                "daemonsets",
                "mutatingwebhookconfigurations",
            ]),
            sub: None,
            ns: Some("kube-system"),
            name: Some("aws-auth".into()),
            user: format!(
                "eks:{}",
                rng.pick(&[
                    "addon-manager",
                    "node-manager",
                    "certificate-controller",
                    "pod-identity-mutating-webhook"
                ])
            ),
            groups: &["system:authenticated"],
            ip: "10.0.0.11".into(),
            ua: "eks-addon-manager/v0.1",
            code: 200,
            body: None,
        },
        // Application service accounts from their usual addresses.
        700..=849 => {
            let app = rng.below(20);
            Req {
                verb: rng.pick(&["get", "list", "watch"]),
                resource: rng.pick(&["configmaps", "secrets", "pods"]),
                sub: None,
                ns: Some("prod"),
                name: None,
                user: format!("system:serviceaccount:prod:app-{app}"),
                groups: SYS,
                ip: format!("10.0.{}.{}", 100 + app, 10 + rng.below(3)),
                ua: "app/1.4 (linux/amd64) kubernetes-client",
                code: 200,
                body: None,
            }
        }
        // Humans reading; now and then an RBAC read (below the threshold).
        850..=919 => Req {
            verb: rng.pick(&["get", "list"]),
            resource: rng.pick(&["pods", "deployments", "services", "events", "pods", "roles"]),
            sub: if rng.below(10) == 0 {
                Some("log")
            } else {
                None
            },
            ns: Some(rng.pick(&namespaces)),
            name: None,
            user: format!(
                "arn:aws:sts::111122223333:assumed-role/developer/user{}",
                rng.below(30)
            ),
            groups: HUMAN,
            ip: format!("203.0.113.{}", rng.below(200)),
            ua: "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
            code: 200,
            body: None,
        },
        // CI deploying ordinary pods.
        920..=969 => Req {
            verb: "create",
            resource: "pods",
            sub: None,
            ns: Some(rng.pick(&namespaces)),
            name: Some(format!("web-{}", rng.below(100_000))),
            user: "system:serviceaccount:ci:deployer".into(),
            groups: SYS,
            ip: "10.0.1.20".into(),
            ua: "helm/v3.15.2",
            code: 201,
            body: Some(pod_body(
                "web",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.2.3",
                false,
            )),
        },
        // Attack traffic (3 %).
        _ => {
            let attacker = format!(
                "arn:aws:sts::111122223333:assumed-role/developer/mallory{}",
                rng.below(5)
            );
            match rng.below(6) {
                0 => Req {
                    verb: "create",
                    resource: "pods",
                    sub: None,
                    ns: Some("default"),
                    name: Some(format!("miner-{}", rng.below(1000))),
                    user: attacker,
                    groups: HUMAN,
                    ip: "198.51.100.23".into(),
                    ua: "kubectl/v1.30.2",
                    code: 201,
                    body: Some(pod_body("miner", "docker.io/xmrig/xmrig:6.21.0", true)),
                },
                1 => Req {
                    verb: "create",
                    resource: "pods",
                    sub: Some("exec"),
                    ns: Some("prod"),
                    name: Some("payments-0".into()),
                    user: attacker,
                    groups: HUMAN,
                    ip: "198.51.100.23".into(),
                    ua: "kubectl/v1.30.2",
                    code: 101,
                    body: None,
                },
                2 | 3 => Req {
                    verb: "create",
                    resource: "selfsubjectrulesreviews",
                    sub: None,
                    ns: None,
                    name: None,
                    user: attacker,
                    groups: HUMAN,
                    ip: "198.51.100.23".into(),
                    ua: "kubectl/v1.30.2",
                    code: 201,
                    body: None,
                },
                4 => Req {
                    verb: "list",
                    resource: "secrets",
                    sub: None,
                    ns: None,
                    name: None,
                    user: attacker,
                    groups: HUMAN,
                    ip: "198.51.100.23".into(),
                    ua: "kube-hunter",
                    code: 200,
                    body: None,
                },
                _ => Req {
                    verb: "get",
                    resource: "secrets",
                    sub: None,
                    ns: Some("prod"),
                    name: None,
                    user: format!("system:serviceaccount:prod:app-{}", rng.below(20)),
                    groups: SYS,
                    ip: format!("198.51.100.{}", rng.below(250)),
                    ua: "curl/8.5.0",
                    code: 200,
                    body: None,
                },
            }
        }
    };
    line(n, millis, req)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let total: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let rules = Arc::new(Ruleset::builtin().expect("built-in rules"));
    let rule_count = rules.rules().len();
    let context = Arc::new(EventContext::eks_cluster(
        "111122223333",
        "us-east-1",
        "prod",
    ));
    let mut engine = Engine::new(rules, EngineConfig::default());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut parse, mut detect) = (Duration::ZERO, Duration::ZERO);
    let (mut bytes, mut alerts_changed, mut matches) = (0u64, 0u64, 0u64);
    let mut n = 0u64;
    while n < total {
        let size = CHUNK.min((total - n) as usize);
        let lines: Vec<String> = (0..size).map(|i| make(&mut rng, n + i as u64)).collect();
        bytes += lines.iter().map(|l| l.len() as u64).sum::<u64>();
        // Parsing alone, each event dropped at once (for the breakdown).
        let started = Instant::now();
        for l in &lines {
            std::hint::black_box(
                Event::from_k8s_audit_json(l, Arc::clone(&context)).expect("event"),
            );
        }
        parse += started.elapsed();
        // The pipeline: parse each line and run the engine on it.
        let started = Instant::now();
        let out = engine.process(
            lines
                .iter()
                .map(|l| Event::from_k8s_audit_json(l, Arc::clone(&context)).expect("event")),
        );
        detect += started.elapsed();
        alerts_changed += out.alerts.len() as u64;
        matches += out.stats.matches;
        n += size as u64;
    }
    let open = engine.alerts().count();
    let state = serde_json::to_string(engine.state())
        .map(|s| s.len())
        .unwrap_or(0);
    let secs = detect.as_secs_f64();
    let rules_only = (detect.saturating_sub(parse)).as_secs_f64();
    println!("rules loaded           {rule_count}");
    println!(
        "events                 {total} ({:.0} MiB of JSON, avg {} B)",
        bytes as f64 / 1048576.0,
        bytes / total.max(1)
    );
    println!(
        "event time spanned     {:.1} h",
        (total as f64 * STEP_MS as f64) / 3_600_000.0
    );
    println!(
        "rule matches           {matches} ({:.1} % of events; first-seen rules match every request they watch)",
        matches as f64 * 100.0 / total.max(1) as f64
    );
    println!(
        "alert updates          {alerts_changed}; alerts held at the end {open}; state {} KiB as JSON",
        state / 1024
    );
    println!(
        "parse only             {:.2} s ({:.0} events/s)",
        parse.as_secs_f64(),
        total as f64 / parse.as_secs_f64()
    );
    println!(
        "parse + detect         {:.2} s ({:.0} events/s, one core)",
        secs,
        total as f64 / secs
    );
    println!(
        "  of which rules       ≈ {:.2} s ({:.0} events/s)",
        rules_only,
        total as f64 / rules_only.max(1e-9)
    );
    println!("peak RSS               {} MiB", peak_rss_kib() / 1024);
    println!(
        "target (>= 100,000 events/s parse + detect): {}",
        if total as f64 / secs >= 100_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
}
