//! The Frontend API as clerk-js calls it (form bodies, `_method` override, the `__client` cookie, an `Origin`),
//! over HTTP against a running mock-clerk: sign-in with a password and with an email code, sign-up with email
//! verification, tokens, sign-out; Clerk's error objects for wrong input; the bundles; bad input.

use mock_clerk::{InstanceKind, MockClerk};
use reqwest::header::{ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{Value, json};

const ORIGIN: &str = "http://127.0.0.1:3000";

/// A browser: the `__client` cookie mock-clerk set, and the app's origin on every call.
struct Browser {
    http: reqwest::Client,
    client_cookie: std::sync::Mutex<Option<String>>,
}

fn browser() -> Browser {
    Browser { http: reqwest::Client::new(), client_cookie: std::sync::Mutex::new(None) }
}

impl Browser {
    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, url).header(reqwest::header::ORIGIN, ORIGIN);
        if let Some(c) = self.client_cookie.lock().unwrap().as_ref() {
            r = r.header(reqwest::header::COOKIE, c.clone());
        }
        r
    }
    fn get(&self, url: String) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, url)
    }
    fn post(&self, url: String) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url)
    }
    async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let r = req.send().await.unwrap();
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some(pair) = v.split(';').next().filter(|p| p.starts_with("__client=")) {
                *self.client_cookie.lock().unwrap() = Some(pair.to_owned()).filter(|p| p != "__client=");
            }
        }
        r
    }
}

