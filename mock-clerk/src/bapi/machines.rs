//! Machine authentication over the Backend API: `/v1/machines` (`MachineApi.ts`) behind the secret key, and the
//! machine-token routes `@clerk/backend` calls **without** the `/v1` segment (`api/factory.ts`
//! `skipApiVersionInUrl`): `/m2m_tokens` (`M2MTokenApi.ts`; a machine secret key or the secret key), `/api_keys`
//! (`APIKeysApi.ts`) and `/oauth_applications/access_tokens/verify` (`IdPOAuthAccessTokenApi.ts`). The
//! machine-token routes answer under `/v1` as well, where clients generated from the OpenAPI spec (server
//! `https://api.clerk.com/v1`) call them.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ok_json};
use crate::extract::{Id, IdPair, JsonBody, query_one, query_pairs, query_usize};
use crate::machines::{
    self, MachineError, NewApiKey, NewM2mToken, NewMachine, NewOAuthToken, OAuthToken, TokenFormat, api_key_json, m2m_json, machine_json, oauth_json,
};
use crate::state::AppState;

/// Who called a machine-token route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The instance secret key.
    Instance,
    /// A machine, by its machine secret key.
    Machine(String),
}

/// Reads `Authorization: Bearer …`: the instance secret key, or (when `machines_allowed`) a machine secret key.
pub fn caller(state: &AppState, headers: &HeaderMap, machines_allowed: bool) -> Result<Caller, ApiError> {
    if super::check_secret_key(state, headers).is_ok() {
        return Ok(Caller::Instance);
    }
    let given = headers.get(header::AUTHORIZATION).ok_or(ApiError::AuthorizationHeaderMissing)?.to_str().map_err(|_| ApiError::SecretKeyInvalid)?;
    let token = given.strip_prefix("Bearer ").map(str::trim).ok_or(ApiError::SecretKeyInvalid)?;
    if machines_allowed && let Some(machine) = state.store().machines().machine_by_secret(token) {
        return Ok(Caller::Machine(machine.id.to_string()));
    }
    Err(ApiError::SecretKeyInvalid)
}

/// The caller of a route that the instance secret key or a machine secret key may call, checked before the body
/// is read (so a caller without a key learns nothing from shape errors).
pub struct AnyKey(pub Caller);

impl axum::extract::FromRequestParts<AppState> for AnyKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(state, &parts.headers, true).map(AnyKey)
    }
}

/// A route only the instance secret key may call, checked before the body is read.
pub struct SecretKey;

impl axum::extract::FromRequestParts<AppState> for SecretKey {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        caller(state, &parts.headers, false).map(|_| SecretKey)
    }
}

/// The machine-token routes (no `/v1`; also nested under `/v1` by [`super::routes`]), each checking its caller.
pub fn token_routes() -> Router<AppState> {
    Router::new()
        .route("/m2m_tokens", get(list_m2m).post(create_m2m))
        .route("/m2m_tokens/verify", post(verify_m2m))
        .route("/m2m_tokens/{id}/revoke", post(revoke_m2m))
        .route("/api_keys", get(list_api_keys).post(create_api_key))
        .route("/api_keys/verify", post(verify_api_key))
        .route("/api_keys/{id}", get(get_api_key).delete(delete_api_key))
        .route("/api_keys/{id}/secret", get(api_key_secret))
        .route("/api_keys/{id}/revoke", post(revoke_api_key))
        .route("/oauth_applications/access_tokens/verify", post(verify_oauth))
}

/// Whether `path` is one of [`token_routes`] (with or without `/v1`): they check their caller themselves.
pub fn is_token_path(path: &str) -> bool {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    ["/m2m_tokens", "/api_keys", "/oauth_applications/access_tokens/"].iter().any(|p| path.starts_with(p))
}

fn now(state: &AppState) -> i64 {
    state.clock().now_ms()
}

// ---- /v1/machines ----

