//! Backend API routes under `/v1`, answered as `api.clerk.com` answers `@clerk/backend`
//! (`packages/backend/src/api/endpoints/*.ts`). Every route needs `Authorization: Bearer <secret key>`.

/// The Backend API JWKS path.
pub const JWKS_PATH: &str = "/v1/jwks";

mod clients;
mod jwks;
mod sessions;
mod users;
pub mod views;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::AppState;

/// The Backend API paths, each behind the secret-key check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(JWKS_PATH, get(jwks::get_jwks))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/count", get(users::count))
        .route("/v1/users/{id}", get(users::get_one).delete(users::delete))
        .route("/v1/sessions", get(sessions::list).post(sessions::create))
        .route("/v1/sessions/{id}", get(sessions::get_one))
        .route("/v1/sessions/{id}/revoke", post(sessions::revoke))
        .route("/v1/sessions/{id}/refresh", post(sessions::refresh))
        .route("/v1/clients/handshake_payload", get(clients::handshake_payload))
        .route("/v1/sessions/{id}/tokens", post(sessions::token))
        .route("/v1/sessions/{id}/tokens/{template}", post(sessions::template_token))
        .route_layer(middleware::from_fn_with_state(state, require_secret_key))
}

/// `Authorization: Bearer <secret key>` (`packages/backend/src/api/request.ts`).
async fn require_secret_key(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, ApiError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::AuthorizationHeaderMissing)?
        .to_str()
        .map_err(|_| ApiError::SecretKeyInvalid)?;
    let token = given.strip_prefix("Bearer ").ok_or(ApiError::SecretKeyInvalid)?;
    if !constant_time_eq(token.trim().as_bytes(), state.instance().secret_key().as_bytes()) {
        return Err(ApiError::SecretKeyInvalid);
    }
    Ok(next.run(req).await)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
