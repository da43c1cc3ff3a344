#!/usr/bin/env bash
# Measures what a user pays to compile the model: a cold `cargo build --release`
# of the model crate, and of a 20-line user program (examples/read-resource),
# each in a fresh target directory, with wall time and the peak memory of the
# largest compiler process (GNU time's maximum resident set size).
set -euo pipefail
cd "$(dirname "$0")/.."
measure() {
  local label=$1; shift
  local target; target=$(mktemp -d)
  local log; log=$(mktemp)
  /usr/bin/time -v env CARGO_TARGET_DIR="$target" "$@" >/dev/null 2>"$log" || { cat "$log"; exit 1; }
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  printf '%-44s wall %8s   peak compiler memory %6.0f MB\n' "$label" "$wall" "$(echo "$rss/1024" | bc -l)"
  rm -rf "$target" "$log"
}
echo "machine: $(nproc) cores, $(rustc --version)"
measure "cold release build, model crate (fhir-stu3)" cargo build --release --quiet -p fhir-stu3
measure "cold release build, 20-line user program" cargo build --release --quiet --manifest-path examples/read-resource/Cargo.toml
