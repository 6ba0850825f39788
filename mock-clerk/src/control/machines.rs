//! Machine tokens for tests, in one call: `POST /__mock/machine-tokens` issues an M2M token (a machine is created
//! for it, scoped to machines named by `scopes`), an API key or an OAuth access token, opaque or JWT;
//! `POST /__mock/machine-tokens/revoke` revokes one. The in-process handle and the harness's issuer call the same
//! functions ([`issue`], [`revoke`]).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, ok_json};
use crate::extract::JsonBody;
use crate::machines::{MachineError, NewApiKey, NewM2mToken, NewMachine, NewOAuthToken, TokenFormat};
use crate::state::AppState;

/// Which kind of machine token (`TokenType` of `@clerk/backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineTokenKind {
    /// An M2M token (`mt_…` or a JWT with a `mch_` subject).
    M2mToken,
    /// An API key (`ak_…`).
    ApiKey,
    /// An OAuth access token (`oat_…` or a JWT with `typ: at+jwt`).
    OauthToken,
}

/// What to issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineTokenRequest {
    /// The kind.
    pub kind: MachineTokenKind,
    /// Opaque (default) or JWT (M2M and OAuth only; API keys are always opaque).
    #[serde(default)]
    pub format: TokenFormat,
    /// API key and OAuth: the scopes. M2M: Clerk's M2M scopes are the machines the token may talk to, so each
    /// entry names a machine (an `mch_…` id, or a name: the machine is created when no machine has it).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// API key: `user_…`/`org_…` (required). OAuth: the user (required). M2M: the sending machine's name
    /// (default `mock-clerk machine`; created when missing).
    #[serde(default)]
    pub subject: Option<String>,
    /// Custom claims (M2M and API keys).
    #[serde(default)]
    pub claims: Option<Value>,
    /// Lifetime in seconds (default: M2M the machine's hour, API keys never, OAuth an hour).
    #[serde(default)]
    pub seconds_until_expiration: Option<u64>,
}

/// What was issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedMachineToken {
    /// The kind.
    pub kind: MachineTokenKind,
    /// Opaque or JWT.
    pub format: TokenFormat,
    /// `mt_…`, `ak_…`, `oat_…` (for revoking; a JWT M2M token's `jti`).
    pub id: String,
    /// What goes into `Authorization: Bearer …`.
    pub token: String,
    /// The machine (M2M), user or organization (API key), user (OAuth).
    pub subject: String,
    /// The token's scopes as the SDK reports them (M2M: machine ids).
    pub scopes: Vec<String>,
    /// M2M: the sending machine's secret key (`ak_…`), which authenticates as it (`CLERK_MACHINE_SECRET_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_secret_key: Option<String>,
}

fn machine_named(state: &AppState, name_or_id: &str, now: i64) -> Result<String, ApiError> {
    let mut store = state.store();
    let machines = store.machines();
    if let Ok(m) = machines.machine(name_or_id) {
        return Ok(m.id.to_string());
    }
    if let Some(m) = machines.machine_by_name(name_or_id) {
        return Ok(m.id.to_string());
    }
    let new = NewMachine { name: name_or_id.to_owned(), ..NewMachine::default() };
    Ok(store.machines_mut().create_machine(new, now)?.id.to_string())
}

/// Issues a machine token.
pub fn issue(state: &AppState, req: MachineTokenRequest) -> Result<IssuedMachineToken, ApiError> {
    let now = state.clock().now_ms();
    let ttl = req.seconds_until_expiration;
    match req.kind {
        MachineTokenKind::M2mToken => {
            let targets = req.scopes.iter().map(|s| machine_named(state, s, now)).collect::<Result<Vec<_>, _>>()?;
            let sender = machine_named(state, req.subject.as_deref().unwrap_or("mock-clerk machine"), now)?;
            for target in &targets {
                state.store().machines_mut().add_scope(&sender, target, now)?;
            }
            let secret = state.store().machines().machine(&sender)?.secret_key.clone();
            let new = NewM2mToken {
                token_format: Some(req.format),
                seconds_until_expiration: ttl.map(|t| t as f64),
                claims: req.claims,
                ..Default::default()
            };
            let json = crate::bapi::create_m2m_token(state, &sender, new)?;
            let field = |name: &str| json[name].as_str().unwrap_or_default().to_owned();
            let scopes = json["scopes"].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default();
            Ok(IssuedMachineToken {
                kind: req.kind,
                format: req.format,
                id: field("id"),
                token: field("token"),
                subject: sender,
                scopes,
                machine_secret_key: Some(secret),
            })
        }
        MachineTokenKind::ApiKey => {
            if req.format == TokenFormat::Jwt {
                return Err(MachineError::Invalid { param: "format", message: "API keys are opaque only".into() }.into());
            }
            let subject = req.subject.ok_or_else(|| ApiError::FormParamMissing("subject".into()))?;
            let new = NewApiKey {
                name: "mock-clerk API key".into(),
                subject,
                scopes: req.scopes,
                claims: req.claims,
                seconds_until_expiration: ttl.map(|t| t as f64),
                ..NewApiKey::default()
            };
            let key = state.store().machines_mut().create_api_key(new, now)?;
            Ok(IssuedMachineToken {
                kind: req.kind,
                format: req.format,
                id: key.id,
                token: key.secret,
                subject: key.subject,
                scopes: key.scopes,
                machine_secret_key: None,
            })
        }
        MachineTokenKind::OauthToken => {
            if req.claims.is_some() {
                return Err(MachineError::Invalid { param: "claims", message: "OAuth access tokens carry no custom claims".into() }.into());
            }
            let user_id = req.subject.ok_or_else(|| ApiError::FormParamMissing("subject".into()))?;
            let new = NewOAuthToken { user_id, scopes: req.scopes, seconds_until_expiration: ttl, token_format: Some(req.format), client_id: None };
            let (record, token) = crate::bapi::issue_oauth_token(state, new)?;
            Ok(IssuedMachineToken {
                kind: req.kind,
                format: req.format,
                id: record.id,
                token,
                subject: record.subject,
                scopes: record.scopes,
                machine_secret_key: None,
            })
        }
    }
}

/// What to revoke.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The kind.
    pub kind: MachineTokenKind,
    /// The token's id (`mt_…`, `ak_…`, `oat_…`).
    pub id: String,
}

/// Revokes a machine token (JWT-form M2M tokens are stateless and cannot be revoked, as in Clerk: not found).
pub fn revoke(state: &AppState, req: &RevokeRequest) -> Result<(), ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let machines = store.machines_mut();
    let reason = Some("revoked through mock-clerk's control API".to_owned());
    match req.kind {
        MachineTokenKind::M2mToken => machines.revoke_m2m_token(&req.id, reason, None, now).map(drop),
        MachineTokenKind::ApiKey => machines.revoke_api_key(&req.id, reason, now).map(drop),
        MachineTokenKind::OauthToken => machines.revoke_oauth_token(&req.id, reason, now).map(drop),
    }
    .map_err(ApiError::from)
}

/// The control routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/__mock/machine-tokens", post(issue_route)).route("/__mock/machine-tokens/revoke", post(revoke_route))
}

async fn issue_route(State(state): State<AppState>, JsonBody(req): JsonBody<MachineTokenRequest>) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(issue(&state, req)?).expect("serialises")))
}

async fn revoke_route(State(state): State<AppState>, JsonBody(req): JsonBody<RevokeRequest>) -> Result<Response, ApiError> {
    revoke(&state, &req)?;
    Ok(ok_json(&serde_json::json!({"revoked": true, "id": req.id})))
}
