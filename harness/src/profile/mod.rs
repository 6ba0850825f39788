//! The target profile: what the suite needs to know about one app under test, as TOML in
//! `fixtures/targets/*.toml`. Unknown fields are refused; errors name the file and what is wrong.
//!
//! ```toml
//! name = "nextjs-proxy"
//! base_url = "http://127.0.0.1:3000"      # optional; CONFORMANCE_TARGET_URL overrides it
//! instance = "production"                  # or "development"
//! sign_in_path = "/auth/sign-in"           # default
//! sign_up_path = "/auth/sign-up"           # default
//! sign_out_path = "/api/auth/sign-out"     # default
//! public_routes = ["/auth/sign-in", "/auth/sign-up"]
//! protected_pages = ["/", "/schedules"]
//! static_assets = ["/favicon.ico", "/robots.txt"]
//! unauthenticated_non_page = "redirect"    # or "not-found" or "unauthorized"
//! mock_clerk_addr = "127.0.0.1:4010"       # optional: what the app was configured with
//! downstream_addr = "127.0.0.1:4020"       # optional
//!
//! # The protected page that renders the API's data, and the call it makes.
//! data_page = { path = "/schedules", downstream_method = "GET", downstream_path = "/schedules" }
//!
//! # Protected non-page routes, each with the API call it makes (one route per method).
//! api_routes = [
//!   { method = "GET", app_path = "/api/schedules", downstream_method = "GET", downstream_path = "/schedules" },
//!   { method = "PUT", app_path = "/api/schedules/1", downstream_method = "PUT", downstream_path = "/schedules/1" },
//! ]
//! # Further protected non-page routes that call no API.
//! protected_api = [{ method = "GET", path = "/api/auth/sign-out" }]
//!
//! # Paths that look public or static but are not: the catch-all protection must cover them.
//! probes = { public-lookalike = "/oauth-settings", static-lookalike = "/_nextjs-admin" }
//!
//! [[expected_failures]]
//! scenario = "@RP-002"
//! example = { route = "the GET API route" }          # optional: one example row
//! step = "Then I am sent to sign in, with a way back to the GET API route"
//! message = "ended with 404"                          # a regular expression over the failure message
//! reason = "edge middleware.ts answers 404 to unauthenticated fetches (spec README, difference 3)"
//!
//! [[skip]]
//! scenario = "@RP-011"
//! reason = "the app's framework has no data routes"
//! ```
//!
//! ```
//! use harness::profile::{Profile, NonPageAnswer};
//! let p = Profile::from_str(r#"name = "t"
//! instance = "development"
//! base_url = "http://127.0.0.1:3000"
//! unauthenticated_non_page = "not-found""#, "inline").unwrap();
//! assert_eq!(p.sign_in_path, "/auth/sign-in");
//! assert_eq!(p.unauthenticated_non_page, NonPageAnswer::NotFound);
//! assert_eq!(p.base_url_from(None).unwrap(), "http://127.0.0.1:3000");
//! ```

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mock_clerk::InstanceKind;
use serde::{Deserialize, Serialize};

mod authorization;
mod client;
mod expect;
mod place;
mod webhooks;

pub use authorization::{AUTHORIZATION_TAG, Authorization, MACHINE_TAG, NO_AUTHORIZATION, NO_MACHINE_ROUTE, NO_PLAN_ROUTE, PLAN_TAG};
pub use client::{ACTOR_TAG, CLIENT_TAG, ClientLayer, NO_CLIENT_LAYER, REVERIFICATION_TAG, SIGN_OUT_BUTTON_TAG, USER_BUTTON_TAG};
pub use expect::{ExpectedFailure, FailureSignature, Skip, label, step_text};
pub use place::{PLACE, Place};
pub use webhooks::{NO_WEBHOOK_HANDLER, WEBHOOKS_TAG, WebhookHandler};

/// The environment variable that overrides `base_url`.
pub const TARGET_URL_ENV: &str = "CONFORMANCE_TARGET_URL";

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The file could not be read.
    #[error("cannot read target profile {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown field, a missing field or a wrong type.
    #[error("target profile {file}: {message}")]
    Parse {
        /// The file (or `inline`).
        file: String,
        /// What the TOML parser said, with the line.
        message: String,
    },
    /// Parsed, but a value makes no sense.
    #[error("target profile {file}: {field}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Neither `base_url` nor `CONFORMANCE_TARGET_URL` gives the app's URL.
    #[error("target profile {0}: no base_url, and {TARGET_URL_ENV} is not set")]
    NoBaseUrl(String),
}

