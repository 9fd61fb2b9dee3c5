//! `rampart serve` hardening, over real sockets: where login may send the
//! browser, the login CSRF value, sign-in rate limits, slow and idle
//! connections, concurrent writes, private store files, error bodies,
//! caching, and what readers see of classic connectors.
//!
//! Each test starts the server in process on a free loopback port (its own
//! runtime on a thread) and talks to it with `rampart_testkit::http`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use rampart_catalog::exemptions::Exemptions;
use rampart_model::{Asset, ScanRecord, ScanStatus, Snapshot};
use rampart_server::{AppState, ServerConfig, auth, serve};
use rampart_store::{Store, TokenRole};
use rampart_testkit::http::{Reply, Request, closed_within, wait_for_close};
use serde_json::json;
use time::OffsetDateTime;

/// A server running on its own thread; stopped when dropped.
struct Live {
    dir: tempfile::TempDir,
    db: PathBuf,
    addr: SocketAddr,
    admin: String,
    reader: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn volume(n: usize, encrypted: bool) -> Asset {
    Asset::new(
        format!("arn:aws:ec2:us-east-1:123456789012:volume/vol-{n:04}"),
        "AWS::EC2::Volume",
        "123456789012",
        "us-east-1",
        format!("vol-{n:04}"),
        json!({"state": "in-use", "encrypted": encrypted,
               "attachments": [{"instanceId": format!("i-{n:04}"), "state": "attached"}]}),
    )
}

impl Live {
    fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// A store under a directory that does not exist yet, one complete
    /// scan of 400 volumes, an admin and a reader token, then the server.
    fn start_with(configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data").join("rampart").join("rampart.db");
        let mut config = ServerConfig::new(db.clone());
        config.scheduled_scans = false;
        configure(&mut config);
        let state = AppState::new(config, None).unwrap();
        let mut store = Store::open(&db).unwrap();
        let assets: Vec<Asset> = (0..400).map(|n| volume(n, n % 2 == 0)).collect();
        let assessments = state.posture.assess(&assets, &Exemptions::default());
        let now = OffsetDateTime::now_utc();
        let snapshot = Snapshot {
            scan: ScanRecord {
                id: "scan-1".into(),
                started_at: now - time::Duration::minutes(1),
                finished_at: Some(now),
                status: ScanStatus::Running,
                accounts: vec!["123456789012".into()],
                regions: vec!["us-east-1".into()],
                api_calls: 1,
                asset_count: 0,
                gap_count: 0,
            },
            assets,
            gaps: vec![],
        };
        store.complete_scan(&snapshot, &assessments).unwrap();
        let admin = auth::create_token(&store, "alice", TokenRole::Admin)
            .unwrap()
            .secret;
        let reader = auth::create_token(&store, "bob", TokenRole::Reader)
            .unwrap()
            .secret;
        drop(store);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready.send(listener.local_addr().unwrap()).unwrap();
                serve(listener, state, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr.recv_timeout(Duration::from_secs(30)).unwrap();
        Self {
            dir,
            db,
            addr,
            admin,
            reader,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn send(&self, request: Request) -> Reply {
        request.send(self.addr)
    }

    /// The login page for `next`; its CSRF value (cookie and field).
    fn login_page(&self, next: &str, cookie_name: &str) -> (Reply, String) {
        let page = self.send(Request::get(&format!("/login?next={next}")));
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.cookie(cookie_name).expect("a login CSRF cookie");
        assert!(
            page.body.contains(&format!("value=\"{csrf}\"")),
            "the form carries the cookie's value"
        );
        (page, csrf)
    }

    /// Posts the login form.
    fn login(&self, cookie: (&str, &str), csrf: &str, token: &str, next: &str) -> Reply {
        self.send(
            Request::post("/login")
                .header("cookie", &format!("{}={}", cookie.0, cookie.1))
                .form(&[("token", token), ("csrf_token", csrf), ("next", next)]),
        )
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const LOGIN_CSRF: &str = "rampart_login_csrf";
/// The login form's CSRF cookie behind an https public URL.
const SECURE_LOGIN_CSRF: &str = "__Host-rampart_login_csrf";

#[test]
fn login_follows_only_same_site_paths() {
    let live = Live::start();
    // `next` as the login form posts it back (already form-decoded once).
    let hostile = [
        "/\t/evil.example",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "/\r\nLocation: https://evil.example",
        "/\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%5cevil.example",
        "/%2f/evil.example",
        "/%252f/evil.example",
        "/%2509/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "",
    ];
    for next in hostile {
        let (_, csrf) = live.login_page("/", LOGIN_CSRF);
        let r = live.login((LOGIN_CSRF, &csrf), &csrf, &live.admin, next);
        assert_eq!(r.status, 303, "{next:?}: {}", r.body);
        assert_eq!(r.header("location"), Some("/"), "{next:?}");
        assert!(r.cookie("rampart_session").is_some(), "{next:?}");
    }
    // The login page itself never echoes a hostile `next` into its form.
    for query in ["/%09/evil.example", "%2F%2Fevil.example", "/%250d%250a"] {
        let page = live.send(Request::get(&format!("/login?next={query}")));
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("name=\"next\" value=\"/\""),
            "{query}: {}",
            page.body
        );
    }
    // A path on this site is followed, query and encoded characters kept.
    let next = "/inventory/resource?type=AWS::EC2::Volume&arn=arn%3Aaws%3Aec2";
    let (_, csrf) = live.login_page("/", LOGIN_CSRF);
    let r = live.login((LOGIN_CSRF, &csrf), &csrf, &live.admin, next);
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some(next));
}

#[test]
fn the_login_csrf_value_must_be_one_this_server_issued() {
    let live = Live::start();
    // Cookie and field agree, but the server never issued the value.
    let forged = "attacker-chosen-value-0123456789";
    let r = live.login((LOGIN_CSRF, forged), forged, &live.admin, "/");
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "forbidden");
    // An issued value, but the field differs from the cookie.
    let (_, csrf) = live.login_page("/", LOGIN_CSRF);
    let r = live.login((LOGIN_CSRF, &csrf), forged, &live.admin, "/");
    assert_eq!(r.status, 403);
    // The issued value in both: signed in; the value is then used up.
    let r = live.login((LOGIN_CSRF, &csrf), &csrf, &live.admin, "/");
    assert_eq!(r.status, 303, "{}", r.body);
    let r = live.login((LOGIN_CSRF, &csrf), &csrf, &live.admin, "/");
    assert_eq!(r.status, 403);
    // Over plain HTTP the cookies have no prefix and no `Secure`.
    let (page, _) = live.login_page("/", LOGIN_CSRF);
    let set = page.set_cookie(LOGIN_CSRF).unwrap();
    assert!(!set.contains("Secure"), "{set}");
}

#[test]
fn behind_an_https_public_url_cookies_are_host_prefixed_and_secure() {
    let live = Live::start_with(|c| c.public_url = Some("https://rampart.example.com".into()));
    let csrf_cookie = SECURE_LOGIN_CSRF;
    let (page, csrf) = live.login_page("/", csrf_cookie);
    assert!(page.cookie(LOGIN_CSRF).is_none());
    let r = live.login((csrf_cookie, &csrf), &csrf, &live.admin, "/api/v1/me");
    assert_eq!(r.status, 303, "{}", r.body);
    let set = r.set_cookie("__Host-rampart_session").unwrap();
    for attribute in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(attribute), "{attribute}: {set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    assert!(r.cookie("rampart_session").is_none());
    let session = r.cookie("__Host-rampart_session").unwrap();
    let me = live.send(
        Request::get("/api/v1/me").header("cookie", &format!("__Host-rampart_session={session}")),
    );
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["role"], "admin");
    // The unprefixed name is not a session here.
    let me = live
        .send(Request::get("/api/v1/me").header("cookie", &format!("rampart_session={session}")));
    assert_eq!(me.status, 401);
}

#[test]
fn failed_sign_ins_are_limited_per_client() {
    let live = Live::start();
    let (_, csrf) = live.login_page("/", LOGIN_CSRF);
    for attempt in 1..=auth::LOGIN_FAILURES {
        let r = live.login((LOGIN_CSRF, &csrf), &csrf, "rampart_wrong", "/");
        assert_eq!(r.status, 401, "attempt {attempt}");
    }
    // Then even the right token waits.
    let r = live.login((LOGIN_CSRF, &csrf), &csrf, &live.admin, "/");
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "too_many_requests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=auth::LOGIN_WINDOW.as_secs()).contains(&wait), "{wait}");
    assert!(r.cookie("rampart_session").is_none());
    // API tokens are not affected.
    let me = live.send(Request::get("/api/v1/me").bearer(&live.reader));
    assert_eq!(me.status, 200);
}

/// One sign-in through the login form (whose CSRF cookie is
/// `csrf_cookie`) with `X-Forwarded-For: forwarded`.
fn sign_in_forwarded(live: &Live, csrf_cookie: &str, forwarded: &str, token: &str) -> u16 {
    let (_, csrf) = live.login_page("/", csrf_cookie);
    live.send(
        Request::post("/login")
            .header("cookie", &format!("{csrf_cookie}={csrf}"))
            .header("x-forwarded-for", forwarded)
            .form(&[("token", token), ("csrf_token", &csrf), ("next", "/")]),
    )
    .status
}

#[test]
fn behind_a_proxy_the_forwarded_client_is_limited_not_everyone() {
    let live = Live::start_with(|c| c.public_url = Some("https://rampart.example.com".into()));
    let attempt = |client: &str, token: &str| {
        sign_in_forwarded(
            &live,
            SECURE_LOGIN_CSRF,
            &format!("198.51.100.9, {client}"),
            token,
        )
    };
    for _ in 0..auth::LOGIN_FAILURES {
        assert_eq!(attempt("203.0.113.7", "rampart_wrong"), 401);
    }
    assert_eq!(attempt("203.0.113.7", &live.admin), 429);
    // Another client behind the same proxy signs in.
    assert_eq!(attempt("203.0.113.8", &live.admin), 303);
}

/// `--trusted-proxy`: behind a chain of trusted proxies the client is the
/// nearest forwarded address that is not one of them; addresses a client
/// puts left of its own do not change who it is. Without a trusted proxy
/// the header is ignored.
#[test]
fn behind_trusted_proxies_the_client_is_the_nearest_untrusted_forwarded_address() {
    let live = Live::start_with(|c| {
        c.trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]
            .iter()
            .map(|p| rampart_server::parse_trusted_proxy(p).unwrap())
            .collect();
    });
    // The client, then an ingress at 10.1.2.3, then the peer (loopback).
    let attempt = |forged: &str, client: &str, token: &str| {
        sign_in_forwarded(
            &live,
            LOGIN_CSRF,
            &format!("{forged}, {client}, 10.1.2.3"),
            token,
        )
    };
    for n in 0..auth::LOGIN_FAILURES {
        // A new forged address each time: still the same client.
        assert_eq!(
            attempt(&format!("192.0.2.{n}"), "203.0.113.7", "rampart_wrong"),
            401
        );
    }
    assert_eq!(attempt("192.0.2.200", "203.0.113.7", &live.admin), 429);
    assert_eq!(attempt("192.0.2.200", "203.0.113.8", &live.admin), 303);
    assert!(rampart_server::parse_trusted_proxy("10.0.0.0/33").is_err());
    assert!(rampart_server::parse_trusted_proxy("proxy.internal").is_err());

