//! Every Backend API route refuses a caller without this instance's secret key with a 401 in Clerk's envelope,
//! before doing anything: no header → `authorization_header_missing`; a wrong key, an empty bearer, another
//! scheme (`Basic …`) or a bare key → `clerk_key_invalid`.
//!
//! The routes are listed once, in [`BAPI_ROUTES`]. The list is checked to be exactly what `src/bapi/mod.rs`
//! registers (read from the source), and at run time: with the right key every listed route is routed (no
//! "no resource exists at" 404, no 405), and every other method on a listed path is a 405.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use base64::Engine;
use http_body_util::BodyExt;
use mock_clerk::MockClerk;
use mock_clerk::state::AppState;
use serde_json::Value;
use tower::ServiceExt;

/// Every Backend API route: method and path, `{…}` segments as in `bapi/mod.rs`. THE list: everything below
/// derives from it.
const BAPI_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/jwks"),
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("GET", "/v1/users/count"),
    ("GET", "/v1/users/{id}"),
    ("DELETE", "/v1/users/{id}"),
    ("PATCH", "/v1/users/{id}"),
    ("PATCH", "/v1/users/{id}/metadata"),
    ("PUT", "/v1/users/{id}/metadata"),
    ("GET", "/v1/users/{id}/oauth_access_tokens/{provider}"),
    ("GET", "/v1/phone_numbers/{id}"),
    ("PATCH", "/v1/phone_numbers/{id}"),
    ("GET", "/v1/sessions"),
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions/{id}"),
    ("POST", "/v1/sessions/{id}/revoke"),
    ("POST", "/v1/sessions/{id}/refresh"),
    ("GET", "/v1/clients/handshake_payload"),
    ("POST", "/v1/sign_in_tokens"),
    ("POST", "/v1/sign_in_tokens/{id}/revoke"),
    ("POST", "/v1/actor_tokens"),
    ("POST", "/v1/actor_tokens/{id}/revoke"),
    ("POST", "/v1/testing_tokens"),
    ("POST", "/v1/sessions/{id}/tokens"),
    ("POST", "/v1/sessions/{id}/tokens/{template}"),
    ("GET", "/v1/organizations"),
    ("POST", "/v1/organizations"),
    ("GET", "/v1/organizations/{id}"),
    ("PATCH", "/v1/organizations/{id}"),
    ("DELETE", "/v1/organizations/{id}"),
    ("PATCH", "/v1/organizations/{id}/metadata"),
    ("PUT", "/v1/organizations/{id}/metadata"),
    ("GET", "/v1/organizations/{id}/memberships"),
    ("POST", "/v1/organizations/{id}/memberships"),
    ("PATCH", "/v1/organizations/{id}/memberships/{user_id}"),
    ("DELETE", "/v1/organizations/{id}/memberships/{user_id}"),
    ("PATCH", "/v1/organizations/{id}/memberships/{user_id}/metadata"),
    ("GET", "/v1/organizations/{id}/invitations"),
    ("POST", "/v1/organizations/{id}/invitations"),
    ("GET", "/v1/organizations/{id}/invitations/{invitation_id}"),
    ("POST", "/v1/organizations/{id}/invitations/{invitation_id}/revoke"),
    ("GET", "/v1/users/{id}/organization_memberships"),
    ("GET", "/v1/organization_roles"),
    ("POST", "/v1/organization_roles"),
    ("GET", "/v1/organization_roles/{id}"),
    ("POST", "/v1/organization_roles/{id}/permissions/{permission_id}"),
    ("DELETE", "/v1/organization_roles/{id}/permissions/{permission_id}"),
    ("GET", "/v1/organization_permissions"),
    ("POST", "/v1/organization_permissions"),
    ("GET", "/v1/machines"),
    ("POST", "/v1/machines"),
    ("GET", "/v1/machines/{id}"),
    ("PATCH", "/v1/machines/{id}"),
    ("DELETE", "/v1/machines/{id}"),
    ("DELETE", "/v1/machines/{id}/scopes/{other_id}"),
    ("GET", "/v1/machines/{id}/secret_key"),
    ("POST", "/v1/machines/{id}/scopes"),
    ("GET", "/v1/jwt_templates"),
    ("POST", "/v1/jwt_templates"),
    ("GET", "/v1/jwt_templates/{id}"),
    ("PATCH", "/v1/jwt_templates/{id}"),
    ("DELETE", "/v1/jwt_templates/{id}"),
];

/// Methods tried on every listed path: the listed ones must be routed, the others must be 405s.
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `{id}` → a placeholder id (no such resource), `{template}` → a template name.
fn concrete(path: &str) -> String {
    path.replace("{id}", "placeholder_id_0000000000000000000").replace("{template}", "placeholder_template")
}

