//! `/v1/me`: the signed-in user (`packages/clerk-js/src/core/resources/User.ts`), found through the session
//! clerk-js names (`_clerk_session_id`) or the client's newest active session.

use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::context::Browser;
use super::errors::FapiError;
use super::form::Form;
use super::views::user_json;
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;

fn session_user(state: &AppState, browser: &Browser, query: Option<&str>) -> Result<String, FapiError> {
    let client = browser.client()?;
    let now = state.clock().now_ms();
    let wanted = query_one(&query_pairs(query), "_clerk_session_id");
    let store = state.store();
    let sessions = store.active_sessions_on_client(client, now);
    let session = match wanted {
        Some(id) => sessions.into_iter().find(|s| s.id == id.as_str()),
        None => sessions.last().copied(),
    };
    session.map(|s| s.user_id.to_string()).ok_or(FapiError::SignedOut)
}

/// `GET /v1/me`.
pub(super) async fn get(State(state): State<AppState>, browser: Browser, RawQuery(query): RawQuery) -> Result<Response, FapiError> {
    let user_id = session_user(&state, &browser, query.as_deref())?;
    let body = {
        let store = state.store();
        user_json(&state, store.user(&user_id)?)
    };
    Ok(browser.answer(&state, body))
}

/// `PATCH /v1/me`: first and last name.
pub(super) async fn update(State(state): State<AppState>, browser: Browser, RawQuery(query): RawQuery, form: Form) -> Result<Response, FapiError> {
    let user_id = session_user(&state, &browser, query.as_deref())?;
    let now = state.clock().now_ms();
    let body = {
        let mut store = state.store();
        let user = store.update_user_names(&user_id, form.get("first_name"), form.get("last_name"), now)?;
        user_json(&state, &user)
    };
    Ok(browser.answer(&state, body))
}
