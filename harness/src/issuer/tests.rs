//! The same checks against the in-process handle and against the control API of a mock-clerk on 127.0.0.1:0.

use std::sync::Arc;

use mock_clerk::tokens::decode_unverified;

use super::*;

async fn both() -> (Arc<MockClerk>, [Issuer; 2]) {
    let clerk = Arc::new(MockClerk::start().await);
    let config = RemoteConfig { url: clerk.url(), secret_key: Some(clerk.secret_key().into()), ..RemoteConfig::default() };
    let remote = Issuer::remote(config).await.unwrap();
    (clerk.clone(), [Issuer::Local(clerk), remote])
}

fn claim(jwt: &str, name: &str) -> Value {
    decode_unverified(jwt).unwrap().claims[name].clone()
}

#[tokio::test]
async fn both_sides_describe_the_same_instance() {
    let (clerk, [local, remote]) = both().await;
    for issuer in [&local, &remote] {
        assert_eq!(issuer.url(), clerk.url());
        assert_eq!(issuer.publishable_key(), clerk.publishable_key());
        assert_eq!(issuer.cookie_suffix(), clerk.instance().cookie_suffix());
        assert_eq!(issuer.kind(), InstanceKind::Development);
        assert_eq!(issuer.secret_key(), Some(clerk.secret_key()));
    }
}

#[tokio::test]
async fn sign_in_status_and_end_session() {
    let (_clerk, issuers) = both().await;
    for issuer in &issuers {
        let user = issuer.sign_in().await.unwrap();
        assert_eq!(claim(&user.token, "sid"), user.session_id.as_str());
        assert!(user.refresh_cookie.name.starts_with("__refresh_"));
        assert_eq!(issuer.session_status(&user.session_id).await.unwrap(), "active", "{issuer:?}");
        issuer.end_session(&user.session_id, "revoked").await.unwrap();
        assert_eq!(issuer.session_status(&user.session_id).await.unwrap(), "revoked");
        assert!(matches!(issuer.end_session(&user.session_id, "paused").await, Err(IssuerError::BadSessionStatus(_))));
        assert!(issuer.session_status("sess_nope").await.is_err());
    }
}

#[tokio::test]
async fn mint_forge_and_backdate() {
    let (_clerk, issuers) = both().await;
    for issuer in &issuers {
        let user = issuer.sign_in().await.unwrap();
        let forged = issuer.forge(BrokenToken::AlgNone, &user.user_id, &user.session_id).await.unwrap();
        assert_eq!(decode_unverified(&forged).unwrap().header["alg"], "none");
        let older = issuer.backdate(&user.token, 61).await.unwrap();
        for name in ["iat", "nbf", "exp"] {
            assert_eq!(claim(&older, name).as_i64().unwrap(), claim(&user.token, name).as_i64().unwrap() - 61, "{name}");
        }
        for name in ["sub", "sid", "iss", "v", "sts", "fva"] {
            assert_eq!(claim(&older, name), claim(&user.token, name), "{name}");
        }
        assert!(matches!(issuer.backdate("nope", 1).await, Err(IssuerError::NotAToken(_))));
    }
}

#[tokio::test]
async fn requests_faults_keys_clock_and_reset() {
    let (clerk, issuers) = both().await;
    let http = reqwest::Client::new();
    for issuer in &issuers {
        issuer.reset().await.unwrap();
        issuer.jwks_outage(1).await.unwrap();
        let jwks = format!("{}{}", clerk.url(), mock_clerk::fapi::JWKS_PATH);
        assert_eq!(http.get(&jwks).send().await.unwrap().status().as_u16(), 503);
        assert_eq!(http.get(&jwks).send().await.unwrap().status().as_u16(), 200);
        let user = issuer.sign_in().await.unwrap();
        let revoke = format!("{}/v1/sessions/{}/revoke", clerk.url(), user.session_id);
        http.post(&revoke).bearer_auth(clerk.secret_key()).send().await.unwrap();
        assert_eq!(issuer.revoke_calls(&user.session_id).await.unwrap(), 1);
        assert_eq!(issuer.requests_to("GET", mock_clerk::fapi::JWKS_PATH).await.unwrap().len(), 2);
        issuer.clear_requests().await.unwrap();
        assert!(issuer.requests().await.unwrap().is_empty());
        let keys = issuer.rotate_keys().await.unwrap();
        assert_eq!(keys.kids.len(), 2);
        assert_eq!(issuer.retire_keys(None).await.unwrap().kids, vec![keys.active_kid]);
        issuer.set_handshake_format(HandshakeFormat::Token).await.unwrap();
        assert_eq!(clerk.handshake_format(), HandshakeFormat::Token);
        issuer.advance_clock(3600).await.unwrap();
        assert!(clerk.clock_offset() >= Duration::from_secs(3600));
        let pending = clerk.pending_faults().len(); // the Backend API half of the outage is still there
        issuer.inject(Fault::fail("GET", "/v1/jwks", 1, 500)).await.unwrap();
        assert_eq!(clerk.pending_faults().len(), pending + 1);
        assert!(issuer.inject(Fault::fail("GET", "/v1/jwks", 1, 200)).await.is_err(), "a fault never fakes success");
        issuer.clear_faults().await.unwrap();
        assert!(clerk.pending_faults().is_empty());
        issuer.reset().await.unwrap();
        assert_eq!(clerk.clock_offset(), Duration::ZERO);
        assert!(issuer.session_status(&user.session_id).await.is_err(), "reset forgets sessions");
    }
}

