//! The real `@clerk/backend` 3 (fixtures/clerk-backend, pinned by its package-lock.json) against a running
//! mock-clerk: if the SDK accepts mock-clerk's answers here, an unmodified app will too.

use clerk_conformance::sdk::{backend_sdk as sdk, backend_sdk_with_key as sdk_with_key, sdk_ok as ok};
use mock_clerk::{BrokenToken, Fault, InstanceKind, MockClerk};
use serde_json::{Value, json};

fn err(result: &Value) -> &Value {
    assert_eq!(result["ok"], false, "SDK call unexpectedly succeeded: {result:#}");
    &result["error"]
}

// packages/backend/src/api/endpoints/SessionApi.ts revokeSession; resources/Session.ts
#[tokio::test(flavor = "multi_thread")]
async fn revoke_session_returns_a_revoked_session() {
    let clerk = MockClerk::start().await;
    let signed_in = clerk.sign_in();
    let results = sdk(&clerk, json!([{"op": "revokeSession", "id": signed_in.session_id}]));
    let session = ok(&results[0]);
    assert_eq!(session["status"], "revoked");
    assert_eq!(session["id"], signed_in.session_id.as_str());
    assert_eq!(session["userId"], signed_in.user_id.as_str());
    assert_eq!(session["clientId"], signed_in.client_id.as_str());
    assert!(session["expireAt"].as_i64().unwrap() > 1_700_000_000_000, "timestamps are milliseconds");

    let revokes = clerk.requests_to("POST", &format!("/v1/sessions/{}/revoke", signed_in.session_id));
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].body, "", "revoke has no body");
    assert_eq!(revokes[0].header("authorization"), Some("Bearer [redacted secret key]"));
    assert_eq!(revokes[0].header("clerk-api-version"), Some("2026-05-12"));
    assert_eq!(clerk.session(&signed_in.session_id).unwrap().status, mock_clerk::store::SessionStatus::Revoked);
}

// packages/backend/src/tokens/verify.ts, jwt/verifyJwt.ts, jwt/assertions.ts
#[tokio::test(flavor = "multi_thread")]
async fn verify_token_accepts_minted_tokens_and_rejects_each_broken_variant_with_clerks_reason() {
    let clerk = MockClerk::start().await;
    let s = clerk.sign_in();
    let mut ops = vec![json!({"op": "verifyToken", "name": "valid", "token": s.token})];
    for variant in BrokenToken::ALL {
        ops.push(json!({"op": "verifyToken", "name": variant.name(), "token": clerk.forge(variant, &s.user_id, &s.session_id)}));
    }
    let results = sdk(&clerk, Value::Array(ops));
    let payload = ok(&results[0]);
    assert_eq!(payload["sub"], s.user_id.as_str());
    assert_eq!(payload["sid"], s.session_id.as_str());
    assert_eq!(payload["v"], 2);
    for (variant, result) in BrokenToken::ALL.iter().zip(&results[1..]) {
        assert_eq!(result["name"], variant.name());
        match variant.clerk_reason() {
            Some(reason) => assert_eq!(err(result)["reason"], reason, "{variant}: {result:#}"),
            None => {
                // verifyToken does not check sid or sts; authenticateRequest does (below).
                ok(result);
            }
        }
    }
    assert_eq!(clerk.requests_to("GET", "/v1/jwks").len(), 1 + 2, "one fetch, plus one refetch per unknown kid");
}

fn document_request(url: &str, cookie: &str) -> Value {
    json!({"op": "authenticateRequest", "url": url, "headers": {
        "cookie": cookie, "accept": "text/html", "sec-fetch-dest": "document", "user-agent": "mock-clerk-tests"
    }})
}

