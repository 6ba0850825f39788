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
    #[error("{0}")]
    ControlForbidden(&'static str),
    /// A fault injected through the control API.
    #[error("injected fault {0}")]
    InjectedFault(StatusCode),
    /// The key ring could not be changed (key generation or the key file failed).
    #[error("key ring: {0}")]
    KeyRing(String),
    /// The user is already a member of the organization.
    #[error("already a member")]
    AlreadyMember {
        /// The organization.
        organization_id: String,
        /// The user.
        user_id: String,
    },
    /// The organization has as many members as it may have.
    #[error("membership quota exceeded")]
    MembershipQuotaExceeded(String),
    /// A metadata object over Clerk's 8 KB limit (the limit: Clerk's docs, "Metadata is limited to 8KB maximum").
    ///
    /// The code, 422 `form_param_max_length_exceeded` with `meta.param_name`, is the one Clerk uses for a parameter
    /// over its maximum length (`github:clerk/javascript` `packages/shared/src/types/localization.ts`
    /// `unstable__errors.form_param_max_length_exceeded`, and its per-field `…__first_name` / `…__name` keys). That
    /// Clerk answers oversized *metadata* with it is not confirmed: `bapi/2026-05-12.yml` gives the metadata
    /// operations only generic 400/422 bodies, and `@clerk/backend` reads no code for it.
    #[error("{param} over 8 KB")]
    MetadataTooLarge {
        /// The field.
        param: String,
        /// Its size in bytes.
        size: usize,
    },
    /// Machine authentication refused ([`crate::machines::MachineError`] says status, code and message).
    #[error("{0}")]
    Machine(crate::machines::MachineError),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::AuthorizationHeaderMissing | Self::SecretKeyInvalid => StatusCode::UNAUTHORIZED,
            Self::RouteNotFound(_) | Self::ResourceNotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::FormParamMissing(_) | Self::FormParamUnknown(_) | Self::FormParamInvalid { .. } | Self::IdentifierExists(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::AlreadyMember { .. } | Self::MembershipQuotaExceeded(_) | Self::MetadataTooLarge { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::SessionNotActive { .. } | Self::RefreshTokenInvalid => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::ControlForbidden(_) => StatusCode::FORBIDDEN,
            Self::InjectedFault(status) => *status,
            Self::KeyRing(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Machine(e) => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
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
            Self::AlreadyMember { .. } => "already_a_member_in_organization",
            Self::MembershipQuotaExceeded(_) => "organization_membership_quota_exceeded",
            Self::MetadataTooLarge { .. } => "form_param_max_length_exceeded",
            Self::Machine(e) => e.code(),
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
            Self::AlreadyMember { .. } => "already a member",
            Self::MembershipQuotaExceeded(_) => "membership quota exceeded",
            Self::MetadataTooLarge { .. } => "is too large",
            Self::Machine(e) => e.message(),
        }
    }

    /// A sentence for people. Parameter names keep their spelling (`user_id is missing.`), and nothing secret
    /// goes in: no keys, no tokens, no passwords.
    fn long_message(&self) -> String {
        match self {
            Self::AuthorizationHeaderMissing => "The request is missing an Authorization header with your secret key (Bearer sk_…).".into(),
            Self::SecretKeyInvalid => "The provided secret key is invalid for this instance.".into(),
            Self::RouteNotFound(path) => format!("No resource exists at {path}."),
            Self::MethodNotAllowed => "This endpoint does not accept the request's HTTP method.".into(),
            Self::ResourceNotFound { kind, id } => format!("No {kind} was found with id {id}."),
            Self::MalformedJson(why) => sentence(format!("The request body could not be read as a JSON object: {why}")),
            Self::FormParamMissing(param) => format!("{param} is missing."),
            Self::FormParamUnknown(param) => format!("{param} is not a valid parameter for this request."),
            Self::FormParamInvalid { param, message } => sentence(format!("{param} is invalid: {message}")),
            Self::IdentifierExists(param) => format!("{param} is taken. Please try another."),
            Self::SessionNotActive { id, status } => format!("Session {id} is {status}, not active."),
            Self::RefreshTokenInvalid => "The refresh token does not belong to this session.".into(),
            Self::PayloadTooLarge(limit) => format!("The request body is larger than {limit} bytes."),
            Self::ControlForbidden(why) => sentence((*why).to_owned()),
            Self::InjectedFault(status) => format!("A fault injected through the control API answered {status}."),
            Self::KeyRing(why) => sentence(format!("The key ring could not be changed: {why}")),
            Self::AlreadyMember { organization_id, user_id } => format!("User {user_id} is already a member of organization {organization_id}."),
            Self::MembershipQuotaExceeded(org) => format!("Organization {org} has reached its maximum number of memberships."),
            Self::MetadataTooLarge { param, size } => format!("{param} is {size} bytes; metadata may be at most 8 KB."),
            Self::Machine(e) => e.long_message(),
        }
    }

    fn meta(&self) -> Value {
        match self {
            Self::FormParamMissing(p) | Self::FormParamUnknown(p) | Self::IdentifierExists(p) => {
                json!({"param_name": p})
            }
            Self::FormParamInvalid { param, .. } | Self::MetadataTooLarge { param, .. } => json!({"param_name": param}),
            Self::ResourceNotFound { kind: "organization", id } | Self::MembershipQuotaExceeded(id) => json!({"organization_id": id}),
            Self::ResourceNotFound { kind: "session", id } | Self::SessionNotActive { id, .. } => {
                json!({"session_id": id})
            }
            Self::ResourceNotFound { kind: "user", id } => json!({"user_id": id}),
            Self::Machine(e) => e.meta(),
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
            StoreError::NotFound { kind, id } => Self::ResourceNotFound { kind, id },
            StoreError::AlreadyMember { organization_id, user_id } => Self::AlreadyMember { organization_id, user_id },
            StoreError::MembershipQuotaExceeded(org) => Self::MembershipQuotaExceeded(org),
            StoreError::MetadataTooLarge { param, size } => Self::MetadataTooLarge { param: param.into(), size },
        }
    }
}

/// `text` ending with one full stop.
fn sentence(text: String) -> String {
    if text.ends_with(['.', '!', '?']) { text } else { text + "." }
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

    fn long(e: ApiError) -> String {
        e.envelope()["errors"][0]["long_message"].as_str().unwrap().to_owned()
    }

    #[test]
    fn long_messages_keep_parameter_names_as_they_are() {
        assert_eq!(long(ApiError::FormParamMissing("user_id".into())), "user_id is missing.");
        assert_eq!(long(ApiError::IdentifierExists("email_address".into())), "email_address is taken. Please try another.");
        assert_eq!(long(ApiError::FormParamUnknown("x".into())), "x is not a valid parameter for this request.");
        assert_eq!(
            long(ApiError::FormParamInvalid { param: "limit".into(), message: "limit must be between 1 and 500".into() }),
            "limit is invalid: limit must be between 1 and 500."
        );
        assert_eq!(long(ApiError::SessionNotActive { id: "sess_1".into(), status: "revoked".into() }), "Session sess_1 is revoked, not active.");
    }

    #[test]
    fn every_long_message_is_one_sentence() {
        for e in [
            ApiError::AuthorizationHeaderMissing,
            ApiError::SecretKeyInvalid,
            ApiError::RouteNotFound("/x".into()),
            ApiError::MethodNotAllowed,
            ApiError::ResourceNotFound { kind: "user", id: "user_1".into() },
            ApiError::MalformedJson("EOF while parsing a value at line 1 column 1".into()),
            ApiError::FormParamMissing("a".into()),
            ApiError::FormParamUnknown("a".into()),
            ApiError::FormParamInvalid { param: "a".into(), message: "bad.".into() },
            ApiError::IdentifierExists("username".into()),
            ApiError::SessionNotActive { id: "sess_1".into(), status: "ended".into() },
            ApiError::RefreshTokenInvalid,
            ApiError::PayloadTooLarge(1),
            ApiError::ControlForbidden("The control API only answers loopback callers"),
            ApiError::InjectedFault(StatusCode::SERVICE_UNAVAILABLE),
            ApiError::KeyRing("RSA key generation failed".into()),
            ApiError::AlreadyMember { organization_id: "org_1".into(), user_id: "user_1".into() },
            ApiError::MembershipQuotaExceeded("org_1".into()),
            ApiError::MetadataTooLarge { param: "public_metadata".into(), size: 9000 },
        ] {
            let text = long(e.clone());
            assert!(text.ends_with('.') && !text.ends_with(".."), "{e:?}: {text:?}");
        }
    }

    #[test]
    fn not_found_meta_names_the_id() {
        let meta = |e: ApiError| e.envelope()["errors"][0]["meta"].clone();
        assert_eq!(meta(ApiError::ResourceNotFound { kind: "user", id: "user_1".into() }), json!({"user_id": "user_1"}));
        assert_eq!(meta(ApiError::ResourceNotFound { kind: "session", id: "sess_1".into() }), json!({"session_id": "sess_1"}));
    }
}
