//! Social sign-in over HTTP, as clerk-js and a browser drive it: the providers in the environment, the sign-in
//! that sends the browser to mock-clerk's consent page, Allow/Deny, the OAuth callback back to the SSO callback,
//! the sign-up transfer for a new user, linking for an existing one, the Backend API's external accounts and
//! access tokens; and the bad input (tampered or spent state, unknown provider, nothing to transfer).

use crate::common::openapi;

use mock_clerk::MockClerk;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::{Value, json};

const ORIGIN: &str = "http://127.0.0.1:3000";
const SSO_CALLBACK: &str = "http://127.0.0.1:3000/auth/sign-in/sso-callback";

/// A browser holding mock-clerk's `__client` cookie; redirects are not followed (the test reads them).
struct Browser {
    http: reqwest::Client,
    cookie: std::sync::Mutex<Option<String>>,
}

impl Browser {
    fn new() -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, cookie: std::sync::Mutex::new(None) }
    }
    async fn send(&self, method: reqwest::Method, url: &str, form: Option<&[(&str, &str)]>) -> (u16, reqwest::header::HeaderMap, String) {
        let mut r = self.http.request(method, url).header(reqwest::header::ORIGIN, ORIGIN);
        if let Some(c) = self.cookie.lock().unwrap().as_ref() {
            r = r.header(reqwest::header::COOKIE, c.clone());
        }
        if let Some(form) = form {
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            r = r.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
        }
        let r = r.send().await.unwrap();
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            if let Some(pair) = v.to_str().unwrap().split(';').next().filter(|p| p.starts_with("__client=")) {
                *self.cookie.lock().unwrap() = Some(pair.to_owned());
            }
        }
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.text().await.unwrap())
    }
    async fn post(&self, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let (s, _, body) = self.send(reqwest::Method::POST, url, Some(form)).await;
        (s, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
    async fn get_json(&self, url: &str) -> Value {
        serde_json::from_str(&self.send(reqwest::Method::GET, url, None).await.2).unwrap()
    }
    /// Follows one redirect: its `Location`.
    async fn follow(&self, method: reqwest::Method, url: &str, form: Option<&[(&str, &str)]>) -> (u16, String) {
        let (status, headers, _) = self.send(method, url, form).await;
        (status, headers.get(LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default())
    }
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

async fn clerk() -> MockClerk {
    MockClerk::builder().oauth_provider("google,github").start().await
}

/// Starts a sign-in with a provider: the consent page URL and the state.
async fn start(b: &Browser, base: &str, strategy: &str) -> (String, String) {
    let (status, body) = b
        .post(
            &format!("{base}/v1/client/sign_ins"),
            &[("strategy", strategy), ("redirect_url", SSO_CALLBACK), ("action_complete_redirect_url", "http://127.0.0.1:3000/")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ffv = &body["response"]["first_factor_verification"];
    assert_eq!(ffv["status"], "unverified");
    assert_eq!(ffv["strategy"], strategy);
    let consent = ffv["external_verification_redirect_url"].as_str().unwrap().to_owned();
    assert!(consent.starts_with(&format!("{base}/oauth/consent?state=")), "{consent}");
    let state = consent.split("state=").nth(1).unwrap().to_owned();
    (consent, state)
}

/// Consents on the page as the typed identity: the callback URL the "provider" sends the browser to.
async fn allow(b: &Browser, base: &str, state: &str, fields: &[(&str, &str)]) -> String {
    let mut form = vec![("state", state), ("decision", "allow")];
    form.extend_from_slice(fields);
    let (status, to) = b.follow(reqwest::Method::POST, &format!("{base}/oauth/consent"), Some(&form)).await;
    assert_eq!(status, 303);
    assert!(to.starts_with(&format!("{base}/v1/oauth_callback?state={state}&code=")), "{to}");
    to
}

#[tokio::test]
async fn environment_lists_the_enabled_providers_with_logos_served_locally() {
    let clerk = clerk().await;
    let base = clerk.url();
    let env: Value = reqwest::get(format!("{base}/v1/environment")).await.unwrap().json().await.unwrap();
    let social = env["user_settings"]["social"].as_object().unwrap();
    assert_eq!(social.keys().collect::<Vec<_>>(), ["oauth_github", "oauth_google"]);
    let google = &social["oauth_google"];
    assert_eq!((google["enabled"].as_bool(), google["authenticatable"].as_bool(), google["name"].as_str()), (Some(true), Some(true), Some("Google")));
    let logo = google["logo_url"].as_str().unwrap();
    assert!(logo.starts_with(&base), "{logo}");
    let r = reqwest::get(logo).await.unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "image/svg+xml");
    assert!(r.text().await.unwrap().starts_with("<svg"));

    let none = MockClerk::start().await;
    let env: Value = reqwest::get(format!("{}/v1/environment", none.url())).await.unwrap().json().await.unwrap();
    assert_eq!(env["user_settings"]["social"], json!({}));
    assert!(MockClerk::builder().oauth_provider("myspace").try_start().await.is_err());
}

#[tokio::test]
async fn a_new_identity_comes_back_transferable_and_the_sign_up_transfer_creates_the_user() {
    let clerk = clerk().await;
    let base = clerk.url();
    let b = Browser::new();
    let (consent, state) = start(&b, &base, "oauth_google").await;
    let (status, _, page) = b.send(reqwest::Method::GET, &consent, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Sign in with Google") && page.contains("name=\"decision\" value=\"deny\""), "{page}");

    let callback = allow(&b, &base, &state, &[("email", "grace@example.com"), ("first_name", "Grace"), ("last_name", "Hopper")]).await;
    let (status, to) = b.follow(reqwest::Method::GET, &callback, None).await;
    assert_eq!((status, to.as_str()), (303, SSO_CALLBACK));
    // The state is spent: a replayed callback is refused.
    let (status, _, body) = b.send(reqwest::Method::GET, &callback, None).await;
    assert_eq!((status, code(&serde_json::from_str(&body).unwrap())), (400, "oauth_callback_invalid"));

    let client = b.get_json(&format!("{base}/v1/client")).await;
    let sign_in = &client["response"]["sign_in"];
    assert_eq!(sign_in["first_factor_verification"]["status"], "transferable", "{sign_in}");
    assert_eq!(sign_in["first_factor_verification"]["error"]["code"], "external_account_not_found");
    assert_eq!(clerk.state().store().user_by_email("grace@example.com"), None, "nobody is created before the transfer");

    let (status, body) = b.post(&format!("{base}/v1/client/sign_ups"), &[("transfer", "true")]).await;
    assert_eq!(status, 200, "{body}");
    let su = &body["response"];
    assert_eq!(su["status"], "complete");
    assert_eq!(su["verifications"]["external_account"]["status"], "verified");
    let user_id = su["created_user_id"].as_str().unwrap().to_owned();
    assert_eq!(body["client"]["sessions"][0]["user"]["external_accounts"][0]["provider"], "google");
    assert_eq!(body["client"]["sign_in"], Value::Null, "the transferred sign-in leaves the client");
    // Transferred once.
    let (status, again) = b.post(&format!("{base}/v1/client/sign_ups"), &[("transfer", "true")]).await;
    assert_eq!((status, code(&again)), (400, "transfer_invalid"));

    let api = reqwest::Client::new();
    let user: Value = api.get(format!("{base}/v1/users/{user_id}")).bearer_auth(clerk.secret_key()).send().await.unwrap().json().await.unwrap();
    openapi::assert_conforms("GET", &format!("/v1/users/{user_id}"), 200, &user);
    let eac = &user["external_accounts"][0];
    assert_eq!(
        (eac["provider"].as_str(), eac["email_address"].as_str(), eac["first_name"].as_str()),
        (Some("oauth_google"), Some("grace@example.com"), Some("Grace"))
    );
    assert_eq!(eac["identification_id"], user["primary_email_address_id"]);
    let tokens: Value = api
        .get(format!("{base}/v1/users/{user_id}/oauth_access_tokens/oauth_google?paginated=true"))
        .bearer_auth(clerk.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tokens["total_count"], 1);
    // The spec describes the plain list; `paginated=true` (what the SDK asks for) wraps it in `{data, total_count}`.
    openapi::assert_conforms("GET", &format!("/v1/users/{user_id}/oauth_access_tokens/oauth_google"), 200, &tokens["data"]);
    assert_eq!(tokens["data"][0]["external_account_id"], eac["id"]);
    assert!(tokens["data"][0]["token"].as_str().unwrap().starts_with("mock_oauth_google_"));
    let github: Value = api
        .get(format!("{base}/v1/users/{user_id}/oauth_access_tokens/oauth_github"))
        .bearer_auth(clerk.secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(github, json!([]));
    let bad = api.get(format!("{base}/v1/users/{user_id}/oauth_access_tokens/myspace")).bearer_auth(clerk.secret_key()).send().await.unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn an_existing_user_is_linked_by_email_and_signed_in_and_found_again_by_the_account() {
    let clerk = clerk().await;
    let base = clerk.url();
    let api = reqwest::Client::new();
    let user: Value = api
        .post(format!("{base}/v1/users"))
        .bearer_auth(clerk.secret_key())
        .json(&json!({"email_address": ["ada@example.com"], "first_name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = user["id"].as_str().unwrap();
    for round in 0..2 {
        let b = Browser::new();
        let (_, state) = start(&b, &base, "oauth_github").await;
        let callback = allow(&b, &base, &state, &[("user_id", user_id)]).await;
        let (status, to) = b.follow(reqwest::Method::GET, &callback, None).await;
        assert_eq!((status, to.as_str()), (303, SSO_CALLBACK));
        let client = b.get_json(&format!("{base}/v1/client")).await;
        let sign_in = &client["response"]["sign_in"];
        assert_eq!(sign_in["status"], "complete", "round {round}: {sign_in}");
        let sid = sign_in["created_session_id"].as_str().unwrap();
        assert_eq!(client["response"]["sessions"][0]["id"], sid);
        assert_eq!(client["response"]["sessions"][0]["user"]["id"], user_id);
        // setActive touches the session: the finished sign-in leaves the client.
        let (status, body) = b.post(&format!("{base}/v1/client/sessions/{sid}/touch"), &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(b.get_json(&format!("{base}/v1/client")).await["response"]["sign_in"], Value::Null);
    }
    let user: Value = api.get(format!("{base}/v1/users/{user_id}")).bearer_auth(clerk.secret_key()).send().await.unwrap().json().await.unwrap();
    assert_eq!(user["external_accounts"].as_array().unwrap().len(), 1, "linked once, found again the second time");
    assert_eq!(user["external_accounts"][0]["provider"], "oauth_github");
}

#[tokio::test]
async fn denied_consent_fails_the_verification_with_oauth_access_denied() {
    let clerk = clerk().await;
    let base = clerk.url();
    let b = Browser::new();
    let (_, state) = start(&b, &base, "oauth_google").await;
    let (status, to) = b.follow(reqwest::Method::POST, &format!("{base}/oauth/consent"), Some(&[("state", &state), ("decision", "deny")])).await;
    assert_eq!(status, 303);
    assert!(to.contains("error=access_denied"), "{to}");
    let (status, back) = b.follow(reqwest::Method::GET, &to, None).await;
    assert_eq!((status, back.as_str()), (303, SSO_CALLBACK));
    let client = b.get_json(&format!("{base}/v1/client")).await;
    let ffv = &client["response"]["sign_in"]["first_factor_verification"];
    assert_eq!((ffv["status"].as_str(), ffv["error"]["code"].as_str()), (Some("failed"), Some("oauth_access_denied")), "{ffv}");
    assert_eq!(ffv["external_verification_redirect_url"], Value::Null);
    assert_eq!(client["response"]["sessions"], json!([]));
    assert_eq!(clerk.state().store().user_count(&Default::default()), 0);
}

#[tokio::test]
async fn bad_input_gets_clerks_errors_and_creates_nothing() {
    let clerk = clerk().await;
    let base = clerk.url();
    let b = Browser::new();
    // A provider the instance does not enable, and a missing redirect URL.
    let (status, body) = b.post(&format!("{base}/v1/client/sign_ins"), &[("strategy", "oauth_microsoft"), ("redirect_url", SSO_CALLBACK)]).await;
    assert_eq!((status, code(&body), body["errors"][0]["meta"]["param_name"].as_str()), (422, "form_param_format_invalid", Some("strategy")));
    let (status, body) = b.post(&format!("{base}/v1/client/sign_ins"), &[("strategy", "oauth_google")]).await;
    assert_eq!((status, code(&body)), (422, "form_param_missing"));
    // Tampered, unknown or missing state; a callback with no pending sign-in; a wrong code.
    let (_, state) = start(&b, &base, "oauth_google").await;
    for url in [
        format!("{base}/oauth/consent?state={state}x"),
        format!("{base}/oauth/consent"),
        format!("{base}/v1/oauth_callback?state=oauth_state_nope&code=x"),
        format!("{base}/v1/oauth_callback"),
        format!("{base}/v1/oauth_callback?state={state}&code=guessed"),
        format!("{base}/v1/oauth_callback?state={state}"),
    ] {
        let (status, _, body) = b.send(reqwest::Method::GET, &url, None).await;
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{url}: not JSON: {body}"));
        assert_eq!((status, code(&body)), (400, "oauth_callback_invalid"), "{url}");
    }
    let (status, body) = b.post(&format!("{base}/oauth/consent"), &[("state", &state), ("decision", "allow"), ("email", "not-an-email")]).await;
    assert_eq!((status, code(&body)), (422, "form_param_format_invalid"));
    let (status, body) = b.post(&format!("{base}/oauth/consent"), &[("state", &state), ("decision", "maybe")]).await;
    assert_eq!((status, code(&body)), (422, "form_param_format_invalid"));
    // Nothing to transfer on this client.
    let (status, body) = b.post(&format!("{base}/v1/client/sign_ups"), &[("transfer", "true")]).await;
    assert_eq!((status, code(&body)), (400, "transfer_invalid"));
    assert_eq!(clerk.state().store().user_count(&Default::default()), 0);
    // The flow still works after all that; once consent is given, only the code the page issued completes it.
    let callback = allow(&b, &base, &state, &[("email", "late@example.com")]).await;
    let guessed = format!("{base}/v1/oauth_callback?state={state}&code=code_guessed");
    let (status, _, body) = b.send(reqwest::Method::GET, &guessed, None).await;
    assert_eq!((status, code(&serde_json::from_str(&body).unwrap())), (400, "oauth_callback_invalid"), "a guessed code");
    assert_eq!(b.follow(reqwest::Method::GET, &callback, None).await.1, SSO_CALLBACK);
}

#[tokio::test]
async fn a_sign_up_started_with_a_provider_is_refused_with_an_envelope() {
    let clerk = clerk().await;
    let b = Browser::new();
    let (status, body) =
        b.post(&format!("{}/v1/client/sign_ups", clerk.url()), &[("strategy", "oauth_google"), ("redirect_url", SSO_CALLBACK)]).await;
    assert_eq!((status, code(&body)), (422, "strategy_for_user_invalid"));
    assert_eq!(clerk.state().store().user_count(&Default::default()), 0);
}
