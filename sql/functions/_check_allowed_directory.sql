-- Refuses a source's directory or archive directory outside pg_ingest.allowed_directories (after
-- resolving symbolic links). A no-op while the setting is empty.
CREATE OR REPLACE FUNCTION ingest._check_allowed_directory(source_name text, purpose text, directory text)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_allowed_directory';

REVOKE EXECUTE ON FUNCTION ingest._check_allowed_directory(text, text, text) FROM PUBLIC;
