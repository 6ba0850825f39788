//! What changed in the store ([`Change`]) and the Clerk event that announces it, in the shape of
//! `@clerk/backend` `api/resources/Webhooks.ts` and Clerk's `webhooks/2025-04-15.yml`:
//! `{type, object: "event", data, event_attributes: {http_request: {client_ip, user_agent}}, timestamp,
//! instance_id}`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bapi::views::{deleted_json, session_json, user_json};
use crate::ids::IdStr;
use crate::store::{Session, User};

/// Every event type Clerk's webhooks document (`webhooks/2025-04-15.yml`): what an endpoint may filter on.
/// mock-clerk emits the user, session and email ones from its own state changes; any of them can be sent
/// through "send this event now".
pub const EVENT_TYPES: &[&str] = &[
    "email.created",
    "organization.created",
    "organization.updated",
    "organization.deleted",
    "organizationDomain.created",
    "organizationDomain.updated",
    "organizationDomain.deleted",
    "organizationInvitation.created",
    "organizationInvitation.accepted",
    "organizationInvitation.revoked",
    "organizationMembership.created",
    "organizationMembership.updated",
    "organizationMembership.deleted",
    "paymentAttempt.created",
    "paymentAttempt.updated",
    "permission.created",
    "permission.updated",
    "permission.deleted",
    "role.created",
    "role.updated",
    "role.deleted",
    "session.created",
    "session.pending",
    "session.ended",
    "session.removed",
    "session.revoked",
    "sms.created",
    "subscription.created",
    "subscription.updated",
    "subscription.active",
    "subscription.pastDue",
    "subscriptionItem.abandoned",
    "subscriptionItem.active",
    "subscriptionItem.canceled",
    "subscriptionItem.ended",
    "subscriptionItem.freeTrialEnding",
    "subscriptionItem.incomplete",
    "subscriptionItem.pastDue",
    "subscriptionItem.upcoming",
    "subscriptionItem.updated",
    "user.created",
    "user.updated",
    "user.deleted",
    "waitlistEntry.created",
    "waitlistEntry.updated",
];

/// Whether Clerk documents this event type.
pub fn is_event_type(name: &str) -> bool {
    EVENT_TYPES.contains(&name)
}

/// How a session's life moved on (`session.*` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionEvent {
    /// `session.created`.
    Created,
    /// `session.ended` (the user signed out).
    Ended,
    /// `session.removed` (removed from the client, or its user deleted).
    Removed,
    /// `session.revoked` (through the Backend API).
    Revoked,
}

/// An email Clerk sent (`email.created`), e.g. a verification code. mock-clerk sends nothing; the record is
/// the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// `ema_…`.
    pub id: String,
    /// Which template (`verification_code`, `magic_link_sign_in`, …).
    pub slug: Option<String>,
    /// The recipient.
    pub to_email_address: String,
    /// The recipient's email address object, if it belongs to a user.
    pub email_address_id: Option<String>,
    /// The user, if any.
    pub user_id: Option<String>,
    /// Subject line.
    pub subject: String,
    /// HTML body.
    pub body: String,
    /// Plain-text body.
    pub body_plain: Option<String>,
    /// Template data (e.g. `{"otp_code": "424242"}`).
    pub data: serde_json::Map<String, Value>,
}

/// One state change, recorded by the [`crate::store::Store`] method that made it (with the records as they
/// were then), turned into one webhook event when the store's lock is released.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// `user.created`.
    UserCreated(User),
    /// `user.updated`.
    UserUpdated(User),
    /// `user.deleted`.
    UserDeleted {
        /// The user.
        id: IdStr,
        /// Their external id.
        external_id: Option<String>,
    },
    /// `session.*`, with the session's user (`SessionWebhookEventJSON` embeds it).
    Session {
        /// What happened.
        event: SessionEvent,
        /// The session after the change.
        session: Session,
        /// Its user, when known.
        user: Option<Box<User>>,
        /// When (virtual milliseconds).
        at: i64,
    },
    /// `email.created`.
    EmailCreated(Email),
    /// `organization.*`, `organizationMembership.*`, `organizationInvitation.*`: the event type and its `data`,
    /// rendered when the change was made ([`crate::store::orgs`]).
    Organization {
        /// The event type.
        event: &'static str,
        /// The record as the Backend API shows it.
        data: Box<Value>,
    },
}

