//! The HTML run report (`--html PATH`, `CONFORMANCE_HTML`): one self-contained file (inline CSS and script, no
//! fetches) with the run's summary, filters by feature, tag and status, and per scenario its steps, the
//! sequence diagram of its exchanges ([`diagram`]), its hops, the cookie jar over time and decoded tokens
//! ([`facts`]), the screenshot of a failed browser step, and for a failure the expected against the observed.
//!
//! Every value is escaped by maud and redacted like the text transcript ([`crate::transcript::redact`]), and the
//! whole page is redacted once more before it is written. A huge transcript stays readable: at most
//! [`diagram::MAX_DRAWN`] exchanges are drawn and [`facts::MAX_ROWS`] hops listed per scenario.

pub mod diagram;
pub mod facts;

use std::path::Path;
use std::time::Duration;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::runner::{Ending, Outcome, Report, ScenarioResult, StepStatus};
use crate::transcript::{Entry, redact};

const CSS: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");
/// Screenshots larger than this are linked, not inlined.
const MAX_INLINE_SCREENSHOT: u64 = 3 << 20;
/// The text of a failure is cut to this many characters.
const MAX_DETAIL_CHARS: usize = 200_000;

/// What the report says about the run besides the results.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// The app under test.
    pub target_url: String,
    /// The profile's name.
    pub profile: String,
    /// mock-clerk's base URL.
    pub issuer_url: String,
    /// The downstream double's base URL.
    pub downstream_url: String,
    /// How long the run took.
    pub wall_time: Duration,
    /// What never appears (the secret key).
    pub secrets: Vec<String>,
}

/// Writes the report to `path` (creating its directory).
pub fn write(path: &Path, report: &Report, info: &RunInfo) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, render(report, info))
}

/// The status a scenario is filtered by, and its badge.
pub fn status_of(r: &ScenarioResult) -> (&'static str, &'static str) {
    match r.outcome {
        Outcome::Passed => ("passed", "passed"),
        Outcome::Failed(_) => ("failed", "FAILED"),
        Outcome::FailedOtherwise(_) => ("failed-otherwise", "FAILED OTHERWISE"),
        Outcome::Fixed(_) => ("fixed", "FIXED"),
        Outcome::ExpectedFailure(_) => ("expected-failure", "expected failure"),
        Outcome::Skipped(_) => ("skipped", "skipped"),
    }
}

fn rank(r: &ScenarioResult) -> u8 {
    match r.outcome {
        Outcome::Failed(_) | Outcome::FailedOtherwise(_) | Outcome::Fixed(_) => 0,
        Outcome::ExpectedFailure(_) => 1,
        Outcome::Passed => 2,
        Outcome::Skipped(_) => 3,
    }
}

