//! Frontend API renderings, field for field as clerk-js reads them (`packages/shared/src/types/json.ts`:
//! `ClientJSON`, `SessionJSON`, `UserJSON`, `SignInJSON`, `SignUpJSON`, `VerificationJSON`).

use serde_json::{Value, json};

use super::attempts::{ATTEMPT_ABANDON_MS, SignInAttempt, SignUpAttempt, Verification};
use crate::state::AppState;
use crate::store::{Session, Store, User};
use crate::tokens::TokenSpec;

/// The avatar every user gets, served by mock-clerk itself (the UI must not reach `img.clerk.com`).
pub const AVATAR_PATH: &str = "/img/avatar.svg";

/// A session token for a Frontend API session, minted with the one mint function ([`AppState::mint`]);
/// `azp` is the page's origin, as Clerk stamps it.
pub fn session_token(state: &AppState, store: &Store, session: &Session, origin: Option<&str>) -> String {
    let spec = TokenSpec { azp: origin.map(str::to_owned), ..TokenSpec::for_session(session, store, state.clock().now_ms()) };
    state.mint(&spec).token
}

fn avatar_url(state: &AppState) -> String {
    format!("{}{AVATAR_PATH}", state.settings().base_url)
}

/// `VerificationJSON`.
pub fn verification_json(v: &Verification) -> Value {
    json!({
        "object": "verification",
        "status": v.status,
        "strategy": v.strategy,
        "attempts": v.attempts,
        "expire_at": v.expire_at,
        "error": null,
        "verified_at_client": null,
    })
}

/// `UserJSON` as the Frontend API shows it to its own user (no private metadata).
pub fn user_json(state: &AppState, user: &User) -> Value {
    let mut v = crate::bapi::views::user_json(user);
    if let Some(o) = v.as_object_mut() {
        o.remove("private_metadata");
        o.insert("image_url".into(), avatar_url(state).into());
        o.insert("profile_image_id".into(), Value::Null);
        o.insert("organization_memberships".into(), json!([]));
        let accounts: Vec<Value> = user
            .external_accounts
            .iter()
            .map(|e| {
                let idn = user.email_addresses.iter().find(|(_, a)| a.eq_ignore_ascii_case(&e.email_address)).map(|(id, _)| id.as_str());
                e.fapi_json(idn)
            })
            .collect();
        o.insert("external_accounts".into(), accounts.into());
        if let Some(emails) = o.get_mut("email_addresses").and_then(Value::as_array_mut) {
            for e in emails {
                e["verification"] = json!({"object": "verification", "status": "verified", "strategy": "email_code", "attempts": 1, "expire_at": null, "error": null});
                e["matches_sso_connection"] = false.into();
            }
        }
    }
    v
}

/// `PublicUserDataJSON`.
pub fn public_user_data(state: &AppState, user: &User) -> Value {
    json!({
        "first_name": user.first_name,
        "last_name": user.last_name,
        "image_url": avatar_url(state),
        "has_image": false,
        "identifier": user.email_addresses.first().map(|(_, e)| e.as_str()).or(user.username.as_deref()).unwrap_or(""),
        "user_id": user.id,
        "username": user.username,
    })
}

/// `SessionJSON` with a fresh `last_active_token` (clerk-js takes it as the session's first token).
pub fn session_json(state: &AppState, store: &Store, session: &Session, origin: Option<&str>) -> Value {
    let now = state.clock().now_ms();
    let user = store.user(&session.user_id).ok();
    json!({
        "object": "session",
        "id": session.id,
        "status": session.status_at(now).as_str(),
        "expire_at": session.expire_at,
        "abandon_at": session.abandon_at,
        "last_active_at": session.last_active_at,
        "last_active_organization_id": session.claims.as_deref().and_then(|c| c.active_organization_id.as_deref()),
        "last_active_token": {"object": "token", "jwt": session_token(state, store, session, origin)},
        "actor": session.actor.as_deref(),
        "tasks": null,
        "factor_verification_age": crate::mfa::fva(session, now),
        "user": user.map(|u| with_memberships(user_json(state, u), store, u)),
        "public_user_data": user.map(|u| public_user_data(state, u)),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    })
}

/// The user's organization memberships as clerk-js reads them (`user.organizationMemberships`: what
/// `useOrganization()` and `setActive({ organization: slug })` look up), without private metadata.
fn with_memberships(mut user: Value, store: &Store, u: &User) -> Value {
    let memberships: Vec<Value> = store
        .user_memberships(&u.id)
        .into_iter()
        .map(|m| {
            let mut v = crate::bapi::org_views::membership_json(store, m);
            if let Some(o) = v.as_object_mut() {
                o.remove("private_metadata");
            }
            if let Some(o) = v["organization"].as_object_mut() {
                o.remove("private_metadata");
            }
            v
        })
        .collect();
    user["organization_memberships"] = memberships.into();
    user
}

