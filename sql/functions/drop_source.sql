-- Stops the source's workers and removes it with its file history and rejects.
CREATE OR REPLACE FUNCTION ingest.drop_source(name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    current ingest.sources := ingest._source(name);
BEGIN
    IF current.enabled THEN
        PERFORM ingest._signal_workers(ARRAY[current.source_id], false);
    END IF;
    DELETE FROM ingest.sources s WHERE s.name = drop_source.name;
END
$$;
