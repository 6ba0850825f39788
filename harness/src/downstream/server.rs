//! The double's HTTP side: the app's API (`/schedules…`) and the control routes under `/__downstream`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use mock_clerk::faults::Faults;
use mock_clerk::reqlog::RequestLog;

use super::{RecordedRequest, ScriptRule};

/// The prefix of the control routes; requests under it are not recorded.
pub const CONTROL_PREFIX: &str = "/__downstream";
/// Bodies larger than this are answered 413.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;

/// Everything the double keeps: mock-clerk's request log and fault plan, scoped by the caller's session.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Arrival times are the wall clock at start plus a monotonic clock since: comparable with other logs, and
    /// gaps between retries that a clock adjustment cannot distort.
    started: Instant,
    started_wall_ms: i64,
    log: RequestLog,
    pub(crate) plan: Faults,
}

impl Default for Shared {
    fn default() -> Self {
        let started_wall_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default();
        Self { started: Instant::now(), started_wall_ms, log: RequestLog::default(), plan: Faults::default() }
    }
}

impl Shared {
    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.log.entries()
    }
    pub(crate) fn reset(&self) {
        self.log.clear();
        self.plan.clear();
    }
    fn record(&self, mut entry: RecordedRequest) -> u64 {
        entry.at_ms = self.started_wall_ms.saturating_add(i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX));
        self.log.push(entry)
    }
}

/// The router: control routes, and every other request answered (and recorded) by [`api`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__downstream/script", get(list_script).post(add_script).delete(clear_script))
        .route("/__downstream/requests", get(list_requests))
        .route("/__downstream/reset", post(reset))
        .fallback(api)
        .with_state(shared)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into(), "status": status.as_u16()}))).into_response()
}

async fn api(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    if path == CONTROL_PREFIX || path.starts_with(&format!("{CONTROL_PREFIX}/")) {
        return error(StatusCode::NOT_FOUND, format!("no control route {} {path}", parts.method));
    }
    let bytes = axum::body::to_bytes(body, BODY_LIMIT_BYTES).await.ok();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.iter().map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect(),
        body: bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
        ..RecordedRequest::default()
    };
    let session = recorded.session();
    let seq = shared.record(recorded);
    let rule = shared.plan.take(parts.method.as_str(), &path, session.as_deref());
    let delayed_ms = rule.as_ref().and_then(|r| r.latency_ms).unwrap_or(0);
    if delayed_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delayed_ms)).await;
    }
    let response = match (bytes, rule) {
        (None, _) => error(StatusCode::PAYLOAD_TOO_LARGE, format!("body over {BODY_LIMIT_BYTES} bytes")),
        (Some(_), Some(rule)) if rule.status.is_some() => scripted_failure(&rule),
        (Some(bytes), _) => answer(&parts.method, &path, &bytes, seq),
    };
    // A reset while the answer was delayed may have removed the entry: then there is nothing to update.
    shared.log.answered(seq, response.status().as_u16(), delayed_ms);
    response
}

fn scripted_failure(rule: &ScriptRule) -> Response {
    let status = rule.status.and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = rule.body.clone().unwrap_or_else(|| json!({"error": "scripted", "status": status.as_u16()}));
    let mut response = (status, Json(body)).into_response();
    if let Some(secs) = rule.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// The normal answers: any path, like a JSON API, with request `seq`'s data marker in every answer.
fn answer(method: &Method, path: &str, body: &[u8], seq: u64) -> Response {
    let marker = super::data_marker(seq);
    let id = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
    let with = |mut object: serde_json::Map<String, Value>, id: Value| {
        object.insert("id".into(), id);
        object.insert("marker".into(), marker.clone().into());
        Value::Object(object)
    };
    match method.as_str() {
        "GET" | "HEAD" => Json(json!([{"id": "1", "title": marker}])).into_response(),
        "POST" => match json_object(body) {
            Ok(object) => (StatusCode::CREATED, Json(with(object, seq.to_string().into()))).into_response(),
            Err(why) => error(StatusCode::BAD_REQUEST, why),
        },
        "PUT" | "PATCH" => match json_object(body) {
            Ok(object) => Json(with(object, id.into())).into_response(),
            Err(why) => error(StatusCode::BAD_REQUEST, why),
        },
        "DELETE" => Json(json!({"id": id, "deleted": true, "marker": marker})).into_response(),
        _ => error(StatusCode::METHOD_NOT_ALLOWED, format!("{method} {path}")),
    }
}

fn json_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// `POST /__downstream/script` takes one rule or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(ScriptRule),
    Many(Vec<ScriptRule>),
}

async fn add_script(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let rules = match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(OneOrMany::One(rule)) => vec![rule],
        Ok(OneOrMany::Many(rules)) => rules,
        Err(e) => {
            return error(StatusCode::UNPROCESSABLE_ENTITY, format!("not a script rule (or list of them): {e}"));
        }
    };
    if let Some(Err(e)) = rules.iter().map(super::validate).find(Result::is_err) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
    }
    for rule in rules {
        // Validated above, so adding cannot fail.
        let _ = shared.plan.add(rule);
    }
    Json(shared.plan.pending()).into_response()
}

async fn list_script(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.plan.pending()).into_response()
}

async fn clear_script(State(shared): State<Arc<Shared>>) -> Response {
    shared.plan.clear();
    Json(shared.plan.pending()).into_response()
}

async fn list_requests(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.requests()).into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset();
    Json(json!({"reset": true})).into_response()
}
