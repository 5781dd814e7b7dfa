-- Loads a failed file again, once its cause is fixed, from where its committed rows end. A file
-- that changed (see docs/architecture.md, "A file's life") loads on when its committed bytes are
-- intact: one that grew loads its new lines too. A split file whose chunks are all done and that
-- grew since loads the rest as a whole file from where its chunks end.
CREATE OR REPLACE FUNCTION ingest.retry_file(source text, file_name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    file_row ingest.files := ingest._file(source, file_name);
BEGIN
    IF file_row.status NOT IN ('failed', 'skipped') THEN
        RAISE EXCEPTION 'file "%" of source "%" is %, not failed or skipped', file_name, source,
            file_row.status USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ingest.file_chunks c
                   WHERE c.file_id = file_row.file_id AND c.status <> 'done') THEN
        DELETE FROM ingest.file_chunks c WHERE c.file_id = file_row.file_id;
    END IF;
    UPDATE ingest.files f
    SET status = CASE WHEN f.byte_offset > 0 THEN 'loading' ELSE 'pending' END,
        error = NULL, finished_at = NULL, change_retried = true
    WHERE f.file_id = file_row.file_id;
END
$$;
