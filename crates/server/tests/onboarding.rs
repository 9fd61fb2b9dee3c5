//! Onboarding in the dashboard, in process: the first-run sign-in link,
//! the add-account form (validation by field, CSRF, roles), the deploy
//! step, verification, pause, delete and API tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_connector::{Connector, Offering, Plan};
use rampart_health::requirement::{ISSUER_REACHABLE, ROLE_ASSUMABLE};
use rampart_health::{Check, ConnectorHealth, State};
use rampart_server::auth::create_token;
use rampart_server::health::{HealthChecks, HealthFn};
use rampart_server::{AppState, ServerConfig, first_run, router};
use rampart_store::{Store, TokenRole};
use time::OffsetDateTime;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    app: Router,
    db: std::path::PathBuf,
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

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let keys = dir.path().join("keys");
    // Nothing serves https://127.0.0.1: the issuer is not reachable.
    rampart_identity::Issuer::init(&keys, "https://127.0.0.1").unwrap();
    let mut config = ServerConfig::new(db.clone());
    config.keys_dir = Some(keys);
    let mut state = AppState::new(config, None).unwrap();
    state.health = HealthChecks::new(Some(fake_health()));
    Fixture {
        _dir: dir,
        app: router(state.clone()),
        state,
        db,
    }
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

/// A signed-in browser: the session cookie and its CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

impl Browser {
    async fn get(&self, app: &Router, path: &str) -> Reply {
        let request = Request::get(path)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())
            .unwrap();
        send(app, request).await
    }

    /// Posts a form; `csrf` false leaves the token out.
    async fn post(&self, app: &Router, path: &str, fields: &[(&str, &str)], csrf: bool) -> Reply {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        if csrf {
            form.append_pair("csrf_token", &self.csrf);
        }
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let request = Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.finish()))
            .unwrap();
        send(app, request).await
    }
}

fn session_cookie(headers: &HeaderMap) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rampart_session=") && !v.starts_with("rampart_session=;"))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a session cookie")
}

async fn csrf_of(app: &Router, cookie: &str) -> String {
    let request = Request::get("/api/v1/me")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let me: serde_json::Value = serde_json::from_str(&send(app, request).await.body).unwrap();
    me["csrf_token"].as_str().unwrap().to_owned()
}

