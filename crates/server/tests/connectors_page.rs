//! The connectors page: plans with their health from the latest on-demand
//! check (run through an injected health function), the check's form and
//! API, and the onboarding template download.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_connector::{Connector, Plan};
use rampart_health::requirement::{EC2_INSTANCES, ISSUER_REACHABLE, READ_ACCESS, ROLE_ASSUMABLE};
use rampart_health::{Check, ConnectorHealth, State};
use rampart_server::auth::create_token;
use rampart_server::health::{HealthChecks, HealthFn};
use rampart_server::{AppState, ServerConfig, router};
use rampart_store::{Store, TokenRole};
use time::OffsetDateTime;
use tower::ServiceExt;

const SCRIPT_TAG: &str = "<script>window.__xss=1</script>";
const THUMBPRINT: &str = "9E99A48A9960B14926BB7F3B02E22DA2B0AB7280";
const FIX: &str = "attach ReadOnlyAccess to the role";

struct Fixture {
    _dir: tempfile::TempDir,
    app: Router,
    admin: String,
    reader: String,
    /// Connectors the fake health function was called with.
    checked: Arc<Mutex<Vec<String>>>,
}

/// A fake check: the issuer met, the CSPM role assumable but its reads not
/// met (with the fix, which carries a hostile string), Servers met.
fn fake_health(checked: Arc<Mutex<Vec<String>>>) -> HealthFn {
    Arc::new(move |connector: Connector| {
        checked.lock().unwrap().push(connector.name.clone());
        Box::pin(async move {
            Ok(ConnectorHealth {
                connector: connector.name.clone(),
                account: connector.account().to_owned(),
                checked_at: OffsetDateTime::now_utc(),
                checks: vec![
                    Check::new(None, ISSUER_REACHABLE, State::Met, "discovery answers"),
                    Check::new(Some(Plan::Cspm), ROLE_ASSUMABLE, State::Met, "assumed"),
                    Check::new(
                        Some(Plan::Cspm),
                        READ_ACCESS,
                        State::not_met(format!("{FIX} {SCRIPT_TAG}")),
                        "ListBuckets denied",
                    ),
                    Check::new(Some(Plan::Servers), EC2_INSTANCES, State::Met, "2 found"),
                ],
            })
        })
    })
}

fn fixture_with(health: impl FnOnce(&mut AppState, Arc<Mutex<Vec<String>>>)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let keys = dir.path().join("keys");
    // Nothing listens on 127.0.0.1:443, so the server cannot compute the
    // thumbprint on its own; IAM (and the template) need https.
    rampart_identity::Issuer::init(&keys, "https://127.0.0.1").unwrap();
    let mut config = ServerConfig::new(db.clone());
    config.keys_dir = Some(keys);
    let mut state = AppState::new(config, None).unwrap();
    let checked = Arc::new(Mutex::new(Vec::new()));
    health(&mut state, checked.clone());
    let store = Store::open(&db).unwrap();
    let prod = Connector::new(
        "prod",
        "123456789012",
        &[Plan::Cspm, Plan::Servers],
        vec!["us-east-1".into()],
        12,
        None,
    );
    prod.validate().unwrap();
    store.create_connector(&prod).unwrap();
    let admin = create_token(&store, "admin", TokenRole::Admin)
        .unwrap()
        .secret;
    let reader = create_token(&store, "reader", TokenRole::Reader)
        .unwrap()
        .secret;
    Fixture {
        _dir: dir,
        app: router(state),
        admin,
        reader,
        checked,
    }
}

fn fixture() -> Fixture {
    fixture_with(|state, checked| {
        state.health = HealthChecks::new(Some(fake_health(checked)));
    })
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
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

async fn get(app: &Router, path: &str, token: &str) -> Reply {
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

async fn post(app: &Router, path: &str, token: &str) -> Reply {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("csrf_token="))
        .unwrap();
    send(app, request).await
}

/// The `<tr>` of the plans table whose first cell is `plan`.
fn plan_row<'a>(html: &'a str, plan: &str) -> &'a str {
    let start = html
        .find(&format!("<tr><td>{plan}</td>"))
        .unwrap_or_else(|| panic!("no row for {plan} in {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</tr>").unwrap()]
}

