-- DROP OWNED BY: drops the roles' sources, stopping their workers (see _sources_owned_by).
CREATE OR REPLACE FUNCTION ingest._drop_sources_of(roles oid[]) RETURNS void
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

REVOKE EXECUTE ON FUNCTION ingest._drop_sources_of(oid[]) FROM PUBLIC;
