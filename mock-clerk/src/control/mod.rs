//! The control API for tests, under `/__mock`: sign users in, mint tokens (valid or broken), move the clock,
//! rotate keys, inject faults, read the request log, reset. Loopback callers only; with a control token set,
//! callers that present it instead, from any address (loopback callers without it are refused). The inspector
//! (`/__mock/ui`, [`inspector`]) is part of it.

pub mod inspector;
pub mod machines;
pub mod ops;
pub mod org_ops;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::error::{ApiError, ok_json};
use crate::extract::{Id, JsonBody};
use crate::faults::Fault;
use crate::state::{AppState, ControlAccess};
use crate::store::SessionStatus;

/// The prefix of every control route.
pub const PREFIX: &str = "/__mock";

/// The control routes, behind the access check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/__mock/instance", get(instance))
        .route("/__mock/sign-in", post(sign_in))
        .route("/__mock/tokens", post(mint))
        .route("/__mock/sessions/{id}/end", post(end_session))
        .route("/__mock/sessions/{id}/claims", post(session_claims))
        .route("/__mock/clock", get(clock))
        .route("/__mock/clock/advance", post(advance_clock))
        .route("/__mock/clock/reset", post(reset_clock))
        .route("/__mock/keys", get(keys))
        .route("/__mock/keys/rotate", post(rotate_keys))
        .route("/__mock/keys/retire", post(retire_keys))
        .route("/__mock/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/__mock/faults/jwks-outage", post(jwks_outage))
        .route("/__mock/requests", get(requests).delete(clear_requests))
        .route("/__mock/handshake-format", get(handshake_format).post(set_handshake_format))
        .route("/__mock/reset", post(reset))
        .merge(crate::webhooks::routes::routes())
        .merge(machines::routes())
        .merge(inspector::routes())
        .route("/__mock/codes", get(crate::fapi::codes::list))
        .route("/__mock/users/{id}/totp", get(totp))
        .route("/__mock/seed", post(seed))
        .route_layer(middleware::from_fn_with_state(state, control_access))
}

async fn control_access(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, ApiError> {
    match &state.settings().control {
        ControlAccess::LoopbackOnly => {
            // The peer as `ConnectInfo` sees it: the socket's, or the `MockConnectInfo` an in-process caller set.
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0)
                .or_else(|| req.extensions().get::<MockConnectInfo<SocketAddr>>().map(|c| c.0));
            if !peer.is_some_and(|p| p.ip().is_loopback()) {
                return Err(ApiError::ControlForbidden("The control API only answers loopback callers"));
            }
        }
        ControlAccess::Token(token) => {
            let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            if given.and_then(|v| v.strip_prefix("Bearer ")) != Some(token.as_str()) && !inspector::presents_token(&req, token) {
                return Err(ApiError::ControlForbidden("The control API needs Authorization: Bearer <control token>"));
            }
        }
    }
    Ok(next.run(req).await)
}

async fn instance(State(state): State<AppState>) -> Response {
    let i = state.instance();
    ok_json(&json!({
        "kind": i.kind(),
        "publishable_key": i.publishable_key(),
        "frontend_api": i.frontend_host(),
        "issuer": i.issuer(),
        "api_url": state.settings().base_url,
        "cookie_suffix": i.cookie_suffix(),
        "token_lifetime_seconds": state.settings().token_lifetime.as_secs(),
    }))
}

async fn sign_in(State(state): State<AppState>, JsonBody(req): JsonBody<ops::SignInRequest>) -> Result<Response, ApiError> {
    let signed_in = ops::sign_in(&state, req)?;
    let mut body = serde_json::to_value(&signed_in).expect("serialises");
    body["cookie_header"] = signed_in.cookie_header().into();
    body["set_cookie"] = signed_in.cookies.iter().map(|c| c.set_cookie()).collect::<Vec<_>>().into();
    Ok(ok_json(&body))
}

async fn mint(State(state): State<AppState>, JsonBody(req): JsonBody<ops::MintRequest>) -> Response {
    ok_json(&serde_json::to_value(ops::mint(&state, req)).expect("serialises"))
}

