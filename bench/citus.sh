#!/usr/bin/env bash
# pg_ingest against plain COPY into a Citus distributed table (bench/citus_bench.py), for the
# PostgreSQL of PG_CONFIG, which must have the citus extension installed.
# Environment: FILES (default 4), EVENTS per file (default 100000), EXTRA_CONF (postgresql.conf
# lines for every server, separated by ";", e.g. "citus.max_cached_conns_per_worker = 16").
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${PG_MAJOR:-15}/bin/pg_config}
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/citus.control" ]; then
    echo "citus not installed for $PG_CONFIG" >&2
    exit 1
fi
bash scripts/setup.sh >/dev/null
exec /usr/bin/python3 bench/citus_bench.py
