//! Machine authentication: machines (`mch_…`, each with a machine secret key and the machines it may talk to),
//! M2M tokens (`mt_…`), API keys (`ak_…`) and OAuth access tokens (`oat_…`). Plain data, no I/O; every
//! operation takes the current (virtual) time in milliseconds.
//!
//! Shapes follow `bapi/2026-05-12.yml` (`/machines`, `/m2m_tokens`, `/api_keys`,
//! `/oauth_applications/access_tokens/verify`) and what `@clerk/backend` 3 reads back
//! (`api/resources/{Machine,M2MToken,APIKey,IdPOAuthAccessToken}.ts`). The JWT forms are built here
//! ([`m2m_jwt_claims`], [`oauth_jwt_claims`]) and signed by the instance's one signer: `@clerk/backend` verifies them
//! locally (`jwt/verifyMachineJwt.ts`), an M2M JWT by its `mch_` subject, an OAuth JWT by `typ: at+jwt`.

use std::collections::BTreeMap;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ids::{IdStr, new_id};

/// Prefixes of machine ids and tokens (`tokens/machine.ts`).
pub mod prefix {
    /// Machines.
    pub const MACHINE: &str = "mch";
    /// M2M tokens (id and opaque token).
    pub const M2M_TOKEN: &str = "mt";
    /// API keys (id and secret), and machine secret keys.
    pub const API_KEY: &str = "ak";
    /// OAuth access tokens (id and opaque token).
    pub const OAUTH_TOKEN: &str = "oat";
    /// The OAuth application (client) mock-clerk's access tokens are issued to.
    pub const OAUTH_CLIENT: &str = "client";
}

/// The `cat` header of an M2M JWT (`tokens/jwtCategories.ts` `JWT_CATEGORY_M2M_TOKEN`).
pub const M2M_JWT_CATEGORY: &str = "cl_B7d4PD333AAA";
/// The `typ` header of an OAuth access token JWT (RFC 9068, `tokens/machine.ts` `OAUTH_ACCESS_TOKEN_TYPES`).
pub const OAUTH_JWT_TYPE: &str = "at+jwt";
/// A machine's default token lifetime (`default_token_ttl`, Clerk's default).
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;
/// The longest lifetime accepted anywhere (ten years, as the spec's `maximum: 315360000`).
pub const MAX_TTL_SECS: u64 = 315_360_000;
/// At most this many machines in a machine's scope (the spec's `maxItems: 150`).
pub const MAX_SCOPED_MACHINES: usize = 150;
/// The `type` of every API key.
pub const API_KEY_TYPE: &str = "api_key";

/// Opaque (stored, verified through the Backend API) or JWT (stateless, verified against the JWKS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    /// `mt_…` / `oat_…`.
    #[default]
    Opaque,
    /// A JWT signed with the instance key.
    Jwt,
}

/// What can go wrong. Each maps to one Clerk error ([`MachineError::status`], [`MachineError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    /// No such machine, token or key (also: a token this caller may not see).
    #[error("{kind} {id} not found")]
    NotFound {
        /// `machine`, `m2m_token`, `api_key`, `oauth_access_token`.
        kind: &'static str,
        /// The id (never a secret).
        id: String,
    },
    /// A token or key that exists but is no longer valid (revoked, expired): 404 `resource_not_found`.
    /// `bapi/2026-05-12.yml` gives `POST /m2m_tokens/verify`, `/api_keys/verify` and
    /// `/oauth_applications/access_tokens/verify` only 200, 400 and 404 answers, and `@clerk/backend` 3
    /// (`packages/backend/src/tokens/verify.ts` `handleClerkAPIError`) turns a 404 into `token-invalid` ("Machine
    /// token not found"), a 401 into `invalid-secret-key`, anything else into `unexpected-error`: 404 is the one
    /// status with which a revoked token reaches the app as an invalid token.
    #[error("{kind} is {why}")]
    NotValid {
        /// What was verified.
        kind: &'static str,
        /// `revoked`, `expired`, `unknown`, `not scoped to this machine`.
        why: &'static str,
    },
    /// A field with a wrong value.
    #[error("{param}: {message}")]
    Invalid {
        /// The field.
        param: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An operation that must be authenticated with a machine secret key got the instance secret key
    /// (`bapi/2026-05-12.yml` `createM2MToken`: "Must be authenticated via a Machine Secret Key").
    ///
    /// The code `machine_secret_key_required` (400) is mock-clerk's: neither the spec (a generic 400 body, example
    /// code `bad_request`) nor `github:clerk/javascript` names the code Clerk answers with, and the SDK reads none
    /// (it reports the `ClerkAPIResponseError` as it comes).
    #[error("a machine secret key is required")]
    MachineSecretKeyRequired,
}

impl MachineError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } | Self::NotValid { .. } => 404,
            Self::Invalid { .. } => 422,
            Self::MachineSecretKeyRequired => 400,
        }
    }
    /// Clerk's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } | Self::NotValid { .. } => "resource_not_found",
            Self::Invalid { .. } => "form_param_format_invalid",
            Self::MachineSecretKeyRequired => "machine_secret_key_required",
        }
    }
    /// The short message.
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotFound { .. } | Self::NotValid { .. } => "not found",
            Self::Invalid { .. } => "is invalid",
            Self::MachineSecretKeyRequired => "machine secret key required",
        }
    }
    /// One sentence, never with a secret in it.
    pub fn long_message(&self) -> String {
        match self {
            Self::NotFound { kind, id } => format!("No {} was found with id {id}.", kind.replace('_', " ")),
            Self::NotValid { kind, why } => format!("The {} is {why}.", kind.replace('_', " ")),
            Self::Invalid { param, message } => format!("{param} is invalid: {}.", message.trim_end_matches('.')),
            Self::MachineSecretKeyRequired => {
                "This endpoint must be authenticated with a machine secret key (Authorization: Bearer ak_…), not the instance secret key.".into()
            }
        }
    }
    /// `meta` of the error.
    pub fn meta(&self) -> Value {
        match self {
            Self::Invalid { param, .. } => json!({"param_name": param}),
            _ => json!({}),
        }
    }
}

