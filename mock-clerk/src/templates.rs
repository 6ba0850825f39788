//! JWT templates (`/v1/jwt_templates`) and their rendering into a token's claims.
//!
//! Clerk's rules (clerk.com/docs "JWT templates"): a claim value that is a string is scanned for shortcodes
//! `{{…}}`. A string that is exactly one shortcode becomes the shortcode's value with its JSON type (an object,
//! a boolean, a number, `null`); shortcodes inside a longer string are interpolated as text (strings as they are,
//! other values as JSON, `null` as nothing). A shortcode may offer fallbacks, `{{a || b || 'text'}}`: the first
//! one that is not `null` wins. An unknown shortcode is `null`. Objects and arrays are rendered element by
//! element. The default claims (`azp`, `exp`, `iat`, `iss`, `jti`, `nbf`, `sub`) cannot be overridden.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ids::new_id;

/// Clerk's default template lifetime (seconds).
pub const DEFAULT_LIFETIME_SECS: u64 = 60;
/// Clerk's default allowed clock skew (seconds).
pub const DEFAULT_CLOCK_SKEW_SECS: u64 = 5;
/// Lifetime bounds (`minimum: 30`, `maximum: 315360000`).
pub const LIFETIME_RANGE: std::ops::RangeInclusive<u64> = 30..=315_360_000;
/// Clock-skew bounds (`minimum: 0`, `maximum: 300`).
pub const CLOCK_SKEW_RANGE: std::ops::RangeInclusive<u64> = 0..=300;
/// The `cat` header of a template token (`tokens/jwtCategories.ts` `JWT_CATEGORY_JWT_TEMPLATE`): session verifiers
/// refuse it.
pub const TEMPLATE_JWT_CATEGORY: &str = "cl_B7d4PD222AAA";
/// Claims a template cannot set.
pub const DEFAULT_CLAIMS: [&str; 7] = ["azp", "exp", "iat", "iss", "jti", "nbf", "sub"];
/// Id prefix.
pub const PREFIX: &str = "jtmp";

/// A JWT template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JwtTemplate {
    /// `jtmp_…`.
    pub id: String,
    /// Unique name (`getToken({ template: name })`).
    pub name: String,
    /// The claims, shortcodes unrendered.
    pub claims: Map<String, Value>,
    /// Seconds.
    pub lifetime: u64,
    /// Seconds.
    pub allowed_clock_skew: u64,
    /// Milliseconds.
    pub created_at: i64,
    /// Milliseconds.
    pub updated_at: i64,
}

/// `POST /v1/jwt_templates` and `PATCH /v1/jwt_templates/{id}` (both require `name` and `claims`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// Unique name.
    pub name: String,
    /// Claims object.
    pub claims: Value,
    /// Seconds, 30..=315360000; null for the default.
    #[serde(default)]
    pub lifetime: Option<u64>,
    /// Seconds, 0..=300; null for the default.
    #[serde(default)]
    pub allowed_clock_skew: Option<u64>,
    /// Custom signing keys are refused: mock-clerk signs with the instance key.
    #[serde(default)]
    pub custom_signing_key: Option<bool>,
    /// Refused unless RS256 (the instance key's algorithm).
    #[serde(default)]
    pub signing_algorithm: Option<String>,
    /// Refused.
    #[serde(default)]
    pub signing_key: Option<String>,
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A field with a wrong value.
    #[error("{param}: {message}")]
    Invalid {
        /// The field.
        param: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Another template has this name.
    #[error("a template named {0:?} exists")]
    NameTaken(String),
    /// No template with this id (or name, when rendering).
    #[error("JWT template {0} not found")]
    NotFound(String),
}

impl From<TemplateError> for crate::error::ApiError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::Invalid { param, message } => Self::FormParamInvalid { param: param.into(), message },
            TemplateError::NameTaken(_) => Self::IdentifierExists("name".into()),
            TemplateError::NotFound(id) => Self::ResourceNotFound { kind: "JWT template", id },
        }
    }
}

fn invalid(param: &'static str, message: impl Into<String>) -> TemplateError {
    TemplateError::Invalid { param, message: message.into() }
}

/// The instance's templates, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JwtTemplates(BTreeMap<String, JwtTemplate>);

