//! `/v1/client/sign_ins/{id}/…_second_factor` (`SignIn.prepareSecondFactor` / `attemptSecondFactor` in
//! clerk-js; `SignInFactorTwo*` in `@clerk/ui`): after the first factor, a user with a second factor
//! ([`crate::mfa::UserMfa::two_factor_enabled`]) passes one of `totp`, `phone_code` (the SMS code is always
//! [`super::attempts::TEST_CODE`], as Clerk's test mode has it) or `backup_code` before the session is created.
//! The session remembers when each factor was verified (`fva`).

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::attempts::{MAX_CODE_ATTEMPTS, Verification};
use super::context::Browser;
use super::errors::FapiError;
use super::form::Form;
use super::sign_ins::{answer, check_code, not_found};
use crate::extract::Id;
use crate::mfa::safe_phone;
use crate::state::AppState;
use crate::store::User;

/// `supported_second_factors`: `totp`, then each SMS phone, then `backup_code` (the order `<SignIn/>` prefers).
pub fn supported(user: &User) -> Vec<Value> {
    let mut factors = Vec::new();
    if user.mfa.totp_enabled() {
        factors.push(json!({"strategy": "totp"}));
    }
    let primary = user.mfa.phone_numbers.first().map(|p| p.id.as_str());
    for p in user.mfa.second_factor_phones() {
        factors.push(json!({
            "strategy": "phone_code",
            "safe_identifier": safe_phone(&p.phone_number),
            "phone_number_id": p.id,
            "primary": Some(p.id.as_str()) == primary,
            "default": p.default_second_factor,
        }));
    }
    if user.mfa.backup_code_enabled() {
        factors.push(json!({"strategy": "backup_code"}));
    }
    factors
}

/// `POST /v1/client/sign_ins/{id}/prepare_second_factor`: `strategy=phone_code` (optionally
/// `phone_number_id`) sends the SMS code.
pub(super) async fn prepare(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    {
        let client = browser.client()?;
        let strategy = form.require("strategy")?;
        let now = state.clock().now_ms();
        let store = state.store();
        let mut attempts = state.fapi().attempts();
        let attempt = attempts.sign_in_of(client, &id).ok_or_else(|| not_found(&id))?;
        if attempt.status() != "needs_second_factor" {
            return Err(FapiError::NotReady("Verify the first factor before preparing a second factor."));
        }
        let user = store.user(attempt.user_id.as_deref().unwrap_or_default())?;
        if strategy != "phone_code" {
            return Err(FapiError::StrategyNotAllowed(strategy.to_owned()));
        }
        let phone = match form.get("phone_number_id") {
            Some(pid) => user.mfa.second_factor_phones().find(|p| p.id == pid),
            None => user.mfa.second_factor_phones().find(|p| p.default_second_factor).or_else(|| user.mfa.second_factor_phones().next()),
        }
        .ok_or_else(|| FapiError::StrategyNotAllowed(strategy.to_owned()))?
        .phone_number
        .clone();
        attempt.second_factor = Some(Verification::code_sent(strategy, now));
        let attempt_id = attempt.id.clone();
        attempts.send_code(&phone, strategy, &attempt_id, now);
    }
    answer(&state, &browser, &id)
}

/// `POST /v1/client/sign_ins/{id}/attempt_second_factor`: `strategy` (`totp`, `phone_code`, `backup_code`)
/// and `code`. Right: the session is created and the sign-in is `complete`.
pub(super) async fn attempt(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    {
        let client = browser.client()?.to_owned();
        let strategy = form.require("strategy")?.to_owned();
        let code = form.require("code")?.to_owned();
        let now = state.clock().now_ms();
        let mut store = state.store();
        let mut attempts = state.fapi().attempts();
        let attempt = attempts.sign_in_of(&client, &id).ok_or_else(|| not_found(&id))?;
        let (Some(user_id), Some(first_at), "needs_second_factor") = (attempt.user_id.clone(), attempt.first_factor_verified_at, attempt.status())
        else {
            return Err(FapiError::NotReady("Verify the first factor before attempting a second factor."));
        };
        let mfa = store.user(&user_id)?.mfa.clone();
        match strategy.as_str() {
            "phone_code" => {
                let v = attempt
                    .second_factor
                    .as_mut()
                    .filter(|v| v.strategy == "phone_code")
                    .ok_or(FapiError::NotReady("Prepare the phone_code second factor before attempting it."))?;
                check_code(v, &code, now)?;
            }
            "totp" | "backup_code" => {
                let enabled = if strategy == "totp" { mfa.totp_enabled() } else { mfa.backup_code_enabled() };
                if !enabled {
                    return Err(FapiError::StrategyNotAllowed(strategy));
                }
                let v = match attempt.second_factor.take() {
                    Some(v) if v.strategy == strategy => attempt.second_factor.insert(v),
                    _ => attempt.second_factor.insert(Verification { expire_at: None, ..Verification::code_sent(&strategy, now) }),
                };
                if v.status == "failed" {
                    return Err(FapiError::VerificationFailed);
                }
                // A reused TOTP code (its step already accepted) is refused like a wrong one.
                let right = if strategy == "totp" { store.use_totp(&user_id, &code, now).is_ok() } else { store.use_backup_code(&user_id, &code) };
                v.attempts += 1;
                if !right {
                    if v.attempts >= MAX_CODE_ATTEMPTS {
                        v.status = "failed";
                        return Err(FapiError::VerificationFailed);
                    }
                    return Err(FapiError::CodeIncorrect);
                }
                v.status = "verified";
            }
            other => return Err(FapiError::StrategyNotAllowed(other.to_owned())),
        }
        let session = store.create_session_on_client(&user_id, &client, now)?;
        store.set_second_factor_verified(&session.id, first_at, now);
        store.touch_client(&client, now);
        attempt.created_session_id = Some(session.id.to_string());
    }
    answer(&state, &browser, &id)
}
