-- ingest.metrics's counters per source since the server started (shared memory, reset by a
-- restart or crash like the cumulative statistics).
CREATE OR REPLACE FUNCTION ingest._source_metrics(
    OUT source_id integer, OUT files_done bigint, OUT files_failed bigint, OUT rows_loaded bigint,
    OUT rows_rejected bigint, OUT bytes_read bigint, OUT batches bigint, OUT errors bigint,
    OUT busy_seconds double precision, OUT last_file_at timestamptz)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_source_metrics';

REVOKE EXECUTE ON FUNCTION ingest._source_metrics() FROM PUBLIC;
