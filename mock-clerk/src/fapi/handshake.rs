//! `GET /v1/client/handshake`: the Frontend API end of the SDK's handshake
//! (`packages/backend/src/tokens/handshake.ts`, `request.ts`; wire notes §4).
//!
//! The browser arrives with `redirect_url`, `suffixed_cookies`, `format`, and possibly the current `__session`
//! and the dev-browser token. mock-clerk works out who the browser is — the forwarded session token (its
//! signature must be ours; its expiry does not matter), else the dev browser's client, else signed out — and
//! redirects back with the `Set-Cookie` directives, behind a nonce (`__clerk_handshake_nonce`, fetched by the
//! SDK from the Backend API) or inline as a signed JWT (`__clerk_handshake`).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::cookies::{self, signed_in_directives, signed_out_directives};
use crate::error::ApiError;
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;
use crate::tokens::{TokenSpec, rs256_header, sign_rs256, signing_input, verify_signature};

/// The handshake path on the Frontend API.
pub const HANDSHAKE_PATH: &str = "/v1/client/handshake";

/// How the handshake answer travels back to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HandshakeFormat {
    /// As the SDK asks (`format=nonce`, which is what `@clerk/nextjs` 7 always sends; `format=token` otherwise).
    #[default]
    Auto,
    /// Always `__clerk_handshake_nonce`, redeemed at `GET /v1/clients/handshake_payload`.
    Nonce,
    /// Always `__clerk_handshake=<RS256 JWT {"handshake": [directives]}>`.
    Token,
}

/// Who the browser turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// An active session: a fresh token was minted for it.
    SignedIn {
        /// The session.
        session_id: String,
    },
    /// No active session.
    SignedOut,
}

pub(crate) async fn handshake(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let redirect = query_one(&pairs, "redirect_url").ok_or_else(|| ApiError::FormParamMissing("redirect_url".into()))?;
    let mut redirect = url::Url::parse(&redirect)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ApiError::FormParamInvalid {
            param: "redirect_url".into(),
            message: "redirect_url must be an absolute http(s) URL".into(),
        })?;
    let suffix = (query_one(&pairs, "suffixed_cookies").as_deref() == Some("true")).then(|| state.instance().cookie_suffix().to_owned());
    let session_token = query_one(&pairs, cookies::SESSION).filter(|t| !t.is_empty());
    let dev_browser = query_one(&pairs, cookies::DEV_BROWSER).filter(|t| !t.is_empty());

    let origin = redirect.origin().ascii_serialization();
    let (directives, _resolution) = resolve(&state, session_token.as_deref(), dev_browser, suffix.as_deref(), Some(&origin));
    let wants_token = match state.handshake_format() {
        HandshakeFormat::Auto => query_one(&pairs, "format").as_deref() == Some("token"),
        HandshakeFormat::Nonce => false,
        HandshakeFormat::Token => true,
    };
    if wants_token {
        redirect.query_pairs_mut().append_pair(cookies::HANDSHAKE, &handshake_token(&state, &directives));
    } else {
        let nonce = state.store().put_nonce(directives);
        redirect.query_pairs_mut().append_pair(cookies::HANDSHAKE_NONCE, &nonce);
    }
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    let location = HeaderValue::from_str(redirect.as_str()).map_err(|_| ApiError::FormParamInvalid {
        param: "redirect_url".into(),
        message: "redirect_url cannot be put in a Location header".into(),
    })?;
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Works out the browser's session and the directives that bring the app's cookies in line with it.
///
/// `azp` is the origin of the app the browser returns to (clerk-js stamps the page's origin; without it
/// `@clerk/backend` logs a warning for every cookie token).
pub fn resolve(
    state: &AppState,
    session_token: Option<&str>,
    dev_browser: Option<String>,
    suffix: Option<&str>,
    azp: Option<&str>,
) -> (Vec<String>, Resolution) {
    let now = state.clock().now_ms();
    let forwarded_sid = session_token.and_then(|jwt| {
        let keys = state.keys();
        let decoded = verify_signature(&keys, jwt)?;
        decoded.claims.get("sid").and_then(Value::as_str).map(str::to_owned)
    });
    let (session, dev_browser) = {
        let mut store = state.store();
        let dev_browser = if state.instance().is_development() {
            Some(match dev_browser {
                Some(id) => {
                    store.adopt_dev_browser(&id, now);
                    id
                }
                None => store.create_dev_browser(None, now),
            })
        } else {
            None
        };
        let session = match &forwarded_sid {
            // A forwarded token names its session: that session, and no other, decides.
            Some(sid) => store.active_session(sid, now).ok().cloned(),
            None => dev_browser
                .as_deref()
                .and_then(|d| store.dev_browser(d)?.client_id.clone())
                .and_then(|client| store.latest_active_session_on_client(&client, now).cloned()),
        };
        if let Some(s) = &session {
            store.touch_session(&s.id, now);
        }
        (session, dev_browser)
    };
    match session {
        Some(session) => {
            let spec = TokenSpec { azp: azp.map(str::to_owned), ..TokenSpec::new(&session.user_id, &session.id) };
            let claims = state.claims_for(&spec);
            let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or_default();
            let token = sign_rs256(state.keys().active(), &claims);
            (signed_in_directives(&token, iat, dev_browser.as_deref(), suffix), Resolution::SignedIn { session_id: session.id.into() })
        }
        None => (signed_out_directives(dev_browser.as_deref(), suffix), Resolution::SignedOut),
    }
}

/// `{"handshake": [directives]}` signed with the instance key (`handshake.ts` `verifyHandshakeJwt` checks only
/// the signature).
fn handshake_token(state: &AppState, directives: &[String]) -> String {
    let mut payload = Map::new();
    payload.insert("handshake".into(), json!(directives));
    let keys = state.keys();
    let key = keys.active();
    let input = signing_input(&rs256_header(key.kid()), &payload);
    let signature = key.sign_rs256(input.as_bytes());
    use base64::Engine;
    format!("{input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature))
}
