//! The scan scheduler in process, on an injected clock, with a fake scan
//! function that records which connectors it was asked to scan and stores
//! each scan (begun at the injected time, under its connector) the way the
//! real one does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failure should stop the test"
)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use rampart_connector::{Connector, OrganizationalData, Plan};
use rampart_model::{ScanRecord, ScanStatus, Snapshot};
use rampart_server::scans::{JobState, ScanContext, ScanFn, ScanRequest};
use rampart_server::scheduler::{INTERRUPTED, Scheduler};
use rampart_server::{AppState, ServerConfig, auth, router};
use rampart_store::{Store, TokenRole};
use serde_json::Value;
use time::{Duration, OffsetDateTime};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// A fixed point in time the tests move by hand.
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

/// What the fake scan function saw, and the gate it waits at.
#[derive(Clone)]
struct Fake {
    now: Arc<Mutex<OffsetDateTime>>,
    calls: Arc<Mutex<Vec<Option<String>>>>,
    /// Each scan takes one permit before it completes (none: it waits).
    gate: Arc<Semaphore>,
    /// Fail before storing anything (as when credentials are refused).
    fail_early: Arc<Mutex<bool>>,
    /// Start scans at the real time, not at `now`.
    real_clock: Arc<Mutex<bool>>,
}

impl Fake {
    fn new() -> Self {
        Self {
            now: Arc::new(Mutex::new(t0())),
            calls: Arc::default(),
            gate: Arc::new(Semaphore::new(0)),
            fail_early: Arc::default(),
            real_clock: Arc::default(),
        }
    }

    fn set_now(&self, t: OffsetDateTime) {
        *self.now.lock().unwrap() = t;
    }

    fn calls(&self) -> Vec<Option<String>> {
        self.calls.lock().unwrap().clone()
    }

