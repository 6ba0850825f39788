//! `/v1/client/sign_ins…` (`packages/clerk-js/src/core/resources/SignIn.ts`): identify the user by email,
//! then a first factor — `password`, or `email_code` (the code is always [`super::attempts::TEST_CODE`]) — or
//! in one step with `strategy=ticket` (a sign-in or actor token's ticket, [`crate::tickets`]).
//! A completed sign-in creates an active session on the browser's client.

use axum::extract::State;
use axum::response::Response;

use super::attempts::{MAX_CODE_ATTEMPTS, Verification};
use super::context::Browser;
use super::errors::FapiError;
use super::form::Form;
use super::views::sign_in_json;
use crate::error::ApiError;
use crate::extract::Id;
use crate::state::AppState;

pub(super) fn not_found(id: &str) -> FapiError {
    ApiError::ResourceNotFound { kind: "sign_in", id: id.to_owned() }.into()
}

pub(super) fn answer(state: &AppState, browser: &Browser, id: &str) -> Result<Response, FapiError> {
    let body = {
        let store = state.store();
        let attempts = state.fapi().attempts();
        let attempt = attempts.sign_ins.get(id).ok_or_else(|| not_found(id))?;
        sign_in_json(state, &store, attempt)
    };
    Ok(browser.answer(state, body))
}

/// `POST /v1/client/sign_ins`: `identifier`, and optionally `strategy` with `password` (one step) or
/// `email_code` (prepared at once); or `strategy=ticket&ticket=…` (complete at once).
pub(super) async fn create(State(state): State<AppState>, mut browser: Browser, form: Form) -> Result<Response, FapiError> {
    let strategy = form.get("strategy").unwrap_or_default();
    let oauth = if strategy.starts_with("oauth_") { Some(super::oauth::begin(&state, strategy, &form)?) } else { None };
    let client = browser.ensure_client(&state);
    if form.get("strategy") == Some("ticket") {
        let id = sign_in_with_ticket(&state, &client, form.require("ticket")?)?;
        return answer(&state, &browser, &id);
    }
    let now = state.clock().now_ms();
    let identifier = form.get("identifier").map(str::trim).map(str::to_owned);
    let user_id = match &identifier {
        Some(email) => Some(state.store().user_by_email(email).map(|u| u.id.to_string()).ok_or(FapiError::IdentifierNotFound)?),
        None => None,
    };
    let id = {
        let mut attempts = state.fapi().attempts();
        attempts.prune(now);
        let attempt = attempts.new_sign_in(&client, now);
        attempt.identifier = identifier;
        attempt.user_id = user_id;
        if let Some(flow) = oauth {
            attempt.first_factor = Some(Verification::code_sent(strategy, now));
            attempt.oauth = Some(flow);
        }
        attempt.id.clone()
    };
    match form.get("strategy") {
        Some("password") if form.get("password").is_some() => attempt_factor(&state, &browser, &id, &form)?,
        Some("email_code") => prepare_factor(&state, &browser, &id, &form)?,
        _ => {}
    }
    answer(&state, &browser, &id)
}

/// Redeems a ticket (once) and signs its user in on `client`: a complete sign-in whose session, for an actor
/// token, is an impersonation session (its actor, its shorter life). A ticket for a deleted user is invalid.
fn sign_in_with_ticket(state: &AppState, client: &str, ticket: &str) -> Result<String, FapiError> {
    let now = state.clock().now_ms();
    let user_id = state.fapi().tickets().check(ticket, now)?.user_id.clone();
    if state.store().user(&user_id).is_err() {
        return Err(FapiError::TicketInvalid);
    }
    let record = state.fapi().tickets().redeem(ticket, now)?;
    let session_id = {
        let mut store = state.store();
        let session = store.create_session_on_client(&record.user_id, client, now)?;
        if let Some(actor) = record.actor.clone() {
            let max = record.session_max_duration_ms.unwrap_or(crate::tickets::ACTOR_SESSION_MAX_SECS * 1000);
            store.impersonate(&session.id, actor, max)?;
        }
        store.touch_client(client, now);
        session.id.to_string()
    };
    let mut attempts = state.fapi().attempts();
    attempts.prune(now);
    let attempt = attempts.new_sign_in(client, now);
    attempt.user_id = Some(record.user_id);
    attempt.first_factor = Some(Verification::verified("ticket"));
    attempt.created_session_id = Some(session_id);
    Ok(attempt.id.clone())
}

/// `GET /v1/client/sign_ins/{id}`.
pub(super) async fn get(State(state): State<AppState>, browser: Browser, Id(id): Id) -> Result<Response, FapiError> {
    let client = browser.client()?;
    state.fapi().attempts().sign_in_of(client, &id).ok_or_else(|| not_found(&id))?;
    answer(&state, &browser, &id)
}

