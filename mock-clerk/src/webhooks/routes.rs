//! The control API's webhook routes (`/__mock/webhooks…`) and the operations behind them, shared with the
//! [`crate::MockClerk`] handle.

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::events::{self, Change, SessionEvent};
use super::outbox::{Endpoint, Message, OutboxError};
use super::signing::{self, Secret};
use crate::error::{ApiError, ok_json};
use crate::extract::{Id, JsonBody, query_one, query_pairs};
use crate::state::AppState;

/// The routes (mounted behind the control API's access check).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__mock/webhooks", get(overview))
        .route("/__mock/webhooks/endpoints", get(list_endpoints).post(add_endpoint_route))
        .route("/__mock/webhooks/endpoints/{id}", axum::routing::delete(remove_endpoint))
        .route("/__mock/webhooks/messages", get(list_messages).delete(clear_messages))
        .route("/__mock/webhooks/messages/{id}", get(one_message))
        .route("/__mock/webhooks/messages/{id}/replay", post(replay))
        .route("/__mock/webhooks/send", post(send_route))
        .route("/__mock/webhooks/sign", post(sign_route))
}

impl From<OutboxError> for ApiError {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::EndpointNotFound(id) => ApiError::ResourceNotFound { kind: "endpoint", id },
            OutboxError::MessageNotFound(id) => ApiError::ResourceNotFound { kind: "message", id },
        }
    }
}

/// An `http` or `https` URL with a host, or Clerk's `form_param_format_invalid` for `url`.
pub fn check_url(url: &str) -> Result<String, ApiError> {
    let invalid = |why: &str| ApiError::FormParamInvalid { param: "url".into(), message: format!("{url:?} {why}") };
    let parsed = url::Url::parse(url).map_err(|e| invalid(&format!("is not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("is not an http(s) URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("has no host"));
    }
    Ok(parsed.to_string())
}

fn check_event_type(param: &str, name: &str) -> Result<(), ApiError> {
    if events::is_event_type(name) {
        Ok(())
    } else {
        Err(ApiError::FormParamInvalid { param: param.into(), message: format!("{name:?} is not a Clerk webhook event type") })
    }
}

fn parse_secret(text: &str) -> Result<Secret, ApiError> {
    Secret::parse(text).map_err(|e| ApiError::FormParamInvalid { param: "secret".into(), message: e.to_string() })
}

/// A new endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where events are POSTed (http or https).
    pub url: String,
    /// Only these event types (all when empty).
    #[serde(default)]
    pub events: Vec<String>,
    /// Its own `whsec_…` secret (the instance's when absent).
    #[serde(default)]
    pub secret: Option<String>,
}

/// Checks and adds an endpoint.
pub fn add_endpoint(state: &AppState, new: NewEndpoint) -> Result<Endpoint, ApiError> {
    let url = check_url(&new.url)?;
    for e in &new.events {
        check_event_type("events", e)?;
    }
    let secret = new.secret.as_deref().map(parse_secret).transpose()?;
    Ok(state.webhooks().add_endpoint(url, new.events, secret))
}

/// "Send this event now".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendEvent {
    /// The event type (`user.created`, …).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's `data`, as given.
    #[serde(default)]
    pub data: Option<Value>,
    /// Or: a user or session in the store, rendered as that event's `data` (a user's deleted-object for
    /// `user.deleted`; a session with its user for `session.*`).
    #[serde(default)]
    pub object_id: Option<String>,
    /// Only to this endpoint (every endpoint that wants the type when absent).
    #[serde(default)]
    pub endpoint_id: Option<String>,
}

/// Queues an event now, with the given `data` or one rendered from the store.
pub fn send_event(state: &AppState, req: SendEvent) -> Result<Message, ApiError> {
    check_event_type("type", &req.event_type)?;
    let data = match (req.data, req.object_id) {
        (Some(data), None) => data,
        (None, Some(id)) => data_for(state, &req.event_type, &id)?,
        (Some(_), Some(_)) => {
            return Err(ApiError::FormParamInvalid { param: "object_id".into(), message: "give data or object_id, not both".into() });
        }
        (None, None) => return Err(ApiError::FormParamMissing("data".into())),
    };
    Ok(state.webhooks().send(&req.event_type, &data, req.endpoint_id.as_deref())?)
}

/// Sends an event now with `data` as given, to every endpoint that wants it; the caller keeps `data`.
pub fn send_data(state: &AppState, event_type: &str, data: &Value) -> Result<Message, ApiError> {
    check_event_type("type", event_type)?;
    Ok(state.webhooks().send(event_type, data, None)?)
}

fn data_for(state: &AppState, event_type: &str, id: &str) -> Result<Value, ApiError> {
    let now = state.clock().now_ms();
    let store = state.store();
    let change = match event_type {
        "user.created" => Change::UserCreated(store.user(id)?.clone()),
        "user.updated" => Change::UserUpdated(store.user(id)?.clone()),
        "user.deleted" => {
            let user = store.user(id).ok();
            Change::UserDeleted { id: id.into(), external_id: user.and_then(|u| u.external_id.clone()) }
        }
        t if t.starts_with("session.") => {
            let event = match t {
                "session.created" => SessionEvent::Created,
                "session.ended" => SessionEvent::Ended,
                "session.removed" => SessionEvent::Removed,
                _ => SessionEvent::Revoked,
            };
            let session = store.session(id)?.clone();
            let user = store.user(&session.user_id).ok().cloned().map(Box::new);
            Change::Session { event, session, user, at: now }
        }
        other => {
            return Err(ApiError::FormParamInvalid {
                param: "object_id".into(),
                message: format!("mock-clerk renders user.* and session.* events from the store; give data for {other}"),
            });
        }
    };
    Ok(change.data())
}

