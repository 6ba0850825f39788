//! A seed: what a fresh instance holds when it starts — `mock-clerk serve --seed PATH` (TOML, env
//! `MOCK_CLERK_SEED`), or [`crate::MockClerkBuilder::seed`] / [`crate::MockClerkBuilder::seed_file`] with the same
//! shapes; `POST /__mock/seed` takes them as JSON on a running instance (all or nothing).
//!
//! One array of tables per kind of record, created in file order:
//!
//! ```toml
//! [[users]]
//! email = "ada@example.com"
//! password = "correct horse battery"
//! public_metadata = { role = "admin" }
//! ```
//!
//! A seed is checked whole before anything is served: a TOML error, an unknown field, a wrong type or a value
//! Clerk would refuse (a duplicate email, a short password) is a [`SeedError`] naming the file, the line and the
//! field (`seed.toml:7: users[1].email: …`), and the server does not start.
//!
//! Kinds: `[[users]]`, `[[roles]]`, `[[organizations]]`, `[[memberships]]`, `[[jwt_templates]]`,
//! `[[machines]]`, `[[api_keys]]` (see [`Seed`]); records refer to
//! others by what a person writes (a user's email, an organization's slug, a role's key), and each kind is
//! created after the kinds it refers to, whatever the order in the file.
//!
//! Adding a kind: a `Seed*` struct with `#[serde(deny_unknown_fields)]`, a `Vec` of it in [`Seed`] (with
//! `#[serde(default)]`), and its creation in [`Seed::apply`] after the kinds it refers to, each failure returned
//! as [`Failure`] naming its section, index and field.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_spanned::Spanned;

use crate::machines::{MachineError, NewApiKey, NewMachine};
use crate::store::orgs::{MEMBER_ROLE, NewOrganization};
use crate::store::{NewUser, Store, StoreError, User};
use crate::templates::{TemplateBody, TemplateError};

/// What a fresh instance starts with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// `[[users]]`, created in order.
    #[serde(default)]
    pub users: Vec<SeedUser>,
    /// `[[roles]]`: custom organization roles (and their permissions), created before the memberships.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<SeedRole>,
    /// `[[organizations]]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<SeedOrganization>,
    /// `[[memberships]]`: a user (by email) in an organization (by slug) with a role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memberships: Vec<SeedMembership>,
    /// `[[jwt_templates]]`: what `getToken({ template })` renders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jwt_templates: Vec<SeedJwtTemplate>,
    /// `[[machines]]`: machines for M2M tokens, scoped to each other by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<SeedMachine>,
    /// `[[api_keys]]`: API keys of a user, an organization or a machine.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_keys: Vec<SeedApiKey>,
    /// Where the seed was read from, for error lines; `None` for a seed built in code.
    #[serde(skip)]
    origin: Option<Origin>,
}

/// A `[[users]]` entry: the fields of `POST /v1/users`, named as a person writes them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    /// The primary email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Further email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_emails: Vec<String>,
    /// Unique username (4–64 letters, digits, `-`, `_`).
    #[serde(default)]
    pub username: Option<String>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Password (8 characters or more): the user can sign in with it through the Frontend API.
    #[serde(default)]
    pub password: Option<String>,
    /// Your system's id for the user.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Phone number (E.164), primary; usable for SMS codes as a second factor.
    #[serde(default)]
    pub phone: Option<String>,
    /// Authenticator-app secret (base32), enabling TOTP as a second factor.
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// Backup codes, enabling them as a second factor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
    /// Metadata (TOML tables; 8 KB of JSON at most each).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub public_metadata: Map<String, Value>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub private_metadata: Map<String, Value>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub unsafe_metadata: Map<String, Value>,
}

impl SeedUser {
    fn into_new_user(self) -> NewUser {
        NewUser {
            email_address: self.email.into_iter().chain(self.other_emails).collect(),
            first_name: self.first_name,
            last_name: self.last_name,
            username: self.username,
            password: self.password,
            external_id: self.external_id,
            public_metadata: self.public_metadata,
            private_metadata: self.private_metadata,
            unsafe_metadata: self.unsafe_metadata,
            totp_secret: self.totp_secret,
            backup_codes: self.backup_codes,
            phone_number: self.phone.into_iter().collect(),
            ..NewUser::default()
        }
    }
}

