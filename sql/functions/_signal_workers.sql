-- Queues start (run) or stop requests for the given sources, applied at commit.
CREATE OR REPLACE FUNCTION ingest._signal_workers(source_ids integer[], run boolean)
RETURNS void LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'ingest_signal_workers';

REVOKE EXECUTE ON FUNCTION ingest._signal_workers(integer[], boolean) FROM PUBLIC;