/// `GET /v1/machines?query=&limit=&offset=` → `{data, total_count}`.
pub(super) async fn list_machines(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = page(&pairs)?;
    let store = state.store();
    let all = store.machines().machines(query_one(&pairs, "query").as_deref().filter(|q| !q.is_empty()));
    let data: Vec<Value> = all.iter().skip(offset).take(limit).map(|m| machine_json(m, store.machines(), false)).collect();
    Ok(ok_json(&json!({"data": data, "total_count": all.len()})))
}

/// `POST /v1/machines` → the machine with its `secret_key`.
pub(super) async fn create_machine(State(state): State<AppState>, JsonBody(new): JsonBody<NewMachine>) -> Result<Response, ApiError> {
    let now = now(&state);
    let mut store = state.store();
    let machine = store.machines_mut().create_machine(new, now)?;
    Ok(ok_json(&machine_json(&machine, store.machines(), true)))
}

/// `GET /v1/machines/{id}`.
pub(super) async fn get_machine(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&machine_json(store.machines().machine(&id)?, store.machines(), false)))
}

/// `PATCH /v1/machines/{id} {name?, default_token_ttl?}`.
pub(super) async fn update_machine(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(update): JsonBody<machines::MachineUpdate>,
) -> Result<Response, ApiError> {
    let now = now(&state);
    let mut store = state.store();
    let machine = store.machines_mut().update_machine(&id, update, now)?;
    Ok(ok_json(&machine_json(&machine, store.machines(), false)))
}

/// `DELETE /v1/machines/{id}/scopes/{other}` → `MachineScopeJSON` with `deleted`.
pub(super) async fn delete_scope(State(state): State<AppState>, IdPair(id, other): IdPair) -> Result<Response, ApiError> {
    let now = now(&state);
    state.store().machines_mut().remove_scope(&id, &other, now)?;
    Ok(ok_json(&json!({"object": "machine_scope", "from_machine_id": id, "to_machine_id": other, "deleted": true})))
}

/// `DELETE /v1/machines/{id}` → `{object, id, deleted}`.
pub(super) async fn delete_machine(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let machine = state.store().machines_mut().delete_machine(&id)?;
    Ok(ok_json(&super::views::deleted_json("machine", &machine.id)))
}

/// `GET /v1/machines/{id}/secret_key` → `{object: machine_secret_key, secret}`.
pub(super) async fn machine_secret_key(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    let machine = store.machines().machine(&id)?;
    Ok(ok_json(&json!({"object": "machine_secret_key", "secret": machine.secret_key})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewScope {
    to_machine_id: String,
}

/// `POST /v1/machines/{id}/scopes` `{to_machine_id}` → `MachineScopeJSON`.
pub(super) async fn create_scope(State(state): State<AppState>, Id(id): Id, JsonBody(body): JsonBody<NewScope>) -> Result<Response, ApiError> {
    let now = now(&state);
    state.store().machines_mut().add_scope(&id, &body.to_machine_id, now)?;
    Ok(ok_json(&json!({"object": "machine_scope", "from_machine_id": id, "to_machine_id": body.to_machine_id, "created_at": now})))
}

fn page(pairs: &[(String, String)]) -> Result<(usize, usize), ApiError> {
    let limit = query_usize(pairs, "limit")?.unwrap_or(10);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::FormParamInvalid { param: "limit".into(), message: "limit must be between 1 and 500".into() });
    }
    Ok((limit, query_usize(pairs, "offset")?.unwrap_or(0)))
}

fn query_bool(pairs: &[(String, String)], name: &str) -> Result<bool, ApiError> {
    match query_one(pairs, name).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::FormParamInvalid { param: name.into(), message: format!("{name} must be true or false") }),
    }
}

// ---- M2M tokens ----

