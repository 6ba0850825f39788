//! Users, clients, sessions, dev browsers and handshake nonces. Plain data, no I/O; every operation takes the
//! current (virtual) time in milliseconds, as Clerk's timestamps are.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::external::ExternalAccount;
use crate::ids::{IdStr, new_id, prefix};
use crate::webhooks::events::{Change, Email, SessionEvent};

pub mod orgs;

/// Clerk's limit on each metadata object (public, private, unsafe) of a user, an organization or a membership:
/// 8 KB of JSON.
pub const METADATA_LIMIT_BYTES: usize = 8 * 1024;

/// Refuses a metadata object over [`METADATA_LIMIT_BYTES`] (its compact JSON, as Clerk measures it).
pub fn check_metadata(param: &'static str, metadata: &Map<String, Value>) -> Result<(), StoreError> {
    let size = serde_json::to_vec(metadata).map_or(usize::MAX, |v| v.len());
    if size > METADATA_LIMIT_BYTES {
        return Err(StoreError::MetadataTooLarge { param, size });
    }
    Ok(())
}

/// Clerk's username rule (as mock-clerk's instance configures it): 4 to 64 letters, digits, `-` or `_`.
fn check_username(name: &str) -> Result<(), StoreError> {
    if name.len() < 4 || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(StoreError::InvalidParam { param: "username", message: "a username has 4 to 64 letters, digits, '-' or '_'".into() });
    }
    Ok(())
}

/// How long a session lives before it expires (Clerk's default: 7 days).
pub const SESSION_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;
/// When an unused session is abandoned (Clerk's default: 30 days).
pub const SESSION_ABANDON_MS: i64 = 30 * 24 * 3600 * 1000;

/// Clerk's session statuses (`SessionStatus` in `@clerk/shared/types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// Signed in.
    Active,
    /// Revoked through the Backend API.
    Revoked,
    /// Signed out by the user.
    Ended,
    /// Past `expire_at`.
    Expired,
    /// Removed from the client.
    Removed,
    /// Past `abandon_at`.
    Abandoned,
    /// Signed in with unfinished session tasks.
    Pending,
}

impl SessionStatus {
    /// The lowercase name Clerk uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Ended => "ended",
            Self::Expired => "expired",
            Self::Removed => "removed",
            Self::Abandoned => "abandoned",
            Self::Pending => "pending",
        }
    }

    /// Parses a status name.
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(Value::String(name.to_owned())).ok()
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// `user_…`.
    pub id: IdStr,
    /// Optional profile fields.
    pub first_name: Option<String>,
    /// Optional profile fields.
    pub last_name: Option<String>,
    /// Optional username.
    pub username: Option<String>,
    /// `(idn_… id, address)` pairs; the first is primary.
    pub email_addresses: Vec<(String, String)>,
    /// Your system's id for the user.
    pub external_id: Option<String>,
    /// Whether a password was set at creation.
    pub password_enabled: bool,
    /// HMAC-SHA256 of the password (keyed with the store's secret), for Frontend API sign-ins; never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_digest: Option<String>,
    /// Metadata objects.
    pub public_metadata: Map<String, Value>,
    /// Metadata objects.
    pub private_metadata: Map<String, Value>,
    /// Metadata objects.
    pub unsafe_metadata: Map<String, Value>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
    /// Milliseconds, set when a session is created.
    pub last_sign_in_at: Option<i64>,
    /// Accounts at social providers ([`crate::external`]), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_accounts: Vec<ExternalAccount>,
    /// Second factors ([`crate::mfa`]): the authenticator app's secret, backup codes, phone numbers.
    #[serde(default, flatten)]
    pub mfa: crate::mfa::UserMfa,
}

/// What creating a user takes (`POST /v1/users`, snake_case like the SDK sends it).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Email addresses; the first becomes primary.
    #[serde(default)]
    pub email_address: Vec<String>,
    /// Optional.
    pub first_name: Option<String>,
    /// Optional.
    pub last_name: Option<String>,
    /// Optional, unique.
    pub username: Option<String>,
    /// Optional; mock-clerk only records that one was set.
    pub password: Option<String>,
    /// Optional.
    pub external_id: Option<String>,
    /// Optional.
    #[serde(default)]
    pub public_metadata: Map<String, Value>,
    /// Optional.
    #[serde(default)]
    pub private_metadata: Map<String, Value>,
    /// Optional.
    #[serde(default)]
    pub unsafe_metadata: Map<String, Value>,
    /// Accepted and ignored (Clerk's option to skip password checks).
    pub skip_password_checks: Option<bool>,
    /// Accepted and ignored.
    pub skip_password_requirement: Option<bool>,
    /// The authenticator app's secret (base32; SHA-1, 6 digits, 30 s), enabling TOTP as a second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// Backup codes (plain), enabling them as a second factor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
    /// Phone numbers (E.164); the first becomes primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_number: Vec<String>,
}

/// What `PATCH /v1/users/{id}` may change; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New username (unique).
    pub username: Option<String>,
    /// New external id.
    pub external_id: Option<String>,
    /// Replaces the public metadata.
    pub public_metadata: Option<Map<String, Value>>,
    /// Replaces the private metadata.
    pub private_metadata: Option<Map<String, Value>>,
    /// Replaces the unsafe metadata.
    pub unsafe_metadata: Option<Map<String, Value>>,
}

