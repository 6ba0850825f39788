//! The Frontend API's errors: the same envelope as the Backend API (`{"errors":[…],"clerk_trace_id"}`), with the
//! codes `<SignIn/>` and `<SignUp/>` know how to show (`packages/shared/src/errors`, the UI's localizations
//! `unstable__errors`). Statuses follow Clerk: form errors are 422, a missing resource 404, and 401 only for a
//! signed-out browser (clerk-js signs the browser out on any other 401).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{ApiError, json_response};
use crate::ids::{new_id, prefix};

/// Why a Frontend API call was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FapiError {
    /// The shared errors (malformed input, not found, …).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// No user has this identifier.
    #[error("identifier not found")]
    IdentifierNotFound,
    /// Wrong password.
    #[error("password incorrect")]
    PasswordIncorrect,
    /// Wrong verification code.
    #[error("code incorrect")]
    CodeIncorrect,
    /// Too many wrong codes, or an expired one.
    #[error("verification failed")]
    VerificationFailed,
    /// The strategy is not one this attempt supports.
    #[error("strategy {0} not allowed")]
    StrategyNotAllowed(String),
    /// The step comes too early (attempt before prepare, prepare before an identifier).
    #[error("{0}")]
    NotReady(&'static str),
    /// A password shorter than 8 characters.
    #[error("password too short")]
    PasswordTooShort,
    /// An OAuth callback or consent with an unknown, spent or tampered `state` (no pending sign-in).
    #[error("oauth state invalid")]
    OAuthStateInvalid,
    /// `transfer` with no transferable sign-in on the client.
    #[error("nothing to transfer")]
    NothingToTransfer,
    /// The email address belongs to another user.
    #[error("email taken")]
    EmailTaken,
    /// The browser has no client, or the session is not one of its active sessions.
    #[error("signed out")]
    SignedOut,
    /// A ticket that is not this instance's, unknown, revoked or already used.
    #[error("ticket invalid")]
    TicketInvalid,
    /// A ticket past its expiry.
    #[error("ticket expired")]
    TicketExpired,
    /// A ticket URL opened with no `redirect_url` while mock-clerk does not know the app's sign-in page.
    #[error("sign-in URL missing")]
    SignInUrlMissing,
    /// A bundle path outside the package, or a package mock-clerk does not serve.
    #[error("bundle {0} not found")]
    BundleNotFound(String),
    /// The bundles are not installed.
    #[error("bundles not installed at {0}")]
    BundlesMissing(String),
}

