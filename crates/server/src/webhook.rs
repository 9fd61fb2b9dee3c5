//! Signed webhook notifications of new alerts.
//!
//! Storing an alert for the first time queues it in the store's outbox in
//! the same transaction; this notifier (started by [`serve`](crate::serve)
//! when `--alert-webhook` is set) reads the outbox after its saved position,
//! and POSTs each new alert at or above the chosen severity, as a
//! `rampart.alerts/v1` document holding that one alert. Delivery never
//! blocks storage: a slow or failing receiver only delays later
//! notifications. Each delivery is retried with exponential backoff; the
//! outcome (attempts, delivered time, last error) is kept in the outbox.
//! Replicas sharing a store each run a notifier; a notifier claims an
//! entry in the store before it sends it, so each alert is sent once.
//!
//! Every request carries:
//!
//! * `X-Rampart-Timestamp`: Unix seconds when it was signed;
//! * `X-Rampart-Signature`: `sha256=<hex>`, the HMAC-SHA256 with the shared
//!   secret of `<timestamp>.<body>`. A receiver recomputes it, compares in
//!   constant time, and rejects timestamps older than a few minutes
//!   (replays);
//! * `X-Rampart-Delivery`: the alert id and outbox position, the same on
//!   every retry of one notification (for de-duplication).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rampart_model::{AlertsDocument, Severity};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::pool::StorePool;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-rampart-signature";
/// The timestamp header.
pub const TIMESTAMP_HEADER: &str = "x-rampart-timestamp";
/// The delivery id header.
pub const DELIVERY_HEADER: &str = "x-rampart-delivery";

/// Webhook settings.
#[derive(Clone)]
pub struct WebhookConfig {
    /// Where to POST (http or https).
    pub url: String,
    /// The shared HMAC secret.
    pub secret: Arc<Vec<u8>>,
    /// Only alerts of this severity or higher are sent.
    pub min_severity: Severity,
    /// How often the outbox is read when it was empty.
    pub poll: Duration,
    /// Attempts per notification, first included.
    pub attempts: u32,
    /// The wait before the first retry; it doubles each time, up to `max_backoff`.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Timeout of one attempt.
    pub timeout: Duration,
}