    /// The calls, once there are `n` (scans start on their own tasks).
    async fn calls_when(&self, n: usize) -> Vec<Option<String>> {
        for _ in 0..500 {
            if self.calls().len() >= n {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        self.calls()
    }

    fn scan_fn(&self, db: PathBuf) -> ScanFn {
        let fake = self.clone();
        Arc::new(move |request: ScanRequest, _ctx: ScanContext| {
            let fake = fake.clone();
            let db = db.clone();
            Box::pin(async move {
                // Read before the call is recorded: a test that saw the
                // call may move the clock.
                let started = if *fake.real_clock.lock().unwrap() {
                    OffsetDateTime::now_utc()
                } else {
                    *fake.now.lock().unwrap()
                };
                fake.calls.lock().unwrap().push(request.connector.clone());
                if *fake.fail_early.lock().unwrap() {
                    return Err("cannot assume the role".to_owned());
                }
                {
                    let store = Store::open(&db).unwrap();
                    store.begin_scan(&record(&request.id, started)).unwrap();
                    // A scan with the default credentials has no connector.
                    if let Some(name) = &request.connector {
                        let connector = store.connector(name).unwrap().unwrap();
                        store
                            .set_scan_connector(&request.id, &connector.id.to_string())
                            .unwrap();
                    }
                }
                fake.gate.acquire().await.unwrap().forget();
                let mut scan = record(&request.id, started);
                scan.status = ScanStatus::Complete;
                scan.finished_at = Some(started + Duration::minutes(5));
                Store::open(&db)
                    .unwrap()
                    .complete_scan(
                        &Snapshot {
                            scan,
                            assets: vec![],
                            gaps: vec![],
                        },
                        &[],
                    )
                    .unwrap();
                Ok(())
            })
        })
    }
}

fn record(id: &str, started_at: OffsetDateTime) -> ScanRecord {
    ScanRecord {
        id: id.to_owned(),
        started_at,
        finished_at: None,
        status: ScanStatus::Running,
        accounts: vec!["111111111111".into()],
        regions: vec!["us-east-1".into()],
        api_calls: 0,
        asset_count: 0,
        gap_count: 0,
    }
}

struct Env {
    dir: tempfile::TempDir,
    fake: Fake,
    state: AppState,
    scheduler: Scheduler,
}

impl Env {
    fn db(&self) -> PathBuf {
        self.dir.path().join("rampart.db")
    }

    fn store(&self) -> Store {
        Store::open(&self.db()).unwrap()
    }

    /// One tick; returns the connectors whose scans it started, once the
    /// scan function has been called for each.
    async fn started(&self) -> Vec<String> {
        let before = self.fake.calls().len();
        let tick = self.scheduler.tick().await.unwrap();
        self.fake.calls_when(before + tick.started.len()).await;
        tick.started
            .into_iter()
            .map(|j| j.request.connector.unwrap())
            .collect()
    }

    /// Lets the running scans finish and waits until the registry says so.
    async fn finish_all(&self) {
        let running = self.state.scans.running();
        self.fake.gate.add_permits(running.len());
        for job in running {
            wait_for_end(&self.state, &job.id).await;
        }
    }
}

async fn wait_for_end(state: &AppState, id: &str) -> JobState {
    for _ in 0..500 {
        let state = state.scans.status(id).unwrap().state;
        if state != JobState::Running {
            return state;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("scan `{id}` did not end");
}

/// A server state over `dir` (a store that may already hold connectors
/// and scans, as after a restart) with the fake scanner and clock.
fn env_in(dir: tempfile::TempDir, fake: Fake) -> Env {
    let db = dir.path().join("rampart.db");
    let state = AppState::new(ServerConfig::new(db.clone()), Some(fake.scan_fn(db))).unwrap();
    let now = fake.now.clone();
    let scheduler = state
        .scheduler
        .clone()
        .with_clock(Arc::new(move || *now.lock().unwrap()))
        .with_max_running(10);
    Env {
        dir,
        fake,
        state,
        scheduler,
    }
}

fn env() -> Env {
    env_in(tempfile::tempdir().unwrap(), Fake::new())
}

fn connector(name: &str, account: &str, interval: u32) -> Connector {
    Connector::new(name, account, &[Plan::Cspm], vec![], interval, None)
}

fn add(db: &Path, c: &Connector) {
    Store::open(db).unwrap().create_connector(c).unwrap();
}

/// A scan of `c` stored as the real scan stores it, started at `at`.
fn scanned(db: &Path, c: &Connector, id: &str, at: OffsetDateTime, status: ScanStatus) {
    let mut store = Store::open(db).unwrap();
    store.begin_scan(&record(id, at)).unwrap();
    store.set_scan_connector(id, &c.id.to_string()).unwrap();
    match status {
        ScanStatus::Complete => {
            let mut scan = record(id, at);
            scan.status = ScanStatus::Complete;
            scan.finished_at = Some(at + Duration::minutes(5));
            store
                .complete_scan(
                    &Snapshot {
                        scan,
                        assets: vec![],
                        gaps: vec![],
                    },
                    &[],
                )
                .unwrap();
        }
        ScanStatus::Failed => store.fail_scan(id, "boom").unwrap(),
        ScanStatus::Running => {}
    }
}

#[tokio::test]
async fn never_scanned_connectors_are_scanned_at_once_and_members_are_not() {
    let env = env();
    let db = env.db();
    let org = Connector::new(
        "org",
        "111111111111",
        &[Plan::Cspm],
        vec![],
        12,
        Some(OrganizationalData::Organization {
            stackset_name: "Rampart".into(),
            excluded_account_ids: vec![],
        }),
    );
    let member = Connector::new(
        "org-222222222222",
        "222222222222",
        &[Plan::Cspm],
        vec![],
        12,
        Some(OrganizationalData::Member {
            parent_hierarchy_id: "111111111111".into(),
        }),
    );
    let servers_only = Connector::new("vms", "333333333333", &[Plan::Servers], vec![], 12, None);
    add(&db, &org);
    add(&db, &member);
    add(&db, &servers_only);
    add(&db, &connector("prod", "444444444444", 6));

    let mut started = env.started().await;
    started.sort();
    assert_eq!(started, ["org", "prod"]);
    let mut calls = env.fake.calls_when(2).await;
    calls.sort();
    assert_eq!(calls, [Some("org".to_owned()), Some("prod".to_owned())]);

    // The member is not in the schedule; its organization is.
    let due = env.scheduler.next_due().await.unwrap();
    let names: Vec<&str> = due.iter().map(|e| e.connector.as_str()).collect();
    assert!(
        names.contains(&"org") && names.contains(&"prod"),
        "{names:?}"
    );
    assert!(!names.contains(&"org-222222222222") && !names.contains(&"vms"));
    env.finish_all().await;
}

#[tokio::test]
async fn a_connector_is_due_scan_interval_hours_after_its_last_scan_started() {
    let env = env();
    let db = env.db();
    let prod = connector("prod", "111111111111", 4);
    add(&db, &prod);
    scanned(&db, &prod, "s1", t0(), ScanStatus::Complete);

    env.fake
        .set_now(t0() + Duration::hours(4) - Duration::minutes(1));
    assert!(env.started().await.is_empty());
    let due = env.scheduler.next_due().await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].last_scan_at, Some(t0()));
    assert_eq!(due[0].next_scan_at, t0() + Duration::hours(4));
    // The loop would wake at the due time (sooner than a minute).
    let tick = env.scheduler.tick().await.unwrap();
    assert_eq!(tick.wake_at, t0() + Duration::hours(4));

    env.fake.set_now(t0() + Duration::hours(4));
    assert_eq!(env.started().await, ["prod"]);
    env.finish_all().await;

    // A failed scan counts too: the next one is an interval after it.
    let later = t0() + Duration::hours(8);
    scanned(&db, &prod, "s3", later, ScanStatus::Failed);
    env.fake.set_now(later + Duration::hours(3));
    assert!(env.started().await.is_empty());
    env.fake.set_now(later + Duration::hours(4));
    assert_eq!(env.started().await, ["prod"]);
    env.finish_all().await;
    assert_eq!(env.fake.calls_when(2).await.len(), 2);
}

#[tokio::test]
async fn one_scan_per_connector_at_a_time() {
    let env = env();
    let db = env.db();
    let prod = connector("prod", "111111111111", 1);
    add(&db, &prod);
    add(&db, &connector("dev", "222222222222", 1));
    let mut started = env.started().await;
    started.sort();
    assert_eq!(started, ["dev", "prod"]);

    // Both still run hours later: nothing starts twice.
    env.fake.set_now(t0() + Duration::hours(5));
    assert!(env.started().await.is_empty());
    assert!(
        env.scheduler
            .next_due()
            .await
            .unwrap()
            .iter()
            .all(|e| e.running)
    );
    assert_eq!(env.fake.calls_when(2).await.len(), 2);

    // The API's trigger keeps the same rule: 409 with the JSON error body
    // for a running connector, while the default credentials may scan.
    let token = auth::create_token(&env.store(), "ops", TokenRole::Admin)
        .unwrap()
        .secret;
    let (status, body) = post_scan(&env.state, &token, r#"{"connector": "prod"}"#).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("connector `prod` is still running"),
        "{body}"
    );
    let (status, body) = post_scan(&env.state, &token, "").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(env.fake.calls_when(3).await.len(), 3);

    // Once the scans end, the interval counts from their start.
    env.fake.gate.add_permits(3);
    for job in env.state.scans.running() {
        wait_for_end(&env.state, &job.id).await;
    }
    let due = env.scheduler.next_due().await.unwrap();
    assert!(
        due.iter()
            .all(|e| !e.running && e.next_scan_at == t0() + Duration::hours(1))
    );
    let mut started = env.started().await;
    started.sort();
    assert_eq!(started, ["dev", "prod"]);
    env.finish_all().await;
}

async fn post_scan(state: &AppState, token: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/scans")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_restarted_server_resumes_the_schedule_from_the_store() {
    // The store a previous server left: one connector scanned 13 h ago,
    // one 1 h ago, both every 12 h.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let stale = connector("stale", "111111111111", 12);
    let fresh = connector("fresh", "222222222222", 12);
    add(&db, &stale);
    add(&db, &fresh);
    scanned(
        &db,
        &stale,
        "old",
        t0() - Duration::hours(13),
        ScanStatus::Complete,
    );
    scanned(
        &db,
        &fresh,
        "recent",
        t0() - Duration::hours(1),
        ScanStatus::Complete,
    );

    let env = env_in(dir, Fake::new());
    env.scheduler.recover().await.unwrap();
    assert_eq!(env.started().await, ["stale"]);
    let due = env.scheduler.next_due().await.unwrap();
    let fresh_entry = due.iter().find(|e| e.connector == "fresh").unwrap();
    assert_eq!(fresh_entry.next_scan_at, t0() + Duration::hours(11));
    env.finish_all().await;

    env.fake
        .set_now(t0() + Duration::hours(11) - Duration::seconds(1));
    assert!(env.started().await.is_empty());
    env.fake.set_now(t0() + Duration::hours(11));
    assert_eq!(env.started().await, ["fresh"]);
    env.finish_all().await;
    assert_eq!(
        env.fake.calls(),
        [Some("stale".to_owned()), Some("fresh".to_owned())]
    );
}

#[tokio::test]
async fn a_scan_left_running_is_failed_at_startup_and_the_complete_snapshot_stays_current() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let prod = connector("prod", "111111111111", 12);
    add(&db, &prod);
    scanned(
        &db,
        &prod,
        "done",
        t0() - Duration::hours(20),
        ScanStatus::Complete,
    );
    // The server was killed during this one.
    scanned(
        &db,
        &prod,
        "killed",
        t0() - Duration::hours(14),
        ScanStatus::Running,
    );

    let env = env_in(dir, Fake::new());
    // Before recovery the connector looks busy: nothing would start.
    assert!(env.scheduler.next_due().await.unwrap()[0].running);
    assert_eq!(env.scheduler.recover().await.unwrap(), ["killed"]);
    let store = env.store();
    assert_eq!(store.scan("killed").unwrap().status, ScanStatus::Failed);
    assert_eq!(
        store.scan_failure("killed").unwrap().as_deref(),
        Some(INTERRUPTED)
    );
    assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "done");

