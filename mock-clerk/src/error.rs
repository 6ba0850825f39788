//! One error type for every route, rendered as Clerk's error envelope:
//! `{"errors":[{code,message,long_message,meta}],"clerk_trace_id"}` with `Content-Type: application/json`
//! (`packages/shared/src/errors/clerkApiResponseError.ts`, `packages/backend/src/api/request.ts`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::ids::{new_id, prefix};
use crate::store::StoreError;

/// The exact content type `@clerk/backend` parses as JSON (it compares with `===`).
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Everything a route can refuse. Variants are named after the check that failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer …` header on a Backend API call.
    #[error("authorization header missing")]
    AuthorizationHeaderMissing,
    /// A bearer that is not the instance's secret key.
    #[error("secret key invalid")]
    SecretKeyInvalid,
    /// No route for this path.
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// The route exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// No resource with this id.
    #[error("{kind} {id} not found")]
    ResourceNotFound {
        /// `user`, `session`, …
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The body is not JSON.
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A required field is missing.
    #[error("{0} is missing")]
    FormParamMissing(String),
    /// A field the route does not know.
    #[error("{0} is not a valid parameter")]
    FormParamUnknown(String),
    /// A field with a wrong type or value.
    #[error("{param}: {message}")]
    FormParamInvalid {
        /// The field.
        param: String,
        /// What is wrong.
        message: String,
    },
    /// An email address or username that another user holds.
    #[error("{0} is taken")]
    IdentifierExists(String),
    /// A token or refresh was asked for a session that is not active.
    #[error("session {id} is {status}")]
    SessionNotActive {
        /// The session.
        id: String,
        /// Its status.
        status: String,
    },
    /// A refresh token that does not belong to the session.
    #[error("refresh token invalid")]
    RefreshTokenInvalid,
    /// A body larger than the limit.
    #[error("request body over {0} bytes")]
    PayloadTooLarge(usize),
    /// The control API refused the caller.
    #[error("control API: {0}")]
    ControlForbidden(&'static str),
    /// A fault injected through the control API.
    #[error("injected fault {0}")]
    InjectedFault(StatusCode),
    /// The key ring could not be changed (key generation or the key file failed).
    #[error("key ring: {0}")]
    KeyRing(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::AuthorizationHeaderMissing | Self::SecretKeyInvalid => StatusCode::UNAUTHORIZED,
            Self::RouteNotFound(_) | Self::ResourceNotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::FormParamMissing(_)
            | Self::FormParamUnknown(_)
            | Self::FormParamInvalid { .. }
            | Self::IdentifierExists(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::SessionNotActive { .. } | Self::RefreshTokenInvalid => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ControlForbidden(_) => StatusCode::FORBIDDEN,
            Self::InjectedFault(status) => *status,
            Self::KeyRing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Clerk's machine-readable code. `clerk_key_invalid` is the one `@clerk/backend` maps to
    /// `secret-key-invalid` (`packages/backend/src/errors.ts`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::AuthorizationHeaderMissing => "authorization_header_missing",
            Self::SecretKeyInvalid => "clerk_key_invalid",
            Self::RouteNotFound(_) | Self::ResourceNotFound { .. } => "resource_not_found",
            Self::MethodNotAllowed => "request_method_not_allowed",
            Self::MalformedJson(_) => "malformed_request_body",
            Self::FormParamMissing(_) => "form_param_missing",
            Self::FormParamUnknown(_) => "form_param_unknown",
            Self::FormParamInvalid { .. } => "form_param_format_invalid",
            Self::IdentifierExists(_) => "form_identifier_exists",
            Self::SessionNotActive { .. } => "session_not_active",
            Self::RefreshTokenInvalid => "refresh_token_invalid",
            Self::PayloadTooLarge(_) => "request_body_too_large",
            Self::ControlForbidden(_) => "control_api_forbidden",
            Self::InjectedFault(_) => "injected_fault",
            Self::KeyRing(_) => "key_ring_error",
        }
    }

    fn message(&self) -> &'static str {
        match self {
            Self::AuthorizationHeaderMissing => "Authorization header missing",
            Self::SecretKeyInvalid => "Secret key invalid",
            Self::RouteNotFound(_) | Self::ResourceNotFound { .. } => "not found",
            Self::MethodNotAllowed => "method not allowed",
            Self::MalformedJson(_) => "malformed request body",
            Self::FormParamMissing(_) => "is missing",
            Self::FormParamUnknown(_) => "is unknown",
            Self::FormParamInvalid { .. } => "is invalid",
            Self::IdentifierExists(_) => "That identifier is taken. Please try another.",
            Self::SessionNotActive { .. } => "session not active",
            Self::RefreshTokenInvalid => "refresh token invalid",
            Self::PayloadTooLarge(_) => "request body too large",
            Self::ControlForbidden(_) => "forbidden",
            Self::InjectedFault(_) => "injected fault",
            Self::KeyRing(_) => "key ring error",
        }
    }

    fn long_message(&self) -> String {
        match self {
            Self::AuthorizationHeaderMissing => {
                "The request is missing an Authorization header with your secret key (Bearer sk_…).".into()
            }
            Self::SecretKeyInvalid => "The provided secret key is invalid for this instance.".into(),
            Self::RouteNotFound(path) => format!("No resource exists at {path}."),
            Self::ResourceNotFound { kind, id } => format!("No {kind} was found with id {id}."),
            other => {
                let text = other.to_string();
                let mut chars = text.chars();
                chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or(text)
            }
        }
    }

    fn meta(&self) -> Value {
        match self {
            Self::FormParamMissing(p) | Self::FormParamUnknown(p) | Self::IdentifierExists(p) => {
                json!({"param_name": p})
            }
            Self::FormParamInvalid { param, .. } => json!({"param_name": param}),
            Self::ResourceNotFound { kind: "session", id } | Self::SessionNotActive { id, .. } => {
                json!({"session_id": id})
            }
            _ => json!({}),
        }
    }

    /// The envelope body.
    pub fn envelope(&self) -> Value {
        json!({
            "errors": [{
                "code": self.code(),
                "message": self.message(),
                "long_message": self.long_message(),
                "meta": self.meta(),
            }],
            "clerk_trace_id": new_id(prefix::TRACE),
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status(), &self.envelope())
    }
}

impl From<crate::keys::KeyError> for ApiError {
    fn from(e: crate::keys::KeyError) -> Self {
        match e {
            crate::keys::KeyError::RetireActiveKey(_) | crate::keys::KeyError::UnknownKid(_) => {
                Self::FormParamInvalid { param: "kid".into(), message: e.to_string() }
            }
            other => Self::KeyRing(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UserNotFound(id) => Self::ResourceNotFound { kind: "user", id },
            StoreError::SessionNotFound(id) => Self::ResourceNotFound { kind: "session", id },
            StoreError::SessionNotActive { id, status } => Self::SessionNotActive { id, status: status.into() },
            StoreError::IdentifierTaken { param, .. } => Self::IdentifierExists(param.into()),
            StoreError::InvalidParam { param, message } => Self::FormParamInvalid { param: param.into(), message },
            StoreError::RefreshTokenMismatch(_) => Self::RefreshTokenInvalid,
        }
    }
}

/// A JSON response whose `Content-Type` is exactly `application/json` (no charset).
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).expect("JSON values serialise");
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
    response
}

/// A 200 JSON response.
pub fn ok_json(body: &Value) -> Response {
    json_response(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_clerks_shape() {
        let e = ApiError::FormParamMissing("user_id".into());
        let body = e.envelope();
        assert_eq!(body["errors"][0]["code"], "form_param_missing");
        assert_eq!(body["errors"][0]["meta"]["param_name"], "user_id");
        assert!(body["clerk_trace_id"].as_str().unwrap().starts_with("trace_"));
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }
}
