-- True once no file of the source is pending or loading, counting files already in the directory
-- but not yet in the catalog. It looks at the directory only once the catalog has no open file of
-- the source: while files are loading, each 10 ms poll is then one index probe, not a listing of
-- the directory (with a lstat per file) that competes with the workers for the CPU.
CREATE OR REPLACE FUNCTION ingest.wait_idle(name text, timeout interval DEFAULT '60s')
RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    PERFORM ingest._source(name);
    LOOP
        IF NOT EXISTS (SELECT FROM ingest.files f
                       WHERE f.source = name AND f.status IN ('pending', 'loading'))
           AND ingest._pending_count(name) = 0 THEN
            RETURN true;
        END IF;
        IF clock_timestamp() >= deadline THEN
            RETURN false;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.01);
    END LOOP;
END
$$;
