-- The newest version of a file of a source, for retry_file, skip_file and replay_file.
CREATE OR REPLACE FUNCTION ingest._file(source_name text, name text) RETURNS ingest.files
LANGUAGE plpgsql AS $$
DECLARE
    file_row ingest.files;
BEGIN
    PERFORM ingest._source(source_name);
    SELECT * INTO file_row FROM ingest.files f
    WHERE f.source = source_name AND f.file_name = name ORDER BY f.file_id DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" has no file "%"', source_name, name
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN file_row;
END
$$;
