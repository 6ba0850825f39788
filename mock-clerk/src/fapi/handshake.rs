//! `GET /v1/client/handshake`: the Frontend API end of the SDK's handshake
//! (`packages/backend/src/tokens/handshake.ts`, `request.ts`; wire notes §4).
//!
//! The browser arrives with `redirect_url`, `suffixed_cookies`, `format`, and possibly the current `__session`
//! and the dev-browser token. mock-clerk works out who the browser is — the forwarded session token (its
//! signature must be ours; its expiry does not matter), else the dev browser's client, else signed out — and
//! redirects back with the `Set-Cookie` directives, behind a nonce (`__clerk_handshake_nonce`, fetched by the
//! SDK from the Backend API) or inline as a signed JWT (`__clerk_handshake`): as a query parameter on a
//! development instance, as a cookie on a production one ([`Transport`]).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::cookies::{self, signed_in_directives, signed_out_directives};
use crate::error::ApiError;
use crate::extract::{query_one, query_pairs};
use crate::instance::Instance;
use crate::state::AppState;
use crate::tokens::{TokenSpec, sign_rs256, verify_signature};

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

/// How the result travels back to the app (wire notes §4, "Transport depends on the instance kind").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Development: a query parameter on `redirect_url` (the Frontend API is on another site); the SDK then
    /// redirects to the clean URL.
    Query,
    /// Production: a cookie the app can read, and a redirect to the clean `redirect_url`; the SDK resolves the
    /// handshake on that response itself. `domain` is the `Domain` attribute (the parent domain shared with the
    /// app), `None` for a host-only cookie when the app is on the Frontend API's own host (cookies ignore ports).
    Cookie {
        /// The `Domain` attribute, if any.
        domain: Option<String>,
    },
}

impl Transport {
    /// The transport for an app at `app` (the `redirect_url`) on this instance.
    ///
    /// ```
    /// use mock_clerk::fapi::handshake::Transport;
    /// use mock_clerk::instance::{Instance, InstanceKind};
    /// let app = url::Url::parse("http://127.0.0.1:3000/schedules").unwrap();
    /// let live = Instance::new(InstanceKind::Production, "127.0.0.1:4010", "sk_live_x").unwrap();
    /// assert_eq!(Transport::for_app(&live, &app), Ok(Transport::Cookie { domain: None }));
    /// let test = Instance::new(InstanceKind::Development, "127.0.0.1:4010", "sk_test_x").unwrap();
    /// assert_eq!(Transport::for_app(&test, &app), Ok(Transport::Query));
    /// ```
    pub fn for_app(instance: &Instance, app: &url::Url) -> Result<Self, ApiError> {
        if instance.is_development() {
            return Ok(Self::Query);
        }
        let fapi = url::Url::parse(&format!("http://{}/", instance.frontend_host())).ok();
        let fapi = fapi.as_ref().and_then(url::Url::host);
        let domain = match (fapi, app.host()) {
            (Some(f), Some(a)) if f == a => return Ok(Self::Cookie { domain: None }),
            (Some(url::Host::Domain(f)), Some(url::Host::Domain(a))) => common_parent(f, a),
            _ => None,
        };
        domain.map(|d| Self::Cookie { domain: Some(d) }).ok_or_else(|| ApiError::FormParamInvalid {
                param: "redirect_url".into(),
                message: format!(
                    "a production instance hands the handshake back as a cookie, so redirect_url must be on the Frontend API's host ({}) or share its parent domain",
                instance.frontend_host()
            ),
        })
    }
}

/// The parent domain two hosts share, if it has at least two labels (`clerk.example.com` and `app.example.com`
/// share `example.com`; `a.test` and `b.test` share nothing a cookie may be set on).
fn common_parent(a: &str, b: &str) -> Option<String> {
    let mut shared: Vec<&str> = a.rsplit('.').zip(b.rsplit('.')).take_while(|(x, y)| x == y).map(|(x, _)| x).collect();
    shared.reverse();
    (shared.len() >= 2).then(|| shared.join("."))
}

