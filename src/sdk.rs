//! The real `@clerk/backend` 3 (fixtures/clerk-backend, `driver.mjs`) against a running mock-clerk: a list of ops
//! in, one `{ok, value | error}` result per op out.

use std::time::Duration;

use mock_clerk::MockClerk;
use serde_json::{Value, json};

use crate::node::{ensure_npm_ci, fixture_dir, run_json_script};

/// Runs `ops` through the SDK with the instance's secret key.
pub fn backend_sdk(clerk: &MockClerk, ops: Value) -> Vec<Value> {
    backend_sdk_with_key(clerk, clerk.secret_key(), ops)
}

/// Runs `ops` through the SDK with `secret_key`.
pub fn backend_sdk_with_key(clerk: &MockClerk, secret_key: &str, ops: Value) -> Vec<Value> {
    let dir = fixture_dir("clerk-backend");
    ensure_npm_ci(&dir).expect("npm ci for fixtures/clerk-backend");
    let input = json!({"apiUrl": clerk.url(), "secretKey": secret_key, "publishableKey": clerk.publishable_key(), "ops": ops});
    let out = run_json_script(&dir, "driver.mjs", &input, Duration::from_secs(60)).expect("driver ran");
    assert!(out["sdkVersion"].as_str().unwrap_or_default().starts_with("3."), "@clerk/backend 3 expected: {out}");
    out["results"].as_array().cloned().unwrap_or_else(|| panic!("the driver gave no results: {out}"))
}

/// The value of a result that must have succeeded.
pub fn sdk_ok(result: &Value) -> &Value {
    assert_eq!(result["ok"], true, "SDK call failed: {result:#}");
    &result["value"]
}
