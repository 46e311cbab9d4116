#!/usr/bin/env bash
# Conversion benchmark on one core: the active SigmaHQ corpus to each of the nine targets (issue: < 0.1 s per
# target; pySigma 9-22 s). Also times `vigil convert` as a user runs it (whole process, one target).
# Usage: bench/convert.sh    (VIGIL_SIGMA=/path/to/sigma overrides ../shared/sigma, VIGIL_ROUNDS=N)
set -euo pipefail
cd "$(dirname "$0")/.."
export VIGIL_SIGMA="${VIGIL_SIGMA:-$PWD/../shared/sigma}"
cargo bench -q -p vigil-compiler --bench convert --no-run 2>/dev/null || cargo bench -p vigil-compiler --bench convert --no-run
taskset -c 0 cargo bench -q -p vigil-compiler --bench convert
cargo build --release -q
S="$VIGIL_SIGMA"
for target in splunk sqlite; do
  /usr/bin/time -f "  vigil convert -t $target -p sysmon -p windows (whole process): %e s, %M KB" taskset -c 0 \
    target/release/vigil convert -t "$target" -p sysmon -p windows "$S/rules" "$S/rules-emerging-threats" \
    "$S/rules-threat-hunting" "$S/rules-compliance" "$S/rules-placeholder" > /dev/null 2> >(tail -1 >&2)
done
