-- ingest.metrics's batches per COPY path since the server started (see copy_path.hpp): direct
-- (BeginCopyFrom fed from the file, where no ProcessUtility hook but pg_ingest's own is
-- installed) or a COPY statement through SPI (which the hooks see).
CREATE OR REPLACE FUNCTION ingest._copy_path_metrics(
    OUT source_id integer, OUT batches_direct_copy bigint, OUT batches_spi_copy bigint)
RETURNS SETOF record LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_copy_path_metrics';

REVOKE EXECUTE ON FUNCTION ingest._copy_path_metrics() FROM PUBLIC;
