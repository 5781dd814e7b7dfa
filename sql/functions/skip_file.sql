-- Gives up on a pending, loading or failed file: its remaining lines are never loaded.
CREATE OR REPLACE FUNCTION ingest.skip_file(source text, file_name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    file_row ingest.files := ingest._file(source, file_name);
BEGIN
    IF file_row.status = 'done' THEN
        RAISE EXCEPTION 'file "%" of source "%" is done already', file_name, source
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE ingest.files f
    SET status = 'skipped', finished_at = now(),
        error = coalesce(f.error || '; ', '') || format('skipped by %s', ingest._caller())
    WHERE f.file_id = file_row.file_id
    RETURNING * INTO file_row;
    PERFORM ingest._notify_finished(file_row);
END
$$;
