//! The exact body of a webhook message, rendered once: the message log, every attempt and the HTTP request share
//! it (the signature covers these bytes, so they are never copied or rendered again).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable JSON body; clones share it. Reads as a `&str`, serialises as a string.
///
/// ```
/// use mock_clerk::webhooks::payload::Payload;
/// let p = Payload::from(r#"{"a":1}"#.to_owned());
/// assert_eq!((&*p, p.body().as_ref()), (r#"{"a":1}"#, br#"{"a":1}"#.as_slice()));
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#""{\"a\":1}""#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Payload(Arc<String>);

impl Payload {
    /// The body of an HTTP request, without a copy.
    pub fn body(&self) -> bytes::Bytes {
        bytes::Bytes::from_owner(self.clone())
    }
}

impl Deref for Payload {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Payload {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self(Arc::new(text))
    }
}

impl PartialEq<str> for Payload {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}
