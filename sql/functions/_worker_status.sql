-- Live state of this database's sources from shared memory, one row per source with running
-- workers (see ingest.status).
CREATE OR REPLACE FUNCTION ingest._worker_status(
    OUT source_id integer, OUT pid integer, OUT state text, OUT current_file text,
    OUT current_offset bigint, OUT rows_per_second double precision, OUT last_error text)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_worker_status';
