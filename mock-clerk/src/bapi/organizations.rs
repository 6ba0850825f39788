//! `/v1/organizations…` and `/v1/users/{id}/organization_memberships` (`packages/backend/src/api/endpoints/
//! OrganizationApi.ts`; `bapi/2026-05-12.yml`): organizations, their metadata, memberships and invitations.
//! Lists are `{data, total_count}`.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::org_views::{invitation_json, membership_json, organization_json, page};
use crate::error::{ApiError, ok_json};
use crate::extract::{Id, IdPair, JsonBody, query_all, query_one, query_pairs, query_usize};
use crate::state::AppState;
use crate::store::orgs::{InvitationStatus, NewInvitation, NewOrganization, OrganizationUpdate};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 500;

/// `limit` (1..=500, default 10) and `offset` of a list request.
pub(super) fn paging(pairs: &[(String, String)]) -> Result<(usize, usize), ApiError> {
    let limit = query_usize(pairs, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::FormParamInvalid { param: "limit".into(), message: format!("limit must be between 1 and {MAX_LIMIT}") });
    }
    Ok((limit, query_usize(pairs, "offset")?.unwrap_or(0)))
}

/// `GET /v1/organizations?query=…&user_id=…&limit=…&offset=…`, newest first.
pub(super) async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = paging(&pairs)?;
    let users: Vec<String> = query_all(&pairs, "user_id").into_iter().map(|u| u.trim_start_matches('+').to_owned()).collect();
    let store = state.store();
    let (orgs, total) = store.organizations(query_one(&pairs, "query").as_deref().filter(|q| !q.is_empty()), &users, offset, limit);
    Ok(ok_json(&page(orgs.into_iter().map(|o| organization_json(&store, o)).collect(), total)))
}

/// `POST /v1/organizations`.
pub(super) async fn create(State(state): State<AppState>, JsonBody(new): JsonBody<NewOrganization>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let org = store.create_organization(new, now)?;
    Ok(ok_json(&organization_json(&store, &org)))
}

/// `GET /v1/organizations/{id or slug}`.
pub(super) async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&organization_json(&store, store.organization(&id)?)))
}

/// `PATCH /v1/organizations/{id}`: name, slug, limits (metadata goes through `/metadata` since 2026-05-12).
pub(super) async fn update(State(state): State<AppState>, Id(id): Id, JsonBody(update): JsonBody<OrganizationUpdate>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let org = store.update_organization(&id, update, now)?;
    Ok(ok_json(&organization_json(&store, &org)))
}

/// `DELETE /v1/organizations/{id}`: memberships and invitations go with it.
pub(super) async fn delete(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let org = state.store().delete_organization(&id)?;
    let mut body = super::views::deleted_json("organization", &org.id);
    body["slug"] = org.slug.into();
    Ok(ok_json(&body))
}

/// The body of the metadata routes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetadataBody {
    #[serde(default)]
    public_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    private_metadata: Option<Map<String, Value>>,
}

fn merged(current: &Map<String, Value>, patch: Option<Map<String, Value>>) -> Option<Map<String, Value>> {
    patch.map(|p| {
        let mut value = Value::Object(current.clone());
        super::users::merge(&mut value, Value::Object(p));
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    })
}

/// `PATCH /v1/organizations/{id}/metadata` (`updateOrganizationMetadata`): deep merge, `null` deletes a key.
pub(super) async fn merge_metadata(State(state): State<AppState>, Id(id): Id, JsonBody(body): JsonBody<MetadataBody>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let org = store.organization(&id)?;
    let (public, private) = (merged(&org.public_metadata, body.public_metadata), merged(&org.private_metadata, body.private_metadata));
    let org = store.set_organization_metadata(&id, public, private, now)?;
    Ok(ok_json(&organization_json(&store, &org)))
}

/// `PUT /v1/organizations/{id}/metadata` (`replaceOrganizationMetadata`): each given object replaces the stored one.
pub(super) async fn replace_metadata(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(body): JsonBody<MetadataBody>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let org = store.set_organization_metadata(&id, body.public_metadata, body.private_metadata, now)?;
    Ok(ok_json(&organization_json(&store, &org)))
}