// packages/backend/src/tokens/request.ts authenticateRequest; authenticateContext.ts
#[tokio::test(flavor = "multi_thread")]
async fn authenticate_request_with_control_api_cookies_is_signed_in_on_both_instance_kinds() {
    for kind in [InstanceKind::Development, InstanceKind::Production] {
        let clerk = MockClerk::builder().kind(kind).start().await;
        let s = clerk.sign_in();
        let pending = clerk.forge(BrokenToken::StsPending, &s.user_id, &s.session_id);
        let pending_cookie = s.cookie_header().replace(&s.token, &pending);
        let results = sdk(
            &clerk,
            json!([
                document_request("http://127.0.0.1:3999/schedules", &s.cookie_header()),
                document_request("http://127.0.0.1:3999/schedules", &pending_cookie),
                document_request("http://127.0.0.1:3999/schedules", ""),
            ]),
        );
        let signed_in = ok(&results[0]);
        assert_eq!(signed_in["status"], "signed-in", "{kind:?}: {signed_in:#}");
        assert_eq!(signed_in["isSignedIn"], true);
        assert_eq!(signed_in["userId"], s.user_id.as_str());
        assert_eq!(signed_in["sessionId"], s.session_id.as_str());
        // authStatus.ts toAuth(): treatPendingAsSignedOut defaults to true, so no user comes through.
        let pending = ok(&results[1]);
        assert_eq!((pending["userId"].as_str(), pending["sessionStatus"].as_str()), (None, Some("pending")), "{pending:#}");
        let anonymous = ok(&results[2]);
        match kind {
            InstanceKind::Development => {
                assert_eq!(anonymous["status"], "handshake");
                assert_eq!(anonymous["reason"], "dev-browser-missing");
            }
            InstanceKind::Production => {
                assert_eq!(anonymous["status"], "signed-out");
                assert_eq!(anonymous["reason"], "session-token-and-uat-missing");
            }
        }
    }
}

// UserApi.ts, SessionApi.ts, Deserializer.ts (paginated lists, DeletedObject)
#[tokio::test(flavor = "multi_thread")]
async fn users_sessions_and_tokens_round_trip_through_the_sdk() {
    let clerk = MockClerk::start().await;
    let created = sdk(
        &clerk,
        json!([{"op": "createUser", "params": {"emailAddress": ["ada@example.com"], "firstName": "Ada", "password": "correct horse battery"}}]),
    );
    let user = ok(&created[0]).clone();
    let user_id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["firstName"], "Ada");
    assert_eq!(user["emailAddresses"][0]["emailAddress"], "ada@example.com");
    assert_eq!(user["primaryEmailAddressId"], user["emailAddresses"][0]["id"]);
    assert_eq!(user["passwordEnabled"], true);

    let first = sdk(&clerk, json!([{"op": "createSession", "userId": user_id}]));
    let session_id = ok(&first[0])["id"].as_str().unwrap().to_owned();
    let supabase = mock_clerk::templates::TemplateBody { name: "supabase".into(), claims: json!({}), ..Default::default() };
    clerk.state().store().jwt_templates_mut().create(supabase, 0).unwrap();
    let results = sdk(
        &clerk,
        json!([
            {"op": "getUser", "id": user_id},
            {"op": "getUserList", "params": {"emailAddress": ["ada@example.com"]}},
            {"op": "getSessionList", "params": {"userId": user_id, "status": "active"}},
            {"op": "getToken", "sessionId": session_id},
            {"op": "getToken", "sessionId": session_id, "template": "supabase", "expiresInSeconds": 120},
            {"op": "revokeSession", "id": session_id},
            {"op": "getToken", "sessionId": session_id},
            {"op": "getSessionList", "params": {"userId": user_id, "status": "active"}},
            {"op": "getSession", "id": session_id},
            {"op": "deleteUser", "id": user_id},
            {"op": "getUser", "id": user_id},
            {"op": "revokeSession", "id": "sess_does_not_exist"},
        ]),
    );
    assert_eq!(ok(&results[0])["id"], user_id.as_str());
    let list = ok(&results[1]);
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["data"][0]["id"], user_id.as_str());
    let sessions = ok(&results[2]);
    assert_eq!((sessions["totalCount"].as_i64(), sessions["data"][0]["id"].as_str()), (Some(1), Some(session_id.as_str())));
    let token = ok(&results[3]); // resources/Token.ts: a Token holds only `jwt`
    let claims = mock_clerk::tokens::decode_unverified(token["jwt"].as_str().unwrap()).unwrap().claims;
    assert_eq!((claims["sub"].as_str(), claims["sid"].as_str()), (Some(user_id.as_str()), Some(session_id.as_str())));
    let templated = mock_clerk::tokens::decode_unverified(ok(&results[4])["jwt"].as_str().unwrap()).unwrap().claims;
    assert_eq!(templated["exp"].as_i64().unwrap() - templated["iat"].as_i64().unwrap(), 120);
    assert_eq!(ok(&results[5])["status"], "revoked");
    let refused = err(&results[6]);
    assert_eq!(refused["status"], 400);
    assert_eq!(refused["errors"][0]["code"], "session_not_active");
    assert_eq!(ok(&results[7])["totalCount"], 0);
    assert_eq!(ok(&results[8])["status"], "revoked");
    let deleted = ok(&results[9]);
    assert_eq!((deleted["id"].as_str(), deleted["deleted"].as_bool()), (Some(user_id.as_str()), Some(true)));
    assert_eq!(err(&results[10])["status"], 404);
    let missing = err(&results[11]);
    assert_eq!(missing["status"], 404);
    assert_eq!(missing["errors"][0]["code"], "resource_not_found");
    assert!(missing["clerkTraceId"].as_str().unwrap().starts_with("trace_"));
}

