//! `/v1/client/sign_ups…` (`packages/clerk-js/src/core/resources/SignUp.ts`): collect the email address and
//! password (first and last name optional), verify the email address with a code
//! ([`super::attempts::TEST_CODE`]), then create the user and an active session on the browser's client.

use axum::extract::State;
use axum::response::Response;

use super::attempts::{SignUpAttempt, Verification};
use super::context::Browser;
use super::errors::FapiError;
use super::form::Form;
use super::sign_ins::check_code;
use super::views::sign_up_json;
use crate::error::ApiError;
use crate::extract::Id;
use crate::state::AppState;
use crate::store::NewUser;

fn not_found(id: &str) -> FapiError {
    ApiError::ResourceNotFound { kind: "sign_up", id: id.to_owned() }.into()
}

fn answer(state: &AppState, browser: &Browser, id: &str) -> Result<Response, FapiError> {
    let body = {
        let attempts = state.fapi().attempts();
        sign_up_json(attempts.sign_ups.get(id).ok_or_else(|| not_found(id))?)
    };
    Ok(browser.answer(state, body))
}

/// Copies the fields a form carries onto the attempt, checking them as Clerk does.
fn apply(state: &AppState, attempt: &mut SignUpAttempt, form: &Form) -> Result<(), FapiError> {
    if let Some(email) = form.get("email_address").map(str::trim) {
        let (local, domain) = email.split_once('@').unwrap_or_default();
        if local.is_empty() || !domain.contains('.') || email.chars().any(char::is_whitespace) {
            return Err(ApiError::FormParamInvalid { param: "email_address".into(), message: "must be a valid email address".into() }.into());
        }
        if state.store().user_by_email(email).is_some() {
            return Err(FapiError::EmailTaken);
        }
        if attempt.email_address.as_deref() != Some(email) {
            attempt.email_address = Some(email.to_owned());
            attempt.email_verification = None;
        }
    }
    if let Some(password) = form.get("password") {
        if password.chars().count() < 8 {
            return Err(FapiError::PasswordTooShort);
        }
        attempt.password = Some(password.to_owned());
    }
    if let Some(v) = form.get("first_name") {
        attempt.first_name = Some(v.to_owned());
    }
    if let Some(v) = form.get("last_name") {
        attempt.last_name = Some(v.to_owned());
    }
    if let Some(v) = form.get("unsafe_metadata") {
        attempt.unsafe_metadata = serde_json::from_str(v)
            .map_err(|_| ApiError::FormParamInvalid { param: "unsafe_metadata".into(), message: "must be a JSON object".into() })?;
    }
    Ok(())
}

/// `POST /v1/client/sign_ups`.
pub(super) async fn create(State(state): State<AppState>, mut browser: Browser, form: Form) -> Result<Response, FapiError> {
    if form.get("transfer") == Some("true") {
        let id = transfer(&state, &browser, &form)?;
        return answer(&state, &browser, &id);
    }
    // Social sign-in goes through `<SignIn/>` (a new user is transferred to a sign-up); a sign-up started with
    // a provider is not played by mock-clerk: refused as a strategy this instance does not offer here.
    if let Some(s) = form.get("strategy").filter(|s| s.starts_with("oauth_")) {
        return Err(FapiError::StrategyNotAllowed(s.to_owned()));
    }
    let client = browser.ensure_client(&state);
    let now = state.clock().now_ms();
    let mut draft = SignUpAttempt::default();
    apply(&state, &mut draft, &form)?;
    let id = {
        let mut attempts = state.fapi().attempts();
        attempts.prune(now);
        let attempt = attempts.new_sign_up(&client, now);
        let id = attempt.id.clone();
        *attempt = SignUpAttempt { id: id.clone(), client_id: client.clone(), created_at: now, ..draft };
        id
    };
    if form.get("strategy") == Some("email_code") {
        prepare(&state, &browser, &id)?;
    }
    answer(&state, &browser, &id)
}

