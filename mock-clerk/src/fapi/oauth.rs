//! Social sign-in without the internet: the providers enabled on the instance (`--oauth-provider google,github`),
//! their logos, and the OAuth round trip clerk-js drives (`SignIn.authenticateWithRedirect`,
//! `Clerk.handleRedirectCallback`), with mock-clerk playing the provider:
//!
//! 1. `POST /v1/client/sign_ins` `strategy=oauth_google&redirect_url=…` → the first factor is `unverified` with
//!    `external_verification_redirect_url` = mock-clerk's consent page, carrying a `state` tied to the sign-in.
//! 2. `GET /oauth/consent?state=…` (HTML): pick one of the instance's users or type an identity; Allow or Deny
//!    posts to `POST /oauth/consent`, which sends the browser on to the callback as a provider would
//!    (`?state=…&code=…`, or `?state=…&error=access_denied`).
//! 3. `GET /v1/oauth_callback` resolves the sign-in — an existing user with that external account or that
//!    email address is linked and signed in; an unknown one makes the verification `transferable` (clerk-js then
//!    calls `signUp.create({transfer: true})`); a denial fails it with `oauth_access_denied` — and redirects to
//!    the sign-in's `redirect_url` (the SSO callback of `<SignIn/>`).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::FapiError;
use super::form::Form;
use crate::error::ApiError;
use crate::external::{ExternalAccount, Identity};
use crate::extract::{query_one, query_pairs};
use crate::state::AppState;

/// Where providers send the browser back (Clerk's own path).
pub const CALLBACK_PATH: &str = "/v1/oauth_callback";
/// mock-clerk's consent page (the "provider").
pub const CONSENT_PATH: &str = "/oauth/consent";
/// Provider logos: `/img/oauth/google.svg` (served by mock-clerk: the UI must not reach `img.clerk.com`).
pub const LOGO_PREFIX: &str = "/img/oauth/";
/// The `error` a provider sends when the user denies consent (RFC 6749 §4.1.2.1).
pub const ACCESS_DENIED: &str = "access_denied";

/// The consent page's controls, for tests that drive it.
pub mod consent {
    /// The list of the instance's users (value: a user id; empty: the typed identity).
    pub const USER_SELECT: &str = "select[name=user_id]";
    /// The typed identity's email address.
    pub const EMAIL: &str = "input[name=email]";
    /// The typed identity's first name.
    pub const FIRST_NAME: &str = "input[name=first_name]";
    /// The typed identity's last name.
    pub const LAST_NAME: &str = "input[name=last_name]";
    /// "Allow".
    pub const ALLOW: &str = "button[name=decision][value=allow]";
    /// "Deny".
    pub const DENY: &str = "button[name=decision][value=deny]";
    /// The page's heading (names the provider).
    pub const HEADING: &str = "h1#consent-heading";
}

/// A social provider mock-clerk can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    /// `google` (the strategy is `oauth_google`).
    pub id: &'static str,
    /// `Google`, as `<SignIn/>` names it.
    pub name: &'static str,
    /// The logo's colour.
    pub color: &'static str,
}

/// The providers mock-clerk knows (the ones Clerk's documentation names first).
pub const PROVIDERS: [ProviderInfo; 8] = [
    ProviderInfo { id: "google", name: "Google", color: "#4285F4" },
    ProviderInfo { id: "github", name: "GitHub", color: "#24292F" },
    ProviderInfo { id: "microsoft", name: "Microsoft", color: "#00A4EF" },
    ProviderInfo { id: "facebook", name: "Facebook", color: "#1877F2" },
    ProviderInfo { id: "apple", name: "Apple", color: "#000000" },
    ProviderInfo { id: "gitlab", name: "GitLab", color: "#FC6D26" },
    ProviderInfo { id: "discord", name: "Discord", color: "#5865F2" },
    ProviderInfo { id: "linkedin_oidc", name: "LinkedIn", color: "#0A66C2" },
];

/// A known provider by id (`google`).
pub fn provider_info(id: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.id == id)
}

