-- Starting and stopping sources, the status view and wait_idle on an empty directory.
\set SHOW_CONTEXT never
-- One worker, whatever 20_alter_drop left (workers = 16): the rows printed below must not
-- depend on how many workers have attached yet.
SELECT ingest.alter_source('s1', options => '{"workers": 1}');
SELECT ingest.start('s1');
SELECT ingest.start('s1');
SELECT ingest.wait_idle('s1', '60s');
SELECT source, files_done, files_pending, files_failed, rows_loaded, rows_rejected
FROM ingest.status ORDER BY source;
-- the worker attaches, names its source and reaches its loop: waited for (60 s only so that a
-- hang fails), then printed. Only this database's workers: other databases may run sources.
DO $$
BEGIN
    WHILE NOT (EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pg_ingest: s1')
               AND EXISTS (SELECT 1 FROM ingest.status WHERE source = 's1' AND state <> 'starting'))
    LOOP
        IF clock_timestamp() > statement_timestamp() + interval '60 s' THEN
            RAISE EXCEPTION 'the worker of s1 did not attach';
        END IF;
        PERFORM pg_sleep(0.01);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END $$;
SELECT backend_type, application_name FROM pg_stat_activity
WHERE datname = current_database() AND application_name LIKE 'pg_ingest: %';
SELECT state IN ('idle', 'loading') AS running, pid IS NOT NULL AS has_pid
FROM ingest.status WHERE source = 's1';
SELECT ingest.stop('s1');
SELECT ingest.stop('s1');
SELECT ingest.start();
SELECT ingest.stop();
SELECT ingest.start('nope');
SELECT ingest.wait_idle('nope');
SELECT source, state FROM ingest.status ORDER BY source;
