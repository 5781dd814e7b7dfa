-- Checks that the server can use a directory (and write to it, with need_write) and returns its
-- canonical path; the server's view of the file system, so in C.
CREATE OR REPLACE FUNCTION ingest._check_directory(directory text, purpose text, need_write boolean)
RETURNS text LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_directory';

REVOKE EXECUTE ON FUNCTION ingest._check_directory(text, text, boolean) FROM PUBLIC;
