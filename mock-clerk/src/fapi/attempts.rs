//! Sign-in and sign-up attempts (`sign_in_…`, `sign_up_…`), the verification codes mock-clerk sent, and where
//! the browser bundles live: the Frontend API's own state beside the store. Kept in memory only: an attempt
//! lives minutes, and a restart with a state file keeps the users and sessions that matter.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;

use crate::ids::new_id;

/// The one verification code mock-clerk sends, like Clerk's test mode (`+clerk_test` addresses, `424242`).
pub const TEST_CODE: &str = "424242";
/// How long a verification code is valid (Clerk: 10 minutes).
pub const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;
/// How long an unfinished attempt is kept (Clerk abandons sign-ins and sign-ups after 24 hours).
pub const ATTEMPT_ABANDON_MS: i64 = 24 * 3600 * 1000;
/// Wrong codes before a verification fails for good (Clerk allows a handful).
pub const MAX_CODE_ATTEMPTS: u32 = 5;

/// Where `@clerk/clerk-js` and `@clerk/ui` are installed (`fixtures/clerk-bundles/node_modules`).
pub fn default_bundle_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/clerk-bundles/node_modules"))
}

/// A verification in progress (`VerificationJSON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// `email_code`, `password`.
    pub strategy: String,
    /// `unverified`, `verified`, `failed`, `expired`.
    pub status: &'static str,
    /// Wrong attempts so far.
    pub attempts: u32,
    /// Milliseconds.
    pub expire_at: Option<i64>,
}

impl Verification {
    /// A code was sent.
    pub fn code_sent(strategy: &str, now: i64) -> Self {
        Self { strategy: strategy.to_owned(), status: "unverified", attempts: 0, expire_at: Some(now + CODE_LIFETIME_MS) }
    }
    /// Verified now.
    pub fn verified(strategy: &str) -> Self {
        Self { strategy: strategy.to_owned(), status: "verified", attempts: 0, expire_at: None }
    }
}

/// A sign-in attempt on a client.
#[derive(Debug, Clone)]
pub struct SignInAttempt {
    /// `sign_in_…`.
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// What the user typed (an email address).
    pub identifier: Option<String>,
    /// The user the identifier names.
    pub user_id: Option<String>,
    /// The first factor's verification, once prepared or attempted.
    pub first_factor: Option<Verification>,
    /// When the first factor was verified, if the user must still pass a second one (milliseconds).
    pub first_factor_verified_at: Option<i64>,
    /// The second factor's verification, once prepared or attempted.
    pub second_factor: Option<Verification>,
    /// The session it created.
    pub created_session_id: Option<String>,
    /// Milliseconds.
    pub created_at: i64,
    /// The trip through a social provider (`strategy=oauth_…`).
    pub oauth: Option<super::oauth::OAuthFlow>,
}

impl SignInAttempt {
    /// `needs_identifier`, `needs_first_factor`, `needs_second_factor` or `complete`.
    pub fn status(&self) -> &'static str {
        match (&self.user_id, &self.created_session_id) {
            (_, Some(_)) => "complete",
            (Some(_), None) if self.first_factor_verified_at.is_some() => "needs_second_factor",
            (Some(_), None) => "needs_first_factor",
            (None, None) => "needs_identifier",
        }
    }
}

/// A sign-up attempt on a client.
#[derive(Debug, Clone, Default)]
pub struct SignUpAttempt {
    /// `sign_up_…`.
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// Collected fields.
    pub email_address: Option<String>,
    /// Collected fields.
    pub first_name: Option<String>,
    /// Collected fields.
    pub last_name: Option<String>,
    /// Held until the user is created; never shown.
    pub password: Option<String>,
    /// Arbitrary JSON the app attached.
    pub unsafe_metadata: serde_json::Map<String, serde_json::Value>,
    /// The email address's verification.
    pub email_verification: Option<Verification>,
    /// The user it created.
    pub created_user_id: Option<String>,
    /// The session it created.
    pub created_session_id: Option<String>,
    /// Milliseconds.
    pub created_at: i64,
    /// `oauth_google` when the sign-up took over a social sign-in (`transfer`).
    pub external_strategy: Option<String>,
}