async fn post(b: &Browser, url: String, form: &[(&str, &str)]) -> (u16, Value) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let r = b.send(b.post(url).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body)).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn user(clerk: &MockClerk, email: &str, password: Option<&str>) {
    let mut body = json!({"email_address": [email], "first_name": "Ada", "last_name": "Lovelace"});
    if let Some(p) = password {
        body["password"] = p.into();
    }
    let r = reqwest::Client::new().post(format!("{}/v1/users", clerk.url())).bearer_auth(clerk.secret_key()).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn password_sign_in_creates_a_session_whose_tokens_the_client_refreshes() {
    for kind in [InstanceKind::Development, InstanceKind::Production] {
        let clerk = MockClerk::builder().kind(kind).start().await;
        let base = clerk.url();
        user(&clerk, "ada@example.com", Some("correct-horse-1")).await;
        let b = browser();

        let (status, body) = post(&b, format!("{base}/v1/client/sign_ins"), &[("identifier", "nobody@example.com")]).await;
        assert_eq!((status, code(&body)), (422, "form_identifier_not_found"));

        let (status, body) = post(&b, format!("{base}/v1/client/sign_ins"), &[("identifier", "ada@example.com")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["response"]["status"], "needs_first_factor");
        assert_eq!(body["response"]["supported_first_factors"][0]["strategy"], "password");
        assert_eq!(body["client"]["sign_in"]["id"], body["response"]["id"]);
        let sia = body["response"]["id"].as_str().unwrap().to_owned();

        let attempt = format!("{base}/v1/client/sign_ins/{sia}/attempt_first_factor");
        let (status, body) = post(&b, attempt.clone(), &[("strategy", "password"), ("password", "wrong-one")]).await;
        assert_eq!((status, code(&body)), (422, "form_password_incorrect"));
        let (status, body) = post(&b, attempt, &[("strategy", "password"), ("password", "correct-horse-1")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["response"]["status"], "complete");
        let sid = body["response"]["created_session_id"].as_str().unwrap().to_owned();
        assert_eq!(body["client"]["last_active_session_id"], sid.as_str());
        assert_eq!(body["client"]["sessions"][0]["user"]["first_name"], "Ada");
        assert!(body["client"]["sessions"][0]["last_active_token"]["jwt"].as_str().unwrap().starts_with("eyJ"));

        // The same client (cookie) reads it back; a token for the session carries the page's origin.
        let client: Value = b.send(b.get(format!("{base}/v1/client"))).await.json().await.unwrap();
        assert_eq!(client["response"]["sessions"][0]["id"], sid.as_str());
        let r = b.send(b.post(format!("{base}/v1/client/sessions/{sid}/tokens"))).await;
        assert_eq!(r.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
        assert_eq!(r.headers()[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        let token: Value = r.json().await.unwrap();
        let claims = mock_clerk::tokens::decode_unverified(token["jwt"].as_str().unwrap()).unwrap().claims;
        assert_eq!((claims["sid"].as_str(), claims["azp"].as_str()), (Some(sid.as_str()), Some(ORIGIN)));

        // Another browser cannot use the session.
        let (status, _) = post(&browser(), format!("{base}/v1/client/sessions/{sid}/tokens"), &[]).await;
        assert_eq!(status, 401);

        // clerk-js's signOut(): DELETE /v1/client sent as POST ?_method=DELETE.
        let (status, _) = post(&b, format!("{base}/v1/client?_method=DELETE"), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(clerk.session(&sid).unwrap().status, mock_clerk::store::SessionStatus::Ended);
        let logged = clerk.requests_to("DELETE", "/v1/client");
        assert_eq!(logged.len(), 1, "the override is logged as the method it stands for");
        assert!(clerk.requests().iter().all(|r| !r.body.contains("correct-horse-1") && !r.body.contains("wrong-one")), "passwords are redacted");
    }
}

#[tokio::test]
async fn email_code_sign_in_and_sign_up_use_the_test_code() {
    let clerk = MockClerk::start().await;
    let base = clerk.url();
    user(&clerk, "grace@example.com", None).await;
    let b = browser();
    let (_, body) = post(&b, format!("{base}/v1/client/sign_ins"), &[("identifier", "grace@example.com")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let factor = body["response"]["supported_first_factors"][0].clone();
    assert_eq!(factor["strategy"], "email_code", "a user without a password has only the email code");
    let eid = factor["email_address_id"].as_str().unwrap();
    let (status, body) =
        post(&b, format!("{base}/v1/client/sign_ins/{sia}/prepare_first_factor"), &[("strategy", "email_code"), ("email_address_id", eid)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["first_factor_verification"]["status"], "unverified");
    let codes: Value = reqwest::get(format!("{base}/__mock/codes?identifier=grace@example.com")).await.unwrap().json().await.unwrap();
    assert_eq!(codes[0]["code"], "424242");
    let attempt = format!("{base}/v1/client/sign_ins/{sia}/attempt_first_factor");
    let (status, body) = post(&b, attempt.clone(), &[("strategy", "email_code"), ("code", "111111")]).await;
    assert_eq!((status, code(&body)), (422, "form_code_incorrect"));
    let (status, body) = post(&b, attempt, &[("strategy", "email_code"), ("code", "424242")]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (200, Some("complete")));

    // Sign-up: fields, then the email code; the user exists afterwards, with the password it chose.
    let b = browser();
    let (status, body) = post(&b, format!("{base}/v1/client/sign_ups"), &[("email_address", "grace@example.com"), ("password", "x12345678")]).await;
    assert_eq!((status, code(&body)), (422, "form_identifier_exists"));
    let (status, body) = post(&b, format!("{base}/v1/client/sign_ups"), &[("email_address", "linus@example.com"), ("password", "short")]).await;
    assert_eq!((status, code(&body)), (422, "form_password_length_too_short"));
    let form = [("email_address", "linus@example.com"), ("password", "penguin-123"), ("first_name", "Linus")];
    let (status, body) = post(&b, format!("{base}/v1/client/sign_ups"), &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["unverified_fields"], json!(["email_address"]));
    let sua = body["response"]["id"].as_str().unwrap().to_owned();
    let (_, body) = post(&b, format!("{base}/v1/client/sign_ups/{sua}/prepare_verification"), &[("strategy", "email_code")]).await;
    assert_eq!(body["response"]["verifications"]["email_address"]["next_action"], "needs_attempt");
    let (status, body) =
        post(&b, format!("{base}/v1/client/sign_ups/{sua}/attempt_verification"), &[("strategy", "email_code"), ("code", "424242")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    assert_eq!(body["client"]["sessions"][0]["user"]["email_addresses"][0]["email_address"], "linus@example.com");

    // The new user signs in with that password elsewhere.
    let b = browser();
    let (_, body) =
        post(&b, format!("{base}/v1/client/sign_ins"), &[("identifier", "linus@example.com"), ("strategy", "password"), ("password", "penguin-123")])
            .await;
    assert_eq!(body["response"]["status"], "complete", "{body}");
}

#[tokio::test]
async fn bad_input_gets_an_envelope_never_a_5xx() {
    let clerk = MockClerk::start().await;
    let base = clerk.url();
    let b = browser();
    for (method, path, body, ct) in [
        ("POST", "/v1/client/sign_ins", "{not json", "application/json"),
        ("POST", "/v1/client/sign_ins/sia_nope/attempt_first_factor", "strategy=password", "application/x-www-form-urlencoded"),
        ("POST", "/v1/client/sign_ups/sua_nope/attempt_verification", "", "application/x-www-form-urlencoded"),
        ("POST", "/v1/client/sessions/sess_nope/tokens", "", "application/x-www-form-urlencoded"),
        ("POST", "/v1/client/sign_ups", "unsafe_metadata=%7Bnope", "application/x-www-form-urlencoded"),
        ("GET", "/v1/me", "", "text/plain"),
        ("GET", "/v1/client/nothing_here", "", "text/plain"),
    ] {
        let r = b.send(b.request(method.parse().unwrap(), format!("{base}{path}")).header(CONTENT_TYPE, ct).body(body)).await;
        let status = r.status().as_u16();
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json", "{method} {path}");
        let v: Value = r.json().await.unwrap();
        assert!((400..500).contains(&status) && v["errors"][0]["code"].is_string(), "{method} {path}: {status} {v}");
    }
    let unknown = clerk.requests_to("GET", "/v1/client/nothing_here");
    assert_eq!(unknown[0].status, 404, "an unanswered Frontend API call is in the request log");

    // Bundles: served with a JavaScript type, and never outside the package.
    install_bundles();
    let r = reqwest::get(format!("{base}/npm/@clerk/clerk-js@6/dist/clerk.browser.js")).await.unwrap();
    assert_eq!(r.status(), 200, "run `npm ci --prefix fixtures/clerk-bundles` first");
    assert_eq!(r.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(r.headers()[CACHE_CONTROL], "public, max-age=300");
    let version: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/clerk-bundles/node_modules/@clerk/clerk-js/package.json"))
            .unwrap(),
    )
    .unwrap();
    let exact = format!("{base}/npm/@clerk/clerk-js@{}/dist/clerk.browser.js", version["version"].as_str().unwrap());
    assert_eq!(reqwest::get(exact).await.unwrap().headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    for path in [
        "/npm/@clerk/clerk-js@6/dist/..%2Fpackage.json",
        "/npm/@clerk/clerk-js@6/dist/%2e%2e/%2e%2e/ui/package.json",
        "/npm/@clerk/backend@3/dist/index.js",
        "/npm/@clerk/ui@1/dist/.hidden",
    ] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["errors"][0]["code"], "resource_not_found", "{path}");
    }
}

/// `npm ci` of fixtures/clerk-bundles (the pinned clerk-js and UI bundle) when it is not installed yet.
fn install_bundles() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/clerk-bundles");
    if std::path::Path::new(dir).join("node_modules/@clerk/clerk-js/package.json").exists() {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts", "--prefix", dir])
        .status()
        .expect("npm (Node 20) is needed to install fixtures/clerk-bundles");
    assert!(status.success(), "npm ci --prefix fixtures/clerk-bundles failed");
}

/// The example seed file (`fixtures/seed.example.toml`).
const SEED_EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/seed.example.toml");

#[tokio::test]
async fn the_example_seed_gives_users_that_sign_in_with_their_password() {
    let clerk = MockClerk::builder().seed_file(SEED_EXAMPLE).start().await;
    let base = clerk.url();
    let http = reqwest::Client::new();
    let users: Value =
        http.get(format!("{base}/v1/users?order_by=first_name")).bearer_auth(clerk.secret_key()).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["first_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ada", "Alan", "Grace"]);
    let (ada, grace) = (&users[0], &users[2]);
    assert_eq!((ada["username"].as_str(), ada["external_id"].as_str()), (Some("ada_l"), Some("crm-42")));
    assert_eq!(ada["public_metadata"], json!({"role": "admin", "plan": "pro"}));
    assert_eq!(ada["private_metadata"], json!({"stripe_customer": "cus_123"}));
    assert_eq!(grace["public_metadata"], json!({"role": "member", "teams": ["compilers", "navy"]}));
    assert_eq!(grace["unsafe_metadata"], json!({"preferences": {"theme": "dark"}}));
    assert_eq!(grace["email_addresses"].as_array().map(Vec::len), Some(2));
    assert_eq!(grace["phone_numbers"][0]["phone_number"], "+15555550100");
    assert_eq!((grace["totp_enabled"].as_bool(), grace["backup_code_enabled"].as_bool()), (Some(true), Some(true)));
    assert_eq!(users[1]["password_enabled"], false);

    let b = browser();
    let (status, body) = post(&b, format!("{base}/v1/client/sign_ins"), &[("identifier", "ada@example.com")]).await;
    assert_eq!(status, 200, "{body}");
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let attempt = format!("{base}/v1/client/sign_ins/{sia}/attempt_first_factor");
    let (status, body) = post(&b, attempt.clone(), &[("strategy", "password"), ("password", "not the password")]).await;
    assert_eq!((status, code(&body)), (422, "form_password_incorrect"));
    let (status, body) = post(&b, attempt, &[("strategy", "password"), ("password", "correct horse battery")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    let signed_in_user = &body["client"]["sessions"][0]["user"];
    assert_eq!(signed_in_user["id"], ada["id"]);
    assert!(signed_in_user["last_sign_in_at"].as_i64().is_some(), "a password sign-in is a sign-in: {signed_in_user}");
    assert_eq!(signed_in_user["public_metadata"], json!({"role": "admin", "plan": "pro"}));
    assert!(signed_in_user.get("private_metadata").is_none(), "the Frontend API never shows private metadata: {signed_in_user}");
    let client: Value = b.send(b.get(format!("{base}/v1/client"))).await.json().await.unwrap();
    let text = client.to_string();
    assert!(!text.contains("private_metadata") && !text.contains("cus_123"), "{text}");

    // The seeded organization: Ada is its admin, and once it is her active organization her token says so
    // (with the permission the seed granted org:admin).
    let orgs: Value = http.get(format!("{base}/v1/organizations/acme")).bearer_auth(clerk.secret_key()).send().await.unwrap().json().await.unwrap();
    assert_eq!((orgs["name"].as_str(), orgs["public_metadata"]["industry"].as_str()), (Some("Acme Corp"), Some("anvils")), "{orgs}");
    let url = format!("{base}/v1/users/{}/organization_memberships", ada["id"].as_str().unwrap());
    let memberships: Value = http.get(url).bearer_auth(clerk.secret_key()).send().await.unwrap().json().await.unwrap();
    assert_eq!(memberships["total_count"], 1, "{memberships}");
    assert_eq!((memberships["data"][0]["organization"]["slug"].as_str(), memberships["data"][0]["role"].as_str()), (Some("acme"), Some("org:admin")));
    let sid = body["client"]["sessions"][0]["id"].as_str().unwrap();
    let org_id = orgs["id"].as_str().unwrap();
    let (status, touched) = post(&b, format!("{base}/v1/client/sessions/{sid}/touch"), &[("active_organization_id", org_id)]).await;
    assert_eq!(status, 200, "{touched}");
    let (status, token) = post(&b, format!("{base}/v1/client/sessions/{sid}/tokens"), &[]).await;
    assert_eq!(status, 200, "{token}");
    let claims = mock_clerk::tokens::decode_unverified(token["jwt"].as_str().unwrap()).unwrap().claims;
    assert_eq!(
        (claims["o"]["id"].as_str(), claims["o"]["slg"].as_str(), claims["o"]["rol"].as_str()),
        (Some(org_id), Some("acme"), Some("admin")),
        "{claims:?}"
    );
    assert!(claims["fea"].as_str().is_some_and(|f| f.split(',').any(|f| f == "o:reports")), "seeded permission org:reports:read: {claims:?}");

    // The seeded JWT template renders her claims (`getToken({ template: "supabase" })`).
    let (status, token) = post(&b, format!("{base}/v1/client/sessions/{sid}/tokens/supabase"), &[]).await;
    assert_eq!(status, 200, "{token}");
    let claims = mock_clerk::tokens::decode_unverified(token["jwt"].as_str().unwrap()).unwrap().claims;
    assert_eq!(
        (claims["email"].as_str(), claims["plan"].as_str(), claims["org_slug"].as_str()),
        (Some("ada@example.com"), Some("pro"), Some("acme")),
        "{claims:?}"
    );
    assert_eq!((claims["aud"].as_str(), claims["sub"].as_str()), (Some("authenticated"), ada["id"].as_str()), "{claims:?}");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600, "{claims:?}");

    // The seeded machines and API keys: scoped by name, and Ada's key verifies as hers.
    let bapi = |path: String| http.get(format!("{base}{path}")).bearer_auth(clerk.secret_key()).send();
    let machines: Value = bapi("/v1/machines".into()).await.unwrap().json().await.unwrap();
    let gateway = machines["data"].as_array().unwrap().iter().find(|m| m["name"] == "api-gateway").expect("api-gateway");
    assert_eq!(
        (gateway["default_token_ttl"].as_u64(), gateway["scoped_machines"][0]["name"].as_str()),
        (Some(600), Some("billing-worker")),
        "{gateway}"
    );
    let keys: Value = bapi(format!("/api_keys?subject={}", ada["id"].as_str().unwrap())).await.unwrap().json().await.unwrap();
    assert_eq!(keys["total_count"], 1, "{keys}");
    let secret: Value = bapi(format!("/api_keys/{}/secret", keys["data"][0]["id"].as_str().unwrap())).await.unwrap().json().await.unwrap();
    let verify = http.post(format!("{base}/api_keys/verify")).bearer_auth(clerk.secret_key()).json(&json!({"secret": secret["secret"]}));
    let verified: Value = verify.send().await.unwrap().json().await.unwrap();
    assert_eq!((verified["subject"].as_str(), verified["name"].as_str()), (ada["id"].as_str(), Some("ada's CLI")), "{verified}");
    assert_eq!((verified["scopes"].clone(), verified["claims"].clone()), (json!(["reports:read"]), json!({"team": "analytics"})), "{verified}");
    let keys: Value = bapi(format!("/api_keys?subject={org_id}")).await.unwrap().json().await.unwrap();
    assert_eq!(keys["data"][0]["name"], "acme integration", "{keys}");
}
