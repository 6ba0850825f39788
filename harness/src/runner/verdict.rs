//! The verdict: each recorded scenario judged against the profile (signed expected failures, skips), the
//! tally, and the report printed at the end of a run.

use std::io::Write as _;

use super::record::{Ending, Recorded};
use crate::profile::{ExpectedFailure, Profile};

/// How one scenario is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every step passed, as expected.
    Passed,
    /// A step failed (or the run could not vouch for the scenario) and the profile does not expect it.
    Failed(String),
    /// Failed exactly as the profile's signed entry says.
    ExpectedFailure(String),
    /// The profile expects a failure, but the scenario failed otherwise: what was expected and what was seen.
    FailedOtherwise(String),
    /// The profile expects a failure and it passed: fixed — remove the entry.
    Fixed(String),
    /// The profile skips it (with the reason); never counted as passed.
    Skipped(String),
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario as it ran (id, name, feature, location, example row, tags, how it ended).
    pub scenario: Recorded,
    /// The failing step as written (`Then …`), when a step failed.
    pub failed_step: Option<String>,
    /// The verdict.
    pub outcome: Outcome,
}

impl ScenarioResult {
    /// Whether this result makes the run fail.
    pub fn unexpected(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_) | Outcome::FailedOtherwise(_) | Outcome::Fixed(_))
    }
    /// `@RP-002 [method=PUT, route=…]`.
    pub fn label(&self) -> String {
        let row: std::collections::BTreeMap<String, String> = self.scenario.example.iter().cloned().collect();
        crate::profile::label(&self.scenario.id, &row)
    }
}

/// The run's tally, after the profile is applied.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every scenario, in completion order (profile skips last).
    pub results: Vec<ScenarioResult>,
    /// Feature files that could not be parsed.
    pub parse_errors: Vec<String>,
    /// Passed.
    pub passed: usize,
    /// Failed unexpectedly (including broken runs, failures other than the expected one, and fixed ones).
    pub failed: usize,
    /// Skipped by the profile.
    pub skipped: usize,
    /// Failed exactly as expected.
    pub expected_failures: usize,
}

impl Report {
    /// Whether the verdict is "conforms": something ran, nothing unexpected, every feature parsed.
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.parse_errors.is_empty() && self.passed + self.expected_failures > 0
    }
    /// The ids of scenarios with an unexpected result.
    pub fn failed_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.results.iter().filter(|r| r.unexpected()).map(|r| r.scenario.id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
    /// `(id, failing step)` of every unexpected failure.
    pub fn failures(&self) -> Vec<(String, String)> {
        self.results.iter().filter(|r| r.unexpected()).map(|r| (r.scenario.id.clone(), r.failed_step.clone().unwrap_or_default())).collect()
    }
}

fn judge(r: &Recorded, profile: &Profile) -> (Option<String>, Outcome) {
    let expected: Option<&ExpectedFailure> = profile.expected_failure(&r.id, &r.example);
    match (&r.ending, expected) {
        (Ending::Passed, None) => (None, Outcome::Passed),
        (Ending::Passed, Some(f)) => {
            (None, Outcome::Fixed(format!("fixed — remove it from the profile: {} expects `{}` to fail ({})", f.label(), f.step, f.reason)))
        }
        (Ending::Broken(why), _) => (None, Outcome::Failed(why.clone())),
        (Ending::Failed { signature, location, detail }, None) => {
            (Some(signature.step.clone()), Outcome::Failed(format!("`{}` at {location}: {detail}", signature.step)))
        }
        (Ending::Failed { signature, location, .. }, Some(f)) if f.matches(signature, &r.example) => {
            let _ = location;
            (Some(signature.step.clone()), Outcome::ExpectedFailure(f.reason.clone()))
        }
        (Ending::Failed { signature, location, detail }, Some(f)) => (
            Some(signature.step.clone()),
            Outcome::FailedOtherwise(format!(
                "not the expected failure: the profile expects `{}` to fail with /{}/, but `{}` at {location} failed: {detail}",
                f.step, f.message, signature.step
            )),
        ),
    }
}

/// Judges every recorded scenario; `skipped` are the scenarios the profile skipped before running.
pub fn tally(recorded: Vec<Recorded>, skipped: Vec<Recorded>, parse_errors: Vec<String>, profile: &Profile) -> Report {
    let mut report = Report { parse_errors, ..Report::default() };
    for r in recorded {
        let (failed_step, outcome) = judge(&r, profile);
        match outcome {
            Outcome::Passed => report.passed += 1,
            Outcome::ExpectedFailure(_) => report.expected_failures += 1,
            _ => report.failed += 1,
        }
        report.results.push(ScenarioResult { scenario: r, failed_step, outcome });
    }
    for r in skipped {
        let reason = profile.skip_reason(&r.id, &r.example, &r.tags).unwrap_or_default();
        report.skipped += 1;
        report.results.push(ScenarioResult { scenario: r, failed_step: None, outcome: Outcome::Skipped(reason) });
    }
    report
}

/// Prints the verdict: every result that is not a plain pass, the counts, the wall time, and the closing line.
pub fn print(report: &Report, target_url: &str, profile: &Profile, quiet: bool, wall_time: std::time::Duration) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\nconformance of {target_url} ({}):", profile.name);
    for e in &report.parse_errors {
        let _ = writeln!(out, "  FEATURE NOT PARSED {e}");
    }
    for r in &report.results {
        let first_line = |text: &str| -> String {
            if quiet {
                format!("\n      {}", text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default())
            } else {
                format!("\n      {}", super::record::short_message(text))
            }
        };
        let line = match &r.outcome {
            Outcome::Passed => continue,
            Outcome::ExpectedFailure(reason) => {
                format!("expected failure  {} {} — {reason}", r.label(), r.scenario.name)
            }
            Outcome::Fixed(why) => format!("FIXED             {} {} — {why}", r.label(), r.scenario.name),
            Outcome::Failed(why) => format!("FAILED            {} {} ({}){}", r.label(), r.scenario.name, r.scenario.location, first_line(why)),
            Outcome::FailedOtherwise(why) => {
                format!("FAILED OTHERWISE  {} {} ({}){}", r.label(), r.scenario.name, r.scenario.location, first_line(why))
            }
            Outcome::Skipped(why) => format!("skipped           {} {} — the profile skips it: {why}", r.label(), r.scenario.name),
        };
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "{} expected failure(s) of this target, signed and matched (counted as skipped below)", report.expected_failures);
    let _ = writeln!(out, "suite wall time against {}: {:.2} s", profile.name, wall_time.as_secs_f64());
    // The closing line, last, in the plain form test-result readers know.
    let _ = writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        report.passed,
        report.failed + report.parse_errors.len(),
        report.skipped + report.expected_failures
    );
}