impl Change {
    /// The event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            Change::UserCreated(_) => "user.created",
            Change::UserUpdated(_) => "user.updated",
            Change::UserDeleted { .. } => "user.deleted",
            Change::Session { event: SessionEvent::Created, .. } => "session.created",
            Change::Session { event: SessionEvent::Ended, .. } => "session.ended",
            Change::Session { event: SessionEvent::Removed, .. } => "session.removed",
            Change::Session { event: SessionEvent::Revoked, .. } => "session.revoked",
            Change::EmailCreated(_) => "email.created",
            Change::Organization { event, .. } => event,
        }
    }

    /// The event's `data`.
    pub fn data(&self) -> Value {
        match self {
            Change::UserCreated(user) | Change::UserUpdated(user) => user_json(user),
            Change::UserDeleted { id, external_id } => {
                let mut data = deleted_json("user", id);
                data["external_id"] = json!(external_id);
                data
            }
            Change::Session { session, user, at, .. } => {
                let mut data = session_json(session, *at);
                data["user"] = user.as_deref().map_or(Value::Null, user_json);
                data
            }
            Change::Organization { data, .. } => (**data).clone(),
            Change::EmailCreated(email) => json!({
                "object": "email",
                "id": email.id,
                "slug": email.slug,
                "from_email_name": "notifications",
                "reply_to_email_name": null,
                "to_email_address": email.to_email_address,
                "email_address_id": email.email_address_id,
                "user_id": email.user_id,
                "subject": email.subject,
                "body": email.body,
                "body_plain": email.body_plain,
                "status": "queued",
                "data": email.data,
                "delivered_by_clerk": true,
            }),
        }
    }
}

/// `event_attributes.http_request`: who made the request that caused the change (empty outside a request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestAttributes {
    /// The caller's IP address.
    pub client_ip: String,
    /// Its `User-Agent`.
    pub user_agent: String,
}

/// The whole event body.
///
/// ```
/// use mock_clerk::webhooks::events::{event_json, RequestAttributes};
/// let e = event_json("user.deleted", serde_json::json!({"id": "user_1"}), &RequestAttributes::default(), 1_700_000_000_000, "ins_1");
/// assert_eq!((e["object"].as_str(), e["type"].as_str(), e["instance_id"].as_str()), (Some("event"), Some("user.deleted"), Some("ins_1")));
/// assert_eq!(e["event_attributes"]["http_request"]["client_ip"], "");
/// ```
pub fn event_json(event_type: &str, data: Value, attributes: &RequestAttributes, timestamp_ms: i64, instance_id: &str) -> Value {
    json!({
        "data": data,
        "event_attributes": {"http_request": attributes},
        "instance_id": instance_id,
        "object": "event",
        "timestamp": timestamp_ms,
        "type": event_type,
    })
}

/// [`event_json`]`(…).to_string()` — the same bytes — written straight from `data`, without building the event
/// as a tree first: this is the body mock-clerk signs and sends.
///
/// ```
/// use mock_clerk::webhooks::events::{event_body, event_json, RequestAttributes};
/// let data = serde_json::json!({"id": "user_1", "first_name": "Zoë"});
/// let attributes = RequestAttributes { client_ip: "127.0.0.1".into(), user_agent: "curl/8".into() };
/// let body = event_body("user.created", &data, &attributes, 1_700_000_000_000, "ins_1");
/// assert_eq!(body, event_json("user.created", data, &attributes, 1_700_000_000_000, "ins_1").to_string());
/// ```
pub fn event_body(event_type: &str, data: &Value, attributes: &RequestAttributes, timestamp_ms: i64, instance_id: &str) -> String {
    // The fields in `event_json`'s order (its keys sorted).
    #[derive(Serialize)]
    struct Event<'a> {
        data: &'a Value,
        event_attributes: Attributes<'a>,
        instance_id: &'a str,
        object: &'static str,
        timestamp: i64,
        #[serde(rename = "type")]
        event_type: &'a str,
    }
    #[derive(Serialize)]
    struct Attributes<'a> {
        http_request: &'a RequestAttributes,
    }
    let event =
        Event { data, event_attributes: Attributes { http_request: attributes }, instance_id, object: "event", timestamp: timestamp_ms, event_type };
    // Written into a buffer about the size of the data's own text, not grown from 128 bytes by doubling.
    let mut body = Vec::with_capacity(512 + data_size_hint(data));
    serde_json::to_writer(&mut body, &event).expect("JSON values and strings always serialise");
    String::from_utf8(body).expect("serde_json writes UTF-8")
}

