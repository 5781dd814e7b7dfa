-- ingest.alter_source and ingest.drop_source.
\set SHOW_CONTEXT never
\getenv regress_dir PG_INGEST_REGRESS_DIR
SELECT ingest.alter_source('s1', batch_size => 250, options => '{"delimiter": "|", "min_age_ms": 10}');
SELECT batch_size, options->>'delimiter' AS delimiter, options->>'min_age_ms' AS min_age_ms,
       options->>'quote' AS quote FROM ingest.sources WHERE name = 's1';
SELECT ingest.alter_source('s1', pattern => 'events_*.csv', directory => :'regress_dir' || '/archive');
SELECT replace(directory, :'regress_dir', '<dir>') AS directory, pattern FROM ingest.sources WHERE name = 's1';
SELECT ingest.alter_source('s2', options => '{"on_success": "keep"}');
SELECT options->>'on_success' AS on_success, options->'archive_directory' AS archive
FROM ingest.sources WHERE name = 's2';
SELECT ingest.alter_source('s1', batch_size => -5);
SELECT ingest.alter_source('s1', options => '{"bogus": 1}');
SELECT ingest.alter_source('s1', directory => 'relative');
SELECT ingest.alter_source('s1', options => '{"max_rejects_per_file": -1}');
SELECT ingest.alter_source('s1', options => '{"max_rejects_per_file": 100}');
SELECT options->'max_rejects_per_file' AS max_rejects FROM ingest.sources WHERE name = 's1';
SELECT ingest.alter_source('s1', options => '{"workers": 0}');
SELECT ingest.alter_source('s1', options => '{"workers": 17}');
SELECT ingest.alter_source('s1', options => '{"workers": 1.5}');
SELECT ingest.alter_source('s1', options => '{"workers": "2"}');
SELECT ingest.alter_source('s1', options => '{"workers": 16}');
SELECT options->'workers' AS workers FROM ingest.sources WHERE name = 's1';
SELECT ingest.alter_source('nope', batch_size => 5);
-- operator actions on files name the source and the file
SELECT ingest.retry_file('s1', 'never_seen.csv');
SELECT ingest.skip_file('nope', 'never_seen.csv');
SELECT ingest.drop_source('ok_max');
SELECT ingest.drop_source('ok_max');
SELECT name FROM ingest.sources ORDER BY name;