// keys.ts: a 401 with code clerk_key_invalid is secret-key-invalid; other failures jwk-remote-failed-to-load
#[tokio::test(flavor = "multi_thread")]
async fn jwks_failures_surface_as_clerks_reasons() {
    let clerk = MockClerk::start().await;
    let s = clerk.sign_in();
    let wrong_key = sdk_with_key(&clerk, "sk_test_wrong", json!([{"op": "verifyToken", "token": s.token}]));
    assert_eq!(err(&wrong_key[0])["reason"], "secret-key-invalid");

    clerk.inject(Fault::fail("GET", "/v1/jwks", 10, 503).retry_after(1)).unwrap();
    let outage = sdk(&clerk, json!([{"op": "verifyToken", "token": s.token}]));
    assert_eq!(err(&outage[0])["reason"], "jwk-remote-failed-to-load");
    let jwks_calls = clerk.requests_to("GET", "/v1/jwks");
    assert!(
        jwks_calls.iter().any(|r| r.status == 503)
            && jwks_calls.iter().all(|r| r.status != 200 || r.header("authorization") == Some("Bearer [redacted]"))
    );
}

// keys.ts: an unknown kid triggers one JWKS refetch; a retired key is jwk-kid-mismatch
#[tokio::test(flavor = "multi_thread")]
async fn rotated_keys_keep_old_tokens_valid_until_retired() {
    let clerk = MockClerk::start().await;
    let s = clerk.sign_in();
    let old_kid = clerk.active_kid();
    let view = clerk.rotate_keys();
    assert_eq!(view.kids, vec![view.active_kid.clone(), old_kid.clone()]);
    let fresh = clerk.sign_in();
    let results = sdk(
        &clerk,
        json!([
            {"op": "verifyToken", "token": s.token},
            {"op": "verifyToken", "token": fresh.token},
        ]),
    );
    ok(&results[0]);
    ok(&results[1]);
    clerk.retire_keys(Some(&old_kid)).unwrap();
    let after = sdk(&clerk, json!([{"op": "verifyToken", "token": s.token}, {"op": "verifyToken", "token": fresh.token}]));
    assert_eq!(err(&after[0])["reason"], "jwk-kid-mismatch");
    ok(&after[1]);
}

// UserApi.ts getUserOauthAccessToken (path `oauth_google`, `paginated=true`), resources/OauthAccessToken.ts,
// resources/ExternalAccount.ts (User.externalAccounts)
#[tokio::test(flavor = "multi_thread")]
async fn external_accounts_and_their_access_tokens_reach_the_sdk() {
    let clerk = MockClerk::builder().oauth_provider("google,github").start().await;
    let user_id = clerk.sign_in().user_id;
    let identity = mock_clerk::external::Identity { email_address: "ada@example.com".into(), first_name: "Ada".into(), last_name: "L".into() };
    let now = clerk.state().clock().now_ms();
    let linked =
        clerk.state().store().link_external_account(&user_id, mock_clerk::external::ExternalAccount::new("google", &identity, now), now).unwrap();
    let results = sdk(
        &clerk,
        json!([
            {"op": "getUserOauthAccessToken", "userId": user_id, "provider": "google"},
            {"op": "getUserOauthAccessToken", "userId": user_id, "provider": "oauth_google"},
            {"op": "getUserOauthAccessToken", "userId": user_id, "provider": "github"},
            {"op": "getUserOauthAccessToken", "userId": user_id, "provider": "myspace"},
            {"op": "getUser", "id": user_id},
        ]),
    );
    for r in &results[..2] {
        let tokens = ok(r);
        assert_eq!(tokens["totalCount"], 1, "{tokens}");
        let t = &tokens["data"][0];
        assert_eq!((t["token"].as_str(), t["externalAccountId"].as_str()), (Some(linked.access_token.as_str()), Some(linked.id.as_str())));
        assert_eq!(t["provider"], "oauth_google");
        assert_eq!(t["scopes"], json!(["email", "profile", "openid"]));
    }
    assert_eq!(ok(&results[2])["totalCount"], 0, "no GitHub account: an empty list");
    assert_eq!(err(&results[3])["status"], 422);
    let eac = &ok(&results[4])["externalAccounts"][0];
    assert_eq!(
        (eac["provider"].as_str(), eac["emailAddress"].as_str(), eac["id"].as_str()),
        (Some("oauth_google"), Some("ada@example.com"), Some(linked.id.as_str()))
    );
    assert_eq!(eac["verification"]["status"], "verified");
    let tokens = clerk.requests_to("GET", &format!("/v1/users/{user_id}/oauth_access_tokens/oauth_google"));
    assert_eq!(tokens.len(), 2, "the SDK adds the oauth_ prefix itself");
}