/// An M2M token for `machine_id`: stored and opaque, or a JWT signed with the active key (not stored). The JSON
/// is `M2MTokenJSON` with `token`.
pub fn create_m2m_token(state: &AppState, machine_id: &str, new: NewM2mToken) -> Result<Value, ApiError> {
    let now = now(state);
    let mut store = state.store();
    if new.token_format.unwrap_or_default() == TokenFormat::Opaque {
        let token = store.machines_mut().create_m2m_token(machine_id, new, now)?;
        return Ok(m2m_json(&token, now, true));
    }
    let ttl = store.machines().m2m_lifetime(machine_id, &new)?;
    let scopes = store.machines().machine(machine_id)?.scoped_machines.clone();
    drop(store);
    let iat = state.clock().wall_ms() / 1000;
    let claims = machines::m2m_jwt_claims(&state.instance().issuer(), machine_id, &scopes, new.claims.as_ref(), iat, ttl);
    let jwt = machines::sign_m2m_jwt(state.keys().active(), &claims);
    let exp = claims["exp"].as_i64().unwrap_or_default();
    Ok(json!({
        "object": "machine_to_machine_token", "id": claims["jti"], "subject": machine_id, "claims": new.claims.filter(|c| !c.is_null()),
        "scopes": scopes, "token": jwt, "revoked": false, "revocation_reason": null, "expired": false,
        "expiration": exp * 1000, "last_used_at": null, "created_at": iat * 1000, "updated_at": iat * 1000,
    }))
}

/// `POST /m2m_tokens`: only a machine secret key says which machine the token is for.
async fn create_m2m(State(state): State<AppState>, AnyKey(who): AnyKey, JsonBody(new): JsonBody<NewM2mToken>) -> Result<Response, ApiError> {
    let Caller::Machine(machine_id) = who else {
        return Err(MachineError::MachineSecretKeyRequired.into());
    };
    let body = create_m2m_token(&state, &machine_id, new)?;
    Ok(crate::error::json_response(axum::http::StatusCode::CREATED, &body))
}

