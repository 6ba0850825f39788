//! `GET /v1/tickets/accept?ticket=…[&redirect_url=…]`: where a sign-in or actor token's `url` points. As
//! Clerk's does for these tickets (`fapi/2026-05-12.yml` `acceptTicket`; clerk-js lists the path among the
//! Frontend API's redirect flows), it checks the ticket and redirects the browser to the app's sign-in page
//! with `__clerk_ticket=<ticket>`, where `<SignIn/>` redeems it (`signIn.create({strategy: "ticket"})`,
//! `SignInStart.tsx`). The ticket is used there, not here, so a link opened twice before signing in still
//! works once.

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::FapiError;
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;

/// The ticket URL's path.
pub const TICKET_ACCEPT_PATH: &str = "/v1/tickets/accept";
/// The query parameter `<SignIn/>` reads the ticket from.
pub const TICKET_PARAM: &str = "__clerk_ticket";

/// The URL a Backend API ticket resource gives (`url`).
pub fn ticket_url(state: &AppState, ticket: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("ticket", ticket).finish();
    format!("{}{TICKET_ACCEPT_PATH}?{query}", state.settings().base_url)
}

/// Where to send the browser: `redirect_url` if given, else the app's sign-in page (`--sign-in-url`).
fn target(state: &AppState, redirect_url: Option<String>) -> Result<url::Url, FapiError> {
    let (param, raw) = match redirect_url {
        Some(u) => ("redirect_url", u),
        None => ("sign_in_url", state.fapi().sign_in_url().ok_or(FapiError::SignInUrlMissing)?),
    };
    url::Url::parse(&raw).ok().filter(|u| matches!(u.scheme(), "http" | "https")).ok_or_else(|| {
        crate::error::ApiError::FormParamInvalid { param: param.into(), message: format!("{raw:?} is not an absolute http(s) URL") }.into()
    })
}

/// `GET /v1/tickets/accept`.
pub(super) async fn accept(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, FapiError> {
    let pairs = query_pairs(query.as_deref());
    let ticket = query_one(&pairs, "ticket").ok_or_else(|| crate::error::ApiError::FormParamMissing("ticket".into()))?;
    let now = state.clock().now_ms();
    state.fapi().tickets().check(&ticket, now)?;
    let mut to = target(&state, query_one(&pairs, "redirect_url"))?;
    to.query_pairs_mut().append_pair(TICKET_PARAM, &ticket);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let location = HeaderValue::from_str(to.as_str()).map_err(|_| FapiError::SignInUrlMissing)?;
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
