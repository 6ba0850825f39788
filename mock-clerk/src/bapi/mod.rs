//! Backend API routes under `/v1`, answered as `api.clerk.com` answers `@clerk/backend`
//! (`packages/backend/src/api/endpoints/*.ts`). Every route needs `Authorization: Bearer <secret key>`.

/// The Backend API JWKS path.
pub const JWKS_PATH: &str = "/v1/jwks";

mod clients;
mod jwks;
mod jwt_templates;
mod machines;
pub mod org_views;
mod organizations;
mod phone_numbers;
mod roles;
mod sessions;
mod tickets;
mod users;
pub mod views;

pub use jwks::jwks_response;
pub use jwt_templates::mint_template_token;
pub use machines::{Caller, caller, create_m2m_token, issue_oauth_token};

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use futures_util::future::Either;
use tower::{Layer, Service};

use crate::error::ApiError;
use crate::state::AppState;

/// The Backend API paths, each behind the secret-key check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(JWKS_PATH, get(jwks::get_jwks))
        .route("/v1/users", get(users::list).post(users::create))
        .route("/v1/users/count", get(users::count))
        .route("/v1/users/{id}", get(users::get_one).delete(users::delete).patch(users::update))
        .route("/v1/users/{id}/metadata", patch(users::update_metadata).put(users::replace_metadata))
        .route("/v1/users/{id}/oauth_access_tokens/{provider}", get(users::oauth_access_tokens))
        .route("/v1/phone_numbers/{id}", get(phone_numbers::get_one).patch(phone_numbers::update))
        .route("/v1/sessions", get(sessions::list).post(sessions::create))
        .route("/v1/sessions/{id}", get(sessions::get_one))
        .route("/v1/sessions/{id}/revoke", post(sessions::revoke))
        .route("/v1/sessions/{id}/refresh", post(sessions::refresh))
        .route("/v1/clients/handshake_payload", get(clients::handshake_payload))
        .route("/v1/sessions/{id}/tokens", post(sessions::token))
        .route("/v1/sessions/{id}/tokens/{template}", post(sessions::template_token))
        .route("/v1/sign_in_tokens", post(tickets::create_sign_in_token))
        .route("/v1/sign_in_tokens/{id}/revoke", post(tickets::revoke_sign_in_token))
        .route("/v1/actor_tokens", post(tickets::create_actor_token))
        .route("/v1/actor_tokens/{id}/revoke", post(tickets::revoke_actor_token))
        .route("/v1/testing_tokens", post(tickets::create_testing_token))
        .route("/v1/organizations", get(organizations::list).post(organizations::create))
        .route("/v1/organizations/{id}", get(organizations::get_one).patch(organizations::update).delete(organizations::delete))
        .route("/v1/organizations/{id}/metadata", patch(organizations::merge_metadata).put(organizations::replace_metadata))
        .route("/v1/organizations/{id}/memberships", get(organizations::list_memberships).post(organizations::create_membership))
        .route("/v1/organizations/{id}/memberships/{user_id}", patch(organizations::update_membership).delete(organizations::delete_membership))
        .route("/v1/organizations/{id}/memberships/{user_id}/metadata", patch(organizations::merge_membership_metadata))
        .route("/v1/organizations/{id}/invitations", get(organizations::list_invitations).post(organizations::create_invitation))
        .route("/v1/organizations/{id}/invitations/{invitation_id}", get(organizations::get_invitation))
        .route("/v1/organizations/{id}/invitations/{invitation_id}/revoke", post(organizations::revoke_invitation))
        .route("/v1/users/{id}/organization_memberships", get(organizations::user_memberships))
        .route("/v1/organization_roles", get(roles::list_roles).post(roles::create_role))
        .route("/v1/organization_roles/{id}", get(roles::get_role))
        .route("/v1/organization_roles/{id}/permissions/{permission_id}", post(roles::add_permission).delete(roles::remove_permission))
        .route("/v1/organization_permissions", get(roles::list_permissions).post(roles::create_permission))
        .route("/v1/machines", get(machines::list_machines).post(machines::create_machine))
        .route("/v1/machines/{id}", get(machines::get_machine).patch(machines::update_machine).delete(machines::delete_machine))
        .route("/v1/machines/{id}/secret_key", get(machines::machine_secret_key))
        .route("/v1/machines/{id}/scopes", post(machines::create_scope))
        .route("/v1/machines/{id}/scopes/{other_id}", delete(machines::delete_scope))
        .route("/v1/jwt_templates", get(jwt_templates::list).post(jwt_templates::create))
        .route("/v1/jwt_templates/{id}", get(jwt_templates::get_one).patch(jwt_templates::update).delete(jwt_templates::delete))
        .route_layer(RequireSecretKey(state))
        // Machine-token routes check their caller themselves (a machine secret key may call some).
        .merge(machines::token_routes())
        .nest("/v1", machines::token_routes())
}

