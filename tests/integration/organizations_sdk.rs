//! Organizations, roles and permissions through the real `@clerk/backend` 3 (`clerkClient.organizations.*`,
//! `organizationRoles`, `organizationPermissions`), and the claims that live on the session: every token the SDK
//! gets for the session (`sessions.getToken`, i.e. a refresh) carries the active organization's `o` as the
//! membership is now, so `authenticateRequest(...).toAuth()` and `has()` follow role changes and removal.

use clerk_conformance::sdk::{backend_sdk as driver, sdk_ok as ok};
use mock_clerk::control::org_ops::OrgSignIn;
use mock_clerk::store::NewUser;
use mock_clerk::{MockClerk, SignInRequest};
use serde_json::{Value, json};

fn err(result: &Value) -> &Value {
    assert_eq!(result["ok"], false, "expected an error: {result:#}");
    &result["error"]
}

/// The first error's code and the HTTP status the SDK saw.
fn code(result: &Value) -> (String, i64) {
    let e = err(result);
    (e["errors"][0]["code"].as_str().unwrap_or_default().to_owned(), e["status"].as_i64().unwrap_or_default())
}

fn user(clerk: &MockClerk, email: &str) -> String {
    let now = clerk.state().clock().now_ms();
    let new = NewUser { email_address: vec![email.into()], first_name: Some("Ada".into()), ..NewUser::default() };
    clerk.state().store().create_user(new, now).unwrap().id.to_string()
}

const CHECKS: &[(&str, &str)] = &[
    ("role", "org:member"),
    ("role", "org:analyst"),
    ("permission", "org:reports:read"),
    ("permission", "org:reports:manage"),
    ("permission", "org:billing:manage"),
    ("permission", "org:billing:read"),
    ("feature", "premium"),
    ("plan", "pro"),
    ("plan", "enterprise"),
];

/// A token for the session through the SDK (a refresh), then `authenticateRequest` with it and every check.
fn token_and_auth(name: &str, session_id: &str) -> [Value; 2] {
    let has: Vec<Value> = CHECKS.iter().map(|(k, v)| json!({ *k: v })).collect();
    [
        json!({"op": "getToken", "name": name, "sessionId": session_id}),
        json!({"op": "authenticateRequest", "url": "http://127.0.0.1:3999/api/reports",
               "headers": {"authorization": format!("Bearer ${{{name}.jwt}}"), "accept": "application/json"}, "has": has}),
    ]
}

fn has_map(auth: &Value) -> Vec<(String, bool)> {
    CHECKS.iter().zip(auth["has"].as_array().unwrap()).map(|((k, v), b)| (format!("{k} {v}"), b.as_bool().unwrap())).collect()
}