    // The interrupted scan started 14 h ago: the connector is due now.
    assert_eq!(env.started().await, ["prod"]);
    let running = env.state.scans.running();
    // Until the new scan completes, readers still see the old snapshot.
    assert_eq!(store.latest_complete_scan().unwrap().unwrap().id, "done");
    env.finish_all().await;
    assert_eq!(
        store.latest_complete_scan().unwrap().unwrap().id,
        running[0].id
    );
}

#[tokio::test]
async fn a_scan_that_fails_before_it_is_stored_waits_for_its_interval() {
    let env = env();
    add(&env.db(), &connector("prod", "111111111111", 2));
    *env.fake.fail_early.lock().unwrap() = true;
    let job = env.scheduler.tick().await.unwrap().started.remove(0);
    env.fake.calls_when(1).await;
    assert_eq!(wait_for_end(&env.state, &job.id).await, JobState::Failed);
    assert!(env.started().await.is_empty());
    env.fake.set_now(t0() + Duration::hours(2));
    assert_eq!(env.started().await, ["prod"]);
    assert_eq!(env.fake.calls_when(2).await.len(), 2);
}

#[tokio::test]
async fn the_loop_scans_what_is_due_and_stops_when_told() {
    let env = env();
    add(&env.db(), &connector("prod", "111111111111", 12));
    let stop = CancellationToken::new();
    let task = tokio::spawn(env.scheduler.clone().run(stop.clone()));
    for _ in 0..500 {
        if !env.fake.calls().is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    assert_eq!(env.fake.calls_when(1).await, [Some("prod".to_owned())]);
    stop.cancel();
    tokio::time::timeout(StdDuration::from_secs(5), task)
        .await
        .expect("the scheduler stops when told")
        .unwrap();
    // Stopping the server interrupts the scan it still runs.
    let ids = env.scheduler.interrupt_running().await;
    assert_eq!(ids.len(), 1);
    assert_eq!(
        env.store().scan_failure(&ids[0]).unwrap().as_deref(),
        Some(INTERRUPTED)
    );
}

#[tokio::test]
async fn the_connector_shows_when_it_is_scanned_next() {
    let env = env();
    let db = env.db();
    let prod = connector("prod", "111111111111", 6);
    add(&db, &prod);
    scanned(
        &db,
        &prod,
        "s1",
        t0() - Duration::hours(1),
        ScanStatus::Complete,
    );
    let token = auth::create_token(&env.store(), "ops", TokenRole::Reader)
        .unwrap()
        .secret;
    // The API reads the state's scheduler (the real clock): the time is the
    // stored start plus the interval either way.
    let request = Request::builder()
        .uri("/api/v1/connectors/prod")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router(env.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let next = OffsetDateTime::parse(
        body["nextScanAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(next, t0() + Duration::hours(5));
    assert_eq!(body["name"], "prod");
}

#[tokio::test]
async fn a_clock_that_moves_between_reads_still_scans_never_scanned_connectors_at_once() {
    // Every read of the clock is a second later, as the real clock is
    // always a little later: a never-scanned connector is due "now" by the
    // schedule's reading and must not be compared with an earlier one.
    let env = env();
    let ticks = Arc::new(Mutex::new(t0()));
    let scheduler = env.scheduler.clone().with_clock(Arc::new(move || {
        let mut now = ticks.lock().unwrap();
        *now += Duration::SECOND;
        *now
    }));
    add(&env.db(), &connector("prod", "111111111111", 6));
    let tick = scheduler.tick().await.unwrap();
    let started: Vec<_> = tick
        .started
        .iter()
        .map(|j| j.request.connector.clone().unwrap())
        .collect();
    assert_eq!(started, ["prod"]);
    assert_eq!(env.fake.calls_when(1).await, [Some("prod".to_owned())]);
    env.finish_all().await;
}

/// Waits (on the real clock) until the fake scan function was called `n`
/// times, at most `limit`; when it was.
async fn called(fake: &Fake, n: usize, limit: StdDuration) -> Option<std::time::Instant> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if fake.calls().len() >= n {
            return Some(std::time::Instant::now());
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_real_clock_new_connectors_are_scanned_within_seconds_then_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rampart.db");
    let fake = Fake::new();
    *fake.real_clock.lock().unwrap() = true;
    fake.gate.add_permits(1000);
    let state = AppState::new(
        ServerConfig::new(db.clone()),
        Some(fake.scan_fn(db.clone())),
    )
    .unwrap();
    // The state's own scheduler (the real clock), an "hour" of 2 seconds.
    let hour = StdDuration::from_secs(2);
    let scheduler = state.scheduler.clone().with_hour(hour);
    add(&db, &connector("prod", "111111111111", 1));

    let start = std::time::Instant::now();
    let stop = CancellationToken::new();
    let task = tokio::spawn(scheduler.clone().run(stop.clone()));
    let first = called(&fake, 1, StdDuration::from_secs(10))
        .await
        .expect("a never-scanned connector is scanned when the schedule starts");
    assert!(
        first - start < StdDuration::from_secs(3),
        "{:?}",
        first - start
    );
    // Then every interval (1 "hour"), counted from when the scan started.
    let second = called(&fake, 2, StdDuration::from_secs(15))
        .await
        .expect("scanned again one interval later");
    let gap = second - first;
    assert!(
        gap >= StdDuration::from_millis(1500) && gap < StdDuration::from_secs(6),
        "second scan {gap:?} after the first"
    );
    assert_eq!(
        fake.calls()[..2],
        [Some("prod".to_owned()), Some("prod".to_owned())]
    );

    // A connector created through the API while the schedule sleeps is
    // scanned at once, not at the next wake-up (up to a minute later).
    let token = auth::create_token(&Store::open(&db).unwrap(), "ops", TokenRole::Admin)
        .unwrap()
        .secret;
    let body = serde_json::to_string(&connector("dev", "222222222222", 24)).unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/connectors")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let before = fake.calls().len();
    let created = std::time::Instant::now();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let mut seen = None;
    while created.elapsed() < StdDuration::from_secs(10) {
        if fake.calls()[before..].contains(&Some("dev".to_owned())) {
            seen = Some(created.elapsed());
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    let seen = seen.expect("the new connector is scanned within seconds");
    assert!(seen < StdDuration::from_secs(3), "{seen:?}");

    stop.cancel();
    tokio::time::timeout(StdDuration::from_secs(5), task)
        .await
        .expect("the scheduler stops when told")
        .unwrap();
    scheduler.interrupt_running().await;
}

/// One look at the schedule by each of two schedulers at once; neither
/// starts a scan in process.
async fn tick_both(a: &Scheduler, b: &Scheduler) {
    let (x, y) = tokio::join!(a.tick(), b.tick());
    assert!(x.unwrap().started.is_empty() && y.unwrap().started.is_empty());
}

/// Claims and finishes (done) connector `c`'s queued job, as a worker
/// that scanned it would, after storing its scan `id` begun at `at`.
fn run_job(db: &Path, c: &Connector, id: &str, at: OffsetDateTime) {
    scanned(db, c, id, at, ScanStatus::Complete);
    let store = Store::open(db).unwrap();
    let now = OffsetDateTime::now_utc();
    let claimed = store
        .claim_jobs("test-worker", now, Duration::minutes(5), 100)
        .unwrap();
    let job = claimed
        .iter()
        .find(|j| j.payload["connector"] == c.id.to_string().as_str())
        .expect("the connector's job is claimable");
    for other in claimed.iter().filter(|j| j.id != job.id) {
        // Give the others back as they were: failed attempts re-queue them.
        store
            .finish_job(
                &other.id,
                "test-worker",
                Err("not this one"),
                now,
                Duration::ZERO,
            )
            .unwrap();
    }
    assert!(
        store
            .finish_job(&job.id, "test-worker", Ok(()), now, Duration::ZERO)
            .unwrap()
    );
}

/// Two servers sharing a PostgreSQL store with `queue_scans` (scale-out):
/// however their ticks interleave, each due scan is queued once for the
/// workers, and the next one when the connector is due again; a scan
/// queued through the API and not run yet stands for the scheduled one.
#[tokio::test]
async fn replicas_sharing_a_postgresql_store_queue_each_due_scan_once() {
    let db = PathBuf::from(rampart_testkit::postgres::fresh_url());
    let now = Arc::new(Mutex::new(t0()));
    let replica = || {
        let mut config = ServerConfig::new(db.clone());
        config.queue_scans = true;
        let state = AppState::new(config, None).unwrap();
        let clock = now.clone();
        let scheduler = state
            .scheduler
            .clone()
            .with_clock(Arc::new(move || *clock.lock().unwrap()));
        (state, scheduler)
    };
    let ((api, a), (_, b)) = (replica(), replica());
    let prod = connector("prod", "444444444444", 6);
    add(&db, &prod);
    add(&db, &connector("dev", "555555555555", 6));
    let queued =
        || -> Vec<rampart_store::Job> { Store::open(&db).unwrap().jobs(None, 100).unwrap() };
    let for_prod = |jobs: &[rampart_store::Job]| {
        jobs.iter()
            .filter(|j| j.payload["connector"] == prod.id.to_string().as_str())
            .count()
    };

    // Both look at once, twice: one job per connector.
    tick_both(&a, &b).await;
    tick_both(&a, &b).await;
    let jobs = queued();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let prod_job = jobs
        .iter()
        .find(|j| j.payload["connector"] == prod.id.to_string().as_str())
        .unwrap();
    assert_eq!(prod_job.account.as_deref(), Some("444444444444"));
    assert_eq!(prod_job.status, rampart_store::JobStatus::Queued);

    // A worker ran prod's job (its scan started at t0): prod is due again
    // six hours later, and queued once more then, not before.
    run_job(&db, &prod, "s1", t0());
    *now.lock().unwrap() = t0() + Duration::hours(5);
    tick_both(&a, &b).await;
    assert_eq!(queued().len(), 2);
    *now.lock().unwrap() = t0() + Duration::hours(6) + Duration::minutes(1);
    tick_both(&a, &b).await;
    let jobs = queued();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert_eq!(for_prod(&jobs), 2);

    // Someone queues a prod scan through the API after that one ran; when
    // prod is due again it is still waiting for a worker: the schedulers
    // queue nothing more for prod (dev's first job is still queued too).
    run_job(
        &db,
        &prod,
        "s2",
        t0() + Duration::hours(6) + Duration::minutes(1),
    );
    let token = auth::create_token(&Store::open(&db).unwrap(), "ops", TokenRole::Admin)
        .unwrap()
        .secret;
    let (status, body) = post_scan(&api, &token, r#"{"connector": "prod"}"#).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(for_prod(&queued()), 3);
    *now.lock().unwrap() = t0() + Duration::hours(13);
    tick_both(&a, &b).await;
    let jobs = queued();
    assert_eq!(
        for_prod(&jobs),
        3,
        "the API's job stands for the due one: {jobs:?}"
    );
    assert_eq!(jobs.len(), 4, "{jobs:?}");
}