/// Parses provider names (`google`, `oauth_github`, comma lists), rejecting unknown ones.
///
/// ```
/// use mock_clerk::fapi::oauth::parse_providers;
/// assert_eq!(parse_providers(["google,oauth_github", "google"]).unwrap(), vec!["google", "github"]);
/// assert!(parse_providers(["myspace"]).unwrap_err().contains("myspace"));
/// ```
pub fn parse_providers<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in items.into_iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let id = name.strip_prefix("oauth_").unwrap_or(name);
        if provider_info(id).is_none() {
            let known: Vec<&str> = PROVIDERS.iter().map(|p| p.id).collect();
            return Err(format!("unknown OAuth provider {name:?} (known: {})", known.join(", ")));
        }
        if !out.iter().any(|p| p == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

/// A sign-in's trip through the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthFlow {
    /// `google`.
    pub provider: String,
    /// The `state` the provider hands back: random, one sign-in's.
    pub state: String,
    /// Where the callback sends the browser (clerk-js's SSO callback).
    pub redirect_url: String,
    /// Where clerk-js goes once everything is done.
    pub action_complete_redirect_url: Option<String>,
    /// The code the consent page issued, awaiting the callback.
    pub code: Option<String>,
    /// Who consented: kept for the sign-up transfer while the verification is `transferable`.
    pub identity: Option<Identity>,
    /// The verification's error (`oauth_access_denied`, `external_account_not_found`).
    pub error: Option<Value>,
    /// The callback came back: the state is spent.
    pub done: bool,
}

/// The instance's `user_settings.social` (`OAuthProviderSettings` by strategy).
pub fn social_settings(state: &AppState) -> Value {
    let base = &state.settings().base_url;
    let entries = state.fapi().oauth_providers().into_iter().filter_map(|id| provider_info(&id)).map(|p| {
        let strategy = format!("oauth_{}", p.id);
        let settings = json!({
            "enabled": true,
            "required": false,
            "authenticatable": true,
            "block_email_subaddresses": false,
            "strategy": strategy,
            "name": p.name,
            "logo_url": format!("{base}{LOGO_PREFIX}{}.svg", p.id),
        });
        (strategy, settings)
    });
    Value::Object(entries.collect())
}

/// Starts the trip for `POST /v1/client/sign_ins` with `strategy=oauth_<provider>`: the provider must be
/// enabled and `redirect_url` an http(s) URL. Nothing is created when this fails.
pub fn begin(state: &AppState, strategy: &str, form: &Form) -> Result<OAuthFlow, FapiError> {
    let provider = strategy.strip_prefix("oauth_").unwrap_or_default();
    if !state.fapi().oauth_providers().iter().any(|p| p == provider) {
        return Err(ApiError::FormParamInvalid { param: "strategy".into(), message: format!("{strategy} is not enabled on this instance") }.into());
    }
    let redirect_url = form.require("redirect_url")?;
    let parsed = url::Url::parse(redirect_url).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
    if parsed.is_none() {
        return Err(ApiError::FormParamInvalid { param: "redirect_url".into(), message: "must be an absolute http(s) URL".into() }.into());
    }
    Ok(OAuthFlow {
        provider: provider.to_owned(),
        state: crate::ids::new_id("oauth_state"),
        redirect_url: redirect_url.to_owned(),
        action_complete_redirect_url: form.get("action_complete_redirect_url").map(str::to_owned),
        code: None,
        identity: None,
        error: None,
        done: false,
    })
}

/// The consent page's URL for a flow (the verification's `external_verification_redirect_url`).
pub fn consent_url(state: &AppState, flow: &OAuthFlow) -> String {
    format!("{}{CONSENT_PATH}?state={}", state.settings().base_url, flow.state)
}

/// An error object as a verification carries it.
fn verification_error(code: &str, message: &str, long_message: &str) -> Value {
    json!({"code": code, "message": message, "long_message": long_message, "meta": {}})
}

