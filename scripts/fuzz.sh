#!/usr/bin/env bash
# Coverage-guided fuzzing with cargo fuzz (libFuzzer). See docs/fuzzing.md.
#
#   scripts/fuzz.sh list                  the targets
#   scripts/fuzz.sh seed                  (re)build the seed corpora from ../shared
#   scripts/fuzz.sh run TARGET SECONDS [libFuzzer flags...]
#                                         fuzz one target for SECONDS (seeds first)
#   scripts/fuzz.sh ci SECONDS            build, then fuzz every target for SECONDS each
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); runs on the stable
# toolchain through RUSTC_BOOTSTRAP=1. Corpora grow in fuzz/corpus/<target>/
# (git-ignored); a crash is saved in fuzz/artifacts/<target>/ and, once fixed, is
# kept as a regression test in fuzz/regressions/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SHARED=${SHARED:-$ROOT/../shared}
TARGETS=(json_read xml_read receive control_file fhirpath_parse)
export RUSTC_BOOTSTRAP=1
# The sanitizer: none by default. Every crate of ours forbids `unsafe`, so
# AddressSanitizer finds nothing the Rust checks do not, at several times the cost;
# panics, overflow (debug assertions are on), hangs and memory growth are caught
# either way. `FUZZ_SANITIZER=address` turns it on for a campaign.
SANITIZER=${FUZZ_SANITIZER:-none}

need_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "error: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2
    exit 2
  fi
}

need_shared() {
  if [ ! -d "$SHARED/fhir-examples" ]; then
    echo "error: $SHARED/fhir-examples not found: the seed corpora come from ../shared" >&2
    exit 2
  fi
}

# Copies FILE into corpus DIR under its content hash (what libFuzzer names inputs).
add() {
  local dir=$1 file=$2
  cp "$file" "$dir/$(sha1sum <"$file" | cut -c1-40)"
}

seed() {
  need_shared
  local c=$ROOT/fuzz/seeds
  rm -rf "$c"
  mkdir -p "$c"/{json_read,xml_read,receive,control_file,fhirpath_parse}
  for f in "$SHARED"/fhir-examples/json/*.json; do add "$c/json_read" "$f"; done
  for f in "$SHARED"/fhir-examples/xml/*.xml; do add "$c/xml_read" "$f"; done
  for f in "$SHARED"/examples/*.xml; do
    case $f in
      *ctl.xml | *StatusRecord*) add "$c/control_file" "$f" ;;
      *) add "$c/xml_read" "$f"; add "$c/receive" "$f" ;;
    esac
  done
  for f in "$SHARED"/mesh/ctl/*; do add "$c/control_file" "$f"; done
  # Messages and their parts as the receiver meets them: every Bundle example.
  for f in "$SHARED"/fhir-examples/json/bundle-*.json "$SHARED"/fhir-examples/xml/bundle-*.xml; do
    [ -e "$f" ] && add "$c/receive" "$f"
  done
  # Every FHIRPath constraint in the packages, one file each.
  find "$SHARED/fhir-packages" -name '*.json' -path '*/package/*' -print0 |
    xargs -0 jq -r '.. | objects | select(has("expression") and has("key")) | .expression' 2>/dev/null |
    sort -u | while IFS= read -r expr; do
      printf '%s' "$expr" >"$c/fhirpath_parse/$(printf '%s' "$expr" | sha1sum | cut -c1-40)"
    done
  for t in "${TARGETS[@]}"; do
    echo "seeds/$t: $(find "$c/$t" -type f | wc -l) files" >&2
  done
}

build() {
  need_cargo_fuzz
  (cd fuzz && cargo fuzz build -s "$SANITIZER" "$@")
}

# Fuzzes TARGET for SECONDS. The working corpus fuzz/corpus/TARGET keeps what
# earlier runs found; the seeds are read alongside it. Prints libFuzzer's last
# status line (executions, exec/s).
run() {
  local target=$1 seconds=$2
  shift 2
  [ -d fuzz/seeds/"$target" ] || seed
  mkdir -p fuzz/corpus/"$target" fuzz/artifacts/"$target"
  local log=fuzz/artifacts/"$target"/last-run.log
  set +e
  (cd fuzz && cargo fuzz run -s "$SANITIZER" "$target" corpus/"$target" seeds/"$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=1048576 -print_final_stats=1 "$@") >"$log" 2>&1
  local rc=$?
  set -e
  grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' "$log" |
    sed "s/^/$target: /" >&2 || true
  if [ $rc -ne 0 ]; then
    echo "error: fuzz target $target failed (exit $rc); log: $log" >&2
    grep -E 'panicked at|SUMMARY|Test unit written|ERROR: libFuzzer' "$log" >&2 || true
    return $rc
  fi
}

case ${1:-} in
  list) printf '%s\n' "${TARGETS[@]}" ;;
  seed) seed ;;
  build) shift; build "$@" ;;
  run)
    [ $# -ge 3 ] || { echo "usage: $0 run TARGET SECONDS [libFuzzer flags...]" >&2; exit 2; }
    shift
    need_cargo_fuzz
    run "$@"
    ;;
  ci)
    [ $# -eq 2 ] || { echo "usage: $0 ci SECONDS" >&2; exit 2; }
    need_cargo_fuzz
    seed
    build
    failed=0
    for t in "${TARGETS[@]}"; do run "$t" "$2" || failed=1; done
    exit $failed
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
