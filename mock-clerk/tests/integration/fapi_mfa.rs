//! Second factors over HTTP, as clerk-js drives them: users created with `totp_secret`, `backup_codes` and
//! `phone_number` through the Backend API; a sign-in that `needs_second_factor` after the password; TOTP
//! (right, wrong, reused, by mock-clerk's clock), SMS codes and single-use backup codes; the control API's
//! TOTP view; `fva` in every minted token, ageing with the clock; Clerk's errors for bad input.

use std::time::Duration;

use mock_clerk::MockClerk;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

const ORIGIN: &str = "http://127.0.0.1:3000";
const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PASSWORD: &str = "correct-horse-1";
const PHONE: &str = "+12015550100";

/// A browser: keeps the `__client` cookie.
struct Browser {
    http: reqwest::Client,
    cookie: std::sync::Mutex<Option<String>>,
}

impl Browser {
    fn new() -> Self {
        Self { http: reqwest::Client::new(), cookie: std::sync::Mutex::new(None) }
    }
    async fn post(&self, url: String, form: &[(&str, &str)]) -> (u16, Value) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut r = self.http.post(url).header(reqwest::header::ORIGIN, ORIGIN).header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
        if let Some(c) = self.cookie.lock().unwrap().clone() {
            r = r.header(reqwest::header::COOKIE, c);
        }
        let r = r.send().await.unwrap();
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            if let Some(pair) = v.to_str().unwrap().split(';').next().filter(|p| p.starts_with("__client=")) {
                *self.cookie.lock().unwrap() = Some(pair.to_owned());
            }
        }
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

