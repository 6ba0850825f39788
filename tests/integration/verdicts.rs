//! The verdict can be trusted: a misspelt step, an unparsable feature, an expected failure that fails otherwise
//! or passes — each fails the run, with a message that says where and why. Runs small features against the
//! in-process reference app.

use clerk_conformance::targets::{reference_profile_path, start_reference};
use harness::profile::Profile;
use harness::runner::{Outcome, Report, RunArgs, run};

fn features(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("conformance-verdicts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

async fn run_with(profile: Profile, dir: std::path::PathBuf) -> Report {
    let running = start_reference(profile, None).await.unwrap();
    let args = RunArgs { quiet: true, features: Some(dir), ..RunArgs::default() };
    run(running.env.clone(), &args).await.unwrap()
}

fn reference() -> Profile {
    Profile::load(reference_profile_path()).unwrap()
}

const GOOD: &str = "Feature: good\n\n  @VD-001\n  Scenario: signed out\n    Given I am signed out\n    When I open the data page\n    Then I am sent to sign in, with a way back to the data page\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_step_fails_the_run_naming_the_step_and_where_it_is() {
    let typo = "Feature: typo\n\n  @VD-002\n  Scenario: a typo\n    Given I am signed out\n    When I opne the data page\n    Then I am sent to sign in, with a way back to the data page\n";
    let dir = features("typo", &[("good.feature", GOOD), ("typo.feature", typo)]);
    let report = run_with(reference(), dir).await;
    assert!(!report.ok(), "a run with an undefined step passed");
    assert_eq!((report.passed, report.failed), (1, 1));
    let failed = report.results.iter().find(|r| r.scenario.id == "@VD-002").unwrap();
    let Outcome::Failed(why) = &failed.outcome else { panic!("{:?}", failed.outcome) };
    assert!(why.contains("undefined step `When I opne the data page`") && why.contains("typo.feature:6"), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feature_that_does_not_parse_fails_the_run() {
    let broken = "Feature: broken\n  Scenario Outline: x <missing>\n    Given I am signed out\n    Examples:\n      | other |\n      | 1     |\n";
    let report = run_with(reference(), features("parse", &[("good.feature", GOOD), ("broken.feature", broken)])).await;
    assert!(!report.ok() && !report.parse_errors.is_empty(), "{:?}", report.parse_errors);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_skip_is_reported_and_a_skip_without_reason_is_refused() {
    let mut profile = reference();
    profile.skip.push(harness::profile::Skip { scenario: "@VD-001".into(), example: Default::default(), reason: "cannot drive it".into() });
    let report = run_with(profile, features("skip", &[("good.feature", GOOD)])).await;
    assert_eq!((report.passed, report.skipped), (0, 1));
    assert!(!report.ok(), "a run that ran nothing is not a pass");
    let text = std::fs::read_to_string(reference_profile_path()).unwrap() + "\n[[skip]]\nscenario = \"@RP-001\"\nreason = \"\"\n";
    assert!(Profile::from_str(&text, "t.toml").unwrap_err().to_string().contains("needs a reason"));
}

fn expecting(step: &str, message: &str) -> Profile {
    let mut profile = reference();
    profile.expected_failures.push(harness::profile::ExpectedFailure {
        scenario: "@VD-001".into(),
        example: Default::default(),
        step: step.into(),
        message: message.into(),
        reason: "a test of the verdict".into(),
    });
    profile
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expected_failure_that_passes_is_fixed_and_fails_the_run() {
    let report =
        run_with(expecting("Then I am sent to sign in, with a way back to the data page", "."), features("fixed", &[("good.feature", GOOD)])).await;
    assert!(!report.ok());
    assert!(matches!(&report.results[0].outcome, Outcome::Fixed(why) if why.contains("remove it")), "{:?}", report.results[0].outcome);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_signed_failure_is_expected() {
    // The reference app sends me to sign in; this feature expects the opposite, so it fails at the last step.
    let wrong = GOOD.replace("Then I am sent to sign in, with a way back to the data page", "Then the page shows the API's data");
    let dir = || features("signed", &[("wrong.feature", &wrong)]);
    let matching = run_with(expecting("Then the page shows the API's data", "shows no data from the API"), dir()).await;
    assert!(matching.ok(), "{:?}", matching.results);
    assert_eq!(matching.expected_failures, 1);
    let other_message = run_with(expecting("Then the page shows the API's data", "status 500"), dir()).await;
    assert!(!other_message.ok());
    assert!(
        matches!(&other_message.results[0].outcome, Outcome::FailedOtherwise(why) if why.contains("/status 500/")),
        "{:?}",
        other_message.results[0].outcome
    );
    let other_step = run_with(expecting("When I open the data page", "."), dir()).await;
    assert!(matches!(&other_step.results[0].outcome, Outcome::FailedOtherwise(_)));
}