/// What an unauthenticated non-page request (e.g. `fetch('/api/schedules')`) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NonPageAnswer {
    /// A redirect to sign-in (the documented behaviour; Next 16 `proxy.ts`).
    Redirect,
    /// 404 (an edge `middleware.ts` with `auth.protect()`).
    NotFound,
    /// 401.
    Unauthorized,
}

/// A method and an app path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// `GET`, `POST`, …
    pub method: String,
    /// The app path.
    pub path: String,
}

/// An app route and the downstream call it makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiRoute {
    /// Method of the app route.
    pub method: String,
    /// Path of the app route.
    pub app_path: String,
    /// Method of the downstream call.
    pub downstream_method: String,
    /// Path of the downstream call.
    pub downstream_path: String,
}

/// The protected page that renders the API's data, and the API call it makes to render it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataPage {
    /// The page's path.
    pub path: String,
    /// Method of the downstream call.
    pub downstream_method: String,
    /// Path of the downstream call.
    pub downstream_path: String,
}

/// One target profile. See the module docs for the TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The target's name.
    pub name: String,
    /// The app's base URL; [`TARGET_URL_ENV`] overrides it.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The Clerk instance kind the app is configured for.
    pub instance: InstanceKind,
    /// Where unauthenticated pages are sent.
    #[serde(default = "default_sign_in")]
    pub sign_in_path: String,
    /// The sign-up page.
    #[serde(default = "default_sign_up")]
    pub sign_up_path: String,
    /// The server-side sign-out route.
    #[serde(default = "default_sign_out")]
    pub sign_out_path: String,
    /// Pages reachable without signing in.
    #[serde(default)]
    pub public_routes: Vec<String>,
    /// Pages that need a session.
    #[serde(default)]
    pub protected_pages: Vec<String>,
    /// Non-page routes that need a session.
    #[serde(default)]
    pub protected_api: Vec<Endpoint>,
    /// Static assets the middleware must not touch.
    #[serde(default)]
    pub static_assets: Vec<String>,
    /// Protected non-page routes and the downstream call each makes (one per method).
    #[serde(default)]
    pub api_routes: Vec<ApiRoute>,
    /// The protected page that shows the API's data.
    #[serde(default)]
    pub data_page: Option<DataPage>,
    /// Named paths that look public or static but must be protected (`the public-lookalike probe`).
    #[serde(default)]
    pub probes: std::collections::BTreeMap<String, String>,
    /// What unauthenticated non-page requests get.
    #[serde(default = "default_non_page")]
    pub unauthenticated_non_page: NonPageAnswer,
    /// The mock-clerk address the app was configured with.
    #[serde(default)]
    pub mock_clerk_addr: Option<SocketAddr>,
    /// The downstream address the app was configured with.
    #[serde(default)]
    pub downstream_addr: Option<SocketAddr>,
    /// The app's client layer, for the browser scenarios (`@client`); none: those are skipped.
    #[serde(default)]
    pub client: Option<ClientLayer>,
    /// The app's Clerk webhook handler, for the `@webhooks` scenarios; none: those are skipped.
    #[serde(default)]
    pub webhooks: Option<WebhookHandler>,
    /// The app's authorization (roles, permissions, machine tokens), for the `@authorization` scenarios; none:
    /// those are skipped.
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// Scenarios this target is known to fail.
    #[serde(default)]
    pub expected_failures: Vec<ExpectedFailure>,
    /// Scenarios this profile cannot drive (reported as skipped, never as passed), with the reason.
    #[serde(default)]
    pub skip: Vec<Skip>,
}

fn default_sign_in() -> String {
    "/auth/sign-in".into()
}
fn default_sign_up() -> String {
    "/auth/sign-up".into()
}
fn default_sign_out() -> String {
    "/api/auth/sign-out".into()
}
fn default_non_page() -> NonPageAnswer {
    NonPageAnswer::Redirect
}

