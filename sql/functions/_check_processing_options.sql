-- Processing options, checked on every insert or update of ingest.sources (create_source,
-- alter_source) like the lineage columns: a transform must plan against an empty `batch` and
-- its owner must be able to create that temporary table; rescue_column must be a jsonb column
-- of the target; on_new_columns = add needs an owner who owns the target.
CREATE OR REPLACE FUNCTION ingest._check_processing_options() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rescue text := NEW.options ->> 'rescue_column';
    rescue_type oid;
BEGIN
    IF NEW.options ->> 'transform' IS NOT NULL THEN
        IF NOT has_database_privilege(NEW.owner, current_database(), 'TEMPORARY') THEN
            RAISE EXCEPTION 'role % may not create temporary tables in database %, which option "transform" needs for its table "batch"',
                NEW.owner, current_database() USING ERRCODE = 'insufficient_privilege',
                HINT = format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), NEW.owner);
        END IF;
        PERFORM ingest._check_transform(NEW.target, NEW.options ->> 'transform', NEW.owner);
    END IF;
    IF NEW.options ->> 'on_new_columns' = 'rescue' THEN
        SELECT a.atttypid INTO rescue_type FROM pg_attribute a
        WHERE a.attrelid = NEW.target AND a.attname = rescue AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'option "rescue_column" names column "%", which table % does not have',
                rescue, NEW.target USING ERRCODE = 'undefined_column';
        END IF;
        IF rescue_type <> 'jsonb'::regtype THEN
            RAISE EXCEPTION 'option "rescue_column" names column "%" of table %, which is %, not jsonb',
                rescue, NEW.target, format_type(rescue_type, NULL) USING ERRCODE = 'datatype_mismatch';
        END IF;
    END IF;
    IF NEW.options ->> 'on_new_columns' = 'add' AND NOT pg_has_role(NEW.owner,
            (SELECT c.relowner FROM pg_class c WHERE c.oid = NEW.target), 'USAGE') THEN
        RAISE EXCEPTION 'option "on_new_columns" = add needs role % to own table %', NEW.owner, NEW.target
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('ALTER TABLE %s OWNER TO %I, or choose ignore or rescue.', NEW.target, NEW.owner);
    END IF;
    RETURN NEW;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_processing_options() FROM PUBLIC;
