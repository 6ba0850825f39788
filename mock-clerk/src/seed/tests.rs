//! The seed file: parsing, dependency order, and errors that name file, line and field.

use super::*;

fn parse(text: &str) -> Result<Seed, SeedError> {
    Seed::parse(text, Path::new("seed.toml"))
}

#[test]
fn users_load_with_metadata() {
    let seed =
        parse("[[users]]\nemail = \"ada@example.com\"\npassword = \"correct horse\"\npublic_metadata = { role = \"admin\", n = 1 }\n").unwrap();
    assert_eq!(seed.users[0].email.as_deref(), Some("ada@example.com"));
    assert_eq!(Value::Object(seed.users[0].public_metadata.clone()), serde_json::json!({"role": "admin", "n": 1}));
}

#[test]
fn errors_name_file_line_and_field() {
    let e = parse("[[users]]\nemail = \"a@example.com\"\n\n[[users]]\nemail = \"b@example.com\"\nemial = \"typo\"\n").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (Some(6), "users[1].emial"), "{e}");
    assert!(e.message.contains("emial"), "{e}");
    let e = parse("[[users]]\nemail = \"a@example.com\"\nfirst_name = 5\n").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (Some(3), "users[0].first_name"), "{e}");
    assert!(e.to_string().starts_with("seed.toml:3: users[0].first_name: "), "{e}");
    let e = parse("[[users]]\nemail = \"a@example.com\"\n[[users]]\nfirst_name = \"B\"\nemail = \"A@example.com\"\n").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (Some(5), "users[1].email"), "{e}");
    let e = parse("[[users]]\npassword = \"short\"\n").unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (Some(2), "users[0].password"), "{e}");
    let e = parse("[[widgets]]\nname = \"acme\"\n").unwrap_err();
    assert!(e.message.contains("widgets"), "{e}");
    let e = parse("[[users]\n").unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
}

const ORGS: &str = r#"
[[users]]
email = "ada@example.com"

[[memberships]]
organization = "acme"
user = "ada@example.com"
role = "org:billing"

[[organizations]]
name = "Acme"
slug = "acme"
max_allowed_memberships = 5
public_metadata = { tier = "gold" }

[[roles]]
key = "org:billing"
name = "Billing manager"
permissions = ["org:invoices:read", "org:invoices:manage"]

[[roles]]
key = "org:admin"
permissions = ["org:reports:read"]
"#;

#[test]
fn organizations_roles_and_memberships_are_created_in_dependency_order() {
    let seed = parse(ORGS).unwrap();
    assert_eq!(seed.summary(), "1 users, 2 roles, 1 organizations, 1 memberships");
    let mut store = Store::default();
    let users = seed.apply(&mut store, 0).unwrap();
    let org = store.organization("acme").unwrap().clone();
    assert_eq!((org.name.as_str(), org.max_allowed_memberships), ("Acme", 5));
    assert_eq!(Value::Object(org.public_metadata), serde_json::json!({"tier": "gold"}));
    let m = store.membership(&org.id, &users[0].id).expect("ada is a member of acme");
    assert_eq!(m.role, "org:billing");
    let billing = store.role("org:billing").unwrap();
    assert_eq!(
        (billing.name.as_str(), billing.permissions.clone()),
        ("Billing manager", vec!["org:invoices:read".to_owned(), "org:invoices:manage".to_owned()])
    );
    assert!(store.role("org:admin").unwrap().permissions.contains(&"org:reports:read".to_owned()), "a default role gains seeded permissions");
    assert!(store.permission("org:invoices:manage").is_ok());
}

/// `ORGS` with `from` replaced by `to` (the text must occur once).
fn broken(from: &str, to: &str) -> SeedError {
    assert_eq!(ORGS.matches(from).count(), 1, "{from}");
    parse(&ORGS.replace(from, to)).unwrap_err()
}