impl FapiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Api(e) => e.status(),
            Self::SignedOut => StatusCode::UNAUTHORIZED,
            Self::BundleNotFound(_) | Self::BundlesMissing(_) => StatusCode::NOT_FOUND,
            Self::NotReady(_)
            | Self::OAuthStateInvalid
            | Self::NothingToTransfer
            | Self::TicketInvalid
            | Self::TicketExpired
            | Self::SignInUrlMissing => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    /// The envelope body.
    pub fn envelope(&self) -> Value {
        let (code, message, long_message, meta) = match self {
            Self::Api(e) => return e.envelope(),
            Self::IdentifierNotFound => (
                "form_identifier_not_found",
                "Couldn't find your account.",
                "Couldn't find your account.".to_owned(),
                json!({"param_name": "identifier"}),
            ),
            Self::PasswordIncorrect => (
                "form_password_incorrect",
                "Password is incorrect. Try again, or use another method.",
                "Password is incorrect. Try again, or use another method.".to_owned(),
                json!({"param_name": "password"}),
            ),
            Self::CodeIncorrect => ("form_code_incorrect", "is incorrect", "Incorrect code".to_owned(), json!({"param_name": "code"})),
            Self::VerificationFailed => (
                "verification_failed",
                "failed",
                "Too many failed attempts. You have to try again with the same or another method.".to_owned(),
                json!({"param_name": "code"}),
            ),
            Self::StrategyNotAllowed(s) => (
                "strategy_for_user_invalid",
                "is invalid",
                format!("The verification strategy {s} is not valid for this account."),
                json!({"param_name": "strategy"}),
            ),
            Self::NotReady(why) => ("verification_not_ready", "is not ready", (*why).to_owned(), json!({})),
            Self::PasswordTooShort => (
                "form_password_length_too_short",
                "Passwords must be 8 characters or more.",
                "Passwords must be 8 characters or more.".to_owned(),
                json!({"param_name": "password"}),
            ),
            Self::EmailTaken => (
                "form_identifier_exists",
                "That email address is taken. Please try another.",
                "That email address is taken. Please try another.".to_owned(),
                json!({"param_name": "email_address"}),
            ),
            Self::OAuthStateInvalid => (
                "oauth_callback_invalid",
                "is invalid",
                "The OAuth state is unknown, already used or altered: no sign-in is waiting for it. Start the sign-in again.".to_owned(),
                json!({"param_name": "state"}),
            ),
            Self::NothingToTransfer => (
                "transfer_invalid",
                "is invalid",
                "There is no transferable sign-in on this client: sign in with the provider first.".to_owned(),
                json!({"param_name": "transfer"}),
            ),
            Self::SignedOut => {
                ("signed_out", "Signed out", "You are signed out: this browser has no active session with that id.".to_owned(), json!({}))
            }
            Self::TicketInvalid => (
                "ticket_invalid_code",
                "is invalid",
                "This ticket is invalid. Make sure you're using a valid ticket generated by Clerk.".to_owned(),
                json!({"param_name": "ticket"}),
            ),
            Self::TicketExpired => ("ticket_expired_code", "is expired", "This ticket has expired.".to_owned(), json!({"param_name": "ticket"})),
            Self::SignInUrlMissing => (
                "sign_in_url_missing",
                "is missing",
                "mock-clerk does not know the app's sign-in page: start it with --sign-in-url, or add redirect_url to the ticket URL.".to_owned(),
                json!({"param_name": "redirect_url"}),
            ),
            Self::BundleNotFound(path) => ("resource_not_found", "not found", format!("No bundle file exists at {path}."), json!({})),
            Self::BundlesMissing(dir) => (
                "resource_not_found",
                "not found",
                format!("The Clerk browser bundles are not installed in {dir}: run `npm ci --prefix fixtures/clerk-bundles` or pass --bundle-dir."),
                json!({}),
            ),
        };
        json!({
            "errors": [{"code": code, "message": message, "long_message": long_message, "meta": meta}],
            "clerk_trace_id": new_id(prefix::TRACE),
        })
    }
}

impl IntoResponse for FapiError {
    fn into_response(self) -> Response {
        json_response(self.status(), &self.envelope())
    }
}

impl From<crate::tickets::TicketError> for FapiError {
    fn from(e: crate::tickets::TicketError) -> Self {
        match e {
            crate::tickets::TicketError::Expired => Self::TicketExpired,
            _ => Self::TicketInvalid,
        }
    }
}

impl From<crate::store::StoreError> for FapiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::IdentifierTaken { param: "email_address", .. } => Self::EmailTaken,
            crate::store::StoreError::InvalidParam { param: "password", .. } => Self::PasswordTooShort,
            other => Self::Api(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_are_422_with_clerks_codes() {
        for (e, code) in [
            (FapiError::PasswordIncorrect, "form_password_incorrect"),
            (FapiError::CodeIncorrect, "form_code_incorrect"),
            (FapiError::IdentifierNotFound, "form_identifier_not_found"),
        ] {
            assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(e.envelope()["errors"][0]["code"], code);
        }
        assert_eq!(FapiError::SignedOut.status(), StatusCode::UNAUTHORIZED);
        assert!(FapiError::BundlesMissing("x".into()).envelope()["errors"][0]["long_message"].as_str().unwrap().contains("npm ci"));
    }
}
