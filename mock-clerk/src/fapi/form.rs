//! Frontend API request bodies. clerk-js posts `application/x-www-form-urlencoded` with snake_case keys
//! (`fapiClient.ts`); a JSON object is read the same way. Fields clerk-js adds that a route does not use
//! (`locale`, captcha and fraud-protection fields) are ignored, as Clerk ignores them.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde_json::Value;

use super::errors::FapiError;
use crate::error::ApiError;

/// Form fields, in order.
#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = FapiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, FapiError> {
        let is_json = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("application/json"));
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::MalformedJson(e.body_text()))?;
        if is_json {
            let value = crate::extract::parse_json::<serde_json::Map<String, Value>>(&bytes)?;
            let pairs = value
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect();
            return Ok(Self(pairs));
        }
        Ok(Self(form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }
}

impl Form {
    /// The last non-empty value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// A field that must be there.
    pub fn require(&self, name: &str) -> Result<&str, FapiError> {
        self.get(name).ok_or_else(|| ApiError::FormParamMissing(name.to_owned()).into())
    }
}

/// `password=…` in a form body (or a query string) replaced by `password=[redacted]`, for the request log
/// (JSON bodies are redacted by [`crate::reqlog::redact_passwords`]); so are tickets (`ticket=…`,
/// `__clerk_ticket=…`), which sign a browser in.
///
/// ```
/// assert_eq!(mock_clerk::fapi::form::redact_form_passwords("strategy=ticket&ticket=eyJ.x.y"), "strategy=ticket&ticket=[redacted]");
/// assert_eq!(mock_clerk::fapi::form::redact_form_passwords("identifier=a%40b.c&password=hunter22"), "identifier=a%40b.c&password=[redacted]");
/// assert_eq!(mock_clerk::fapi::form::redact_form_passwords("{\"password\":\"x\"}"), "{\"password\":\"x\"}");
/// ```
pub fn redact_form_passwords(body: &str) -> String {
    if body.trim_start().starts_with('{') || !body.contains('=') {
        return body.to_owned();
    }
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k.to_ascii_lowercase().contains("password") || k.to_ascii_lowercase().ends_with("ticket") => {
                format!("{k}=[redacted]")
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}
