//! Two servers on one PostgreSQL store, as replicas behind a load balancer
//! without sticky sessions: whatever one replica issued or recorded,
//! the other honours (the login form's CSRF value, failed sign-ins, the
//! first-run link, connector health results, sessions).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_connector::{Connector, Plan};
use rampart_health::requirement::{ISSUER_REACHABLE, ROLE_ASSUMABLE};
use rampart_health::{Check, ConnectorHealth, State};
use rampart_server::auth::{LOGIN_FAILURES, create_token};
use rampart_server::health::{HealthChecks, HealthFn};
use rampart_server::{AppState, ServerConfig, first_run, router};
use rampart_store::{Store, TokenRole};
use time::OffsetDateTime;
use tower::ServiceExt;

struct Replicas {
    db: PathBuf,
    a: Router,
    b: Router,
    a_state: AppState,
}

/// Two replicas on a fresh schema of the test cluster; `a` runs health
/// checks with `health` (`b` has no health function at all).
fn replicas(health: Option<HealthFn>) -> Replicas {
    let db = PathBuf::from(rampart_testkit::postgres::fresh_url());
    let mut a_state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    a_state.health = HealthChecks::new(health);
    let b_state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    Replicas {
        db,
        a: router(a_state.clone()),
        b: router(b_state),
        a_state,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    /// The value a `Set-Cookie` header gives cookie `name`.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// The login form's CSRF value, from `GET /login` on `app`.
async fn login_form(app: &Router) -> String {
    let page = send(app, get("/login")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.set_cookie("rampart_login_csrf").unwrap();
    assert!(
        page.body.contains(&csrf),
        "the form carries the cookie's value"
    );
    csrf
}

/// `POST /login` on `app` with the form's CSRF value `csrf`.
async fn sign_in(app: &Router, csrf: &str, token: &str) -> Reply {
    let body = format!(
        "token={}&csrf_token={}&next=%2Fconnectors",
        rampart_testkit::http::form_encode(token),
        rampart_testkit::http::form_encode(csrf)
    );
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("rampart_login_csrf={csrf}"))
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

fn admin_token(db: &Path) -> String {
    create_token(&Store::open(db).unwrap(), "alice", TokenRole::Admin)
        .unwrap()
        .secret
}

#[tokio::test]
async fn a_login_form_served_by_one_replica_signs_in_on_the_other() {
    let r = replicas(None);
    let token = admin_token(&r.db);

    // A value no replica issued is refused.
    let forged = sign_in(&r.b, "forged-value", &token).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);

    // The form from a, posted to b: signed in.
    let csrf = login_form(&r.a).await;
    let signed_in = sign_in(&r.b, &csrf, &token).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(
        signed_in.headers.get(header::LOCATION).unwrap(),
        "/connectors"
    );
    let session = signed_in.set_cookie("rampart_session").unwrap();
    // The session works on both.
    for app in [&r.a, &r.b] {
        let request = Request::get("/api/v1/connectors")
            .header(header::COOKIE, format!("rampart_session={session}"))
            .body(Body::empty())
            .unwrap();
        let reply = send(app, request).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // The form's value was used up, for a as well.
    let again = sign_in(&r.a, &csrf, &token).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.body);
}

#[tokio::test]
async fn failed_sign_ins_count_across_replicas() {
    let r = replicas(None);
    let token = admin_token(&r.db);
    let csrf = login_form(&r.a).await;
    // Failures alternate between the replicas (a balancer's round robin).
    for i in 0..LOGIN_FAILURES {
        let app = if i % 2 == 0 { &r.a } else { &r.b };
        let reply = sign_in(app, &csrf, "rampart_wrong").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // Locked out on both, even with the right token.
    for app in [&r.a, &r.b] {
        let reply = sign_in(app, &csrf, &token).await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            reply.body
        );
        let wait: u64 = reply
            .headers
            .get(header::RETRY_AFTER)
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=300).contains(&wait), "{wait}");
    }
}

