//! Sign-in tokens, actor tokens and testing tokens through the real `@clerk/backend` 3 (fixtures/clerk-backend):
//! the SDK parses mock-clerk's `SignInToken`, `ActorToken` and testing token; an actor token's ticket, redeemed
//! as clerk-js redeems it, gives a session whose tokens `verifyToken` accepts with `act`, and whose request
//! `authenticateRequest(…).toAuth().actor` names the actor (what `@clerk/nextjs`'s `auth().actor` returns).

use clerk_conformance::sdk::{backend_sdk as sdk, sdk_ok as ok};
use mock_clerk::{InstanceKind, MockClerk};
use serde_json::{Value, json};

/// `POST /v1/client/sign_ins` `strategy=ticket`, as clerk-js sends it; returns the new session.
async fn redeem(clerk: &MockClerk, ticket: &str) -> Value {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs([("strategy", "ticket"), ("ticket", ticket)]).finish();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/client/sign_ins", clerk.url()))
        .header("origin", "http://127.0.0.1:3999")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["client"]["sessions"][0].clone()
}

// SignInTokenApi.ts, ActorTokenApi.ts, TestingTokenApi.ts; resources/SignInToken.ts, ActorToken.ts
#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_creates_and_revokes_tickets_and_sees_the_actor() {
    let clerk = MockClerk::builder().kind(InstanceKind::Production).start().await;
    let created = sdk(&clerk, json!([{"op": "createUser", "params": {"emailAddress": ["ada@example.com"]}}]));
    let user_id = ok(&created[0])["id"].as_str().unwrap().to_owned();
    let results = sdk(
        &clerk,
        json!([
            {"op": "createSignInToken", "params": {"userId": user_id, "expiresInSeconds": 300}},
            {"op": "createActorToken", "params": {"userId": user_id, "actor": {"sub": "user_admin_1"}, "expiresInSeconds": 300}},
            {"op": "createTestingToken"},
            {"op": "createSignInToken", "params": {"userId": "user_nope"}},
        ]),
    );
    let sign_in_token = ok(&results[0]);
    assert_eq!((sign_in_token["userId"].as_str(), sign_in_token["status"].as_str()), (Some(user_id.as_str()), Some("pending")), "{sign_in_token:#}");
    assert!(sign_in_token["url"].as_str().unwrap().contains("/v1/tickets/accept?ticket="));
    let actor_token = ok(&results[1]);
    assert_eq!(actor_token["actor"], json!({"sub": "user_admin_1"}), "{actor_token:#}");
    let testing = ok(&results[2]);
    assert!(testing["token"].as_str().is_some_and(|t| t.contains('-')) && testing["expires_at"].is_i64(), "{testing:#}");
    assert_eq!(results[3]["ok"], false);
    assert_eq!(results[3]["error"]["status"], 404);

    let revoked = sdk(&clerk, json!([{"op": "revokeSignInToken", "id": sign_in_token["id"]}]));
    assert_eq!(ok(&revoked[0])["status"], "revoked");

    let session = redeem(&clerk, actor_token["token"].as_str().unwrap()).await;
    let sid = session["id"].as_str().unwrap();
    let results = sdk(&clerk, json!([{"op": "getToken", "sessionId": sid}, {"op": "getSession", "id": sid}]));
    let jwt = ok(&results[0])["jwt"].as_str().unwrap().to_owned();
    assert_eq!(ok(&results[1])["actor"], json!({"sub": "user_admin_1"}));
    let iat = mock_clerk::tokens::decode_unverified(&jwt).unwrap().claims["iat"].as_i64().unwrap();
    let cookie = format!("__session={jwt}; __client_uat={iat}");
    let results = sdk(
        &clerk,
        json!([
            {"op": "verifyToken", "token": jwt},
            {"op": "authenticateRequest", "url": "http://127.0.0.1:3999/schedules", "headers": {
                "cookie": cookie, "accept": "text/html", "sec-fetch-dest": "document", "user-agent": "mock-clerk-tests"}},
        ]),
    );
    assert_eq!(ok(&results[0])["act"], json!({"sub": "user_admin_1"}));
    let auth = ok(&results[1]);
    assert_eq!(auth["status"], "signed-in", "{auth:#}");
    assert_eq!(auth["userId"], user_id.as_str());
    assert_eq!(auth["actor"], json!({"sub": "user_admin_1"}), "{auth:#}");
}
