#!/usr/bin/env bash
# The Citus crash tests (tests/citus/test_citus_crash.py): a coordinator and two Citus worker
# nodes, each a throwaway cluster on a unix socket, for the PostgreSQL of PG_CONFIG (default:
# Debian 12's own 15). Runs only where the citus extension is installed into that PostgreSQL;
# elsewhere it prints "citus not installed: 0 run" and exits 0, which counts as neither passed
# nor failed. Builds and installs pg_ingest first (scripts/setup.sh). Output ends with pytest's
# summary line.
#   PG_CONFIG=/path/to/pg_config bash tests/citus/run.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG_MAJOR:-15}/bin/pg_config}
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/citus.control" ]; then
    echo "citus not installed: 0 run"
    exit 0
fi
bash scripts/setup.sh >/dev/null || { echo "pg_ingest did not build or install"; exit 1; }
exec /usr/bin/python3 -m pytest -p no:cacheprovider -q tests/citus
