//! Restarts: tokens minted before a restart verify against the JWKS after it (key file), sessions survive a
//! restart with a state file and do not without one, and the real binary (`mock-clerk serve`) binds loopback,
//! keeps state across even a `kill -9` with `--state-file`, and guards its control API.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_clerk::{BrokenToken, InstanceKind, KeySource, MockClerk};
use serde_json::{Value, json};

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mock-clerk-restart-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// `(status, json)` of a Backend API call with the secret key.
async fn bapi(base: &str, secret_key: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http().request(method, format!("{base}{path}")).bearer_auth(secret_key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("mock-clerk answers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON"))
}

/// Verifies an RS256 token against the JWKS served at `base`, with `jsonwebtoken` and the JWK's `n`/`e`.
async fn verify_against_jwks(base: &str, jwt: &str, jwks_path: &str) -> Result<Value, String> {
    let jwks: Value = http()
        .get(format!("{base}{jwks_path}"))
        .bearer_auth(mock_clerk::handle::default_secret_key(InstanceKind::Development))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).ok_or(format!("kid {kid} is not in the JWKS"))?;
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    jsonwebtoken::decode::<Value>(jwt, &key, &validation).map(|d| d.claims).map_err(|e| e.to_string())
}

#[tokio::test]
async fn tokens_minted_before_a_restart_verify_after_it_with_the_key_file() {
    let dir = TempDir::new("keys");
    let key_file = dir.path("keys.pem");
    let builder = || MockClerk::builder().key(KeySource::File(key_file.clone())).token_lifetime(Duration::from_secs(600));

    let first = builder().start().await;
    assert!(key_file.exists(), "the key file was created");
    let signed_in = first.sign_in();
    let (status, minted) =
        bapi(&first.url(), first.secret_key(), reqwest::Method::POST, &format!("/v1/sessions/{}/tokens", signed_in.session_id), None).await;
    assert_eq!(status, 200, "{minted}");
    let bapi_token = minted["jwt"].as_str().unwrap().to_owned();
    let kid = first.active_kid();
    drop(first);

    let second = builder().start().await;
    assert_eq!(second.active_kid(), kid, "the same key file gives the same kid");
    for jwt in [&signed_in.token, &bapi_token] {
        for path in ["/.well-known/jwks.json", "/v1/jwks"] {
            let claims = verify_against_jwks(&second.url(), jwt, path).await.unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(claims["sid"], signed_in.session_id.as_str());
        }
    }

    // Control: an instance with another key does not accept the token.
    let other = MockClerk::builder().key(KeySource::Ephemeral).start().await;
    let err = verify_against_jwks(&other.url(), &signed_in.token, "/.well-known/jwks.json").await.unwrap_err();
    assert!(err.contains("is not in the JWKS"), "{err}");
}

