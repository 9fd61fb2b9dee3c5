//! The API in process: authentication, roles, pagination and filters, the
//! error schema, exemptions changing the score, scans, the OpenAPI document.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_catalog::exemptions::Exemptions;
use rampart_model::{Asset, ScanRecord, ScanStatus, Snapshot};
use rampart_server::scans::{ScanContext, ScanFn, ScanRequest};
use rampart_server::{AppState, ServerConfig, auth, router};
use rampart_store::{Store, TokenRole};
use rampart_testkit::estate::{self, ACCOUNT_A, ACCOUNT_B, CONNECTOR_A};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;

struct Env {
    _dir: tempfile::TempDir,
    state: AppState,
    app: Router,
    admin: String,
    reader: String,
}

fn volume(n: usize, region: &str, encrypted: bool, tags: &[(&str, &str)]) -> Asset {
    let arn = format!("arn:aws:ec2:{region}:123456789012:volume/vol-{n:04}");
    Asset::new(
        &arn,
        "AWS::EC2::Volume",
        "123456789012",
        region,
        format!("vol-{n:04}"),
        json!({"state": "in-use", "encrypted": encrypted,
               "attachments": [{"instanceId": format!("i-{n:04}"), "state": "attached"}]}),
    )
    .with_tags(
        tags.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn snapshot(id: &str, minute: i64, assets: Vec<Asset>) -> Snapshot {
    let at = OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute);
    Snapshot {
        scan: ScanRecord {
            id: id.to_owned(),
            started_at: at,
            finished_at: Some(at + time::Duration::seconds(30)),
            status: ScanStatus::Running,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            api_calls: 10,
            asset_count: 0,
            gap_count: 0,
        },
        assets,
        gaps: vec![],
    }
}

/// Three unencrypted volumes in us-east-1, two encrypted in eu-west-1,
/// stored as the second of two scans.
fn seeded_assets() -> Vec<Asset> {
    vec![
        volume(1, "us-east-1", false, &[("env", "prod")]),
        volume(2, "us-east-1", false, &[("env", "dev")]),
        volume(3, "us-east-1", false, &[]),
        volume(4, "eu-west-1", true, &[("env", "prod")]),
        volume(5, "eu-west-1", true, &[]),
    ]
}

fn env_with(scan: Option<ScanFn>) -> Env {
    // An older scan where every volume was healthy, then the current one.
    let older: Vec<Asset> = (1..=3).map(|n| volume(n, "us-east-1", true, &[])).collect();
    scans_env(
        scan,
        vec![("scan-1", 0, older), ("scan-2", 10, seeded_assets())],
    )
}

/// A server over complete scans of `scans` (id, minute, assets; each
/// assessed), with an admin and a reader token.
fn scans_env(scan: Option<ScanFn>, scans: Vec<(&str, i64, Vec<Asset>)>) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), scan).unwrap();
    let mut store = Store::open(&db).unwrap();
    let none = Exemptions::default();
    for (id, minute, assets) in scans {
        let a = state.posture.assess(&assets, &none);
        store
            .complete_scan(&snapshot(id, minute, assets), &a)
            .unwrap();
        // As the engine does: each scan's score is cached when stored
        // (its assessments are the current state only until the next).
        state.posture.refresh(&store, id).unwrap();
    }
    with_tokens(dir, &store, state)
}

/// The [`Env`] of a server over `store`, with an admin and a reader token.
fn with_tokens(dir: tempfile::TempDir, store: &Store, state: AppState) -> Env {
    let admin = auth::create_token(store, "alice", TokenRole::Admin)
        .unwrap()
        .secret;
    let reader = auth::create_token(store, "bob", TokenRole::Reader)
        .unwrap()
        .secret;
    Env {
        _dir: dir,
        app: router(state.clone()),
        state,
        admin,
        reader,
    }
}

/// A server over the two-account estate of `rampart_testkit::estate`.
fn estate_env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    estate::seed_two_accounts(&mut store);
    with_tokens(dir, &store, state)
}

fn env() -> Env {
    env_with(None)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    send(app, req).await
}

async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
    }
}

async fn get(env: &Env, uri: &str) -> Value {
    let r = call(&env.app, Method::GET, uri, Some(&env.reader), None).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.json);
    r.json
}

fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(r.json["error"]["code"], code, "{}", r.json);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

/// Follows `next` links from `uri` and returns every item.
async fn all_pages(env: &Env, uri: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut next = Some(uri.to_owned());
    let mut pages = 0;
    while let Some(u) = next {
        let page = get(env, &u).await;
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_owned);
        assert_eq!(page["next"].is_null(), page["next_cursor"].is_null());
        pages += 1;
        assert!(pages < 2000, "runaway pagination from {uri}: {page}");
    }
    (items, pages)
}

