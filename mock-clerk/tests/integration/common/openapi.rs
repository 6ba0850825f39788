//! Checks mock-clerk's Backend API answers against Clerk's published contract, `bapi/2026-05-12.yml` of
//! `github:clerk/openapi-specs` (vendored in `tests/openapi/`, MIT, see `SOURCE.md` there).
//!
//! The spec is OpenAPI 3.0: its schemas are JSON Schema plus `nullable`. They are turned into one JSON Schema
//! 2020-12 document once (`nullable: true` → `anyOf: [{type: null}, <schema>]`, everything else kept), whose
//! `components` the response schemas `$ref` into; the `jsonschema` crate validates against it, so `required`,
//! `type`, `enum`, `pattern`, `oneOf` and `additionalProperties: false` all count.
//!
//! Use: `openapi::check("GET", "/v1/users/user_123", 200, &body)` (the path as requested, query allowed: it is
//! matched against the spec's templates, the most literal match first), or `assert_conforms(…)` in a test.
//! Used as `crate::common::openapi` by the integration tests.

// Each test binary that includes this file uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value, json};

/// The vendored spec (YAML).
const SPEC_YAML: &str = include_str!("../../openapi/bapi-2026-05-12.yml");
/// The spec's `servers[0]` path prefix, which request paths carry and spec paths do not.
const SERVER_PREFIX: &str = "/v1";

struct Spec {
    /// `paths` of the spec (templates without the `/v1` prefix).
    paths: Map<String, Value>,
    /// `components.responses` (raw; their schemas are taken into the document by reference).
    responses: Map<String, Value>,
    /// `{"components": …}` with every schema converted to JSON Schema 2020-12.
    components: Value,
    /// Compiled validators, by `method path status`.
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let doc: Value = serde_norway::from_str(SPEC_YAML).expect("the vendored OpenAPI spec is YAML");
        let paths = doc["paths"].as_object().expect("spec has paths").clone();
        let responses = doc["components"]["responses"].as_object().expect("spec has components.responses").clone();
        let components = to_json_schema(doc["components"].clone());
        Spec { paths, responses, components, validators: Mutex::new(HashMap::new()) }
    })
}

/// OpenAPI 3.0 schema → JSON Schema 2020-12, recursively: `nullable: true` becomes `anyOf [null, schema]`, and a
/// `discriminator` makes its property required (OpenAPI: the payload names its variant there; typed clients such as
/// Clerk's generated SDKs dispatch on it).
fn to_json_schema(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut map: Map<String, Value> = map.into_iter().map(|(k, v)| (k, to_json_schema(v))).collect();
            if let Some(property) = map.get("discriminator").and_then(|d| d["propertyName"].as_str()).map(str::to_owned) {
                let required = map.entry("required").or_insert_with(|| json!([]));
                if let Some(list) = required.as_array_mut() {
                    list.push(Value::String(property));
                }
            }
            if map.remove("nullable") == Some(Value::Bool(true)) {
                return json!({"anyOf": [{"type": "null"}, Value::Object(map)]});
            }
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(to_json_schema).collect()),
        other => other,
    }
}

/// The spec's path template for a request path (`/v1/users/user_1?x=y` → `/users/{user_id}`): segments must
/// match literally or against a `{param}`; of several matches the one with the most literal segments wins.
fn template_for<'a>(paths: &'a Map<String, Value>, path: &str) -> Option<&'a str> {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.strip_prefix(SERVER_PREFIX).unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    paths
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (t, s) in parts.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') {
                    continue;
                }
                if t != s {
                    return None;
                }
                literal += 1;
            }
            Some((literal, template.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t)
}

