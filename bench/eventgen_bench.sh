#!/usr/bin/env bash
# Throughput of eventgen: 1,000,000 events into one file, timed end to end (start-up, writing,
# fsync and rename included), printed as "eventgen: N events in X s = Y rows/s".
# Environment: BUILD_DIR (default build), EVENTS (default 1000000), OUT_PARENT (directory for the
# throwaway output, default ${TMPDIR:-/tmp}; point it at the disk you care about).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
events=${EVENTS:-1000000}

# Configure once; the build step is incremental, so a stale binary is never measured.
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$build_dir" >/dev/null
fi
cmake --build "$build_dir" --target eventgen >/dev/null

out=$(mktemp -d "${OUT_PARENT:-${TMPDIR:-/tmp}}/eventgen_bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

start=$(date +%s.%N)
"$build_dir/eventgen" --out "$out" --events "$events" --seed 1 >/dev/null
end=$(date +%s.%N)
awk -v events="$events" -v start="$start" -v end="$end" \
    'BEGIN { s = end - start; printf "eventgen: %d events in %.3f s = %.0f rows/s\n", events, s, events / s }'
