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

async fn open_issuer(state: &AppState) -> Result<rampart_identity::Issuer, PageError> {
    let keys = state
        .issuer_keys()
        .ok_or_else(|| PageError(ApiError::not_found("this server has no keys directory")))?;
    tokio::task::spawn_blocking(move || keys.issuer())
        .await
        .map_err(|e| PageError(ApiError::internal(format!("issuer task: {e}"))))?
        .map_err(|e| {
            PageError(ApiError::not_found(format!(
                "{e}; {}",
                rampart_engine::issuer::CREATE_HINT
            )))
        })
}

/// `GET /settings/issuer`: the signing keys and the rotate button.
pub(super) async fn issuer(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
) -> PageResult {
    admin_only(&who)?;
    let issuer = match open_issuer(&state).await {
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
        @if issuer.keys_dir().is_some() {
            p #issuer-storage { "The keys are in this server's keys directory " (issuer.location()) ". A change here is seen by this server only; other replicas need the same files. " code { "rampart issuer move-to-store" } " keeps them in the store, shared by every replica." }
        } @else {
            p #issuer-storage { "The keys are kept in the store, sealed with the keys directory's secret key: a change here is seen by every replica within a minute." }
        }
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
            p { "A rotation has two stages, with a window between them:" }
            ol {
                li { strong { "Stage: " } "a new key is generated and published in the JWKS next to the current one; the current key still signs." }
                li { strong { "Wait: " } "until the published JWKS holds the staged key. This server, when it publishes the issuer documents itself, re-reads its keys within a minute; if you publish exported copies on a static host, run " code { "rampart issuer export --dir DIR" } " and upload them now. AWS fetches the JWKS when it checks a token, so a token signed with a key it cannot find is refused (scans and verification would fail with a coverage gap)." }
                li { strong { "Activate: " } "new tokens are signed with the staged key; the old key stays published until every token it signed has expired (one hour plus a five-minute clock-skew margin), then it is removed." }
            }
            @match issuer.staged_kid() {
                Some(kid) => {
                    p #staged { "Staged: " code { (kid) } ". Activate it once the published JWKS holds it." }
                    form.inline method="post" action="/settings/issuer/activate" {
                        (csrf_field(&who))
                        button #activate-key type="submit" { "Activate the staged key" }
                    }
                    " "
                }
                None => {
                    form.inline method="post" action="/settings/issuer/stage" {
                        (csrf_field(&who))
                        button #stage-key type="submit" { "Stage a new key" }
                    }
                    " "
                }
            }
            form.inline method="post" action="/settings/issuer/rotate" {
                (csrf_field(&who))
                button #rotate-key type="submit" { "Stage and activate at once" }
            }
            p.muted.small { "At once is safe only when nothing needs to fetch the new JWKS first (no static copies, and no scan in the next minute)." }
        }
    };
    Ok(page("Issuer keys", Nav::Connectors, &who, content))
}

/// What a key change does.
#[derive(Debug, Clone, Copy)]
enum KeyStep {
    Stage,
    Activate,
    Rotate,
}

/// `POST /settings/issuer/stage`.
pub(super) async fn stage(State(state): State<AppState>) -> PageResult {
    change_key(&state, KeyStep::Stage).await
}

/// `POST /settings/issuer/activate`.
pub(super) async fn activate(State(state): State<AppState>) -> PageResult {
    change_key(&state, KeyStep::Activate).await
}

/// `POST /settings/issuer/rotate`: stage and activate at once.
pub(super) async fn rotate(State(state): State<AppState>) -> PageResult {
    change_key(&state, KeyStep::Rotate).await
}

async fn change_key(state: &AppState, step: KeyStep) -> PageResult {
    let mut issuer = open_issuer(state).await?;
    tokio::task::spawn_blocking(move || {
        let now = OffsetDateTime::now_utc();
        match step {
            KeyStep::Stage => issuer.stage(now),
            KeyStep::Activate => issuer.activate(now),
            KeyStep::Rotate => issuer.rotate(now),
        }
    })
    .await
    .map_err(|e| PageError(ApiError::internal(format!("rotation task: {e}"))))?
    .map_err(|e| match e {
        rampart_identity::IdentityError::NothingStaged => {
            PageError(ApiError::bad_request(e.to_string()))
        }
        rampart_identity::IdentityError::Changed(_) => PageError(ApiError::conflict(e.to_string())),
        other => PageError(ApiError::internal(format!("key change failed: {other}"))),
    })?;
    Ok(see_other("/settings/issuer"))
}
