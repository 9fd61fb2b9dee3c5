//! Agentless scanning results through the API and the dashboard, in
//! process, on the shared sample machines (`rampart_testkit::machines`):
//! the `rampart.vulnerabilities/v1` document and its filters, machine
//! summaries (a machine not read is never clean), one machine, findings
//! filtered by CVE / package / severity / account, "which machines have
//! CVE-X", `?scan=`, and the pages (hostile strings escaped).

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_model::machine::{VULNERABILITIES_SCHEMA, VulnerabilitiesDocument};
use rampart_model::{ScanRecord, ScanStatus, Snapshot};
use rampart_server::auth::create_token;
use rampart_server::{AppState, ServerConfig, router};
use rampart_store::{Store, TokenRole};
use rampart_testkit::machines::{
    BROKEN_ARN, SHARED_CVE, WEB_ARN, WORKER_ARN, sample_machines, web_server,
};
use serde_json::Value;
use time::OffsetDateTime;
use tower::ServiceExt;

const HOSTILE: &str = "<script>window.__xss=1</script>";

struct Env {
    _dir: tempfile::TempDir,
    app: Router,
    reader: String,
}

fn complete(store: &mut Store, id: &str, minute: i64) {
    let at = OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute);
    let snapshot = Snapshot {
        scan: ScanRecord {
            id: id.into(),
            started_at: at,
            finished_at: Some(at + time::Duration::seconds(30)),
            status: ScanStatus::Running,
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            api_calls: 0,
            asset_count: 0,
            gap_count: 0,
        },
        assets: vec![],
        gaps: vec![],
    };
    store.complete_scan(&snapshot, &[]).unwrap();
}

/// `machines`: whether any scan read machines. With them: an older scan
/// where only the web server was read (with a hostile package name), then
/// the latest with the three sample machines.
fn env(machines: bool) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), None).unwrap();
    let mut store = Store::open(&db).unwrap();
    complete(&mut store, "scan-old", 0);
    complete(&mut store, "scan-new", 10);
    if machines {
        let mut old = web_server();
        old.findings[0].package = HOSTILE.into();
        store.put_machine_scans("scan-old", &[old]).unwrap();
        store
            .put_machine_scans("scan-new", &sample_machines())
            .unwrap();
        let zip = dir.path().join("all.zip");
        rampart_testkit::osv::write_fixtures_zip(&zip, false);
        store
            .import_vulndb(&zip, OffsetDateTime::now_utc(), &mut |_| {})
            .unwrap();
    }
    let reader = create_token(&store, "bob", TokenRole::Reader)
        .unwrap()
        .secret;
    Env {
        _dir: dir,
        app: router(state),
        reader,
    }
}