/// A client: one browser, holding sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// `client_…`.
    pub id: IdStr,
    /// Sessions created on this client, oldest first.
    pub session_ids: Vec<IdStr>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// A session.
///
/// Kept small, as a long-running mock-clerk may hold a million of them: the ids share their allocations with
/// the store's map keys, the client and the user ([`IdStr`]), and the refresh token is not stored but derived
/// ([`Store::refresh_token`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// `sess_…`.
    pub id: IdStr,
    /// The client it lives on.
    pub client_id: IdStr,
    /// Its user.
    pub user_id: IdStr,
    /// The stored status; `expired`/`abandoned` are derived from the clock by [`Session::status_at`].
    pub status: SessionStatus,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
    /// Milliseconds.
    pub last_active_at: i64,
    /// Milliseconds.
    pub expire_at: i64,
    /// Milliseconds.
    pub abandon_at: i64,
    /// The actor of an impersonation session (`{sub, …}` from the actor token); every token of the session
    /// carries it as `act`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<Box<Value>>,
    /// When the first factor was verified (milliseconds); `None`: at `created_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_factor_verified_at: Option<i64>,
    /// When a second factor was verified (milliseconds); `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor_verified_at: Option<i64>,
    /// What every token of the session carries besides the standard claims: active organization, features,
    /// plans, custom claims ([`orgs::SessionClaims`]). Boxed: most sessions have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Box<orgs::SessionClaims>>,
}

impl Session {
    /// The status at `now`: an active session past `expire_at` is expired, past `abandon_at` abandoned.
    pub fn status_at(&self, now: i64) -> SessionStatus {
        match self.status {
            SessionStatus::Active | SessionStatus::Pending if now >= self.abandon_at => SessionStatus::Abandoned,
            SessionStatus::Active | SessionStatus::Pending if now >= self.expire_at => SessionStatus::Expired,
            s => s,
        }
    }
}

/// Why a store operation failed. Each maps to one Clerk error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No user with this id.
    #[error("user {0} not found")]
    UserNotFound(String),
    /// No session with this id.
    #[error("session {0} not found")]
    SessionNotFound(String),
    /// The operation needs an active session.
    #[error("session {id} is {status}, not active")]
    SessionNotActive {
        /// The session.
        id: String,
        /// Its status.
        status: &'static str,
    },
    /// A field is already taken by another user.
    #[error("{param} {value:?} is taken")]
    IdentifierTaken {
        /// `email_address` or `username`.
        param: &'static str,
        /// The value.
        value: String,
    },
    /// A field has an invalid value.
    #[error("{param}: {message}")]
    InvalidParam {
        /// The field.
        param: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The refresh token does not belong to the session.
    #[error("refresh token does not match session {0}")]
    RefreshTokenMismatch(String),
    /// No record of this kind (`organization`, `role`, …) with this id.
    #[error("{kind} {id} not found")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
        /// The id, key or slug asked for.
        id: String,
    },
    /// The user is already a member of the organization.
    #[error("user {user_id} is already a member of {organization_id}")]
    AlreadyMember {
        /// The organization.
        organization_id: String,
        /// The user.
        user_id: String,
    },
    /// The organization has as many members as it may have.
    #[error("organization {0} has reached its membership limit")]
    MembershipQuotaExceeded(String),
    /// A metadata object over Clerk's 8 KB limit.
    #[error("{param} is {size} bytes, over the 8 KB limit")]
    MetadataTooLarge {
        /// The field.
        param: &'static str,
        /// Its size as JSON.
        size: usize,
    },
}

/// A dev browser (`__clerk_db_jwt`): on development instances it identifies the browser's client to the
/// Frontend API, as the client cookie does on production.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevBrowser {
    /// Milliseconds.
    pub created_at: i64,
    /// The client this browser signed in on, if any.
    pub client_id: Option<String>,
}

pub use crate::user_query::UserQuery;

/// Filters for listing sessions (`GET /v1/sessions`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionQuery {
    /// Only this user's sessions.
    pub user_id: Option<String>,
    /// Only this client's sessions.
    pub client_id: Option<String>,
    /// Only sessions with this status (at the time of the query).
    pub status: Option<SessionStatus>,
}

/// The key refresh tokens are derived with (HMAC-SHA256 of the session id): random per store, kept in the
/// state file, never shown.
#[derive(Clone, PartialEq, Eq)]
struct RefreshSecret([u8; 32]);

impl RefreshSecret {
    /// From the OS (`getrandom`), not aws-lc's RNG: the first use of aws-lc's RNG in a process seeds it with CPU
    /// jitter entropy, ~20 ms of CPU, which would sit on every start-up path (see `SigningKey::warm_up`).
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the system random source works");
        Self(bytes)
    }
}

impl std::fmt::Debug for RefreshSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshSecret([redacted])")
    }
}

