-- Raises, in the words a source's worker fails it with, when on_success deletes or moves files and
-- the owner may not write server files (COPY TO a file's rule): create_source, alter_source and
-- ingest.start refuse such a source. `action` is the refused verb: create, alter, start.
CREATE OR REPLACE FUNCTION ingest._check_may_write(action text, source_name text, owner regrole,
                                                   on_success text) RETURNS void
LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_may_write';

REVOKE EXECUTE ON FUNCTION ingest._check_may_write(text, text, regrole, text) FROM PUBLIC;
