//! Files that hold secrets (the key file, the state file): written atomically — to `<path>.tmp`, made
//! owner-only, then renamed over `path` — so a crash never leaves a half-written file and nobody else can read
//! a key.

use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically and owner-only, creating the directory if needed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    restrict_permissions(&tmp)?;
    std::fs::rename(&tmp, path)
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_owner_only_and_no_temporary_file_is_left() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("mock-clerk-private-{}", std::process::id()));
        let path = dir.join("nested/secret.pem");
        write_private(&path, b"one").unwrap();
        write_private(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!dir.join("nested/secret.pem.tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
