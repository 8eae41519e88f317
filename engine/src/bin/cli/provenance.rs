//! Where a file the CLI writes came from.

/// The current commit, for provenance ("unknown" outside a git checkout).
pub fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |text| text.trim().to_owned())
}

/// This build of `poser`, as a report names the tool that wrote it.
pub fn tool_info() -> poser_engine::evaluation::report::ToolInfo {
    poser_engine::evaluation::report::ToolInfo {
        name: "poser".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit: git_commit(),
    }
}
