//! The environment block a Next.js app needs to use mock-clerk (`.env.local`).

use crate::instance::Instance;

/// Where the app's sign-in and sign-up pages live (the documented app's paths).
pub const SIGN_IN_URL: &str = "/auth/sign-in";
/// See [`SIGN_IN_URL`].
pub const SIGN_UP_URL: &str = "/auth/sign-up";

/// Where `@clerk/nextjs` loads clerk-js from (`NEXT_PUBLIC_CLERK_JS_URL`, read by `mergeNextClerkPropsWithEnv`):
/// mock-clerk's copy of `@clerk/clerk-js` 6, never Clerk's CDN.
pub fn clerk_js_url(base_url: &str) -> String {
    format!("{base_url}{}", crate::fapi::bundles::script_path("clerk-js", "6", "clerk.browser.js"))
}

/// Where `@clerk/nextjs` loads Clerk's UI from (`NEXT_PUBLIC_CLERK_UI_URL`).
pub fn clerk_ui_url(base_url: &str) -> String {
    format!("{base_url}{}", crate::fapi::bundles::script_path("ui", "1", "ui.browser.js"))
}

/// The variables, in the order `mock-clerk env` prints them.
///
/// ```
/// use mock_clerk::instance::{Instance, InstanceKind};
/// let i = Instance::new(InstanceKind::Development, "127.0.0.1:4010", "sk_test_x").unwrap();
/// let env = mock_clerk::env::env_vars(&i, "http://127.0.0.1:4010", true);
/// assert_eq!(env[0], ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY".to_string(), "pk_test_MTI3LjAuMC4xOjQwMTAk".to_string()));
/// ```
///
/// With `http_proxy_url`, `NEXT_PUBLIC_CLERK_PROXY_URL` points browsers at mock-clerk over plain http for the
/// handshake (`handshake.ts`: https is added only when the Frontend API value has no scheme). Without it, the
/// SDK sends browsers to `https://<frontend host>`, which mock-clerk serves when started with TLS.
/// `NEXT_PUBLIC_CLERK_JS_URL` and `NEXT_PUBLIC_CLERK_UI_URL` point at the bundles mock-clerk serves: without
/// them `loadClerkJsScript` builds `https://<host>/npm/…` even for an http proxy URL.
pub fn env_vars(instance: &Instance, base_url: &str, http_proxy_url: bool) -> Vec<(String, String)> {
    let js_url = clerk_js_url(base_url);
    let ui_url = clerk_ui_url(base_url);
    [
        ("NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY", instance.publishable_key()),
        ("CLERK_SECRET_KEY", instance.secret_key()),
        ("CLERK_API_URL", base_url),
        ("NEXT_PUBLIC_CLERK_PROXY_URL", if http_proxy_url { base_url } else { "" }),
        ("NEXT_PUBLIC_CLERK_JS_URL", js_url.as_str()),
        ("NEXT_PUBLIC_CLERK_UI_URL", ui_url.as_str()),
        ("NEXT_PUBLIC_CLERK_SIGN_IN_URL", SIGN_IN_URL),
        ("NEXT_PUBLIC_CLERK_SIGN_UP_URL", SIGN_UP_URL),
        ("NEXT_PUBLIC_CLERK_TELEMETRY_DISABLED", "1"),
        ("NEXT_PUBLIC_CLERK_KEYLESS_DISABLED", "1"),
        ("CLERK_WEBHOOK_SIGNING_SECRET", instance.webhook_secret().as_str()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `KEY=value` lines.
pub fn env_file(instance: &Instance, base_url: &str, http_proxy_url: bool) -> String {
    env_vars(instance, base_url, http_proxy_url).into_iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}
