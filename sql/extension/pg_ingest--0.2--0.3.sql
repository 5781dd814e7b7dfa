-- pg_ingest 0.2 -> 0.3. A fresh CREATE EXTENSION runs pg_ingest--0.1.sql, pg_ingest--0.1--0.2.sql
-- and then this script.
\echo Use "ALTER EXTENSION pg_ingest UPDATE TO '0.3'" to load this file. \quit

-- Issue 6: a worker's search for the next open file asks for the first (file_name, file_id) after
-- the last one it took. With file_id in the index as well, that is one index descent whatever the
-- statistics say; on (source, file_name) alone, a plan cached while the index looked empty read
-- every open file and sorted them, once per file: quadratic in a backlog of pending files.
DROP INDEX ingest.files_open_idx;
CREATE INDEX files_open_idx ON ingest.files (source, file_name, file_id)
    WHERE status IN ('pending', 'loading');

-- Issue 6: wait_idle looks at the directory only once the catalog has no open file of the source.
-- While files are loading, each 10 ms poll is then one index probe, not a listing of the
-- directory (with a lstat per file) that competes with the workers for the CPU.
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