#[test]
fn organization_errors_name_line_and_field() {
    let e = broken("organization = \"acme\"", "organization = \"acne\"");
    assert_eq!((e.line, e.field.as_str()), (Some(6), "memberships[0].organization"), "{e}");
    assert!(e.message.contains("\"acne\""), "{e}");
    let e = broken("user = \"ada@example.com\"", "user = \"eve@example.com\"");
    assert_eq!((e.line, e.field.as_str()), (Some(7), "memberships[0].user"), "{e}");
    let e = broken("role = \"org:billing\"", "role = \"org:biling\"");
    assert_eq!((e.line, e.field.as_str()), (Some(8), "memberships[0].role"), "{e}");
    assert!(e.to_string().starts_with("seed.toml:8: memberships[0].role: no role \"org:biling\""), "{e}");
    let e = broken("\"org:invoices:manage\"", "\"org:invoices\"");
    assert_eq!((e.line, e.field.as_str()), (Some(19), "roles[0].permissions"), "{e}");
    assert!(e.message.contains("org:<feature>:<action>"), "{e}");
    let e = broken("key = \"org:admin\"", "key = \"org:billing\"");
    assert_eq!((e.line, e.field.as_str()), (Some(22), "roles[1].key"), "{e}");
    let e = broken("max_allowed_memberships = 5", "max_allowed_memberships = 5\n[[organizations]]\nname = \"Acme 2\"\nslug = \"acme\"");
    assert_eq!((e.line, e.field.as_str()), (Some(16), "organizations[1].slug"), "{e}");
    assert!(e.message.contains("already taken"), "{e}");
    let e = broken("slug = \"acme\"", "slug = \"Acme Inc\"");
    assert_eq!((e.line, e.field.as_str()), (Some(12), "organizations[0].slug"), "{e}");
    let e = broken("max_allowed_memberships = 5", "max_allowed_memberships = 5\nowner = \"ada\"");
    assert_eq!((e.line, e.field.as_str()), (Some(14), "organizations[0].owner"), "{e}");
    let e = broken(
        "[[roles]]\nkey = \"org:admin\"",
        "[[memberships]]\norganization = \"acme\"\nuser = \"ada@example.com\"\nrole = \"org:admin\"\n[[roles]]\nkey = \"org:admin\"",
    );
    assert_eq!((e.line, e.field.as_str()), (Some(23), "memberships[1].user"), "{e}");
    assert!(e.message.contains("already a member"), "{e}");
}

const TEMPLATES: &str = r#"
[[jwt_templates]]
name = "supabase"
lifetime = 3600
claims = { email = "{{user.primary_email_address}}", role = "authenticated" }

[[jwt_templates]]
name = "hasura"
allowed_clock_skew = 10

[jwt_templates.claims."https://hasura.io/jwt/claims"]
x-hasura-user-id = "{{user.id}}"
"#;

#[test]
fn jwt_templates_load_and_render_nothing_until_asked() {
    let seed = parse(TEMPLATES).unwrap();
    assert_eq!(seed.summary(), "2 jwt_templates");
    let mut store = Store::default();
    seed.apply(&mut store, 0).unwrap();
    let t = store.jwt_templates().by_name("supabase").unwrap();
    assert_eq!((t.lifetime, t.allowed_clock_skew), (3600, 5));
    assert_eq!(t.claims["email"], "{{user.primary_email_address}}");
    let h = store.jwt_templates().by_name("hasura").unwrap();
    assert_eq!((h.lifetime, h.allowed_clock_skew), (60, 10));
    assert_eq!(h.claims["https://hasura.io/jwt/claims"]["x-hasura-user-id"], "{{user.id}}");
}