#[tokio::test]
async fn the_page_lists_plans_with_links_and_no_check_yet() {
    let f = fixture();
    let page = get(&f.app, "/connectors", &f.admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<h2>prod</h2>"), "{}", page.body);
    for plan in ["cspm", "servers"] {
        let row = plan_row(&page.body, plan);
        assert!(
            row.contains("st-unknown") && row.contains("not checked yet"),
            "{row}"
        );
    }
    assert!(page.body.contains("CspmMonitorAws") && page.body.contains("DefenderForServersAws"));
    assert!(page.body.contains("Health: not checked yet."));
    for (format, access) in [
        ("cloudformation", "default"),
        ("cloudformation", "least-privilege"),
        ("terraform", "default"),
        ("terraform", "least-privilege"),
    ] {
        let href =
            format!("href=\"/connectors/prod/template?format={format}&amp;access={access}\"");
        assert!(page.body.contains(&href), "missing {href}");
    }
    assert!(page.body.contains("name=\"thumbprint\""));
    assert!(page.body.contains("action=\"/connectors/prod/health\""));
    // Readers see the results and the downloads, not the check's button.
    let reader = get(&f.app, "/connectors", &f.reader).await;
    assert_eq!(reader.status, StatusCode::OK);
    assert!(!reader.body.contains("action=\"/connectors/prod/health\""));
    assert!(
        reader
            .body
            .contains("/connectors/prod/template?format=terraform")
    );
}

#[tokio::test]
async fn a_health_check_is_stored_and_shown_per_plan() {
    let f = fixture();
    // Nothing stored yet.
    let none = get(&f.app, "/api/v1/connectors/prod/health", &f.reader).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);

    // Readers may not run a check, on the page or through the API.
    for path in ["/connectors/prod/health", "/api/v1/connectors/prod/health"] {
        let denied = post(&f.app, path, &f.reader).await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert!(f.checked.lock().unwrap().is_empty());

    let ran = post(&f.app, "/connectors/prod/health", &f.admin).await;
    assert_eq!(ran.status, StatusCode::SEE_OTHER, "{}", ran.body);
    let location = ran.headers[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/connectors#connector-"), "{location}");
    assert_eq!(*f.checked.lock().unwrap(), vec!["prod".to_owned()]);

    let page = get(&f.app, "/connectors", &f.reader).await;
    let cspm = plan_row(&page.body, "cspm");
    assert!(cspm.contains("st-unhealthy"), "{cspm}");
    assert!(cspm.contains(FIX), "{cspm}");
    let servers = plan_row(&page.body, "servers");
    assert!(
        servers.contains("st-healthy") && servers.contains("1 requirements met"),
        "{servers}"
    );
    assert!(page.body.contains("Health checked "));
    assert!(page.body.contains("1 requirements not met"));
    assert!(page.body.contains("<strong>Fix: </strong>"));
    assert!(page.body.contains("st-not_met") && page.body.contains("st-met"));
    // The fix came from outside; it is escaped.
    assert!(!page.body.contains(SCRIPT_TAG));
    assert!(page.body.contains("&lt;script&gt;"));

    // The API answers the stored result.
    let stored = get(&f.app, "/api/v1/connectors/prod/health", &f.reader).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    let json: serde_json::Value = serde_json::from_str(&stored.body).unwrap();
    assert_eq!(json["connector"], "prod");
    let states: Vec<(&str, &str)> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["requirement"].as_str().unwrap(),
                c["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (ISSUER_REACHABLE, "met"),
            (ROLE_ASSUMABLE, "met"),
            (READ_ACCESS, "not_met"),
            (EC2_INSTANCES, "met"),
        ]
    );
    assert!(json["checks"][2]["fix"].as_str().unwrap().starts_with(FIX));

    // The API runs a check too, by name or id.
    let again = post(&f.app, "/api/v1/connectors/prod/health", &f.admin).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(f.checked.lock().unwrap().len(), 2);
    let missing = post(&f.app, "/api/v1/connectors/nope/health", &f.admin).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_check_that_hangs_or_fails_is_unknown_never_healthy() {
    let slow: HealthFn = Arc::new(|_connector: Connector| {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Err("unreachable".to_owned())
        })
    });
    let f = fixture_with(move |state, _| {
        state.health = HealthChecks::new(Some(slow)).with_timeout(Duration::from_millis(100));
    });
    let ran = post(&f.app, "/api/v1/connectors/prod/health", &f.admin).await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    let json: serde_json::Value = serde_json::from_str(&ran.body).unwrap();
    assert_eq!(json["checks"][0]["state"], "unknown");
    assert!(
        json["checks"][0]["why"]
            .as_str()
            .unwrap()
            .contains("did not finish")
    );
    let page = get(&f.app, "/connectors", &f.admin).await;
    let cspm = plan_row(&page.body, "cspm");
    assert!(
        cspm.contains("st-unknown") && cspm.contains("did not finish"),
        "{cspm}"
    );

    let failing: HealthFn =
        Arc::new(|_c: Connector| Box::pin(async { Err("store is locked".to_owned()) }));
    let f = fixture_with(move |state, _| state.health = HealthChecks::new(Some(failing)));
    post(&f.app, "/connectors/prod/health", &f.admin).await;
    let page = get(&f.app, "/connectors", &f.admin).await;
    let servers = plan_row(&page.body, "servers");
    assert!(
        servers.contains("st-unknown") && servers.contains("store is locked"),
        "{servers}"
    );

    // Without a health function the check answers 503.
    let f = fixture_with(|_, _| {});
    let off = post(&f.app, "/api/v1/connectors/prod/health", &f.admin).await;
    assert_eq!(off.status, StatusCode::SERVICE_UNAVAILABLE, "{}", off.body);
}

