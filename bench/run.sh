#!/usr/bin/env bash
# pg_ingest vs server-side COPY on the same eventgen data, in a throwaway cluster
# (tests/cluster.sh's, with production durability: fsync, synchronous_commit and
# full_page_writes on). One command, run as root:
#   bash bench/run.sh                  # full run: 1x1,000,000 / 100x10,000 / 1,000x100 rows,
#                                      # with and without the primary key, one worker and (on
#                                      # 100x10,000, and split on pk 1x1,000,000) WORKERS workers,
#                                      # + latency of 50 files
#   SCALE=0.001 bash bench/run.sh      # tiny smoke run (a few seconds)
#   FSYNC=off bash bench/run.sh        # second mode: fsync = off (hides the cost of each commit)
# Environment: SCALE (1), BATCH (source batch_size; default: create_source's), WORKERS (2),
# SEED (42), LAT_FILES (50 at SCALE>=1), FSYNC (on), SPLIT_MB (12: split_bytes of the pk 1x1,000,000
# case with WORKERS workers), TRANSFORM (only: just the cases of option
# transform).
# Prints a markdown table: case, method, rows, seconds, rows/s, rows/s vs COPY, CPU seconds and
# CPU work vs COPY, the workers' peak private memory; the per-file overhead (rows/s of the
# 1,000-file shape over the one-file shape); then file-to-commit latency p50/p99, and the latency
# cases the tests only wait for (bench/latency_cases.py): a new file among 100,000 loaded ones and
# during a purge, a waiting source's start, DROP DATABASE / EXTENSION with a running source.
# Needs build/eventgen (cmake -S . -B build && cmake --build build) and the installed extension.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/eventgen ]; then
    cmake -S . -B build >/dev/null && cmake --build build --target eventgen >/dev/null
fi
exec /usr/bin/python3 bench/bench.py