/// `GET /m2m_tokens?subject=&revoked=&expired=&limit=&offset=` → `{m2m_tokens, total_count}` (opaque tokens only).
async fn list_m2m(State(state): State<AppState>, AnyKey(who): AnyKey, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = page(&pairs)?;
    let subject = match (query_one(&pairs, "subject"), &who) {
        (Some(s), Caller::Machine(m)) if &s != m => return Err(MachineError::NotFound { kind: "machine", id: s }.into()),
        (Some(s), _) => s,
        (None, Caller::Machine(m)) => m.clone(),
        (None, Caller::Instance) => return Err(ApiError::FormParamMissing("subject".into())),
    };
    let (revoked, expired) = (query_bool(&pairs, "revoked")?, query_bool(&pairs, "expired")?);
    let now = now(&state);
    let store = state.store();
    let all = store.machines().m2m_tokens(&subject, revoked, expired, now);
    let data: Vec<Value> = all.iter().skip(offset).take(limit).map(|t| m2m_json(t, now, false)).collect();
    Ok(ok_json(&json!({"m2m_tokens": data, "total_count": all.len()})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    #[serde(default)]
    revocation_reason: Option<String>,
}

/// `POST /m2m_tokens/{id}/revoke {revocation_reason}`; a machine may revoke only its own tokens.
async fn revoke_m2m(State(state): State<AppState>, AnyKey(who): AnyKey, Id(id): Id, JsonBody(body): JsonBody<Revoke>) -> Result<Response, ApiError> {
    let by = match who {
        Caller::Machine(m) => Some(m),
        Caller::Instance => None,
    };
    let now = now(&state);
    let token = state.store().machines_mut().revoke_m2m_token(&id, body.revocation_reason, by.as_deref(), now)?;
    Ok(ok_json(&m2m_json(&token, now, false)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyToken {
    token: String,
}

/// `POST /m2m_tokens/verify {token}`: with a machine secret key, the token must be scoped to that machine.
async fn verify_m2m(State(state): State<AppState>, AnyKey(who): AnyKey, JsonBody(body): JsonBody<VerifyToken>) -> Result<Response, ApiError> {
    let for_machine = match who {
        Caller::Machine(m) => Some(m),
        Caller::Instance => None,
    };
    let now = now(&state);
    let token = state.store().machines_mut().verify_m2m_token(&body.token, for_machine.as_deref(), now)?;
    Ok(ok_json(&m2m_json(&token, now, false)))
}

// ---- API keys ----

async fn create_api_key(State(state): State<AppState>, _: SecretKey, JsonBody(new): JsonBody<NewApiKey>) -> Result<Response, ApiError> {
    let now = now(&state);
    let key = state.store().machines_mut().create_api_key(new, now)?;
    Ok(ok_json(&api_key_json(&key, now, true)))
}

/// `GET /api_keys?subject=&include_invalid=&limit=&offset=` → `{data, total_count}`.
async fn list_api_keys(State(state): State<AppState>, _: SecretKey, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = page(&pairs)?;
    let subject = query_one(&pairs, "subject").ok_or_else(|| ApiError::FormParamMissing("subject".into()))?;
    let include_invalid = query_bool(&pairs, "include_invalid")?;
    let now = now(&state);
    let store = state.store();
    let all = store.machines().api_keys(&subject, include_invalid, now);
    let data: Vec<Value> = all.iter().skip(offset).take(limit).map(|k| api_key_json(k, now, false)).collect();
    Ok(ok_json(&json!({"data": data, "total_count": all.len()})))
}

async fn get_api_key(State(state): State<AppState>, _: SecretKey, Id(id): Id) -> Result<Response, ApiError> {
    let now = now(&state);
    let store = state.store();
    Ok(ok_json(&api_key_json(store.machines().api_key(&id)?, now, false)))
}

async fn delete_api_key(State(state): State<AppState>, _: SecretKey, Id(id): Id) -> Result<Response, ApiError> {
    let key = state.store().machines_mut().delete_api_key(&id)?;
    Ok(ok_json(&super::views::deleted_json("api_key", &key.id)))
}

async fn api_key_secret(State(state): State<AppState>, _: SecretKey, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&json!({"secret": store.machines().api_key(&id)?.secret})))
}

async fn revoke_api_key(State(state): State<AppState>, _: SecretKey, Id(id): Id, JsonBody(body): JsonBody<Revoke>) -> Result<Response, ApiError> {
    let now = now(&state);
    let key = state.store().machines_mut().revoke_api_key(&id, body.revocation_reason, now)?;
    Ok(ok_json(&api_key_json(&key, now, false)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifySecret {
    secret: String,
}

/// `POST /api_keys/verify {secret}`.
async fn verify_api_key(State(state): State<AppState>, _: SecretKey, JsonBody(body): JsonBody<VerifySecret>) -> Result<Response, ApiError> {
    let now = now(&state);
    let key = state.store().machines_mut().verify_api_key(&body.secret, now)?;
    Ok(ok_json(&api_key_json(&key, now, false)))
}

// ---- OAuth access tokens ----

/// Issues an OAuth access token for a user: the opaque `oat_…` token, or its JWT form (`typ: at+jwt`).
pub fn issue_oauth_token(state: &AppState, new: NewOAuthToken) -> Result<(OAuthToken, String), ApiError> {
    let format = new.token_format.unwrap_or_default();
    let now = now(state);
    let record = {
        let mut store = state.store();
        store.user(&new.user_id)?;
        store.machines_mut().create_oauth_token(new, now)?
    };
    let token = match format {
        TokenFormat::Opaque => record.token.clone(),
        TokenFormat::Jwt => {
            let iat = state.clock().wall_ms() / 1000;
            let mut wall = record.clone();
            wall.expiration = record.expiration.map(|e| e - now + iat * 1000);
            let claims = machines::oauth_jwt_claims(&state.instance().issuer(), &wall, iat);
            machines::sign_oauth_jwt(state.keys().active(), &claims)
        }
    };
    Ok((record, token))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyAccessToken {
    #[serde(default)]
    access_token: Option<String>,
    /// Deprecated name of `access_token`.
    #[serde(default)]
    secret: Option<String>,
}

/// `POST /oauth_applications/access_tokens/verify {access_token}`.
async fn verify_oauth(State(state): State<AppState>, _: SecretKey, JsonBody(body): JsonBody<VerifyAccessToken>) -> Result<Response, ApiError> {
    let token = body.access_token.or(body.secret).ok_or_else(|| ApiError::FormParamMissing("access_token".into()))?;
    let now = now(&state);
    let store = state.store();
    Ok(ok_json(&oauth_json(store.machines().verify_oauth_token(&token, now)?, now)))
}
