//! Signed expected failures and profile skips: which scenario (and example row) a target is known to fail, at
//! which step and with what message. A failure that does not match its signature is unexpected; an expected
//! failure that passes is "fixed — remove it".
//!
//! ```
//! use harness::profile::{ExpectedFailure, FailureSignature};
//! let f: ExpectedFailure = toml::from_str(r#"
//! scenario = "@RT-007"
//! example = { method = "GET" }
//! step = "Then the page shows the API's data"
//! message = "status 500"
//! reason = "Next's fetch deduplication (observed-nextjs.md §5g)"
//! "#).unwrap();
//! let row = [("method".to_owned(), "GET".to_owned())];
//! assert!(f.applies_to("@RT-007", &row));
//! assert!(!f.applies_to("@RT-007", &[("method".to_owned(), "PUT".to_owned())]));
//! let seen = FailureSignature { step: "And the page shows the API's data".into(), message: "the page answered status 500".into() };
//! assert!(f.matches(&seen, &row));
//! ```

use std::collections::BTreeMap;

use cucumber::codegen::Regex;
use serde::{Deserialize, Serialize};

/// What a failure looked like: the failing step (with its keyword) and the first lines of its message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailureSignature {
    /// The failing step as written, e.g. `Then the response status is 200`.
    pub step: String,
    /// The failure message (without the transcript).
    pub message: String,
}

/// A scenario this target is known to fail, signed with what is observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFailure {
    /// The scenario tag, `@RP-001` style.
    pub scenario: String,
    /// Only this example row (column → value); every row of the scenario when absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub example: BTreeMap<String, String>,
    /// The step that fails, as written in the feature (the keyword may be omitted; `And`/`But` count as any).
    pub step: String,
    /// A regular expression the failure message must match.
    pub message: String,
    /// Why it fails (a finding, with evidence).
    pub reason: String,
}

/// A scenario (or example row) the profile cannot drive: reported as skipped, never as passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    /// The scenario tag.
    pub scenario: String,
    /// Only this example row; every row when absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub example: BTreeMap<String, String>,
    /// Why.
    pub reason: String,
}

const KEYWORDS: [&str; 5] = ["Given", "When", "Then", "And", "But"];

/// A step's text without its keyword.
pub fn step_text(step: &str) -> &str {
    let step = step.trim();
    KEYWORDS.iter().filter_map(|k| step.strip_prefix(k)).find(|rest| rest.is_empty() || rest.starts_with(' ')).unwrap_or(step).trim()
}

fn same_tag(a: &str, b: &str) -> bool {
    !a.is_empty() && a.trim_start_matches('@') == b.trim_start_matches('@')
}

fn row_matches(wanted: &BTreeMap<String, String>, row: &[(String, String)]) -> bool {
    wanted.iter().all(|(k, v)| row.iter().any(|(rk, rv)| rk == k && rv == v))
}

impl ExpectedFailure {
    /// Whether this entry is about `scenario` (an id tag) and that example row.
    pub fn applies_to(&self, scenario: &str, row: &[(String, String)]) -> bool {
        same_tag(&self.scenario, scenario) && row_matches(&self.example, row)
    }

    /// Whether an observed failure (in that example row) is the one this entry expects. The entry's step may
    /// be written as in the outline: `<column>` placeholders take the row's values.
    pub fn matches(&self, seen: &FailureSignature, row: &[(String, String)]) -> bool {
        let step = row.iter().fold(step_text(&self.step).to_owned(), |s, (k, v)| s.replace(&format!("<{k}>"), v));
        step == step_text(&seen.step) && Regex::new(&self.message).is_ok_and(|re| re.is_match(&seen.message))
    }

    /// `@RT-007 [method=GET]`.
    pub fn label(&self) -> String {
        label(&self.scenario, &self.example)
    }

