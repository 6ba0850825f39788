//! Clerk-style identifiers: a resource prefix and 27 random base62 characters (`user_2x…`, `sess_2x…`).

use rand::RngExt;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Resource prefixes Clerk uses.
pub mod prefix {
    /// Users.
    pub const USER: &str = "user";
    /// Sessions.
    pub const SESSION: &str = "sess";
    /// Clients (one per browser).
    pub const CLIENT: &str = "client";
    /// Email addresses.
    pub const EMAIL: &str = "idn";
    /// Dev browsers (`__clerk_db_jwt`).
    pub const DEV_BROWSER: &str = "dvb";
    /// Handshake nonces.
    pub const NONCE: &str = "nonce";
    /// Refresh tokens.
    pub const REFRESH: &str = "rt";
    /// Trace ids of error envelopes.
    pub const TRACE: &str = "trace";
}

/// `prefix_` + 27 random base62 characters.
///
/// ```
/// let id = mock_clerk::ids::new_id("user");
/// assert!(id.starts_with("user_") && id.len() == 5 + 27);
/// ```
pub fn new_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(prefix.len() + 28);
    id.push_str(prefix);
    id.push('_');
    for _ in 0..27 {
        id.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    id
}

/// An immutable id string whose clones share one allocation (`Arc<str>`, 16 bytes inline).
///
/// The store keeps several copies of the same id — a session's map key, its own `id`, its client's list of
/// sessions; every session's `user_id` — and with `String` each copy was its own heap allocation. It reads as a
/// `&str` (`Deref`), compares with strings, looks up `str`-keyed maps (`Borrow<str>`) and serialises as a plain
/// JSON string.
///
/// ```
/// use mock_clerk::ids::IdStr;
/// let id = IdStr::from("sess_1");
/// let copy = id.clone();
/// assert_eq!(copy, "sess_1");
/// assert!(std::ptr::eq(id.as_str(), copy.as_str()));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdStr(std::sync::Arc<str>);

impl IdStr {
    /// A fresh `prefix_…` id ([`new_id`]).
    pub fn new(prefix: &str) -> Self {
        Self(new_id(prefix).into())
    }
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for IdStr {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IdStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for IdStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for IdStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for IdStr {
    fn from(s: &str) -> Self {
        Self(s.into())
    }
}

impl From<String> for IdStr {
    fn from(s: String) -> Self {
        Self(s.into())
    }
}

impl From<IdStr> for String {
    fn from(id: IdStr) -> Self {
        id.0.as_ref().to_owned()
    }
}

impl From<&IdStr> for String {
    fn from(id: &IdStr) -> Self {
        id.0.as_ref().to_owned()
    }
}

impl PartialEq<str> for IdStr {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for IdStr {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for IdStr {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<IdStr> for String {
    fn eq(&self, other: &IdStr) -> bool {
        **self == *other.0
    }
}

impl PartialEq<IdStr> for &str {
    fn eq(&self, other: &IdStr) -> bool {
        **self == *other.0
    }
}

impl serde::Serialize for IdStr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for IdStr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}