#[tokio::test]
async fn remote_errors_are_clear() {
    let clerk = MockClerk::start().await;
    let no_key = Issuer::remote(RemoteConfig { url: clerk.url(), ..RemoteConfig::default() }).await.unwrap();
    assert!(matches!(no_key.session_status("sess_1").await, Err(IssuerError::NoSecretKey)));
    let wrong_key = Issuer::remote(RemoteConfig { url: clerk.url(), secret_key: Some("sk_wrong".into()), ..RemoteConfig::default() }).await.unwrap();
    assert!(matches!(wrong_key.session_status("sess_1").await, Err(IssuerError::Status { status: 401, .. })));
    let bad = Issuer::remote(RemoteConfig { url: "not a url".into(), ..RemoteConfig::default() }).await;
    assert!(matches!(bad, Err(IssuerError::InvalidUrl { .. })));
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let gone = Issuer::remote(RemoteConfig { url: format!("http://{closed}"), ..RemoteConfig::default() }).await;
    assert!(matches!(gone, Err(IssuerError::Http { .. })));
}

#[tokio::test]
async fn accounts_and_the_codes_sent_to_them() {
    let (clerk, issuers) = both().await;
    let http = reqwest::Client::new();
    for (n, issuer) in issuers.iter().enumerate() {
        let email = format!("codes.{n}@example.com");
        let new = || mock_clerk::store::NewUser { email_address: vec![email.clone()], first_name: Some("Ada".into()), ..Default::default() };
        let id = issuer.create_user(new()).await.unwrap();
        assert!(id.starts_with("user_"), "{id}");
        let taken = issuer.create_user(new()).await.unwrap_err().to_string();
        assert!(taken.contains("email_address") || taken.contains("taken"), "{issuer:?}: {taken}");
        assert!(issuer.codes_for(&email).await.unwrap().is_empty());
        // What clerk-js does for an email code: start a sign-in, then prepare the first factor.
        let form = "application/x-www-form-urlencoded";
        let body = url::form_urlencoded::Serializer::new(String::new()).append_pair("identifier", &email).finish();
        let started = http.post(format!("{}/v1/client/sign_ins", clerk.url())).header("content-type", form).body(body).send().await.unwrap();
        let cookie = started.headers().get("set-cookie").and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).unwrap().to_owned();
        let attempt: Value = started.json().await.unwrap();
        let sia = attempt["response"]["id"].as_str().unwrap();
        let prepared = http
            .post(format!("{}/v1/client/sign_ins/{sia}/prepare_first_factor", clerk.url()))
            .header("cookie", cookie)
            .header("content-type", form)
            .body("strategy=email_code")
            .send()
            .await
            .unwrap();
        assert_eq!(prepared.status(), 200);
        let codes = issuer.codes_for(&email.to_uppercase()).await.unwrap();
        assert_eq!((codes.len(), codes[0].code.as_str(), codes[0].attempt_id.as_str()), (1, "424242", sia), "{issuer:?}");
    }
}

