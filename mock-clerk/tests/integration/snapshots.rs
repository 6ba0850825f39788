//! Snapshots of every JSON shape mock-clerk answers with: Backend API resources, JWKS, each error kind and the
//! control API. The app is driven in-process (`tower::ServiceExt::oneshot`); every response is checked for an
//! exact `Content-Type: application/json` (the SDK compares with `===`) and its status.
//!
//! Volatile values are redacted by insta, but only after a check of their form: ids must be
//! `<prefix>_<27 base62>`, timestamps milliseconds, JWT claims seconds, JWTs three base64url parts, `n` a
//! 2048-bit modulus, kids `ins_…`.

use crate::common::openapi;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use insta::internals::{Content, ContentPath};
use insta::{Settings, assert_json_snapshot, dynamic_redaction};
use mock_clerk::MockClerk;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Fixed, so the publishable key, issuer and frontend host are the same in every run.
const ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 4010);
/// The peer the control API sees (loopback).
const PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 5555);

const DAY_MS: i64 = 24 * 3600 * 1000;

struct Mock {
    app: Router,
    secret_key: String,
}

/// One answer: status, headers and the parsed JSON body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    json: Value,
}

impl Mock {
    fn new() -> Self {
        let state = MockClerk::builder().state_for(SocketAddr::from(ADDR)).expect("state");
        let secret_key = state.instance().secret_key().to_owned();
        let app = mock_clerk::server::app(state).layer(MockConnectInfo(SocketAddr::from(PEER)));
        Self { app, secret_key }
    }

    /// Sends a request, checks `Content-Type` is exactly `application/json` (once), and parses the body.
    async fn send(&self, req: Request<Body>) -> Answer {
        let what = format!("{} {}", req.method(), req.uri());
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let types: Vec<_> = res.headers().get_all(header::CONTENT_TYPE).iter().cloned().collect();
        assert_eq!(types, ["application/json"], "{what}: Content-Type must be exactly application/json");
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {:?}", String::from_utf8_lossy(&bytes)));
        Answer { status, headers, json }
    }

    /// A request with optional bearer and JSON body, `(status, json)`.
    async fn call(&self, method: Method, uri: &str, bearer: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let a = self.call_full(method, uri, bearer, body).await;
        (a.status, a.json)
    }

