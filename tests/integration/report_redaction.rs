//! Reports redact secrets: a run with failing scenarios writes its JUnit XML, Cucumber JSON, HTML report and
//! progress output (with the failure transcripts), and none of them holds the secret key or a complete JWT.

use clerk_conformance::targets::{reference_profile_path, start_reference};
use harness::profile::Profile;
use harness::runner::{RunArgs, run};
use reference_app::Defect;

/// A complete JWT: three base64url parts, the last long enough to be a real signature.
pub(crate) fn complete_jwts(text: &str) -> Vec<String> {
    let is_b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut found = Vec::new();
    for (start, _) in text.match_indices("eyJ") {
        let rest = &text[start..];
        let parts: Vec<&str> = rest.splitn(4, '.').collect();
        if parts.len() < 3 {
            continue;
        }
        let header_ok = parts[0].chars().all(is_b64);
        let payload_ok = !parts[1].is_empty() && parts[1].chars().all(is_b64);
        let signature: String = parts[2].chars().take_while(|c| is_b64(*c)).collect();
        if header_ok && payload_ok && signature.len() >= 40 {
            found.push(format!("{}.{}.{}", &parts[0][..parts[0].len().min(12)], "…", &signature[..12]));
        }
    }
    found
}

#[test]
fn the_jwt_finder_finds_jwts() {
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln";
    assert_eq!(complete_jwts(&format!("Cookie: __session={jwt}; x")).len(), 1);
    assert!(complete_jwts("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.[redacted]").is_empty());
}

#[test]
fn junit_json_html_and_transcripts_of_a_failing_run_hold_no_secret_key_and_no_complete_jwt() {
    let dir = std::env::temp_dir().join(format!("conformance-reports-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args = RunArgs {
        concurrency: 16,
        junit: Some(dir.join("junit.xml")),
        json: Some(dir.join("cucumber.json")),
        html: Some(dir.join("report.html")),
        output: Some(dir.join("progress.txt")),
        ..RunArgs::default()
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let secret = runtime.block_on(async {
        let profile = Profile::load(reference_profile_path()).unwrap();
        // A defect that puts the token into pages: failing scenarios then carry tokens in their transcripts.
        let running = start_reference(profile, Some(Defect::RendersTokenIntoPage)).await.unwrap();
        let report = run(running.env.clone(), &args).await.unwrap();
        assert!(!report.ok(), "the seeded defect must make the run fail, so there are transcripts to check");
        running.env.secret_key.clone()
    });
    for name in ["junit.xml", "cucumber.json", "progress.txt", "report.html"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.len() > 1000 && text.contains("The token never reaches the browser"), "{name} does not report the failing scenario");
        assert!(!text.contains(&secret), "{name} holds the secret key");
        let jwts = complete_jwts(&text);
        assert!(jwts.is_empty(), "{name} holds {} complete JWT(s), e.g. {}", jwts.len(), jwts[0]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
