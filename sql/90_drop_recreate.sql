-- The extension can be dropped with its sources and created again.
\set SHOW_CONTEXT never
\getenv regress_dir PG_INGEST_REGRESS_DIR
DROP EXTENSION pg_ingest;
SELECT count(*) FROM pg_namespace WHERE nspname = 'ingest';
CREATE EXTENSION pg_ingest;
SELECT count(*) FROM ingest.sources;
SELECT ingest.create_source('again', :'regress_dir' || '/in', 'events');
SELECT name FROM ingest.sources;
DROP OWNED BY ingest_nobody, ingest_reader;
DROP ROLE ingest_nobody, ingest_reader;
