-- Each running worker of this database's sources, numbered from 1 as in its application_name
-- (`pg_ingest: <source>` for worker 1, `pg_ingest: <source> #2` and so on for the others).
CREATE OR REPLACE FUNCTION ingest._source_workers(
    OUT source_id integer, OUT worker integer, OUT pid integer, OUT state text,
    OUT current_file text, OUT current_offset bigint, OUT rows_per_second double precision,
    OUT last_error text)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_source_workers';
