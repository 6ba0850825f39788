//! `GET /v1/clients/handshake_payload?nonce=…` (`packages/backend/src/api/endpoints/ClientApi.ts`): redeems a
//! handshake nonce for its directives. The answer has no `object` field; `Deserializer` returns it raw.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::json;

use crate::error::{ApiError, ok_json};
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;

pub(super) async fn handshake_payload(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let nonce = query_one(&query_pairs(query.as_deref()), "nonce").ok_or_else(|| ApiError::FormParamMissing("nonce".into()))?;
    let directives = state.store().take_nonce(&nonce).ok_or(ApiError::ResourceNotFound { kind: "handshake nonce", id: nonce })?;
    Ok(ok_json(&json!({ "directives": directives })))
}
