//! The app's Clerk webhook handler, as the `@webhooks` scenarios see it: where Clerk POSTs events, and how the
//! suite observes what the handler applied. The app must be configured with mock-clerk's signing secret
//! (`CLERK_WEBHOOK_SIGNING_SECRET`, printed by `mock-clerk env`).
//!
//! ```toml
//! [webhooks]
//! path = "/api/webhooks/clerk"                 # the handler (public in the app's middleware)
//! user_probe = "/api/webhooks/users/{user_id}" # 2xx while the app holds the user, 404 once it does not
//! ```
//!
//! A profile without `[webhooks]` has no handler to drive: its `@webhooks` scenarios are reported as skipped,
//! with that reason, never as passed.
//!
//! ```
//! use harness::profile::Profile;
//! let p = Profile::from_str("name = \"t\"\ninstance = \"development\"\n[webhooks]\npath = \"/hooks\"\nuser_probe = \"/u/{user_id}\"", "inline").unwrap();
//! assert_eq!(p.webhooks.as_ref().unwrap().user_probe_for("user_1"), "/u/user_1");
//! assert!(Profile::from_str("name = \"t\"\ninstance = \"development\"", "inline").unwrap().skip_reason("@WH-001", &[], &["@webhooks".into()]).is_some());
//! assert!(Profile::from_str("name = \"t\"\ninstance = \"development\"\n[webhooks]\npath = \"/h\"\nuser_probe = \"/u\"", "inline").is_err());
//! ```

use serde::{Deserialize, Serialize};

/// The tag of the scenarios that drive the app's webhook handler.
pub const WEBHOOKS_TAG: &str = "webhooks";

/// Why the profile skips a scenario tagged [`WEBHOOKS_TAG`] when it has no `[webhooks]` section.
pub const NO_WEBHOOK_HANDLER: &str = "the profile has no [webhooks] section, so the suite does not know the app's webhook handler";

/// The placeholder of [`WebhookHandler::user_probe`].
pub const USER_ID_PLACEHOLDER: &str = "{user_id}";

/// The `[webhooks]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookHandler {
    /// The path Clerk POSTs events to.
    pub path: String,
    /// A path with `{user_id}`: 2xx while the app holds that user (synced from `user.created`), 404 when not.
    pub user_probe: String,
}

impl WebhookHandler {
    /// The probe's path for one user.
    pub fn user_probe_for(&self, user_id: &str) -> String {
        self.user_probe.replace(USER_ID_PLACEHOLDER, user_id)
    }

    /// What makes the section unusable.
    pub(super) fn check(&self) -> Result<(), String> {
        for (field, path) in [("path", &self.path), ("user_probe", &self.user_probe)] {
            if !path.starts_with('/') {
                return Err(format!("{field} {path:?} must start with /"));
            }
        }
        if !self.user_probe.contains(USER_ID_PLACEHOLDER) {
            return Err(format!("user_probe {:?} must contain {USER_ID_PLACEHOLDER}", self.user_probe));
        }
        Ok(())
    }
}