/// All of mock-clerk's state. Serialises (for the state file) as lists of records, which are re-linked on
/// load so that ids share their allocations again.
#[derive(Debug, Clone)]
pub struct Store {
    refresh_secret: RefreshSecret,
    users: BTreeMap<IdStr, User>,
    clients: HashMap<IdStr, Client>,
    sessions: HashMap<IdStr, Session>,
    dev_browsers: HashMap<String, DevBrowser>,
    nonces: HashMap<String, Vec<String>>,
    /// Organizations, memberships, invitations, roles and permissions.
    orgs: orgs::Orgs,
    /// Machines, M2M tokens, API keys, OAuth access tokens ([`crate::machines`]).
    machines: crate::machines::Machines,
    /// JWT templates ([`crate::templates`]).
    jwt_templates: crate::templates::JwtTemplates,
    /// State changes not yet taken ([`Store::take_changes`]): the webhook events to emit. Never persisted.
    changes: Vec<Change>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            refresh_secret: RefreshSecret::generate(),
            users: BTreeMap::new(),
            clients: HashMap::new(),
            sessions: HashMap::new(),
            dev_browsers: HashMap::new(),
            nonces: HashMap::new(),
            orgs: orgs::Orgs::default(),
            machines: Default::default(),
            jwt_templates: Default::default(),
            changes: Vec::new(),
        }
    }
}

/// The state-file form of a [`Store`] (written).
#[derive(Serialize)]
struct StoreDataRef<'a> {
    refresh_secret: String,
    users: Vec<&'a User>,
    clients: Vec<&'a Client>,
    sessions: Vec<&'a Session>,
    dev_browsers: BTreeMap<&'a str, &'a DevBrowser>,
    nonces: BTreeMap<&'a str, &'a Vec<String>>,
    orgs: &'a orgs::Orgs,
    machines: &'a crate::machines::Machines,
    jwt_templates: &'a crate::templates::JwtTemplates,
}

/// The state-file form of a [`Store`] (read).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreData {
    refresh_secret: String,
    users: Vec<User>,
    clients: Vec<Client>,
    sessions: Vec<Session>,
    #[serde(default)]
    dev_browsers: HashMap<String, DevBrowser>,
    #[serde(default)]
    nonces: HashMap<String, Vec<String>>,
    #[serde(default)]
    orgs: orgs::Orgs,
    machines: crate::machines::Machines,
    #[serde(default)]
    jwt_templates: crate::templates::JwtTemplates,
}

impl Serialize for Store {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Sorted, so that the same store always writes the same file.
        let mut clients: Vec<&Client> = self.clients.values().collect();
        clients.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let mut sessions: Vec<&Session> = self.sessions.values().collect();
        sessions.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        StoreDataRef {
            refresh_secret: URL_SAFE_NO_PAD.encode(self.refresh_secret.0),
            users: self.users.values().collect(),
            clients,
            sessions,
            dev_browsers: self.dev_browsers.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            nonces: self.nonces.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            orgs: &self.orgs,
            machines: &self.machines,
            jwt_templates: &self.jwt_templates,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Store {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let data = StoreData::deserialize(deserializer)?;
        let secret = URL_SAFE_NO_PAD
            .decode(&data.refresh_secret)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| serde::de::Error::custom("refresh_secret is not 32 bytes of base64url"))?;
        Ok(Self::relink(RefreshSecret(secret), data))
    }
}

impl Store {
    /// Builds the maps from loaded records; every id copy points at the map key's allocation again.
    fn relink(refresh_secret: RefreshSecret, data: StoreData) -> Self {
        let users: BTreeMap<IdStr, User> = data.users.into_iter().map(|u| (u.id.clone(), u)).collect();
        let mut clients: HashMap<IdStr, Client> = data.clients.into_iter().map(|c| (c.id.clone(), c)).collect();
        let mut sessions = HashMap::with_capacity(data.sessions.len());
        for mut s in data.sessions {
            if let Some((key, _)) = users.get_key_value(s.user_id.as_str()) {
                s.user_id = key.clone();
            }
            if let Some((key, _)) = clients.get_key_value(s.client_id.as_str()) {
                s.client_id = key.clone();
            }
            sessions.insert(s.id.clone(), s);
        }
        for client in clients.values_mut() {
            for id in &mut client.session_ids {
                if let Some((key, _)) = sessions.get_key_value(id.as_str()) {
                    *id = key.clone();
                }
            }
        }
        Self {
            refresh_secret,
            users,
            clients,
            sessions,
            dev_browsers: data.dev_browsers,
            nonces: data.nonces,
            orgs: data.orgs,
            machines: data.machines,
            jwt_templates: data.jwt_templates,
            changes: Vec::new(),
        }
    }
}

