//! `GET /__mock/codes[?identifier=…]`: the verification codes mock-clerk "sent" (always `424242`), newest
//! last, so a test can read what a user would find in their inbox.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::error::ok_json;
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;

/// The control route (mounted by [`crate::control::routes`], behind its access check).
pub async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let wanted = query_one(&query_pairs(query.as_deref()), "identifier");
    let attempts = state.fapi().attempts();
    let codes: Vec<_> = attempts.codes.iter().filter(|c| wanted.as_deref().is_none_or(|w| c.identifier.eq_ignore_ascii_case(w))).collect();
    ok_json(&serde_json::to_value(codes).expect("serialises"))
}
