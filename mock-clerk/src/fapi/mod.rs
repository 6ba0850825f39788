//! Frontend API routes: what a browser (never the Next.js server) asks of `https://<frontend host>`.

pub mod handshake;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::state::AppState;

/// The public JWKS path.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The Frontend API paths (no secret key).
pub fn routes() -> Router<AppState> {
    Router::new().route(JWKS_PATH, get(jwks)).route(handshake::HANDSHAKE_PATH, get(handshake::handshake))
}

async fn jwks(State(state): State<AppState>) -> Response {
    crate::bapi::jwks_response(&state)
}
