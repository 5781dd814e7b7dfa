-- Called by the extension's utility hook, in the database where the statement runs, after
-- PostgreSQL has run it and checked its privileges (so not executable by PUBLIC). A source is an
-- object its owner owns: DROP ROLE is refused while the role owns one (this lists them, or
-- returns NULL), DROP OWNED BY drops them, REASSIGN OWNED BY hands them over.
CREATE OR REPLACE FUNCTION ingest._sources_owned_by(role oid) RETURNS text
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql STABLE AS $$
    SELECT string_agg(format('owner of pg_ingest source "%s"', s.name), E'\n' ORDER BY s.name)
    FROM ingest.sources s WHERE s.owner::oid = role
$$;

REVOKE EXECUTE ON FUNCTION ingest._sources_owned_by(oid) FROM PUBLIC;