/// Signs in through the first-run link (the store has no token yet).
async fn first_admin(f: &Fixture) -> Browser {
    let link = first_run::sign_in_link(&f.state, "http://rampart.test")
        .await
        .unwrap()
        .expect("an empty store gets a link");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let form = format!("token={token}");
    let request = Request::post("/setup")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let reply = send(&f.app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = session_cookie(&reply.headers);
    let csrf = csrf_of(&f.app, &cookie).await;
    Browser { cookie, csrf }
}

/// A reader signed in with a session (a token made in the store, then the
/// login page).
async fn reader(f: &Fixture) -> Browser {
    let secret = {
        let store = Store::open(&f.db).unwrap();
        create_token(&store, "viewer", TokenRole::Reader)
            .unwrap()
            .secret
    };
    let login = send(&f.app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let login_cookie = login
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rampart_login_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap();
    let login_csrf = login_cookie.split_once('=').unwrap().1.to_owned();
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &secret)
        .append_pair("csrf_token", &login_csrf)
        .append_pair("next", "/")
        .finish();
    let request = Request::post("/login")
        .header(header::COOKIE, &login_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let reply = send(&f.app, request).await;
    let cookie = session_cookie(&reply.headers);
    let csrf = csrf_of(&f.app, &cookie).await;
    Browser { cookie, csrf }
}

const GOOD: &[(&str, &str)] = &[
    ("name", "prod"),
    ("kind", "account"),
    ("account", "123456789012"),
    ("regions", "us-east-1, eu-west-1"),
    ("scan_interval", "6"),
    ("plan_cspm", "on"),
    ("plan_servers", "on"),
    ("servers_provisioning", "on"),
    ("servers_scope_tags", "env=prod"),
    ("servers_agentless", "on"),
    ("servers_exclusion_tags", "rampart:skip=true"),
    ("access", "least-privilege"),
];

fn with(overrides: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    GOOD.iter()
        .map(|(k, v)| {
            overrides
                .iter()
                .find(|(o, _)| o == k)
                .map_or((*k, *v), |(_, ov)| (*k, *ov))
        })
        .collect()
}

#[tokio::test]
async fn the_first_run_link_works_once_and_only_on_an_empty_store() {
    let f = fixture();
    let link = first_run::sign_in_link(&f.state, "http://rampart.test/")
        .await
        .unwrap()
        .unwrap();
    assert!(
        link.starts_with("http://rampart.test/setup?token="),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap();
    let path = format!("/setup?token={token}");
    let page = send(&f.app, Request::get(&path).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("method=\"post\""), "{}", page.body);
    let wrong = send(
        &f.app,
        Request::get("/setup?token=nope")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let post = |t: String| {
        Request::post("/setup")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={t}")))
            .unwrap()
    };
    let created = send(&f.app, post(token.to_owned())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("rampart_"), "the token is shown once");
    assert!(created.body.contains("href=\"/connectors/new\""));
    let again = send(&f.app, post(token.to_owned())).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "single use");

    let store = Store::open(&f.db).unwrap();
    let tokens = store.tokens().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].role, TokenRole::Admin);
    assert!(
        first_run::sign_in_link(&f.state, "http://rampart.test")
            .await
            .unwrap()
            .is_none(),
        "no link once a token exists"
    );
}

#[tokio::test]
async fn adding_an_account_validates_by_field_and_needs_csrf() {
    let f = fixture();
    let admin = first_admin(&f).await;

    // The empty overview leads to the form and to the demo.
    let overview = admin.get(&f.app, "/").await;
    assert!(overview.body.contains("href=\"/connectors/new\""));
    assert!(overview.body.contains("scripts/demo"));

    // The contract: /connectors links to the form, a POST form with an
    // input whose name contains `account`.
    let list = admin.get(&f.app, "/connectors").await;
    assert!(
        list.body.contains("href=\"/connectors/new\""),
        "{}",
        list.body
    );
    let form = admin.get(&f.app, "/connectors/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(
            "<form class=\"stack connector-form\" method=\"post\" action=\"/connectors/new\""
        ),
        "{}",
        form.body
    );
    assert!(form.body.contains("name=\"account\""));

    // Without the CSRF token: refused, nothing stored.
    let refused = admin.post(&f.app, "/connectors/new", GOOD, false).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Each invalid field: 422, the message next to that field, the values kept.
    for (overrides, field, message) in [
        (
            &[("account", "12345")][..],
            "account",
            "account id `12345` is not 12 digits",
        ),
        (
            &[("regions", "us-east-1, mars-1")][..],
            "regions",
            "unknown region `mars-1`",
        ),
        (
            &[("scan_interval", "48")][..],
            "scan_interval",
            "scan interval `48` is not 1 to 24 hours",
        ),
        (
            &[("servers_scope_tags", "aws:env=prod")][..],
            "servers_scope_tags",
            "reserved",
        ),
        (
            &[("name", "has space")][..],
            "name",
            "connector name `has space`",
        ),
    ] {
        let reply = admin
            .post(&f.app, "/connectors/new", &with(overrides), true)
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let marker = format!("id=\"{field}-error\"");
        let at = reply
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("{field}: {}", reply.body));
        assert!(reply.body[at..].contains(message), "{field}: {message}");
        assert!(
            reply
                .body
                .contains(&format!("aria-describedby=\"{field}-error\""))
        );
        assert!(reply.body.contains("value=\"123456789012\"") || field == "account");
    }
    // The CLI's message for the same mistake, from the same validation.
    let cli_message = Connector::new("p", "12345", &[Plan::Cspm], vec![], 12, None)
        .validate()
        .unwrap_err()
        .to_string();
    assert_eq!(cli_message, "account id `12345` is not 12 digits");

    // Valid: stored with its settings, then the deploy step.
    let created = admin.post(&f.app, "/connectors/new", GOOD, true).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(
        created.headers[header::LOCATION],
        "/connectors/prod/deploy?access=least-privilege"
    );
    let stored = Store::open(&f.db)
        .unwrap()
        .connector("prod")
        .unwrap()
        .unwrap();
    assert_eq!(stored.plans(), [Plan::Cspm, Plan::Servers]);
    assert_eq!(stored.environment_data.scan_interval, 6);
    let Some(Offering::DefenderForServersAws(servers)) = stored.offering(Plan::Servers) else {
        panic!("servers");
    };
    assert_eq!(servers.scope_by_tags["env"], "prod");
    let scanners = servers.vm_scanners.as_ref().unwrap();
    assert!(scanners.enabled);
    assert_eq!(scanners.exclusion_tags["rampart:skip"], "true");

    // A second `prod`: the name field says so.
    let duplicate = admin.post(&f.app, "/connectors/new", GOOD, true).await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate
            .body
            .contains("a connector named `prod` already exists")
    );

    // The deploy step: the download, the exact commands, the console, the issuer.
    let deploy = admin
        .get(&f.app, "/connectors/prod/deploy?access=least-privilege")
        .await;
    assert_eq!(deploy.status, StatusCode::OK);
    assert!(
        deploy
            .body
            .contains("/connectors/prod/template?format=cloudformation&amp;access=least-privilege"),
        "{}",
        deploy.body
    );
    assert!(deploy.body.contains("aws cloudformation deploy --template-file rampart-prod.json --stack-name Rampart-prod --capabilities CAPABILITY_NAMED_IAM --region us-east-1"));
    assert!(deploy.body.contains("https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/create/template"));
    let checked = admin
        .get(&f.app, "/connectors/prod/deploy?check=issuer")
        .await;
    assert!(
        checked.body.contains("data-state=\"not_met\""),
        "{}",
        checked.body
    );
    assert!(checked.body.contains("issuer reachable"));
    assert!(checked.body.contains("Fix: "));

    // Verify runs the health check and shows each requirement with its fix.
    let verify = admin.get(&f.app, "/connectors/prod/verify").await;
    assert!(verify.body.contains("Not verified yet"));
    let ran = admin
        .post(&f.app, "/connectors/prod/verify", &[], true)
        .await;
    assert_eq!(ran.status, StatusCode::SEE_OTHER);
    let verify = admin.get(&f.app, "/connectors/prod/verify").await;
    assert!(
        verify.body.contains("deploy the onboarding template"),
        "{}",
        verify.body
    );
    assert!(verify.body.contains("Start the first scan"));

    // Edit: a bad retention lands on its field; a good edit is stored.
    let bad = admin
        .post(
            &f.app,
            "/connectors/prod/edit",
            &[
                ("regions", "us-east-1"),
                ("scan_interval", "12"),
                ("plan_containers", "on"),
                ("containers_retention", "0"),
            ],
            true,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"containers_retention-error\""));
    let good = admin
        .post(
            &f.app,
            "/connectors/prod/edit",
            &[
                ("regions", "us-east-1"),
                ("scan_interval", "12"),
                ("plan_cspm", "on"),
                ("plan_containers", "on"),
                ("containers_retention", "90"),
            ],
            true,
        )
        .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
    let stored = Store::open(&f.db)
        .unwrap()
        .connector("prod")
        .unwrap()
        .unwrap();
    assert_eq!(stored.plans(), [Plan::Cspm, Plan::Containers]);
}

