-- Starts the named source, or every source of this database the caller controls.
CREATE OR REPLACE FUNCTION ingest.start(name text DEFAULT NULL) RETURNS boolean
SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql AS $$ SELECT ingest._set_running(name, true) $$;
