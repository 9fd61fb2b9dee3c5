//! The alert webhook against a receiver on 127.0.0.1: new alerts at or
//! above the chosen severity arrive once each, as a signed
//! `rampart.alerts/v1` document; a failed delivery is retried; alerts
//! stored before the notifier started, below the severity, or stored again
//! are not sent.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use rampart_model::{AlertsDocument, Severity};
use rampart_server::pool::StorePool;
use rampart_server::webhook::{self, WebhookConfig};
use rampart_store::Store;
use rampart_testkit::alerts::{exec_into_pod, privileged_container, root_console_login};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

const SECRET: &[u8] = b"whsec-test-0123456789";

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    failures_left: Arc<Mutex<u32>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.received.lock().unwrap().push((headers, body));
    let mut left = r.failures_left.lock().unwrap();
    if *left > 0 {
        *left -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::NO_CONTENT
}

#[tokio::test]
async fn new_alerts_arrive_signed_once_each_after_retries() {
    let receiver = Receiver::default();
    *receiver.failures_left.lock().unwrap() = 1;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let mut store = Store::open(&db).unwrap();
    // Stored before the notifier ever ran: not new to it.
    store.upsert_alerts(&[root_console_login()]).unwrap();
    let pool = StorePool::open(&db).unwrap();
    let mut config = WebhookConfig::new(
        format!("http://{addr}/hook"),
        SECRET.to_vec(),
        Severity::Medium,
    );
    config.poll = Duration::from_millis(50);
    config.backoff = Duration::from_millis(50);
    let stop = CancellationToken::new();
    let task = tokio::spawn(webhook::run(pool, config, stop.clone()));

    // Give the notifier its starting position, then raise new alerts: one
    // high, one low (below the minimum), and the old one again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    store
        .upsert_alerts(&[
            privileged_container(),
            exec_into_pod(),
            root_console_login(),
        ])
        .unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while receiver.received.lock().unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no delivery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing else comes.
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.cancel();
    task.await.unwrap();

    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "one failed attempt, one retry");
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for (headers, body) in &received {
        let timestamp: i64 = headers[webhook::TIMESTAMP_HEADER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((now - timestamp).abs() < 60, "stale timestamp {timestamp}");
        let signature = headers[webhook::SIGNATURE_HEADER].to_str().unwrap();
        assert!(webhook::verify(SECRET, timestamp, body, signature));
        assert!(!webhook::verify(b"wrong", timestamp, body, signature));
        assert!(!webhook::verify(SECRET, timestamp + 1, body, signature));
        let doc: AlertsDocument = serde_json::from_slice(body).unwrap();
        assert_eq!(doc.schema, "rampart.alerts/v1");
        assert_eq!(doc.alerts, vec![privileged_container()]);
    }
    assert_eq!(
        received[0].0[webhook::DELIVERY_HEADER],
        received[1].0[webhook::DELIVERY_HEADER],
        "a retry keeps its delivery id"
    );
    // The outcome is kept: delivered on the second attempt.
    let store = Store::open(&db).unwrap();
    let seq = store.notification_cursor().unwrap();
    let queued = store.alert_outbox(0, 10).unwrap();
    let sent = queued
        .iter()
        .find(|e| e.alert.id == privileged_container().id)
        .unwrap();
    let delivery = store.alert_delivery(sent.seq).unwrap().unwrap();
    assert_eq!(delivery.attempts, 2);
    assert!(delivery.delivered_at.is_some() && delivery.error.is_none());
    assert!(seq >= sent.seq, "the notifier moved past it");
}

/// The receiver example in docs/alerts.md accepts Rampart's signature and
/// rejects a changed body and an old timestamp.
#[test]
fn the_documented_receiver_check_accepts_our_signatures() {
    let doc =
        std::fs::read_to_string(rampart_testkit::workspace_root().join("docs/alerts.md")).unwrap();
    let example = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let body = br#"{"schema":"rampart.alerts/v1","alerts":[]}"#;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let check = |ts: i64, body: &[u8]| -> String {
        let signature =
            webhook::signature(SECRET, ts, br#"{"schema":"rampart.alerts/v1","alerts":[]}"#);
        let script = format!(
            "{example}\nimport sys\nbody = sys.stdin.buffer.read()\nprint(verify({secret:?}.encode(), {{'X-Rampart-Timestamp': '{ts}', 'X-Rampart-Signature': '{signature}'}}, body))\n",
            secret = std::str::from_utf8(SECRET).unwrap(),
        );
        let mut child = std::process::Command::new(rampart_testkit::python())
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), body).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    assert_eq!(check(now, body), "True");
    assert_eq!(check(now, b"{\"schema\":\"tampered\"}"), "False");
    assert_eq!(check(now - 3600, body), "False");
}