#[tokio::test]
async fn health_is_public_and_everything_else_needs_a_token() {
    let env = env();
    let r = send(
        &env.app,
        Request::get("/healthz").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    for uri in ["/api/v1/score", "/api/v1/inventory", "/api/v1/openapi.json"] {
        let r = call(&env.app, Method::GET, uri, None, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(r.headers[header::WWW_AUTHENTICATE], "Bearer");
        let r = call(
            &env.app,
            Method::GET,
            uri,
            Some("rampart_not-a-token"),
            None,
        )
        .await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // Pages send people to the login page instead.
    let r = call(&env.app, Method::GET, "/", None, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    // A revoked token stops working.
    let store = Store::open(env.state.store.path()).unwrap();
    let id = store
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.name == "bob")
        .unwrap()
        .id;
    assert_eq!(
        call(&env.app, Method::GET, "/api/v1/me", Some(&env.reader), None)
            .await
            .status,
        StatusCode::OK
    );
    assert!(store.revoke_token(&id).unwrap());
    let r = call(&env.app, Method::GET, "/api/v1/me", Some(&env.reader), None).await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn readers_read_and_only_admins_change() {
    let env = env();
    let me = get(&env, "/api/v1/me").await;
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("bob"), Some("reader"))
    );
    let exemption = json!({"recommendation": "ec2-volume-encrypted", "region": "us-east-1", "reason": "test data"});
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/exemptions",
        Some(&env.reader),
        Some(exemption.clone()),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/scans",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/exemptions",
        Some(&env.admin),
        Some(exemption),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["exemption"]["created_by"], "alice");
    let id = r.json["exemption"]["id"].as_str().unwrap().to_owned();
    let r = call(
        &env.app,
        Method::DELETE,
        &format!("/api/v1/exemptions/{id}"),
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let env = env();
    for (uri, token) in [
        ("/healthz", None),
        ("/api/v1/score", Some(env.reader.as_str())),
        ("/api/v1/score", None),
        ("/login", None),
    ] {
        let r = call(&env.app, Method::GET, uri, token, None).await;
        let h = &r.headers;
        assert!(
            h[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("default-src 'self'"),
            "{uri}"
        );
        assert!(
            h[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{uri}"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{uri}");
    }
}

#[tokio::test]
async fn inventory_paginates_with_cursors_and_filters() {
    let env = env();
    let (items, pages) = all_pages(&env, "/api/v1/inventory?limit=2").await;
    assert_eq!(pages, 3);
    let arns: Vec<&str> = items.iter().map(|a| a["arn"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = arns.iter().copied().collect();
    assert_eq!((arns.len(), unique.len()), (5, 5), "{arns:?}");
    let count = |v: Value| v["items"].as_array().unwrap().len();
    assert_eq!(
        count(get(&env, "/api/v1/inventory?region=eu-west-1").await),
        2
    );
    assert_eq!(count(get(&env, "/api/v1/inventory?tag=env").await), 3);
    assert_eq!(
        count(get(&env, "/api/v1/inventory?tag=env%3Dprod").await),
        2
    );
    assert_eq!(
        count(
            get(
                &env,
                "/api/v1/inventory?type=AWS::EC2::Volume&region=us-east-1&tag=env=dev"
            )
            .await
        ),
        1
    );
    assert_eq!(
        count(get(&env, "/api/v1/inventory?account=999999999999").await),
        0
    );
    assert_eq!(
        count(get(&env, "/api/v1/inventory?type=AWS::S3::Bucket").await),
        0
    );
    // Assets are current state: the latest scan's id reads it, an older
    // scan's is history (its assets are not kept), never today's rows.
    assert_eq!(
        count(get(&env, "/api/v1/inventory?scan=scan-2").await),
        count(get(&env, "/api/v1/inventory").await)
    );
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/inventory?scan=scan-1",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::GONE, "scan_history");
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/inventory?scan=nope",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn every_list_paginates_and_filters() {
    let env = env();
    // Make one exemption so its list has something in it.
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/exemptions",
        Some(&env.admin),
        Some(json!({"resource": "arn:aws:ec2:us-east-1:*:volume/vol-0001", "reason": "r1"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/exemptions",
        Some(&env.admin),
        Some(json!({"account": "111111111111", "reason": "r2", "expires": "2001-01-01"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let lists = [
        "/api/v1/scans",
        "/api/v1/score/history",
        "/api/v1/recommendations",
        "/api/v1/recommendations/ec2-volume-encrypted/assessments",
        "/api/v1/assessments",
        "/api/v1/compliance",
        "/api/v1/compliance/aws-fsbp/controls",
        "/api/v1/inventory",
        "/api/v1/exemptions",
        "/api/v1/alerts",
    ];
    for list in lists {
        let one = get(&env, &format!("{list}?limit=1")).await;
        let items = one["items"].as_array().unwrap();
        assert!(items.len() <= 1, "{list}");
        let (all, _) = all_pages(&env, &format!("{list}?limit=1")).await;
        let (all_at_once, pages) = all_pages(&env, &format!("{list}?limit=500")).await;
        assert_eq!(pages, 1, "{list}");
        assert_eq!(
            all, all_at_once,
            "{list}: paging one by one loses or repeats items"
        );
        if list != "/api/v1/alerts" {
            assert!(!all.is_empty(), "{list} is empty");
        }
        let r = call(
            &env.app,
            Method::GET,
            &format!("{list}?limit=0"),
            Some(&env.reader),
            None,
        )
        .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
        let r = call(
            &env.app,
            Method::GET,
            &format!("{list}?cursor=garbage!"),
            Some(&env.reader),
            None,
        )
        .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    }
    let items = |v: Value| v["items"].as_array().unwrap().clone();
    // Filters.
    assert_eq!(
        items(get(&env, "/api/v1/scans?status=complete").await).len(),
        2
    );
    assert_eq!(
        items(get(&env, "/api/v1/scans?status=failed").await).len(),
        0
    );
    let unhealthy = items(
        get(
            &env,
            "/api/v1/assessments?status=unhealthy&recommendation=ec2-volume-encrypted",
        )
        .await,
    );
    // vol-0001 is exempt now.
    assert_eq!(unhealthy.len(), 2);
    assert!(
        unhealthy
            .iter()
            .all(|a| a["status"] == "unhealthy" && a["region"] == "us-east-1")
    );
    // The exemption names no recommendation: it covers every assessment of
    // vol-0001 (the encryption one, and AWS Backup's EC2.28 on volumes).
    let exempt = items(get(&env, "/api/v1/assessments?status=exempt").await);
    assert_eq!(exempt.len(), 2, "{exempt:?}");
    assert!(
        exempt
            .iter()
            .all(|a| a["resource"] == "arn:aws:ec2:us-east-1:123456789012:volume/vol-0001")
    );
    assert_eq!(
        items(
            get(
                &env,
                "/api/v1/assessments?region=eu-west-1&recommendation=ec2-volume-encrypted"
            )
            .await
        )
        .len(),
        2
    );
    let recs = items(get(&env, "/api/v1/recommendations?status=unhealthy").await);
    assert_eq!(
        recs.iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["ec2-volume-encrypted"]
    );
    assert_eq!(recs[0]["counts"]["unhealthy"], 2);
    assert_eq!(recs[0]["counts"]["healthy"], 2);
    assert_eq!(recs[0]["counts"]["exempt"], 1);
    let high = items(get(&env, "/api/v1/recommendations?severity=high").await);
    assert!(!high.is_empty() && high.iter().all(|r| r["severity"] == "high"));
    let failed = items(
        get(
            &env,
            "/api/v1/compliance/aws-fsbp/controls?state=failed&limit=500",
        )
        .await,
    );
    assert!(failed.iter().any(|c| c["id"] == "EC2.3"), "{failed:?}");
    assert!(failed.iter().all(|c| c["state"] == "failed"));
    let active = items(get(&env, "/api/v1/exemptions?active=true").await);
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["reason"], "r1");
    assert_eq!(
        items(get(&env, "/api/v1/exemptions?account=111111111111").await).len(),
        1
    );
    assert_eq!(
        items(get(&env, "/api/v1/score/history?from=1970-01-01T00:05:00Z").await).len(),
        1
    );
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/assessments?status=sick",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn assessments_of_one_resource_type_page_across_its_recommendations() {
    let env = env();
    // A newer scan with buckets (many recommendations each) besides volumes.
    let mut assets = seeded_assets();
    for n in 1..=4 {
        assets.push(Asset::new(
            format!("arn:aws:s3:::bucket-{n}"),
            "AWS::S3::Bucket",
            "123456789012",
            "us-east-1",
            format!("bucket-{n}"),
            serde_json::json!({"name": format!("bucket-{n}"), "versioning": {"status": "Enabled"}}),
        ));
    }
    let a = env.state.posture.assess(&assets, &Exemptions::default());
    Store::open(&env.state.config.db)
        .unwrap()
        .complete_scan(&snapshot("scan-3", 20, assets), &a)
        .unwrap();
    let (all, _) = all_pages(&env, "/api/v1/assessments?limit=500").await;
    for ty in ["AWS::S3::Bucket", "AWS::EC2::Volume", "AWS::Nothing::Here"] {
        let expected: Vec<&Value> = all.iter().filter(|a| a["resource_type"] == ty).collect();
        let (paged, pages) = all_pages(
            &env,
            &format!("/api/v1/assessments?resource_type={ty}&limit=3"),
        )
        .await;
        assert_eq!(paged.iter().collect::<Vec<_>>(), expected, "{ty}");
        assert_eq!(pages, expected.len().div_ceil(3).max(1), "{ty}");
        // Other filters still apply.
        let (unhealthy, _) = all_pages(
            &env,
            &format!("/api/v1/assessments?resource_type={ty}&status=unhealthy&limit=2"),
        )
        .await;
        let want: Vec<&&Value> = expected
            .iter()
            .filter(|a| a["status"] == "unhealthy")
            .collect();
        assert_eq!(
            unhealthy.iter().collect::<Vec<_>>(),
            want.into_iter().copied().collect::<Vec<_>>(),
            "{ty}"
        );
    }
    let buckets = all
        .iter()
        .filter(|a| a["resource_type"] == "AWS::S3::Bucket")
        .count();
    assert!(
        buckets > 8,
        "buckets should have several recommendations: {buckets}"
    );
}

#[tokio::test]
async fn an_exemption_changes_the_score_and_deleting_it_restores_it() {
    let env = env();
    let before = get(&env, "/api/v1/score").await;
    assert_eq!(before["scan_id"], "scan-2");
    let before_pct = before["percent"].as_f64().unwrap();
    assert!(before_pct < 100.0, "{before}");
    let r = call(&env.app, Method::POST, "/api/v1/exemptions", Some(&env.admin),
        Some(json!({"recommendation": "ec2-volume-encrypted", "region": "us-east-1", "reason": "test volumes"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["reevaluated_scan"], "scan-2");
    let id = r.json["exemption"]["id"].as_str().unwrap().to_owned();
    let after = get(&env, "/api/v1/score").await;
    assert!(
        after["percent"].as_f64().unwrap() > before_pct,
        "{before} -> {after}"
    );
    let exempt = get(
        &env,
        "/api/v1/recommendations/ec2-volume-encrypted/assessments?status=exempt",
    )
    .await;
    assert_eq!(exempt["items"].as_array().unwrap().len(), 3);
    assert_eq!(exempt["items"][0]["exemption"]["reason"], "test volumes");
    // The score history follows too.
    let history = get(&env, "/api/v1/score/history").await;
    let points = history["items"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[1]["scan_id"], "scan-2");
    assert_eq!(points[1]["percent"], after["percent"]);
    // Changing it to another region un-exempts them.
    let r = call(&env.app, Method::PUT, &format!("/api/v1/exemptions/{id}"), Some(&env.admin),
        Some(json!({"recommendation": "ec2-volume-encrypted", "region": "ap-south-1", "reason": "elsewhere"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        get(&env, "/api/v1/score").await["percent"]
            .as_f64()
            .unwrap(),
        before_pct
    );
    let r = call(
        &env.app,
        Method::PUT,
        &format!("/api/v1/exemptions/{id}"),
        Some(&env.admin),
        Some(json!({"resource": "arn:aws:ec2:us-east-1:*", "reason": "all in us-east-1"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        get(&env, "/api/v1/score").await["percent"]
            .as_f64()
            .unwrap()
            > before_pct
    );
    let r = call(
        &env.app,
        Method::DELETE,
        &format!("/api/v1/exemptions/{id}"),
        Some(&env.admin),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&env, "/api/v1/score").await["percent"]
            .as_f64()
            .unwrap(),
        before_pct
    );
    let r = call(
        &env.app,
        Method::GET,
        &format!("/api/v1/exemptions/{id}"),
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn invalid_exemptions_are_rejected_with_the_catalog_validation() {
    let env = env();
    for (body, needle) in [
        (json!({"reason": "everything"}), "matches everything"),
        (json!({"region": "us-east-1", "reason": " "}), "no `reason`"),
        (
            json!({"region": "us-east-1", "reason": "x", "expires": "soon"}),
            "`expires` value `soon`",
        ),
        (
            json!({"region": "us-east-1", "reason": "x", "colour": "red"}),
            "colour",
        ),
    ] {
        let r = call(
            &env.app,
            Method::POST,
            "/api/v1/exemptions",
            Some(&env.admin),
            Some(body),
        )
        .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{}",
            r.json
        );
    }
}

#[tokio::test]
async fn errors_share_one_schema() {
    let env = env();
    let t = Some(env.reader.as_str());
    assert_error(
        &call(&env.app, Method::GET, "/api/v1/nope", t, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &call(&env.app, Method::GET, "/nope/at/all", t, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &call(
            &env.app,
            Method::GET,
            "/api/v1/recommendations/nope",
            t,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &call(&env.app, Method::GET, "/api/v1/compliance/nope", t, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &call(&env.app, Method::GET, "/api/v1/scans/nope", t, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &call(&env.app, Method::GET, "/api/v1/score?scan=nope", t, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &call(
            &env.app,
            Method::GET,
            "/api/v1/score/history?from=yesterday",
            t,
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &call(
            &env.app,
            Method::GET,
            "/api/v1/inventory?limit=many",
            t,
            None,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    assert_error(
        &call(
            &env.app,
            Method::PATCH,
            "/api/v1/score",
            Some(env.admin.as_str()),
            None,
        )
        .await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let admin = Some(env.admin.as_str());
    let bad_json = Request::post("/api/v1/exemptions")
        .header(header::AUTHORIZATION, format!("Bearer {}", env.admin))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_error(
        &send(&env.app, bad_json).await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    // A mistyped filter is a 400 naming the closest value, not an empty page.
    let typo = call(
        &env.app,
        Method::GET,
        "/api/v1/recommendations?standard=cis-aws-3",
        admin,
        None,
    )
    .await;
    assert_error(&typo, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        typo.json["error"]["message"].as_str().is_some_and(
            |m| m.starts_with("unknown standard `cis-aws-3`; did you mean `cis-aws-3.0`")
        ),
        "{}",
        typo.json
    );
    let typo = call(
        &env.app,
        Method::GET,
        "/api/v1/recommendations?status=unhealty",
        admin,
        None,
    )
    .await;
    assert_eq!(
        typo.json["error"]["message"],
        "unknown status `unhealty`; did you mean `unhealthy`?"
    );
    // A mistyped recommendation is refused with the closest id, not stored
    // as an exemption that matches nothing.
    let typo = call(
        &env.app,
        Method::POST,
        "/api/v1/exemptions",
        admin,
        Some(json!({"recommendation": "ec2-volume-encryptd", "reason": "typo"})),
    )
    .await;
    assert_error(&typo, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(
        typo.json["error"]["message"],
        "exemption names an unknown recommendation `ec2-volume-encryptd`; did you mean `ec2-volume-encrypted`?"
    );
    assert_error(
        &call(
            &env.app,
            Method::POST,
            "/api/v1/scans",
            admin,
            Some(json!({"regions": 3})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );
    // No scanner in this server.
    assert_error(
        &call(&env.app, Method::POST, "/api/v1/scans", admin, None).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "scans_disabled",
    );
    assert_error(
        &call(
            &env.app,
            Method::POST,
            "/api/v1/scans/nope/cancel",
            admin,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn posture_reads_match_the_catalog() {
    let env = env();
    let score = get(&env, "/api/v1/score").await;
    let control = score["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Enable encryption at rest")
        .cloned()
        .unwrap();
    assert_eq!(
        (control["healthy"].as_u64(), control["unhealthy"].as_u64()),
        (Some(2), Some(3))
    );
    let acct = get(&env, "/api/v1/score?account=999999999999").await;
    assert_eq!(acct["percent"], 0.0);
    let standards = get(&env, "/api/v1/compliance").await;
    assert!(
        standards["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == "aws-fsbp")
    );
    let std = get(&env, "/api/v1/compliance/aws-fsbp").await;
    assert!(std["controls"]["failed"].as_u64().unwrap() >= 1, "{std}");
    let ec2_3 = get(&env, "/api/v1/compliance/aws-fsbp/controls/EC2.3").await;
    assert_eq!(
        (ec2_3["state"].as_str(), ec2_3["unhealthy"].as_u64()),
        (Some("failed"), Some(3))
    );
    let rec = get(&env, "/api/v1/recommendations/ec2-volume-encrypted").await;
    assert_eq!(rec["severity"], "medium");
    assert!(rec["remediation"]["cli"].as_str().is_some());
    assert_eq!(rec["counts"]["unhealthy"], 3);
}

/// Healthy and unhealthy resources per security control of a score.
fn control_counts(score: &Value) -> BTreeMap<String, (u64, u64)> {
    score["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (
                c["name"].as_str().unwrap().to_owned(),
                (n("healthy"), n("unhealthy")),
            )
        })
        .collect()
}

/// `a + b` per control.
fn added(
    a: &BTreeMap<String, (u64, u64)>,
    b: &BTreeMap<String, (u64, u64)>,
) -> BTreeMap<String, (u64, u64)> {
    a.iter()
        .map(|(name, (h, u))| {
            let (bh, bu) = b[name];
            (name.clone(), (h + bh, u + bu))
        })
        .collect()
}

/// Two accounts in one snapshot: the score, the recommendation counts and
/// compliance narrow to an account, a connector's accounts and a region
/// (combined too), and each part adds up to the whole.
#[tokio::test]
async fn score_and_compliance_filter_by_account_connector_and_region() {
    let env = estate_env();
    let score = |q: String| {
        let env = &env;
        async move { get(env, &format!("/api/v1/score?{q}")).await }
    };
    let all = score(String::new()).await;
    let a = score(format!("account={ACCOUNT_A}")).await;
    let b = score(format!("account={ACCOUNT_B}")).await;
    let pct = |v: &Value| v["percent"].as_f64().unwrap();
    // A is mostly healthy, B is not: different scores, the estate between.
    assert!(
        pct(&b) < pct(&all) && pct(&all) < pct(&a),
        "{a}\n{all}\n{b}"
    );
    assert_eq!(a["account"], ACCOUNT_A);
    // The parts add up to the whole, control by control.
    let (ca, cb, call) = (control_counts(&a), control_counts(&b), control_counts(&all));
    assert_eq!(added(&ca, &cb), call);
    let encryption = "Enable encryption at rest";
    assert_eq!(ca[encryption], (2, 1));
    assert_eq!(cb[encryption], (0, 2));
    // A connector stands for its accounts.
    let by_connector = score(format!("connector={CONNECTOR_A}")).await;
    assert_eq!(control_counts(&by_connector), ca);
    assert_eq!(by_connector["connector"], CONNECTOR_A);
    // Regions split the estate too, and combine with the connector.
    let east = control_counts(&score("region=us-east-1".into()).await);
    let west = control_counts(&score("region=eu-west-1".into()).await);
    assert_eq!(added(&east, &west), call);
    assert_eq!(east[encryption], (2, 2));
    let a_east = score(format!("connector={CONNECTOR_A}&region=us-east-1")).await;
    assert_eq!(control_counts(&a_east)[encryption], (2, 0));
    assert_eq!(a_east["region"], "us-east-1");
    assert!(pct(&a_east) > pct(&a), "{a_east}");
    // An account the connector does not have: nothing assessed.
    let outside = score(format!("connector={CONNECTOR_A}&account={ACCOUNT_B}")).await;
    assert!(
        control_counts(&outside)
            .values()
            .all(|counts| *counts == (0, 0)),
        "{outside}"
    );

    // Compliance: EC2.3 (EBS encryption) fails for the estate and for B,
    // passes for A in us-east-1.
    let ec2_3 = |q: String| {
        let env = &env;
        async move {
            get(
                env,
                &format!("/api/v1/compliance/aws-fsbp/controls/EC2.3?{q}"),
            )
            .await
        }
    };
    let state_of = |v: &Value| {
        (
            v["state"].clone(),
            v["unhealthy"].clone(),
            v["healthy"].clone(),
        )
    };
    assert_eq!(
        state_of(&ec2_3(String::new()).await),
        (json!("failed"), json!(3), json!(2))
    );
    assert_eq!(
        state_of(&ec2_3(format!("account={ACCOUNT_B}")).await),
        (json!("failed"), json!(2), json!(0))
    );
    assert_eq!(
        state_of(&ec2_3(format!("connector={CONNECTOR_A}&region=us-east-1")).await),
        (json!("passed"), json!(0), json!(2))
    );
    let failed = |v: &Value| v["controls"]["failed"].as_u64().unwrap_or(0);
    let fsbp_all = get(&env, "/api/v1/compliance/aws-fsbp").await;
    let fsbp_a_east = get(
        &env,
        &format!("/api/v1/compliance/aws-fsbp?account={ACCOUNT_A}&region=us-east-1"),
    )
    .await;
    assert!(failed(&fsbp_a_east) < failed(&fsbp_all), "{fsbp_a_east}");
    let listed = get(
        &env,
        &format!("/api/v1/compliance/aws-fsbp/controls?state=passed&connector={CONNECTOR_A}&region=us-east-1"),
    )
    .await;
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "EC2.3"),
        "{listed}"
    );
    let summaries = get(&env, &format!("/api/v1/compliance?account={ACCOUNT_B}")).await;
    let fsbp_b = summaries["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "aws-fsbp")
        .cloned()
        .unwrap();
    assert!(failed(&fsbp_b) >= 1, "{fsbp_b}");

    // Recommendation counts follow the same filters.
    let unhealthy = |v: &Value| v["counts"]["unhealthy"].as_u64().unwrap();
    let rec = "/api/v1/recommendations/ec2-volume-encrypted";
    assert_eq!(unhealthy(&get(&env, rec).await), 3);
    assert_eq!(
        unhealthy(&get(&env, &format!("{rec}?account={ACCOUNT_B}")).await),
        2
    );
    assert_eq!(
        unhealthy(&get(&env, &format!("{rec}?connector={CONNECTOR_A}")).await),
        1
    );
    let (unhealthy_a, _) = all_pages(
        &env,
        &format!(
            "/api/v1/recommendations?status=unhealthy&connector={CONNECTOR_A}&region=us-east-1"
        ),
    )
    .await;
    assert!(
        unhealthy_a
            .iter()
            .all(|r| r["id"] != "ec2-volume-encrypted"),
        "{unhealthy_a:?}"
    );
}

/// An unknown connector is a 404 with the usual error body on every
/// filtered posture read.
#[tokio::test]
async fn posture_reads_of_an_unknown_connector_are_404() {
    let env = estate_env();
    for path in [
        "/api/v1/score?connector=nope",
        "/api/v1/compliance?connector=nope",
        "/api/v1/compliance/aws-fsbp?connector=nope",
        "/api/v1/compliance/aws-fsbp/controls?connector=nope",
        "/api/v1/compliance/aws-fsbp/controls/EC2.3?connector=nope",
        "/api/v1/recommendations?connector=nope",
        "/api/v1/recommendations/ec2-volume-encrypted?connector=nope",
    ] {
        let r = call(&env.app, Method::GET, path, Some(&env.reader), None).await;
        assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            r.json["error"]["message"], "no connector `nope`",
            "{path}: {}",
            r.json
        );
    }
    // The connector's name and its id both work.
    let id = env
        .state
        .store
        .run(|s| Ok(s.connector(CONNECTOR_A)?.unwrap().id.to_string()))
        .await
        .unwrap();
    let by_id = get(&env, &format!("/api/v1/score?connector={id}")).await;
    let by_name = get(&env, &format!("/api/v1/score?connector={CONNECTOR_A}")).await;
    assert_eq!(by_id["percent"], by_name["percent"]);
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_routes() {
    let env = env();
    let doc = get(&env, "/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = rampart_server::api::table()
        .documented
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, routed);
    assert!(routed.len() >= 20, "{routed:?}");
    // Every documented operation answers something other than "no such route".
    for (method, path) in &routed {
        let uri = format!(
            "/api/v1{}",
            path.replace("{standard}", "aws-fsbp")
                .replace('{', "x")
                .replace('}', "")
        );
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = call(&env.app, method.clone(), &uri, Some(&env.admin), None).await;
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(
            r.status != StatusCode::NOT_FOUND || r.json["error"]["message"] != "no such route",
            "{method} {uri}"
        );
        // Every operation documents its errors with the shared schema.
        let op = &doc["paths"][path][method.as_str().to_lowercase()];
        assert_eq!(
            op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
    }
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(cookies: &[String], name: &str) -> String {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn login_sets_a_strict_session_cookie_and_forms_need_the_csrf_token() {
    let env = env();
    let page = call(&env.app, Method::GET, "/login?next=/api/v1/me", None, None).await;
    assert_eq!(page.status, StatusCode::OK);
    let login_csrf = cookie_value(&set_cookies(&page.headers), "rampart_login_csrf");
    let form = |csrf: &str, token: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("csrf_token", csrf)
            .append_pair("next", "/api/v1/me")
            .finish()
    };
    let post = |cookie: String, body: String| {
        Request::post("/login")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    // Without the login page's CSRF cookie: refused.
    let r = send(&env.app, post(String::new(), form(&login_csrf, &env.admin))).await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    // A wrong token: the page again, 401.
    let r = send(
        &env.app,
        post(
            format!("rampart_login_csrf={login_csrf}"),
            form(&login_csrf, "rampart_wrong"),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = send(
        &env.app,
        post(
            format!("rampart_login_csrf={login_csrf}"),
            form(&login_csrf, &env.admin),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/api/v1/me");
    let cookies = set_cookies(&r.headers);
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("rampart_session="))
        .unwrap();
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Strict"),
        "{session_cookie}"
    );
    let session = cookie_value(&cookies, "rampart_session");
    let with_session = |method: Method, uri: &str, csrf: Option<&str>, body: Option<Value>| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::COOKIE, format!("rampart_session={session}"));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string()))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        }
    };
    let me = send(
        &env.app,
        with_session(Method::GET, "/api/v1/me", None, None),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["role"], "admin");
    let csrf = me.json["csrf_token"].as_str().unwrap().to_owned();
    let body = json!({"region": "us-east-1", "reason": "via session"});
    let r = send(
        &env.app,
        with_session(Method::POST, "/api/v1/exemptions", None, Some(body.clone())),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = send(
        &env.app,
        with_session(
            Method::POST,
            "/api/v1/exemptions",
            Some("wrong"),
            Some(body.clone()),
        ),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");
    let r = send(
        &env.app,
        with_session(Method::POST, "/api/v1/exemptions", Some(&csrf), Some(body)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    // A restarted server (a new state over the same store) still knows the
    // session, with the same CSRF token.
    let restarted =
        router(AppState::new(ServerConfig::new(env.state.config.db.clone()), None).unwrap());
    let again = send(
        &restarted,
        with_session(Method::GET, "/api/v1/me", None, None),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["csrf_token"], csrf.as_str());
    // A form post carries the token as a field.
    let logout = Request::post("/logout")
        .header(header::COOKIE, format!("rampart_session={session}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf_token={csrf}")))
        .unwrap();
    assert_eq!(send(&env.app, logout).await.status, StatusCode::SEE_OTHER);
    let r = send(
        &env.app,
        with_session(Method::GET, "/api/v1/me", None, None),
    )
    .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized"); // Logged out everywhere: the session is gone from the store.
    let r = send(
        &restarted,
        with_session(Method::GET, "/api/v1/me", None, None),
    )
    .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
}

/// A scan function that reports progress and then waits to be cancelled
/// or released.
fn controlled_scan(release: Arc<tokio::sync::Notify>, db: std::path::PathBuf) -> ScanFn {
    Arc::new(move |request: ScanRequest, ctx: ScanContext| {
        let release = release.clone();
        let db = db.clone();
        Box::pin(async move {
            ctx.progress.set_planned(10);
            for _ in 0..3 {
                ctx.progress.task_done();
            }
            // Like a real scan, it stops when its token is cancelled.
            tokio::select! {
                () = release.notified() => {}
                () = ctx.cancel.cancelled() => return Err("cancelled".to_owned()),
            }
            let mut store = Store::open(&db).map_err(|e| e.to_string())?;
            let snap = snapshot(&request.id, 100, vec![volume(9, "us-east-1", true, &[])]);
            store.complete_scan(&snap, &[]).map_err(|e| e.to_string())
        })
    })
}

async fn wait_for_status(env: &Env, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let s = get(env, &format!("/api/v1/scans/{id}")).await;
        if s["status"] == status {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("scan {id} never became {status}");
}

#[tokio::test]
async fn scans_are_triggered_report_progress_and_can_be_cancelled() {
    let release = Arc::new(tokio::sync::Notify::new());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("late.db");
    // Build the env first (it picks its own db), then point the scan at it.
    let holder: Arc<std::sync::Mutex<Option<std::path::PathBuf>>> = Arc::default();
    let h = holder.clone();
    let rel = release.clone();
    let scan: ScanFn = Arc::new(move |req, ctx| {
        let db = h.lock().unwrap().clone().unwrap_or_else(|| db.clone());
        controlled_scan(rel.clone(), db)(req, ctx)
    });
    let env = env_with(Some(scan));
    *holder.lock().unwrap() = Some(env.state.store.path().to_owned());
    let admin = Some(env.admin.as_str());

    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/scans",
        admin,
        Some(json!({"regions": ["us-east-1"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["job"]["request"]["regions"], json!(["us-east-1"]));
    let mut status = get(&env, &format!("/api/v1/scans/{id}")).await;
    for _ in 0..100 {
        if status["job"]["done"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        status = get(&env, &format!("/api/v1/scans/{id}")).await;
    }
    assert_eq!(status["status"], "running");
    assert_eq!(
        (
            status["job"]["done"].as_u64(),
            status["job"]["planned"].as_u64()
        ),
        (Some(3), Some(10))
    );
    assert_eq!(status["job"]["percent"], 30.0);
    // One at a time.
    let r = call(&env.app, Method::POST, "/api/v1/scans", admin, None).await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    let r = call(
        &env.app,
        Method::POST,
        &format!("/api/v1/scans/{id}/cancel"),
        admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    wait_for_status(&env, &id, "cancelled").await;
    let r = call(
        &env.app,
        Method::POST,
        &format!("/api/v1/scans/{id}/cancel"),
        admin,
        None,
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    // The cancelled scan did not replace the latest complete one.
    assert_eq!(get(&env, "/api/v1/score").await["scan_id"], "scan-2");

    // A scan that finishes is stored, becomes current and enters the history.
    let r = call(&env.app, Method::POST, "/api/v1/scans", admin, None).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.notify_one();
    let done = wait_for_status(&env, &id, "complete").await;
    assert_eq!(done["record"]["asset_count"], 1);
    for _ in 0..100 {
        if get(&env, &format!("/api/v1/scans/{id}")).await["job"]["state"] == "complete" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(get(&env, "/api/v1/score").await["scan_id"], id.as_str());
    let history = get(&env, "/api/v1/score/history").await;
    assert_eq!(history["items"].as_array().unwrap().len(), 3);
    let complete = get(&env, "/api/v1/scans?status=complete").await;
    assert_eq!(complete["items"][0]["id"], id.as_str());
}

#[tokio::test]
async fn connectors_are_created_validated_listed_replaced_and_deleted() {
    use rampart_connector::{Connector, Plan};
    let env = env();
    let admin = Some(env.admin.as_str());
    let resource = |name: &str, account: &str| {
        let c = Connector::new(
            name,
            account,
            &[Plan::Cspm],
            vec!["us-east-1".into()],
            4,
            None,
        );
        let mut v = serde_json::to_value(&c).unwrap();
        for server_owned in ["id", "createdAt", "updatedAt"] {
            v.as_object_mut().unwrap().remove(server_owned);
        }
        v
    };
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/connectors",
        admin,
        Some(resource("prod", "123456789012")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["hierarchyIdentifier"], "123456789012");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/connectors",
        admin,
        Some(resource("dev", "210987654321")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    // Same validation as the CLI, and names are unique.
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/connectors",
        admin,
        Some(resource("prod", "123456789012")),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "conflict");
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/connectors",
        admin,
        Some(resource("bad", "12345")),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("12345"),
        "{}",
        r.json
    );
    let mut bad_region = resource("x", "123456789012");
    bad_region["environmentData"]["regions"] = json!(["mars-north-1"]);
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/connectors",
        admin,
        Some(bad_region),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let r = call(
        &env.app,
        Method::POST,
        "/api/v1/connectors",
        Some(&env.reader),
        Some(resource("r", "123456789012")),
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, "forbidden");

    let (all, _) = all_pages(&env, "/api/v1/connectors?limit=1").await;
    assert_eq!(
        all.iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["dev", "prod"]
    );
    let only = get(
        &env,
        "/api/v1/connectors?account=123456789012&plan=cspm&kind=account",
    )
    .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        get(&env, "/api/v1/connectors?plan=servers").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get(&env, &format!("/api/v1/connectors/{id}")).await["name"],
        "prod"
    );

    let mut changed = resource("prod", "123456789012");
    changed["environmentData"]["scanInterval"] = json!(12);
    let r = call(
        &env.app,
        Method::PUT,
        "/api/v1/connectors/prod",
        admin,
        Some(changed),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(
        (
            r.json["id"].as_str(),
            r.json["environmentData"]["scanInterval"].as_u64()
        ),
        (Some(id.as_str()), Some(12))
    );
    let r = call(
        &env.app,
        Method::PUT,
        "/api/v1/connectors/prod",
        admin,
        Some(resource("prod", "999999999999")),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    let r = call(
        &env.app,
        Method::DELETE,
        "/api/v1/connectors/prod",
        admin,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/connectors/prod",
        admin,
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

/// A store whose latest scan has three EC2 instances: `i-0a` covered (SSM
/// managed, online, inventory), `i-0b` without an instance profile and
/// unmanaged, `i-0c` in another account's region that SSM could not read.
/// A dashboard page as the reader: status and HTML.
async fn page_as_reader(env: &Env, uri: &str) -> (StatusCode, String) {
    let res = env
        .app
        .clone()
        .oneshot(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {}", env.reader))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn servers_env() -> Env {
    const ACCOUNT: &str = "123456789012";
    let ec2 = |id: &str, region: &str, profile: Option<&str>| {
        Asset::new(
            format!("arn:aws:ec2:{region}:{ACCOUNT}:instance/{id}"),
            "AWS::EC2::Instance",
            ACCOUNT,
            region,
            id,
            json!({"instanceId": id, "state": "running",
                   "iamInstanceProfile": profile.map(|arn| json!({"arn": arn, "id": "AIPA0"}))}),
        )
    };
    let profile = format!("arn:aws:iam::{ACCOUNT}:instance-profile/ssm");
    let assets = vec![
        ec2("i-0a", "us-east-1", Some(&profile)),
        ec2("i-0b", "us-east-1", None),
        ec2("i-0c", "eu-west-1", None),
        Asset::new(
            format!("arn:aws:iam::{ACCOUNT}:role/ssm"),
            "AWS::IAM::Role",
            ACCOUNT,
            "us-east-1",
            "ssm",
            json!({"roleName": "ssm",
                   "attachedManagedPolicies": [{"policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "policyName": "AmazonSSMManagedInstanceCore"}],
                   "rolePolicyList": [], "instanceProfileList": [{"arn": profile, "instanceProfileName": "ssm"}]}),
        ),
        Asset::new(
            format!("arn:rampart:ssm:us-east-1:{ACCOUNT}:managed-instance/i-0a"),
            "Rampart::SSM::ManagedInstance",
            ACCOUNT,
            "us-east-1",
            "i-0a",
            json!({"instanceId": "i-0a", "resourceArn": format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0a"),
                   "pingStatus": "Online", "agentVersion": "3.3.0.0", "isLatestVersion": true,
                   "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
                   "compliance": {"patch": {"status": "COMPLIANT"}, "association": {"status": "COMPLIANT"}},
                   "patchState": {"missingCount": 0},
                   "inventory": {"present": true, "applicationCount": 1}}),
        ),
        Asset::new(
            format!("arn:rampart:ssm:us-east-1:{ACCOUNT}:inventory/i-0a"),
            "Rampart::SSM::InstanceInventory",
            ACCOUNT,
            "us-east-1",
            "i-0a",
            json!({"instanceId": "i-0a", "os": {"name": "Amazon Linux", "version": "2023"},
                   "applications": [{"name": "openssl-libs", "version": "3.0.8", "architecture": "x86_64", "publisher": "Amazon Linux"}]}),
        ),
        Asset::new(
            format!("arn:rampart:ssm:us-east-1:{ACCOUNT}:region-status"),
            "Rampart::SSM::RegionStatus",
            ACCOUNT,
            "us-east-1",
            "us-east-1",
            json!({"instanceInformationRead": true, "managedInstanceCount": 1}),
        ),
        Asset::new(
            format!("arn:rampart:ssm:eu-west-1:{ACCOUNT}:region-status"),
            "Rampart::SSM::RegionStatus",
            ACCOUNT,
            "eu-west-1",
            "eu-west-1",
            json!({"instanceInformationRead": false, "managedInstanceCount": 0}),
        ),
    ];
    scans_env(None, vec![("scan-servers", 0, assets)])
}

#[tokio::test]
async fn servers_list_their_coverage_with_filters_and_one_instance_has_a_page() {
    let env = servers_env();
    let all = get(&env, "/api/v1/servers").await;
    let ids: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["instanceId"].as_str().unwrap())
        .collect();
    // Ordered by account, region, id.
    assert_eq!(ids, ["i-0c", "i-0a", "i-0b"]);
    let covered = get(&env, "/api/v1/servers?covered=true").await;
    assert_eq!(covered["items"].as_array().unwrap().len(), 1);
    assert_eq!(covered["items"][0]["instanceId"], "i-0a");
    assert_eq!(covered["items"][0]["managed"], "yes");
    let unmanaged = get(&env, "/api/v1/servers?covered=false&region=us-east-1").await;
    let b = &unmanaged["items"][0];
    assert_eq!(b["instanceId"], "i-0b");
    assert_eq!(b["managed"], "no");
    let codes: Vec<&str> = b["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"no-instance-profile"), "{codes:?}");
    // A region SSM could not read is "unknown", never "not managed".
    let c = get(&env, "/api/v1/servers?region=eu-west-1").await;
    assert_eq!(c["items"][0]["managed"], "unknown");
    let by_reason = get(&env, "/api/v1/servers?reason=no-instance-profile").await;
    assert!(
        by_reason["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["instanceId"] != "i-0a")
    );
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/servers?covered=maybe",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");

    let one = get(&env, "/api/v1/servers/i-0a").await;
    assert_eq!(one["coverage"]["covered"], true);
    assert_eq!(
        one["inventory"]["properties"]["applications"][0]["name"],
        "openssl-libs"
    );
    assert_eq!(one["scan"]["id"], "scan-servers");
    assert!(one["assessments"].as_array().is_some());
    let by_arn = get(
        &env,
        "/api/v1/servers/arn%3Aaws%3Aec2%3Aus-east-1%3A123456789012%3Ainstance%2Fi-0b",
    )
    .await;
    assert_eq!(by_arn["coverage"]["instanceId"], "i-0b");
    assert!(by_arn["inventory"].is_null());
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/servers/i-missing",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    // The dashboard's pages show the same.
    let html = |uri: &'static str| page_as_reader(&env, uri);
    let (status, page) = html("/servers").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"servers\""), "{page}");
    assert!(page.contains("no-instance-profile"), "{page}");
    assert!(page.contains("href=\"/servers/i-0a\""), "{page}");
    let (_, filtered) = html("/servers?covered=true").await;
    assert!(filtered.contains("/servers/i-0a") && !filtered.contains("/servers/i-0b"));
    let (status, page) = html("/servers/i-0a").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("openssl-libs") && page.contains("3.3.0.0"),
        "{page}"
    );
    let (status, _) = html("/servers/i-missing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The subject and related assets of a catalog fixture.
fn fixture_assets(text: &str) -> Vec<Asset> {
    let doc: Value = serde_json::from_str(text).unwrap();
    let mut assets: Vec<Asset> = vec![serde_json::from_value(doc["subject"].clone()).unwrap()];
    for related in doc["related"].as_array().unwrap() {
        assets.push(serde_json::from_value(related.clone()).unwrap());
    }
    assets
}

#[tokio::test]
async fn sql_servers_list_with_prerequisites_and_assessment_and_have_a_page() {
    let mut assets = fixture_assets(include_str!(
        "../../catalog/data/fixtures/sql-server-protection-prerequisites-met/healthy.json"
    ));
    assets.extend(
        fixture_assets(include_str!(
            "../../catalog/data/fixtures/sql-server-va-findings-resolved/unhealthy.json"
        ))
        .into_iter()
        .filter(|a| a.resource_type == "Rampart::SQL::VulnerabilityAssessment"),
    );
    assets.extend(
        fixture_assets(include_str!(
            "../../catalog/data/fixtures/sql-server-protection-prerequisites-met/unhealthy-rds-error-log-not-exported.json"
        )),
    );
    let env = scans_env(None, vec![("scan-sql", 0, assets)]);
    let all = get(&env, "/api/v1/sql/servers").await;
    let items = all["items"].as_array().unwrap();
    let hosts: Vec<&str> = items
        .iter()
        .map(|s| s["host_id"].as_str().unwrap())
        .collect();
    // By account, region and ARN (`server/db/…` before `server/ec2-instance/…`).
    assert_eq!(hosts, ["sqlcustom1", "i-0abc"]);
    assert_eq!(items[1]["prerequisites_met"], true);
    assert_eq!(items[1]["assessment"]["findings"], 1);
    assert_eq!(items[0]["prerequisites_met"], false);
    assert!(items[0]["assessment"].is_null());
    let not_met = get(&env, "/api/v1/sql/servers?prerequisites=not_met").await;
    assert_eq!(not_met["items"].as_array().unwrap().len(), 1);
    assert_eq!(not_met["items"][0]["host_id"], "sqlcustom1");
    let rds = get(&env, "/api/v1/sql/servers?host_type=rds").await;
    assert_eq!(rds["items"][0]["prerequisites"][0]["state"], "not_met");
    for bad in ["prerequisites=maybe", "host_type=azure"] {
        let r = call(
            &env.app,
            Method::GET,
            &format!("/api/v1/sql/servers?{bad}"),
            Some(&env.reader),
            None,
        )
        .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    }
    let one = get(&env, "/api/v1/sql/servers/i-0abc").await;
    assert_eq!(one["product"], "SQL Server 2019");
    let r = call(
        &env.app,
        Method::GET,
        "/api/v1/sql/servers/i-missing",
        Some(&env.reader),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");

    // The recommendation over the same assets.
    let va = get(
        &env,
        "/api/v1/recommendations/sql-server-va-findings-resolved/assessments",
    )
    .await;
    let status_of = |host: &str| {
        va["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["resource"].as_str().unwrap().ends_with(host))
            .map(|a| a["status"].clone())
    };
    assert_eq!(status_of("i-0abc"), Some(json!("unhealthy")), "{va:#}");
    assert_eq!(
        status_of("sqlcustom1"),
        Some(json!("not_applicable")),
        "{va:#}"
    );

    let (status, page) = page_as_reader(&env, "/sql").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"sql-servers\""), "{page}");
    assert!(page.contains("href=\"/sql/servers/i-0abc\""), "{page}");
    assert!(page.contains("error-log-exported"), "{page}");
    let (status, page) = page_as_reader(&env, "/sql/servers/i-0abc").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("RVA1401") && page.contains("xp_cmdshell"),
        "{page}"
    );
    assert!(page.contains("ssm-inventory"), "{page}");
    assert!(
        !page.contains("Accept as baseline"),
        "a reader gets no baseline action: {page}"
    );
    let (status, _) = page_as_reader(&env, "/sql/servers/i-missing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Baselines: a reader cannot accept, an admin can; listed; removed once.
    let baselines = "/api/v1/sql/servers/i-0abc/baselines";
    let accept = json!({"rule": "RVA1401"});
    let r = call(
        &env.app,
        Method::POST,
        baselines,
        Some(&env.reader),
        Some(accept.clone()),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.json);
    let r = call(
        &env.app,
        Method::POST,
        baselines,
        Some(&env.admin),
        Some(accept),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(r.json["baseline"]["rule"], "RVA1401");
    assert_eq!(r.json["baseline"]["accepted_by"], "alice");
    assert!(
        r.json["server"].as_str().unwrap().ends_with("i-0abc"),
        "{}",
        r.json
    );
    let r = call(
        &env.app,
        Method::POST,
        baselines,
        Some(&env.admin),
        Some(json!({"rule": "RVA9999"})),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let listed = get(&env, baselines).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed:#}");
    let (status, page) = page_as_reader(&env, "/sql/servers/i-0abc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("applies from the next assessment"),
        "the stored result is unchanged until the next assessment: {page}"
    );
    let r = call(
        &env.app,
        Method::DELETE,
        &format!("{baselines}/RVA1401"),
        Some(&env.admin),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = call(
        &env.app,
        Method::DELETE,
        &format!("{baselines}/RVA1401"),
        Some(&env.admin),
        None,
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(get(&env, baselines).await, json!([]));

    // The dashboard's form does the same (bearer token: no CSRF needed).
    let form = |path: &str| {
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", env.admin))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("rule=RVA1401&database=&scan="))
            .unwrap()
    };
    let r = send(&env.app, form("/sql/servers/i-0abc/baselines")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers.get(header::LOCATION).unwrap(),
        "/sql/servers/i-0abc?baseline=accepted"
    );
    assert_eq!(get(&env, baselines).await.as_array().map(Vec::len), Some(1));
    let r = send(&env.app, form("/sql/servers/i-0abc/baselines/remove")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(get(&env, baselines).await, json!([]));
}

/// History reads the change log and the daily counts: what each scan
/// changed, filtered like the posture, and the day's counts equal to the
/// current assessments; an older scan's assessments are gone, not empty.
#[tokio::test]
async fn changes_and_trend_read_the_history_and_older_scans_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    estate::seed_two_accounts(&mut store);
    estate::fix_b_volume(&mut store);
    let env = with_tokens(dir, &store, state);

    let (all, pages) = all_pages(&env, "/api/v1/changes?limit=2").await;
    assert!(pages > 1, "paged: {pages}");
    let seqs: Vec<i64> = all.iter().map(|c| c["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seqs:?}"
    );
    let of = |scan: &str| -> Vec<&Value> { all.iter().filter(|c| c["scan_id"] == scan).collect() };
    // The first scan's assessments are new; the second adds B's only (A's
    // did not change); the fix resolves B's volume 1 and nothing else.
    assert!(!of(estate::SCAN_A).is_empty());
    assert!(
        of(estate::SCAN_A)
            .iter()
            .all(|c| c["change"] == "new" && c["account"] == ACCOUNT_A)
    );
    assert!(
        of(estate::SCAN_B)
            .iter()
            .all(|c| c["change"] == "new" && c["account"] == ACCOUNT_B)
    );
    let fixed = of(estate::SCAN_FIX);
    assert!(!fixed.is_empty());
    for c in &fixed {
        assert_eq!(c["change"], "resolved", "{c}");
        assert_eq!(
            (c["old_status"].as_str(), c["new_status"].as_str()),
            (Some("unhealthy"), Some("healthy"))
        );
        assert!(
            c["resource"]
                .as_str()
                .unwrap()
                .ends_with(&format!("vol-{ACCOUNT_B}-1")),
            "{c}"
        );
    }

    let resolved = get(&env, "/api/v1/changes?change=resolved").await;
    assert_eq!(resolved["items"].as_array().unwrap().len(), fixed.len());
    let by_connector = get(
        &env,
        &format!("/api/v1/changes?connector={CONNECTOR_A}&limit=500"),
    )
    .await;
    assert!(
        by_connector["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["account"] == ACCOUNT_A)
    );
    let none = get(&env, "/api/v1/changes?since=2999-01-01").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    for bad in [
        "/api/v1/changes?change=fixed",
        "/api/v1/changes?since=2026-13-01",
        "/api/v1/trend?until=yesterday",
    ] {
        let r = call(&env.app, Method::GET, bad, Some(&env.reader), None).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
    }

    // One day: its counts are the current assessments'.
    let trend = get(&env, "/api/v1/trend").await;
    let days = trend["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{trend}");
    let (current, _) = all_pages(&env, "/api/v1/assessments?limit=500").await;
    for status in ["healthy", "unhealthy", "not_applicable", "error", "exempt"] {
        let n = current.iter().filter(|a| a["status"] == status).count() as u64;
        assert_eq!(days[0][status].as_u64(), Some(n), "{status}: {trend}");
    }
    let of_b = get(&env, &format!("/api/v1/trend?account={ACCOUNT_B}")).await;
    let b_current = current.iter().filter(|a| a["account"] == ACCOUNT_B).count() as u64;
    let day = &of_b["days"][0];
    let b_total: u64 = ["healthy", "unhealthy", "not_applicable", "error", "exempt"]
        .iter()
        .map(|s| day[*s].as_u64().unwrap())
        .sum();
    assert_eq!(b_total, b_current, "{of_b}");
    // Each day's score of a part of the estate is that part's score.
    for scope in [
        String::new(),
        format!("account={ACCOUNT_B}"),
        format!("connector={CONNECTOR_A}&region=us-east-1"),
    ] {
        let days = get(&env, &format!("/api/v1/trend?{scope}")).await;
        let score = get(&env, &format!("/api/v1/score?{scope}")).await;
        assert!(days["days"][0]["score"].is_f64(), "{days}");
        assert_eq!(
            days["days"][0]["score"], score["percent"],
            "{scope}: {days}"
        );
    }

    // The current scan reads as before; an older one is history.
    get(&env, &format!("/api/v1/score?scan={}", estate::SCAN_FIX)).await;
    for uri in [
        format!("/api/v1/score?scan={}", estate::SCAN_B),
        format!("/api/v1/assessments?scan={}", estate::SCAN_A),
    ] {
        let r = call(&env.app, Method::GET, &uri, Some(&env.reader), None).await;
        assert_error(&r, StatusCode::GONE, "scan_history");
    }
}
