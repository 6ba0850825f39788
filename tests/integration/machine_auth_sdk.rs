//! Machine authentication and JWT templates through the real `@clerk/backend` 3.25 (fixtures/clerk-backend):
//! `authenticateRequest(…, { acceptsToken })` for M2M tokens, API keys and OAuth access tokens, opaque and JWT;
//! `m2m.*`, `apiKeys.*`, `machines.create`, `idPOAuthAccessToken.verify`, `jwtTemplates.*` and
//! `sessions.getToken(sid, template)`. Two SDK runs (one node process each): everything created, then everything
//! verified, used and revoked, in order.

use clerk_conformance::sdk::{backend_sdk as sdk, sdk_ok as ok};
use mock_clerk::MockClerk;
use mock_clerk::control::machines::{MachineTokenKind, MachineTokenRequest, RevokeRequest, issue, revoke};
use mock_clerk::machines::{NewMachine, TokenFormat};
use mock_clerk::store::NewUser;
use serde_json::{Value, json};

fn err(result: &Value) -> &Value {
    assert_eq!(result["ok"], false, "SDK call unexpectedly succeeded: {result:#}");
    &result["error"]
}

fn call(name: &str, api: &str, method: &str, args: Value) -> Value {
    json!({"op": "call", "name": name, "api": api, "method": method, "args": args})
}

fn bearer(name: &str, token: &str, options: Value) -> Value {
    json!({"op": "authenticateMachine", "name": name, "url": "http://127.0.0.1:3999/api/reports",
           "headers": {"authorization": format!("Bearer {token}"), "accept": "application/json"}, "options": options})
}

fn by_name<'a>(results: &'a [Value], name: &str) -> &'a Value {
    results.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no result named {name}"))
}

fn authenticated<'a>(results: &'a [Value], name: &str) -> &'a Value {
    let r = ok(by_name(results, name));
    assert_eq!(r["isAuthenticated"], true, "{name}: {r:#}");
    &r["auth"]
}

