//! `/v1/phone_numbers/{id}`: a user's phone number, and whether it is used for SMS codes as a second factor
//! (`reserved_for_second_factor`, as `PATCH /v1/phone_numbers/{phone_number_id}` in Clerk's Backend API).

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::error::{ApiError, ok_json};
use crate::extract::{Id, JsonBody};
use crate::mfa::phone_json;
use crate::state::AppState;

fn not_found(id: &str) -> ApiError {
    ApiError::ResourceNotFound { kind: "phone_number", id: id.to_owned() }
}

/// `GET /v1/phone_numbers/{id}`.
pub(super) async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    let user = store.users_with_phone(&id).ok_or_else(|| not_found(&id))?;
    let phone = user.mfa.phone_numbers.iter().find(|p| p.id == id).ok_or_else(|| not_found(&id))?;
    Ok(ok_json(&phone_json(user, phone)))
}

/// What `PATCH /v1/phone_numbers/{id}` takes (`verified` and `primary` are accepted: numbers are verified
/// already, and the first stays primary).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhonePatch {
    #[serde(default)]
    reserved_for_second_factor: Option<bool>,
    #[serde(default)]
    verified: Option<bool>,
    #[serde(default)]
    primary: Option<bool>,
}

/// `PATCH /v1/phone_numbers/{id}`.
pub(super) async fn update(State(state): State<AppState>, Id(id): Id, JsonBody(patch): JsonBody<PhonePatch>) -> Result<Response, ApiError> {
    let _ = (patch.verified, patch.primary);
    let now = state.clock().now_ms();
    let mut store = state.store();
    let reserved = match patch.reserved_for_second_factor {
        Some(r) => r,
        None => {
            store.users_with_phone(&id).ok_or_else(|| not_found(&id))?.mfa.phone_numbers.iter().any(|p| p.id == id && p.reserved_for_second_factor)
        }
    };
    let user = store.reserve_phone_for_second_factor(&id, reserved, now).ok_or_else(|| not_found(&id))?;
    let phone = user.mfa.phone_numbers.iter().find(|p| p.id == id).ok_or_else(|| not_found(&id))?;
    Ok(ok_json(&phone_json(&user, phone)))
}