/// A quick guess at the size of `data` as JSON (its strings' lengths and a few bytes per value), so that its event
/// body is written without regrowing.
fn data_size_hint(data: &Value) -> usize {
    match data {
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|v| data_size_hint(v) + 1).sum::<usize>(),
        Value::Object(map) => 2 + map.iter().map(|(k, v)| k.len() + 4 + data_size_hint(v)).sum::<usize>(),
        _ => 8,
    }
}

/// A stable `ins_…` id for an instance, derived from its publishable key (27 base62 characters, like Clerk's).
pub fn instance_id(publishable_key: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, publishable_key.as_bytes());
    let tail: String = digest.as_ref()[..27].iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("ins_{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewUser, SessionStatus, Store};

    #[test]
    fn store_changes_become_clerk_events() {
        let mut store = Store::default();
        let user = store
            .create_user(NewUser { email_address: vec!["w@example.com".into()], external_id: Some("ext_1".into()), ..NewUser::default() }, 1_000)
            .unwrap();
        let session = store.create_session(&user.id, 2_000).unwrap();
        store.finish_session(&session.id, SessionStatus::Revoked, 3_000).unwrap();
        store.finish_session(&session.id, SessionStatus::Ended, 4_000).unwrap();
        store.delete_user(&user.id, 5_000).unwrap();
        let changes = store.take_changes();
        let types: Vec<&str> = changes.iter().map(Change::event_type).collect();
        // A second finish of a finished session changes nothing, so it emits nothing.
        assert_eq!(types, ["user.created", "session.created", "session.revoked", "user.deleted"]);
        assert_eq!(changes[0].data()["email_addresses"][0]["email_address"], "w@example.com");
        let created = changes[1].data();
        assert_eq!((created["object"].as_str(), created["status"].as_str()), (Some("session"), Some("active")));
        assert_eq!(created["user"]["id"], user.id.as_str());
        assert_eq!(created["user"]["last_sign_in_at"], 2_000, "the user as it was after signing in");
        assert_eq!(changes[2].data()["status"], "revoked");
        assert_eq!(changes[3].data(), json!({"object": "user", "id": user.id.as_str(), "deleted": true, "external_id": "ext_1"}));
        assert!(store.take_changes().is_empty(), "taken once");
    }

    #[test]
    fn deleting_a_user_removes_their_active_sessions_first() {
        let mut store = Store::default();
        let user = store.create_user(NewUser::default(), 1_000).unwrap();
        let a = store.create_session(&user.id, 2_000).unwrap();
        store.create_session(&user.id, 2_500).unwrap();
        store.finish_session(&a.id, SessionStatus::Ended, 3_000).unwrap();
        store.take_changes();
        store.delete_user(&user.id, 4_000).unwrap();
        let types: Vec<&str> = store.take_changes().iter().map(Change::event_type).collect();
        assert_eq!(types, ["session.removed", "user.deleted"], "only the active session is removed");
    }

    #[test]
    fn every_emitted_type_is_a_documented_one() {
        for t in [
            "user.created",
            "user.updated",
            "user.deleted",
            "session.created",
            "session.ended",
            "session.removed",
            "session.revoked",
            "email.created",
        ] {
            assert!(is_event_type(t), "{t}");
        }
        assert!(!is_event_type("user.exploded"));
        let id = instance_id("pk_test_x");
        assert!(id.starts_with("ins_") && id.len() == 31 && id == instance_id("pk_test_x") && id != instance_id("pk_live_x"));
    }
}
