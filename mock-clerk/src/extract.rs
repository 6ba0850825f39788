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

/// Parses a JSON body with Clerk-style errors.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = if bytes.iter().all(u8::is_ascii_whitespace) { &b"{}"[..] } else { bytes };
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::MalformedJson("the body must be a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| shape_error(&e.to_string()))
}

/// Turns a serde message (`missing field `user_id``, `unknown field `x`, expected …`) into a Clerk error.
fn shape_error(message: &str) -> ApiError {
    let field = message.split('`').nth(1).unwrap_or("body").to_owned();
    if message.starts_with("missing field") {
        ApiError::FormParamMissing(field)
    } else if message.starts_with("unknown field") {
        ApiError::FormParamUnknown(field)
    } else {
        ApiError::FormParamInvalid { param: field_hint(message), message: message.to_owned() }
    }
}

fn field_hint(message: &str) -> String {
    message.split('`').nth(1).map(str::to_owned).unwrap_or_else(|| "body".into())
}

/// The query string as ordered `(name, value)` pairs, percent-decoded. `name[]` is read as `name`.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.trim_end_matches("[]").to_owned(), v.into_owned()))
        .collect()
}

/// Reads an optional non-negative integer query parameter.
pub fn query_usize(pairs: &[(String, String)], name: &str) -> Result<Option<usize>, ApiError> {
    match pairs.iter().rev().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v.parse().map(Some).map_err(|_| ApiError::FormParamInvalid {
            param: name.into(),
            message: format!("{name} must be a non-negative integer"),
        }),
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
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(parse_json::<Body>(b"").unwrap_err(), ApiError::FormParamMissing("user_id".into()));
        assert_eq!(parse_json::<Body>(b"{\"user_id\":\"u\",\"x\":1}").unwrap_err(), ApiError::FormParamUnknown("x".into()));
        assert!(matches!(parse_json::<Body>(b"{\"user_id\":1}").unwrap_err(), ApiError::FormParamInvalid { .. }));
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
