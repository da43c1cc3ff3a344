#!/usr/bin/env bash
# The project's test command (the README's): starts NHS Digital's MESH sandbox on
# loopback twice (plain HTTP, and mutual TLS), runs every workspace test against
# them, and stops both, whatever happens. Extra arguments go to `cargo test`.
#
# The MESH tests fail, saying why, when the sandbox cannot be started (python3
# 3.11-3.13 is needed; the first run installs it into .mesh-sandbox/venv from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

stop() {
  scripts/mesh-sandbox.sh stop test || true
  scripts/mesh-sandbox.sh stop test-tls || true
}
trap stop EXIT

echo "starting the MESH sandbox (plain HTTP and mutual TLS) ..." >&2
MESH_SANDBOX_URL=$(scripts/mesh-sandbox.sh start test)
MESH_SANDBOX_TLS=1 scripts/mesh-sandbox.sh start test-tls >/dev/null
export MESH_SANDBOX_URL
export MESH_SANDBOX_TLS_DIR="$PWD/.mesh-sandbox/test-tls"
echo "MESH sandbox at $MESH_SANDBOX_URL and $(cat "$MESH_SANDBOX_TLS_DIR/url")" >&2

cargo test --workspace "$@"
