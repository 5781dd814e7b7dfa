-- ingest.create_source: the happy path and every validation error.
\set SHOW_CONTEXT never
COPY (SELECT 1) TO PROGRAM 'rm -rf /tmp/pg_ingest_regress && mkdir -p /tmp/pg_ingest_regress/in /tmp/pg_ingest_regress/archive /tmp/pg_ingest_regress/secret && chmod 000 /tmp/pg_ingest_regress/secret && touch /tmp/pg_ingest_regress/afile';
CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2));
CREATE VIEW events_view AS SELECT * FROM events;

SELECT ingest.create_source('s1', '/tmp/pg_ingest_regress/in', 'events');
SELECT ingest.create_source('s2', '/tmp/pg_ingest_regress/in/../in/', 'public.events', '*.txt', 500,
    '{"delimiter": ";", "header": false, "null": "\\N", "encoding": "latin1", "on_success": "move",
      "archive_directory": "/tmp/pg_ingest_regress/archive", "min_age_ms": 250}');
SELECT name, directory, target, pattern, batch_size, owner, enabled FROM ingest.sources ORDER BY source_id;
SELECT name, jsonb_pretty(options) FROM ingest.sources ORDER BY source_id;

-- directory
SELECT ingest.create_source('bad', 'relative/dir', 'events');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/missing', 'events');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/afile', 'events');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/secret', 'events');
SELECT ingest.create_source('bad', NULL, 'events');
-- target
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'no_such_table');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events_view');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', NULL);
-- name, pattern, batch size
SELECT ingest.create_source('s1', '/tmp/pg_ingest_regress/in', 'events');
SELECT ingest.create_source('', '/tmp/pg_ingest_regress/in', 'events');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', 'sub/*.csv');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', '');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', batch_size => 0);
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', batch_size => 1000001);
SELECT ingest.create_source('ok_max', '/tmp/pg_ingest_regress/in', 'events', 'max_*.tsv', batch_size => 1000000);
-- one file, one source: no pattern that can take another source's files in its directory (or
-- where it moves them)
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', 'events_*');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/archive', 'events', '*.t?t');
-- options
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"colour": "red"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '[1, 2]');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"delimiter": "ab"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"quote": ","}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"header": "yes"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"null": 0}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"encoding": "klingon"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"on_success": "shred"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"on_success": "move"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"on_success": "move", "archive_directory": "/tmp/pg_ingest_regress/missing"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"archive_directory": "/tmp/pg_ingest_regress/archive"}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"min_age_ms": -1}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"min_age_ms": 1.5}');
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events', options => '{"max_field_bytes": 0}');
SELECT count(*) AS sources_after_errors FROM ingest.sources;

-- privileges: reading server files takes pg_read_server_files, loading a table takes INSERT on it
CREATE ROLE ingest_nobody;
CREATE ROLE ingest_reader IN ROLE pg_read_server_files;
GRANT USAGE ON SCHEMA ingest TO ingest_nobody, ingest_reader;
GRANT SELECT ON ingest.sources TO ingest_nobody, ingest_reader;
GRANT SELECT ON events TO ingest_reader;
SET ROLE ingest_nobody;
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events');
SET ROLE ingest_reader;
SELECT ingest.create_source('bad', '/tmp/pg_ingest_regress/in', 'events');
RESET ROLE;
