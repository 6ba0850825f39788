//! The agent against small axum servers on 127.0.0.1:0.

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::*;

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn echo(method: HttpMethod, headers: HeaderMap, body: Bytes) -> axum::Json<Value> {
    let headers: serde_json::Map<String, Value> = headers.iter().map(|(n, v)| (n.to_string(), Value::from(v.to_str().unwrap_or("?")))).collect();
    axum::Json(json!({"method": method.as_str(), "headers": headers, "body": String::from_utf8_lossy(&body)}))
}

fn redirect(status: u16, to: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), [(header::LOCATION, to.to_owned())]).into_response()
}

fn app() -> Router {
    Router::new()
        .route("/echo", any(echo))
        .route(
            "/set",
            get(|| async { (AppendHeaders([(header::SET_COOKIE, "a=1; Path=/; HttpOnly; SameSite=Lax"), (header::SET_COOKIE, "bad-line")]), "ok") }),
        )
        .route("/delete", get(|| async { [(header::SET_COOKIE, "a=; Path=/; Max-Age=0")] }))
        .route("/r/{status}", any(|Path(status): Path<u16>| async move { redirect(status, "/echo") }))
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move { if n == 0 { redirect(302, "/echo") } else { redirect(307, &format!("/chain/{}", n - 1)) } }),
        )
        .route("/loop", get(|| async { redirect(302, "/loop") }))
        .route("/mailto", get(|| async { redirect(302, "mailto:someone@example.test") }))
}

#[tokio::test]
async fn cookies_set_on_one_port_are_sent_to_another() {
    let (app_url, other_url) = (serve(app()).await, serve(app()).await);
    let agent = Agent::new().unwrap();
    let hop = agent.get(&format!("{app_url}/set"), &Mode::Page).await.unwrap();
    assert_eq!(hop.set_cookies.len(), 2);
    assert_eq!(hop.refused_cookies.len(), 1, "the malformed line is refused, not fatal");
    let a = agent.cookie("a").unwrap();
    assert!(a.http_only);
    assert_eq!(a.same_site, Some(SameSite::Lax));
    let echoed: Value = agent.get(&format!("{other_url}/echo"), &Mode::Fetch).await.unwrap().json().unwrap();
    assert_eq!(echoed["headers"]["cookie"], "a=1");
    agent.get(&format!("{other_url}/delete"), &Mode::Page).await.unwrap();
    assert!(agent.cookie("a").is_none(), "Max-Age=0 from the other port deletes it too");
}

#[tokio::test]
async fn modes_send_browser_headers() {
    let url = format!("{}/echo", serve(app()).await);
    let agent = Agent::new().unwrap();
    let page: Value = agent.get(&url, &Mode::Page).await.unwrap().json().unwrap();
    assert_eq!(page["method"], "GET");
    assert_eq!(page["headers"]["sec-fetch-dest"], "document");
    assert_eq!(page["headers"]["sec-fetch-mode"], "navigate");
    assert!(page["headers"]["accept"].as_str().unwrap().starts_with("text/html,application/xhtml+xml"));
    assert!(page["headers"]["user-agent"].as_str().unwrap().starts_with("Mozilla/5.0"));
    let fetch: Value = agent.get(&url, &Mode::Fetch).await.unwrap().json().unwrap();
    assert_eq!((fetch["headers"]["accept"].as_str(), fetch["headers"]["sec-fetch-dest"].as_str()), (Some("*/*"), Some("empty")));
    let action: Value = agent.get(&url, &Mode::server_action("abc123")).await.unwrap().json().unwrap();
    assert_eq!(action["method"], "POST");
    assert_eq!(action["headers"]["next-action"], "abc123");
    assert_eq!(action["headers"]["next-url"], "/echo");
    assert_eq!(action["headers"]["accept"], "text/x-component");
    assert_eq!(action["body"], "[]");
}