impl Store {
    /// Creates a user.
    pub fn create_user(&mut self, new: NewUser, now: i64) -> Result<User, StoreError> {
        for email in &new.email_address {
            if !is_plausible_email(email) {
                return Err(StoreError::InvalidParam { param: "email_address", message: format!("{email:?} is not a valid email address") });
            }
            if self.users.values().any(|u| u.email_addresses.iter().any(|(_, e)| e.eq_ignore_ascii_case(email))) {
                return Err(StoreError::IdentifierTaken { param: "email_address", value: email.clone() });
            }
        }
        if let Some(name) = &new.username {
            check_username(name)?;
            if self.users.values().any(|u| u.username.as_deref() == Some(name)) {
                return Err(StoreError::IdentifierTaken { param: "username", value: name.clone() });
            }
        }
        if new.password.as_ref().is_some_and(|p| p.len() < 8) {
            return Err(StoreError::InvalidParam { param: "password", message: "passwords must be 8 characters or more".into() });
        }
        check_metadata("public_metadata", &new.public_metadata)?;
        check_metadata("private_metadata", &new.private_metadata)?;
        check_metadata("unsafe_metadata", &new.unsafe_metadata)?;
        let taken = |phone: &str| self.users.values().any(|u| u.mfa.phone_numbers.iter().any(|p| p.phone_number == phone));
        let phones = crate::mfa::check_new(&new, taken)?;
        let id = IdStr::new(prefix::USER);
        let password_digest = new.password.as_deref().map(|p| self.password_digest(&id, p));
        let backup_digests = new.backup_codes.iter().map(|c| self.backup_code_digest(&id, c)).collect();
        let user = User {
            id,
            first_name: new.first_name,
            last_name: new.last_name,
            username: new.username,
            email_addresses: new.email_address.into_iter().map(|e| (new_id(prefix::EMAIL), e)).collect(),
            external_id: new.external_id,
            password_enabled: new.password.is_some(),
            password_digest,
            public_metadata: new.public_metadata,
            private_metadata: new.private_metadata,
            unsafe_metadata: new.unsafe_metadata,
            created_at: now,
            updated_at: now,
            last_sign_in_at: None,
            external_accounts: Vec::new(),
            mfa: crate::mfa::UserMfa::new(new.totp_secret, backup_digests, phones),
        };
        self.users.insert(user.id.clone(), user.clone());
        self.changes.push(Change::UserCreated(user.clone()));
        Ok(user)
    }

    /// Changes a user's profile fields; `None` leaves a field as it is (`PATCH /v1/users/{id}`).
    pub fn update_user(&mut self, id: &str, update: UserUpdate, now: i64) -> Result<User, StoreError> {
        self.user(id)?;
        if let Some(name) = &update.username {
            check_username(name)?;
        }
        for (param, metadata) in [
            ("public_metadata", &update.public_metadata),
            ("private_metadata", &update.private_metadata),
            ("unsafe_metadata", &update.unsafe_metadata),
        ] {
            if let Some(m) = metadata {
                check_metadata(param, m)?;
            }
        }
        if let Some(name) = &update.username
            && self.users.values().any(|u| u.id != id && u.username.as_deref() == Some(name.as_str()))
        {
            return Err(StoreError::IdentifierTaken { param: "username", value: name.clone() });
        }
        let user = self.users.get_mut(id).ok_or_else(|| StoreError::UserNotFound(id.to_owned()))?;
        let UserUpdate { first_name, last_name, username, external_id, public_metadata, private_metadata, unsafe_metadata } = update;
        user.first_name = first_name.or(user.first_name.take());
        user.last_name = last_name.or(user.last_name.take());
        user.username = username.or(user.username.take());
        user.external_id = external_id.or(user.external_id.take());
        for (field, new) in [
            (&mut user.public_metadata, public_metadata),
            (&mut user.private_metadata, private_metadata),
            (&mut user.unsafe_metadata, unsafe_metadata),
        ] {
            if let Some(new) = new {
                *field = new;
            }
        }
        user.updated_at = now;
        let user = user.clone();
        self.changes.push(Change::UserUpdated(user.clone()));
        Ok(user)
    }

    /// The user holding the account `provider_user_id` at `provider` (`google`).
    pub fn user_by_external_account(&self, provider: &str, provider_user_id: &str) -> Option<&User> {
        self.users.values().find(|u| u.external_accounts.iter().any(|e| e.provider == provider && e.provider_user_id == provider_user_id))
    }

    /// Adds an external account to a user, or, if the user already has that provider account, renews its
    /// access token and profile from `account` (a sign-in through the provider). Returns the stored account.
    pub fn link_external_account(&mut self, user_id: &str, account: ExternalAccount, now: i64) -> Result<ExternalAccount, StoreError> {
        if let Some(other) = self.user_by_external_account(&account.provider, &account.provider_user_id)
            && other.id != user_id
        {
            return Err(StoreError::IdentifierTaken { param: "external_account", value: account.strategy() });
        }
        let user = self.users.get_mut(user_id).ok_or_else(|| StoreError::UserNotFound(user_id.to_owned()))?;
        let stored =
            match user.external_accounts.iter_mut().find(|e| e.provider == account.provider && e.provider_user_id == account.provider_user_id) {
                Some(existing) => {
                    existing.access_token = account.access_token;
                    existing.token_expires_at = account.token_expires_at;
                    existing.first_name = account.first_name;
                    existing.last_name = account.last_name;
                    existing.updated_at = now;
                    existing.clone()
                }
                None => {
                    user.external_accounts.push(account.clone());
                    account
                }
            };
        user.updated_at = now;
        let user = user.clone();
        self.changes.push(Change::UserUpdated(user));
        Ok(stored)
    }

    /// Records an email Clerk would send now (e.g. a verification code): the `email.created` event. Nothing is
    /// kept but the event.
    pub fn send_email(&mut self, email: Email) {
        self.changes.push(Change::EmailCreated(email));
    }

