//! One struct per kind of seed record (`[[users]]`, `[[roles]]`, …): the fields a person writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::store::NewUser;

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
    pub(super) fn into_new_user(self) -> NewUser {
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
