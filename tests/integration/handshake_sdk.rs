//! The handshake and refresh flows, with the real `@clerk/backend` 3 on the app side and mock-clerk on the
//! Frontend and Backend API side (`packages/backend/src/tokens/request.ts`, `handshake.ts`).

use std::time::Duration;

use clerk_conformance::node::{ensure_npm_ci, fixture_dir, run_json_script};
use mock_clerk::fapi::handshake::HandshakeFormat;
use mock_clerk::{BrokenToken, InstanceKind, MockClerk, SignedIn};
use serde_json::{Value, json};

const APP_URL: &str = "http://127.0.0.1:3999/schedules?tab=1";

fn authenticate(clerk: &MockClerk, url: &str, cookie: &str) -> Value {
    let dir = fixture_dir("clerk-backend");
    ensure_npm_ci(&dir).expect("npm ci for fixtures/clerk-backend");
    let input = json!({
        "apiUrl": clerk.url(), "secretKey": clerk.secret_key(), "publishableKey": clerk.publishable_key(),
        "ops": [{"op": "authenticateRequest", "url": url, "options": {"proxyUrl": clerk.url()}, "headers": {
            "cookie": cookie, "accept": "text/html", "sec-fetch-dest": "document", "user-agent": "mock-clerk-tests"
        }}],
    });
    let out = run_json_script(&dir, "driver.mjs", &input, Duration::from_secs(60)).expect("driver ran");
    let result = &out["results"][0];
    assert_eq!(result["ok"], true, "{result:#}");
    result["value"].clone()
}

/// The browser's cookies with an expired session token (and `__client_uat` equal to its `iat`).
fn expired_cookies(clerk: &MockClerk, s: &SignedIn) -> (String, String) {
    let expired = clerk.forge(BrokenToken::Expired, &s.user_id, &s.session_id);
    let iat = mock_clerk::tokens::decode_unverified(&expired).unwrap().claims["iat"].as_i64().unwrap();
    let mut parts = vec![format!("__session={expired}"), format!("__client_uat={iat}")];
    parts.extend(s.cookies.iter().filter(|c| c.name == "__clerk_db_jwt").map(|c| format!("{}={}", c.name, c.value)));
    (parts.join("; "), expired)
}

/// Where mock-clerk sends the browser back after the handshake.
struct Back {
    /// The `Location`.
    location: String,
    /// The handshake cookie mock-clerk set, as `name=value` for a `Cookie:` header (production instances).
    cookie: Option<String>,
}

/// Follows the SDK's redirect to mock-clerk's handshake.
async fn follow_handshake(location: &str) -> Back {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client.get(location).send().await.unwrap();
    assert_eq!(res.status(), 307, "handshake answers with a redirect");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let cookies: Vec<&str> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(cookies.len() <= 1, "{cookies:?}");
    let cookie = cookies.first().map(|c| c.split(';').next().unwrap().to_owned());
    Back { location: res.headers()["location"].to_str().unwrap().to_owned(), cookie }
}

fn session_cookie(set_cookies: &Value) -> Option<String> {
    set_cookies.as_array()?.iter().filter_map(Value::as_str).rfind(|c| c.starts_with("__session=")).map(str::to_owned)
}