    /// The state changes made since the last call, oldest first: each becomes one webhook event
    /// ([`crate::webhooks`]; the store's guard takes them when its lock is released).
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// A user by id.
    pub fn user(&self, id: &str) -> Result<&User, StoreError> {
        self.users.get(id).ok_or_else(|| StoreError::UserNotFound(id.to_owned()))
    }

    /// Users matching `query` in its order (default newest first), after `offset`, at most `limit`.
    pub fn users(&self, query: &UserQuery, offset: usize, limit: usize) -> Vec<&User> {
        let mut users: Vec<&User> = self.users.values().filter(|u| query.matches(u, &self.organization_ids_of(u))).collect();
        users.sort_by(|a, b| query.order.compare(a, b));
        users.into_iter().skip(offset).take(limit).collect()
    }

    /// How many users match `query`.
    pub fn user_count(&self, query: &UserQuery) -> usize {
        self.users.values().filter(|u| query.matches(u, &self.organization_ids_of(u))).count()
    }

    /// The ids of the organizations `user` is a member of, for the `organization_id` filter of user lists.
    fn organization_ids_of(&self, user: &User) -> Vec<&str> {
        self.user_memberships(&user.id).into_iter().map(|m| m.organization_id.as_str()).collect()
    }

    /// Deletes a user; their sessions are removed.
    pub fn delete_user(&mut self, id: &str, now: i64) -> Result<User, StoreError> {
        let user = self.users.remove(id).ok_or_else(|| StoreError::UserNotFound(id.to_owned()))?;
        self.orgs.remove_user(id);
        let mut removed = Vec::new();
        for session in self.sessions.values_mut().filter(|s| s.user_id == id) {
            if session.status == SessionStatus::Active {
                session.status = SessionStatus::Removed;
                session.updated_at = now;
                removed.push(session.clone());
            }
        }
        removed.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        for session in removed {
            self.changes.push(Change::Session { event: SessionEvent::Removed, session, user: Some(Box::new(user.clone())), at: now });
        }
        self.changes.push(Change::UserDeleted { id: user.id.clone(), external_id: user.external_id.clone() });
        Ok(user)
    }

    /// Signs a user in on a new client: a new active session.
    pub fn create_session(&mut self, user_id: &str, now: i64) -> Result<Session, StoreError> {
        self.user(user_id)?;
        // Room for exactly the one session a new client usually ever holds (an empty Vec grows to 4 on push).
        let client = Client { id: IdStr::new(prefix::CLIENT), session_ids: Vec::with_capacity(1), created_at: now, updated_at: now };
        let client_id = client.id.clone();
        self.clients.insert(client_id.clone(), client);
        self.create_session_on_client(user_id, &client_id, now)
    }

    /// A new active session for `user_id` on an existing client.
    pub fn create_session_on_client(&mut self, user_id: &str, client_id: &str, now: i64) -> Result<Session, StoreError> {
        let user = self.users.get_mut(user_id).ok_or_else(|| StoreError::UserNotFound(user_id.to_owned()))?;
        // Every sign-in (Backend API session, password, code, ticket, OAuth) is one.
        user.last_sign_in_at = Some(now);
        let user_id = user.id.clone();
        let client_id = self.clients.get_key_value(client_id).map_or_else(|| IdStr::from(client_id), |(k, _)| k.clone());
        let session = Session {
            id: IdStr::new(prefix::SESSION),
            client_id,
            user_id,
            status: SessionStatus::Active,
            created_at: now,
            updated_at: now,
            last_active_at: now,
            expire_at: now.saturating_add(SESSION_LIFETIME_MS),
            abandon_at: now.saturating_add(SESSION_ABANDON_MS),
            actor: None,
            first_factor_verified_at: None,
            second_factor_verified_at: None,
            claims: None,
        };
        if let Some(client) = self.clients.get_mut(session.client_id.as_str()) {
            client.session_ids.push(session.id.clone());
            client.updated_at = now;
        }
        self.sessions.insert(session.id.clone(), session.clone());
        let user = self.users.get(session.user_id.as_str()).cloned().map(Box::new);
        self.changes.push(Change::Session { event: SessionEvent::Created, session: session.clone(), user, at: now });
        Ok(session)
    }