#[tokio::test]
async fn the_template_downloads_as_an_attachment() {
    let f = fixture();
    let path = format!(
        "/connectors/prod/template?format=cloudformation&access=default&thumbprint={THUMBPRINT}"
    );
    let reply = get(&f.app, &path, &f.reader).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        reply.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"rampart-prod.json\""
    );
    let template: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let resources = template["Resources"].as_object().unwrap();
    let provider = resources
        .values()
        .find(|r| r["Type"] == "AWS::IAM::OIDCProvider")
        .expect("an OIDC provider");
    assert_eq!(provider["Properties"]["Url"], "https://127.0.0.1");
    assert_eq!(
        provider["Properties"]["ThumbprintList"],
        serde_json::json!([THUMBPRINT.to_ascii_lowercase()])
    );
    assert!(reply.body.contains("Rampart_prod"), "session name missing");
    assert!(reply.body.contains("ReadOnlyAccess"));

    let least = get(
        &f.app,
        &format!("/connectors/prod/template?format=cloudformation&access=least-privilege&thumbprint={THUMBPRINT}"),
        &f.reader,
    )
    .await;
    assert_eq!(least.status, StatusCode::OK, "{}", least.body);
    assert!(!least.body.contains("policy/ReadOnlyAccess"));
    assert!(
        least.body.contains("s3:ListAllMyBuckets"),
        "least privilege lists the reads"
    );

    let tf = get(
        &f.app,
        &format!("/connectors/prod/template?format=terraform&thumbprint={THUMBPRINT}"),
        &f.reader,
    )
    .await;
    assert_eq!(tf.status, StatusCode::OK, "{}", tf.body);
    assert_eq!(
        tf.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"rampart-prod.tf\""
    );
    assert!(
        tf.body
            .contains("resource \"aws_iam_openid_connect_provider\" \"rampart\"")
    );

    // No thumbprint and an issuer host the server cannot reach: 422 with
    // the reason and a field for it.
    let unreachable = get(
        &f.app,
        "/connectors/prod/template?format=terraform",
        &f.reader,
    )
    .await;
    assert_eq!(
        unreachable.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unreachable.body
    );
    assert!(
        unreachable
            .body
            .contains("cannot compute the TLS thumbprint"),
        "{}",
        unreachable.body
    );
    assert!(unreachable.body.contains("id=\"thumbprint-form\""));
    assert!(
        unreachable
            .body
            .contains("name=\"format\" value=\"terraform\"")
    );

    let bad = get(
        &f.app,
        "/connectors/prod/template?format=cloudformation&thumbprint=xyz",
        &f.reader,
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("is not 40 hexadecimal digits"),
        "{}",
        bad.body
    );
    let format = get(&f.app, "/connectors/prod/template?format=yaml", &f.reader).await;
    assert_eq!(format.status, StatusCode::BAD_REQUEST);
    let missing = get(&f.app, "/connectors/nope/template", &f.reader).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_names_are_refused_and_escaped_anyway() {
    let f = fixture();
    let body = serde_json::json!({
        "name": SCRIPT_TAG,
        "hierarchyIdentifier": "210987654321",
        "environmentName": "AWS",
        "environmentData": {"environmentType": "AwsAccount", "regions": [], "scanInterval": 12},
        "offerings": [{"offeringType": "CspmMonitorAws",
            "nativeCloudConnection": {"cloudRoleArn": "arn:aws:iam::210987654321:role/RampartCspm"}}]
    });
    let request = Request::post("/api/v1/connectors")
        .header(header::AUTHORIZATION, format!("Bearer {}", f.admin))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let refused = send(&f.app, request).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("connector name"), "{}", refused.body);
    assert!(
        Connector::new(SCRIPT_TAG, "210987654321", &[Plan::Cspm], vec![], 12, None)
            .validate()
            .is_err()
    );

    // One stored behind validation's back still comes out escaped.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let store = Store::open(&db).unwrap();
    let hostile = Connector::new(SCRIPT_TAG, "210987654321", &[Plan::Cspm], vec![], 12, None);
    store.create_connector(&hostile).unwrap();
    let admin = create_token(&store, "admin", TokenRole::Admin)
        .unwrap()
        .secret;
    let app = router(state);
    let page = get(&app, "/connectors", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(SCRIPT_TAG), "unescaped name");
    assert!(
        page.body
            .contains("&lt;script&gt;window.__xss=1&lt;/script&gt;")
    );
    // Its links are percent-encoded.
    assert!(
        page.body
            .contains("/connectors/%3Cscript%3Ewindow.__xss%3D1%3C%2Fscript%3E/template")
    );
}

