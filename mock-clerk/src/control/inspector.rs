//! The inspector: `GET /__mock/ui`, a page served from the binary (inline CSS and script, nothing fetched from
//! elsewhere) showing users, sessions (status, claims of the last token minted), organizations, the request log
//! with its tokens decoded, webhook deliveries, faults and the clock — refreshed by polling
//! `GET /__mock/ui/state` — with buttons calling the control API's own routes: sign in as a user
//! (`POST /__mock/sign-in`), end or revoke a session (`POST /__mock/sessions/{id}/end`), advance the clock
//! (`POST /__mock/clock/advance`), add a fault (`POST /__mock/faults`).
//!
//! Same access rule as the rest of the control API. With a control token, `GET /__mock/ui?token=…` (the token
//! once, in the address) answers the page and a cookie holding the token for `/__mock` paths only (which are
//! never logged), so the page's own calls carry it.
//!
//! Nothing in the state holds a complete token or the secret key: every JWT's signature is redacted and the
//! secret key replaced before the JSON leaves.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::state::AppState;
use crate::store::SessionQuery;
use crate::tokens::{decode_unverified, jwt_ranges, redact_jwts};
use crate::user_query::UserQuery;

/// The page.
const PAGE: &str = include_str!("inspector.html");
/// The cookie carrying the control token for the inspector's own calls (token mode only).
pub const COOKIE: &str = "__mock_control";
/// At most this many rows of each list.
const MAX_ROWS: usize = 200;
/// The newest this many requests of the log.
const MAX_REQUESTS: usize = 100;
/// What the secret key is replaced with.
const REDACTED_SECRET: &str = "[redacted secret key]";

/// The inspector's routes (mounted behind the control API's access check).
pub fn routes() -> Router<AppState> {
    Router::new().route("/__mock/ui", get(page)).route("/__mock/ui/state", get(state_view))
}

async fn page(State(state): State<AppState>) -> Response {
    let mut response = Html(PAGE).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The page runs its own inline script and style only, and talks to its own origin.
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:"),
    );
    if let crate::state::ControlAccess::Token(token) = &state.settings().control
        && let Ok(cookie) = HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/__mock; HttpOnly; SameSite=Strict"))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether a request in token mode presents `token` the inspector's ways: the cookie it set, or (for the page
/// itself) `?token=`.
pub fn presents_token(req: &axum::extract::Request, token: &str) -> bool {
    let cookie = crate::fapi::context::request_cookies(req.headers()).iter().any(|(name, value)| name == COOKIE && value == token);
    let in_query = req.uri().path() == "/__mock/ui"
        && req.uri().query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "token" && v == token));
    cookie || in_query
}

/// Decoded header and claims of every JWT in `texts`.
fn decoded_tokens<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Value> {
    let mut found = Vec::new();
    for text in texts {
        for (start, end) in jwt_ranges(text) {
            if let Ok(jwt) = decode_unverified(&text[start..end]) {
                found.push(json!({"header": jwt.header, "claims": jwt.claims}));
            }
        }
    }
    found
}

async fn state_view(State(state): State<AppState>) -> Response {
    let now = state.clock().now_ms();
    let (users, sessions, organizations) = {
        let store = state.store();
        let users: Vec<Value> = store
            .users(&UserQuery::default(), 0, MAX_ROWS)
            .into_iter()
            .map(|u| {
                let name = [u.first_name.as_deref(), u.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
                json!({
                    "id": u.id.to_string(),
                    "name": name,
                    "email": u.email_addresses.first().map(|(_, e)| e.clone()),
                    "created_at": u.created_at,
                    "last_sign_in_at": u.last_sign_in_at,
                })
            })
            .collect();
        let mut all = store.sessions(&SessionQuery::default(), now);
        all.sort_by_key(|s| std::cmp::Reverse(s.last_active_at));
        let sessions: Vec<Value> = all
            .into_iter()
            .take(MAX_ROWS)
            .map(|s| {
                json!({
                    "id": s.id.to_string(),
                    "user_id": s.user_id.to_string(),
                    "client_id": s.client_id.to_string(),
                    "status": s.status_at(now).as_str(),
                    "last_active_at": s.last_active_at,
                    "expire_at": s.expire_at,
                })
            })
            .collect();
        let organizations: Vec<Value> =
            store.organizations(None, &[], 0, MAX_ROWS).0.into_iter().map(|o| json!({"id": o.id, "name": o.name, "slug": o.slug})).collect();
        (users, sessions, organizations)
    };
    let sessions: Vec<Value> = sessions
        .into_iter()
        .map(|mut s| {
            let id = s["id"].as_str().unwrap_or_default().to_owned();
            s["last_token_claims"] = state.last_claims_of(&id).map(Value::Object).unwrap_or(Value::Null);
            s
        })
        .collect();
    let log = state.log().entries();
    let requests: Vec<Value> = log
        .iter()
        .rev()
        .take(MAX_REQUESTS)
        .map(|r| {
            let texts = r.query.iter().map(String::as_str).chain(r.headers.iter().map(|(_, v)| v.as_str())).chain([r.body.as_str()]);
            json!({
                "seq": r.seq,
                "at_ms": r.at_ms,
                "method": r.method,
                "path": r.path,
                "query": r.query,
                "status": r.status,
                "delayed_ms": r.delayed_ms,
                "origin": r.header("origin"),
                "tokens": decoded_tokens(texts),
            })
        })
        .collect();
    let messages = state.webhooks().messages();
    let webhooks: Vec<Value> = messages
        .iter()
        .rev()
        .take(MAX_ROWS)
        .map(|m| {
            let deliveries: Vec<Value> = m
                .deliveries
                .iter()
                .map(|d| {
                    let last = d.attempts.last();
                    json!({
                        "url": d.url,
                        "status": d.status,
                        "attempts": d.attempts.len(),
                        "last_status_code": last.and_then(|a| a.status_code),
                        "last_error": last.and_then(|a| a.error.clone()),
                    })
                })
                .collect();
            json!({"id": m.id, "event_type": m.event_type, "created_at": m.created_at, "deliveries": deliveries})
        })
        .collect();
    let view = json!({
        "instance": {"kind": state.instance().kind(), "issuer": state.instance().issuer(), "api_url": state.settings().base_url},
        "clock": {"now_ms": now, "offset_ms": state.clock().offset().as_millis() as u64},
        "users": users,
        "sessions": sessions,
        "organizations": organizations,
        "requests": requests,
        "request_count": log.len(),
        "webhooks": webhooks,
        "faults": state.faults().pending(),
    });
    // Whatever a request carried: no complete token and no secret key leave.
    let text = redact_jwts(&view.to_string()).replace(state.instance().secret_key(), REDACTED_SECRET);
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    crate::error::ok_json(&value)
}
