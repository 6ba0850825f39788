//! `app(state) -> Router`, and what every request passes on its way to a route: CORS and clerk-js's method
//! override, the request log (outermost, so a refused body is logged too), the body limit, fault injection, the
//! request's origin for webhook events. Connections are served by [`crate::serving`].

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::HttpBody as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Service, ServiceExt};

use crate::error::{ApiError, JSON_CONTENT_TYPE};
use crate::faults::Fault;
use crate::reqlog::{Received, redact_passwords};
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
    Router::new().fallback_service(Front::new(state))
}

/// What every request passes before its route, as one service: one boxed future per request, where a layer each
/// (`from_fn`) would clone and box a service and a future per request, per layer. [`app`] is this service as a
/// router; `serving` runs it as it is (a router around it would only hand every request on).
#[derive(Clone)]
pub(crate) struct Front {
    routes: Router,
    state: AppState,
}

impl Front {
    pub(crate) fn new(state: AppState) -> Self {
        let routes = Router::new()
            .merge(bapi::routes(state.clone()))
            .merge(fapi::routes())
            .merge(control::routes(state.clone()))
            .fallback(route_not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(state.clone());
        Self { routes, state }
    }
}

impl Service<Request> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let (routes, state) = (self.routes.clone(), self.state.clone());
        Box::pin(async move { Ok(answer(state, routes, req).await) })
    }
}

/// CORS (a preflight is answered here, neither logged nor faulted), clerk-js's method override, then
/// [`around`] the route.
async fn answer(state: AppState, routes: Router, mut req: Request) -> Response {
    let origin = fapi::cors_origin(&req);
    if let Some(origin) = &origin
        && req.method() == Method::OPTIONS
    {
        return fapi::preflight(&req, origin);
    }
    fapi::override_method(&mut req);
    let head = req.method() == Method::HEAD;
    let mut response = around(&state, routes, req).await;
    if let Some(origin) = &origin {
        fapi::cors_headers(response.headers_mut(), origin);
    }
    if head {
        // What a route answers is stripped by the router; what is answered here (a 413) is stripped here, its
        // length kept, as the router does.
        if let Some(length) = response.body().size_hint().exact().filter(|_| !response.headers().contains_key(header::CONTENT_LENGTH)) {
            response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        *response.body_mut() = Body::empty();
    }
    response
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

/// The four jobs done around every route: the request log, the body limit, fault injection, and the request's
/// origin for the webhook events it causes. Control API calls are neither logged nor subject to faults.
async fn around(state: &AppState, routes: Router, req: Request) -> Response {
    let control = is_control(req.uri().path());
    let at_ms = state.clock().wall_ms();
    let (parts, body) = req.into_parts();
    let read = read_body(&parts, body).await;
    let received = (!control).then(|| received(state, at_ms, &parts, read.as_ref().ok().map(|(bytes, _)| bytes)));
    let (delayed_ms, response) = match read {
        Err(too_large) => (0, too_large.into_response()),
        Ok((_, body)) => {
            let req = Request::from_parts(parts, body);
            let fault = if control { None } else { state.faults().take(req.method().as_str(), req.uri().path(), session_in_path(req.uri().path())) };
            match fault {
                Some(fault) => (fault.latency_ms.unwrap_or(0), faulted(&fault, req, routes).await),
                None => (0, route(routes, req).await),
            }
        }
    };
    if let Some(received) = received {
        let status = response.status().as_u16();
        tracing::info!(method = received.method(), path = received.path(), status, "request");
        state.log().push_received(received, status, delayed_ms);
    }
    response
}

/// A request as the log keeps it, credentials, passwords and tokens redacted.
fn received(state: &AppState, at_ms: i64, parts: &axum::http::request::Parts, body: Option<&Bytes>) -> Received {
    let body = body.filter(|b| !b.is_empty()).map(|b| fapi::form::redact_form_passwords(&redact_passwords(&String::from_utf8_lossy(b))));
    let query = parts.uri.query().map(fapi::form::redact_form_passwords);
    let secret_key = state.instance().secret_key();
    Received::new(at_ms, &parts.method, parts.uri.path(), query.as_deref(), &parts.headers, body.as_deref().unwrap_or_default(), secret_key)
}

/// The request's route, with its origin in scope for the webhook events it causes.
async fn route(routes: Router, req: Request) -> Response {
    let origin = RequestOrigin::of(&req);
    match origin.scope(routes.oneshot(req)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The body, buffered, and a body with the same bytes for the route; a 413 over [`BODY_LIMIT_BYTES`] (declared
/// or actual). A request without a body keeps its own.
async fn read_body(parts: &axum::http::request::Parts, body: Body) -> Result<(Bytes, Body), ApiError> {
    if body.is_end_stream() {
        return Ok((Bytes::new(), body));
    }
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT_BYTES) {
        return Err(ApiError::PayloadTooLarge(BODY_LIMIT_BYTES));
    }
    let bytes = axum::body::to_bytes(body, BODY_LIMIT_BYTES).await.map_err(|_| ApiError::PayloadTooLarge(BODY_LIMIT_BYTES))?;
    Ok((bytes.clone(), Body::from(bytes)))
}

/// A request with a fault pending: delayed, then answered with the fault's status, or by its route.
async fn faulted(fault: &Fault, req: Request, routes: Router) -> Response {
    if let Some(latency) = fault.latency() {
        tokio::time::sleep(latency).await;
    }
    match fault.status.and_then(|s| StatusCode::from_u16(s).ok()) {
        Some(status) => injected(status, fault),
        None => route(routes, req).await,
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
