#!/usr/bin/env bash
# Sets up what is missing, then runs every test: native unit and integration tests, clippy for
# the web target, the release wasm build, and the browser tests in headless Chromium.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh" --tests
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)" >&2; }

step "formatting"
cargo fmt --all --check

step "native tests"
cargo test --workspace --locked

step "clippy (native and wasm32)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p poser-engine -p poser-app -p poser-corpus --target wasm32-unknown-unknown --locked -- -D warnings

step "release wasm build (trunk)"
trunk build --release

step "browser tests (headless Chromium)"
mkdir -p target/browser-tests
cargo run --locked --quiet -p poser-engine --bin poser -- warmup --json > target/browser-tests/expected-matmul.json
node browser-tests/run.mjs --dist dist --expected-matmul target/browser-tests/expected-matmul.json \
  --artifacts target/browser-tests

step "all tests passed"
