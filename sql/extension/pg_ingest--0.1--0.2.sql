-- pg_ingest 0.1 -> 0.2. A fresh CREATE EXTENSION runs pg_ingest--0.1.sql and then this script,
-- so there is one definition of every object and the upgrade path is the tested path.
\echo Use "ALTER EXTENSION pg_ingest UPDATE TO '0.2'" to load this file. \quit

-- Issue 8: ingest.metrics, counters per source since the server started (shared memory, reset
-- by a restart or crash like the cumulative statistics), in a shape postgres_exporter scrapes.
CREATE FUNCTION ingest._source_metrics(
    OUT source_id integer, OUT files_done bigint, OUT files_failed bigint, OUT rows_loaded bigint,
    OUT rows_rejected bigint, OUT bytes_read bigint, OUT batches bigint, OUT errors bigint,
    OUT busy_seconds double precision, OUT last_file_at timestamptz)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_source_metrics';

-- One row per source the caller controls (superusers: all), zeros for sources that did nothing
-- since the start, so every source is a series for the exporter.
CREATE FUNCTION ingest._visible_metrics(
    OUT source text, OUT files_done bigint, OUT files_failed bigint, OUT rows_loaded bigint,
    OUT rows_rejected bigint, OUT bytes_read bigint, OUT batches bigint, OUT errors bigint,
    OUT busy_seconds double precision, OUT last_file_at timestamptz)
RETURNS SETOF record SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql STABLE AS $$
    SELECT s.name, coalesce(m.files_done, 0), coalesce(m.files_failed, 0),
           coalesce(m.rows_loaded, 0), coalesce(m.rows_rejected, 0), coalesce(m.bytes_read, 0),
           coalesce(m.batches, 0), coalesce(m.errors, 0), coalesce(m.busy_seconds, 0),
           m.last_file_at
    FROM ingest.sources s
    LEFT JOIN ingest._source_metrics() m ON m.source_id = s.source_id
    WHERE ingest._may_control(s.owner)
$$;

CREATE VIEW ingest.metrics AS SELECT * FROM ingest._visible_metrics();

GRANT SELECT ON ingest.metrics TO PUBLIC;
REVOKE EXECUTE ON FUNCTION ingest._source_metrics() FROM PUBLIC;
