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
use crate::reqlog::Captured;
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
    Router::new()
        .merge(bapi::routes(state.clone()))
        .merge(fapi::routes())
        .merge(control::routes(state.clone()))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), record_and_inject))
        .with_state(state)
}

async fn route_not_found(req: Request) -> ApiError {
    ApiError::RouteNotFound(req.uri().path().to_owned())
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
    let path = parts.uri.path();
    let is_control = path.strip_prefix(control::PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
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
    let entry = (!is_control)
        .then(|| Captured::new(state.clock().wall_ms(), &parts, bytes.as_deref().unwrap_or_default(), state.instance().secret_key()));

    let response = match bytes {
        None => ApiError::PayloadTooLarge(BODY_LIMIT_BYTES).into_response(),
        Some(bytes) => match (!is_control).then(|| state.faults().take(parts.method.as_str(), parts.uri.path())).flatten() {
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
    if let Some(entry) = entry {
        let entry = entry.answered(response.status().as_u16());
        tracing::info!(method = %entry.method(), path = %entry.path(), status = entry.status(), "request");
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
