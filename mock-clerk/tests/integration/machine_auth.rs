//! Machine authentication and JWT templates over HTTP: bad input answers Clerk's envelope (never a 5xx), the
//! machine-token routes answer with and without `/v1` and check their caller, JWT forms verify against the JWKS,
//! the Frontend API renders templates for the browser, and the state file keeps everything across a restart.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mock_clerk::MockClerk;
use reqwest::Method;
use serde_json::{Value, json};

async fn call(clerk: &MockClerk, method: Method, path: &str, bearer: Option<&str>, body: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", clerk.url())).header("content-type", "application/json");
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    if let Some(b) = body {
        req = req.body(b.to_owned());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    assert_eq!(r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).as_deref(), Some("application/json"), "{path}");
    (status, r.json().await.unwrap_or(Value::Null))
}

/// method, path, bearer, body, expected status, expected code.
type Case<'a> = (Method, String, Option<&'a str>, Option<&'a str>, u16, &'a str);

fn code(v: &Value) -> &str {
    v["errors"][0]["code"].as_str().unwrap_or("")
}

/// Verifies an RS256 JWT against the instance's published JWKS (as any JWT library would).
async fn verify_with_jwks(clerk: &MockClerk, jwt: &str) -> (Value, Value) {
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", clerk.url())).await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == header.kid.clone().unwrap().as_str()).unwrap();
    let key = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(jwt, &key, &v).expect("signed by the instance key");
    (mock_clerk::tokens::decode_unverified(jwt).unwrap().header, data.claims)
}

