#!/usr/bin/env bash
# The main job, end to end: install and build what is missing, start a throwaway PostgreSQL with
# pg_ingest preloaded, create the demo table and a source, generate events with eventgen, let the
# worker ingest them, and show what landed. Cleans up after itself.
#   FILES=5 EVENTS=30000 bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-5}
EVENTS=${EVENTS:-30000}
bash scripts/setup.sh

work=$(mktemp -d /tmp/pg_ingest_demo.XXXXXX)
chmod 755 "$work"
trap 'tests/cluster.sh destroy "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
mkdir "$work/incoming"
chown postgres: "$work/incoming"

tests/cluster.sh init "$work/pg"
tests/cluster.sh start "$work/pg"
eval "$(tests/cluster.sh env "$work/pg")"
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "== creating the extension, the demo table and a source on $work/incoming"
psql -c "CREATE EXTENSION pg_ingest"
build/eventgen --print-ddl | psql
psql -c "SELECT ingest.create_source('events', '$work/incoming', 'user_events', 'user_events_*.csv', 1000)" >/dev/null
psql -c "SELECT ingest.start('events')" >/dev/null

echo "== generating $FILES files of $EVENTS events"
build/eventgen --out "$work/incoming" --files "$FILES" --events "$EVENTS"
psql -At -c "SELECT 'all files ingested: ' || ingest.wait_idle('events', '300s')"

echo "== what landed"
psql -c "SELECT count(*) AS events, count(DISTINCT event_id) AS distinct_ids,
                min(event_time) AS first_event, max(event_time) AS last_event FROM user_events"
psql -c "SELECT source, state, files_done, files_pending, files_failed, rows_loaded, rows_rejected
         FROM ingest.status"
psql -c "SELECT file_name, status, rows_loaded, rows_rejected,
                round(extract(epoch FROM finished_at - started_at) * 1000) AS ms
         FROM ingest.files ORDER BY file_name"
psql -c "SELECT event_type, count(*) AS events, round(sum(price)::numeric, 2) AS value
         FROM user_events GROUP BY event_type ORDER BY events DESC"
psql -c "SELECT ingest.stop('events')" >/dev/null
