#!/usr/bin/env bash
# What rules of other products cost on Windows logs: the whole active SigmaHQ corpus (rules, emerging threats,
# threat hunting) against only its Windows rules (`product: windows`), over the same events, side by side in one
# run, alternating, the median of RUNS runs each, over the Mordor events and over the EVTX files. Also peak RSS of
# each with 1 and 2 threads. Checks that the two give the same detections (the log sources keep the other
# products' rules out).
#
# Usage: bench/corpus.sh            (VIGIL_SHARED=../shared, REPEAT=1 copies of the Mordor events, RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${VIGIL_SHARED:-$PWD/../shared}"
REPEAT="${REPEAT:-1}"
RUNS="${RUNS:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for _ in $(seq "$REPEAT"); do zcat "$SHARED"/mordor/*.jsonl.gz; done | grep -v '^[[:space:]]*$' > "$WORK/events.jsonl"
EVENTS=$(wc -l < "$WORK/events.jsonl")
DIRS=("$SHARED/sigma/rules" "$SHARED/sigma/rules-emerging-threats" "$SHARED/sigma/rules-threat-hunting")
ALL=()
for d in "${DIRS[@]}"; do ALL+=(-r "$d"); done
WIN=()
while IFS= read -r f; do WIN+=(-r "$f"); done < <(grep -rlE '^\s+product: windows\s*$' --include='*.yml' "${DIRS[@]}" | sort)
echo "events: $EVENTS (Mordor x$REPEAT); rules: the whole corpus of ${DIRS[*]##*/} against its $((${#WIN[@]} / 2)) Windows rule files"

cargo build --release -q
VIGIL=target/release/vigil
# Warm-up, untimed: rule files and the binary in the page cache.
"$VIGIL" hunt --threads 1 "${ALL[@]}" /dev/null > /dev/null 2>&1 || true

# Wall time (s) and peak RSS (KB) of one run (rules and input as arguments): "seconds kilobytes".
run() {
  local threads=$1 out=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$VIGIL" hunt --threads "$threads" --format jsonl "$@" > "$out" 2> "$WORK/err"
  cat "$WORK/time"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# One input, side by side: whole corpus and Windows rules alternating, medians, detections compared.
compare() {
  local name=$1 input=$2
  : > "$WORK/all.t"; : > "$WORK/win.t"
  for _ in $(seq "$RUNS"); do
    run 1 "$WORK/all.jsonl" "${ALL[@]}" "$input" | cut -d' ' -f1 >> "$WORK/all.t"
    run 1 "$WORK/win.jsonl" "${WIN[@]}" "$input" | cut -d' ' -f1 >> "$WORK/win.t"
  done
  local t_all t_win same
  t_all=$(median < "$WORK/all.t")
  t_win=$(median < "$WORK/win.t")
  # Rules are numbered in the order given, so the detections of one event may come in another order.
  if cmp -s <(sort "$WORK/all.jsonl") <(sort "$WORK/win.jsonl"); then same="identical"; else same="DIFFERENT"; fi
  printf "\n%s, one thread (median of %s runs)\n" "$name" "$RUNS"
  printf "  %-28s %6s s\n  %-28s %6s s\n" "whole corpus" "$t_all" "Windows rules only" "$t_win"
  echo "  whole corpus / Windows rules: $(echo "scale=2; $t_all / $t_win" | bc)x; detections: $(wc -l < "$WORK/all.jsonl") and $(wc -l < "$WORK/win.jsonl"), $same"
  echo "  peak RSS (MB):"
  for threads in 1 2; do
    local all win
    all=$(run "$threads" /dev/null "${ALL[@]}" "$input" | cut -d' ' -f2)
    win=$(run "$threads" /dev/null "${WIN[@]}" "$input" | cut -d' ' -f2)
    printf "    %s thread(s): whole corpus %s, Windows rules %s\n" "$threads" "$((all / 1024))" "$((win / 1024))"
  done
}

compare "Mordor events (JSON lines)" "$WORK/events.jsonl"
compare "EVTX files of ../shared/evtx" "$SHARED/evtx"
