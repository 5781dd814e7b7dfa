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