#[tokio::test]
async fn pause_stops_scheduled_scans_and_delete_says_what_goes() {
    let f = fixture();
    let admin = first_admin(&f).await;
    let created = admin.post(&f.app, "/connectors/new", GOOD, true).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let due = |s: &AppState| {
        let s = s.clone();
        async move { s.scheduler.next_due().await.unwrap().len() }
    };
    assert_eq!(due(&f.state).await, 1);
    let paused = admin
        .post(&f.app, "/connectors/prod/pause", &[], true)
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    assert!(
        Store::open(&f.db)
            .unwrap()
            .connector("prod")
            .unwrap()
            .unwrap()
            .paused
    );
    assert_eq!(
        due(&f.state).await,
        0,
        "the scheduler skips a paused connector"
    );
    let list = admin.get(&f.app, "/connectors").await;
    assert!(list.body.contains("Resume scheduled scans"));
    // The API shows the flag.
    let api = admin.get(&f.app, "/api/v1/connectors/prod").await;
    assert!(api.body.contains("\"paused\":true"), "{}", api.body);
    admin
        .post(&f.app, "/connectors/prod/resume", &[], true)
        .await;
    assert_eq!(due(&f.state).await, 1);

    let confirm = admin.get(&f.app, "/connectors/prod/delete").await;
    assert_eq!(confirm.status, StatusCode::OK);
    for words in [
        "stored scans (snapshots)",
        "alerts",
        "aws cloudformation delete-stack --stack-name Rampart-prod",
    ] {
        assert!(confirm.body.contains(words), "{words}: {}", confirm.body);
    }
    let deleted = admin
        .post(&f.app, "/connectors/prod/delete", &[], true)
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        Store::open(&f.db)
            .unwrap()
            .connector("prod")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn readers_see_no_admin_forms_and_get_403_on_posts() {
    let f = fixture();
    let admin = first_admin(&f).await;
    admin.post(&f.app, "/connectors/new", GOOD, true).await;
    let reader = reader(&f).await;

    let list = reader.get(&f.app, "/connectors").await;
    assert_eq!(list.status, StatusCode::OK);
    for admin_form in [
        "action=\"/connectors/prod/pause\"",
        "action=\"/connectors/scan\"",
        "action=\"/connectors/prod/health\"",
    ] {
        assert!(!list.body.contains(admin_form), "{admin_form}");
    }
    let verify = reader.get(&f.app, "/connectors/prod/verify").await;
    assert_eq!(verify.status, StatusCode::OK);
    assert!(
        !verify
            .body
            .contains("method=\"post\" action=\"/connectors/prod/verify\"")
    );
    for path in [
        "/connectors/new",
        "/connectors/prod/edit",
        "/connectors/prod/delete",
        "/settings/tokens",
        "/settings/issuer",
    ] {
        assert_eq!(
            reader.get(&f.app, path).await.status,
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    for path in [
        "/connectors/new",
        "/connectors/prod/edit",
        "/connectors/prod/pause",
        "/connectors/prod/delete",
        "/connectors/prod/verify",
        "/settings/tokens",
        "/settings/issuer/stage",
        "/settings/issuer/activate",
        "/settings/issuer/rotate",
    ] {
        let reply = reader.post(&f.app, path, GOOD, true).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    assert!(
        !Store::open(&f.db)
            .unwrap()
            .connector("prod")
            .unwrap()
            .unwrap()
            .paused
    );
}

#[tokio::test]
async fn tokens_are_shown_once_and_revoked_and_the_issuer_key_rotates() {
    let f = fixture();
    let admin = first_admin(&f).await;
    let created = admin
        .post(
            &f.app,
            "/settings/tokens",
            &[("name", "ci"), ("role", "reader")],
            true,
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let start = created.body.find("rampart_").unwrap();
    let secret: String = created.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(secret.len(), "rampart_".len() + 43, "{secret}");
    let list = admin.get(&f.app, "/settings/tokens").await;
    assert!(list.body.contains(">ci<") || list.body.contains("ci"));
    assert!(
        !list.body.contains(&secret),
        "the secret is never shown again"
    );
    let id = Store::open(&f.db)
        .unwrap()
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.name == "ci")
        .unwrap()
        .id;
    let revoked = admin
        .post(&f.app, &format!("/settings/tokens/{id}/revoke"), &[], true)
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let request = Request::get("/api/v1/me")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&f.app, request).await.status, StatusCode::UNAUTHORIZED);

    let keys = |f: &Fixture| {
        rampart_identity::Issuer::open(f.state.config.keys_dir.as_ref().unwrap())
            .unwrap()
            .signing_kid()
            .to_owned()
    };
    let before = keys(&f);
    let page = admin.get(&f.app, "/settings/issuer").await;
    assert!(page.body.contains(&before));
    assert!(page.body.contains("Stage: "));
    let rotated = admin
        .post(&f.app, "/settings/issuer/rotate", &[], true)
        .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER);
    assert_ne!(keys(&f), before);
}

#[tokio::test]
async fn the_api_refuses_what_the_form_refuses_with_the_same_message() {
    let f = fixture();
    let admin = first_admin(&f).await;
    let form = admin
        .post(
            &f.app,
            "/connectors/new",
            &with(&[("servers_scope_tags", "aws:env=prod")]),
            true,
        )
        .await;
    assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut connector = Connector::new("api", "123456789012", &[Plan::Servers], vec![], 12, None);
    connector.paused = true;
    let mut body = serde_json::to_value(&connector).unwrap();
    body["offerings"][0]["scopeByTags"] = serde_json::json!({"aws:env": "prod"});
    let secret = create_token(&Store::open(&f.db).unwrap(), "api", TokenRole::Admin)
        .unwrap()
        .secret;
    let request = Request::post("/api/v1/connectors")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let reply = send(&f.app, request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let message = "tag `aws:env=prod` in `DefenderForServersAws.scopeByTags`: keys starting with `aws:` are reserved by AWS";
    assert!(reply.body.contains(message), "{}", reply.body);
    let at = form.body.find("id=\"servers_scope_tags-error\"").unwrap();
    assert!(form.body[at..].contains(message), "{}", form.body);

    // Valid through the API: stored paused, shown paused on the page.
    body["offerings"][0]["scopeByTags"] = serde_json::json!({"env": "prod"});
    let request = Request::post("/api/v1/connectors")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    assert_eq!(send(&f.app, request).await.status, StatusCode::CREATED);
    let list = admin.get(&f.app, "/connectors").await;
    assert!(list.body.contains("scope: env=prod"), "{}", list.body);
    assert!(list.body.contains("Resume scheduled scans"));
}

/// Two replicas on one PostgreSQL store with the issuer kept in it: a
/// rotation on the dashboard of one is what the other publishes and signs
/// with, and a session made on one is valid on the other.
#[tokio::test]
async fn replicas_share_the_issuer_kept_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = std::path::PathBuf::from(rampart_testkit::postgres::fresh_url());
    let keys = dir.path().join("keys");
    let store = Store::open(&db).unwrap();
    let first_kid =
        rampart_engine::issuer::create_in_store(&keys, &store, "https://127.0.0.1/oidc", false)
            .unwrap()
            .signing_kid()
            .to_owned();
    let replica = |refresh: std::time::Duration| {
        let mut config = ServerConfig::new(db.clone());
        config.keys_dir = Some(keys.clone());
        config.issuer_refresh = refresh;
        let state = AppState::new(config, None).unwrap();
        (router(state.clone()), state)
    };
    let (app_a, state_a) = replica(std::time::Duration::ZERO);
    let (app_b, _) = replica(std::time::Duration::ZERO);
    let a = Fixture {
        _dir: dir,
        app: app_a,
        state: state_a,
        db: db.clone(),
    };
    let jwks_kids = |app: Router| async move {
        let reply = send(
            &app,
            Request::get("/oidc/.well-known/jwks.json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let jwks: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(jwks_kids(app_b.clone()).await, vec![first_kid.clone()]);

    let admin = first_admin(&a).await;
    let page = admin.get(&app_b, "/settings/issuer").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("kept in the store"), "{}", page.body);
    let rotated = admin
        .post(&a.app, "/settings/issuer/rotate", &[], true)
        .await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER, "{}", rotated.body);

    // Replica B publishes the new key next to the retired one, and signs
    // with the new one.
    let after = jwks_kids(app_b.clone()).await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[0], first_kid);
    let new_kid = after[1].clone();
    let page = admin.get(&app_b, "/settings/issuer").await;
    let row = &page.body[page.body.find(&new_kid).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("signing"), "{row}");
    let old_row = &page.body[page.body.find(&first_kid).unwrap()..];
    let old_row = &old_row[..old_row.find("</tr>").unwrap()];
    assert!(old_row.contains("retired"), "{old_row}");
    let in_use = rampart_engine::Keys::new(&keys, Some(&db))
        .issuer()
        .unwrap();
    assert_eq!(in_use.signing_kid(), new_kid);
    // No issuer file was written to the keys directory.
    assert!(!keys.join(rampart_identity::STATE_FILE).exists());
}
