-- Every file's final status is announced with NOTIFY pg_ingest when it commits: the worker does
-- it for done, failed, duplicate and replaced files, skip_file for skipped ones. Payload: a JSON object
-- with source, file, status, rows_loaded and rows_rejected.
CREATE OR REPLACE FUNCTION ingest._notify_finished(file_row ingest.files) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_catalog.pg_notify('pg_ingest', pg_catalog.json_build_object(
        'source', file_row.source, 'file', file_row.file_name, 'status', file_row.status,
        'rows_loaded', file_row.rows_loaded, 'rows_rejected', file_row.rows_rejected)::text)
$$;

REVOKE EXECUTE ON FUNCTION ingest._notify_finished(ingest.files) FROM PUBLIC;
