#!/usr/bin/env bash
# `vigil hunt` before and after a change, side by side: the SigmaHQ Windows rules over the Mordor events
# (decompressed, repeated REPEAT times) on one core, the two binaries alternating for ROUNDS rounds; then peak RSS
# of `--sort time` against input order over Mordor x SORT_REPEAT, with one and two threads.
#
# Usage: bench/hunt_speed.sh BASE_REV     (VIGIL_SHARED=../shared, REPEAT=3, ROUNDS=3, SORT_REPEAT=18)
# BASE_REV is built in a git worktree of its own (target in $TMPDIR), unless BEFORE names its binary already
# built; the current checkout is built as is.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REV="${1:?usage: bench/hunt_speed.sh BASE_REV}"
SHARED="${VIGIL_SHARED:-$PWD/../shared}"
RULES="$SHARED/sigma/rules/windows"
REPEAT="${REPEAT:-3}"
ROUNDS="${ROUNDS:-3}"
SORT_REPEAT="${SORT_REPEAT:-18}"
WORK="$(mktemp -d)"
BASE_TREE="$WORK/base"
trap 'git worktree remove --force "$BASE_TREE" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release -q
AFTER="$PWD/target/release/vigil"
if [ -z "${BEFORE:-}" ]; then
  git worktree add -q --detach "$BASE_TREE" "$BASE_REV"
  BASE_TARGET="${TMPDIR:-/tmp}/vigil-base-target"
  (cd "$BASE_TREE" && CARGO_TARGET_DIR="$BASE_TARGET" cargo build --release -q)
  BEFORE="$BASE_TARGET/release/vigil"
fi

for _ in $(seq "$REPEAT"); do zcat "$SHARED"/mordor/*.jsonl.gz; done | grep -v '^[[:space:]]*$' > "$WORK/events.jsonl"
EVENTS=$(wc -l < "$WORK/events.jsonl")
echo "events: $EVENTS (Mordor x$REPEAT), rules: $RULES, before: $BASE_REV, after: $(git rev-parse --short HEAD)"

# Warm-up, untimed: the rule files and both binaries in the page cache.
head -n 100 "$WORK/events.jsonl" > "$WORK/warm.jsonl"
for bin in "$BEFORE" "$AFTER"; do "$bin" hunt --threads 1 -r "$RULES" "$WORK/warm.jsonl" > /dev/null 2>&1 || true; done

timed() { /usr/bin/time -f %e -o "$WORK/time" taskset -c 0 "$@" > "$WORK/out" 2> /dev/null; cat "$WORK/time"; }
rate() { echo "scale=0; $EVENTS / $1" | bc; }
before_times=() after_times=()
for round in $(seq "$ROUNDS"); do
  b=$(timed "$BEFORE" hunt --threads 1 --format jsonl -r "$RULES" "$WORK/events.jsonl"); before_detections=$(wc -l < "$WORK/out")
  a=$(timed "$AFTER" hunt --threads 1 --format jsonl -r "$RULES" "$WORK/events.jsonl"); after_detections=$(wc -l < "$WORK/out")
  before_times+=("$b") after_times+=("$a")
  echo "round $round: before $b s ($(rate "$b") events/s, $before_detections detections), after $a s ($(rate "$a") events/s, $after_detections detections), after/before time $(echo "scale=3; $a / $b" | bc)"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
mb=$(median "${before_times[@]}") ma=$(median "${after_times[@]}")
echo "median: before $mb s ($(rate "$mb") events/s), after $ma s ($(rate "$ma") events/s), after/before time $(echo "scale=3; $ma / $mb" | bc)"

echo
for _ in $(seq "$SORT_REPEAT"); do zcat "$SHARED"/mordor/*.jsonl.gz; done | grep -v '^[[:space:]]*$' > "$WORK/big.jsonl"
echo "peak RSS, Mordor x$SORT_REPEAT ($(wc -l < "$WORK/big.jsonl") events), the Windows rules, --format jsonl:"
for threads in 1 2; do
  for sort in input time; do
    /usr/bin/time -f "%M %e" -o "$WORK/rss" "$AFTER" hunt --threads "$threads" --sort "$sort" --format jsonl \
      -r "$RULES" "$WORK/big.jsonl" > "$WORK/out" 2> /dev/null
    read -r kb seconds < "$WORK/rss"
    echo "  --threads $threads --sort $sort: $((kb / 1024)) MB peak, $seconds s, $(wc -l < "$WORK/out") detections"
  done
done