impl From<MachineError> for crate::error::ApiError {
    fn from(e: MachineError) -> Self {
        Self::Machine(e)
    }
}

fn invalid(param: &'static str, message: impl Into<String>) -> MachineError {
    MachineError::Invalid { param, message: message.into() }
}

/// `prefix_` + 32 lowercase hex digits: the ids of tokens and keys (`^mt_[0-9A-Fa-f]{32}$`).
pub fn hex_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let hex: String = (0..32).map(|_| char::from_digit(rng.random_range(0..16u32), 16).expect("a hex digit")).collect();
    format!("{prefix}_{hex}")
}

/// A secret: `prefix_` + 43 random base62 characters (a different draw from the id).
pub fn new_secret(prefix: &str) -> String {
    let a = new_id(prefix);
    let b = new_id("x");
    format!("{a}{}", &b[2..18])
}

fn ttl_ms(secs: u64) -> i64 {
    i64::try_from(secs.min(MAX_TTL_SECS)).unwrap_or(i64::MAX).saturating_mul(1000)
}

/// A machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// `mch_…`.
    pub id: IdStr,
    /// Its name.
    pub name: String,
    /// Its machine secret key (`ak_…`): it authenticates as this machine (creates its M2M tokens).
    pub secret_key: String,
    /// The machines this one may talk to: the `scopes` of its M2M tokens.
    pub scoped_machines: Vec<String>,
    /// Lifetime of its M2M tokens unless a token says otherwise.
    pub default_token_ttl: u64,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// An opaque M2M token (JWT forms are not stored: they cannot be listed or revoked, as in Clerk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct M2mToken {
    /// `mt_` + 32 hex.
    pub id: String,
    /// The token itself (`mt_…`).
    pub token: String,
    /// The machine that created it.
    pub subject: String,
    /// The machines it may talk to.
    pub scopes: Vec<String>,
    /// Custom claims given at creation.
    pub claims: Option<Value>,
    /// Revoked?
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Milliseconds; `None`: never expires.
    pub expiration: Option<i64>,
    /// Milliseconds.
    pub last_used_at: Option<i64>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// An API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// `ak_` + 32 hex.
    pub id: String,
    /// The secret (`ak_…`), shown once at creation and by `GET /api_keys/{id}/secret`.
    pub secret: String,
    /// Its name.
    pub name: String,
    /// `user_…` or `org_…` (or `mch_…`).
    pub subject: String,
    /// Optional description.
    pub description: Option<String>,
    /// Custom claims.
    pub claims: Option<Value>,
    /// What it may do.
    pub scopes: Vec<String>,
    /// The user who created it.
    pub created_by: Option<String>,
    /// Revoked?
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Milliseconds; `None`: never expires.
    pub expiration: Option<i64>,
    /// Milliseconds.
    pub last_used_at: Option<i64>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// An OAuth access token issued by the instance (Clerk as identity provider) to an OAuth application for a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthToken {
    /// `oat_` + 32 hex (the JWT form's `jti`).
    pub id: String,
    /// The opaque token (`oat_…`); a JWT-form token has one too, unused.
    pub token: String,
    /// The OAuth application's client id.
    pub client_id: String,
    /// The user.
    pub subject: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Revoked?
    pub revoked: bool,
    /// Why.
    pub revocation_reason: Option<String>,
    /// Milliseconds; `None`: never expires.
    pub expiration: Option<i64>,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// Compares secrets without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn expired(expiration: Option<i64>, now: i64) -> bool {
    expiration.is_some_and(|e| now >= e)
}

/// Every machine-authentication record of the instance. Persisted in the state file as one object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machines {
    #[serde(default)]
    machines: BTreeMap<String, Machine>,
    #[serde(default)]
    m2m_tokens: BTreeMap<String, M2mToken>,
    #[serde(default)]
    api_keys: BTreeMap<String, ApiKey>,
    #[serde(default)]
    oauth_tokens: BTreeMap<String, OAuthToken>,
}

/// `POST /v1/machines`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMachine {
    /// 1 to 255 characters.
    pub name: String,
    /// Machine ids it may talk to.
    #[serde(default)]
    pub scoped_machines: Vec<String>,
    /// Seconds, at least 1.
    #[serde(default)]
    pub default_token_ttl: Option<u64>,
}

/// `PATCH /v1/machines/{id}`: absent fields stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineUpdate {
    /// 1 to 255 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Seconds, at least 1.
    #[serde(default)]
    pub default_token_ttl: Option<u64>,
}

/// `POST /m2m_tokens` (the machine comes from the machine secret key).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewM2mToken {
    /// Opaque (default) or JWT.
    #[serde(default)]
    pub token_format: Option<TokenFormat>,
    /// Lifetime; `None`: the machine's default.
    #[serde(default)]
    pub seconds_until_expiration: Option<f64>,
    /// Custom claims (an object or null).
    #[serde(default)]
    pub claims: Option<Value>,
    /// Reuse an opaque token with this much lifetime left.
    #[serde(default)]
    pub min_remaining_ttl_seconds: Option<u64>,
}

