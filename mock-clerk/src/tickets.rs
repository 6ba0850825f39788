//! Sign-in tokens and actor tokens: Backend API records whose `token` is a *ticket*, a JWT the Frontend API
//! redeems once (`POST /v1/client/sign_ins` with `strategy=ticket`), creating a session — for an actor token an
//! impersonation session whose tokens carry `act`.
//!
//! A ticket is an HS256 JWT (`{"sid": <record id>, "st": "sign_in_token"|"actor_token", "iat", "exp"}`) keyed
//! with a per-process secret: a tampered ticket fails its signature, an unknown, revoked or already used one
//! is refused as Clerk refuses it (`ticket_invalid_code`), an expired one with `ticket_expired_code`. Kept in
//! memory only, like sign-in attempts (a restart forgets pending tickets).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::ids::new_id;

/// Default lifetime of a sign-in token (Clerk: 30 days).
pub const SIGN_IN_TOKEN_LIFETIME_SECS: i64 = 30 * 24 * 3600;
/// Default lifetime of an actor token (Clerk: 1 hour).
pub const ACTOR_TOKEN_LIFETIME_SECS: i64 = 3600;
/// Default longest life of a session an actor token creates (Clerk: 30 minutes).
pub const ACTOR_SESSION_MAX_SECS: i64 = 1800;
/// Longest lifetime accepted for a ticket or an impersonation session (ten years).
pub const MAX_LIFETIME_SECS: i64 = 315_360_000;
/// Lifetime of a testing token (Clerk: 1 hour).
pub const TESTING_TOKEN_LIFETIME_SECS: i64 = 3600;

/// Which Backend API resource a ticket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketKind {
    /// `POST /v1/sign_in_tokens` (`sit_…`).
    SignIn,
    /// `POST /v1/actor_tokens` (`act_…`).
    Actor,
}

impl TicketKind {
    /// The resource's `object` (also the ticket's `st` claim).
    pub fn object(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in_token",
            Self::Actor => "actor_token",
        }
    }
    fn id_prefix(self) -> &'static str {
        match self {
            Self::SignIn => "sit",
            Self::Actor => "act",
        }
    }
}

/// `pending` until redeemed (`accepted`) or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// Not used yet.
    Pending,
    /// Used to sign in.
    Accepted,
    /// Revoked through the Backend API.
    Revoked,
}

impl TicketStatus {
    /// The lowercase name Clerk uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
        }
    }
}

/// A sign-in token or actor token.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    /// `sit_…` or `act_…`.
    pub id: String,
    /// Which resource.
    pub kind: TicketKind,
    /// The user the ticket signs in.
    pub user_id: String,
    /// For an actor token: the actor (`{sub, …}`).
    pub actor: Option<Value>,
    /// For an actor token: the longest life of the session it creates, in milliseconds.
    pub session_max_duration_ms: Option<i64>,
    /// Its state.
    pub status: TicketStatus,
    /// The ticket itself.
    pub token: String,
    /// Milliseconds.
    pub expire_at: i64,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

impl TicketRecord {
    /// The Backend API rendering (`SignInToken` or `ActorToken` of `bapi/2026-05-12.yml`); `url` is the
    /// Frontend API's ticket URL.
    pub fn json(&self, url: &str) -> Value {
        let mut v = json!({
            "object": self.kind.object(),
            "id": self.id,
            "status": self.status.as_str(),
            "user_id": self.user_id,
            "token": self.token,
            "url": url,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        });
        if self.kind == TicketKind::Actor {
            v["actor"] = self.actor.clone().unwrap_or(Value::Null);
        }
        v
    }
}

/// Why a ticket is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Not a ticket of this instance, unknown, revoked or already used (`ticket_invalid_code`).
    #[error("ticket invalid")]
    Invalid,
    /// Past its expiry (`ticket_expired_code`).
    #[error("ticket expired")]
    Expired,
    /// Revoking a ticket that was already used.
    #[error("ticket already accepted")]
    AlreadyAccepted,
    /// No such record.
    #[error("ticket record not found")]
    NotFound,
}

/// What a new ticket takes.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    /// Sign-in token or actor token.
    pub kind: TicketKind,
    /// The user.
    pub user_id: String,
    /// For an actor token.
    pub actor: Option<Value>,
    /// Lifetime of the ticket, seconds.
    pub expires_in_secs: i64,
    /// For an actor token: the session's longest life, seconds.
    pub session_max_duration_secs: Option<i64>,
}

/// The tickets issued, and the key they are signed with.
#[derive(Debug)]
pub struct Tickets {
    secret: [u8; 32],
    records: HashMap<String, TicketRecord>,
}

impl Default for Tickets {
    fn default() -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the system random source works");
        Self { secret, records: HashMap::new() }
    }
}

