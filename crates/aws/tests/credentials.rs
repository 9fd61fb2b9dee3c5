//! Credential sources against a private moto server: federation
//! (`AssumeRoleWithWebIdentity` per plan role, cached and refreshed on an
//! injected clock), failures, and the classic sources (static keys, a role
//! with an external id).
//!
//! moto validates neither tokens nor trust policies: these tests check what
//! Rampart sends and which identity its calls run as, not AWS's checks.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_async::time::{SharedTimeSource, TimeSource};
use base64::Engine;
use rampart_aws::credentials::{AssumeRoleCredentials, REFRESH_RETRY_PAUSE, exchange_failure};
use rampart_aws::error::error_chain;
use rampart_aws::{
    AccessError, AwsAccess, AwsSettings, CredentialSource, NoProgress, RefreshOptions, ScanPlan,
    TokenError, TokenSource, WebIdentityCredentials, collect_account,
};
use rampart_testkit::Moto;

const CSPM_ROLE: &str = "arn:aws:iam::111111111111:role/RampartCspmRole";
const SERVERS_ROLE: &str = "arn:aws:iam::222222222222:role/RampartServersRole";

/// Settings for moto without credentials of their own.
fn settings(endpoint: &str) -> AwsSettings {
    AwsSettings {
        endpoint_url: Some(endpoint.to_owned()),
        home_region: Some("us-east-1".to_owned()),
        max_attempts: 1,
        ..AwsSettings::default()
    }
}

/// Settings signed with moto's default account (123456789012).
fn default_account(endpoint: &str) -> AwsSettings {
    AwsSettings {
        credentials: Some(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "test",
        ))),
        ..settings(endpoint)
    }
}

/// Mints distinct fake tokens and counts them.
#[derive(Debug, Default)]
struct CountingTokens {
    minted: AtomicUsize,
}

impl CountingTokens {
    fn minted(&self) -> usize {
        self.minted.load(Ordering::SeqCst)
    }
}

impl TokenSource for CountingTokens {
    fn token(&self) -> Result<String, TokenError> {
        let n = self.minted.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(format!("eyJhbGciOiJSUzI1NiJ9.token-{n}.signature"))
    }
}

/// A clock the test moves forward.
#[derive(Debug, Clone)]
struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(SystemTime::now())))
    }

    fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl TimeSource for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

fn exchanges(provider: &WebIdentityCredentials) -> u64 {
    provider
        .stats()
        .snapshot()
        .get(&("sts".to_owned(), "AssumeRoleWithWebIdentity".to_owned()))
        .copied()
        .unwrap_or(0)
}

fn sqs_plan(account: &str) -> ScanPlan {
    ScanPlan {
        account: account.to_owned(),
        home_region: "us-east-1".to_owned(),
        regions: vec!["us-east-1".to_owned()],
        disabled_regions: vec![],
        services: Some(vec!["sqs".to_owned()]),
        concurrency: 4,
    }
}

