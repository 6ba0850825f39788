//! A cucumber writer that records how each scenario ended: the failing step with its file:line and message,
//! undefined and ambiguous steps, failed hooks, and feature files that could not be parsed. The verdict is
//! made from this record (`verdict.rs`), not from cucumber's own counters.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cucumber::event::{self, Cucumber, Feature, Rule, Scenario, Step, StepError};
use cucumber::{Event, World, Writer, cli, gherkin, parser};

use crate::profile::FailureSignature;
use crate::transcript::Transcript;

/// How a scenario ended, before the profile is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Every step passed.
    Passed,
    /// A step failed: its signature, where it is, and the whole message (transcript included).
    Failed {
        /// Step and short message, for matching expected failures.
        signature: FailureSignature,
        /// `features/x.feature:12`.
        location: String,
        /// The whole message, transcript included (secrets redacted by the steps).
        detail: String,
    },
    /// The run cannot vouch for it: an undefined or ambiguous step, a failed hook. Always a failure.
    Broken(String),
}

/// One scenario as it ran.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The stable id tag (`@RP-001`), empty when there is none.
    pub id: String,
    /// The scenario's name (example values substituted).
    pub name: String,
    /// The feature's name.
    pub feature: String,
    /// `features/x.feature:12` of the scenario (of its example row, for an outline).
    pub location: String,
    /// The example row, column → value (empty for a plain scenario).
    pub example: Vec<(String, String)>,
    /// Every tag, feature's and rule's included.
    pub tags: Vec<String>,
    /// How it ended.
    pub ending: Ending,
    /// Its steps as they ran (background steps first), each with how it ended.
    pub steps: Vec<StepRun>,
    /// What it saw (kept only when an HTML report is asked for).
    pub transcript: Option<Transcript>,
}

/// One step as it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRun {
    /// `Given I am signed in`.
    pub text: String,
    /// Its line in the feature file.
    pub line: usize,
    /// How it ended.
    pub status: StepStatus,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// It passed.
    Passed,
    /// It failed (or matched no or several definitions).
    Failed,
    /// It did not run: an earlier step failed.
    NotRun,
}

/// What the writer collected.
#[derive(Debug, Default)]
pub struct Record {
    /// Finished scenarios, in completion order.
    pub scenarios: Vec<Recorded>,
    /// Feature files that could not be parsed (or expanded), with why.
    pub parse_errors: Vec<String>,
    running: BTreeMap<String, Recorded>,
    /// Transcripts handed over by the runner's after-scenario hook, by [`Record::key`], until the scenario's
    /// end is written.
    pub(crate) captured: BTreeMap<String, Transcript>,
    /// The live progress line, on a terminal.
    pub(crate) live: Option<Arc<super::live::Live>>,
}

/// The writer; clones share one [`Record`].
#[derive(Debug, Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Record>>);

/// The stable id among a scenario's tags: `@ABC-123`.
pub fn scenario_id(tags: &[String]) -> String {
    tags.iter()
        .map(|t| t.trim_start_matches('@'))
        .find(|t| {
            t.split_once('-').is_some_and(|(a, n)| {
                !a.is_empty() && a.chars().all(|c| c.is_ascii_uppercase()) && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
            })
        })
        .map(|t| format!("@{t}"))
        .unwrap_or_default()
}

/// The example row of an expanded outline scenario.
pub fn example_row(scenario: &gherkin::Scenario) -> Vec<(String, String)> {
    let Some(rows) = scenario.examples.first().and_then(|e| e.table.as_ref()).map(|t| &t.rows) else {
        return Vec::new();
    };
    match (rows.first(), rows.get(1)) {
        (Some(header), Some(values)) => header.iter().cloned().zip(values.iter().cloned()).collect(),
        _ => Vec::new(),
    }
}

fn where_is(feature: &gherkin::Feature, line: usize) -> String {
    let path = feature.path.as_ref().map(|p| display_path(p)).unwrap_or_else(|| feature.name.clone());
    format!("{path}:{line}")
}