    pub(super) fn check(&self) -> Result<(), String> {
        check_tag(&self.scenario)?;
        if self.reason.trim().is_empty() {
            return Err(format!("{} needs a reason", self.label()));
        }
        if step_text(&self.step).is_empty() {
            return Err(format!("{} needs the failing step (`step = \"Then …\"`)", self.label()));
        }
        Regex::new(&self.message).map(|_| ()).map_err(|e| format!("{}: message is not a regular expression: {e}", self.label()))
    }
}

impl Skip {
    /// Whether this entry skips `scenario` in that example row.
    pub fn applies_to(&self, scenario: &str, row: &[(String, String)]) -> bool {
        same_tag(&self.scenario, scenario) && row_matches(&self.example, row)
    }

    pub(super) fn check(&self) -> Result<(), String> {
        check_tag(&self.scenario)?;
        if self.reason.trim().is_empty() {
            return Err(format!("{} needs a reason", label(&self.scenario, &self.example)));
        }
        Ok(())
    }
}

fn check_tag(id: &str) -> Result<(), String> {
    if !id.starts_with('@') || id.len() < 2 || id.chars().any(char::is_whitespace) {
        return Err(format!("scenario {id:?} must be a tag like @RP-001"));
    }
    Ok(())
}

/// `@RT-007 [method=GET]`, or the bare tag without a row.
pub fn label(scenario: &str, example: &BTreeMap<String, String>) -> String {
    if example.is_empty() {
        return scenario.to_owned();
    }
    let row: Vec<String> = example.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{scenario} [{}]", row.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(step: &str, message: &str) -> ExpectedFailure {
        ExpectedFailure { scenario: "@RP-002".into(), example: BTreeMap::new(), step: step.into(), message: message.into(), reason: "r".into() }
    }

    #[test]
    fn the_step_and_the_message_must_both_match() {
        let f = entry("Then I am sent to sign in, with a way back to the GET API route", "ended with 404");
        let seen = |step: &str, message: &str| FailureSignature { step: step.into(), message: message.into() };
        assert!(f.matches(
            &seen("And I am sent to sign in, with a way back to the GET API route", "I was not sent to sign in: the request ended with 404 at x"),
            &[]
        ));
        assert!(!f.matches(&seen("Then the API received no request", "ended with 404"), &[]));
        assert!(!f.matches(&seen("Then I am sent to sign in, with a way back to the GET API route", "ended with 200"), &[]));
        let outline = entry("Then I am sent to sign in, with a way back to <route>", "404");
        let row = [("route".to_owned(), "the PUT API route".to_owned())];
        assert!(outline.matches(&seen("Then I am sent to sign in, with a way back to the PUT API route", "404"), &row));
        assert!(!outline.matches(&seen("Then I am sent to sign in, with a way back to the GET API route", "404"), &row));
    }

    #[test]
    fn rows_and_tags() {
        let mut f = entry("Then x", ".");
        assert!(f.applies_to("RP-002", &[]) && f.applies_to("@RP-002", &[("a".into(), "b".into())]));
        assert!(!f.applies_to("@RP-0021", &[]) && !f.applies_to("", &[]));
        f.example.insert("method".into(), "PUT".into());
        assert!(!f.applies_to("@RP-002", &[]));
        assert!(f.applies_to("@RP-002", &[("method".into(), "PUT".into()), ("route".into(), "x".into())]));
        assert_eq!(f.label(), "@RP-002 [method=PUT]");
    }

    #[test]
    fn entries_are_checked() {
        assert!(entry("Then x", "(").check().unwrap_err().contains("regular expression"));
        assert!(entry("Then ", "x").check().unwrap_err().contains("failing step"));
        assert!(ExpectedFailure { reason: " ".into(), ..entry("Then x", "x") }.check().unwrap_err().contains("reason"));
        assert!(ExpectedFailure { scenario: "RP-1".into(), ..entry("Then x", "x") }.check().is_err());
        assert!(entry("Then x", "x").check().is_ok());
    }
}