#[tokio::test]
async fn sign_in_and_actor_tokens_on_both_sides() {
    let (clerk, issuers) = both().await;
    for issuer in &issuers {
        let email = format!("ticket.{}@example.com", mock_clerk::ids::new_id("t").to_lowercase());
        let user = issuer.create_user(mock_clerk::store::NewUser { email_address: vec![email], ..Default::default() }).await.unwrap();
        let link = issuer.create_sign_in_token(&user, 60).await.unwrap();
        assert!(link.id.starts_with("sit_") && link.url.starts_with(&format!("{}/v1/tickets/accept?ticket=", clerk.url())), "{link:?}");
        issuer.revoke_sign_in_token(&link.id).await.unwrap();
        let revoked = { clerk.state().fapi().tickets().revoke(mock_clerk::tickets::TicketKind::SignIn, &link.id, 0).unwrap().status };
        assert_eq!(revoked, mock_clerk::tickets::TicketStatus::Revoked, "{issuer:?}");
        assert!(issuer.revoke_sign_in_token("sit_nope").await.is_err());
        let actor = issuer.create_actor_token(&user, "user_admin_1").await.unwrap();
        assert!(actor.id.starts_with("act_"), "{actor:?}");
        assert!(issuer.create_sign_in_token("user_nope", 60).await.is_err());
    }
}

#[tokio::test]
async fn second_factors_through_either_side() {
    let (clerk, issuers) = both().await;
    for (n, issuer) in issuers.iter().enumerate() {
        let phone = format!("+1201555010{n}");
        let new = mock_clerk::store::NewUser {
            email_address: vec![format!("mfa.{n}@example.com")],
            totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
            phone_number: vec![phone.clone()],
            ..Default::default()
        };
        let id = issuer.create_user(new).await.unwrap();
        let view = issuer.totp(&id).await.unwrap();
        assert_eq!(view.secret, "JBSWY3DPEHPK3PXP", "{issuer:?}");
        assert!(mock_clerk::mfa::totp_step("JBSWY3DPEHPK3PXP", &view.code, clerk.state().clock().now_ms()).is_some(), "{issuer:?}");
        assert_eq!(issuer.use_phone_for_second_factor(&id).await.unwrap(), phone);
        assert!(clerk.state().store().user(&id).unwrap().mfa.phone_numbers[0].reserved_for_second_factor, "{issuer:?}");
        let no_totp = issuer
            .create_user(mock_clerk::store::NewUser { email_address: vec![format!("plain.{n}@example.com")], ..Default::default() })
            .await
            .unwrap();
        assert!(issuer.totp(&no_totp).await.is_err(), "{issuer:?}");
        assert!(issuer.use_phone_for_second_factor(&no_totp).await.is_err(), "{issuer:?}");
    }
}

