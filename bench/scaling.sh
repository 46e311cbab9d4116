#!/usr/bin/env bash
# How a hunt scales with threads, and what rule loading costs: the SigmaHQ Windows rules over the Mordor events
# (decompressed, repeated REPEAT times), over the 277 EVTX files of ../shared/evtx, and over one large EVTX file
# made of their chunks (bench/big_evtx.py, BIG_MB megabytes), each with --threads 1 on one core and --threads 2 on
# two, alternating, the median of RUNS runs; with peak RSS. Then rule loading alone (a hunt over an empty input)
# for the Windows rules and for the whole active corpus (rules, emerging threats, threat hunting). And the EVTX
# files given five times with two rules: rendering alone, nearly (how readers scale).
#
# Usage: bench/scaling.sh        (VIGIL_SHARED=../shared, REPEAT=3, RUNS=3, BIG_MB=300)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${VIGIL_SHARED:-$PWD/../shared}"
REPEAT="${REPEAT:-3}"
RUNS="${RUNS:-3}"
BIG_MB="${BIG_MB:-300}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The compiled rule-set cache of these runs: its own folder.
export VIGIL_CACHE_DIR="$WORK/cache"
WINDOWS="$SHARED/sigma/rules/windows"

for _ in $(seq "$REPEAT"); do zcat "$SHARED"/mordor/*.jsonl.gz; done | grep -v '^[[:space:]]*$' > "$WORK/events.jsonl"
find "$SHARED/evtx" -name '*.evtx' -print0 | sort -z | xargs -0 python3 bench/big_evtx.py "$WORK/big.evtx" --min-mb "$BIG_MB"
cargo build --release -q
VIGIL=target/release/vigil
: > "$WORK/empty.jsonl"
"$VIGIL" hunt --threads 1 -r "$WINDOWS" "$WORK/empty.jsonl" > /dev/null 2>&1 || true

# One run: "seconds peak-KB scan-seconds events detections" of `vigil hunt --threads N` on the first N cores
# (the scan's seconds as the summary says: reading and matching, without rule loading).
run() {
  local threads=$1; shift
  local cores; cores=$(seq -s, 0 $((threads - 1)))
  /usr/bin/time -f "%e %M" -o "$WORK/time" taskset -c "$cores" "$VIGIL" hunt --threads "$threads" --format jsonl "$@" \
    > "$WORK/out" 2> "$WORK/err" || true
  local scan; scan=$(grep -oE 'inputs in [0-9.]+s' "$WORK/err" | grep -oE '[0-9.]+' | head -1)
  echo "$(tail -1 "$WORK/time") $scan $(grep -oE '^[0-9]+ events' "$WORK/err" | grep -oE '[0-9]+') $(wc -l < "$WORK/out")"
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

scale() {
  local name=$1; shift
  local one=() two=() scan1=() scan2=() rss1=() rss2=() events=0 d1=0 d2=0 t m s
  for _ in $(seq "$RUNS"); do
    read -r t m s events d1 < <(run 1 "$@"); one+=("$t"); rss1+=("$m"); scan1+=("$s")
    read -r t m s events d2 < <(run 2 "$@"); two+=("$t"); rss2+=("$m"); scan2+=("$s")
  done
  local m1 m2 s1 s2; m1=$(median "${one[@]}"); m2=$(median "${two[@]}"); s1=$(median "${scan1[@]}"); s2=$(median "${scan2[@]}")
  printf "%s: %s events, detections %s/%s\n" "$name" "$events" "$d1" "$d2"
  printf "  whole process: 1 thread %6.2f s (%7.0f ev/s, %3d MB), 2 threads %6.2f s (%3d MB): speed-up %.2fx\n" \
    "$m1" "$(echo "$events / $m1" | bc -l)" "$(( $(median "${rss1[@]}") / 1024 ))" \
    "$m2" "$(( $(median "${rss2[@]}") / 1024 ))" "$(echo "$m1 / $m2" | bc -l)"
  printf "  scan alone:    1 thread %6.2f s (%7.0f ev/s),         2 threads %6.2f s:          speed-up %.2fx\n" \
    "$s1" "$(echo "$events / $s1" | bc -l)" "$s2" "$(echo "$s1 / $s2" | bc -l)"
}

echo "Windows rules ($WINDOWS), median of $RUNS runs each, alternating:"
scale "Mordor x$REPEAT (JSON lines)" -r "$WINDOWS" "$WORK/events.jsonl"
scale "277 EVTX files" -r "$WINDOWS" "$SHARED/evtx"
EVTX5=(); for _ in 1 2 3 4 5; do EVTX5+=("$SHARED/evtx"); done
scale "277 EVTX files given five times" -r "$WINDOWS" "${EVTX5[@]}"
scale "one EVTX file of ${BIG_MB} MB" -r "$WINDOWS" "$WORK/big.evtx"
# Rendering EVTX records is most of a hunt with few rules: the small files must be rendered on every core (one
# reader per worker), not by one reader all the workers wait for.
FEW="$WORK/few_rules"
mkdir -p "$FEW"
cp "$SHARED/seed/sysmon_wmi_module_load.yml" "$WINDOWS/process_creation/proc_creation_win_whoami_execution_from_high_priv_process.yml" "$FEW"/
echo "Two rules ($(ls "$FEW" | tr '\n' ' ')):"
scale "277 EVTX files given five times" -r "$FEW" "${EVTX5[@]}"

echo
echo "Rule loading alone (a hunt over an empty input; whole process / as the summary says):"
DIRS=("$SHARED/sigma/rules" "$SHARED/sigma/rules-emerging-threats" "$SHARED/sigma/rules-threat-hunting")
ALL=()
for d in "${DIRS[@]}"; do ALL+=(-r "$d"); done
# Each set is loaded once untimed to fill the compiled rule-set cache, then timed compiled (--no-cache) and from
# the cache, with one thread on one core and two on two.
load() {
  local name=$1 threads=$2; shift 2
  local cores; cores=$(seq -s, 0 $((threads - 1)))
  local times=() said=() rss=() rules=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time" taskset -c "$cores" "$VIGIL" hunt --threads "$threads" "$@" "$WORK/empty.jsonl" > /dev/null 2> "$WORK/err" || true
    read -r t m < <(tail -1 "$WORK/time"); times+=("$t"); rss+=("$m")
    said+=("$(grep -oE 'rules loaded in [0-9.]+s' "$WORK/err" | grep -oE '[0-9.]+' | head -1)")
    rules=$(grep -oE 'rules: [0-9]+ loaded' "$WORK/err" | grep -oE '[0-9]+')
  done
  printf "%-52s %5s rules  %5.2f s whole process, %5.2f s loading, %4d MB\n" "$name, $threads thread(s)" "$rules" \
    "$(median "${times[@]}")" "$(median "${said[@]}")" "$(( $(median "${rss[@]}") / 1024 ))"
}
"$VIGIL" hunt -r "$WINDOWS" "$WORK/empty.jsonl" > /dev/null 2>&1 || true
"$VIGIL" hunt "${ALL[@]}" "$WORK/empty.jsonl" > /dev/null 2>&1 || true
for threads in 1 2; do
  load "Windows rules, compiled (--no-cache)" "$threads" --no-cache -r "$WINDOWS"
  load "Windows rules, from the cache" "$threads" -r "$WINDOWS"
  load "whole active corpus, compiled (--no-cache)" "$threads" --no-cache "${ALL[@]}"
  load "whole active corpus, from the cache" "$threads" "${ALL[@]}"
done