/// A `[[roles]]` entry: a custom organization role. Its permissions (`org:<feature>:<action>`) are created
/// when missing; naming one of Clerk's default roles (`org:admin`, `org:member`) grants it the permissions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRole {
    /// `org:<name>` (lowercase letters, digits, `_`).
    pub key: String,
    /// Display name; the key without `org:` when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Optional text.
    #[serde(default)]
    pub description: Option<String>,
    /// Permission keys (`org:reports:read`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
}

/// An `[[organizations]]` entry: the fields of `POST /v1/organizations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganization {
    /// Display name.
    pub name: String,
    /// Unique slug (lowercase letters, digits, `-`); derived from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    /// At most this many members (0 or absent: no limit).
    #[serde(default)]
    pub max_allowed_memberships: Option<u64>,
    /// Metadata (TOML tables; 8 KB of JSON at most each).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub public_metadata: Map<String, Value>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub private_metadata: Map<String, Value>,
}

/// A `[[memberships]]` entry: a seeded (or stored) user in a seeded (or stored) organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMembership {
    /// The organization's slug.
    pub organization: String,
    /// The user's email address.
    pub user: String,
    /// A role key (`org:admin`; default `org:member`): one of Clerk's defaults or a `[[roles]]` entry.
    #[serde(default)]
    pub role: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub public_metadata: Map<String, Value>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub private_metadata: Map<String, Value>,
}

/// A `[[jwt_templates]]` entry: the fields of `POST /v1/jwt_templates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedJwtTemplate {
    /// Unique name (`getToken({ template: name })`).
    pub name: String,
    /// The claims (a TOML table); string values may hold shortcodes (`"{{user.primary_email_address}}"`). The
    /// default claims (`sub`, `iat`, `exp`, …) cannot be set.
    pub claims: Map<String, Value>,
    /// Seconds, 30 to 315360000 (default 60).
    #[serde(default)]
    pub lifetime: Option<u64>,
    /// Seconds, 0 to 300 (default 5).
    #[serde(default)]
    pub allowed_clock_skew: Option<u64>,
}

/// A `[[machines]]` entry: the fields of `POST /v1/machines`, scoped machines named by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMachine {
    /// Unique in the seed (other records name the machine by it).
    pub name: String,
    /// Names of the machines (of this seed, in any order) it may talk to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoped_machines: Vec<String>,
    /// Seconds its M2M tokens live (default 3600).
    #[serde(default)]
    pub default_token_ttl: Option<u64>,
}

/// An `[[api_keys]]` entry: the fields of `POST /api_keys`, the subject named as a person writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedApiKey {
    /// Whose key: a user's email address, an organization's slug or a machine's name.
    pub subject: String,
    /// At least 3 characters.
    pub name: String,
    /// Optional text.
    #[serde(default)]
    pub description: Option<String>,
    /// Scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Custom claims (a TOML table).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
}

/// The seed key a store field is written as (`email_address` → `email`).
fn seed_key(param: &str) -> &str {
    match param {
        "email_address" => "email",
        "phone_number" => "phone",
        other => other,
    }
}

/// The file a seed came from: its path, text and the spans of every entry's keys, for error lines.
#[derive(Debug, Clone, PartialEq)]
struct Origin {
    path: PathBuf,
    text: String,
    /// Section → its entries, in order.
    spans: BTreeMap<String, Vec<EntrySpans>>,
}

/// Where one entry (`[[users]]` table) is in the text: the whole entry, and each key's value.
type EntrySpans = (Range<usize>, BTreeMap<String, Range<usize>>);

