//! `app(state) -> Router`, the layers every request passes (body limit, request log, faults), and serving.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use crate::error::ApiError;
use crate::reqlog::{LoggedRequest, redact_credential, redact_passwords};
use crate::state::AppState;
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
        .layer(middleware::from_fn_with_state(state.clone(), record_and_inject))
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

/// Buffers the body (413 over the limit), applies injected faults, and logs Backend/Frontend API requests.
async fn record_and_inject(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let is_control = path == control::PREFIX || path.starts_with(&format!("{}/", control::PREFIX));
    let declared_too_large = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n > BODY_LIMIT_BYTES);
    let bytes = if declared_too_large {
        None
    } else {
        axum::body::to_bytes(body, BODY_LIMIT_BYTES).await.ok()
    };
    let mut entry = (!is_control).then(|| LoggedRequest {
        seq: 0,
        at_ms: state.clock().wall_ms(),
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let shown = if name == header::AUTHORIZATION { redact_credential(&text, state.instance().secret_key()) } else { text };
                (name.as_str().to_owned(), shown)
            })
            .collect(),
        body: bytes
            .as_ref()
            .map(|b| fapi::form::redact_form_passwords(&redact_passwords(&String::from_utf8_lossy(b))))
            .unwrap_or_default(),
        status: 0,
    });

    let response = match bytes {
        None => ApiError::PayloadTooLarge(BODY_LIMIT_BYTES).into_response(),
        Some(bytes) => match (!is_control).then(|| state.faults().take(parts.method.as_str(), &path)).flatten() {
            Some(fault) => {
                if let Some(latency) = fault.latency() {
                    tokio::time::sleep(latency).await;
                }
                match fault.status.and_then(|s| axum::http::StatusCode::from_u16(s).ok()) {
                    Some(status) => {
                        let mut r = ApiError::InjectedFault(status).into_response();
                        if let Some(secs) = fault.retry_after {
                            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                        }
                        r
                    }
                    None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
                }
            }
            None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        },
    };
    if let Some(mut entry) = entry.take() {
        entry.status = response.status().as_u16();
        tracing::info!(method = %entry.method, path = %entry.path, status = entry.status, "request");
        state.log().push(entry);
    }
    response
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, with peer addresses available to the
/// control API's loopback check.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
