//! trunk runs offline with the wasm-bindgen CLI on PATH, which must be exactly the version of
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! the `wasm-bindgen` crate in Cargo.lock, or the generated glue does not match the wasm.

use std::process::Command;

use repo_checks::{locked_version, read_repo_file};

const FIX: &str = "hint: run `./scripts/setup.sh` (it installs wasm-bindgen-cli at the version Cargo.lock \
resolves); after changing the wasm-bindgen version in Cargo.lock, set [tools] wasm_bindgen in Trunk.toml \
to the same version";

fn trunk_pin() -> String {
    let trunk: toml::Table = read_repo_file("Trunk.toml").unwrap().parse().unwrap();
    trunk
        .get("tools")
        .and_then(|tools| tools.get("wasm_bindgen"))
        .and_then(toml::Value::as_str)
        .expect("Trunk.toml has no [tools] wasm_bindgen pin")
        .to_owned()
}

#[test]
fn trunk_pin_equals_the_locked_wasm_bindgen() {
    let locked = locked_version(&read_repo_file("Cargo.lock").unwrap(), "wasm-bindgen").unwrap();
    let pinned = trunk_pin();
    assert_eq!(
        pinned, locked,
        "Trunk.toml pins wasm-bindgen {pinned} but Cargo.lock resolves {locked}\n{FIX}"
    );
}

#[test]
fn trunk_works_offline() {
    let trunk: toml::Table = read_repo_file("Trunk.toml").unwrap().parse().unwrap();
    let offline = trunk
        .get("build")
        .and_then(|b| b.get("offline"))
        .and_then(toml::Value::as_bool);
    assert_eq!(
        offline,
        Some(true),
        "Trunk.toml must set [build] offline = true so trunk never downloads tools"
    );
}

#[test]
fn installed_wasm_bindgen_cli_equals_the_locked_version() {
    let locked = locked_version(&read_repo_file("Cargo.lock").unwrap(), "wasm-bindgen").unwrap();
    let output = Command::new("wasm-bindgen").arg("--version").output();
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            panic!("cannot run `wasm-bindgen --version` ({error}): the CLI is not on PATH\n{FIX}")
        }
    };
    let printed = String::from_utf8_lossy(&output.stdout);
    // Prints e.g. `wasm-bindgen 0.2.130`.
    let installed = printed.split_whitespace().nth(1).unwrap_or("").to_owned();
    assert_eq!(
        installed, locked,
        "the wasm-bindgen CLI on PATH is {installed:?} but Cargo.lock resolves {locked}\n{FIX}"
    );
}

#[test]
fn lockfile_parsing_rejects_missing_and_ambiguous_packages() {
    let lock = r#"
[[package]]
name = "a"
version = "1.0.0"
[[package]]
name = "b"
version = "1.0.0"
[[package]]
name = "b"
version = "2.0.0"
"#;
    assert_eq!(locked_version(lock, "a").unwrap(), "1.0.0");
    assert!(
        locked_version(lock, "b")
            .unwrap_err()
            .contains("several versions")
    );
    assert!(
        locked_version(lock, "c")
            .unwrap_err()
            .contains("does not lock")
    );
}