/// The JSON response schema of `method template status` (the status's entry, else `4XX`/`5XX`, else `default`).
fn response_schema(spec: &Spec, method: &str, template: &str, status: u16) -> Result<Value, String> {
    let op = spec.paths[template].get(method.to_ascii_lowercase()).ok_or_else(|| {
        format!("the spec has no {method} {template} (only {:?})", spec.paths[template].as_object().map(|o| o.keys().collect::<Vec<_>>()))
    })?;
    let responses = &op["responses"];
    let class = format!("{}XX", status / 100);
    let response = [status.to_string(), class, "default".into()]
        .iter()
        .find_map(|k| responses.get(k))
        .ok_or_else(|| format!("the spec has no {status} answer for {method} {template}"))?;
    let response = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/responses/").ok_or_else(|| format!("unexpected response $ref {r}"))?;
            spec.responses.get(name).ok_or_else(|| format!("no components.responses.{name}"))?
        }
        None => response,
    };
    response["content"]["application/json"]["schema"]
        .as_object()
        .map(|s| to_json_schema(Value::Object(s.clone())))
        .ok_or_else(|| format!("{method} {template} {status} has no application/json schema in the spec"))
}

fn validator(method: &str, path: &str, status: u16) -> Result<(String, std::sync::Arc<jsonschema::Validator>), String> {
    let spec = spec();
    let template = template_for(&spec.paths, path).ok_or_else(|| format!("the spec has no path matching {path}"))?;
    let key = format!("{} {template} {status}", method.to_ascii_uppercase());
    if let Some(v) = spec.validators.lock().unwrap().get(&key) {
        return Ok((key, v.clone()));
    }
    let schema = response_schema(spec, method, template, status)?;
    let document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": spec.components.clone(),
    });
    let compiled = jsonschema::draft202012::options().build(&document).map_err(|e| format!("{key}: the schema does not compile: {e}"))?;
    let compiled = std::sync::Arc::new(compiled);
    spec.validators.lock().unwrap().insert(key.clone(), compiled.clone());
    Ok((key, compiled))
}

/// Every way `body` breaks the spec's response schema for `method path status`, one line each
/// (`/instance/path: message`); `Ok` if it conforms. An operation or status the spec lacks is an error too.
pub fn check(method: &str, path: &str, status: u16, body: &Value) -> Result<(), Vec<String>> {
    let (_, validator) = validator(method, path, status).map_err(|e| vec![e])?;
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{}: {e}", e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Whether the spec has a JSON answer for `method path status` at all (unknown routes, 405 and 413 are mock-clerk's
/// own answers; the paginated list form `?paginated=true` the SDK asks for is not in the spec).
pub fn describes(method: &str, path: &str, status: u16) -> bool {
    !path.contains("paginated=true") && validator(method, path, status).is_ok()
}

/// Panics, listing every violation, unless `body` conforms to the spec's answer for `method path status`.
#[track_caller]
pub fn assert_conforms(method: &str, path: &str, status: u16, body: &Value) {
    if let Err(errors) = check(method, path, status, body) {
        panic!("{method} {path} → {status} does not match Clerk's OpenAPI spec:\n  {}\nbody: {body:#}", errors.join("\n  "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_prefer_literal_segments() {
        let paths = spec().paths.clone();
        assert_eq!(template_for(&paths, "/v1/users/count"), Some("/users/count"));
        assert_eq!(template_for(&paths, "/v1/users/user_1?limit=3"), Some("/users/{user_id}"));
        assert_eq!(template_for(&paths, "/v1/nope/nope/nope/nope/nope/nope"), None);
    }

    #[test]
    fn nullable_becomes_any_of_null() {
        let s = to_json_schema(json!({"type": "string", "nullable": true}));
        assert!(jsonschema::is_valid(&s, &Value::Null) && jsonschema::is_valid(&s, &json!("x")) && !jsonschema::is_valid(&s, &json!(1)));
    }

    #[test]
    fn a_discriminator_is_required() {
        let s = to_json_schema(json!({"type": "object", "oneOf": [{"type": "object"}], "discriminator": {"propertyName": "object"}}));
        assert!(jsonschema::is_valid(&s, &json!({"object": "x"})) && !jsonschema::is_valid(&s, &json!({"status": "verified"})));
    }
}
