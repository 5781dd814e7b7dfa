-- The named source, when the caller controls it.
CREATE OR REPLACE FUNCTION ingest._source(source_name text) RETURNS ingest.sources
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
