-- The role that called into pg_ingest: SET ROLE counts, SECURITY DEFINER does not.
CREATE OR REPLACE FUNCTION ingest._caller() RETURNS regrole
LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'ingest_caller';
