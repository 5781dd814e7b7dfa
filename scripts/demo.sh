#!/usr/bin/env bash
# The main job, end to end: install and build what is missing, start a throwaway PostgreSQL with
# pg_ingest preloaded, create the demo table and a source, generate events with eventgen, let the
# worker ingest them, and show what landed; then a revenue aggregate that a transform keeps live
# while files arrive (docs/processing.md). Cleans up after itself.
#   FILES=5 EVENTS=30000 bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${FILES:-5}
EVENTS=${EVENTS:-30000}
bash scripts/setup.sh

work=$(mktemp -d /tmp/pg_ingest_demo.XXXXXX)
chmod 755 "$work"
trap 'tests/cluster.sh destroy "$work/pg" >/dev/null 2>&1; rm -rf "$work"' EXIT
mkdir "$work/incoming" "$work/live"
chown postgres: "$work/incoming" "$work/live"

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

echo "== a live aggregate: a transform keeps the raw events and revenue per category and minute"
build/eventgen --print-ddl --table live_events | psql
build/eventgen --print-ddl --table live_shape | psql
psql -c "CREATE TABLE revenue (category text, minute timestamptz, events bigint, amount numeric,
                               PRIMARY KEY (category, minute))"
psql -v dir="$work/live" <<'SQL' >/dev/null
SELECT ingest.create_source('live', :'dir', 'live_shape', 'user_events_*.csv', 1000,
    jsonb_build_object('transform', $$
        WITH raw AS (INSERT INTO live_events SELECT * FROM batch
                     RETURNING category, event_time, price)
        INSERT INTO revenue
        SELECT category, date_trunc('minute', event_time), count(*), sum(price) FROM raw
        GROUP BY 1, 2
        ON CONFLICT (category, minute) DO UPDATE SET events = revenue.events + excluded.events,
                                                     amount = revenue.amount + excluded.amount
    $$));
SELECT ingest.start('live');
SQL
build/eventgen --out "$work/live" --files "$FILES" --events "$EVENTS" --interval 1 --rate 20000 >/dev/null &
producer=$!
for _ in 1 2 3 4 5; do
    sleep 1
    psql -At -c "SELECT format('revenue rows cover %s events, raw table holds %s', coalesce(sum(events), 0),
                               (SELECT count(*) FROM live_events)) FROM revenue"
done
wait "$producer"
psql -At -c "SELECT 'all live files ingested: ' || ingest.wait_idle('live', '300s')"
psql -c "SELECT category, sum(events) AS events, sum(amount) AS revenue FROM revenue
         GROUP BY category ORDER BY revenue DESC"
psql -c "SELECT count(*) AS groups_differing_from_group_by FROM revenue r
         FULL JOIN (SELECT category, date_trunc('minute', event_time) AS minute, count(*) AS events,
                           sum(price) AS amount FROM live_events GROUP BY 1, 2) g USING (category, minute)
         WHERE r.events IS DISTINCT FROM g.events OR r.amount IS DISTINCT FROM g.amount"
psql -c "SELECT ingest.stop('live')" >/dev/null
