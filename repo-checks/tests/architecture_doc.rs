//! ARCHITECTURE.md must list every crate and top-level folder, so that it stays true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use repo_checks::{read_repo_file, workspace_root};

#[test]
fn architecture_lists_every_workspace_member_and_top_level_folder() {
    let architecture = read_repo_file("ARCHITECTURE.md").unwrap();
    let manifest: toml::Table = read_repo_file("Cargo.toml").unwrap().parse().unwrap();
    let members = manifest["workspace"]["members"].as_array().unwrap();
    let mut missing = Vec::new();
    for member in members.iter().filter_map(toml::Value::as_str) {
        if !architecture.contains(&format!("`{member}/`")) {
            missing.push(member.to_owned());
        }
    }
    for entry in std::fs::read_dir(workspace_root()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let ignored =
            name.starts_with('.') || ["target", "dist", "node_modules"].contains(&name.as_str());
        if entry.file_type().unwrap().is_dir()
            && !ignored
            && !architecture.contains(&format!("`{name}/`"))
        {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not mention these folders: {missing:?}"
    );
}
