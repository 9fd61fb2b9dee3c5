//! The OpenID Connect issuer's public documents, when Rampart hosts its own
//! issuer (`rampart issuer init`, in the keys directory or the store): the
//! discovery document and the JWKS at the issuer URL's path, without
//! authentication. The documents are re-read at most once per
//! [`ServerConfig::issuer_refresh`](crate::ServerConfig::issuer_refresh) (a
//! minute by default), so a rotation shows without a restart; with the
//! issuer in the store, on every replica.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rampart_engine::Keys;
use rampart_identity::IdentityError;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiError;

#[derive(Debug)]
struct Cached {
    at: Instant,
    documents: Vec<(&'static str, Value)>,
}

#[derive(Debug, Clone)]
struct Documents {
    keys: Arc<Keys>,
    refresh: Duration,
    cache: Arc<Mutex<Cached>>,
}

impl Documents {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn get(&self, name: &str) -> Result<Value, ApiError> {
        // One request re-reads a stale issuer; the others meanwhile serve
        // the documents they have (a failed re-read is tried again after
        // the next `refresh`).
        let stale = {
            let mut cache = self.lock();
            let stale = cache.at.elapsed() > self.refresh;
            if stale {
                cache.at = Instant::now();
            }
            stale
        };
        if stale {
            let keys = Arc::clone(&self.keys);
            let reread = tokio::task::spawn_blocking(move || keys.issuer())
                .await
                .map_err(|e| e.to_string())
                .and_then(|found| found.map_err(|e| e.to_string()));
            match reread {
                Ok(issuer) => self.lock().documents = issuer.documents(),
                Err(error) => {
                    tracing::warn!(%error, "re-reading the issuer failed; serving the last documents");
                }
            }
        }
        self.lock()
            .documents
            .iter()
            .find(|(path, _)| *path == name)
            .map(|(_, doc)| doc.clone())
            .ok_or_else(|| ApiError::not_found("no such issuer document"))
    }
}

/// The issuer's routes, or none when neither the store nor the keys
/// directory holds an issuer. `refresh` is how long documents are served
/// before being re-read.
pub fn routes(keys: Option<Keys>, refresh: Duration) -> Router<AppState> {
    let Some(keys) = keys else {
        return Router::new();
    };
    let issuer = match keys.issuer() {
        Ok(issuer) => issuer,
        Err(IdentityError::NotInitialized(_)) => return Router::new(),
        Err(err) => {
            tracing::warn!(error = %err, "the issuer cannot be read; not serving its documents");
            return Router::new();
        }
    };
    let base = issuer_path(issuer.url());
    let docs = Documents {
        keys: Arc::new(keys),
        refresh,
        cache: Arc::new(Mutex::new(Cached {
            at: Instant::now(),
            documents: issuer.documents(),
        })),
    };
    tracing::info!(issuer = %issuer.url(), at = %issuer.location(), "serving the issuer's discovery document and JWKS");
    let mut router = Router::new();
    for (name, _) in issuer.documents() {
        let docs = docs.clone();
        router = router.route(
            &format!("{base}/{name}"),
            get(move || async move { document(&docs, name).await }),
        );
    }
    router
}

async fn document(docs: &Documents, name: &str) -> Response {
    match docs.get(name).await {
        Ok(doc) => {
            let mut response = axum::Json(doc).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            response
        }
        Err(err) => err.into_response(),
    }
}

/// The path part of an issuer URL, without a trailing slash (`""` at the root).
pub fn issuer_path(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_paths() {
        assert_eq!(issuer_path("https://rampart.example.com"), "");
        assert_eq!(issuer_path("https://rampart.example.com/oidc/"), "/oidc");
        assert_eq!(issuer_path("https://x.example/a/b"), "/a/b");
    }
}
