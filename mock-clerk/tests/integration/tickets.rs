//! Sign-in tokens, actor tokens and testing tokens over HTTP: the Backend API creates and revokes them, the
//! ticket URL redirects to the app's sign-in page with `__clerk_ticket`, the Frontend API redeems the ticket
//! as clerk-js sends it (`strategy=ticket`) once, and an actor token's session carries `act` in every token.

use std::time::Duration;

use mock_clerk::MockClerk;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

const APP: &str = "http://127.0.0.1:3000";

async fn bapi(clerk: &MockClerk, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new().post(format!("{}{path}", clerk.url())).bearer_auth(clerk.secret_key()).json(&body).send().await.unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn user(clerk: &MockClerk, email: &str) -> String {
    let (status, u) = bapi(clerk, "/v1/users", json!({"email_address": [email], "first_name": "Ada"})).await;
    assert_eq!(status, 200, "{u}");
    u["id"].as_str().unwrap().to_owned()
}

/// `POST /v1/client/sign_ins` with `strategy=ticket`, as clerk-js sends it, from a fresh browser (no client
/// cookie). Returns the status, the body and the `__client` cookie.
async fn redeem(clerk: &MockClerk, ticket: &str) -> (u16, Value, Option<String>) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs([("strategy", "ticket"), ("ticket", ticket)]).finish();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/client/sign_ins?__clerk_testing_token=1700000000-c_abc", clerk.url()))
        .header(ORIGIN, APP)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().filter(|p| p.starts_with("__client=")).map(str::to_owned))
        .next();
    (r.status().as_u16(), r.json().await.unwrap(), cookie)
}

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

fn claims(jwt: &str) -> Value {
    mock_clerk::tokens::decode_unverified(jwt).unwrap().claims
}