/// `POST /__mock/sessions/{id}/claims {active_organization?, features?, plans?, claims?}`: the session as the
/// Backend API shows it.
async fn session_claims(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(update): JsonBody<org_ops::SessionClaimsUpdate>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    org_ops::update_session_claims(&mut store, &id, update, now)?;
    Ok(ok_json(&crate::bapi::views::session_json(store.session(&id)?, now)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EndSession {
    #[serde(default)]
    status: Option<String>,
}

async fn end_session(State(state): State<AppState>, Id(id): Id, JsonBody(body): JsonBody<EndSession>) -> Result<Response, ApiError> {
    let status = match body.status.as_deref().unwrap_or("ended") {
        "ended" => SessionStatus::Ended,
        "removed" => SessionStatus::Removed,
        "revoked" => SessionStatus::Revoked,
        other => {
            return Err(ApiError::FormParamInvalid {
                param: "status".into(),
                message: format!("{other:?}: a session can be ended, removed or revoked"),
            });
        }
    };
    ops::set_session_status(&state, &id, status)?;
    let now = state.clock().now_ms();
    let store = state.store();
    Ok(ok_json(&crate::bapi::views::session_json(store.session(&id)?, now)))
}

fn clock_view(state: &AppState) -> Response {
    ok_json(&json!({"now_ms": state.clock().now_ms(), "offset_ms": state.clock().offset().as_millis() as u64}))
}

async fn clock(State(state): State<AppState>) -> Response {
    clock_view(&state)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(State(state): State<AppState>, JsonBody(body): JsonBody<Advance>) -> Response {
    state.clock().advance(Duration::from_secs(body.seconds));
    clock_view(&state)
}

async fn reset_clock(State(state): State<AppState>) -> Response {
    state.clock().reset();
    clock_view(&state)
}

async fn keys(State(state): State<AppState>) -> Response {
    ok_json(&serde_json::to_value(ops::keys_view(&state)).expect("serialises"))
}

async fn rotate_keys(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(ops::rotate_keys(&state)?).expect("serialises")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Retire {
    #[serde(default)]
    kid: Option<String>,
}

async fn retire_keys(State(state): State<AppState>, JsonBody(body): JsonBody<Retire>) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(ops::retire_keys(&state, body.kid.as_deref())?).expect("serialises")))
}

async fn list_faults(State(state): State<AppState>) -> Response {
    ok_json(&serde_json::to_value(state.faults().pending()).expect("serialises"))
}

async fn add_fault(State(state): State<AppState>, JsonBody(fault): JsonBody<Fault>) -> Result<Response, ApiError> {
    state.faults().add(fault)?;
    Ok(list_faults(State(state)).await)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outage {
    #[serde(default = "one")]
    times: u32,
}

fn one() -> u32 {
    1
}

async fn jwks_outage(State(state): State<AppState>, JsonBody(body): JsonBody<Outage>) -> Result<Response, ApiError> {
    ops::jwks_outage(&state, body.times)?;
    Ok(list_faults(State(state)).await)
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    state.faults().clear();
    list_faults(State(state)).await
}

async fn requests(State(state): State<AppState>) -> Response {
    ok_json(&serde_json::to_value(state.log().entries()).expect("serialises"))
}

async fn clear_requests(State(state): State<AppState>) -> Response {
    state.log().clear();
    ok_json(&json!([]))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandshakeFormatBody {
    format: crate::fapi::handshake::HandshakeFormat,
}

async fn handshake_format(State(state): State<AppState>) -> Response {
    ok_json(&json!({"format": state.handshake_format()}))
}

async fn set_handshake_format(State(state): State<AppState>, JsonBody(body): JsonBody<HandshakeFormatBody>) -> Response {
    state.set_handshake_format(body.format);
    handshake_format(State(state)).await
}

async fn totp(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(ops::totp(&state, &id)?).expect("serialises")))
}

/// `POST /__mock/seed`: the seed file's shapes as JSON (`{"users": [{"email": …}], "organizations": …}`), created
/// all or nothing; answers the users made. A refused record is a 422 naming its field (`users[1].email`).
async fn seed(State(state): State<AppState>, JsonBody(seed): JsonBody<crate::seed::Seed>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let mut copy = store.clone();
    let users = seed.apply(&mut copy, now).map_err(|e| ApiError::FormParamInvalid { param: e.field, message: e.message })?;
    *store = copy;
    Ok(ok_json(&json!({"users": users.iter().map(crate::bapi::views::user_json).collect::<Vec<_>>()})))
}

async fn reset(State(state): State<AppState>) -> Response {
    ops::reset(&state);
    ok_json(&json!({"reset": true}))
}
