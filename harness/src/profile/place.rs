//! Places: how features name the app's routes without knowing them. A step says "the data page", "the PUT API
//! route", "the sign-in page" or "the public-lookalike probe"; the profile says which path (and which API call)
//! that is in this app. A literal path (`/schedules`) is taken as written, for scenarios about one app.
//!
//! ```
//! use harness::profile::Profile;
//! let p = Profile::from_str(r#"name = "t"
//! instance = "development"
//! data_page = { path = "/app/reports", downstream_method = "GET", downstream_path = "/data/reports" }
//! api_routes = [{ method = "PUT", app_path = "/v2/reports/1", downstream_method = "PUT", downstream_path = "/data/reports/1" }]
//! "#, "inline").unwrap();
//! let page = p.place("the data page", Some("week=42")).unwrap();
//! assert_eq!((page.method.as_str(), page.path.as_str()), ("GET", "/app/reports?week=42"));
//! assert_eq!(page.downstream.unwrap(), ("GET".to_owned(), "/data/reports".to_owned()));
//! assert_eq!(p.place("the PUT API route", None).unwrap().path, "/v2/reports/1");
//! assert!(p.place("the DELETE API route", None).unwrap_err().contains("no DELETE route"));
//! assert_eq!(p.place("/literal", None).unwrap().downstream, None);
//! ```

use super::Profile;

/// The regex fragment of [`PLACE`], as a literal for `concat!` in step patterns.
#[macro_export]
#[doc(hidden)]
macro_rules! place_pattern {
    () => {
        r"(/\S*|the (?:data page|sign-in page|sign-up page|sign-out route|admin page|permission route|machine route|plan route|(?:GET|POST|PUT|PATCH|DELETE) API route|[a-z][a-z-]* probe))(?: with the query (\S+))?"
    };
}

/// The regex fragment a step uses to capture a place: two groups, the place and an optional query
/// (`the data page with the query week=42`).
pub const PLACE: &str = place_pattern!();

/// A place resolved against the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The method a request to it uses by default (`GET`, or the API route's method).
    pub method: String,
    /// The path (with the query, if one was given).
    pub path: String,
    /// The API call it makes, when the profile says.
    pub downstream: Option<(String, String)>,
}

impl Profile {
    /// Resolves a place named in a step; the error says what the profile lacks.
    pub fn place(&self, name: &str, query: Option<&str>) -> Result<Place, String> {
        let get = |path: &str| Place { method: "GET".into(), path: path.to_owned(), downstream: None };
        let mut place = match name {
            literal if literal.starts_with('/') => get(literal),
            "the data page" => {
                let d = self.data_page.as_ref().ok_or_else(|| self.lacks("data_page", name))?;
                Place { downstream: Some((d.downstream_method.clone(), d.downstream_path.clone())), ..get(&d.path) }
            }
            "the sign-in page" => get(&self.sign_in_path),
            "the sign-up page" => get(&self.sign_up_path),
            "the sign-out route" => get(&self.sign_out_path),
            "the admin page" => get(&self.authorization.as_ref().ok_or_else(|| self.lacks("[authorization]", name))?.admin_page),
            "the permission route" => get(&self.authorization.as_ref().ok_or_else(|| self.lacks("[authorization]", name))?.permission_route),
            "the machine route" => {
                let route = self.authorization.as_ref().and_then(|a| a.machine_route.as_ref());
                get(route.ok_or_else(|| self.lacks("authorization.machine_route", name))?)
            }
            "the plan route" => {
                let route = self.authorization.as_ref().and_then(|a| a.plan_route.as_ref());
                get(route.ok_or_else(|| self.lacks("authorization.plan_route", name))?)
            }
            api if api.ends_with(" API route") => {
                let method = api.trim_start_matches("the ").trim_end_matches(" API route");
                let route = self.api_routes.iter().find(|r| r.method == method).ok_or_else(|| {
                    format!(
                        "the profile {} has no {method} route in api_routes (needed for {name:?}); add one, or [[skip]] the scenario with a reason",
                        self.name
                    )
                })?;
                Place {
                    method: route.method.clone(),
                    path: route.app_path.clone(),
                    downstream: Some((route.downstream_method.clone(), route.downstream_path.clone())),
                }
            }
            probe if probe.ends_with(" probe") => {
                let key = probe.trim_start_matches("the ").trim_end_matches(" probe");
                get(self.probes.get(key).ok_or_else(|| self.lacks(&format!("probes.{key}"), name))?)
            }
            other => {
                return Err(format!(
                    "{other:?} is not a place: write a path (/…) or a place the profile names (the data page, the PUT API route, …)"
                ));
            }
        };
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            let sep = if place.path.contains('?') { '&' } else { '?' };
            place.path = format!("{}{sep}{query}", place.path);
        }
        Ok(place)
    }

    fn lacks(&self, field: &str, name: &str) -> String {
        format!("the profile {} has no {field} (needed for {name:?}); add it, or [[skip]] the scenario with a reason", self.name)
    }
}

#[cfg(test)]
mod tests {
    use cucumber::codegen::Regex;

    use super::*;

    #[test]
    fn the_fragment_captures_place_and_query() {
        let re = Regex::new(&format!("^I open {PLACE}$")).unwrap();
        let caps = re.captures("I open the data page with the query week=42&view=list").unwrap();
        assert_eq!((&caps[1], &caps[2]), ("the data page", "week=42&view=list"));
        assert_eq!(&re.captures("I open /x?y=1").unwrap()[1], "/x?y=1");
        assert_eq!(&re.captures("I open the DELETE API route").unwrap()[1], "the DELETE API route");
        assert_eq!(&re.captures("I open the static-lookalike probe").unwrap()[1], "the static-lookalike probe");
        assert!(re.captures("I open schedules").is_none());
        assert!(re.captures("I open the moon").is_none());
    }
}
