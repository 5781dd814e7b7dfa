-- pg_ingest 0.1: catalog and SQL surface. The names in schema ingest are a public interface.
\echo Use "CREATE EXTENSION pg_ingest" to load this file. \quit

-- A source: one watched directory feeding one target table.
CREATE TABLE ingest.sources (
    source_id serial UNIQUE,
    name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
    directory text NOT NULL,
    target regclass NOT NULL,
    pattern text NOT NULL,
    batch_size integer NOT NULL CHECK (batch_size BETWEEN 1 AND 1000000),
    options jsonb NOT NULL,
    owner regrole NOT NULL,
    enabled boolean NOT NULL DEFAULT false,
    failed_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per version of a file seen in a source's directory. A version is a name plus the
-- size, mtime and inode captured at discovery: a name that reappears with other content is a
-- new row, never a silent reload or skip of the old one.
CREATE TABLE ingest.files (
    file_id bigserial PRIMARY KEY,
    source text NOT NULL REFERENCES ingest.sources (name) ON UPDATE CASCADE ON DELETE CASCADE,
    file_name text NOT NULL,
    file_size bigint NOT NULL,
    file_mtime timestamptz NOT NULL,
    file_inode bigint NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'loading', 'done', 'failed', 'skipped')),
    byte_offset bigint NOT NULL DEFAULT 0,
    line_number bigint NOT NULL DEFAULT 0,
    rows_loaded bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    error text,
    discovered_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    UNIQUE (source, file_name, file_size, file_mtime, file_inode)
);
CREATE INDEX files_open_idx ON ingest.files (source, file_name)
    WHERE status IN ('pending', 'loading');

-- Lines that could not be parsed or inserted, with everything needed to fix and replay them.
CREATE TABLE ingest.rejects (
    reject_id bigserial PRIMARY KEY,
    source text NOT NULL REFERENCES ingest.sources (name) ON UPDATE CASCADE ON DELETE CASCADE,
    file_id bigint REFERENCES ingest.files (file_id) ON DELETE CASCADE,
    file_name text NOT NULL,
    line_number bigint NOT NULL,
    byte_offset bigint NOT NULL,
    raw_line text,
    error text NOT NULL,
    sqlstate text,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejects_file_idx ON ingest.rejects (file_id, line_number);

-- pg_dump keeps sources and the processed-file history.
SELECT pg_catalog.pg_extension_config_dump('ingest.sources', '');
SELECT pg_catalog.pg_extension_config_dump('ingest.sources_source_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ingest.files', '');
SELECT pg_catalog.pg_extension_config_dump('ingest.files_file_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ingest.rejects', '');
SELECT pg_catalog.pg_extension_config_dump('ingest.rejects_reject_id_seq', '');

-- C helpers: validation that needs the server's view of the file system, worker signalling,
-- live worker state from shared memory.
CREATE FUNCTION ingest._check_directory(directory text, purpose text, need_write boolean)
RETURNS text LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_check_directory';

CREATE FUNCTION ingest._directory_candidates(directory text, pattern text,
    OUT file_name text, OUT file_size bigint, OUT file_mtime timestamptz, OUT file_inode bigint)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_directory_candidates';

CREATE FUNCTION ingest._signal_workers(source_ids integer[], run boolean)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_signal_workers';

-- The role that called into pg_ingest: SET ROLE counts, SECURITY DEFINER does not.
CREATE FUNCTION ingest._caller() RETURNS regrole
LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'ingest_caller';

-- A role controls and sees the sources it owns (as a member of the owning role), superusers all.
CREATE FUNCTION ingest._may_control(owner regrole) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, owner, 'MEMBER')
    FROM pg_catalog.pg_roles r WHERE r.oid = ingest._caller()
$$;

CREATE FUNCTION ingest._worker_status(
    OUT source_id integer, OUT pid integer, OUT state text, OUT current_file text,
    OUT current_offset bigint, OUT rows_per_second double precision, OUT last_error text)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_worker_status';

CREATE FUNCTION ingest._default_options() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'delimiter', ',', 'quote', '"', 'header', true, 'null', '', 'encoding', 'UTF8',
        'on_success', 'keep', 'archive_directory', NULL, 'min_age_ms', 0,
        'max_field_bytes', 1048576, 'max_rejects_per_file', NULL)
$$;

-- Merges options into the defaults and checks every key and value; returns the full set.
CREATE FUNCTION ingest._validate_options(options jsonb) RETURNS jsonb
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
    RETURN merged;
END
$$;

