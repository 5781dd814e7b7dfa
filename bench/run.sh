#!/usr/bin/env bash
# pg_ingest vs server-side COPY on the same eventgen data, in a throwaway cluster
# (tests/cluster.sh defaults + synchronous_commit = on). One command, run as root:
#   bash bench/run.sh                  # full run: 1x1,000,000 / 100x10,000 / 1,000x100 rows,
#                                      # with and without the primary key, + latency of 50 files
#   SCALE=0.001 bash bench/run.sh      # tiny smoke run (a few seconds)
# Environment: SCALE (1), BATCH (source batch_size, 1000), SEED (42), LAT_FILES (50 at SCALE>=1).
# Prints a markdown table: case, method, rows, seconds, rows/s, pg_ingest time / COPY time, and the
# worker's peak RSS (VmHWM, sampled after wait_idle before stop); then file-to-commit p50/p99.
# Needs build/eventgen (cmake -S . -B build && cmake --build build) and the installed extension.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/eventgen ]; then
    cmake -S . -B build >/dev/null && cmake --build build --target eventgen >/dev/null
fi
exec /usr/bin/python3 bench/bench.py