/// A feature path relative to the workspace when it is inside it.
fn display_path(path: &std::path::Path) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(|p| p.to_path_buf());
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    root.and_then(|r| r.canonicalize().ok())
        .and_then(|r| canonical.strip_prefix(r).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

/// The text of a panic payload.
pub fn panic_text(info: &event::Info) -> String {
    info.downcast_ref::<String>()
        .cloned()
        .or_else(|| info.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a non-text panic".into())
}

/// The failure message without the transcript (which follows a blank line).
pub fn short_message(detail: &str) -> String {
    detail.split("\n\n").next().unwrap_or_default().trim().to_owned()
}

impl Record {
    /// The key of a running scenario.
    pub(crate) fn key(feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> String {
        format!("{}:{}:{}", where_is(feature, scenario.position.line), scenario.position.col, scenario.name)
    }

    fn scenario<W>(&mut self, feature: &gherkin::Feature, rule: Option<&gherkin::Rule>, scenario: &gherkin::Scenario, ev: Scenario<W>) {
        let key = Self::key(feature, scenario);
        match ev {
            Scenario::Started => {
                let tags: Vec<String> = feature
                    .tags
                    .iter()
                    .chain(rule.iter().flat_map(|r| &r.tags))
                    .chain(&scenario.tags)
                    .map(|t| format!("@{}", t.trim_start_matches('@')))
                    .collect();
                let recorded = Recorded {
                    id: scenario_id(&scenario.tags),
                    name: scenario.name.clone(),
                    feature: feature.name.clone(),
                    location: where_is(feature, scenario.position.line),
                    example: example_row(scenario),
                    tags,
                    ending: Ending::Passed,
                    steps: feature
                        .background
                        .iter()
                        .chain(rule.and_then(|r| r.background.as_ref()))
                        .flat_map(|b| &b.steps)
                        .chain(&scenario.steps)
                        .map(|s| StepRun { text: format!("{} {}", s.keyword.trim(), s.value), line: s.position.line, status: StepStatus::NotRun })
                        .collect(),
                    transcript: None,
                };
                self.running.insert(key, recorded);
            }
            Scenario::Step(step, ev) | Scenario::Background(step, ev) => self.step(&key, feature, &step, ev),
            Scenario::Hook(kind, event::Hook::Failed(_, info)) => {
                self.end(&key, Ending::Broken(format!("the {kind:?} hook failed: {}", panic_text(&info))))
            }
            Scenario::Finished => {
                if let Some(mut done) = self.running.remove(&key) {
                    done.transcript = self.captured.remove(&key);
                    if let Some(live) = &self.live {
                        live.finished(done.ending != Ending::Passed);
                    }
                    self.scenarios.push(done);
                }
            }
            _ => {}
        }
    }

    fn step<W>(&mut self, key: &str, feature: &gherkin::Feature, step: &gherkin::Step, ev: Step<W>) {
        let written = format!("{} {}", step.keyword.trim(), step.value);
        let at = where_is(feature, step.position.line);
        let status = match &ev {
            Step::Passed(..) => Some(StepStatus::Passed),
            // `Skipped` is cucumber's word for a step no definition matches.
            Step::Skipped | Step::Failed(..) => Some(StepStatus::Failed),
            Step::Started => None,
        };
        if let (Some(status), Some(r)) = (status, self.running.get_mut(key)) {
            let line = step.position.line;
            if let Some(s) = r.steps.iter_mut().find(|s| s.line == line && s.status == StepStatus::NotRun) {
                s.status = status;
            }
        }
        let ending = match ev {
            Step::Skipped | Step::Failed(_, _, _, StepError::NotFound) => {
                Ending::Broken(format!("undefined step `{written}` at {at}: no step definition matches it"))
            }
            Step::Failed(_, _, _, StepError::AmbiguousMatch(e)) => Ending::Broken(format!("ambiguous step `{written}` at {at}: {e}")),
            Step::Failed(_, _, _, StepError::Panic(info)) => {
                let detail = panic_text(&info);
                Ending::Failed { signature: FailureSignature { step: written, message: short_message(&detail) }, location: at, detail }
            }
            _ => return,
        };
        self.end(key, ending);
    }

    /// Keeps the first way a scenario went wrong.
    fn end(&mut self, key: &str, ending: Ending) {
        if let Some(r) = self.running.get_mut(key).filter(|r| r.ending == Ending::Passed) {
            r.ending = ending;
        }
    }
}

impl<W: World> Writer<W> for Recorder {
    type Cli = cli::Empty;

    async fn handle_event(&mut self, event: parser::Result<Event<Cucumber<W>>>, _cli: &Self::Cli) {
        let mut record = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match event.map(Event::into_inner) {
            Err(e) => record.parse_errors.push(e.to_string()),
            Ok(Cucumber::Feature(feature, Feature::Scenario(scenario, ev))) => record.scenario(&feature, None, &scenario, ev.event),
            Ok(Cucumber::Feature(feature, Feature::Rule(rule, Rule::Scenario(scenario, ev)))) => {
                record.scenario(&feature, Some(&rule), &scenario, ev.event)
            }
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_messages() {
        assert_eq!(scenario_id(&["serial".into(), "SEC-101".into()]), "@SEC-101");
        assert_eq!(scenario_id(&["sign-out".into(), "SEC-".into()]), "");
        assert_eq!(short_message("it broke\nbadly\n\ntranscript"), "it broke\nbadly");
    }
}
