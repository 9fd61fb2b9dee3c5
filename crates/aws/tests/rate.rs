//! The per-account cap on API calls per second (`rampart_aws::rate`),
//! through the clients [`AwsAccess`] builds, against a private moto
//! server. The one test on the real clock in this area: it only asserts a
//! lower bound.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure should stop the test"
)]

mod common;

use std::time::{Duration, Instant};

use rampart_aws::AwsAccess;
use rampart_aws::rate::AccountRates;
use rampart_testkit::Moto;

/// 11 calls to one account capped at 5 per second take at least two
/// seconds (ten intervals of 200 ms after the first), every call counted.
#[tokio::test]
async fn calls_to_one_account_wait_for_the_cap() {
    let moto = Moto::start();
    let settings = rampart_aws::AwsSettings {
        account_rate: Some(AccountRates::new(5)),
        ..common::settings(&moto.url())
    }
    .for_account(common::ACCOUNT);
    let access = AwsAccess::load(&settings).await.unwrap();
    let started = Instant::now();
    let calls = (0..11).map(|_| access.caller_identity());
    for identity in futures::future::join_all(calls).await {
        assert_eq!(identity.unwrap().account, common::ACCOUNT);
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1_990), "{took:?}");
    assert_eq!(access.stats().total(), 11);
}