#[tokio::test]
async fn request_sends_json_and_extra_headers_and_bearer() {
    let url = format!("{}/echo", serve(app()).await);
    let agent = Agent::new().unwrap();
    agent.set_bearer(Some("tok".into()));
    let hop =
        agent.request("put", &url, &Mode::Fetch, Some(&json!({"title": "x"})), &[("X-Extra", "1"), ("Accept", "application/json")]).await.unwrap();
    let echoed: Value = hop.json().unwrap();
    assert_eq!(echoed["method"], "PUT");
    assert_eq!(echoed["body"], r#"{"title":"x"}"#);
    assert_eq!(echoed["headers"]["content-type"], "application/json");
    assert_eq!(echoed["headers"]["authorization"], "Bearer tok");
    assert_eq!(echoed["headers"]["x-extra"], "1");
    assert_eq!(echoed["headers"]["accept"], "application/json", "extra headers replace the mode's");
    assert_eq!(hop.request_header("authorization"), Some("Bearer tok"));
    agent.clear();
    let echoed: Value = agent.get(&url, &Mode::Fetch).await.unwrap().json().unwrap();
    assert!(echoed["headers"].get("authorization").is_none());
}

#[tokio::test]
async fn redirects_keep_or_drop_method_like_browsers() {
    let base = serve(app()).await;
    let agent = Agent::new().unwrap();
    let body = json!({"k": 1});
    for (status, method, body_kept) in [(307, "POST", true), (308, "POST", true), (303, "GET", false), (302, "GET", false), (301, "GET", false)] {
        let nav = agent.follow("POST", &format!("{base}/r/{status}"), &Mode::Fetch, Some(&body), &[]).await.unwrap();
        assert_eq!(nav.redirects(), 1);
        let echoed: Value = nav.json().unwrap();
        assert_eq!(echoed["method"], method, "after {status}");
        assert_eq!(echoed["body"] == r#"{"k":1}"#, body_kept, "body after {status}");
        assert_eq!(nav.first().location.as_deref(), Some("/echo"));
    }
    let nav = agent.follow("PUT", &format!("{base}/r/302"), &Mode::Fetch, Some(&body), &[]).await.unwrap();
    assert_eq!(nav.json::<Value>().unwrap()["method"], "PUT", "302 only rewrites POST");
}

#[tokio::test]
async fn each_hop_is_recorded_and_chains_are_bounded() {
    let base = serve(app()).await;
    let agent = Agent::builder().max_redirects(3).build().unwrap();
    let nav = agent.navigate(&format!("{base}/chain/2"), &Mode::Page).await.unwrap();
    let statuses: Vec<u16> = nav.hops().iter().map(|h| h.status).collect();
    assert_eq!(statuses, [307, 307, 302, 200]);
    assert!(nav.visited("/chain/0"));
    assert_eq!(nav.final_url(), format!("{base}/echo"));
    match agent.navigate(&format!("{base}/loop"), &Mode::Page).await {
        Err(AgentError::TooManyRedirects { max: 3, hops, .. }) => assert_eq!(hops.len(), 4),
        other => panic!("expected TooManyRedirects, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_input_is_an_error_not_a_panic() {
    let base = serve(app()).await;
    let agent = Agent::new().unwrap();
    assert!(matches!(agent.get("not a url", &Mode::Page).await, Err(AgentError::InvalidUrl { .. })));
    assert!(matches!(agent.get("ftp://127.0.0.1/", &Mode::Page).await, Err(AgentError::InvalidUrl { .. })));
    assert!(matches!(agent.request("GE T", &base, &Mode::Page, None, &[]).await, Err(AgentError::InvalidRequest { .. })));
    assert!(matches!(agent.request("GET", &base, &Mode::Page, None, &[("x", "a\nb")]).await, Err(AgentError::InvalidRequest { .. })));
    match agent.navigate(&format!("{base}/mailto"), &Mode::Page).await {
        Err(e @ AgentError::BadRedirect { .. }) => assert_eq!(e.hops().len(), 1),
        other => panic!("expected BadRedirect, got {other:?}"),
    }
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    assert!(matches!(agent.get(&format!("http://{closed}/"), &Mode::Page).await, Err(AgentError::Transport { .. })));
}

#[tokio::test]
async fn bearer_is_not_sent_across_origins() {
    let (a, b) = (serve(app()).await, serve(app()).await);
    let agent = Agent::new().unwrap();
    agent.set_bearer(Some("tok".into()));
    let target = format!("{b}/echo");
    let router = Router::new().route(
        "/go",
        get(move || {
            let t = target.clone();
            async move { redirect(307, &t) }
        }),
    );
    let hopper = serve(router).await;
    let nav = agent.navigate(&format!("{hopper}/go"), &Mode::Fetch).await.unwrap();
    assert_eq!(nav.first().request_header("authorization"), Some("Bearer tok"));
    assert!(nav.json::<Value>().unwrap()["headers"].get("authorization").is_none());
    let same: Value = agent.get(&format!("{a}/echo"), &Mode::Fetch).await.unwrap().json().unwrap();
    assert_eq!(same["headers"]["authorization"], "Bearer tok");
}

#[tokio::test]
async fn self_signed_https_needs_the_builder_flag() {
    let clerk = mock_clerk::MockClerk::builder().tls(true).start().await;
    let jwks = format!("https://{}{}", clerk.addr(), mock_clerk::fapi::JWKS_PATH);
    let strict = Agent::new().unwrap();
    assert!(matches!(strict.get(&jwks, &Mode::Fetch).await, Err(AgentError::Transport { .. })));
    let lenient = Agent::builder().accept_invalid_certs(true).build().unwrap();
    let hop = lenient.get(&jwks, &Mode::Fetch).await.unwrap();
    assert_eq!(hop.status, 200);
    assert_eq!(hop.json::<Value>().unwrap()["keys"][0]["kid"], clerk.active_kid());
}
