use super::*;
use crate::agent::Hop;
use crate::runner::{Recorded, StepRun};
use crate::transcript::Transcript;
use mock_clerk::LoggedRequest;
use mock_clerk::keys::{SigningKey, TEST_KEY_PEM};
use mock_clerk::tokens::{TokenSpec, sign_rs256};

const SECRET: &str = "sk_test_mock_clerk_0000000000000000000000";

fn info() -> RunInfo {
    RunInfo {
        target_url: "http://127.0.0.1:3000".into(),
        profile: "reference".into(),
        issuer_url: "http://127.0.0.1:4010".into(),
        downstream_url: "http://127.0.0.1:4020".into(),
        wall_time: Duration::from_millis(1234),
        secrets: vec![SECRET.into()],
    }
}

fn jwt(sub: &str) -> String {
    let key = SigningKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap();
    sign_rs256(&key, &TokenSpec::new(sub, "sess_1").claims("http://127.0.0.1:4010", Duration::from_secs(60), crate::agent::now_secs()))
}

fn failed(entries: Vec<Entry>) -> Report {
    let detail = format!("the page showed {SECRET}\n\ntranscript …");
    let scenario = Recorded {
        id: "@RP-001".into(),
        name: "A signed-out visitor is sent to sign in".into(),
        feature: "Route protection".into(),
        location: "features/x.feature:3".into(),
        example: Vec::new(),
        tags: vec!["@RP-001".into(), "@protection".into()],
        ending: Ending::Failed {
            signature: crate::profile::FailureSignature { step: "Then I am sent to sign in".into(), message: "no".into() },
            location: "features/x.feature:5".into(),
            detail,
        },
        steps: vec![
            StepRun { text: "Given I am signed out".into(), line: 4, status: StepStatus::Passed },
            StepRun { text: "Then I am sent to sign in".into(), line: 5, status: StepStatus::Failed },
            StepRun { text: "And nothing else".into(), line: 6, status: StepStatus::NotRun },
        ],
        transcript: Some(Transcript::from(entries)),
    };
    let passed = Recorded { id: "@RP-002".into(), name: "Passing".into(), ending: Ending::Passed, transcript: None, ..scenario.clone() };
    Report {
        results: vec![
            ScenarioResult { scenario, failed_step: Some("Then I am sent to sign in".into()), outcome: Outcome::Failed("…".into()) },
            ScenarioResult { scenario: passed, failed_step: None, outcome: Outcome::Passed },
        ],
        passed: 1,
        failed: 1,
        ..Report::default()
    }
}

fn hop(url: &str, status: u16) -> Hop {
    Hop { method: "GET".into(), url: url.into(), status, ..Hop::default() }
}

#[test]
fn html_in_paths_headers_and_bodies_is_inert() {
    let mut h = hop("http://127.0.0.1:3000/<script>window.pwned=1</script>?q=\"><img src=x onerror=alert(1)>", 302);
    h.headers = vec![("x-clerk-auth-reason".into(), "<script>window.pwned=2</script>".into())];
    h.location = Some("javascript:alert(1)//</title><script>x</script>".into());
    h.set_cookies = vec!["__session=<b>x</b>; Path=/".into()];
    let mut body = hop("http://127.0.0.1:3000/ok", 200);
    body.body = "<html><script>window.pwned=3</script></html>".into();
    let html = render(&failed(vec![Entry::Hop(h), Entry::Hop(body), Entry::Note("<script>4</script>".into())]), &info());
    assert_eq!(html.matches("<script").count(), 1, "only the report's own script");
    assert!(!html.contains("<img"), "no injected element");
    assert!(!html.contains("<b>x"), "no injected element");
    for escaped in ["&lt;script&gt;window.pwned=1&lt;/script&gt;", "&lt;script&gt;window.pwned=2", "&lt;script&gt;window.pwned=3", "&lt;img src=x"] {
        assert!(html.contains(escaped), "{escaped} is shown as text");
    }
}