impl JwtTemplates {
    fn check(&self, body: &TemplateBody, except: Option<&str>) -> Result<(Map<String, Value>, u64, u64), TemplateError> {
        let name = body.name.trim();
        if name.is_empty() || name.len() > 255 {
            return Err(invalid("name", "name must be 1 to 255 characters"));
        }
        if self.0.values().any(|t| t.name == body.name && Some(t.id.as_str()) != except) {
            return Err(TemplateError::NameTaken(body.name.clone()));
        }
        let Value::Object(claims) = &body.claims else { return Err(invalid("claims", "claims must be a JSON object")) };
        if let Some(reserved) = claims.keys().find(|k| DEFAULT_CLAIMS.contains(&k.as_str())) {
            return Err(invalid("claims", format!("{reserved} is a default claim and cannot be set by a template")));
        }
        if body.custom_signing_key == Some(true) || body.signing_key.is_some() {
            return Err(invalid(
                "custom_signing_key",
                "mock-clerk signs every JWT template with the instance's key; custom signing keys are not supported",
            ));
        }
        if body.signing_algorithm.as_deref().is_some_and(|a| a != "RS256") {
            return Err(invalid("signing_algorithm", "mock-clerk signs JWT templates with RS256 only"));
        }
        let lifetime = body.lifetime.unwrap_or(DEFAULT_LIFETIME_SECS);
        if !LIFETIME_RANGE.contains(&lifetime) {
            return Err(invalid("lifetime", "lifetime must be between 30 and 315360000 seconds"));
        }
        let skew = body.allowed_clock_skew.unwrap_or(DEFAULT_CLOCK_SKEW_SECS);
        if !CLOCK_SKEW_RANGE.contains(&skew) {
            return Err(invalid("allowed_clock_skew", "allowed_clock_skew must be between 0 and 300 seconds"));
        }
        Ok((claims.clone(), lifetime, skew))
    }

    /// Creates a template.
    pub fn create(&mut self, body: TemplateBody, now: i64) -> Result<JwtTemplate, TemplateError> {
        let (claims, lifetime, allowed_clock_skew) = self.check(&body, None)?;
        let t = JwtTemplate { id: new_id(PREFIX), name: body.name, claims, lifetime, allowed_clock_skew, created_at: now, updated_at: now };
        self.0.insert(t.id.clone(), t.clone());
        Ok(t)
    }

    /// Replaces a template's fields.
    pub fn update(&mut self, id: &str, body: TemplateBody, now: i64) -> Result<JwtTemplate, TemplateError> {
        self.get(id)?;
        let (claims, lifetime, allowed_clock_skew) = self.check(&body, Some(id))?;
        let t = self.0.get_mut(id).ok_or_else(|| TemplateError::NotFound(id.to_owned()))?;
        *t = JwtTemplate { name: body.name, claims, lifetime, allowed_clock_skew, updated_at: now, ..t.clone() };
        Ok(t.clone())
    }

    /// A template by id.
    pub fn get(&self, id: &str) -> Result<&JwtTemplate, TemplateError> {
        self.0.get(id).ok_or_else(|| TemplateError::NotFound(id.to_owned()))
    }

    /// A template by name (what `getToken({ template })` names).
    pub fn by_name(&self, name: &str) -> Result<&JwtTemplate, TemplateError> {
        self.0.values().find(|t| t.name == name).ok_or_else(|| TemplateError::NotFound(name.to_owned()))
    }

    /// Deletes a template.
    pub fn delete(&mut self, id: &str) -> Result<JwtTemplate, TemplateError> {
        self.0.remove(id).ok_or_else(|| TemplateError::NotFound(id.to_owned()))
    }

    /// Every template, oldest first.
    pub fn list(&self) -> Vec<&JwtTemplate> {
        let mut all: Vec<&JwtTemplate> = self.0.values().collect();
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        all
    }
}

/// `JwtTemplateJSON`.
pub fn template_json(t: &JwtTemplate) -> Value {
    json!({
        "object": "jwt_template", "id": t.id, "name": t.name, "claims": t.claims, "lifetime": t.lifetime,
        "allowed_clock_skew": t.allowed_clock_skew, "custom_signing_key": false, "signing_algorithm": "RS256",
        "created_at": t.created_at, "updated_at": t.updated_at,
    })
}

/// What shortcodes can name: `user` (the user's fields), `org` (the session's active organization, if any),
/// `session` (`actor`). Each is a JSON object walked by dotted path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateContext {
    /// `{{user.…}}`.
    pub user: Value,
    /// `{{org.…}}`: `None` when the session has no active organization (every `org` shortcode is then `null`).
    pub org: Option<Value>,
    /// `{{session.…}}`.
    pub session: Value,
}