/// `(method, path)` pairs registered by `routes()` in `src/bapi/mod.rs`, read from its source: each
/// `.route(PATH, get(…).post(…))` line.
fn registered_in_source() -> BTreeSet<(String, String)> {
    let source = include_str!("../../src/bapi/mod.rs");
    let body = source.split("pub fn routes(").nth(1).expect("bapi::routes").split("\n}\n").next().unwrap();
    let mut found = BTreeSet::new();
    for line in body.lines().map(str::trim).filter(|l| l.starts_with(".route(")) {
        let args = &line[".route(".len()..];
        let (path_arg, handlers) = args.split_once(',').expect("route(path, handlers)");
        let path = match path_arg.trim() {
            "JWKS_PATH" => mock_clerk::bapi::JWKS_PATH.to_owned(),
            quoted if quoted.starts_with('"') && quoted.ends_with('"') => quoted.trim_matches('"').to_owned(),
            other => panic!("cannot read the path of {line:?} ({other}): extend this parser"),
        };
        let mut methods = 0;
        for method in ["get", "post", "put", "patch", "delete", "head", "options", "any"] {
            for (at, _) in handlers.match_indices(&format!("{method}(")) {
                let before = handlers[..at].chars().next_back();
                if matches!(before, Some('(' | '.' | ' ') | None) {
                    assert_ne!(method, "any", "{line:?}: an any() route answers every method; list it explicitly");
                    found.insert((method.to_uppercase(), path.clone()));
                    methods += 1;
                }
            }
        }
        assert!(methods > 0, "no method found in {line:?}: extend this parser");
    }
    assert!(!found.is_empty(), "no .route( lines found in src/bapi/mod.rs");
    found
}

#[test]
fn the_table_lists_exactly_the_routes_bapi_registers() {
    let table: BTreeSet<(String, String)> = BAPI_ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(table.len(), BAPI_ROUTES.len(), "duplicates in BAPI_ROUTES");
    let source = registered_in_source();
    let missing: Vec<_> = source.difference(&table).collect();
    let extra: Vec<_> = table.difference(&source).collect();
    assert!(missing.is_empty() && extra.is_empty(), "BAPI_ROUTES is out of date: missing {missing:?}, not registered {extra:?}");
    assert!(BAPI_ROUTES.iter().all(|(_, p)| mock_clerk::bapi::is_backend_path(&concrete(p))), "every route is a Backend API path");
}

// ---------------------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------------------

struct Answer {
    status: StatusCode,
    content_types: Vec<String>,
    body: Value,
    raw: String,
}

/// In-process (the exact header bytes reach the app) or over loopback HTTP (what an SDK sees).
enum Transport {
    InProcess(Router),
    Http(reqwest::Client, String),
}

impl Transport {
    async fn send(&self, method: &str, path: &str, authorization: Option<&str>) -> Answer {
        let (status, content_types, bytes) = match self {
            Transport::InProcess(app) => {
                let mut req = Request::builder().method(method).uri(path).header(header::CONTENT_TYPE, "application/json");
                if let Some(a) = authorization {
                    req = req.header(header::AUTHORIZATION, HeaderValue::from_str(a).expect("a header value"));
                }
                let res = app.clone().oneshot(req.body(Body::from("{}")).unwrap()).await.expect("infallible");
                let types = res.headers().get_all(header::CONTENT_TYPE).iter().map(|v| v.to_str().unwrap_or("?").to_owned()).collect();
                (res.status(), types, res.into_body().collect().await.unwrap().to_bytes().to_vec())
            }
            Transport::Http(client, base) => {
                let mut req = client
                    .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{base}{path}"))
                    .header("content-type", "application/json")
                    .body("{}");
                if let Some(a) = authorization {
                    req = req.header("authorization", a);
                }
                let res = req.send().await.expect("mock-clerk answers");
                let status = StatusCode::from_u16(res.status().as_u16()).unwrap();
                let types = res.headers().get_all("content-type").iter().map(|v| v.to_str().unwrap_or("?").to_owned()).collect();
                (status, types, res.bytes().await.unwrap().to_vec())
            }
        };
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Answer { status, content_types, body, raw }
    }
}

/// `{"errors":[{code,message,long_message,meta}],"clerk_trace_id":"trace_…"}` and nothing else.
fn assert_envelope(what: &str, a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.raw);
    assert_eq!(a.content_types, ["application/json"], "{what}: Content-Type must be exactly application/json");
    let object = a.body.as_object().unwrap_or_else(|| panic!("{what}: not a JSON object: {}", a.raw));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["clerk_trace_id", "errors"], "{what}: {}", a.raw);
    assert!(a.body["clerk_trace_id"].as_str().is_some_and(|t| t.starts_with("trace_")), "{what}: {}", a.raw);
    let errors = a.body["errors"].as_array().expect("errors array");
    assert_eq!(errors.len(), 1, "{what}: {}", a.raw);
    let e = &errors[0];
    assert_eq!(e["code"], code, "{what}: {}", a.raw);
    assert!(e["message"].is_string() && e["long_message"].is_string() && e["meta"].is_object(), "{what}: {}", a.raw);
}

