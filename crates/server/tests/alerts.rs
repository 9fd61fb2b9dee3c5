//! Alerts through the API and the dashboard, in process, on the shared
//! sample alerts: filters and keyset pages, one alert with its history,
//! status changes (admins only), the pages (evidence ids, MITRE, hostile
//! strings escaped, the status form) and the overview's counts.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_server::auth::create_token;
use rampart_server::{AppState, ServerConfig, router};
use rampart_store::{Store, TokenRole};
use rampart_testkit::alerts::{privileged_container, sample_alerts};
use serde_json::{Value, json};
use tower::ServiceExt;

const HOSTILE: &str = "<script>window.__xss=1</script>";

struct Env {
    _dir: tempfile::TempDir,
    app: Router,
    admin: String,
    reader: String,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    let mut alerts = sample_alerts();
    // An attacker names the pod: it must come out escaped.
    let mut hostile = privileged_container();
    hostile.id = "alrt-hostile".into();
    hostile.entities[1].value = HOSTILE.into();
    hostile.evidence[0].summary = format!("create pods default/{HOSTILE}");
    hostile.last_seen -= time::Duration::days(30);
    hostile.first_seen -= time::Duration::days(30);
    for e in &mut hostile.evidence {
        e.event_id.push_str("-h");
    }
    alerts.push(hostile);
    store.upsert_alerts(&alerts).unwrap();
    let admin = create_token(&store, "alice", TokenRole::Admin)
        .unwrap()
        .secret;
    let reader = create_token(&store, "bob", TokenRole::Reader)
        .unwrap()
        .secret;
    Env {
        _dir: dir,
        app: router(state),
        admin,
        reader,
    }
}

