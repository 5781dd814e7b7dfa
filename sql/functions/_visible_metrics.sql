-- One row per source the caller controls (superusers: all), zeros for sources that did nothing
-- since the start, so every source is a series for the exporter.
CREATE OR REPLACE FUNCTION ingest._visible_metrics(
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
