//! What the control API does, as plain functions over the state, so the HTTP routes and the in-process
//! [`crate::MockClerk`] handle share one implementation.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::cookies::{self, Cookie};
use crate::error::ApiError;
use crate::faults::Fault;
use crate::forge::BrokenToken;
use crate::keys::SigningKey;
use crate::state::{AppState, Minted};
use crate::store::{NewUser, SessionStatus};
use crate::tokens::{TokenSpec, decode_unverified};

/// Who to sign in. With no `user_id`, a new user is created (with `email` if given).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// An existing user.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Email of the user to create.
    #[serde(default)]
    pub email: Option<String>,
    /// First name of the user to create.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Lifetime of the session token (instance default when absent).
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// `azp` of the session token (the app's origin).
    #[serde(default)]
    pub azp: Option<String>,
    /// Extra claims for the session token; they stay on the session as its custom claims (every later token of
    /// the session carries them too, except those replacing Clerk's own claims).
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Sign in as a member of this organization (created if missing, with the role and membership), which
    /// becomes the session's active organization.
    #[serde(default)]
    pub organization: Option<super::org_ops::OrgSignIn>,
    /// Features on the session (`fea`): `premium` (a user feature) or scoped, `o:reports`.
    #[serde(default)]
    pub features: Vec<String>,
    /// Plans on the session (`pla`): `pro` (a user plan) or scoped, `o:team`.
    #[serde(default)]
    pub plans: Vec<String>,
}

/// A signed-in browser: ids, the session token, and the cookies it now holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The user.
    pub user_id: String,
    /// The new session.
    pub session_id: String,
    /// The client the session lives on.
    pub client_id: String,
    /// The session token (also the `__session` cookie).
    pub token: String,
    /// `__session`, `__client_uat` (= the token's `iat`), and `__clerk_db_jwt` on development instances.
    pub cookies: Vec<Cookie>,
    /// The `__refresh_<suffix>` cookie that lets the SDK refresh this session through the Backend API.
    pub refresh_cookie: Cookie,
}

impl SignedIn {
    /// The `Cookie:` header a browser would send.
    pub fn cookie_header(&self) -> String {
        cookies::cookie_header(&self.cookies)
    }
}

/// Signs a user in: creates (or reuses) the user, a client and an active session, and mints its token.
pub fn sign_in(state: &AppState, req: SignInRequest) -> Result<SignedIn, ApiError> {
    let now = state.clock().now_ms();
    let (user_id, session, spec, dev_browser, refresh_token) = {
        let mut store = state.store();
        let user_id = match req.user_id {
            Some(id) => store.user(&id)?.id.clone(),
            None => {
                let new = NewUser { email_address: req.email.into_iter().collect(), first_name: req.first_name, ..NewUser::default() };
                store.create_user(new, now)?.id
            }
        };
        let session = store.create_session(&user_id, now)?;
        if let Some(org) = &req.organization {
            let org = super::org_ops::join(&mut store, &user_id, org, now)?;
            store.set_active_organization(&session.id, Some(&org.id), now)?;
        }
        if !(req.features.is_empty() && req.plans.is_empty() && req.claims.is_empty()) {
            store.set_session_claims(&session.id, req.features, req.plans, req.claims.clone())?;
        }
        let session = store.session(&session.id)?.clone();
        let mut spec = TokenSpec { ttl: req.ttl_seconds.map(Duration::from_secs), azp: req.azp, ..TokenSpec::for_session(&session, &store, now) };
        spec.extra.extend(req.claims);
        let dev_browser = state.instance().is_development().then(|| store.create_dev_browser(Some(&session.client_id), now));
        let refresh_token = store.refresh_token(&session.id);
        (user_id, session, spec, dev_browser, refresh_token)
    };
    let Minted { token, iat } = state.mint(&spec);
    let mut jar = vec![Cookie::new(cookies::SESSION, &token), Cookie::new(cookies::CLIENT_UAT, iat.to_string())];
    if let Some(dvb) = dev_browser {
        jar.push(Cookie::new(cookies::DEV_BROWSER, dvb));
    }
    let refresh_name = cookies::suffixed(cookies::REFRESH, state.instance().cookie_suffix());
    Ok(SignedIn {
        user_id: user_id.into(),
        session_id: session.id.into(),
        client_id: session.client_id.into(),
        token,
        cookies: jar,
        refresh_cookie: Cookie::new(refresh_name, refresh_token),
    })
}

