//! `/v1/sessions` (`packages/backend/src/api/endpoints/SessionApi.ts`).

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::views::session_json;
use crate::error::{ApiError, ok_json};
use crate::extract::{Id, IdPair, JsonBody, query_one, query_pairs, query_usize};
use crate::state::AppState;
use crate::store::{SessionQuery, SessionStatus};
use crate::tokens::TokenSpec;

/// Longest token lifetime accepted from `expires_in_seconds` (ten years).
const MAX_TOKEN_LIFETIME_SECS: u64 = 315_360_000;

/// `GET /v1/sessions?user_id=…&client_id=…&status=…[&paginated=true]`. Clerk requires a user or client.
pub(super) async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let status = match query_one(&pairs, "status") {
        None => None,
        Some(s) => Some(
            SessionStatus::parse(&s)
                .ok_or_else(|| ApiError::FormParamInvalid { param: "status".into(), message: format!("{s:?} is not a session status") })?,
        ),
    };
    let filter = SessionQuery { user_id: query_one(&pairs, "user_id"), client_id: query_one(&pairs, "client_id"), status };
    if filter.user_id.is_none() && filter.client_id.is_none() {
        return Err(ApiError::FormParamMissing("user_id".into()));
    }
    let limit = query_usize(&pairs, "limit")?.unwrap_or(10).clamp(1, 500);
    let offset = query_usize(&pairs, "offset")?.unwrap_or(0);
    let now = state.clock().now_ms();
    let store = state.store();
    let all = store.sessions(&filter, now);
    let total = all.len();
    let page: Vec<Value> = all.into_iter().skip(offset).take(limit).map(|s| session_json(s, now)).collect();
    if query_one(&pairs, "paginated").as_deref() == Some("true") {
        Ok(ok_json(&json!({"data": page, "total_count": total})))
    } else {
        Ok(ok_json(&Value::Array(page)))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSession {
    user_id: String,
}

/// `POST /v1/sessions {"user_id"}`: a new active session on a new client.
pub(super) async fn create(State(state): State<AppState>, JsonBody(body): JsonBody<CreateSession>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let session = state.store().create_session(&body.user_id, now)?;
    Ok(ok_json(&session_json(&session, now)))
}

/// `GET /v1/sessions/{id}`.
pub(super) async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let store = state.store();
    Ok(ok_json(&session_json(store.session(&id)?, now)))
}

/// `POST /v1/sessions/{id}/revoke`, no body.
pub(super) async fn revoke(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let session = state.store().finish_session(&id, SessionStatus::Revoked, now)?;
    Ok(ok_json(&session_json(&session, now)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    #[serde(default)]
    expires_in_seconds: Option<u64>,
}

/// `POST /v1/sessions/{id}/tokens` `{"expires_in_seconds"?}` → `{"object":"token","jwt"}`.
pub(super) async fn token(State(state): State<AppState>, Id(id): Id, JsonBody(body): JsonBody<TokenBody>) -> Result<Response, ApiError> {
    mint_for_session(&state, &id, body)
}

/// `POST /v1/sessions/{id}/tokens/{template}`: the JWT template of that name, rendered for the session's user
/// ([`super::jwt_templates::mint_template_token`]); an unknown template is Clerk's 404.
pub(super) async fn template_token(
    State(state): State<AppState>,
    IdPair(id, template): IdPair,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Response, ApiError> {
    let expires_in = match body.expires_in_seconds {
        Some(s) if s == 0 || s > MAX_TOKEN_LIFETIME_SECS => return Err(invalid_lifetime()),
        other => other,
    };
    let jwt = super::jwt_templates::mint_template_token(&state, &id, &template, expires_in, None)?;
    Ok(ok_json(&json!({"object": "token", "jwt": jwt})))
}

fn mint_for_session(state: &AppState, id: &str, body: TokenBody) -> Result<Response, ApiError> {
    let ttl = match body.expires_in_seconds {
        Some(0) => return Err(invalid_lifetime()),
        Some(s) if s > MAX_TOKEN_LIFETIME_SECS => return Err(invalid_lifetime()),
        Some(s) => Some(std::time::Duration::from_secs(s)),
        None => None,
    };
    let now = state.clock().now_ms();
    let spec = {
        let mut store = state.store();
        let session = store.active_session(id, now)?;
        let spec = TokenSpec { ttl, ..TokenSpec::for_session(session, &store, now) };
        store.touch_session(id, now);
        spec
    };
    Ok(ok_json(&json!({"object": "token", "jwt": state.mint(&spec).token})))
}

fn invalid_lifetime() -> ApiError {
    ApiError::FormParamInvalid {
        param: "expires_in_seconds".into(),
        message: format!("expires_in_seconds must be between 1 and {MAX_TOKEN_LIFETIME_SECS}"),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RefreshBody {
    expired_token: String,
    refresh_token: String,
    #[serde(default)]
    request_origin: Option<String>,
    #[serde(default)]
    request_originating_ip: Option<String>,
    #[serde(default)]
    request_headers: Option<std::collections::HashMap<String, Vec<String>>>,
    #[serde(default)]
    format: Option<String>,
}

/// `POST /v1/sessions/{id}/refresh[?suffixed_cookies=true]` (`SessionApi.ts` `refreshSession`, called by
/// `request.ts` when an expired token meets a `__refresh_<suffix>` cookie on a GET). The expired token must be
/// ours and name this session; the refresh token must be the session's; the session must still be active.
pub(super) async fn refresh(
    State(state): State<AppState>,
    Id(id): Id,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Response, ApiError> {
    let _ = (&body.request_origin, &body.request_originating_ip, &body.request_headers);
    let sid_in_token = {
        let keys = state.keys();
        crate::tokens::verify_signature(&keys, &body.expired_token).and_then(|d| d.claims.get("sid").and_then(Value::as_str).map(str::to_owned))
    };
    if sid_in_token.as_deref() != Some(id.as_str()) {
        return Err(ApiError::FormParamInvalid {
            param: "expired_token".into(),
            message: "expired_token is not a session token of this session".into(),
        });
    }
    let now = state.clock().now_ms();
    let spec = {
        let mut store = state.store();
        let session = store.check_refresh(&id, &body.refresh_token, now)?;
        let spec = TokenSpec::for_session(session, &store, now);
        store.touch_session(&id, now);
        spec
    };
    let minted = state.mint(&spec);
    match body.format.as_deref().unwrap_or("token") {
        "token" => Ok(ok_json(&json!({"object": "token", "jwt": minted.token}))),
        "cookie" => {
            let suffixed = query_one(&query_pairs(query.as_deref()), "suffixed_cookies").as_deref() == Some("true");
            let suffix = suffixed.then(|| state.instance().cookie_suffix().to_owned());
            let cookies = crate::cookies::signed_in_directives(&minted.token, minted.iat, None, suffix.as_deref());
            Ok(ok_json(&json!({"object": "cookies", "cookies": cookies})))
        }
        other => Err(ApiError::FormParamInvalid { param: "format".into(), message: format!("{other:?}: format is token or cookie") }),
    }
}