#[tokio::test]
async fn the_first_run_link_one_replica_printed_works_once_on_the_other() {
    let r = replicas(None);
    let link = first_run::sign_in_link(&r.a_state, "http://rampart.test")
        .await
        .unwrap()
        .unwrap();
    let secret = link.split("token=").nth(1).unwrap().to_owned();
    let page = send(&r.b, get(&format!("/setup?token={secret}"))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let post = |t: String| {
        Request::post("/setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={t}")))
            .unwrap()
    };
    let created = send(&r.b, post(secret.clone())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("rampart_"), "{}", created.body);
    let again = send(&r.a, post(secret)).await;
    assert_eq!(
        again.status,
        StatusCode::FORBIDDEN,
        "single use, everywhere"
    );
    assert_eq!(Store::open(&r.db).unwrap().tokens().unwrap().len(), 1);
}

fn fake_health() -> HealthFn {
    Arc::new(|connector: Connector| {
        Box::pin(async move {
            Ok(ConnectorHealth {
                connector: connector.name.clone(),
                account: connector.account().to_owned(),
                checked_at: OffsetDateTime::now_utc(),
                checks: vec![
                    Check::new(None, ISSUER_REACHABLE, State::Met, "discovery answers"),
                    Check::new(
                        Some(Plan::Cspm),
                        ROLE_ASSUMABLE,
                        State::not_met("deploy the onboarding template"),
                        "AccessDenied",
                    ),
                ],
            })
        })
    })
}

#[tokio::test]
async fn a_health_result_checked_on_one_replica_shows_on_the_other() {
    let r = replicas(Some(fake_health()));
    let token = admin_token(&r.db);
    let prod = Connector::new("prod", "111111111111", &[Plan::Cspm], vec![], 12, None);
    Store::open(&r.db).unwrap().create_connector(&prod).unwrap();
    let bearer = |request: axum::http::request::Builder| {
        request
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let path = "/api/v1/connectors/prod/health";
    let before = send(&r.b, bearer(Request::get(path))).await;
    assert_eq!(before.status, StatusCode::NOT_FOUND, "{}", before.body);
    let checked = send(&r.a, bearer(Request::post(path))).await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    let seen = send(&r.b, bearer(Request::get(path))).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let (checked, seen): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&checked.body).unwrap(),
        serde_json::from_str(&seen.body).unwrap(),
    );
    assert_eq!(seen, checked);
    assert_eq!(seen["checks"][1]["state"], "not_met", "{seen}");
    // The connectors page of b shows it too.
    let page = send(&r.b, bearer(Request::get("/connectors"))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("deploy the onboarding template"),
        "{}",
        page.body
    );
}

/// The alert webhook notifiers of two replicas: each new alert is sent
/// once, by one of them.
#[tokio::test]
async fn two_replicas_notifiers_send_each_alert_once() {
    use axum::body::Bytes;
    use axum::extract::State as AxumState;
    use rampart_model::Severity;
    use rampart_server::pool::StorePool;
    use rampart_server::webhook::{self, WebhookConfig};
    use rampart_testkit::alerts::{exec_into_pod, privileged_container, root_console_login};
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    type Received = Arc<Mutex<Vec<String>>>;
    async fn receive(
        AxumState(r): AxumState<Received>,
        headers: HeaderMap,
        _: Bytes,
    ) -> StatusCode {
        let delivery = headers[webhook::DELIVERY_HEADER]
            .to_str()
            .unwrap()
            .to_owned();
        r.lock().unwrap().push(delivery);
        StatusCode::NO_CONTENT
    }
    let received: Received = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let db = PathBuf::from(rampart_testkit::postgres::fresh_url());
    let mut store = Store::open(&db).unwrap();
    let mut config =
        WebhookConfig::new(format!("http://{addr}/hook"), b"s".to_vec(), Severity::Low);
    config.poll = Duration::from_millis(20);
    let stop = CancellationToken::new();
    let notifiers: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(webhook::run(
                StorePool::open(&db).unwrap(),
                config.clone(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let alerts = [
        privileged_container(),
        exec_into_pod(),
        root_console_login(),
    ];
    store.upsert_alerts(&alerts).unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().len() < alerts.len() {
        assert!(tokio::time::Instant::now() < deadline, "not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Nothing is sent twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.cancel();
    for task in notifiers {
        task.await.unwrap();
    }
    let mut sent = received.lock().unwrap().clone();
    assert_eq!(sent.len(), alerts.len(), "{sent:?}");
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), alerts.len(), "{sent:?}");
}
