-- Every option with its default: the one source of truth. create_source and alter_source store
-- the defaults merged with the given options, and each update script merges new defaults into
-- the existing sources, so the worker always reads a complete set.
CREATE OR REPLACE FUNCTION ingest._default_options() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'delimiter', ',', 'quote', '"', 'header', true, 'null', '', 'encoding', 'UTF8',
        'on_success', 'keep', 'archive_directory', NULL, 'min_age_ms', 0,
        'max_field_bytes', 1048576, 'max_rejects_per_file', NULL, 'ready_marker', NULL,
        'dedupe', true, 'workers', 1, 'file_column', NULL, 'line_column', NULL,
        'transform', NULL, 'on_new_columns', 'fail', 'rescue_column', NULL,
        'split_bytes', 67108864, 'on_file_change', 'fail')
$$;
