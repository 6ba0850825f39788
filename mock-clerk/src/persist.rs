//! The optional state file (`MockClerkBuilder::state_file`, `mock-clerk serve --state-file PATH`): users,
//! clients, sessions, dev browsers and pending handshake nonces, as JSON, so that a restarted mock-clerk still
//! knows the sessions its apps hold cookies for.
//!
//! When: loaded once at start (a missing file is created, empty); written after **every change** to the store,
//! before the lock is released — so once a request's answer has gone out, its change is on disk, and a crash or a
//! `kill -9` loses nothing that was answered. Changes made through the library (`MockClerk::sign_in`) are written
//! the same way. How: to `<file>.tmp` first, then renamed over the file, so a reader (or a crash mid-write) never
//! sees half a file. Every write is the whole store: meant for development servers, not for millions of
//! sessions. Not kept: the clock offset, injected faults, the request log (keys live in the key file).
//!
//! Without a state file, the store lives in memory only and dies with the process.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::Store;

/// The format version written in the file.
pub const STATE_FILE_VERSION: u32 = 1;

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// Reading or writing failed.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a mock-clerk state file of a version this build reads.
    #[error("state file {path} cannot be read: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

#[derive(Serialize)]
struct FileRef<'a> {
    mock_clerk_state: u32,
    store: &'a Store,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOwned {
    mock_clerk_state: u32,
    store: Store,
}

/// Loads the store from `path`; `None` when the file does not exist.
pub fn load(path: &Path) -> Result<Option<Store>, StateFileError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StateFileError::Io { path: path.into(), source }),
    };
    let file: FileOwned = serde_json::from_slice(&bytes).map_err(|e| StateFileError::Unreadable { path: path.into(), reason: e.to_string() })?;
    if file.mock_clerk_state != STATE_FILE_VERSION {
        return Err(StateFileError::Unreadable {
            path: path.into(),
            reason: format!("version {} (this mock-clerk reads version {STATE_FILE_VERSION})", file.mock_clerk_state),
        });
    }
    Ok(Some(file.store))
}

/// Writes the store to `path` atomically (temporary file, then rename), creating the directory if needed.
pub fn save(path: &Path, store: &Store) -> Result<(), StateFileError> {
    let bytes = serde_json::to_vec(&FileRef { mock_clerk_state: STATE_FILE_VERSION, store })
        .map_err(|e| StateFileError::Unreadable { path: path.into(), reason: e.to_string() })?;
    // The state file holds the refresh-token secret: owner-only, like the key file.
    crate::private_file::write_private(path, &bytes).map_err(|source| StateFileError::Io { path: path.into(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewUser, SessionStatus};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mock-clerk-persist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_store_round_trips_with_its_links_and_refresh_tokens() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("state.json");
        assert!(load(&path).unwrap().is_none(), "a missing file is no store");
        let mut store = Store::default();
        let user = store.create_user(NewUser { email_address: vec!["p@persist.test".into()], ..NewUser::default() }, 1_000).unwrap();
        let a = store.create_session(&user.id, 2_000).unwrap();
        let b = store.create_session_on_client(&user.id, &a.client_id, 3_000).unwrap();
        store.finish_session(&a.id, SessionStatus::Revoked, 4_000).unwrap();
        let dvb = store.create_dev_browser(Some(&a.client_id), 5_000);
        let nonce = store.put_nonce(vec!["__session=x".into()]);
        save(&path, &store).unwrap();

        let mut loaded = load(&path).unwrap().expect("saved");
        assert_eq!(loaded.user(&user.id).unwrap(), store.user(&user.id).unwrap());
        assert_eq!(loaded.session(&a.id).unwrap().status, SessionStatus::Revoked);
        assert_eq!(loaded.session(&b.id).unwrap(), &b);
        assert_eq!(loaded.client(&a.client_id).unwrap().session_ids, vec![a.id.clone(), b.id.clone()]);
        assert_eq!(loaded.latest_active_session_on_client(&a.client_id, 6_000).map(|s| s.id.clone()), Some(b.id.clone()));
        assert_eq!(loaded.dev_browser(&dvb).unwrap().client_id.as_deref(), Some(a.client_id.as_str()));
        assert_eq!(loaded.refresh_token(&b.id), store.refresh_token(&b.id), "the refresh secret is kept");
        assert!(loaded.check_refresh(&b.id, &store.refresh_token(&b.id), 6_000).is_ok());
        assert_eq!(loaded.take_nonce(&nonce), Some(vec!["__session=x".to_owned()]));
        // The same store writes the same bytes.
        let first = std::fs::read(&path).unwrap();
        save(&path, &store).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_foreign_or_newer_file_is_a_clear_error() {
        let dir = temp_dir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        std::fs::write(&path, "{\"hello\": 1}").unwrap();
        assert!(matches!(load(&path), Err(StateFileError::Unreadable { .. })));
        let mut v: serde_json::Value = serde_json::to_value(FileRef { mock_clerk_state: 1, store: &Store::default() }).unwrap();
        v["mock_clerk_state"] = 99.into();
        std::fs::write(&path, v.to_string()).unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("version 99"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