#[tokio::test]
async fn a_sign_in_token_signs_a_browser_in_once_through_its_url() {
    let clerk = MockClerk::start().await;
    clerk.set_sign_in_url(Some(format!("{APP}/auth/sign-in")));
    let user_id = user(&clerk, "ada@example.com").await;
    let (status, token) = bapi(&clerk, "/v1/sign_in_tokens", json!({"user_id": user_id, "expires_in_seconds": 600})).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!((token["object"].as_str(), token["status"].as_str()), (Some("sign_in_token"), Some("pending")));
    assert!(token["id"].as_str().unwrap().starts_with("sit_"));
    let ticket = token["token"].as_str().unwrap();
    let url = token["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/v1/tickets/accept?ticket=", clerk.url())), "{url}");

    // The URL sends the browser to the app's sign-in page with the ticket, without using it.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..2 {
        let r = no_redirects.get(url).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let to = url::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
        assert_eq!(&to[..url::Position::AfterPath], format!("{APP}/auth/sign-in"));
        assert_eq!(to.query_pairs().find(|(k, _)| k == "__clerk_ticket").map(|(_, v)| v.into_owned()).as_deref(), Some(ticket));
    }
    let r = no_redirects.get(format!("{url}&redirect_url=http%3A%2F%2F127.0.0.1%3A3001%2Fin")).send().await.unwrap();
    assert!(r.headers()[LOCATION].to_str().unwrap().starts_with("http://127.0.0.1:3001/in?__clerk_ticket="));

    let (status, body, cookie) = redeem(&clerk, ticket).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    assert_eq!(body["response"]["first_factor_verification"]["strategy"], "ticket");
    let session = &body["client"]["sessions"][0];
    assert_eq!(session["user"]["id"], user_id.as_str());
    assert_eq!(session["actor"], Value::Null);
    assert!(claims(session["last_active_token"]["jwt"].as_str().unwrap()).get("act").is_none());
    assert!(cookie.is_some());

    // Used: the ticket, and its URL, are refused from now on; the record says accepted and cannot be revoked.
    let (status, body, _) = redeem(&clerk, ticket).await;
    assert_eq!((status, code(&body)), (400, "ticket_invalid_code"), "{body}");
    let r = no_redirects.get(url).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let (status, body) = bapi(&clerk, &format!("/v1/sign_in_tokens/{}/revoke", token["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, code(&body)), (422, "form_param_format_invalid"), "{body}");
}

#[tokio::test]
async fn revoked_expired_tampered_and_foreign_tickets_are_clerks_errors() {
    let clerk = MockClerk::start().await;
    let user_id = user(&clerk, "ada@example.com").await;
    let create = || bapi(&clerk, "/v1/sign_in_tokens", json!({"user_id": user_id, "expires_in_seconds": 60}));

    let (_, revoked) = create().await;
    let (status, body) = bapi(&clerk, &format!("/v1/sign_in_tokens/{}/revoke", revoked["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("revoked")), "{body}");
    let (status, body, _) = redeem(&clerk, revoked["token"].as_str().unwrap()).await;
    assert_eq!((status, code(&body)), (400, "ticket_invalid_code"));

    let (_, fresh) = create().await;
    let ticket = fresh["token"].as_str().unwrap();
    let mut tampered: Vec<char> = ticket.chars().collect();
    let middle = ticket.find('.').unwrap() + 3;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for bad in [tampered.as_str(), "eyJhbGciOiJIUzI1NiJ9.e30.x", "not a ticket"] {
        let (status, body, _) = redeem(&clerk, bad).await;
        assert_eq!((status, code(&body)), (400, "ticket_invalid_code"), "{bad:?}: {body}");
    }
    let (status, body, _) = redeem(&clerk, "").await;
    assert_eq!((status, code(&body)), (422, "form_param_missing"), "{body}");

    clerk.advance(Duration::from_secs(61));
    let (status, body, _) = redeem(&clerk, ticket).await;
    assert_eq!((status, code(&body)), (400, "ticket_expired_code"), "{body}");
    let r = reqwest::Client::new().get(fresh["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json().await.unwrap()), "ticket_expired_code");

    // Bad Backend API input: unknown user, bad lifetime, unknown id — never a 5xx.
    let (status, body) = bapi(&clerk, "/v1/sign_in_tokens", json!({"user_id": "user_nope"})).await;
    assert_eq!((status, code(&body)), (404, "resource_not_found"));
    let (status, body) = bapi(&clerk, "/v1/sign_in_tokens", json!({"user_id": user_id, "expires_in_seconds": 0})).await;
    assert_eq!((status, code(&body)), (422, "form_param_format_invalid"));
    let (status, body) = bapi(&clerk, "/v1/sign_in_tokens/sit_nope/revoke", json!({})).await;
    assert_eq!((status, code(&body)), (404, "resource_not_found"));
    let (status, body) = bapi(&clerk, &format!("/v1/actor_tokens/{}/revoke", fresh["id"].as_str().unwrap()), json!({})).await;
    assert_eq!((status, code(&body)), (404, "resource_not_found"), "a sign-in token is not an actor token");
    // A ticket URL with nowhere to go says so.
    let (_, other) = create().await;
    let r = reqwest::Client::new().get(other["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json().await.unwrap()), "sign_in_url_missing");
}

#[tokio::test]
async fn an_actor_tokens_session_carries_act_in_every_token() {
    let clerk = MockClerk::start().await;
    let user_id = user(&clerk, "ada@example.com").await;
    let (status, body) = bapi(&clerk, "/v1/actor_tokens", json!({"user_id": user_id, "actor": {}})).await;
    assert_eq!((status, code(&body)), (422, "form_param_missing"), "{body}");
    assert_eq!(body["errors"][0]["meta"]["param_name"], "actor.sub");
    let (status, token) = bapi(
        &clerk,
        "/v1/actor_tokens",
        json!({"user_id": user_id, "actor": {"sub": "user_admin_1", "role": "support"}, "expires_in_seconds": 600, "session_max_duration_in_seconds": 900}),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!((token["object"].as_str(), token["status"].as_str()), (Some("actor_token"), Some("pending")));
    assert_eq!(token["actor"], json!({"sub": "user_admin_1", "role": "support"}));

    let (status, body, cookie) = redeem(&clerk, token["token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let session = &body["client"]["sessions"][0];
    let act = json!({"sub": "user_admin_1", "role": "support"});
    assert_eq!(session["actor"], act);
    assert_eq!(session["expire_at"].as_i64().unwrap() - session["created_at"].as_i64().unwrap(), 900_000);
    assert_eq!(claims(session["last_active_token"]["jwt"].as_str().unwrap())["act"], act);
    let sid = session["id"].as_str().unwrap();

    // Frontend API /tokens, Backend API /tokens and the session resource: the same actor.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/client/sessions/{sid}/tokens", clerk.url()))
        .header(ORIGIN, APP)
        .header(COOKIE, cookie.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(claims(r.json::<Value>().await.unwrap()["jwt"].as_str().unwrap())["act"], act);
    let (status, body) = bapi(&clerk, &format!("/v1/sessions/{sid}/tokens"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(claims(body["jwt"].as_str().unwrap())["act"], act);
    let r = reqwest::Client::new().get(format!("{}/v1/sessions/{sid}", clerk.url())).bearer_auth(clerk.secret_key()).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["actor"], act);

    let (status, body) = bapi(&clerk, &format!("/v1/actor_tokens/{}/revoke", token["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, 422, "an accepted actor token cannot be revoked: {body}");
}

#[tokio::test]
async fn testing_tokens_are_issued_and_the_frontend_api_accepts_them() {
    let clerk = MockClerk::start().await;
    let (status, body) = bapi(&clerk, "/v1/testing_tokens", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "testing_token");
    let expires_at = body["expires_at"].as_i64().unwrap();
    assert!(body["token"].as_str().unwrap().starts_with(&format!("{expires_at}-")), "{body}");
    let r = reqwest::Client::new()
        .get(format!("{}/v1/environment?__clerk_testing_token={}", clerk.url(), body["token"].as_str().unwrap()))
        .header(ORIGIN, APP)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
