-- The directories of a source's definition: `directory` as given (or stored), and the archive
-- directory of validated options.
CREATE OR REPLACE FUNCTION ingest._check_allowed_directories(source_name text, directory text, options jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ingest._check_allowed_directory(source_name, 'directory', directory);
    IF options ->> 'on_success' = 'move' THEN
        PERFORM ingest._check_allowed_directory(source_name, 'archive directory',
                                                options ->> 'archive_directory');
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_allowed_directories(text, text, jsonb) FROM PUBLIC;
