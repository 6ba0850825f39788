//! Webhook delivery: retries on Svix's (compressed) schedule, failures recorded and never dropped, redirects,
//! huge and slow answers bounded, API answers that never wait for a webhook, the control API, Clerk's error
//! envelope for bad input, and an outbox that survives a `kill -9` of the real binary with `--state-file`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::common::receiver::{Answer, Receiver};
use mock_clerk::MockClerk;
use mock_clerk::webhooks::outbox::{DeliveryStatus, Message};
use serde_json::{Value, json};
use tokio::sync::Notify;

const SETTLE: Duration = Duration::from_secs(30);

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn call(base: &str, method: reqwest::Method, path: &str, body: Option<Value>, bearer: Option<&str>) -> (u16, Value) {
    let mut req = http().request(method, format!("{base}{path}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("mock-clerk answers");
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

fn only(messages: &[Message], event_type: &str) -> Message {
    let found: Vec<&Message> = messages.iter().filter(|m| m.event_type == event_type).collect();
    assert_eq!(found.len(), 1, "{event_type} in {messages:#?}");
    found[0].clone()
}

/// Probes until `done` holds of what the probe returns or [`SETTLE`] has passed, and returns the last probe.
async fn settled<T>(mut probe: impl AsyncFnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let until = tokio::time::Instant::now() + SETTLE;
    loop {
        let seen = probe().await;
        if done(&seen) || tokio::time::Instant::now() > until {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_endpoint_is_retried_until_it_answers_and_every_attempt_is_logged() {
    let receiver = Receiver::start().await;
    receiver.script([Answer::Status(503), Answer::Status(500)]);
    let clerk = MockClerk::builder().webhook_retry_scale(0.001).start().await;
    clerk.add_webhook_endpoint(&receiver.url(), &["user.created"]).unwrap();
    let signed_in = clerk.sign_in();
    assert!(clerk.webhooks_settled(SETTLE).await);
    let received = receiver.received();
    assert_eq!(received.len(), 3, "two failures, then success");
    let ids: Vec<&str> = received.iter().map(|r| r.header("svix-id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0] && id.starts_with("msg_")), "the same svix-id on every attempt: {ids:?}");
    assert_eq!(received[0].body, received[2].body, "the same body on every attempt");
    assert_eq!(received[0].json()["data"]["id"], signed_in.user_id.as_str());
    let message = only(&clerk.webhook_messages(), "user.created");
    let delivery = &message.deliveries[0];
    assert_eq!(delivery.status, DeliveryStatus::Succeeded);
    let statuses: Vec<Option<u16>> = delivery.attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(statuses, [Some(503), Some(500), Some(200)]);
    assert_eq!(delivery.attempts[0].response, "answer 503");
    assert!(delivery.attempts.windows(2).all(|w| w[1].at >= w[0].at));
    assert!(clerk.webhook_messages().iter().any(|m| m.event_type == "session.created" && m.deliveries.is_empty()), "filtered out, still logged");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_gets_all_eight_attempts_then_is_marked_failed() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let clerk = MockClerk::builder().webhook_url("http://127.0.0.1:9/hook").webhook_retry_scale(0.00001).start().await;
    let s = clerk.sign_in();
    assert!(clerk.webhooks_settled(SETTLE).await);
    for message in clerk.webhook_messages() {
        let d = &message.deliveries[0];
        assert_eq!(d.status, DeliveryStatus::Failed, "{message:#?}");
        assert_eq!(d.attempts.len(), 8, "the first attempt and Svix's seven retries");
        assert!(d.attempts.iter().all(|a| a.status_code.is_none() && a.error.is_some()), "{:#?}", d.attempts);
    }
    let (status, failed) = call(&clerk.url(), reqwest::Method::GET, "/__mock/webhooks/messages?status=failed", None, None).await;
    assert_eq!((status, failed.as_array().unwrap().len()), (200, 2), "both events listed as failed: {failed:#}");
    assert_eq!(clerk.session(&s.session_id).unwrap().status, mock_clerk::store::SessionStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_huge_answers_and_slow_endpoints_are_bounded_and_logged() {
    let (redirect, huge, slow) = (Receiver::start().await, Receiver::start().await, Receiver::start().await);
    redirect.script([Answer::Redirect]);
    huge.script([Answer::Huge(20 << 20)]);
    let release = Arc::new(Notify::new());
    slow.script([Answer::Hold(release.clone())]);
    let clerk = MockClerk::builder().webhook_timeout(Duration::from_millis(300)).start().await;
    for r in [&redirect, &huge, &slow] {
        clerk.add_webhook_endpoint(&r.url(), &[]).unwrap();
    }
    let sent = clerk.send_webhook("user.updated", &json!({"object": "user", "id": "user_x"})).unwrap();
    // The redirect and the timeout wait 5 s (Svix's first retry) for their next attempt: look at the first ones.
    let message = settled(
        async || clerk.webhook_messages().into_iter().find(|m| m.id == sent.id).unwrap(),
        |m| m.deliveries.iter().all(|d| !d.attempts.is_empty()),
    )
    .await;
    release.notify_waiters();
    let by_url = |url: &str| message.deliveries.iter().find(|d| d.url == url).unwrap().clone();
    let r = by_url(&redirect.url());
    assert_eq!((r.status, r.attempts[0].status_code), (DeliveryStatus::Pending, Some(302)), "a redirect is a failed attempt, not followed");
    assert!(r.next_attempt_at.is_some());
    assert_eq!(redirect.received().len(), 1, "the Location was not followed");
    let h = by_url(&huge.url());
    assert_eq!((h.status, h.attempts[0].status_code), (DeliveryStatus::Succeeded, Some(200)));
    assert_eq!(h.attempts[0].response.len(), mock_clerk::webhooks::delivery::RESPONSE_EXCERPT_BYTES, "only an excerpt is read");
    let s = by_url(&slow.url());
    assert_eq!(s.status, DeliveryStatus::Pending);
    assert_eq!(s.attempts[0].error.as_deref(), Some("timed out after 300 ms"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_answer_never_waits_for_its_webhook() {
    let receiver = Receiver::start().await;
    let release = Arc::new(Notify::new());
    receiver.script([Answer::Hold(release.clone())]);
    let clerk = MockClerk::builder().webhook_url(receiver.url()).start().await;
    let (status, user) =
        call(&clerk.url(), reqwest::Method::POST, "/v1/users", Some(json!({"email_address": ["wait@example.com"]})), Some(clerk.secret_key())).await;
    assert_eq!(status, 200, "{user}");
    // The API has answered while its webhook is still held by the endpoint.
    assert_eq!(receiver.wait_for(1, SETTLE).await.len(), 1);
    let held = only(&clerk.webhook_messages(), "user.created");
    assert_eq!(held.deliveries[0].status, DeliveryStatus::Sending, "answered before the delivery finished");
    release.notify_waiters();
    assert!(clerk.webhooks_settled(SETTLE).await);
    assert_eq!(only(&clerk.webhook_messages(), "user.created").deliveries[0].status, DeliveryStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_control_api_adds_filters_sends_replays_signs_and_removes() {
    let receiver = Receiver::start().await;
    let clerk = MockClerk::start().await;
    let base = clerk.url();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, endpoint) = call(
        &base,
        post.clone(),
        "/__mock/webhooks/endpoints",
        Some(json!({"url": receiver.url(), "events": ["user.created", "user.deleted"]})),
        None,
    )
    .await;
    assert_eq!(status, 200, "{endpoint}");
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();
    assert!(endpoint_id.starts_with("ep_"));
    let (_, overview) = call(&base, get.clone(), "/__mock/webhooks", None, None).await;
    assert_eq!(overview["signing_secret"], mock_clerk::webhooks::signing::DEFAULT_SECRET);
    assert_eq!(overview["endpoints"][0]["id"], endpoint_id.as_str());

    let signed_in = clerk.sign_in();
    assert!(clerk.webhooks_settled(SETTLE).await, "user.created delivered before user.deleted is sent");
    let (status, sent) =
        call(&base, post.clone(), "/__mock/webhooks/send", Some(json!({"type": "user.deleted", "object_id": signed_in.user_id})), None).await;
    assert_eq!(status, 200, "{sent}");
    assert!(clerk.webhooks_settled(SETTLE).await);
    let types: Vec<String> = receiver.received().iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types, ["user.created", "user.deleted"], "filtered to the endpoint's events");
    assert_eq!(receiver.received()[1].json()["data"], json!({"object": "user", "id": signed_in.user_id, "deleted": true, "external_id": null}));

    let sent_id = sent["id"].as_str().unwrap();
    let (status, replayed) = call(&base, post.clone(), &format!("/__mock/webhooks/messages/{sent_id}/replay"), None, None).await;
    assert_eq!(status, 200, "{replayed}");
    assert!(clerk.webhooks_settled(SETTLE).await);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert_eq!(
        (received[2].header("svix-id"), received[2].body.as_str()),
        (received[1].header("svix-id"), received[1].body.as_str()),
        "a replay is the same message"
    );
    let (_, one) = call(&base, get.clone(), &format!("/__mock/webhooks/messages/{sent_id}"), None, None).await;
    let triggers: Vec<&str> = one["deliveries"][0]["attempts"].as_array().unwrap().iter().map(|a| a["trigger"].as_str().unwrap()).collect();
    assert_eq!(triggers, ["scheduled", "replay"]);

    let (status, signed) = call(
        &base,
        post.clone(),
        "/__mock/webhooks/sign",
        Some(json!({"payload": {"a": 1}, "msg_id": "msg_1", "timestamp": 1614265330, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(signed["body"], r#"{"a":1}"#);
    let expected =
        mock_clerk::webhooks::signing::Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap().sign("msg_1", 1614265330, br#"{"a":1}"#);
    assert_eq!(signed["headers"]["svix-signature"], expected.as_str());

    let (status, deleted) = call(&base, reqwest::Method::DELETE, &format!("/__mock/webhooks/endpoints/{endpoint_id}"), None, None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    let (_, endpoints) = call(&base, get.clone(), "/__mock/webhooks/endpoints", None, None).await;
    assert_eq!(endpoints, json!([]));
    let (status, _) = call(&base, post.clone(), "/__mock/reset", None, None).await;
    assert_eq!(status, 200);
    assert!(clerk.webhook_messages().is_empty(), "reset forgets the messages");
}

#[tokio::test]
async fn bad_endpoint_input_gets_clerks_error_envelope() {
    let clerk = MockClerk::start().await;
    let base = clerk.url();
    let post = reqwest::Method::POST;
    for (body, param) in [
        (json!({"url": "ftp://example.com/hook"}), "url"),
        (json!({"url": "javascript:alert(1)"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "http://127.0.0.1:3000/h", "events": ["user.exploded"]}), "events"),
        (json!({"url": "http://127.0.0.1:3000/h", "secret": "whsec_short"}), "secret"),
    ] {
        let (status, err) = call(&base, post.clone(), "/__mock/webhooks/endpoints", Some(body.clone()), None).await;
        assert_eq!(status, 422, "{body}: {err}");
        assert_eq!(err["errors"][0]["code"], "form_param_format_invalid", "{err}");
        assert_eq!(err["errors"][0]["meta"]["param_name"], param);
        assert!(err["clerk_trace_id"].is_string());
    }
    let (status, err) = call(&base, post.clone(), "/__mock/webhooks/endpoints", Some(json!({"events": []})), None).await;
    assert_eq!((status, err["errors"][0]["meta"]["param_name"].as_str()), (422, Some("url")), "{err}");
    let (status, err) = call(&base, reqwest::Method::DELETE, "/__mock/webhooks/endpoints/ep_nope", None, None).await;
    assert_eq!((status, err["errors"][0]["code"].as_str()), (404, Some("resource_not_found")));
    let (status, err) = call(&base, post.clone(), "/__mock/webhooks/messages/msg_nope/replay", None, None).await;
    assert_eq!((status, err["errors"][0]["code"].as_str()), (404, Some("resource_not_found")));
    let (status, err) = call(&base, post.clone(), "/__mock/webhooks/send", Some(json!({"type": "user.created"})), None).await;
    assert_eq!((status, err["errors"][0]["code"].as_str()), (422, Some("form_param_missing")), "{err}");
    assert!(clerk.webhook_endpoints().is_empty(), "nothing was added");
    let refused = MockClerk::builder().webhook_url("file:///etc/passwd").try_start().await;
    assert!(matches!(refused, Err(mock_clerk::StartError::Webhook(_))));
    let refused = MockClerk::builder().webhook_secret("whsec_").try_start().await;
    assert!(matches!(refused, Err(mock_clerk::StartError::Webhook(_))));
}

use crate::common::served::Served;

async fn messages(base: &str) -> Vec<Value> {
    call(base, reqwest::Method::GET, "/__mock/webhooks/messages", None, None).await.1.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_deliveries_survive_a_kill_of_the_binary_with_a_state_file() {
    let dir: PathBuf = std::env::temp_dir().join(format!("mock-clerk-webhooks-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let receiver = Receiver::start().await;
    receiver.script([Answer::Status(503)]);
    let url = receiver.url();
    let args = ["--addr", "127.0.0.1:0", "--ephemeral-key", "--state-file", "state.json", "--webhook-url", url.as_str()];

    let first = Served::spawn(&args, &dir);
    let (status, _) = call(
        &first.url(),
        reqwest::Method::POST,
        "/__mock/webhooks/send",
        Some(json!({"type": "user.deleted", "data": {"object": "user", "id": "user_gone", "deleted": true}})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // Wait for the first (failed) attempt; the next is 5 s away (Svix's first retry).
    let before = settled(
        async || messages(&first.url()).await,
        |m| m.first().is_some_and(|m| m["deliveries"][0]["attempts"].as_array().is_some_and(|a| !a.is_empty())),
    )
    .await;
    assert_eq!(before[0]["deliveries"][0]["status"], "pending", "{before:#?}");
    drop(first); // kill -9
    assert!(dir.join("state.webhooks.json").exists());

    let second = Served::spawn(&args, &dir);
    let (_, endpoints) = call(&second.url(), reqwest::Method::GET, "/__mock/webhooks/endpoints", None, None).await;
    assert_eq!(endpoints.as_array().unwrap().len(), 1, "the --webhook-url endpoint is not added twice: {endpoints:#}");
    let after = settled(async || messages(&second.url()).await, |m| m.first().is_some_and(|m| m["deliveries"][0]["status"] == "succeeded")).await;
    assert_eq!(after[0]["id"], before[0]["id"], "the same message after the restart");
    let statuses: Vec<Value> = after[0]["deliveries"][0]["attempts"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(statuses, [json!(503), json!(200)], "{after:#?}");
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].header("svix-id"), received[1].header("svix-id"));
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The binary's log names each attempt's endpoint and message apart (`url=… message_id=msg_…`), and the final
/// failure too: a field called `message` would be printed as the line's text, glued to the URL before it.
#[tokio::test(flavor = "multi_thread")]
async fn the_log_names_each_attempts_endpoint_and_message() {
    let dir = std::env::temp_dir().join(format!("mock-clerk-webhooks-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Port 9 (discard) on loopback: refused, so all eight attempts come within a second at this scale.
    let url = "http://127.0.0.1:9/hook";
    let served = Served::spawn_logged(&["--addr", "127.0.0.1:0", "--ephemeral-key", "--webhook-url", url, "--webhook-retry-scale", "0.00001"], &dir);
    let data = json!({"object": "user", "id": "user_logged", "deleted": true});
    let (status, message) =
        call(&served.url(), reqwest::Method::POST, "/__mock/webhooks/send", Some(json!({"type": "user.deleted", "data": data})), None).await;
    assert_eq!(status, 200, "{message:#}");
    let id = message["id"].as_str().expect("the message's id");
    let named = format!(" url={url} message_id={id} ");
    let log = settled(async || served.log(), |log| log.iter().any(|l| l.contains("failed for good"))).await;
    let attempts: Vec<&String> = log.iter().filter(|l| l.contains("webhook attempt")).collect();
    assert_eq!(attempts.len(), 8, "{log:#?}");
    assert!(attempts.iter().all(|l| l.contains(&named) && l.contains(" status=None error=Some(")), "{attempts:#?}");
    let failed: Vec<&String> = log.iter().filter(|l| l.contains("failed for good")).collect();
    assert!(failed.len() == 1 && failed[0].contains(&named) && failed[0].ends_with(" attempts=8"), "{log:#?}");
    drop(served);
    let _ = std::fs::remove_dir_all(&dir);
}
