//! `GET /v1/jwks` (`packages/backend/src/tokens/keys.ts` `fetchJWKSFromBAPI`).

use axum::extract::State;
use axum::response::Response;

use crate::error::ok_json;
use crate::state::AppState;

pub(super) async fn get_jwks(State(state): State<AppState>) -> Response {
    let jwks = state.keys().jwks();
    ok_json(&serde_json::to_value(jwks).expect("JWKS serialises"))
}