/// The session's next token through the Backend API (`POST /v1/sessions/{id}/tokens`).
async fn next_token(clerk: &MockClerk, session_id: &str) -> String {
    let url = format!("{}/v1/sessions/{session_id}/tokens", clerk.url());
    let v: Value = reqwest::Client::new().post(url).bearer_auth(clerk.secret_key()).send().await.unwrap().json().await.unwrap();
    v["jwt"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn organizations_roles_and_memberships_reach_the_next_token() {
    let (clerk, issuers) = both().await;
    for (i, issuer) in issuers.iter().enumerate() {
        let slug = format!("acme-{i}");
        let org = mock_clerk::control::org_ops::OrgSignIn { slug: slug.clone(), role: Some("org:admin".into()), ..Default::default() };
        let req = SignInRequest { organization: Some(org), features: vec!["premium".into()], plans: vec!["pro".into()], ..SignInRequest::default() };
        let admin = issuer.sign_in_with(req).await.unwrap();
        let o = claim(&admin.token, "o");
        assert_eq!((o["slg"].as_str(), o["rol"].as_str()), (Some(slug.as_str()), Some("admin")), "{issuer:?}");
        assert_eq!((claim(&admin.token, "fea"), claim(&admin.token, "pla")), (json!("u:premium"), json!("u:pro")));

        issuer.ensure_role("org:analyst", &["org:reports:read"]).await.unwrap();
        issuer.ensure_role("org:analyst", &["org:reports:read", "org:reports:export"]).await.unwrap();
        issuer.set_membership_role(&slug, &admin.user_id, "org:analyst").await.unwrap();
        let next = next_token(&clerk, &admin.session_id).await;
        assert_eq!(claim(&next, "o")["rol"], "analyst", "{issuer:?}");
        assert_eq!((claim(&next, "o")["per"].as_str(), claim(&next, "fea").as_str()), (Some("read,export"), Some("o:reports,u:premium")));

        let other = issuer.sign_in().await.unwrap();
        let org_id = issuer.create_organization("Second", &format!("second-{i}"), Some(&other.user_id)).await.unwrap();
        assert!(org_id.starts_with("org_"));
        issuer.add_membership(&org_id, &admin.user_id, "org:member").await.unwrap();
        assert!(issuer.add_membership(&org_id, &admin.user_id, "org:member").await.is_err(), "already a member");
        issuer.remove_membership(&slug, &admin.user_id).await.unwrap();
        let after = next_token(&clerk, &admin.session_id).await;
        assert_eq!(claim(&after, "o"), Value::Null, "no membership, no o: {issuer:?}");
        assert_eq!(claim(&after, "pla"), "u:pro", "the plan stays on the session");
        assert!(issuer.set_membership_role(&slug, &admin.user_id, "org:admin").await.is_err(), "no membership to change");

        let update = mock_clerk::control::org_ops::SessionClaimsUpdate {
            active_organization: Some(format!("second-{i}")),
            plans: Some(vec!["enterprise".into()]),
            ..Default::default()
        };
        issuer.update_session_claims(&admin.session_id, update).await.unwrap();
        let switched = next_token(&clerk, &admin.session_id).await;
        assert_eq!(
            (claim(&switched, "o")["slg"].as_str(), claim(&switched, "pla").as_str()),
            (Some(format!("second-{i}").as_str()), Some("u:enterprise"))
        );
        assert_eq!(claim(&switched, "fea"), "u:premium", "features stay when not given");
        let elsewhere = mock_clerk::control::org_ops::SessionClaimsUpdate { active_organization: Some(slug.clone()), ..Default::default() };
        assert!(issuer.update_session_claims(&admin.session_id, elsewhere).await.is_err(), "not a member any more");
    }
}

/// `POST <path>` with the secret key, as an app's SDK verifies a machine token: the status.
async fn verify_status(clerk: &MockClerk, path: &str, body: Value) -> u16 {
    let url = format!("{}{path}", clerk.url());
    reqwest::Client::new().post(url).bearer_auth(clerk.secret_key()).json(&body).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn machine_tokens_are_issued_and_revoked_on_both_sides() {
    use mock_clerk::machines::TokenFormat;
    let (clerk, issuers) = both().await;
    for issuer in &issuers {
        let user = issuer.sign_in().await.unwrap();
        let key = issuer.create_api_key(&user.user_id, &["reports:read"], Some(json!({"team": "a"}))).await.unwrap();
        assert!(key.token.starts_with("ak_") && key.scopes == ["reports:read"], "{key:?}");
        assert_eq!(verify_status(&clerk, "/api_keys/verify", json!({"secret": key.token})).await, 200);
        issuer.revoke_machine_token(&key).await.unwrap();
        assert_eq!(verify_status(&clerk, "/api_keys/verify", json!({"secret": key.token})).await, 404, "revoked");

        let m2m = issuer.create_m2m_token("worker", &["reports-api"], TokenFormat::Opaque).await.unwrap();
        assert!(m2m.token.starts_with("mt_") && m2m.subject.starts_with("mch_") && m2m.scopes.len() == 1, "{m2m:?}");
        assert_eq!(verify_status(&clerk, "/m2m_tokens/verify", json!({"token": m2m.token})).await, 200);
        issuer.revoke_machine_token(&m2m).await.unwrap();
        assert_eq!(verify_status(&clerk, "/m2m_tokens/verify", json!({"token": m2m.token})).await, 404, "revoked");

        let jwt = issuer.create_m2m_token("worker", &["reports-api"], TokenFormat::Jwt).await.unwrap();
        assert_eq!((claim(&jwt.token, "sub"), claim(&jwt.token, "scopes")), (json!(m2m.subject), json!(m2m.scopes.join(" "))), "same machines");
        assert!(issuer.revoke_machine_token(&jwt).await.is_err(), "a JWT-form M2M token is stateless");

        let oauth = issuer.create_oauth_token(&user.user_id, &["reports:read"], TokenFormat::Jwt).await.unwrap();
        assert_eq!(decode_unverified(&oauth.token).unwrap().header["typ"], "at+jwt");
        assert_eq!((claim(&oauth.token, "sub"), claim(&oauth.token, "scope")), (json!(user.user_id), json!("reports:read")));
        assert!(issuer.create_api_key("nobody", &[], None).await.is_err(), "{issuer:?}: a subject is a user or organization id");
    }
}
