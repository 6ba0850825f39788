//! `/v1/organization_roles` and `/v1/organization_permissions` (`bapi/2026-05-12.yml`): the instance's roles
//! and permissions, Clerk's defaults and custom ones.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;

use super::org_views::{page, permission_json, role_json};
use crate::error::{ApiError, ok_json};
use crate::extract::{Id, IdPair, JsonBody, query_one, query_pairs};
use crate::state::AppState;

fn matches(query: Option<&str>, key: &str, name: &str) -> bool {
    query.is_none_or(|q| key.contains(q) || name.to_lowercase().contains(&q.to_lowercase()))
}

/// `GET /v1/organization_roles?query=…`.
pub(super) async fn list_roles(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = super::organizations::paging(&pairs)?;
    let q = query_one(&pairs, "query").filter(|q| !q.is_empty());
    let store = state.store();
    let all: Vec<_> = store.roles().iter().filter(|r| matches(q.as_deref(), &r.key, &r.name)).collect();
    let total = all.len();
    Ok(ok_json(&page(all.into_iter().skip(offset).take(limit).map(|r| role_json(&store, r)).collect(), total)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewRole {
    name: String,
    key: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    include_in_initial_role_set: Option<bool>,
}

/// `POST /v1/organization_roles` `{name, key, description?, permissions?: [permission ids]}`.
pub(super) async fn create_role(State(state): State<AppState>, JsonBody(new): JsonBody<NewRole>) -> Result<Response, ApiError> {
    let _ = new.include_in_initial_role_set;
    let now = state.clock().now_ms();
    let mut store = state.store();
    let role = store.create_role(&new.key, &new.name, new.description.as_deref(), &new.permissions, now)?;
    Ok(ok_json(&role_json(&store, &role)))
}

/// `GET /v1/organization_roles/{id}`.
pub(super) async fn get_role(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&role_json(&store, store.role(&id)?)))
}

/// `POST /v1/organization_roles/{id}/permissions/{permission_id}`.
pub(super) async fn add_permission(State(state): State<AppState>, IdPair(role, permission): IdPair) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let role = store.add_role_permission(&role, &permission, now)?;
    Ok(ok_json(&role_json(&store, &role)))
}

/// `DELETE /v1/organization_roles/{id}/permissions/{permission_id}`.
pub(super) async fn remove_permission(State(state): State<AppState>, IdPair(role, permission): IdPair) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let role = store.remove_role_permission(&role, &permission, now)?;
    Ok(ok_json(&role_json(&store, &role)))
}

/// `GET /v1/organization_permissions?query=…`.
pub(super) async fn list_permissions(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let (limit, offset) = super::organizations::paging(&pairs)?;
    let q = query_one(&pairs, "query").filter(|q| !q.is_empty());
    let store = state.store();
    let all: Vec<_> = store.permissions().iter().filter(|p| matches(q.as_deref(), &p.key, &p.name)).collect();
    let total = all.len();
    Ok(ok_json(&page(all.into_iter().skip(offset).take(limit).map(permission_json).collect(), total)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewPermission {
    name: String,
    key: String,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /v1/organization_permissions` `{name, key: "org:feature:action", description?}`.
pub(super) async fn create_permission(State(state): State<AppState>, JsonBody(new): JsonBody<NewPermission>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let p = state.store().create_permission(&new.key, &new.name, new.description.as_deref(), now)?;
    Ok(ok_json(&permission_json(&p)))
}