/// What token to mint through the control API or the CLI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// `sub` (a placeholder user id when absent).
    #[serde(default)]
    pub sub: Option<String>,
    /// `sid` (a placeholder session id when absent).
    #[serde(default)]
    pub sid: Option<String>,
    /// Lifetime in seconds.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// `iat` in seconds since the epoch (now when absent).
    #[serde(default)]
    pub iat: Option<i64>,
    /// `azp`.
    #[serde(default)]
    pub azp: Option<String>,
    /// Extra claims.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Break the token this way.
    #[serde(default)]
    pub broken: Option<BrokenToken>,
}

/// A minted token with its decoded parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MintedToken {
    /// The JWT.
    pub jwt: String,
    /// Its header.
    pub header: Value,
    /// Its claims.
    pub claims: Value,
}

/// Mints a valid or deliberately broken session token.
pub fn mint(state: &AppState, req: MintRequest) -> MintedToken {
    let spec = TokenSpec {
        sub: Some(req.sub.unwrap_or_else(|| "user_mock".into())),
        sid: Some(req.sid.unwrap_or_else(|| "sess_mock".into())),
        ttl: req.ttl_seconds.map(Duration::from_secs),
        iat: req.iat,
        azp: req.azp,
        extra: req.claims,
        ..TokenSpec::default()
    };
    let jwt = match req.broken {
        None => state.mint(&spec).token,
        Some(variant) => variant.forge(&state.claims_for(&spec), state.keys().active()),
    };
    let decoded = decode_unverified(&jwt).expect("minted tokens decode");
    MintedToken { jwt, header: decoded.header, claims: decoded.claims }
}

/// Publishes a fresh signing key and makes it active; older keys stay in the JWKS until retired.
pub fn rotate_keys(state: &AppState) -> Result<KeysView, ApiError> {
    let key = SigningKey::generate()?;
    state.keys_mut().rotate_to(key)?;
    Ok(keys_view(state))
}

/// Retires one key (or every inactive key when `kid` is `None`).
pub fn retire_keys(state: &AppState, kid: Option<&str>) -> Result<KeysView, ApiError> {
    let mut ring = state.keys_mut();
    let result = match kid {
        Some(kid) => ring.retire(kid),
        None => ring.retire_inactive().map(|_| ()),
    };
    drop(ring);
    result?;
    Ok(keys_view(state))
}

/// The key ring as the control API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeysView {
    /// The signing key.
    pub active_kid: String,
    /// Every published kid, active first.
    pub kids: Vec<String>,
}

/// The current key ring.
pub fn keys_view(state: &AppState) -> KeysView {
    let ring = state.keys();
    KeysView { active_kid: ring.active().kid().to_owned(), kids: ring.keys().iter().map(|k| k.kid().to_owned()).collect() }
}

/// Both JWKS routes (Backend and Frontend API) answer 503 for the next `times` requests each.
pub fn jwks_outage(state: &AppState, times: u32) -> Result<(), ApiError> {
    for path in [crate::bapi::JWKS_PATH, crate::fapi::JWKS_PATH] {
        state.faults().add(Fault::fail("GET", path, times, 503))?;
    }
    Ok(())
}

/// Ends a session the way a user signing out would (`ended`), or removes it (`removed`).
pub fn set_session_status(state: &AppState, id: &str, status: SessionStatus) -> Result<(), ApiError> {
    let now = state.clock().now_ms();
    state.store().finish_session(id, status, now)?;
    Ok(())
}

/// Forgets users, sessions, the request log, faults and webhook messages (endpoints stay), puts the clock back to real time and the handshake
/// format back to `auto`. Keys stay.
pub fn reset(state: &AppState) {
    *state.store() = Default::default();
    state.log().clear();
    state.faults().clear();
    state.clock().reset();
    state.set_handshake_format(Default::default());
    state.webhooks().clear_messages();
    state.fapi().reset();
}

/// A user's authenticator secret and the code it shows at mock-clerk's current time (`GET /__mock/users/{id}/totp`).
pub fn totp(state: &AppState, user_id: &str) -> Result<crate::mfa::TotpView, ApiError> {
    let now = state.clock().now_ms();
    let store = state.store();
    crate::mfa::totp_view(store.user(user_id)?, now).ok_or_else(|| ApiError::ResourceNotFound { kind: "totp", id: user_id.to_owned() })
}