    async fn call_full(&self, method: Method, uri: &str, bearer: Option<&str>, body: Option<Value>) -> Answer {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(b) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// A Backend API call with the instance's secret key. Where Clerk's OpenAPI spec describes the operation and
    /// status, the answer must match its schema ([`openapi`]).
    async fn bapi(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let sk = self.secret_key.clone();
        let (status, json) = self.call(method.clone(), uri, Some(&sk), body).await;
        if openapi::describes(method.as_str(), uri, status.as_u16()) {
            openapi::assert_conforms(method.as_str(), uri, status.as_u16(), &json);
        }
        (status, json)
    }

    /// A control API call (from the loopback peer).
    async fn control(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(method, uri, None, body).await
    }

    async fn new_user(&self, email: &str) -> Value {
        let (status, user) = self.bapi(Method::POST, "/v1/users", Some(json!({"email_address": [email]}))).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        user
    }

    async fn new_session(&self, user_id: &str) -> Value {
        let (status, session) = self.bapi(Method::POST, "/v1/sessions", Some(json!({"user_id": user_id}))).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        session
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Redactions
// ---------------------------------------------------------------------------------------------------------------

/// `prefix_<27 base62>` → `prefix_[id]`; anything else is left as it is (fixed test inputs stay visible).
fn scrub_id(s: &str) -> Option<String> {
    let (prefix, rest) = s.rsplit_once('_')?;
    let is_prefix = !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_lowercase());
    (is_prefix && rest.len() == 27 && rest.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| format!("{prefix}_[id]"))
}

/// A compact JWS: three base64url parts (the signature may be empty, as for `alg: none`).
fn is_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// A cookie or word value: JWT → `[jwt]`, id → `prefix_[id]`, Unix seconds → `[unix_s]`.
fn scrub_word(word: &str) -> String {
    if is_jwt(word) {
        return "[jwt]".into();
    }
    if let Some(id) = scrub_id(word) {
        return id;
    }
    if word.len() == 10 && word.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = word.parse().unwrap();
        assert!((1_600_000_000..4_000_000_000).contains(&secs), "{secs} is not Unix seconds of this era");
        return "[unix_s]".into();
    }
    word.into()
}

/// Free text (messages, cookie headers): every id, JWT or Unix-seconds word inside is scrubbed.
fn scrub_text(text: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.';
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let trimmed = word.trim_end_matches('.');
        let dots = &word[trimmed.len()..];
        out.push_str(&scrub_word(trimmed));
        out.push_str(dots);
        word.clear();
    };
    for c in text.chars() {
        if is_word(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn id_redaction(value: Content, path: ContentPath<'_>) -> Content {
    match value.as_str() {
        Some(s) => scrub_id(s).map(Content::from).unwrap_or(value),
        None => {
            assert!(value.is_nil(), "{path}: an id is a string or null");
            value
        }
    }
}

fn ms_redaction(value: Content, path: ContentPath<'_>) -> Content {
    if value.is_nil() {
        return value;
    }
    let ms = value.as_i64().unwrap_or_else(|| panic!("{path}: a timestamp is an integer"));
    // Milliseconds of this era (2020..2100); seconds would be 1000 times smaller. The virtual clock may be
    // moved forward by tests, hence the wide upper bound.
    assert!((1_577_836_800_000..4_102_444_800_000).contains(&ms), "{path}: {ms} is not a millisecond timestamp");
    Content::from("[ms]")
}

fn secs_redaction(value: Content, path: ContentPath<'_>) -> Content {
    let s = value.as_i64().unwrap_or_else(|| panic!("{path}: a claim time is an integer"));
    assert!((1_577_836_800..4_102_444_800).contains(&s), "{path}: {s} is not seconds");
    Content::from("[unix_s]")
}

fn jwt_redaction(value: Content, path: ContentPath<'_>) -> Content {
    let s = value.as_str().unwrap_or_else(|| panic!("{path}: a JWT is a string"));
    assert!(is_jwt(s), "{path}: {s:?} is not a compact JWS");
    Content::from("[jwt]")
}

fn kid_redaction(value: Content, path: ContentPath<'_>) -> Content {
    let s = value.as_str().unwrap_or_else(|| panic!("{path}: a kid is a string"));
    assert!(s.starts_with("ins_") && s.len() == 31, "{path}: {s:?} is not a Clerk-style kid");
    Content::from("ins_[kid]")
}

fn modulus_redaction(value: Content, path: ContentPath<'_>) -> Content {
    let s = value.as_str().unwrap_or_else(|| panic!("{path}: n is a string"));
    // 2048 bits = 256 bytes = 342 base64url characters without padding.
    assert_eq!(s.len(), 342, "{path}: n is not a 2048-bit modulus");
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{path}: n is not base64url");
    Content::from("[n]")
}

fn text_redaction(value: Content, path: ContentPath<'_>) -> Content {
    let s = value.as_str().unwrap_or_else(|| panic!("{path}: expected a string"));
    Content::from(scrub_text(s))
}

fn cookie_value_redaction(value: Content, path: ContentPath<'_>) -> Content {
    let s = value.as_str().unwrap_or_else(|| panic!("{path}: a cookie value is a string"));
    Content::from(scrub_word(s))
}

/// The redactions every snapshot in this file is taken with.
fn redactions() -> Settings {
    let mut s = Settings::clone_current();
    s.set_sort_maps(true);
    for sel in [".**.id", ".**.user_id", ".**.session_id", ".**.client_id", ".**.primary_email_address_id", ".**.sub", ".**.sid", ".clerk_trace_id"] {
        s.add_redaction(sel, dynamic_redaction(id_redaction));
    }
    for sel in [
        ".**.created_at",
        ".**.updated_at",
        ".**.last_active_at",
        ".**.last_sign_in_at",
        ".**.expire_at",
        ".**.abandon_at",
        ".**.at_ms",
        ".**.now_ms",
    ] {
        s.add_redaction(sel, dynamic_redaction(ms_redaction));
    }
    for sel in [".claims.iat", ".claims.exp", ".claims.nbf"] {
        s.add_redaction(sel, dynamic_redaction(secs_redaction));
    }
    for sel in [".jwt", ".token"] {
        s.add_redaction(sel, dynamic_redaction(jwt_redaction));
    }
    for sel in [".keys[].kid", ".active_kid", ".kids[]", ".header.kid"] {
        s.add_redaction(sel, dynamic_redaction(kid_redaction));
    }
    s.add_redaction(".keys[].n", dynamic_redaction(modulus_redaction));
    for sel in [".errors[].long_message", ".cookie_header", ".set_cookie[]"] {
        s.add_redaction(sel, dynamic_redaction(text_redaction));
    }
    for sel in [".cookies[].value", ".refresh_cookie.value"] {
        s.add_redaction(sel, dynamic_redaction(cookie_value_redaction));
    }
    s
}

/// Checks the Clerk error envelope's structure (the snapshot pins the values).
fn assert_envelope(body: &Value) {
    let errors = body["errors"].as_array().unwrap_or_else(|| panic!("no errors array: {body}"));
    assert_eq!(errors.len(), 1, "{body}");
    let e = &errors[0];
    for field in ["code", "message", "long_message"] {
        assert!(e[field].as_str().is_some_and(|s| !s.is_empty()), "{field} missing: {body}");
    }
    assert!(e["meta"].is_object(), "meta is not an object: {body}");
    assert!(body["clerk_trace_id"].as_str().is_some_and(|s| s.starts_with("trace_")), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "only errors and clerk_trace_id: {body}");
}

// ---------------------------------------------------------------------------------------------------------------
// Backend API resources
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn bapi_users() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();

    let (status, user) = m
        .bapi(
            Method::POST,
            "/v1/users",
            Some(json!({
                "email_address": ["ada@example.com"],
                "first_name": "Ada",
                "last_name": "Lovelace",
                "username": "ada_l",
                "password": "correct horse battery",
                "external_id": "ext-42",
                "public_metadata": {"role": "admin"},
                "private_metadata": {"plan": "pro"},
                "unsafe_metadata": {"theme": "dark"},
                "skip_password_checks": true,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["created_at"], user["updated_at"]);
    assert_eq!(user["primary_email_address_id"], user["email_addresses"][0]["id"]);
    assert_json_snapshot!("users_create", user);
    let id = user["id"].as_str().unwrap().to_owned();

    let (status, got) = m.bapi(Method::GET, &format!("/v1/users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, user, "GET returns what POST returned");
    assert_json_snapshot!("users_get", got);

    // A second later, so the newest-first order of the list does not depend on the random ids.
    let (status, _) = m.control(Method::POST, "/__mock/clock/advance", Some(json!({"seconds": 1}))).await;
    assert_eq!(status, StatusCode::OK);
    m.new_user("grace@example.com").await;
    let (status, list) = m.bapi(Method::GET, "/v1/users?limit=10&offset=0", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_json_snapshot!("users_list", list);

    let (status, filtered) = m.bapi(Method::GET, "/v1/users?email_address=ada%40example.com", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(filtered, json!([user]));

    let (status, count) = m.bapi(Method::GET, "/v1/users/count", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("users_count", count);

    let (status, deleted) = m.bapi(Method::DELETE, &format!("/v1/users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["id"], id);
    assert_json_snapshot!("users_delete", deleted);

    let (status, count) = m.bapi(Method::GET, "/v1/users/count", None).await;
    assert_eq!((status, count["total_count"].clone()), (StatusCode::OK, json!(1)));
}

#[tokio::test]
async fn bapi_sessions_and_tokens() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();
    let user = m.new_user("ada@example.com").await;
    let user_id = user["id"].as_str().unwrap();

    let session = m.new_session(user_id).await;
    assert_eq!(session["user_id"], user["id"]);
    assert_eq!(session["status"], "active");
    let created = session["created_at"].as_i64().unwrap();
    assert_eq!(session["expire_at"].as_i64().unwrap() - created, 7 * DAY_MS);
    assert_eq!(session["abandon_at"].as_i64().unwrap() - created, 30 * DAY_MS);
    assert_json_snapshot!("sessions_create", session);
    let sid = session["id"].as_str().unwrap().to_owned();

    let (status, got) = m.bapi(Method::GET, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("sessions_get", got);

    m.new_session(user_id).await;
    let (status, list) = m.bapi(Method::GET, &format!("/v1/sessions?user_id={user_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    assert_json_snapshot!("sessions_list_array", list);

    let (status, page) = m.bapi(Method::GET, &format!("/v1/sessions?user_id={user_id}&paginated=true&limit=1"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total_count"], 2);
    assert_json_snapshot!("sessions_list_paginated", page);

    let (status, token) = m.bapi(Method::POST, &format!("/v1/sessions/{sid}/tokens"), None).await;
    assert_eq!(status, StatusCode::OK);
    let claims = mock_clerk::tokens::decode_unverified(token["jwt"].as_str().unwrap()).unwrap().claims;
    assert_eq!((claims["sub"].as_str(), claims["sid"].as_str()), (Some(user_id), Some(sid.as_str())));
    assert_json_snapshot!("sessions_token", token);

    let (status, _) = m.bapi(Method::POST, "/v1/jwt_templates", Some(json!({"name": "supabase", "claims": {"role": "authenticated"}}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, token) = m.bapi(Method::POST, &format!("/v1/sessions/{sid}/tokens/supabase"), Some(json!({"expires_in_seconds": 600}))).await;
    assert_eq!(status, StatusCode::OK);
    let claims = mock_clerk::tokens::decode_unverified(token["jwt"].as_str().unwrap()).unwrap().claims;
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
    assert_json_snapshot!("sessions_template_token", token);

    let (status, revoked) = m.bapi(Method::POST, &format!("/v1/sessions/{sid}/revoke"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["status"], "revoked");
    assert_json_snapshot!("sessions_revoke", revoked);
}

#[tokio::test]
async fn jwks_bapi_and_fapi() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();
    let (status, bapi) = m.bapi(Method::GET, "/v1/jwks", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("jwks_bapi", bapi);
    // The Frontend API JWKS is public: no secret key.
    let (status, fapi) = m.call(Method::GET, "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fapi, bapi, "both JWKS routes publish the same keys");
    assert_json_snapshot!("jwks_fapi", fapi);
}

// ---------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn error_envelopes() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();
    let user = m.new_user("ada@example.com").await;
    let session = m.new_session(user["id"].as_str().unwrap()).await;
    let sid = session["id"].as_str().unwrap().to_owned();

    let check = |name: &str, expected: StatusCode, (status, body): (StatusCode, Value)| {
        assert_eq!(status, expected, "{name}: {body}");
        assert_envelope(&body);
        assert_json_snapshot!(format!("error_{name}"), body);
    };

    check("401_missing_key", StatusCode::UNAUTHORIZED, m.call(Method::GET, "/v1/users", None, None).await);
    check("401_wrong_key", StatusCode::UNAUTHORIZED, m.call(Method::GET, "/v1/users", Some("sk_test_wrong"), None).await);
    check("404_unknown_route", StatusCode::NOT_FOUND, m.bapi(Method::GET, "/v1/nope", None).await);
    check("404_unknown_user", StatusCode::NOT_FOUND, m.bapi(Method::GET, "/v1/users/user_doesnotexist", None).await);
    check("404_unknown_session", StatusCode::NOT_FOUND, m.bapi(Method::GET, "/v1/sessions/sess_doesnotexist", None).await);
    check("405_method_not_allowed", StatusCode::METHOD_NOT_ALLOWED, m.bapi(Method::PUT, "/v1/users", None).await);
    // Without the secret key a wrong method is a 401 like any other Backend API call: no hint the route exists.
    check("401_wrong_method_missing_key", StatusCode::UNAUTHORIZED, m.call(Method::PATCH, "/v1/users", None, None).await);
    check("401_wrong_method_wrong_key", StatusCode::UNAUTHORIZED, m.call(Method::PATCH, "/v1/users", Some("sk_test_wrong"), None).await);
    // The Frontend API and the control API need no secret key: a wrong method there stays a 405.
    for (method, path) in [(Method::POST, "/.well-known/jwks.json"), (Method::POST, "/v1/client/handshake"), (Method::PUT, "/__mock/instance")] {
        let (status, body) = m.call(method.clone(), path, None, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
        assert_eq!(body["errors"][0]["code"], "request_method_not_allowed", "{method} {path}");
    }

    let malformed = Request::post("/v1/sessions")
        .header(header::AUTHORIZATION, format!("Bearer {}", m.secret_key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"user_id\": "))
        .unwrap();
    let a = m.send(malformed).await;
    check("400_malformed_json", StatusCode::BAD_REQUEST, (a.status, a.json));

    check("422_missing_field", StatusCode::UNPROCESSABLE_ENTITY, m.bapi(Method::POST, "/v1/sessions", Some(json!({}))).await);
    check(
        "422_unknown_field",
        StatusCode::UNPROCESSABLE_ENTITY,
        m.bapi(Method::POST, "/v1/users", Some(json!({"emailAddress": ["x@example.com"]}))).await,
    );
    check("422_wrong_type", StatusCode::UNPROCESSABLE_ENTITY, m.bapi(Method::POST, "/v1/sessions", Some(json!({"user_id": 1}))).await);
    check(
        "422_wrong_type_in_list",
        StatusCode::UNPROCESSABLE_ENTITY,
        m.bapi(Method::POST, "/v1/users", Some(json!({"email_address": ["x@example.com", 7]}))).await,
    );
    check(
        "422_duplicate_email",
        StatusCode::UNPROCESSABLE_ENTITY,
        m.bapi(Method::POST, "/v1/users", Some(json!({"email_address": ["ADA@example.com"]}))).await,
    );

    let (status, _) = m.bapi(Method::POST, &format!("/v1/sessions/{sid}/revoke"), None).await;
    assert_eq!(status, StatusCode::OK);
    check("400_token_for_revoked_session", StatusCode::BAD_REQUEST, m.bapi(Method::POST, &format!("/v1/sessions/{sid}/tokens"), None).await);

    let huge = Request::post("/v1/users")
        .header(header::AUTHORIZATION, format!("Bearer {}", m.secret_key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; mock_clerk::server::BODY_LIMIT_BYTES + 1]))
        .unwrap();
    let a = m.send(huge).await;
    check("413_body_too_large", StatusCode::PAYLOAD_TOO_LARGE, (a.status, a.json));
}

// ---------------------------------------------------------------------------------------------------------------
// Control API
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn control_api() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();

    let (status, instance) = m.control(Method::GET, "/__mock/instance", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("control_instance", instance);

    let (status, signed_in) = m.control(Method::POST, "/__mock/sign-in", Some(json!({"email": "ada@example.com", "first_name": "Ada"}))).await;
    assert_eq!(status, StatusCode::OK);
    let claims = mock_clerk::tokens::decode_unverified(signed_in["token"].as_str().unwrap()).unwrap().claims;
    assert_eq!(claims["sid"], signed_in["session_id"]);
    assert_eq!(signed_in["cookies"][1]["value"], claims["iat"].to_string(), "__client_uat is the token's iat");
    assert_json_snapshot!("control_sign_in", signed_in);
    let uid = signed_in["user_id"].as_str().unwrap().to_owned();
    let (status, _) = m.bapi(Method::GET, &format!("/v1/users/{uid}"), None).await;
    assert_eq!(status, StatusCode::OK, "the signed-in user exists in the Backend API");

    let (status, minted) = m
        .control(
            Method::POST,
            "/__mock/tokens",
            Some(json!({"sub": "user_snapshot", "sid": "sess_snapshot", "azp": "http://localhost:3000", "claims": {"role": "admin"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let c = &minted["claims"];
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);
    assert_eq!(c["iat"].as_i64().unwrap() - c["nbf"].as_i64().unwrap(), 10);
    assert_json_snapshot!("control_tokens", minted);

    let (status, expired) =
        m.control(Method::POST, "/__mock/tokens", Some(json!({"sub": "user_snapshot", "sid": "sess_snapshot", "broken": "expired"}))).await;
    assert_eq!(status, StatusCode::OK);
    let c = &expired["claims"];
    let now_secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!(c["exp"].as_i64().unwrap() <= now_secs - 120, "an expired token expired two minutes ago (beyond the 5 s skew)");
    assert_json_snapshot!("control_tokens_broken_expired", expired);

    let (status, alg_none) =
        m.control(Method::POST, "/__mock/tokens", Some(json!({"sub": "user_snapshot", "sid": "sess_snapshot", "broken": "alg-none"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(alg_none["jwt"].as_str().unwrap().ends_with('.'));
    assert_json_snapshot!("control_tokens_broken_alg_none", alg_none);

    let (status, clock) = m.control(Method::POST, "/__mock/clock/advance", Some(json!({"seconds": 3600}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clock["offset_ms"], 3_600_000);
    assert_json_snapshot!("control_clock_advance", clock);
    let (status, clock) = m.control(Method::GET, "/__mock/clock", None).await;
    assert_eq!((status, clock["offset_ms"].clone()), (StatusCode::OK, json!(3_600_000)));

    let (status, keys) = m.control(Method::GET, "/__mock/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("control_keys", keys);
    let (status, rotated) = m.control(Method::POST, "/__mock/keys/rotate", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(rotated["active_kid"], keys["active_kid"]);
    assert_eq!(rotated["kids"], json!([rotated["active_kid"], keys["active_kid"]]), "active first, the old key kept");
    assert_json_snapshot!("control_keys_rotate", rotated);
    let (status, retired) = m.control(Method::POST, "/__mock/keys/retire", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(retired["kids"], json!([rotated["active_kid"]]));

    let (status, faults) =
        m.control(Method::POST, "/__mock/faults", Some(json!({"method": "GET", "path": "/v1/jwks", "status": 503, "retry_after": 2}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("control_faults_add", faults);
    let injected = m.call_full(Method::GET, "/v1/jwks", Some(&m.secret_key.clone()), None).await;
    assert_eq!(injected.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(injected.headers[header::RETRY_AFTER], "2");
    assert_envelope(&injected.json);
    assert_json_snapshot!("control_faults_injected_response", injected.json);
    let (status, outage) = m.control(Method::POST, "/__mock/faults/jwks-outage", Some(json!({"times": 2}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("control_faults_jwks_outage", outage);
    let (status, cleared) = m.control(Method::DELETE, "/__mock/faults", None).await;
    assert_eq!((status, cleared), (StatusCode::OK, json!([])));

    let (status, _) = m.control(Method::DELETE, "/__mock/requests", None).await;
    assert_eq!(status, StatusCode::OK);
    let logged = Request::get("/v1/users/count?limit=5")
        .header(header::AUTHORIZATION, format!("Bearer {}", m.secret_key))
        .header(header::USER_AGENT, "@clerk/backend@3.25.0")
        .header("clerk-api-version", "2026-05-12")
        .body(Body::empty())
        .unwrap();
    assert_eq!(m.send(logged).await.status, StatusCode::OK);
    let (status, log) = m.control(Method::GET, "/__mock/requests", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log.as_array().map(Vec::len), Some(1), "control calls are not logged");
    assert!(!log.to_string().contains(&m.secret_key), "the secret key never enters the log");
    assert_json_snapshot!("control_requests", log);

    let (status, ended) = m.control(Method::POST, &format!("/__mock/sessions/{}/end", signed_in["session_id"].as_str().unwrap()), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ended["status"], "ended");
    assert_json_snapshot!("control_session_end", ended);

    let (status, reset) = m.control(Method::POST, "/__mock/reset", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_json_snapshot!("control_reset", reset);
    let (status, count) = m.bapi(Method::GET, "/v1/users/count", None).await;
    assert_eq!((status, count["total_count"].clone()), (StatusCode::OK, json!(0)), "reset forgets users");
    let (status, clock) = m.control(Method::GET, "/__mock/clock", None).await;
    assert_eq!((status, clock["offset_ms"].clone()), (StatusCode::OK, json!(0)), "reset puts the clock back");
}

#[tokio::test]
async fn control_api_errors() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();
    let (status, body) = m.control(Method::GET, "/__mock/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_envelope(&body);
    assert_json_snapshot!("control_error_unknown_route", body);
    let (status, body) = m.control(Method::POST, "/__mock/faults", Some(json!({"path": "/v1/jwks", "status": 200}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&body);
    assert_json_snapshot!("control_error_fault_status", body);
    let (status, body) = m.control(Method::POST, "/__mock/tokens", Some(json!({"broken": "not-a-variant"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&body);
    assert_json_snapshot!("control_error_unknown_broken_variant", body);
    let (status, body) = m.control(Method::POST, "/__mock/sessions/sess_doesnotexist/end", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_envelope(&body);
    assert_json_snapshot!("control_error_end_unknown_session", body);
}

// ---------------------------------------------------------------------------------------------------------------
// Clerk's OpenAPI contract
// ---------------------------------------------------------------------------------------------------------------

/// Every Backend API operation mock-clerk answers, checked against `bapi/2026-05-12.yml` (each `bapi` call checks
/// its answer; this test asserts each was one the spec describes, so none is skipped silently).
#[tokio::test]
async fn bapi_answers_match_clerk_openapi_spec() {
    let m = Mock::new();
    let mut checked = Vec::new();
    let mut call = async |method: Method, uri: String, body: Option<Value>, expected: StatusCode| {
        let (status, json) = m.bapi(method.clone(), &uri, body).await;
        assert_eq!(status, expected, "{method} {uri}: {json}");
        openapi::assert_conforms(method.as_str(), &uri, status.as_u16(), &json);
        checked.push(format!("{method} {uri} {status}"));
        json
    };
    let full = json!({
        "email_address": ["ada@example.com"], "first_name": "Ada", "last_name": "Lovelace", "username": "ada_l",
        "password": "correct horse battery", "external_id": "ext-42", "public_metadata": {"role": "admin"},
        "private_metadata": {"plan": "pro"}, "unsafe_metadata": {"theme": "dark"},
        "totp_secret": "JBSWY3DPEHPK3PXP", "backup_codes": ["one-code-1"], "phone_number": ["+15555550100"],
    });
    let user = call(Method::POST, "/v1/users".into(), Some(full), StatusCode::OK).await;
    let uid = user["id"].as_str().unwrap().to_owned();
    call(Method::GET, format!("/v1/users/{uid}"), None, StatusCode::OK).await;
    call(Method::GET, "/v1/users?limit=5&offset=0&order_by=-created_at".into(), None, StatusCode::OK).await;
    call(Method::GET, "/v1/users/count?email_address=ada%40example.com".into(), None, StatusCode::OK).await;
    call(Method::PATCH, format!("/v1/users/{uid}"), Some(json!({"first_name": "Augusta"})), StatusCode::OK).await;
    call(Method::PATCH, format!("/v1/users/{uid}/metadata"), Some(json!({"public_metadata": {"x": {"y": 1}}})), StatusCode::OK).await;
    call(Method::PUT, format!("/v1/users/{uid}/metadata"), Some(json!({"private_metadata": {"z": 2}})), StatusCode::OK).await;
    let phone_id = user["phone_numbers"][0]["id"].as_str().unwrap().to_owned();
    call(Method::GET, format!("/v1/phone_numbers/{phone_id}"), None, StatusCode::OK).await;
    call(Method::PATCH, format!("/v1/phone_numbers/{phone_id}"), Some(json!({"reserved_for_second_factor": true})), StatusCode::OK).await;
    call(Method::GET, format!("/v1/users/{uid}/oauth_access_tokens/oauth_google"), None, StatusCode::OK).await;

    let session = call(Method::POST, "/v1/sessions".into(), Some(json!({"user_id": uid})), StatusCode::OK).await;
    let sid = session["id"].as_str().unwrap().to_owned();
    call(Method::GET, format!("/v1/sessions/{sid}"), None, StatusCode::OK).await;
    call(Method::GET, format!("/v1/sessions?user_id={uid}"), None, StatusCode::OK).await;
    let token = call(Method::POST, format!("/v1/sessions/{sid}/tokens"), None, StatusCode::OK).await;
    let template =
        call(Method::POST, "/v1/jwt_templates".into(), Some(json!({"name": "supabase", "claims": {"role": "authenticated"}})), StatusCode::OK).await;
    call(Method::GET, format!("/v1/jwt_templates/{}", template["id"].as_str().unwrap()), None, StatusCode::OK).await;
    let machine = call(Method::POST, "/v1/machines".into(), Some(json!({"name": "reports-api"})), StatusCode::OK).await;
    call(Method::GET, format!("/v1/machines/{}", machine["id"].as_str().unwrap()), None, StatusCode::OK).await;
    let key =
        call(Method::POST, "/v1/api_keys".into(), Some(json!({"name": "reports", "subject": uid, "scopes": ["reports:read"]})), StatusCode::OK).await;
    call(Method::POST, "/v1/api_keys/verify".into(), Some(json!({"secret": key["secret"]})), StatusCode::OK).await;
    call(Method::GET, format!("/v1/api_keys?subject={uid}"), None, StatusCode::OK).await;
    call(Method::POST, format!("/v1/sessions/{sid}/tokens/supabase"), None, StatusCode::OK).await;
    let (status, signed_in) = m.control(Method::POST, "/__mock/sign-in", Some(json!({"email": "grace@example.com"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (other_sid, refresh) = (signed_in["session_id"].as_str().unwrap(), signed_in["refresh_cookie"]["value"].clone());
    for format in ["token", "cookie"] {
        let body =
            json!({"expired_token": signed_in["token"], "refresh_token": refresh, "request_origin": "http://localhost:3000", "format": format});
        call(Method::POST, format!("/v1/sessions/{other_sid}/refresh"), Some(body), StatusCode::OK).await;
    }
    call(Method::POST, format!("/v1/sessions/{sid}/revoke"), None, StatusCode::OK).await;

    let sit = call(Method::POST, "/v1/sign_in_tokens".into(), Some(json!({"user_id": uid})), StatusCode::OK).await;
    call(Method::POST, format!("/v1/sign_in_tokens/{}/revoke", sit["id"].as_str().unwrap()), None, StatusCode::OK).await;
    let act = call(Method::POST, "/v1/actor_tokens".into(), Some(json!({"user_id": uid, "actor": {"sub": "user_admin"}})), StatusCode::OK).await;
    call(Method::POST, format!("/v1/actor_tokens/{}/revoke", act["id"].as_str().unwrap()), None, StatusCode::OK).await;
    call(Method::POST, "/v1/testing_tokens".into(), None, StatusCode::OK).await;
    call(Method::GET, "/v1/jwks".into(), None, StatusCode::OK).await;

    // The error envelope, for each 4xx the spec lists.
    call(Method::GET, "/v1/users/user_doesnotexist".into(), None, StatusCode::NOT_FOUND).await;
    call(Method::POST, "/v1/users".into(), Some(json!({"email_address": ["ADA@example.com"]})), StatusCode::UNPROCESSABLE_ENTITY).await;
    call(Method::GET, "/v1/users?limit=0".into(), None, StatusCode::UNPROCESSABLE_ENTITY).await;
    call(Method::POST, "/v1/sessions/sess_doesnotexist/tokens".into(), None, StatusCode::NOT_FOUND).await;
    call(Method::GET, "/v1/sessions".into(), None, StatusCode::UNPROCESSABLE_ENTITY).await;
    call(Method::DELETE, format!("/v1/users/{uid}"), None, StatusCode::OK).await;
    let (status, unauthorized) = m.call(Method::GET, "/v1/users", Some("sk_test_wrong"), None).await;
    openapi::assert_conforms("GET", "/v1/users", status.as_u16(), &unauthorized);
    assert!(!token["jwt"].is_null());
    assert_eq!(checked.len(), 37, "{checked:#?}");
}

// ---------------------------------------------------------------------------------------------------------------
// User lists and metadata
// ---------------------------------------------------------------------------------------------------------------

/// The ids of a user list, in order.
fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap_or_else(|| panic!("not a list: {list}")).iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn bapi_user_list_filters_and_order() {
    let m = Mock::new();
    let mut made = Vec::new();
    for (i, (email, first, last, username, external)) in [
        ("ada@example.com", "Ada", "Lovelace", "ada_l", "ext-1"),
        ("grace@example.org", "Grace", "Hopper", "ghopper", "ext-2"),
        ("alan@example.com", "Alan", "Turing", "aturing", "ext-3"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"email_address": [email], "first_name": first, "last_name": last, "username": username, "external_id": external,
                          "phone_number": [format!("+1555555010{i}")]});
        let (status, user) = m.bapi(Method::POST, "/v1/users", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        made.push(user["id"].as_str().unwrap().to_owned());
        m.control(Method::POST, "/__mock/clock/advance", Some(json!({"seconds": 1}))).await;
    }
    let nameless = m.new_user("zed@example.net").await["id"].as_str().unwrap().to_owned();
    let (ada, grace, alan, nameless) = (made[0].as_str(), made[1].as_str(), made[2].as_str(), nameless.as_str());
    let list = async |query: &str| {
        let (status, list) = m.bapi(Method::GET, &format!("/v1/users?{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{query}: {list}");
        let (status, count) = m.bapi(Method::GET, &format!("/v1/users/count?{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{query}: {count}");
        let ids = ids(&list);
        if !query.contains("limit") && !query.contains("offset") {
            assert_eq!(count["total_count"], ids.len(), "{query}: count and list agree");
        }
        ids
    };
    assert_eq!(list("").await, [nameless, alan, grace, ada], "newest first by default");
    assert_eq!(list("order_by=created_at").await, [ada, grace, alan, nameless]);
    assert_eq!(list("order_by=first_name").await, [ada, alan, grace, nameless], "names ascending, none last");
    assert_eq!(list("order_by=-first_name").await, [nameless, grace, alan, ada], "descending: none first");
    assert_eq!(list("order_by=username").await, [ada, alan, grace, nameless]);
    assert_eq!(list("order_by=%2Blast_name").await, [grace, ada, alan, nameless]);
    assert_eq!(list("order_by=email_address&limit=2&offset=1").await, [alan, grace]);
    assert_eq!(list("email_address=GRACE%40example.org").await, [grace]);
    assert_eq!(list("email_address=ada%40example.com&email_address=alan%40example.com").await, [alan, ada]);
    assert_eq!(list("username=ghopper").await, [grace]);
    assert_eq!(list("phone_number=%2B15555550102").await, [alan]);
    assert_eq!(list("external_id=ext-1&external_id=ext-3").await, [alan, ada]);
    assert_eq!(list(&format!("user_id={ada}&user_id=%2B{grace}")).await, [grace, ada]);
    assert_eq!(list(&format!("user_id=-{ada}")).await, [nameless, alan, grace]);
    assert_eq!(list("query=hop").await, [grace], "substring of a last name");
    assert_eq!(list("query=EXAMPLE.COM").await, [alan, ada], "substring of an email, any case");
    assert_eq!(list("query=ada%20love").await, [ada], "first and last name together");
    assert_eq!(list(&format!("query={}", &alan[5..15])).await, [alan], "part of the id");
    assert_eq!(list("query=nobody").await, Vec::<String>::new());
    assert_eq!(list("email_address_query=.org").await, [grace]);
    assert_eq!(list("name_query=tur").await, [alan]);
    assert_eq!(list("banned=true").await, Vec::<String>::new());
    assert_eq!(list("organization_id=org_none").await, Vec::<String>::new(), "no user is a member of an unknown organization");
    assert_eq!(list("organization_id=-org_none").await.len(), 4);

    for bad in ["order_by=password", "limit=0", "limit=501", "offset=-1", "created_at_after=yesterday", "banned=maybe", "provider=oauth_google"] {
        let (status, body) = m.bapi(Method::GET, &format!("/v1/users?{bad}"), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_envelope(&body);
    }
}

#[tokio::test]
async fn bapi_user_metadata_merges_replaces_and_is_limited() {
    let _scope = redactions().bind_to_scope();
    let m = Mock::new();
    let body = json!({"email_address": ["ada@example.com"], "public_metadata": {"role": "admin", "prefs": {"theme": "dark", "lang": "en"}},
                      "private_metadata": {"plan": "pro", "stripe": "cus_1"}});
    let (_, user) = m.bapi(Method::POST, "/v1/users", Some(body)).await;
    let id = user["id"].as_str().unwrap().to_owned();

    let patch = json!({"public_metadata": {"prefs": {"theme": "light", "lang": null}, "team": ["a"]}, "private_metadata": {"stripe": null}});
    let (status, merged) = m.bapi(Method::PATCH, &format!("/v1/users/{id}/metadata"), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["public_metadata"], json!({"role": "admin", "prefs": {"theme": "light"}, "team": ["a"]}), "nested objects merge, null deletes");
    assert_eq!(merged["private_metadata"], json!({"plan": "pro"}));
    assert_eq!(merged["unsafe_metadata"], json!({}), "absent objects stay");

    let (status, replaced) = m.bapi(Method::PATCH, &format!("/v1/users/{id}"), Some(json!({"public_metadata": {"only": 1}}))).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["public_metadata"], json!({"only": 1}), "updateUser replaces the object");
    assert_eq!(replaced["private_metadata"], json!({"plan": "pro"}));

    let body = json!({"private_metadata": {"tier": 2}, "unsafe_metadata": null});
    let (status, put) = m.bapi(Method::PUT, &format!("/v1/users/{id}/metadata"), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!((&put["public_metadata"], &put["private_metadata"]), (&json!({"only": 1}), &json!({"tier": 2})), "PUT replaces what it names");

    let big = "x".repeat(mock_clerk::store::METADATA_LIMIT_BYTES);
    for (method, uri) in [
        (Method::PATCH, format!("/v1/users/{id}/metadata")),
        (Method::PUT, format!("/v1/users/{id}/metadata")),
        (Method::PATCH, format!("/v1/users/{id}")),
    ] {
        let (status, body) = m.bapi(method, &uri, Some(json!({"unsafe_metadata": {"blob": big}}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {body}");
        assert_envelope(&body);
        assert_eq!(body["errors"][0]["meta"]["param_name"], "unsafe_metadata");
    }
    let (status, body) =
        m.bapi(Method::POST, "/v1/users", Some(json!({"email_address": ["big@example.com"], "public_metadata": {"blob": big}}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_json_snapshot!("error_422_metadata_too_large", body);
    let (_, after) = m.bapi(Method::GET, &format!("/v1/users/{id}"), None).await;
    assert_eq!(after["unsafe_metadata"], json!({}), "a refused update changes nothing");
    let (status, body) = m.bapi(Method::PATCH, &format!("/v1/users/{id}/metadata"), Some(json!({"public_metadata": "nope"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = m.bapi(Method::PATCH, &format!("/v1/users/{id}"), Some(json!({"username": "x"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

// ---------------------------------------------------------------------------------------------------------------
// Seeds: the builder and the control API take the seed file's shapes
// ---------------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn seeds_through_the_builder_and_the_control_api() {
    let ada = mock_clerk::SeedUser { email: Some("ada@example.com".into()), password: Some("correct horse battery".into()), ..Default::default() };
    let mut seed = mock_clerk::Seed::with_users([ada]);
    seed.organizations.push(mock_clerk::seed::SeedOrganization { name: "Acme".into(), slug: Some("acme".into()), ..Default::default() });
    let admin = mock_clerk::seed::SeedMembership {
        organization: "acme".into(),
        user: "ada@example.com".into(),
        role: Some("org:admin".into()),
        ..Default::default()
    };
    seed.memberships.push(admin);
    let state = MockClerk::builder().seed(seed).state_for(SocketAddr::from(ADDR)).expect("state");
    let sk = state.instance().secret_key().to_owned();
    let m = Mock { app: mock_clerk::server::app(state).layer(MockConnectInfo(SocketAddr::from(PEER))), secret_key: sk };
    let (_, count) = m.bapi(Method::GET, "/v1/users/count?email_address=ada%40example.com", None).await;
    assert_eq!(count["total_count"], 1, "the builder's seed is there from the start");
    let (_, members) = m.bapi(Method::GET, "/v1/organizations/acme/memberships", None).await;
    assert_eq!((members["total_count"].as_u64(), members["data"][0]["role"].as_str()), (Some(1), Some("org:admin")), "{members}");

    let body = json!({"users": [{"email": "grace@example.com", "public_metadata": {"role": "admin"}}, {"email": "alan@example.com"}]});
    let (status, seeded) = m.control(Method::POST, "/__mock/seed", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{seeded}");
    assert_eq!(seeded["users"][0]["public_metadata"], json!({"role": "admin"}));
    openapi::assert_conforms("GET", "/v1/users", 200, &seeded["users"]);

    let body = json!({"users": [{"email": "linus@example.com"}, {"email": "GRACE@example.com"}]});
    let (status, refused) = m.control(Method::POST, "/__mock/seed", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_envelope(&refused);
    assert_eq!(refused["errors"][0]["meta"]["param_name"], "users[1].email");
    let (status, refused) = m.control(Method::POST, "/__mock/seed", Some(json!({"users": [{"emial": "x@example.com"}]}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_envelope(&refused);
    let (_, count) = m.bapi(Method::GET, "/v1/users/count", None).await;
    assert_eq!(count["total_count"], 3, "a refused seed creates nothing (linus is not there)");

    // Organizations, roles and memberships, by slug, key and email; a membership naming an unknown role
    // refuses the whole seed (the organization before it is not created).
    let body =
        json!({"organizations": [{"name": "Beta"}], "memberships": [{"organization": "beta", "user": "alan@example.com", "role": "org:nope"}]});
    let (status, refused) = m.control(Method::POST, "/__mock/seed", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_envelope(&refused);
    assert_eq!(refused["errors"][0]["meta"]["param_name"], "memberships[0].role");
    let (status, _) = m.bapi(Method::GET, "/v1/organizations/beta", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a refused seed creates no organization");
    let body = json!({
        "roles": [{"key": "org:auditor", "permissions": ["org:reports:read"]}],
        "organizations": [{"name": "Beta", "slug": "beta"}],
        "memberships": [{"organization": "beta", "user": "alan@example.com", "role": "org:auditor"}],
    });
    let (status, seeded) = m.control(Method::POST, "/__mock/seed", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{seeded}");
    let (_, members) = m.bapi(Method::GET, "/v1/organizations/beta/memberships", None).await;
    assert_eq!(members["total_count"], 1, "{members}");
    assert_eq!(members["data"][0]["role"], "org:auditor");
    assert_eq!(members["data"][0]["permissions"], json!(["org:reports:read"]));
}