CREATE FUNCTION ingest._check_target(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF target IS NULL THEN
        RAISE EXCEPTION 'target table must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = target) NOT IN ('r', 'p', 'f') THEN
        RAISE EXCEPTION 'target "%" is not a table', target USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT pg_catalog.has_table_privilege(ingest._caller(), target, 'INSERT') THEN
        RAISE EXCEPTION 'permission denied for table %', target
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %s has no INSERT privilege on the target table.', ingest._caller());
    END IF;
END
$$;

CREATE FUNCTION ingest._check_source_args(name text, pattern text, batch_size integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (pg_catalog.pg_has_role(ingest._caller(), 'pg_read_server_files', 'MEMBER')
            OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE oid = ingest._caller())) THEN
        RAISE EXCEPTION 'permission denied to create or alter source "%"', name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only superusers and members of pg_read_server_files may read server files.';
    END IF;
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 63 THEN
        RAISE EXCEPTION 'source name must be 1 to 63 characters long' USING ERRCODE = 'invalid_name';
    END IF;
    IF pattern IS NULL OR pattern = '' OR strpos(pattern, '/') > 0 THEN
        RAISE EXCEPTION 'pattern must be a file name glob without "/", not "%"', pattern
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF batch_size IS NULL OR batch_size NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION 'batch_size must be between 1 and 1000000, not %', batch_size
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

CREATE FUNCTION ingest._source(source_name text) RETURNS ingest.sources
LANGUAGE plpgsql AS $$
DECLARE
    source_row ingest.sources;
BEGIN
    SELECT * INTO source_row FROM ingest.sources s WHERE s.name = source_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'source "%" does not exist', source_name USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT ingest._may_control(source_row.owner) THEN
        RAISE EXCEPTION 'permission denied for source "%"', source_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The source belongs to role %s.', source_row.owner);
    END IF;
    RETURN source_row;
END
$$;

CREATE FUNCTION ingest.create_source(
    name text,
    directory text,
    target regclass,
    pattern text DEFAULT '*.csv',
    batch_size integer DEFAULT 1000,
    options jsonb DEFAULT '{}')
RETURNS integer SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    new_id integer;
BEGIN
    PERFORM ingest._check_source_args(name, pattern, batch_size);
    IF directory IS NULL THEN
        RAISE EXCEPTION 'directory must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF EXISTS (SELECT 1 FROM ingest.sources s WHERE s.name = create_source.name) THEN
        RAISE EXCEPTION 'source "%" already exists', name USING ERRCODE = 'duplicate_object';
    END IF;
    PERFORM ingest._check_target(target);
    INSERT INTO ingest.sources (name, directory, target, pattern, batch_size, options, owner)
    VALUES (name, ingest._check_directory(directory, 'directory', false), target, pattern,
            batch_size, ingest._validate_options(options), ingest._caller())
    RETURNING source_id INTO new_id;
    RETURN new_id;
END
$$;

-- NULL arguments keep the current value; options are merged into the current ones.
CREATE FUNCTION ingest.alter_source(
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
    WHERE s.name = alter_source.name;
    IF current.enabled THEN
        -- The running worker picks up the new definition when it is restarted.
        PERFORM ingest._signal_workers(ARRAY[current.source_id], false);
        PERFORM ingest._signal_workers(ARRAY[current.source_id], true);
    END IF;
END
$$;

CREATE FUNCTION ingest.drop_source(name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    current ingest.sources := ingest._source(name);
BEGIN
    IF current.enabled THEN
        PERFORM ingest._signal_workers(ARRAY[current.source_id], false);
    END IF;
    DELETE FROM ingest.sources s WHERE s.name = drop_source.name;
END
$$;

-- Starts (run) or stops the named source, or every source of this database when name is NULL.
-- Returns whether any source changed state. Workers are told at commit.
CREATE FUNCTION ingest._set_running(name text, run boolean) RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    changed integer[];
BEGIN
    IF name IS NOT NULL THEN
        PERFORM ingest._source(name);
    END IF;
    WITH updated AS (
        UPDATE ingest.sources s SET enabled = run, failed_error = NULL
        WHERE (_set_running.name IS NULL OR s.name = _set_running.name)
          AND ingest._may_control(s.owner)
          AND (s.enabled IS DISTINCT FROM run OR (run AND s.failed_error IS NOT NULL))
        RETURNING s.source_id)
    SELECT coalesce(array_agg(source_id), '{}') INTO changed FROM updated;
    PERFORM ingest._signal_workers(changed, run);
    RETURN cardinality(changed) > 0;
END
$$;

CREATE FUNCTION ingest.start(name text DEFAULT NULL) RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql AS $$ SELECT ingest._set_running(name, true) $$;

CREATE FUNCTION ingest.stop(name text DEFAULT NULL) RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql AS $$ SELECT ingest._set_running(name, false) $$;

-- Files of a source that are waiting: in the catalog as pending or loading, or in the directory
-- and not yet in the catalog.
CREATE FUNCTION ingest._pending_count(source_name text) RETURNS bigint
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM ingest.files f
            WHERE f.source = source_name AND f.status IN ('pending', 'loading'))
         + (SELECT count(*)
            FROM ingest.sources s,
                 ingest._directory_candidates(s.directory, s.pattern) d
            WHERE s.name = source_name
              AND NOT EXISTS (SELECT 1 FROM ingest.files f
                              WHERE f.source = s.name AND f.file_name = d.file_name
                                AND f.file_size = d.file_size AND f.file_mtime = d.file_mtime
                                AND f.file_inode = d.file_inode))
$$;

-- The newest version of a file of a source, for the operator functions below.
CREATE FUNCTION ingest._file(source_name text, name text) RETURNS ingest.files
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

-- Loads a failed file again, once its cause is fixed, from where its committed rows end.
CREATE FUNCTION ingest.retry_file(source text, file_name text) RETURNS void
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    file_row ingest.files := ingest._file(source, file_name);
BEGIN
    IF file_row.status NOT IN ('failed', 'skipped') THEN
        RAISE EXCEPTION 'file "%" of source "%" is %, not failed or skipped', file_name, source,
            file_row.status USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE ingest.files f
    SET status = CASE WHEN f.byte_offset > 0 THEN 'loading' ELSE 'pending' END,
        error = NULL, finished_at = NULL
    WHERE f.file_id = file_row.file_id;
END
$$;

-- Gives up on a pending, loading or failed file: its remaining lines are never loaded.
CREATE FUNCTION ingest.skip_file(source text, file_name text) RETURNS void
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
    WHERE f.file_id = file_row.file_id;
END
$$;

CREATE FUNCTION ingest.wait_idle(name text, timeout interval DEFAULT '60s') RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout;
BEGIN
    PERFORM ingest._source(name);
    LOOP
        IF ingest._pending_count(name) = 0 THEN
            RETURN true;
        END IF;
        IF clock_timestamp() >= deadline THEN
            RETURN false;
        END IF;
        PERFORM pg_catalog.pg_sleep(0.01);
    END LOOP;
END
$$;

CREATE VIEW ingest.status WITH (security_invoker = true) AS
SELECT s.name AS source,
       CASE WHEN s.failed_error IS NOT NULL THEN 'failed'
            WHEN NOT s.enabled THEN 'stopped'
            WHEN w.pid IS NOT NULL THEN w.state
            ELSE 'starting' END AS state,
       w.pid,
       coalesce(f.files_done, 0) AS files_done,
       coalesce(f.files_pending, 0) AS files_pending,
       coalesce(f.files_loading, 0) AS files_loading,
       coalesce(f.files_failed, 0) AS files_failed,
       coalesce(f.rows_loaded, 0) AS rows_loaded,
       coalesce(f.rows_rejected, 0) AS rows_rejected,
       w.current_file,
       w.current_offset,
       w.rows_per_second,
       coalesce(s.failed_error, w.last_error) AS last_error
FROM ingest.sources s
LEFT JOIN ingest._worker_status() w ON w.source_id = s.source_id
LEFT JOIN (
    SELECT source,
           count(*) FILTER (WHERE status = 'done') AS files_done,
           count(*) FILTER (WHERE status = 'pending') AS files_pending,
           count(*) FILTER (WHERE status = 'loading') AS files_loading,
           count(*) FILTER (WHERE status = 'failed') AS files_failed,
           sum(rows_loaded)::bigint AS rows_loaded,
           sum(rows_rejected)::bigint AS rows_rejected
    FROM ingest.files GROUP BY source) f ON f.source = s.name;

-- Ordinary roles reach the catalog through the functions above (SECURITY DEFINER, with a pinned
-- search_path), and read only the rows of the sources they control: raw lines may be sensitive.
ALTER TABLE ingest.sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.files ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.rejects ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_sources ON ingest.sources FOR SELECT USING (ingest._may_control(owner));
CREATE POLICY own_files ON ingest.files FOR SELECT
    USING (EXISTS (SELECT 1 FROM ingest.sources s WHERE s.name = source));
CREATE POLICY own_rejects ON ingest.rejects FOR SELECT
    USING (EXISTS (SELECT 1 FROM ingest.sources s WHERE s.name = source));
GRANT USAGE ON SCHEMA ingest TO PUBLIC;
GRANT SELECT ON ingest.sources, ingest.files, ingest.rejects, ingest.status TO PUBLIC;
REVOKE EXECUTE ON FUNCTION ingest._check_directory(text, text, boolean),
    ingest._directory_candidates(text, text), ingest._signal_workers(integer[], boolean),
    ingest._set_running(text, boolean), ingest._pending_count(text) FROM PUBLIC;