/// The report as one HTML document.
pub fn render(report: &Report, info: &RunInfo) -> String {
    let secrets: Vec<&str> = info.secrets.iter().map(String::as_str).collect();
    let red = |text: &str| redact(text, &secrets);
    let origins = diagram::Origins::new(&info.target_url, &info.issuer_url, &info.downstream_url);
    let mut results: Vec<&ScenarioResult> = report.results.iter().collect();
    results.sort_by(|a, b| (rank(a), &a.scenario.feature, &a.scenario.location).cmp(&(rank(b), &b.scenario.feature, &b.scenario.location)));
    let mut features: Vec<&str> = results.iter().map(|r| r.scenario.feature.as_str()).collect();
    features.sort_unstable();
    features.dedup();
    let mut tags: Vec<String> = results.iter().flat_map(|r| r.scenario.tags.iter().map(|t| normal_tag(t))).collect();
    tags.sort_unstable();
    tags.dedup();
    let statuses = ["failed", "failed-otherwise", "fixed", "expected-failure", "passed", "skipped"];
    let title = format!("Conformance of {} ({})", info.target_url, info.profile);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="icon" href="data:,";
                title { (red(&title)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    h1 { (red(&title)) }
                    (summary(report, info, &red))
                }
                nav #filters {
                    label { "Feature " select #f-feature { option value="" { "all" } @for f in &features { option value=(f) { (f) } } } }
                    label { "Tag " select #f-tag { option value="" { "all" } @for t in &tags { option value=(t) { (t) } } } }
                    label { "Status " select #f-status { option value="" { "all" } @for s in statuses { option value=(s) { (s) } } } }
                    span #shown {}
                }
                main {
                    @for (i, r) in results.iter().enumerate() {
                        (scenario(i, r, &origins, &red))
                    }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    // Each value was redacted on the way in; the page as a whole once more, so nothing slips through.
    redact(&page.into_string(), &secrets)
}

fn normal_tag(tag: &str) -> String {
    format!("@{}", tag.trim_start_matches('@'))
}

fn summary(report: &Report, info: &RunInfo, red: &dyn Fn(&str) -> String) -> Markup {
    let expected: Vec<&ScenarioResult> = report.results.iter().filter(|r| matches!(r.outcome, Outcome::ExpectedFailure(_))).collect();
    let verdict = if report.ok() { "conforms" } else { "does not conform" };
    html! {
        dl.summary {
            dt { "target" } dd { (red(&info.target_url)) }
            dt { "profile" } dd { (info.profile) }
            dt { "verdict" } dd class=(if report.ok() { "ok" } else { "bad" }) { (verdict) }
            dt { "scenarios" } dd {
                span.count.passed { (report.passed) " passed" } ", "
                span.count.failed { (report.failed) " failed" } ", "
                span.count.expected { (report.expected_failures) " expected failures" } ", "
                span.count.skipped { (report.skipped) " skipped" }
            }
            dt { "wall time" } dd { (format!("{:.2} s", info.wall_time.as_secs_f64())) }
        }
        @if !report.parse_errors.is_empty() {
            section.parse-errors {
                h2 { "Feature files not parsed" }
                ul { @for e in &report.parse_errors { li { (red(e)) } } }
            }
        }
        @if !expected.is_empty() {
            section #expected {
                h2 { "Expected failures (signed in the profile)" }
                ul {
                    @for r in &expected {
                        @if let Outcome::ExpectedFailure(reason) = &r.outcome {
                            li { b { (r.label()) " " (r.scenario.name) } " — " (red(reason)) }
                        }
                    }
                }
            }
        }
    }
}

/// For a failure: what was expected, and what was seen.
fn expected_observed(r: &ScenarioResult) -> Option<(String, String)> {
    let observed = match &r.scenario.ending {
        Ending::Failed { detail, .. } => crate::runner::short_message(detail),
        Ending::Broken(why) => why.clone(),
        Ending::Passed => "every step passed".to_owned(),
    };
    let step = r.failed_step.clone().unwrap_or_default();
    match &r.outcome {
        Outcome::Failed(_) => Some((format!("`{step}` holds"), observed)),
        Outcome::FailedOtherwise(why) => {
            let expected = why.split(", but ").next().unwrap_or_default().trim_start_matches("not the expected failure: ").to_owned();
            Some((expected, observed))
        }
        Outcome::Fixed(why) => Some((why.clone(), observed)),
        _ => None,
    }
}

fn scenario(i: usize, r: &ScenarioResult, origins: &diagram::Origins, red: &dyn Fn(&str) -> String) -> Markup {
    let (status, badge) = status_of(r);
    let tags = r.scenario.tags.iter().map(|t| normal_tag(t)).collect::<Vec<_>>().join(" ");
    let open = rank(r) == 0;
    let entries: &[Entry] = r.scenario.transcript.as_ref().map(|t| t.entries()).unwrap_or_default();
    let reason = match &r.outcome {
        Outcome::ExpectedFailure(why) | Outcome::Skipped(why) => Some(why.as_str()),
        _ => None,
    };
    html! {
        details.scenario id=(format!("s{i}")) open[open] data-feature=(r.scenario.feature) data-tags=(format!(" {tags} ")) data-status=(status) {
            summary {
                span class=(format!("badge {status}")) { (badge) } " "
                b { (r.label()) } " " (red(&r.scenario.name))
                span.where { " — " (r.scenario.feature) ", " (r.scenario.location) }
            }
            div.body {
                p.tags { @for t in r.scenario.tags.iter() { span.tag { (normal_tag(t)) } " " } }
                @if let Some(why) = reason { p.reason { (red(why)) } }
                @if let Some((expected, observed)) = expected_observed(r) {
                    table.expect {
                        tr { th { "expected" } td { pre { (red(&expected)) } } }
                        tr { th { "observed" } td { pre { (red(&observed)) } } }
                    }
                }
                @if !r.scenario.steps.is_empty() {
                    h3 { "Steps" }
                    ol.steps {
                        @for s in &r.scenario.steps {
                            @let class = match s.status { StepStatus::Passed => "passed", StepStatus::Failed => "failed", StepStatus::NotRun => "not-run" };
                            li class=(class) { (red(&s.text)) }
                        }
                    }
                }
                @if !entries.is_empty() {
                    (exchanges(entries, origins, red))
                }
                @if let Ending::Failed { detail, .. } | Ending::Broken(detail) = &r.scenario.ending {
                    details.transcript {
                        summary { "The failure as text (message and transcript)" }
                        pre { (red(&detail.chars().take(MAX_DETAIL_CHARS).collect::<String>())) }
                    }
                }
            }
        }
    }
}

fn exchanges(entries: &[Entry], origins: &diagram::Origins, red: &dyn Fn(&str) -> String) -> Markup {
    let (rows, left_out) = diagram::rows(entries, origins, red);
    let (all_tokens, tokens) = facts::tokens(entries);
    let jar = facts::jar(entries);
    let hops = entries.iter().filter(|e| matches!(e, Entry::Hop(_))).count();
    html! {
        h3 { "Sequence" }
        div.diagram-box { (diagram::svg(&rows)) }
        @if left_out > 0 { p.more { (left_out) " more exchanges not drawn (" (entries.len()) " in all)" } }
        details.hops {
            summary { "Exchanges (" (entries.len()) ")" }
            table.hops {
                tr { th { "#" } th { "request" } th { "answer" } th { "tokens" } }
                @for (n, e) in entries.iter().take(facts::MAX_ROWS).enumerate() {
                    (entry_row(n + 1, e, &all_tokens, red))
                }
            }
            @if entries.len() > facts::MAX_ROWS { p.more { (entries.len() - facts::MAX_ROWS) " more not listed" } }
        }
        @if !jar.names.is_empty() {
            details.jar {
                summary { "Cookie jar over time (" (hops) " hops)" }
                table.jar {
                    tr { th { "hop" } @for n in &jar.names { th { (red(n)) } } }
                    @for (n, cells) in &jar.rows {
                        tr { td { (n) } @for c in cells { td { (red(c)) } } }
                    }
                }
            }
        }
        @if !tokens.is_empty() {
            details.tokens open {
                summary { "Tokens (" (tokens.len()) ", decoded; signatures redacted)" }
                @for (n, t) in tokens.iter().enumerate() {
                    div.token {
                        b { "token " (n + 1) } " (" (red(&t.short)) "…) " span.times { (t.times) }
                        pre { (red(&t.header)) "\n" (red(&t.claims)) }
                    }
                }
            }
        }
        @if let Some(path) = facts::screenshot(entries) { (screenshot(&path, red)) }
    }
}

fn entry_row(n: usize, e: &Entry, tokens: &[String], red: &dyn Fn(&str) -> String) -> Markup {
    let carried = facts::carried(e, tokens).iter().map(|k| format!("#{k}")).collect::<Vec<_>>().join(" ");
    html! {
        @match e {
            Entry::Hop(h) => tr {
                td { (n) }
                td {
                    code { (h.method) " " (red(&h.url)) }
                    @for (name, value) in &h.request_headers {
                        @if ["cookie", "authorization", "next-action"].contains(&name.to_ascii_lowercase().as_str()) {
                            div.hdr { (name) ": " (red(value)) }
                        }
                    }
                }
                td class=(format!("st{}", h.status / 100)) {
                    b { (h.status) } " (" (h.elapsed_ms) " ms)"
                    @if let Some(l) = &h.location { div.hdr { "location: " (red(l)) } }
                    @for name in crate::transcript::SHOWN_HEADERS { @if let Some(v) = h.header(name) { div.hdr { (name) ": " (red(v)) } } }
                    @for c in &h.set_cookies { div.hdr { "set-cookie: " (red(c)) } }
                    @for c in &h.refused_cookies { div.hdr { "refused cookie: " (red(c)) } }
                    @if !h.body.is_empty() && !h.is_redirect() { details { summary { "body" } pre { (red(&h.body)) } } }
                }
                td { (carried) }
            },
            Entry::Downstream(r) | Entry::Issuer(r) => tr {
                td { (n) }
                td {
                    code {
                        @if matches!(e, Entry::Downstream(_)) { "downstream: " } @else { "mock-clerk: " }
                        (r.method) " " (red(&r.path)) @if let Some(q) = &r.query { "?" (red(q)) }
                    }
                    @for (name, value) in &r.headers { @if name == "authorization" { div.hdr { (name) ": " (red(value)) } } }
                }
                td class=(format!("st{}", r.status / 100)) {
                    b { (r.status) }
                    @if !r.body.is_empty() { details { summary { "request body" } pre { (red(&r.body)) } } }
                }
                td { (carried) }
            },
            Entry::Note(text) => tr.note { td { (n) } td colspan="3" { pre { "note: " (red(text)) } } },
        }
    }
}

fn screenshot(path: &str, red: &dyn Fn(&str) -> String) -> Markup {
    use base64::Engine as _;
    let inline = std::fs::metadata(path)
        .ok()
        .filter(|m| m.len() <= MAX_INLINE_SCREENSHOT)
        .and_then(|_| std::fs::read(path).ok())
        .map(|bytes| format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)));
    html! {
        h3 { "Screenshot" }
        p { code { (red(path)) } }
        @if let Some(src) = inline { img.screenshot src=(src) alt="the browser's page when the step failed"; }
    }
}

#[cfg(test)]
mod tests;
