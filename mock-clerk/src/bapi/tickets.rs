//! `/v1/sign_in_tokens`, `/v1/actor_tokens` and `/v1/testing_tokens` (`SignInTokenApi.ts`, `ActorTokenApi.ts`,
//! `TestingTokenApi.ts`; shapes from `bapi/2026-05-12.yml`). The tickets themselves live in
//! [`crate::tickets`]; their `url` is the Frontend API's [`crate::fapi::tickets::TICKET_ACCEPT_PATH`].

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ok_json};
use crate::extract::{Id, JsonBody};
use crate::state::AppState;
use crate::tickets::{
    ACTOR_SESSION_MAX_SECS, ACTOR_TOKEN_LIFETIME_SECS, MAX_LIFETIME_SECS, NewTicket, SIGN_IN_TOKEN_LIFETIME_SECS, TicketError, TicketKind,
    TicketRecord,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSignInToken {
    user_id: String,
    #[serde(default)]
    expires_in_seconds: Option<i64>,
    #[serde(default)]
    org_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateActorToken {
    user_id: String,
    actor: Map<String, Value>,
    #[serde(default)]
    expires_in_seconds: Option<i64>,
    #[serde(default)]
    session_max_duration_in_seconds: Option<i64>,
}

fn lifetime(param: &str, given: Option<i64>, default: i64) -> Result<i64, ApiError> {
    match given {
        None => Ok(default),
        Some(s) if (1..=MAX_LIFETIME_SECS).contains(&s) => Ok(s),
        Some(_) => Err(ApiError::FormParamInvalid { param: param.into(), message: format!("must be between 1 and {MAX_LIFETIME_SECS}") }),
    }
}

fn render(state: &AppState, record: &TicketRecord) -> Response {
    ok_json(&record.json(&crate::fapi::tickets::ticket_url(state, &record.token)))
}

fn issue(state: &AppState, new: NewTicket) -> Result<Response, ApiError> {
    state.store().user(&new.user_id)?;
    let now = state.clock().now_ms();
    let record = state.fapi().tickets().issue(new, now);
    Ok(render(state, &record))
}

fn revoke(state: &AppState, kind: TicketKind, id: &str) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let record = state.fapi().tickets().revoke(kind, id, now).map_err(|e| match e {
        TicketError::AlreadyAccepted => ApiError::FormParamInvalid {
            param: format!("{}_id", kind.object()),
            message: format!("the {} was already used to sign in and cannot be revoked", kind.object().replace('_', " ")),
        },
        _ => ApiError::ResourceNotFound { kind: kind.object(), id: id.to_owned() },
    })?;
    Ok(render(state, &record))
}

/// `POST /v1/sign_in_tokens {"user_id", "expires_in_seconds"?}` (default 30 days).
pub(super) async fn create_sign_in_token(State(state): State<AppState>, JsonBody(body): JsonBody<CreateSignInToken>) -> Result<Response, ApiError> {
    if body.org_id.is_some() {
        return Err(ApiError::FormParamInvalid { param: "org_id".into(), message: "mock-clerk has no organizations".into() });
    }
    let expires_in_secs = lifetime("expires_in_seconds", body.expires_in_seconds, SIGN_IN_TOKEN_LIFETIME_SECS)?;
    issue(&state, NewTicket { kind: TicketKind::SignIn, user_id: body.user_id, actor: None, expires_in_secs, session_max_duration_secs: None })
}

/// `POST /v1/sign_in_tokens/{id}/revoke`.
pub(super) async fn revoke_sign_in_token(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    revoke(&state, TicketKind::SignIn, &id)
}

/// `POST /v1/actor_tokens {"user_id", "actor": {"sub", …}, "expires_in_seconds"?, "session_max_duration_in_seconds"?}`.
pub(super) async fn create_actor_token(State(state): State<AppState>, JsonBody(body): JsonBody<CreateActorToken>) -> Result<Response, ApiError> {
    match body.actor.get("sub") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(_) => return Err(ApiError::FormParamInvalid { param: "actor.sub".into(), message: "must be a non-empty string".into() }),
        None => return Err(ApiError::FormParamMissing("actor.sub".into())),
    }
    let expires_in_secs = lifetime("expires_in_seconds", body.expires_in_seconds, ACTOR_TOKEN_LIFETIME_SECS)?;
    let session_max = lifetime("session_max_duration_in_seconds", body.session_max_duration_in_seconds, ACTOR_SESSION_MAX_SECS)?;
    issue(
        &state,
        NewTicket {
            kind: TicketKind::Actor,
            user_id: body.user_id,
            actor: Some(Value::Object(body.actor)),
            expires_in_secs,
            session_max_duration_secs: Some(session_max),
        },
    )
}

/// `POST /v1/actor_tokens/{id}/revoke`.
pub(super) async fn revoke_actor_token(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    revoke(&state, TicketKind::Actor, &id)
}

/// `POST /v1/testing_tokens` → `{"object": "testing_token", "token", "expires_at"}` (seconds).
pub(super) async fn create_testing_token(State(state): State<AppState>) -> Response {
    let (token, expires_at) = crate::tickets::testing_token(state.clock().now_ms());
    ok_json(&json!({"object": "testing_token", "token": token, "expires_at": expires_at}))
}
