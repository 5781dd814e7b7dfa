-- Refuses `source` when it can take a file of `other` (another source of this database): the
-- same directory, or one's archive directory the other's directory, with patterns (and ready
-- markers) that can match one file name. One file is loaded by one source only.
CREATE OR REPLACE FUNCTION ingest._check_overlap(source ingest.sources, other ingest.sources)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_overlap';

REVOKE EXECUTE ON FUNCTION ingest._check_overlap(ingest.sources, ingest.sources) FROM PUBLIC;