/// The state is unknown, spent or tampered with (or the callback carries no pending sign-in).
fn state_invalid() -> FapiError {
    FapiError::OAuthStateInvalid
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /img/oauth/{provider}.svg`: a plain logo (a coloured tile with the initial).
pub(super) async fn logo(Path(file): Path<String>) -> Result<Response, FapiError> {
    let p = file.strip_suffix(".svg").and_then(provider_info).ok_or_else(|| FapiError::BundleNotFound(format!("{LOGO_PREFIX}{file}")))?;
    let initial = p.name.chars().next().unwrap_or('?');
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24"><rect width="24" height="24" rx="5" fill="{}"/><text x="12" y="17" font-family="sans-serif" font-size="14" font-weight="bold" fill="#fff" text-anchor="middle">{initial}</text></svg>"##,
        p.color
    );
    let mut r = svg.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    Ok(r)
}

/// The pending flow with this state: its sign-in id and provider.
fn pending(state: &AppState, oauth_state: &str) -> Result<(String, String), FapiError> {
    let attempts = state.fapi().attempts();
    attempts
        .sign_ins
        .values()
        .find_map(|a| a.oauth.as_ref().filter(|f| f.state == oauth_state && !f.done).map(|f| (a.id.clone(), f.provider.clone())))
        .ok_or_else(state_invalid)
}

/// `GET /oauth/consent?state=…`: the provider's consent page.
pub(super) async fn consent_page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, FapiError> {
    let oauth_state = query_one(&query_pairs(query.as_deref()), "state").ok_or_else(state_invalid)?;
    let (_, provider) = pending(&state, &oauth_state)?;
    let name = provider_info(&provider).map_or(provider.as_str(), |p| p.name);
    let options: String = {
        let store = state.store();
        store
            .users(&crate::store::UserQuery::default(), 0, 100)
            .into_iter()
            .filter_map(|u| u.email_addresses.first().map(|(_, e)| (u.id.to_string(), e.clone())))
            .map(|(id, email)| format!(r#"<option value="{}">{}</option>"#, escape(&id), escape(&email)))
            .collect()
    };
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in with {name} (mock-clerk)</title></head>
<body style="font-family:sans-serif;max-width:28rem;margin:3rem auto">
<h1 id="consent-heading">Sign in with {name}</h1>
<p>mock-clerk plays {name} here: choose who signs in. Nothing leaves this machine.</p>
<form method="post" action="{CONSENT_PATH}">
<input type="hidden" name="state" value="{state_attr}">
<p><label>An existing user <select name="user_id"><option value="">— type an identity below —</option>{options}</select></label></p>
<p><label>Email address <input name="email" type="email" autocomplete="off"></label></p>
<p><label>First name <input name="first_name" autocomplete="off"></label></p>
<p><label>Last name <input name="last_name" autocomplete="off"></label></p>
<p><button type="submit" name="decision" value="allow">Allow</button> <button type="submit" name="decision" value="deny" formnovalidate>Deny</button></p>
</form></body></html>"#,
        name = escape(name),
        state_attr = escape(&oauth_state),
    );
    let mut r = Html(html).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `POST /oauth/consent`: Allow (with a picked user or a typed identity) or Deny; the browser goes on to the
/// callback as a provider would send it.
pub(super) async fn consent_decision(State(state): State<AppState>, form: Form) -> Result<Response, FapiError> {
    let oauth_state = form.get("state").ok_or_else(state_invalid)?.to_owned();
    let (sign_in_id, _) = pending(&state, &oauth_state)?;
    let callback = format!("{}{CALLBACK_PATH}?state={}", state.settings().base_url, oauth_state);
    match form.require("decision")? {
        "deny" => return Ok(redirect(&format!("{callback}&error={ACCESS_DENIED}&error_description=The+user+denied+access"))),
        "allow" => {}
        other => return Err(ApiError::FormParamInvalid { param: "decision".into(), message: format!("{other:?} is neither allow nor deny") }.into()),
    }
    let identity = match form.get("user_id") {
        Some(user_id) => {
            let store = state.store();
            let user = store.user(user_id).map_err(|_| ApiError::ResourceNotFound { kind: "user", id: user_id.to_owned() })?;
            let (_, email) = user.email_addresses.first().ok_or_else(|| ApiError::FormParamInvalid {
                param: "user_id".into(),
                message: "this user has no email address for the provider to vouch for".into(),
            })?;
            Identity {
                email_address: email.clone(),
                first_name: user.first_name.clone().unwrap_or_default(),
                last_name: user.last_name.clone().unwrap_or_default(),
            }
        }
        None => {
            let email = form.require("email")?.trim();
            if !crate::store::is_plausible_email(email) {
                return Err(ApiError::FormParamInvalid { param: "email".into(), message: "must be a valid email address".into() }.into());
            }
            Identity {
                email_address: email.to_owned(),
                first_name: form.get("first_name").unwrap_or_default().trim().to_owned(),
                last_name: form.get("last_name").unwrap_or_default().trim().to_owned(),
            }
        }
    };
    let code = crate::ids::new_id("code");
    {
        let mut attempts = state.fapi().attempts();
        let flow = attempts.sign_ins.get_mut(&sign_in_id).and_then(|a| a.oauth.as_mut()).ok_or_else(state_invalid)?;
        flow.code = Some(code.clone());
        flow.identity = Some(identity);
    }
    Ok(redirect(&format!("{callback}&code={code}")))
}

/// `POST /v1/oauth_callback` (providers such as Apple post): to the `GET` with the same parameters.
pub(super) async fn callback_post(State(state): State<AppState>, form: Form) -> Response {
    let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form.0.iter()).finish();
    redirect(&format!("{}{CALLBACK_PATH}?{query}", state.settings().base_url))
}

/// `GET /v1/oauth_callback?state=…&code=…` (or `&error=…`): resolves the sign-in and sends the browser to its
/// `redirect_url`.
pub(super) async fn callback(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, FapiError> {
    let pairs = query_pairs(query.as_deref());
    let oauth_state = query_one(&pairs, "state").ok_or_else(state_invalid)?;
    let (sign_in_id, provider) = pending(&state, &oauth_state)?;
    let now = state.clock().now_ms();
    let mut store = state.store();
    let mut attempts = state.fapi().attempts();
    let attempt = attempts.sign_ins.get_mut(&sign_in_id).ok_or_else(state_invalid)?;
    let client_id = attempt.client_id.clone();
    let Some(flow) = attempt.oauth.as_mut().filter(|f| !f.done) else { return Err(state_invalid()) };
    if let Some(error) = query_one(&pairs, "error") {
        flow.error = Some(if error == ACCESS_DENIED {
            verification_error("oauth_access_denied", "Access denied", "You did not grant access to your account.")
        } else {
            verification_error("oauth_token_exchange_error", "OAuth error", &format!("The provider answered with the error {error:?}."))
        });
        flow.done = true;
        flow.code = None;
        let to = flow.redirect_url.clone();
        if let Some(v) = attempt.first_factor.as_mut() {
            v.status = "failed";
        }
        return Ok(redirect(&to));
    }
    let code = query_one(&pairs, "code").ok_or_else(state_invalid)?;
    if flow.code.as_deref() != Some(code.as_str()) {
        return Err(state_invalid());
    }
    let identity = flow.identity.clone().ok_or_else(state_invalid)?;
    flow.done = true;
    flow.code = None;
    let to = flow.redirect_url.clone();
    let account = ExternalAccount::new(&provider, &identity, now);
    let existing = store
        .user_by_external_account(&provider, &account.provider_user_id)
        .or_else(|| store.user_by_email(&identity.email_address))
        .map(|u| u.id.to_string());
    match existing {
        Some(user_id) => {
            store.link_external_account(&user_id, account, now)?;
            let session = store.create_session_on_client(&user_id, &client_id, now)?;
            store.touch_client(&client_id, now);
            attempt.identifier = Some(identity.email_address.clone());
            attempt.user_id = Some(user_id);
            attempt.created_session_id = Some(session.id.to_string());
            if let Some(v) = attempt.first_factor.as_mut() {
                v.status = "verified";
            }
        }
        None => {
            if let Some(v) = attempt.first_factor.as_mut() {
                v.status = "transferable";
            }
            if let Some(flow) = attempt.oauth.as_mut() {
                flow.error =
                    Some(verification_error("external_account_not_found", "Invalid external account", "The External Account was not found."));
            }
        }
    }
    Ok(redirect(&to))
}

/// The identity of the client's current sign-in waiting to be transferred to a sign-up, and its provider
/// (`signUp.create({transfer: true})`); taken, so it transfers once, and the sign-in leaves the client.
pub fn take_transferable(attempts: &mut super::attempts::Attempts, client_id: &str) -> Option<(String, Identity)> {
    let id = attempts.current.get(client_id)?.0.clone()?;
    let attempt = attempts.sign_ins.get_mut(&id)?;
    if attempt.first_factor.as_ref().is_none_or(|v| v.status != "transferable") {
        return None;
    }
    let flow = attempt.oauth.as_mut()?;
    let identity = flow.identity.take()?;
    let provider = flow.provider.clone();
    if let Some(current) = attempts.current.get_mut(client_id) {
        current.0 = None;
    }
    Some((provider, identity))
}

/// The client's transferable identity, without taking it.
pub fn peek_transferable(attempts: &super::attempts::Attempts, client_id: &str) -> Option<(String, Identity)> {
    let (sign_in, _) = attempts.current_of(client_id);
    let attempt = sign_in.filter(|a| a.first_factor.as_ref().is_some_and(|v| v.status == "transferable"))?;
    let flow = attempt.oauth.as_ref()?;
    Some((flow.provider.clone(), flow.identity.clone()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse_with_or_without_the_prefix() {
        assert_eq!(parse_providers(["oauth_google", " github ,"]).unwrap(), vec!["google", "github"]);
        assert!(parse_providers(["google,nope"]).is_err());
        assert!(parse_providers([""]).unwrap().is_empty());
    }

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(escape(r#"<a href="x">'&"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
    }
}
