#!/usr/bin/env bash
# Builds seed corpora from ../shared (never copied into the repository) and runs every fuzz target with
# cargo-fuzz (libFuzzer) for FUZZ_SECONDS each (default 1800) or FUZZ_RUNS executions (default 10,000,000),
# whichever comes first, two at a time on this 2-core machine. Crashes land in fuzz/artifacts/<target>/; minimise
# one with `cargo +nightly fuzz tmin <target> <file>` and keep it as a regression test (tests/robustness_cli.rs or
# the unit tests of the module at fault).
#
# Usage: fuzz/run.sh [TARGET...]
#   FUZZ_SECONDS=1800 FUZZ_RUNS=10000000 VIGIL_SHARED=../shared; needs `cargo install cargo-fuzz` and nightly Rust
set -euo pipefail
cd "$(dirname "$0")"
SHARED="${VIGIL_SHARED:-$PWD/../../shared}"
# Not SECONDS: bash counts that one up from its start, so it cannot carry a setting.
SECONDS_EACH="${FUZZ_SECONDS:-1800}"
RUNS="${FUZZ_RUNS:-10000000}"
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(rule_text condition pipeline json_event evtx differential)

seed() {
  local target=$1 dir="corpus/$1"
  set +o pipefail  # `zcat | head` ends zcat early, which is fine here
  mkdir -p "$dir"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return
  case "$target" in
    rule_text) find "$SHARED/sigma/rules" -name '*.yml' | head -2000 | while read -r f; do cp "$f" "$dir/"; done ;;
    condition) find "$SHARED/sigma/rules" -name '*.yml' | head -3000 | while read -r f; do
                 sed -n 's/^ *condition: *//p' "$f" | head -1 > "$dir/$(basename "$f" .yml)"; done ;;
    pipeline) cp ../rules/pipelines/*.yml "$dir/" ;;
    json_event) for f in "$SHARED"/mordor/*.jsonl.gz; do zcat "$f" | head -200 | split -l 1 - "$dir/$(basename "$f" .jsonl.gz)-"; done ;;
    evtx) cp "$SHARED"/evtx/*.evtx "$dir/" ;;
    differential) : ;;  # generated from the fuzzer's bytes
  esac
}

run() {
  local target=$1
  seed "$target"
  cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$SECONDS_EACH" -runs="$RUNS" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 > "logs/$target.log" 2>&1 || true
  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|Done [0-9]+ runs|SUMMARY|ERROR" "logs/$target.log" | sed "s/^/$target: /"
}

mkdir -p logs
cargo +nightly fuzz build -O
for target in "${TARGETS[@]}"; do  # two at a time: a new one starts as soon as one ends
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
  run "$target" &
done
wait