/// A code mock-clerk "sent", readable through `GET /__mock/codes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SentCode {
    /// Where it went (an email address or a phone number).
    pub identifier: String,
    /// The code.
    pub code: String,
    /// `email_code` or `phone_code`.
    pub strategy: String,
    /// `sign_in_…` or `sign_up_…`.
    pub attempt_id: String,
    /// Milliseconds.
    pub sent_at: i64,
}

/// The attempts and codes.
#[derive(Debug, Default)]
pub struct Attempts {
    /// By id.
    pub sign_ins: HashMap<String, SignInAttempt>,
    /// By id.
    pub sign_ups: HashMap<String, SignUpAttempt>,
    /// The current sign-in and sign-up of each client (`client.sign_in`, `client.sign_up`).
    pub current: HashMap<String, (Option<String>, Option<String>)>,
    /// Every code sent, oldest first.
    pub codes: Vec<SentCode>,
}

impl Attempts {
    /// Starts a sign-in on a client (it becomes the client's current one).
    pub fn new_sign_in(&mut self, client_id: &str, now: i64) -> &mut SignInAttempt {
        let id = new_id("sia");
        self.current.entry(client_id.to_owned()).or_default().0 = Some(id.clone());
        self.sign_ins.entry(id.clone()).or_insert(SignInAttempt {
            id,
            client_id: client_id.to_owned(),
            identifier: None,
            user_id: None,
            first_factor: None,
            first_factor_verified_at: None,
            second_factor: None,
            created_session_id: None,
            created_at: now,
            oauth: None,
        })
    }

    /// Starts a sign-up on a client (it becomes the client's current one).
    pub fn new_sign_up(&mut self, client_id: &str, now: i64) -> &mut SignUpAttempt {
        let id = new_id("sua");
        self.current.entry(client_id.to_owned()).or_default().1 = Some(id.clone());
        self.sign_ups.entry(id.clone()).or_insert(SignUpAttempt { id, client_id: client_id.to_owned(), created_at: now, ..Default::default() })
    }

    /// A client's sign-in by id, only if it is that client's.
    pub fn sign_in_of(&mut self, client_id: &str, id: &str) -> Option<&mut SignInAttempt> {
        self.sign_ins.get_mut(id).filter(|a| a.client_id == client_id)
    }

    /// A client's sign-up by id, only if it is that client's.
    pub fn sign_up_of(&mut self, client_id: &str, id: &str) -> Option<&mut SignUpAttempt> {
        self.sign_ups.get_mut(id).filter(|a| a.client_id == client_id)
    }

    /// The client's current sign-in and sign-up.
    pub fn current_of(&self, client_id: &str) -> (Option<&SignInAttempt>, Option<&SignUpAttempt>) {
        match self.current.get(client_id) {
            Some((si, su)) => (si.as_ref().and_then(|id| self.sign_ins.get(id)), su.as_ref().and_then(|id| self.sign_ups.get(id))),
            None => (None, None),
        }
    }

    /// Forgets a client's current attempts once they are complete (a session was made active).
    pub fn settle_client(&mut self, client_id: &str) {
        if let Some((si, su)) = self.current.get_mut(client_id) {
            if si.as_ref().and_then(|id| self.sign_ins.get(id)).is_some_and(|a| a.created_session_id.is_some()) {
                *si = None;
            }
            if su.as_ref().and_then(|id| self.sign_ups.get(id)).is_some_and(|a| a.created_session_id.is_some()) {
                *su = None;
            }
        }
    }

    /// Forgets a client's current attempts (signed out, client destroyed).
    pub fn clear_client(&mut self, client_id: &str) {
        self.current.remove(client_id);
    }

