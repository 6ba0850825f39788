//! Scripted answers: "fail the next N `GET /schedules` with 503 (Retry-After 1), then succeed",
//! "delay the next N by D ms". Rules are consumed in the order they were added.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::DownstreamError;
use super::record::path_matches;

/// One scripted rule: for the next `times` requests matching `method path`, wait `delay_ms` (if set), then
/// answer `status` (if set) instead of the normal answer.
///
/// ```
/// use harness::downstream::ScriptRule;
/// let rule = ScriptRule::fail("GET", "/schedules", 2, 503).retry_after(1);
/// assert_eq!((rule.times, rule.status, rule.retry_after), (2, Some(503), Some(1)));
/// let slow = ScriptRule::delay("PUT", "/schedules/*", 1, 1500);
/// assert!(slow.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptRule {
    /// The method (case-insensitive).
    pub method: String,
    /// The path; a trailing `*` matches any suffix.
    pub path: String,
    /// How many requests it affects (at least 1).
    #[serde(default = "one")]
    pub times: u32,
    /// The status to answer (400-599) instead of the normal answer.
    #[serde(default)]
    pub status: Option<u16>,
    /// A `Retry-After` header, seconds (with `status`).
    #[serde(default)]
    pub retry_after: Option<u32>,
    /// The JSON body of the failure (default `{"error":"scripted","status":S}`).
    #[serde(default)]
    pub body: Option<Value>,
    /// Wait this long before answering, milliseconds (at most 60 000).
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Only requests whose bearer token belongs to this Clerk session (its `sid` claim). Scenarios running
    /// concurrently against one double each script their own session's calls.
    #[serde(default)]
    pub session: Option<String>,
}

fn one() -> u32 {
    1
}

impl ScriptRule {
    /// Fail the next `times` matching requests with `status`.
    pub fn fail(method: &str, path: &str, times: u32, status: u16) -> Self {
        Self { method: method.into(), path: path.into(), times, status: Some(status), retry_after: None, body: None, delay_ms: None, session: None }
    }
    /// Delay the next `times` matching requests by `ms`, then answer normally.
    pub fn delay(method: &str, path: &str, times: u32, ms: u64) -> Self {
        Self { method: method.into(), path: path.into(), times, status: None, retry_after: None, body: None, delay_ms: Some(ms), session: None }
    }
    /// Adds `Retry-After: <secs>` to the failure.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }
    /// Applies only to requests made with a token of this session (`sid`).
    pub fn for_session(mut self, sid: impl Into<String>) -> Self {
        self.session = Some(sid.into());
        self
    }
    /// Sets the failure's JSON body.
    pub fn with_body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// Also delay each affected request by `ms`.
    pub fn with_delay(mut self, ms: u64) -> Self {
        self.delay_ms = Some(ms);
        self
    }
    /// Checks the rule makes sense.
    pub fn validate(&self) -> Result<(), DownstreamError> {
        let invalid = |why: &str| Err(DownstreamError::InvalidScript(format!("{} {}: {why}", self.method, self.path)));
        if self.method.is_empty() || !self.method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return invalid("method must be letters, like GET");
        }
        if !self.path.starts_with('/') {
            return invalid("path must start with /");
        }
        if self.times == 0 {
            return invalid("times must be at least 1");
        }
        if self.status.is_some_and(|s| !(400..=599).contains(&s)) {
            return invalid("status must be 400-599 (a script only fails)");
        }
        if self.delay_ms.is_some_and(|ms| ms > 60_000) {
            return invalid("delay_ms must be at most 60000");
        }
        if self.status.is_none() && self.delay_ms.is_none() {
            return invalid("give a status, a delay_ms, or both");
        }
        if self.status.is_none() && (self.retry_after.is_some() || self.body.is_some()) {
            return invalid("retry_after and body need a status");
        }
        Ok(())
    }
    fn matches(&self, method: &str, path: &str, session: Option<&str>) -> bool {
        self.times > 0
            && self.method.eq_ignore_ascii_case(method)
            && path_matches(&self.path, path)
            && self.session.as_deref().is_none_or(|s| Some(s) == session)
    }
}

/// The pending rules.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    rules: Mutex<Vec<ScriptRule>>,
}

impl Plan {
    pub(crate) fn add(&self, rule: ScriptRule) -> Result<(), DownstreamError> {
        rule.validate()?;
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).push(rule);
        Ok(())
    }
    pub(crate) fn pending(&self) -> Vec<ScriptRule> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub(crate) fn clear(&self) {
        self.rules.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    /// Uses one of the first rule matching this request (`session`: the `sid` of its bearer token).
    pub(crate) fn take(&self, method: &str, path: &str, session: Option<&str>) -> Option<ScriptRule> {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let index = rules.iter().position(|r| r.matches(method, path, session))?;
        rules[index].times -= 1;
        let rule = rules[index].clone();
        if rules[index].times == 0 {
            rules.remove(index);
        }
        Some(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_used_in_order_then_run_out() {
        let plan = Plan::default();
        plan.add(ScriptRule::fail("GET", "/schedules", 2, 503)).unwrap();
        plan.add(ScriptRule::delay("GET", "/schedules", 1, 10)).unwrap();
        assert_eq!(plan.take("POST", "/schedules", None), None);
        assert_eq!(plan.take("get", "/schedules", None).unwrap().status, Some(503));
        assert_eq!(plan.take("GET", "/schedules", None).unwrap().status, Some(503));
        assert_eq!(plan.take("GET", "/schedules", None).unwrap().delay_ms, Some(10));
        assert_eq!(plan.take("GET", "/schedules", None), None);
        assert!(plan.pending().is_empty());
    }

    #[test]
    fn a_session_scoped_rule_leaves_other_sessions_alone() {
        let plan = Plan::default();
        plan.add(ScriptRule::fail("GET", "/schedules", 1, 503).for_session("sess_a")).unwrap();
        assert_eq!(plan.take("GET", "/schedules", Some("sess_b")), None);
        assert_eq!(plan.take("GET", "/schedules", None), None);
        assert_eq!(plan.take("GET", "/schedules", Some("sess_a")).unwrap().status, Some(503));
    }

    #[test]
    fn nonsense_rules_are_refused() {
        for bad in [
            ScriptRule::fail("GET", "/x", 0, 503),
            ScriptRule::fail("GET", "/x", 1, 200),
            ScriptRule::fail("G T", "/x", 1, 503),
            ScriptRule::fail("GET", "x", 1, 503),
            ScriptRule::delay("GET", "/x", 1, 600_000),
            ScriptRule::delay("GET", "/x", 1, 5).retry_after(1),
            ScriptRule { delay_ms: None, ..ScriptRule::delay("GET", "/x", 1, 5) },
        ] {
            assert!(matches!(bad.validate(), Err(DownstreamError::InvalidScript(_))), "{bad:?}");
        }
    }
}