impl Origin {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }

    /// The line of `section[index].field` (its value), else of the entry.
    fn line(&self, section: &str, index: usize, field: &str) -> Option<usize> {
        let (entry, keys) = self.spans.get(section)?.get(index)?;
        Some(self.line_of(keys.get(field).unwrap_or(entry).start))
    }
}

/// Why a seed was refused: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError {
    /// The seed file, if the seed came from one.
    pub file: Option<PathBuf>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The field, as a path: `users[1].email` (empty for a file that cannot be read or parsed at all).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SeedError {
    /// `seed.toml:7: users[1].email: message` (`seed` for a seed built in code; no line or field when unknown).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.file {
            Some(path) => write!(f, "{}", path.display())?,
            None => f.write_str("seed")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SeedError {}

/// A record the seed could not create: its section, index, field and why (mapped to a line by [`Seed::apply`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `users`.
    pub section: &'static str,
    /// Index in the section.
    pub index: usize,
    /// The seed key.
    pub field: String,
    /// Why.
    pub message: String,
}

impl Failure {
    fn new(section: &'static str, index: usize, field: &str, message: impl Into<String>) -> Self {
        Self { section, index, field: field.to_owned(), message: message.into() }
    }

    fn from_store(section: &'static str, index: usize, e: StoreError) -> Self {
        let noun = match section {
            "users" => "user",
            "organizations" => "organization",
            "roles" => "role",
            _ => "record",
        };
        let (field, message) = match e {
            StoreError::IdentifierTaken { param, value } => (param, format!("{value:?} is already taken (by another seeded or stored {noun})")),
            StoreError::InvalidParam { param, message } => (param, message),
            other => ("", other.to_string()),
        };
        Self { section, index, field: seed_key(field).to_owned(), message }
    }
}

impl Seed {
    /// A seed of these users (the `[[users]]` section).
    pub fn with_users(users: impl IntoIterator<Item = SeedUser>) -> Self {
        Self { users: users.into_iter().collect(), ..Self::default() }
    }

