-- A target must be a table (plain, partitioned or foreign) the caller may insert into.
CREATE OR REPLACE FUNCTION ingest._check_target(target regclass) RETURNS void
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
