//! `/v1/client/sessions/{id}…`: touch, tokens, end, remove (`packages/clerk-js/src/core/resources/Session.ts`).
//!
//! Tokens come from the one mint function ([`super::views::session_token`]), with the page's origin as `azp`.
//! This is how clerk-js keeps `__session` fresh: it asks `/tokens` before the current token expires and writes
//! the answer into the cookie; the server side then never needs a handshake.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::context::Browser;
use super::errors::FapiError;
use super::form::Form;
use super::views::{session_json, session_token};
use crate::error::ApiError;
use crate::extract::{Id, IdPair};
use crate::state::AppState;
use crate::store::{Session, SessionStatus};

/// The session, if it is on the browser's client; [`FapiError::SignedOut`] if it is not active.
fn own_session(state: &AppState, browser: &Browser, id: &str) -> Result<Session, FapiError> {
    let client = browser.client()?;
    let now = state.clock().now_ms();
    let store = state.store();
    let session = store.session(id).map_err(|_| ApiError::ResourceNotFound { kind: "session", id: id.to_owned() })?;
    if session.client_id != client {
        return Err(ApiError::ResourceNotFound { kind: "session", id: id.to_owned() }.into());
    }
    if session.status_at(now) != SessionStatus::Active {
        return Err(FapiError::SignedOut);
    }
    Ok(session.clone())
}

fn session_answer(state: &AppState, browser: &Browser, id: &str) -> Result<Response, FapiError> {
    let body = {
        let store = state.store();
        let session = store.session(id)?;
        session_json(state, &store, session, browser.origin.as_deref())
    };
    Ok(browser.answer(state, body))
}

/// `GET /v1/client/sessions/{id}`.
pub(super) async fn get(State(state): State<AppState>, browser: Browser, Id(id): Id) -> Result<Response, FapiError> {
    own_session(&state, &browser, &id)?;
    session_answer(&state, &browser, &id)
}

/// `POST /v1/client/sessions/{id}/touch`: the session becomes the client's active one (`setActive`); with
/// `active_organization_id` (clerk-js sends the session's `lastActiveOrganizationId`, empty for the personal
/// account) that organization becomes the session's active one — the user must be a member.
pub(super) async fn touch(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    let session = own_session(&state, &browser, &id)?;
    let now = state.clock().now_ms();
    {
        let mut store = state.store();
        if let Some((_, org)) = form.0.iter().rev().find(|(k, _)| k == "active_organization_id") {
            store.set_active_organization(&id, Some(org.as_str()), now)?;
        }
        store.touch_session(&id, now);
        store.touch_client(&session.client_id, now);
    }
    state.fapi().attempts().settle_client(&session.client_id);
    session_answer(&state, &browser, &id)
}

/// `POST /v1/client/sessions/{id}/tokens`: `{"object":"token","jwt":…}`.
pub(super) async fn token(State(state): State<AppState>, browser: Browser, Id(id): Id) -> Result<Response, FapiError> {
    let session = own_session(&state, &browser, &id)?;
    let jwt = {
        let mut store = state.store();
        store.touch_session(&id, state.clock().now_ms());
        let session = store.session(&session.id)?.clone();
        session_token(&state, &store, &session, browser.origin.as_deref())
    };
    Ok(browser.respond(&state, json!({"object": "token", "jwt": jwt})))
}

/// `POST /v1/client/sessions/{id}/tokens/{template}`: the JWT template of that name rendered for the session's
/// user, with the page's origin as `azp` (`getToken({ template })` in the browser); an unknown template is
/// Clerk's 404.
pub(super) async fn template_token(State(state): State<AppState>, browser: Browser, IdPair(id, template): IdPair) -> Result<Response, FapiError> {
    own_session(&state, &browser, &id)?;
    let jwt = crate::bapi::mint_template_token(&state, &id, &template, None, browser.origin.as_deref())?;
    Ok(browser.respond(&state, json!({"object": "token", "jwt": jwt})))
}

async fn finish(state: AppState, browser: Browser, id: String, status: SessionStatus) -> Result<Response, FapiError> {
    let client = browser.client()?.to_owned();
    let now = state.clock().now_ms();
    {
        let mut store = state.store();
        let session = store.session(&id).map_err(|_| ApiError::ResourceNotFound { kind: "session", id: id.clone() })?;
        if session.client_id != client {
            return Err(ApiError::ResourceNotFound { kind: "session", id }.into());
        }
        store.finish_session(&id, status, now)?;
        store.touch_client(&client, now);
    }
    session_answer(&state, &browser, &id)
}

/// `POST /v1/client/sessions/{id}/end`: signs this session out (`ended`).
pub(super) async fn end(State(state): State<AppState>, browser: Browser, Id(id): Id) -> Result<Response, FapiError> {
    finish(state, browser, id, SessionStatus::Ended).await
}

/// `POST /v1/client/sessions/{id}/remove`: removes it from the client (`removed`).
pub(super) async fn remove(State(state): State<AppState>, browser: Browser, Id(id): Id) -> Result<Response, FapiError> {
    finish(state, browser, id, SessionStatus::Removed).await
}