/// The secret-key check as a route layer: a refused call is answered at once, an allowed one goes on to its route
/// as it is (no boxed future, no cloned service per request, as `middleware::from_fn` would make).
#[derive(Clone)]
struct RequireSecretKey(AppState);

impl<S> Layer<S> for RequireSecretKey {
    type Service = SecretKeyChecked<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SecretKeyChecked { inner, state: self.0.clone() }
    }
}

#[derive(Clone)]
struct SecretKeyChecked<S> {
    inner: S,
    state: AppState,
}

impl<S: Service<Request, Response = Response, Error = Infallible>> Service<Request> for SecretKeyChecked<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match check_secret_key(&self.state, req.headers()) {
            Ok(()) => Either::Right(self.inner.call(req)),
            Err(refused) => Either::Left(ready(Ok(refused.into_response()))),
        }
    }
}

/// `Authorization: Bearer <secret key>` (`packages/backend/src/api/request.ts`): no header is
/// [`ApiError::AuthorizationHeaderMissing`], anything but this instance's secret key [`ApiError::SecretKeyInvalid`].
/// Every Backend API answer passes it first, the 405 for a method a route lacks included.
pub fn check_secret_key(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers.get(header::AUTHORIZATION).ok_or(ApiError::AuthorizationHeaderMissing)?.to_str().map_err(|_| ApiError::SecretKeyInvalid)?;
    let token = given.strip_prefix("Bearer ").ok_or(ApiError::SecretKeyInvalid)?;
    if !constant_time_eq(token.trim().as_bytes(), state.instance().secret_key().as_bytes()) {
        return Err(ApiError::SecretKeyInvalid);
    }
    Ok(())
}

/// Whether `path` is a Backend API path: under `/v1/`, except the Frontend API paths that share the prefix
/// ([`crate::fapi::is_frontend_path`]: the handshake, `/v1/client…`, `/v1/environment`, `/v1/me…`, …).
pub fn is_backend_path(path: &str) -> bool {
    (path.starts_with("/v1/") && !crate::fapi::is_frontend_path(path)) || machines::is_token_path(path)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::is_backend_path;

    #[test]
    fn backend_paths_are_v1_but_the_handshake() {
        assert!(is_backend_path("/v1/users"));
        assert!(is_backend_path("/v1/sessions/sess_1/tokens"));
        assert!(!is_backend_path(crate::fapi::handshake::HANDSHAKE_PATH));
        assert!(!is_backend_path("/.well-known/jwks.json"));
        assert!(!is_backend_path("/__mock/instance"));
        assert!(!is_backend_path("/v1/client/sign_ins"));
        assert!(is_backend_path("/v1/clients/handshake_payload"));
        assert!(is_backend_path("/m2m_tokens/verify") && is_backend_path("/api_keys") && is_backend_path("/v1/api_keys/verify"));
        assert!(is_backend_path("/oauth_applications/access_tokens/verify") && !is_backend_path("/oauth_applications"));
    }
}
