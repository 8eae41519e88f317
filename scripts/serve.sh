#!/usr/bin/env bash
# Sets up what is missing, then serves Poser Lab at http://127.0.0.1:8080 with `trunk serve`.
# Extra arguments go to trunk (e.g. `--port 9000`). The release build is the one the browser
# tests check; the first one takes about 10 minutes, later ones reuse target/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/setup.sh"
export PATH="$HOME/.cargo/bin:$PATH"
exec trunk serve --release "$@"
