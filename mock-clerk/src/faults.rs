//! Scripted faults for the next N matching requests: a status (with an optional `Retry-After` and JSON body),
//! added latency, or both. One rule type and one plan, shared by mock-clerk's own routes and the harness's
//! downstream API double (`harness::downstream::ScriptRule` is this type). A JWKS outage is a 503 on both JWKS
//! routes.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::reqlog::path_matches;

/// The longest latency a fault may add.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// One scripted fault: for the next `times` requests matching `method path` (and `session`), wait `latency_ms`
/// (if set), then answer `status` (if set) instead of the normal answer.
///
/// ```
/// use mock_clerk::Fault;
/// let rule = Fault::fail("GET", "/schedules", 2, 503).retry_after(1).for_session("sess_1");
/// assert_eq!((rule.times, rule.status, rule.retry_after), (2, Some(503), Some(1)));
/// assert!(rule.validate().is_ok());
/// let slow = Fault::delay("PUT", "/schedules/*", 1, 1500);
/// assert!(slow.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only this method, case-insensitive (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// The path it applies to; a trailing `*` matches any suffix.
    pub path: String,
    /// How many requests it affects (at least 1).
    #[serde(default = "one")]
    pub times: u32,
    /// The status to answer (400-599) instead of the real one (the real answer when absent: latency only).
    #[serde(default)]
    pub status: Option<u16>,
    /// A `Retry-After` header value, in seconds (with `status`).
    #[serde(default)]
    pub retry_after: Option<u32>,
    /// Delay before answering, milliseconds (at most [`MAX_LATENCY_MS`]).
    #[serde(default, alias = "delay_ms")]
    pub latency_ms: Option<u64>,
    /// The JSON body of the failure (with `status`); without it, the server's own error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Only requests of this Clerk session: a bearer session token whose `sid` it is (the downstream double), or
    /// `/v1/sessions/{id}/…` (mock-clerk). Scenarios running concurrently each script their own session's calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

fn one() -> u32 {
    1
}

/// Why a fault rule makes no sense; `param` names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFault {
    /// A field that must be given.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// A field with a wrong value.
    #[error("{param}: {message}")]
    Invalid {
        /// The field.
        param: &'static str,
        /// What is wrong.
        message: &'static str,
    },
}

impl Fault {
    /// Fail the next `times` matching requests with `status`.
    pub fn fail(method: &str, path: &str, times: u32, status: u16) -> Self {
        Self { status: Some(status), ..Self::matching(method, path, times) }
    }
    /// Delay the next `times` matching requests by `ms`, then answer normally.
    pub fn delay(method: &str, path: &str, times: u32, ms: u64) -> Self {
        Self { latency_ms: Some(ms), ..Self::matching(method, path, times) }
    }
    fn matching(method: &str, path: &str, times: u32) -> Self {
        Self { method: Some(method.into()), path: path.into(), times, status: None, retry_after: None, latency_ms: None, body: None, session: None }
    }
    /// Adds `Retry-After: <secs>` to the failure.
    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }
    /// Applies only to requests of this session (`sid`).
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
        self.latency_ms = Some(ms);
        self
    }

    /// Checks the rule makes sense: a status (errors only, so a fault never fakes success), a latency, or both.
    pub fn validate(&self) -> Result<(), InvalidFault> {
        let invalid = |param, message| Err(InvalidFault::Invalid { param, message });
        if self.method.as_deref().is_some_and(|m| m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic())) {
            return invalid("method", "a method is letters, like GET");
        }
        if !self.path.starts_with('/') && self.path != "*" {
            return invalid("path", "a path starts with /");
        }
        if self.times == 0 {
            return invalid("times", "at least 1");
        }
        if self.status.is_some_and(|s| !(400..=599).contains(&s)) {
            return invalid("status", "a fault status is 400-599");
        }
        if self.latency_ms.is_some_and(|ms| ms > MAX_LATENCY_MS) {
            return invalid("latency_ms", "at most 60000");
        }
        if self.status.is_none() && self.latency_ms.is_none() {
            return Err(InvalidFault::Missing("status"));
        }
        if self.status.is_none() && self.retry_after.is_some() {
            return invalid("retry_after", "a Retry-After needs a status");
        }
        if self.status.is_none() && self.body.is_some() {
            return invalid("body", "a body needs a status");
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str, session: Option<&str>) -> bool {
        self.times > 0
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path_matches(&self.path, path)
            && self.session.as_deref().is_none_or(|s| Some(s) == session)
    }

    /// The latency as a duration.
    pub fn latency(&self) -> Option<Duration> {
        self.latency_ms.map(Duration::from_millis)
    }
}