async fn call(env: &Env, uri: &str) -> (StatusCode, String) {
    let req = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", env.reader))
        .body(Body::empty())
        .unwrap();
    let res = env.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get_json(env: &Env, uri: &str) -> Value {
    let (status, body) = call(env, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

fn strings(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_document_is_the_contract_of_the_latest_scan_and_filters_narrow_it() {
    let env = env(true);
    let doc = get_json(&env, "/api/v1/vulnerabilities").await;
    assert_eq!(doc["schema"], VULNERABILITIES_SCHEMA);
    let parsed: VulnerabilitiesDocument = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(parsed.machines, sample_machines());
    // The database the machines are matched against, as the store has it.
    assert!(parsed.vulnerability_db.records > 0, "{doc}");
    assert!(
        parsed
            .vulnerability_db
            .sources
            .iter()
            .any(|s| s == "Debian"),
        "{doc}"
    );
    // The machine not read is in the document with its errors.
    let broken = parsed
        .machines
        .iter()
        .find(|m| m.resource == BROKEN_ARN)
        .unwrap();
    assert!(broken.findings.is_empty() && !broken.errors.is_empty());

    // CVE: both machines that have it, each with only the matching finding.
    let doc = get_json(&env, &format!("/api/v1/vulnerabilities?cve={SHARED_CVE}")).await;
    // Machines come in resource order (`eu-west-1` before `us-east-1`).
    assert_eq!(strings(&doc["machines"], "resource"), [WORKER_ARN, WEB_ARN]);
    assert_eq!(doc["machines"][1]["findings"].as_array().unwrap().len(), 1);
    // Severity is "at least"; package matches binary or source names.
    let doc = get_json(&env, "/api/v1/vulnerabilities?severity=high").await;
    assert_eq!(strings(&doc["machines"], "resource"), [WORKER_ARN, WEB_ARN]);
    let doc = get_json(&env, "/api/v1/vulnerabilities?package=zlib").await;
    assert_eq!(strings(&doc["machines"], "resource"), [WEB_ARN]);
    assert_eq!(doc["machines"][0]["findings"][0]["package"], "zlib1g");
    let doc = get_json(&env, "/api/v1/vulnerabilities?account=210987654321").await;
    assert_eq!(strings(&doc["machines"], "resource"), [WORKER_ARN]);
    // An older scan on request.
    let doc = get_json(&env, "/api/v1/vulnerabilities?scan=scan-old").await;
    assert_eq!(strings(&doc["machines"], "resource"), [WEB_ARN]);
    assert_eq!(doc["machines"][0]["findings"][0]["package"], HOSTILE);

    let (status, body) = call(&env, "/api/v1/vulnerabilities?severity=severe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("unknown `severity` `severe`"), "{body}");
    let (status, body) = call(&env, "/api/v1/vulnerabilities?scan=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn without_machine_results_the_document_is_404_and_lists_are_empty() {
    let env = env(false);
    let (status, body) = call(&env, "/api/v1/vulnerabilities").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("\"no_scan\""), "{body}");
    for uri in [
        "/api/v1/vulnerabilities/machines",
        "/api/v1/vulnerabilities/findings",
        "/api/v1/vulnerabilities/cves/CVE-2024-0727/machines",
    ] {
        let page = get_json(&env, uri).await;
        assert_eq!(page["items"].as_array().unwrap().len(), 0, "{uri}");
    }
    let (status, _) = call(&env, "/api/v1/vulnerabilities/machines/i-0web0000000000001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn machines_are_summarized_worst_first_and_one_is_shown_by_id_or_arn() {
    let env = env(true);
    let page = get_json(&env, "/api/v1/vulnerabilities/machines").await;
    let items = &page["items"];
    // Not read first, then by critical, high… counts.
    assert_eq!(
        strings(items, "resource"),
        [BROKEN_ARN, WEB_ARN, WORKER_ARN]
    );
    assert_eq!(items[0]["result"], "not_read");
    assert!(
        items[0]["errors"][0]
            .as_str()
            .unwrap()
            .contains("snap-0bad")
    );
    assert_eq!(items[1]["result"], "findings");
    assert_eq!(items[1]["findings"]["critical"], 1);
    assert_eq!(items[1]["findings"]["medium"], 1);
    assert_eq!(items[1]["findings"]["high"], 0);
    assert_eq!(items[1]["secrets"], 1);
    assert_eq!(items[1]["instance"], "i-0web0000000000001");
    assert_eq!(items[2]["account"], "210987654321");
    assert_eq!(items[2]["region"], "eu-west-1");
    let not_read = get_json(&env, "/api/v1/vulnerabilities/machines?result=not_read").await;
    assert_eq!(strings(&not_read["items"], "resource"), [BROKEN_ARN]);
    // Pages of one, following `next`.
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/vulnerabilities/machines?limit=1".to_owned());
    while let Some(uri) = next {
        let page = get_json(&env, &uri).await;
        seen.extend(strings(&page["items"], "resource"));
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, [BROKEN_ARN, WEB_ARN, WORKER_ARN]);
    let (status, _) = call(&env, "/api/v1/vulnerabilities/machines?result=fine").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let one = get_json(&env, "/api/v1/vulnerabilities/machines/i-0web0000000000001").await;
    assert_eq!(one["scan_id"], "scan-new");
    assert_eq!(one["result"], "findings");
    let machine: rampart_model::machine::MachineScan =
        serde_json::from_value(one["machine"].clone()).unwrap();
    assert_eq!(machine, web_server());
    let by_arn = get_json(
        &env,
        &format!(
            "/api/v1/vulnerabilities/machines/{}",
            url_segment(WORKER_ARN)
        ),
    )
    .await;
    assert_eq!(by_arn["machine"]["resource"], WORKER_ARN);
    let (status, body) = call(&env, "/api/v1/vulnerabilities/machines/i-nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body.contains("no machine `i-nope` in scan `scan-new`"),
        "{body}"
    );
}

fn url_segment(text: &str) -> String {
    text.replace(':', "%3A").replace('/', "%2F")
}

#[tokio::test]
async fn findings_filter_by_cve_package_severity_and_account() {
    let env = env(true);
    let all = get_json(&env, "/api/v1/vulnerabilities/findings").await;
    // Worst first.
    assert_eq!(
        strings(&all["items"], "severity"),
        ["critical", "high", "medium"]
    );
    assert_eq!(all["items"][0]["resource"], WEB_ARN);
    assert_eq!(all["items"][0]["fixed_version"], "3.0.13-1~deb12u1");
    let cve = get_json(
        &env,
        &format!("/api/v1/vulnerabilities/findings?cve={SHARED_CVE}"),
    )
    .await;
    assert_eq!(
        strings(&cve["items"], "vulnerability"),
        ["DSA-5678-1", "ALPINE-CVE-2024-0727"]
    );
    let pkg = get_json(&env, "/api/v1/vulnerabilities/findings?package=openssl").await;
    assert_eq!(strings(&pkg["items"], "package"), ["libssl3", "libcrypto3"]);
    let high = get_json(&env, "/api/v1/vulnerabilities/findings?severity=high").await;
    assert_eq!(high["items"].as_array().unwrap().len(), 2);
    let acct = get_json(
        &env,
        "/api/v1/vulnerabilities/findings?account=123456789012&severity=low",
    )
    .await;
    assert_eq!(strings(&acct["items"], "resource"), [WEB_ARN, WEB_ARN]);
    let none = get_json(&env, "/api/v1/vulnerabilities/findings?cve=CVE-1999-0001").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn which_machines_have_a_cve() {
    let env = env(true);
    let page = get_json(
        &env,
        &format!("/api/v1/vulnerabilities/cves/{SHARED_CVE}/machines"),
    )
    .await;
    assert_eq!(strings(&page["items"], "resource"), [WORKER_ARN, WEB_ARN]);
    assert_eq!(page["items"][0]["findings"][0]["package"], "libcrypto3");
    assert_eq!(page["items"][1]["findings"].as_array().unwrap().len(), 1);
    // An advisory id works too; so does an account filter.
    let page = get_json(&env, "/api/v1/vulnerabilities/cves/DLA-3612-1/machines").await;
    assert_eq!(strings(&page["items"], "resource"), [WEB_ARN]);
    let page = get_json(
        &env,
        &format!("/api/v1/vulnerabilities/cves/{SHARED_CVE}/machines?account=210987654321"),
    )
    .await;
    assert_eq!(strings(&page["items"], "resource"), [WORKER_ARN]);
    let page = get_json(&env, "/api/v1/vulnerabilities/cves/CVE-1999-0001/machines").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn the_pages_list_machines_answer_a_cve_search_and_show_one_machine() {
    let env = env(true);
    let (status, html) = call(&env, "/vulnerabilities").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("href=\"/vulnerabilities\" aria-current=\"page\""),
        "nav"
    );
    // Every machine, the unread one as "not read" with its error.
    for id in [
        "i-0web0000000000001",
        "i-0wrk0000000000002",
        "i-0bad0000000000003",
    ] {
        assert!(
            html.contains(&format!("href=\"/vulnerabilities/machines/{id}\"")),
            "{id}"
        );
    }
    let bad_row = html
        .split("<tr>")
        .find(|r| r.contains("i-0bad0000000000003"))
        .unwrap();
    assert!(bad_row.contains("not read"), "{bad_row}");
    assert!(!bad_row.contains("no finding"), "{bad_row}");
    assert!(
        bad_row.contains("no partition with a filesystem"),
        "{bad_row}"
    );

    // "Which machines have CVE-X".
    let (_, html) = call(&env, &format!("/vulnerabilities?cve={SHARED_CVE}")).await;
    let section = html.split("id=\"cve-machines\"").nth(1).unwrap();
    let section = section.split("</section>").next().unwrap();
    assert!(section.contains("(2)"), "{section}");
    assert!(section.contains("i-0web0000000000001") && section.contains("i-0wrk0000000000002"));
    assert!(!section.contains("i-0bad"));
    let (_, html) = call(&env, "/vulnerabilities?cve=CVE-1999-0001").await;
    assert!(html.contains("No machine read has"), "{html}");

    // Filters: package narrows the machines and lists matching findings.
    let (_, html) = call(&env, "/vulnerabilities?package=zlib").await;
    assert!(html.contains("id=\"findings\""));
    assert!(html.contains("DLA-3612-1"));
    assert!(!html.contains("i-0wrk0000000000002"));
    let (status, _) = call(&env, "/vulnerabilities?severity=severe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // One machine.
    let (status, html) = call(&env, "/vulnerabilities/machines/i-0web0000000000001").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for text in [
        "Debian GNU/Linux 12 (bookworm)",
        "412",
        "DSA-5678-1",
        "3.0.13-1~deb12u1",
        "no fix yet",
        "/home/admin/.aws/credentials",
        "aws-access-key",
        "sha256:9f86d081",
    ] {
        assert!(html.contains(text), "missing `{text}`");
    }
    let (_, html) = call(&env, "/vulnerabilities/machines/i-0bad0000000000003").await;
    assert!(html.contains("id=\"errors\""));
    assert!(html.contains("not known to be clean"));
    assert!(!html.contains("No vulnerable package."));
    let (status, _) = call(&env, "/vulnerabilities/machines/i-nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Strings read from disks come out escaped.
    let (_, html) = call(
        &env,
        "/vulnerabilities/machines/i-0web0000000000001?scan=scan-old",
    )
    .await;
    assert!(!html.contains(HOSTILE));
    assert!(html.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"));
}

#[tokio::test]
async fn without_machine_results_the_page_says_so() {
    let env = env(false);
    let (status, html) = call(&env, "/vulnerabilities").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"no-machine-scan\""), "{html}");
}
