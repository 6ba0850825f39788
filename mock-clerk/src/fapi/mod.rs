//! Frontend API routes: what a browser (never the Next.js server) asks of `https://<frontend host>` — the
//! handshake, and everything clerk-js and Clerk's UI call (environment, client, sign-ins, sign-ups, sessions,
//! `me`), plus the browser bundles themselves.

pub mod attempts;
pub mod bundles;
mod client;
pub mod codes;
pub mod context;
pub mod dev_browser;
pub mod environment;
pub mod errors;
pub mod form;
pub mod handshake;
mod me;
pub mod oauth;
mod second_factor;
mod sessions;
mod sign_ins;
mod sign_ups;
pub mod tickets;
pub mod views;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::extract::{query_one, query_pairs};
use crate::state::AppState;

/// The public JWKS path.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// Path prefixes of the Frontend API resources under `/v1` (the rest of `/v1` is the Backend API's).
pub const FRONTEND_PREFIXES: [&str; 5] = ["/v1/client", "/v1/environment", "/v1/me", dev_browser::DEV_BROWSER_PATH, "/v1/tickets"];

/// Whether `path` is a Frontend API path (`/v1/client…`, `/v1/environment`, `/v1/me…`, `/v1/dev_browser`, `/v1/tickets…`,
/// the bundles, the JWKS): CORS applies, and no secret key is asked for.
///
/// ```
/// use mock_clerk::fapi::is_frontend_path;
/// assert!(is_frontend_path("/v1/client/sign_ins"));
/// assert!(is_frontend_path("/v1/client/handshake"));
/// assert!(!is_frontend_path("/v1/clients/handshake_payload"));
/// assert!(!is_frontend_path("/v1/users"));
/// assert!(is_frontend_path("/v1/tickets/accept"));
/// assert!(!is_frontend_path("/v1/sign_in_tokens"));
/// ```
pub fn is_frontend_path(path: &str) -> bool {
    FRONTEND_PREFIXES.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
        || path.starts_with("/npm/")
        || path == views::AVATAR_PATH
        || path == oauth::CALLBACK_PATH
        || path == JWKS_PATH
}

/// The Frontend API paths (no secret key).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(JWKS_PATH, get(jwks))
        .route(handshake::HANDSHAKE_PATH, get(handshake::handshake))
        .route("/v1/environment", get(environment::get).patch(environment::get).post(environment::get))
        .route(dev_browser::DEV_BROWSER_PATH, post(dev_browser::create))
        .route("/v1/client", get(client::get).put(client::put).post(client::put).delete(client::delete))
        .route("/v1/client/sessions", axum::routing::delete(client::remove_sessions))
        .route("/v1/client/sessions/{id}", get(sessions::get))
        .route("/v1/client/sessions/{id}/touch", post(sessions::touch))
        .route("/v1/client/sessions/{id}/tokens", post(sessions::token))
        .route("/v1/client/sessions/{id}/tokens/{template}", post(sessions::template_token))
        .route("/v1/client/sessions/{id}/end", post(sessions::end))
        .route("/v1/client/sessions/{id}/remove", post(sessions::remove))
        .route("/v1/client/sign_ins", post(sign_ins::create))
        .route("/v1/client/sign_ins/{id}", get(sign_ins::get))
        .route("/v1/client/sign_ins/{id}/prepare_first_factor", post(sign_ins::prepare_first_factor))
        .route("/v1/client/sign_ins/{id}/attempt_first_factor", post(sign_ins::attempt_first_factor))
        .route("/v1/client/sign_ins/{id}/prepare_second_factor", post(second_factor::prepare))
        .route("/v1/client/sign_ins/{id}/attempt_second_factor", post(second_factor::attempt))
        .route("/v1/client/sign_ups", post(sign_ups::create))
        .route("/v1/client/sign_ups/{id}", get(sign_ups::get).patch(sign_ups::update))
        .route("/v1/client/sign_ups/{id}/prepare_verification", post(sign_ups::prepare_verification))
        .route("/v1/client/sign_ups/{id}/attempt_verification", post(sign_ups::attempt_verification))
        .route(tickets::TICKET_ACCEPT_PATH, get(tickets::accept))
        .route("/v1/me", get(me::get).patch(me::update))
        .route("/npm/@clerk/{spec}/dist/{*file}", get(bundles::serve))
        .route(views::AVATAR_PATH, get(bundles::avatar))
        .route(oauth::CALLBACK_PATH, get(oauth::callback).post(oauth::callback_post))
        .route(oauth::CONSENT_PATH, get(oauth::consent_page).post(oauth::consent_decision))
        .route(&format!("{}{{file}}", oauth::LOGO_PREFIX), get(oauth::logo))
}

async fn jwks(State(state): State<AppState>) -> Response {
    crate::bapi::jwks_response(&state)
}

// clerk-js sends every method but GET and POST as a POST with `?_method=PUT|PATCH|DELETE` (`fapiClient.ts`);
// the request is routed as that method. It calls the Frontend API cross-origin with `credentials: "include"`, so
// Frontend API answers name the caller's origin (`Access-Control-Allow-Origin: <Origin>`, never `*`) and allow
// credentials; preflights are answered before routing. `server::app` applies both to every request.

/// Routes a clerk-js `POST …?_method=PUT|PATCH|DELETE` on a Frontend API path as that method.
pub(crate) fn override_method(req: &mut Request) {
    if req.method() == Method::POST
        && let Some(method) = query_one(&query_pairs(req.uri().query()), "_method")
        && let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        && matches!(m, Method::PUT | Method::PATCH | Method::DELETE)
        && is_frontend_path(req.uri().path())
    {
        *req.method_mut() = m;
    }
}

/// The browser origin CORS answers to: the request's `Origin` (browsers send it on every cross-origin call; the
/// Node SDKs never do), unless the call is the control API's, which stays closed.
pub(crate) fn cors_origin(req: &Request) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    (!req.uri().path().starts_with(crate::control::PREFIX)).then(|| origin.clone())
}

/// The answer to a preflight (`OPTIONS` with an `Origin`).
pub(crate) fn preflight(req: &Request, origin: &HeaderValue) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    cors_headers(h, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"));
    let asked = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or(HeaderValue::from_static("content-type")));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    r
}

/// The CORS headers of an answer to `origin`.
pub(crate) fn cors_headers(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}
