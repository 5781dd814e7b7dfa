-- Refuses to start `source` when a started source of any database (two databases can watch one
-- directory) can take one of its files, in the words its worker would fail it with.
CREATE OR REPLACE FUNCTION ingest._check_running_overlap(source ingest.sources)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_running_overlap';

REVOKE EXECUTE ON FUNCTION ingest._check_running_overlap(ingest.sources) FROM PUBLIC;
