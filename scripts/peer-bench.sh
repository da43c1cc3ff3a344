#!/usr/bin/env bash
# Peer benchmark: our FHIR STU3 JSON reader and writer (fhir-stu3) next to fhir-sdk's
# STU3 model (serde_json), in one process on the same inputs; prints MB/s for each
# side and the ratio (ours / theirs; above 1.0 means ours is faster).
#
# It builds the separate workspace in peer-bench/ (its own Cargo.lock and target/;
# not part of the main workspace or of CI: fhir-sdk takes about 9 minutes to
# build on 2 cores). See docs/performance.md, "Peer benchmark: fhir-sdk".
#
# Usage: scripts/peer-bench.sh [cargo run arguments...]
# Environment: SHARED (the shared inputs folder, default ../shared beside the
# checkout), BENCH_MILLIS (time budget per case, default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --manifest-path peer-bench/Cargo.toml "$@"
