//! The app's Clerk webhook handler (`@webhooks` scenarios), found by the profile's `[webhooks]` section.
//!
//! Two ways an event reaches the app: mock-clerk's own delivery after a change at Clerk ("a user is created at
//! Clerk", through an endpoint registered for the app), and deliveries the steps post themselves, signed by
//! mock-clerk's signer (`Issuer::sign_webhook`) and then broken on purpose — a body changed after signing,
//! another secret, a stale timestamp, a missing header, the same delivery twice. Events about "a new user"
//! describe a user Clerk never had (rendered by mock-clerk's own renderer in a scratch store), so no real
//! delivery can make the app hold it by accident.

use std::time::{Duration, Instant};

use futures_util::FutureExt;
use mock_clerk::store::{NewUser, Store};
use mock_clerk::webhooks::events::{Change, RequestAttributes, event_json};
use mock_clerk::webhooks::routes::SignRequest;
use mock_clerk::webhooks::signing::Secret;
use serde_json::Value;

use super::{Keyword, StepDef, arg, opt};
use crate::agent::Mode;
use crate::profile::WebhookHandler;
use crate::world::ConformanceWorld;

/// The events the app's endpoint at mock-clerk is registered for.
const USER_EVENTS: [&str; 3] = ["user.created", "user.updated", "user.deleted"];
/// How long a change at Clerk may take to reach the app (mock-clerk delivers off the request path).
const DELIVERY_WAIT: Duration = Duration::from_secs(15);
/// How stale a "stale" delivery is: past the 5 minutes Standard Webhooks verifiers allow.
const STALE_SECS: i64 = 6 * 60;

/// What this scenario's webhook steps did.
#[derive(Debug, Clone, Default)]
pub struct WebhookCase {
    /// The user the events are about, and its `user.created` data.
    user: Option<(String, Value)>,
    /// Every delivery the steps posted, in order.
    sent: Vec<Delivery>,
    /// The app's answer to the last one.
    last_status: Option<u16>,
    /// The last change went through mock-clerk's asynchronous delivery (the checks wait for it).
    delivered_by_clerk: bool,
}

/// One delivery, exactly as posted.
#[derive(Debug, Clone)]
struct Delivery {
    event_type: String,
    body: String,
    headers: Vec<(String, String)>,
}

/// What is wrong with a delivery on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Flaw {
    TamperedBody,
    OtherSecret,
    Stale,
    Without(String),
}

impl Flaw {
    fn parse(text: Option<&str>, header: Option<&str>) -> Option<Self> {
        match text? {
            "with a tampered body" => Some(Flaw::TamperedBody),
            "signed with another secret" => Some(Flaw::OtherSecret),
            "stamped 6 minutes ago" => Some(Flaw::Stale),
            _ => header.map(|h| Flaw::Without(h.to_owned())),
        }
    }
}

