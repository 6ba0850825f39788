//! `/v1/jwt_templates` (`JwtTemplatesApi.ts`) and the one function that mints a template's token, for the Backend
//! API (`POST /v1/sessions/{id}/tokens/{template}`) and the Frontend API
//! (`POST /v1/client/sessions/{id}/tokens/{template}`).

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ok_json};
use crate::extract::{Id, JsonBody, query_one, query_pairs, query_usize};
use crate::state::AppState;
use crate::store::Store;
use crate::templates::{self, TEMPLATE_JWT_CATEGORY, TemplateBody, TemplateContext, template_json};

/// `GET /v1/jwt_templates[?paginated=true&limit&offset]`: an array, or `{data, total_count}` when paginated (the SDK
/// always asks for that).
pub(super) async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let limit = query_usize(&pairs, "limit")?.unwrap_or(10);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::FormParamInvalid { param: "limit".into(), message: "limit must be between 1 and 500".into() });
    }
    let offset = query_usize(&pairs, "offset")?.unwrap_or(0);
    let store = state.store();
    let all = store.jwt_templates().list();
    let data: Vec<Value> = all.iter().skip(offset).take(limit).map(|t| template_json(t)).collect();
    if query_one(&pairs, "paginated").as_deref() == Some("true") {
        Ok(ok_json(&json!({"data": data, "total_count": all.len()})))
    } else {
        Ok(ok_json(&Value::Array(data)))
    }
}

/// `POST /v1/jwt_templates`.
pub(super) async fn create(State(state): State<AppState>, JsonBody(body): JsonBody<TemplateBody>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let t = state.store().jwt_templates_mut().create(body, now)?;
    Ok(ok_json(&template_json(&t)))
}

/// `GET /v1/jwt_templates/{id}`.
pub(super) async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&template_json(store.jwt_templates().get(&id)?)))
}

/// `PATCH /v1/jwt_templates/{id}` (`name` and `claims` required, as in the spec).
pub(super) async fn update(State(state): State<AppState>, Id(id): Id, JsonBody(body): JsonBody<TemplateBody>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let t = state.store().jwt_templates_mut().update(&id, body, now)?;
    Ok(ok_json(&template_json(&t)))
}

/// `DELETE /v1/jwt_templates/{id}`.
pub(super) async fn delete(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let t = state.store().jwt_templates_mut().delete(&id)?;
    Ok(ok_json(&super::views::deleted_json("jwt_template", &t.id)))
}

/// The organization shortcodes (`{{org.id}}`, `{{org.name}}`, `{{org.slug}}`, `{{org.role}}`, `{{org.image_url}}`,
/// `{{org.has_image}}`, `{{org.public_metadata[.path]}}`, `{{org.membership_permissions}}`) of the session's active
/// organization; `None` (every `org` shortcode `null`) without one, or once the membership is gone.
fn org_context(store: &Store, session: &crate::store::Session) -> Option<Value> {
    let org_id = store.session_claims(&session.id)?.active_organization_id.as_deref()?;
    let org = store.organization(org_id).ok()?;
    let membership = store.membership(&org.id, &session.user_id)?;
    let permissions = store.role(&membership.role).map(|r| r.permissions.clone()).unwrap_or_default();
    Some(json!({
        "id": org.id, "name": org.name, "slug": org.slug, "role": membership.role,
        "image_url": "https://img.clerk.com/mock-clerk-default-organization", "has_image": false,
        "public_metadata": org.public_metadata, "membership_permissions": permissions,
    }))
}

/// Mints the token of the template named `name` for an active session: the rendered claims plus the default
/// claims (`azp` when known, `exp`, `iat`, `iss`, `jti`, `nbf` = `iat` minus the allowed clock skew, `sub`),
/// lifetime from the template unless `expires_in` says otherwise. Unknown template: Clerk's 404.
pub fn mint_template_token(state: &AppState, session_id: &str, name: &str, expires_in: Option<u64>, azp: Option<&str>) -> Result<String, ApiError> {
    let now = state.clock().now_ms();
    let (template, ctx) = {
        let mut store = state.store();
        let session = store.active_session(session_id, now)?.clone();
        let template = store.jwt_templates().by_name(name)?.clone();
        let user = store.user(&session.user_id)?;
        let mut ctx = TemplateContext::for_user(user, session.actor.as_deref());
        ctx.org = org_context(&store, &session);
        store.touch_session(session_id, now);
        (template, ctx)
    };
    let iat = state.clock().wall_ms() / 1000;
    let lifetime = i64::try_from(expires_in.unwrap_or(template.lifetime)).unwrap_or(i64::MAX);
    let mut defaults = Map::new();
    if let Some(azp) = azp {
        defaults.insert("azp".into(), azp.into());
    }
    defaults.insert("exp".into(), iat.saturating_add(lifetime).into());
    defaults.insert("iat".into(), iat.into());
    defaults.insert("iss".into(), state.instance().issuer().into());
    defaults.insert("jti".into(), crate::machines::hex_id("x")[2..22].into());
    defaults.insert("nbf".into(), iat.saturating_sub(template.allowed_clock_skew as i64).into());
    defaults.insert("sub".into(), ctx.user["id"].clone());
    let claims = templates::render_claims(&template, &ctx, defaults);
    let keys = state.keys();
    let key = keys.active();
    let header = json!({"alg": "RS256", "kid": key.kid(), "typ": "JWT", "cat": TEMPLATE_JWT_CATEGORY});
    Ok(crate::tokens::encode(&header, &claims, |input| key.sign_rs256(input)))
}
