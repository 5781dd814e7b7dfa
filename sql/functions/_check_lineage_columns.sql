-- Lineage: options file_column and line_column name target columns that the worker fills with
-- each row's file_id in ingest.files and its line number. They must be bigint columns the
-- worker can write, whatever changes the source's target or options: checked on every insert
-- or update of ingest.sources (create_source, alter_source).
CREATE OR REPLACE FUNCTION ingest._check_lineage_columns() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    key text;
    column_name text;
    attribute record;
BEGIN
    FOREACH key IN ARRAY ARRAY['file_column', 'line_column'] LOOP
        column_name := NEW.options ->> key;
        CONTINUE WHEN column_name IS NULL;
        SELECT a.atttypid, a.attgenerated INTO attribute FROM pg_attribute a
        WHERE a.attrelid = NEW.target AND a.attname = column_name AND a.attnum > 0
          AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'option "%" names column "%", which table % does not have', key,
                column_name, NEW.target USING ERRCODE = 'undefined_column';
        END IF;
        IF attribute.attgenerated <> '' THEN
            RAISE EXCEPTION 'option "%" names column "%" of table %, which is generated', key,
                column_name, NEW.target USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF attribute.atttypid <> 'bigint'::regtype THEN
            RAISE EXCEPTION 'option "%" names column "%" of table %, which is %, not bigint', key,
                column_name, NEW.target, format_type(attribute.atttypid, NULL)
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

REVOKE EXECUTE ON FUNCTION ingest._check_lineage_columns() FROM PUBLIC;
