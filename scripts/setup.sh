#!/usr/bin/env bash
# Installs whatever Poser Lab's build needs and is missing; fast when everything is there.
#
#   scripts/setup.sh           the page: wasm32 target, trunk, wasm-bindgen-cli, crates
#   scripts/setup.sh --tests   also Debian's chromium + chromium-driver and the browser tests' npm packages
#
# Uses apt-get as root (or through sudo) only for the browser. Never downloads trunk's tools at
# build time: trunk runs offline with the binaries installed here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

TRUNK_VERSION="0.21.14" # trunk 0.22 needs rustc 1.96.1; this project builds with 1.95
for_tests=false
[[ "${1:-}" == "--tests" ]] && for_tests=true

say() { printf 'setup: %s\n' "$*" >&2; }
fail() { printf 'setup: error: %s\n' "$1" >&2; [[ -n "${2:-}" ]] && printf 'hint: %s\n' "$2" >&2; exit 1; }

command -v cargo >/dev/null || fail "cargo is not on PATH" "install Rust with rustup (https://rustup.rs), then run this again"
command -v rustup >/dev/null || fail "rustup is not on PATH" "the wasm32 target is added with rustup; install Rust with rustup"
export PATH="$HOME/.cargo/bin:$PATH"

# 1. The wasm target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. trunk, at the version this project is tested with.
if [[ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]]; then
  say "installing trunk $TRUNK_VERSION (about 7 minutes on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# 3. wasm-bindgen-cli at exactly the version Cargo.lock resolves. (`--locked` does not build
#    for this crate's published lockfile, so it is left out.)
wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[[ -n "$wasm_bindgen_version" ]] || fail "Cargo.lock does not lock wasm-bindgen" "run \`cargo generate-lockfile\` and commit Cargo.lock"
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wasm_bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $wasm_bindgen_version (about 3 minutes)"
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --force
fi

# 4. wasm-opt is deliberately not used (index.html sets data-wasm-opt="0"): Debian's binaryen
#    (v108) produces a wasm that breaks at run time and npm's takes minutes per build.

# 5. Every crate, so that trunk's offline cargo build never needs the network.
say "fetching crates"
cargo fetch --locked --quiet

if $for_tests; then
  # 6. The system Chromium and its driver, and Node.js if the machine has none (Debian
  #    packages). Only what is missing: Debian's npm conflicts with a Node.js installed
  #    from elsewhere.
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then
    apt_get=(apt-get)
    if [[ "$(id -u)" != 0 ]]; then
      command -v sudo >/dev/null || fail "installing ${missing[*]} needs root" "run this as root, or install these Debian packages yourself: ${missing[*]}"
      apt_get=(sudo apt-get)
    fi
    say "installing Debian packages: ${missing[*]}"
    "${apt_get[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq "${missing[@]}" >/dev/null
  fi
  # 7. playwright-core drives the system Chromium; it never downloads a browser.
  if [[ ! -d browser-tests/node_modules/playwright-core ]] \
    || [[ browser-tests/package-lock.json -nt browser-tests/node_modules/.package-lock.json ]]; then
    say "installing the browser tests' npm packages"
    (cd browser-tests && npm ci --no-audit --no-fund --silent)
  fi
fi
say "ready"
