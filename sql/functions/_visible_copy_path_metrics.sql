-- _copy_path_metrics by source name, for the sources the caller controls (superusers: all), as
-- _visible_metrics does for the other counters.
CREATE OR REPLACE FUNCTION ingest._visible_copy_path_metrics(
    OUT source text, OUT batches_direct_copy bigint, OUT batches_spi_copy bigint)
RETURNS SETOF record SECURITY DEFINER SET search_path = pg_catalog, pg_temp
LANGUAGE sql STABLE AS $$
    SELECT s.name, coalesce(m.batches_direct_copy, 0), coalesce(m.batches_spi_copy, 0)
    FROM ingest.sources s
    LEFT JOIN ingest._copy_path_metrics() m ON m.source_id = s.source_id
    WHERE ingest._may_control(s.owner)
$$;