/// `SignInJSON`.
pub fn sign_in_json(state: &AppState, store: &Store, a: &SignInAttempt) -> Value {
    let user = a.user_id.as_deref().and_then(|id| store.user(id).ok());
    let factors: Vec<Value> = user
        .map(|u| {
            let mut f = Vec::new();
            if u.password_enabled {
                f.push(json!({"strategy": "password"}));
            }
            for (i, (id, email)) in u.email_addresses.iter().enumerate() {
                f.push(json!({"strategy": "email_code", "safe_identifier": email, "email_address_id": id, "primary": i == 0}));
            }
            f
        })
        .unwrap_or_default();
    json!({
        "object": "sign_in",
        "id": a.id,
        "status": a.status(),
        "supported_identifiers": ["email_address"],
        "identifier": a.identifier,
        "user_data": user.map(|u| json!({"first_name": u.first_name, "last_name": u.last_name, "image_url": avatar_url(state), "has_image": false})),
        "supported_first_factors": factors,
        "supported_second_factors": user.filter(|_| a.first_factor_verified_at.is_some()).map(super::second_factor::supported),
        "first_factor_verification": first_factor_json(state, a),
        "second_factor_verification": a.second_factor.as_ref().map(verification_json),
        "created_session_id": a.created_session_id,
        "abandon_at": a.created_at + ATTEMPT_ABANDON_MS,
    })
}

/// A sign-in's first factor; on a trip through a social provider, with the consent page to go to while it is
/// `unverified` and the error the provider's answer left.
fn first_factor_json(state: &AppState, a: &SignInAttempt) -> Value {
    let Some(v) = &a.first_factor else { return Value::Null };
    let mut out = verification_json(v);
    if let Some(flow) = &a.oauth {
        out["external_verification_redirect_url"] =
            if v.status == "unverified" && !flow.done { super::oauth::consent_url(state, flow).into() } else { Value::Null };
        out["error"] = flow.error.clone().unwrap_or(Value::Null);
    }
    out
}

/// The fields a sign-up requires (the environment's `user_settings`: email address and password).
pub const SIGN_UP_REQUIRED: [&str; 2] = ["email_address", "password"];
/// The fields a sign-up may carry.
pub const SIGN_UP_OPTIONAL: [&str; 2] = ["first_name", "last_name"];

/// `SignUpJSON`.
pub fn sign_up_json(a: &SignUpAttempt) -> Value {
    let missing: Vec<&str> = SIGN_UP_REQUIRED
        .into_iter()
        .filter(|f| match *f {
            "email_address" => a.email_address.is_none(),
            _ => a.password.is_none() && a.created_user_id.is_none(),
        })
        .collect();
    let email_verified = a.email_verification.as_ref().is_some_and(|v| v.status == "verified");
    let unverified: Vec<&str> = if a.email_address.is_some() && !email_verified { vec!["email_address"] } else { vec![] };
    let email_verification = a.email_address.as_ref().map(|_| {
        let mut v = match &a.email_verification {
            Some(v) => verification_json(v),
            None => json!({"object": "verification", "status": "unverified", "strategy": null, "attempts": null, "expire_at": null, "error": null}),
        };
        v["next_action"] = match &a.email_verification {
            None => "needs_prepare",
            Some(v) if v.status == "verified" => "",
            Some(_) => "needs_attempt",
        }
        .into();
        v["supported_strategies"] = json!(["email_code"]);
        v
    });
    json!({
        "object": "sign_up",
        "id": a.id,
        "status": if a.created_session_id.is_some() { "complete" } else { "missing_requirements" },
        "required_fields": SIGN_UP_REQUIRED,
        "optional_fields": SIGN_UP_OPTIONAL,
        "missing_fields": missing,
        "unverified_fields": unverified,
        "verifications": {
            "email_address": email_verification,
            "phone_number": null,
            "web3_wallet": null,
            "external_account": a.external_strategy.as_ref().map(|s| json!({
                "object": "verification", "status": "verified", "strategy": s, "attempts": null, "expire_at": null,
                "error": null, "external_verification_redirect_url": null,
            })),
        },
        "username": null,
        "email_address": a.email_address,
        "phone_number": null,
        "web3_wallet": null,
        "first_name": a.first_name,
        "last_name": a.last_name,
        "external_account_strategy": null,
        "external_account": null,
        "has_password": a.password.is_some() || a.created_user_id.is_some(),
        "unsafe_metadata": a.unsafe_metadata,
        "created_session_id": a.created_session_id,
        "created_user_id": a.created_user_id,
        "abandon_at": a.created_at + ATTEMPT_ABANDON_MS,
        "legal_accepted_at": null,
        "locale": null,
    })
}

/// `ClientJSON`: the client's active sessions (newest last), its current sign-in and sign-up.
pub fn client_json(state: &AppState, client_id: &str, origin: Option<&str>) -> Value {
    let now = state.clock().now_ms();
    let store = state.store();
    let Some(client) = store.client(client_id) else {
        return Value::Null;
    };
    let sessions: Vec<&Session> = store.active_sessions_on_client(client_id, now);
    let sessions_json: Vec<Value> = sessions.iter().map(|s| session_json(state, &store, s, origin)).collect();
    let attempts = state.fapi().attempts();
    let (sign_in, sign_up) = attempts.current_of(client_id);
    json!({
        "object": "client",
        "id": client.id,
        "sessions": sessions_json,
        // A sign-in completed through a provider stays until clerk-js made its session active (the SSO
        // callback reads it: `handleRedirectCallback`).
        "sign_in": sign_in.filter(|a| a.created_session_id.is_none() || a.oauth.is_some()).map(|a| sign_in_json(state, &store, a)),
        "sign_up": sign_up.filter(|a| a.created_session_id.is_none()).map(sign_up_json),
        "last_active_session_id": sessions.last().map(|s| s.id.as_str()),
        "last_authentication_strategy": null,
        "cookie_expires_at": null,
        "captcha_bypass": false,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    })
}
