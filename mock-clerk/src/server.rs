//! `app(state) -> Router`, what every request passes on its way to a route — request log (outermost, so a refused
//! body is logged too), body limit, fault injection, the request's origin for webhook events — and serving.

use std::net::SocketAddr;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::error::{ApiError, JSON_CONTENT_TYPE};
use crate::faults::Fault;
use crate::reqlog::{LoggedRequest, redact_credential, redact_passwords};
use crate::state::AppState;
use crate::webhooks::RequestOrigin;
use crate::{bapi, control, fapi};

/// Request bodies larger than this get a 413.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;

/// The whole application: Backend API, Frontend API and control API, with their layers.
///
/// ```
/// # use mock_clerk::{instance::{Instance, InstanceKind}, keys::{KeyRing, SigningKey, TEST_KEY_PEM}, clock::Clock};
/// # use mock_clerk::state::{AppState, Settings, ControlAccess};
/// let instance = Instance::new(InstanceKind::Development, "127.0.0.1:4010", "sk_test_x").unwrap();
/// let keys = KeyRing::ephemeral(SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap());
/// let settings = Settings { token_lifetime: std::time::Duration::from_secs(60), control: ControlAccess::LoopbackOnly, base_url: "http://127.0.0.1:4010".into() };
/// let router = mock_clerk::server::app(AppState::new(instance, keys, Clock::default(), settings));
/// # let _ = router;
/// ```
pub fn app(state: AppState) -> Router {
    let inner = Router::new()
        .merge(bapi::routes(state.clone()))
        .merge(fapi::routes())
        .merge(control::routes(state.clone()))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), around))
        .with_state(state);
    fapi::wrap(inner)
}

/// No route: a 404 envelope. A call from a browser (it carries `Origin`, which the Node SDKs never send) or to
/// a Frontend API path is a Frontend API call mock-clerk cannot answer yet: logged as an error, so gaps show.
async fn route_not_found(req: Request) -> ApiError {
    let path = req.uri().path().to_owned();
    if fapi::is_frontend_path(&path) || req.headers().contains_key(header::ORIGIN) {
        tracing::error!(method = %req.method(), %path, "unanswered Frontend API call");
    }
    ApiError::RouteNotFound(path)
}

/// A route exists for the path, but not for the method. On a Backend API path the secret key is checked first,
/// so a caller without it learns nothing about which routes exist (401, as any Backend API call).
async fn method_not_allowed(State(state): State<AppState>, req: Request) -> ApiError {
    if bapi::is_backend_path(req.uri().path())
        && let Err(unauthorized) = bapi::check_secret_key(&state, req.headers())
    {
        return unauthorized;
    }
    ApiError::MethodNotAllowed
}

/// Whether a path is the control API's (neither logged nor subject to faults).
fn is_control(path: &str) -> bool {
    path == control::PREFIX || path.strip_prefix(control::PREFIX).is_some_and(|rest| rest.starts_with('/'))
}

/// One layer for the four jobs done around every route (one boxed service and future per request, not four):
/// the request log, the body limit, fault injection, and the request's origin for the webhook events it causes.
/// Control API calls are neither logged nor subject to faults.
async fn around(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let control = is_control(req.uri().path());
    let entry = (!control).then(|| LogEntry::of(&state, &req));
    let (parts, body) = req.into_parts();
    let (status, body, delayed_ms, response) = match read_body(&parts, body).await {
        Err(too_large) => (too_large.status(), None, 0, too_large.into_response()),
        Ok(bytes) => {
            let req = Request::from_parts(parts, Body::from(bytes.clone()));
            let fault = if control { None } else { state.faults().take(req.method().as_str(), req.uri().path(), session_in_path(req.uri().path())) };
            let (response, delayed_ms) = match fault {
                Some(fault) => (faulted(&fault, req, next).await, fault.latency_ms.unwrap_or(0)),
                None => (RequestOrigin::of(&req).scope(next.run(req)).await, 0),
            };
            (response.status(), Some(bytes), delayed_ms, response)
        }
    };
    if let Some(entry) = entry {
        entry.push(&state, status.as_u16(), body.as_ref(), delayed_ms);
    }
    response
}

/// The body, buffered; a 413 over [`BODY_LIMIT_BYTES`] (declared or actual).
async fn read_body(parts: &axum::http::request::Parts, body: Body) -> Result<Bytes, ApiError> {
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT_BYTES) {
        return Err(ApiError::PayloadTooLarge(BODY_LIMIT_BYTES));
    }
    axum::body::to_bytes(body, BODY_LIMIT_BYTES).await.map_err(|_| ApiError::PayloadTooLarge(BODY_LIMIT_BYTES))
}

/// What the request log keeps of a request before it is answered, credentials redacted.
struct LogEntry {
    at_ms: i64,
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
}

impl LogEntry {
    fn of(state: &AppState, req: &Request) -> Self {
        let headers = req
            .headers()
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let shown = if name == header::AUTHORIZATION { redact_credential(&text, state.instance().secret_key()) } else { text };
                (name.as_str().to_owned(), shown)
            })
            .collect();
        Self {
            at_ms: state.clock().wall_ms(),
            method: req.method().to_string(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(fapi::form::redact_form_passwords),
            headers,
        }
    }

    /// Logs the request with its answer; the body with passwords redacted.
    fn push(self, state: &AppState, status: u16, body: Option<&Bytes>, delayed_ms: u64) {
        let body = body
            .filter(|b| !b.is_empty())
            .map(|b| fapi::form::redact_form_passwords(&redact_passwords(&String::from_utf8_lossy(b))))
            .unwrap_or_default();
        let Self { at_ms, method, path, query, headers } = self;
        tracing::info!(%method, %path, status, "request");
        state.log().push(LoggedRequest { seq: 0, at_ms, method, path, query, headers, body, status, delayed_ms });
    }
}

/// A request with a fault pending: delayed, then answered with the fault's status, or by its route.
async fn faulted(fault: &Fault, req: Request, next: Next) -> Response {
    if let Some(latency) = fault.latency() {
        tokio::time::sleep(latency).await;
    }
    match fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => injected(status, fault),
        None => RequestOrigin::of(&req).scope(next.run(req)).await,
    }
}

/// The session a Backend API path is about (`/v1/sessions/{id}/…`), for session-scoped faults.
fn session_in_path(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/sessions/")?.split('/').next().filter(|id| !id.is_empty())
}

/// An injected failure: the fault's JSON body, or Clerk's envelope; `Retry-After` when asked.
fn injected(status: StatusCode, fault: &Fault) -> Response {
    let mut response = match &fault.body {
        Some(body) => (status, [(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE))], body.to_string()).into_response(),
        None => ApiError::InjectedFault(status).into_response(),
    };
    if let Some(secs) = fault.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, with peer addresses available to the
/// control API's loopback check.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}
