-- ingest.create_source: the happy path and every validation error.
\set SHOW_CONTEXT never
-- The files of this run live in a directory of the harness's choosing (PG_INGEST_REGRESS_DIR,
-- set by the Makefile's installcheck or scripts/test_one_major.sh), so two runs never share one.
\getenv regress_dir PG_INGEST_REGRESS_DIR
\set in :regress_dir/in
\set archive :regress_dir/archive
\set setup 'cd ' :regress_dir ' 2>/dev/null && rm -rf in archive secret afile; mkdir -p ' :in ' ' :archive ' ' :regress_dir/secret ' && chmod 000 ' :regress_dir/secret ' && touch ' :regress_dir/afile
COPY (SELECT 1) TO PROGRAM :'setup';
-- A refusal whose message names a path: <dir> stands for this run's directory, in the statement
-- and in the message, so that the expected output is the same in every run.
CREATE FUNCTION pg_temp.refused(statement text, dir text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE replace(statement, '<dir>', dir);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    IF hint = '' THEN
        RAISE EXCEPTION USING MESSAGE = replace(SQLERRM, dir, '<dir>'), ERRCODE = SQLSTATE;
    END IF;
    RAISE EXCEPTION USING MESSAGE = replace(SQLERRM, dir, '<dir>'), ERRCODE = SQLSTATE,
        HINT = replace(hint, dir, '<dir>');
END $$;
CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2));
CREATE VIEW events_view AS SELECT * FROM events;

SELECT ingest.create_source('s1', :'in', 'events');
SELECT ingest.create_source('s2', :'in' || '/../in/', 'public.events', '*.txt', 500,
    '{"delimiter": ";", "header": false, "null": "\\N", "encoding": "latin1", "on_success": "move",
      "min_age_ms": 250}'::jsonb || jsonb_build_object('archive_directory', :'archive'));
SELECT name, replace(directory, :'regress_dir', '<dir>') AS directory, target, pattern, batch_size, owner, enabled
FROM ingest.sources ORDER BY source_id;
SELECT name, replace(jsonb_pretty(options), :'regress_dir', '<dir>') AS options FROM ingest.sources ORDER BY source_id;

-- directory
SELECT ingest.create_source('bad', 'relative/dir', 'events');
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/missing', 'events')$$, :'regress_dir');
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/afile', 'events')$$, :'regress_dir');
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/secret', 'events')$$, :'regress_dir');
SELECT ingest.create_source('bad', NULL, 'events');
-- target
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/in', 'no_such_table')$$, :'regress_dir');
SELECT ingest.create_source('bad', :'in', 'events_view');
SELECT ingest.create_source('bad', :'in', NULL);
-- name, pattern, batch size
SELECT ingest.create_source('s1', :'in', 'events');
SELECT ingest.create_source('', :'in', 'events');
SELECT ingest.create_source('bad', :'in', 'events', 'sub/*.csv');
SELECT ingest.create_source('bad', :'in', 'events', '');
SELECT ingest.create_source('bad', :'in', 'events', batch_size => 0);
SELECT ingest.create_source('bad', :'in', 'events', batch_size => 1000001);
SELECT ingest.create_source('ok_max', :'in', 'events', 'max_*.tsv', batch_size => 1000000);
-- one file, one source: no pattern that can take another source's files in its directory (or
-- where it moves them)
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/in', 'events', 'events_*')$$, :'regress_dir');
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/archive', 'events', '*.t?t')$$, :'regress_dir');
-- options
SELECT ingest.create_source('bad', :'in', 'events', options => '{"colour": "red"}');
SELECT ingest.create_source('bad', :'in', 'events', options => '[1, 2]');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"delimiter": "ab"}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"quote": ","}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"header": "yes"}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"null": 0}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"encoding": "klingon"}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"on_success": "shred"}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"on_success": "move"}');
SELECT pg_temp.refused($$SELECT ingest.create_source('bad', '<dir>/in', 'events', options => '{"on_success": "move", "archive_directory": "<dir>/missing"}')$$, :'regress_dir');
SELECT ingest.create_source('bad', :'in', 'events', options => jsonb_build_object('archive_directory', :'archive'));
SELECT ingest.create_source('bad', :'in', 'events', options => '{"min_age_ms": -1}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"min_age_ms": 1.5}');
SELECT ingest.create_source('bad', :'in', 'events', options => '{"max_field_bytes": 0}');
SELECT count(*) AS sources_after_errors FROM ingest.sources;

-- privileges: reading server files takes pg_read_server_files, loading a table takes INSERT on it
CREATE ROLE ingest_nobody;
CREATE ROLE ingest_reader IN ROLE pg_read_server_files;
GRANT USAGE ON SCHEMA ingest TO ingest_nobody, ingest_reader;
GRANT SELECT ON ingest.sources TO ingest_nobody, ingest_reader;
GRANT SELECT ON events TO ingest_reader;
SET ROLE ingest_nobody;
SELECT ingest.create_source('bad', :'in', 'events');
SET ROLE ingest_reader;
SELECT ingest.create_source('bad', :'in', 'events');
RESET ROLE;
