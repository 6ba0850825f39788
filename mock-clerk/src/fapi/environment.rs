//! `GET /v1/environment`: the instance's settings as clerk-js reads them (`EnvironmentJSON`,
//! `packages/clerk-js/src/core/resources/Environment.ts`). One fixed configuration, written down in
//! `environment.json`: email address + password, email-code verification at sign-up, optional first and last
//! name, single-session mode, no captcha, no social providers, no organizations or billing.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::Value;

use crate::error::ok_json;
use crate::instance::InstanceKind;
use crate::state::AppState;

fn template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| serde_json::from_str(include_str!("environment.json")).expect("environment.json is JSON"))
}

/// The environment of this instance.
pub fn environment_json(state: &AppState) -> Value {
    let mut env = template().clone();
    env["display_config"]["instance_environment_type"] = match state.instance().kind() {
        InstanceKind::Development => "development",
        InstanceKind::Production => "production",
    }
    .into();
    env["user_settings"]["social"] = super::oauth::social_settings(state);
    env
}

/// `GET /v1/environment` (and the `PATCH` clerk-js sends in development): never cached.
pub(super) async fn get(State(state): State<AppState>) -> Response {
    let mut response = ok_json(&environment_json(&state));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_has_what_clerk_js_reads() {
        let env = template();
        for key in
            ["auth_config", "display_config", "user_settings", "organization_settings", "commerce_settings", "api_keys_settings", "protect_config"]
        {
            assert!(env[key].is_object(), "{key}");
        }
        assert_eq!(env["user_settings"]["attributes"]["email_address"]["verifications"][0], "email_code");
    }
}