/// What to sign (`POST /__mock/webhooks/sign`): for tests that post their own, possibly broken, deliveries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    /// The body: a string as is, anything else as compact JSON.
    pub payload: Value,
    /// The `svix-id` (a fresh `msg_…` when absent).
    #[serde(default)]
    pub msg_id: Option<String>,
    /// `svix-timestamp` in seconds (now, wall clock, when absent).
    #[serde(default)]
    pub timestamp: Option<i64>,
    /// Another `whsec_…` secret (the instance's when absent).
    #[serde(default)]
    pub secret: Option<String>,
}

/// A signed body and its headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedWebhook {
    /// The exact body.
    pub body: String,
    /// `svix-id`, `svix-timestamp`, `svix-signature`.
    pub headers: Map<String, Value>,
}

/// Signs a body as a delivery would be signed.
pub fn sign(state: &AppState, req: SignRequest) -> Result<SignedWebhook, ApiError> {
    let secret = match req.secret.as_deref() {
        Some(text) => parse_secret(text)?,
        None => state.webhooks().secret().clone(),
    };
    let body = match req.payload {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let msg_id = req.msg_id.unwrap_or_else(|| crate::ids::new_id("msg"));
    let timestamp = req.timestamp.unwrap_or_else(|| state.clock().wall_ms() / 1000);
    let headers = signing::headers(std::slice::from_ref(&secret), &msg_id, timestamp, body.as_bytes())
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect();
    Ok(SignedWebhook { body, headers })
}

async fn overview(State(state): State<AppState>) -> Response {
    let w = state.webhooks();
    let options = w.options();
    ok_json(&json!({
        "signing_secret": w.secret().as_str(),
        "instance_id": w.instance_id(),
        "retry_scale": options.retry_scale,
        "timeout_ms": options.timeout.as_millis() as u64,
        "endpoints": w.endpoints(),
        "idle": w.idle(),
        "evicted_messages": w.evicted(),
    }))
}

async fn list_endpoints(State(state): State<AppState>) -> Response {
    ok_json(&serde_json::to_value(state.webhooks().endpoints()).expect("serialises"))
}

async fn add_endpoint_route(State(state): State<AppState>, JsonBody(new): JsonBody<NewEndpoint>) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(add_endpoint(&state, new)?).expect("serialises")))
}

async fn remove_endpoint(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let removed = state.webhooks().remove_endpoint(&id)?;
    Ok(ok_json(&crate::bapi::views::deleted_json("endpoint", &removed.id)))
}

/// `?event_type=…&status=pending|sending|succeeded|failed` (a message matches when one delivery has the status).
async fn list_messages(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let event_type = query_one(&pairs, "event_type");
    let status = match query_one(&pairs, "status") {
        None => None,
        Some(s) => Some(
            serde_json::from_value::<super::outbox::DeliveryStatus>(Value::String(s.clone()))
                .map_err(|_| ApiError::FormParamInvalid { param: "status".into(), message: format!("{s:?} is not a delivery status") })?,
        ),
    };
    let messages: Vec<Message> = state
        .webhooks()
        .messages()
        .into_iter()
        .filter(|m| event_type.as_ref().is_none_or(|t| &m.event_type == t))
        .filter(|m| status.is_none_or(|s| m.deliveries.iter().any(|d| d.status == s)))
        .collect();
    Ok(ok_json(&serde_json::to_value(messages).expect("serialises")))
}

async fn clear_messages(State(state): State<AppState>) -> Response {
    state.webhooks().clear_messages();
    ok_json(&json!([]))
}

async fn one_message(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let message = state.webhooks().message(&id).ok_or(ApiError::ResourceNotFound { kind: "message", id })?;
    Ok(ok_json(&serde_json::to_value(message).expect("serialises")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayBody {
    #[serde(default)]
    endpoint_id: Option<String>,
}

async fn replay(State(state): State<AppState>, Id(id): Id, JsonBody(body): JsonBody<ReplayBody>) -> Result<Response, ApiError> {
    let message = state.webhooks().replay(&id, body.endpoint_id.as_deref())?;
    Ok(ok_json(&serde_json::to_value(message).expect("serialises")))
}

async fn send_route(State(state): State<AppState>, JsonBody(req): JsonBody<SendEvent>) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(send_event(&state, req)?).expect("serialises")))
}

async fn sign_route(State(state): State<AppState>, JsonBody(req): JsonBody<SignRequest>) -> Result<Response, ApiError> {
    Ok(ok_json(&serde_json::to_value(sign(&state, req)?).expect("serialises")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_with_a_host_are_endpoints() {
        assert_eq!(check_url("http://127.0.0.1:3000/api/webhooks/clerk").unwrap(), "http://127.0.0.1:3000/api/webhooks/clerk");
        assert!(check_url("https://example.com/hook").is_ok());
        for bad in ["ftp://example.com/x", "javascript:alert(1)", "file:///etc/passwd", "not a url", "http://", "/relative"] {
            let err = check_url(bad).unwrap_err();
            assert_eq!(err.code(), "form_param_format_invalid", "{bad}");
        }
    }
}