impl Tickets {
    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.secret);
        aws_lc_rs::hmac::sign(&key, input).as_ref().to_vec()
    }

    /// Issues a ticket at `now` (milliseconds).
    pub fn issue(&mut self, new: NewTicket, now: i64) -> TicketRecord {
        let id = new_id(new.kind.id_prefix());
        let expire_at = now.saturating_add(new.expires_in_secs.saturating_mul(1000));
        let mut claims = Map::new();
        claims.insert("exp".into(), (expire_at / 1000).into());
        claims.insert("iat".into(), (now / 1000).into());
        claims.insert("sid".into(), id.clone().into());
        claims.insert("st".into(), new.kind.object().into());
        let token = crate::tokens::encode(&json!({"alg": "HS256", "typ": "JWT"}), &claims, |input| self.sign(input));
        let record = TicketRecord {
            id: id.clone(),
            kind: new.kind,
            user_id: new.user_id,
            actor: new.actor,
            session_max_duration_ms: new.session_max_duration_secs.map(|s| s.saturating_mul(1000)),
            status: TicketStatus::Pending,
            token,
            expire_at,
            created_at: now,
            updated_at: now,
        };
        self.records.insert(id, record.clone());
        record
    }

    /// The record a ticket names, if its signature is ours.
    fn record_of(&self, ticket: &str) -> Option<&TicketRecord> {
        let (input, signature) = ticket.trim().rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.secret);
        aws_lc_rs::hmac::verify(&key, input.as_bytes(), &signature).ok()?;
        let claims = crate::tokens::decode_unverified(ticket.trim()).ok()?.claims;
        self.records.get(claims.get("sid")?.as_str()?)
    }

    /// Checks a ticket without using it: pending and in time.
    pub fn check(&self, ticket: &str, now: i64) -> Result<&TicketRecord, TicketError> {
        let record = self.record_of(ticket).ok_or(TicketError::Invalid)?;
        if record.status != TicketStatus::Pending {
            return Err(TicketError::Invalid);
        }
        if now >= record.expire_at {
            return Err(TicketError::Expired);
        }
        Ok(record)
    }

    /// Uses a ticket (once): it becomes `accepted`.
    pub fn redeem(&mut self, ticket: &str, now: i64) -> Result<TicketRecord, TicketError> {
        let id = self.check(ticket, now)?.id.clone();
        let record = self.records.get_mut(&id).ok_or(TicketError::Invalid)?;
        record.status = TicketStatus::Accepted;
        record.updated_at = now;
        Ok(record.clone())
    }

    /// Revokes a pending ticket of `kind`; revoking a revoked one returns it unchanged.
    pub fn revoke(&mut self, kind: TicketKind, id: &str, now: i64) -> Result<TicketRecord, TicketError> {
        let record = self.records.get_mut(id).filter(|r| r.kind == kind).ok_or(TicketError::NotFound)?;
        match record.status {
            TicketStatus::Accepted => Err(TicketError::AlreadyAccepted),
            TicketStatus::Revoked => Ok(record.clone()),
            TicketStatus::Pending => {
                record.status = TicketStatus::Revoked;
                record.updated_at = now;
                Ok(record.clone())
            }
        }
    }
}

/// A testing token (`POST /v1/testing_tokens`): `<expires_at>-<random>`, as Clerk's look. The Frontend API
/// accepts `__clerk_testing_token` on any call and ignores it (mock-clerk has no bot protection to bypass).
pub fn testing_token(now_ms: i64) -> (String, i64) {
    let expires_at = now_ms / 1000 + TESTING_TOKEN_LIFETIME_SECS;
    let random = new_id("c");
    (format!("{expires_at}-{random}"), expires_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in_ticket(t: &mut Tickets, now: i64) -> TicketRecord {
        t.issue(
            NewTicket { kind: TicketKind::SignIn, user_id: "user_1".into(), actor: None, expires_in_secs: 60, session_max_duration_secs: None },
            now,
        )
    }

    #[test]
    fn a_ticket_is_used_once_and_only_in_time() {
        let mut t = Tickets::default();
        let r = sign_in_ticket(&mut t, 1_000);
        assert_eq!(t.check(&r.token, 1_000 + 60_000), Err(TicketError::Expired));
        assert_eq!(t.redeem(&r.token, 2_000).unwrap().status, TicketStatus::Accepted);
        assert_eq!(t.redeem(&r.token, 3_000), Err(TicketError::Invalid));
        assert_eq!(t.revoke(TicketKind::SignIn, &r.id, 3_000), Err(TicketError::AlreadyAccepted));
    }

    #[test]
    fn tampered_foreign_and_revoked_tickets_are_invalid() {
        let mut t = Tickets::default();
        let r = sign_in_ticket(&mut t, 0);
        let mut tampered = r.token.clone();
        tampered.pop();
        tampered.push(if r.token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(t.check(&tampered, 0), Err(TicketError::Invalid));
        assert_eq!(t.check("not-a-ticket", 0), Err(TicketError::Invalid));
        let other = sign_in_ticket(&mut Tickets::default(), 0);
        assert_eq!(t.check(&other.token, 0), Err(TicketError::Invalid));
        assert_eq!(t.revoke(TicketKind::Actor, &r.id, 1), Err(TicketError::NotFound));
        assert_eq!(t.revoke(TicketKind::SignIn, &r.id, 1).unwrap().status, TicketStatus::Revoked);
        assert_eq!(t.check(&r.token, 1), Err(TicketError::Invalid));
    }

    #[test]
    fn testing_tokens_look_like_clerks() {
        let (token, expires_at) = testing_token(1_700_000_000_000);
        assert_eq!(expires_at, 1_700_003_600);
        assert!(token.starts_with("1700003600-c_"), "{token}");
    }
}
