//! `GET /v1/jwks` (`packages/backend/src/tokens/keys.ts` `fetchJWKSFromBAPI`), and the same document for the
//! Frontend API's `/.well-known/jwks.json`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::error::JSON_CONTENT_TYPE;
use crate::state::AppState;

pub(super) async fn get_jwks(State(state): State<AppState>) -> Response {
    jwks_response(&state)
}

/// The key ring's JWKS, serialised when the ring last changed (a reference-counted clone of those bytes), with
/// the JSON content type: nothing is serialised or copied per request.
pub fn jwks_response(state: &AppState) -> Response {
    let mut response = Response::new(Body::from(state.keys().jwks_json()));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}