impl Profile {
    /// Reads and checks a profile file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ProfileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read { path: path.to_owned(), source })?;
        Self::from_str(&text, &path.display().to_string())
    }

    /// Parses and checks profile TOML; `file` names it in errors.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, file: &str) -> Result<Self, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Parse { file: file.into(), message: e.to_string() })?;
        profile.validate(file)?;
        Ok(profile)
    }

    fn validate(&self, file: &str) -> Result<(), ProfileError> {
        let invalid = |field: &str, message: String| Err(ProfileError::Invalid { file: file.into(), field: field.into(), message });
        if self.name.trim().is_empty() {
            return invalid("name", "must not be empty".into());
        }
        if let Some(url) = &self.base_url
            && let Err(why) = check_url(url)
        {
            return invalid("base_url", why);
        }
        let single = [("sign_in_path", &self.sign_in_path), ("sign_up_path", &self.sign_up_path), ("sign_out_path", &self.sign_out_path)];
        let lists = [("public_routes", &self.public_routes), ("protected_pages", &self.protected_pages), ("static_assets", &self.static_assets)];
        let paths = single
            .into_iter()
            .map(|(f, p)| (f, p.as_str()))
            .chain(lists.into_iter().flat_map(|(f, l)| l.iter().map(move |p| (f, p.as_str()))))
            .chain(self.protected_api.iter().map(|e| ("protected_api", e.path.as_str())))
            .chain(self.data_page.iter().flat_map(|d| [("data_page", d.path.as_str()), ("data_page", d.downstream_path.as_str())]))
            .chain(self.probes.values().map(|p| ("probes", p.as_str())))
            .chain(self.api_routes.iter().flat_map(|r| [("api_routes", r.app_path.as_str()), ("api_routes", r.downstream_path.as_str())]));
        for (field, path) in paths {
            if !path.starts_with('/') {
                return invalid(field, format!("{path:?} must start with /"));
            }
        }
        let methods = self
            .protected_api
            .iter()
            .map(|e| ("protected_api", &e.method))
            .chain(self.api_routes.iter().flat_map(|r| [("api_routes", &r.method), ("api_routes", &r.downstream_method)]))
            .chain(self.data_page.iter().map(|d| ("data_page", &d.downstream_method)));
        for (field, method) in methods {
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
                return invalid(field, format!("method {method:?} must be an uppercase HTTP method like GET"));
            }
        }
        let mut methods_seen = HashSet::new();
        for route in &self.api_routes {
            if !methods_seen.insert(route.method.as_str()) {
                return invalid("api_routes", format!("two routes for {}: the features name API routes by method", route.method));
            }
        }
        for name in self.probes.keys() {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                return invalid("probes", format!("probe name {name:?} must be lowercase words joined by -"));
            }
        }
        let mut seen = HashSet::new();
        for failure in &self.expected_failures {
            failure.check().or_else(|m| invalid("expected_failures", m))?;
            if !seen.insert(failure.label()) {
                return invalid("expected_failures", format!("{} is listed twice", failure.label()));
            }
        }
        for skip in &self.skip {
            skip.check().or_else(|m| invalid("skip", m))?;
        }
        if let Some(client) = &self.client {
            client.check().or_else(|m| invalid("client", m))?;
        }
        if let Some(webhooks) = &self.webhooks {
            webhooks.check().or_else(|m| invalid("webhooks", m))?;
        }
        if let Some(authorization) = &self.authorization {
            authorization.check().or_else(|m| invalid("authorization", m))?;
        }
        Ok(())
    }

    /// The app's base URL (no trailing slash): [`TARGET_URL_ENV`] if set, else `base_url`.
    pub fn base_url(&self) -> Result<String, ProfileError> {
        self.base_url_from(std::env::var(TARGET_URL_ENV).ok().filter(|v| !v.trim().is_empty()))
    }

    /// [`Profile::base_url`] with the override given explicitly (for tests).
    pub fn base_url_from(&self, env_override: Option<String>) -> Result<String, ProfileError> {
        let (url, field) = match env_override {
            Some(url) => (url, TARGET_URL_ENV),
            None => (self.base_url.clone().ok_or_else(|| ProfileError::NoBaseUrl(self.name.clone()))?, "base_url"),
        };
        check_url(&url).map_err(|message| ProfileError::Invalid { file: self.name.clone(), field: field.into(), message })?;
        Ok(url.trim_end_matches('/').to_owned())
    }

    /// The expected failure for a scenario (id tag) and example row.
    pub fn expected_failure(&self, scenario: &str, row: &[(String, String)]) -> Option<&ExpectedFailure> {
        self.expected_failures.iter().find(|f| f.applies_to(scenario, row))
    }

    /// The profile's skip for a scenario and example row.
    pub fn skipped(&self, scenario: &str, row: &[(String, String)]) -> Option<&Skip> {
        self.skip.iter().find(|s| s.applies_to(scenario, row))
    }

    /// Why the profile skips a scenario (its id tag, example row and all its tags): a `[[skip]]`, or an `@client`
    /// scenario without a `[client]` section.
    pub fn skip_reason(&self, scenario: &str, row: &[(String, String)], tags: &[String]) -> Option<String> {
        if let Some(skip) = self.skipped(scenario, row) {
            return Some(skip.reason.clone());
        }
        let tagged = |tag: &str| tags.iter().any(|t| t.trim_start_matches('@') == tag);
        if tagged(WEBHOOKS_TAG) && self.webhooks.is_none() {
            return Some(NO_WEBHOOK_HANDLER.to_owned());
        }
        if tagged(AUTHORIZATION_TAG) {
            match &self.authorization {
                None => return Some(NO_AUTHORIZATION.to_owned()),
                Some(a) if tagged(MACHINE_TAG) && a.machine_route.is_none() => return Some(NO_MACHINE_ROUTE.to_owned()),
                Some(a) if tagged(PLAN_TAG) && a.plan_route.is_none() => return Some(NO_PLAN_ROUTE.to_owned()),
                Some(_) => {}
            }
        }
        match &self.client {
            None if tagged(CLIENT_TAG) => Some(NO_CLIENT_LAYER.to_owned()),
            Some(c) if tagged(USER_BUTTON_TAG) && !c.user_button => {
                Some("the profile says the app renders no <UserButton/> (client.user_button)".into())
            }
            Some(c) if tagged(SIGN_OUT_BUTTON_TAG) && c.sign_out_button.is_none() => {
                Some("the profile names no sign-out button of the app (client.sign_out_button)".into())
            }
            Some(c) if tagged(ACTOR_TAG) && c.actor.is_none() => {
                Some("the profile names no element showing who impersonates the user (client.actor)".into())
            }
            Some(c) if tagged(REVERIFICATION_TAG) && c.reverification_route.is_none() => {
                Some("the profile names no reverification route of the app (client.reverification_route)".into())
            }
            _ => None,
        }
    }

    /// Where a client-side sign-out lands.
    pub fn after_sign_out_path(&self) -> &str {
        self.client.as_ref().and_then(|c| c.after_sign_out_path.as_deref()).unwrap_or(&self.sign_in_path)
    }

    /// Every protected non-page route: the API routes, then the further ones.
    pub fn protected_api_routes(&self) -> Vec<Endpoint> {
        let mut all: Vec<Endpoint> = self.api_routes.iter().map(|r| Endpoint { method: r.method.clone(), path: r.app_path.clone() }).collect();
        for e in &self.protected_api {
            if !all.contains(e) {
                all.push(e.clone());
            }
        }
        all
    }

    /// The downstream call an app route triggers.
    pub fn api_route(&self, method: &str, app_path: &str) -> Option<&ApiRoute> {
        self.api_routes.iter().find(|r| r.method.eq_ignore_ascii_case(method) && r.app_path == app_path)
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!("{url:?} must be http(s)://host[:port]"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
name = "nextjs-proxy"
base_url = "http://127.0.0.1:3000/"
instance = "production"
public_routes = ["/auth/sign-in", "/auth/sign-up"]
protected_pages = ["/", "/schedules"]
static_assets = ["/favicon.ico"]
unauthenticated_non_page = "unauthorized"
mock_clerk_addr = "127.0.0.1:4010"
protected_api = [{ method = "GET", path = "/api/schedules" }]
api_routes = [{ method = "PUT", app_path = "/api/schedules/1", downstream_method = "PUT", downstream_path = "/schedules/1" }]

[[expected_failures]]
scenario = "@RP-001"
step = "Then I am sent to sign in, with a way back to the data page"
message = "ended with 404"
reason = "platform behaviour"
"#;

    fn error(text: &str) -> String {
        Profile::from_str(text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn a_full_profile_parses() {
        let p = Profile::from_str(FULL, "t.toml").unwrap();
        assert_eq!((p.name.as_str(), p.instance), ("nextjs-proxy", InstanceKind::Production));
        assert_eq!(p.protected_pages, ["/", "/schedules"]);
        assert_eq!(p.protected_api[0], Endpoint { method: "GET".into(), path: "/api/schedules".into() });
        assert_eq!(p.api_route("put", "/api/schedules/1").unwrap().downstream_path, "/schedules/1");
        assert_eq!(p.unauthenticated_non_page, NonPageAnswer::Unauthorized);
        assert_eq!(p.mock_clerk_addr, Some("127.0.0.1:4010".parse().unwrap()));
        assert_eq!(p.downstream_addr, None);
        assert_eq!(p.sign_out_path, "/api/auth/sign-out");
        assert_eq!(p.expected_failure("RP-001", &[]).unwrap().reason, "platform behaviour");
        assert!(p.expected_failure("@RP-002", &[]).is_none());
        assert_eq!(p.base_url_from(None).unwrap(), "http://127.0.0.1:3000");
        assert_eq!(p.base_url_from(Some("http://127.0.0.1:9/".into())).unwrap(), "http://127.0.0.1:9");
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let unknown = error("name = \"x\"\ninstance = \"development\"\ncolour = \"red\"");
        assert!(unknown.contains("t.toml") && unknown.contains("colour"), "{unknown}");
        let missing = error("name = \"x\"");
        assert!(missing.contains("instance"), "{missing}");
        let bad_kind = error("name = \"x\"\ninstance = \"staging\"");
        assert!(bad_kind.contains("staging") || bad_kind.contains("variant"), "{bad_kind}");
        assert!(error("name = [").contains("t.toml"));
        let bad_path = error("name = \"x\"\ninstance = \"development\"\nprotected_pages = [\"schedules\"]");
        assert!(bad_path.contains("protected_pages") && bad_path.contains("must start with /"), "{bad_path}");
        let bad_url = error("name = \"x\"\ninstance = \"development\"\nbase_url = \"127.0.0.1:3000\"");
        assert!(bad_url.contains("base_url"), "{bad_url}");
        let bad_method = error("name = \"x\"\ninstance = \"development\"\nprotected_api = [{ method = \"get\", path = \"/a\" }]");
        assert!(bad_method.contains("uppercase"), "{bad_method}");
        let twice = FULL.to_owned() + "\n[[expected_failures]]\nscenario = \"@RP-001\"\nstep = \"Then x\"\nmessage = \"y\"\nreason = \"again\"\n";
        assert!(error(&twice).contains("listed twice"));
        let untagged = FULL.replace("@RP-001", "RP-001");
        assert!(error(&untagged).contains("@RP-001"));
        let bad_addr = error("name = \"x\"\ninstance = \"development\"\nmock_clerk_addr = \"localhost\"");
        assert!(bad_addr.contains("mock_clerk_addr"), "{bad_addr}");
    }

    #[test]
    fn the_example_in_the_module_docs_parses() {
        let source = include_str!("mod.rs");
        let doc: String = source.lines().filter_map(|l| l.strip_prefix("//!")).map(|l| l.strip_prefix(' ').unwrap_or(l).to_owned() + "\n").collect();
        let example = doc.split("```toml\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
        let p = Profile::from_str(example, "module docs").unwrap();
        assert_eq!((p.name.as_str(), p.api_routes.len(), p.expected_failures.len(), p.skip.len()), ("nextjs-proxy", 2, 1, 1));
        assert_eq!(p.place("the public-lookalike probe", None).unwrap().path, "/oauth-settings");
    }

    #[test]
    fn base_url_is_required_somewhere() {
        let p = Profile::from_str("name = \"x\"\ninstance = \"development\"", "t.toml").unwrap();
        assert!(matches!(p.base_url_from(None), Err(ProfileError::NoBaseUrl(_))));
        assert!(matches!(p.base_url_from(Some("nope".into())), Err(ProfileError::Invalid { .. })));
    }

    #[test]
    fn load_reports_missing_files_and_reads_real_ones() {
        let missing = Profile::load("/nonexistent/target.toml").unwrap_err().to_string();
        assert!(missing.contains("/nonexistent/target.toml"), "{missing}");
        let dir = std::env::temp_dir().join(format!("harness-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.toml");
        std::fs::write(&file, FULL).unwrap();
        assert_eq!(Profile::load(&file).unwrap().name, "nextjs-proxy");
        std::fs::write(&file, "name = 1").unwrap();
        assert!(Profile::load(&file).unwrap_err().to_string().contains(&file.display().to_string()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
