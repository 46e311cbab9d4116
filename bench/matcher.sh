#!/usr/bin/env bash
# Matcher benchmark on one core: SigmaHQ Windows rules over the Mordor events vs bare JSON parsing.
# Usage: bench/matcher.sh   (VIGIL_SHARED=/path/to/shared, VIGIL_ROUNDS=N, VIGIL_NO_ROUTING=1 for the rules as written)
set -euo pipefail
cd "$(dirname "$0")/.."
export VIGIL_SHARED="${VIGIL_SHARED:-$PWD/../shared}"
cargo bench -p vigil-runtime --bench matcher --no-run -q 2>/dev/null || cargo bench -p vigil-runtime --bench matcher --no-run
exec taskset -c 0 cargo bench -q -p vigil-runtime --bench matcher