#[test]
fn jwt_template_errors_name_line_and_field() {
    let bad = |from: &str, to: &str| {
        assert_eq!(TEMPLATES.matches(from).count(), 1, "{from}");
        parse(&TEMPLATES.replace(from, to)).unwrap_err()
    };
    let e = bad("role = \"authenticated\"", "sub = \"me\"");
    assert_eq!((e.line, e.field.as_str()), (Some(5), "jwt_templates[0].claims"), "{e}");
    assert!(e.message.contains("sub is a default claim"), "{e}");
    let e = bad("name = \"hasura\"", "name = \"supabase\"");
    assert_eq!((e.line, e.field.as_str()), (Some(8), "jwt_templates[1].name"), "{e}");
    let e = bad("lifetime = 3600", "lifetime = 10");
    assert_eq!((e.line, e.field.as_str()), (Some(4), "jwt_templates[0].lifetime"), "{e}");
    let e = bad("allowed_clock_skew = 10", "allowed_clock_skew = 301");
    assert_eq!((e.line, e.field.as_str()), (Some(9), "jwt_templates[1].allowed_clock_skew"), "{e}");
    let e = bad("lifetime = 3600", "lifetime = 3600\nsigning_key = \"x\"");
    assert_eq!((e.line, e.field.as_str()), (Some(5), "jwt_templates[0].signing_key"), "{e}");
    let e = bad("claims = { email", "claim = { email");
    assert!(e.message.contains("claim"), "{e}");
}

const MACHINES: &str = r#"
[[users]]
email = "ada@example.com"

[[api_keys]]
subject = "ada@example.com"
name = "ada's laptop"
scopes = ["read"]
claims = { team = "core" }

[[api_keys]]
subject = "billing"
name = "billing key"

[[machines]]
name = "api"
scoped_machines = ["billing"]
default_token_ttl = 600

[[machines]]
name = "billing"
"#;

#[test]
fn machines_and_api_keys_refer_by_name_and_email() {
    let seed = parse(MACHINES).unwrap();
    assert_eq!(seed.summary(), "1 users, 2 machines, 2 api_keys");
    let mut store = Store::default();
    let users = seed.apply(&mut store, 0).unwrap();
    let machines = store.machines();
    let (api, billing) = (machines.machine_by_name("api").unwrap(), machines.machine_by_name("billing").unwrap());
    assert_eq!((api.scoped_machines.clone(), api.default_token_ttl), (vec![billing.id.to_string()], 600));
    let ada_keys = machines.api_keys(&users[0].id, false, 0);
    assert_eq!(ada_keys.len(), 1);
    assert_eq!((ada_keys[0].name.as_str(), ada_keys[0].scopes.clone()), ("ada's laptop", vec!["read".to_owned()]));
    assert_eq!(ada_keys[0].claims, Some(serde_json::json!({"team": "core"})));
    assert_eq!(machines.api_keys(&billing.id, false, 0).len(), 1, "a machine's key");
}

#[test]
fn machine_errors_name_line_and_field() {
    let bad = |from: &str, to: &str| {
        assert_eq!(MACHINES.matches(from).count(), 1, "{from}");
        parse(&MACHINES.replace(from, to)).unwrap_err()
    };
    let e = bad("scoped_machines = [\"billing\"]", "scoped_machines = [\"biling\"]");
    assert_eq!((e.line, e.field.as_str()), (Some(17), "machines[0].scoped_machines"), "{e}");
    let e = bad("subject = \"billing\"", "subject = \"nobody\"");
    assert_eq!((e.line, e.field.as_str()), (Some(12), "api_keys[1].subject"), "{e}");
    let e = bad("subject = \"ada@example.com\"", "subject = \"eve@example.com\"");
    assert_eq!((e.line, e.field.as_str()), (Some(6), "api_keys[0].subject"), "{e}");
    assert!(e.message.contains("no user with email \"eve@example.com\""), "{e}");
    let e = bad("name = \"billing key\"", "name = \"bk\"");
    assert_eq!((e.line, e.field.as_str()), (Some(13), "api_keys[1].name"), "{e}");
    let e = bad("name = \"api\"", "name = \"billing\"");
    assert_eq!((e.line, e.field.as_str()), (Some(21), "machines[1].name"), "the second of two machines named billing: {e}");
    let e = bad("default_token_ttl = 600", "default_token_ttl = 0");
    assert_eq!((e.line, e.field.as_str()), (Some(18), "machines[0].default_token_ttl"), "{e}");
}