    /// Reads and checks a seed file (see the module docs). The error names the file, line and field.
    pub fn load(path: &Path) -> Result<Self, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|e| SeedError {
            file: Some(path.to_owned()),
            line: None,
            field: String::new(),
            message: format!("cannot read the seed file: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and checks seed TOML; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SeedError> {
        let at = |offset: Option<usize>| offset.map(|o| text[..o.min(text.len())].matches('\n').count() + 1);
        let syntax = |e: toml::de::Error| SeedError {
            file: Some(path.to_owned()),
            line: at(e.span().map(|s| s.start)),
            field: String::new(),
            message: e.message().trim().to_owned(),
        };
        let deserializer = toml::Deserializer::parse(text).map_err(syntax)?;
        let mut seed: Seed = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            SeedError { file: Some(path.to_owned()), line: at(inner.span().map(|s| s.start)), field, message: inner.message().trim().to_owned() }
        })?;
        // The same text again, generically: every entry's keys with their spans, for the lines of later errors.
        type Entry = Spanned<BTreeMap<String, Spanned<toml::Value>>>;
        let generic: BTreeMap<String, Vec<Entry>> = toml::from_str(text).map_err(syntax)?;
        let spans = generic
            .into_iter()
            .map(|(section, entries)| {
                let entries = entries.into_iter().map(|e| (e.span(), e.into_inner().into_iter().map(|(k, v)| (k, v.span())).collect())).collect();
                (section, entries)
            })
            .collect();
        seed.origin = Some(Origin { path: path.to_owned(), text: text.to_owned(), spans });
        // Checked whole now, against an empty instance: duplicates and refused values stop the start here.
        seed.apply(&mut Store::default(), 0)?;
        Ok(seed)
    }

    /// The number of records of each kind, for the start-up line.
    pub fn summary(&self) -> String {
        let kinds = [
            ("users", self.users.len()),
            ("roles", self.roles.len()),
            ("organizations", self.organizations.len()),
            ("memberships", self.memberships.len()),
            ("jwt_templates", self.jwt_templates.len()),
            ("machines", self.machines.len()),
            ("api_keys", self.api_keys.len()),
        ];
        let mut parts: Vec<String> = kinds.iter().filter(|(_, n)| *n > 0).map(|(kind, n)| format!("{n} {kind}")).collect();
        if parts.is_empty() {
            parts.push("0 users".into());
        }
        parts.join(", ")
    }

    /// Creates every record in `store` at `now` (ms) and returns the users made. Seeding emits no webhook
    /// events: the records are there from the start. On an error the records before it stay (callers that need
    /// all or nothing apply to a copy).
    pub fn apply(&self, store: &mut Store, now: i64) -> Result<Vec<User>, SeedError> {
        let result = self.apply_records(store, now);
        store.take_changes();
        result.map_err(|f| self.locate(f))
    }

    fn apply_records(&self, store: &mut Store, now: i64) -> Result<Vec<User>, Failure> {
        let mut users = Vec::with_capacity(self.users.len());
        for (i, user) in self.users.iter().enumerate() {
            users.push(store.create_user(user.clone().into_new_user(), now).map_err(|e| Failure::from_store("users", i, e))?);
        }
        self.apply_roles(store, now)?;
        for (i, org) in self.organizations.iter().enumerate() {
            let new = NewOrganization {
                name: org.name.clone(),
                slug: org.slug.clone(),
                max_allowed_memberships: org.max_allowed_memberships,
                public_metadata: Some(org.public_metadata.clone()),
                private_metadata: Some(org.private_metadata.clone()),
                ..NewOrganization::default()
            };
            store.create_organization(new, now).map_err(|e| Failure::from_store("organizations", i, e))?;
        }
        for (i, m) in self.memberships.iter().enumerate() {
            let fail = |field: &str, message: String| Failure::new("memberships", i, field, message);
            let org = store
                .organization(&m.organization)
                .map_err(|_| fail("organization", format!("no organization with slug {:?} (seeded or stored)", m.organization)))?
                .id
                .clone();
            let user = store
                .user_by_email(&m.user)
                .ok_or_else(|| fail("user", format!("no user with email {:?} (seeded or stored)", m.user)))?
                .id
                .to_string();
            let role = m.role.clone().unwrap_or_else(|| MEMBER_ROLE.to_owned());
            if store.role(&role).is_err() {
                return Err(fail("role", format!("no role {role:?}: use org:admin, org:member or a key from [[roles]]")));
            }
            let (public, private) = (Some(m.public_metadata.clone()), Some(m.private_metadata.clone()));
            store.create_membership(&org, &user, &role, public, private, now).map_err(|e| match e {
                StoreError::AlreadyMember { .. } => fail("user", format!("{:?} is already a member of {:?}", m.user, m.organization)),
                StoreError::MembershipQuotaExceeded(_) => {
                    fail("organization", format!("{:?} has reached its max_allowed_memberships", m.organization))
                }
                other => Failure::from_store("memberships", i, other),
            })?;
        }
        for (i, t) in self.jwt_templates.iter().enumerate() {
            let body = TemplateBody {
                name: t.name.clone(),
                claims: Value::Object(t.claims.clone()),
                lifetime: t.lifetime,
                allowed_clock_skew: t.allowed_clock_skew,
                ..TemplateBody::default()
            };
            store.jwt_templates_mut().create(body, now).map_err(|e| match e {
                TemplateError::Invalid { param, message } => Failure::new("jwt_templates", i, param, message),
                TemplateError::NameTaken(name) => {
                    Failure::new("jwt_templates", i, "name", format!("{name:?} is already taken (by another seeded or stored template)"))
                }
                other => Failure::new("jwt_templates", i, "", other.to_string()),
            })?;
        }
        self.apply_machines(store, now)?;
        Ok(users)
    }

    /// `[[machines]]` (all of them first, then their scopes, so a machine may name one further down), then
    /// `[[api_keys]]` (whose subjects may be machines).
    fn apply_machines(&self, store: &mut Store, now: i64) -> Result<(), Failure> {
        let machine_error = |section: &'static str, i: usize, e: MachineError| match e {
            MachineError::Invalid { param, message } => Failure::new(section, i, param, message),
            other => Failure::new(section, i, "", other.to_string()),
        };
        let mut ids = Vec::with_capacity(self.machines.len());
        for (i, m) in self.machines.iter().enumerate() {
            if self.machines[..i].iter().any(|o| o.name == m.name) || store.machines().machine_by_name(&m.name).is_some() {
                return Err(Failure::new("machines", i, "name", format!("{:?} is already taken (by another seeded or stored machine)", m.name)));
            }
            let new = NewMachine { name: m.name.clone(), scoped_machines: Vec::new(), default_token_ttl: m.default_token_ttl };
            ids.push(store.machines_mut().create_machine(new, now).map_err(|e| machine_error("machines", i, e))?.id.to_string());
        }
        for (i, m) in self.machines.iter().enumerate() {
            for name in &m.scoped_machines {
                let to = store
                    .machines()
                    .machine_by_name(name)
                    .map(|t| t.id.to_string())
                    .ok_or_else(|| Failure::new("machines", i, "scoped_machines", format!("no machine named {name:?} (seeded or stored)")))?;
                store.machines_mut().add_scope(&ids[i], &to, now).map_err(|e| match e {
                    MachineError::Invalid { message, .. } => Failure::new("machines", i, "scoped_machines", message),
                    other => machine_error("machines", i, other),
                })?;
            }
        }
        for (i, k) in self.api_keys.iter().enumerate() {
            let subject = if k.subject.contains('@') {
                store.user_by_email(&k.subject).map(|u| u.id.to_string())
            } else {
                store
                    .organization(&k.subject)
                    .map(|o| o.id.clone())
                    .ok()
                    .or_else(|| store.machines().machine_by_name(&k.subject).map(|m| m.id.to_string()))
            };
            let subject = subject.ok_or_else(|| {
                let what = if k.subject.contains('@') { "no user with email" } else { "no organization with slug, or machine named," };
                Failure::new("api_keys", i, "subject", format!("{what} {:?} (seeded or stored)", k.subject))
            })?;
            let new = NewApiKey {
                name: k.name.clone(),
                subject,
                description: k.description.clone(),
                scopes: k.scopes.clone(),
                claims: (!k.claims.is_empty()).then(|| Value::Object(k.claims.clone())),
                ..NewApiKey::default()
            };
            store.machines_mut().create_api_key(new, now).map_err(|e| machine_error("api_keys", i, e))?;
        }
        Ok(())
    }

    /// `[[roles]]`: each permission created when missing, then the role (or, for an existing one such as
    /// `org:admin`, the permissions granted to it). A key twice in the seed is refused.
    fn apply_roles(&self, store: &mut Store, now: i64) -> Result<(), Failure> {
        for (i, role) in self.roles.iter().enumerate() {
            let fail = |field: &str, message: String| Failure::new("roles", i, field, message);
            if self.roles[..i].iter().any(|r| r.key == role.key) {
                return Err(fail("key", format!("{:?} is already a role of this seed", role.key)));
            }
            for p in &role.permissions {
                if store.permission(p).is_err() {
                    store.create_permission(p, p, None, now).map_err(|e| match e {
                        StoreError::InvalidParam { message, .. } => fail("permissions", message),
                        other => fail("permissions", other.to_string()),
                    })?;
                }
            }
            if store.role(&role.key).is_ok() {
                for p in &role.permissions {
                    store.add_role_permission(&role.key, p, now).map_err(|e| fail("permissions", e.to_string()))?;
                }
            } else {
                let name = role.name.clone().unwrap_or_else(|| role.key.strip_prefix("org:").unwrap_or(&role.key).to_owned());
                store
                    .create_role(&role.key, &name, role.description.as_deref(), &role.permissions, now)
                    .map_err(|e| Failure::from_store("roles", i, e))?;
            }
        }
        Ok(())
    }

    fn locate(&self, f: Failure) -> SeedError {
        let field = if f.field.is_empty() { format!("{}[{}]", f.section, f.index) } else { format!("{}[{}].{}", f.section, f.index, f.field) };
        SeedError {
            file: self.origin.as_ref().map(|o| o.path.clone()),
            line: self.origin.as_ref().and_then(|o| o.line(f.section, f.index, &f.field)),
            field,
            message: f.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Seed, SeedError> {
        Seed::parse(text, Path::new("seed.toml"))
    }

    #[test]
    fn users_load_with_metadata() {
        let seed =
            parse("[[users]]\nemail = \"ada@example.com\"\npassword = \"correct horse\"\npublic_metadata = { role = \"admin\", n = 1 }\n").unwrap();
        assert_eq!(seed.users[0].email.as_deref(), Some("ada@example.com"));
        assert_eq!(Value::Object(seed.users[0].public_metadata.clone()), serde_json::json!({"role": "admin", "n": 1}));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = parse("[[users]]\nemail = \"a@example.com\"\n\n[[users]]\nemail = \"b@example.com\"\nemial = \"typo\"\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(6), "users[1].emial"), "{e}");
        assert!(e.message.contains("emial"), "{e}");
        let e = parse("[[users]]\nemail = \"a@example.com\"\nfirst_name = 5\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(3), "users[0].first_name"), "{e}");
        assert!(e.to_string().starts_with("seed.toml:3: users[0].first_name: "), "{e}");
        let e = parse("[[users]]\nemail = \"a@example.com\"\n[[users]]\nfirst_name = \"B\"\nemail = \"A@example.com\"\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(5), "users[1].email"), "{e}");
        let e = parse("[[users]]\npassword = \"short\"\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (Some(2), "users[0].password"), "{e}");
        let e = parse("[[widgets]]\nname = \"acme\"\n").unwrap_err();
        assert!(e.message.contains("widgets"), "{e}");
        let e = parse("[[users]\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    const ORGS: &str = r#"
[[users]]
email = "ada@example.com"

[[memberships]]
organization = "acme"
user = "ada@example.com"
role = "org:billing"

[[organizations]]
name = "Acme"
slug = "acme"
max_allowed_memberships = 5
public_metadata = { tier = "gold" }

[[roles]]
key = "org:billing"
name = "Billing manager"
permissions = ["org:invoices:read", "org:invoices:manage"]

[[roles]]
key = "org:admin"
permissions = ["org:reports:read"]
"#;

    #[test]
    fn organizations_roles_and_memberships_are_created_in_dependency_order() {
        let seed = parse(ORGS).unwrap();
        assert_eq!(seed.summary(), "1 users, 2 roles, 1 organizations, 1 memberships");
        let mut store = Store::default();
        let users = seed.apply(&mut store, 0).unwrap();
        let org = store.organization("acme").unwrap().clone();
        assert_eq!((org.name.as_str(), org.max_allowed_memberships), ("Acme", 5));
        assert_eq!(Value::Object(org.public_metadata), serde_json::json!({"tier": "gold"}));
        let m = store.membership(&org.id, &users[0].id).expect("ada is a member of acme");
        assert_eq!(m.role, "org:billing");
        let billing = store.role("org:billing").unwrap();
        assert_eq!(
            (billing.name.as_str(), billing.permissions.clone()),
            ("Billing manager", vec!["org:invoices:read".to_owned(), "org:invoices:manage".to_owned()])
        );
        assert!(store.role("org:admin").unwrap().permissions.contains(&"org:reports:read".to_owned()), "a default role gains seeded permissions");
        assert!(store.permission("org:invoices:manage").is_ok());
    }

    /// `ORGS` with `from` replaced by `to` (the text must occur once).
    fn broken(from: &str, to: &str) -> SeedError {
        assert_eq!(ORGS.matches(from).count(), 1, "{from}");
        parse(&ORGS.replace(from, to)).unwrap_err()
    }

    #[test]
    fn organization_errors_name_line_and_field() {
        let e = broken("organization = \"acme\"", "organization = \"acne\"");
        assert_eq!((e.line, e.field.as_str()), (Some(6), "memberships[0].organization"), "{e}");
        assert!(e.message.contains("\"acne\""), "{e}");
        let e = broken("user = \"ada@example.com\"", "user = \"eve@example.com\"");
        assert_eq!((e.line, e.field.as_str()), (Some(7), "memberships[0].user"), "{e}");
        let e = broken("role = \"org:billing\"", "role = \"org:biling\"");
        assert_eq!((e.line, e.field.as_str()), (Some(8), "memberships[0].role"), "{e}");
        assert!(e.to_string().starts_with("seed.toml:8: memberships[0].role: no role \"org:biling\""), "{e}");
        let e = broken("\"org:invoices:manage\"", "\"org:invoices\"");
        assert_eq!((e.line, e.field.as_str()), (Some(19), "roles[0].permissions"), "{e}");
        assert!(e.message.contains("org:<feature>:<action>"), "{e}");
        let e = broken("key = \"org:admin\"", "key = \"org:billing\"");
        assert_eq!((e.line, e.field.as_str()), (Some(22), "roles[1].key"), "{e}");
        let e = broken("max_allowed_memberships = 5", "max_allowed_memberships = 5\n[[organizations]]\nname = \"Acme 2\"\nslug = \"acme\"");
        assert_eq!((e.line, e.field.as_str()), (Some(16), "organizations[1].slug"), "{e}");
        assert!(e.message.contains("already taken"), "{e}");
        let e = broken("slug = \"acme\"", "slug = \"Acme Inc\"");
        assert_eq!((e.line, e.field.as_str()), (Some(12), "organizations[0].slug"), "{e}");
        let e = broken("max_allowed_memberships = 5", "max_allowed_memberships = 5\nowner = \"ada\"");
        assert_eq!((e.line, e.field.as_str()), (Some(14), "organizations[0].owner"), "{e}");
        let e = broken(
            "[[roles]]\nkey = \"org:admin\"",
            "[[memberships]]\norganization = \"acme\"\nuser = \"ada@example.com\"\nrole = \"org:admin\"\n[[roles]]\nkey = \"org:admin\"",
        );
        assert_eq!((e.line, e.field.as_str()), (Some(23), "memberships[1].user"), "{e}");
        assert!(e.message.contains("already a member"), "{e}");
    }

    const TEMPLATES: &str = r#"
[[jwt_templates]]
name = "supabase"
lifetime = 3600
claims = { email = "{{user.primary_email_address}}", role = "authenticated" }

[[jwt_templates]]
name = "hasura"
allowed_clock_skew = 10

[jwt_templates.claims."https://hasura.io/jwt/claims"]
x-hasura-user-id = "{{user.id}}"
"#;

    #[test]
    fn jwt_templates_load_and_render_nothing_until_asked() {
        let seed = parse(TEMPLATES).unwrap();
        assert_eq!(seed.summary(), "2 jwt_templates");
        let mut store = Store::default();
        seed.apply(&mut store, 0).unwrap();
        let t = store.jwt_templates().by_name("supabase").unwrap();
        assert_eq!((t.lifetime, t.allowed_clock_skew), (3600, 5));
        assert_eq!(t.claims["email"], "{{user.primary_email_address}}");
        let h = store.jwt_templates().by_name("hasura").unwrap();
        assert_eq!((h.lifetime, h.allowed_clock_skew), (60, 10));
        assert_eq!(h.claims["https://hasura.io/jwt/claims"]["x-hasura-user-id"], "{{user.id}}");
    }

    #[test]
    fn jwt_template_errors_name_line_and_field() {
        let bad = |from: &str, to: &str| {
            assert_eq!(TEMPLATES.matches(from).count(), 1, "{from}");
            parse(&TEMPLATES.replace(from, to)).unwrap_err()
        };
        let e = bad("role = \"authenticated\"", "sub = \"me\"");
        assert_eq!((e.line, e.field.as_str()), (Some(5), "jwt_templates[0].claims"), "{e}");
        assert!(e.message.contains("sub is a default claim"), "{e}");
        let e = bad("name = \"hasura\"", "name = \"supabase\"");
        assert_eq!((e.line, e.field.as_str()), (Some(8), "jwt_templates[1].name"), "{e}");
        let e = bad("lifetime = 3600", "lifetime = 10");
        assert_eq!((e.line, e.field.as_str()), (Some(4), "jwt_templates[0].lifetime"), "{e}");
        let e = bad("allowed_clock_skew = 10", "allowed_clock_skew = 301");
        assert_eq!((e.line, e.field.as_str()), (Some(9), "jwt_templates[1].allowed_clock_skew"), "{e}");
        let e = bad("lifetime = 3600", "lifetime = 3600\nsigning_key = \"x\"");
        assert_eq!((e.line, e.field.as_str()), (Some(5), "jwt_templates[0].signing_key"), "{e}");
        let e = bad("claims = { email", "claim = { email");
        assert!(e.message.contains("claim"), "{e}");
    }

    const MACHINES: &str = r#"
[[users]]
email = "ada@example.com"

[[api_keys]]
subject = "ada@example.com"
name = "ada's laptop"
scopes = ["read"]
claims = { team = "core" }

[[api_keys]]
subject = "billing"
name = "billing key"

[[machines]]
name = "api"
scoped_machines = ["billing"]
default_token_ttl = 600

[[machines]]
name = "billing"
"#;

    #[test]
    fn machines_and_api_keys_refer_by_name_and_email() {
        let seed = parse(MACHINES).unwrap();
        assert_eq!(seed.summary(), "1 users, 2 machines, 2 api_keys");
        let mut store = Store::default();
        let users = seed.apply(&mut store, 0).unwrap();
        let machines = store.machines();
        let (api, billing) = (machines.machine_by_name("api").unwrap(), machines.machine_by_name("billing").unwrap());
        assert_eq!((api.scoped_machines.clone(), api.default_token_ttl), (vec![billing.id.to_string()], 600));
        let ada_keys = machines.api_keys(&users[0].id, false, 0);
        assert_eq!(ada_keys.len(), 1);
        assert_eq!((ada_keys[0].name.as_str(), ada_keys[0].scopes.clone()), ("ada's laptop", vec!["read".to_owned()]));
        assert_eq!(ada_keys[0].claims, Some(serde_json::json!({"team": "core"})));
        assert_eq!(machines.api_keys(&billing.id, false, 0).len(), 1, "a machine's key");
    }

    #[test]
    fn machine_errors_name_line_and_field() {
        let bad = |from: &str, to: &str| {
            assert_eq!(MACHINES.matches(from).count(), 1, "{from}");
            parse(&MACHINES.replace(from, to)).unwrap_err()
        };
        let e = bad("scoped_machines = [\"billing\"]", "scoped_machines = [\"biling\"]");
        assert_eq!((e.line, e.field.as_str()), (Some(17), "machines[0].scoped_machines"), "{e}");
        let e = bad("subject = \"billing\"", "subject = \"nobody\"");
        assert_eq!((e.line, e.field.as_str()), (Some(12), "api_keys[1].subject"), "{e}");
        let e = bad("subject = \"ada@example.com\"", "subject = \"eve@example.com\"");
        assert_eq!((e.line, e.field.as_str()), (Some(6), "api_keys[0].subject"), "{e}");
        assert!(e.message.contains("no user with email \"eve@example.com\""), "{e}");
        let e = bad("name = \"billing key\"", "name = \"bk\"");
        assert_eq!((e.line, e.field.as_str()), (Some(13), "api_keys[1].name"), "{e}");
        let e = bad("name = \"api\"", "name = \"billing\"");
        assert_eq!((e.line, e.field.as_str()), (Some(21), "machines[1].name"), "the second of two machines named billing: {e}");
        let e = bad("default_token_ttl = 600", "default_token_ttl = 0");
        assert_eq!((e.line, e.field.as_str()), (Some(18), "machines[0].default_token_ttl"), "{e}");
    }
}
