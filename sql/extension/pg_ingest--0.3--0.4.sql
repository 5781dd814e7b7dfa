-- pg_ingest 0.3 -> 0.4. A fresh CREATE EXTENSION runs pg_ingest--0.1.sql and each update script
-- after it, up to this one.
\echo Use "ALTER EXTENSION pg_ingest UPDATE TO '0.4'" to load this file. \quit

-- Issue 16: a source reads its files for its owner, as COPY FROM a file would; ingest.start
-- refuses a source whose owner may not read server files, in the words its worker fails it with.
CREATE FUNCTION ingest._check_may_read(source_name text, owner regrole) RETURNS void
LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_may_read';

CREATE OR REPLACE FUNCTION ingest._set_running(name text, run boolean) RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    changed integer[];
BEGIN
    IF name IS NOT NULL THEN
        PERFORM ingest._source(name);
    END IF;
    IF run THEN
        PERFORM ingest._check_may_read(s.name, s.owner)
        FROM ingest.sources s
        WHERE (_set_running.name IS NULL OR s.name = _set_running.name)
          AND ingest._may_control(s.owner)
          AND (NOT s.enabled OR s.failed_error IS NOT NULL);
    END IF;
    WITH updated AS (
        UPDATE ingest.sources s SET enabled = run, failed_error = NULL
        WHERE (_set_running.name IS NULL OR s.name = _set_running.name)
          AND ingest._may_control(s.owner)
          AND (s.enabled IS DISTINCT FROM run OR (run AND s.failed_error IS NOT NULL))
        RETURNING s.source_id)
    SELECT coalesce(array_agg(source_id), '{}') INTO changed FROM updated;
    PERFORM ingest._signal_workers(changed, run);
    RETURN cardinality(changed) > 0;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_may_read(text, regrole) FROM PUBLIC;

-- Issue 16: a started source that no background worker slot is free for shows the state
-- 'waiting for a worker' (with no pid) and why, instead of 'starting'.
CREATE OR REPLACE VIEW ingest.status WITH (security_invoker = true) AS
SELECT s.name AS source,
       CASE WHEN s.failed_error IS NOT NULL THEN 'failed'
            WHEN NOT s.enabled THEN 'stopped'
            WHEN w.state IS NOT NULL THEN w.state
            ELSE 'starting' END AS state,
       w.pid,
       coalesce(f.files_done, 0) AS files_done,
       coalesce(f.files_pending, 0) AS files_pending,
       coalesce(f.files_loading, 0) AS files_loading,
       coalesce(f.files_failed, 0) AS files_failed,
       coalesce(f.rows_loaded, 0) AS rows_loaded,
       coalesce(f.rows_rejected, 0) AS rows_rejected,
       w.current_file,
       w.current_offset,
       w.rows_per_second,
       coalesce(s.failed_error, w.last_error) AS last_error
FROM ingest.sources s
LEFT JOIN ingest._worker_status() w ON w.source_id = s.source_id
LEFT JOIN (
    SELECT source,
           count(*) FILTER (WHERE status = 'done') AS files_done,
           count(*) FILTER (WHERE status = 'pending') AS files_pending,
           count(*) FILTER (WHERE status = 'loading') AS files_loading,
           count(*) FILTER (WHERE status = 'failed') AS files_failed,
           sum(rows_loaded)::bigint AS rows_loaded,
           sum(rows_rejected)::bigint AS rows_rejected
    FROM ingest.files GROUP BY source) f ON f.source = s.name;
