//! Request extractors whose every rejection is a Clerk error envelope, never axum's plain-text defaults.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A path id (`/v1/users/{id}`). Ids are opaque: any decodable string is looked up, and fails as not found.
#[derive(Debug, Clone)]
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(_) => Err(ApiError::RouteNotFound(parts.uri.path().to_owned())),
        }
    }
}

/// Two path segments (`/v1/sessions/{id}/tokens/{template}`).
#[derive(Debug, Clone)]
pub struct IdPair(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdPair {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((a, b))) => Ok(IdPair(a, b)),
            Err(_) => Err(ApiError::RouteNotFound(parts.uri.path().to_owned())),
        }
    }
}

/// A JSON body. An empty body reads as `{}` (the SDK sends none when it has no parameters); a body that is not
/// JSON is a 400; JSON of the wrong shape is a 422 naming the field.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::MalformedJson(e.body_text()))?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON body with Clerk-style errors: not JSON, or not an object, is [`ApiError::MalformedJson`]; a
/// shape error names the field by its path from the body's root (`user_id`, `a.b`, `email_address[0]`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { bytes };
    let value: serde_json::Value = serde_json::from_slice(text).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::MalformedJson("the body must be a JSON object".into()));
    }
    serde_path_to_error::deserialize(value).map_err(|e| shape_error(e.path(), &e.inner().to_string()))
}

/// Turns a serde error at `path` into a Clerk error. serde reports a missing field at the struct that lacks it
/// (`missing field `b``, so the field is appended to the path), an unknown field at the field itself, and a wrong
/// type or value at the field.
fn shape_error(path: &serde_path_to_error::Path, message: &str) -> ApiError {
    let at_root = path.iter().next().is_none();
    let quoted = message.split('`').nth(1).filter(|q| !q.is_empty());
    if let (Some(field), true) = (quoted, message.starts_with("missing field `")) {
        return ApiError::FormParamMissing(if at_root { field.to_owned() } else { format!("{path}.{field}") });
    }
    if let (Some(field), true) = (quoted, message.starts_with("unknown field `")) {
        return ApiError::FormParamUnknown(if at_root { field.to_owned() } else { path.to_string() });
    }
    let param = if at_root { "body".to_owned() } else { path.to_string() };
    // serde quotes the offending value (`invalid type: integer `123``); a password's never goes back out.
    let is_password = path.iter().next_back().is_some_and(|s| s.to_string() == "password");
    let message = if is_password { "the value has the wrong type".to_owned() } else { message.to_owned() };
    ApiError::FormParamInvalid { param, message }
}

/// The query string as ordered `(name, value)` pairs, percent-decoded. `name[]` is read as `name`.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes()).map(|(k, v)| (k.trim_end_matches("[]").to_owned(), v.into_owned())).collect()
}

/// Reads an optional non-negative integer query parameter.
pub fn query_usize(pairs: &[(String, String)], name: &str) -> Result<Option<usize>, ApiError> {
    match pairs.iter().rev().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::FormParamInvalid { param: name.into(), message: format!("{name} must be a non-negative integer") }),
    }
}

/// Every value of a repeatable query parameter.
pub fn query_all(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// The last value of a query parameter.
pub fn query_one(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        user_id: String,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        emails: Vec<String>,
        #[serde(default)]
        password: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    fn invalid_param(body: &[u8]) -> (String, String) {
        match parse_json::<Body>(body).unwrap_err() {
            ApiError::FormParamInvalid { param, message } => (param, message),
            other => panic!("{}: expected FormParamInvalid, got {other:?}", String::from_utf8_lossy(body)),
        }
    }

    #[test]
    fn missing_fields_are_named_by_their_path() {
        assert_eq!(parse_json::<Body>(b"").unwrap_err(), ApiError::FormParamMissing("user_id".into()));
        assert_eq!(parse_json::<Body>(b"{}").unwrap_err(), ApiError::FormParamMissing("user_id".into()));
        assert_eq!(parse_json::<Body>(br#"{"user_id":"u","inner":{}}"#).unwrap_err(), ApiError::FormParamMissing("inner.name".into()));
    }

    #[test]
    fn unknown_fields_are_named_by_their_path() {
        assert_eq!(parse_json::<Body>(br#"{"user_id":"u","x":1}"#).unwrap_err(), ApiError::FormParamUnknown("x".into()));
        assert_eq!(parse_json::<Body>(br#"{"user_id":"u","inner":{"name":"n","y":2}}"#).unwrap_err(), ApiError::FormParamUnknown("inner.y".into()));
    }

    #[test]
    fn wrong_types_are_named_by_their_path_not_their_value() {
        let (param, message) = invalid_param(br#"{"user_id":1}"#);
        assert_eq!(param, "user_id");
        assert!(message.contains("expected a string"), "{message}");
        assert_eq!(invalid_param(br#"{"user_id":"u","inner":{"name":true}}"#).0, "inner.name");
        assert_eq!(invalid_param(br#"{"user_id":"u","emails":["a",7]}"#).0, "emails[1]");
        // A backquoted word in the value is not mistaken for the field.
        assert_eq!(invalid_param(br#"{"user_id":["`x`"]}"#).0, "user_id");
    }

    #[test]
    fn a_wrongly_typed_password_is_not_echoed() {
        let (param, message) = invalid_param(br#"{"user_id":"u","password":12345678}"#);
        assert_eq!(param, "password");
        assert!(!message.contains("12345678"), "{message}");
    }

    #[test]
    fn bodies_that_are_not_json_objects_are_malformed() {
        assert!(matches!(parse_json::<Body>(b"{").unwrap_err(), ApiError::MalformedJson(_)));
        assert!(matches!(parse_json::<Body>(b"[]").unwrap_err(), ApiError::MalformedJson(_)));
    }

    #[test]
    fn query_reads_repeated_and_bracketed_keys() {
        let q = query_pairs(Some("email_address=a%40b.c&email_address[]=d%40e.f&limit=5"));
        assert_eq!(query_all(&q, "email_address"), vec!["a@b.c", "d@e.f"]);
        assert_eq!(query_usize(&q, "limit").unwrap(), Some(5));
        assert!(query_usize(&query_pairs(Some("limit=-1")), "limit").is_err());
    }
}
