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
