-- pg_ingest 0.1 -> 0.2. A fresh CREATE EXTENSION runs pg_ingest--0.1.sql and then this script,
-- so there is one definition of every object and the upgrade path is the tested path.
\echo Use "ALTER EXTENSION pg_ingest UPDATE TO '0.2'" to load this file. \quit

-- Issue 7: security. pg_ingest.allowed_directories at create_source and alter_source; file names
-- the database encoding cannot hold; sources follow their owner through DROP ROLE, DROP OWNED BY
-- and REASSIGN OWNED BY.

-- Refuses a source's directory or archive directory outside pg_ingest.allowed_directories (after
-- resolving symbolic links). A no-op while the setting is empty.
CREATE FUNCTION ingest._check_allowed_directory(source_name text, purpose text, directory text)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_allowed_directory';

-- The directories of a source's definition: `directory` as given (or stored), and the archive
-- directory of validated options.
CREATE FUNCTION ingest._check_allowed_directories(source_name text, directory text, options jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ingest._check_allowed_directory(source_name, 'directory', directory);
    IF options ->> 'on_success' = 'move' THEN
        PERFORM ingest._check_allowed_directory(source_name, 'archive directory',
                                                options ->> 'archive_directory');
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION ingest.create_source(
    name text,
    directory text,
    target regclass,
    pattern text DEFAULT '*.csv',
    batch_size integer DEFAULT 10000,
    options jsonb DEFAULT '{}')
RETURNS integer SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    new_id integer;
    canonical_directory text;
    validated jsonb;
BEGIN
    PERFORM ingest._check_source_args(name, pattern, batch_size);
    IF directory IS NULL THEN
        RAISE EXCEPTION 'directory must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM ingest.sources s WHERE s.name = create_source.name) THEN
        RAISE EXCEPTION 'source "%" already exists', name USING ERRCODE = 'duplicate_object';
    END IF;
    PERFORM ingest._check_target(target);
    canonical_directory := ingest._check_directory(directory, 'directory', false);
    validated := ingest._validate_options(options);
    PERFORM ingest._check_allowed_directories(name, directory, validated);
    INSERT INTO ingest.sources (name, directory, target, pattern, batch_size, options, owner)
    VALUES (name, canonical_directory, target, pattern, batch_size, validated, ingest._caller())
    RETURNING source_id INTO new_id;
    RETURN new_id;
END
$$;

-- NULL arguments keep the current value; options are merged into the current ones. The resulting
-- definition must be allowed, even where only other values change.
CREATE OR REPLACE FUNCTION ingest.alter_source(
    name text,
    directory text DEFAULT NULL,
    target regclass DEFAULT NULL,
    pattern text DEFAULT NULL,
    batch_size integer DEFAULT NULL,
    options jsonb DEFAULT NULL)
RETURNS void SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    current ingest.sources := ingest._source(name);
    merged jsonb;
    altered ingest.sources;
BEGIN
    PERFORM ingest._check_source_args(name, coalesce(pattern, current.pattern),
                                      coalesce(batch_size, current.batch_size));
    IF target IS NOT NULL THEN
        PERFORM ingest._check_target(target);
    END IF;
    merged := current.options - 'archive_directory' || coalesce(options, '{}');
    IF NOT merged ? 'archive_directory' AND merged ->> 'on_success' = 'move' THEN
        merged := merged || jsonb_build_object('archive_directory', current.options -> 'archive_directory');
    END IF;
    UPDATE ingest.sources s SET
        directory = CASE WHEN alter_source.directory IS NULL THEN s.directory
                         ELSE ingest._check_directory(alter_source.directory, 'directory', false) END,
        target = coalesce(alter_source.target, s.target),
        pattern = coalesce(alter_source.pattern, s.pattern),
        batch_size = coalesce(alter_source.batch_size, s.batch_size),
        options = ingest._validate_options(merged)
    WHERE s.name = alter_source.name
    RETURNING * INTO altered;
    PERFORM ingest._check_allowed_directories(name, coalesce(directory, altered.directory),
                                              altered.options);
    IF current.enabled THEN
        -- The running worker picks up the new definition when it is restarted.
        PERFORM ingest._signal_workers(ARRAY[current.source_id], false);
        PERFORM ingest._signal_workers(ARRAY[current.source_id], true);
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_allowed_directory(text, text, text),
    ingest._check_allowed_directories(text, text, jsonb) FROM PUBLIC;

-- The exact name of a file whose name is not valid in the database encoding; file_name then
-- shows it with each offending byte as \xNN (as do ingest.rejects, ingest.status and the log),
-- and retry_file and skip_file take that form. NULL when file_name is the exact name.
ALTER TABLE ingest.files ADD COLUMN file_name_bytes bytea;

-- Called by the extension's utility hook, in the database where the statement runs, after
-- PostgreSQL has run it and checked its privileges (so not executable by PUBLIC). A source is an
-- object its owner owns: DROP ROLE is refused while the role owns one (this lists them, or
-- returns NULL), DROP OWNED BY drops them, REASSIGN OWNED BY hands them over.
CREATE FUNCTION ingest._sources_owned_by(role oid) RETURNS text
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql STABLE AS $$
    SELECT string_agg(format('owner of pg_ingest source "%s"', s.name), E'\n' ORDER BY s.name)
    FROM ingest.sources s WHERE s.owner::oid = role
$$;

CREATE FUNCTION ingest._drop_sources_of(roles oid[]) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    running integer[];
BEGIN
    WITH dropped AS (
        DELETE FROM ingest.sources s WHERE s.owner::oid = ANY (roles)
        RETURNING s.source_id, s.enabled)
    SELECT coalesce(array_agg(source_id) FILTER (WHERE enabled), '{}') INTO running FROM dropped;
    PERFORM ingest._signal_workers(running, false);
END
$$;

CREATE FUNCTION ingest._reassign_sources(roles oid[], new_owner oid) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    running integer[];
BEGIN
    WITH reassigned AS (
        UPDATE ingest.sources s SET owner = new_owner::regrole WHERE s.owner::oid = ANY (roles)
        RETURNING s.source_id, s.enabled)
    SELECT coalesce(array_agg(source_id) FILTER (WHERE enabled), '{}') INTO running
    FROM reassigned;
    -- A running worker writes as the owner it started with: restart it as the new one.
    PERFORM ingest._signal_workers(running, false);
    PERFORM ingest._signal_workers(running, true);
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._sources_owned_by(oid), ingest._drop_sources_of(oid[]),
    ingest._reassign_sources(oid[], oid) FROM PUBLIC;
-- Issue 8: ingest.metrics, counters per source since the server started (shared memory, reset
-- by a restart or crash like the cumulative statistics), in a shape postgres_exporter scrapes.
CREATE FUNCTION ingest._source_metrics(
    OUT source_id integer, OUT files_done bigint, OUT files_failed bigint, OUT rows_loaded bigint,
    OUT rows_rejected bigint, OUT bytes_read bigint, OUT batches bigint, OUT errors bigint,
    OUT busy_seconds double precision, OUT last_file_at timestamptz)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_source_metrics';

-- One row per source the caller controls (superusers: all), zeros for sources that did nothing
-- since the start, so every source is a series for the exporter.
CREATE FUNCTION ingest._visible_metrics(
    OUT source text, OUT files_done bigint, OUT files_failed bigint, OUT rows_loaded bigint,
    OUT rows_rejected bigint, OUT bytes_read bigint, OUT batches bigint, OUT errors bigint,
    OUT busy_seconds double precision, OUT last_file_at timestamptz)
RETURNS SETOF record SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql STABLE AS $$
    SELECT s.name, coalesce(m.files_done, 0), coalesce(m.files_failed, 0),
           coalesce(m.rows_loaded, 0), coalesce(m.rows_rejected, 0), coalesce(m.bytes_read, 0),
           coalesce(m.batches, 0), coalesce(m.errors, 0), coalesce(m.busy_seconds, 0),
           m.last_file_at
    FROM ingest.sources s
    LEFT JOIN ingest._source_metrics() m ON m.source_id = s.source_id
    WHERE ingest._may_control(s.owner)
$$;

CREATE VIEW ingest.metrics AS SELECT * FROM ingest._visible_metrics();

GRANT SELECT ON ingest.metrics TO PUBLIC;
REVOKE EXECUTE ON FUNCTION ingest._source_metrics() FROM PUBLIC;

-- Issue 9: notifications, completeness markers, content dedupe.

-- Every file's final status is announced with NOTIFY pg_ingest when it commits: the worker does
-- it for done, failed and duplicate files, skip_file for skipped ones. Payload: a JSON object
-- with source, file, status, rows_loaded and rows_rejected.
CREATE FUNCTION ingest._notify_finished(file_row ingest.files) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_catalog.pg_notify('pg_ingest', pg_catalog.json_build_object(
        'source', file_row.source, 'file', file_row.file_name, 'status', file_row.status,
        'rows_loaded', file_row.rows_loaded, 'rows_rejected', file_row.rows_rejected)::text)
$$;

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

-- Content dedupe: the SHA-256 of each file's content, taken before its first row is loaded; with
-- option dedupe, a file with the size and content of a done file of its source is a duplicate
-- of that file and is not loaded.
ALTER TABLE ingest.files ADD COLUMN content_sha256 bytea,
    ADD COLUMN duplicate_of bigint REFERENCES ingest.files (file_id) ON DELETE SET NULL,
    DROP CONSTRAINT files_status_check,
    ADD CONSTRAINT files_status_check
        CHECK (status IN ('pending', 'loading', 'done', 'failed', 'skipped', 'duplicate'));
CREATE INDEX files_content_idx ON ingest.files (source, content_sha256)
    WHERE content_sha256 IS NOT NULL;
-- Deleting files (drop_source) looks up their duplicates: without this index, one scan of
-- ingest.files per deleted row.
CREATE INDEX files_duplicate_of_idx ON ingest.files (duplicate_of) WHERE duplicate_of IS NOT NULL;

-- Completeness markers: with option ready_marker (e.g. ".done"), a data file counts as arrived,
-- for the worker and for wait_idle, only once "<name><ready_marker>" exists; markers are never
-- data. The third argument is the suffix, '' when markers are not used.
CREATE FUNCTION ingest._directory_candidates(directory text, pattern text, ready_marker text,
    OUT file_name text, OUT file_size bigint, OUT file_mtime timestamptz, OUT file_inode bigint)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_directory_candidates';

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
                                AND f.file_size = d.file_size AND f.file_mtime = d.file_mtime
                                AND f.file_inode = d.file_inode))