impl TemplateContext {
    /// The user's shortcodes (clerk.com/docs "JWT templates", "Shortcodes").
    pub fn for_user(user: &crate::store::User, actor: Option<&Value>) -> Self {
        let primary_email = user.email_addresses.first().map(|(_, e)| e.clone());
        let primary_phone = user.mfa.phone_numbers.first().map(|p| p.phone_number.clone());
        let full_name = match (&user.first_name, &user.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        };
        let user = json!({
            "id": user.id,
            "external_id": user.external_id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "full_name": full_name,
            "username": user.username,
            "primary_email_address": primary_email,
            "email_verified": primary_email.is_some(),
            "verified_email_addresses": user.email_addresses.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
            "primary_phone_number": primary_phone,
            "phone_number_verified": primary_phone.is_some(),
            "verified_phone_numbers": user.mfa.phone_numbers.iter().map(|p| p.phone_number.clone()).collect::<Vec<_>>(),
            "image_url": "https://img.clerk.com/mock-clerk-default-avatar",
            "has_image": false,
            "two_factor_enabled": user.mfa.two_factor_enabled(),
            "public_metadata": user.public_metadata,
            "unsafe_metadata": user.unsafe_metadata,
            "created_at": user.created_at / 1000,
            "updated_at": user.updated_at / 1000,
        });
        Self { user, org: None, session: json!({"actor": actor}) }
    }
}

