//! `/v1/client`: the browser's client (`packages/clerk-js/src/core/resources/Client.ts`).

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::context::Browser;
use super::errors::FapiError;
use super::views::client_json;
use crate::state::AppState;
use crate::store::SessionStatus;

/// `GET /v1/client`: `{"response": client}`, or `{"response": null}` for a browser without one.
pub(super) async fn get(State(state): State<AppState>, browser: Browser) -> Response {
    let client = browser.client_id.as_deref().map_or(Value::Null, |id| client_json(&state, id, browser.origin.as_deref()));
    browser.respond(&state, json!({"response": client, "client": null}))
}

/// `PUT /v1/client` (and `POST`): the client, created when the browser has none.
pub(super) async fn put(State(state): State<AppState>, mut browser: Browser) -> Response {
    let id = browser.ensure_client(&state);
    let client = client_json(&state, &id, browser.origin.as_deref());
    browser.answer(&state, client)
}

/// `DELETE /v1/client`: signs every session on the client out (`ended`), forgets its attempts and clears the
/// client cookie (clerk-js `signOut()` in single-session mode).
pub(super) async fn delete(State(state): State<AppState>, mut browser: Browser) -> Result<Response, FapiError> {
    let Some(id) = browser.client_id.clone() else {
        return Ok(browser.respond(&state, json!({"response": null, "client": null})));
    };
    let now = state.clock().now_ms();
    {
        let mut store = state.store();
        let ids: Vec<String> = store.active_sessions_on_client(&id, now).iter().map(|s| s.id.to_string()).collect();
        for sid in ids {
            store.finish_session(&sid, SessionStatus::Ended, now)?;
        }
        store.touch_client(&id, now);
    }
    state.fapi().attempts().clear_client(&id);
    let mut gone = client_json(&state, &id, browser.origin.as_deref());
    gone["sessions"] = json!([]);
    browser.client_id = None;
    browser.cleared = true;
    Ok(browser.respond(&state, json!({"response": gone, "client": null})))
}

/// `DELETE /v1/client/sessions`: removes every session on the client (`removed`).
pub(super) async fn remove_sessions(State(state): State<AppState>, browser: Browser) -> Result<Response, FapiError> {
    let id = browser.client()?.to_owned();
    let now = state.clock().now_ms();
    {
        let mut store = state.store();
        let ids: Vec<String> = store.active_sessions_on_client(&id, now).iter().map(|s| s.id.to_string()).collect();
        for sid in ids {
            store.finish_session(&sid, SessionStatus::Removed, now)?;
        }
        store.touch_client(&id, now);
    }
    let client = client_json(&state, &id, browser.origin.as_deref());
    Ok(browser.answer(&state, client))
}
