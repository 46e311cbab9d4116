#!/usr/bin/env bash
# Correlation benchmark: `vigil hunt` on one core over a timeline of 1,000,000 events (one per millisecond, 1,000 s)
# with 100,000 distinct users, an event_count correlation per user (5 in 10 s) and a value_count one (3 hosts in
# 1 min). Prints events/s and peak RSS; then the same with 10,000 users, to show memory follows the live groups,
# not the input. Usage: bench/correlation.sh   (EVENTS=N, KEYS=N override)
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${EVENTS:-1000000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cargo build --release -q
cat > "$WORK/rules.yml" <<'RULES'
title: Failed logon
name: failed
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
---
title: Password spraying on one user
correlation:
    type: event_count
    rules: [failed]
    group-by: [TargetUserName]
    timespan: 10s
    condition: {gte: 5}
level: medium
---
title: One user failing from several hosts
correlation:
    type: value_count
    rules: [failed]
    group-by: [TargetUserName]
    timespan: 1m
    condition: {gte: 3, field: WorkstationName}
level: high
RULES
for keys in "${KEYS:-100000}" 10000; do
  python3 - "$EVENTS" "$keys" > "$WORK/events.jsonl" <<'PY'
import sys, datetime, random
events, keys = int(sys.argv[1]), int(sys.argv[2])
start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
rng = random.Random(7)
out = sys.stdout
for i in range(events):
    t = (start + datetime.timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    user = rng.randrange(keys)
    out.write('{"@timestamp":"%s","Channel":"Security","EventID":4625,"TargetUserName":"user%d","WorkstationName":"ws%d"}\n'
              % (t, user, rng.randrange(4)))
PY
  /usr/bin/time -f "%e %M" -o "$WORK/time" taskset -c 0 target/release/vigil hunt --threads 1 --format jsonl \
    -r "$WORK/rules.yml" "$WORK/events.jsonl" > "$WORK/out.jsonl" 2> "$WORK/err"
  read -r seconds rss < "$WORK/time"
  echo "$EVENTS events, $keys users: $seconds s ($(echo "$EVENTS / $seconds" | bc) events/s), peak RSS $((rss / 1024)) MB, $(wc -l < "$WORK/out.jsonl") correlation detections"
  tail -1 "$WORK/err"
done