// UserApi.ts getUserList (query, orderBy, limit; the count comes from /v1/users/count), updateUserMetadata (deep
// merge), updateUser (metadata replaced)
#[tokio::test(flavor = "multi_thread")]
async fn user_lists_filter_and_metadata_merges_through_the_sdk() {
    let clerk = MockClerk::start().await;
    let mut ops = Vec::new();
    for (email, first) in [("ada@example.com", "Ada"), ("grace@example.org", "Grace"), ("alan@example.com", "Alan")] {
        ops.push(json!({"op": "createUser", "params": {"emailAddress": [email], "firstName": first, "publicMetadata": {"prefs": {"theme": "dark", "lang": "en"}}}}));
    }
    let created = sdk(&clerk, Value::Array(ops));
    let id = |i: usize| ok(&created[i])["id"].as_str().unwrap().to_owned();
    let (ada, grace, alan) = (id(0), id(1), id(2));
    let results = sdk(
        &clerk,
        json!([
            {"op": "getUserList", "params": {"emailAddress": ["grace@example.org"]}},
            {"op": "getUserList", "params": {"query": "example.com", "orderBy": "first_name", "limit": 1}},
            {"op": "getUserList", "params": {"orderBy": "-first_name"}},
            {"op": "updateUserMetadata", "id": ada, "params": {"publicMetadata": {"prefs": {"theme": "light", "lang": null}, "role": "admin"}, "privateMetadata": {"plan": "pro"}}},
            {"op": "updateUser", "id": ada, "params": {"lastName": "Lovelace", "publicMetadata": {"role": "owner"}}},
            {"op": "getUser", "id": ada},
            {"op": "getUserList", "params": {"orderBy": "password"}},
            {"op": "updateUserMetadata", "id": ada, "params": {"unsafeMetadata": {"blob": "x".repeat(9000)}}},
            {"op": "replaceUserMetadata", "id": ada, "params": {"privateMetadata": {"tier": 2}}},
        ]),
    );
    let ids = |list: &Value| list["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let by_email = ok(&results[0]);
    assert_eq!((ids(by_email), by_email["totalCount"].as_i64()), (vec![grace.clone()], Some(1)));
    let page = ok(&results[1]);
    assert_eq!((ids(page), page["totalCount"].as_i64()), (vec![ada.clone()], Some(2)), "limit 1 of 2 matches, Ada before Alan");
    assert_eq!(ids(ok(&results[2])), vec![grace.clone(), alan.clone(), ada.clone()]);
    let merged = ok(&results[3]);
    assert_eq!(merged["publicMetadata"], json!({"prefs": {"theme": "light"}, "role": "admin"}));
    assert_eq!(merged["privateMetadata"], json!({"plan": "pro"}));
    let replaced = ok(&results[4]);
    assert_eq!((replaced["lastName"].as_str(), &replaced["publicMetadata"]), (Some("Lovelace"), &json!({"role": "owner"})));
    assert_eq!(ok(&results[5])["privateMetadata"], json!({"plan": "pro"}), "updateUser left the private metadata alone");
    for refused in [&results[6], &results[7]] {
        let e = err(refused);
        assert_eq!(e["status"], 422, "{e:#}");
        assert_eq!(e["name"], "ClerkAPIResponseError");
    }
    assert_eq!(err(&results[7])["errors"][0]["meta"]["paramName"], "unsafe_metadata");
    let replaced = ok(&results[8]);
    assert_eq!((&replaced["privateMetadata"], &replaced["publicMetadata"]), (&json!({"tier": 2}), &json!({"role": "owner"})));
    // updateUser with metadata is two calls in SDK 3.25: PATCH for the profile, PUT …/metadata for the metadata.
    assert_eq!(clerk.requests_to("PATCH", &format!("/v1/users/{ada}")).len(), 1);
    assert_eq!(clerk.requests_to("PUT", &format!("/v1/users/{ada}/metadata")).len(), 2);
    let listed = clerk.requests_to("GET", "/v1/users");
    let sent = |r: &mock_clerk::LoggedRequest, part: &str| r.query.as_deref().is_some_and(|q| q.contains(part));
    assert!(listed.iter().any(|r| sent(r, "order_by=first_name") && sent(r, "query=example.com")), "{listed:?}");
}