pub(crate) async fn handshake(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let redirect = query_one(&pairs, "redirect_url").ok_or_else(|| ApiError::FormParamMissing("redirect_url".into()))?;
    let mut redirect = url::Url::parse(&redirect)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| ApiError::FormParamInvalid { param: "redirect_url".into(), message: "redirect_url must be an absolute http(s) URL".into() })?;
    let transport = Transport::for_app(state.instance(), &redirect)?;
    let suffix = (query_one(&pairs, "suffixed_cookies").as_deref() == Some("true")).then(|| state.instance().cookie_suffix().to_owned());
    let session_token = query_one(&pairs, cookies::SESSION).filter(|t| !t.is_empty());
    let dev_browser = query_one(&pairs, cookies::DEV_BROWSER).filter(|t| !t.is_empty());

    let origin = redirect.origin().ascii_serialization();
    // Organization sync (`handshake.ts` `getOrganizationSyncQueryParams`): an id or slug to activate, or empty
    // for the personal account.
    let organization = query_one(&pairs, "organization_id");
    let (mut directives, _resolution) =
        resolve(&state, session_token.as_deref(), dev_browser, suffix.as_deref(), Some(&origin), organization.as_deref());
    let wants_token = match state.handshake_format() {
        HandshakeFormat::Auto => query_one(&pairs, "format").as_deref() == Some("token"),
        HandshakeFormat::Nonce => false,
        HandshakeFormat::Token => true,
    };
    let name = if wants_token { cookies::HANDSHAKE } else { cookies::HANDSHAKE_NONCE };
    if let Transport::Cookie { domain } = &transport {
        directives.insert(0, cookies::handshake_cookie_cleared(name, domain.as_deref()));
    }
    let value = if wants_token { handshake_token(&state, &directives) } else { state.store().put_nonce(directives) };
    let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
    match &transport {
        Transport::Query => {
            redirect.query_pairs_mut().append_pair(name, &value);
        }
        Transport::Cookie { domain } => {
            let cookie = HeaderValue::from_str(&cookies::handshake_cookie(name, &value, domain.as_deref())).map_err(|_| {
                ApiError::FormParamInvalid { param: "redirect_url".into(), message: "redirect_url's domain cannot be put in a cookie".into() }
            })?;
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
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
/// `@clerk/backend` logs a warning for every cookie token). `organization` (organization sync) becomes the
/// session's active organization if the user is a member of it (`""`: none); otherwise the session keeps its own.
pub fn resolve(
    state: &AppState,
    session_token: Option<&str>,
    dev_browser: Option<String>,
    suffix: Option<&str>,
    azp: Option<&str>,
    organization: Option<&str>,
) -> (Vec<String>, Resolution) {
    let now = state.clock().now_ms();
    let forwarded_sid = session_token.and_then(|jwt| {
        let keys = state.keys();
        let decoded = verify_signature(&keys, jwt)?;
        decoded.claims.get("sid").and_then(Value::as_str).map(str::to_owned)
    });
    let (session, spec, dev_browser) = {
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
            if let Some(org) = organization {
                // Not a member (or no such organization): the session keeps its active organization, as on Clerk.
                let _ = store.set_active_organization(&s.id, Some(org), now);
            }
        }
        let session = session.and_then(|s| store.session(&s.id).ok().cloned());
        let spec = session.as_ref().map(|s| TokenSpec { azp: azp.map(str::to_owned), ..TokenSpec::for_session(s, &store, now) });
        (session, spec, dev_browser)
    };
    match (session, spec) {
        (Some(session), Some(spec)) => {
            let minted = state.mint(&spec);
            (signed_in_directives(&minted.token, minted.iat, dev_browser.as_deref(), suffix), Resolution::SignedIn { session_id: session.id.into() })
        }
        _ => (signed_out_directives(dev_browser.as_deref(), suffix), Resolution::SignedOut),
    }
}

/// `{"handshake": [directives]}` signed with the instance key, as a session token is (`handshake.ts`
/// `verifyHandshakeJwt` checks only the signature).
fn handshake_token(state: &AppState, directives: &[String]) -> String {
    let mut payload = Map::new();
    payload.insert("handshake".into(), json!(directives));
    sign_rs256(state.keys().active(), &payload)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::body::Body;
    use axum::http::{HeaderMap, Request};
    use tower::ServiceExt;

    use super::*;
    use crate::{InstanceKind, MockClerk};

    const APP: &str = "http://127.0.0.1:3000/schedules?tab=1";

    fn state(kind: InstanceKind, frontend_host: &str) -> AppState {
        MockClerk::builder().kind(kind).frontend_host(frontend_host).state_for(SocketAddr::from(([127, 0, 0, 1], 4010))).unwrap()
    }

    async fn get(state: &AppState, redirect_url: &str, format: &str) -> (StatusCode, HeaderMap, String) {
        let query =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("redirect_url", redirect_url).append_pair("format", format).finish();
        let req = Request::get(format!("{HANDSHAKE_PATH}?{query}")).body(Body::empty()).unwrap();
        let res = crate::server::app(state.clone()).oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let body = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes();
        (parts.status, parts.headers, String::from_utf8_lossy(&body).into_owned())
    }

    fn set_cookies(headers: &HeaderMap) -> Vec<&str> {
        headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect()
    }

    #[tokio::test]
    async fn production_sets_the_nonce_as_a_cookie_and_redirects_to_the_clean_url() {
        let state = state(InstanceKind::Production, "127.0.0.1:4010");
        let (status, headers, _) = get(&state, APP, "nonce").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(headers[header::LOCATION], APP, "the clean redirect_url");
        let cookies = set_cookies(&headers);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let nonce = cookies[0].strip_prefix("__clerk_handshake_nonce=").and_then(|c| c.strip_suffix("; Path=/; SameSite=Lax; HttpOnly")).unwrap();
        let directives = state.store().take_nonce(nonce).expect("the cookie's nonce is redeemable");
        assert_eq!(directives[0], "__clerk_handshake_nonce=; Path=/; SameSite=Lax; HttpOnly; Max-Age=0", "the app deletes the spent nonce");
        assert!(directives.contains(&"__client_uat=0; Path=/; SameSite=Lax".to_owned()), "{directives:?}");
    }

    #[tokio::test]
    async fn production_sets_the_token_as_a_cookie() {
        let state = state(InstanceKind::Production, "127.0.0.1:4010");
        let (status, headers, _) = get(&state, APP, "token").await;
        assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::TEMPORARY_REDIRECT, APP));
        let cookies = set_cookies(&headers);
        let jwt = cookies[0].strip_prefix("__clerk_handshake=").and_then(|c| c.split(';').next()).unwrap();
        let payload = verify_signature(&state.keys(), jwt).expect("signed with the instance key");
        assert_eq!(payload.claims["handshake"][0], "__clerk_handshake=; Path=/; SameSite=Lax; HttpOnly; Max-Age=0");
    }

    #[tokio::test]
    async fn development_keeps_the_query_parameter() {
        let state = state(InstanceKind::Development, "127.0.0.1:4010");
        let (status, headers, _) = get(&state, APP, "nonce").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        let location = url::Url::parse(headers[header::LOCATION].to_str().unwrap()).unwrap();
        let nonce = location.query_pairs().find(|(k, _)| k == cookies::HANDSHAKE_NONCE).map(|(_, v)| v.into_owned()).unwrap();
        assert!(set_cookies(&headers).is_empty());
        let directives = state.store().take_nonce(&nonce).unwrap();
        assert!(directives.iter().all(|d| !d.starts_with("__clerk_handshake")), "{directives:?}");
    }

    #[tokio::test]
    async fn production_sets_the_cookie_on_the_shared_parent_domain() {
        let state = state(InstanceKind::Production, "clerk.example.test:4010");
        let (_, headers, _) = get(&state, "https://app.example.test/x", "nonce").await;
        let cookie = set_cookies(&headers)[0].to_owned();
        assert!(cookie.starts_with("__clerk_handshake_nonce=nonce_") && cookie.ends_with("; HttpOnly; Domain=example.test"), "{cookie}");
    }

    #[tokio::test]
    async fn production_refuses_an_app_its_cookie_cannot_reach() {
        let state = state(InstanceKind::Production, "127.0.0.1:4010");
        for other in ["http://127.0.0.2:3000/", "http://app.test/"] {
            let (status, headers, body) = get(&state, other, "nonce").await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{other}: {body}");
            assert!(body.contains("form_param_format_invalid") && body.contains("as a cookie"), "{body}");
            assert!(set_cookies(&headers).is_empty());
        }
    }

    #[test]
    fn common_parent_needs_two_shared_labels() {
        assert_eq!(common_parent("clerk.example.com", "www.example.com").as_deref(), Some("example.com"));
        assert_eq!(common_parent("clerk.example.com", "example.com").as_deref(), Some("example.com"));
        assert_eq!(common_parent("a.test", "b.test"), None);
        assert_eq!(common_parent("example.com", "example.org"), None);
    }
}
