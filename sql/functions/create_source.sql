-- Checks everything up front and records a stopped source; returns its id. ingest.sources is
-- locked first so that two sources that can take one file are never created at once.
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
    created ingest.sources;
    canonical_directory text;
    validated jsonb;
BEGIN
    LOCK TABLE ingest.sources IN SHARE ROW EXCLUSIVE MODE;
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
    PERFORM ingest._check_may_write('create', name, ingest._caller(), validated ->> 'on_success');
    INSERT INTO ingest.sources (name, directory, target, pattern, batch_size, options, owner)
    VALUES (name, canonical_directory, target, pattern, batch_size, validated, ingest._caller())
    RETURNING * INTO created;
    PERFORM ingest._check_no_overlap(created);
    RETURN created.source_id;
END
$$;
