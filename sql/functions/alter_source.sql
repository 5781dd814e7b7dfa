-- NULL arguments keep the current value; options are merged into the current ones. The resulting
-- definition must be allowed, even where only other values change, and take no other source's
-- files (ingest.sources is locked first, as create_source does).
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
    LOCK TABLE ingest.sources IN SHARE ROW EXCLUSIVE MODE;
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
    -- The worker deletes or moves files for the owner, whoever alters the source.
    PERFORM ingest._check_may_write('alter', name, altered.owner, altered.options ->> 'on_success');
    PERFORM ingest._check_no_overlap(altered);
    IF current.enabled THEN
        -- The running worker picks up the new definition when it is restarted.
        PERFORM ingest._signal_workers(ARRAY[current.source_id], false);
        PERFORM ingest._signal_workers(ARRAY[current.source_id], true);
    END IF;
END
$$;