#[tokio::test]
async fn sessions_survive_a_restart_with_a_state_file_and_not_without() {
    let dir = TempDir::new("state");
    let key_file = dir.path("keys.pem");
    let state_file = dir.path("nested/state.json");
    let builder = || MockClerk::builder().key(KeySource::File(key_file.clone())).state_file(state_file.clone());

    let first = builder().start().await;
    assert!(state_file.exists(), "the state file is written at start");
    let (base, sk) = (first.url(), first.secret_key().to_owned());
    let (s, user) =
        bapi(&base, &sk, reqwest::Method::POST, "/v1/users", Some(json!({"email_address": ["restart@persist.test"], "first_name": "Re"}))).await;
    assert_eq!(s, 200, "{user}");
    let user_id = user["id"].as_str().unwrap().to_owned();
    let (s, kept) = bapi(&base, &sk, reqwest::Method::POST, "/v1/sessions", Some(json!({"user_id": user_id}))).await;
    assert_eq!(s, 200, "{kept}");
    let (s, revoked) = bapi(&base, &sk, reqwest::Method::POST, "/v1/sessions", Some(json!({"user_id": user_id}))).await;
    assert_eq!(s, 200, "{revoked}");
    let (s, _) = bapi(&base, &sk, reqwest::Method::POST, &format!("/v1/sessions/{}/revoke", revoked["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200);
    // A change made through the library (no HTTP request) is written too.
    let browser = first.sign_in();
    let expired = first.forge(BrokenToken::Expired, &browser.user_id, &browser.session_id);
    drop(first);

    let second = builder().start().await;
    let (base, sk) = (second.url(), second.secret_key().to_owned());
    let (s, again) = bapi(&base, &sk, reqwest::Method::GET, &format!("/v1/users/{user_id}"), None).await;
    assert_eq!((s, &again["email_addresses"][0]["email_address"]), (200, &json!("restart@persist.test")), "{again}");
    let (s, k) = bapi(&base, &sk, reqwest::Method::GET, &format!("/v1/sessions/{}", kept["id"].as_str().unwrap()), None).await;
    assert_eq!((s, k["status"].as_str(), &k["client_id"]), (200, Some("active"), &kept["client_id"]), "{k}");
    let (s, r) = bapi(&base, &sk, reqwest::Method::GET, &format!("/v1/sessions/{}", revoked["id"].as_str().unwrap()), None).await;
    assert_eq!((s, r["status"].as_str()), (200, Some("revoked")), "{r}");
    let (s, listed) = bapi(&base, &sk, reqwest::Method::GET, &format!("/v1/sessions?user_id={user_id}"), None).await;
    assert_eq!((s, listed.as_array().map(Vec::len)), (200, Some(2)), "{listed}");
    let (s, token) = bapi(&base, &sk, reqwest::Method::POST, &format!("/v1/sessions/{}/tokens", kept["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200, "{token}");
    // The library-made session, its refresh cookie (derived from the stored secret) and the old key's token.
    let (s, refreshed) = bapi(
        &base,
        &sk,
        reqwest::Method::POST,
        &format!("/v1/sessions/{}/refresh", browser.session_id),
        Some(json!({"expired_token": expired, "refresh_token": browser.refresh_cookie.value, "request_origin": "http://app.test"})),
    )
    .await;
    assert_eq!(s, 200, "the refresh token still belongs to its session after the restart: {refreshed}");
    let file_before = std::fs::read(&state_file).unwrap();
    drop(second);

    // Without a state file: memory only, and the file is left alone.
    let memory = MockClerk::builder().key(KeySource::File(key_file.clone())).start().await;
    let (s, gone) =
        bapi(&memory.url(), memory.secret_key(), reqwest::Method::GET, &format!("/v1/sessions/{}", kept["id"].as_str().unwrap()), None).await;
    assert_eq!((s, gone["errors"][0]["code"].as_str()), (404, Some("resource_not_found")), "{gone}");
    memory.sign_in();
    assert_eq!(std::fs::read(&state_file).unwrap(), file_before);

    // A file that is not a state file stops the start with a clear error.
    std::fs::write(&state_file, b"{not json").unwrap();
    let err = builder().try_start().await.unwrap_err().to_string();
    assert!(err.contains("state file") && err.contains("cannot be read"), "{err}");
}

/// Changes made with `MockClerk::reset` (the store replaced wholesale) are written too.
#[tokio::test]
async fn a_reset_is_persisted() {
    let dir = TempDir::new("reset");
    let state_file = dir.path("state.json");
    let clerk = MockClerk::builder().state_file(state_file.clone()).start().await;
    let s = clerk.sign_in();
    clerk.reset();
    drop(clerk);
    let clerk = MockClerk::builder().state_file(state_file.clone()).start().await;
    assert!(clerk.session(&s.session_id).is_none(), "the reset emptied the persisted store");
}

// ---------------------------------------------------------------------------------------------------------------
// The real binary
// ---------------------------------------------------------------------------------------------------------------

use crate::common::served::{BINARY, Served};

#[test]
fn serve_help_documents_loopback_default_and_memory_only_state() {
    let out = Command::new(BINARY).args(["serve", "--help"]).output().expect("run mock-clerk");
    // clap wraps help text to the terminal's width (none in CI): compare with whitespace collapsed.
    let help = String::from_utf8(out.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(out.status.success());
    assert!(help.contains("[default: 127.0.0.1:4010]"), "the default address is loopback: {help}");
    assert!(help.contains("--state-file <STATE_FILE>"), "{help}");
    assert!(help.contains("Without it they live in memory only"), "{help}");
}

#[tokio::test]
async fn the_binary_binds_loopback_keeps_state_across_kill_9_and_guards_the_control_api() {
    let dir = TempDir::new("binary");
    let sk = mock_clerk::handle::default_secret_key(InstanceKind::Development);
    let args = ["--addr", "127.0.0.1:0", "--key-file", "keys.pem", "--state-file", "state.json"];

    let served = Served::spawn(&args, &dir.0);
    assert!(served.addr.ip().is_loopback(), "bound {}", served.addr);
    // The control API answers a loopback caller without any token (the default)…
    let res = http().post(format!("{}/__mock/sign-in", served.url())).json(&json!({"email": "bin@persist.test"})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let signed_in: Value = res.json().await.unwrap();
    let sid = signed_in["session_id"].as_str().unwrap().to_owned();
    served.kill();

    // …and after a kill -9 and a restart with the same files, the session is still there and its token verifies.
    let served = Served::spawn(&args, &dir.0);
    let (s, session) = bapi(&served.url(), &sk, reqwest::Method::GET, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!((s, session["status"].as_str()), (200, Some("active")), "{session}");
    verify_against_jwks(&served.url(), signed_in["token"].as_str().unwrap(), "/.well-known/jwks.json").await.expect("the token verifies");
    drop(served);

    // Opened with a control token, the control API refuses a loopback caller without it.
    let served = Served::spawn(&["--addr", "127.0.0.1:0", "--ephemeral-key", "--control-token", "ctl_binary"], &dir.0);
    let refused = http().get(format!("{}/__mock/instance", served.url())).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "control_api_forbidden");
    let ok = http().get(format!("{}/__mock/instance", served.url())).bearer_auth("ctl_binary").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // Without --state-file, nothing of the first runs is known.
    let (s, _) = bapi(&served.url(), &sk, reqwest::Method::GET, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(s, 404);
}
