-- The checks create_source and alter_source share: the caller may read server files (has the
-- privileges of pg_read_server_files, as COPY FROM a file asks, so a NOINHERIT member may not), and the
-- name, pattern and batch size are valid.
CREATE OR REPLACE FUNCTION ingest._check_source_args(name text, pattern text, batch_size integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (pg_catalog.pg_has_role(ingest._caller(), 'pg_read_server_files', 'USAGE')
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
