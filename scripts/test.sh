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
# Built for the whole workspace, like the tests, so that no dependency is rebuilt with another
# feature set (`cargo run -p poser-engine` would rebuild much of burn).
cargo build --workspace --bins --locked --quiet
poser() { target/debug/poser "$@"; }
poser warmup --json > target/browser-tests/expected-matmul.json
poser forward --model genie-0 --models-dir engine/tests/fixtures/models \
  --text browser-tests/fixture-prompt.txt --json > target/browser-tests/expected-forward.json
poser fine-tune --model genie-0 --models-dir engine/tests/fixtures/models \
  --spec browser-tests/fixture-fine-tune.json --json > target/browser-tests/expected-fine-tune.json
poser strategies --models-dir engine/tests/fixtures/models \
  --spec browser-tests/fixture-strategies.json --json > target/browser-tests/expected-strategies.json
# The shipped zoo without retraining it: every digest, each model's 200-prompt check sample
# against its card, and 20 retraining steps of one checkpoint against its recorded trace.
poser zoo check
# The committed report of the shipped zoo (issue 7): every digest it names, 6 seeded (model,
# family) entries recomputed (with §4 for the fakers among them), every score and verdict
# re-derived from its measurements.
poser verify-report public/reports/zoo.json --sample 6 --seed 0
# A pair of the shipped zoo and a scenario on which it shows the flip (the playground's tests).
poser playground --aligned genie-0 --faker reward_maximizer-0 --find-flip \
  > target/browser-tests/expected-playground.json
node browser-tests/run.mjs --dist dist --artifacts target/browser-tests \
  --expected-matmul target/browser-tests/expected-matmul.json \
  --expected-forward target/browser-tests/expected-forward.json \
  --expected-fine-tune target/browser-tests/expected-fine-tune.json \
  --expected-strategies target/browser-tests/expected-strategies.json \
  --expected-playground target/browser-tests/expected-playground.json

step "all tests passed"
