-- create_source and alter_source, after writing `source`: refuses it when it can take a file of
-- another source of this database (ingest._check_overlap), and, when it is started, of a started
-- source of any database. They lock ingest.sources first, so two of them cannot both pass.
CREATE OR REPLACE FUNCTION ingest._check_no_overlap(source ingest.sources) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ingest._check_overlap(source, o)
    FROM ingest.sources o
    WHERE o.source_id <> source.source_id
    ORDER BY o.name;
    IF source.enabled THEN
        PERFORM ingest._check_running_overlap(source);
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_no_overlap(ingest.sources) FROM PUBLIC;
