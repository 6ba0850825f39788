//! mock-clerk's webhooks against the real verifiers: every delivery that state changes made through the real
//! `@clerk/backend` SDK cause is accepted by `verifyWebhook` (`@clerk/backend/webhooks`, what
//! `@clerk/nextjs/webhooks` calls) and by the `standardwebhooks` package; a wrong secret is refused by both.
//! The virtual clock is an hour ahead throughout: a delivery stamped with it would be refused ("too new").

#[path = "../../mock-clerk/tests/integration/common/receiver.rs"]
mod receiver;

use std::time::Duration;

use clerk_conformance::sdk::{backend_sdk as driver, sdk_ok as ok};
use mock_clerk::MockClerk;
use receiver::{Received, Receiver};
use serde_json::{Value, json};

fn verify_ops(deliveries: &[Received], secret: &str) -> Vec<Value> {
    deliveries
        .iter()
        .flat_map(|d| {
            let headers = json!({
                "svix-id": d.header("svix-id"),
                "svix-timestamp": d.header("svix-timestamp"),
                "svix-signature": d.header("svix-signature"),
                "content-type": d.header("content-type"),
            });
            [
                json!({"op": "verifyWebhook", "body": d.body, "headers": headers, "secret": secret}),
                json!({"op": "standardWebhooksVerify", "body": d.body, "headers": headers, "secret": secret}),
            ]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_of_sdk_made_changes_pass_verify_webhook_and_standardwebhooks() {
    let receiver = Receiver::start().await;
    let clerk = MockClerk::builder().webhook_url(receiver.url()).start().await;
    clerk.advance(Duration::from_secs(3600));

    let made = driver(
        &clerk,
        json!([
            {"op": "createUser", "params": {"emailAddress": ["hook@example.com"], "firstName": "Ada", "externalId": "ext_42"}},
        ]),
    );
    let user_id = ok(&made[0])["id"].as_str().unwrap().to_owned();
    let made = driver(
        &clerk,
        json!([
            {"op": "updateUserMetadata", "id": user_id, "params": {"publicMetadata": {"plan": "pro"}}},
            {"op": "createSession", "userId": user_id},
        ]),
    );
    let session_id = ok(&made[1])["id"].as_str().unwrap().to_owned();
    let made = driver(
        &clerk,
        json!([
            {"op": "revokeSession", "id": session_id},
            {"op": "createSession", "userId": user_id},
            {"op": "deleteUser", "id": user_id},
        ]),
    );
    let removed_session = ok(&made[1])["id"].as_str().unwrap().to_owned();
    let mut deliveries = receiver.wait_for(7, Duration::from_secs(30)).await;
    assert!(clerk.webhooks_settled(Duration::from_secs(30)).await);
    // Deliveries run concurrently and may arrive in any order (as with Clerk); the log keeps the changes' order.
    let log: Vec<String> = clerk.webhook_messages().into_iter().map(|m| m.id).collect();
    assert_eq!(log.len(), deliveries.len(), "one delivery per message");
    deliveries.sort_by_key(|d| log.iter().position(|id| id == d.header("svix-id")).expect("a delivered message is in the log"));

    let types: Vec<String> = deliveries.iter().map(|d| d.json()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        types,
        ["user.created", "user.updated", "session.created", "session.revoked", "session.created", "session.removed", "user.deleted"],
        "one event per change, in order"
    );

    let results = driver(&clerk, Value::Array(verify_ops(&deliveries, clerk.webhook_secret())));
    assert_eq!(results.len(), 2 * deliveries.len());
    for (d, pair) in deliveries.iter().zip(results.chunks(2)) {
        let event = ok(&pair[0]);
        assert_eq!(event["object"], "event");
        assert_eq!(event["type"], d.json()["type"]);
        assert_eq!(event["data"], d.json()["data"], "verifyWebhook hands the app the data as sent");
        assert!(event["event_attributes"]["http_request"]["user_agent"].as_str().unwrap().contains("@clerk/backend"), "{event:#}");
        let raw = ok(&pair[1]);
        assert_eq!(raw["instance_id"].as_str().map(|i| i.starts_with("ins_")), Some(true));
        assert_eq!(raw, &d.json());
    }
    let data = |i: usize| deliveries[i].json()["data"].clone();
    assert_eq!((data(0)["id"].as_str(), data(0)["external_id"].as_str()), (Some(user_id.as_str()), Some("ext_42")));
    assert_eq!(data(0)["email_addresses"][0]["email_address"], "hook@example.com");
    assert_eq!(data(1)["public_metadata"], json!({"plan": "pro"}));
    assert_eq!((data(2)["object"].as_str(), data(2)["user"]["id"].as_str()), (Some("session"), Some(user_id.as_str())));
    assert_eq!((data(3)["id"].as_str(), data(3)["status"].as_str()), (Some(session_id.as_str()), Some("revoked")));
    assert_eq!((data(5)["id"].as_str(), data(5)["status"].as_str()), (Some(removed_session.as_str()), Some("removed")));
    assert_eq!(data(6), json!({"object": "user", "id": user_id, "deleted": true, "external_id": "ext_42"}));
    // Each attempt is signed with the wall clock (the virtual one is 1 h ahead).
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    for d in &deliveries {
        let ts: i64 = d.header("svix-timestamp").parse().unwrap();
        assert!((wall - ts).abs() < 300, "svix-timestamp {ts} is not wall-clock time {wall}");
        assert_eq!(d.header("content-type"), "application/json");
    }

    // Another instance's secret: refused by both verifiers.
    let other = mock_clerk::webhooks::signing::Secret::generate();
    let refused = driver(&clerk, Value::Array(verify_ops(&deliveries[..1], other.as_str())));
    assert_eq!(refused[0]["ok"], false, "verifyWebhook accepted a foreign secret: {:#}", refused[0]);
    assert!(refused[0]["error"]["message"].as_str().unwrap().contains("No matching signature found"), "{:#}", refused[0]);
    assert_eq!(refused[1]["ok"], false);
    assert!(refused[1]["error"]["message"].as_str().unwrap().contains("No matching signature found"), "{:#}", refused[1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chosen_secret_and_sent_events_verify_and_a_virtual_clock_signature_does_not() {
    let chosen = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let receiver = Receiver::start().await;
    let clerk = MockClerk::builder().webhook_secret(chosen).start().await;
    assert_eq!(clerk.env().iter().find(|(k, _)| k == "CLERK_WEBHOOK_SIGNING_SECRET").map(|(_, v)| v.as_str()), Some(chosen));
    clerk.add_webhook_endpoint(&receiver.url(), &["user.deleted"]).unwrap();
    clerk.sign_in(); // user.created and session.created: filtered out
    let sent = clerk.send_webhook("user.deleted", &json!({"object": "user", "id": "user_sent", "deleted": true})).unwrap();
    let deliveries = receiver.wait_for(1, Duration::from_secs(30)).await;
    assert!(clerk.webhooks_settled(Duration::from_secs(30)).await);
    assert_eq!(receiver.received().len(), 1, "the endpoint's filter holds back the sign-in's events");
    assert_eq!(deliveries[0].header("svix-id"), sent.id);

    // The same body signed with the virtual clock, 10 minutes ahead: what mock-clerk must never send.
    clerk.advance(Duration::from_secs(600));
    let virtual_ts = clerk.state().clock().now_ms() / 1000;
    let signed = mock_clerk::webhooks::routes::sign(
        clerk.state(),
        mock_clerk::webhooks::routes::SignRequest {
            payload: Value::String(deliveries[0].body.clone()),
            msg_id: Some(sent.id.clone()),
            timestamp: Some(virtual_ts),
            secret: None,
        },
    )
    .unwrap();
    let future = Received { headers: signed.headers.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect(), body: signed.body };
    let mut ops = verify_ops(&deliveries, chosen);
    ops.extend(verify_ops(std::slice::from_ref(&future), chosen));
    let results = driver(&clerk, Value::Array(ops));
    assert_eq!(ok(&results[0])["data"]["id"], "user_sent");
    assert_eq!(ok(&results[1])["type"], "user.deleted");
    for r in &results[2..] {
        assert_eq!(r["ok"], false, "a timestamp 10 minutes ahead was accepted: {r:#}");
        assert!(r["error"]["message"].as_str().unwrap().contains("Message timestamp too new"), "{r:#}");
    }
}