/// `POST /api_keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Always `api_key` when given.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// At least 3 characters.
    pub name: String,
    /// `user_…`, `org_…`, `mch_…`.
    pub subject: String,
    /// Optional.
    #[serde(default)]
    pub description: Option<String>,
    /// Custom claims.
    #[serde(default)]
    pub claims: Option<Value>,
    /// Scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `user_…`.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Lifetime; `None`: never expires.
    #[serde(default)]
    pub seconds_until_expiration: Option<f64>,
}

/// An OAuth access token to issue (control API, CLI, issuer: mock-clerk has no OAuth consent flow as provider).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOAuthToken {
    /// The user.
    pub user_id: String,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The client id; a fixed mock one when absent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Lifetime (default one hour).
    #[serde(default)]
    pub seconds_until_expiration: Option<u64>,
    /// Opaque (default) or JWT.
    #[serde(default)]
    pub token_format: Option<TokenFormat>,
}

/// The client id of mock-clerk's OAuth application when none is named.
pub const MOCK_OAUTH_CLIENT_ID: &str = "client_mockclerkoauthapplication00";

fn seconds(param: &'static str, secs: Option<f64>) -> Result<Option<u64>, MachineError> {
    match secs {
        None => Ok(None),
        Some(s) if s.is_finite() && s > 0.0 && s <= MAX_TTL_SECS as f64 => Ok(Some(s.ceil() as u64)),
        Some(_) => Err(invalid(param, format!("{param} must be greater than 0 and at most {MAX_TTL_SECS}"))),
    }
}

fn check_claims(claims: &Option<Value>) -> Result<(), MachineError> {
    match claims {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(invalid("claims", "claims must be a JSON object or null")),
    }
}

fn claims_or_none(claims: Option<Value>) -> Option<Value> {
    claims.filter(|c| !c.is_null())
}