/// `transfer=true` (`signUp.create({transfer: true})` in `handleRedirectCallback`): the client's sign-in came
/// back from a provider `transferable` (no user has that account or email address); the user is created with
/// the provider's identity and external account, and signed in. Checked before anything is created.
fn transfer(state: &AppState, browser: &Browser, form: &Form) -> Result<String, FapiError> {
    let client = browser.client()?.to_owned();
    let now = state.clock().now_ms();
    let mut draft = SignUpAttempt::default();
    if let Some(v) = form.get("unsafe_metadata") {
        draft.unsafe_metadata = serde_json::from_str(v)
            .map_err(|_| ApiError::FormParamInvalid { param: "unsafe_metadata".into(), message: "must be a JSON object".into() })?;
    }
    let mut store = state.store();
    let mut attempts = state.fapi().attempts();
    let (provider, identity) = super::oauth::peek_transferable(&attempts, &client).ok_or(FapiError::NothingToTransfer)?;
    let non_empty = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let user = store.create_user(
        NewUser {
            email_address: vec![identity.email_address.clone()],
            first_name: non_empty(&identity.first_name),
            last_name: non_empty(&identity.last_name),
            unsafe_metadata: draft.unsafe_metadata.clone(),
            ..NewUser::default()
        },
        now,
    )?;
    let account = crate::external::ExternalAccount::new(&provider, &identity, now);
    let strategy = account.strategy();
    store.link_external_account(&user.id, account, now)?;
    let session = store.create_session_on_client(&user.id, &client, now)?;
    store.touch_client(&client, now);
    super::oauth::take_transferable(&mut attempts, &client);
    let attempt = attempts.new_sign_up(&client, now);
    let id = attempt.id.clone();
    *attempt = SignUpAttempt {
        id: id.clone(),
        client_id: client,
        created_at: now,
        email_address: Some(identity.email_address.clone()),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        email_verification: Some(super::attempts::Verification::verified(&format!("from_{strategy}"))),
        external_strategy: Some(strategy),
        created_user_id: Some(user.id.to_string()),
        created_session_id: Some(session.id.to_string()),
        ..draft
    };
    Ok(id)
}

/// `GET /v1/client/sign_ups/{id}`.
pub(super) async fn get(State(state): State<AppState>, browser: Browser, Id(id): Id) -> Result<Response, FapiError> {
    state.fapi().attempts().sign_up_of(browser.client()?, &id).ok_or_else(|| not_found(&id))?;
    answer(&state, &browser, &id)
}

/// `PATCH /v1/client/sign_ups/{id}`: more fields.
pub(super) async fn update(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    let client = browser.client()?.to_owned();
    let mut draft = state.fapi().attempts().sign_up_of(&client, &id).ok_or_else(|| not_found(&id))?.clone();
    apply(&state, &mut draft, &form)?;
    if let Some(a) = state.fapi().attempts().sign_up_of(&client, &id) {
        *a = draft;
    }
    answer(&state, &browser, &id)
}

/// `POST /v1/client/sign_ups/{id}/prepare_verification`: `strategy=email_code` sends the code.
pub(super) async fn prepare_verification(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    let strategy = form.require("strategy")?;
    if strategy != "email_code" {
        return Err(FapiError::StrategyNotAllowed(strategy.to_owned()));
    }
    prepare(&state, &browser, &id)?;
    answer(&state, &browser, &id)
}

fn prepare(state: &AppState, browser: &Browser, id: &str) -> Result<(), FapiError> {
    let now = state.clock().now_ms();
    let mut attempts = state.fapi().attempts();
    let attempt = attempts.sign_up_of(browser.client()?, id).ok_or_else(|| not_found(id))?;
    let email = attempt.email_address.clone().ok_or(FapiError::NotReady("Add an email address before preparing its verification."))?;
    attempt.email_verification = Some(Verification::code_sent("email_code", now));
    attempts.send_code(&email, "email_code", id, now);
    Ok(())
}

/// `POST /v1/client/sign_ups/{id}/attempt_verification`: `strategy=email_code&code=…`; with every required
/// field present, the user and its session are created.
pub(super) async fn attempt_verification(State(state): State<AppState>, browser: Browser, Id(id): Id, form: Form) -> Result<Response, FapiError> {
    let client = browser.client()?.to_owned();
    let strategy = form.require("strategy")?;
    if strategy != "email_code" {
        return Err(FapiError::StrategyNotAllowed(strategy.to_owned()));
    }
    let code = form.require("code")?;
    let now = state.clock().now_ms();
    let mut store = state.store();
    let mut attempts = state.fapi().attempts();
    let attempt = attempts.sign_up_of(&client, &id).ok_or_else(|| not_found(&id))?;
    let verification =
        attempt.email_verification.as_mut().ok_or(FapiError::NotReady("Prepare the email address verification before attempting it."))?;
    check_code(verification, code, now)?;
    if attempt.created_user_id.is_none()
        && let (Some(email), Some(_)) = (&attempt.email_address, &attempt.password)
    {
        let user = store.create_user(
            NewUser {
                email_address: vec![email.clone()],
                first_name: attempt.first_name.clone(),
                last_name: attempt.last_name.clone(),
                password: attempt.password.take(),
                unsafe_metadata: attempt.unsafe_metadata.clone(),
                ..NewUser::default()
            },
            now,
        )?;
        let session = store.create_session_on_client(&user.id, &client, now)?;
        store.touch_client(&client, now);
        attempt.created_user_id = Some(user.id.to_string());
        attempt.created_session_id = Some(session.id.to_string());
    }
    drop(attempts);
    drop(store);
    answer(&state, &browser, &id)
}