/// The dashboard's scan form goes through the same start as the API's
/// trigger: a connector that does not exist is a 404 and one without the
/// cspm plan a 400, before any scan is queued or run; a good one reaches
/// the scan runner (none in this fixture: 503).
#[tokio::test]
async fn the_scan_form_checks_its_connector_like_the_api() {
    let f = fixture();
    let form = |connector: &str| {
        Request::post("/connectors/scan")
            .header(header::AUTHORIZATION, format!("Bearer {}", f.admin))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf_token=&connector={connector}")))
            .unwrap()
    };
    let missing = send(&f.app, form("nosuch")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert!(
        missing.body.contains("no connector `nosuch`"),
        "{}",
        missing.body
    );

    let servers_only = Connector::new(
        "servers-only",
        "210987654321",
        &[Plan::Servers],
        vec!["us-east-1".into()],
        12,
        None,
    );
    servers_only.validate().unwrap();
    Store::open(&f._dir.path().join("rampart.db"))
        .unwrap()
        .create_connector(&servers_only)
        .unwrap();
    let no_cspm = send(&f.app, form("servers-only")).await;
    assert_eq!(no_cspm.status, StatusCode::BAD_REQUEST, "{}", no_cspm.body);
    assert!(
        no_cspm.body.contains("does not enable the cspm plan"),
        "{}",
        no_cspm.body
    );

    let good = send(&f.app, form("prod")).await;
    assert_eq!(
        good.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        good.body
    );
}