fn is_subject(id: &str, prefixes: &[&str]) -> bool {
    id.split_once('_').is_some_and(|(p, rest)| prefixes.contains(&p) && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

impl Machines {
    /// Creates a machine; every scoped machine must exist.
    pub fn create_machine(&mut self, new: NewMachine, now: i64) -> Result<Machine, MachineError> {
        let name = new.name.trim();
        if name.is_empty() || new.name.chars().count() > 255 {
            return Err(invalid("name", "name must be 1 to 255 characters"));
        }
        if new.scoped_machines.len() > MAX_SCOPED_MACHINES {
            return Err(invalid("scoped_machines", format!("a machine may be scoped to at most {MAX_SCOPED_MACHINES} machines")));
        }
        for id in &new.scoped_machines {
            self.machine(id)?;
        }
        let ttl = new.default_token_ttl.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
        if ttl == 0 || ttl > MAX_TTL_SECS {
            return Err(invalid("default_token_ttl", format!("default_token_ttl must be between 1 and {MAX_TTL_SECS}")));
        }
        let mut scoped = new.scoped_machines;
        scoped.dedup();
        let machine = Machine {
            id: IdStr::new(prefix::MACHINE),
            name: new.name,
            secret_key: new_secret(prefix::API_KEY),
            scoped_machines: scoped,
            default_token_ttl: ttl,
            created_at: now,
            updated_at: now,
        };
        self.machines.insert(machine.id.to_string(), machine.clone());
        Ok(machine)
    }

    /// A machine by id.
    pub fn machine(&self, id: &str) -> Result<&Machine, MachineError> {
        self.machines.get(id).ok_or_else(|| MachineError::NotFound { kind: "machine", id: id.to_owned() })
    }

    /// The newest machine with this exact name.
    pub fn machine_by_name(&self, name: &str) -> Option<&Machine> {
        self.machines.values().filter(|m| m.name == name).max_by_key(|m| m.created_at)
    }

    /// The machine whose secret key this is.
    pub fn machine_by_secret(&self, secret: &str) -> Option<&Machine> {
        self.machines.values().find(|m| constant_time_eq(m.secret_key.as_bytes(), secret.as_bytes()))
    }

    /// Machines, newest first, whose id is `query` or whose name contains it.
    pub fn machines(&self, query: Option<&str>) -> Vec<&Machine> {
        let mut all: Vec<&Machine> =
            self.machines.values().filter(|m| query.is_none_or(|q| m.id == q || m.name.to_lowercase().contains(&q.to_lowercase()))).collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        all
    }

    /// Deletes a machine (its tokens stay, as records, but no longer verify) and removes it from every scope.
    pub fn delete_machine(&mut self, id: &str) -> Result<Machine, MachineError> {
        let machine = self.machines.remove(id).ok_or_else(|| MachineError::NotFound { kind: "machine", id: id.to_owned() })?;
        for m in self.machines.values_mut() {
            m.scoped_machines.retain(|s| s != id);
        }
        Ok(machine)
    }

    /// Renames a machine or changes its default token lifetime (`PATCH /v1/machines/{id}`).
    pub fn update_machine(&mut self, id: &str, update: MachineUpdate, now: i64) -> Result<Machine, MachineError> {
        if update.name.as_ref().is_some_and(|n| n.trim().is_empty() || n.chars().count() > 255) {
            return Err(invalid("name", "name must be 1 to 255 characters"));
        }
        if update.default_token_ttl.is_some_and(|t| t == 0 || t > MAX_TTL_SECS) {
            return Err(invalid("default_token_ttl", format!("default_token_ttl must be between 1 and {MAX_TTL_SECS}")));
        }
        let machine = self.machines.get_mut(id).ok_or_else(|| MachineError::NotFound { kind: "machine", id: id.to_owned() })?;
        if let Some(name) = update.name {
            machine.name = name;
        }
        if let Some(ttl) = update.default_token_ttl {
            machine.default_token_ttl = ttl;
        }
        machine.updated_at = now;
        Ok(machine.clone())
    }

    /// Stops `from` talking to `to` (`DELETE /v1/machines/{id}/scopes/{other}`).
    pub fn remove_scope(&mut self, from: &str, to: &str, now: i64) -> Result<(), MachineError> {
        let machine = self.machines.get_mut(from).ok_or_else(|| MachineError::NotFound { kind: "machine", id: from.to_owned() })?;
        let before = machine.scoped_machines.len();
        machine.scoped_machines.retain(|s| s != to);
        if machine.scoped_machines.len() == before {
            return Err(MachineError::NotFound { kind: "machine_scope", id: to.to_owned() });
        }
        machine.updated_at = now;
        Ok(())
    }

    /// Lets `from` talk to `to`.
    pub fn add_scope(&mut self, from: &str, to: &str, now: i64) -> Result<(), MachineError> {
        self.machine(to)?;
        let machine = self.machines.get_mut(from).ok_or_else(|| MachineError::NotFound { kind: "machine", id: from.to_owned() })?;
        if !machine.scoped_machines.iter().any(|s| s == to) {
            if machine.scoped_machines.len() >= MAX_SCOPED_MACHINES {
                return Err(invalid("to_machine_id", format!("a machine may be scoped to at most {MAX_SCOPED_MACHINES} machines")));
            }
            machine.scoped_machines.push(to.to_owned());
            machine.updated_at = now;
        }
        Ok(())
    }

    /// Checks an M2M token request for `machine_id` and says how long the token lives (seconds).
    pub fn m2m_lifetime(&self, machine_id: &str, new: &NewM2mToken) -> Result<u64, MachineError> {
        let machine = self.machine(machine_id)?;
        check_claims(&new.claims)?;
        let ttl = seconds("seconds_until_expiration", new.seconds_until_expiration)?.unwrap_or(machine.default_token_ttl);
        if new.min_remaining_ttl_seconds.is_some_and(|min| min >= ttl) {
            return Err(invalid("min_remaining_ttl_seconds", "min_remaining_ttl_seconds must be less than the token's lifetime"));
        }
        Ok(ttl)
    }

    /// Creates (or, with `min_remaining_ttl_seconds`, reuses) an opaque M2M token for `machine_id`.
    pub fn create_m2m_token(&mut self, machine_id: &str, new: NewM2mToken, now: i64) -> Result<M2mToken, MachineError> {
        let ttl = self.m2m_lifetime(machine_id, &new)?;
        let scopes = self.machine(machine_id)?.scoped_machines.clone();
        let claims = claims_or_none(new.claims);
        if let Some(min) = new.min_remaining_ttl_seconds {
            let reusable = self.m2m_tokens.values().find(|t| {
                t.subject == machine_id
                    && !t.revoked
                    && t.claims == claims
                    && t.scopes == scopes
                    && t.expiration.is_none_or(|e| e - now >= ttl_ms(min))
            });
            if let Some(found) = reusable {
                return Ok(found.clone());
            }
        }
        let token = M2mToken {
            id: hex_id(prefix::M2M_TOKEN),
            token: new_secret(prefix::M2M_TOKEN),
            subject: machine_id.to_owned(),
            scopes,
            claims,
            revoked: false,
            revocation_reason: None,
            expiration: Some(now.saturating_add(ttl_ms(ttl))),
            last_used_at: None,
            created_at: now,
            updated_at: now,
        };
        self.m2m_tokens.insert(token.id.clone(), token.clone());
        Ok(token)
    }

    /// Opaque M2M tokens of a machine, newest first (revoked and expired ones only when asked).
    pub fn m2m_tokens(&self, subject: &str, revoked: bool, include_expired: bool, now: i64) -> Vec<&M2mToken> {
        let mut all: Vec<&M2mToken> = self
            .m2m_tokens
            .values()
            .filter(|t| t.subject == subject && (revoked || !t.revoked) && (include_expired || !expired(t.expiration, now)))
            .collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        all
    }

    /// Revokes an M2M token; `by_machine` limits it to that machine's own tokens.
    pub fn revoke_m2m_token(&mut self, id: &str, reason: Option<String>, by_machine: Option<&str>, now: i64) -> Result<M2mToken, MachineError> {
        let not_found = || MachineError::NotFound { kind: "m2m_token", id: id.to_owned() };
        let token = self.m2m_tokens.get_mut(id).ok_or_else(not_found)?;
        if by_machine.is_some_and(|m| m != token.subject) {
            return Err(not_found());
        }
        if !token.revoked {
            token.revoked = true;
            token.revocation_reason = reason;
            token.updated_at = now;
        }
        Ok(token.clone())
    }

    /// Verifies an opaque M2M token. With a machine secret key (`for_machine`), the token must be scoped to that
    /// machine (its creator may talk to it).
    pub fn verify_m2m_token(&mut self, token: &str, for_machine: Option<&str>, now: i64) -> Result<M2mToken, MachineError> {
        let kind = "m2m_token";
        let found = self.m2m_tokens.values_mut().find(|t| constant_time_eq(t.token.as_bytes(), token.as_bytes()));
        let found = found.ok_or(MachineError::NotValid { kind, why: "unknown" })?;
        if found.revoked {
            return Err(MachineError::NotValid { kind, why: "revoked" });
        }
        if expired(found.expiration, now) {
            return Err(MachineError::NotValid { kind, why: "expired" });
        }
        if !self.machines.contains_key(&found.subject) {
            return Err(MachineError::NotValid { kind, why: "of a deleted machine" });
        }
        if for_machine.is_some_and(|m| !found.scopes.iter().any(|s| s == m)) {
            return Err(MachineError::NotValid { kind, why: "not scoped to this machine" });
        }
        found.last_used_at = Some(now);
        Ok(found.clone())
    }

    /// Creates an API key.
    pub fn create_api_key(&mut self, new: NewApiKey, now: i64) -> Result<ApiKey, MachineError> {
        if new.kind.as_deref().is_some_and(|k| k != API_KEY_TYPE) {
            return Err(invalid("type", "type must be api_key"));
        }
        if new.name.chars().count() < 3 || new.name.trim() != new.name {
            return Err(invalid("name", "name must be at least 3 characters, without leading or trailing spaces"));
        }
        if !is_subject(&new.subject, &["user", "org", "mch"]) {
            return Err(invalid("subject", "subject must be a user, organization or machine id (user_…, org_…, mch_…)"));
        }
        if new.description.as_ref().is_some_and(|d| d.chars().count() > 255) {
            return Err(invalid("description", "description must be at most 255 characters"));
        }
        if new.created_by.as_deref().is_some_and(|c| !is_subject(c, &["user"])) {
            return Err(invalid("created_by", "created_by must be a user id"));
        }
        check_claims(&new.claims)?;
        let ttl = seconds("seconds_until_expiration", new.seconds_until_expiration)?;
        let key = ApiKey {
            id: hex_id(prefix::API_KEY),
            secret: new_secret(prefix::API_KEY),
            name: new.name,
            subject: new.subject,
            description: new.description,
            claims: claims_or_none(new.claims),
            scopes: new.scopes,
            created_by: new.created_by,
            revoked: false,
            revocation_reason: None,
            expiration: ttl.map(|t| now.saturating_add(ttl_ms(t))),
            last_used_at: None,
            created_at: now,
            updated_at: now,
        };
        self.api_keys.insert(key.id.clone(), key.clone());
        Ok(key)
    }

    /// An API key by id.
    pub fn api_key(&self, id: &str) -> Result<&ApiKey, MachineError> {
        self.api_keys.get(id).ok_or_else(|| MachineError::NotFound { kind: "api_key", id: id.to_owned() })
    }

    /// API keys of a subject, newest first (revoked and expired ones only when asked).
    pub fn api_keys(&self, subject: &str, include_invalid: bool, now: i64) -> Vec<&ApiKey> {
        let mut all: Vec<&ApiKey> =
            self.api_keys.values().filter(|k| k.subject == subject && (include_invalid || (!k.revoked && !expired(k.expiration, now)))).collect();
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        all
    }

    /// Revokes an API key.
    pub fn revoke_api_key(&mut self, id: &str, reason: Option<String>, now: i64) -> Result<ApiKey, MachineError> {
        let key = self.api_keys.get_mut(id).ok_or_else(|| MachineError::NotFound { kind: "api_key", id: id.to_owned() })?;
        if !key.revoked {
            key.revoked = true;
            key.revocation_reason = reason;
            key.updated_at = now;
        }
        Ok(key.clone())
    }

    /// Deletes an API key.
    pub fn delete_api_key(&mut self, id: &str) -> Result<ApiKey, MachineError> {
        self.api_keys.remove(id).ok_or_else(|| MachineError::NotFound { kind: "api_key", id: id.to_owned() })
    }

    /// Verifies an API key's secret.
    pub fn verify_api_key(&mut self, secret: &str, now: i64) -> Result<ApiKey, MachineError> {
        let kind = "api_key";
        let found = self.api_keys.values_mut().find(|k| constant_time_eq(k.secret.as_bytes(), secret.as_bytes()));
        let found = found.ok_or(MachineError::NotValid { kind, why: "unknown" })?;
        if found.revoked {
            return Err(MachineError::NotValid { kind, why: "revoked" });
        }
        if expired(found.expiration, now) {
            return Err(MachineError::NotValid { kind, why: "expired" });
        }
        found.last_used_at = Some(now);
        Ok(found.clone())
    }

    /// Issues an OAuth access token (its record: the JWT form is minted from it).
    pub fn create_oauth_token(&mut self, new: NewOAuthToken, now: i64) -> Result<OAuthToken, MachineError> {
        if !is_subject(&new.user_id, &["user"]) {
            return Err(invalid("user_id", "user_id must be a user id (user_…)"));
        }
        let ttl = new.seconds_until_expiration.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
        if ttl == 0 || ttl > MAX_TTL_SECS {
            return Err(invalid("seconds_until_expiration", format!("seconds_until_expiration must be between 1 and {MAX_TTL_SECS}")));
        }
        if new.scopes.iter().any(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            return Err(invalid("scopes", "a scope is one word without spaces"));
        }
        let token = OAuthToken {
            id: hex_id(prefix::OAUTH_TOKEN),
            token: new_secret(prefix::OAUTH_TOKEN),
            client_id: new.client_id.unwrap_or_else(|| MOCK_OAUTH_CLIENT_ID.to_owned()),
            subject: new.user_id,
            scopes: new.scopes,
            revoked: false,
            revocation_reason: None,
            expiration: Some(now.saturating_add(ttl_ms(ttl))),
            created_at: now,
            updated_at: now,
        };
        self.oauth_tokens.insert(token.id.clone(), token.clone());
        Ok(token)
    }

    /// Revokes an OAuth access token (by id).
    pub fn revoke_oauth_token(&mut self, id: &str, reason: Option<String>, now: i64) -> Result<OAuthToken, MachineError> {
        let token = self.oauth_tokens.get_mut(id).ok_or_else(|| MachineError::NotFound { kind: "oauth_access_token", id: id.to_owned() })?;
        if !token.revoked {
            token.revoked = true;
            token.revocation_reason = reason;
            token.updated_at = now;
        }
        Ok(token.clone())
    }

    /// Verifies an opaque OAuth access token.
    pub fn verify_oauth_token(&self, token: &str, now: i64) -> Result<&OAuthToken, MachineError> {
        let kind = "oauth_access_token";
        let found = self.oauth_tokens.values().find(|t| constant_time_eq(t.token.as_bytes(), token.as_bytes()));
        let found = found.ok_or(MachineError::NotValid { kind, why: "unknown" })?;
        if found.revoked {
            return Err(MachineError::NotValid { kind, why: "revoked" });
        }
        if expired(found.expiration, now) {
            return Err(MachineError::NotValid { kind, why: "expired" });
        }
        Ok(found)
    }
}

/// `MachineJSON` (`secret_key` only at creation).
pub fn machine_json(m: &Machine, machines: &Machines, with_secret: bool) -> Value {
    let scoped: Vec<Value> = m
        .scoped_machines
        .iter()
        .filter_map(|id| machines.machines.get(id))
        .map(|s| {
            json!({"object": "machine", "id": s.id, "name": s.name, "instance_id": "ins_mockclerk", "created_at": s.created_at,
                   "updated_at": s.updated_at, "default_token_ttl": s.default_token_ttl, "scoped_machines": []})
        })
        .collect();
    let mut v = json!({
        "object": "machine", "id": m.id, "name": m.name, "instance_id": "ins_mockclerk",
        "created_at": m.created_at, "updated_at": m.updated_at, "default_token_ttl": m.default_token_ttl,
        "scoped_machines": scoped,
    });
    if with_secret {
        v["secret_key"] = m.secret_key.clone().into();
    }
    v
}

/// `M2MTokenJSON` as of `now` (`token` only at creation).
pub fn m2m_json(t: &M2mToken, now: i64, with_token: bool) -> Value {
    let mut v = json!({
        "object": "machine_to_machine_token", "id": t.id, "subject": t.subject, "claims": t.claims, "scopes": t.scopes,
        "revoked": t.revoked, "revocation_reason": t.revocation_reason, "expired": expired(t.expiration, now),
        "expiration": t.expiration, "last_used_at": t.last_used_at, "created_at": t.created_at, "updated_at": t.updated_at,
    });
    if with_token {
        v["token"] = t.token.clone().into();
    }
    v
}

/// `APIKeyJSON` as of `now` (`secret` only at creation).
pub fn api_key_json(k: &ApiKey, now: i64, with_secret: bool) -> Value {
    let mut v = json!({
        "object": "api_key", "id": k.id, "type": API_KEY_TYPE, "subject": k.subject, "name": k.name,
        "description": k.description, "claims": k.claims, "scopes": k.scopes, "revoked": k.revoked,
        "revocation_reason": k.revocation_reason, "expired": expired(k.expiration, now), "expiration": k.expiration,
        "created_by": k.created_by, "last_used_at": k.last_used_at, "created_at": k.created_at, "updated_at": k.updated_at,
    });
    if with_secret {
        v["secret"] = k.secret.clone().into();
    }
    v
}

/// `IdPOAuthAccessTokenJSON` as of `now`.
pub fn oauth_json(t: &OAuthToken, now: i64) -> Value {
    json!({
        "object": "clerk_idp_oauth_access_token", "id": t.id, "client_id": t.client_id, "subject": t.subject,
        "scopes": t.scopes, "revoked": t.revoked, "revocation_reason": t.revocation_reason,
        "expired": expired(t.expiration, now), "expiration": t.expiration, "created_at": t.created_at, "updated_at": t.updated_at,
    })
}

/// The JWT header of an M2M token (`cat` marks the class, so no session verifier takes it).
pub fn m2m_jwt_header(kid: &str) -> Value {
    json!({"alg": "RS256", "kid": kid, "typ": "JWT", "cat": M2M_JWT_CATEGORY})
}

/// The JWT header of an OAuth access token (RFC 9068).
pub fn oauth_jwt_header(kid: &str) -> Value {
    json!({"alg": "RS256", "kid": kid, "typ": OAUTH_JWT_TYPE})
}

/// The claims of an M2M JWT: custom claims first, then the structural ones Clerk adds (`iss`, `sub` = the
/// machine, `iat`, `nbf`, `exp`, `jti` = an `mt_` id), and the machine's scopes both as `aud` and as the
/// space-separated `scopes` (`M2MToken.fromJwtPayload` reads `scopes`, then `aud`).
pub fn m2m_jwt_claims(issuer: &str, machine_id: &str, scopes: &[String], custom: Option<&Value>, iat: i64, ttl_secs: u64) -> Map<String, Value> {
    let mut claims = custom.and_then(Value::as_object).cloned().unwrap_or_default();
    if !scopes.is_empty() {
        claims.insert("aud".into(), json!(scopes));
        claims.insert("scopes".into(), scopes.join(" ").into());
    }
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), machine_id.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("nbf".into(), iat.saturating_sub(crate::tokens::NBF_LEEWAY_SECS).into());
    claims.insert("exp".into(), iat.saturating_add(ttl_ms(ttl_secs) / 1000).into());
    claims.insert("jti".into(), hex_id(prefix::M2M_TOKEN).into());
    claims
}

/// The claims of an OAuth access token JWT (`IdPOAuthAccessToken.fromJwtPayload`): `sub` = the user,
/// `client_id`, `scope` (space-separated), `jti` = the token's `oat_` id.
pub fn oauth_jwt_claims(issuer: &str, token: &OAuthToken, iat: i64) -> Map<String, Value> {
    let exp = token.expiration.map_or(iat + DEFAULT_TOKEN_TTL_SECS as i64, |e| e / 1000);
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("sub".into(), token.subject.clone().into());
    claims.insert("client_id".into(), token.client_id.clone().into());
    claims.insert("scope".into(), token.scopes.join(" ").into());
    claims.insert("jti".into(), token.id.clone().into());
    claims.insert("iat".into(), iat.into());
    claims.insert("nbf".into(), iat.saturating_sub(crate::tokens::NBF_LEEWAY_SECS).into());
    claims.insert("exp".into(), exp.into());
    claims
}

/// Signs M2M JWT claims ([`m2m_jwt_claims`]) with `key`.
pub fn sign_m2m_jwt(key: &crate::keys::SigningKey, claims: &Map<String, Value>) -> String {
    crate::tokens::encode(&m2m_jwt_header(key.kid()), claims, |input| key.sign_rs256(input))
}

/// Signs OAuth access token claims ([`oauth_jwt_claims`]) with `key`.
pub fn sign_oauth_jwt(key: &crate::keys::SigningKey, claims: &Map<String, Value>) -> String {
    crate::tokens::encode(&oauth_jwt_header(key.kid()), claims, |input| key.sign_rs256(input))
}

/// The machine JWTs `mock-clerk token --machine …` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MachineJwtKind {
    /// An M2M token: `sub` a machine (`mch_…`), scopes the machines it may talk to.
    M2m,
    /// An OAuth access token (`typ: at+jwt`): `sub` a user (`user_…`), scopes as granted.
    Oauth,
}

