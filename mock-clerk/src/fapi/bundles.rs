//! The browser bundles, served offline from the installed npm packages (`fixtures/clerk-bundles`, pinned by
//! its lockfile): `@clerk/clerk-js` (`clerk.browser.js`) and `@clerk/ui` (`ui.browser.js`), and every chunk they
//! load at run time.
//!
//! Paths are the CDN's: `/npm/@clerk/<package>@<version>/dist/<file>`, as `@clerk/shared` `loadClerkJsScript`
//! builds them (`/npm/@clerk/clerk-js@6/dist/clerk.browser.js`, `/npm/@clerk/ui@1/dist/ui.browser.js`).
//! Each bundle sets its webpack public path from its own script URL with the version replaced by the exact
//! one (`@clerk/clerk-js@6.40.0/dist/`), so chunks arrive here too. Any version in the URL is answered with the
//! installed package; an exact-version URL is immutable and cached for a year, a tag (`@6`) for five minutes,
//! like a CDN that may move the tag.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::errors::FapiError;
use crate::state::AppState;

/// The packages served, by their name after `@clerk/`.
pub const PACKAGES: [&str; 2] = ["clerk-js", "ui"];
/// `Cache-Control` of an exact-version file.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of a file reached through a version tag.
pub const SHORT: &str = "public, max-age=300";

/// The URL path of a package's entry file, e.g. `/npm/@clerk/clerk-js@6/dist/clerk.browser.js`.
pub fn script_path(package: &str, tag: &str, file: &str) -> String {
    format!("/npm/@clerk/{package}@{tag}/dist/{file}")
}

/// The content type of a served file, by extension.
pub fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs" | "cjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("map" | "json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("wasm") => "application/wasm",
        Some("woff2") => "font/woff2",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The file under `dist` that `rel` names, or `None` if `rel` could leave it (`..`, absolute paths, hidden
/// files, backslashes, NUL).
pub fn resolve(dist: &Path, rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let mut out = dist.to_path_buf();
    for component in Path::new(rel).components() {
        match component {
            Component::Normal(part) if !part.to_string_lossy().starts_with('.') => out.push(part),
            _ => return None,
        }
    }
    Some(out)
}

/// The version of an installed package (its `package.json`).
fn installed_version(package_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(package_dir.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["version"].as_str().map(str::to_owned)
}

/// `GET /npm/@clerk/{package}@{version}/dist/{*file}`.
pub(super) async fn serve(
    State(state): State<AppState>,
    UrlPath((spec, file)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, FapiError> {
    let shown = format!("/npm/@clerk/{spec}/dist/{file}");
    let (package, version) = spec.split_once('@').unwrap_or((spec.as_str(), ""));
    if !PACKAGES.contains(&package) || version.is_empty() {
        return Err(FapiError::BundleNotFound(shown));
    }
    let root = state.fapi().bundle_dir();
    let package_dir = root.join("@clerk").join(package);
    let Some(installed) = installed_version(&package_dir) else {
        tracing::error!(dir = %root.display(), "Clerk browser bundles are not installed");
        return Err(FapiError::BundlesMissing(root.display().to_string()));
    };
    let dist = package_dir.join("dist");
    let path = resolve(&dist, &file).ok_or_else(|| FapiError::BundleNotFound(shown.clone()))?;
    // Symlinks must not lead out of the package either.
    let real = tokio::fs::canonicalize(&path).await.map_err(|_| FapiError::BundleNotFound(shown.clone()))?;
    let real_dist = tokio::fs::canonicalize(&dist).await.map_err(|_| FapiError::BundleNotFound(shown.clone()))?;
    if !real.starts_with(&real_dist) {
        return Err(FapiError::BundleNotFound(shown));
    }
    let meta = tokio::fs::metadata(&real).await.map_err(|_| FapiError::BundleNotFound(shown.clone()))?;
    if !meta.is_file() {
        return Err(FapiError::BundleNotFound(shown));
    }
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
    let etag = format!("\"{installed}-{:x}-{mtime:x}\"", meta.len());
    let cache = if version == installed { IMMUTABLE } else { SHORT };
    let mut response = if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let bytes = tokio::fs::read(&real).await.map_err(|_| FapiError::BundleNotFound(shown))?;
        let mut r = Body::from(bytes).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// `GET /img/avatar.svg`: the avatar of every user (a grey silhouette), so the UI never reaches Clerk's CDN.
pub(super) async fn avatar() -> Response {
    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" fill="#6c47ff"/><circle cx="32" cy="25" r="11" fill="#fff"/><path d="M12 56c3-11 11-17 20-17s17 6 20 17z" fill="#fff"/></svg>"##;
    let mut r = SVG.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_hidden_files_are_refused() {
        let dist = Path::new("/b/dist");
        assert_eq!(resolve(dist, "clerk.browser.js"), Some(PathBuf::from("/b/dist/clerk.browser.js")));
        assert_eq!(resolve(dist, "types/index.d.ts"), Some(PathBuf::from("/b/dist/types/index.d.ts")));
        for bad in ["../package.json", "a/../../x", "/etc/passwd", ".env", "a/.git/config", "", "a\\..\\b", "./x"] {
            assert_eq!(resolve(dist, bad), None, "{bad}");
        }
    }

    #[test]
    fn scripts_are_javascript() {
        assert_eq!(content_type("clerk.browser.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("x.js.map"), "application/json");
        assert_eq!(script_path("ui", "1", "ui.browser.js"), "/npm/@clerk/ui@1/dist/ui.browser.js");
    }
}