/// The value a shortcode path names (`user.public_metadata.plan`); `None` when the path leads nowhere.
fn lookup<'a>(ctx: &'a TemplateContext, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = match parts.next()? {
        "user" => &ctx.user,
        "org" => ctx.org.as_ref()?,
        "session" => &ctx.session,
        _ => return None,
    };
    for part in parts {
        value = match value {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Evaluates the inside of `{{…}}`: alternatives separated by `||`, each a path or a quoted literal.
fn evaluate(ctx: &TemplateContext, expr: &str) -> Value {
    for alternative in expr.split("||").map(str::trim) {
        let literal = ['\'', '"'].iter().find_map(|q| alternative.strip_prefix(*q).and_then(|rest| rest.strip_suffix(*q)));
        let value = match literal {
            Some(text) => Some(Value::String(text.to_owned())),
            None => lookup(ctx, alternative).cloned(),
        };
        if let Some(v) = value.filter(|v| !v.is_null()) {
            return v;
        }
    }
    Value::Null
}

/// Renders a string claim: one whole shortcode keeps its type; otherwise shortcodes are interpolated as text.
fn render_string(ctx: &TemplateContext, text: &str) -> Value {
    let trimmed = text.trim();
    if let Some(inner) = trimmed.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
        && !inner.contains("{{")
        && !inner.contains("}}")
    {
        return evaluate(ctx, inner);
    }
    if !text.contains("{{") {
        return Value::String(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        out.push_str(&rest[..start]);
        match evaluate(ctx, &rest[start + 2..start + 2 + len]) {
            Value::Null => {}
            Value::String(s) => out.push_str(&s),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    Value::String(out)
}

/// Renders any claim value (objects and arrays element by element).
pub fn render_value(ctx: &TemplateContext, value: &Value) -> Value {
    match value {
        Value::String(s) => render_string(ctx, s),
        Value::Array(items) => Value::Array(items.iter().map(|v| render_value(ctx, v)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), render_value(ctx, v))).collect()),
        other => other.clone(),
    }
}

/// The claims of a template token: the rendered template, then the default claims (which win).
pub fn render_claims(template: &JwtTemplate, ctx: &TemplateContext, defaults: Map<String, Value>) -> Map<String, Value> {
    let mut claims: Map<String, Value> = template.claims.iter().map(|(k, v)| (k.clone(), render_value(ctx, v))).collect();
    for (k, v) in defaults {
        claims.insert(k, v);
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> TemplateContext {
        TemplateContext {
            user: json!({"id": "user_1", "first_name": "Ada", "last_name": null, "public_metadata": {"plan": "pro", "n": 3, "tags": ["a"]}}),
            org: None,
            session: json!({"actor": null}),
        }
    }

    #[test]
    fn a_whole_shortcode_keeps_its_type_and_unknown_ones_are_null() {
        let c = ctx();
        assert_eq!(render_value(&c, &json!("{{user.id}}")), json!("user_1"));
        assert_eq!(render_value(&c, &json!("{{user.public_metadata}}")), json!({"plan": "pro", "n": 3, "tags": ["a"]}));
        assert_eq!(render_value(&c, &json!("{{user.public_metadata.n}}")), json!(3));
        assert_eq!(render_value(&c, &json!(" {{ user.public_metadata.tags.0 }} ")), json!("a"));
        assert_eq!(render_value(&c, &json!("{{user.last_name}}")), Value::Null);
        assert_eq!(render_value(&c, &json!("{{user.nope}}")), Value::Null);
        assert_eq!(render_value(&c, &json!("{{billing.plan}}")), Value::Null);
        assert_eq!(render_value(&c, &json!("{{org.id}}")), Value::Null, "no active organization");
    }

    #[test]
    fn shortcodes_inside_strings_are_interpolated_as_text() {
        let c = ctx();
        assert_eq!(render_value(&c, &json!("{{user.first_name}} {{user.last_name}}!")), json!("Ada !"));
        assert_eq!(render_value(&c, &json!("n={{user.public_metadata.n}}")), json!("n=3"));
        assert_eq!(render_value(&c, &json!("{{user.first_name}}{{user.id}}")), json!("Adauser_1"));
        assert_eq!(render_value(&c, &json!("no code {{ open")), json!("no code {{ open"));
    }

    #[test]
    fn fallbacks_take_the_first_value_that_is_not_null() {
        let c = ctx();
        assert_eq!(render_value(&c, &json!("{{user.last_name || user.first_name}}")), json!("Ada"));
        assert_eq!(render_value(&c, &json!("{{user.public_metadata.nick || 'friend'}}")), json!("friend"));
        assert_eq!(
            render_value(&c, &json!({"x": ["{{user.id}}", 1, {"y": "{{user.public_metadata.plan}}"}]})),
            json!({"x": ["user_1", 1, {"y": "pro"}]})
        );
    }

    #[test]
    fn templates_validate_and_names_are_unique() {
        let mut t = JwtTemplates::default();
        let body = |name: &str, claims: Value| TemplateBody { name: name.into(), claims, ..Default::default() };
        let a = t.create(body("supabase", json!({"role": "authenticated"})), 1).unwrap();
        assert_eq!((a.lifetime, a.allowed_clock_skew), (60, 5));
        assert_eq!(t.create(body("supabase", json!({})), 2), Err(TemplateError::NameTaken("supabase".into())));
        assert!(matches!(t.create(body("x", json!([1])), 2), Err(TemplateError::Invalid { param: "claims", .. })));
        assert!(matches!(t.create(body("x", json!({"sub": "me"})), 2), Err(TemplateError::Invalid { param: "claims", .. })));
        let custom = TemplateBody { custom_signing_key: Some(true), ..body("x", json!({})) };
        assert!(matches!(t.create(custom, 2), Err(TemplateError::Invalid { param: "custom_signing_key", .. })));
        let short = TemplateBody { lifetime: Some(10), ..body("x", json!({})) };
        assert!(matches!(t.create(short, 2), Err(TemplateError::Invalid { param: "lifetime", .. })));
        let renamed = t.update(&a.id, body("hasura", json!({"a": 1})), 3).unwrap();
        assert_eq!((renamed.name.as_str(), renamed.created_at, renamed.updated_at), ("hasura", 1, 3));
        assert!(t.by_name("supabase").is_err() && t.by_name("hasura").is_ok());
        t.delete(&a.id).unwrap();
        assert_eq!(t.get(&a.id), Err(TemplateError::NotFound(a.id.clone())));
    }

    #[test]
    fn default_claims_win_over_the_template() {
        let template = JwtTemplate {
            id: "jtmp_1".into(),
            name: "n".into(),
            claims: json!({"name": "{{user.first_name}}"}).as_object().unwrap().clone(),
            lifetime: 60,
            allowed_clock_skew: 5,
            created_at: 0,
            updated_at: 0,
        };
        let defaults = json!({"sub": "user_1", "exp": 9}).as_object().unwrap().clone();
        let claims = render_claims(&template, &ctx(), defaults);
        assert_eq!(Value::Object(claims), json!({"name": "Ada", "sub": "user_1", "exp": 9}));
    }
}
