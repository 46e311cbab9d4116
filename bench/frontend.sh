#!/usr/bin/env bash
# Front-end benchmark: load + lower the active SigmaHQ corpus on one core (issue: >= 40,000 documents/s).
# Usage: bench/frontend.sh            (reads ../shared/sigma; VIGIL_SIGMA=/path overrides, VIGIL_ROUNDS=N)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bench frontend -p vigil-compiler >/dev/null 2>&1 || cargo bench -p vigil-compiler --bench frontend --no-run
export VIGIL_SIGMA="${VIGIL_SIGMA:-$PWD/../shared/sigma}"
exec taskset -c 0 cargo bench -q -p vigil-compiler --bench frontend
