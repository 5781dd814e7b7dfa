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
    FOREACH key IN ARRAY ARRAY['min_age_ms', 'max_field_bytes', 'split_bytes'] LOOP
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
    value := merged -> 'transform';
    IF jsonb_typeof(value) <> 'null' AND (jsonb_typeof(value) <> 'string' OR btrim(value #>> '{}') = '') THEN
        RAISE EXCEPTION 'option "transform" must be null or SQL statements that read the relation "batch"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(merged -> 'on_new_columns') <> 'string'
       OR merged ->> 'on_new_columns' NOT IN ('fail', 'ignore', 'rescue', 'add') THEN
        RAISE EXCEPTION 'option "on_new_columns" must be one of fail, ignore, rescue, add'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    value := merged -> 'rescue_column';
    IF jsonb_typeof(value) <> 'null' AND (jsonb_typeof(value) <> 'string' OR value #>> '{}' = '') THEN
        RAISE EXCEPTION 'option "rescue_column" must be null or the name of a jsonb column of the target'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF merged ->> 'on_new_columns' = 'rescue' AND jsonb_typeof(value) = 'null' THEN
        RAISE EXCEPTION 'option "on_new_columns" = rescue needs option "rescue_column"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(merged -> 'on_file_change') <> 'string'
       OR merged ->> 'on_file_change' NOT IN ('fail', 'append', 'replace') THEN
        RAISE EXCEPTION 'option "on_file_change" must be "fail", "append" or "replace"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF merged ->> 'on_file_change' = 'replace' AND jsonb_typeof(merged -> 'file_column') = 'null' THEN
        RAISE EXCEPTION 'option "on_file_change" = "replace" needs option "file_column": the rows of a file''s previous version are found by it'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF merged ->> 'on_file_change' = 'replace' AND jsonb_typeof(merged -> 'transform') <> 'null' THEN
        RAISE EXCEPTION 'option "on_file_change" = "replace" cannot be used with option "transform": what a transform did with a file''s rows cannot be undone'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN merged;
END
$$;
