-- Raises, in the words a source's worker fails it with, when the owner may not read server files
-- (COPY FROM a file's rule): ingest.start refuses such a source.
CREATE OR REPLACE FUNCTION ingest._check_may_read(source_name text, owner regrole) RETURNS void
LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_may_read';

REVOKE EXECUTE ON FUNCTION ingest._check_may_read(text, regrole) FROM PUBLIC;