$$;

-- Options of issue 9 (ready_marker, dedupe) and issue 6 (workers) in one definition.
-- Issue 6: parallel workers. Option `workers` (1 to 16): that many worker processes load a
-- source's files, each file by one of them (a session-level advisory lock claims it), so order
-- holds within a file, not across files. ingest.status stays one row per source;
-- ingest.workers shows each running worker.
CREATE OR REPLACE FUNCTION ingest._default_options() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'delimiter', ',', 'quote', '"', 'header', true, 'null', '', 'encoding', 'UTF8',
        'on_success', 'keep', 'archive_directory', NULL, 'min_age_ms', 0,
        'max_field_bytes', 1048576, 'max_rejects_per_file', NULL, 'ready_marker', NULL,
        'dedupe', true, 'workers', 1, 'file_column', NULL, 'line_column', NULL)
$$;

-- Merges options into the defaults and checks every key and value; returns the full set.
CREATE OR REPLACE FUNCTION ingest._validate_options(options jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    merged jsonb;
    key text;
    value jsonb;
BEGIN
    IF options IS NULL OR jsonb_typeof(options) <> 'object' THEN
        RAISE EXCEPTION 'options must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key IN SELECT jsonb_object_keys(options) LOOP
        IF NOT ingest._default_options() ? key THEN
            RAISE EXCEPTION 'unknown option "%"', key
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Valid options are: ' || (SELECT string_agg(k, ', ' ORDER BY k)
                                FROM jsonb_object_keys(ingest._default_options()) k) || '.';
        END IF;
    END LOOP;
    merged := ingest._default_options() || options;

    FOREACH key IN ARRAY ARRAY['delimiter', 'quote'] LOOP
        value := merged -> key;
        IF jsonb_typeof(value) <> 'string' OR octet_length(value #>> '{}') <> 1
           OR value #>> '{}' IN (E'\n', E'\r') THEN
            RAISE EXCEPTION 'option "%" must be a single one-byte character other than a newline', key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF merged ->> 'delimiter' = merged ->> 'quote' THEN
        RAISE EXCEPTION 'options "delimiter" and "quote" must differ'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(merged -> 'header') <> 'boolean' THEN
        RAISE EXCEPTION 'option "header" must be true or false' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(merged -> 'null') <> 'string' THEN
        RAISE EXCEPTION 'option "null" must be a string' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(merged -> 'encoding') <> 'string'
       OR pg_catalog.pg_char_to_encoding(merged ->> 'encoding') < 0 THEN
        RAISE EXCEPTION 'option "encoding" must name an encoding known to PostgreSQL, not %',
            merged -> 'encoding' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    merged := jsonb_set(merged, '{encoding}',
        to_jsonb(pg_catalog.pg_encoding_to_char(pg_catalog.pg_char_to_encoding(merged ->> 'encoding'))::text));
    IF jsonb_typeof(merged -> 'on_success') <> 'string'
       OR merged ->> 'on_success' NOT IN ('keep', 'delete', 'move') THEN
        RAISE EXCEPTION 'option "on_success" must be one of keep, delete, move'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF merged ->> 'on_success' = 'move' THEN
        IF jsonb_typeof(merged -> 'archive_directory') IS DISTINCT FROM 'string' THEN
            RAISE EXCEPTION 'option "on_success" = move needs option "archive_directory"'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        merged := jsonb_set(merged, '{archive_directory}', to_jsonb(
            ingest._check_directory(merged ->> 'archive_directory', 'archive directory', true)));
    ELSIF jsonb_typeof(merged -> 'archive_directory') <> 'null' THEN
        RAISE EXCEPTION 'option "archive_directory" is only used with "on_success" = move'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH key IN ARRAY ARRAY['min_age_ms', 'max_field_bytes'] LOOP
        value := merged -> key;
        IF jsonb_typeof(value) <> 'number' OR value::numeric <> trunc(value::numeric)
           OR value::numeric < 0 OR value::numeric > 2147483647 THEN
            RAISE EXCEPTION 'option "%" must be a non-negative integer', key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    value := merged -> 'max_rejects_per_file';
    IF jsonb_typeof(value) <> 'null' AND (jsonb_typeof(value) <> 'number'
       OR value::numeric <> trunc(value::numeric) OR value::numeric < 0) THEN
        RAISE EXCEPTION 'option "max_rejects_per_file" must be a non-negative integer or null'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (merged ->> 'max_field_bytes')::bigint < 1 THEN
        RAISE EXCEPTION 'option "max_field_bytes" must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    value := merged -> 'ready_marker';
    IF jsonb_typeof(value) <> 'null' AND (jsonb_typeof(value) <> 'string' OR value #>> '{}' = ''
       OR strpos(value #>> '{}', '/') > 0 OR octet_length(value #>> '{}') > 200) THEN
        RAISE EXCEPTION 'option "ready_marker" must be null or a file name suffix of 1 to 200 bytes without "/"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(merged -> 'dedupe') <> 'boolean' THEN
        RAISE EXCEPTION 'option "dedupe" must be true or false' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    value := merged -> 'workers';
    IF jsonb_typeof(value) <> 'number' OR value::numeric <> trunc(value::numeric)
       OR value::numeric NOT BETWEEN 1 AND 16 THEN
        RAISE EXCEPTION 'option "workers" must be an integer from 1 to 16'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH key IN ARRAY ARRAY['file_column', 'line_column'] LOOP
        value := merged -> key;
        IF jsonb_typeof(value) <> 'null' AND (jsonb_typeof(value) <> 'string' OR value #>> '{}' = '') THEN
            RAISE EXCEPTION 'option "%" must be null or the name of a column of the target', key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF merged ->> 'file_column' = merged ->> 'line_column' THEN
        RAISE EXCEPTION 'options "file_column" and "line_column" must name different columns'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN merged;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._notify_finished(ingest.files),
    ingest._directory_candidates(text, text, text), ingest._pending_count(text) FROM PUBLIC;

-- Each running worker of this database's sources, numbered from 1 as in its application_name
-- (`pg_ingest: <source>` for worker 1, `pg_ingest: <source> #2` and so on for the others).
CREATE FUNCTION ingest._source_workers(
    OUT source_id integer, OUT worker integer, OUT pid integer, OUT state text,
    OUT current_file text, OUT current_offset bigint, OUT rows_per_second double precision,
    OUT last_error text)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_source_workers';

CREATE VIEW ingest.workers WITH (security_invoker = true) AS
SELECT s.name AS source, w.worker, w.pid, w.state, w.current_file, w.current_offset,
       w.rows_per_second, w.last_error
FROM ingest.sources s
JOIN ingest._source_workers() w ON w.source_id = s.source_id;

GRANT SELECT ON ingest.workers TO PUBLIC;

-- Issue 9: lineage and replay.

-- Lineage: options file_column and line_column name target columns that the worker fills with
-- each row's file_id in ingest.files and its line number. They must be bigint columns the
-- worker can write, whatever changes the source's target or options: checked on every insert
-- or update of ingest.sources (create_source, alter_source).
CREATE FUNCTION ingest._check_lineage_columns() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    key text;
    column_name text;
    attribute record;
BEGIN
    FOREACH key IN ARRAY ARRAY['file_column', 'line_column'] LOOP
        column_name := NEW.options ->> key;
        CONTINUE WHEN column_name IS NULL;
        SELECT a.atttypid, a.attgenerated INTO attribute FROM pg_attribute a
        WHERE a.attrelid = NEW.target AND a.attname = column_name AND a.attnum > 0
          AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'option "%" names column "%", which table % does not have', key,
                column_name, NEW.target USING ERRCODE = 'undefined_column';
        END IF;
        IF attribute.attgenerated <> '' THEN
            RAISE EXCEPTION 'option "%" names column "%" of table %, which is generated', key,
                column_name, NEW.target USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF attribute.atttypid <> 'bigint'::regtype THEN
            RAISE EXCEPTION 'option "%" names column "%" of table %, which is %, not bigint', key,
                column_name, NEW.target, format_type(attribute.atttypid, NULL)
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

CREATE TRIGGER sources_lineage_columns BEFORE INSERT OR UPDATE OF target, options
    ON ingest.sources FOR EACH ROW EXECUTE FUNCTION ingest._check_lineage_columns();

-- Replay: replay_file marks a file; the worker then deletes the file's rows (by file_column)
-- and its rejects and loads the file again, all in one transaction, and clears the mark when it
-- commits. Until then the old rows stay; a crash or a failure leaves them and the mark, so
-- retry_file or the next round replays again.
ALTER TABLE ingest.files ADD COLUMN replay_requested boolean NOT NULL DEFAULT false;

CREATE FUNCTION ingest.replay_file(source text, file_name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    source_row ingest.sources := ingest._source(source);
    file_row ingest.files := ingest._file(source, file_name);
BEGIN
    IF source_row.options ->> 'file_column' IS NULL THEN
        RAISE EXCEPTION 'source "%" has no file_column: its rows cannot be told apart by file',
            source USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set option "file_column" before loading files that are to be replayed.';
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
    IF NOT EXISTS (
        SELECT 1 FROM ingest._directory_candidates(source_row.directory, source_row.pattern,
                                                   coalesce(source_row.options ->> 'ready_marker', '')) d
        WHERE d.file_name = file_row.file_name AND d.file_size = file_row.file_size
          AND d.file_mtime = file_row.file_mtime AND d.file_inode = file_row.file_inode) THEN
        RAISE EXCEPTION 'file "%" of source "%" is no longer in its directory as it was loaded',
            file_name, source USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = CASE source_row.options ->> 'on_success'
                      WHEN 'keep' THEN 'It was removed, renamed or changed since.'
                      ELSE format('The source''s on_success = %s %s files once they are loaded.',
                                  source_row.options ->> 'on_success',
                                  CASE source_row.options ->> 'on_success'
                                      WHEN 'delete' THEN 'deletes' ELSE 'moves' END) END;
    END IF;
    UPDATE ingest.files f SET status = 'pending', replay_requested = true, error = NULL,
        finished_at = NULL
    WHERE f.file_id = file_row.file_id;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_lineage_columns() FROM PUBLIC;
