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
use serde_json::Value;
use serde_spanned::Spanned;

use crate::machines::{MachineError, NewApiKey, NewMachine};
use crate::store::orgs::{MEMBER_ROLE, NewOrganization};
use crate::store::{Store, StoreError, User};
use crate::templates::{TemplateBody, TemplateError};

mod records;
pub use records::{SeedApiKey, SeedJwtTemplate, SeedMachine, SeedMembership, SeedOrganization, SeedRole, SeedUser};

/// What a fresh instance starts with. In code: [`Seed::with_users`] or `Seed::default()`, then push to the
/// other sections (`seed.organizations.push(…)`).
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
mod tests;
