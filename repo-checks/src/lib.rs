//! Helpers for tests that check the repository's own consistency (see `tests/`).

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives one folder below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Reads a file under the workspace root, naming it in the error.
pub fn read_repo_file(relative: &str) -> Result<String, String> {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// The version of `package` that `Cargo.lock` resolves, if exactly one is locked.
pub fn locked_version(lockfile: &str, package: &str) -> Result<String, String> {
    let parsed: toml::Table = lockfile
        .parse()
        .map_err(|error| format!("Cargo.lock is not valid TOML: {error}"))?;
    let packages = parsed
        .get("package")
        .and_then(toml::Value::as_array)
        .ok_or("Cargo.lock has no [[package]] entries")?;
    let versions: Vec<&str> = packages
        .iter()
        .filter(|entry| entry.get("name").and_then(toml::Value::as_str) == Some(package))
        .filter_map(|entry| entry.get("version").and_then(toml::Value::as_str))
        .collect();
    match versions.as_slice() {
        [version] => Ok((*version).to_owned()),
        [] => Err(format!("Cargo.lock does not lock {package}")),
        many => Err(format!(
            "Cargo.lock locks {package} at several versions: {many:?}"
        )),
    }
}