async fn call(
    env: &Env,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<(&str, String)>,
) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let req = match body {
        Some((kind, b)) => req.header(header::CONTENT_TYPE, kind).body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = env.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get_json(env: &Env, uri: &str) -> Value {
    let (status, body) = call(env, Method::GET, uri, &env.reader, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_api_lists_filters_and_pages_alerts() {
    let env = env();
    let all = get_json(&env, "/api/v1/alerts").await;
    assert_eq!(
        ids(&all),
        [
            "alrt-7c1e9a4b2d3f5e60",
            "alrt-0e0e0e0e0e0e0e0e",
            "alrt-1a2b3c4d5e6f7081",
            "alrt-hostile"
        ]
    );
    // Items are contract alerts.
    let first: rampart_model::Alert = serde_json::from_value(all["items"][0].clone()).unwrap();
    assert_eq!(first, privileged_container());
    // One by one, following `next`.
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/alerts?limit=1".to_owned());
    while let Some(uri) = next {
        let page = get_json(&env, &uri).await;
        seen.extend(ids(&page));
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, ids(&all));
    let medium = get_json(&env, "/api/v1/alerts?severity=medium&source=eks-audit").await;
    assert_eq!(ids(&medium), ["alrt-7c1e9a4b2d3f5e60", "alrt-hostile"]);
    let by_type = get_json(&env, "/api/v1/alerts?type=AWS.RootConsoleLogin&plan=cspm").await;
    assert_eq!(ids(&by_type), ["alrt-1a2b3c4d5e6f7081"]);
    let by_resource = get_json(
        &env,
        "/api/v1/alerts?account=123456789012&resource=arn%3Aaws%3Aiam%3A%3A123456789012%3Aroot",
    )
    .await;
    assert_eq!(ids(&by_resource), ["alrt-1a2b3c4d5e6f7081"]);
    for bad in [
        "severity=urgent",
        "status=open",
        "plan=k8s",
        "source=syslog",
        "limit=0",
    ] {
        let (status, body) = call(
            &env,
            Method::GET,
            &format!("/api/v1/alerts?{bad}"),
            &env.reader,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, body) = call(
        &env,
        Method::GET,
        "/api/v1/alerts?status=open",
        &env.reader,
        None,
    )
    .await;
    assert!(body.contains("`active`, `resolved`, `dismissed`"), "{body}");
}

#[tokio::test]
async fn status_changes_need_an_admin_and_are_kept_in_the_history() {
    let env = env();
    let id = "alrt-7c1e9a4b2d3f5e60";
    let one = get_json(&env, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(one["alert"]["evidence"].as_array().unwrap().len(), 3);
    assert_eq!(one["history"], json!([]));
    let uri = format!("/api/v1/alerts/{id}/status");
    let body = || {
        Some((
            "application/json",
            json!({"status": "resolved", "comment": "pod deleted"}).to_string(),
        ))
    };
    let (status, _) = call(&env, Method::POST, &uri, &env.reader, body()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, reply) = call(&env, Method::POST, &uri, &env.admin, body()).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["change"]["from"], "active");
    assert_eq!(reply["change"]["to"], "resolved");
    let one = get_json(&env, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(one["alert"]["status"], "resolved");
    assert_eq!(one["history"][0]["actor"], "alice");
    assert_eq!(one["history"][0]["comment"], "pod deleted");
    let resolved = get_json(&env, "/api/v1/alerts?status=resolved").await;
    assert_eq!(ids(&resolved), [id]);
    let bad = Some(("application/json", json!({"status": "closed"}).to_string()));
    let (status, _) = call(&env, Method::POST, &uri, &env.admin, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let missing = Some((
        "application/json",
        json!({"status": "resolved"}).to_string(),
    ));
    let (status, _) = call(
        &env,
        Method::POST,
        "/api/v1/alerts/nope/status",
        &env.admin,
        missing,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&env, Method::GET, "/api/v1/alerts/nope", &env.reader, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_shows_alerts_and_admins_change_their_status() {
    let env = env();
    let (status, list) = call(&env, Method::GET, "/alerts", &env.reader, None).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "Privileged container created",
        "Root user signed in to the console",
        "href=\"/alerts/alrt-7c1e9a4b2d3f5e60\"",
    ] {
        assert!(list.contains(text), "list lacks {text}");
    }
    let (_, filtered) = call(
        &env,
        Method::GET,
        "/alerts?severity=high&status=active",
        &env.reader,
        None,
    )
    .await;
    assert!(filtered.contains("Privileged container created"));
    assert!(!filtered.contains("Root user signed in"));

    let (status, page) = call(
        &env,
        Method::GET,
        "/alerts/alrt-7c1e9a4b2d3f5e60",
        &env.reader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "4f6a1c2e-8b1d-4d6e-9a57-0c2f1e3b5a01",
        "c81e5f3b-7a2d-4e9c-8f14-2b6a0d4e7c23",
        "T1611",
        "PrivilegeEscalation",
        "system:serviceaccount:default:ci",
        "Pod Security Standard",
        "arn:aws:eks:us-east-1:123456789012:cluster/prod",
        "Changing the status needs an admin token.",
    ] {
        assert!(page.contains(text), "alert page lacks {text}");
    }
    assert!(!page.contains("status-form"));
    let (_, admin_page) = call(
        &env,
        Method::GET,
        "/alerts/alrt-7c1e9a4b2d3f5e60",
        &env.admin,
        None,
    )
    .await;
    assert!(admin_page.contains("id=\"status-form\""));

    let (_, hostile) = call(&env, Method::GET, "/alerts/alrt-hostile", &env.admin, None).await;
    assert!(!hostile.contains("<script"), "raw script on the alert page");
    assert!(hostile.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"));

    let form = || {
        Some((
            "application/x-www-form-urlencoded",
            "status=dismissed&comment=expected+CI".to_owned(),
        ))
    };
    let (status, _) = call(
        &env,
        Method::POST,
        "/alerts/alrt-0e0e0e0e0e0e0e0e/status",
        &env.reader,
        form(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &env,
        Method::POST,
        "/alerts/alrt-0e0e0e0e0e0e0e0e/status",
        &env.admin,
        form(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, after) = call(
        &env,
        Method::GET,
        "/alerts/alrt-0e0e0e0e0e0e0e0e?changed=1",
        &env.admin,
        None,
    )
    .await;
    assert!(after.contains("Status changed."));
    assert!(after.contains("expected CI"));
    assert!(after.contains("id=\"history\""));

    let (status, overview) = call(&env, Method::GET, "/", &env.reader, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains("id=\"alert-counts\""), "{overview}");
    // Active: two high (the sample and the hostile copy), one medium, none
    // low (the exec alert was dismissed above).
    let counts: Vec<&str> = overview
        .split("id=\"alert-counts\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap()
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split('<').next().unwrap())
        .collect();
    assert_eq!(counts, ["2", "1", "0", "0"]);
}
