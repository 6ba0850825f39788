//! Faults injected into mock-clerk's own routes for the next N matching requests: a status (with an optional
//! `Retry-After`), added latency, or both. A JWKS outage is a 503 on both JWKS routes.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One scripted fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// The path it applies to; a trailing `*` matches any suffix.
    pub path: String,
    /// How many requests it affects.
    #[serde(default = "one")]
    pub times: u32,
    /// The status to answer instead of the real one (the real answer when absent: latency only).
    #[serde(default)]
    pub status: Option<u16>,
    /// A `Retry-After` header value, in seconds.
    #[serde(default)]
    pub retry_after: Option<u32>,
    /// Delay before answering, milliseconds.
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        method_ok && path_ok && self.times > 0
    }

    /// The latency as a duration.
    pub fn latency(&self) -> Option<Duration> {
        self.latency_ms.map(Duration::from_millis)
    }
}

/// The plan: faults are consumed in the order they were added.
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Adds a fault.
    pub fn add(&self, fault: Fault) {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).push(fault);
    }
    /// The faults not yet used up.
    pub fn pending(&self) -> Vec<Fault> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    /// Removes every fault.
    pub fn clear(&self) {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    /// Takes one use of the first fault matching this request.
    pub fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut plan = self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let index = plan.iter().position(|f| f.matches(method, path))?;
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
    fn a_fault_is_used_up_after_its_count() {
        let faults = Faults::default();
        faults.add(Fault { method: Some("GET".into()), path: "/v1/jwks".into(), times: 2, status: Some(503), retry_after: None, latency_ms: None });
        assert!(faults.take("POST", "/v1/jwks").is_none());
        assert_eq!(faults.take("GET", "/v1/jwks").unwrap().status, Some(503));
        assert!(faults.take("GET", "/v1/jwks").is_some());
        assert!(faults.take("GET", "/v1/jwks").is_none());
    }

    #[test]
    fn a_trailing_star_matches_a_prefix() {
        let faults = Faults::default();
        faults.add(Fault { method: None, path: "/v1/sessions/*".into(), times: 1, status: Some(500), retry_after: None, latency_ms: None });
        assert!(faults.take("POST", "/v1/sessions/sess_1/revoke").is_some());
    }
}