/// One HTTP/1.1 request to moto's own API; returns the response.
fn moto_api(moto: &Moto, method: &str, path: &str) -> String {
    let port = moto.url().rsplit(':').next().unwrap().to_owned();
    let mut stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Requests moto recorded: (headers, decoded body) per request.
fn recorded(file: &Path) -> Vec<(serde_json::Value, String)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            let body = entry["body"].as_str().unwrap_or_default();
            let body = if entry["body_encoded"].as_bool() == Some(true) {
                String::from_utf8_lossy(
                    &base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .unwrap(),
                )
                .into_owned()
            } else {
                body.to_owned()
            };
            (entry["headers"].clone(), body)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_through_web_identity_runs_as_the_plan_role() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("recording");
    let moto = Moto::start_with_env(&[("MOTO_RECORDER_FILEPATH", recording.to_str().unwrap())]);
    // A queue in moto's default account, which the plan's role must not see.
    let default = AwsAccess::load(&default_account(&moto.url()))
        .await
        .unwrap();
    default
        .sqs("us-east-1")
        .create_queue()
        .queue_name("default-account-queue")
        .send()
        .await
        .unwrap();

    // The federation exchange must not need the settings' own credentials:
    // give it a provider that always fails.
    let mut base = settings(&moto.url());
    base.credentials = Some(SharedCredentialsProvider::new(FailingProvider));
    let tokens = Arc::new(CountingTokens::default());
    let provider = WebIdentityCredentials::new(
        &base,
        CSPM_ROLE,
        "Rampart_prod",
        tokens.clone(),
        RefreshOptions::default(),
    )
    .await
    .unwrap();
    let mut plan_settings = settings(&moto.url());
    plan_settings.credentials = Some(SharedCredentialsProvider::new(provider.clone()));
    let access = AwsAccess::load(&plan_settings).await.unwrap();

    assert!(moto_api(&moto, "POST", "/moto-api/recorder/start-recording").contains(" 200 "));
    let identity = access.caller_identity().await.unwrap();
    assert_eq!(identity.account, "111111111111");
    assert_eq!(
        identity.arn,
        "arn:aws:sts::111111111111:assumed-role/RampartCspmRole/Rampart_prod"
    );
    access
        .sqs("us-east-1")
        .create_queue()
        .queue_name("plan-queue")
        .send()
        .await
        .unwrap();
    let scan = collect_account(&access, &sqs_plan("111111111111"), &NoProgress).await;
    assert!(moto_api(&moto, "POST", "/moto-api/recorder/stop-recording").contains(" 200 "));

    assert!(scan.gaps.is_empty(), "{:?}", scan.gaps);
    let arns: Vec<&str> = scan.assets.iter().map(|a| a.arn.as_str()).collect();
    assert_eq!(arns, vec!["arn:aws:sqs:us-east-1:111111111111:plan-queue"]);
    // One exchange, one token, for the caller identity, the queue and the scan.
    assert_eq!(exchanges(&provider), 1);
    assert_eq!(tokens.minted(), 1);

    let requests = recorded(&recording);
    let exchanges_on_wire: Vec<&(serde_json::Value, String)> = requests
        .iter()
        .filter(|(_, body)| body.contains("Action=AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(exchanges_on_wire.len(), 1, "{requests:?}");
    let (headers, body) = exchanges_on_wire[0];
    assert!(body.contains("RoleSessionName=Rampart_prod"), "{body}");
    assert!(body.contains("DurationSeconds=3600"), "{body}");
    assert!(body.contains("WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.token-1.signature"));
    assert!(body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FRampartCspmRole"));
    let headers = headers.as_object().unwrap();
    assert!(
        !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization")),
        "the exchange must be unsigned: {headers:?}"
    );
    // The reads themselves are signed with the role's session credentials.
    let signed_reads = requests
        .iter()
        .filter(|(h, _)| {
            h.as_object().is_some_and(|h| {
                h.keys()
                    .any(|k| k.eq_ignore_ascii_case("x-amz-security-token"))
            })
        })
        .count();
    assert!(signed_reads >= 2, "{requests:?}");
}

/// A credentials provider that always fails.
#[derive(Debug)]
struct FailingProvider;

impl ProvideCredentials for FailingProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            CredentialsError::not_loaded("no base credentials in this test"),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_plans_run_as_their_own_roles() {
    let moto = Moto::start();
    let base = settings(&moto.url());
    let cspm_tokens = Arc::new(CountingTokens::default());
    let servers_tokens = Arc::new(CountingTokens::default());
    let cspm = WebIdentityCredentials::new(
        &base,
        CSPM_ROLE,
        "Rampart_prod",
        cspm_tokens.clone(),
        RefreshOptions::default(),
    )
    .await
    .unwrap();
    let servers = WebIdentityCredentials::new(
        &base,
        SERVERS_ROLE,
        "Rampart_prod",
        servers_tokens.clone(),
        RefreshOptions::default(),
    )
    .await
    .unwrap();
    let access_for = |provider: &WebIdentityCredentials| {
        let mut s = settings(&moto.url());
        s.credentials = Some(SharedCredentialsProvider::new(provider.clone()));
        s
    };
    let cspm_access = AwsAccess::load(&access_for(&cspm)).await.unwrap();
    let servers_access = AwsAccess::load(&access_for(&servers)).await.unwrap();

    // Interleaved, concurrent calls: each stays with its own role.
    for _ in 0..3 {
        let (a, b) = tokio::join!(
            cspm_access.caller_identity(),
            servers_access.caller_identity()
        );
        assert_eq!(
            a.unwrap().arn,
            "arn:aws:sts::111111111111:assumed-role/RampartCspmRole/Rampart_prod"
        );
        assert_eq!(
            b.unwrap().arn,
            "arn:aws:sts::222222222222:assumed-role/RampartServersRole/Rampart_prod"
        );
    }
    // What one plan creates lives in its role's account only.
    cspm_access
        .sqs("us-east-1")
        .create_queue()
        .queue_name("cspm-only")
        .send()
        .await
        .unwrap();
    let seen_by_servers = servers_access
        .sqs("us-east-1")
        .list_queues()
        .send()
        .await
        .unwrap();
    assert!(seen_by_servers.queue_urls().is_empty());
    let seen_by_cspm = cspm_access
        .sqs("us-east-1")
        .list_queues()
        .send()
        .await
        .unwrap();
    assert_eq!(seen_by_cspm.queue_urls().len(), 1);
    assert_eq!(exchanges(&cspm), 1);
    assert_eq!(exchanges(&servers), 1);
    assert_eq!((cspm_tokens.minted(), servers_tokens.minted()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_cached_and_refreshed_before_expiry() {
    let moto = Moto::start();
    let clock = ManualClock::new();
    let tokens = Arc::new(CountingTokens::default());
    let provider = WebIdentityCredentials::new(
        &settings(&moto.url()),
        CSPM_ROLE,
        "Rampart_prod",
        tokens.clone(),
        RefreshOptions {
            clock: SharedTimeSource::new(clock.clone()),
            ..RefreshOptions::default()
        },
    )
    .await
    .unwrap();
    let mut plan_settings = settings(&moto.url());
    plan_settings.credentials = Some(SharedCredentialsProvider::new(provider.clone()));
    let access = AwsAccess::load(&plan_settings).await.unwrap();

    // Many calls within the lifetime: one exchange, one token.
    let first = provider.provide_credentials().await.unwrap();
    for _ in 0..5 {
        access.caller_identity().await.unwrap();
    }
    for _ in 0..20 {
        let again = provider.provide_credentials().await.unwrap();
        assert_eq!(again.access_key_id(), first.access_key_id());
    }
    assert_eq!((exchanges(&provider), tokens.minted()), (1, 1));
    let expiry = first.expiry().unwrap();
    let lifetime = expiry.duration_since(SystemTime::now()).unwrap();
    assert!(lifetime > Duration::from_secs(3500) && lifetime <= Duration::from_secs(3600));

    // 54 minutes on: more than the 5-minute margin remains.
    clock.advance(Duration::from_secs(54 * 60));
    provider.provide_credentials().await.unwrap();
    assert_eq!((exchanges(&provider), tokens.minted()), (1, 1));

    // 56 minutes on: less than the margin remains; exactly one refresh.
    clock.advance(Duration::from_secs(2 * 60));
    let second = provider.provide_credentials().await.unwrap();
    assert_ne!(second.access_key_id(), first.access_key_id());
    for _ in 0..5 {
        provider.provide_credentials().await.unwrap();
        access.caller_identity().await.unwrap();
    }
    assert_eq!((exchanges(&provider), tokens.minted()), (2, 2));

    // Due again: concurrent callers share one refresh.
    clock.advance(Duration::from_secs(56 * 60));
    let callers: Vec<_> = (0..16)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.provide_credentials().await })
        })
        .collect();
    let mut keys = Vec::new();
    for caller in callers {
        keys.push(caller.await.unwrap().unwrap().access_key_id().to_owned());
    }
    keys.dedup();
    assert_eq!(keys.len(), 1, "every caller got the same refreshed keys");
    assert_ne!(keys[0], second.access_key_id());
    assert_eq!((exchanges(&provider), tokens.minted()), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_keeps_valid_credentials_until_they_expire() {
    let moto = Moto::start();
    let clock = ManualClock::new();
    // Mints until told to fail; counts every attempt.
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attempts = Arc::new(AtomicUsize::new(0));
    let tokens: Arc<dyn TokenSource> = {
        let (failing, attempts) = (failing.clone(), attempts.clone());
        Arc::new(move || {
            let n = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            if failing.load(Ordering::SeqCst) {
                Err(TokenError::new("issuer unavailable"))
            } else {
                Ok(format!("eyJhbGciOiJSUzI1NiJ9.token-{n}.signature"))
            }
        })
    };
    let provider = WebIdentityCredentials::new(
        &settings(&moto.url()),
        CSPM_ROLE,
        "Rampart_prod",
        tokens,
        RefreshOptions {
            clock: SharedTimeSource::new(clock.clone()),
            ..RefreshOptions::default()
        },
    )
    .await
    .unwrap();
    let first = provider.provide_credentials().await.unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 1);

    // Due for refresh (56 of 60 minutes) and the refresh fails: the
    // current credentials are still valid and are kept.
    failing.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(56 * 60));
    let kept = provider.provide_credentials().await.unwrap();
    assert_eq!(kept.access_key_id(), first.access_key_id());
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    // Callers right after do not retry at once...
    for _ in 0..5 {
        provider.provide_credentials().await.unwrap();
    }
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    // ...but after the pause they do.
    clock.advance(REFRESH_RETRY_PAUSE);
    provider.provide_credentials().await.unwrap();
    assert_eq!(attempts.load(Ordering::SeqCst), 3);

    // Once expired, the failure is the caller's.
    clock.advance(Duration::from_secs(5 * 60));
    let err = provider.provide_credentials().await.unwrap_err();
    let text = format!("{:?}", err);
    assert!(text.contains("issuer unavailable"), "{text}");

    // A refresh that works again replaces them.
    failing.store(false, Ordering::SeqCst);
    let renewed = provider.provide_credentials().await.unwrap();
    assert_ne!(renewed.access_key_id(), first.access_key_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_name_the_role_and_fail_the_scan() {
    let moto = Moto::start();
    // A token source that cannot mint.
    let broken: Arc<dyn TokenSource> =
        Arc::new(|| Err(TokenError::new("issuer key `rampart-1` not found")));
    let provider = WebIdentityCredentials::new(
        &settings(&moto.url()),
        CSPM_ROLE,
        "Rampart_prod",
        broken,
        RefreshOptions::default(),
    )
    .await
    .unwrap();
    let err = provider.provide_credentials().await.unwrap_err();
    assert!(matches!(err, CredentialsError::ProviderError(_)), "{err:?}");
    let chain = error_chain(&err);
    assert!(chain.contains(CSPM_ROLE), "{chain}");
    assert!(chain.contains("Rampart_prod"), "{chain}");
    assert!(
        chain.contains("issuer key `rampart-1` not found"),
        "{chain}"
    );
    assert_eq!(exchanges(&provider), 0, "no STS call without a token");

    // STS unreachable: the token must not leak into the error.
    let dead = format!("http://127.0.0.1:{}", rampart_testkit::free_port());
    let tokens = Arc::new(CountingTokens::default());
    let unreachable = WebIdentityCredentials::new(
        &settings(&dead),
        CSPM_ROLE,
        "Rampart_prod",
        tokens.clone(),
        RefreshOptions::default(),
    )
    .await
    .unwrap();
    let err = unreachable.provide_credentials().await.unwrap_err();
    let chain = error_chain(&err);
    let exchange = exchange_failure(&err).unwrap();
    assert_eq!(exchange.role_arn, CSPM_ROLE);
    assert!(
        exchange
            .reason
            .starts_with("STS AssumeRoleWithWebIdentity failed: connection failed"),
        "{chain}"
    );
    assert!(!chain.contains("token-1"), "token leaked: {chain}");
    assert_eq!(tokens.minted(), 1);

    // Through the access layer: the first call of a scan fails with the
    // role named, and collectors record gaps instead of an empty inventory.
    let mut plan_settings = settings(&moto.url());
    plan_settings.credentials = Some(SharedCredentialsProvider::new(provider.clone()));
    let access = AwsAccess::load(&plan_settings).await.unwrap();
    let err = access.caller_identity().await.unwrap_err();
    match &err {
        AccessError::Credentials(message) => {
            assert!(message.contains(CSPM_ROLE), "{message}");
            assert!(message.contains("Rampart_prod"), "{message}");
        }
        other => panic!("expected a credentials error, got {other:?}"),
    }
    let sqs = access.sqs("us-east-1").list_queues().send().await;
    assert!(sqs.is_err());
    let scan = collect_account(&access, &sqs_plan("111111111111"), &NoProgress).await;
    assert!(scan.assets.is_empty());
    assert!(!scan.gaps.is_empty());
    for gap in &scan.gaps {
        assert!(gap.error.contains(CSPM_ROLE), "{gap:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_static_keys_and_external_id_role() {
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("recording");
    let moto = Moto::start_with_env(&[
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", "false"),
        ("MOTO_RECORDER_FILEPATH", recording.to_str().unwrap()),
    ]);
    // An IAM user with access keys in moto's default account.
    let admin = AwsAccess::load(&default_account(&moto.url()))
        .await
        .unwrap();
    let iam = admin.iam("us-east-1");
    iam.create_user()
        .user_name("rampart-classic")
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("rampart-classic")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let keys = CredentialSource::StaticKeys {
        access_key_id: key.access_key_id().to_owned(),
        secret_access_key: key.secret_access_key().to_owned(),
        session_token: None,
    };

    let static_settings = settings(&moto.url())
        .with_credentials(keys.clone())
        .await
        .unwrap();
    let access = AwsAccess::load(&static_settings).await.unwrap();
    let identity = access.caller_identity().await.unwrap();
    assert_eq!(
        identity.arn,
        "arn:aws:iam::123456789012:user/rampart-classic"
    );

    let role_settings = settings(&moto.url())
        .with_credentials(CredentialSource::AssumeRole {
            role_arn: "arn:aws:iam::333333333333:role/RampartClassic".to_owned(),
            external_id: Some("ext-7f3a".to_owned()),
            session_name: "Rampart_legacy".to_owned(),
            base: Box::new(keys),
        })
        .await
        .unwrap();
    let access = AwsAccess::load(&role_settings).await.unwrap();
    assert!(moto_api(&moto, "POST", "/moto-api/recorder/start-recording").contains(" 200 "));
    for _ in 0..3 {
        let identity = access.caller_identity().await.unwrap();
        assert_eq!(
            identity.arn,
            "arn:aws:sts::333333333333:assumed-role/RampartClassic/Rampart_legacy"
        );
    }
    assert!(moto_api(&moto, "POST", "/moto-api/recorder/stop-recording").contains(" 200 "));
    let assume_calls: Vec<(serde_json::Value, String)> = recorded(&recording)
        .into_iter()
        .filter(|(_, body)| body.contains("Action=AssumeRole&"))
        .collect();
    assert_eq!(assume_calls.len(), 1, "{assume_calls:?}");
    let (headers, body) = &assume_calls[0];
    assert!(body.contains("ExternalId=ext-7f3a"), "{body}");
    assert!(body.contains("RoleSessionName=Rampart_legacy"), "{body}");
    // Signed with the IAM user's access key.
    let authorization = headers
        .as_object()
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .and_then(|(_, v)| v.as_str())
        })
        .unwrap_or_default();
    assert!(
        authorization.contains(&format!("Credential={}/", key.access_key_id())),
        "{authorization}"
    );

    // The provider itself: one AssumeRole for many calls.
    let provider = AssumeRoleCredentials::new(
        &static_settings,
        "arn:aws:iam::333333333333:role/RampartClassic",
        Some("ext-7f3a".to_owned()),
        "Rampart_legacy",
        RefreshOptions::default(),
    )
    .await
    .unwrap();
    for _ in 0..4 {
        provider.provide_credentials().await.unwrap();
    }
    let calls = provider.stats().snapshot();
    assert_eq!(
        calls.get(&("sts".to_owned(), "AssumeRole".to_owned())),
        Some(&1),
        "{calls:?}"
    );

    // Malformed sources are refused before any call.
    let bad = settings(&moto.url())
        .with_credentials(CredentialSource::web_identity(
            "arn:aws:iam::111111111111:user/not-a-role",
            "Rampart_prod",
            Arc::new(CountingTokens::default()),
        ))
        .await
        .unwrap_err();
    assert!(matches!(bad, AccessError::CredentialSource(_)), "{bad}");
}