async fn bapi(clerk: &MockClerk, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r =
        reqwest::Client::new().request(method, format!("{}{path}", clerk.url())).bearer_auth(clerk.secret_key()).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Creates a user with a password and `extra` fields; returns the user JSON.
async fn user(clerk: &MockClerk, email: &str, extra: Value) -> Value {
    let mut body = json!({"email_address": [email], "password": PASSWORD, "first_name": "Ada"});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let (status, user) = bapi(clerk, reqwest::Method::POST, "/v1/users", body).await;
    assert_eq!(status, 200, "{user}");
    user
}

/// Identifies and passes the password; returns the sign-in id and the answer.
async fn after_password(b: &Browser, base: &str, email: &str) -> (String, Value) {
    let (status, body) =
        b.post(format!("{base}/v1/client/sign_ins"), &[("identifier", email), ("strategy", "password"), ("password", PASSWORD)]).await;
    assert_eq!(status, 200, "{body}");
    (body["response"]["id"].as_str().unwrap().to_owned(), body)
}

fn claims(jwt: &str) -> Value {
    mock_clerk::tokens::decode_unverified(jwt).unwrap().claims
}

#[tokio::test]
async fn users_show_their_second_factors_but_never_the_secrets() {
    let clerk = MockClerk::start().await;
    let u = user(&clerk, "ada@example.com", json!({"totp_secret": SECRET, "backup_codes": ["one-1", "two-2"], "phone_number": [PHONE]})).await;
    assert_eq!(
        (u["totp_enabled"].as_bool(), u["backup_code_enabled"].as_bool(), u["two_factor_enabled"].as_bool()),
        (Some(true), Some(true), Some(true))
    );
    let phone = &u["phone_numbers"][0];
    assert_eq!((phone["object"].as_str(), phone["phone_number"].as_str()), (Some("phone_number"), Some(PHONE)));
    for field in ["id", "reserved_for_second_factor", "default_second_factor", "reserved", "verification", "linked_to", "created_at", "updated_at"] {
        assert!(phone.get(field).is_some(), "PhoneNumber has {field}");
    }
    assert_eq!(u["primary_phone_number_id"], phone["id"]);
    let text = u.to_string();
    assert!(!text.contains(SECRET) && !text.contains("one-1"), "secrets are never shown: {text}");

    // Bad second-factor input is refused with Clerk's envelope.
    for bad in
        [json!({"totp_secret": "not base32!"}), json!({"phone_number": ["12"]}), json!({"backup_codes": [""]}), json!({"phone_number": [PHONE]})]
    {
        let mut body = json!({"email_address": ["x@example.com"]});
        body.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        let (status, err) = bapi(&clerk, reqwest::Method::POST, "/v1/users", body).await;
        assert!(status == 422 || status == 400, "{bad}: {status} {err}");
        assert!(err["errors"][0]["code"].is_string(), "{err}");
    }

    // A phone number becomes a second factor when reserved for it.
    let pid = phone["id"].as_str().unwrap();
    let (status, p) = bapi(&clerk, reqwest::Method::PATCH, &format!("/v1/phone_numbers/{pid}"), json!({"reserved_for_second_factor": true})).await;
    assert_eq!((status, p["reserved_for_second_factor"].as_bool(), p["default_second_factor"].as_bool()), (200, Some(true), Some(true)));
    let (status, err) = bapi(&clerk, reqwest::Method::PATCH, "/v1/phone_numbers/idn_nope", json!({"reserved_for_second_factor": true})).await;
    assert_eq!((status, code(&err)), (404, "resource_not_found"));

    // The control API shows the secret and the code of now.
    let uid = u["id"].as_str().unwrap();
    let view = clerk.totp(uid).unwrap();
    assert_eq!(view.secret, SECRET);
    assert_eq!(Some(view.code.clone()), mock_clerk::mfa::totp_code(SECRET, clerk.state().clock().now_ms()));
    let over_http: Value = reqwest::get(format!("{}/__mock/users/{uid}/totp", clerk.url())).await.unwrap().json().await.unwrap();
    assert_eq!(over_http["secret"], SECRET);
    assert_eq!(reqwest::get(format!("{}/__mock/users/user_nope/totp", clerk.url())).await.unwrap().status(), 404);
}

#[tokio::test]
async fn totp_completes_the_sign_in_once_per_step_and_fva_ages_with_the_clock() {
    let clerk = MockClerk::start().await;
    let base = clerk.url();
    let uid = user(&clerk, "ada@example.com", json!({"totp_secret": SECRET})).await["id"].as_str().unwrap().to_owned();
    let b = Browser::new();

    // Before the first factor, the second cannot be attempted.
    let (status, body) = b.post(format!("{base}/v1/client/sign_ins"), &[("identifier", "ada@example.com")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    assert!(body["response"]["supported_second_factors"].is_null());
    let (status2, err) = b.post(format!("{base}/v1/client/sign_ins/{sia}/attempt_second_factor"), &[("strategy", "totp"), ("code", "000000")]).await;
    assert_eq!((status, status2, code(&err)), (200, 400, "verification_not_ready"));

    let (sia, body) = after_password(&b, &base, "ada@example.com").await;
    assert_eq!(body["response"]["status"], "needs_second_factor");
    assert_eq!(body["response"]["supported_second_factors"], json!([{"strategy": "totp"}]));
    assert!(body["response"]["created_session_id"].is_null() && body["client"]["sessions"] == json!([]), "no session before the second factor");

    let attempt = format!("{base}/v1/client/sign_ins/{sia}/attempt_second_factor");
    let (status, err) = b.post(attempt.clone(), &[("strategy", "totp"), ("code", "12345x")]).await;
    assert_eq!((status, code(&err)), (422, "form_code_incorrect"));
    let (status, err) = b.post(attempt.clone(), &[("strategy", "phone_code"), ("code", "424242")]).await;
    assert_eq!((status, code(&err)), (400, "verification_not_ready"), "no phone_code prepared");
    let (status, err) = b.post(attempt.clone(), &[("strategy", "backup_code"), ("code", "x")]).await;
    assert_eq!((status, code(&err)), (422, "strategy_for_user_invalid"), "{err}");
    let (status, err) = b.post(attempt.clone(), &[("strategy", "carrier_pigeon"), ("code", "x")]).await;
    assert_eq!((status, code(&err)), (422, "strategy_for_user_invalid"), "{err}");

    let now_code = clerk.totp(&uid).unwrap().code;
    let (status, body) = b.post(attempt.clone(), &[("strategy", "totp"), ("code", &now_code)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    assert_eq!(body["response"]["second_factor_verification"]["status"], "verified");
    let sid = body["response"]["created_session_id"].as_str().unwrap().to_owned();
    let session = &body["client"]["sessions"][0];
    assert_eq!(session["factor_verification_age"], json!([0, 0]));
    assert_eq!(claims(session["last_active_token"]["jwt"].as_str().unwrap())["fva"], json!([0, 0]));

    // The same code again, on a new sign-in within its step: refused as Clerk refuses a wrong code.
    let b2 = Browser::new();
    let (sia2, _) = after_password(&b2, &base, "ada@example.com").await;
    let (status, err) =
        b2.post(format!("{base}/v1/client/sign_ins/{sia2}/attempt_second_factor"), &[("strategy", "totp"), ("code", &now_code)]).await;
    assert_eq!((status, code(&err)), (422, "form_code_incorrect"), "a reused TOTP code is refused");

    // 11 minutes later, every mint path says so: the Frontend API, the Backend API and the handshake's token.
    clerk.advance(Duration::from_secs(11 * 60));
    let (_, token) = b.post(format!("{base}/v1/client/sessions/{sid}/tokens"), &[]).await;
    assert_eq!(claims(token["jwt"].as_str().unwrap())["fva"], json!([11, 11]));
    let (status, token) = bapi(&clerk, reqwest::Method::POST, &format!("/v1/sessions/{sid}/tokens"), json!({})).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(claims(token["jwt"].as_str().unwrap())["fva"], json!([11, 11]));

    // The next step's code is accepted on the second browser.
    let later = clerk.totp(&uid).unwrap().code;
    let (status, body) = b2.post(format!("{base}/v1/client/sign_ins/{sia2}/attempt_second_factor"), &[("strategy", "totp"), ("code", &later)]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (200, Some("complete")), "{body}");

    // A user without a second factor: fva's second element stays -1 and the first ages.
    let signed_in = clerk.sign_in();
    clerk.advance(Duration::from_secs(3 * 60));
    let (_, token) = bapi(&clerk, reqwest::Method::POST, &format!("/v1/sessions/{}/tokens", signed_in.session_id), json!({})).await;
    assert_eq!(claims(token["jwt"].as_str().unwrap())["fva"], json!([3, -1]));
}

#[tokio::test]
async fn sms_codes_and_backup_codes_complete_the_sign_in() {
    let clerk = MockClerk::start().await;
    let base = clerk.url();
    let u = user(&clerk, "grace@example.com", json!({"phone_number": [PHONE], "backup_codes": ["alpha-1", "bravo-2"]})).await;
    let pid = u["phone_numbers"][0]["id"].as_str().unwrap().to_owned();
    bapi(&clerk, reqwest::Method::PATCH, &format!("/v1/phone_numbers/{pid}"), json!({"reserved_for_second_factor": true})).await;

    let b = Browser::new();
    let (sia, body) = after_password(&b, &base, "grace@example.com").await;
    let factors = &body["response"]["supported_second_factors"];
    assert_eq!(factors[0]["strategy"], "phone_code");
    assert_eq!((factors[0]["phone_number_id"].as_str(), factors[0]["safe_identifier"].as_str()), (Some(pid.as_str()), Some("+1••••••0100")));
    assert_eq!(factors[1]["strategy"], "backup_code");

    let (status, body) =
        b.post(format!("{base}/v1/client/sign_ins/{sia}/prepare_second_factor"), &[("strategy", "phone_code"), ("phone_number_id", &pid)]).await;
    assert_eq!((status, body["response"]["second_factor_verification"]["status"].as_str()), (200, Some("unverified")), "{body}");
    let sent = clerk.codes_for(PHONE);
    assert_eq!((sent.len(), sent[0].code.as_str(), sent[0].strategy.as_str()), (1, "424242", "phone_code"));
    let attempt = format!("{base}/v1/client/sign_ins/{sia}/attempt_second_factor");
    let (status, err) = b.post(attempt.clone(), &[("strategy", "phone_code"), ("code", "111111")]).await;
    assert_eq!((status, code(&err)), (422, "form_code_incorrect"));
    let (status, body) = b.post(attempt, &[("strategy", "phone_code"), ("code", "424242")]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (200, Some("complete")), "{body}");

    // A backup code works once.
    for (expected_status, expected) in [(200, "complete"), (422, "form_code_incorrect")] {
        let b = Browser::new();
        let (sia, _) = after_password(&b, &base, "grace@example.com").await;
        let (status, body) =
            b.post(format!("{base}/v1/client/sign_ins/{sia}/attempt_second_factor"), &[("strategy", "backup_code"), ("code", "alpha-1")]).await;
        let got = body["response"]["status"].as_str().unwrap_or_else(|| code(&body)).to_owned();
        assert_eq!((status, got.as_str()), (expected_status, expected), "{body}");
    }
}
