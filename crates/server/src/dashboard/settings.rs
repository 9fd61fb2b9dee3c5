//! Settings pages (admins): API tokens (create, shown once; list; revoke)
//! and the OIDC issuer's signing keys (rotate).

use axum::Extension;
use axum::extract::{Form, Path, State};
use maud::html;
use rampart_store::TokenRole;
use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    Nav, PageError, PageResult, badge, csrf_field, is_admin, page, see_other, segment, when,
};
use crate::AppState;
use crate::auth::{Principal, create_token};
use crate::error::ApiError;

fn admin_only(who: &Principal) -> Result<(), PageError> {
    if is_admin(who) {
        Ok(())
    } else {
        Err(PageError(ApiError::forbidden(format!(
            "token `{}` is a reader; settings need an admin",
            who.name
        ))))
    }
}

/// `GET /settings/tokens`.
pub(super) async fn tokens(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    admin_only(&who)?;
    let tokens = state.store.run(|s| Ok(s.tokens()?)).await?;
    let content = html! {
        h1 { "API tokens" }
        p.muted { "A token signs in on the login page and authenticates API calls (" code { "Authorization: Bearer …" } "). Readers read; admins also change connectors, exemptions and scans. Tokens are stored hashed: a secret is shown once, when it is created." }
        table #tokens {
            thead { tr { th { "Name" } th { "Role" } th { "Created" } th { "Last used" } th {} } }
            tbody {
                @for t in &tokens {
                    tr {
                        td { (t.name) @if t.id == who.token_id { span.muted.small { " (yours)" } } }
                        td { (badge(t.role.as_str())) }
                        td { (when(t.created_at)) }
                        td { (t.last_used.map(when).unwrap_or_else(|| "never".to_owned())) }
                        td {
                            form.inline method="post" action=(format!("/settings/tokens/{}/revoke", segment(&t.id))) {
                                (csrf_field(&who))
                                button type="submit" { "Revoke" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Create a token" }
        form.stack method="post" action="/settings/tokens" {
            (csrf_field(&who))
            label for="token-name" { "Name" span.muted.small { " who or what uses it, e.g. ci or alice" } }
            input #token-name name="name" type="text" required maxlength="64";
            label for="token-role" { "Role" }
            select #token-role name="role" {
                option value="reader" { "reader — reads everything" }
                option value="admin" { "admin — also changes things" }
            }
            div { button type="submit" { "Create" } }
        }
    };
    Ok(page("API tokens", Nav::Connectors, &who, content))
}

/// The create form.
#[derive(Debug, Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

/// `POST /settings/tokens`: the new secret, shown once.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Form(form): Form<TokenForm>,
) -> PageResult {
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(PageError(ApiError::bad_request(
            "a token name is 1 to 64 printable characters",
        )));
    }
    let role = TokenRole::parse(&form.role).ok_or_else(|| {
        PageError(ApiError::bad_request(format!(
            "unknown role `{}` (reader or admin)",
            form.role
        )))
    })?;
    let created = state
        .store
        .run(move |s| create_token(s, &name, role).map_err(|e| ApiError::internal(e.to_string())))
        .await?;
    let content = html! {
        p.small { a href="/settings/tokens" { "« API tokens" } }
        h1 { "Token " (created.record.name) " created" }
        p { "The secret, shown only now; copy it:" }
        pre #new-token { code { (created.secret) } }
        p.muted { "Role: " (created.record.role.as_str()) ". Revoke it on the tokens page when it is no longer needed." }
    };
    Ok(page("Token created", Nav::Connectors, &who, content))
}

/// `POST /settings/tokens/{id}/revoke`.
pub(super) async fn revoke(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let found = state.store.run(move |s| Ok(s.revoke_token(&id)?)).await?;
    if !found {
        return Err(PageError(ApiError::not_found("no such token")));
    }
    Ok(see_other("/settings/tokens"))
}

fn open_issuer(state: &AppState) -> Result<rampart_identity::Issuer, PageError> {
    let dir = state
        .config
        .keys_dir
        .clone()
        .ok_or_else(|| PageError(ApiError::not_found("this server has no keys directory")))?;
    rampart_identity::Issuer::open(&dir).map_err(|e| {
        PageError(ApiError::not_found(format!(
            "no issuer in `{}` ({e}); create it with `rampart issuer init --url https://...`",
            dir.display()
        )))
    })
}

/// `GET /settings/issuer`: the signing keys and the rotate button.
pub(super) async fn issuer(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    admin_only(&who)?;
    let issuer = match open_issuer(&state) {
        Ok(issuer) => issuer,
        Err(PageError(err)) => {
            let content = html! {
                h1 { "Issuer keys" }
                p.panel #no-issuer { "No issuer: " (err.message) ". Connectors that federate (no access keys) need one." }
            };
            return Ok(page("Issuer keys", Nav::Connectors, &who, content));
        }
    };
    let content = html! {
        h1 { "Issuer keys" }
        p { "Issuer " code { (issuer.url()) } ". AWS checks every role session's token against the keys published at " code { (issuer.jwks_uri()) } "." }
        table #issuer-keys {
            thead { tr { th { "Key id" } th { "Created" } th { "State" } th { "Published until" } } }
            tbody {
                @for k in issuer.keys() {
                    tr {
                        td.wrap { code { (k.kid) } }
                        td { (when(k.created_at)) }
                        td { @if k.signing { (badge("signing")) } @else { (badge("retired")) } }
                        td { (k.published_until.map(when).unwrap_or_else(|| "—".to_owned())) }
                    }
                }
            }
        }
        section.panel #rotation {
            h2 { "Rotate the signing key" }
            p { "Rotation happens in two stages:" }
            ol {
                li { strong { "Stage: " } "a new key is generated and added to the JWKS next to the current one." }
                li { strong { "Activate: " } "new tokens are signed with it; the old key stays published until every token it signed has expired (one hour plus a clock-skew margin), then it is removed." }
            }
            p { "The button does both at once. When this server publishes the issuer documents itself (it answers " code { "/.well-known/openid-configuration" } " and the JWKS), it re-reads the keys at most once a minute: a scan or verification started within that minute after rotating may fail to assume roles; run it again after a minute. If you publish exported copies (" code { "rampart issuer export --dir DIR" } ") on a static host, export and upload them right after rotating: until the new JWKS is public, AWS rejects tokens signed with the new key, and scans in that window fail with a coverage gap." }
            form.inline method="post" action="/settings/issuer/rotate" {
                (csrf_field(&who))
                button #rotate-key type="submit" { "Rotate now" }
            }
        }
    };
    Ok(page("Issuer keys", Nav::Connectors, &who, content))
}

/// `POST /settings/issuer/rotate`.
pub(super) async fn rotate(State(state): State<AppState>) -> PageResult {
    let mut issuer = open_issuer(&state)?;
    tokio::task::spawn_blocking(move || issuer.rotate(OffsetDateTime::now_utc()))
        .await
        .map_err(|e| PageError(ApiError::internal(format!("rotation task: {e}"))))?
        .map_err(|e| PageError(ApiError::internal(format!("rotation failed: {e}"))))?;
    Ok(see_other("/settings/issuer"))
}
