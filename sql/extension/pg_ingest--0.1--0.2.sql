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
