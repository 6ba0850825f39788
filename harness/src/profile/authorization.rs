//! The app's authorization, as the `@authorization` scenarios see it: a page only an organization admin may open,
//! an API route that needs one custom permission, a route for machine (M2M) tokens only, and how the app refuses
//! a signed-in user who lacks the role or permission.
//!
//! ```toml
//! [authorization]
//! admin_page = "/admin"                     # auth.protect({ role: "org:admin" })
//! permission_route = "/api/reports"         # GET; auth.protect({ permission })
//! permission = "org:reports:read"           # the permission it needs
//! machine_route = "/api/machine/reports"    # optional: GET, M2M tokens only (auth.protect({ token: "m2m_token" }))
//! plan_route = "/api/plan/reports"          # optional: GET, subscribers of the plan "pro" only (has({ plan: "pro" }))
//! refused_status = 404                      # default 404: Clerk's auth.protect answers a missing right with notFound()
//! machine_refused_status = 401              # default 401: auth.protect's answer to a token it does not take
//! ```
//!
//! A profile without `[authorization]` is reported as skipping the `@authorization` scenarios, with that reason;
//! one without `machine_route` skips the `@machine` ones, one without `plan_route` the `@plan` ones.
//!
//! ```
//! use harness::profile::Profile;
//! let p = Profile::from_str(r#"name = "t"
//! instance = "development"
//! [authorization]
//! admin_page = "/admin"
//! permission_route = "/api/reports"
//! permission = "org:reports:read"
//! "#, "inline").unwrap();
//! let a = p.authorization.as_ref().unwrap();
//! assert_eq!((a.refused_status, a.machine_refused_status), (404, 401));
//! assert_eq!(p.place("the admin page", None).unwrap().path, "/admin");
//! assert!(p.skip_reason("@AZ-201", &[], &["@authorization".into(), "@machine".into()]).unwrap().contains("machine_route"));
//! assert!(p.skip_reason("@AZ-301", &[], &["@authorization".into(), "@plan".into()]).unwrap().contains("plan_route"));
//! assert!(p.place("the plan route", None).unwrap_err().contains("plan_route"));
//! let bare = Profile::from_str("name = \"t\"\ninstance = \"development\"", "inline").unwrap();
//! assert!(bare.skip_reason("@AZ-001", &[], &["@authorization".into()]).is_some());
//! ```

use serde::{Deserialize, Serialize};

/// The tag of the authorization scenarios.
pub const AUTHORIZATION_TAG: &str = "authorization";
/// The tag of the scenarios that need the machine route.
pub const MACHINE_TAG: &str = "machine";
/// Why the profile skips an `@authorization` scenario when it has no `[authorization]` section.
pub const NO_AUTHORIZATION: &str = "the profile has no [authorization] section, so the suite knows no admin page or permission route of the app";
/// Why the profile skips a `@machine` scenario when `[authorization]` names no machine route.
pub const NO_MACHINE_ROUTE: &str = "the profile names no route for machine tokens (authorization.machine_route)";
/// The tag of the scenarios that need the plan route.
pub const PLAN_TAG: &str = "plan";
/// Why the profile skips a `@plan` scenario when `[authorization]` names no plan route.
pub const NO_PLAN_ROUTE: &str = "the profile names no route for subscribers of the plan pro (authorization.plan_route)";

/// The `[authorization]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// A page only members with the organization role `org:admin` may open.
    pub admin_page: String,
    /// A GET route that needs [`Authorization::permission`].
    pub permission_route: String,
    /// The custom organization permission the route needs (`org:<feature>:<action>`).
    pub permission: String,
    /// A GET route that takes M2M tokens only.
    #[serde(default)]
    pub machine_route: Option<String>,
    /// A GET route only subscribers of the plan `pro` may call (`has({ plan: "pro" })`, Clerk Billing's `pla`
    /// claim); a signed-in user on another plan gets [`Authorization::refused_status`].
    #[serde(default)]
    pub plan_route: Option<String>,
    /// The status a signed-in user without the role or permission gets.
    #[serde(default = "default_refused")]
    pub refused_status: u16,
    /// The status a token the route does not take gets: a revoked machine token, a machine token on a user route, a
    /// session on the machine route.
    #[serde(default = "default_machine_refused")]
    pub machine_refused_status: u16,
}

fn default_refused() -> u16 {
    404
}
fn default_machine_refused() -> u16 {
    401
}

impl Authorization {
    /// What makes the section unusable.
    pub(super) fn check(&self) -> Result<(), String> {
        let paths = [
            ("admin_page", Some(&self.admin_page)),
            ("permission_route", Some(&self.permission_route)),
            ("machine_route", self.machine_route.as_ref()),
            ("plan_route", self.plan_route.as_ref()),
        ];
        for (field, path) in paths {
            if let Some(path) = path.filter(|p| !p.starts_with('/')) {
                return Err(format!("{field} {path:?} must start with /"));
            }
        }
        let parts: Vec<&str> = self.permission.split(':').collect();
        if parts.len() != 3 || parts[0] != "org" || parts[1..].iter().any(|p| p.is_empty()) {
            return Err(format!("permission {:?} must look like org:<feature>:<action>", self.permission));
        }
        for (field, status) in [("refused_status", self.refused_status), ("machine_refused_status", self.machine_refused_status)] {
            if !(400..500).contains(&status) {
                return Err(format!("{field} {status} must be a 4xx status"));
            }
        }
        Ok(())
    }
}