/// An expired token goes through the handshake, and the SDK accepts what mock-clerk hands back: `carrier`
/// (`__clerk_handshake_nonce` or `__clerk_handshake`) as a query parameter on a development instance, as a cookie
/// and a clean redirect on a production one (`authenticateContext.ts` reads the query first, then the cookie).
async fn expired_token_is_refreshed_through_the_handshake(kind: InstanceKind, format: HandshakeFormat, carrier: &str) {
    let clerk = MockClerk::builder().kind(kind).start().await;
    clerk.set_handshake_format(format);
    let s = clerk.sign_in();
    let (cookie, expired) = expired_cookies(&clerk, &s);
    let first = authenticate(&clerk, APP_URL, &cookie);
    assert_eq!(first["status"], "handshake", "{first:#}");
    assert_eq!(first["reason"], "session-token-expired-refresh-non-eligible-no-refresh-cookie");
    let to_clerk = first["headers"]["location"].as_str().unwrap();
    assert!(to_clerk.starts_with(&format!("{}/v1/client/handshake?", clerk.url())), "{to_clerk}");

    let back = follow_handshake(to_clerk).await;
    let second = match kind {
        InstanceKind::Development => {
            assert!(back.location.starts_with(APP_URL) && back.location.contains(&format!("{carrier}=")), "{}", back.location);
            assert_eq!(back.cookie, None, "development: no handshake cookie");
            authenticate(&clerk, &back.location, &cookie)
        }
        InstanceKind::Production => {
            assert_eq!(back.location, APP_URL, "production: back to the clean URL");
            let handshake = back.cookie.expect("production: the handshake result as a cookie");
            assert!(handshake.starts_with(&format!("{carrier}=")), "{handshake}");
            authenticate(&clerk, &back.location, &format!("{cookie}; {handshake}"))
        }
    };
    assert_eq!(second["status"], "signed-in", "{second:#}");
    assert_eq!(second["sessionId"], s.session_id.as_str());
    let fresh = session_cookie(&second["setCookies"]).expect("a fresh __session is set");
    assert!(!fresh.contains(&expired) && fresh.ends_with("; Path=/; SameSite=Lax"), "{fresh}");
    let set: Vec<&str> = second["setCookies"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let cleared = format!("{carrier}=; Path=/; SameSite=Lax; HttpOnly; Max-Age=0");
    match kind {
        // handshake.ts: a development instance redirects to the clean URL; the carrier was never a cookie.
        InstanceKind::Development => {
            assert_eq!(second["headers"]["location"], APP_URL, "{second:#}");
            assert!(!set.contains(&cleared.as_str()), "{set:?}");
        }
        // Production resolves on the page response itself, and the directives delete the spent carrier.
        InstanceKind::Production => {
            assert_eq!(second["headers"]["location"], Value::Null, "{second:#}");
            assert!(set.contains(&cleared.as_str()), "{set:?}");
        }
    }
    let payloads = clerk.requests_to("GET", "/v1/clients/handshake_payload").len();
    assert_eq!(payloads, usize::from(carrier == "__clerk_handshake_nonce"), "handshake_payload calls");
}

#[tokio::test(flavor = "multi_thread")]
async fn nonce_handshake_refreshes_an_expired_token_on_a_development_instance() {
    expired_token_is_refreshed_through_the_handshake(InstanceKind::Development, HandshakeFormat::Auto, "__clerk_handshake_nonce").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_handshake_on_a_development_instance_still_uses_the_query_parameter() {
    expired_token_is_refreshed_through_the_handshake(InstanceKind::Development, HandshakeFormat::Token, "__clerk_handshake").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nonce_cookie_refreshes_an_expired_token_on_a_production_instance() {
    expired_token_is_refreshed_through_the_handshake(InstanceKind::Production, HandshakeFormat::Auto, "__clerk_handshake_nonce").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn token_cookie_refreshes_an_expired_token_on_a_production_instance() {
    expired_token_is_refreshed_through_the_handshake(InstanceKind::Production, HandshakeFormat::Token, "__clerk_handshake").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_session_is_not_refreshed_by_the_handshake() {
    let clerk = MockClerk::start().await;
    let s = clerk.sign_in();
    let (cookie, _) = expired_cookies(&clerk, &s);
    clerk.end_session(&s.session_id, mock_clerk::store::SessionStatus::Revoked).unwrap();
    let first = authenticate(&clerk, APP_URL, &cookie);
    let back = follow_handshake(first["headers"]["location"].as_str().unwrap()).await;
    let second = authenticate(&clerk, &back.location, &cookie);
    assert_eq!(second["status"], "signed-out", "{second:#}");
    assert_eq!(second["reason"], "session-token-missing");
    let cookies: Vec<&str> = second["setCookies"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(cookies.contains(&"__client_uat=0; Path=/; SameSite=Lax"), "{cookies:?}");
    assert!(cookies.contains(&"__session=; Path=/; SameSite=Lax; Max-Age=0"), "{cookies:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_development_browser_gets_a_dev_browser_and_is_signed_out() {
    let clerk = MockClerk::start().await;
    let first = authenticate(&clerk, APP_URL, "");
    assert_eq!(first["reason"], "dev-browser-missing");
    let back = follow_handshake(first["headers"]["location"].as_str().unwrap()).await;
    let second = authenticate(&clerk, &back.location, "");
    let cookies: Vec<&str> = second["setCookies"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(cookies.iter().any(|c| c.starts_with("__clerk_db_jwt=dvb_")), "{cookies:?}");
    // handshake.ts: signed out, and a development instance redirects to the clean URL after a handshake
    assert_eq!(second["status"], "signed-out", "{second:#}");
    assert_eq!(second["reason"], "session-token-missing");
    assert_eq!(second["headers"]["location"], APP_URL);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_refresh_cookie_refreshes_through_the_backend_api() {
    let clerk = MockClerk::builder().kind(InstanceKind::Production).start().await;
    let s = clerk.sign_in();
    let (cookie, _) = expired_cookies(&clerk, &s);
    let with_refresh = format!("{cookie}; {}={}", s.refresh_cookie.name, s.refresh_cookie.value);
    let result = authenticate(&clerk, APP_URL, &with_refresh);
    assert_eq!(result["status"], "signed-in", "{result:#}");
    assert!(session_cookie(&result["setCookies"]).is_some(), "{result:#}");
    let refreshes = clerk.requests_to("POST", &format!("/v1/sessions/{}/refresh", s.session_id));
    assert_eq!(refreshes.len(), 1);
    let body: Value = serde_json::from_str(&refreshes[0].body).unwrap();
    assert_eq!(body["format"], "cookie");
    assert_eq!(body["refresh_token"], s.refresh_cookie.value.as_str());

    // a wrong refresh token is refused, and the SDK falls back to the handshake
    let wrong = format!("{cookie}; {}=rt_wrong", s.refresh_cookie.name);
    let refused = authenticate(&clerk, APP_URL, &wrong);
    assert_eq!(refused["status"], "handshake", "{refused:#}");
    assert_eq!(refused["reason"], "session-token-expired-refresh-refresh_token_invalid");
}