/// Signs a machine JWT offline with `key` (the CLI: no store, no server), issued now by the wall clock.
/// `sub` defaults to `mch_mock` (M2M) or `user_mock` (OAuth); a subject of the wrong kind is refused, since the
/// SDK tells the kinds apart by it.
pub fn cli_machine_jwt(
    key: &crate::keys::SigningKey,
    issuer: &str,
    kind: MachineJwtKind,
    sub: Option<&str>,
    scopes: &[String],
    claims: Map<String, Value>,
    ttl_secs: u64,
) -> Result<String, String> {
    let iat = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if ttl_secs == 0 || ttl_secs > MAX_TTL_SECS {
        return Err(format!("--ttl must be between 1 and {MAX_TTL_SECS} seconds"));
    }
    match kind {
        MachineJwtKind::M2m => {
            let sub = sub.unwrap_or("mch_mock");
            if !sub.starts_with("mch_") {
                return Err(format!("an M2M token's subject is a machine id (mch_…), not {sub:?}"));
            }
            let custom = (!claims.is_empty()).then_some(Value::Object(claims));
            Ok(sign_m2m_jwt(key, &m2m_jwt_claims(issuer, sub, scopes, custom.as_ref(), iat, ttl_secs)))
        }
        MachineJwtKind::Oauth => {
            let sub = sub.unwrap_or("user_mock");
            if !sub.starts_with("user_") {
                return Err(format!("an OAuth access token's subject is a user id (user_…), not {sub:?}"));
            }
            if !claims.is_empty() {
                return Err("OAuth access tokens carry no custom claims (--claim)".into());
            }
            let token = OAuthToken {
                id: hex_id(prefix::OAUTH_TOKEN),
                token: String::new(),
                client_id: MOCK_OAUTH_CLIENT_ID.into(),
                subject: sub.into(),
                scopes: scopes.to_vec(),
                revoked: false,
                revocation_reason: None,
                expiration: Some(iat.saturating_add(ttl_secs as i64).saturating_mul(1000)),
                created_at: iat * 1000,
                updated_at: iat * 1000,
            };
            Ok(sign_oauth_jwt(key, &oauth_jwt_claims(issuer, &token, iat)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(m: &mut Machines, name: &str, scoped: Vec<String>) -> Machine {
        m.create_machine(NewMachine { name: name.into(), scoped_machines: scoped, default_token_ttl: None }, 1_000).unwrap()
    }

    #[test]
    fn ids_and_secrets_have_clerks_shapes() {
        let id = hex_id("mt");
        assert!(id.len() == 35 && id[3..].chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        let secret = new_secret("ak");
        assert!(secret.starts_with("ak_") && secret.len() == 3 + 27 + 16, "{secret}");
        assert!(secret[3..].chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn m2m_tokens_carry_the_machines_scope_and_fail_once_revoked_or_expired() {
        let mut m = Machines::default();
        let server = machine(&mut m, "server", vec![]);
        let sender = machine(&mut m, "sender", vec![server.id.to_string()]);
        let loner = machine(&mut m, "loner", vec![]);
        let t = m.create_m2m_token(&sender.id, NewM2mToken { seconds_until_expiration: Some(60.0), ..Default::default() }, 1_000).unwrap();
        assert_eq!(t.scopes, vec![server.id.to_string()]);
        assert_eq!(t.expiration, Some(61_000));
        assert_eq!(m.verify_m2m_token(&t.token, Some(&server.id), 2_000).unwrap().last_used_at, Some(2_000));
        assert_eq!(
            m.verify_m2m_token(&t.token, Some(&loner.id), 2_000),
            Err(MachineError::NotValid { kind: "m2m_token", why: "not scoped to this machine" })
        );
        assert_eq!(m.verify_m2m_token(&t.token, None, 61_000), Err(MachineError::NotValid { kind: "m2m_token", why: "expired" }));
        assert!(m.revoke_m2m_token(&t.id, None, Some(&loner.id), 3_000).is_err(), "another machine cannot revoke it");
        let revoked = m.revoke_m2m_token(&t.id, Some("done".into()), None, 3_000).unwrap();
        assert_eq!((revoked.revoked, revoked.revocation_reason.as_deref()), (true, Some("done")));
        assert_eq!(m.verify_m2m_token(&t.token, None, 3_000), Err(MachineError::NotValid { kind: "m2m_token", why: "revoked" }));
        assert!(m.m2m_tokens(&sender.id, false, false, 3_000).is_empty());
        assert_eq!(m.m2m_tokens(&sender.id, true, false, 3_000).len(), 1);
    }

    #[test]
    fn min_remaining_ttl_reuses_a_live_token_and_must_be_below_the_lifetime() {
        let mut m = Machines::default();
        let a = machine(&mut m, "a", vec![]);
        let req = |min| NewM2mToken { seconds_until_expiration: Some(100.0), min_remaining_ttl_seconds: Some(min), ..Default::default() };
        let first = m.create_m2m_token(&a.id, req(50), 0).unwrap();
        assert_eq!(m.create_m2m_token(&a.id, req(50), 10_000).unwrap().id, first.id);
        assert_ne!(m.create_m2m_token(&a.id, req(50), 60_000).unwrap().id, first.id, "only 40 s left");
        assert!(matches!(m.create_m2m_token(&a.id, req(100), 0), Err(MachineError::Invalid { param: "min_remaining_ttl_seconds", .. })));
    }

    #[test]
    fn api_keys_validate_their_input_and_verify_until_revoked() {
        let mut m = Machines::default();
        let new =
            |subject: &str| NewApiKey { name: "reports".into(), subject: subject.into(), scopes: vec!["reports:read".into()], ..Default::default() };
        assert!(matches!(m.create_api_key(new("nobody"), 0), Err(MachineError::Invalid { param: "subject", .. })));
        assert!(matches!(m.create_api_key(NewApiKey { name: "x".into(), ..new("user_1") }, 0), Err(MachineError::Invalid { param: "name", .. })));
        let claims = NewApiKey { claims: Some(json!([1])), ..new("user_1") };
        assert!(matches!(m.create_api_key(claims, 0), Err(MachineError::Invalid { param: "claims", .. })));
        let key = m.create_api_key(new("user_abc"), 0).unwrap();
        assert_eq!(m.verify_api_key(&key.secret, 5).unwrap().scopes, vec!["reports:read"]);
        assert_eq!(m.verify_api_key("ak_nope", 5), Err(MachineError::NotValid { kind: "api_key", why: "unknown" }));
        m.revoke_api_key(&key.id, None, 6).unwrap();
        assert_eq!(m.verify_api_key(&key.secret, 7), Err(MachineError::NotValid { kind: "api_key", why: "revoked" }));
        assert!(m.api_keys("user_abc", false, 7).is_empty());
        assert_eq!(m.api_keys("user_abc", true, 7).len(), 1);
    }

    #[test]
    fn jwt_claims_are_what_the_sdk_reads() {
        let c = m2m_jwt_claims("https://i.example", "mch_1", &["mch_2".into()], Some(&json!({"role": "svc", "sub": "x"})), 100, 60);
        assert_eq!(
            (c["sub"].clone(), c["exp"].clone(), c["scopes"].clone(), c["role"].clone()),
            (json!("mch_1"), json!(160), json!("mch_2"), json!("svc"))
        );
        assert!(c["jti"].as_str().unwrap().starts_with("mt_"));
        let mut m = Machines::default();
        let t = m
            .create_oauth_token(NewOAuthToken { user_id: "user_1".into(), scopes: vec!["a".into(), "b".into()], ..Default::default() }, 100_000)
            .unwrap();
        let c = oauth_jwt_claims("https://i.example", &t, 100);
        assert_eq!((c["scope"].clone(), c["jti"].clone(), c["exp"].clone()), (json!("a b"), json!(t.id), json!(100 + 3600)));
    }

    #[test]
    fn the_state_file_form_round_trips() {
        let mut m = Machines::default();
        let a = machine(&mut m, "a", vec![]);
        m.create_m2m_token(&a.id, NewM2mToken::default(), 0).unwrap();
        let back: Machines = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(serde_json::from_value::<Machines>(json!({})).unwrap(), Machines::default());
    }
}
