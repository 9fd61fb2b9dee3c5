//! A cap on AWS API calls per second per account (`--account-rate`).
//!
//! Every call Rampart makes goes through the HTTP client of an
//! [`AwsAccess`](crate::AwsAccess) ([`crate::access`] builds them all);
//! when [`AwsSettings::account_rate`](crate::AwsSettings::account_rate) is
//! set, that client takes a token from the bucket of the account the
//! settings reach ([`AwsSettings::account`](crate::AwsSettings::account))
//! before each attempt (retries included), waiting when the bucket is
//! empty. One bucket per account is shared by every access of the process
//! (the jobs of one account on one worker, the regions of a large account,
//! the credential exchanges): the cap holds per worker process, so N
//! workers scanning the same account at once may reach N times the cap.
//!
//! The bucket holds one token and refills at the cap, so calls of one
//! account start at least `1/cap` seconds apart (no burst): a cap of 20
//! gives at most 20 calls in any second, and at most 21 in any window just
//! over a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// API calls per second per account when nothing else is said.
pub const DEFAULT_ACCOUNT_RATE: u32 = 20;

/// The bucket key of settings that do not name their account (the
/// process's own credentials: `rampart scan` without a connector).
pub const DEFAULT_CREDENTIALS: &str = "default";

/// Where a bucket reads the time; tests inject their own.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// One account's token bucket: one token, refilled at `per_second`.
/// Waiting calls reserve their turn, so they start in order, spaced
/// `1/per_second` apart.
#[derive(Debug)]
pub struct TokenBucket {
    interval: Duration,
    /// When the next call may start.
    next: Mutex<Option<Instant>>,
}

impl TokenBucket {
    /// A bucket letting `per_second` calls start per second (at least 1).
    pub fn new(per_second: u32) -> Self {
        Self {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(None),
        }
    }

    /// Takes the next turn at `now`: how long the caller waits before its
    /// call starts (zero when the bucket has its token).
    pub fn reserve(&self, now: Instant) -> Duration {
        let Ok(mut next) = self.next.lock() else {
            // A poisoned lock means a panic elsewhere: do not hold calls up.
            return Duration::ZERO;
        };
        let start = next.map_or(now, |at| at.max(now));
        *next = Some(start + self.interval);
        start.saturating_duration_since(now)
    }
}

/// The per-account caps of one process: a bucket per account, made on
/// first use.
#[derive(Clone)]
pub struct AccountRates {
    per_second: u32,
    buckets: Arc<Mutex<HashMap<String, Arc<TokenBucket>>>>,
    clock: Clock,
}

impl std::fmt::Debug for AccountRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRates")
            .field("per_second", &self.per_second)
            .finish_non_exhaustive()
    }
}

impl AccountRates {
    /// Caps of `per_second` calls per account, with buckets of their own
    /// (on the real clock).
    pub fn new(per_second: u32) -> Self {
        Self::with_clock(per_second, Arc::new(Instant::now))
    }

    /// Caps reading the time from `clock`.
    pub fn with_clock(per_second: u32, clock: Clock) -> Self {
        Self {
            per_second: per_second.max(1),
            buckets: Arc::default(),
            clock,
        }
    }

    /// The process's caps: every call with the same `per_second` shares
    /// the same buckets, so every access to an account in the process
    /// takes from one bucket.
    pub fn process(per_second: u32) -> Self {
        static PROCESS: OnceLock<Mutex<HashMap<u32, AccountRates>>> = OnceLock::new();
        let all = PROCESS.get_or_init(Mutex::default);
        match all.lock() {
            Ok(mut all) => all
                .entry(per_second)
                .or_insert_with(|| Self::new(per_second))
                .clone(),
            Err(_) => Self::new(per_second),
        }
    }

    /// Calls per second per account.
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// `account`'s bucket.
    pub fn bucket(&self, account: &str) -> Arc<TokenBucket> {
        match self.buckets.lock() {
            Ok(mut buckets) => buckets
                .entry(account.to_owned())
                .or_insert_with(|| Arc::new(TokenBucket::new(self.per_second)))
                .clone(),
            Err(_) => Arc::new(TokenBucket::new(self.per_second)),
        }
    }

    /// How long a call to `account` starting now waits for its turn.
    pub fn reserve(&self, account: &str) -> Duration {
        self.bucket(account).reserve((self.clock)())
    }

    /// `inner`, taking a token of `account` before every request.
    pub(crate) fn cap(&self, inner: SharedHttpClient, account: &str) -> SharedHttpClient {
        SharedHttpClient::new(CappedClient {
            inner,
            rates: self.clone(),
            account: account.to_owned(),
        })
    }
}

/// An HTTP client whose requests wait for their account's turn.
#[derive(Debug)]
struct CappedClient {
    inner: SharedHttpClient,
    rates: AccountRates,
    account: String,
}

impl HttpClient for CappedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(CappedConnector {
            inner: self.inner.http_connector(settings, components),
            rates: self.rates.clone(),
            account: self.account.clone(),
        })
    }
}

#[derive(Debug)]
struct CappedConnector {
    inner: SharedHttpConnector,
    rates: AccountRates,
    account: String,
}

impl HttpConnector for CappedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let wait = self.rates.reserve(&self.account);
        if wait.is_zero() {
            return self.inner.call(request);
        }
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            tokio::time::sleep(wait).await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock the test moves by hand.
    fn manual() -> (Clock, Arc<Mutex<Instant>>) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let read = now.clone();
        (Arc::new(move || *read.lock().unwrap()), now)
    }

    #[test]
    fn calls_of_one_account_are_spaced_by_the_cap_and_accounts_are_apart() {
        let (clock, now) = manual();
        let rates = AccountRates::with_clock(5, clock);
        let ms = Duration::from_millis;
        // Five calls at once: the first goes, the others wait their turn.
        let waits: Vec<Duration> = (0..5).map(|_| rates.reserve("111")).collect();
        assert_eq!(waits, [ms(0), ms(200), ms(400), ms(600), ms(800)]);
        // Another account has a bucket of its own.
        assert_eq!(rates.reserve("222"), ms(0));
        // Half a second later the queue is shorter by half a second.
        *now.lock().unwrap() += ms(500);
        assert_eq!(rates.reserve("111"), ms(500));
        // An idle account starts again with its token, and no more.
        *now.lock().unwrap() += Duration::from_secs(10);
        assert_eq!(rates.reserve("111"), ms(0));
        assert_eq!(rates.reserve("111"), ms(200));
        // The process's caps are shared between callers.
        let a = AccountRates::process(7);
        let b = AccountRates::process(7);
        assert!(Arc::ptr_eq(&a.bucket("333"), &b.bucket("333")));
        assert!(!Arc::ptr_eq(&a.bucket("333"), &a.bucket("444")));
    }
}