    // No trusted proxy and no public URL: every loopback client is one.
    let plain = Live::start_with(|_| {});
    for n in 0..auth::LOGIN_FAILURES {
        let forwarded = format!("203.0.113.{n}");
        assert_eq!(
            sign_in_forwarded(&plain, LOGIN_CSRF, &forwarded, "rampart_wrong"),
            401
        );
    }
    assert_eq!(
        sign_in_forwarded(&plain, LOGIN_CSRF, "203.0.113.99", &plain.admin),
        429,
        "X-Forwarded-For from an untrusted peer is ignored"
    );
}

#[test]
fn slow_and_idle_connections_are_closed() {
    let limit = Duration::from_millis(600);
    let live = Live::start_with(|c| c.header_read_timeout = limit);
    let within = Duration::from_secs(5);
    // Half a request head, then nothing.
    let took = closed_within(live.addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", within)
        .expect("the server closes a connection whose headers never end");
    assert!(took >= limit - Duration::from_millis(100), "{took:?}");
    // A connection that sends nothing at all.
    let took = closed_within(live.addr, b"", within).expect("an idle connection is closed");
    assert!(took >= limit - Duration::from_millis(100), "{took:?}");
    // A keep-alive connection left idle after a request.
    let mut stream = std::net::TcpStream::connect(live.addr).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let started = std::time::Instant::now();
    let mut first = [0u8; 12];
    std::io::Read::read_exact(&mut stream, &mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        wait_for_close(&mut stream, started, within).is_some(),
        "an idle keep-alive connection is closed"
    );
    // Requests that come in time are answered.
    let r = live.send(Request::get("/healthz"));
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
}

#[test]
fn connections_beyond_the_cap_wait_to_be_served() {
    let limit = Duration::from_millis(800);
    let live = Live::start_with(|c| {
        c.header_read_timeout = limit;
        c.max_connections = 1;
    });
    // One idle connection takes the only slot until the server closes it.
    let mut idle = std::net::TcpStream::connect(live.addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    let r = live.send(Request::get("/healthz"));
    let waited = started.elapsed();
    assert_eq!(r.status, 200);
    assert!(
        waited >= limit - Duration::from_millis(300),
        "served after {waited:?}, before the idle connection was closed"
    );
    assert!(
        wait_for_close(&mut idle, started, Duration::from_secs(5)).is_some(),
        "the idle connection was closed"
    );
}

#[test]
fn concurrent_exemption_writes_wait_instead_of_failing() {
    let live = Live::start();
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let live = &live;
                scope.spawn(move || {
                    live.send(Request::post("/api/v1/exemptions").bearer(&live.admin).json(
                        &json!({
                            "recommendation": "ec2-volume-encrypted",
                            "resource": format!("arn:aws:ec2:us-east-1:123456789012:volume/vol-{i:04}"),
                            "reason": format!("concurrent {i}"),
                        }),
                    ))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["reevaluated_scan"], "scan-1");
    }
    let list = live.send(Request::get("/api/v1/exemptions?limit=100").bearer(&live.reader));
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 16);
    // Every one of them is applied: re-evaluations did not overwrite each other.
    let exempt = live.send(
        Request::get(
            "/api/v1/recommendations/ec2-volume-encrypted/assessments?status=exempt&limit=100",
        )
        .bearer(&live.reader),
    );
    assert_eq!(exempt.status, 200, "{}", exempt.body);
    // vol-0000..vol-0015, each exempted by its own exemption.
    let items = exempt.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 16, "{}", exempt.body);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["resource_name"], format!("vol-{i:04}"));
        assert_eq!(item["exemption"]["reason"], format!("concurrent {i}"));
    }
    // A retried request (same content) finds the first one: no duplicate.
    let first = &replies[0].json()["exemption"];
    let again = live.send(
        Request::post("/api/v1/exemptions")
            .bearer(&live.admin)
            .json(&json!({
                "recommendation": first["recommendation"],
                "resource": first["resource"],
                "reason": first["reason"],
            })),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["exemption"]["id"], first["id"]);
    let list = live.send(Request::get("/api/v1/exemptions?limit=100").bearer(&live.reader));
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 16);
}