impl From<InvalidFault> for crate::error::ApiError {
    fn from(e: InvalidFault) -> Self {
        match e {
            InvalidFault::Missing(param) => Self::FormParamMissing(param.into()),
            InvalidFault::Invalid { param, message } => Self::FormParamInvalid { param: param.into(), message: message.into() },
        }
    }
}

/// The plan: faults are consumed in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Adds a fault, once it is [valid](Fault::validate).
    pub fn add(&self, fault: Fault) -> Result<(), InvalidFault> {
        fault.validate()?;
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).push(fault);
        Ok(())
    }
    /// The faults not yet used up.
    pub fn pending(&self) -> Vec<Fault> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Removes every fault.
    pub fn clear(&self) {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    /// Takes one use of the first fault matching this request (`session`: the Clerk session it is for, if any).
    pub fn take(&self, method: &str, path: &str, session: Option<&str>) -> Option<Fault> {
        let mut plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let index = plan.iter().position(|f| f.matches(method, path, session))?;
        plan[index].times -= 1;
        let fault = plan[index].clone();
        if plan[index].times == 0 {
            plan.remove(index);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_in_order_then_run_out() {
        let faults = Faults::default();
        faults.add(Fault::fail("GET", "/v1/jwks", 2, 503)).unwrap();
        faults.add(Fault::delay("GET", "/v1/jwks", 1, 10)).unwrap();
        assert!(faults.take("POST", "/v1/jwks", None).is_none());
        assert_eq!(faults.take("get", "/v1/jwks", None).unwrap().status, Some(503));
        assert_eq!(faults.take("GET", "/v1/jwks", None).unwrap().status, Some(503));
        assert_eq!(faults.take("GET", "/v1/jwks", None).unwrap().latency_ms, Some(10));
        assert!(faults.take("GET", "/v1/jwks", None).is_none());
        assert!(faults.pending().is_empty());
    }

    #[test]
    fn a_trailing_star_matches_a_prefix_and_no_method_any() {
        let faults = Faults::default();
        faults.add(Fault { method: None, ..Fault::fail("GET", "/v1/sessions/*", 1, 500) }).unwrap();
        assert!(faults.take("POST", "/v1/sessions/sess_1/revoke", None).is_some());
    }

    #[test]
    fn a_session_scoped_fault_leaves_other_sessions_alone() {
        let faults = Faults::default();
        faults.add(Fault::fail("GET", "/schedules", 1, 503).for_session("sess_a")).unwrap();
        assert_eq!(faults.take("GET", "/schedules", Some("sess_b")), None);
        assert_eq!(faults.take("GET", "/schedules", None), None);
        assert_eq!(faults.take("GET", "/schedules", Some("sess_a")).unwrap().status, Some(503));
    }

    #[test]
    fn nonsense_faults_are_refused() {
        for (bad, param) in [
            (Fault::fail("GET", "/x", 0, 503), "times"),
            (Fault::fail("GET", "/x", 1, 200), "status"),
            (Fault::fail("G T", "/x", 1, 503), "method"),
            (Fault::fail("GET", "x", 1, 503), "path"),
            (Fault::delay("GET", "/x", 1, 600_000), "latency_ms"),
            (Fault::delay("GET", "/x", 1, 5).retry_after(1), "retry_after"),
            (Fault::delay("GET", "/x", 1, 5).with_body(Value::Null), "body"),
        ] {
            assert!(matches!(bad.validate(), Err(InvalidFault::Invalid { param: p, .. }) if p == param), "{bad:?}");
        }
        assert_eq!(Fault { latency_ms: None, ..Fault::delay("GET", "/x", 1, 5) }.validate(), Err(InvalidFault::Missing("status")));
        let faults = Faults::default();
        assert!(faults.add(Fault::fail("GET", "/x", 1, 200)).is_err());
        assert!(faults.pending().is_empty());
    }

    #[test]
    fn the_downstream_spelling_of_latency_is_accepted() {
        let rule: Fault = serde_json::from_str(r#"{"method":"GET","path":"/x","delay_ms":5}"#).unwrap();
        assert_eq!(rule.latency_ms, Some(5));
    }
}