impl WebhookConfig {
    /// Defaults: poll every 2 s, 6 attempts from 1 s backoff up to 60 s,
    /// 10 s per attempt.
    pub fn new(url: impl Into<String>, secret: Vec<u8>, min_severity: Severity) -> Self {
        Self {
            url: url.into(),
            secret: Arc::new(secret),
            min_severity,
            poll: Duration::from_secs(2),
            attempts: 6,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("min_severity", &self.min_severity)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// `sha256=<hex>`: the HMAC-SHA256 of `<timestamp>.<body>` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Whether `header` is the right signature of `body` at `timestamp`
/// (constant-time comparison), for receivers and tests.
pub fn verify(secret: &[u8], timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(tag) = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    hmac::verify(&key, &message, &tag).is_ok()
}

type Connector = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

fn connector() -> Result<Connector, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
    {
        Ok(builder) => builder,
        // No system roots: http still works, https fails on the certificate.
        Err(_) => {
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS setup: {e}"))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    Ok(builder.https_or_http().enable_http1().build())
}

/// One POST; `Ok` on a 2xx answer.
async fn post(
    client: &Client<Connector, Full<Bytes>>,
    config: &WebhookConfig,
    body: &Bytes,
    delivery: &str,
) -> Result<(), String> {
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let request = hyper::Request::post(config.url.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "rampart-webhook")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature(&config.secret, timestamp, body))
        .header(DELIVERY_HEADER, delivery)
        .body(Full::new(body.clone()))
        .map_err(|e| format!("bad request: {e}"))?;
    let work = async {
        let response = client.request(request).await.map_err(|e| format!("{e}"))?;
        let status = response.status();
        // Read (a little of) the answer so the connection can be reused.
        let _ = Limited::new(response.into_body(), 64 * 1024)
            .collect()
            .await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    };
    tokio::time::timeout(config.timeout, work)
        .await
        .map_err(|_| format!("no answer within {} s", config.timeout.as_secs()))?
}

/// Delivers one notification with retries; returns attempts made and the
/// last error (`None`: delivered). `None` overall when stopped.
async fn deliver(
    client: &Client<Connector, Full<Bytes>>,
    config: &WebhookConfig,
    body: &Bytes,
    delivery: &str,
    stop: &CancellationToken,
) -> Option<(u32, Option<String>)> {
    let mut wait = config.backoff;
    let mut last = None;
    for attempt in 1..=config.attempts.max(1) {
        match post(client, config, body, delivery).await {
            Ok(()) => return Some((attempt, None)),
            Err(e) => {
                tracing::warn!(delivery, attempt, error = %e, "alert webhook delivery failed");
                last = Some(e);
            }
        }
        if attempt < config.attempts {
            tokio::select! {
                () = stop.cancelled() => return None,
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(config.max_backoff);
        }
    }
    Some((config.attempts.max(1), last))
}

/// How long a notifier holds an outbox entry it delivers: longer than
/// every attempt and backoff of one notification can take.
fn claim_lease(config: &WebhookConfig) -> time::Duration {
    let per_attempt = config.timeout + config.max_backoff;
    let total = per_attempt * config.attempts.max(1) + Duration::from_secs(60);
    time::Duration::try_from(total).unwrap_or(time::Duration::HOUR)
}

/// Runs the notifier until `stop`. Notifiers of several replicas sharing
/// the store claim each outbox entry before sending it, so each is sent by
/// one of them; an entry whose notifier died is sent by another once the
/// claim's lease ([`claim_lease`]) has run out.
pub async fn run(store: StorePool, config: WebhookConfig, stop: CancellationToken) {
    let client = match connector() {
        Ok(c) => Client::builder(TokioExecutor::new()).build(c),
        Err(e) => {
            tracing::error!(error = %e, "alert webhook disabled");
            return;
        }
    };
    let me = uuid::Uuid::new_v4().to_string();
    let lease = claim_lease(&config);
    loop {
        let batch = store
            .run(|s| {
                let cursor = s.notification_cursor()?;
                Ok((cursor, s.alert_outbox(cursor, 50)?))
            })
            .await;
        let (cursor, entries) = match batch {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e.message, "alert webhook: reading the outbox failed");
                (0, Vec::new())
            }
        };
        let mut handled = false;
        for entry in entries {
            let seq = entry.seq;
            let owner = me.clone();
            let claimed = store
                .run(move |s| {
                    Ok(s.claim_outbox_entry(seq, &owner, OffsetDateTime::now_utc(), lease)?)
                })
                .await;
            match claimed {
                Ok(true) => {}
                // Another replica's notifier sends it (or sent it).
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e.message, "alert webhook: claiming an outbox entry failed");
                    continue;
                }
            }
            handled = true;
            let outcome = if entry.alert.severity >= config.min_severity {
                let delivery = format!("{}:{seq}", entry.alert.id);
                let document = AlertsDocument::new(OffsetDateTime::now_utc(), vec![entry.alert]);
                let body = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
                match deliver(&client, &config, &body, &delivery, &stop).await {
                    Some(outcome) => Some(outcome),
                    // Stopped mid-way: the notification is sent again, by
                    // this server next time or by another one now.
                    None => {
                        let owner = me.clone();
                        let _ = store
                            .run(move |s| Ok(s.release_outbox_entry(seq, &owner)?))
                            .await;
                        return;
                    }
                }
            } else {
                None
            };
            let owner = me.clone();
            let saved = store
                .run(move |s| {
                    if let Some((attempts, error)) = &outcome {
                        let delivered = error.is_none().then(OffsetDateTime::now_utc);
                        s.record_alert_delivery(seq, *attempts, delivered, error.as_deref())?;
                    }
                    s.finish_outbox_entry(seq, &owner)?;
                    Ok(s.set_notification_cursor(s.outbox_handled_through(cursor)?)?)
                })
                .await;
            if let Err(e) = saved {
                tracing::warn!(error = %e.message, "alert webhook: saving progress failed");
            }
            if stop.is_cancelled() {
                return;
            }
        }
        if !handled {
            // Nothing new, or everything held by other notifiers.
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(config.poll) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_depend_on_every_input() {
        let sig = signature(b"s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
        assert!(verify(b"s3cret", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!verify(b"other", 1_700_000_000, b"{\"a\":1}", &sig));
        assert!(!verify(b"s3cret", 1_700_000_001, b"{\"a\":1}", &sig));
        assert!(!verify(b"s3cret", 1_700_000_000, b"{\"a\":2}", &sig));
        assert!(!verify(b"s3cret", 1_700_000_000, b"{\"a\":1}", "sha256=zz"));
        // RFC 4231 test case 2 ("what do ya want for nothing?"), message
        // prefixed as Rampart signs it, checked against the plain HMAC.
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        let plain = hmac::sign(&key, b"what do ya want for nothing?");
        let hex: String = plain.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
