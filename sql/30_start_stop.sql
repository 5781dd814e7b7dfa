-- Starting and stopping sources, the status view and wait_idle on an empty directory.
\set SHOW_CONTEXT never
SELECT ingest.start('s1');
SELECT ingest.start('s1');
SELECT ingest.wait_idle('s1', '10s');
SELECT source, files_done, files_pending, files_failed, rows_loaded, rows_rejected
FROM ingest.status ORDER BY source;
-- the worker attaches within a moment, names its source and reaches its loop
DO $$
BEGIN
    FOR i IN 1..500 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_ingest: s1')
            AND EXISTS (SELECT 1 FROM ingest.status WHERE source = 's1' AND state <> 'starting');
        PERFORM pg_sleep(0.01);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;
SELECT backend_type, application_name FROM pg_stat_activity WHERE application_name LIKE 'pg_ingest: %';
SELECT state IN ('idle', 'loading') AS running, pid IS NOT NULL AS has_pid
FROM ingest.status WHERE source = 's1';
SELECT ingest.stop('s1');
SELECT ingest.stop('s1');
SELECT ingest.start();
SELECT ingest.stop();
SELECT ingest.start('nope');
SELECT ingest.wait_idle('nope');
SELECT source, state FROM ingest.status ORDER BY source;
