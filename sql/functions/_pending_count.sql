-- Files of a source that are waiting: in the catalog as pending or loading, or in the directory
-- and not yet in the catalog. A file is judged by its bytes: one whose inode the catalog knows
-- under its name, with committed rows and a checksum to judge them by, is the file the catalog
-- has (touched, or changed and failed), not a new one, whatever its size and mtime; in tail mode
-- (on_file_change = append), so is a file renamed by a rotation, known by its inode, while a done
-- file that grew is waiting.
CREATE OR REPLACE FUNCTION ingest._pending_count(source_name text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM ingest.files f
            WHERE f.source = source_name AND f.status IN ('pending', 'loading'))
         + (SELECT count(*)
            FROM ingest.sources s,
                 ingest._directory_candidates(s.directory, s.pattern,
                                              coalesce(s.options ->> 'ready_marker', '')) d
            WHERE s.name = source_name
              AND NOT EXISTS (SELECT 1 FROM ingest.files f
                              WHERE f.source = s.name AND f.file_name = d.file_name
                                AND f.file_inode = d.file_inode
                                AND ((f.file_size = d.file_size AND f.file_mtime = d.file_mtime)
                                     OR (f.byte_offset > 0 AND f.content_sha256 IS NOT NULL
                                         -- in tail mode a done file that grew has lines to load
                                         AND NOT (s.options ->> 'on_file_change' = 'append'
                                                  AND f.status = 'done'
                                                  AND d.file_size > f.file_size))))
              -- In tail mode a file renamed by a rotation is the version its inode has.
              AND NOT (s.options ->> 'on_file_change' = 'append'
                       AND EXISTS (SELECT 1 FROM ingest.files f
                                   WHERE f.source = s.name AND f.file_inode = d.file_inode
                                     AND f.file_name <> d.file_name AND f.status <> 'pending')))
$$;

REVOKE EXECUTE ON FUNCTION ingest._pending_count(text) FROM PUBLIC;
