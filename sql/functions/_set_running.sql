-- Starts (run) or stops the named source, or every source of this database when name is NULL.
-- Returns whether any source changed state. Workers are told at commit. Starting refuses a
-- source whose owner may not read server files, or write them when on_success deletes or moves
-- files, or that can take the files of a started source of any database, in the words its worker
-- would fail it with.
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
        PERFORM ingest._check_may_read(s.name, s.owner),
                ingest._check_may_write('start', s.name, s.owner, s.options ->> 'on_success'),
                ingest._check_running_overlap(s)
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

REVOKE EXECUTE ON FUNCTION ingest._set_running(text, boolean) FROM PUBLIC;
