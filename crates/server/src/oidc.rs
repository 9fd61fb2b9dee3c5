//! The OpenID Connect issuer's public documents, when Rampart hosts its own
//! issuer (`rampart issuer init` in the keys directory): the discovery
//! document and the JWKS at the issuer URL's path, without authentication.
//! The documents are re-read at most once a minute so key rotation shows
//! without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rampart_identity::{IdentityError, Issuer};
use serde_json::Value;

use crate::AppState;
use crate::error::ApiError;

/// How long documents are served before being re-read.
const REFRESH: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Cached {
    at: Instant,
    documents: Vec<(&'static str, Value)>,
}

#[derive(Debug, Clone)]
struct Documents {
    keys_dir: Arc<PathBuf>,
    cache: Arc<Mutex<Cached>>,
}

impl Documents {
    fn get(&self, name: &str) -> Result<Value, ApiError> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.at.elapsed() > REFRESH {
            match Issuer::open(&self.keys_dir) {
                Ok(issuer) => {
                    *cache = Cached {
                        at: Instant::now(),
                        documents: issuer.documents(),
                    };
                }
                Err(err) => {
                    tracing::warn!(error = %err, "re-reading the issuer failed; serving the last documents")
                }
            }
        }
        cache
            .documents
            .iter()
            .find(|(path, _)| *path == name)
            .map(|(_, doc)| doc.clone())
            .ok_or_else(|| ApiError::not_found("no such issuer document"))
    }
}

/// The issuer's routes, or none when the keys directory holds no issuer.
pub fn routes(keys_dir: Option<&Path>) -> Router<AppState> {
    let Some(dir) = keys_dir else {
        return Router::new();
    };
    let issuer = match Issuer::open(dir) {
        Ok(issuer) => issuer,
        Err(IdentityError::NotInitialized(_)) => return Router::new(),
        Err(err) => {
            tracing::warn!(error = %err, "the issuer in the keys directory cannot be read; not serving its documents");
            return Router::new();
        }
    };
    let base = issuer_path(issuer.url());
    let docs = Documents {
        keys_dir: Arc::new(dir.to_owned()),
        cache: Arc::new(Mutex::new(Cached {
            at: Instant::now(),
            documents: issuer.documents(),
        })),
    };
    tracing::info!(issuer = %issuer.url(), "serving the issuer's discovery document and JWKS");
    let mut router = Router::new();
    for (name, _) in issuer.documents() {
        let docs = docs.clone();
        router = router.route(
            &format!("{base}/{name}"),
            get(move || async move { document(&docs, name) }),
        );
    }
    router
}

fn document(docs: &Documents, name: &str) -> Response {
    match docs.get(name) {
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