/// Authorization headers that are not this instance's secret key, and the code each must get.
fn refused_credentials(secret_key: &str) -> Vec<(String, Option<String>, &'static str)> {
    let basic = |creds: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(creds));
    let live = secret_key.replacen("sk_test_", "sk_live_", 1);
    vec![
        ("no Authorization header".into(), None, "authorization_header_missing"),
        ("a wrong key".into(), Some("Bearer sk_test_wrong".into()), "clerk_key_invalid"),
        ("the key plus one character".into(), Some(format!("Bearer {secret_key}x")), "clerk_key_invalid"),
        ("the key less one character".into(), Some(format!("Bearer {}", &secret_key[..secret_key.len() - 1])), "clerk_key_invalid"),
        ("the other instance kind's key".into(), Some(format!("Bearer {live}")), "clerk_key_invalid"),
        ("Bearer and nothing".into(), Some("Bearer".into()), "clerk_key_invalid"),
        ("Bearer, a space and nothing".into(), Some("Bearer ".into()), "clerk_key_invalid"),
        ("an empty header".into(), Some(String::new()), "clerk_key_invalid"),
        ("Basic with the key as user".into(), Some(basic(&format!("{secret_key}:"))), "clerk_key_invalid"),
        ("Basic and the bare key".into(), Some(format!("Basic {secret_key}")), "clerk_key_invalid"),
        ("the bare key, no scheme".into(), Some(secret_key.to_owned()), "clerk_key_invalid"),
        ("Token scheme".into(), Some(format!("Token {secret_key}")), "clerk_key_invalid"),
    ]
}

fn in_process() -> (AppState, Router) {
    let state = MockClerk::builder().state_for(SocketAddr::from(([127, 0, 0, 1], 4010))).expect("state");
    let app = mock_clerk::server::app(state.clone()).layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5555))));
    (state, app)
}

async fn run_refusals(transport: &Transport, state: &AppState) {
    let secret_key = state.instance().secret_key().to_owned();
    let users_before = state.store().user_count(&Default::default());
    let mut checked = 0;
    for (method, template) in BAPI_ROUTES {
        let path = concrete(template);
        for (name, authorization, code) in refused_credentials(&secret_key) {
            let what = format!("{method} {template} with {name}");
            let a = transport.send(method, &path, authorization.as_deref()).await;
            assert_envelope(&what, &a, StatusCode::UNAUTHORIZED, code);
            assert!(!a.raw.contains(&secret_key), "{what}: the answer shows the secret key: {}", a.raw);
            checked += 1;
        }
    }
    assert_eq!(checked, BAPI_ROUTES.len() * refused_credentials(&secret_key).len());
    assert_eq!(state.store().user_count(&Default::default()), users_before, "a refused request changed the store");
}

async fn run_with_the_key(transport: &Transport, state: &AppState) {
    let bearer = format!("Bearer {}", state.instance().secret_key());
    let paths: BTreeSet<&str> = BAPI_ROUTES.iter().map(|(_, p)| *p).collect();
    for template in paths {
        let path = concrete(template);
        for method in METHODS {
            let listed = BAPI_ROUTES.contains(&(method, template));
            let a = transport.send(method, &path, Some(&bearer)).await;
            let what = format!("{method} {template} with the secret key");
            if listed {
                let route_not_found = a.status == StatusCode::NOT_FOUND
                    && a.body["errors"][0]["long_message"].as_str().is_some_and(|m| m.starts_with("No resource exists at"));
                assert!(!route_not_found, "{what}: listed but not routed: {}", a.raw);
                assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{what}: listed but not routed for this method: {}", a.raw);
                assert_ne!(a.status, StatusCode::UNAUTHORIZED, "{what}: the right key was refused: {}", a.raw);
                assert!(!a.status.is_server_error(), "{what}: {}", a.raw);
                assert_eq!(a.content_types, ["application/json"], "{what}");
            } else {
                assert_envelope(&what, &a, StatusCode::METHOD_NOT_ALLOWED, "request_method_not_allowed");
            }
        }
    }
}

#[tokio::test]
async fn every_route_refuses_a_missing_or_wrong_key_in_process() {
    let (state, app) = in_process();
    let transport = Transport::InProcess(app);
    run_refusals(&transport, &state).await;
    run_with_the_key(&transport, &state).await;
}

#[tokio::test]
async fn every_route_refuses_a_missing_or_wrong_key_over_http() {
    let clerk = MockClerk::start().await;
    let transport = Transport::Http(reqwest::Client::new(), clerk.url());
    run_refusals(&transport, clerk.state()).await;
    run_with_the_key(&transport, clerk.state()).await;
}