/// `POST /v1/client/sign_ins/{id}/prepare_first_factor`: `strategy=email_code` sends the code.
pub(super) async fn prepare_first_factor(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    prepare_factor(&state, &browser, &id, &form)?;
    answer(&state, &browser, &id)
}

/// `POST /v1/client/sign_ins/{id}/attempt_first_factor`: `strategy=password&password=…` or
/// `strategy=email_code&code=…`.
pub(super) async fn attempt_first_factor(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    attempt_factor(&state, &browser, &id, &form)?;
    answer(&state, &browser, &id)
}

fn prepare_factor(state: &AppState, browser: &Browser, id: &str, form: &Form) -> Result<(), FapiError> {
    let client = browser.client()?;
    let strategy = form.require("strategy")?;
    if strategy != "email_code" {
        return Err(FapiError::StrategyNotAllowed(strategy.to_owned()));
    }
    let now = state.clock().now_ms();
    let store = state.store();
    let mut attempts = state.fapi().attempts();
    let attempt = attempts.sign_in_of(client, id).ok_or_else(|| not_found(id))?;
    let user_id = attempt.user_id.clone().ok_or(FapiError::NotReady("Identify the user before preparing a first factor."))?;
    let user = store.user(&user_id)?;
    let email = match form.get("email_address_id") {
        Some(eid) => user.email_addresses.iter().find(|(i, _)| i == eid).map(|(_, e)| e.clone()).ok_or_else(|| ApiError::FormParamInvalid {
            param: "email_address_id".into(),
            message: "not one of this user's email addresses".into(),
        })?,
        None => user.email_addresses.first().map(|(_, e)| e.clone()).ok_or(FapiError::StrategyNotAllowed(strategy.to_owned()))?,
    };
    attempt.first_factor = Some(Verification::code_sent(strategy, now));
    let attempt_id = attempt.id.clone();
    attempts.send_code(&email, strategy, &attempt_id, now);
    Ok(())
}

fn attempt_factor(state: &AppState, browser: &Browser, id: &str, form: &Form) -> Result<(), FapiError> {
    let client = browser.client()?.to_owned();
    let strategy = form.require("strategy")?.to_owned();
    let now = state.clock().now_ms();
    let mut store = state.store();
    let mut attempts = state.fapi().attempts();
    let attempt = attempts.sign_in_of(&client, id).ok_or_else(|| not_found(id))?;
    if attempt.created_session_id.is_some() {
        return Err(FapiError::NotReady("This sign-in is already complete."));
    }
    if attempt.first_factor_verified_at.is_some() {
        return Err(FapiError::NotReady("The first factor is verified already: attempt the second factor."));
    }
    let user_id = attempt.user_id.clone().ok_or(FapiError::NotReady("Identify the user before attempting a first factor."))?;
    match strategy.as_str() {
        "password" => {
            let password = form.require("password")?;
            if !store.user(&user_id)?.password_enabled {
                return Err(FapiError::StrategyNotAllowed(strategy));
            }
            if !store.check_password(&user_id, password) {
                return Err(FapiError::PasswordIncorrect);
            }
            attempt.first_factor = Some(Verification::verified("password"));
        }
        "email_code" => {
            let code = form.require("code")?;
            let verification = attempt
                .first_factor
                .as_mut()
                .filter(|v| v.strategy == "email_code")
                .ok_or(FapiError::NotReady("Prepare the email_code first factor before attempting it."))?;
            check_code(verification, code, now)?;
        }
        other => return Err(FapiError::StrategyNotAllowed(other.to_owned())),
    }
    if store.user(&user_id)?.mfa.two_factor_enabled() {
        // No session yet: the sign-in now needs its second factor (`super::second_factor`).
        attempt.first_factor_verified_at = Some(now);
        return Ok(());
    }
    let session = store.create_session_on_client(&user_id, &client, now)?;
    store.touch_client(&client, now);
    attempt.created_session_id = Some(session.id.to_string());
    Ok(())
}

/// Checks a code against a prepared verification: right and in time verifies it; wrong counts an attempt and
/// fails the verification for good after [`MAX_CODE_ATTEMPTS`].
pub(super) fn check_code(v: &mut Verification, code: &str, now: i64) -> Result<(), FapiError> {
    if v.status == "verified" {
        return Ok(());
    }
    if v.status == "failed" || v.expire_at.is_some_and(|at| now >= at) {
        v.status = if v.status == "failed" { "failed" } else { "expired" };
        return Err(FapiError::VerificationFailed);
    }
    if code.trim() != super::attempts::TEST_CODE {
        v.attempts += 1;
        if v.attempts >= MAX_CODE_ATTEMPTS {
            v.status = "failed";
            return Err(FapiError::VerificationFailed);
        }
        return Err(FapiError::CodeIncorrect);
    }
    v.attempts += 1;
    v.status = "verified";
    Ok(())
}
