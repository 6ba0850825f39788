//! Seeded defects: the suite must catch every one. For each defect of the reference app
//! (fixtures/reference-app, `Defect`), the whole suite runs against the app with that defect switched on; it
//! must fail, and only in scenarios that test the broken behaviour. Prints the kill table and the kill rate.

use std::collections::BTreeSet;

use clerk_conformance::targets::{reference_profile_path, start_reference};
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use reference_app::Defect;

/// The scenarios that test the behaviour each defect breaks (id prefixes: `@RT-` is the whole retries feature).
fn relevant(defect: Defect) -> &'static [&'static str] {
    use Defect::*;
    match defect {
        ProtectsNothing => &["@RP-", "@RD-001", "@RD-004", "@TR-003", "@TR-004", "@SO-004", "@SEC-"],
        PublicMatcherTooBroad => &["@RP-002", "@RP-008", "@RP-009"],
        StaticExclusionTooBroad => &["@RP-010", "@RP-011"],
        NoRedirectUrl => &["@RP-001", "@RP-002", "@RP-008", "@RP-009", "@RP-010", "@RP-011", "@RD-", "@TR-004", "@SO-004", "@SEC-"],
        OpenRedirectAfterSignIn => &["@RD-003"],
        AcceptsExpiredTokens => &["@TR-", "@BF-003", "@SO-004", "@SEC-"],
        AcceptsAlgNone | AcceptsHs256PublicKey | SkipsSignatureCheck => &["@SEC-"],
        NoBearerHeader => &["@RP-004", "@RP-005", "@BF-", "@RT-", "@TR-001", "@TR-005", "@RD-004", "@SEC-"],
        ForwardsStaleToken => &["@BF-003", "@BF-006", "@TR-001"],
        RendersTokenIntoPage => &["@BF-004"],
        RetriesPost => &["@RT-003"],
        NeverRetries => &["@RT-001", "@RT-002", "@RT-005", "@RT-006", "@RT-007"],
        RetriesOn404 => &["@RT-004"],
        RetriesWithoutLimit => &["@RT-002"],
        NoWaitBetweenRetries => &["@RT-005", "@RT-006"],
        IgnoresRetryAfter => &["@RT-006"],
        SignOutWithoutRevoke => &["@SO-001", "@SO-003", "@SO-004", "@SO-005", "@SEC-6"],
        // It signs out somebody else: whichever scenario owned that session may fail too ("@" matches all);
        // `required` below insists that the sign-out scenario itself catches it.
        RevokesAnotherSession => &["@"],
        SignOutKeepsCookie => &["@SO-003"],
        SignOutRedirectsElsewhere => &["@SO-002", "@RD-002"],
        RefreshesRevokedSession => &["@TR-004", "@SO-004", "@SEC-"],
    }
}

/// A scenario that must be among those that catch the defect, where `relevant` alone is too loose.
fn required(defect: Defect) -> Option<&'static str> {
    matches!(defect, Defect::RevokesAnotherSession).then_some("@SO-001")
}

#[test]
fn the_suite_catches_every_seeded_defect_of_the_reference_app() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let args = RunArgs { quiet: true, concurrency: 16, ..RunArgs::default() };
    let profile = Profile::load(reference_profile_path()).unwrap();
    let mut table = Vec::new();
    let mut problems = Vec::new();
    runtime.block_on(async {
        let clean = start_reference(profile.clone(), None).await.unwrap();
        let report = run(clean.env.clone(), &args).await.unwrap();
        assert!(report.ok(), "the correct reference app fails: {:?}", report.failed_ids());
        // `DEFECT=name` runs one defect only (for investigating a kill-table row).
        let only = std::env::var("DEFECT").ok();
        for defect in Defect::ALL.into_iter().filter(|d| only.as_deref().is_none_or(|o| o == d.name())) {
            let running = start_reference(profile.clone(), Some(defect)).await.unwrap();
            let report = run(running.env.clone(), &args).await.unwrap();
            let caught: BTreeSet<String> = report.failed_ids().into_iter().collect();
            let stray: Vec<&String> = caught.iter().filter(|id| !relevant(defect).iter().any(|p| id.starts_with(p))).collect();
            if caught.is_empty() {
                problems.push(format!("{}: not caught", defect.name()));
            } else if let Some(id) = required(defect).filter(|id| !caught.contains(*id)) {
                problems.push(format!("{}: not caught by {id}", defect.name()));
            } else if !stray.is_empty() {
                problems.push(format!("{}: also failed unrelated scenarios {stray:?}", defect.name()));
            }
            table.push((defect.name(), caught));
        }
    });
    println!("\nkill table (defect → scenarios that caught it):");
    for (name, caught) in &table {
        let ids: Vec<&str> = caught.iter().map(String::as_str).collect();
        println!("  {name:32} {}", if ids.is_empty() { "NOT CAUGHT".to_owned() } else { ids.join(" ") });
    }
    let killed = table.iter().filter(|(_, c)| !c.is_empty()).count();
    println!("kill rate: {killed}/{} = {:.0} %", table.len(), 100.0 * killed as f64 / table.len() as f64);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
