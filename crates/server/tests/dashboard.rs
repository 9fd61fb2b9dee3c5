//! The dashboard in process: every page is reachable from `/` and answers,
//! hostile AWS strings come out escaped, forms need an admin and the CSRF
//! token, and an exemption moves the secure score.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_catalog::exemptions::Exemptions;
use rampart_model::{Asset, CoverageGap, GapKind, ScanRecord, ScanStatus, Snapshot};
use rampart_server::auth::create_token;
use rampart_server::{AppState, ServerConfig, router};
use rampart_store::{Store, TokenRole};
use rampart_testkit::estate::{self, ACCOUNT_A, ACCOUNT_B, CONNECTOR_A};
use time::OffsetDateTime;
use tower::ServiceExt;

const SCRIPT_TAG: &str = "<script>window.__xss=1</script>";
const IMG_TAG: &str = "\"><img src=x onerror=\"window.__xss=1\">";

struct Fixture {
    _dir: tempfile::TempDir,
    app: Router,
    admin: String,
    reader: String,
}

fn bucket(name: &str, tags: &[(&str, &str)], versioning: &str) -> Asset {
    Asset::new(
        format!("arn:aws:s3:::{name}"),
        "AWS::S3::Bucket",
        "123456789012",
        "us-east-1",
        name,
        serde_json::json!({"versioning": {"status": versioning}, "policyText": SCRIPT_TAG}),
    )
    .with_tags(
        tags.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    let assets = vec![
        bucket("plain-bucket", &[("env", "prod")], "Enabled"),
        bucket(
            "hostile-bucket",
            &[("Name", SCRIPT_TAG), ("owner", IMG_TAG), (IMG_TAG, "key")],
            "Suspended",
        ),
        Asset::new(
            "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc",
            "AWS::EC2::Instance",
            "123456789012",
            "eu-west-1",
            IMG_TAG,
            serde_json::json!({"instanceId": "i-0abc"}),
        )
        .with_tags(BTreeMap::from([("Name".to_owned(), IMG_TAG.to_owned())])),
    ];
    let assessments = state.posture.assess(&assets, &Exemptions::default());
    let now = OffsetDateTime::now_utc();
    let snapshot = Snapshot {
        scan: ScanRecord {
            id: "scan-1".into(),
            started_at: now - time::Duration::minutes(2),
            finished_at: Some(now),
            status: ScanStatus::Running,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            api_calls: 40,
            asset_count: 0,
            gap_count: 0,
        },
        assets,
        gaps: vec![CoverageGap {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            service: "ssm".into(),
            operation: "DescribeInstanceInformation".into(),
            kind: GapKind::AccessDenied,
            error: SCRIPT_TAG.into(),
            occurrences: 1,
        }],
    };
    store.complete_scan(&snapshot, &assessments).unwrap();
    let admin = create_token(&store, "admin-ui", TokenRole::Admin)
        .unwrap()
        .secret;
    let reader = create_token(&store, "reader-ui", TokenRole::Reader)
        .unwrap()
        .secret;
    Fixture {
        _dir: dir,
        app: router(state),
        admin,
        reader,
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

async fn get(app: &Router, path: &str, token: &str) -> Reply {
    let request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

async fn post_form(app: &Router, path: &str, auth: (&str, &str), form: &[(&str, &str)]) -> Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let request = Request::post(path)
        .header(auth.0, auth.1)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

/// Local `href`s of a page, unescaped.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .filter(|h| h.starts_with('/'))
        .collect()
}

fn score_of(overview: &str) -> String {
    let start = overview.find("id=\"secure-score\">").expect("score shown") + 18;
    overview[start..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn every_page_is_reachable_from_the_overview_and_answers() {
    let f = fixture();
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/".to_owned()]);
    // The catalog has hundreds of recommendations, each with its status
    // views: a sample of them is enough, the budget goes to every other page.
    let mut recommendation_pages = 0;
    while let Some(path) = queue.pop_front() {
        if seen.contains(&path) || seen.len() > 300 {
            continue;
        }
        if path.starts_with("/recommendations/") {
            recommendation_pages += 1;
            if recommendation_pages > 60 {
                continue;
            }
        }
        seen.insert(path.clone());
        let reply = get(&f.app, &path, &f.admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        if path == "/static/dashboard.css" {
            assert_eq!(
                reply.headers[header::CONTENT_TYPE],
                "text/css; charset=utf-8"
            );
            continue;
        }
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8",
            "{path}"
        );
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(!reply.body.contains("<script"), "{path} has a script");
        for link in links(&reply.body) {
            if !seen.contains(&link) {
                queue.push_back(link);
            }
        }
    }
    let paths: Vec<&str> = seen.iter().map(String::as_str).collect();
    for wanted in [
        "/recommendations",
        "/inventory",
        "/compliance",
        "/connectors",
        "/alerts",
        "/vulnerabilities",
        "/scans/scan-1",
        "/static/dashboard.css",
    ] {
        assert!(paths.contains(&wanted), "{wanted} not reached: {paths:?}");
    }
    for prefix in [
        "/recommendations/",
        "/inventory/resource?",
        "/compliance/",
        "/inventory?type=",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(prefix)),
            "no page under {prefix}: {paths:?}"
        );
    }
    // A standard's control page (standard → controls → assessments).
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/compliance/") && p.matches('/').count() == 3),
        "{paths:?}"
    );
}

#[tokio::test]
async fn the_scan_page_lists_its_coverage_gaps() {
    let fx = fixture();
    let page = get(&fx.app, "/scans/scan-1", &fx.reader).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let table = page
        .body
        .split_once("<table id=\"gaps\">")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no gaps table: {}", page.body));
    for cell in [
        "Coverage gaps (1)",
        "ssm",
        "DescribeInstanceInformation",
        "access_denied",
    ] {
        assert!(page.body.contains(cell), "{cell} missing");
    }
    assert!(table.contains("DescribeInstanceInformation"));
    assert!(page.body.contains("rampart gaps --scan scan-1"));
}

#[tokio::test]
async fn hostile_aws_strings_come_out_escaped() {
    let f = fixture();
    let bucket_page = format!(
        "/inventory/resource?type=AWS%3A%3AS3%3A%3ABucket&arn={}",
        url::form_urlencoded::byte_serialize(b"arn:aws:s3:::hostile-bucket").collect::<String>()
    );
    let instance_page = format!(
        "/inventory/resource?type=AWS%3A%3AEC2%3A%3AInstance&arn={}",
        url::form_urlencoded::byte_serialize(b"arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc")
            .collect::<String>()
    );
    let rec_page = "/recommendations/s3-bucket-versioning-enabled";
    for path in [
        "/inventory",
        bucket_page.as_str(),
        instance_page.as_str(),
        rec_page,
        "/scans/scan-1",
    ] {
        let reply = get(&f.app, path, &f.admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        let html = reply.body;
        assert!(!html.contains("<script"), "{path} carries a raw <script>");
        assert!(!html.contains("<img"), "{path} carries a raw <img>");
        assert!(!html.contains("onerror=\""), "{path} carries an attribute");
    }
    let bucket = get(&f.app, &bucket_page, &f.admin).await.body;
    assert!(
        bucket.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"),
        "{bucket}"
    );
    assert!(bucket.contains("&quot;&gt;&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;"));
    let instance = get(&f.app, &instance_page, &f.admin).await.body;
    assert!(instance.contains("&lt;img src=x"), "{instance}");
    // Properties (policy text) are escaped too.
    assert!(bucket.contains(
        "&quot;policyText&quot;: &quot;&lt;script&gt;window.__xss=1&lt;/script&gt;&quot;"
    ));
}

#[tokio::test]
async fn an_exemption_from_the_recommendation_page_moves_the_score() {
    let f = fixture();
    let before = score_of(&get(&f.app, "/", &f.admin).await.body);
    let detail = get(
        &f.app,
        "/recommendations/s3-bucket-versioning-enabled",
        &f.admin,
    )
    .await;
    assert!(detail.body.contains("hostile-bucket"), "{}", detail.body);
    assert!(
        detail
            .body
            .contains("/recommendations/s3-bucket-versioning-enabled/exempt?resource=")
    );
    let form = get(
        &f.app,
        "/recommendations/s3-bucket-versioning-enabled/exempt?resource=arn%3Aaws%3As3%3A%3A%3Ahostile-bucket",
        &f.admin,
    )
    .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("value=\"arn:aws:s3:::hostile-bucket\""));
    let bearer = format!("Bearer {}", f.admin);
    // A reason is required: the form comes back with the error.
    let bad = post_form(
        &f.app,
        "/recommendations/s3-bucket-versioning-enabled/exempt",
        ("authorization", &bearer),
        &[("resource", "arn:aws:s3:::hostile-bucket"), ("reason", " ")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("reason"), "{}", bad.body);
    let done = post_form(
        &f.app,
        "/recommendations/s3-bucket-versioning-enabled/exempt",
        ("authorization", &bearer),
        &[
            ("resource", "arn:aws:s3:::hostile-bucket"),
            ("reason", "test bucket"),
            ("expires", "2099-01-01"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let to = done.headers[header::LOCATION].to_str().unwrap().to_owned();
    let after_detail = get(&f.app, &to, &f.admin).await.body;
    assert!(after_detail.contains("Exemption created"), "{after_detail}");
    assert!(after_detail.contains("test bucket"));
    let mut after = score_of(&get(&f.app, "/", &f.admin).await.body);
    // A control's score moves once none of its recommendations finds a
    // resource unhealthy: exempt every resource of each unhealthy one.
    let list = get(&f.app, "/recommendations?status=unhealthy", &f.admin)
        .await
        .body;
    let unhealthy: Vec<String> = links(&list)
        .into_iter()
        .filter(|l| l.starts_with("/recommendations/"))
        .collect();
    assert!(!unhealthy.is_empty());
    for rec in unhealthy {
        if after != before {
            break;
        }
        let done = post_form(
            &f.app,
            &format!("{rec}/exempt"),
            ("authorization", &bearer),
            &[("resource", ""), ("reason", "accepted")],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{rec}: {}", done.body);
        after = score_of(&get(&f.app, "/", &f.admin).await.body);
    }
    // Exempt resources leave the score; it moves either way (a control
    // whose resources are all exempt leaves the total).
    assert_ne!(before, after, "the score did not move");
}

#[tokio::test]
async fn readers_see_no_forms_and_sessions_need_the_csrf_token() {
    let f = fixture();
    let reader_view = get(
        &f.app,
        "/recommendations/s3-bucket-versioning-enabled",
        &f.reader,
    )
    .await;
    assert_eq!(reader_view.status, StatusCode::OK);
    assert!(!reader_view.body.contains("/exempt"));
    let denied = post_form(
        &f.app,
        "/recommendations/s3-bucket-versioning-enabled/exempt",
        ("authorization", &format!("Bearer {}", f.reader)),
        &[("reason", "nope")],
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // Log in through the login page: its CSRF cookie, then a session.
    let login = send(&f.app, Request::get("/login").body(Body::empty()).unwrap()).await;
    let login_cookie = login.headers[header::SET_COOKIE].to_str().unwrap();
    let login_cookie = login_cookie.split(';').next().unwrap().to_owned();
    let login_csrf = login_cookie.split_once('=').unwrap().1.to_owned();
    let session = post_form(
        &f.app,
        "/login",
        ("cookie", &login_cookie),
        &[
            ("token", &f.admin),
            ("csrf_token", &login_csrf),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(session.status, StatusCode::SEE_OTHER, "{}", session.body);
    let cookie = session
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("rampart_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = send(
        &f.app,
        Request::get("/recommendations/s3-bucket-versioning-enabled/exempt")
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page
        .body
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    assert!(!csrf.is_empty());
    assert!(
        page.body.contains("action=\"/logout\""),
        "logout form missing"
    );
    let path = "/recommendations/s3-bucket-versioning-enabled/exempt";
    let without = post_form(&f.app, path, ("cookie", &cookie), &[("reason", "x")]).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let with = post_form(
        &f.app,
        path,
        ("cookie", &cookie),
        &[("csrf_token", &csrf), ("reason", "all of them")],
    )
    .await;
    assert_eq!(with.status, StatusCode::SEE_OTHER, "{}", with.body);
}

#[tokio::test]
async fn pages_need_a_login_and_filters_narrow_the_inventory() {
    let f = fixture();
    let anonymous = send(
        &f.app,
        Request::get("/inventory").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.headers[header::LOCATION],
        "/login?next=%2Finventory"
    );

    let all = get(&f.app, "/inventory", &f.admin).await.body;
    assert!(all.contains("plain-bucket") && all.contains("i-0abc"));
    let buckets = get(&f.app, "/inventory?type=AWS%3A%3AS3%3A%3ABucket", &f.admin)
        .await
        .body;
    assert!(buckets.contains("plain-bucket") && !buckets.contains("instance/i-0abc"));
    let tagged = get(&f.app, "/inventory?tag=env%3Dprod", &f.admin)
        .await
        .body;
    assert!(tagged.contains("plain-bucket") && !tagged.contains("hostile-bucket"));
    // One asset per page: a next link that leads on.
    let first = get(&f.app, "/inventory?limit=1", &f.admin).await.body;
    let next = links(&first)
        .into_iter()
        .find(|l| l.contains("cursor="))
        .expect("a next page link");
    let second = get(&f.app, &next, &f.admin).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_ne!(first, second.body);
    let unknown = get(&f.app, "/recommendations/no-such-thing", &f.admin).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("no recommendation"));
}

/// Two accounts scanned in turn: the overview lists both (each with its
/// own score, assets and the scan its slice comes from), and the latest
/// snapshot's inventory holds both.
#[tokio::test]
async fn the_overview_lists_every_account_of_the_current_posture() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    for (id, account, buckets) in [("scan-a", "111111111111", 2), ("scan-b", "222222222222", 1)] {
        let record = ScanRecord {
            id: id.into(),
            started_at: OffsetDateTime::now_utc(),
            finished_at: None,
            status: ScanStatus::Running,
            accounts: vec![account.into()],
            regions: vec!["us-east-1".into()],
            api_calls: 1,
            asset_count: 0,
            gap_count: 0,
        };
        let assets = (0..buckets)
            .map(|n| {
                Asset::new(
                    format!("arn:aws:s3:::{account}-b{n}"),
                    "AWS::S3::Bucket",
                    account,
                    "us-east-1",
                    format!("{account}-b{n}"),
                    serde_json::json!({"versioning": {"status": "Enabled"}}),
                )
            })
            .collect();
        store.begin_scan(&record).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        rampart_engine::scan::store_complete(
            &mut store,
            record,
            assets,
            Vec::new(),
            1,
            &Exemptions::default(),
            None,
        )
        .unwrap();
    }
    // Account A's scan went through connector `prod-a`.
    let prod = rampart_connector::Connector::new(
        "prod-a",
        "111111111111",
        &[rampart_connector::Plan::Cspm],
        vec!["us-east-1".into()],
        12,
        None,
    );
    store.create_connector(&prod).unwrap();
    store
        .set_scan_connector("scan-a", &prod.id.to_string())
        .unwrap();
    let admin = create_token(&store, "admin-ui", TokenRole::Admin)
        .unwrap()
        .secret;
    let app = router(state);

    let overview = get(&app, "/", &admin).await;
    assert_eq!(overview.status, StatusCode::OK);
    let table = overview
        .body
        .split("id=\"accounts\"")
        .nth(1)
        .expect("an accounts table")
        .split("</table>")
        .next()
        .unwrap();
    for (account, assets, scan) in [("111111111111", 2, "scan-a"), ("222222222222", 1, "scan-b")] {
        let row = table
            .split("<tr>")
            .find(|r| r.contains(account))
            .unwrap_or_else(|| panic!("no row for {account}: {table}"));
        // The account links to its own score, its asset count to its inventory.
        assert!(
            row.contains(&format!("href=\"/?account={account}\"")),
            "{row}"
        );
        assert!(
            row.contains(&format!(
                "<td class=\"num\"><a href=\"/inventory?account={account}\">{assets}</a></td>"
            )),
            "{row}"
        );
        assert!(row.contains(&format!("/scans/{scan}")), "{row}");
        assert!(row.contains('%'), "a score: {row}");
    }
    let inventory = get(&app, "/inventory", &admin).await;
    for name in ["111111111111-b0", "111111111111-b1", "222222222222-b0"] {
        assert!(inventory.body.contains(name), "{name} in the inventory");
    }

    // The connector filter keeps its accounts only, on the page and in the API.
    let narrowed = get(&app, "/inventory?connector=prod-a", &admin).await;
    assert_eq!(narrowed.status, StatusCode::OK);
    assert!(
        narrowed.body.contains("111111111111-b1"),
        "{}",
        narrowed.body
    );
    assert!(
        !narrowed.body.contains("222222222222-b0"),
        "{}",
        narrowed.body
    );
    for path in [
        "/api/v1/inventory?connector=prod-a",
        "/api/v1/assessments?connector=prod-a",
    ] {
        let reply = get(&app, path, &admin).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        let page: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{path}: {page}");
        assert!(
            items.iter().all(|i| i["account"] == "111111111111"),
            "{path}: {page}"
        );
    }
    let unknown = get(&app, "/api/v1/inventory?connector=nope", &admin).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert!(
        unknown.body.contains("no connector `nope`"),
        "{}",
        unknown.body
    );
}

/// The secure score shown on an overview page.
fn shown_score(body: &str) -> &str {
    body.split("id=\"secure-score\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no secure score: {body}"))
}

/// The rows of an overview's Accounts table.
fn account_rows(body: &str) -> Vec<&str> {
    body.split("id=\"accounts\"")
        .nth(1)
        .expect("an accounts table")
        .split("</table>")
        .next()
        .unwrap()
        .split("<tr>")
        .skip(2)
        .collect()
}

/// The overview and the compliance pages narrow to `?account=`,
/// `?connector=` and `?region=`; the Accounts table links each account to
/// its own score.
#[tokio::test]
async fn the_overview_and_compliance_narrow_to_an_account_connector_or_region() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    estate::seed_two_accounts(&mut store);
    let admin = create_token(&store, "admin-ui", TokenRole::Admin)
        .unwrap()
        .secret;
    let app = router(state);

    let all = get(&app, "/", &admin).await;
    assert_eq!(all.status, StatusCode::OK);
    let rows = account_rows(&all.body);
    assert_eq!(rows.len(), 2, "{rows:?}");
    // Lowest score first: B's volumes are unencrypted.
    assert!(
        rows[0].contains(ACCOUNT_B) && rows[1].contains(ACCOUNT_A),
        "{rows:?}"
    );
    for (account, row) in [(ACCOUNT_A, rows[1]), (ACCOUNT_B, rows[0])] {
        let href = format!("/?account={account}");
        assert!(row.contains(&format!("href=\"{href}\"")), "{row}");
        let own = get(&app, &href, &admin).await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.body);
        // The filtered overview shows the score of the account's row.
        let score = shown_score(&own.body);
        assert!(row.contains(&format!(">{score}<")), "{score} in {row}");
        assert_ne!(score, shown_score(&all.body), "{account}");
        let narrowed = account_rows(&own.body);
        assert_eq!(narrowed.len(), 1, "{narrowed:?}");
        assert!(narrowed[0].contains(account), "{narrowed:?}");
        assert!(own.body.contains("id=\"scope-note\""), "{}", own.body);
    }
    // A connector with a region: A's encrypted us-east-1 volumes only.
    let a_east = get(
        &app,
        &format!("/?connector={CONNECTOR_A}&region=us-east-1"),
        &admin,
    )
    .await;
    assert_eq!(a_east.status, StatusCode::OK);
    assert_eq!(shown_score(&a_east.body), "100.0%");
    let rows = account_rows(&a_east.body);
    assert!(rows.len() == 1 && rows[0].contains(ACCOUNT_A), "{rows:?}");
    assert!(
        rows[0].contains(&format!(
            "/inventory?account={ACCOUNT_A}&amp;region=us-east-1"
        )),
        "{rows:?}"
    );

    // Compliance: EC2.3 (EBS encryption) fails for B, passes for A in us-east-1.
    let control = |q: String| {
        let (app, admin) = (&app, &admin);
        async move { get(app, &format!("/compliance/aws-fsbp/EC2.3?{q}"), admin).await }
    };
    let b = control(format!("account={ACCOUNT_B}")).await;
    assert!(
        b.body.contains("State: <span class=\"badge st-failed\">"),
        "{}",
        b.body
    );
    assert!(b.body.contains(&format!("vol-{ACCOUNT_B}-1")), "{}", b.body);
    assert!(
        !b.body.contains(&format!("vol-{ACCOUNT_A}-3")),
        "{}",
        b.body
    );
    let a = control(format!("connector={CONNECTOR_A}&region=us-east-1")).await;
    assert!(
        a.body.contains("State: <span class=\"badge st-passed\">"),
        "{}",
        a.body
    );
    let estate_wide = control(String::new()).await;
    assert!(
        estate_wide.body.contains(&format!("vol-{ACCOUNT_A}-3")),
        "{}",
        estate_wide.body
    );
    // The standards list keeps the filter in its links.
    let standards = get(&app, &format!("/compliance?account={ACCOUNT_B}"), &admin).await;
    assert_eq!(standards.status, StatusCode::OK);
    assert!(
        standards
            .body
            .contains(&format!("/compliance/aws-fsbp?account={ACCOUNT_B}")),
        "{}",
        standards.body
    );

    // Recommendations: the list counts and the affected resources narrow
    // the same way, and the links keep the filter.
    let volume_row = |body: &str| -> String {
        let row = body
            .split("<tr>")
            .find(|r| r.contains("/recommendations/ec2-volume-encrypted"))
            .unwrap_or_default();
        row.to_owned()
    };
    let all_recs = get(&app, "/recommendations", &admin).await;
    assert_eq!(all_recs.status, StatusCode::OK);
    // Estate-wide: B's two volumes and A's eu-west-1 one are unencrypted.
    assert!(
        volume_row(&all_recs.body).contains("<td class=\"num\">3</td><td class=\"num\">2</td>"),
        "{}",
        volume_row(&all_recs.body)
    );
    let b_recs = get(
        &app,
        &format!("/recommendations?account={ACCOUNT_B}"),
        &admin,
    )
    .await;
    assert_eq!(b_recs.status, StatusCode::OK);
    let b_row = volume_row(&b_recs.body);
    assert!(
        b_row.contains(&format!(
            "/recommendations/ec2-volume-encrypted?account={ACCOUNT_B}"
        )),
        "{b_row}"
    );
    assert!(
        b_row.contains("<td class=\"num\">2</td><td class=\"num\">0</td>"),
        "unhealthy 2, healthy 0: {b_row}"
    );
    assert!(b_recs.body.contains("id=\"scope-note\""));
    let a_east_recs = get(
        &app,
        &format!("/recommendations?connector={CONNECTOR_A}&region=us-east-1&status=unhealthy"),
        &admin,
    )
    .await;
    assert_eq!(a_east_recs.status, StatusCode::OK);
    assert!(
        volume_row(&a_east_recs.body).is_empty(),
        "A's us-east-1 volumes are encrypted: {}",
        volume_row(&a_east_recs.body)
    );
    let detail = get(
        &app,
        &format!("/recommendations/ec2-volume-encrypted?account={ACCOUNT_A}"),
        &admin,
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(
        detail.body.contains(&format!("vol-{ACCOUNT_A}-3")),
        "{}",
        detail.body
    );
    assert!(
        !detail.body.contains(&format!("vol-{ACCOUNT_B}-1")),
        "{}",
        detail.body
    );
    assert!(
        detail.body.contains(&format!(
            "/recommendations/ec2-volume-encrypted?account={ACCOUNT_A}&amp;status=healthy"
        )),
        "the status links keep the filter"
    );
    let estate_detail = get(&app, "/recommendations/ec2-volume-encrypted", &admin).await;
    assert!(
        estate_detail.body.contains(&format!("vol-{ACCOUNT_B}-1")),
        "{}",
        estate_detail.body
    );

    for path in [
        "/?connector=nope",
        "/compliance?connector=nope",
        "/recommendations?connector=nope",
        "/recommendations/ec2-volume-encrypted?connector=nope",
    ] {
        let unknown = get(&app, path, &admin).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            unknown.body.contains("no connector `nope`"),
            "{}",
            unknown.body
        );
    }
}

/// The Changes page shows the day's counts and what scans changed, newest
/// first, filtered by kind of change and like the overview.
#[tokio::test]
async fn the_changes_page_lists_daily_counts_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    estate::seed_two_accounts(&mut store);
    estate::fix_b_volume(&mut store);
    let admin = create_token(&store, "admin-ui", TokenRole::Admin)
        .unwrap()
        .secret;
    let app = router(state);

    let page = get(&app, "/changes", &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("aria-current=\"page\">Changes<"), "nav");
    assert!(page.body.contains("id=\"trend\""), "{}", page.body);
    // Today's row shows the score the overview shows, and a filtered
    // page that part's own.
    for query in [String::new(), format!("?account={ACCOUNT_B}")] {
        let overview = get(&app, &format!("/{query}"), &admin).await;
        let changes = get(&app, &format!("/changes{query}"), &admin).await;
        let trend = changes
            .body
            .split("id=\"trend\"")
            .nth(1)
            .and_then(|t| t.split("</table>").next())
            .expect("the trend table");
        let score = shown_score(&overview.body);
        assert!(
            trend.contains(&format!("<td class=\"num\">{score}</td>")),
            "{query}: {score} in {trend}"
        );
    }
    assert!(page.body.contains("id=\"changes\""), "{}", page.body);
    // Newest first: the fix's resolution comes before the first scan's news.
    let table = page
        .body
        .split("id=\"changes\"")
        .nth(1)
        .expect("the changes table");
    let resolved = table.find("<td>resolved</td>").expect("a resolved change");
    let new = table.find("<td>new</td>").expect("new changes");
    assert!(resolved < new, "newest first");
    assert!(page.body.contains(&format!("vol-{ACCOUNT_B}-1")));

    let only = get(&app, "/changes?change=resolved", &admin).await;
    assert_eq!(only.status, StatusCode::OK);
    assert!(!only.body.contains("<td>new</td>"), "{}", only.body);
    assert!(
        only.body.contains("<option value=\"resolved\" selected"),
        "{}",
        only.body
    );
    let of_a = get(
        &app,
        &format!("/changes?account={ACCOUNT_A}&change=resolved"),
        &admin,
    )
    .await;
    assert!(of_a.body.contains("No changes match."), "{}", of_a.body);
    assert!(of_a.body.contains("id=\"scope-note\""), "{}", of_a.body);
    let bad = get(&app, "/changes?change=fixed", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
