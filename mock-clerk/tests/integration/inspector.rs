//! The inspector (`/__mock/ui`) over HTTP: the control API's access rule (loopback, or the control token — as a
//! header, as `?token=` on the page, then as the cookie the page set), a page with nothing fetched from
//! elsewhere, and a state that follows the control API's actions with no complete token and no secret key.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use mock_clerk::MockClerk;
use serde_json::{Value, json};
use tower::ServiceExt;

const ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 4010);
const LOOPBACK: ([u8; 4], u16) = ([127, 0, 0, 1], 5555);
const REMOTE: ([u8; 4], u16) = ([10, 1, 2, 3], 5555);
const TOKEN: &str = "ctl_inspector_token";

fn app(peer: ([u8; 4], u16), token: Option<&str>) -> (Router, String) {
    let mut builder = MockClerk::builder();
    if let Some(t) = token {
        builder = builder.control_token(t);
    }
    let state = builder.state_for(SocketAddr::from(ADDR)).expect("state");
    let secret = state.instance().secret_key().to_owned();
    (mock_clerk::server::app(state).layer(MockConnectInfo(SocketAddr::from(peer))), secret)
}

async fn send(app: &Router, method: Method, uri: &str, headers: &[(&str, &str)], body: Option<Value>) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let res = app.clone().oneshot(req.body(body).unwrap()).await.expect("infallible");
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
    send(app, Method::GET, uri, headers, None).await
}

fn forbidden(answer: &(StatusCode, HeaderMap, String)) -> bool {
    answer.0 == StatusCode::FORBIDDEN && answer.2.contains("control_api_forbidden")
}

#[tokio::test]
async fn the_inspector_follows_the_control_api_access_rule() {
    // Loopback, no token: open.
    let (local, _) = app(LOOPBACK, None);
    let (status, headers, page) = get(&local, "/__mock/ui", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(page.contains("mock-clerk inspector") && page.contains("/__mock/ui/state"));
    for outside in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "@import", "url(http"] {
        assert!(!page.contains(outside), "the page fetches nothing from elsewhere: {outside}");
    }
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(get(&local, "/__mock/ui/state", &[]).await.0, StatusCode::OK);

    // Another address, no token: closed.
    let (remote, _) = app(REMOTE, None);
    assert!(forbidden(&get(&remote, "/__mock/ui", &[]).await));
    assert!(forbidden(&get(&remote, "/__mock/ui/state", &[]).await));

    // Opened with a token: nothing without it, from anywhere.
    let (opened, _) = app(REMOTE, Some(TOKEN));
    assert!(forbidden(&get(&opened, "/__mock/ui", &[]).await));
    assert!(forbidden(&get(&opened, "/__mock/ui?token=wrong", &[]).await));
    assert!(forbidden(&get(&opened, "/__mock/ui/state", &[("cookie", "__mock_control=wrong")]).await));
    assert!(forbidden(&get(&opened, &format!("/__mock/ui/state?token={TOKEN}"), &[]).await), "the address carries it to the page only");
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(get(&opened, "/__mock/ui/state", &[("authorization", &bearer)]).await.0, StatusCode::OK);
    let (status, headers, _) = get(&opened, &format!("/__mock/ui?token={TOKEN}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert_eq!(cookie, format!("__mock_control={TOKEN}; Path=/__mock; HttpOnly; SameSite=Strict"));
    let jar = format!("__clerk_db_jwt=x; __mock_control={TOKEN}");
    assert_eq!(get(&opened, "/__mock/ui/state", &[("cookie", &jar)]).await.0, StatusCode::OK);
    let sign_in = send(&opened, Method::POST, "/__mock/sign-in", &[("cookie", &jar)], Some(json!({"email": "ada@example.com"}))).await;
    assert_eq!(sign_in.0, StatusCode::OK, "the page's actions carry the cookie: {}", sign_in.2);
}

/// A complete JWT: three base64url parts, the signature long enough to be a real one.
fn has_complete_jwt(text: &str) -> bool {
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices("eyJ").any(|(i, _)| {
        let parts: Vec<&str> = text[i..].splitn(3, '.').collect();
        parts.len() == 3 && parts[1].chars().all(b64) && parts[2].chars().take_while(|c| b64(*c)).count() >= 40
    })
}

#[tokio::test]
async fn the_state_follows_the_actions_and_holds_no_complete_token() {
    let (app, secret) = app(LOOPBACK, None);
    let state = || async { serde_json::from_str::<Value>(&get(&app, "/__mock/ui/state", &[]).await.2).unwrap() };
    let empty = state().await;
    assert_eq!(empty["users"], json!([]));

    // Sign in (the inspector's "sign in as" calls the same route).
    let (status, _, body) = send(&app, Method::POST, "/__mock/sign-in", &[], Some(json!({"email": "ada@example.com", "first_name": "Ada"}))).await;
    assert_eq!(status, StatusCode::OK);
    let signed: Value = serde_json::from_str(&body).unwrap();
    let (user, session, token) = (signed["user_id"].as_str().unwrap(), signed["session_id"].as_str().unwrap(), signed["token"].as_str().unwrap());
    // A request carrying the token (and the secret key) lands in the log.
    let auth = format!("Bearer {secret}");
    let logged = get(&app, &format!("/v1/sessions/{session}?probe={token}"), &[("authorization", &auth)]).await;
    assert_eq!(logged.0, StatusCode::OK);

    let s = state().await;
    let text = s.to_string();
    assert!(!text.contains(&secret), "no secret key");
    assert!(!text.contains(token) && !has_complete_jwt(&text), "no complete token");
    assert_eq!(s["users"][0]["id"], user);
    assert_eq!(s["users"][0]["email"], "ada@example.com");
    assert_eq!(s["users"][0]["name"], "Ada");
    assert_eq!(s["sessions"][0]["id"], session);
    assert_eq!(s["sessions"][0]["status"], "active");
    assert_eq!(s["sessions"][0]["last_token_claims"]["sub"], user, "the last token's claims, decoded");
    let request = &s["requests"][0];
    assert_eq!(request["path"], format!("/v1/sessions/{session}"));
    assert_eq!(request["tokens"][0]["claims"]["sid"], session, "the request's token, decoded");
    assert!(request["query"].as_str().unwrap().ends_with(".[redacted]"), "{request}");

    // End the session, advance the clock, add a fault: the state shows each.
    assert_eq!(send(&app, Method::POST, &format!("/__mock/sessions/{session}/end"), &[], Some(json!({}))).await.0, StatusCode::OK);
    assert_eq!(send(&app, Method::POST, "/__mock/clock/advance", &[], Some(json!({"seconds": 90}))).await.0, StatusCode::OK);
    let fault = json!({"method": "GET", "path": "/v1/jwks", "status": 503, "times": 2});
    assert_eq!(send(&app, Method::POST, "/__mock/faults", &[], Some(fault)).await.0, StatusCode::OK);
    let s = state().await;
    assert_eq!(s["sessions"][0]["status"], "ended");
    assert_eq!(s["clock"]["offset_ms"], 90_000);
    assert_eq!(s["faults"][0]["path"], "/v1/jwks");
    assert_eq!(s["faults"][0]["times"], 2);
}
