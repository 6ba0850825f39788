//! Organizations over HTTP: Clerk's error envelopes for bad input (never a 5xx), the active organization set by
//! the handshake's organization sync and by the Frontend API's `touch` (clerk-js `setActive({organization})`),
//! the `organization*` webhook events, and the state file keeping organizations and session claims.

use crate::common::{openapi, receiver};

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_clerk::control::org_ops::OrgSignIn;
use mock_clerk::store::Store;
use mock_clerk::{MockClerk, SignInRequest, SignedIn};
use receiver::Receiver;
use reqwest::Method;
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A Backend API call with the secret key; a raw string body is sent as it is.
async fn bapi(clerk: &MockClerk, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = http().request(method.clone(), format!("{}{path}", clerk.url())).bearer_auth(clerk.secret_key());
    match body {
        Some(Value::String(raw)) => req = req.header("content-type", "application/json").body(raw),
        Some(b) => req = req.json(&b),
        None => {}
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    assert_eq!(res.headers()["content-type"], "application/json", "{method} {path}");
    (status, res.json().await.unwrap())
}

fn code(body: &Value) -> (&str, &str) {
    (body["errors"][0]["code"].as_str().unwrap_or("<none>"), body["errors"][0]["meta"]["param_name"].as_str().unwrap_or(""))
}

fn claims(jwt: &str) -> Value {
    mock_clerk::tokens::decode_unverified(jwt).unwrap().claims
}

fn sign_in_to(clerk: &MockClerk, slug: &str, role: &str) -> SignedIn {
    let org = OrgSignIn { slug: slug.into(), role: Some(role.into()), ..OrgSignIn::default() };
    clerk.sign_in_with(SignInRequest { organization: Some(org), ..SignInRequest::default() }).unwrap()
}

/// A request and the answer Clerk gives: method, path, body, status, code, `meta.param_name`.
type Case = (Method, String, Option<Value>, u16, &'static str, &'static str);

#[tokio::test]
async fn bad_input_gets_clerks_error_envelope() {
    let clerk = MockClerk::start().await;
    let admin = sign_in_to(&clerk, "acme", "org:admin");
    let acme = claims(&admin.token)["o"]["id"].as_str().unwrap().to_owned();
    let big = json!({"blob": "x".repeat(8 * 1024)});
    let cases: Vec<Case> = vec![
        (Method::POST, "/v1/organizations".into(), Some(json!({})), 422, "form_param_missing", "name"),
        (Method::POST, "/v1/organizations".into(), Some(json!({"name": "A", "colour": "red"})), 422, "form_param_unknown", "colour"),
        (Method::POST, "/v1/organizations".into(), Some(json!({"name": "A", "slug": "Not A Slug"})), 422, "form_param_format_invalid", "slug"),
        (Method::POST, "/v1/organizations".into(), Some(json!({"name": "A", "slug": "acme"})), 422, "form_identifier_exists", "slug"),
        (Method::POST, "/v1/organizations".into(), Some(json!({"name": " "})), 422, "form_param_format_invalid", "name"),
        (Method::POST, "/v1/organizations".into(), Some(json!({"name": "A", "created_by": "user_nope"})), 404, "resource_not_found", ""),
        (
            Method::POST,
            "/v1/organizations".into(),
            Some(json!({"name": "A", "public_metadata": big})),
            422,
            "form_param_max_length_exceeded",
            "public_metadata",
        ),
        (Method::POST, "/v1/organizations".into(), Some(Value::String("{".into())), 400, "malformed_request_body", ""),
        (Method::GET, "/v1/organizations?limit=0".into(), None, 422, "form_param_format_invalid", "limit"),
        (Method::GET, "/v1/organizations/org_missing".into(), None, 404, "resource_not_found", ""),
        (Method::PATCH, format!("/v1/organizations/{acme}"), Some(json!({"public_metadata": {}})), 422, "form_param_unknown", "public_metadata"),
        (
            Method::PATCH,
            format!("/v1/organizations/{acme}/metadata"),
            Some(json!({"private_metadata": big})),
            422,
            "form_param_max_length_exceeded",
            "private_metadata",
        ),
        (
            Method::POST,
            format!("/v1/organizations/{acme}/memberships"),
            Some(json!({"user_id": "user_nope", "role": "org:member"})),
            404,
            "resource_not_found",
            "",
        ),
        (Method::POST, format!("/v1/organizations/{acme}/memberships"), Some(json!({"user_id": admin.user_id})), 422, "form_param_missing", "role"),
        (
            Method::POST,
            format!("/v1/organizations/{acme}/memberships"),
            Some(json!({"user_id": admin.user_id, "role": "org:member"})),
            422,
            "already_a_member_in_organization",
            "",
        ),
        (
            Method::PATCH,
            format!("/v1/organizations/{acme}/memberships/{}", admin.user_id),
            Some(json!({"role": "org:ghost"})),
            404,
            "resource_not_found",
            "",
        ),
        (Method::DELETE, format!("/v1/organizations/{acme}/memberships/user_nope"), None, 404, "resource_not_found", ""),
        (
            Method::POST,
            format!("/v1/organizations/{acme}/invitations"),
            Some(json!({"email_address": "nope", "role": "org:member"})),
            422,
            "form_param_format_invalid",
            "email_address",
        ),
        (Method::GET, format!("/v1/organizations/{acme}/invitations?status=lost"), None, 422, "form_param_format_invalid", "status"),
        (
            Method::POST,
            "/v1/organization_permissions".into(),
            Some(json!({"name": "x", "key": "org:sys_profile:read"})),
            422,
            "form_param_format_invalid",
            "key",
        ),
        (
            Method::POST,
            "/v1/organization_roles".into(),
            Some(json!({"name": "x", "key": "org:x", "permissions": ["perm_nope"]})),
            404,
            "resource_not_found",
            "",
        ),
        (Method::POST, "/v1/organization_roles".into(), Some(json!({"name": "Admin", "key": "org:admin"})), 422, "form_identifier_exists", "key"),
        (Method::GET, "/v1/users/user_nope/organization_memberships".into(), None, 404, "resource_not_found", ""),
    ];
    for (method, path, body, status, want_code, param) in cases {
        let (got, answer) = bapi(&clerk, method.clone(), &path, body.clone()).await;
        assert_eq!((got, code(&answer)), (status, (want_code, param)), "{method} {path} {body:?}: {answer:#}");
        assert!(answer["clerk_trace_id"].as_str().is_some_and(|t| t.starts_with("trace_")), "{answer:#}");
    }
    let (_, missing) = bapi(&clerk, Method::GET, "/v1/organizations/org_missing", None).await;
    assert_eq!(missing["errors"][0]["meta"]["organization_id"], "org_missing");

    // An invitation can be revoked once.
    let (_, inv) = bapi(
        &clerk,
        Method::POST,
        &format!("/v1/organizations/{acme}/invitations"),
        Some(json!({"email_address": "i@example.com", "role": "org:member"})),
    )
    .await;
    let revoke = format!("/v1/organizations/{acme}/invitations/{}/revoke", inv["id"].as_str().unwrap());
    assert_eq!(bapi(&clerk, Method::POST, &revoke, None).await.0, 200);
    let (status, again) = bapi(&clerk, Method::POST, &revoke, None).await;
    assert_eq!((status, code(&again).0), (422, "form_param_format_invalid"), "{again:#}");

    // Without the secret key, nothing.
    let res = http().get(format!("{}/v1/organizations", clerk.url())).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

/// The `__session` directive's token out of a handshake answer (`format=token`, development: a query parameter).
fn session_from_handshake(location: &str) -> Option<String> {
    let url = url::Url::parse(location).unwrap();
    let jwt = url.query_pairs().find(|(k, _)| k == "__clerk_handshake").map(|(_, v)| v.into_owned()).unwrap();
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    payload["handshake"].as_array().unwrap().iter().filter_map(Value::as_str).find_map(|d| {
        let value = d.strip_prefix("__session=")?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    })
}

async fn handshake(clerk: &MockClerk, s: &SignedIn, organization: Option<&str>) -> Value {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("redirect_url", "http://127.0.0.1:3999/orgs/x").append_pair("format", "token").append_pair("__session", &s.token);
    if let Some(org) = organization {
        query.append_pair("organization_id", org);
    }
    let res = http().get(format!("{}/v1/client/handshake?{}", clerk.url(), query.finish())).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 307);
    let token = session_from_handshake(res.headers()["location"].to_str().unwrap()).expect("signed in");
    claims(&token)
}

/// `User.organization_memberships`: the Backend API's user carries the user's memberships (role, permissions,
/// the organization), in the shape `bapi/2026-05-12.yml` gives `OrganizationMembership`; one without any has `[]`.
#[tokio::test]
async fn the_backend_apis_user_lists_its_organization_memberships() {
    let clerk = MockClerk::start().await;
    let s = sign_in_to(&clerk, "acme", "org:admin");
    let (status, loner) = bapi(&clerk, Method::POST, "/v1/users", Some(json!({"email_address": ["loner@example.com"]}))).await;
    assert_eq!(status, 200, "{loner:#}");
    assert_eq!(loner["organization_memberships"], json!([]));
    {
        let now = clerk.state().clock().now_ms();
        let mut store = clerk.state().store();
        let beta = store.create_organization(mock_clerk::store::orgs::NewOrganization { name: "Beta".into(), ..Default::default() }, now).unwrap();
        store.create_membership(&beta.id, &s.user_id, "org:member", None, None, now).unwrap();
    }
    let path = format!("/v1/users/{}", s.user_id);
    let (status, user) = bapi(&clerk, Method::GET, &path, None).await;
    assert_eq!(status, 200);
    openapi::assert_conforms("GET", &path, 200, &user);
    let held: Vec<(&str, &str, &str)> = user["organization_memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["object"].as_str().unwrap(), m["organization"]["slug"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(held, [("organization_membership", "acme", "org:admin"), ("organization_membership", "beta", "org:member")], "{user:#}");
    assert_eq!(user["organization_memberships"][0]["public_user_data"]["user_id"], s.user_id.as_str());
    assert!(user["organization_memberships"][0]["permissions"].as_array().unwrap().iter().any(|p| p == "org:sys_memberships:manage"));
    // The list and the metadata update answer the same user.
    let (_, list) = bapi(&clerk, Method::GET, &format!("/v1/users?user_id={}", s.user_id), None).await;
    openapi::assert_conforms("GET", "/v1/users", 200, &list);
    assert_eq!(list[0]["organization_memberships"].as_array().map(Vec::len), Some(2));
    let (_, patched) = bapi(&clerk, Method::PATCH, &format!("{path}/metadata"), Some(json!({"public_metadata": {"plan": "pro"}}))).await;
    assert_eq!(patched["organization_memberships"].as_array().map(Vec::len), Some(2), "{patched:#}");
    // Removing a membership removes it from the user.
    let acme = clerk.state().store().organization("acme").unwrap().id.clone();
    let (status, _) = bapi(&clerk, Method::DELETE, &format!("/v1/organizations/{acme}/memberships/{}", s.user_id), None).await;
    assert_eq!(status, 200);
    let (_, user) = bapi(&clerk, Method::GET, &path, None).await;
    assert_eq!(user["organization_memberships"].as_array().unwrap().len(), 1);
    let (_, lone) = bapi(&clerk, Method::GET, &format!("/v1/users/{}", loner["id"].as_str().unwrap()), None).await;
    assert_eq!(lone["organization_memberships"], json!([]));
}

#[tokio::test]
async fn the_handshake_and_touch_switch_the_active_organization() {
    let clerk = MockClerk::start().await;
    let s = sign_in_to(&clerk, "acme", "org:admin");
    {
        let now = clerk.state().clock().now_ms();
        let mut store = clerk.state().store();
        let beta = store.create_organization(mock_clerk::store::orgs::NewOrganization { name: "Beta".into(), ..Default::default() }, now).unwrap();
        store.create_membership(&beta.id, &s.user_id, "org:member", None, None, now).unwrap();
        store.create_organization(mock_clerk::store::orgs::NewOrganization { name: "Gamma".into(), ..Default::default() }, now).unwrap();
    }
    assert_eq!(claims(&s.token)["o"]["slg"], "acme");
    // Organization sync: the SDK sends the slug (or id) of the organization the URL names.
    let c = handshake(&clerk, &s, Some("beta")).await;
    assert_eq!((c["o"]["slg"].as_str(), c["o"]["rol"].as_str()), (Some("beta"), Some("member")), "{c:#}");
    let c = handshake(&clerk, &s, None).await;
    assert_eq!(c["o"]["slg"], "beta", "the session keeps its active organization");
    let c = handshake(&clerk, &s, Some("gamma")).await;
    assert_eq!(c["o"]["slg"], "beta", "not a member of gamma: unchanged");
    let c = handshake(&clerk, &s, Some("")).await;
    assert_eq!(c.get("o"), None, "the personal account: {c:#}");
    let (_, session) = bapi(&clerk, Method::GET, &format!("/v1/sessions/{}", s.session_id), None).await;
    assert_eq!(session["last_active_organization_id"], Value::Null);

    // clerk-js setActive({organization}): POST /v1/client/sessions/{id}/touch with active_organization_id.
    let dvb = s.cookies.iter().find(|c| c.name == "__clerk_db_jwt").unwrap().value.clone();
    let touch = |org: &str| {
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("active_organization_id", org).finish();
        http()
            .post(format!("{}/v1/client/sessions/{}/touch?__clerk_db_jwt={dvb}", clerk.url(), s.session_id))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", "http://127.0.0.1:3999")
            .body(body)
            .send()
    };
    let res = touch("acme").await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    let session = &body["response"];
    let acme = clerk.state().store().organization("acme").unwrap().id.clone();
    assert_eq!(session["last_active_organization_id"], acme.as_str(), "{body:#}");
    assert_eq!(claims(session["last_active_token"]["jwt"].as_str().unwrap())["o"]["rol"], "admin");
    let slugs: Vec<&str> =
        session["user"]["organization_memberships"].as_array().unwrap().iter().filter_map(|m| m["organization"]["slug"].as_str()).collect();
    assert_eq!(slugs, ["acme", "beta"], "clerk-js finds the active organization among the user's memberships");
    assert_eq!(session["user"]["organization_memberships"][0].get("private_metadata"), None);
    let res = touch("gamma").await.unwrap();
    assert_eq!(res.status().as_u16(), 404, "not a member");
    let (_, token) = bapi(&clerk, Method::POST, &format!("/v1/sessions/{}/tokens", s.session_id), Some(json!({}))).await;
    assert_eq!(claims(token["jwt"].as_str().unwrap())["o"]["slg"], "acme", "the Backend API mints the same");
    // `fva` ages with mock-clerk's clock in the handshake's token too (tests/integration/fapi_mfa.rs checks the
    // Frontend and Backend API mints).
    assert_eq!(claims(token["jwt"].as_str().unwrap())["fva"], json!([0, -1]));
    clerk.advance(Duration::from_secs(11 * 60));
    let c = handshake(&clerk, &s, None).await;
    assert_eq!((&c["fva"], c["o"]["slg"].as_str()), (&json!([11, -1]), Some("acme")), "{c:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn organization_changes_become_webhook_events() {
    let receiver = Receiver::start().await;
    let clerk = MockClerk::builder().webhook_url(receiver.url()).start().await;
    let s = clerk.sign_in();
    assert!(clerk.webhooks_settled(Duration::from_secs(30)).await);
    let before = clerk.webhook_messages().len();
    let (_, org) = bapi(&clerk, Method::POST, "/v1/organizations", Some(json!({"name": "Hooks", "created_by": s.user_id}))).await;
    let id = org["id"].as_str().unwrap().to_owned();
    let invitee = clerk.sign_in_with(SignInRequest { email: Some("inv@example.com".into()), ..SignInRequest::default() }).unwrap();
    let (_, inv) = bapi(
        &clerk,
        Method::POST,
        &format!("/v1/organizations/{id}/invitations"),
        Some(json!({"email_address": "inv@example.com", "role": "org:member"})),
    )
    .await;
    let (_, other) = bapi(
        &clerk,
        Method::POST,
        &format!("/v1/organizations/{id}/invitations"),
        Some(json!({"email_address": "x@example.com", "role": "org:member"})),
    )
    .await;
    bapi(&clerk, Method::POST, &format!("/v1/organizations/{id}/invitations/{}/revoke", other["id"].as_str().unwrap()), None).await;
    bapi(&clerk, Method::POST, &format!("/v1/organizations/{id}/memberships"), Some(json!({"user_id": invitee.user_id, "role": "org:member"}))).await;
    bapi(&clerk, Method::PATCH, &format!("/v1/organizations/{id}/memberships/{}", invitee.user_id), Some(json!({"role": "org:admin"}))).await;
    bapi(&clerk, Method::DELETE, &format!("/v1/organizations/{id}/memberships/{}", invitee.user_id), None).await;
    bapi(&clerk, Method::PATCH, &format!("/v1/organizations/{id}/metadata"), Some(json!({"public_metadata": {"a": 1}}))).await;
    bapi(&clerk, Method::DELETE, &format!("/v1/organizations/{id}"), None).await;
    assert!(clerk.webhooks_settled(Duration::from_secs(30)).await);
    let events: Vec<(String, Value)> = clerk
        .webhook_messages()
        .into_iter()
        .skip(before)
        .filter(|m| !m.event_type.starts_with("user.") && !m.event_type.starts_with("session."))
        .map(|m| {
            let body: Value = serde_json::from_str(&m.payload).unwrap();
            (m.event_type, body["data"].clone())
        })
        .collect();
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "organization.created",
            "organizationMembership.created",
            "organizationInvitation.created",
            "organizationInvitation.created",
            "organizationInvitation.revoked",
            "organizationMembership.created",
            "organizationInvitation.accepted",
            "organizationMembership.updated",
            "organizationMembership.deleted",
            "organization.updated",
            "organization.deleted",
        ]
    );
    assert_eq!(events[0].1["id"], id.as_str());
    assert_eq!(events[1].1["role"], "org:admin", "the creator's membership");
    assert_eq!((events[6].1["id"].as_str(), events[6].1["status"].as_str()), (inv["id"].as_str(), Some("accepted")));
    assert_eq!(events[7].1["public_user_data"]["user_id"], invitee.user_id.as_str());
    assert_eq!(events[9].1["public_metadata"], json!({"a": 1}));
    assert_eq!((events[10].1["deleted"].as_bool(), events[10].1["object"].as_str()), (Some(true), Some("organization")));
    assert!(receiver.received().iter().any(|r| r.json()["type"] == "organization.deleted"), "delivered");
}

#[tokio::test]
async fn the_state_file_keeps_organizations_and_session_claims() {
    let clerk = MockClerk::start().await;
    let s = clerk
        .sign_in_with(SignInRequest {
            organization: Some(OrgSignIn {
                slug: "kept".into(),
                role: Some("org:auditor".into()),
                permissions: vec!["org:audit:read".into()],
                ..OrgSignIn::default()
            }),
            features: vec!["premium".into()],
            plans: vec!["pro".into()],
            claims: serde_json::Map::from_iter([("tenant".to_owned(), json!("t_1")), ("sid".to_owned(), json!("forged"))]),
            ..SignInRequest::default()
        })
        .unwrap();
    let first = claims(&s.token);
    assert_eq!((first["o"]["per"].as_str(), first["fea"].as_str(), first["pla"].as_str()), (Some("read"), Some("o:audit,u:premium"), Some("u:pro")));
    let saved = serde_json::to_value(&*clerk.state().store()).unwrap();
    let loaded: Store = serde_json::from_value(saved).unwrap();
    let session = loaded.session(&s.session_id).unwrap();
    let spec = mock_clerk::tokens::TokenSpec::for_session(session, &loaded, clerk.state().clock().now_ms());
    let again = claims(&clerk.state().mint(&spec).token);
    for name in ["o", "fea", "pla", "tenant"] {
        assert_eq!(again[name], first[name], "{name} after a reload");
    }
    assert_eq!(again["sid"], s.session_id.as_str(), "custom claims never replace Clerk's own");
    assert_eq!(loaded.role("org:auditor").unwrap().permissions, ["org:audit:read"]);
}

#[test]
fn the_token_command_mints_organization_billing_and_actor_claims() {
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-clerk"))
            .current_dir(std::env::temp_dir())
            .env_clear()
            .args(["token", "--ephemeral-key"])
            .args(extra)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, out, err) = run(&[
        "--org",
        "acme",
        "--org-id",
        "org_1",
        "--role",
        "org:admin",
        "--permission",
        "org:reports:read",
        "--permission",
        "org:billing:manage",
        "--permission",
        "org:sys_profile:manage",
        "--feature",
        "premium",
        "--plan",
        "pro",
        "--actor",
        "user_support",
    ]);
    assert!(ok, "{err}");
    let c = claims(out.lines().next().unwrap());
    assert_eq!(c["o"], json!({"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage", "fpm": "1,2"}), "{c:#}");
    assert_eq!(
        (c["fea"].as_str(), c["pla"].as_str(), c["act"]["sub"].as_str()),
        (Some("o:reports,o:billing,u:premium"), Some("u:pro"), Some("user_support"))
    );
    let (ok, _, err) = run(&["--role", "org:admin"]);
    assert!(!ok && err.contains("--org"), "a role needs an organization: {err}");
}