    /// The refresh token of a session: the value of the `__refresh_<suffix>` cookie that may refresh its tokens.
    /// Derived (HMAC-SHA256 of the session id with the store's secret, as `rt_` + 27 base62 characters), so it
    /// costs no memory per session and is the same after a restart with a state file.
    pub fn refresh_token(&self, session_id: &str) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.refresh_secret.0);
        let tag = aws_lc_rs::hmac::sign(&key, session_id.as_bytes());
        let mut out = String::with_capacity(prefix::REFRESH.len() + 28);
        out.push_str(prefix::REFRESH);
        out.push('_');
        // 27 characters from 27 tag bytes (a slight bias towards the first 8 characters; ~160 bits either way).
        out.extend(tag.as_ref()[..27].iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char));
        out
    }

    /// A session by id.
    pub fn session(&self, id: &str) -> Result<&Session, StoreError> {
        self.sessions.get(id).ok_or_else(|| StoreError::SessionNotFound(id.to_owned()))
    }

    /// Sessions matching `query` at `now`, newest first.
    pub fn sessions(&self, query: &SessionQuery, now: i64) -> Vec<&Session> {
        let mut found: Vec<&Session> = self
            .sessions
            .values()
            .filter(|s| query.user_id.as_ref().is_none_or(|u| &s.user_id == u))
            .filter(|s| query.client_id.as_ref().is_none_or(|c| &s.client_id == c))
            .filter(|s| query.status.is_none_or(|st| s.status_at(now) == st))
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        found
    }

    /// Number of sessions held, whatever their status.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The active session for token minting, or why there is none.
    pub fn active_session(&self, id: &str, now: i64) -> Result<&Session, StoreError> {
        let session = self.session(id)?;
        match session.status_at(now) {
            SessionStatus::Active => Ok(session),
            other => Err(StoreError::SessionNotActive { id: id.to_owned(), status: other.as_str() }),
        }
    }

    /// Moves a session from active to `status` (revoke, end, remove). A session that is no longer active is
    /// returned unchanged, as Clerk does for a repeated revoke.
    pub fn finish_session(&mut self, id: &str, status: SessionStatus, now: i64) -> Result<Session, StoreError> {
        let session = self.sessions.get_mut(id).ok_or_else(|| StoreError::SessionNotFound(id.to_owned()))?;
        if matches!(session.status_at(now), SessionStatus::Active | SessionStatus::Pending) {
            session.status = status;
            session.updated_at = now;
            let event = match status {
                SessionStatus::Revoked => Some(SessionEvent::Revoked),
                SessionStatus::Removed => Some(SessionEvent::Removed),
                SessionStatus::Ended => Some(SessionEvent::Ended),
                _ => None,
            };
            if let Some(event) = event {
                let user = self.users.get(session.user_id.as_str()).cloned().map(Box::new);
                self.changes.push(Change::Session { event, session: session.clone(), user, at: now });
            }
        }
        Ok(session.clone())
    }

    /// Makes a new session an impersonation session: `actor` acts as its user, and it expires after at most
    /// `max_duration_ms` (the actor token's `session_max_duration_in_seconds`).
    pub fn impersonate(&mut self, id: &str, actor: Value, max_duration_ms: i64) -> Result<Session, StoreError> {
        let session = self.sessions.get_mut(id).ok_or_else(|| StoreError::SessionNotFound(id.to_owned()))?;
        session.actor = Some(Box::new(actor));
        session.expire_at = session.expire_at.min(session.created_at.saturating_add(max_duration_ms));
        let session = session.clone();
        // The `session.created` event not yet taken shows the session as it is now, actor included.
        for change in self.changes.iter_mut().rev() {
            if let Change::Session { session: pending, .. } = change
                && pending.id == session.id
            {
                *pending = session.clone();
                break;
            }
        }
        Ok(session)
    }

    /// Records activity on an active session (a token was minted).
    pub fn touch_session(&mut self, id: &str, now: i64) {
        if let Some(s) = self.sessions.get_mut(id) {
            s.last_active_at = now;
            s.updated_at = now;
        }
    }

    /// Checks a refresh token against an active session.
    pub fn check_refresh(&self, id: &str, refresh_token: &str, now: i64) -> Result<&Session, StoreError> {
        let session = self.active_session(id, now)?;
        let expected = self.refresh_token(id);
        let same = expected.len() == refresh_token.len() && expected.bytes().zip(refresh_token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return Err(StoreError::RefreshTokenMismatch(id.to_owned()));
        }
        Ok(session)
    }

    /// A client by id.
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }

    /// Issues a dev-browser id (the `__clerk_db_jwt` value), optionally bound to a client.
    pub fn create_dev_browser(&mut self, client_id: Option<&str>, now: i64) -> String {
        let id = new_id(prefix::DEV_BROWSER);
        self.dev_browsers.insert(id.clone(), DevBrowser { created_at: now, client_id: client_id.map(str::to_owned) });
        id
    }

    /// Records a dev-browser id mock-clerk did not issue (the SDK never checks its value), so the browser keeps it.
    pub fn adopt_dev_browser(&mut self, id: &str, now: i64) {
        self.dev_browsers.entry(id.to_owned()).or_insert(DevBrowser { created_at: now, client_id: None });
    }

    /// The dev browser with this id.
    pub fn dev_browser(&self, id: &str) -> Option<&DevBrowser> {
        self.dev_browsers.get(id)
    }

    /// The newest active session on a client.
    pub fn latest_active_session_on_client(&self, client_id: &str, now: i64) -> Option<&Session> {
        let client = self.clients.get(client_id)?;
        client.session_ids.iter().rev().filter_map(|id| self.sessions.get(id)).find(|s| s.status_at(now) == SessionStatus::Active)
    }

    /// Stores handshake directives behind a one-time nonce.
    pub fn put_nonce(&mut self, directives: Vec<String>) -> String {
        let nonce = new_id(prefix::NONCE);
        self.nonces.insert(nonce.clone(), directives);
        nonce
    }

    /// Takes the directives of a nonce (one use).
    pub fn take_nonce(&mut self, nonce: &str) -> Option<Vec<String>> {
        self.nonces.remove(nonce)
    }
}