/// Wall-clock seconds: Standard Webhooks verifiers compare the timestamp with the real clock, never mock-clerk's.
fn wall_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl ConformanceWorld {
    fn webhook_handler(&self) -> WebhookHandler {
        self.env.profile.webhooks.clone().unwrap_or_else(|| self.fail("the profile has no [webhooks] section"))
    }

    fn webhook_user(&self) -> (String, Value) {
        self.webhooks.user.clone().unwrap_or_else(|| self.fail("the scenario has no user yet: send user.created for a new user first"))
    }

    /// A user Clerk never had, rendered as Clerk renders users in events.
    fn scratch_user(&self) -> (String, Value) {
        let email = format!("{}@example.com", self.marker.to_lowercase().replace('_', "."));
        let new = NewUser { email_address: vec![email], first_name: Some("Webhook".into()), ..Default::default() };
        let user = Store::default().create_user(new, wall_secs() * 1000).unwrap_or_else(|e| self.fail(&format!("cannot render a user: {e}")));
        (user.id.to_string(), Change::UserCreated(user).data())
    }

    /// Builds, signs (through mock-clerk) and posts one delivery, then records the app's answer.
    async fn send_event(&mut self, event_type: &str, flaw: Option<Flaw>) {
        let (user_id, user_data) = self.webhook_user();
        let data = match event_type {
            "user.deleted" => Change::UserDeleted { id: user_id.as_str().into(), external_id: None }.data(),
            _ => user_data,
        };
        let issuer = self.env.issuer.clone();
        let instance_id = issuer.webhook_instance_id().await.unwrap_or_else(|e| self.fail(&format!("mock-clerk's instance id: {e}")));
        let event = event_json(event_type, data, &RequestAttributes::default(), wall_secs() * 1000, &instance_id);
        let request = SignRequest {
            payload: Value::String(event.to_string()),
            msg_id: None,
            timestamp: (flaw == Some(Flaw::Stale)).then(|| wall_secs() - STALE_SECS),
            secret: (flaw == Some(Flaw::OtherSecret)).then(|| Secret::generate().as_str().to_owned()),
        };
        let signed = issuer.sign_webhook(request).await.unwrap_or_else(|e| self.fail(&format!("mock-clerk did not sign the delivery: {e}")));
        let mut body = signed.body;
        if flaw == Some(Flaw::TamperedBody) {
            let mut changed = event.clone();
            changed["data"]["first_name"] = "Mallory".into();
            body = changed.to_string();
        }
        let headers: Vec<(String, String)> = signed
            .headers
            .iter()
            .filter(|(name, _)| !matches!(&flaw, Some(Flaw::Without(h)) if h.eq_ignore_ascii_case(name)))
            .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
            .collect();
        self.post_delivery(Delivery { event_type: event_type.to_owned(), body, headers }).await;
    }

    async fn post_delivery(&mut self, delivery: Delivery) {
        let url = self.url(&self.webhook_handler().path);
        let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
        headers.extend(delivery.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let hop = match self.agent.send_body("POST", &url, &Mode::Fetch, &delivery.body, &headers).await {
            Ok(hop) => hop,
            Err(e) => {
                self.transcript.push_agent_error(&e);
                self.fail(&format!("the {} delivery to {url} did not complete: {e}", delivery.event_type))
            }
        };
        self.transcript.push_hop(&hop);
        self.webhooks.last_status = Some(hop.status);
        self.webhooks.delivered_by_clerk = false;
        self.webhooks.sent.push(delivery);
    }

    /// The probe's status for the scenario's user.
    async fn probe_user(&mut self) -> u16 {
        let (user_id, _) = self.webhook_user();
        let url = self.url(&self.webhook_handler().user_probe_for(&user_id));
        match self.agent.request("GET", &url, &Mode::Fetch, None, &[]).await {
            Ok(hop) => {
                self.transcript.push_hop(&hop);
                hop.status
            }
            Err(e) => {
                self.transcript.push_agent_error(&e);
                self.fail(&format!("the user probe {url} did not answer: {e}"))
            }
        }
    }

    /// Checks that the app holds (or not) the scenario's user; after a change at Clerk, waits for its delivery.
    async fn expect_app_holds(&mut self, holds: bool) {
        let deadline = Instant::now() + if self.webhooks.delivered_by_clerk { DELIVERY_WAIT } else { Duration::ZERO };
        loop {
            let status = self.probe_user().await;
            let held = (200..300).contains(&status);
            if held == holds {
                return;
            }
            if Instant::now() >= deadline {
                let (user_id, _) = self.webhook_user();
                let what = if holds { "holds" } else { "no longer holds" };
                let waited =
                    if self.webhooks.delivered_by_clerk { format!(" after waiting {DELIVERY_WAIT:?} for Clerk's delivery") } else { String::new() };
                self.fail(&format!("expected the app {what} user {user_id}{waited}; its user probe answered {status}"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn last_answer(&self) -> u16 {
        self.webhooks.last_status.unwrap_or_else(|| self.fail("no delivery was sent yet"))
    }
}

pub(super) fn definitions() -> Vec<StepDef> {
    vec![
        StepDef {
            keyword: Keyword::Given,
            pattern: r"^Clerk delivers its webhooks to the app$",
            run: |w, _ctx| {
                async move {
                    let url = w.url(&w.webhook_handler().path);
                    if let Err(e) = w.env.issuer.deliver_webhooks_to(&url, &USER_EVENTS).await {
                        w.fail(&format!("cannot register {url} as a webhook endpoint at mock-clerk: {e}"));
                    }
                }
                .boxed_local()
            },
            example: "Given Clerk delivers its webhooks to the app",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^a user is created at Clerk$",
            run: |w, _ctx| {
                async move {
                    let email = format!("{}@example.com", w.marker.to_lowercase().replace('_', "."));
                    let new = NewUser { email_address: vec![email], first_name: Some("Webhook".into()), ..Default::default() };
                    let id = w.env.issuer.create_user(new).await.unwrap_or_else(|e| w.fail(&format!("cannot create a user at Clerk: {e}")));
                    w.webhooks.user = Some((id, Value::Null));
                    w.webhooks.delivered_by_clerk = true;
                }
                .boxed_local()
            },
            example: "When a user is created at Clerk",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^that user is deleted at Clerk$",
            run: |w, _ctx| {
                async move {
                    let (id, _) = w.webhook_user();
                    if let Err(e) = w.env.issuer.delete_user(&id).await {
                        w.fail(&format!("cannot delete user {id} at Clerk: {e}"));
                    }
                    w.webhooks.delivered_by_clerk = true;
                }
                .boxed_local()
            },
            example: "When that user is deleted at Clerk",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: concat!(
                r"^Clerk sends (user\.created|user\.updated|user\.deleted) for (a new user|that user)",
                r"(?: (with a tampered body|signed with another secret|stamped 6 minutes ago|without its (svix-id|svix-timestamp|svix-signature) header))?$"
            ),
            run: |w, ctx| {
                async move {
                    if arg(&ctx, 2) == "a new user" {
                        w.webhooks.user = Some(w.scratch_user());
                    }
                    let flaw = Flaw::parse(opt(&ctx, 3).as_deref(), opt(&ctx, 4).as_deref());
                    w.send_event(&arg(&ctx, 1), flaw).await;
                }
                .boxed_local()
            },
            example: "When Clerk sends user.created for a new user signed with another secret",
        },
        StepDef {
            keyword: Keyword::When,
            pattern: r"^the first delivery is sent again$",
            run: |w, _ctx| {
                async move {
                    let first = w.webhooks.sent.first().cloned().unwrap_or_else(|| w.fail("no delivery was sent yet"));
                    w.post_delivery(first).await;
                }
                .boxed_local()
            },
            example: "When the first delivery is sent again",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the app accepted it$",
            run: |w, _ctx| {
                async move {
                    let status = w.last_answer();
                    w.check((200..300).contains(&status), || format!("the app answered {status} to a correctly signed delivery (expected 2xx)"));
                }
                .boxed_local()
            },
            example: "Then the app accepted it",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the app refused it with a 4xx status$",
            run: |w, _ctx| {
                async move {
                    let status = w.last_answer();
                    w.check((400..500).contains(&status), || format!("the app answered {status} to a delivery it must refuse (expected 4xx)"));
                }
                .boxed_local()
            },
            example: "Then the app refused it with a 4xx status",
        },
        StepDef {
            keyword: Keyword::Then,
            pattern: r"^the app (holds|does not hold) that user$",
            run: |w, ctx| {
                async move {
                    w.expect_app_holds(arg(&ctx, 1) == "holds").await;
                }
                .boxed_local()
            },
            example: "Then the app holds that user",
        },
    ]
}