#[cfg(unix)]
#[test]
fn the_store_and_its_directory_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let live = Live::start();
    // A write, so the WAL and shared-memory files exist.
    let r = live.send(
        Request::post("/api/v1/exemptions")
            .bearer(&live.admin)
            .json(&json!({"region": "eu-west-1", "reason": "test"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&live.db), 0o600);
    let dir = live.db.parent().unwrap();
    assert_eq!(mode(dir), 0o700);
    assert_eq!(mode(dir.parent().unwrap()), 0o700);
    let mut sidecars = 0;
    for suffix in ["-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", live.db.display()));
        if path.exists() {
            sidecars += 1;
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert!(
        sidecars > 0,
        "WAL mode keeps a -wal or -shm file while open"
    );
}

#[test]
fn internal_errors_show_a_request_id_and_no_details() {
    // An exemptions file that cannot be read: re-evaluation fails inside.
    let missing = std::env::temp_dir().join("rampart-hardening-no-such-exemptions.yaml");
    let live = Live::start_with(|c| c.exemptions_file = Some(missing.clone()));
    let r = live.send(
        Request::post("/api/v1/exemptions")
            .bearer(&live.admin)
            .json(&json!({"region": "eu-west-1", "reason": "test"})),
    );
    assert_eq!(r.status, 500, "{}", r.body);
    let body = r.json();
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["message"], "internal error");
    let id = body["error"]["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(r.header("x-request-id"), Some(id));
    for secret in [
        "no-such-exemptions",
        "/tmp",
        live.dir.path().to_str().unwrap(),
        "store",
        "No such file",
    ] {
        assert!(!r.body.contains(secret), "`{secret}` in {}", r.body);
    }
    // Saving and re-evaluating are one unit: nothing was saved.
    let list = live.send(Request::get("/api/v1/exemptions").bearer(&live.reader));
    assert_eq!(
        list.json()["items"].as_array().unwrap().len(),
        0,
        "{}",
        list.body
    );
}

#[test]
fn api_responses_are_never_cached() {
    let live = Live::start();
    for (path, token, status) in [
        ("/api/v1/score", Some(live.reader.as_str()), 200),
        ("/api/v1/me", Some(live.reader.as_str()), 200),
        ("/api/v1/exemptions", Some(live.admin.as_str()), 200),
        ("/api/v1/me", None, 401),
        ("/api/v1/nothing-here", Some(live.reader.as_str()), 404),
    ] {
        let mut request = Request::get(path);
        if let Some(t) = token {
            request = request.bearer(t);
        }
        let r = live.send(request);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
}

#[test]
fn readers_do_not_see_access_key_ids() {
    use rampart_connector::{ClassicAuthentication, Connector, Plan};
    let live = Live::start();
    let key_id = "AKIAIOSFODNN7EXAMPLE";
    let mut connector = Connector::new(
        "legacy",
        "123456789012",
        &[Plan::Cspm],
        vec!["us-east-1".into()],
        12,
        None,
    );
    connector.classic = Some(ClassicAuthentication::AwsCreds {
        access_key_id: key_id.into(),
    });
    Store::open(&live.db)
        .unwrap()
        .create_connector(&connector)
        .unwrap();
    for path in [
        "/api/v1/connectors",
        "/api/v1/connectors/legacy",
        "/connectors",
    ] {
        let r = live.send(Request::get(path).bearer(&live.reader));
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(!r.body.contains(key_id), "{path}: {}", r.body);
        assert!(!r.body.contains("AKIAIOSFODNN7"), "{path}: {}", r.body);
    }
    let r = live.send(Request::get("/api/v1/connectors/legacy").bearer(&live.reader));
    assert_eq!(r.json()["classic"]["accessKeyId"], "****************MPLE");
    // Admins manage the connector and see it whole.
    let r = live.send(Request::get("/api/v1/connectors/legacy").bearer(&live.admin));
    assert_eq!(r.json()["classic"]["accessKeyId"], key_id);
    let r = live.send(Request::get("/api/v1/connectors").bearer(&live.admin));
    assert_eq!(r.json()["items"][0]["classic"]["accessKeyId"], key_id);
}
