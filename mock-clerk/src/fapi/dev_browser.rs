//! `POST /v1/dev_browser`: a development instance hands a new browser its dev-browser token
//! (`packages/clerk-js/src/core/auth/devBrowser.ts` reads `id`). clerk-js then sends it as `__clerk_db_jwt` on
//! every Frontend API call. Production instances have none.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;

use super::errors::FapiError;
use crate::error::{ApiError, ok_json};
use crate::state::AppState;

/// The dev-browser path.
pub const DEV_BROWSER_PATH: &str = "/v1/dev_browser";

pub(super) async fn create(State(state): State<AppState>) -> Result<Response, FapiError> {
    if !state.instance().is_development() {
        return Err(ApiError::RouteNotFound(DEV_BROWSER_PATH.into()).into());
    }
    let now = state.clock().now_ms();
    let id = state.store().create_dev_browser(None, now);
    Ok(ok_json(&json!({"object": "dev_browser", "id": id, "token": id})))
}