fn expect_has(auth: &Value, truths: &[bool]) {
    let got = has_map(auth);
    let want: Vec<(String, bool)> = got.iter().zip(truths).map(|((name, _), t)| (name.clone(), *t)).collect();
    assert_eq!(got, want, "has() after {auth:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn organizations_roles_and_claims_that_follow_the_membership() {
    let clerk = MockClerk::builder().start().await;
    let creator = user(&clerk, "creator@example.com");
    let member = user(&clerk, "member@example.com");
    let big = "x".repeat(9 * 1024);

    let r = driver(
        &clerk,
        json!([
            {"op": "createOrganizationPermission", "name": "perm", "params": {"name": "Read reports", "key": "org:reports:read", "description": "Reports"}},
            {"op": "createOrganizationPermission", "name": "billing", "params": {"name": "Manage billing", "key": "org:billing:manage", "description": "Billing"}},
            {"op": "createOrganizationRole", "name": "role", "params": {"name": "Analyst", "key": "org:analyst", "permissions": ["${perm.id}", "${billing.id}"]}},
            {"op": "createOrganization", "name": "org", "params": {"name": "Acme", "slug": "acme", "createdBy": creator}},
            {"op": "createOrganization", "params": {"name": "Acme again", "slug": "acme"}},
            {"op": "getOrganization", "params": {"slug": "acme"}},
            {"op": "getOrganization", "params": {"organizationId": "${org.id}"}},
            {"op": "getOrganizationList", "params": {"query": "acm", "limit": 5}},
            {"op": "updateOrganizationMetadata", "id": "${org.id}", "params": {"publicMetadata": {"tier": "gold", "limits": {"seats": 5}}}},
            {"op": "updateOrganizationMetadata", "id": "${org.id}", "params": {"publicMetadata": {"limits": {"projects": 2}, "tier": null}, "privateMetadata": {"crm": "c_1"}}},
            {"op": "updateOrganizationMetadata", "id": "${org.id}", "params": {"publicMetadata": {"blob": big}}},
            {"op": "createOrganizationMembership", "params": {"organizationId": "${org.id}", "userId": member, "role": "org:member"}},
            {"op": "createOrganizationMembership", "params": {"organizationId": "${org.id}", "userId": member, "role": "org:member"}},
            {"op": "createOrganizationMembership", "params": {"organizationId": "${org.id}", "userId": creator, "role": "org:nope"}},
            {"op": "getOrganizationMembershipList", "params": {"organizationId": "${org.id}"}},
            {"op": "createOrganizationInvitation", "name": "inv", "params": {"organizationId": "${org.id}", "emailAddress": "new@example.com", "role": "org:member", "inviterUserId": creator}},
            {"op": "revokeOrganizationInvitation", "params": {"organizationId": "${org.id}", "invitationId": "${inv.id}", "requestingUserId": creator}},
            {"op": "getOrganizationInvitationList", "params": {"organizationId": "${org.id}"}},
            {"op": "getUserOrganizationMembershipList", "params": {"userId": member}},
            {"op": "getOrganization", "params": {"organizationId": "org_missing"}},
            {"op": "getOrganizationRoleList", "params": {}},
            {"op": "getUser", "id": member},
            {"op": "updateUserMetadata", "id": member, "params": {"publicMetadata": {"team": "blue"}}},
        ]),
    );
    assert_eq!(ok(&r[0])["key"], "org:reports:read");
    assert_eq!(ok(&r[2])["permissions"][1]["key"], "org:billing:manage", "the role holds the permissions: {:#}", r[2]);
    let org = ok(&r[3]);
    let org_id = org["id"].as_str().unwrap().to_owned();
    assert!(org_id.starts_with("org_"), "{org:#}");
    assert_eq!((org["slug"].as_str(), org["createdBy"].as_str(), org["membersCount"].as_i64()), (Some("acme"), Some(creator.as_str()), Some(1)));
    assert_eq!(code(&r[4]), ("form_identifier_exists".into(), 422), "a duplicate slug");
    assert_eq!(ok(&r[5])["id"], org_id, "by slug");
    assert_eq!(ok(&r[6])["slug"], "acme", "by id");
    assert_eq!((ok(&r[7])["totalCount"].as_i64(), ok(&r[7])["data"][0]["id"].as_str()), (Some(1), Some(org_id.as_str())));
    assert_eq!(ok(&r[9])["publicMetadata"], json!({"limits": {"seats": 5, "projects": 2}}), "deep merge, null deletes");
    assert_eq!(ok(&r[9])["privateMetadata"], json!({"crm": "c_1"}));
    assert_eq!(code(&r[10]), ("form_param_max_length_exceeded".into(), 422), "metadata over 8 KB");
    let m = ok(&r[11]);
    assert_eq!(
        (m["role"].as_str(), m["publicUserData"]["userId"].as_str(), m["organization"]["id"].as_str()),
        (Some("org:member"), Some(member.as_str()), Some(org_id.as_str()))
    );
    assert_eq!(code(&r[12]), ("already_a_member_in_organization".into(), 422));
    assert_eq!(code(&r[13]), ("resource_not_found".into(), 404), "an unknown role");
    assert_eq!(ok(&r[14])["totalCount"], 2, "the creator is an admin member: {:#}", r[14]);
    assert_eq!(ok(&r[15])["status"], "pending");
    assert_eq!(ok(&r[16])["status"], "revoked");
    assert_eq!(ok(&r[17])["data"][0]["status"], "revoked");
    assert_eq!(ok(&r[18])["data"][0]["organization"]["slug"], "acme");
    assert_eq!(code(&r[19]), ("resource_not_found".into(), 404));
    let roles: Vec<&str> = ok(&r[20])["data"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(roles, ["org:admin", "org:member", "org:analyst"]);
    // `User.organization_memberships` (the SDK's `User` keeps it on `raw`, `UserJSON.organization_memberships`).
    for (i, what) in [(21, "getUser"), (22, "updateUserMetadata")] {
        let raw = &ok(&r[i])["_raw"];
        let held: Vec<(&str, &str)> = raw["organization_memberships"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {raw:#}"))
            .iter()
            .map(|m| (m["organization"]["slug"].as_str().unwrap_or_default(), m["role"].as_str().unwrap_or_default()))
            .collect();
        assert_eq!(held, [("acme", "org:member")], "{what}: the user's memberships");
    }
    assert_eq!(ok(&r[22])["publicMetadata"], json!({"team": "blue"}));

    // Signed in with features and a plan, acme active (the membership made through the SDK above).
    let s = clerk
        .sign_in_with(SignInRequest {
            user_id: Some(member.clone()),
            organization: Some(OrgSignIn { slug: "acme".into(), ..OrgSignIn::default() }),
            features: vec!["premium".into()],
            plans: vec!["pro".into()],
            ..SignInRequest::default()
        })
        .unwrap();
    let sid = s.session_id.as_str();
    let membership = json!({"organizationId": org_id, "userId": member});
    let mut ops = Vec::new();
    ops.extend(token_and_auth("t1", sid));
    ops.push(json!({"op": "updateOrganizationMembership", "params": {"organizationId": org_id, "userId": member, "role": "org:analyst"}}));
    ops.extend(token_and_auth("t2", sid));
    ops.push(json!({"op": "deleteOrganizationMembership", "params": membership}));
    ops.extend(token_and_auth("t3", sid));
    let r = driver(&clerk, Value::Array(ops));

    let member_auth = ok(&r[1]);
    assert_eq!(member_auth["isSignedIn"], true, "{member_auth:#}");
    assert_eq!(
        (member_auth["orgId"].as_str(), member_auth["orgSlug"].as_str(), member_auth["orgRole"].as_str()),
        (Some(org_id.as_str()), Some("acme"), Some("org:member"))
    );
    expect_has(member_auth, &[true, false, false, false, false, false, true, true, false]);

    assert_eq!(ok(&r[2])["role"], "org:analyst");
    let analyst = ok(&r[4]);
    assert_eq!(analyst["orgRole"], "org:analyst", "the next token after the role changed: {analyst:#}");
    assert_eq!(analyst["orgPermissions"], json!(["org:reports:read", "org:billing:manage"]));
    expect_has(analyst, &[false, true, true, false, true, false, true, true, false]);

    ok(&r[5]);
    let removed = ok(&r[7]);
    assert_eq!((removed["isSignedIn"].as_bool(), removed["orgId"].as_str()), (Some(true), None), "no o once the membership is gone: {removed:#}");
    expect_has(removed, &[false, false, false, false, false, false, true, true, false]);
}

/// `authenticateRequest` for a page, with organization sync on `/orgs/:slug` (`organizationSyncOptions`).
fn page_with_org_sync(clerk: &MockClerk, url: &str, cookie: &str) -> Value {
    let options = json!({"proxyUrl": clerk.url(), "organizationSyncOptions": {"organizationPatterns": ["/orgs/:slug"]}});
    let headers = json!({"cookie": cookie, "accept": "text/html", "sec-fetch-dest": "document", "user-agent": "mock-clerk-tests"});
    let r = driver(clerk, json!([{"op": "authenticateRequest", "url": url, "options": options, "headers": headers}]));
    ok(&r[0]).clone()
}

// packages/backend/src/tokens/request.ts handleMaybeOrganizationSyncHandshake, handshake.ts
// getOrganizationSyncQueryParams: the SDK asks the handshake for the organization the URL names.
#[tokio::test(flavor = "multi_thread")]
async fn organization_sync_activates_the_organization_through_the_handshake() {
    let clerk = MockClerk::builder().start().await;
    let s = clerk
        .sign_in_with(SignInRequest {
            organization: Some(OrgSignIn { slug: "acme".into(), role: Some("org:admin".into()), ..OrgSignIn::default() }),
            ..SignInRequest::default()
        })
        .unwrap();
    {
        let now = clerk.state().clock().now_ms();
        let mut store = clerk.state().store();
        let beta = store.create_organization(mock_clerk::store::orgs::NewOrganization { name: "Beta".into(), ..Default::default() }, now).unwrap();
        store.create_membership(&beta.id, &s.user_id, "org:member", None, None, now).unwrap();
    }
    let page = "http://127.0.0.1:3999/orgs/beta";
    let first = page_with_org_sync(&clerk, page, &s.cookie_header());
    assert_eq!((first["status"].as_str(), first["orgSlug"].as_str()), (Some("handshake"), None), "{first:#}");
    let to_clerk = first["headers"]["location"].as_str().unwrap();
    let asked = url::Url::parse(to_clerk).unwrap().query_pairs().find(|(k, _)| k == "organization_id").map(|(_, v)| v.into_owned());
    assert_eq!(asked.as_deref(), Some("beta"), "{to_clerk}");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = http.get(to_clerk).send().await.unwrap();
    assert_eq!(back.status(), 307);
    let back = back.headers()["location"].to_str().unwrap().to_owned();
    let second = page_with_org_sync(&clerk, &back, &s.cookie_header());
    assert_eq!(second["status"], "signed-in", "{second:#}");
    let fresh = second["setCookies"].as_array().unwrap().iter().filter_map(Value::as_str).rfind(|c| c.starts_with("__session=")).unwrap();
    let jwt = fresh.trim_start_matches("__session=").split(';').next().unwrap();
    let o = mock_clerk::tokens::decode_unverified(jwt).unwrap().claims["o"].clone();
    assert_eq!((o["slg"].as_str(), o["rol"].as_str()), (Some("beta"), Some("member")), "the handshake's token: {second:#}");
    let store = clerk.state().store();
    let active = store.session_claims(&s.session_id).and_then(|c| c.active_organization_id.clone());
    assert_eq!(active.as_deref(), Some(store.organization("beta").unwrap().id.as_str()), "the session's active organization is now beta");
}
