//! The issuer's public documents, fetched the way AWS fetches them: an
//! HTTP GET of the discovery document at the public URL, then of the JWKS
//! it names.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rampart_identity::Issuer;

use crate::decide::{self, Fetched};
use crate::requirement::{ISSUER_REACHABLE, SIGNING_KEY_PUBLISHED};
use crate::{Check, State};

/// Largest document read.
const MAX_BODY: usize = 1 << 20;

/// The discovery document's path below the issuer URL.
const DISCOVERY_PATH: &str = ".well-known/openid-configuration";

fn https_connector()
-> Result<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, String>
{
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

/// GETs `url` (http or https), following no redirect.
pub(crate) async fn fetch(url: &str, timeout: Duration) -> Result<Fetched, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("malformed URL: {e}"))?;
    let client: Client<_, Empty<Bytes>> =
        Client::builder(TokioExecutor::new()).build(https_connector()?);
    let request = hyper::Request::get(uri)
        .header(hyper::header::USER_AGENT, "rampart-connector-status")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let work = async {
        let response = client.request(request).await.map_err(|e| one_line(&e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(Fetched {
            status,
            body,
            location,
        })
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("no answer within {} s", timeout.as_secs()))?
}

/// An error and its causes on one line.
fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}

/// The issuer checks: discovery document, then the signing key in the JWKS.
pub(crate) async fn checks(issuer: &Result<Arc<Issuer>, String>, timeout: Duration) -> Vec<Check> {
    let issuer = match issuer {
        Ok(issuer) => issuer,
        Err(why) => {
            return vec![
                Check::new(
                    None,
                    ISSUER_REACHABLE,
                    State::not_met(
                        "create the issuer: `rampart issuer init --issuer-url https://HOST/PATH`, then publish it",
                    ),
                    format!("no issuer: {why}"),
                ),
                Check::new(
                    None,
                    SIGNING_KEY_PUBLISHED,
                    State::unknown("no issuer"),
                    "no signing key",
                ),
            ];
        }
    };
    let url = issuer.url();
    let discovery_url = format!("{url}/{DISCOVERY_PATH}");
    let fetched = fetch(&discovery_url, timeout).await;
    let (state, detail, jwks_uri) = decide::discovery(url, &discovery_url, &fetched);
    let reachable = state == State::Met;
    let mut checks = vec![Check::new(None, ISSUER_REACHABLE, state, detail)];
    let kid = issuer.signing_kid();
    let key_check = match jwks_uri {
        Some(jwks_uri) if reachable => {
            let fetched = fetch(&jwks_uri, timeout).await;
            let (state, detail) = decide::jwks(url, kid, &jwks_uri, &fetched);
            Check::new(None, SIGNING_KEY_PUBLISHED, state, detail)
        }
        None if reachable => Check::new(
            None,
            SIGNING_KEY_PUBLISHED,
            State::not_met(format!(
                "publish the issuer documents: `rampart issuer export --dir DIR` and serve DIR at {url}/"
            )),
            format!("{discovery_url} has no `jwks_uri`"),
        ),
        _ => Check::new(
            None,
            SIGNING_KEY_PUBLISHED,
            State::unknown("the discovery document is not served"),
            format!("signing key {kid}"),
        ),
    };
    checks.push(key_check);
    checks
}
