#!/usr/bin/env bash
# /docker-entrypoint-initdb.d script of the pg_ingest image. The official entrypoint runs it once,
# on first start with an empty data directory, against its temporary socket-only server, with
# POSTGRES_USER and POSTGRES_DB set. It creates the extension, the demo table user_events
# (eventgen's DDL) and the source "events" on DATA_DIR (default /data, the volume the generator
# writes to), and starts it: the source stays enabled, so the launcher starts its worker again on
# the real server. tests/integration/test_deployment.py runs it against a throwaway cluster.
set -euo pipefail
DATA_DIR=${DATA_DIR:-/data}
# The entrypoint's defaults, for running it by hand.
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

# One transaction: if eventgen fails, psql sees no COMMIT and nothing is left half-made.
{
    echo "BEGIN;"
    echo "CREATE EXTENSION pg_ingest;"
    eventgen --print-ddl
    cat <<'SQL'
SELECT ingest.create_source('events', :'data_dir', 'user_events', pattern => 'user_events_*.csv');
SELECT ingest.start('events');
COMMIT;
SQL
} | psql -X -q -v ON_ERROR_STOP=1 --no-password --username "$POSTGRES_USER" \
    --dbname "$POSTGRES_DB" --set data_dir="$DATA_DIR" >/dev/null
echo "pg_ingest: source \"events\" loads $DATA_DIR/user_events_*.csv into $POSTGRES_DB.user_events"