    /// Records a code sent for an attempt and returns it.
    pub fn send_code(&mut self, identifier: &str, strategy: &str, attempt_id: &str, now: i64) -> String {
        self.codes.push(SentCode {
            identifier: identifier.to_owned(),
            code: TEST_CODE.to_owned(),
            strategy: strategy.to_owned(),
            attempt_id: attempt_id.to_owned(),
            sent_at: now,
        });
        TEST_CODE.to_owned()
    }

    /// Drops attempts older than [`ATTEMPT_ABANDON_MS`].
    pub fn prune(&mut self, now: i64) {
        self.sign_ins.retain(|_, a| now - a.created_at < ATTEMPT_ABANDON_MS);
        self.sign_ups.retain(|_, a| now - a.created_at < ATTEMPT_ABANDON_MS);
    }
}

/// The Frontend API's state, held by [`crate::state::AppState`].
#[derive(Debug)]
pub struct FapiState {
    attempts: Mutex<Attempts>,
    bundle_dir: Mutex<PathBuf>,
    oauth_providers: Mutex<Vec<String>>,
    tickets: Mutex<crate::tickets::Tickets>,
    sign_in_url: Mutex<Option<String>>,
}

impl Default for FapiState {
    fn default() -> Self {
        Self {
            attempts: Mutex::new(Attempts::default()),
            bundle_dir: Mutex::new(default_bundle_dir()),
            oauth_providers: Mutex::new(Vec::new()),
            tickets: Mutex::new(crate::tickets::Tickets::default()),
            sign_in_url: Mutex::new(None),
        }
    }
}

impl FapiState {
    /// The attempts, locked (a poisoned lock is recovered: plain data).
    pub fn attempts(&self) -> MutexGuard<'_, Attempts> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Where the bundles are served from.
    pub fn bundle_dir(&self) -> PathBuf {
        self.bundle_dir.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Serves the bundles from `dir` (the `node_modules` directory holding `@clerk/clerk-js` and `@clerk/ui`).
    pub fn set_bundle_dir(&self, dir: PathBuf) {
        *self.bundle_dir.lock().unwrap_or_else(|p| p.into_inner()) = dir;
    }
    /// The social providers enabled on the instance (`google`, `github`), in order.
    pub fn oauth_providers(&self) -> Vec<String> {
        self.oauth_providers.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Enables these social providers (ids as [`super::oauth::parse_providers`] returns them).
    pub fn set_oauth_providers(&self, providers: Vec<String>) {
        *self.oauth_providers.lock().unwrap_or_else(|p| p.into_inner()) = providers;
    }
    /// The sign-in and actor tokens (their tickets), locked.
    pub fn tickets(&self) -> MutexGuard<'_, crate::tickets::Tickets> {
        self.tickets.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// The app's sign-in page (absolute URL), where a ticket URL sends the browser with `__clerk_ticket`.
    pub fn sign_in_url(&self) -> Option<String> {
        self.sign_in_url.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Sets the app's sign-in page (`--sign-in-url`, or the test stack once the app is up).
    pub fn set_sign_in_url(&self, url: Option<String>) {
        *self.sign_in_url.lock().unwrap_or_else(|p| p.into_inner()) = url;
    }
    /// Forgets every attempt, code and ticket (`POST /__mock/reset`).
    pub fn reset(&self) {
        *self.attempts() = Attempts::default();
        *self.tickets() = crate::tickets::Tickets::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_belong_to_their_client() {
        let mut a = Attempts::default();
        let id = a.new_sign_in("client_a", 0).id.clone();
        assert!(a.sign_in_of("client_a", &id).is_some());
        assert!(a.sign_in_of("client_b", &id).is_none());
        assert_eq!(a.current_of("client_a").0.map(|s| s.id.as_str()), Some(id.as_str()));
        a.clear_client("client_a");
        assert!(a.current_of("client_a").0.is_none());
    }

    #[test]
    fn codes_are_deterministic_and_recorded() {
        let mut a = Attempts::default();
        assert_eq!(a.send_code("ada@example.com", "email_code", "sia_1", 5), TEST_CODE);
        assert_eq!(a.codes[0].identifier, "ada@example.com");
        a.prune(ATTEMPT_ABANDON_MS + 10);
    }
}
