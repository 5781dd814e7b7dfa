-- REASSIGN OWNED BY: hands the roles' sources over (see _sources_owned_by).
CREATE OR REPLACE FUNCTION ingest._reassign_sources(roles oid[], new_owner oid) RETURNS void
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

REVOKE EXECUTE ON FUNCTION ingest._reassign_sources(oid[], oid) FROM PUBLIC;