/// Machine authentication and JWT templates, each kept in its own module's struct.
impl Store {
    /// Machines, M2M tokens, API keys, OAuth access tokens.
    pub fn machines(&self) -> &crate::machines::Machines {
        &self.machines
    }
    /// The same, to change.
    pub fn machines_mut(&mut self) -> &mut crate::machines::Machines {
        &mut self.machines
    }
    /// JWT templates.
    pub fn jwt_templates(&self) -> &crate::templates::JwtTemplates {
        &self.jwt_templates
    }
    /// The same, to change.
    pub fn jwt_templates_mut(&mut self) -> &mut crate::templates::JwtTemplates {
        &mut self.jwt_templates
    }
}

/// Second factors ([`crate::mfa`]): backup codes are kept as digests, TOTP steps are accepted once.
impl Store {
    fn backup_code_digest(&self, user_id: &str, code: &str) -> String {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.refresh_secret.0);
        let tag = aws_lc_rs::hmac::sign(&key, format!("backup_code:{user_id}:{}", code.trim()).as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Uses up one of the user's backup codes: `true` if it was one (it is gone now).
    pub fn use_backup_code(&mut self, user_id: &str, code: &str) -> bool {
        let digest = self.backup_code_digest(user_id, code);
        let Some(user) = self.users.get_mut(user_id) else { return false };
        let before = user.mfa.backup_codes.len();
        user.mfa.backup_codes.retain(|d| *d != digest);
        user.mfa.backup_codes.len() < before
    }

    /// Accepts a TOTP code of the user's authenticator app at `now`: `Ok` if it is right and its step was not
    /// used yet (the step is recorded), `Err(true)` if it is right but its step was already used, `Err(false)`
    /// if it is wrong (or the user has no authenticator app).
    pub fn use_totp(&mut self, user_id: &str, code: &str, now: i64) -> Result<(), bool> {
        let user = self.users.get_mut(user_id).ok_or(false)?;
        let secret = user.mfa.totp_secret.as_deref().ok_or(false)?;
        let step = crate::mfa::totp_step(secret, code, now).ok_or(false)?;
        if user.mfa.totp_last_step.is_some_and(|last| step <= last) {
            return Err(true);
        }
        user.mfa.totp_last_step = Some(step);
        Ok(())
    }

    /// Marks a phone number as used (or not) for SMS codes as a second factor (`PATCH /v1/phone_numbers/{id}`).
    /// `None`: no user has this phone number.
    pub fn reserve_phone_for_second_factor(&mut self, phone_id: &str, reserved: bool, now: i64) -> Option<User> {
        let user = self.users.values_mut().find(|u| u.mfa.phone_numbers.iter().any(|p| p.id == phone_id))?;
        for p in user.mfa.phone_numbers.iter_mut().filter(|p| p.id == phone_id) {
            p.reserved_for_second_factor = reserved;
        }
        let first = user.mfa.second_factor_phones().next().map(|p| p.id.clone());
        for p in &mut user.mfa.phone_numbers {
            p.default_second_factor = Some(&p.id) == first.as_ref();
        }
        user.updated_at = now;
        let user = user.clone();
        self.changes.push(Change::UserUpdated(user.clone()));
        Some(user)
    }

    /// The user holding the phone number with this id.
    pub fn users_with_phone(&self, phone_id: &str) -> Option<&User> {
        self.users.values().find(|u| u.mfa.phone_numbers.iter().any(|p| p.id == phone_id))
    }

    /// Records when a session's second factor was verified.
    pub fn set_second_factor_verified(&mut self, session_id: &str, first_at: i64, second_at: i64) {
        if let Some(s) = self.sessions.get_mut(session_id) {
            s.first_factor_verified_at = Some(first_at);
            s.second_factor_verified_at = Some(second_at);
        }
    }
}

/// What the Frontend API adds: passwords, clients without sessions, dev browsers bound to clients.
impl Store {
    fn password_digest(&self, user_id: &str, password: &str) -> String {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.refresh_secret.0);
        let tag = aws_lc_rs::hmac::sign(&key, format!("password:{user_id}:{password}").as_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether `password` is the user's password (false for a user without one).
    pub fn check_password(&self, user_id: &str, password: &str) -> bool {
        let Some(stored) = self.users.get(user_id).and_then(|u| u.password_digest.as_deref()) else { return false };
        let given = self.password_digest(user_id, password);
        given.len() == stored.len() && given.bytes().zip(stored.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The user holding this email address (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.values().find(|u| u.email_addresses.iter().any(|(_, e)| e.eq_ignore_ascii_case(email)))
    }

    /// A new client with no sessions yet (a browser's first Frontend API call).
    pub fn create_client(&mut self, now: i64) -> Client {
        let client = Client { id: IdStr::new(prefix::CLIENT), session_ids: Vec::with_capacity(1), created_at: now, updated_at: now };
        self.clients.insert(client.id.clone(), client.clone());
        client
    }

    /// Marks a client as changed now (its `updated_at` becomes the browser's `__client_uat`).
    pub fn touch_client(&mut self, client_id: &str, now: i64) {
        if let Some(c) = self.clients.get_mut(client_id) {
            c.updated_at = now;
        }
    }

    /// The active sessions on a client, oldest first.
    pub fn active_sessions_on_client(&self, client_id: &str, now: i64) -> Vec<&Session> {
        self.clients
            .get(client_id)
            .map(|c| c.session_ids.iter().filter_map(|id| self.sessions.get(id)).filter(|s| s.status_at(now) == SessionStatus::Active).collect())
            .unwrap_or_default()
    }

    /// Sets a user's first and/or last name (`PATCH /v1/me`).
    pub fn update_user_names(&mut self, user_id: &str, first: Option<&str>, last: Option<&str>, now: i64) -> Result<User, StoreError> {
        let user = self.users.get_mut(user_id).ok_or_else(|| StoreError::UserNotFound(user_id.to_owned()))?;
        if let Some(f) = first {
            user.first_name = Some(f.to_owned());
        }
        if let Some(l) = last {
            user.last_name = Some(l.to_owned());
        }
        user.updated_at = now;
        Ok(user.clone())
    }

    /// Binds a dev browser to the client it signed in on (created if mock-clerk did not issue it).
    pub fn bind_dev_browser(&mut self, id: &str, client_id: &str, now: i64) {
        let entry = self.dev_browsers.entry(id.to_owned()).or_insert(DevBrowser { created_at: now, client_id: None });
        entry.client_id = Some(client_id.to_owned());
    }
}

pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
        && email.len() <= 320
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(store: &mut Store) -> User {
        store.create_user(NewUser { email_address: vec!["a@example.com".into()], ..NewUser::default() }, 1_000).unwrap()
    }

    #[test]
    fn session_lifecycle_follows_the_clock() {
        let mut store = Store::default();
        let u = user(&mut store);
        let s = store.create_session(&u.id, 1_000).unwrap();
        assert_eq!(s.status_at(1_000), SessionStatus::Active);
        assert_eq!(s.status_at(1_000 + SESSION_LIFETIME_MS), SessionStatus::Expired);
        assert_eq!(s.status_at(1_000 + SESSION_ABANDON_MS), SessionStatus::Abandoned);
        let later = 1_000 + SESSION_LIFETIME_MS;
        assert_eq!(store.active_session(&s.id, later), Err(StoreError::SessionNotActive { id: s.id.to_string(), status: "expired" }));
    }

    #[test]
    fn revoke_is_recorded_once_and_filters_apply() {
        let mut store = Store::default();
        let u = user(&mut store);
        let a = store.create_session(&u.id, 1_000).unwrap();
        let b = store.create_session(&u.id, 2_000).unwrap();
        let revoked = store.finish_session(&a.id, SessionStatus::Revoked, 3_000).unwrap();
        assert_eq!((revoked.status, revoked.updated_at), (SessionStatus::Revoked, 3_000));
        let again = store.finish_session(&a.id, SessionStatus::Ended, 4_000).unwrap();
        assert_eq!((again.status, again.updated_at), (SessionStatus::Revoked, 3_000));
        let q = SessionQuery { user_id: Some(u.id.to_string()), status: Some(SessionStatus::Active), ..Default::default() };
        let ids: Vec<_> = store.sessions(&q, 4_000).into_iter().map(|s| s.id.clone()).collect();
        assert_eq!(ids, vec![b.id]);
    }

    #[test]
    fn duplicate_email_and_bad_input_are_refused() {
        let mut store = Store::default();
        user(&mut store);
        let dup = store.create_user(NewUser { email_address: vec!["A@example.com".into()], ..Default::default() }, 0);
        assert!(matches!(dup, Err(StoreError::IdentifierTaken { param: "email_address", .. })));
        let bad = store.create_user(NewUser { email_address: vec!["nope".into()], ..Default::default() }, 0);
        assert!(matches!(bad, Err(StoreError::InvalidParam { param: "email_address", .. })));
        assert!(matches!(store.create_session("user_x", 0), Err(StoreError::UserNotFound(_))));
    }

    #[test]
    fn an_impersonation_session_keeps_its_actor_and_a_shorter_life() {
        let mut store = Store::default();
        let u = user(&mut store);
        let s = store.create_session(&u.id, 1_000).unwrap();
        let actor = serde_json::json!({"sub": "user_admin"});
        let s = store.impersonate(&s.id, actor.clone(), 60_000).unwrap();
        assert_eq!((s.actor.as_deref(), s.expire_at), (Some(&actor), 61_000));
        let created = store.changes.iter().find_map(|c| match c {
            Change::Session { event: SessionEvent::Created, session, .. } => Some(session.clone()),
            _ => None,
        });
        assert_eq!(created.and_then(|c| c.actor).as_deref(), Some(&actor), "the session.created event names the actor");
        let back: Store = serde_json::from_value(serde_json::to_value(&store).unwrap()).unwrap();
        assert_eq!(back.session(&s.id).unwrap().actor.as_deref(), Some(&actor), "the state file keeps the actor");
    }

    #[test]
    fn deleting_a_user_removes_their_sessions() {
        let mut store = Store::default();
        let u = user(&mut store);
        let s = store.create_session(&u.id, 1_000).unwrap();
        store.delete_user(&u.id, 2_000).unwrap();
        assert_eq!(store.session(&s.id).unwrap().status, SessionStatus::Removed);
        assert_eq!(store.user_count(&UserQuery::default()), 0);
    }
}
