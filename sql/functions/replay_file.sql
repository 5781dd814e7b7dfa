-- Replay: marks a done or failed file; the worker then deletes the file's rows (by file_column)
-- and its rejects and loads the file again as it is now, all in one transaction, and clears the
-- mark when it commits. Until then the old rows stay; a crash or a failure leaves them and the mark, so
-- retry_file or the next round replays again.
CREATE OR REPLACE FUNCTION ingest.replay_file(source text, file_name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    source_row ingest.sources := ingest._source(source);
    file_row ingest.files := ingest._file(source, file_name);
    found_inode bigint;
BEGIN
    IF source_row.options ->> 'file_column' IS NULL THEN
        RAISE EXCEPTION 'source "%" has no file_column: its rows cannot be told apart by file',
            source USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set option "file_column" before loading files that are to be replayed.';
    END IF;
    IF source_row.options ->> 'transform' IS NOT NULL THEN
        RAISE EXCEPTION 'source "%" has a transform: replay_file cannot undo what it did with the file''s rows',
            source USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Undo the transform''s effects of the file yourself, then load the file again under another name.';
    END IF;
    IF file_row.replay_requested AND file_row.status IN ('pending', 'loading') THEN
        RETURN;
    END IF;
    IF file_row.status IN ('pending', 'loading') THEN
        RAISE EXCEPTION 'file "%" of source "%" is %; replay it once it is done', file_name,
            source, file_row.status USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF file_row.status = 'duplicate' THEN
        RAISE EXCEPTION 'file "%" of source "%" is a duplicate and has no rows to replay',
            file_name, source USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- A file is judged by its bytes: a touch does not stop a replay, and bytes changed in place
    -- (the same inode) are loaded as they are now. Only another file under the name, or none, does.
    SELECT d.file_inode INTO found_inode
    FROM ingest._directory_candidates(source_row.directory, source_row.pattern,
                                      coalesce(source_row.options ->> 'ready_marker', '')) d
    WHERE d.file_name = file_row.file_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'file "%" of source "%" is no longer in its directory', file_name, source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = CASE source_row.options ->> 'on_success'
                      WHEN 'keep' THEN 'It was removed or renamed since it was loaded.'
                      ELSE format('The source''s on_success = %s %s files once they are loaded.',
                                  source_row.options ->> 'on_success',
                                  CASE source_row.options ->> 'on_success'
                                      WHEN 'delete' THEN 'deletes' ELSE 'moves' END) END,
                  HINT = 'Put the file back into the directory under its name, then call ingest.replay_file again.';
    END IF;
    IF found_inode <> file_row.file_inode THEN
        RAISE EXCEPTION 'file "%" of source "%" is no longer in its directory as it was loaded: its name holds another file (inode %, loaded inode %)',
            file_name, source, found_inode, file_row.file_inode
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'That file is a new version of the name, loaded by itself (with on_file_change = replace, in place of this one''s rows); replay it once it is done.';
    END IF;
    UPDATE ingest.files f SET status = 'pending', replay_requested = true, error = NULL,
        finished_at = NULL
    WHERE f.file_id = file_row.file_id;
END
$$;
