-- pg_ingest 0.1 -> 0.2. A fresh CREATE EXTENSION runs pg_ingest--0.1.sql and then this script,
-- so there is one definition of every object and the upgrade path is the tested path.
\echo Use "ALTER EXTENSION pg_ingest UPDATE TO '0.2'" to load this file. \quit
