-- The regular files of a directory that a pattern selects, with their identity. With a third
-- argument, the ready_marker suffix ('' when markers are not used), markers are left out, and so
-- are data files whose marker is missing: a file counts as arrived, for the worker and for
-- wait_idle, only once "<name><ready_marker>" exists.
CREATE OR REPLACE FUNCTION ingest._directory_candidates(directory text, pattern text,
    OUT file_name text, OUT file_size bigint, OUT file_mtime timestamptz, OUT file_inode bigint)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_directory_candidates';

CREATE OR REPLACE FUNCTION ingest._directory_candidates(directory text, pattern text, ready_marker text,
    OUT file_name text, OUT file_size bigint, OUT file_mtime timestamptz, OUT file_inode bigint)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_directory_candidates';

REVOKE EXECUTE ON FUNCTION ingest._directory_candidates(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ingest._directory_candidates(text, text, text) FROM PUBLIC;
