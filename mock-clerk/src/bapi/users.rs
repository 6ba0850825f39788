//! `/v1/users` (`packages/backend/src/api/endpoints/UserApi.ts`).

use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::views::{deleted_json, user_with_memberships};
use crate::error::{ApiError, ok_json};
use crate::extract::{Id, JsonBody, query_pairs, query_usize};
use crate::state::AppState;
use crate::store::{NewUser, UserQuery, UserUpdate};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 500;

fn user_query(query: Option<&str>) -> Result<(UserQuery, usize, usize), ApiError> {
    let pairs = query_pairs(query);
    let limit = query_usize(&pairs, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::FormParamInvalid { param: "limit".into(), message: format!("limit must be between 1 and {MAX_LIMIT}") });
    }
    let offset = query_usize(&pairs, "offset")?.unwrap_or(0);
    Ok((UserQuery::from_pairs(&pairs)?, offset, limit))
}

/// `GET /v1/users`: a plain array (the SDK counts through `/v1/users/count`), filtered and ordered as
/// [`UserQuery`] reads the query.
pub(super) async fn list(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let (filter, offset, limit) = user_query(query.as_deref())?;
    let store = state.store();
    let users: Vec<Value> = store.users(&filter, offset, limit).into_iter().map(|u| user_with_memberships(&store, u)).collect();
    Ok(ok_json(&Value::Array(users)))
}

/// `GET /v1/users/count`.
pub(super) async fn count(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let (filter, _, _) = user_query(query.as_deref())?;
    let total = state.store().user_count(&filter);
    Ok(ok_json(&json!({"object": "total_count", "total_count": total})))
}

/// `POST /v1/users`.
pub(super) async fn create(State(state): State<AppState>, JsonBody(new): JsonBody<NewUser>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let user = store.create_user(new, now)?;
    Ok(ok_json(&user_with_memberships(&store, &user)))
}

/// `GET /v1/users/{id}` (also what `currentUser()` calls).
pub(super) async fn get_one(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let store = state.store();
    Ok(ok_json(&user_with_memberships(&store, store.user(&id)?)))
}

/// `DELETE /v1/users/{id}`: the user's sessions are removed.
pub(super) async fn delete(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let user = state.store().delete_user(&id, now)?;
    Ok(ok_json(&deleted_json("user", &user.id)))
}

/// `PATCH /v1/users/{id}` (`updateUser`): the given fields change, the others stay; emits `user.updated`.
pub(super) async fn update(State(state): State<AppState>, Id(id): Id, JsonBody(update): JsonBody<UserUpdate>) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let user = store.update_user(&id, update, now)?;
    Ok(ok_json(&user_with_memberships(&store, &user)))
}

/// The metadata `PATCH /v1/users/{id}/metadata` takes.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetadataPatch {
    #[serde(default)]
    public_metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    private_metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    unsafe_metadata: Option<serde_json::Map<String, Value>>,
}

/// `PATCH /v1/users/{id}/metadata` (`updateUserMetadata`): each object is deep-merged into the stored one, a
/// `null` value deletes its key (Clerk's rule); emits `user.updated`.
pub(super) async fn update_metadata(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(patch): JsonBody<MetadataPatch>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let mut store = state.store();
    let user = store.user(&id)?;
    let merged = |current: &serde_json::Map<String, Value>, patch: Option<serde_json::Map<String, Value>>| {
        patch.map(|p| {
            let mut value = Value::Object(current.clone());
            merge(&mut value, Value::Object(p));
            match value {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            }
        })
    };
    let update = UserUpdate {
        public_metadata: merged(&user.public_metadata, patch.public_metadata),
        private_metadata: merged(&user.private_metadata, patch.private_metadata),
        unsafe_metadata: merged(&user.unsafe_metadata, patch.unsafe_metadata),
        ..UserUpdate::default()
    };
    let user = store.update_user(&id, update, now)?;
    Ok(ok_json(&user_with_memberships(&store, &user)))
}

/// The metadata `PUT /v1/users/{id}/metadata` takes: each object given replaces the stored one; `null` clears it
/// (Clerk stores a JSON `null` there; mock-clerk keeps `{}`, which the SDK's `User` shows the same way).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetadataReplace {
    #[serde(default, deserialize_with = "object_or_null")]
    public_metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default, deserialize_with = "object_or_null")]
    private_metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default, deserialize_with = "object_or_null")]
    unsafe_metadata: Option<serde_json::Map<String, Value>>,
}

/// A present field: an object, or `null` for an empty one (an absent field stays `None` through `default`).
fn object_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Map<String, Value>>, D::Error> {
    Ok(Some(Option::<serde_json::Map<String, Value>>::deserialize(d)?.unwrap_or_default()))
}

/// `PUT /v1/users/{id}/metadata` (`replaceUserMetadata`, and `updateUser` when given metadata): the objects given
/// replace the stored ones whole, the others stay; emits `user.updated`.
pub(super) async fn replace_metadata(
    State(state): State<AppState>,
    Id(id): Id,
    JsonBody(body): JsonBody<MetadataReplace>,
) -> Result<Response, ApiError> {
    let now = state.clock().now_ms();
    let update = UserUpdate {
        public_metadata: body.public_metadata,
        private_metadata: body.private_metadata,
        unsafe_metadata: body.unsafe_metadata,
        ..UserUpdate::default()
    };
    let mut store = state.store();
    let user = store.update_user(&id, update, now)?;
    Ok(ok_json(&user_with_memberships(&store, &user)))
}

/// Deep merge: objects merge key by key, `null` removes a key, anything else replaces.
pub(super) fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// `GET /v1/users/{id}/oauth_access_tokens/{provider}` (`getUserOauthAccessToken`; `provider` is
/// `oauth_google`): the user's access tokens at that provider — a list, `{data, total_count}` with
/// `paginated=true` (the SDK asks for that). A provider mock-clerk does not know is a 422; a known provider the
/// user never signed in with is an empty list, as on Clerk.
pub(super) async fn oauth_access_tokens(
    State(state): State<AppState>,
    axum::extract::Path((id, provider)): axum::extract::Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let name = provider.strip_prefix("oauth_").filter(|p| crate::fapi::oauth::provider_info(p).is_some()).ok_or_else(|| {
        ApiError::FormParamInvalid { param: "provider".into(), message: format!("{provider:?} is not an OAuth provider (e.g. oauth_google)") }
    })?;
    let store = state.store();
    let tokens: Vec<Value> =
        store.user(&id)?.external_accounts.iter().filter(|e| e.provider == name).map(crate::external::ExternalAccount::access_token_json).collect();
    let pairs = query_pairs(query.as_deref());
    if crate::extract::query_one(&pairs, "paginated").as_deref() == Some("true") {
        let total = tokens.len();
        return Ok(ok_json(&json!({"data": tokens, "total_count": total})));
    }
    Ok(ok_json(&Value::Array(tokens)))
}
