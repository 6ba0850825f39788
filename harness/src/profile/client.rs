//! The app's client layer, as the browser scenarios (`@client`) see it: where the app shows `useUser`'s data,
//! whether it has Clerk's `<UserButton/>`, its own sign-out button, and where a client sign-out lands. Clerk's own
//! components (`<SignIn/>`, `<SignUp/>`, `<UserButton/>`) are found by Clerk's stable `cl-` class names, so only
//! the app's own elements are named here, as CSS selectors.
//!
//! ```toml
//! [client]
//! first_name = "[data-testid=user-first-name]"   # where useUser().user.firstName is shown
//! email = "[data-testid=user-email]"             # where the primary email address is shown
//! user_button = true                             # the app renders <UserButton/> on signed-in pages
//! sign_out_button = "[data-testid=sign-out-button]"  # optional: a button calling useClerk().signOut()
//! after_sign_out_path = "/auth/sign-in"          # default: sign_in_path
//! actor = "[data-testid=actor-sub]"              # optional: where useAuth().actor.sub (an impersonator) is shown
//! ```
//!
//! A profile without `[client]` has no client layer to drive: its `@client` scenarios are reported as skipped,
//! with that reason, never as passed.
//!
//! ```
//! use harness::profile::Profile;
//! let p = Profile::from_str(r#"name = "t"
//! instance = "development"
//! [client]
//! first_name = ".first"
//! email = ".email"
//! "#, "inline").unwrap();
//! let c = p.client.as_ref().unwrap();
//! assert!(!c.user_button && c.sign_out_button.is_none());
//! assert_eq!(p.after_sign_out_path(), "/auth/sign-in");
//! assert!(Profile::from_str("name = \"t\"\ninstance = \"development\"", "inline").unwrap().skip_reason("@CL-001", &[], &["@client".into()]).is_some());
//! ```

use serde::{Deserialize, Serialize};

/// The tag of the scenarios that drive the client layer in a browser.
pub const CLIENT_TAG: &str = "client";

/// The tag of the scenarios that need `<UserButton/>` (`user_button = true`).
pub const USER_BUTTON_TAG: &str = "user-button";
/// The tag of the scenarios that need the app's own sign-out button (`sign_out_button`).
pub const SIGN_OUT_BUTTON_TAG: &str = "sign-out-button";
/// The tag of the scenarios that need the app to show who impersonates the user (`actor`).
pub const ACTOR_TAG: &str = "actor";

/// The tag of the scenarios that need the app's reverification route (`reverification_route`).
pub const REVERIFICATION_TAG: &str = "reverification";

/// The `[client]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientLayer {
    /// CSS selector of the element showing the signed-in user's first name.
    pub first_name: String,
    /// CSS selector of the element showing the signed-in user's primary email address.
    pub email: String,
    /// Whether signed-in pages render Clerk's `<UserButton/>`.
    #[serde(default)]
    pub user_button: bool,
    /// CSS selector of the app's own sign-out button (`useClerk().signOut()`), if it has one.
    #[serde(default)]
    pub sign_out_button: Option<String>,
    /// Where a client-side sign-out lands (the provider's `afterSignOutUrl`); default: the sign-in page.
    #[serde(default)]
    pub after_sign_out_path: Option<String>,
    /// CSS selector of the element naming who impersonates the signed-in user (the session's actor,
    /// `auth().actor.sub` / `useAuth().actor.sub`), shown only during an impersonation.
    #[serde(default)]
    pub actor: Option<String>,
    /// A GET route of the app for a sensitive action: it answers 2xx only to a session whose second factor
    /// was verified in the last 10 minutes (`auth().has({ reverification: "strict" })`), and Clerk's
    /// reverification error (403, `clerk_error.reason = "reverification-error"`) to any other.
    #[serde(default)]
    pub reverification_route: Option<String>,
}

impl ClientLayer {
    /// What makes the section unusable.
    pub(super) fn check(&self) -> Result<(), String> {
        for (field, css) in [
            ("first_name", Some(&self.first_name)),
            ("email", Some(&self.email)),
            ("sign_out_button", self.sign_out_button.as_ref()),
            ("actor", self.actor.as_ref()),
        ] {
            if css.is_some_and(|c| c.trim().is_empty()) {
                return Err(format!("{field} must be a CSS selector"));
            }
        }
        match (&self.after_sign_out_path, &self.reverification_route) {
            (Some(p), _) if !p.starts_with('/') => Err(format!("after_sign_out_path {p:?} must start with /")),
            (_, Some(p)) if !p.starts_with('/') => Err(format!("reverification_route {p:?} must start with /")),
            _ => Ok(()),
        }
    }
}

/// Why the profile skips a scenario with these tags when it has no `[client]` section.
pub const NO_CLIENT_LAYER: &str = "the profile has no [client] section, so the suite does not know the app's client layer";