/// `GET /v1/organizations/{id}/memberships?user_id=…&role=…`, oldest first.
pub(super) async fn list_memberships(State(state): State<AppState>, Id(id): Id, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = paging(&pairs)?;
    let store = state.store();
    let org_id = store.organization(&id)?.id.clone();
    let all = store.organization_memberships(&org_id, &query_all(&pairs, "user_id"), &query_all(&pairs, "role"));
    let total = all.len();
    Ok(ok_json(&page(all.into_iter().skip(offset).take(limit).map(|m| membership_json(&store, m)).collect(), total)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewMembership {
    user_id: String,
    role: String,
    #[serde(default)]
    public_metadata: Option<Map<String, Value>>,
    #[serde(default)]
    private_metadata: Option<Map<String, Value>>,
}

/// `POST /v1/organizations/{id}/memberships` `{user_id, role}`.
pub(super) async fn create_membership(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(new): JsonBody<NewMembership>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let m = store.create_membership(&id, &new.user_id, &new.role, new.public_metadata, new.private_metadata, now)?;
    Ok(ok_json(&membership_json(&store, &m)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleBody {
    role: String,
}

/// `PATCH /v1/organizations/{id}/memberships/{user_id}` `{role}`.
pub(super) async fn update_membership(
    State(state): State<AppState>,
    IdPair(id, user_id): IdPair,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let m = store.update_membership_role(&id, &user_id, &body.role, now)?;
    Ok(ok_json(&membership_json(&store, &m)))
}

/// `PATCH /v1/organizations/{id}/memberships/{user_id}/metadata`: deep merge.
pub(super) async fn merge_membership_metadata(
    State(state): State<AppState>,
    IdPair(id, user_id): IdPair,
    JsonBody(body): JsonBody<MetadataBody>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let org_id = store.organization(&id)?.id.clone();
    let m = store.membership(&org_id, &user_id).ok_or_else(|| ApiError::ResourceNotFound { kind: "organization membership", id: user_id.clone() })?;
    let (public, private) = (merged(&m.public_metadata, body.public_metadata), merged(&m.private_metadata, body.private_metadata));
    let m = store.set_membership_metadata(&org_id, &user_id, public, private, now)?;
    Ok(ok_json(&membership_json(&store, &m)))
}

/// `DELETE /v1/organizations/{id}/memberships/{user_id}`: the removed membership.
pub(super) async fn delete_membership(State(state): State<AppState>, IdPair(id, user_id): IdPair) -> Result<Response, ApiError> {
    let mut store = state.store();
    let json = {
        let org_id = store.organization(&id)?.id.clone();
        store.membership(&org_id, &user_id).map(|m| membership_json(&store, m))
    };
    store.delete_membership(&id, &user_id)?;
    Ok(ok_json(&json.unwrap_or_default()))
}

/// `GET /v1/users/{id}/organization_memberships`.
pub(super) async fn user_memberships(State(state): State<AppState>, Id(id): Id, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = paging(&pairs)?;
    let store = state.store();
    store.user(&id)?;
    let all = store.user_memberships(&id);
    let total = all.len();
    Ok(ok_json(&page(all.into_iter().skip(offset).take(limit).map(|m| membership_json(&store, m)).collect(), total)))
}

/// `GET /v1/organizations/{id}/invitations?status=…`, newest first.
pub(super) async fn list_invitations(State(state): State<AppState>, Id(id): Id, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = paging(&pairs)?;
    let status = match query_one(&pairs, "status").as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            serde_json::from_value::<InvitationStatus>(Value::String(s.to_owned()))
                .map_err(|_| ApiError::FormParamInvalid { param: "status".into(), message: format!("{s:?} is not pending, accepted or revoked") })?,
        ),
    };
    let store = state.store();
    let all = store.invitations(&id, status)?;
    let total = all.len();
    Ok(ok_json(&page(all.into_iter().skip(offset).take(limit).map(invitation_json).collect(), total)))
}

/// `POST /v1/organizations/{id}/invitations` `{email_address, role, inviter_user_id?}`.
pub(super) async fn create_invitation(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(new): JsonBody<NewInvitation>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let inv = state.store().create_invitation(&id, new, now)?;
    Ok(ok_json(&invitation_json(&inv)))
}

/// `GET /v1/organizations/{id}/invitations/{invitation_id}`.
pub(super) async fn get_invitation(State(state): State<AppState>, IdPair(id, inv): IdPair) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&invitation_json(store.invitation(&id, &inv)?)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeBody {
    #[serde(default)]
    requesting_user_id: Option<String>,
}

/// `POST /v1/organizations/{id}/invitations/{invitation_id}/revoke`.
pub(super) async fn revoke_invitation(
    State(state): State<AppState>,
    IdPair(id, inv): IdPair,
    JsonBody(body): JsonBody<RevokeBody>,
) -> Result<Response, ApiError> {
    let _ = body.requesting_user_id;
    let now = state.clock().now_ms();
    let inv = state.store().revoke_invitation(&id, &inv, now)?;
    Ok(ok_json(&invitation_json(&inv)))
}
