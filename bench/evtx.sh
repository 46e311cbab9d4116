#!/usr/bin/env bash
# EVTX end to end on one core: the 277 files of ../shared/evtx, bare `evtx` parsing vs parsing + matching the
# SigmaHQ Windows rules. Usage: bench/evtx.sh   (VIGIL_SHARED=/path/to/shared)
set -euo pipefail
cd "$(dirname "$0")/.."
export VIGIL_SHARED="${VIGIL_SHARED:-$PWD/../shared}"
cargo bench -p vigil-runtime --bench evtx --no-run -q 2>/dev/null || cargo bench -p vigil-runtime --bench evtx --no-run
exec taskset -c 0 cargo bench -q -p vigil-runtime --bench evtx
