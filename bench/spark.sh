#!/usr/bin/env bash
# `vigil hunt --engine spark` (every rule in one job, the events parsed once, a query per group of rules of the
# same log sources) against the same rules' queries run one after another on the same local Spark, as a user of
# `vigil convert -t spark` would (bench/spark_per_rule.py); and the events/s of the Spark job and of the matcher
# on two cores, for the record. Needs Python with pyspark and Java.
#
# Usage: bench/spark.sh   (VIGIL_SHARED=../shared, RULES=<shared>/sigma/rules/windows/image_load,
#                          INPUT=<shared>/mordor/empire_psinject_PEinjection.jsonl.gz, MASTER=local[2])
# The per-rule baseline takes about a second or more per rule: keep RULES to a hundred or so.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${VIGIL_SHARED:-$PWD/../shared}"
RULES="${RULES:-$SHARED/sigma/rules/windows/image_load}"
INPUT="${INPUT:-$SHARED/mordor/empire_psinject_PEinjection.jsonl.gz}"
MASTER="${MASTER:-local[2]}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q
VIGIL="$PWD/target/release/vigil"
EVENTS=$(zcat -f "$INPUT" | grep -cv '^[[:space:]]*$')
RULE_COUNT=$(find "$RULES" -name '*.yml' | wc -l)
echo "rules: $RULES ($RULE_COUNT files), input: $INPUT ($EVENTS events), master: $MASTER"

seconds() { /usr/bin/time -f %e -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err" >&2; exit 1; }; cat "$WORK/time"; }

matcher=$(seconds "$VIGIL" hunt --threads 2 --format jsonl -r "$RULES" "$INPUT")
echo "matcher (2 threads): $(wc -l < "$WORK/out") detections, $matcher s, $(echo "scale=0; $EVENTS / $matcher" | bc) events/s"

one_pass=$(VIGIL_SPARK_KEEP="$WORK/job" seconds "$VIGIL" hunt --engine spark --spark-master "$MASTER" --format jsonl -r "$RULES" "$INPUT")
echo "one job (vigil hunt --engine spark, Spark's start included): $(wc -l < "$WORK/out") detections, $one_pass s, $(echo "scale=0; $EVENTS / $one_pass" | bc) events/s"

start=$(date +%s.%N)
python3 bench/spark_per_rule.py "$WORK/job/plan.json" 2> /dev/null | tee "$WORK/per_rule"
per_rule=$(echo "$(date +%s.%N) - $start" | bc)
echo "per-rule queries (Spark's start included): $per_rule s"
echo "ratio per-rule / one job: $(echo "scale=2; $per_rule / $one_pass" | bc)"