fn refused<'a>(results: &'a [Value], name: &str) -> &'a Value {
    let r = ok(by_name(results, name));
    assert_eq!(r["isAuthenticated"], false, "{name} was accepted: {r:#}");
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn machine_tokens_and_jwt_templates_through_the_real_sdk() {
    let clerk = MockClerk::start().await;
    let state = clerk.state();
    let now = state.clock().now_ms();
    let new_user = NewUser {
        email_address: vec!["ada@example.com".into()],
        first_name: Some("Ada".into()),
        public_metadata: json!({"plan": "pro", "seats": 3}).as_object().unwrap().clone(),
        ..NewUser::default()
    };
    let user = state.store().create_user(new_user, now).unwrap();
    let signed_in = clerk.sign_in_with(mock_clerk::SignInRequest { user_id: Some(user.id.to_string()), ..Default::default() }).unwrap();
    let (server, sender, loner) = {
        let mut store = state.store();
        let m = store.machines_mut();
        let server = m.create_machine(NewMachine { name: "reports-api".into(), ..Default::default() }, now).unwrap();
        let sender =
            m.create_machine(NewMachine { name: "worker".into(), scoped_machines: vec![server.id.to_string()], ..Default::default() }, now).unwrap();
        let loner = m.create_machine(NewMachine { name: "loner".into(), ..Default::default() }, now).unwrap();
        (server, sender, loner)
    };
    let oauth = |format| {
        let req = MachineTokenRequest {
            kind: MachineTokenKind::OauthToken,
            format,
            scopes: vec!["reports:read".into()],
            subject: Some(user.id.to_string()),
            claims: None,
            seconds_until_expiration: None,
        };
        issue(state, req).unwrap()
    };
    let (oauth_opaque, oauth_jwt, oauth_revoked) = (oauth(TokenFormat::Opaque), oauth(TokenFormat::Jwt), oauth(TokenFormat::Opaque));
    revoke(state, &RevokeRequest { kind: MachineTokenKind::OauthToken, id: oauth_revoked.id.clone() }).unwrap();

    // Run 1: create through the SDK.
    let template_claims = json!({
        "name": "{{user.first_name}}", "greeting": "Hi {{user.first_name}} ({{user.primary_email_address}})",
        "plan": "{{user.public_metadata.plan}}", "seats": "{{user.public_metadata.seats}}", "nick": "{{user.public_metadata.nick || 'friend'}}",
        "org": "{{org.slug}}", "nothing": "{{user.nope}}", "aud": "authenticated", "nested": {"id": "{{user.id}}"}
    });
    let created = sdk(
        &clerk,
        json!([
            call("machine", "machines", "create", json!([{"name": "sdk-machine", "scopedMachines": [server.id], "defaultTokenTtl": 600}])),
            call("m2m-opaque", "m2m", "createToken", json!([{"machineSecretKey": sender.secret_key, "secondsUntilExpiration": 600}])),
            call("m2m-jwt", "m2m", "createToken", json!([{"machineSecretKey": sender.secret_key, "tokenFormat": "jwt", "claims": {"role": "svc"}}])),
            call("m2m-unscoped", "m2m", "createToken", json!([{"machineSecretKey": loner.secret_key}])),
            call("m2m-instance-key", "m2m", "createToken", json!([{}])),
            call("api-key", "apiKeys", "create", json!([{"name": "reports key", "subject": user.id, "scopes": ["reports:read"], "claims": {"team": "a"}}])),
            call("api-key-bad-subject", "apiKeys", "create", json!([{"name": "bad key", "subject": "nobody"}])),
            call("template", "jwtTemplates", "create", json!([{"name": "supabase", "claims": template_claims, "lifetime": 120, "allowedClockSkew": 10}])),
            call("template-dup", "jwtTemplates", "create", json!([{"name": "supabase", "claims": {}}])),
            call("template-custom-key", "jwtTemplates", "create", json!([{"name": "k", "claims": {}, "customSigningKey": true, "signingAlgorithm": "RS256", "signingKey": "x"}])),
            call("template-bad-lifetime", "jwtTemplates", "create", json!([{"name": "short", "claims": {}, "lifetime": 5}])),
            call("templates", "jwtTemplates", "list", json!([])),
            {"op": "getToken", "name": "template-token", "sessionId": signed_in.session_id, "template": "supabase"},
            {"op": "getToken", "name": "template-unknown", "sessionId": signed_in.session_id, "template": "nope"},
        ]),
    );
    let machine = ok(by_name(&created, "machine"));
    assert!(machine["id"].as_str().unwrap().starts_with("mch_") && machine["secretKey"].as_str().unwrap().starts_with("ak_"), "{machine:#}");
    assert_eq!((machine["defaultTokenTtl"].clone(), machine["scopedMachines"][0]["id"].clone()), (json!(600), json!(server.id)));
    let m2m_opaque = ok(by_name(&created, "m2m-opaque")).clone();
    let m2m_token = m2m_opaque["token"].as_str().unwrap().to_owned();
    assert!(m2m_token.starts_with("mt_") && m2m_opaque["id"].as_str().unwrap().starts_with("mt_"), "{m2m_opaque:#}");
    assert_eq!((m2m_opaque["subject"].clone(), m2m_opaque["scopes"].clone()), (json!(sender.id), json!([server.id])));
    let m2m_jwt = ok(by_name(&created, "m2m-jwt"))["token"].as_str().unwrap().to_owned();
    assert_eq!(mock_clerk::tokens::decode_unverified(&m2m_jwt).unwrap().claims["sub"], sender.id.as_str());
    let unscoped = ok(by_name(&created, "m2m-unscoped"))["token"].as_str().unwrap().to_owned();
    let e = err(by_name(&created, "m2m-instance-key"));
    assert_eq!((e["status"].clone(), e["errors"][0]["code"].clone()), (json!(400), json!("machine_secret_key_required")), "{e:#}");
    let api_key = ok(by_name(&created, "api-key")).clone();
    let api_secret = api_key["secret"].as_str().unwrap().to_owned();
    assert!(api_secret.starts_with("ak_") && api_key["type"] == "api_key" && api_key["subject"] == user.id.as_str(), "{api_key:#}");
    let e = err(by_name(&created, "api-key-bad-subject"));
    assert_eq!((e["status"].clone(), e["errors"][0]["meta"]["paramName"].clone()), (json!(422), json!("subject")), "{e:#}");
    let template = ok(by_name(&created, "template"));
    assert_eq!(
        (template["name"].clone(), template["lifetime"].clone(), template["allowedClockSkew"].clone()),
        (json!("supabase"), json!(120), json!(10))
    );
    assert_eq!(template["claims"], template_claims, "claims are kept unrendered, keys as given");
    assert_eq!(err(by_name(&created, "template-dup"))["errors"][0]["code"], "form_identifier_exists");
    assert_eq!(err(by_name(&created, "template-custom-key"))["errors"][0]["meta"]["paramName"], "custom_signing_key");
    assert_eq!(err(by_name(&created, "template-bad-lifetime"))["errors"][0]["meta"]["paramName"], "lifetime");
    let listed = ok(by_name(&created, "templates"));
    assert_eq!((listed["totalCount"].clone(), listed["data"][0]["id"].clone()), (json!(1), template["id"].clone()));
    let template_jwt = ok(by_name(&created, "template-token"))["jwt"].as_str().unwrap().to_owned();
    let e = err(by_name(&created, "template-unknown"));
    assert_eq!((e["status"].clone(), e["errors"][0]["code"].clone()), (json!(404), json!("resource_not_found")));

    let decoded = mock_clerk::tokens::decode_unverified(&template_jwt).unwrap();
    let c = &decoded.claims;
    assert_eq!(decoded.header["cat"], "cl_B7d4PD222AAA");
    assert_eq!((c["name"].clone(), c["greeting"].clone()), (json!("Ada"), json!("Hi Ada (ada@example.com)")));
    assert_eq!((c["plan"].clone(), c["seats"].clone(), c["nick"].clone()), (json!("pro"), json!(3), json!("friend")));
    assert_eq!((c["org"].clone(), c["nothing"].clone(), c["nested"]["id"].clone()), (Value::Null, Value::Null, json!(user.id)));
    assert_eq!((c["sub"].clone(), c["aud"].clone()), (json!(user.id), json!("authenticated")));
    let (iat, exp, nbf) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap(), c["nbf"].as_i64().unwrap());
    assert_eq!((exp - iat, iat - nbf), (120, 10), "the template's lifetime and clock skew");

    // Run 2: verify, authenticate, list, revoke, in this order.
    let m2m_id = m2m_opaque["id"].clone();
    let api_key_id = api_key["id"].clone();
    let server_key = json!({"acceptsToken": "m2m_token", "machineSecretKey": server.secret_key});
    let results = sdk(
        &clerk,
        json!([
            bearer("m2m-opaque", &m2m_token, json!({"acceptsToken": "m2m_token"})),
            bearer("m2m-jwt", &m2m_jwt, json!({"acceptsToken": "any"})),
            bearer("m2m-as-receiver", &m2m_token, server_key.clone()),
            bearer("m2m-unscoped-as-receiver", &unscoped, server_key),
            bearer("api-key", &api_secret, json!({"acceptsToken": "api_key"})),
            bearer("api-key-in-list", &api_secret, json!({"acceptsToken": ["session_token", "api_key"]})),
            bearer("oauth-opaque", &oauth_opaque.token, json!({"acceptsToken": "oauth_token"})),
            bearer("oauth-jwt", &oauth_jwt.token, json!({"acceptsToken": "any"})),
            bearer("oauth-revoked", &oauth_revoked.token, json!({"acceptsToken": "oauth_token"})),
            bearer("api-key-on-session-route", &api_secret, json!({})),
            bearer("m2m-jwt-on-session-route", &m2m_jwt, json!({"acceptsToken": "session_token"})),
            bearer("m2m-on-api-key-route", &m2m_token, json!({"acceptsToken": "api_key"})),
            bearer("api-key-not-in-list", &api_secret, json!({"acceptsToken": ["session_token", "oauth_token"]})),
            bearer("template-on-session-route", &template_jwt, json!({})),
            {"op": "verifyToken", "name": "template-verified", "token": template_jwt},
            call("m2m-verify", "m2m", "verify", json!([{"token": m2m_token}])),
            call("m2m-verify-jwt", "m2m", "verify", json!([{"token": m2m_jwt}])),
            call("api-key-verify", "apiKeys", "verify", json!([api_secret])),
            call("oauth-verify", "idPOAuthAccessToken", "verify", json!([oauth_opaque.token])),
            call("m2m-list", "m2m", "list", json!([{"subject": sender.id}])),
            call("api-key-list", "apiKeys", "list", json!([{"subject": user.id}])),
            call("m2m-revoke", "m2m", "revokeToken", json!([{"m2mTokenId": m2m_id, "revocationReason": "rotated"}])),
            call("api-key-revoke", "apiKeys", "revoke", json!([{"apiKeyId": api_key_id}])),
            bearer("m2m-revoked", &m2m_token, json!({"acceptsToken": "m2m_token"})),
            bearer("api-key-revoked", &api_secret, json!({"acceptsToken": "any"})),
            call("m2m-verify-revoked", "m2m", "verify", json!([{"token": m2m_token}])),
            call("template-update", "jwtTemplates", "update", json!([{"templateId": template["id"], "name": "hasura", "claims": {"x": "{{user.id}}"}}])),
            call("template-delete", "jwtTemplates", "delete", json!([template["id"]])),
            call("template-get-deleted", "jwtTemplates", "get", json!([template["id"]])),
        ]),
    );

    let a = authenticated(&results, "m2m-opaque");
    assert_eq!((a["tokenType"].clone(), a["subject"].clone(), a["machineId"].clone()), (json!("m2m_token"), json!(sender.id), json!(sender.id)));
    assert_eq!(a["scopes"], json!([server.id]));
    let a = authenticated(&results, "m2m-jwt");
    assert_eq!((a["tokenType"].clone(), a["subject"].clone(), a["claims"]["role"].clone()), (json!("m2m_token"), json!(sender.id), json!("svc")));
    assert_eq!(a["scopes"], json!([server.id]));
    authenticated(&results, "m2m-as-receiver");
    assert_eq!(refused(&results, "m2m-unscoped-as-receiver")["reason"], "token-invalid", "a machine only accepts tokens scoped to it");
    let a = authenticated(&results, "api-key");
    assert_eq!((a["tokenType"].clone(), a["userId"].clone(), a["scopes"].clone()), (json!("api_key"), json!(user.id), json!(["reports:read"])));
    assert_eq!((a["name"].clone(), a["claims"].clone()), (json!("reports key"), json!({"team": "a"})));
    assert_eq!(authenticated(&results, "api-key-in-list")["tokenType"], "api_key");
    let a = authenticated(&results, "oauth-opaque");
    assert_eq!((a["tokenType"].clone(), a["userId"].clone(), a["scopes"].clone()), (json!("oauth_token"), json!(user.id), json!(["reports:read"])));
    assert_eq!(a["clientId"], mock_clerk::machines::MOCK_OAUTH_CLIENT_ID);
    let a = authenticated(&results, "oauth-jwt");
    assert_eq!((a["tokenType"].clone(), a["userId"].clone(), a["scopes"].clone()), (json!("oauth_token"), json!(user.id), json!(["reports:read"])));
    assert_eq!(refused(&results, "oauth-revoked")["reason"], "token-invalid");
    // An opaque key where only session tokens are accepted is tried as a JWT and fails as one (request.ts).
    assert_eq!(refused(&results, "api-key-on-session-route")["reason"], "token-invalid");
    for name in ["m2m-jwt-on-session-route", "m2m-on-api-key-route", "api-key-not-in-list", "template-on-session-route"] {
        assert_eq!(refused(&results, name)["reason"], "token-type-mismatch", "{name}");
    }
    let payload = ok(by_name(&results, "template-verified"));
    assert_eq!((payload["sub"].clone(), payload["plan"].clone()), (json!(user.id), json!("pro")), "verifyToken takes a template token");
    assert_eq!(ok(by_name(&results, "m2m-verify"))["subject"], sender.id.as_str());
    let v = ok(by_name(&results, "m2m-verify-jwt"));
    assert_eq!((v["subject"].clone(), v["claims"]["role"].clone()), (json!(sender.id), json!("svc")), "verified locally");
    assert_eq!(ok(by_name(&results, "api-key-verify"))["id"], api_key_id);
    let v = ok(by_name(&results, "oauth-verify"));
    assert_eq!((v["id"].clone(), v["subject"].clone(), v["scopes"].clone()), (json!(oauth_opaque.id), json!(user.id), json!(["reports:read"])));
    let listed = ok(by_name(&results, "m2m-list"));
    assert_eq!((listed["totalCount"].clone(), listed["data"][0]["id"].clone()), (json!(1), m2m_id.clone()), "opaque tokens only: {listed:#}");
    assert_eq!(ok(by_name(&results, "api-key-list"))["data"][0]["id"], api_key_id);
    let revoked = ok(by_name(&results, "m2m-revoke"));
    assert_eq!((revoked["revoked"].clone(), revoked["revocationReason"].clone()), (json!(true), json!("rotated")));
    assert_eq!(ok(by_name(&results, "api-key-revoke"))["revoked"], true);
    assert_eq!(refused(&results, "m2m-revoked")["reason"], "token-invalid");
    assert_eq!(refused(&results, "api-key-revoked")["reason"], "token-invalid");
    let e = err(by_name(&results, "m2m-verify-revoked"));
    assert_eq!((e["status"].clone(), e["errors"][0]["code"].clone()), (json!(404), json!("resource_not_found")));
    let updated = ok(by_name(&results, "template-update"));
    assert_eq!((updated["name"].clone(), updated["claims"].clone()), (json!("hasura"), json!({"x": "{{user.id}}"})));
    assert_eq!(ok(by_name(&results, "template-delete"))["deleted"], true);
    assert_eq!(err(by_name(&results, "template-get-deleted"))["status"], 404);

    // Machine secrets never reach the request log.
    let logged = clerk.requests_to("POST", "/m2m_tokens/verify");
    assert!(!logged.is_empty() && logged.iter().all(|r| !r.body.contains(&m2m_token) && r.body.contains("[redacted]")), "{logged:?}");
    let logged = clerk.requests_to("POST", "/m2m_tokens");
    assert!(logged.iter().all(|r| r.header("authorization").is_some_and(|h| !h.contains(&sender.secret_key))), "{logged:?}");
}