#[test]
fn the_report_redacts_like_the_transcript_and_decodes_tokens() {
    let (session, api) = (jwt("user_1"), jwt("user_2"));
    let mut h = hop(&format!("http://127.0.0.1:3000/?__clerk_handshake={session}"), 307);
    h.request_headers = vec![("cookie".into(), format!("__session={session}; __client_uat=1")), ("authorization".into(), format!("Bearer {SECRET}"))];
    h.location = Some("http://127.0.0.1:4010/v1/client/handshake?redirect_url=x".into());
    h.set_cookies = vec![format!("__session={session}; Path=/"), "__client_uat=0; Max-Age=0".into()];
    let downstream = LoggedRequest {
        seq: 1,
        method: "GET".into(),
        path: "/schedules".into(),
        headers: vec![("authorization".into(), format!("Bearer {api}"))],
        status: 200,
        ..LoggedRequest::default()
    };
    let issuer = LoggedRequest { seq: 2, method: "GET".into(), path: "/v1/jwks".into(), status: 200, ..LoggedRequest::default() };
    let entries = vec![Entry::Hop(h), Entry::Downstream(downstream), Entry::Issuer(issuer), Entry::Note(format!("key {SECRET}"))];
    let html = render(&failed(entries), &info());
    assert!(!html.contains(SECRET));
    for token in [&session, &api] {
        assert!(!html.contains(token.as_str()), "a complete JWT survived");
        let (input, _) = token.rsplit_once('.').unwrap();
        assert!(html.contains(&format!("{input}.[redacted]")));
    }
    for expected in [
        "&quot;sub&quot;: &quot;user_2&quot;",
        "Tokens (2,",
        "→ deleted",
        "mock-clerk: GET /v1/jwks",
        "downstream: GET /schedules",
        "<title>307 → http://127.0.0.1:4010/v1/client/handshake?redirect_url=x  set-cookie: __session, __client_uat</title>",
        "<li class=\"failed\">Then I am sent to sign in</li>",
        "<li class=\"not-run\">And nothing else</li>",
        "data-status=\"failed\"",
        "data-tags=\" @RP-001 @protection \"",
        "1 failed",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    // Four parties drawn, the app's answer arrow a redirect, the downstream call from the app.
    for party in ["browser", "app", "mock-clerk", "downstream API"] {
        assert!(html.contains(&format!("text-anchor=\"middle\">{party}</text>")), "lane {party}");
    }
    assert!(!html.contains(">other host<"), "no lane for a host nobody used");
}

#[test]
fn a_huge_transcript_gives_a_bounded_report() {
    let entries: Vec<Entry> = (0..5000)
        .map(|i| {
            let mut h = hop(&format!("http://127.0.0.1:3000/page/{i}"), 302);
            h.location = Some(format!("/page/{}", i + 1));
            h.request_headers = vec![("cookie".into(), format!("__session=v{i}; __client_uat={i}"))];
            h.set_cookies = vec![format!("__client_uat={}; Path=/", i + 1)];
            Entry::Hop(h)
        })
        .collect();
    let html = render(&failed(entries), &info());
    assert_eq!(html.matches("<g class=\"arrow").count(), 2 * diagram::MAX_DRAWN, "only the first exchanges are drawn");
    assert!(html.contains(&format!("{} more exchanges not drawn (5000 in all)", 5000 - diagram::MAX_DRAWN)));
    assert!(html.contains(&format!("{} more not listed", 5000 - facts::MAX_ROWS)));
    assert_eq!(html.matches("<tr><td>").count(), 2 * facts::MAX_ROWS, "hop and cookie tables are cut");
    assert!(html.len() < 1_500_000, "the page stays small: {} bytes", html.len());
}

#[test]
fn a_browser_failure_shows_its_screenshot_inline() {
    let shot = std::env::temp_dir().join(format!("report-shot-{}.png", std::process::id()));
    std::fs::write(&shot, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let note = format!("browser screenshot: {}\npage: http://127.0.0.1:3000/\nconsole: (none)", shot.display());
    let html = render(&failed(vec![Entry::Hop(hop("http://127.0.0.1:3000/", 200)), Entry::Note(note)]), &info());
    let _ = std::fs::remove_file(&shot);
    assert!(html.contains(&format!("<code>{}</code>", shot.display())), "the path");
    assert!(html.contains("<img class=\"screenshot\" src=\"data:image/png;base64,iVBORw0KGgpub3QgcmVhbGx5\""), "the image, inline");
}
