#!/usr/bin/env bash
# Side by side on one core: Vigil, rsigma and sigma-rust 0.7.0, the same rules (SigmaHQ Windows rules) over the
# same events (the Mordor datasets, decompressed, repeated REPEAT times). Prints events/s and ratios, and the
# rsigma version that ran.
#
# Usage: bench/peers.sh            (VIGIL_SHARED=../shared, REPEAT=3, RSIGMA=path to an rsigma binary)
# When RSIGMA is not set, rsigma 0.23.0 is installed with `cargo install rsigma --version 0.23.0 --locked`: the
# newest release stable Rust 1.95 builds (0.24 to 0.26 need Rust 1.96; `cargo +nightly install rsigma --version
# 0.26.0 --root DIR` builds 0.26.0, then RSIGMA=DIR/bin/rsigma).
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${VIGIL_SHARED:-$PWD/../shared}"
RULES="$SHARED/sigma/rules/windows"
REPEAT="${REPEAT:-3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for _ in $(seq "$REPEAT"); do zcat "$SHARED"/mordor/*.jsonl.gz; done | grep -v '^[[:space:]]*$' > "$WORK/events.jsonl"
EVENTS=$(wc -l < "$WORK/events.jsonl")
echo "events: $EVENTS (Mordor x$REPEAT), rules: $RULES"

cargo build --release -q
(cd bench/peers/sigma-rust && cargo build --release -q)
if [ -z "${RSIGMA:-}" ]; then
  RSIGMA="$WORK/rsigma-root/bin/rsigma"
  cargo install -q rsigma --version 0.23.0 --locked --root "$WORK/rsigma-root"
fi


# Warm-up, untimed: every tool once over the first 100 events, so that no timed run pays for reading the rule
# files or its own binary from disk. Vigil's compiled rule-set cache is filled then (its own folder), as a
# hunter's second run finds it; `--no-cache` is timed too: every rule compiled, as on a first run.
head -n 100 "$WORK/events.jsonl" > "$WORK/warm.jsonl"
export VIGIL_CACHE_DIR="$WORK/cache"
target/release/vigil hunt --threads 1 -r "$RULES" "$WORK/warm.jsonl" > /dev/null 2>&1 || true
target/release/vigil hunt --no-routing --threads 1 -r "$RULES" "$WORK/warm.jsonl" > /dev/null 2>&1 || true
"$RSIGMA" engine eval --quiet -r "$RULES" < "$WORK/warm.jsonl" > /dev/null 2>&1 || true
RSIGMA_LABEL="$("$RSIGMA" --version | head -1)"

vigil_out="$WORK/vigil.jsonl"
# Wall time of a whole run on core 0, in seconds (`/usr/bin/time -o`, so the tools' own stderr stays apart).
# The time goes to $WORK/NAME.time only, never into the tool's redirected output.
timed() { local name=$1; shift; /usr/bin/time -f %e -o "$WORK/$name.time" taskset -c 0 "$@"; }
t_vigil=$(timed vigil target/release/vigil hunt --threads 1 --format jsonl -r "$RULES" "$WORK/events.jsonl" 2> "$WORK/vigil.err" > "$vigil_out"; cat "$WORK/vigil.time")
t_vigil_nc=$(timed vigil_nc target/release/vigil hunt --no-cache --threads 1 --format jsonl -r "$RULES" "$WORK/events.jsonl" 2> "$WORK/vigil_nc.err" > "$WORK/vigil_nc.jsonl"; cat "$WORK/vigil_nc.time")
t_vigil_nr=$(timed vigil_nr target/release/vigil hunt --no-routing --threads 1 --format jsonl -r "$RULES" "$WORK/events.jsonl" 2> "$WORK/vigil_nr.err" > "$WORK/vigil_nr.jsonl"; cat "$WORK/vigil_nr.time")
t_rsigma=$(timed rsigma "$RSIGMA" engine eval --quiet --output-format ndjson -r "$RULES" < "$WORK/events.jsonl" 2> "$WORK/rsigma.err" > "$WORK/rsigma.jsonl"; cat "$WORK/rsigma.time")
# sigma-rust evaluates every rule on every event (about 120 events/s here): it gets the first SIGMA_RUST_EVENTS
# events, and its events/s is measured on those.
head -n "${SIGMA_RUST_EVENTS:-2000}" "$WORK/events.jsonl" > "$WORK/events_head.jsonl"
taskset -c 0 bench/peers/sigma-rust/target/release/sigma-rust-bench "$RULES" "$WORK/events_head.jsonl" > "$WORK/sigma_rust.out"
sigma_rust_line=$(head -1 "$WORK/sigma_rust.out")
sigma_rust_rate=$(echo "$sigma_rust_line" | sed -E 's/.* ([0-9]+) events\/s\)?$/\1/')

rate() { echo "scale=0; $EVENTS / $1" | bc; }
echo
printf "%-34s %8s s %10s events/s %8s detections\n" "tool (whole run, one core)" "time" "" ""
printf "%-34s %8s   %10s          %8s\n" "vigil (routing on)" "$t_vigil" "$(rate "$t_vigil")" "$(wc -l < "$vigil_out")"
printf "%-34s %8s   %10s          %8s\n" "vigil --no-cache (rules compiled)" "$t_vigil_nc" "$(rate "$t_vigil_nc")" "$(wc -l < "$WORK/vigil_nc.jsonl")"
printf "%-34s %8s   %10s          %8s\n" "vigil --no-routing" "$t_vigil_nr" "$(rate "$t_vigil_nr")" "$(wc -l < "$WORK/vigil_nr.jsonl")"
printf "%-34s %8s   %10s          %8s\n" "$RSIGMA_LABEL engine eval" "$t_rsigma" "$(rate "$t_rsigma")" "$(wc -l < "$WORK/rsigma.jsonl")"
printf "%-34s %8s   %10s          %8s\n" "sigma-rust 0.7.0 (matching only)" "-" "$sigma_rust_rate" "-"
echo "  ($sigma_rust_line)"
echo
echo "vigil / rsigma speed ratio:      $(echo "scale=2; $t_rsigma / $t_vigil" | bc)x"
echo "vigil --no-cache / rsigma:       $(echo "scale=2; $t_rsigma / $t_vigil_nc" | bc)x"
echo "vigil / sigma-rust speed ratio:  $(echo "scale=1; $(rate "$t_vigil") / $sigma_rust_rate" | bc)x (whole Vigil run against sigma-rust's matching alone)"
echo "vigil --no-routing / rsigma:     $(echo "scale=2; $t_rsigma / $t_vigil_nr" | bc)x"
tail -1 "$WORK/vigil.err"