#[tokio::test]
async fn bad_input_gets_clerks_envelope_never_a_5xx() {
    let clerk = MockClerk::start().await;
    let sk = clerk.secret_key().to_owned();
    let s = clerk.sign_in();
    let sid = s.session_id.as_str();
    let (status, machine) = call(&clerk, Method::POST, "/v1/machines", Some(&sk), Some(r#"{"name":"m"}"#)).await;
    assert_eq!(status, 200, "{machine}");
    let msk = machine["secret_key"].as_str().unwrap().to_owned();
    let cases: Vec<Case> = vec![
        (Method::POST, "/m2m_tokens".into(), None, Some("{}"), 401, "authorization_header_missing"),
        (Method::POST, "/m2m_tokens".into(), Some("sk_wrong"), Some("{}"), 401, "clerk_key_invalid"),
        (Method::POST, "/m2m_tokens".into(), Some(&sk), Some("{}"), 400, "machine_secret_key_required"),
        (Method::POST, "/m2m_tokens".into(), Some(&msk), Some(r#"{"token_format":"paper"}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/m2m_tokens".into(), Some(&msk), Some(r#"{"seconds_until_expiration":-5}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/m2m_tokens".into(), Some(&msk), Some(r#"{"claims":[1]}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/m2m_tokens".into(), Some(&msk), Some("{"), 400, "malformed_request_body"),
        (Method::GET, "/m2m_tokens".into(), Some(&sk), None, 422, "form_param_missing"),
        (Method::GET, "/m2m_tokens?subject=mch_x&revoked=maybe".into(), Some(&sk), None, 422, "form_param_format_invalid"),
        (Method::POST, "/m2m_tokens/verify".into(), Some(&sk), Some(r#"{"token":"mt_nope"}"#), 404, "resource_not_found"),
        (Method::POST, "/m2m_tokens/verify".into(), Some(&sk), Some(r#"{"token":"mt_nope","x":1}"#), 422, "form_param_unknown"),
        (Method::POST, "/m2m_tokens/mt_nope/revoke".into(), Some(&msk), Some("{}"), 404, "resource_not_found"),
        (Method::POST, "/api_keys".into(), Some(&msk), Some("{}"), 401, "clerk_key_invalid"),
        (Method::POST, "/api_keys".into(), Some(&sk), Some(r#"{"name":"key"}"#), 422, "form_param_missing"),
        (Method::POST, "/api_keys".into(), Some(&sk), Some(r#"{"name":"key","subject":"user_1","type":"pat"}"#), 422, "form_param_format_invalid"),
        (
            Method::POST,
            "/api_keys".into(),
            Some(&sk),
            Some(r#"{"name":"key","subject":"user_1","seconds_until_expiration":0}"#),
            422,
            "form_param_format_invalid",
        ),
        (Method::GET, "/api_keys?subject=user_1&include_invalid=yes".into(), Some(&sk), None, 422, "form_param_format_invalid"),
        (Method::GET, "/api_keys?subject=user_1&limit=0".into(), Some(&sk), None, 422, "form_param_format_invalid"),
        (Method::GET, "/api_keys/ak_nope".into(), Some(&sk), None, 404, "resource_not_found"),
        (Method::POST, "/api_keys/verify".into(), Some(&sk), Some(r#"{"secret":"ak_nope"}"#), 404, "resource_not_found"),
        (Method::POST, "/v1/api_keys/verify".into(), Some(&sk), Some(r#"{"secret":"ak_nope"}"#), 404, "resource_not_found"),
        (Method::POST, "/oauth_applications/access_tokens/verify".into(), Some(&sk), Some("{}"), 422, "form_param_missing"),
        (Method::POST, "/oauth_applications/access_tokens/verify".into(), None, Some("{}"), 401, "authorization_header_missing"),
        (Method::POST, "/v1/machines".into(), Some(&sk), Some(r#"{"name":" "}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/v1/machines".into(), Some(&sk), Some(r#"{"name":"a","scoped_machines":["mch_nope"]}"#), 404, "resource_not_found"),
        (Method::POST, "/v1/machines".into(), Some(&sk), Some(r#"{"name":"a","default_token_ttl":0}"#), 422, "form_param_format_invalid"),
        (Method::GET, "/v1/machines/mch_nope".into(), Some(&sk), None, 404, "resource_not_found"),
        (Method::POST, "/v1/jwt_templates".into(), Some(&sk), Some(r#"{"name":"t","claims":"x"}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/v1/jwt_templates".into(), Some(&sk), Some(r#"{"name":"t","claims":{},"lifetime":10}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/v1/jwt_templates".into(), Some(&sk), Some(r#"{"name":"t","claims":{"iss":"me"}}"#), 422, "form_param_format_invalid"),
        (Method::POST, "/v1/jwt_templates".into(), Some(&sk), Some(r#"{"name":"t"}"#), 422, "form_param_missing"),
        (Method::PATCH, "/v1/jwt_templates/jtmp_nope".into(), Some(&sk), Some(r#"{"name":"t","claims":{}}"#), 404, "resource_not_found"),
        (Method::POST, format!("/v1/sessions/{sid}/tokens/nope"), Some(&sk), None, 404, "resource_not_found"),
        (Method::POST, format!("/v1/sessions/{sid}/tokens/nope"), Some(&sk), Some(r#"{"expires_in_seconds":0}"#), 422, "form_param_format_invalid"),
    ];
    for (method, path, bearer, body, want_status, want_code) in cases {
        let (status, answer) = call(&clerk, method.clone(), &path, bearer, body).await;
        assert_eq!((status, code(&answer)), (want_status, want_code), "{method} {path} {body:?}: {answer}");
        assert!(answer["errors"][0]["long_message"].as_str().is_some_and(|m| m.ends_with('.')), "{answer}");
        assert!(!answer.to_string().contains(&msk), "no secret in an error");
    }
}

#[tokio::test]
async fn machine_jwts_verify_against_the_jwks_and_opaque_tokens_answer_with_and_without_v1() {
    let clerk = MockClerk::start().await;
    let sk = clerk.secret_key().to_owned();
    let (_, receiver) = call(&clerk, Method::POST, "/v1/machines", Some(&sk), Some(r#"{"name":"receiver"}"#)).await;
    let body = json!({"name": "sender", "scoped_machines": [receiver["id"]], "default_token_ttl": 90}).to_string();
    let (_, sender) = call(&clerk, Method::POST, "/v1/machines", Some(&sk), Some(&body)).await;
    assert_eq!(sender["scoped_machines"][0]["id"], receiver["id"]);
    assert!(sender["secret_key"].as_str().unwrap().starts_with("ak_"));
    let (status, got) = call(&clerk, Method::GET, &format!("/v1/machines/{}", sender["id"].as_str().unwrap()), Some(&sk), None).await;
    assert_eq!((status, got.get("secret_key")), (200, None), "the secret key is shown at creation only");
    let msk = sender["secret_key"].as_str().unwrap();

    let (status, jwt) = call(&clerk, Method::POST, "/m2m_tokens", Some(msk), Some(r#"{"token_format":"jwt","claims":{"tier":"gold"}}"#)).await;
    assert_eq!(status, 201, "{jwt}");
    let (header, claims) = verify_with_jwks(&clerk, jwt["token"].as_str().unwrap()).await;
    assert_eq!((header["cat"].clone(), header["typ"].clone()), (json!("cl_B7d4PD333AAA"), json!("JWT")));
    assert_eq!(
        (claims["sub"].clone(), claims["tier"].clone(), claims["scopes"].clone()),
        (sender["id"].clone(), json!("gold"), receiver["id"].clone())
    );
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 90, "the machine's default_token_ttl");
    assert_eq!(claims["iss"], clerk.state().instance().issuer());

    let (status, opaque) = call(&clerk, Method::POST, "/v1/m2m_tokens", Some(msk), Some("{}")).await;
    assert_eq!(status, 201, "{opaque}");
    let verify = json!({"token": opaque["token"]}).to_string();
    let rk = receiver["secret_key"].as_str().unwrap();
    let (status, verified) = call(&clerk, Method::POST, "/m2m_tokens/verify", Some(rk), Some(&verify)).await;
    assert_eq!((status, verified["subject"].clone(), verified.get("token")), (200, sender["id"].clone(), None));
    let (status, _) = call(&clerk, Method::POST, "/m2m_tokens/verify", Some(msk), Some(&verify)).await;
    assert_eq!(status, 404, "the sender is not in its own token's scope");
    let (status, list) = call(&clerk, Method::GET, "/m2m_tokens", Some(msk), None).await;
    assert_eq!((status, list["total_count"].clone()), (200, json!(1)), "a machine lists its own opaque tokens: {list}");
    clerk.advance(std::time::Duration::from_secs(91));
    let (status, expired) = call(&clerk, Method::POST, "/m2m_tokens/verify", Some(&sk), Some(&verify)).await;
    assert_eq!((status, expired["errors"][0]["long_message"].clone()), (404, json!("The m2m token is expired.")));

    let issued = mock_clerk::control::machines::issue(
        clerk.state(),
        mock_clerk::control::machines::MachineTokenRequest {
            kind: mock_clerk::control::machines::MachineTokenKind::OauthToken,
            format: mock_clerk::machines::TokenFormat::Jwt,
            scopes: vec!["read".into(), "write".into()],
            subject: Some(clerk.sign_in().user_id),
            claims: None,
            seconds_until_expiration: Some(300),
        },
    )
    .unwrap();
    let (header, claims) = verify_with_jwks(&clerk, &issued.token).await;
    assert_eq!((header["typ"].clone(), claims["scope"].clone(), claims["jti"].clone()), (json!("at+jwt"), json!("read write"), json!(issued.id)));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300, "wall-clock times, whatever the virtual clock says");
}

#[tokio::test]
async fn the_frontend_api_renders_templates_for_the_browser() {
    let clerk = MockClerk::start().await;
    let s = clerk.sign_in();
    let body = json!({"name": "hasura", "claims": {"https://hasura.io/jwt/claims": {"x-hasura-user-id": "{{user.id}}"}, "who": "{{user.first_name || 'anonymous'}}"}, "lifetime": 300});
    let (status, _) = call(&clerk, Method::POST, "/v1/jwt_templates", Some(clerk.secret_key()), Some(&body.to_string())).await;
    assert_eq!(status, 200);
    let browser = |template: &str| {
        reqwest::Client::new()
            .post(format!("{}/v1/client/sessions/{}/tokens/{template}", clerk.url(), s.session_id))
            .header("origin", "http://127.0.0.1:3000")
            .header("cookie", s.cookie_header())
    };
    let r = browser("hasura").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    let (header, claims) = verify_with_jwks(&clerk, answer["jwt"].as_str().unwrap()).await;
    assert_eq!(header["cat"], "cl_B7d4PD222AAA");
    assert_eq!(claims["https://hasura.io/jwt/claims"]["x-hasura-user-id"], s.user_id.as_str());
    assert_eq!(
        (claims["who"].clone(), claims["azp"].clone(), claims["sub"].clone()),
        (json!("anonymous"), json!("http://127.0.0.1:3000"), json!(s.user_id))
    );
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
    assert!(claims.get("sid").is_none(), "a template token is not a session token");
    let r = browser("nope").send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn machines_keys_and_templates_survive_a_restart_with_a_state_file() {
    let dir = std::env::temp_dir().join(format!("mock-clerk-machine-auth-{}", std::process::id()));
    let state_file = dir.join("state.json");
    let builder = || MockClerk::builder().key(mock_clerk::KeySource::Ephemeral).state_file(state_file.clone());
    let first = builder().start().await;
    let sk = first.secret_key().to_owned();
    let (_, key) = call(&first, Method::POST, "/api_keys", Some(&sk), Some(r#"{"name":"kept","subject":"user_2xhFjEI5X2qWRvtV13BzSj8H6Dk"}"#)).await;
    let (_, template) = call(&first, Method::POST, "/v1/jwt_templates", Some(&sk), Some(r#"{"name":"kept","claims":{"a":1}}"#)).await;
    drop(first);
    let second = builder().start().await;
    let verify = json!({"secret": key["secret"]}).to_string();
    let (status, verified) = call(&second, Method::POST, "/api_keys/verify", Some(&sk), Some(&verify)).await;
    assert_eq!((status, verified["id"].clone()), (200, key["id"].clone()));
    let (status, got) = call(&second, Method::GET, &format!("/v1/jwt_templates/{}", template["id"].as_str().unwrap()), Some(&sk), None).await;
    assert_eq!((status, got["claims"].clone()), (200, json!({"a": 1})));
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn org_shortcodes_render_the_sessions_active_organization() {
    let clerk = MockClerk::start().await;
    let org = mock_clerk::control::org_ops::OrgSignIn {
        slug: "acme".into(),
        name: Some("Acme".into()),
        role: Some("org:admin".into()),
        permissions: vec!["org:reports:read".into()],
    };
    let s = clerk.sign_in_with(mock_clerk::SignInRequest { organization: Some(org), ..Default::default() }).unwrap();
    let plain = clerk.sign_in();
    let body = json!({"name": "orgs", "claims": {"org": "{{org.slug}}", "role": "{{org.role}}", "perms": "{{org.membership_permissions}}", "label": "{{org.name}} ({{org.id}})"}});
    let (status, _) = call(&clerk, Method::POST, "/v1/jwt_templates", Some(clerk.secret_key()), Some(&body.to_string())).await;
    assert_eq!(status, 200);
    let token = |sid: String| {
        let clerk = &clerk;
        async move {
            let (status, answer) = call(clerk, Method::POST, &format!("/v1/sessions/{sid}/tokens/orgs"), Some(clerk.secret_key()), None).await;
            assert_eq!(status, 200, "{answer}");
            verify_with_jwks(clerk, answer["jwt"].as_str().unwrap()).await.1
        }
    };
    let claims = token(s.session_id.clone()).await;
    assert_eq!((claims["org"].clone(), claims["role"].clone()), (json!("acme"), json!("org:admin")));
    assert!(claims["perms"].as_array().unwrap().contains(&json!("org:reports:read")), "{claims}");
    assert!(claims["label"].as_str().unwrap().starts_with("Acme (org_"), "{claims}");
    let claims = token(plain.session_id.clone()).await;
    assert_eq!((claims["org"].clone(), claims["label"].clone()), (Value::Null, json!(" ()")), "no active organization");
}

#[tokio::test]
async fn machines_are_renamed_and_their_scopes_removed() {
    let clerk = MockClerk::start().await;
    let sk = clerk.secret_key().to_owned();
    let (_, target) = call(&clerk, Method::POST, "/v1/machines", Some(&sk), Some(r#"{"name":"target"}"#)).await;
    let body = json!({"name": "source", "scoped_machines": [target["id"]]}).to_string();
    let (_, source) = call(&clerk, Method::POST, "/v1/machines", Some(&sk), Some(&body)).await;
    let (sid, tid) = (source["id"].as_str().unwrap(), target["id"].as_str().unwrap());
    let (status, renamed) =
        call(&clerk, Method::PATCH, &format!("/v1/machines/{sid}"), Some(&sk), Some(r#"{"name":"renamed","default_token_ttl":30}"#)).await;
    assert_eq!((status, renamed["name"].clone(), renamed["default_token_ttl"].clone()), (200, json!("renamed"), json!(30)));
    let (status, bad) = call(&clerk, Method::PATCH, &format!("/v1/machines/{sid}"), Some(&sk), Some(r#"{"default_token_ttl":0}"#)).await;
    assert_eq!((status, code(&bad)), (422, "form_param_format_invalid"));
    let (status, deleted) = call(&clerk, Method::DELETE, &format!("/v1/machines/{sid}/scopes/{tid}"), Some(&sk), None).await;
    assert_eq!((status, deleted["deleted"].clone()), (200, json!(true)));
    let (status, again) = call(&clerk, Method::DELETE, &format!("/v1/machines/{sid}/scopes/{tid}"), Some(&sk), None).await;
    assert_eq!((status, code(&again)), (404, "resource_not_found"));
    let (_, got) = call(&clerk, Method::GET, &format!("/v1/machines/{sid}"), Some(&sk), None).await;
    assert_eq!(got["scoped_machines"], json!([]));
}

#[test]
fn the_cli_prints_machine_jwts_and_refuses_a_subject_of_the_wrong_kind() {
    let run =
        |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_mock-clerk")).args(["token", "--ephemeral-key"]).args(args).output().unwrap();
    let out = run(&["--machine", "m2m", "--sub", "mch_worker", "--scope", "mch_api", "--claim", "tier=gold", "--ttl", "120"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jwt = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let decoded = mock_clerk::tokens::decode_unverified(&jwt).unwrap();
    assert_eq!((decoded.header["cat"].clone(), decoded.claims["sub"].clone()), (json!("cl_B7d4PD333AAA"), json!("mch_worker")));
    assert_eq!((decoded.claims["scopes"].clone(), decoded.claims["tier"].clone()), (json!("mch_api"), json!("gold")));
    assert_eq!(decoded.claims["exp"].as_i64().unwrap() - decoded.claims["iat"].as_i64().unwrap(), 120);
    let out = run(&["--machine", "oauth", "--sub", "user_ada", "--scope", "reports:read", "--scope", "email"]);
    let jwt = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let decoded = mock_clerk::tokens::decode_unverified(&jwt).unwrap();
    assert_eq!((decoded.header["typ"].clone(), decoded.claims["scope"].clone()), (json!("at+jwt"), json!("reports:read email")));
    let out = run(&["--machine", "oauth", "--sub", "mch_worker"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("a user id (user_…)"), "{out:?}");
    let out = run(&["--machine", "m2m", "--broken", "expired"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--broken"), "{out:?}");
}
